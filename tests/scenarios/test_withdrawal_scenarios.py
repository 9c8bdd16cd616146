"""Scenario tables of withdrawals: request → confirm / fail / expiry, every refusal, retries.

Every scenario starts from the world of ``tests/withdrawal_world.py`` (creditors alice … hana,
the policy FR/HK open, CN restricted, IR sanctioned, JP unlisted; rails sepa, hk_wire, usdc
with the FTX EU schedule on sepa), driven through the real shell (``core.state``): each event is
round-tripped through the canonical encoding, re-checked and applied; the state's invariants
(the withdrawals' among them) hold after every command, ``decide`` never changes the state, and
``changed`` names every entity an event touched. Balances are ``(debits_posted,
credits_posted, debits_pending, credits_pending)`` in cents (micro-USDC for USDC)::

    alice/EUR/creditor_available    credits 100,000,000  (€1,000,000.00 deposited)
    operator/EUR/rail_settlement    debits  100,060,000  (every EUR deposit came through it)
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta
from typing import Any, Final

import pytest

from reclaim.core import limits
from reclaim.core.events import Event
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    VOIDED,
    Account,
    CreateTransfers,
    ExpirePending,
    OpenAccounts,
    Transfer,
)
from reclaim.core.rejections import Code, Rejection
from reclaim.core.withdrawals import (
    EXCESS,
    WHOLE,
    WITHDRAWAL_EVENT_TYPES,
    WRITTEN_VERSIONS,
    ConfirmWithdrawal,
    Decision,
    EventCode,
    FailWithdrawal,
    FeeSchedule,
    FeesCode,
    FeeTier,
    RailTerms,
    RequestCode,
    RequestWithdrawal,
    SetFees,
    SettleCode,
    WithdrawalsRejection,
    check_withdrawals,
    decide_withdrawals,
    status_of,
)
from tests.support.core_harness import Decided, check
from tests.support.withdrawal_world import HK_WIRE, SEPA, USDC, World, commit

ALICE_EUR: Final = "alice/EUR/creditor_available"
RAIL_EUR: Final = "operator/EUR/rail_settlement"
FEES_EUR: Final = "operator/EUR/fees"
EUR_DEPOSITS: Final = 100_060_000
IBAN: Final = commit("iban:FR7630006000011234567890189")
BIGINT: Final = limits.integer_max


@pytest.fixture(scope="module")
def built() -> World:
    return World()


@pytest.fixture
def world(built: World) -> World:
    """A fresh copy of the module's world for each test."""
    return copy.deepcopy(built)


def code_of(outcome: Decided | Rejection) -> str:
    """The answer's code name: the withdrawals core's (inside ``withdrawal_refused``), the
    shell's, or the first result's (``ok``, ``exists``)."""
    if isinstance(outcome, Rejection):
        if outcome.code is Code.withdrawal_refused:
            return outcome.detail.split(":")[0].split(" ")[0]
        return outcome.code.name
    return outcome.results[0].code.name if outcome.results else "ok"


def request(
    ident: str = "w-1", creditor: str = "alice", amount: int = 250_000, *, rail: str = "sepa",
    asset: str = "EUR", beneficiary: str = IBAN, fee: int | None = None,
) -> RequestWithdrawal:  # fmt: skip
    return RequestWithdrawal(ident, creditor, rail, asset, amount, beneficiary, fee)


def types(world: World, since: int) -> list[str]:
    return [kind for kind, *_ in world.log[since:]]


# The event types --------------------------------------------------------------------------------


def test_event_types_and_who_signs_them() -> None:
    assert {k: (sorted(v), sorted(r)) for k, (v, r) in WITHDRAWAL_EVENT_TYPES.items()} == {
        "withdrawal.fees_set": ([1], ["admin"]),
        "withdrawal.requested": ([1, 2], ["gateway", "self"]),
        "withdrawal.confirmed": ([1], ["treasury"]),
        "withdrawal.failed": ([1], ["treasury"]),
        "destination.added": ([1], ["gateway"]),
        "destination.confirmed": ([1], ["gateway"]),
        "destination.removed": ([1], ["admin", "gateway"]),
    }


# The three endings ------------------------------------------------------------------------------


