"""Scenario tables of the market through the real machine: reservations as pending ledger
transfers, fills as one chain (delivery versus payment), voids on cancel, close, STP and
time-in-force remainders; every refusal an attacker would try.

The world is ``tests/support/market_world.py``: FTX5A_USD open (a tick is a cent on the
dollar, a step is $1.00 of face = 100 note units, so one tick on one step is one cent), mei (CN,
restricted) and alice (FR) hold 1,000,000 NOTE-FTX5A each from their conversions, bob (HK) has
USD 10,000.00, carol (FR/HK) USD 100.00. Balances are ``(debits_posted, credits_posted,
debits_pending, credits_pending)``. After every command the machine's invariants hold (the
market's: every resting order has one pending transfer of exactly its reservation, the escrow's
posted balance is zero and its pending credits are the resting reservations); each test ends
with a replay of the whole log (``check`` on every event) to the same state.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Final

import pytest

from reclaim.core.ledger import Account, CreateTransfers, OpenAccounts, Transfer
from reclaim.core.ledger.model import PENDING, POSTED, VOIDED
from reclaim.core.market import (
    CancelAll,
    CancelCode,
    CancelOrder,
    EventCode,
    MarketStatus,
    OrderCode,
    OrderRequest,
    OrderStatus,
    OrderType,
    Placement,
    PlaceOrders,
    SelfTradePrevention,
    SetMarketStatus,
    Side,
    TimeInForce,
)
from reclaim.core.notes.codes import GuardCode
from reclaim.core.rejections import Code, Rejection
from tests.support.core_harness import Decided, Event, check, replay
from tests.support.market_world import (
    ESCROW_NOTE,
    ESCROW_USD,
    FEE_MARKET,
    NOTE,
    SYMBOL,
    MarketWorld,
)

USD: Final = "USD"
BID, ASK = Side.Bid, Side.Ask


@pytest.fixture(scope="module")
def built() -> MarketWorld:
    return MarketWorld()


@pytest.fixture
def world(built: MarketWorld) -> Iterator[MarketWorld]:
    w = copy.deepcopy(built)
    yield w
    replayed = w.replayed()
    assert replayed.snapshot() == w.state.snapshot(), "replay reaches another state"


def limit(side: Side, steps: int, price: int, **kw: object) -> OrderRequest:
    return OrderRequest(SYMBOL, side, OrderType.Limit, quantity_steps=steps, price_ticks=price,
                        **kw)  # type: ignore[arg-type]  # fmt: skip


def place(w: MarketWorld, trader: str, *orders: OrderRequest) -> tuple[Placement, ...]:
    decided = w.ok(PlaceOrders(trader, orders), trader)
    assert all(isinstance(r, Placement) for r in decided.results), decided.results
    return decided.results  # type: ignore[return-value]


def refused(w: MarketWorld, command: object, actor: str) -> Rejection:
    size = len(w.log)
    before = w.state.snapshot()
    answer = w.run(command, actor)  # type: ignore[arg-type]
    assert isinstance(answer, Rejection), answer
    assert len(w.log) == size, "a refusal appended an event"
    assert w.state.snapshot() == before, "a refusal changed the state"
    return answer


def transfer(w: MarketWorld, ident: str) -> tuple[str, int]:
    record = w.state.ledger.transfers[ident]
    return record.status, record.transfer.amount_minor


def escrows(w: MarketWorld) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    accounts = w.state.ledger.accounts
    return accounts[ESCROW_USD].balances(), accounts[ESCROW_NOTE].balances()


# Listing and reservations -------------------------------------------------------------------------


def test_listing_opened_the_escrow_accounts_empty(world: MarketWorld) -> None:
    assert escrows(world) == ((0, 0, 0, 0), (0, 0, 0, 0))
    assert world.held("mei", NOTE) == 1_000_000 == world.held("alice", NOTE)


def test_a_resting_ask_reserves_the_sellers_notes_as_a_pending_transfer(world: MarketWorld) -> None:
    (p,) = place(world, "mei", limit(ASK, 100, 72))
    assert p.status is OrderStatus.New
    assert transfer(world, f"mk:{p.order_id}") == (PENDING, 10_000)
    assert world.account("mei", NOTE) == (0, 1_000_000, 10_000, 0)
    assert escrows(world) == ((0, 0, 0, 0), (0, 0, 0, 10_000))
    assert world.state.market.pending == {p.order_id: (f"mk:{p.order_id}", 10_000)}


def test_a_resting_bid_reserves_the_buyers_cash(world: MarketWorld) -> None:
    (p,) = place(world, "bob", limit(BID, 100, 70))
    assert transfer(world, f"mk:{p.order_id}") == (PENDING, 7_000)
    assert world.free("bob", USD) == 1_000_000 - 7_000
    assert escrows(world) == ((0, 0, 0, 7_000), (0, 0, 0, 0))


# Fills: delivery versus payment -------------------------------------------------------------------


def test_a_fill_posts_both_legs_in_one_event(world: MarketWorld) -> None:
    (ask,) = place(world, "mei", limit(ASK, 100, 72))
    size = len(world.log)
    (bid,) = place(world, "bob", limit(BID, 100, 75))
    assert len(world.log) == size + 1, "one event: the order and its settlement"
    assert bid.status is OrderStatus.Filled
    (fill,) = bid.fills
    assert (fill.price_ticks, fill.notes, fill.cash_minor) == (72, 10_000, 7_200)
    m, b = ask.order_id, bid.order_id
    assert transfer(world, f"mk:{m}") == (POSTED, 10_000)
    assert transfer(world, f"mp:{b}:{m}") == (POSTED, 10_000)
    assert transfer(world, f"mt:{b}") == (POSTED, 7_200)
    assert transfer(world, f"mf:{b}:{m}:n") == (POSTED, 10_000)
    assert transfer(world, f"mf:{b}:{m}:c") == (POSTED, 7_200)
    assert f"mf:{b}:{m}:f" not in world.state.ledger.transfers, "no fee: the programme is free"
    assert world.held("mei", USD) == 7_200
    assert world.held("mei", NOTE) == 990_000
    assert world.held("bob", NOTE) == 10_000
    assert world.held("bob", USD) == 1_000_000 - 7_200
    assert escrows(world) == ((7_200, 7_200, 0, 0), (10_000, 10_000, 0, 0)), "back to zero"
    assert world.state.market.pending == {}, "no reservation left behind"
    (trade,) = world.state.market.trades[SYMBOL]
    assert trade.fill == fill
    assert trade.sequence == len(world.log) - 1


def test_a_partial_fill_posts_what_it_uses_and_re_reserves_the_rest(world: MarketWorld) -> None:
    (ask,) = place(world, "mei", limit(ASK, 100, 72))
    (bid,) = place(world, "bob", limit(BID, 40, 72))
    m, b = ask.order_id, bid.order_id
    assert transfer(world, f"mp:{b}:{m}") == (POSTED, 4_000)
    assert transfer(world, f"mk:{m}:{b}") == (PENDING, 6_000)
    assert world.account("mei", NOTE) == (4_000, 1_000_000, 6_000, 0)
    assert world.state.market.orders[m].remaining_steps == 60
    assert escrows(world)[1] == (4_000, 4_000, 0, 6_000)


def test_a_taker_bid_that_rests_after_filling_reserves_only_its_remainder(
    world: MarketWorld,
) -> None:
    (_ask,) = place(world, "mei", limit(ASK, 30, 72))
    (bid,) = place(world, "bob", limit(BID, 100, 75))
    assert bid.status is OrderStatus.PartiallyFilled
    assert transfer(world, f"mt:{bid.order_id}") == (POSTED, 30 * 72)
    assert transfer(world, f"mk:{bid.order_id}") == (PENDING, 70 * 75)
    assert world.free("bob", USD) == 1_000_000 - 30 * 72 - 70 * 75


def test_a_resting_bid_hit_by_a_lower_ask_fills_at_the_bids_price(world: MarketWorld) -> None:
    (bid,) = place(world, "bob", limit(BID, 100, 80))
    (ask,) = place(world, "mei", limit(ASK, 100, 70))
    assert ask.fills[0].price_ticks == 80
    assert transfer(world, f"mp:{ask.order_id}:{bid.order_id}") == (POSTED, 8_000)
    assert world.held("mei", USD) == 8_000
    assert world.held("bob", NOTE) == 10_000


def test_fees_are_paid_to_the_fee_owner_in_the_same_chain() -> None:
    """Maker 10 bps, taker 20 bps, each rounded up once per order: on 7,200 cents of cash the
    taker (bob) pays ⌈14.4⌉ = 15, the maker (mei) ⌈7.2⌉ = 8; the treasury receives 23."""
    world = MarketWorld(market=FEE_MARKET)
    (ask,) = place(world, "mei", limit(ASK, 100, 72))
    (bid,) = place(world, "bob", limit(BID, 100, 72))
    ref = f"mf:{bid.order_id}:{ask.order_id}"
    assert transfer(world, f"mt:{bid.order_id}") == (POSTED, 7_215)
    assert transfer(world, f"{ref}:c") == (POSTED, 7_192)
    assert transfer(world, f"{ref}:f") == (POSTED, 23)
    assert world.held("treasury", USD) == 23
    assert world.held("bob", USD) == 1_000_000 - 7_215
    assert escrows(world) == ((7_215, 7_215, 0, 0), (10_000, 10_000, 0, 0))
    assert world.replayed().snapshot() == world.state.snapshot()


def test_a_resting_bid_with_fees_reserves_its_cash_and_maker_fee() -> None:
    """Placed, a GTC Bid could take at the taker rate (7,200 + 15 checked against bob's
    cash); resting, it can only pay the maker rate: its pending transfer is 7,200 + ⌈7.2⌉."""
    world = MarketWorld(market=FEE_MARKET)
    (bid,) = place(world, "bob", limit(BID, 100, 72))
    assert (bid.reserved_minor, bid.released_minor) == (7_215, 7)
    assert transfer(world, f"mk:{bid.order_id}") == (PENDING, 7_208)
    (ask,) = place(world, "mei", limit(ASK, 100, 72))
    assert ask.fills[0].maker_fee_minor == 8
    assert ask.fills[0].taker_fee_minor == 15
    assert transfer(world, f"mp:{ask.order_id}:{bid.order_id}") == (POSTED, 7_208)
    assert world.held("bob", USD) == world.free("bob", USD) == 1_000_000 - 7_208
    assert world.held("mei", USD) == 7_200 - 15
    assert world.held("treasury", USD) == 23


# Voids --------------------------------------------------------------------------------------------


def test_a_cancel_voids_the_reservation(world: MarketWorld) -> None:
    (ask,) = place(world, "mei", limit(ASK, 100, 72))
    world.ok(CancelOrder("mei", SYMBOL, order_id=ask.order_id), "mei")
    assert transfer(world, f"mk:{ask.order_id}") == (VOIDED, 10_000)
    assert transfer(world, f"mv:{ask.order_id}")[0] == VOIDED
    assert world.account("mei", NOTE) == (0, 1_000_000, 0, 0)
    assert escrows(world) == ((0, 0, 0, 0), (0, 0, 0, 0))


def test_a_cancel_after_a_partial_fill_voids_the_re_reservation(world: MarketWorld) -> None:
    (ask,) = place(world, "mei", limit(ASK, 100, 72))
    (bid,) = place(world, "bob", limit(BID, 40, 72))
    world.ok(CancelAll("mei", SYMBOL), "mei")
    assert transfer(world, f"mk:{ask.order_id}:{bid.order_id}") == (VOIDED, 6_000)
    assert world.free("mei", NOTE) == 996_000 == world.held("mei", NOTE)


def test_closing_the_market_voids_every_resting_order(world: MarketWorld) -> None:
    (ask,) = place(world, "mei", limit(ASK, 100, 72))
    (bid,) = place(world, "bob", limit(BID, 50, 60))
    world.ok(SetMarketStatus(SYMBOL, MarketStatus.Closed), "admin")
    assert transfer(world, f"mk:{ask.order_id}")[0] == VOIDED
    assert transfer(world, f"mk:{bid.order_id}")[0] == VOIDED
    assert escrows(world) == ((0, 0, 0, 0), (0, 0, 0, 0))
    assert world.free("bob", USD) == 1_000_000


def test_self_trade_reject_maker_voids_the_makers_reservation(world: MarketWorld) -> None:
    place(world, "mei", limit(ASK, 100, 72))
    place(world, "bob", limit(BID, 100, 72))  # bob now holds 10,000 notes
    (own,) = place(world, "bob", limit(ASK, 50, 90))
    stp = SelfTradePrevention.RejectMaker
    (bid,) = place(world, "bob", limit(BID, 10, 95, self_trade_prevention=stp))
    assert [c.order_id for c in bid.maker_cancels] == [own.order_id]
    assert transfer(world, f"mk:{own.order_id}")[0] == VOIDED
    assert world.free("bob", NOTE) == 10_000
    assert transfer(world, f"mk:{bid.order_id}") == (PENDING, 950)


def test_an_ioc_remainder_expires_and_reserves_nothing(world: MarketWorld) -> None:
    place(world, "mei", limit(ASK, 100, 72))
    (bid,) = place(world, "bob", limit(BID, 250, 72, time_in_force=TimeInForce.IOC))
    assert bid.status is OrderStatus.Expired
    assert bid.executed_steps == 100
    assert f"mk:{bid.order_id}" not in world.state.ledger.transfers
    assert world.free("bob", USD) == world.held("bob", USD) == 1_000_000 - 7_200


def test_a_fok_that_cannot_fill_whole_moves_nothing(world: MarketWorld) -> None:
    place(world, "mei", limit(ASK, 100, 72))
    before = world.account("bob", USD), world.account("mei", NOTE)
    (bid,) = place(world, "bob", limit(BID, 101, 72, time_in_force=TimeInForce.FOK))
    assert bid.status is OrderStatus.Expired
    assert bid.fills == ()
    assert (world.account("bob", USD), world.account("mei", NOTE)) == before


def test_a_market_bid_by_quote_quantity_pays_exactly_its_fills(world: MarketWorld) -> None:
    place(world, "mei", limit(ASK, 100, 72))
    order = OrderRequest(SYMBOL, BID, OrderType.Market, quote_quantity_minor=1_000)
    (bid,) = place(world, "bob", order)
    assert bid.executed_steps == 13
    assert bid.executed_cash_minor == 13 * 72
    assert world.held("bob", USD) == 1_000_000 - 936
    assert world.free("bob", USD) == 1_000_000 - 936


def test_a_batch_settles_every_order_in_one_chain(world: MarketWorld) -> None:
    size = len(world.log)
    asks = place(world, "mei", limit(ASK, 10, 72), limit(ASK, 10, 73), limit(ASK, 10, 74))
    assert len(world.log) == size + 1
    assert sum(transfer(world, f"mk:{a.order_id}")[1] for a in asks) == 3_000
    (bid,) = place(world, "bob", limit(BID, 25, 74))
    assert [f.price_ticks for f in bid.fills] == [72, 73, 74]
    assert world.held("mei", USD) == 10 * 72 + 10 * 73 + 5 * 74


# Attackers ----------------------------------------------------------------------------------------


def test_a_trader_may_not_sign_anothers_order(world: MarketWorld) -> None:
    answer = refused(world, PlaceOrders("mei", (limit(ASK, 100, 1),)), "bob")
    assert answer.code is Code.actor_not_authorised


def test_selling_notes_one_does_not_hold_is_refused(world: MarketWorld) -> None:
    answer = refused(world, PlaceOrders("bob", (limit(ASK, 1, 72),)), "bob")
    assert answer.reason is OrderCode.insufficient_funds


def test_two_resting_asks_cannot_spend_the_same_notes(world: MarketWorld) -> None:
    place(world, "mei", limit(ASK, 6_000, 72))
    answer = refused(world, PlaceOrders("mei", (limit(ASK, 6_000, 73),)), "mei")
    assert answer.reason is OrderCode.insufficient_funds
    assert world.free("mei", NOTE) == 400_000


def test_a_batch_cannot_spend_the_same_notes_twice(world: MarketWorld) -> None:
    decided = world.ok(PlaceOrders("mei", (limit(ASK, 6_000, 72), limit(ASK, 6_000, 73))), "mei")
    placed, second = decided.results
    assert isinstance(placed, Placement)
    assert second.code is OrderCode.insufficient_funds
    assert world.free("mei", NOTE) == 400_000


def test_cancelling_anothers_order_is_refused(world: MarketWorld) -> None:
    (ask,) = place(world, "mei", limit(ASK, 100, 72))
    answer = refused(world, CancelOrder("bob", SYMBOL, order_id=ask.order_id), "bob")
    assert answer.reason is CancelCode.order_not_found
    answer = refused(world, CancelOrder("mei", SYMBOL, order_id=ask.order_id), "bob")
    assert answer.code is Code.actor_not_authorised
    assert transfer(world, f"mk:{ask.order_id}")[0] == PENDING


def test_buying_beyond_ones_cash_is_refused(world: MarketWorld) -> None:
    answer = refused(world, PlaceOrders("carol", (limit(BID, 200, 72),)), "carol")
    assert answer.reason is OrderCode.insufficient_funds


@pytest.mark.parametrize(
    ("trader", "code"),
    [("mei", OrderCode.buyer_not_allowed), ("dave", OrderCode.buyer_not_allowed),
     ("frank", OrderCode.buyer_not_allowed), ("gina", OrderCode.kyc_not_verified)],
)  # fmt: skip
def test_who_may_buy_follows_kyc_and_the_jurisdiction_policy(
    world: MarketWorld, trader: str, code: OrderCode
) -> None:
    """mei is in CN (restricted) and dave in IR (sanctioned); frank has no known jurisdiction;
    gina's KYC is pending. A restricted seller may still sell."""
    answer = refused(world, PlaceOrders(trader, (limit(BID, 1, 1),)), trader)
    assert answer.reason is code


