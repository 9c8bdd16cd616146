"""The demo's web logins: one per console role (admin, KYC officer, treasury, auditor).

Demo passwords only: they are printed by ``reclaim demo`` and live in the demo's own vault; a real
programme gives each operator a login with ``WebAccounts.set_operator_password`` from a password
the operator chose. Creditors get theirs as real creditors do, by signing up at ``/signup`` with
the e-mail of a claim and the code mailed to it (``reclaim mail deliver`` sends it over SMTP):
the demo's own creditors were onboarded with API keys, and a portal login is named after the
e-mail's commitment, so the demo cannot hand one out without the mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from reclaim import bootstrap
from reclaim.app.web_accounts import AUDITOR, WebAccounts

#: Console logins: (actor, role, demo password). The auditor reads and signs nothing.
OPERATORS: Final = (
    ("admin", "admin", "demo-admin-password"),
    ("kyc-officer", "kyc_officer", "demo-kyc-officer-password"),
    ("treasury", "treasury", "demo-treasury-password"),
    ("auditor", AUDITOR, "demo-auditor-password"),
)


@dataclass(frozen=True, slots=True)
class Login:
    role: str
    login: str  # the actor's name
    password: str
    path: str  # where to log in


def give_logins(container: bootstrap.Container) -> list[Login]:
    """Give each console role a web login; the logins, to print."""
    wiring = container.onboarding
    if wiring is None:
        return []
    accounts = WebAccounts(wiring.service, container.log)
    logins = []
    for actor, role, password in OPERATORS:
        accounts.set_operator_password(actor, role, password)
        logins.append(Login(role, actor, password, "/operator/login"))
    return logins