def test_request_then_confirm_moves_amount_to_the_rail_and_fee_to_the_fees(world: World) -> None:
    """€2,500.00 by SEPA: fee €13.00 (above €2,000, up to €50,000). The request reserves
    €2,513.00; the confirmation posts €2,500.00 to the rail and €13.00 to the fees."""
    since = len(world.log)
    assert code_of(world.run(request("w-1", amount=250_000), "alice")) == "ok"
    assert types(world, since) == ["withdrawal.requested"]
    assert world.balances(ALICE_EUR) == (0, 100_000_000, 251_300, 0)
    assert world.available(ALICE_EUR) == 99_748_700
    assert world.balances(RAIL_EUR) == (EUR_DEPOSITS, 0, 0, 250_000)
    assert world.balances(FEES_EUR) == (0, 0, 0, 1_300)
    ledger = world.state.ledger
    amount, fee = ledger.transfers["wd:w-1"], ledger.transfers["wd:w-1:fee"]
    assert (amount.transfer.kind, amount.transfer.code, amount.transfer.amount_minor) == (
        "pending",
        "withdrawal",
        250_000,
    )
    assert (fee.transfer.code, fee.transfer.amount_minor, dict(fee.transfer.refs)) == (
        "fee",
        1_300,
        {"withdrawal": "w-1"},
    )
    assert amount.created_at == "2025-06-02T09:00:53.000000Z"
    assert amount.expires_at == fee.expires_at == "2025-06-16T09:00:53.000000Z"
    assert status_of(world.state.withdrawals, ledger, "w-1") == "requested"

    assert code_of(world.run(ConfirmWithdrawal("w-1", "NOTPROVIDED/E2E-w-1"), "treasury")) == "ok"
    assert world.balances(ALICE_EUR) == (251_300, 100_000_000, 0, 0)
    assert world.balances(RAIL_EUR) == (EUR_DEPOSITS, 250_000, 0, 0)
    assert world.balances(FEES_EUR) == (0, 1_300, 0, 0)
    assert ledger.transfers["wd:w-1:post"].status == "posted"
    assert ledger.transfers["wd:w-1:fee:post"].status == "posted"
    assert status_of(world.state.withdrawals, ledger, "w-1") == "confirmed"
    assert world.state.entity("withdrawal/w-1") == {
        "creditor": "alice", "rail": "sepa", "asset": "EUR", "amount_minor": "250000",
        "fee_minor": "1300", "beneficiary": IBAN, "jurisdiction": "FR",
        "requested_at": "2025-06-02T09:00:53.000000Z",
        "expires_at": "2025-06-16T09:00:53.000000Z", "status": "confirmed",
        "settled_at": "2025-06-02T09:00:54.000000Z", "rail_reference": "NOTPROVIDED/E2E-w-1",
        "reason": "",
    }  # fmt: skip
    assert world.replayed().snapshot() == world.state.snapshot()


def test_request_then_fail_gives_every_cent_back(world: World) -> None:
    """€60,000.00: fee €13.00 + 0.1% of the €10,000.00 above €50,000 = €23.00; the bank fails
    it (account closed): both reservations are voided and alice has €1,000,000.00 again."""
    assert code_of(world.run(request("w-2", amount=6_000_000), "alice")) == "ok"
    assert world.balances(ALICE_EUR) == (0, 100_000_000, 6_002_300, 0)
    assert world.balances(FEES_EUR) == (0, 0, 0, 2_300)
    assert code_of(world.run(FailWithdrawal("w-2", "account_closed"), "treasury")) == "ok"
    assert world.balances(ALICE_EUR) == (0, 100_000_000, 0, 0)
    assert world.available(ALICE_EUR) == 100_000_000
    assert world.balances(RAIL_EUR) == (EUR_DEPOSITS, 0, 0, 0)
    assert world.balances(FEES_EUR) == (0, 0, 0, 0)
    ledger = world.state.ledger
    assert [ledger.transfers[i].status for i in ("wd:w-2", "wd:w-2:fee")] == [VOIDED, VOIDED]
    assert [ledger.transfers[i].transfer.kind for i in ("wd:w-2:void", "wd:w-2:fee:void")] == [
        "void_pending", "void_pending"
    ]  # fmt: skip
    w = world.state.withdrawals.withdrawals["w-2"]
    assert (w.status, w.reason, w.rail_reference) == ("failed", "account_closed", "")
    assert world.replayed().snapshot() == world.state.snapshot()


