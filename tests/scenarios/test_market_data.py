"""Market data from the state after real trades: depth, the 24-hour ticker, klines and a
trader's balances (available and locked), as the API reads them (``reclaim.core.market.data``).

The world is ``tests/support/market_world.py``; the harness's clock moves one second per
command from 2025-06-02 09:00 UTC (plus the world's setup)."""

from __future__ import annotations

from typing import Final

from reclaim.core.market import OrderRequest, OrderType, PlaceOrders, Side
from reclaim.core.market.data import (
    Balance,
    Depth,
    Ticker,
    balances,
    depth,
    klines,
    market_assets,
    ticker,
)
from tests.support.market_world import NOTE, SYMBOL, MarketWorld

DAY_START: Final = "2025-06-02T00:00:00.000000Z"
DAY_END: Final = "2025-06-03T00:00:00.000000Z"


def limit(side: Side, steps: int, price: int) -> OrderRequest:
    return OrderRequest(SYMBOL, side, OrderType.Limit, quantity_steps=steps, price_ticks=price)


def test_depth_ticker_klines_and_balances_after_trades() -> None:
    w = MarketWorld()
    w.ok(PlaceOrders("mei", (limit(Side.Ask, 100, 72), limit(Side.Ask, 50, 75))), "mei")
    w.ok(PlaceOrders("bob", (limit(Side.Bid, 120, 75),)), "bob")  # 100 @ 72, 20 @ 75
    w.ok(PlaceOrders("bob", (limit(Side.Bid, 10, 70),)), "bob")
    market = w.state.market
    assert depth(market.books[SYMBOL], 5) == Depth([(70, 10)], [(75, 30)])
    history = market.trades[SYMBOL]
    assert [t.fill.trade_id for t in history] == [1, 2]
    assert ticker(history, DAY_START, DAY_END) == Ticker(72, 75, 75, 72, 120, 7_200 + 1_500, 2)
    assert ticker(history, DAY_END, "2025-06-04T00:00:00.000000Z") == Ticker(
        None, None, None, None, 0, 0, 0
    )
    (candle,) = klines(history, DAY_START, DAY_END, 3_600)
    assert candle.start == "2025-06-02T09:00:00.000000Z"
    assert (candle.open_ticks, candle.high_ticks, candle.low_ticks, candle.close_ticks) == (
        72, 75, 72, 75,
    )  # fmt: skip
    assert (candle.volume_steps, candle.quote_volume_minor, candle.trades) == (120, 8_700, 2)
    assets = market_assets(market.markets.values())
    assert assets == [NOTE, "USD"]
    assert balances(w.state.ledger, assets, "bob") == {
        NOTE: Balance(12_000, 0),
        "USD": Balance(1_000_000 - 8_700 - 700, 700),
    }
    assert balances(w.state.ledger, assets, "mei") == {
        NOTE: Balance(1_000_000 - 15_000, 3_000),
        "USD": Balance(8_700, 0),
    }
