"""Distribution rounds through the shell: who is paid, what is escrowed, and what releases it.

The world is ``tests.support.distribution_world`` (its docstring has the table). Rounds, as FTX's
(FACTS.md), cumulative percentages of the admitted amount:

    round  record      payment     5A   5B   6A   7
    r1     2025-01-03  2025-02-18  -    -    -    cap (100% + 9% × 830/365)
    r2     2025-04-11  2025-05-30  72%  54%  61%  cap, interest to 2025-02-18

r2's lines (5A's class total ⌊10,373,458 × 0.72⌋ = 7,468,889 is the sum of its floors):

    line  claim  destination  reason               payee  usd        asset  amount
    0     C1     escrow       restricted           -      7,200,000  USD    7,200,000
    1     C2     creditor     -                    bob       36,000  EUR       33,242
    2     C3     escrow       kyc_pending          -      1,220,000  USD    1,220,000
    3     C5     escrow       disputed             -         37,800  USD       37,800
    4     C6     escrow       unlinked             -         88,889  USD       88,889
    5     C7     creditor     -                    dave     144,000  USD      144,000

(bob elected EUR at 0.9234: ⌊36,000 × 0.9234⌋ = 33,242; C4 was paid in full by r1.)
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Final

import pytest

from reclaim.app import distributions as app
from reclaim.app.log_service import Accepted
from reclaim.core.claims import AmendClaims, Amendment, PolicyEntry, SetPolicy
from reclaim.core.distribution.codes import DistributionCode
from reclaim.core.distribution.commands import (
    ApproveRound,
    AssignClaim,
    CompleteRound,
    DecideObjection,
    DeclareRound,
    ElectPayout,
    ExecuteLines,
    ForfeitEscrow,
    FundRound,
    ProveResidence,
    RecordFxRate,
    ReleaseEscrow,
    SetPlan,
)
from reclaim.core.distribution.model import ClassRound, ClassTerms, Round
from reclaim.core.distribution.payloads import LINES_HEADER
from reclaim.core.distribution.state import FxUse, Line
from reclaim.core.ledger.machine import assert_ledger_invariants
from reclaim.core.rejections import Code, Rejection
from tests.support.core_harness import Command, check, replay
from tests.support.distribution_world import PLAN, World, commit

R1: Final = Round("r1", "ftx", "2025-01-03", "2025-02-18", (ClassRound("7", "cap"),), 5_000_000)
R2: Final = Round(
    "r2", "ftx", "2025-04-11", "2025-05-30",
    (ClassRound("5A", "percent", 7200), ClassRound("5B", "percent", 5400),
     ClassRound("6A", "percent", 6100), ClassRound("7", "cap", interest_to="2025-02-18")),
    9_000_000,
)  # fmt: skip
POOL: Final = "estate.ftx/USD/estate_pool"
ECB: Final = "https://www.ecb.europa.eu/stats/eurofxref"
T_FX: Final = "2025-01-02T09:00:00.000000Z"


def escrow(claim: str) -> str:
    return f"claim:{claim}/USD/claim_escrow"


def lines_of(computed: app.Preview) -> list[Line]:
    return [Line(*row) for row in computed.lines.frame.iter_rows()]


def digest(lines: list[Line]) -> str:
    body = LINES_HEADER + "".join(line.text() for line in lines)
    return hashlib.sha256(body.encode()).hexdigest()


def run_round(world: World, round_: Round) -> list[Line]:
    """Declare, fund, preview, approve and execute ``round_``; its lines."""
    assert isinstance(app.declare(world, round_), Accepted)
    assert isinstance(app.fund(world, round_.round_id), Accepted)
    computed = app.preview(world, round_.round_id)
    lines = lines_of(computed)
    assert isinstance(app.approve(world, round_.round_id, digest(lines), computed), Accepted)
    done = app.execute(world, round_.round_id, lines)
    assert done == app.Executed(len(lines), 0, True)
    return lines


@pytest.fixture
def world() -> World:
    w = World()
    w.ok(ElectPayout("bob", "EUR"), "bob")
    w.ok(RecordFxRate("EUR", "0.9234", ECB, "2025-01-02T09:00:00.000000Z"), "treasury")
    return w


def refused(world: World, command: Command, actor: str) -> str:
    """The distribution core's code for a refused command (state unchanged)."""
    before = world.state.snapshot()
    outcome = world.run(command, actor)
    assert isinstance(outcome, Rejection), f"{command} was accepted"
    assert world.state.snapshot() == before
    if outcome.code is not Code.distribution_refused:
        return outcome.code.name
    return outcome.detail.split(":")[0].split(" ")[0]