def test_request_then_expiry_by_the_ledger_sweep(world: World) -> None:
    """€2,000.00 by SEPA (fee €8.00), never confirmed: 14 days later the ledger's sweep expires
    both reservations; the withdrawal reads ``expired`` and can no longer be settled."""
    assert code_of(world.run(request("w-3", amount=200_000), "alice")) == "ok"
    requested = world.now
    assert world.balances(ALICE_EUR) == (0, 100_000_000, 200_800, 0)
    early = world.run(ExpirePending(), "treasury", at=requested + timedelta(days=14, seconds=-1))
    assert isinstance(early, Decided)
    assert early.events == []
    since = len(world.log)
    swept = world.run(ExpirePending(), "treasury", at=requested + timedelta(days=14))
    assert isinstance(swept, Decided)
    assert types(world, since) == ["ledger.pending_expired"]
    assert world.log[-1][4] == {"transfers": ["wd:w-3", "wd:w-3:fee"]}
    assert world.balances(ALICE_EUR) == (0, 100_000_000, 0, 0)
    assert world.balances(FEES_EUR) == (0, 0, 0, 0)
    withdrawals, ledger = world.state.withdrawals, world.state.ledger
    assert status_of(withdrawals, ledger, "w-3") == "expired"
    assert withdrawals.withdrawals["w-3"].status == "requested"  # what its own events recorded
    assert code_of(world.run(ConfirmWithdrawal("w-3", "E2E"), "treasury")) == "withdrawal_expired"
    assert code_of(world.run(FailWithdrawal("w-3", "other"), "treasury")) == "withdrawal_expired"
    assert world.replayed().snapshot() == world.state.snapshot()


def test_at_the_deadline_before_the_sweep_settling_is_too_late(world: World) -> None:
    assert code_of(world.run(request("w-4", amount=200_000), "alice")) == "ok"
    deadline = world.now + timedelta(days=14)
    late = world.run(ConfirmWithdrawal("w-4", "E2E"), "treasury", at=deadline)
    assert code_of(late) == "withdrawal_expired"
    assert status_of(world.state.withdrawals, world.state.ledger, "w-4") == "requested"


def test_other_rails_and_the_gateway(world: World) -> None:
    """bob wires $500.00 from HK ($25.00 flat); carol (FR + HK) may use only the rail both
    allow, USDC (1.000000 flat); the portal gateway may sign a creditor's request."""
    assert code_of(world.run(request("h-1", "bob", 50_000, rail="hk_wire", asset="USD"),
                             "bob")) == "ok"  # fmt: skip
    assert world.balances("bob/USD/creditor_available") == (0, 1_000_000, 52_500, 0)
    assert world.balances("operator/USD/fees") == (0, 0, 0, 2_500)
    assert code_of(world.run(request("c-1", "carol", 200), "carol")) == "rail_not_allowed"
    usdc = request("c-2", "carol", 20_000_000, rail="usdc", asset="USDC")
    assert code_of(world.run(usdc, "gateway")) == "ok"
    assert world.state.withdrawals.withdrawals["c-2"].jurisdiction == "FR+HK"
    assert world.balances("carol/USDC/creditor_available") == (0, 100_000_000, 21_000_000, 0)


# Idempotent retries -----------------------------------------------------------------------------

#: (command, signer, expected code, events appended), in order, from the world.
RETRIES: Final[tuple[tuple[Any, str, str, tuple[str, ...]], ...]] = (
    (request("r-1"), "alice", "ok", ("withdrawal.requested",)),
    (request("r-1"), "alice", "exists", ()),
    (request("r-1", fee=1_300), "alice", "exists", ()),
    (request("r-1", amount=250_001), "alice", "exists_with_different_fields", ()),
    (request("r-1", beneficiary=commit("iban:other")), "alice", "exists_with_different_fields", ()),
    (request("r-1", fee=800), "alice", "exists_with_different_fields", ()),
    (request("r-1", rail="usdc", asset="USDC"), "alice", "exists_with_different_fields", ()),
    (ConfirmWithdrawal("r-1", "BANK-REF-1"), "treasury", "ok", ("withdrawal.confirmed",)),
    (ConfirmWithdrawal("r-1", "BANK-REF-1"), "treasury", "exists", ()),
    (ConfirmWithdrawal("r-1", "BANK-REF-2"), "treasury", "withdrawal_already_confirmed", ()),
    (FailWithdrawal("r-1", "returned_by_bank"), "treasury", "withdrawal_already_confirmed", ()),
    (request("r-2"), "alice", "ok", ("withdrawal.requested",)),
    (FailWithdrawal("r-2", "account_invalid"), "treasury", "ok", ("withdrawal.failed",)),
    (FailWithdrawal("r-2", "account_invalid"), "treasury", "exists", ()),
    (FailWithdrawal("r-2", "other"), "treasury", "withdrawal_already_failed", ()),
    (ConfirmWithdrawal("r-2", "BANK-REF-3"), "treasury", "withdrawal_already_failed", ()),
    (request("r-2"), "alice", "exists", ()),
)


