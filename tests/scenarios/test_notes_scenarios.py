"""Scenario tables of recovery notes through the real machine: conversion (notes minted, the
evidence of transfer in the event, every refusal), pass-through at a record position (largest
remainder, ties by account id, notes in resting orders counted, buyers after the record date
not), and the guard that keeps notes off plain ledger transfers.

The world is ``tests/support/market_world.py`` (mei and alice converted M1 and A1, 1,000,000
note units each; FTX5A_USD open). The holding entity's cash comes in by a treasury deposit here
(``fund_holding``); ``test_notes_story.py`` pays it by real distribution rounds.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, Final

import pytest

from reclaim.core.claims import AmendClaims, Amendment, DecideKyc
from reclaim.core.distribution.commands import AssignClaim
from reclaim.core.ledger import Account, CreateTransfers, OpenAccounts, Transfer
from reclaim.core.ledger.model import DEBITS_MUST_NOT_EXCEED_CREDITS, POSTED
from reclaim.core.market import OrderRequest, OrderType, PlaceOrders, Side
from reclaim.core.notes import ConvertClaim, ConvertCode, GuardCode, PassCode, PassThrough
from reclaim.core.rejections import Code, Rejection
from tests.support.core_harness import Event, State, check, replay
from tests.support.market_world import HOLDING, NOTE, SYMBOL, MarketWorld
from tests.support.withdrawal_world import commit

USD: Final = "USD"
HOLDING_USD: Final = f"{HOLDING}/USD/creditor_available"
D: Final = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})


@pytest.fixture(scope="module")
def built() -> MarketWorld:
    return MarketWorld()


@pytest.fixture
def world(built: MarketWorld) -> Iterator[MarketWorld]:
    w = copy.deepcopy(built)
    yield w
    assert w.replayed().snapshot() == w.state.snapshot(), "replay reaches another state"


def refused(w: MarketWorld, command: object, actor: str) -> Rejection:
    size, before = len(w.log), w.state.snapshot()
    answer = w.run(command, actor)  # type: ignore[arg-type]
    assert isinstance(answer, Rejection), answer
    assert len(w.log) == size, "a refusal appended an event"
    assert w.state.snapshot() == before, "a refusal changed the state"
    return answer


def fund_holding(w: MarketWorld, amount: int) -> None:
    """The round's payment for the series arrives at the holding entity (a deposit here)."""
    account = Account.of(HOLDING, USD, "creditor_available", D)
    w.ok(OpenAccounts((account,)), "treasury")
    w.ok(CreateTransfers((Transfer(f"round-{amount}", "operator/USD/rail_settlement", HOLDING_USD,
                                   USD, amount, "distribution"),)), "treasury")  # fmt: skip


def sell(w: MarketWorld, seller: str, buyer: str, steps: int, price: int) -> None:
    ask = OrderRequest(SYMBOL, Side.Ask, OrderType.Limit, quantity_steps=steps, price_ticks=price)
    bid = OrderRequest(SYMBOL, Side.Bid, OrderType.Limit, quantity_steps=steps, price_ticks=price)
    w.ok(PlaceOrders(seller, (ask,)), seller)
    w.ok(PlaceOrders(buyer, (bid,)), buyer)


# Conversion ---------------------------------------------------------------------------------------


def test_a_restricted_creditor_converts_a_claim_into_notes(world: MarketWorld) -> None:
    """mei (CN) assigned M1, admitted at $10,000.00: 1,000,000 note units, minted from the
    holding entity's issuing account; the event carries Form 2100A's fields."""
    assert world.held("mei", NOTE) == 1_000_000
    issuing = world.state.ledger.accounts[f"{HOLDING}/{NOTE}/holding_entity"]
    assert issuing.balances() == (2_000_000, 0, 0, 0)
    (event,) = [e for e in world.log if e[0] == "notes.claim_converted" and e[2] == "mei"]
    assert event[4] == {
        "creditor": "mei", "series": "FTX5A", "notes": "1000000",
        "evidence": {"transferor": "mei", "transferee": HOLDING, "claim_id": "M1",
                     "estate": "ftx", "amount_minor": "1000000", "claim_filed_date": "2022-11-11",
                     "transfer_date": "2025-06-02"},
    }  # fmt: skip
    record = world.state.ledger.transfers[f"nc:{world.state.notes.conversions['M1'].sequence}"]
    assert (record.status, record.transfer.amount_minor) == (POSTED, 1_000_000)


