"""A portal over a copy of the demo: operator console logins, a USD rail, an SMTP server, and a
``reclaim serve`` with mail delivery to it (what ``conftest.portal`` starts).

Set-up before the server starts (the server then owns the data directory):

- the console logins ``kyc-officer``, ``treasury``, ``admin`` (each the log's actor of that
  role) and ``auditor`` (a reader, no actor), with ``OPERATOR_PASSWORD``, set through
  ``WebAccounts.set_operator_password`` (the vault of the demo's keys);
- the operator's USD settlement, fee and funding accounts and its bank's cash (signed by the
  treasury) and the Hong Kong USD
  wire's terms (``reclaim withdrawals set-fees``): the demo sets SEPA only, and a claim released
  from escrow pays USD;
- a fifth FTX round, declared and funded (``reclaim distribute``), for the console to run;
- the register's claims nobody holds yet, by jurisdiction (``Holder``): each test signs up with
  its own, so tests do not meet.
"""

from __future__ import annotations

import csv
import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import reclaim
from reclaim import bootstrap
from reclaim.app.web_accounts import WebAccounts
from reclaim.app.web_queries import claim_distributions
from reclaim.config import Settings
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
)
from reclaim.core.rejections import Rejection
from tests.support.onboarding_world import Inbox

OPERATOR_PASSWORD: Final = "console password for tests"
CREDITOR_PASSWORD: Final = "a long password of mine"
OPERATORS: Final = (
    ("kyc-officer", "kyc_officer"),
    ("treasury", "treasury"),
    ("admin", "admin"),
    ("auditor", "auditor"),
)
HK_WIRE_TERMS: Final = """
[rails.hk_wire]
asset = "USD"
tiers = [{ up_to = "10000.00", fee = "15.00" }]
above_fixed = "25.00"
above_bps = 0
above_base = "excess"
cap = "25.00"
minimum = "10.00"
timeout_seconds = 1209600
settlement_account = "operator/USD/rail_settlement"
fee_account = "operator/USD/fees"
"""
#: A round after the demo's four, for the console to preview, approve and execute.
FIFTH_ROUND_ID: Final = "ftx-5"
FIFTH_ROUND: Final = """
[[rounds]]
round_id = "ftx-5"
record_date = "2026-11-30"
payment_date = "2026-12-31"
funding_minor = 50_000_000_000

[[rounds.classes]]
class_code = "5A"
target = "percent"
cumulative_bps = 10_000
"""
MAIL_WAIT_SECONDS: Final = 30
TAKEN_COUNT: Final = 3
#: The USD the operator's bank holds for the wire (what withdrawals are paid from).
USD_CASH_MINOR: Final = 100_000_000
_CODE_RE: Final = re.compile(r"^\s*([0-9]{4}) ([0-9]{4})\s*$", re.MULTILINE)
_KEY_RE: Final = re.compile(r"^\s*([A-Z2-7]{5}(?:-[A-Z2-7]{5}){3})\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Holder:
    claim_id: str
    email: str
    name: str
    jurisdiction: str
    class_code: str
    admitted_minor: int


@dataclass(frozen=True, slots=True)
class Taken:
    """A claim a demo creditor holds, and the seq of one of its distribution events."""

    claim_id: str
    holder: str
    seq: int


@dataclass(slots=True)
class Portal:
    base_url: str
    inbox: Inbox
    data_dir: Path
    free: dict[str, Iterator[Holder]] = field(default_factory=dict)
    taken: tuple[Taken, ...] = ()

    def holder(self, jurisdiction: str) -> Holder:
        """A claim of ``jurisdiction`` nobody has signed up for (each call another)."""
        return next(self.free[jurisdiction])

    def code_for(self, email: str, after: int) -> str:
        """The code of the newest e-mail to ``email`` beyond the first ``after`` messages."""
        match = _CODE_RE.search(self.mail_to(email, after))
        assert match is not None, "the code e-mail shows the code on its own line"
        return match.group(1) + match.group(2)

    def confirmation_key_for(self, email: str, after: int) -> str:
        match = _KEY_RE.search(self.mail_to(email, after))
        assert match is not None, "the code e-mail shows the confirmation key on its own line"
        return match.group(1)

    def mail_to(self, email: str, after: int) -> str:
        """The text of the newest e-mail to ``email`` beyond the first ``after`` messages."""
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while True:
            found = [m for m in self.inbox.messages[after:] if m["To"] == email]
            if found:
                body = found[-1].get_body(("plain",))
                assert body is not None
                text: str = body.get_content()
                return text
            assert time.monotonic() < deadline, f"no e-mail to {email}"
            time.sleep(0.2)


def prepare(data_dir: Path) -> tuple[dict[str, list[Holder]], tuple[Taken, ...]]:
    """Console logins, the free claims by jurisdiction and a few claims demo creditors hold
    (see the module doc)."""
    settings = Settings.from_env(data_dir=data_dir, database_url=None).with_data_dir(data_dir)
    container = bootstrap.build(settings)
    try:
        wiring = container.onboarding
        assert wiring is not None, "the demo has a PII vault"
        accounts = WebAccounts(wiring.service, container.log)
        for actor, role in OPERATORS:
            accounts.set_operator_password(actor, role, OPERATOR_PASSWORD)
        usd_accounts = (  # what the demo opens for EUR, for the USD wire
            Account.of("operator", "USD", "rail_settlement",
                       frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})),
            Account.of("operator", "USD", "fees", frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})),
            Account.of("operator", "USD", "funding"),
        )  # fmt: skip
        cash = Transfer("web-test-usd-cash", "operator/USD/rail_settlement",  # the bank's USD
                        "operator/USD/funding", "USD", USD_CASH_MINOR, "funding")  # fmt: skip
        outcomes = container.log.submit_many([(OpenAccounts(usd_accounts), "treasury"),
                                              (CreateTransfers((cash,)), "treasury")])  # fmt: skip
        assert not any(isinstance(o, Rejection) for o in outcomes), outcomes
        state = container.log.state
        taken: list[Taken] = []
        for claim in state.claims.claims.values():
            if claim.linked_creditor and len(taken) < TAKEN_COUNT:
                for r in claim_distributions(container.store, claim.linked_creditor, claim.id):
                    taken.append(Taken(claim.id, claim.linked_creditor, r.seq))
                    break
        assert len(taken) == TAKEN_COUNT, "the demo's onboarded creditors were paid"
        free: dict[str, list[Holder]] = {}
        with (data_dir / "register.csv").open() as register:
            for row in csv.DictReader(register):
                claim = state.claims.claims[row["claim_id"]]
                if claim.linked_creditor or claim.status != "allowed":
                    continue
                if state.claims.claims_of_email(claim.email_commitment) != (claim.id,):
                    continue
                holder = Holder(
                    row["claim_id"], row["email"], row["holder_name"], row["jurisdiction"],
                    row["class"], claim.admitted_minor,
                )  # fmt: skip
                free.setdefault(holder.jurisdiction, []).append(holder)
        return free, tuple(taken)
    finally:
        container.close()


def shipped_rounds() -> str:
    """The shipped FTX plan and rounds file (``reclaim distribute --ftx``)."""
    return (Path(reclaim.__file__).parent / "data" / "rounds" / "ftx.toml").read_text()


def handing_out(free: dict[str, list[Holder]]) -> dict[str, Iterator[Holder]]:
    return {iso: itertools.chain(holders) for iso, holders in free.items()}