def test_retries_get_the_first_answer_and_append_nothing(world: World) -> None:
    for command, signer, expected, appended in RETRIES:
        since = len(world.log)
        before = world.state.snapshot()
        assert code_of(world.run(command, signer)) == expected, command
        assert tuple(types(world, since)) == appended, command
        if not appended:
            assert world.state.snapshot() == before, command
    # alice paid r-1 (€2,500.00 + €13.00) once; r-2 came back.
    assert world.balances(ALICE_EUR) == (251_300, 100_000_000, 0, 0)
    assert world.replayed().snapshot() == world.state.snapshot()


# Every refusal of a request, through the shell ---------------------------------------------------

#: (label, command, signer, expected code). Each runs on a fresh copy of the world.
REQUEST_REFUSALS: Final[tuple[tuple[str, RequestWithdrawal, str, str], ...]] = (
    ("id with a space", request("w 1"), "alice", "withdrawal_id_malformed"),
    ("id with an underscore", request("w_1"), "alice", "withdrawal_id_malformed"),
    ("id of 36 characters", request("w" * 36), "alice", "withdrawal_id_malformed"),
    ("id with a colon", request("w:1"), "alice", "withdrawal_id_malformed"),
    ("unknown rail", request(rail="swift"), "alice", "rail_unknown"),
    ("sepa in USD", request(asset="USD"), "alice", "asset_not_served_by_rail"),
    ("zero", request(amount=0), "alice", "amount_out_of_range"),
    ("negative", request(amount=-1), "alice", "amount_out_of_range"),
    ("beyond BIGINT", request(amount=BIGINT + 1), "alice", "amount_out_of_range"),
    ("negative fee", request(fee=-1), "alice", "fee_out_of_range"),
    ("amount + fee beyond BIGINT", request(amount=BIGINT), "alice", "fee_out_of_range"),
    (
        "IBAN in clear",
        request(beneficiary="FR7630006000011234567890189"),
        "alice",
        "beneficiary_malformed",
    ),
    ("upper-case hex", request(beneficiary=IBAN.upper()), "alice", "beneficiary_malformed"),
    ("KYC pending", request(creditor="gina", amount=1_000), "gina", "kyc_not_approved"),
    ("no linked claim", request(creditor="frank", amount=1_000), "frank", "jurisdiction_unknown"),
    ("sanctioned IR", request(creditor="dave", amount=1_000), "dave", "jurisdiction_sanctioned"),
    ("unlisted JP", request(creditor="erin", amount=1_000), "erin", "jurisdiction_unlisted"),
    ("restricted CN, no rail", request(creditor="mei", amount=1_000), "mei", "rail_not_allowed"),
    ("HK by sepa", request(creditor="bob", amount=1_000), "bob", "rail_not_allowed"),
    ("below €1.00", request(amount=99), "alice", "amount_below_minimum"),
    ("fee shown €8.01", request(amount=1_000, fee=801), "alice", "fee_mismatch"),
    ("no account", request(creditor="hana", amount=1_000), "hana", "account_not_found"),
    ("€1,000,000.00 + €353.00", request(amount=100_000_000), "alice", "insufficient_funds"),
    ("€999,647.01 + €353.00", request(amount=99_964_701), "alice", "insufficient_funds"),
    # The shell's rungs: who signs, for whom.
    ("bob signs for alice", request(), "bob", "actor_not_authorised"),
    ("treasury signs a request", request(), "treasury", "actor_not_authorised"),
    ("no such creditor", request(creditor="zed"), "gateway", "actor_unknown"),
    ("an operator as creditor", request(creditor="treasury"), "gateway", "actor_unknown"),
)


@pytest.mark.parametrize(
    ("command", "signer", "expected"),
    [case[1:] for case in REQUEST_REFUSALS],
    ids=[case[0] for case in REQUEST_REFUSALS],
)
def test_request_refusals(world: World, command: RequestWithdrawal, signer: str,
                          expected: str) -> None:  # fmt: skip
    before = world.state.snapshot()
    outcome = world.run(command, signer)
    assert code_of(outcome) == expected, outcome
    assert world.state.snapshot() == before


def test_exactly_all_that_is_available(world: World) -> None:
    """€999,647.00 + the €353.00 cap is alice's €1,000,000.00 to the cent."""
    assert code_of(world.run(request(amount=99_964_700), "alice")) == "ok"
    assert world.available(ALICE_EUR) == 0