def test_round_one_pays_the_convenience_class_in_full_with_interest(world: World) -> None:
    (line,) = run_round(world, R1)
    # 4,000,000 × (1 + 0.09 × 830 / 365) = 4,818,630.13…: one claim, the floor.
    assert (line.claim_id, line.usd_minor, line.payee) == ("C4", 4_818_630, "dave")
    assert world.available("dave/USD/creditor_available") == 4_818_630
    assert world.available(POOL) == 5_000_000 - 4_818_630


def test_round_two_routes_every_claim_and_conserves_every_cent(world: World) -> None:
    run_round(world, R1)
    lines = run_round(world, R2)
    table = [
        (x.line, x.claim_id, x.destination, x.reason, x.payee, x.usd_minor, x.asset,
         x.amount_minor)
        for x in lines
    ]  # fmt: skip
    assert table == [
        (0, "C1", "escrow", "restricted", "", 7_200_000, "USD", 7_200_000),
        (1, "C2", "creditor", "", "bob", 36_000, "EUR", 33_242),
        (2, "C3", "escrow", "kyc_pending", "", 1_220_000, "USD", 1_220_000),
        (3, "C5", "escrow", "disputed", "", 37_800, "USD", 37_800),
        (4, "C6", "escrow", "unlinked", "", 88_889, "USD", 88_889),
        (5, "C7", "creditor", "", "dave", 144_000, "USD", 144_000),
    ]
    paid = 4_818_630 + 144_000 + 36_000
    escrowed = 7_200_000 + 1_220_000 + 37_800 + 88_889
    # Every cent of the funding is paid, escrowed or still in the pool.
    assert paid + escrowed + world.available(POOL) == R1.funding_minor + R2.funding_minor
    assert world.available(escrow("C1")) == 7_200_000
    assert world.available("bob/EUR/creditor_available") == 33_242
    assert world.available("fx/USD/fx") == 36_000  # the operator's USD against bob's euros
    assert sum(world.state.distribution.received.values()) == paid + escrowed
    assert_ledger_invariants(world.state.ledger)


def test_re_running_a_round_pays_nothing_more(world: World) -> None:
    run_round(world, R1)
    run_round(world, R2)
    again = dataclasses.replace(R2, round_id="r2-again", funding_minor=1)
    assert isinstance(app.declare(world, again), Accepted)
    assert isinstance(app.fund(world, "r2-again"), Accepted)
    assert lines_of(app.preview(world, "r2-again")) == []


