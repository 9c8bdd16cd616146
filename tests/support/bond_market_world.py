"""The bond market story's world (``tests/e2e/test_bond_market_story.py``, ``test_market_cli``),
as commands for a log whose genesis registered the operator's actors::

    policy    CN restricted, FR open (sepa)
    estate    ftx, class 5A; a plan for 5A (cap 100%, no interest), no KYC deadline
    register  C-mei (CN, mei) $100,000.00 · C-lin (CN, lin) $20,000.00 · C-paul (FR, paul)
              $30,000.00 · C-anon (JP) $5,000.00, never linked
    traders   mei, lin, paul, jean (FR, no claim): KYC approved, residence proved
    cash      jean USD 50,000.00

Each creditor's key comes from a fixed seed (``seed``), which is also its Backpack API secret.
"""

from __future__ import annotations

import hashlib
from typing import Final

from reclaim import bootstrap
from reclaim.app import distributions
from reclaim.core.actors import RegisterActor
from reclaim.core.claims import (
    ClaimClass,
    CreateEstate,
    DecideKyc,
    ImportClaims,
    LinkClaim,
    PolicyEntry,
    ProveEmail,
    RegisterRow,
    SetPolicy,
    SubmitKyc,
)
from reclaim.core.distribution.commands import ProveResidence, SetPlan
from reclaim.core.distribution.model import ClassTerms, Plan, Round
from reclaim.core.distribution.payloads import LINES_HEADER
from reclaim.core.distribution.state import Line
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
)
from reclaim.core.machine import Command
from reclaim.core.rejections import Rejection
from reclaim.log.keys import SignerKey

#: creditor -> (claim, residence, admitted cents, linked)
CREDITORS: Final = {
    "mei": ("C-mei", "CN", 10_000_000, True),
    "lin": ("C-lin", "CN", 2_000_000, True),
    "paul": ("C-paul", "FR", 3_000_000, True),
    "anon": ("C-anon", "JP", 500_000, False),
    "jean": ("", "FR", 0, False),
}
DEPOSIT_MINOR: Final = 5_000_000


def _commit(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def seed(name: str) -> bytes:
    return hashlib.sha256(f"bond market story {name}".encode()).digest()


def key(name: str) -> SignerKey:
    return SignerKey.from_seed(name, seed(name))


def world() -> list[tuple[Command, str]]:
    out: list[tuple[Command, str]] = [
        (SetPolicy((
            PolicyEntry("CN", "restricted", "Restricted Jurisdiction Procedures motion",
                        "https://example.org/motion", "2025-01-01", ()),
            PolicyEntry("FR", "open", "Served", "https://example.org/policy", "2025-01-01",
                        ("sepa",)),
        )), "admin"),
        (CreateEstate("ftx", "FTX Trading Ltd.", "2022-11-11",
                      (ClaimClass("5A", "Dotcom customer entitlement", 1),)), "admin"),
    ]  # fmt: skip
    rows = tuple(
        RegisterRow(claim, f"CUST-{name}", _commit(f"email:{name}"), _commit(f"name:{name}"),
                    iso, "5A", cents, "allowed")
        for name, (claim, iso, cents, _) in CREDITORS.items() if claim
    )  # fmt: skip
    out.append((ImportClaims("ftx", _commit("register:v1"), rows), "admin"))
    for name, (claim, iso, _, linked) in CREDITORS.items():
        if name == "anon":
            continue
        out += [
            (RegisterActor(name, "creditor", key(name).verifier.to_text()), "gateway"),
        ]
        if claim:
            out.append((ProveEmail(name, _commit(f"email:{name}")), "gateway"))
        out += [
            (SubmitKyc(name, "manual", f"case-{name}"), "gateway"),
            (DecideKyc(name, "approved", "manual", f"case-{name}", "", _commit(f"name:{name}")),
             "kyc-officer"),
            (ProveResidence(name, iso, "2025-01-01"), "kyc-officer"),
        ]  # fmt: skip
        if linked:
            out.append((LinkClaim(claim, name), "gateway"))
    rail = Account.of("operator", "USD", "rail_settlement",
                      frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS}))  # fmt: skip
    jean = Account.of("jean", "USD", "creditor_available",
                      frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS}))  # fmt: skip
    out.append((OpenAccounts((rail, jean)), "treasury"))
    deposit = Transfer("dep-jean", rail.id, jean.id, "USD", DEPOSIT_MINOR, "deposit")
    out.append((CreateTransfers((deposit,)), "treasury"))
    plan = Plan("ftx", {"5A": ClassTerms("5A", 10_000, False)}, ("allowed",), ("disputed",),
                "", "", "forfeit_on_order")  # fmt: skip
    out.append((SetPlan(plan), "admin"))
    return out


def run_round(opened: bootstrap.Container, round_: Round) -> None:
    log = opened.log
    assert not isinstance(distributions.declare(log, round_), Rejection)
    assert not isinstance(distributions.fund(log, round_.round_id), Rejection)
    computed = distributions.preview(log, round_.round_id)
    lines = [Line(*row) for row in computed.lines.frame.iter_rows()]
    sha = hashlib.sha256((LINES_HEADER + "".join(x.text() for x in lines)).encode()).hexdigest()
    assert not isinstance(distributions.approve(log, round_.round_id, sha, computed), Rejection)
    done = distributions.execute(log, round_.round_id, lines)
    assert done == distributions.Executed(len(lines), 0, True)