def test_open_withdrawals_are_bounded(world: World) -> None:
    for n in range(16):
        usdc = request(f"u-{n}", amount=10_000_000, rail="usdc", asset="USDC")
        assert code_of(world.run(usdc, "alice")) == "ok"
    over = request("u-16", amount=10_000_000, rail="usdc", asset="USDC")
    assert code_of(world.run(over, "alice")) == "open_withdrawals_exceeded"
    assert code_of(world.run(FailWithdrawal("u-0", "cancelled"), "treasury")) == "ok"
    assert code_of(world.run(over, "alice")) == "ok"


def test_the_rail_cannot_send_more_than_came_in_through_it(world: World) -> None:
    """A second EUR settlement account that received nothing: the ledger's
    ``credits_must_not_exceed_debits`` refuses the reservation."""
    empty = Account.of(
        "bank2", "EUR", "rail_settlement", frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})
    )
    world.ok(OpenAccounts((empty,)), "treasury")
    world.ok(SetFees((SEPA._replace(settlement_account=empty.id),)), "admin")
    assert code_of(world.run(request(), "alice")) == "rail_funds_insufficient"


def test_the_ledger_has_the_last_word(world: World) -> None:
    """USDC deposits that bring the asset's total debits to BIGINT: alice's own balance allows
    the withdrawal, but the ledger refuses (``overflows_asset_total``) → ``ledger_refused``."""
    totals = world.state.ledger.totals["USDC"]
    room = BIGINT - totals.debits_posted - totals.debits_pending
    big = Transfer("dep-big", "operator/USDC/rail_settlement", "alice/USDC/creditor_available",
                   "USDC", room, "deposit")  # fmt: skip
    world.ok(CreateTransfers((big,)), "treasury")
    outcome = world.run(request(amount=10_000_000, rail="usdc", asset="USDC"), "alice")
    assert code_of(outcome) == "ledger_refused"
    assert isinstance(outcome, Rejection)
    assert "overflows_asset_total" in outcome.detail


# Refusals the shell never lets through, at the core ----------------------------------------------


def core_request(world: World, command: RequestWithdrawal, **state: Any) -> str:
    withdrawals = dataclasses.replace(world.state.withdrawals, **state)
    decision = decide_withdrawals(
        withdrawals, world.state.ledger, world.state.claims, command, world.now
    )
    if isinstance(decision, WithdrawalsRejection):
        return decision.code.name
    return decision.results[0].code.name


def test_core_refusals(world: World) -> None:
    assert core_request(world, request(creditor="Alice")) == "creditor_name_invalid"
    assert core_request(world, request(creditor="a" * 64)) == "creditor_name_invalid"
    no_sepa = {r: t for r, t in world.state.withdrawals.terms.items() if r != "sepa"}
    assert core_request(world, request(), terms=no_sepa) == "rail_not_configured"
    assert core_request(world, request()) == "ok"


# Confirmations and failures ---------------------------------------------------------------------

SETTLE_REFUSALS: Final[tuple[tuple[str, Any, str], ...]] = (
    ("malformed id", ConfirmWithdrawal("w 1", "REF"), "withdrawal_id_malformed"),
    ("reference with a space", ConfirmWithdrawal("s-1", "REF 1"), "rail_reference_malformed"),
    ("empty reference", ConfirmWithdrawal("s-1", ""), "rail_reference_malformed"),
    ("reference of 129", ConfirmWithdrawal("s-1", "R" * 129), "rail_reference_malformed"),
    ("free-text reason", FailWithdrawal("s-1", "the bank said no"), "reason_unknown"),
    ("unknown withdrawal", ConfirmWithdrawal("s-9", "REF"), "withdrawal_not_found"),
    ("unknown withdrawal failed", FailWithdrawal("s-9", "other"), "withdrawal_not_found"),
)


@pytest.mark.parametrize(
    ("command", "expected"), [c[1:] for c in SETTLE_REFUSALS], ids=[c[0] for c in SETTLE_REFUSALS]
)
def test_settle_refusals(world: World, command: Any, expected: str) -> None:
    assert code_of(world.run(request("s-1"), "alice")) == "ok"
    assert code_of(world.run(command, "treasury")) == expected


def test_only_treasury_settles(world: World) -> None:
    assert code_of(world.run(request("s-1"), "alice")) == "ok"
    for signer in ("alice", "gateway", "admin", "kyc"):
        assert code_of(world.run(ConfirmWithdrawal("s-1", "REF"), signer)) == (
            "actor_not_authorised"
        )
    assert code_of(world.run(SetFees((SEPA,)), "treasury")) == "actor_not_authorised"


