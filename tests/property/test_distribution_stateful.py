"""A hypothesis state machine over the distribution core, through the shell.

Random sequences of rounds with rising (or repeated) percentages, KYC redone, claims sold,
residences moved, objections upheld, restrictions lifted, escrows released and forfeited, on the
world of ``tests.support.distribution_world``. After every step (``World.run`` asserts them): the
state's invariants and the distribution invariants (every cent paid, escrowed or in the pool).
After every round, checked here against a naive model: no claim received more than the ceiling
of its cap; a round declared again with the same targets pays nothing; the lines of a round are
exactly ``max(0, entitlement − received)`` of the claims that take part.
"""

from __future__ import annotations

import dataclasses
import hashlib
from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from reclaim.app import distributions as app
from reclaim.app.log_service import Accepted
from reclaim.core.claims import PolicyEntry, SetPolicy
from reclaim.core.distribution.commands import (
    AssignClaim,
    DecideObjection,
    ElectPayout,
    ForfeitEscrow,
    ProveResidence,
    RecordFxRate,
    ReleaseEscrow,
)
from reclaim.core.distribution.interest import entitlement_cap_minor
from reclaim.core.distribution.model import ClassRound, InterestTerms, Round
from reclaim.core.distribution.payees import RELEASE_REASONS
from reclaim.core.distribution.state import Line
from reclaim.core.rejections import Rejection
from tests.scenarios.test_distribution_scenarios import ECB, digest, lines_of
from tests.support.distribution_world import CLAIMS, PLAN, World

CLASSES = ("5A", "5B", "6A", "7")
INTEREST = InterestTerms(900, "simple", "ACT/365", "2022-11-11")


class DistributionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World()
        self.world.ok(ElectPayout("bob", "EUR"), "bob")
        self.world.ok(RecordFxRate("EUR", "0.9234", ECB, "2025-01-02T09:00:00.000000Z"), "treasury")
        self.rounds = 0
        self.bps = dict.fromkeys(CLASSES, 0)
        self.last: Round | None = None
        self.day = 0

    def _next_dates(self) -> tuple[str, str]:
        self.day += 30
        start = 2025 * 12  # months from 2025-01
        month = start + self.day // 30
        record = f"{month // 12}-{month % 12 + 1:02d}-01"
        month += 1
        payment = f"{month // 12}-{month % 12 + 1:02d}-15"
        return record, payment

    @rule(
        steps=st.lists(st.integers(0, 3_000), min_size=4, max_size=4),
        funding=st.integers(0, 30_000_000),
    )
    def run_round(self, steps: list[int], funding: int) -> None:
        record, payment = self._next_dates()
        classes = []
        for code, step in zip(CLASSES, steps, strict=True):
            if code == "7":
                classes.append(ClassRound("7", "cap", interest_to="2025-02-18"))
                continue
            self.bps[code] = min(self.bps[code] + step, 12_000)
            if self.bps[code]:
                classes.append(ClassRound(code, "percent", self.bps[code]))
        round_ = Round(f"p{self.rounds}", "ftx", record, payment, tuple(classes), funding)
        self.rounds += 1
        if self._run(round_) is not None:
            self.last = round_  # executed: running it again must pay nothing

    @precondition(lambda self: self.last is not None)
    @rule()
    def run_the_last_round_again(self) -> None:
        assert self.last is not None
        again = dataclasses.replace(self.last, round_id=f"p{self.rounds}", funding_minor=1)
        self.rounds += 1
        lines = self._run(again)
        assert lines == [], "a round run again pays nothing more"

    def _run(self, round_: Round) -> list[Line] | None:
        w = self.world
        assert isinstance(app.declare(w, round_), Accepted)
        if round_.funding_minor:
            assert isinstance(app.fund(w, round_.round_id), Accepted)
        computed = app.preview(w, round_.round_id)
        lines = lines_of(computed)
        before = dict(w.state.distribution.received)
        self._check_against_model(lines, before, round_)
        approved = app.approve(w, round_.round_id, digest(lines), computed)
        if isinstance(approved, Rejection):
            # Not funded (or not enough): the pool cannot pay it. Nothing moved.
            assert "round_not_funded" in approved.detail or "pool_insufficient" in approved.detail
            return None
        assert app.execute(w, round_.round_id, lines) == app.Executed(len(lines), 0, True)
        return lines

    def _check_against_model(self, lines: list[Line], before: dict[str, int], r: Round) -> None:
        """Each line is the claim's entitlement less what it received; no entitlement above
        the ceiling of the claim's cap; every line pays something."""
        for line in lines:
            claim = self.world.state.claims.claims[line.claim_id]
            assert line.received_minor == before.get(line.claim_id, 0)
            assert line.usd_minor == line.entitlement_minor - line.received_minor > 0
            class_round = next(c for c in r.classes if c.class_code == claim.class_code)
            ceiling = entitlement_cap_minor(
                claim.admitted_minor, PLAN.classes[claim.class_code], INTEREST,
                class_round.interest_to or r.payment_date,
            )  # fmt: skip
            assert line.entitlement_minor <= ceiling
            if class_round.target == "percent":
                exact = Fraction(claim.admitted_minor * class_round.cumulative_bps, 10_000)
                assert abs(line.entitlement_minor - exact) < 1, "within a cent of the exact share"

    @rule(creditor=st.sampled_from(["carol"]))
    def redo_kyc(self, creditor: str) -> None:
        if self.world.state.claims.kyc_state(creditor) != "approved":
            self.world.approve_kyc(creditor, f"case-{creditor}-{self.world.state.events}")

    @rule(filed_days=st.integers(0, 60))
    def sell_c7(self, filed_days: int) -> None:
        w = self.world
        evidence = hashlib.sha256(f"2100A {w.state.events}".encode()).hexdigest()
        claim = w.state.claims.claims["C7"]
        holder = (w.state.distribution.holders.get("C7") or [None])[-1]
        current = holder.to_holder if holder else claim.linked_creditor
        to = "buyer" if current == "dave" else "dave"
        filed = w.now.date().isoformat()
        w.run(AssignClaim("C7", to, filed, evidence), "admin")

    @rule()
    def alice_moves_to_france(self) -> None:
        self.world.run(ProveResidence("alice", "FR", self.world.now.date().isoformat()), "kyc")

    @rule()
    def objection_upheld_for_c1(self) -> None:
        self.world.run(DecideObjection("C1", "upheld", "D.I.-1"), "admin")

    @rule()
    def cn_restriction_lifted(self) -> None:
        lifted = PolicyEntry("CN", "open", "Motion withdrawn", "https://example.org/w",
                             self.world.now.date().isoformat(), ())  # fmt: skip
        self.world.run(SetPolicy((lifted,)), "admin")

    @rule(claim=st.sampled_from(sorted(CLAIMS)), reason=st.sampled_from(RELEASE_REASONS))
    def release(self, claim: str, reason: str) -> None:
        w = self.world
        before = w.available(f"claim:{claim}/USD/claim_escrow")
        outcome = w.run(ReleaseEscrow(claim, reason), "treasury")
        after = w.available(f"claim:{claim}/USD/claim_escrow")
        assert after == (before if isinstance(outcome, Rejection) else 0)

    @rule(claim=st.sampled_from(sorted(CLAIMS)))
    def forfeit(self, claim: str) -> None:
        self.world.run(ForfeitEscrow(claim, "Ordered", "D.I.-9"), "admin")

    @invariant()
    def received_never_exceeds_the_cap(self) -> None:
        state = self.world.state
        for claim_id, received in state.distribution.received.items():
            claim = state.claims.claims[claim_id]
            ceiling = entitlement_cap_minor(
                claim.admitted_minor, PLAN.classes[claim.class_code], INTEREST, "2030-01-01"
            )
            assert received <= ceiling


TestDistributionMachine = DistributionMachine.TestCase
TestDistributionMachine.settings = settings(
    max_examples=50,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