def test_escrows_are_released_by_the_events_that_clear_them(world: World) -> None:
    run_round(world, R1)
    run_round(world, R2)
    # Still restricted, KYC still to redo, dispute open, never linked: nothing is released.
    assert refused(world, ReleaseEscrow("C1", "restriction_lifted"), "treasury") == (
        "escrow_still_restricted"
    )
    assert refused(world, ReleaseEscrow("C3", "kyc_approved"), "treasury") == (
        "escrow_holder_not_payable"
    )
    assert refused(world, ReleaseEscrow("C5", "dispute_resolved"), "treasury") == (
        "escrow_holder_not_payable"
    )
    assert refused(world, ReleaseEscrow("C6", "linked"), "treasury") == "escrow_holder_not_payable"
    # carol redoes her KYC: her escrow goes to her.
    world.approve_kyc("carol", "case-carol-2")
    world.ok(ReleaseEscrow("C3", "kyc_approved"), "treasury")
    assert world.available("carol/USD/creditor_available") == 1_220_000
    assert world.available(escrow("C3")) == 0
    # alice moves to France (a KYC officer records it): released for the move.
    world.at("2025-06-10")
    world.ok(ProveResidence("alice", "FR", "2025-06-01"), "kyc")
    world.ok(ReleaseEscrow("C1", "residence_moved"), "treasury")
    assert world.available("alice/USD/creditor_available") == 7_200_000
    # erin's dispute is resolved by the register: released.
    world.ok(
        AmendClaims("ftx", commit("register:v2"), (Amendment("C5", "status", "disputed",
                                                             "allowed"),)),
        "admin",
    )  # fmt: skip
    world.ok(ReleaseEscrow("C5", "dispute_resolved"), "treasury")
    assert world.available("erin/USD/creditor_available") == 37_800
    assert refused(world, ReleaseEscrow("C5", "dispute_resolved"), "treasury") == "escrow_empty"
    assert_ledger_invariants(world.state.ledger)


def test_a_lifted_restriction_and_an_upheld_objection_release_too(world: World) -> None:
    run_round(world, R1)
    run_round(world, R2)
    assert refused(world, ReleaseEscrow("C1", "objection_upheld"), "treasury") == (
        "escrow_no_upheld_objection"
    )
    world.ok(DecideObjection("C1", "upheld", "D.I.-31234"), "admin")
    world.ok(ReleaseEscrow("C1", "objection_upheld"), "treasury")
    assert world.available("alice/USD/creditor_available") == 7_200_000


def test_restriction_lifted_by_a_new_policy_entry(world: World) -> None:
    run_round(world, R1)
    run_round(world, R2)
    world.at("2025-11-04")
    lifted = PolicyEntry("CN", "open", "Motion withdrawn without prejudice",
                         "https://example.org/withdrawal", "2025-11-03", ())  # fmt: skip
    world.ok(SetPolicy((lifted,)), "admin")
    world.ok(ReleaseEscrow("C1", "restriction_lifted"), "treasury")
    assert world.available("alice/USD/creditor_available") == 7_200_000


def test_a_claim_sold_within_21_days_of_the_record_date_pays_the_seller(world: World) -> None:
    run_round(world, R1)
    evidence = hashlib.sha256(b"Form 2100A C7").hexdigest()
    world.at("2025-03-25")  # 17 days before r2's record date (2025-04-11)
    world.ok(AssignClaim("C7", "buyer", "2025-03-25", evidence), "admin")
    lines = {x.claim_id: x for x in run_round(world, R2)}
    assert lines["C7"].payee == "dave"
    r3 = dataclasses.replace(
        R2, round_id="r3", record_date="2025-08-15", payment_date="2025-09-30",
        classes=(ClassRound("5A", "percent", 7800),), funding_minor=1_000_000,
    )  # fmt: skip
    world.at("2025-08-20")
    lines = {x.claim_id: x for x in run_round(world, r3)}
    # 200,000 × 78% − 144,000 received = 12,000, now to the buyer of record.
    assert (lines["C7"].payee, lines["C7"].usd_minor) == ("buyer", 12_000)
    assert world.available("buyer/USD/creditor_available") == 12_000