def test_a_settlement_the_ledger_refuses(world: World) -> None:
    """The settle ladder's last rung: a (tampered) ledger whose fee reservation was voided
    behind the withdrawal's back refuses the post; the core answers ``ledger_refused``."""
    assert code_of(world.run(request("s-1"), "alice")) == "ok"
    ledger = copy.deepcopy(world.state.ledger)
    fee = ledger.transfers["wd:s-1:fee"]
    ledger.transfers["wd:s-1:fee"] = fee._replace(status=VOIDED)
    decision = decide_withdrawals(
        world.state.withdrawals, ledger, world.state.claims, ConfirmWithdrawal("s-1", "R"),
        world.now,
    )  # fmt: skip
    assert isinstance(decision, WithdrawalsRejection)
    assert decision.code is SettleCode.ledger_refused
    assert "pending_transfer_already_voided" in decision.detail


# Rail terms -------------------------------------------------------------------------------------


def terms(**changes: Any) -> RailTerms:
    schedule_changes = {k: changes.pop(k) for k in list(changes) if k in FeeSchedule._fields}
    return SEPA._replace(schedule=SEPA.schedule._replace(**schedule_changes), **changes)


FEES_REFUSALS: Final[tuple[tuple[str, tuple[RailTerms, ...], str], ...]] = (
    ("unknown rail", (terms(rail="ach"),), "rail_unknown"),
    ("sepa in USD", (terms(asset="USD"),), "asset_not_served_by_rail"),
    ("tiers descending", (terms(tiers=(FeeTier(500, 1), FeeTier(400, 2))),), "tiers_malformed"),
    ("tiers equal", (terms(tiers=(FeeTier(500, 1), FeeTier(500, 2))),), "tiers_malformed"),
    ("tier bound zero", (terms(tiers=(FeeTier(0, 1),)),), "tiers_malformed"),
    ("17 tiers", (terms(tiers=tuple(FeeTier(n + 1, 0) for n in range(17))),), "tiers_malformed"),
    ("negative tier fee", (terms(tiers=(FeeTier(500, -1),)),), "fee_out_of_range"),
    ("negative fixed", (terms(above_fixed_minor=-1),), "fee_out_of_range"),
    ("cap beyond BIGINT", (terms(cap_minor=BIGINT + 1),), "fee_out_of_range"),
    ("bps 10,001", (terms(above_bps=10_001),), "bps_out_of_range"),
    ("bps negative", (terms(above_bps=-1),), "bps_out_of_range"),
    ("base 'total'", (terms(above_base="total"),), "base_unknown"),
    ("cap below fixed", (terms(cap_minor=1_299),), "cap_below_fixed"),
    ("minimum zero", (terms(minimum_minor=0),), "minimum_out_of_range"),
    ("timeout zero", (terms(timeout_seconds=0),), "timeout_out_of_range"),
    ("timeout over a year", (terms(timeout_seconds=366 * 86_400 + 1),), "timeout_out_of_range"),
    ("no settlement account", (terms(settlement_account="bank9/EUR/rail_settlement"),),
     "settlement_account_invalid"),
    ("settlement is the fees", (terms(settlement_account=FEES_EUR),),
     "settlement_account_invalid"),
    ("settlement in USD", (terms(settlement_account="operator/USD/rail_settlement"),),
     "settlement_account_invalid"),
    ("fee account is a creditor's", (terms(fee_account=ALICE_EUR),), "fee_account_invalid"),
    ("fee account in USDC", (terms(fee_account="operator/USDC/fees"),), "fee_account_invalid"),
    ("sepa twice", (terms(minimum_minor=200), terms(minimum_minor=300)), "rail_duplicated"),
    ("nine rails", tuple(terms(minimum_minor=n + 1) for n in range(9)), "batch_too_large"),
)  # fmt: skip


@pytest.mark.parametrize(
    ("given", "expected"), [c[1:] for c in FEES_REFUSALS], ids=[c[0] for c in FEES_REFUSALS]
)
def test_fees_refusals(world: World, given: tuple[RailTerms, ...], expected: str) -> None:
    assert code_of(world.run(SetFees(given), "admin")) == expected


