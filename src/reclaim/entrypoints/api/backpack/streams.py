"""Backpack's WebSocket streams, at ``/`` (Backpack's ``wss://ws.backpack.exchange``) and ``/ws``.

A client sends ``{"method": "SUBSCRIBE", "params": ["depth.FTX5A_USD", ...]}`` (and
``UNSUBSCRIBE``); a private stream (``account.orderUpdate`` or ``account.orderUpdate.<symbol>``)
needs ``"signature": [<base64 key>, <base64 signature>, "<timestamp>", "<window>"]`` over
``instruction=subscribe&timestamp=<ts>&window=<w>`` by a live key. Each message is
``{"stream": <name>, "data": {...}}`` with Backpack's one-letter keys and times in microseconds:

- ``depth.S``: ``{"e": "depth", "E", "T", "s", "U", "u", "a": [[p, q]], "b": [[p, q]]}``, the
  levels that changed since the last message (quantity ``"0"``: the level is gone); ``u`` is the
  log size after the event, so a client seeds from ``GET /api/v1/depth`` (``lastUpdateId``) and
  applies the messages with ``u`` above it;
- ``trade.S``: ``{"e": "trade", "E", "T", "s", "p", "q", "t", "m", "b", "a"}`` (``m``: the buyer
  is the maker; ``b`` / ``a``: the buyer's and seller's order ids);
- ``ticker.S``: ``{"e": "ticker", "E", "s", "o", "c", "h", "l", "v", "V", "n"}`` (24 hours);
- ``bookTicker.S``: ``{"e": "bookTicker", "E", "T", "s", "a", "A", "b", "B", "u"}``;
- ``account.orderUpdate``: ``{"e": orderAccepted | orderFill | orderCancelled | orderExpired,
  "E", "T", "s", "i", "c", "S", "o", "f", "q", "Q", "p", "X", "z", "Z", "V", "O", "l", "L", "t",
  "m", "n", "N"}`` for the subscriber's own orders (``n``: the order's fees so far).

The connection polls the market service for the events since its cursor (every
``POLL_SECONDS``); an error answer is ``{"id": null, "error": {"code", "message"}}``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any, Final

from fastapi import WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from reclaim.app import market as app_market
from reclaim.app.market import MarketService, OrderRecord, TradeRecord, Update
from reclaim.core import market as mk
from reclaim.core.events import format_time
from reclaim.entrypoints.api.backpack.errors import BackpackError
from reclaim.entrypoints.api.backpack.signing import Verifier
from reclaim.entrypoints.routing import Router

router = Router()
POLL_SECONDS: Final = 0.05
PUBLIC: Final = ("depth", "trade", "ticker", "bookTicker")
PRIVATE: Final = "account.orderUpdate"
#: Streams one connection may hold (a client watching every market of every kind).
STREAMS_PER_CONNECTION: Final = 1024
_DEPTH_LEVELS: Final = 1000


def _o(kind: mk.OrderType) -> str:
    return kind.value.upper()


class Connection:
    """One WebSocket: its subscriptions, its cursor in the log, its last depth per symbol."""

    def __init__(self, socket: WebSocket, service: MarketService, verifier: Verifier) -> None:
        self.socket = socket
        self.service = service
        self.verifier = verifier
        self.streams: set[str] = set()
        self.trader: str | None = None
        self.cursor = -1
        self.books: dict[str, dict[str, dict[int, int]]] = {}

    async def send(self, stream: str, data: dict[str, Any]) -> None:
        await self.socket.send_text(json.dumps({"stream": stream, "data": data}))

    async def error(self, code: str, message: str) -> None:
        await self.socket.send_text(
            json.dumps({"id": None, "error": {"code": code, "message": message}})
        )

    async def handle(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            await self.error("INVALID_CLIENT_REQUEST", "not JSON")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("params"), list):
            await self.error("INVALID_CLIENT_REQUEST", "expected {method, params}")
            return
        method, names = frame.get("method"), [str(p) for p in frame["params"]]
        if method == "UNSUBSCRIBE":
            self.streams.difference_update(names)
            return
        if method != "SUBSCRIBE":
            await self.error("INVALID_CLIENT_REQUEST", f"unknown method {method!r}")
            return
        markets = {m.symbol for m, _, _ in await run_in_threadpool(self.service.markets)}
        for name in names:
            kind, _, symbol = name.partition(".")
            if name == PRIVATE or name.startswith(PRIVATE + "."):
                signature = frame.get("signature")
                try:
                    if not isinstance(signature, list):
                        raise BackpackError(401, "UNAUTHORIZED", "a private stream is signed")
                    self.trader = await run_in_threadpool(
                        self.verifier.verify_subscription, signature
                    )
                except BackpackError as exc:
                    await self.error(exc.code, exc.message)
                    continue
            elif kind not in PUBLIC or symbol not in markets:
                await self.error("INVALID_CLIENT_REQUEST", f"unknown stream {name!r}")
                continue
            if len(self.streams) >= STREAMS_PER_CONNECTION:
                await self.error("INVALID_CLIENT_REQUEST", "too many streams")
                return
            if kind == "depth":
                await self._seed(symbol)
            self.streams.add(name)

    async def _seed(self, symbol: str) -> None:
        asks, bids, _ = await run_in_threadpool(lambda: self.service.depth(symbol, _DEPTH_LEVELS))
        self.books[symbol] = {"a": dict(asks), "b": dict(bids)}

    async def poll(self) -> None:
        if self.cursor < 0:
            self.cursor = await run_in_threadpool(lambda: self.service.position - 1)
        updates = await run_in_threadpool(lambda: self.service.updates_after(self.cursor))
        for update in updates:
            await self._publish(update)
            self.cursor = update.seq

    async def _publish(self, update: Update) -> None:
        micros = app_market.us_of(update.time)
        listed = await run_in_threadpool(self.service.markets)
        markets = {m.symbol: m for m, _, _ in listed}
        for symbol in update.symbols:
            m = markets.get(symbol)
            if m is None:
                continue
            if f"depth.{symbol}" in self.streams:
                await self._depth(m, update, micros)
            if f"trade.{symbol}" in self.streams:
                for t in update.trades:
                    if t.symbol == symbol:
                        await self.send(f"trade.{symbol}", _trade(m, t, micros, update))
            if f"bookTicker.{symbol}" in self.streams:
                await self._book_ticker(m, update, micros)
            if f"ticker.{symbol}" in self.streams and any(
                t.symbol == symbol for t in update.trades
            ):
                await self._ticker(m, micros)
        if self.trader is None:
            return
        for trader, event, record, trade in update.orders:
            if trader != self.trader:
                continue
            for name in (PRIVATE, f"{PRIVATE}.{record.symbol}"):
                if name in self.streams and record.symbol in markets:
                    data = _order_update(markets[record.symbol], event, record, trade, micros)
                    await self.send(name, data)

    async def _depth(self, m: mk.Market, update: Update, micros: int) -> None:
        asks, bids, _ = await run_in_threadpool(lambda: self.service.depth(m.symbol, _DEPTH_LEVELS))
        old = self.books.get(m.symbol, {"a": {}, "b": {}})
        new = {"a": dict(asks), "b": dict(bids)}
        delta: dict[str, list[list[str]]] = {}
        for side in ("a", "b"):
            changed = sorted(set(old[side]) | set(new[side]))
            delta[side] = [
                [app_market.price_text(m, p), app_market.quantity_text(m, new[side].get(p, 0))]
                for p in changed
                if old[side].get(p) != new[side].get(p)
            ]
        self.books[m.symbol] = new
        if delta["a"] or delta["b"]:
            u = update.seq + 1
            await self.send(f"depth.{m.symbol}", {
                "e": "depth", "E": micros, "T": micros, "s": m.symbol, "U": u, "u": u,
                "a": delta["a"], "b": delta["b"],
            })  # fmt: skip

    async def _book_ticker(self, m: mk.Market, update: Update, micros: int) -> None:
        asks, bids, _ = await run_in_threadpool(lambda: self.service.depth(m.symbol, 1))
        ask, bid = (asks[0] if asks else None), (bids[0] if bids else None)
        await self.send(f"bookTicker.{m.symbol}", {
            "e": "bookTicker", "E": micros, "T": micros, "s": m.symbol,
            "a": None if ask is None else app_market.price_text(m, ask[0]),
            "A": None if ask is None else app_market.quantity_text(m, ask[1]),
            "b": None if bid is None else app_market.price_text(m, bid[0]),
            "B": None if bid is None else app_market.quantity_text(m, bid[1]),
            "u": update.seq + 1,
        })  # fmt: skip

    async def _ticker(self, m: mk.Market, micros: int) -> None:
        now = self.service.log.clock.now()
        start = format_time(now - timedelta(days=1))
        end = format_time(now + timedelta(microseconds=1))
        trades = await run_in_threadpool(lambda: self.service.trades_between(m.symbol, start, end))
        s = app_market.summary(trades, None)
        await self.send(f"ticker.{m.symbol}", {
            "e": "ticker", "E": micros, "s": m.symbol,
            "o": app_market.price_text(m, s.first_ticks),
            "c": app_market.price_text(m, s.last_ticks),
            "h": app_market.price_text(m, s.high_ticks),
            "l": app_market.price_text(m, s.low_ticks),
            "v": app_market.quantity_text(m, s.volume_steps),
            "V": app_market.cash_text(s.cash_minor), "n": s.trades,
        })  # fmt: skip


def _trade(m: mk.Market, t: TradeRecord, micros: int, update: Update) -> dict[str, Any]:
    buyer = seller = None
    for _, event, record, fill in update.orders:
        if event == "orderFill" and fill is t:
            if record.request.side is mk.Side.Bid:
                buyer = str(record.order_id)
            else:
                seller = str(record.order_id)
    return {
        "e": "trade", "E": micros, "T": micros, "s": m.symbol,
        "p": app_market.price_text(m, t.price_ticks),
        "q": app_market.quantity_text(m, t.quantity_steps),
        "t": t.trade_id, "m": t.buyer_is_maker, "b": buyer, "a": seller,
    }  # fmt: skip


def _order_update(
    m: mk.Market, event: str, o: OrderRecord, trade: TradeRecord | None, micros: int
) -> dict[str, Any]:
    r = o.request
    data: dict[str, Any] = {
        "e": event, "E": micros, "T": micros, "s": o.symbol, "i": str(o.order_id),
        "c": r.client_id, "S": r.side.value, "o": _o(r.order_type), "f": r.time_in_force.value,
        "q": None if r.quantity_steps is None else app_market.quantity_text(m, r.quantity_steps),
        "Q": None if r.quote_quantity_minor is None else app_market.cash_text(
            r.quote_quantity_minor),
        "p": None if r.price_ticks is None else app_market.price_text(m, r.price_ticks),
        "X": o.status.value, "z": app_market.quantity_text(m, o.executed_steps),
        "Z": app_market.cash_text(o.executed_cash_minor), "V": r.self_trade_prevention.value,
        "O": "USER", "r": False,
    }  # fmt: skip
    if trade is not None:
        data.update({
            "l": app_market.quantity_text(m, trade.quantity_steps),
            "L": app_market.price_text(m, trade.price_ticks), "t": trade.trade_id,
            "m": (r.side is mk.Side.Bid) == trade.buyer_is_maker,
            "n": app_market.cash_text(o.fee_minor), "N": m.quote_asset,
        })  # fmt: skip
    return data


async def _serve(socket: WebSocket) -> None:
    await socket.accept()
    service = socket.app.state.market
    verifier = socket.app.state.backpack_verifier
    assert isinstance(service, MarketService)
    assert isinstance(verifier, Verifier)
    connection = Connection(socket, service, verifier)
    await connection.poll()  # the cursor: only what happens from now on is sent
    receiving: asyncio.Task[str] | None = None
    try:
        while True:
            if receiving is None:
                receiving = asyncio.ensure_future(socket.receive_text())
            done, _ = await asyncio.wait({receiving}, timeout=POLL_SECONDS)
            if receiving in done:
                text = receiving.result()
                receiving = None
                await connection.handle(text)
            await connection.poll()
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        if receiving is not None:
            receiving.cancel()


@router.websocket("/")
async def stream_root(socket: WebSocket) -> None:
    await _serve(socket)


@router.websocket("/ws")
async def stream(socket: WebSocket) -> None:
    await _serve(socket)