def test_a_conversions_result_is_the_notes_minted(world: MarketWorld) -> None:
    decided = world.ok(ConvertClaim("FTX5A", "B1", "bob", "2025-06-03"), "bob")
    assert decided.results == (1_000_000,)
    assert world.held("bob", NOTE) == 1_000_000


def test_converting_the_same_claim_twice_is_refused(world: MarketWorld) -> None:
    answer = refused(world, ConvertClaim("FTX5A", "M1", "mei", "2025-06-03"), "mei")
    assert answer.reason is ConvertCode.claim_already_assigned


def test_a_claim_assigned_on_the_register_is_refused(world: MarketWorld) -> None:
    world.ok(AssignClaim("B1", HOLDING, "2025-06-02", commit("evidence")), "admin")
    answer = refused(world, ConvertClaim("FTX5A", "B1", "bob", "2025-06-03"), "bob")
    assert answer.reason is ConvertCode.claim_already_assigned


@pytest.mark.parametrize(
    ("status", "code"),
    [("disputed", ConvertCode.claim_disputed), ("expunged", ConvertCode.claim_expunged)],
)
def test_a_disputed_or_expunged_claim_is_refused(
    world: MarketWorld, status: str, code: ConvertCode
) -> None:
    world.ok(AmendClaims("ftx", commit("register:v2"),
                         (Amendment("E1", "status", "allowed", status),)), "admin")  # fmt: skip
    answer = refused(world, ConvertClaim("FTX5A", "E1", "erin", "2025-06-03"), "erin")
    assert answer.reason is code


def test_conversion_refusals_of_who_asks(world: MarketWorld) -> None:
    assert refused(world, ConvertClaim("FTX5A", "B1", "mei", "2025-06-03"), "mei").reason is (
        ConvertCode.claim_linked_to_other
    )
    assert refused(world, ConvertClaim("FTX5A", "G1", "gina", "2025-06-03"), "gina").reason is (
        ConvertCode.claim_not_linked
    )
    assert refused(world, ConvertClaim("FTX5A", "B1", "bob", "2025-06-03"), "mei").code is (
        Code.actor_not_authorised
    )
    assert refused(world, ConvertClaim("FTX5B", "B1", "bob", "2025-06-03"), "bob").reason is (
        ConvertCode.series_not_found
    )
    world.ok(DecideKyc("erin", "resubmission_requested", "manual", "case-erin",
                       "document_expired", ""), "kyc")  # fmt: skip
    assert refused(world, ConvertClaim("FTX5A", "E1", "erin", "2025-06-03"), "erin").reason is (
        ConvertCode.kyc_not_verified
    )


# Pass-through -------------------------------------------------------------------------------------


def test_a_pass_through_splits_by_largest_remainder_at_the_record_position(
    world: MarketWorld,
) -> None:
    """mei sells $100 of face (10,000 units) to bob, then rests an ask of 5,000 units; the
    record position is then. Holdings: alice 1,000,000 · mei 990,000 (5,000 of them locked in
    the resting ask) · bob 10,000 = 2,000,000. 1,001 cents: exact shares 500.5 · 495.495 ·
    5.005 → 500 · 495 · 5 = 1,000, the cent left goes to the largest remainder (alice's .5)."""
    sell(world, "mei", "bob", 100, 72)
    ask = OrderRequest(SYMBOL, Side.Ask, OrderType.Limit, quantity_steps=50, price_ticks=99)
    world.ok(PlaceOrders("mei", (ask,)), "mei")
    record = world.state.events - 1
    sell(world, "alice", "bob", 100, 72)  # after the record position: not counted
    fund_holding(world, 1_001)
    before = {n: world.held(n, USD) for n in ("alice", "mei", "bob")}
    decided = world.ok(PassThrough("FTX5A", "r2", 1_001, record, "2025-06-02"), HOLDING)
    assert decided.results == (("alice", 501), ("bob", 5), ("mei", 495))
    after = {n: world.held(n, USD) - before[n] for n in ("alice", "mei", "bob")}
    assert after == {"alice": 501, "mei": 495, "bob": 5}
    assert world.held(HOLDING, USD) == 0
    assert world.state.notes.passed_minor["FTX5A"] == 1_001


