"""A log state with an estate, a plan, creditors and claims in every situation a round meets.

Built through the real shell (``core_harness``: decide, check, evolve); every event is
round-tripped through the canonical encoding and re-checked before it is applied, exactly as a
replay would. ``World`` also offers ``read``/``submit_many``, so the application service
(``reclaim.app.distributions``) runs against it unchanged. The world::

    estate ftx   petition 2022-11-11, 9% simple ACT/365; classes 5A 5B 6A (priority 1, 1, 2),
                 7 (convenience, ≤ $50,000)
    plan         5A 5B 6A: cap 100% + interest; 7: cap 100% + interest; paid: allowed;
                 reserved: disputed; KYC by 2025-03-03 / 2025-06-01, missed → forfeit_on_order
    policy       CN restricted from 2025-01-01 · FR, US open

    claim  holder  class  admitted (¢)  status    jurisdiction  situation
    C1     alice   5A     10,000,000    allowed   CN            restricted → escrow
    C2     bob     5A         50,001    allowed   FR            elected EUR
    C3     carol   6A      2,000,000    allowed   FR            KYC to redo → escrow
    C4     dave    7       4,000,000    allowed   US            convenience
    C5     erin    5B         70,000    disputed  US            reserved → escrow
    C6     -       5A        123,457    allowed   JP            never linked → escrow
    C7     dave    5A        200,000    allowed   US            sold to buyer (a creditor)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Final, TypeVar

from reclaim.app.log_service import Accepted
from reclaim.core.actors import Genesis, RegisterActor
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
from reclaim.core.distribution.commands import SetPlan
from reclaim.core.distribution.machine import assert_distribution_invariants
from reclaim.core.distribution.model import ClassTerms, Plan
from tests.support.core_harness import (
    Command,
    CoreHarness,
    Decided,
    Event,
    Rejection,
    State,
)
from tests.support.factories import ORIGIN, key_for

_T = TypeVar("_T")
T0: Final = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
OPERATORS: Final = (
    ("treasury", "treasury"),
    ("gateway", "gateway"),
    ("kyc", "kyc_officer"),
    ("programme", "holding_entity"),
)
CREDITORS: Final = ("alice", "bob", "carol", "dave", "erin", "buyer")
#: claim -> (holder or "", class, admitted, status, jurisdiction)
CLAIMS: Final = {
    "C1": ("alice", "5A", 10_000_000, "allowed", "CN"),
    "C2": ("bob", "5A", 50_001, "allowed", "FR"),
    "C3": ("carol", "6A", 2_000_000, "allowed", "FR"),
    "C4": ("dave", "7", 4_000_000, "allowed", "US"),
    "C5": ("erin", "5B", 70_000, "disputed", "US"),
    "C6": ("", "5A", 123_457, "allowed", "JP"),
    "C7": ("dave", "5A", 200_000, "allowed", "US"),
}
KYC_APPROVED: Final = CREDITORS
POLICY: Final = (
    PolicyEntry("CN", "restricted", "Restricted Jurisdiction Procedures motion",
                "https://example.org/motion", "2025-01-01", ()),
    PolicyEntry("FR", "open", "EU member state", "https://example.org/policy", "2025-01-01",
                ("sepa",)),
    PolicyEntry("US", "open", "Served by wire", "https://example.org/policy", "2025-01-01",
                ("hk_wire",)),
)  # fmt: skip
ESTATE: Final = CreateEstate(
    "ftx", "FTX Trading Ltd.", "2022-11-11",
    (ClaimClass("5A", "Dotcom customer entitlement", 1), ClaimClass("5B", "US customer", 1),
     ClaimClass("6A", "General unsecured", 2), ClaimClass("7", "Convenience", 1)),
    "7", 5_000_000, 900, "simple", "ACT/365",
)  # fmt: skip
PLAN: Final = Plan(
    "ftx",
    {c: ClassTerms(c, 10_000, True) for c in ("5A", "5B", "6A", "7")},
    ("allowed",),
    ("disputed",),
    "2025-03-03",
    "2025-06-01",
    "forfeit_on_order",
)


def commit(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class World(CoreHarness):
    """A ``State`` driven through the shell (``core_harness``); ``events`` keeps every event for
    replays."""

    def __init__(self, start: datetime = T0) -> None:
        super().__init__(start)
        self.events: list[Event] = []
        #: Every accepted command and its signer, in order (to replay through a LogService).
        self.commands: list[tuple[Command, str]] = []
        self._build()

    def at(self, day: str) -> None:
        """Move the clock to 09:00 on ``day`` (never backwards)."""
        when = datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)
        assert when >= self.now, "the clock never goes back"
        self.now = when

    def accepted(self, command: Command, actor: str, decided: Decided) -> None:
        self.commands.append((command, actor))
        self.events.extend(decided.events)
        assert_distribution_invariants(self.state.distribution, self.state.claims,
                                       self.state.ledger)  # fmt: skip

    # The log service's surface, for ``reclaim.app.distributions``.

    def read(self, query: Callable[[State], _T]) -> _T:
        return query(self.state)

    def submit_many(self, commands: Iterable[tuple[Command, str]]) -> list[Accepted | Rejection]:
        out: list[Accepted | Rejection] = []
        for command, actor in commands:
            first = self.state.events
            decided = self.run(command, actor)
            if isinstance(decided, Rejection):
                out.append(decided)
            else:
                out.append(Accepted(first, tuple(decided.events), decided.results))
        return out

    # Reading.

    def available(self, account: str) -> int:
        found = self.state.ledger.accounts.get(account)
        return 0 if found is None else found.available_minor

    def _build(self) -> None:
        admin = key_for("admin")
        log_key = key_for(f"{ORIGIN}-signer")
        self.ok(Genesis(ORIGIN, "admin", admin.verifier.to_text(), log_key.verifier.to_text()),
                "admin")  # fmt: skip
        for name, role in OPERATORS:
            self.ok(RegisterActor(name, role, key_for(name).verifier.to_text()), "admin")
        for name in CREDITORS:
            self.ok(RegisterActor(name, "creditor", key_for(name).verifier.to_text()), "gateway")
        self.ok(SetPolicy(POLICY), "admin")
        self.ok(ESTATE, "admin")
        rows = tuple(
            RegisterRow(claim, f"CUST-{claim}", commit(f"email:{holder or claim}"),
                        commit(f"name:{holder or claim}"), iso, cls, amount, status)
            for claim, (holder, cls, amount, status, iso) in CLAIMS.items()
        )  # fmt: skip
        self.ok(ImportClaims("ftx", commit("register:v1"), rows), "admin")
        for name in CREDITORS:
            if any(holder == name for holder, *_ in CLAIMS.values()):
                self.ok(ProveEmail(name, commit(f"email:{name}")), "gateway")
            self.ok(SubmitKyc(name, "manual", f"case-{name}"), "gateway")
            if name in KYC_APPROVED:
                self.approve_kyc(name)
        # carol's document expired after her claim was linked: her KYC must be redone.
        self.ok(DecideKyc("carol", "resubmission_requested", "manual", "case-carol",
                          "document_expired", ""), "kyc")  # fmt: skip
        self.ok(SetPlan(PLAN), "admin")

    def approve_kyc(self, name: str, case: str = "") -> None:
        if case:
            self.ok(SubmitKyc(name, "manual", case), "gateway")
        case = case or f"case-{name}"
        self.ok(DecideKyc(name, "approved", "manual", case, "", commit(f"name:{name}")),
                "kyc")  # fmt: skip
        for claim, (holder, *_) in CLAIMS.items():
            if holder == name:
                self.ok(LinkClaim(claim, name), "gateway")