def test_forfeiture_is_an_explicit_ordered_event(world: World) -> None:
    run_round(world, R1)
    run_round(world, R2)
    # An unlinked claim is not forfeited: the plan orders forfeiture only for missed KYC
    # deadlines and standing restrictions.
    order = ForfeitEscrow("C6", "Order sustaining the objection", "D.I.-4242")
    assert refused(world, order, "admin") == "forfeiture_not_ordered_by_plan"
    no_order = ForfeitEscrow("C1", "Designation stands", "")
    assert refused(world, no_order, "admin") == "forfeiture_order_missing"
    world.ok(ForfeitEscrow("C1", "Designation stands", "D.I.-5150"), "admin")
    assert world.available(escrow("C1")) == 0
    # Back to the estate's pool, never lost: the ledger still balances.
    assert world.available(POOL) == 14_000_000 - 4_818_630 - 8_726_689 + 7_200_000
    world.at("2025-06-02")  # carol missed the KYC deadline (2025-06-01)
    world.ok(ForfeitEscrow("C3", "KYC not completed by the deadline", "D.I.-6000"), "admin")
    assert world.available(escrow("C3")) == 0


def test_an_interrupted_execution_resumes_without_paying_twice(world: World) -> None:
    run_round(world, R1)
    assert isinstance(app.declare(world, R2), Accepted)
    assert isinstance(app.fund(world, "r2"), Accepted)
    computed = app.preview(world, "r2")
    lines = lines_of(computed)
    assert isinstance(app.approve(world, "r2", digest(lines), computed), Accepted)
    world.ok(ExecuteLines("r2", tuple(lines[:2])), "treasury")  # then the process died
    # A replayed batch is refused: its lines are not the next ones any more.
    assert refused(world, ExecuteLines("r2", tuple(lines[:2])), "treasury") == ("line_out_of_order")
    assert app.execute(world, "r2", lines) == app.Executed(4, 2, True)
    assert app.execute(world, "r2", lines) == app.Executed(0, 6, True)
    assert world.available("bob/EUR/creditor_available") == 33_242


def test_a_tampered_lines_file_cannot_complete_the_round(world: World) -> None:
    run_round(world, R1)
    app.declare(world, R2)
    app.fund(world, "r2")
    computed = app.preview(world, "r2")
    lines = lines_of(computed)
    app.approve(world, "r2", digest(lines), computed)
    # The escrowed C6 line redirected to dave: the line is self-consistent but not approved.
    forged = lines[4]._replace(destination="creditor", reason="", payee="dave",
                               account_id="dave/USD/creditor_available")  # fmt: skip
    for line in [*lines[:4], forged]:
        world.ok(ExecuteLines("r2", (line,)), "treasury")
    world.ok(ExecuteLines("r2", (lines[5],)), "treasury")
    assert refused(world, CompleteRound("r2"), "treasury") == "round_incomplete"


def test_the_log_replays_to_the_same_state(world: World) -> None:
    run_round(world, R1)
    run_round(world, R2)
    world.approve_kyc("carol", "case-carol-2")
    world.ok(ReleaseEscrow("C3", "kyc_approved"), "treasury")
    replayed = replay(world.events, invariants=False)
    assert replayed.snapshot() == world.state.snapshot()


# Every code of the ladder ------------------------------------------------------------------------


def funded(world: World) -> None:
    run_round(world, R1)
    app.declare(world, R2)
    app.fund(world, "r2")


def approved(world: World) -> list[Line]:
    funded(world)
    computed = app.preview(world, "r2")
    lines = lines_of(computed)
    app.approve(world, "r2", digest(lines), computed)
    return lines


def _approve(**change: object) -> ApproveRound:
    base = ApproveRound("r2", "a" * 64, 6, 8_726_689, 8_546_689,
                        (FxUse("EUR", "0.9234", 4617, 5000),))  # fmt: skip
    return dataclasses.replace(base, **change)  # type: ignore[arg-type]


def _line(world: World, index: int, **change: object) -> ExecuteLines:
    lines = approved(world)
    return ExecuteLines("r2", (lines[index]._replace(**change),))


