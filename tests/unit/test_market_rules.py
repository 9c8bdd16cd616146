"""Table tests of the market core: each rule with exact cents, and every refusal code.

The market of these tables (``FTX5A_USD``): ticks of 0.001 of face, steps of $10 of face (1,000
note units), so one tick on one step is one cent; a price of 720 ticks is 72 cents on the
dollar, and 1 step at 720 costs $7.20 (720 cents).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import pytest

from reclaim.core import limits
from reclaim.core.market import (
    ACCEPTED,
    KINDS,
    CancelAll,
    CancelCode,
    CancelOrder,
    Decision,
    EventCode,
    Kind,
    ListCode,
    ListMarket,
    Market,
    MarketRejection,
    MarketState,
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
    StaticContext,
    StatusCode,
    TimeInForce,
    apply,
    assert_invariants,
    check,
    decide,
    kind,
    order_id_of,
    placement_moves,
)
from reclaim.core.market.amounts import (
    bid_need_minor,
    cash_cap_for_budget,
    fee_increment_minor,
    fee_total_minor,
)
from reclaim.core.market.payloads import from_payload, to_payload

S: Final = "FTX5A_USD"
NOTES: Final = "NOTE-FTX5A"
T: Final = "2025-05-01T12:00:00.000000Z"
MARKET: Final = Market(S, "FTX5A", price_decimals=3, step_notes=1_000)
RICH: Final = 10**12


def rich(*traders: str) -> StaticContext:
    return StaticContext({(t, a): RICH for t in traders for a in ("USD", NOTES)})


class Venue:
    """One market, opened, driven command by command the way the log does."""

    def __init__(self, market: Market = MARKET, ctx: StaticContext | None = None) -> None:
        self.state = MarketState()
        self.sequence = 0
        self.ctx = ctx or rich("alice", "bob", "carol")
        assert isinstance(self.run(ListMarket(market)), Decision)
        assert isinstance(self.run(SetMarketStatus(market.symbol, MarketStatus.Open)), Decision)

    def run(self, command: object) -> Decision | MarketRejection:
        self.sequence += 1
        decided = decide(self.state, self.ctx, command, self.sequence, T)  # type: ignore[arg-type]
        if isinstance(decided, Decision) and decided.event is not None:
            assert check(self.state, self.ctx, decided.event) is None
            apply(self.state, decided.event)
            assert_invariants(self.state)
        return decided

    def place(self, trader: str, *orders: OrderRequest) -> Decision | MarketRejection:
        return self.run(PlaceOrders(trader, orders))

    def placed(self, trader: str, order: OrderRequest) -> Placement:
        decided = self.place(trader, order)
        assert isinstance(decided, Decision), decided
        (p,) = decided.placements
        return p

    def refused(self, trader: str, order: OrderRequest) -> MarketRejection:
        decided = self.place(trader, order)
        assert isinstance(decided, MarketRejection), decided
        return decided


def limit(side: Side, steps: int, ticks: int, **kw: object) -> OrderRequest:
    return replace(OrderRequest(S, side, OrderType.Limit, steps, ticks), **kw)  # type: ignore[arg-type]


def market(
    side: Side, steps: int | None = None, quote: int | None = None, **kw: object
) -> OrderRequest:
    return replace(OrderRequest(S, side, OrderType.Market, steps, None, quote), **kw)  # type: ignore[arg-type]


# Arithmetic ---------------------------------------------------------------------------------------


def test_cash_is_exact_and_fees_round_up_once_per_order() -> None:
    assert MARKET.lot_cash_minor == 1
    assert fee_total_minor(0) == 0
    assert fee_total_minor(1) == 1  # 0.0001 cent rounds up to a cent
    assert fee_total_minor(10_000) == 1
    assert fee_total_minor(10_001) == 2
    # Two one-cent fills at 25 bps: 1 cent in total, not 2.
    assert fee_increment_minor(0, 100, 25) == 1
    assert fee_increment_minor(2_500, 100, 25) == 0
    # A Bid of 12 steps at 730 with up to 25 bps: 8,760 cents + 22 (21.9 rounded up).
    assert bid_need_minor(12, 730, 1, 0, 0, 25) == 8_782
    # A $100.00 budget at 25 bps buys at most 9,975 cents (9,975 + 25 = 10,000).
    assert cash_cap_for_budget(10_000, 25) == 9_975
    assert cash_cap_for_budget(10_000, 0) == 10_000


def test_order_ids_follow_the_log_and_the_batch() -> None:
    assert order_id_of(3, 0) == 3 * limits.market_order_ids_per_event
    assert order_id_of(3, 1) == order_id_of(3, 0) + 1
    assert order_id_of(4, 0) > order_id_of(3, limits.market_batch_orders_max - 1)


# Matching -----------------------------------------------------------------------------------------


def test_a_bid_takes_the_best_asks_first_and_releases_the_price_improvement() -> None:
    v = Venue(replace(MARKET, maker_fee_bps=10, taker_fee_bps=25))
    v.placed("alice", limit(Side.Ask, 10, 720))
    v.placed("alice", limit(Side.Ask, 5, 710))
    p = v.placed("bob", limit(Side.Bid, 12, 730))
    assert p.status is OrderStatus.Filled
    assert [(f.price_ticks, f.quantity_steps, f.cash_minor) for f in p.fills] == [
        (710, 5, 3_550),
        (720, 7, 5_040),
    ]
    # Taker fee: ⌈3,550 × 25 / 10⁴⌉ = 9, then ⌈8,590 × 25 / 10⁴⌉ − 9 = 22 − 9 = 13.
    assert [f.taker_fee_minor for f in p.fills] == [9, 13]
    # Maker fees, per resting order: ⌈3.55⌉ = 4 and ⌈5.04⌉ = 6.
    assert [f.maker_fee_minor for f in p.fills] == [4, 6]
    assert p.reserved_minor == 8_782
    assert p.released_minor == 8_782 - 8_590 - 22 == 170
    moves = placement_moves(v.state.markets[S], p)
    assert moves == {
        ("bob", "USD", "available"): -8_612,
        ("alice", NOTES, "reserved"): -12_000,
        ("bob", NOTES, "available"): 12_000,
        ("alice", "USD", "available"): 8_590 - 10,
        ("operator", "USD", "available"): 22 + 10,
    }
    (rest,) = v.state.orders.values()
    assert (rest.remaining_steps, rest.reserved_minor) == (3, 3_000)


def test_time_priority_within_a_level() -> None:
    v = Venue()
    first = v.placed("alice", limit(Side.Bid, 2, 700))
    second = v.placed("carol", limit(Side.Bid, 2, 700))
    p = v.placed("bob", limit(Side.Ask, 3, 690))
    assert [(f.maker_order_id, f.quantity_steps, f.price_ticks) for f in p.fills] == [
        (first.order_id, 2, 700),
        (second.order_id, 1, 700),
    ]
    assert v.state.orders[second.order_id].remaining_steps == 1


def test_a_resting_bid_keeps_only_what_its_remainder_needs() -> None:
    v = Venue(replace(MARKET, maker_fee_bps=10))
    bid = v.placed("alice", limit(Side.Bid, 10, 700))
    assert bid.reserved_minor == 7_000 + 7  # 10 bps of 7,000 = 7 (the highest rate it may pay)
    p = v.placed("bob", limit(Side.Ask, 4, 700))
    (f,) = p.fills
    assert (f.cash_minor, f.maker_fee_minor) == (2_800, 3)  # ⌈2.8⌉
    # The remainder needs 4,200 + ⌈(28,000 + 42,000) / 10⁴⌉ − 3 = 4,200 + 7 − 3 = 4,204.
    assert f.maker_released_minor == 7_007 - 2_803 - 4_204 == 0
    assert v.state.orders[bid.order_id].reserved_minor == 4_204


def test_ioc_fills_what_it_can_and_never_rests() -> None:
    v = Venue()
    v.placed("alice", limit(Side.Ask, 3, 700))
    p = v.placed("bob", limit(Side.Bid, 5, 700, time_in_force=TimeInForce.IOC))
    assert (p.status, p.executed_steps, p.resting_steps) == (OrderStatus.Expired, 3, 0)
    assert p.released_minor == 5 * 700 - 3 * 700
    assert not v.state.orders


def test_fok_is_all_or_nothing() -> None:
    v = Venue()
    v.placed("alice", limit(Side.Ask, 3, 700))
    killed = v.placed("bob", limit(Side.Bid, 4, 700, time_in_force=TimeInForce.FOK))
    assert (killed.status, killed.fills, killed.reserved_minor) == (OrderStatus.Expired, (), 0)
    assert len(v.state.orders) == 1
    filled = v.placed("bob", limit(Side.Bid, 3, 700, time_in_force=TimeInForce.FOK))
    assert (filled.status, filled.executed_steps) == (OrderStatus.Filled, 3)
    assert not v.state.orders


def test_post_only_rests_or_is_refused() -> None:
    v = Venue()
    v.placed("alice", limit(Side.Ask, 3, 700))
    assert v.refused("bob", limit(Side.Bid, 1, 700, post_only=True)).code is (
        OrderCode.post_only_would_take
    )
    p = v.placed("bob", limit(Side.Bid, 1, 699, post_only=True))
    assert (p.status, p.fills) == (OrderStatus.New, ())


@pytest.mark.parametrize(
    ("mode", "status", "resting_own", "cancelled", "filled"),
    [
        (SelfTradePrevention.RejectTaker, OrderStatus.Cancelled, True, 0, 0),
        (SelfTradePrevention.RejectMaker, OrderStatus.Filled, False, 1, 2),
        (SelfTradePrevention.RejectBoth, OrderStatus.Cancelled, False, 1, 0),
    ],
)
def test_self_trade_prevention(
    mode: SelfTradePrevention, status: OrderStatus, resting_own: bool, cancelled: int, filled: int
) -> None:
    v = Venue()
    own = v.placed("alice", limit(Side.Ask, 2, 700))
    v.placed("carol", limit(Side.Ask, 2, 700))
    p = v.placed("alice", limit(Side.Bid, 2, 700, self_trade_prevention=mode))
    assert p.status is status
    assert (own.order_id in v.state.orders) is resting_own
    assert len(p.maker_cancels) == cancelled
    assert sum(f.quantity_steps for f in p.fills) == filled
    assert all(f.maker == "carol" for f in p.fills)
    if cancelled:
        assert p.maker_cancels[0].released_minor == 2_000  # the notes of the cancelled Ask


def test_market_orders_by_quantity_and_by_quote() -> None:
    v = Venue(replace(MARKET, taker_fee_bps=25))
    v.placed("alice", limit(Side.Ask, 5, 700))
    v.placed("alice", limit(Side.Ask, 5, 720))
    by_quantity = v.placed("bob", market(Side.Bid, 6))
    assert by_quantity.executed_cash_minor == 5 * 700 + 720
    assert by_quantity.reserved_minor == 4_220 + 11  # exactly its cost: ⌈10.55⌉ = 11
    assert by_quantity.released_minor == 0
    # $20.00 with fees at 25 bps buys at most 1,995 cents: 2 steps at 720 (1,440).
    by_quote = v.placed("bob", market(Side.Bid, quote=2_000))
    assert (by_quote.status, by_quote.executed_cash_minor) == (OrderStatus.Filled, 1_440)
    assert by_quote.reserved_minor == 2_000
    assert by_quote.released_minor == 2_000 - 1_440 - 4
    v.placed("carol", limit(Side.Bid, 10, 650))
    sell = v.placed("alice", market(Side.Ask, quote=2_000))  # gross cash up to $20: 3 steps
    assert (sell.executed_steps, sell.executed_cash_minor, sell.reserved_minor) == (3, 1_950, 3_000)
    empty = Venue().placed("bob", market(Side.Bid, 1))
    assert (empty.status, empty.fills, empty.reserved_minor) == (OrderStatus.Expired, (), 0)


def test_cancel_releases_the_reservation_and_cancel_all_takes_every_order() -> None:
    v = Venue()
    a = v.placed("alice", limit(Side.Bid, 2, 700, client_id=7))
    b = v.placed("alice", limit(Side.Bid, 1, 690))
    by_client = v.run(CancelOrder("alice", S, client_id=7))
    assert isinstance(by_client, Decision)
    assert [(c.order_id, c.released_minor) for c in by_client.cancels] == [(a.order_id, 1_400)]
    v.placed("alice", limit(Side.Ask, 3, 800))
    everything = v.run(CancelAll("alice", S))
    assert isinstance(everything, Decision)
    assert [c.released_minor for c in everything.cancels] == [690, 3_000]
    assert everything.cancels[0].order_id == b.order_id
    assert not v.state.orders
    nothing = v.run(CancelAll("alice", S))
    assert nothing == Decision(None)


def test_closing_a_market_cancels_every_resting_order() -> None:
    v = Venue()
    v.placed("alice", limit(Side.Bid, 2, 700))
    v.placed("bob", limit(Side.Ask, 2, 800))
    closed = v.run(SetMarketStatus(S, MarketStatus.Closed))
    assert isinstance(closed, Decision)
    assert [(c.trader, c.released_minor, c.reason) for c in closed.cancels] == [
        ("alice", 1_400, "market_closed"),
        ("bob", 2_000, "market_closed"),
    ]
    assert not v.state.orders


def test_a_batch_decides_each_order_on_the_state_the_ones_before_left() -> None:
    ctx = StaticContext({("bob", "USD"): 2_000, ("alice", NOTES): 10**6})
    v = Venue(ctx=ctx)
    v.placed("alice", limit(Side.Ask, 3, 700))
    decided = v.place(
        "bob", limit(Side.Bid, 2, 700), limit(Side.Bid, 1, 700), limit(Side.Bid, 1, 600),
        limit(Side.Bid, 1, 700, price_ticks=None),
    )  # fmt: skip
    assert isinstance(decided, Decision)
    assert [p.status for p in decided.placements] == [OrderStatus.Filled, OrderStatus.New]
    # 1,400 spent, 600 left: the second Bid (700) is refused, the third (600) rests.
    assert [(r.position, r.code) for r in decided.refused] == [
        (1, OrderCode.insufficient_funds),
        (3, OrderCode.price_missing),
    ]
    assert [p.order_id for p in decided.placements] == [
        order_id_of(v.sequence, 0),
        order_id_of(v.sequence, 1),
    ]


def test_events_round_trip_through_their_payloads() -> None:
    v = Venue()
    decided = v.place("alice", limit(Side.Bid, 2, 700, client_id=5), market(Side.Ask, quote=9))
    assert isinstance(decided, Decision)
    assert decided.event is not None
    kind_, payload = to_payload(decided.event)
    assert from_payload(kind_, payload, decided.event.sequence, T) == decided.event
    listed = ListMarket(MARKET)
    state = MarketState()
    d = decide(state, rich(), listed, 1, T)
    assert isinstance(d, Decision)
    assert d.event is not None
    assert from_payload(*to_payload(d.event), 1, T) == d.event


# Every refusal code -------------------------------------------------------------------------------


def test_every_code_has_a_kind_and_accepted_answers_have_none() -> None:
    assert kind(OrderCode.insufficient_funds) is Kind.conflict
    assert kind(OrderCode.market_cancel_only) is Kind.unavailable
    assert kind(OrderCode.kyc_not_verified) is Kind.forbidden
    assert kind(CancelCode.order_not_found) is Kind.not_found
    assert kind(ListCode.lot_cash_not_whole) is Kind.bad_input
    assert not set(KINDS) & ACCEPTED
    with pytest.raises(AssertionError):
        kind(OrderCode.ok)


@pytest.mark.parametrize(
    ("terms", "code"),
    [
        (replace(MARKET, symbol="ftx5a_usd"), ListCode.symbol_malformed),
        (replace(MARKET, symbol="FTX5B_USD"), ListCode.symbol_mismatch),
        (replace(MARKET, symbol="FTX5A_EUR", quote_asset="EUR"), ListCode.quote_asset_unsupported),
        (replace(MARKET, price_decimals=7), ListCode.price_decimals_out_of_range),
        (replace(MARKET, step_notes=0), ListCode.step_out_of_range),
        (replace(MARKET, step_notes=1_500), ListCode.lot_cash_not_whole),
        (replace(MARKET, min_quantity_steps=0), ListCode.min_quantity_out_of_range),
        (replace(MARKET, taker_fee_bps=1_001), ListCode.fee_bps_out_of_range),
        (replace(MARKET, fee_owner="Operator"), ListCode.fee_owner_malformed),
    ],
)
def test_listing_refusals(terms: Market, code: ListCode) -> None:
    decided = decide(MarketState(), rich(), ListMarket(terms), 1, T)
    assert isinstance(decided, MarketRejection)
    assert decided.code is code


def test_listing_conflicts_and_status_answers() -> None:
    v = Venue()
    again = v.run(ListMarket(MARKET))
    assert again == Decision(None)  # ListCode.exists: nothing to append
    other = v.run(ListMarket(replace(MARKET, taker_fee_bps=5)))
    assert isinstance(other, MarketRejection)
    assert other.code is ListCode.market_exists_with_different_terms
    same = v.run(SetMarketStatus(S, MarketStatus.Open))
    assert same == Decision(None)  # StatusCode.exists
    missing = v.run(SetMarketStatus("FTX6A_USD", MarketStatus.Open))
    assert isinstance(missing, MarketRejection)
    assert missing.code is StatusCode.market_not_found
    full = MarketState()
    for n in range(limits.market_markets_max):
        name = f"S{n}"
        d = decide(
            full, rich(), ListMarket(replace(MARKET, symbol=f"{name}_USD", series=name)), n, T
        )
        assert isinstance(d, Decision)
        assert d.event is not None
        apply(full, d.event)
    over = decide(full, rich(), ListMarket(MARKET), 999, T)
    assert isinstance(over, MarketRejection)
    assert over.code is ListCode.markets_exceeded


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (limit(Side.Bid, 1, 700, client_id=2**32), OrderCode.client_id_out_of_range),
        (limit(Side.Bid, 1, 700, price_ticks=None), OrderCode.price_missing),
        (OrderRequest(S, Side.Bid, OrderType.Market, 1, 700), OrderCode.price_not_allowed),
        (limit(Side.Bid, 1, 700, quantity_steps=None), OrderCode.quantity_missing),
        (market(Side.Bid), OrderCode.quantity_missing),
        (market(Side.Bid, 1, 100), OrderCode.quantity_ambiguous),
        (limit(Side.Bid, 1, 700, quote_quantity_minor=5), OrderCode.quantity_ambiguous),
        (market(Side.Bid, 1, post_only=True), OrderCode.post_only_not_allowed),
        (limit(Side.Bid, 1, 700, post_only=True, time_in_force=TimeInForce.IOC),
         OrderCode.post_only_not_allowed),
        (limit(Side.Bid, 1, 0), OrderCode.price_out_of_range),
        (limit(Side.Bid, 0, 700), OrderCode.quantity_out_of_range),
        (limit(Side.Bid, limits.market_quantity_steps_max + 1, 700),
         OrderCode.quantity_out_of_range),
        (market(Side.Bid, quote=0), OrderCode.quote_quantity_out_of_range),
        (market(Side.Bid, quote=5, time_in_force=TimeInForce.FOK), OrderCode.fok_needs_quantity),
        (replace(limit(Side.Bid, 1, 700), symbol="FTX9_USD"), OrderCode.market_not_found),
        (limit(Side.Bid, 1, 10_001), OrderCode.price_above_maximum),
    ],
)  # fmt: skip
def test_order_refusals_of_the_order_itself(order: OrderRequest, code: OrderCode) -> None:
    assert Venue().refused("bob", order).code is code


def test_order_refusals_against_the_market_and_the_trader() -> None:
    v = Venue(replace(MARKET, min_quantity_steps=2))
    assert v.refused("bob", limit(Side.Bid, 1, 700)).code is OrderCode.quantity_below_minimum
    huge = Venue(replace(MARKET, step_notes=10**18, price_decimals=0))
    assert huge.refused("bob", limit(Side.Ask, 10, 1)).code is OrderCode.order_value_exceeds_bigint
    ctx = StaticContext({("bob", "USD"): 1_399, ("bob", NOTES): 0}, unverified=frozenset({"eve"}),
                        excluded_buyers=frozenset({"bob"}))  # fmt: skip
    w = Venue(ctx=ctx)
    assert w.refused("eve", limit(Side.Ask, 2, 700)).code is OrderCode.kyc_not_verified
    assert w.refused("bob", limit(Side.Bid, 2, 700)).code is OrderCode.buyer_not_allowed
    assert w.refused("bob", limit(Side.Ask, 2, 700)).code is OrderCode.insufficient_funds
    poor = Venue(ctx=StaticContext({("bob", "USD"): 1_399}))
    assert poor.refused("bob", limit(Side.Bid, 2, 700)).code is OrderCode.insufficient_funds
    assert poor.refused("bob", market(Side.Bid, quote=1_400)).code is OrderCode.insufficient_funds
    x = Venue()
    x.placed("bob", limit(Side.Bid, 1, 600, client_id=1))
    assert x.refused("bob", limit(Side.Bid, 1, 600, client_id=1)).code is OrderCode.client_id_in_use
    for _ in range(limits.market_open_orders_per_trader_max - 1):
        x.placed("bob", limit(Side.Bid, 1, 600))
    assert x.refused("bob", limit(Side.Bid, 1, 600)).code is OrderCode.open_orders_exceeded
    halted = Venue()
    halted.run(SetMarketStatus(S, MarketStatus.CancelOnly))
    assert halted.refused("bob", limit(Side.Bid, 1, 600)).code is OrderCode.market_cancel_only
    halted.run(SetMarketStatus(S, MarketStatus.Closed))
    assert halted.refused("bob", limit(Side.Bid, 1, 600)).code is OrderCode.market_closed


def test_whole_command_refusals() -> None:
    v = Venue()
    empty = v.run(PlaceOrders("bob", ()))
    assert isinstance(empty, MarketRejection)
    assert empty.code is EventCode.batch_empty
    many = v.run(
        PlaceOrders("bob", (limit(Side.Bid, 1, 600),) * (limits.market_batch_orders_max + 1))
    )
    assert isinstance(many, MarketRejection)
    assert many.code is EventCode.batch_too_large
    bad = v.run(PlaceOrders("Bob!", (limit(Side.Bid, 1, 600),)))
    assert isinstance(bad, MarketRejection)
    assert bad.code is OrderCode.trader_malformed


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (CancelOrder("Bob!", S, order_id=1), CancelCode.trader_malformed),
        (CancelOrder("bob", S), CancelCode.order_ref_missing),
        (CancelOrder("bob", S, order_id=1, client_id=1), CancelCode.order_ref_ambiguous),
        (CancelOrder("bob", S, client_id=-1), CancelCode.client_id_out_of_range),
        (CancelOrder("bob", "FTX9_USD", order_id=1), CancelCode.market_not_found),
        (CancelOrder("bob", S, order_id=12_345), CancelCode.order_not_found),
        (CancelAll("Bob!", S), CancelCode.trader_malformed),
        (CancelAll("bob", "FTX9_USD"), CancelCode.market_not_found),
    ],
)
def test_cancel_refusals(command: object, code: CancelCode) -> None:
    decided = Venue().run(command)
    assert isinstance(decided, MarketRejection)
    assert decided.code is code


def test_another_traders_order_is_not_found_and_a_closed_market_takes_no_cancel() -> None:
    v = Venue()
    p = v.placed("alice", limit(Side.Bid, 1, 600))
    other = v.run(CancelOrder("bob", S, order_id=p.order_id))
    assert isinstance(other, MarketRejection)
    assert other.code is CancelCode.order_not_found
    v.run(SetMarketStatus(S, MarketStatus.Closed))
    for command in (CancelOrder("alice", S, order_id=p.order_id), CancelAll("alice", S)):
        closed = v.run(command)
        assert isinstance(closed, MarketRejection)
        assert closed.code is CancelCode.market_closed