def test_ties_go_to_the_lower_account_id(world: MarketWorld) -> None:
    """alice and mei hold 1,000,000 each: 1 cent goes to alice (``alice`` < ``mei``)."""
    fund_holding(world, 1)
    decided = world.ok(PassThrough("FTX5A", "r1", 1, world.state.events - 1, "2025-06-02"),
                       "treasury")  # fmt: skip
    assert decided.results == (("alice", 1), ("mei", 0))


def test_pass_through_refusals(world: MarketWorld) -> None:
    fund_holding(world, 100)
    record = world.state.events - 1
    assert refused(world, PassThrough("FTX5A", "r1", 101, record, "2025-06-02"), HOLDING).reason \
        is PassCode.funds_insufficient  # fmt: skip
    assert refused(world, PassThrough("FTX5A", "r1", 10, record, "2025-06-02"), "bob").code is (
        Code.actor_not_authorised
    )
    assert refused(world, PassThrough("FTX5A", "r1", 10, 10**9, "2025-06-02"), HOLDING).reason \
        is PassCode.record_sequence_out_of_range  # fmt: skip
    world.ok(PassThrough("FTX5A", "r1", 10, record, "2025-06-02"), HOLDING)
    assert refused(world, PassThrough("FTX5A", "r1", 11, record, "2025-06-02"), HOLDING).reason \
        is PassCode.pass_through_exists_with_different_fields  # fmt: skip
    size = len(world.log)
    world.ok(PassThrough("FTX5A", "r1", 10, record, "2025-06-02"), HOLDING)  # a retry: nothing
    assert len(world.log) == size


def test_holdings_before_any_conversion_receive_nothing(world: MarketWorld) -> None:
    fund_holding(world, 100)
    first = world.state.notes.conversions["M1"].sequence
    answer = refused(world, PassThrough("FTX5A", "r0", 100, first - 1, "2025-06-02"), HOLDING)
    assert answer.reason is PassCode.no_notes_outstanding


# The log: a replay re-decides every notes event -----------------------------------------------


def _before_and(w: MarketWorld, kind: str, actor: str) -> tuple[State, Event]:
    """The state just before the first logged ``kind`` event of ``actor``, and that event."""
    index = next(i for i, e in enumerate(w.log) if e[0] == kind and e[2] == actor)
    before = replay(Event(k, v, t, a, kid, p) for k, t, a, kid, p, v in w.log[:index])
    k, t, a, kid, p, v = w.log[index]
    return before, Event(k, v, t, a, kid, p)


def _with(event: Event, payload: dict[str, Any]) -> Event:
    return Event(event.type, event.version, event.time, event.actor, event.key_id, payload)


def test_an_edited_conversion_is_refused_on_replay(world: MarketWorld) -> None:
    before, event = _before_and(world, "notes.claim_converted", "mei")
    assert check(before, event) is None
    more = copy.deepcopy(event.payload)
    more["notes"] = "2000000"
    answer = check(before, _with(event, more))
    assert isinstance(answer, Rejection)
    assert answer.reason is GuardCode.payload_malformed
    extra = {**event.payload, "bonus": "1"}
    answer = check(before, _with(event, extra))
    assert isinstance(answer, Rejection)
    assert answer.reason is GuardCode.payload_malformed


def test_an_edited_pass_through_is_refused_on_replay(world: MarketWorld) -> None:
    fund_holding(world, 100)
    world.ok(PassThrough("FTX5A", "r1", 100, world.state.events - 1, "2025-06-02"), HOLDING)
    before, event = _before_and(world, "notes.passed_through", HOLDING)
    assert check(before, event) is None
    moved = {**event.payload, "record_sequence": "1"}  # before any note existed
    answer = check(before, _with(event, moved))
    assert isinstance(answer, Rejection)
    assert answer.reason is PassCode.no_notes_outstanding