CASES: Final = [
    # (code, setup, command, actor)
    ("batch_too_large", None,
     lambda w: ExecuteLines("r2", tuple(Line(i, f"X{i}", "5A", "US", "allowed", "escrow",
                                             "unlinked", "", "x", 1, 0, 1, "USD", 1)
                                        for i in range(65))), "treasury"),
    ("estate_unknown", None, lambda w: SetPlan(dataclasses.replace(PLAN, estate_id="celsius")),
     "admin"),
    ("plan_class_unknown", None,
     lambda w: SetPlan(dataclasses.replace(PLAN, classes={"9Z": ClassTerms("9Z", 10_000, True)})),
     "admin"),
    ("plan_cap_out_of_range", None,
     lambda w: SetPlan(dataclasses.replace(PLAN, classes={"5A": ClassTerms("5A", 0, True)})),
     "admin"),
    ("plan_status_unknown", None,
     lambda w: SetPlan(dataclasses.replace(PLAN, paid_statuses=("paid",))), "admin"),
    ("plan_date_invalid", None,
     lambda w: SetPlan(dataclasses.replace(PLAN, kyc_finish_by="2025-02-30")), "admin"),
    ("plan_kyc_missed_unknown", None,
     lambda w: SetPlan(dataclasses.replace(PLAN, kyc_missed="drop")), "admin"),
    ("round_id_malformed", None,
     lambda w: DeclareRound(dataclasses.replace(R1, round_id="round 1")), "treasury"),
    ("round_exists", lambda w: app.declare(w, R1), lambda w: DeclareRound(R1), "treasury"),
    ("round_dates_invalid", None,
     lambda w: DeclareRound(dataclasses.replace(R1, payment_date="2024-12-31")), "treasury"),
    ("round_class_unknown", None,
     lambda w: DeclareRound(dataclasses.replace(R1, classes=(ClassRound("6B", "cap"),))),
     "treasury"),
    ("round_target_unknown", None,
     lambda w: DeclareRound(dataclasses.replace(R1, classes=(ClassRound("7", "all"),))),
     "treasury"),
    ("round_target_invalid", None,
     lambda w: DeclareRound(dataclasses.replace(R1, classes=(ClassRound("7", "percent", 0),))),
     "treasury"),
    ("round_unknown", None, lambda w: FundRound("r9", 1), "treasury"),
    ("funding_amount_invalid", lambda w: app.declare(w, R1), lambda w: FundRound("r1", 1),
     "treasury"),
    ("round_funded_already", lambda w: (app.declare(w, R1), app.fund(w, "r1")),
     lambda w: FundRound("r1", R1.funding_minor), "treasury"),
    ("round_not_funded", lambda w: app.declare(w, R1), lambda w: _approve(round_id="r1"),
     "treasury"),
    ("round_approved_already", approved, lambda w: _approve(), "treasury"),
    ("approval_digest_malformed", funded, lambda w: _approve(lines_sha256="A" * 64), "treasury"),
    ("approval_totals_invalid", funded, lambda w: _approve(escrow_total_minor=9_000_000),
     "treasury"),
    ("approval_rate_not_latest", funded,
     lambda w: _approve(rates=(FxUse("EUR", "0.9", 9, 10),)), "treasury"),
    ("pool_insufficient", funded, lambda w: _approve(usd_total_minor=9_181_371,
                                                    escrow_total_minor=0), "treasury"),
    ("another_round_executing",
     lambda w: (approved(w), app.declare(w, dataclasses.replace(R2, round_id="r3")),
                app.fund(w, "r3")),
     lambda w: _approve(round_id="r3"), "treasury"),
    ("approval_not_as_computed", funded, lambda w: _approve(), "treasury"),
    ("round_not_approved", funded, lambda w: CompleteRound("r2"), "treasury"),
    ("round_completed_already", lambda w: run_round(w, R1), lambda w: CompleteRound("r1"),
     "treasury"),
    ("line_out_of_order", None, lambda w: _line(w, 1), "treasury"),
    ("line_claim_unknown", None, lambda w: _line(w, 0, claim_id="C99"), "treasury"),
    ("line_amount_invalid", None, lambda w: _line(w, 0, received_minor=1), "treasury"),
    ("line_account_mismatch", None, lambda w: _line(w, 0, account_id="alice/USD/claim_escrow"),
     "treasury"),
    ("line_conversion_mismatch", None, lambda w: _line(w, 0, amount_minor=7_199_999),
     "treasury"),
    # C1's cap at r2's payment date: 10,000,000 × (1 + 0.09 × 931 / 365) = 12,295,616.4…,
    # whose ceiling, 12,295,617, is the most a line may reach.
    ("line_exceeds_entitlement", None,
     lambda w: _line(w, 0, usd_minor=12_295_618, entitlement_minor=12_295_618,
                     amount_minor=12_295_618), "treasury"),
    # Within C1's cap, beyond the pool (9,181,370 after r1): the ledger refuses the transfer.
    ("ledger_refused", None,
     lambda w: _line(w, 0, usd_minor=9_500_000, entitlement_minor=9_500_000,
                     amount_minor=9_500_000), "treasury"),
    ("line_beyond_approved", None,
     lambda w: ExecuteLines("r2", (*approved(w), approved_extra(w))), "treasury"),
    ("round_digest_mismatch", None, lambda w: complete_with_wrong_digest(w), "treasury"),
    ("line_payee_unknown", None,
     lambda w: _line(w, 0, destination="creditor", reason="", payee="nobody",
                     account_id="nobody/USD/creditor_available"), "treasury"),
    ("escrow_claim_unknown", None, lambda w: ReleaseEscrow("C99", "linked"), "treasury"),
    ("escrow_empty", None, lambda w: ReleaseEscrow("C1", "linked"), "treasury"),
    ("escrow_reason_unknown", lambda w: approved_and_run(w),
     lambda w: ReleaseEscrow("C1", "because"), "treasury"),
    ("escrow_still_restricted", lambda w: approved_and_run(w),
     lambda w: ReleaseEscrow("C1", "restriction_lifted"), "treasury"),
    ("escrow_no_residence", lambda w: approved_and_run(w),
     lambda w: ReleaseEscrow("C1", "residence_moved"), "treasury"),
    ("escrow_no_upheld_objection", lambda w: approved_and_run(w),
     lambda w: ReleaseEscrow("C1", "objection_upheld"), "treasury"),
    ("escrow_holder_not_payable", lambda w: approved_and_run(w),
     lambda w: ReleaseEscrow("C6", "linked"), "treasury"),
    ("forfeiture_order_missing", lambda w: approved_and_run(w),
     lambda w: ForfeitEscrow("C1", "Designation stands", ""), "admin"),
    ("forfeiture_not_ordered_by_plan", lambda w: approved_and_run(w),
     lambda w: ForfeitEscrow("C6", "No reason", "D.I.-1"), "admin"),
    ("plan_missing", lambda w: w.state.distribution.plans.clear(),
     lambda w: DeclareRound(R1), "treasury"),
    ("round_class_duplicated", None,
     lambda w: DeclareRound(dataclasses.replace(R1, classes=(ClassRound("7", "cap"),) * 2)),
     "treasury"),
    ("claim_unknown", None, lambda w: AssignClaim("C99", "buyer", "2025-01-01", "a" * 64),
     "admin"),
    ("assignee_unknown", None, lambda w: AssignClaim("C2", "nobody", "2025-01-01", "a" * 64),
     "admin"),
    ("assignment_from_not_holder", None,
     lambda w: AssignClaim("C6", "buyer", "2025-01-01", "a" * 64), "admin"),
    ("assignment_to_self", None, lambda w: AssignClaim("C2", "bob", "2025-01-01", "a" * 64),
     "admin"),
    ("assignment_date_invalid", None,
     lambda w: AssignClaim("C2", "buyer", "2026-01-01", "a" * 64), "admin"),
    ("evidence_malformed", None, lambda w: AssignClaim("C2", "buyer", "2025-01-01", "form"),
     "admin"),
    ("residence_iso_unknown", None, lambda w: ProveResidence("alice", "XX", "2025-01-01"), "kyc"),
    ("residence_date_invalid", None, lambda w: ProveResidence("alice", "FR", "2025-13-01"),
     "kyc"),
    ("objection_outcome_unknown", None, lambda w: DecideObjection("C1", "pending", "D.I.-1"),
     "admin"),
    ("reference_malformed", None, lambda w: DecideObjection("C1", "upheld", "D.I. 1"), "admin"),
    ("creditor_unknown", None, lambda w: ProveResidence("nobody", "FR", "2025-01-01"), "kyc"),
    ("fx_asset_unknown", None, lambda w: RecordFxRate("GBP", "0.8", ECB, T_FX),
     "treasury"),
    ("fx_rate_invalid", None, lambda w: RecordFxRate("EUR", "0", ECB, T_FX),
     "treasury"),
    ("fx_source_invalid", None,
     lambda w: RecordFxRate("EUR", "0.9", " ", "2025-01-02T09:00:00.000000Z"), "treasury"),
    ("fx_time_invalid", None,
     lambda w: RecordFxRate("EUR", "0.9", ECB, "2025-01-01T09:00:00.000000Z"), "treasury"),
    ("payout_asset_unknown", None, lambda w: ElectPayout("alice", "BTC"), "alice"),
    ("payout_elected_already", None, lambda w: ElectPayout("bob", "USDC"), "bob"),
]  # fmt: skip


