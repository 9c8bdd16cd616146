"""A stateful model of the market core: random order flows on one book, checked after each step.

Balances are kept here as plain sums per (owner, asset) in two buckets, ``available`` and
``reserved``, moved only by the balance moves the core reports (``placement_moves``,
``moves_of_cancel``). After every step the machine checks, from the specification (the package
docstrings of ``reclaim.core.market``) rather than from the code:

- conservation: per asset, the total over every owner and both buckets never changes;
- no balance is ever negative, and each trader's reserved balance is exactly the sum of the
  reservations of its resting orders (nothing left behind by a fill or a cancel);
- the book is never crossed and its invariants hold (``assert_invariants``);
- price-time priority: the resting orders a taker touched are exactly the first ones of the
  opposite side in (best price, lowest id) order, every fill at or better than the limit;
- FOK is all or nothing; IOC and market orders never rest; post-only never takes (it is
  refused ``post_only_would_take`` exactly when the opposite best crosses its limit);
- self-trade prevention: no fill between a trader and itself; ``RejectTaker`` cancels no
  resting order, the other modes cancel only the taker's own;
- a cancel releases exactly the order's reservation; the verifier's ``check`` accepts every
  decided event, and a replay of the events into a fresh state gives the same book.
"""

from __future__ import annotations

from typing import Final

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from reclaim.core.market import (
    CancelAll,
    CancelOrder,
    Decision,
    ListMarket,
    Market,
    MarketEvent,
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
    TimeInForce,
    apply,
    assert_invariants,
    check,
    decide,
    moves_of_cancel,
    placement_moves,
)

SYMBOL: Final = "FTX5A_USD"
TRADERS: Final = ("alice", "bob", "carol")
FEE_OWNER: Final = "operator"
TIME: Final = "2025-05-01T12:00:00.000000Z"


def market_with(maker_bps: int, taker_bps: int) -> Market:
    # Ticks of 0.01 of face, steps of $1 face (100 note units): one tick-step is one cent.
    return Market(SYMBOL, "FTX5A", price_decimals=2, step_notes=100, maker_fee_bps=maker_bps,
                  taker_fee_bps=taker_bps, fee_owner=FEE_OWNER)  # fmt: skip


requests = st.builds(
    OrderRequest,
    symbol=st.just(SYMBOL),
    side=st.sampled_from(Side),
    order_type=st.sampled_from([OrderType.Limit] * 4 + [OrderType.Market]),
    quantity_steps=st.integers(1, 40),
    price_ticks=st.integers(66, 74),
    time_in_force=st.sampled_from([TimeInForce.GTC] * 3 + [TimeInForce.IOC, TimeInForce.FOK]),
    post_only=st.booleans(),
    self_trade_prevention=st.sampled_from(SelfTradePrevention),
    client_id=st.none() | st.integers(0, 5),
)


def normalise(r: OrderRequest, by_quote: bool, quote: int) -> OrderRequest:
    """Make a drawn request well formed (the ladder's bad-input rungs have unit tests)."""
    if r.order_type is OrderType.Market:
        if by_quote:
            tif = TimeInForce.IOC if r.time_in_force is TimeInForce.FOK else r.time_in_force
            return OrderRequest(r.symbol, r.side, OrderType.Market, quote_quantity_minor=quote,
                                time_in_force=tif, self_trade_prevention=r.self_trade_prevention,
                                client_id=r.client_id)  # fmt: skip
        return OrderRequest(r.symbol, r.side, OrderType.Market, r.quantity_steps,
                            time_in_force=r.time_in_force,
                            self_trade_prevention=r.self_trade_prevention,
                            client_id=r.client_id)  # fmt: skip
    post_only = r.post_only and r.time_in_force is TimeInForce.GTC
    return OrderRequest(r.symbol, r.side, OrderType.Limit, r.quantity_steps, r.price_ticks,
                        time_in_force=r.time_in_force, post_only=post_only,
                        self_trade_prevention=r.self_trade_prevention,
                        client_id=r.client_id)  # fmt: skip


class MarketMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = MarketState()
        self.sequence = 0
        self.events: list[MarketEvent] = []
        self.balances: dict[tuple[str, str, str], int] = {}
        self.totals: dict[str, int] = {}
        self.market = market_with(0, 0)
        self.started = False

    # Plumbing.

    def ctx(self) -> StaticContext:
        table = {(o, a): v for (o, a, b), v in self.balances.items() if b == "available"}
        return StaticContext(table)

    def run(self, command: object) -> Decision | MarketRejection:
        self.sequence += 1
        ctx = self.ctx()
        decided = decide(self.state, ctx, command, self.sequence, TIME)  # type: ignore[arg-type]
        if isinstance(decided, Decision) and decided.event is not None:
            assert check(self.state, ctx, decided.event) is None
            outcome = apply(self.state, decided.event)
            assert outcome.placements == decided.placements
            assert outcome.cancels == decided.cancels
            self.events.append(decided.event)
        return decided

    def move(self, moves: dict[tuple[str, str, str], int]) -> None:
        for key, delta in moves.items():
            self.balances[key] = self.balances.get(key, 0) + delta

    @initialize(
        maker_bps=st.sampled_from([0, 0, 5, 10]),
        taker_bps=st.sampled_from([0, 0, 20, 35]),
        cash=st.integers(0, 60_000),
        notes=st.integers(0, 600),
    )
    def start(self, maker_bps: int, taker_bps: int, cash: int, notes: int) -> None:
        self.started = True
        self.market = market_with(maker_bps, taker_bps)
        assert isinstance(self.run(ListMarket(self.market)), Decision)
        assert isinstance(self.run(SetMarketStatus(SYMBOL, MarketStatus.Open)), Decision)
        for i, trader in enumerate(TRADERS):
            self.balances[trader, "USD", "available"] = cash + 7_919 * i
            self.balances[trader, self.market.base_asset, "available"] = notes * 100 + 300 * i
        for (_, asset, _), value in self.balances.items():
            self.totals[asset] = self.totals.get(asset, 0) + value

    @rule(
        trader=st.sampled_from(TRADERS),
        request=requests,
        by_quote=st.booleans(),
        quote=st.integers(1, 5_000),
    )
    def place(self, trader: str, request: OrderRequest, by_quote: bool, quote: int) -> None:
        if not self.started:
            return
        r = normalise(request, by_quote, quote)
        book = self.state.books[SYMBOL]
        opposite = book.opposite(r.side)
        ahead = sorted(
            ((o.price_ticks * (1 if r.side is Side.Bid else -1), o.order_id, o.trader)
             for o in opposite.orders()),
        )  # fmt: skip
        best = opposite.best_price()
        crosses = best is not None and r.price_ticks is not None and (
            best <= r.price_ticks if r.side is Side.Bid else best >= r.price_ticks
        )  # fmt: skip
        decided = self.run(PlaceOrders(trader, (r,)))
        if isinstance(decided, MarketRejection):
            if r.post_only and crosses and decided.code is not OrderCode.insufficient_funds:
                assert decided.code in (OrderCode.post_only_would_take, OrderCode.client_id_in_use)
            assert decided.code in (
                OrderCode.insufficient_funds, OrderCode.post_only_would_take,
                OrderCode.client_id_in_use,
            ), decided  # fmt: skip
            return
        (p,) = decided.placements
        self.move(placement_moves(self.market, p))
        self.check_placement(trader, r, p, ahead, crosses)

    def check_placement(
        self,
        trader: str,
        r: OrderRequest,
        p: Placement,
        ahead: list[tuple[int, int, str]],
        crosses: bool,
    ) -> None:
        touched = [f.maker_order_id for f in p.fills] + [c.order_id for c in p.maker_cancels]
        order = {oid: i for i, (_, oid, _) in enumerate(ahead)}
        touched.sort(key=order.__getitem__)
        assert touched == [oid for _, oid, _ in ahead[: len(touched)]], "price-time priority"
        for f in p.fills:
            assert f.maker != f.taker, "self trade"
            if r.price_ticks is not None:
                better = f.price_ticks <= r.price_ticks if r.side is Side.Bid else (
                    f.price_ticks >= r.price_ticks
                )  # fmt: skip
                assert better, (f, r)
        prices = [f.price_ticks for f in p.fills]
        assert prices == sorted(prices, reverse=r.side is Side.Ask), "best price first"
        if r.self_trade_prevention is SelfTradePrevention.RejectTaker:
            assert not p.maker_cancels
        assert all(c.trader == trader for c in p.maker_cancels)
        assert p.executed_steps == sum(f.quantity_steps for f in p.fills)
        rests = p.order_id in self.state.orders
        if r.time_in_force is not TimeInForce.GTC or r.order_type is OrderType.Market:
            assert not rests, "IOC, FOK and market orders never rest"
        if r.time_in_force is TimeInForce.FOK:
            if p.status is OrderStatus.Expired:
                assert not p.fills
                assert not p.maker_cancels
                assert p.reserved_minor == 0
            else:
                assert p.status is OrderStatus.Filled
                assert p.executed_steps == r.quantity_steps
        if r.post_only:
            assert not crosses
            assert not p.fills, "post-only never takes"
        if rests:
            assert p.status in (OrderStatus.New, OrderStatus.PartiallyFilled)
            assert self.state.orders[p.order_id].reserved_minor == p.resting_reserved_minor
        else:
            assert p.resting_reserved_minor == 0
            assert p.status in (OrderStatus.Filled, OrderStatus.Expired, OrderStatus.Cancelled)

    @rule(trader=st.sampled_from(TRADERS), request=requests)
    def place_limit(self, trader: str, request: OrderRequest) -> None:
        """A second placing rule, so that books fill up between cancels."""
        self.place(trader, request, False, 1)

    @rule(trader=st.sampled_from(TRADERS), pick=st.integers(0, 50), by_client=st.booleans())
    def cancel(self, trader: str, pick: int, by_client: bool) -> None:
        if not self.started:
            return
        mine = sorted(self.state.open_by_trader.get((trader, SYMBOL), ()))
        if not mine:
            decided = self.run(CancelOrder(trader, SYMBOL, order_id=pick))
            assert isinstance(decided, MarketRejection)
            return
        target = self.state.orders[mine[pick % len(mine)]]
        reserved = target.reserved_minor
        if by_client and target.client_id is not None:
            command = CancelOrder(trader, SYMBOL, client_id=target.client_id)
        else:
            command = CancelOrder(trader, SYMBOL, order_id=target.order_id)
        decided = self.run(command)
        assert isinstance(decided, Decision)
        (c,) = decided.cancels
        assert c.order_id == target.order_id
        assert c.released_minor == reserved, "a cancel releases exactly the reservation"
        assert c.order_id not in self.state.orders
        self.move(moves_of_cancel(self.market, c))

    @rule(trader=st.sampled_from(TRADERS))
    def cancel_all(self, trader: str) -> None:
        if not self.started:
            return
        decided = self.run(CancelAll(trader, SYMBOL))
        assert isinstance(decided, Decision)
        for c in decided.cancels:
            self.move(moves_of_cancel(self.market, c))
        assert (trader, SYMBOL) not in self.state.open_by_trader

    # Invariants.

    @invariant()
    def conserved_and_consistent(self) -> None:
        assert_invariants(self.state)
        totals: dict[str, int] = {}
        for (_, asset, _), value in self.balances.items():
            assert value >= 0, "no balance is ever negative"
            totals[asset] = totals.get(asset, 0) + value
        assert totals == self.totals, "cash and notes are conserved"
        if not self.started:
            return
        held: dict[tuple[str, str, str], int] = {}
        for o in self.state.orders.values():
            asset = "USD" if o.side is Side.Bid else self.market.base_asset
            key = (o.trader, asset, "reserved")
            held[key] = held.get(key, 0) + o.reserved_minor
        reserved = {k: v for k, v in self.balances.items() if k[2] == "reserved" and v}
        assert reserved == {k: v for k, v in held.items() if v}, "no reservation left behind"

    def teardown(self) -> None:
        replayed = MarketState()
        for event in self.events:
            apply(replayed, event)
        assert_invariants(replayed)
        assert replayed.entity_keys() == self.state.entity_keys()
        for key in self.state.entity_keys():
            assert replayed.entity(key) == self.state.entity(key), key


MarketMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_market_stateful = MarketMachine.TestCase