def test_trading_while_cancel_only_is_refused_but_cancels_go_through(world: MarketWorld) -> None:
    (ask,) = place(world, "mei", limit(ASK, 100, 72))
    world.ok(SetMarketStatus(SYMBOL, MarketStatus.CancelOnly), "admin")
    answer = refused(world, PlaceOrders("bob", (limit(BID, 1, 72),)), "bob")
    assert answer.reason is OrderCode.market_cancel_only
    world.ok(CancelOrder("mei", SYMBOL, order_id=ask.order_id), "mei")
    assert world.free("mei", NOTE) == 1_000_000


def test_a_plain_ledger_transfer_of_notes_is_refused(world: MarketWorld) -> None:
    steal = Transfer("steal", "mei/NOTE-FTX5A/creditor_available",
                     "bob/NOTE-FTX5A/creditor_available", NOTE, 1, "correction")  # fmt: skip
    answer = refused(world, CreateTransfers((steal,)), "treasury")
    assert answer.reason is GuardCode.note_transfer_reserved
    trap = Account.of("carol", NOTE, "creditor_available")  # no flag: could go negative
    answer = refused(world, OpenAccounts((trap,)), "treasury")
    assert answer.reason is GuardCode.note_transfer_reserved


def test_plain_ledger_commands_may_not_touch_the_escrow(world: MarketWorld) -> None:
    """Cash paid into the escrow by a treasury transfer would break the book's reservations:
    only market events open or move escrow accounts."""
    pay_in = Transfer("into-escrow", "bob/USD/creditor_available", ESCROW_USD, USD, 1, "correction")
    assert refused(world, CreateTransfers((pay_in,)), "treasury").reason is (
        EventCode.escrow_reserved
    )
    other = Account.of("market:FTX5B-USD", USD, "market_clearing")
    assert refused(world, OpenAccounts((other,)), "treasury").reason is EventCode.escrow_reserved


