"""A stateful model of the market wired to the ledger, through the real machine: random order
flows by four traders on FTX5A_USD, checked after every step against the ledger itself.

Each step is a command decided, checked and applied by ``reclaim.core.machine`` (the
``core_harness`` loop: ``decide`` changes nothing, every event round-trips and passes ``check``,
the machine's invariants hold). After every step the model checks, from the ledger's accounts
and transfers rather than from the market's own bookkeeping:

- the ledger's reservations are the book's resting orders: the open pending transfers into the
  market's escrow are exactly one per resting order, each of its reservation (a Bid's cash, an
  Ask's notes); no other pending transfer into the escrow is open — nothing leaks after a fill,
  a cancel, a close, an STP cancel or an IOC / FOK / market remainder;
- the escrow accounts hold nothing posted between events (delivery versus payment in one
  chain);
- notes and cash are conserved: the traders' posted note balances always sum to what was
  minted, and their cash plus the escrow's to what they were funded with; no available
  balance is ever negative;
- each trader's posted notes are what the notes core recomputes from conversions and fills
  (the holdings a pass-through reads).

At the end the whole log is replayed into a fresh state (``check`` on every event) and must give
the same state.
"""

from __future__ import annotations

import copy
from typing import Final

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from reclaim.core.ledger.model import PENDING
from reclaim.core.market import (
    CancelAll,
    CancelOrder,
    MarketStatus,
    OrderRequest,
    OrderType,
    PlaceOrders,
    SelfTradePrevention,
    SetMarketStatus,
    Side,
    TimeInForce,
)
from reclaim.core.notes.domain import holdings
from tests.support.market_world import (
    ESCROW_NOTE,
    ESCROW_USD,
    FEE_MARKET,
    NOTE,
    SYMBOL,
    MarketWorld,
)

TRADERS: Final = ("alice", "bob", "carol", "mei")
USD: Final = "USD"
_BUILT: dict[bool, MarketWorld] = {}


def built(fees: bool) -> MarketWorld:
    if fees not in _BUILT:
        _BUILT[fees] = MarketWorld(market=FEE_MARKET) if fees else MarketWorld()
    return copy.deepcopy(_BUILT[fees])


def _funds(w: MarketWorld, asset: str) -> int:
    """What the traders hold, and the fees the treasury collected (cash only)."""
    fees = w.held("treasury", asset) if asset == USD else 0
    return sum(w.held(t, asset) for t in TRADERS) + fees


class MarketLedger(RuleBasedStateMachine):
    fees = False

    def __init__(self) -> None:
        super().__init__()
        self.world = built(self.fees)
        self.notes_total = _funds(self.world, NOTE)
        self.cash_total = _funds(self.world, USD)

    @rule(
        trader=st.sampled_from(TRADERS),
        side=st.sampled_from(Side),
        steps=st.integers(1, 400),
        price=st.integers(60, 80),
        tif=st.sampled_from(TimeInForce),
        stp=st.sampled_from(SelfTradePrevention),
        post_only=st.booleans(),
    )
    def limit(self, trader: str, side: Side, steps: int, price: int, tif: TimeInForce,
              stp: SelfTradePrevention, post_only: bool) -> None:  # fmt: skip
        order = OrderRequest(SYMBOL, side, OrderType.Limit, quantity_steps=steps,
                             price_ticks=price, time_in_force=tif,
                             post_only=post_only and tif is TimeInForce.GTC,
                             self_trade_prevention=stp)  # fmt: skip
        self._place(trader, (order,))

    @rule(trader=st.sampled_from(TRADERS), side=st.sampled_from(Side), steps=st.integers(1, 300),
          quote=st.none() | st.integers(1, 50_000))  # fmt: skip
    def market(self, trader: str, side: Side, steps: int, quote: int | None) -> None:
        order = OrderRequest(SYMBOL, side, OrderType.Market,
                             quantity_steps=None if quote is not None else steps,
                             quote_quantity_minor=quote)  # fmt: skip
        self._place(trader, (order,))

    @rule(trader=st.sampled_from(TRADERS), data=st.data())
    def batch(self, trader: str, data: st.DataObject) -> None:
        orders = data.draw(st.lists(st.builds(
            lambda side, steps, price: OrderRequest(SYMBOL, side, OrderType.Limit,
                                                    quantity_steps=steps, price_ticks=price),
            st.sampled_from(Side), st.integers(1, 200), st.integers(60, 80),
        ), min_size=2, max_size=5))  # fmt: skip
        self._place(trader, tuple(orders))

    def _place(self, trader: str, orders: tuple[OrderRequest, ...]) -> None:
        self.world.run(PlaceOrders(trader, orders), trader)  # accepted or refused: both checked

    @precondition(lambda self: bool(self.world.state.market.orders))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.world.state.market.orders)))
        trader = self.world.state.market.orders[order_id].trader
        self.world.ok(CancelOrder(trader, SYMBOL, order_id=order_id), trader)

    @rule(trader=st.sampled_from(TRADERS))
    def cancel_all(self, trader: str) -> None:
        self.world.run(CancelAll(trader, SYMBOL), trader)

    #: Mostly open: a closed market takes no order until it is opened again.
    @rule(status=st.sampled_from((MarketStatus.Open,) * 4 + (MarketStatus.CancelOnly,
                                                             MarketStatus.Closed)))  # fmt: skip
    def status(self, status: MarketStatus) -> None:
        self.world.ok(SetMarketStatus(SYMBOL, status), "admin")

    @invariant()
    def reservations_are_the_resting_orders(self) -> None:
        state = self.world.state
        resting = {o.order_id: o.reserved_minor for o in state.market.orders.values()}
        open_pending: dict[int, int] = {}
        for record in state.ledger.transfers.values():
            t = record.transfer
            if record.status == PENDING and t.credit_account_id in (ESCROW_USD, ESCROW_NOTE):
                order_id = int(t.refs["order"])
                assert order_id not in open_pending, f"two open reservations for {order_id}"
                open_pending[order_id] = t.amount_minor
        assert open_pending == resting, "the ledger's reservations are not the book's"

    @invariant()
    def escrow_holds_nothing_posted(self) -> None:
        for ident in (ESCROW_USD, ESCROW_NOTE):
            d, c, _, _ = self.world.state.ledger.accounts[ident].balances()
            assert d == c, f"{ident} holds {c - d} posted"

    @invariant()
    def notes_and_cash_are_conserved(self) -> None:
        w = self.world
        assert _funds(w, NOTE) == self.notes_total
        assert _funds(w, USD) == self.cash_total
        assert all(w.free(t, a) >= 0 for t in TRADERS for a in (USD, NOTE))

    @invariant()
    def holdings_are_the_ledgers(self) -> None:
        state = self.world.state
        recomputed = holdings(state.notes, state.market, "FTX5A", state.events)
        assert recomputed == {
            t: self.world.held(t, NOTE) for t in TRADERS if self.world.held(t, NOTE)
        }

    def teardown(self) -> None:
        replayed = self.world.replayed()
        assert replayed.snapshot() == self.world.state.snapshot()


MarketLedger.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
TestMarketLedger = MarketLedger.TestCase


class MarketLedgerWithFees(MarketLedger):
    """The same flows on a market with maker and taker fees (the fee leg of every fill)."""

    fees = True


MarketLedgerWithFees.TestCase.settings = MarketLedger.TestCase.settings
TestMarketLedgerWithFees = MarketLedgerWithFees.TestCase