def approved_extra(world: World) -> Line:
    return Line(6, "C8", "5A", "US", "allowed", "escrow", "unlinked", "", escrow("C8"),
                1, 0, 1, "USD", 1)  # fmt: skip


def approved_and_run(world: World) -> None:
    lines = approved(world)
    assert app.execute(world, "r2", lines) == app.Executed(6, 0, True)


def complete_with_wrong_digest(world: World) -> CompleteRound:
    """Every approved line executed, one with a field the ladder does not read changed: the
    counts and totals agree, the digest does not."""
    lines = approved(world)
    changed = lines[1]._replace(jurisdiction="DE")
    world.ok(ExecuteLines("r2", (lines[0], changed, *lines[2:])), "treasury")
    return CompleteRound("r2")


@pytest.mark.parametrize(("code", "setup", "make", "actor"), CASES, ids=[c[0] for c in CASES])
def test_every_code(world: World, code: str, setup, make, actor: str) -> None:  # type: ignore[no-untyped-def]
    if setup is not None:
        setup(world)
    assert refused(world, make(world), actor) == code


def test_every_code_has_a_case() -> None:
    covered = {c[0] for c in CASES} | {
        "ok",
        "payload_malformed",  # test_a_malformed_payload_is_refused_on_replay
        "round_too_many",  # test_an_estate_has_at_most_256_rounds
        "round_incomplete",  # test_a_tampered_lines_file_cannot_complete_the_round
    }
    assert covered == {c.name for c in DistributionCode}


def test_a_malformed_payload_is_refused_on_replay(world: World) -> None:
    decided = world.ok(ElectPayout("carol", "USDC"), "carol")
    (event,) = decided.events
    world.state.distribution.elections.clear()  # as if the event had not been applied
    bad = dataclasses.replace(event, payload={"creditor": "carol", "asset": "USDC", "x": "1"})
    rejection = check(world.state, bad)
    assert rejection is not None
    assert rejection.code is Code.distribution_refused
    assert rejection.detail.startswith("payload_malformed")


def test_an_estate_has_at_most_256_rounds(world: World) -> None:
    for n in range(256):
        app.declare(world, dataclasses.replace(R1, round_id=f"r{n}"))
    assert refused(world, DeclareRound(dataclasses.replace(R1, round_id="r256")), "treasury") == (
        "round_too_many"
    )


def test_the_holder_of_a_claim_cannot_elect_for_someone_else(world: World) -> None:
    outcome = world.run(ElectPayout("alice", "USDC"), "bob")
    assert isinstance(outcome, Rejection)
    assert outcome.code is Code.actor_not_authorised