def test_only_an_admin_sets_a_markets_status(world: MarketWorld) -> None:
    answer = refused(world, SetMarketStatus(SYMBOL, MarketStatus.Closed), "bob")
    assert answer.code is Code.actor_not_authorised


# The log: a replay re-decides every order ---------------------------------------------------------


def test_a_forged_order_in_the_log_is_refused_on_replay(world: MarketWorld) -> None:
    """An operator who edits a logged order (more notes than mei holds) is caught by the
    replay: ``check`` re-decides the order at its position and refuses it."""
    place(world, "mei", limit(ASK, 100, 72))
    kind, time, actor, key, payload, version = world.log[-1]
    forged = copy.deepcopy(payload)
    forged["orders"][0]["quantity_steps"] = "20000"  # type: ignore[index, call-overload]
    before = replay(Event(k, v, t, a, kid, p) for k, t, a, kid, p, v in world.log[:-1])
    answer = check(before, Event(kind, version, time, actor, key, forged))
    assert isinstance(answer, Rejection)
    assert answer.reason is OrderCode.insufficient_funds
    assert check(before, Event(kind, version, time, actor, key, payload)) is None


def test_a_malformed_order_event_is_refused_on_replay(world: MarketWorld) -> None:
    place(world, "mei", limit(ASK, 100, 72))
    kind, time, actor, key, payload, version = world.log[-1]
    before = replay(Event(k, v, t, a, kid, p) for k, t, a, kid, p, v in world.log[:-1])
    for bad in ({**payload, "extra": "1"}, {**payload, "orders": []}):
        answer = check(before, Event(kind, version, time, actor, key, bad))
        assert isinstance(answer, Rejection)
        assert answer.reason is EventCode.payload_malformed
    other = {**payload, "name": "bob"}  # mei's signature on an order for bob
    answer = check(before, Event(kind, version, time, actor, key, other))
    assert isinstance(answer, Rejection)
    assert answer.code is Code.actor_not_authorised


def test_decided_results_follow_the_batch_order(world: MarketWorld) -> None:
    decided = world.run(PlaceOrders("mei", (limit(ASK, 1, 72), limit(BID, 1, 1))), "mei")
    assert isinstance(decided, Decided)
    first, second = decided.results
    assert isinstance(first, Placement)
    assert second.code is OrderCode.buyer_not_allowed