def test_setting_fees(world: World) -> None:
    """The same terms again are ``exists`` (no event); changed terms replace the rail's; the
    next request pays the new fee; ``whole`` is expressible."""
    since = len(world.log)
    outcome = world.run(SetFees((HK_WIRE, SEPA, USDC)), "admin")
    assert isinstance(outcome, Decided)
    assert [r.code.name for r in outcome.results] == ["exists", "exists", "exists"]
    assert types(world, since) == []
    whole = terms(above_base=WHOLE)
    outcome = world.run(SetFees((USDC, whole)), "admin")
    assert isinstance(outcome, Decided)
    assert [r.code.name for r in outcome.results] == ["exists", "ok"]
    assert world.log[-1][4]["terms"][0]["above_base"] == "whole"  # type: ignore[index]
    assert code_of(world.run(request("f-1", amount=5_000_001, fee=1_301), "alice")) == (
        "fee_mismatch"
    )
    assert code_of(world.run(request("f-1", amount=5_000_001, fee=6_301), "alice")) == "ok"
    assert world.state.withdrawals.withdrawals["f-1"].fee_minor == 6_301
    assert world.state.entity("fee_schedule/sepa") == {
        "rail": "sepa", "asset": "EUR",
        "tiers": [{"up_to_minor": "200000", "fee_minor": "800"},
                  {"up_to_minor": "5000000", "fee_minor": "1300"}],
        "above_fixed_minor": "1300", "above_bps": "10", "above_base": "whole",
        "cap_minor": "35300", "minimum_minor": "100", "timeout_seconds": "1209600",
        "settlement_account": RAIL_EUR, "fee_account": FEES_EUR,
        "set_at": world.state.withdrawals.terms["sepa"].set_at,
    }  # fmt: skip


def test_settling_uses_the_accounts_of_the_reservation(world: World) -> None:
    """Terms changed between request and confirmation: the posts follow the pending
    transfers, not the new terms."""
    assert code_of(world.run(request("t-1"), "alice")) == "ok"
    other = Account.of(
        "bank2", "EUR", "rail_settlement", frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})
    )
    fees2 = Account.of("bank2", "EUR", "fees", frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS}))
    world.ok(OpenAccounts((other, fees2)), "treasury")
    world.ok(SetFees((SEPA._replace(settlement_account=other.id, fee_account=fees2.id),)),
             "admin")  # fmt: skip
    assert code_of(world.run(ConfirmWithdrawal("t-1", "REF"), "treasury")) == "ok"
    assert world.balances(RAIL_EUR) == (EUR_DEPOSITS, 250_000, 0, 0)
    assert world.balances(other.id) == (0, 0, 0, 0)


# The verifier's side: logged events that must be refused ---------------------------------------


def logged(world: World, kind: str, payload: dict[str, Any], actor: str) -> Rejection | None:
    """``check`` of an event of ``kind`` at the version ``decide`` writes."""
    event = Event(kind, WRITTEN_VERSIONS.get(kind, 1), "2025-06-03T00:00:00.000000Z", actor,
                  world.state.actors[actor].live_keys()[0], payload)  # fmt: skip
    return check(world.state, event)


GOOD_REQUEST: Final = {
    "withdrawal_id": "v-1", "creditor": "alice", "rail": "sepa", "asset": "EUR",
    "amount_minor": "250000", "fee_minor": "1300", "beneficiary": IBAN,
}  # fmt: skip


def test_check_refuses_what_decide_would_not_have_made(world: World) -> None:
    assert logged(world, "withdrawal.requested", GOOD_REQUEST, "alice") is None
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        ("withdrawal.requested", {**GOOD_REQUEST, "fee_minor": "800"}, "alice", "fee_mismatch"),
        ("withdrawal.requested", {**GOOD_REQUEST, "fee_minor": "01300"}, "alice",
         "payload_malformed"),
        ("withdrawal.requested", {**GOOD_REQUEST, "extra": "x"}, "alice", "payload_malformed"),
        ("withdrawal.requested", {**GOOD_REQUEST, "amount_minor": 2.5}, "alice",
         "payload_malformed"),
        ("withdrawal.confirmed", {"withdrawal_id": "v-1", "rail_reference": "R"}, "treasury",
         "withdrawal_not_found"),
        ("withdrawal.failed", {"withdrawal_id": "v-1"}, "treasury", "payload_malformed"),
        ("withdrawal.fees_set", {"terms": []}, "admin", "payload_malformed"),
        ("withdrawal.fees_set", {"terms": [{"rail": "sepa"}]}, "admin", "payload_malformed"),
    ]  # fmt: skip
    for kind, payload, actor, expected in cases:
        refused = logged(world, kind, payload, actor)
        assert refused is not None, (kind, payload)
        assert code_of(refused) == expected, (payload, refused)
    assert code_of(world.run(request("v-1"), "alice")) == "ok"
    again = logged(world, "withdrawal.requested", GOOD_REQUEST, "alice")
    assert again is not None
    assert code_of(again) == "exists", "a logged event must change something"
    sepa_again = {"terms": [dict(world.state.withdrawals.entity("fee_schedule/sepa"))]}  # type: ignore[arg-type]
    del sepa_again["terms"][0]["set_at"]
    refused = logged(world, "withdrawal.fees_set", sepa_again, "admin")
    assert refused is not None
    assert code_of(refused) == "exists"


