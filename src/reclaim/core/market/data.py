"""Market data read from the state: depth, the 24-hour ticker and klines, from the book and
each market's trade history (``MarketState.trades``: every fill in log order). Pure reads, in
integers (ticks, steps, cents); the API formats them.

Windows are in event time (RFC 3339 text, ``reclaim.core.times``): a trade is in a window when
``start <= trade.time < end``. Time strings of the log compare as their instants (one fixed
format, UTC, microseconds), so no parsing is needed for the ticker.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Final, NamedTuple

from reclaim.core.ledger.model import LedgerState
from reclaim.core.market.book import Book
from reclaim.core.market.model import Market, Trade
from reclaim.core.market.settlement import available_id
from reclaim.core.times import format_time, parse_time

_TIME: Final = attrgetter("time")


class Depth(NamedTuple):
    """The best levels of each side, best first: ``(price_ticks, remaining steps)``."""

    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]


class Ticker(NamedTuple):
    """Trades in a window: first, last, high and low price (``None``: no trade), the steps and
    cents traded and the number of trades."""

    first_price_ticks: int | None
    last_price_ticks: int | None
    high_price_ticks: int | None
    low_price_ticks: int | None
    volume_steps: int
    quote_volume_minor: int
    trades: int


class Kline(NamedTuple):
    """One candle: its start (RFC 3339), open/high/low/close in ticks, steps and cents."""

    start: str
    open_ticks: int
    high_ticks: int
    low_ticks: int
    close_ticks: int
    volume_steps: int
    quote_volume_minor: int
    trades: int


def depth(book: Book, levels: int) -> Depth:
    return Depth(book.bids.depth(levels), book.asks.depth(levels))


def in_window(history: Sequence[Trade], start: str, end: str) -> list[Trade]:
    """The trades with ``start <= time < end`` (binary search: the history is in time order)."""
    first = bisect_left(history, start, key=_TIME)
    return list(history[first : bisect_left(history, end, first, key=_TIME)])


def ticker(history: Sequence[Trade], start: str, end: str) -> Ticker:
    """The ticker of the window (the API's 24 hours: ``start`` = ``end`` − 1 day)."""
    trades = in_window(history, start, end)
    if not trades:
        return Ticker(None, None, None, None, 0, 0, 0)
    prices = [t.fill.price_ticks for t in trades]
    return Ticker(
        prices[0], prices[-1], max(prices), min(prices),
        sum(t.fill.quantity_steps for t in trades), sum(t.fill.cash_minor for t in trades),
        len(trades),
    )  # fmt: skip


def klines(history: Sequence[Trade], start: str, end: str, interval_seconds: int) -> list[Kline]:
    """Candles of ``interval_seconds`` from ``start`` (aligned on it) up to ``end``; intervals
    without a trade are left out (as Backpack's klines)."""
    assert interval_seconds > 0, interval_seconds
    origin = parse_time(start)
    out: list[Kline] = []
    bucket: list[Trade] = []
    current = -1
    for trade in in_window(history, start, end):
        index = int((parse_time(trade.time) - origin).total_seconds()) // interval_seconds
        if index != current and bucket:
            out.append(_kline(origin, current, interval_seconds, bucket))
            bucket = []
        current = index
        bucket.append(trade)
    if bucket:
        out.append(_kline(origin, current, interval_seconds, bucket))
    return out


def _kline(origin: datetime, index: int, interval_seconds: int, trades: list[Trade]) -> Kline:

    prices = [t.fill.price_ticks for t in trades]
    begin = format_time(origin + timedelta(seconds=index * interval_seconds))
    return Kline(
        begin, prices[0], max(prices), min(prices), prices[-1],
        sum(t.fill.quantity_steps for t in trades), sum(t.fill.cash_minor for t in trades),
        len(trades),
    )  # fmt: skip


class Balance(NamedTuple):
    """A trader's balance of one asset: what it may spend now, and what its resting orders
    lock (Backpack's ``available`` / ``locked``), in minor units (cents, note units)."""

    available_minor: int
    locked_minor: int


def balances(ledger: LedgerState, assets: Iterable[str], trader: str) -> dict[str, Balance]:
    """The trader's balance of each of ``assets`` with an account (``<trader>/<asset>/
    creditor_available``): ``available`` = posted credits − debits − reservations, ``locked`` =
    its reservations (the pending transfers of its resting orders, and of a withdrawal)."""
    out: dict[str, Balance] = {}
    for asset in sorted(set(assets)):
        account = ledger.accounts.get(available_id(trader, asset))
        if account is not None:
            out[asset] = Balance(account.available_minor, account.debits_pending)
    return out


def market_assets(markets: Iterable[Market]) -> list[str]:
    """Every asset the markets trade: USD and each series' ``NOTE-<series>``."""
    return sorted({a for m in markets for a in (m.quote_asset, m.base_asset)})
