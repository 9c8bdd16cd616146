"""What the creditor pages call: the application's services, found where the API keeps them.

``CreditorServices.of(app, log, liabilities)`` is built by ``install`` from the services the
API's installers stored in ``app.state`` (``onboarding``: ``OnboardingService``;
``withdrawals``: ``WithdrawalService``): the portal calls the very objects the API calls, so a
web action and an API request are the same command, decided by the same core and signed by
the same gateway key. Without onboarding (a log without a PII vault) there are no creditor
pages; without withdrawals, no withdrawal page. ``reads`` (``web_queries.CreditorReads``) keeps
the claim pages' data per log position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI

from reclaim.app.liabilities import LiabilitiesService
from reclaim.app.log_service import LogService
from reclaim.app.onboarding import OnboardingService
from reclaim.app.web_accounts import WebAccounts
from reclaim.app.web_operator import RoundDesk
from reclaim.app.web_queries import CreditorReads
from reclaim.app.withdrawals import WithdrawalService


@dataclass(frozen=True, slots=True)
class CreditorServices:
    log: LogService
    onboarding: OnboardingService
    accounts: WebAccounts
    withdrawals: WithdrawalService | None
    liabilities: LiabilitiesService | None
    rounds: RoundDesk
    reads: CreditorReads = field(compare=False)

    @classmethod
    def of(
        cls, app: FastAPI, log: LogService, liabilities: LiabilitiesService | None
    ) -> CreditorServices | None:
        onboarding = getattr(app.state, "onboarding", None)
        if not isinstance(onboarding, OnboardingService):
            return None
        withdrawals = getattr(app.state, "withdrawals", None)
        if not isinstance(withdrawals, WithdrawalService):
            withdrawals = None
        return cls(log, onboarding, WebAccounts(onboarding, log), withdrawals, liabilities,
                   RoundDesk(log), CreditorReads(log))  # fmt: skip