def test_check_refuses_unsorted_terms_and_unknown_types(world: World) -> None:
    decision = decide_withdrawals(world.state.withdrawals, world.state.ledger,
                                  world.state.claims, SetFees((terms(minimum_minor=200),
                                                               USDC._replace(minimum_minor=1))),
                                  world.now)  # fmt: skip
    assert isinstance(decision, Decision)
    ((_, payload),) = decision.events
    assert [t["rail"] for t in payload["terms"]] == ["sepa", "usdc"]  # type: ignore[index,union-attr]
    payload = {"terms": list(reversed(payload["terms"]))}  # type: ignore[arg-type]
    args = (world.state.withdrawals, world.state.ledger, world.state.claims)
    refused = check_withdrawals(
        *args, "withdrawal.fees_set", payload, "2025-06-03T00:00:00.000000Z"
    )
    assert refused is not None
    assert refused.code is EventCode.payload_malformed
    unknown = check_withdrawals(*args, "withdrawal.nope", {}, "2025-06-03T00:00:00.000000Z")
    assert unknown is not None
    assert unknown.code is EventCode.event_type_unknown


def test_ledger_commands_may_not_touch_a_withdrawals_transfers(world: World) -> None:
    """``wd:`` transfer ids are reserved: a treasury posting a withdrawal's reservation by a
    plain ledger command (or a logged ledger event doing it) is refused, so the withdrawal's
    status and its transfers never disagree."""
    assert code_of(world.run(request("g-1"), "alice")) == "ok"
    post = Transfer("wd:g-1:post", "", "", "", 0, "withdrawal", kind="post_pending",
                    pending_id="wd:g-1")  # fmt: skip
    assert code_of(world.run(CreateTransfers((post,)), "treasury")) == "transfer_id_reserved"
    sneak = Transfer("x-1", ALICE_EUR, RAIL_EUR, "EUR", 1, "withdrawal", kind="post_pending",
                     pending_id="wd:g-1")  # fmt: skip
    refused = world.run(CreateTransfers((sneak,)), "treasury")
    assert isinstance(refused, Rejection)
    assert refused.code is Code.withdrawal_refused
    assert (
        refused.detail == "transfer_id_reserved: 'wd:g-1' moves only with its withdrawal's events"
    )
    payload = {"atomic": False, "transfers": [{"id": "wd:zz", "pending_id": ""}]}
    event_refused = logged(world, "ledger.transfers_created", payload, "treasury")
    assert event_refused is not None
    assert event_refused.code is Code.withdrawal_refused


# Every code has a test --------------------------------------------------------------------------


def test_every_code_is_exercised() -> None:
    request_codes = {c[3] for c in REQUEST_REFUSALS} | {
        "ok", "exists", "exists_with_different_fields", "creditor_name_invalid",
        "rail_not_configured", "open_withdrawals_exceeded", "rail_funds_insufficient",
        "ledger_refused",
        # tests/scenarios/test_destination_scenarios.py
        "destination_not_confirmed", "destination_cooling_off",
    }  # fmt: skip
    assert {c.name for c in RequestCode} <= request_codes
    fees_codes = {c[2] for c in FEES_REFUSALS} | {"ok", "exists"}
    assert {c.name for c in FeesCode} <= fees_codes
    settle_codes = {c[2] for c in SETTLE_REFUSALS} | {
        "ok", "exists", "withdrawal_already_confirmed", "withdrawal_already_failed",
        "withdrawal_expired", "ledger_refused",
    }  # fmt: skip
    assert {c.name for c in SettleCode} <= settle_codes
    assert {c.name for c in EventCode} <= {
        "ok",
        "event_type_unknown",
        "payload_malformed",
        "batch_too_large",
        "event_version_retired",  # tests/scenarios/test_destination_scenarios.py
        "transfer_id_reserved",  # test_ledger_commands_may_not_touch_a_withdrawals_transfers
    }
    assert EXCESS == "excess"
