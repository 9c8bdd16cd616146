"""The Backpack REST routes: public market data and the signed trading routes.

Routes parse, call ``app.market.MarketService`` and render (``shapes``); refusals are
``BackpackError`` (``errors``). Blocking work (the log's lock, the replica's catch-up) runs on
a worker thread; a signed write holds its request mark in the request's context first, so the
command it submits stores it (``app.signed_requests``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from reclaim.app import bounded_json, signed_requests
from reclaim.app import market as app_market
from reclaim.app.log_service import epoch_ms
from reclaim.app.market import MarketService, OrderRecord, Refusal
from reclaim.core import limits
from reclaim.core import market as mk
from reclaim.core.events import format_time
from reclaim.core.money import asset_of, format_amount
from reclaim.entrypoints.api.backpack import shapes
from reclaim.entrypoints.api.backpack.errors import NO_STORE, BackpackError, bad_request
from reclaim.entrypoints.api.backpack.signing import (
    Value,
    Verified,
    Verifier,
    params_of_body,
    params_of_query,
)
from reclaim.entrypoints.routing import Router

router = Router(include_in_schema=False)
_T = TypeVar("_T")
#: Backpack's ``DepthLimit`` values; the default is the largest (changelog 2025-11-10).
DEPTH_LIMITS: Final = (5, 10, 20, 50, 100, 500, 1000)
#: Page sizes of trades, fills and orders: Backpack's 1 … 1000, default 100.
PAGE_LIMITS: Final = range(1, 1001)
PAGE_DEFAULT: Final = 100
TICKER_INTERVALS: Final = {"1d": timedelta(days=1), "1w": timedelta(weeks=1)}
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def service_of(request: Request) -> MarketService:
    service = request.app.state.market
    assert isinstance(service, MarketService), "backpack.install stores the service"
    return service


def verifier_of(request: Request) -> Verifier:
    verifier = request.app.state.backpack_verifier
    assert isinstance(verifier, Verifier)
    return verifier


def ok(value: Any) -> JSONResponse:
    return JSONResponse(value, headers=NO_STORE)


async def blocking(call: Callable[[], _T]) -> _T:
    return await run_in_threadpool(call)


# Query parameters ------------------------------------------------------------------------------


def query_text(request: Request, name: str, *, required: bool = False) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise bad_request("INVALID_CLIENT_REQUEST", f"parameter {name!r} is given twice")
    if not values:
        if required:
            raise bad_request("INVALID_CLIENT_REQUEST", f"Missing parameter {name}")
        return None
    return values[0]


def query_int(request: Request, name: str, default: int, allowed: Sequence[int]) -> int:
    text = query_text(request, name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or int(text) not in allowed:
        raise bad_request("INVALID_CLIENT_REQUEST", f"Invalid {name} {text!r}")
    return int(text)


def query_ms(request: Request, name: str) -> int | None:
    text = query_text(request, name)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 16):
        raise bad_request("INVALID_CLIENT_REQUEST", f"Invalid {name} {text!r}")
    return int(text)


def market_of(service: MarketService, symbol: str | None) -> mk.Market:
    found = None if symbol is None else service.market(symbol)
    if found is None:
        raise bad_request("INVALID_SYMBOL", f"Invalid market symbol {symbol!r}")
    return found[0]


def time_of_ms(ms: int) -> str:
    return format_time(_EPOCH + timedelta(milliseconds=min(ms, 253_402_300_799_000)))


# Public routes ----------------------------------------------------------------------------------


@router.get("/api/v1/ping")
async def ping() -> PlainTextResponse:
    return PlainTextResponse("pong")


@router.get("/api/v1/time")
async def server_time(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(epoch_ms(service_of(request).log.clock.now())))


@router.get("/api/v1/status")
async def status() -> JSONResponse:
    return JSONResponse({"status": "Ok", "message": None})


@router.get("/api/v1/securities")
async def securities() -> JSONResponse:
    return JSONResponse([])


@router.get("/api/v1/assets")
async def assets(request: Request) -> JSONResponse:
    markets = await blocking(service_of(request).markets)
    symbols = [("USD", "US dollar", 2)] + [
        (shapes.base_symbol(m), f"Recovery notes {m.series}", app_market.NOTE_DECIMALS)
        for m, _, _ in markets
    ]
    return JSONResponse([
        {"symbol": symbol, "displayName": name, "coingeckoId": None, "tokens": [{
            "displayName": name, "blockchain": "reclaim", "contractAddress": None,
            "depositEnabled": False, "minimumDeposit": "0", "withdrawEnabled": symbol == "USD",
            "minimumWithdrawal": "0", "maximumWithdrawal": None, "withdrawalFee": "0",
            "nativeDecimals": decimals,
        }]}
        for symbol, name, decimals in symbols
    ])  # fmt: skip


@router.get("/api/v1/markets")
async def markets(request: Request) -> JSONResponse:
    found = await blocking(service_of(request).markets)
    return JSONResponse([shapes.market(*m) for m in found])


async def _one_market(request: Request, symbol: str | None) -> JSONResponse:
    service = service_of(request)
    found = None if symbol is None else await blocking(lambda: service.market(symbol))
    if found is None:
        raise bad_request("INVALID_SYMBOL", f"Invalid market symbol {symbol!r}")
    return JSONResponse(shapes.market(*found))


@router.get("/api/v1/market")
async def one_market(request: Request) -> JSONResponse:
    return await _one_market(request, query_text(request, "symbol", required=True))


@router.get("/api/v1/markets/{symbol}")
async def one_market_by_path(request: Request, symbol: str) -> JSONResponse:
    """bpx-py's path for one market (not in Backpack's spec)."""
    return await _one_market(request, symbol)


def _ticker(service: MarketService, m: mk.Market, span: timedelta) -> dict[str, str]:
    now = service.log.clock.now()
    start, end = format_time(now - span), format_time(now + timedelta(microseconds=1))
    trades = service.trades_between(m.symbol, start, end)
    s = app_market.summary(trades, service.last_trade_before(m.symbol, start))
    return {
        "symbol": m.symbol,
        "firstPrice": app_market.price_text(m, s.first_ticks),
        "lastPrice": app_market.price_text(m, s.last_ticks),
        "priceChange": app_market.price_text(m, s.last_ticks - s.first_ticks),
        "priceChangePercent": app_market.change_fraction_text(s.first_ticks, s.last_ticks),
        "high": app_market.price_text(m, s.high_ticks),
        "low": app_market.price_text(m, s.low_ticks),
        "volume": app_market.quantity_text(m, s.volume_steps),
        "quoteVolume": app_market.cash_text(s.cash_minor),
        "trades": str(s.trades),
    }


def _span(request: Request) -> timedelta:
    interval = query_text(request, "interval") or "1d"
    if interval not in TICKER_INTERVALS:
        raise bad_request("INVALID_CLIENT_REQUEST", f"Invalid interval {interval!r}")
    return TICKER_INTERVALS[interval]


@router.get("/api/v1/ticker")
async def ticker(request: Request) -> JSONResponse:
    service = service_of(request)
    m = market_of(service, query_text(request, "symbol", required=True))
    span = _span(request)
    return JSONResponse(await blocking(lambda: _ticker(service, m, span)))


@router.get("/api/v1/tickers")
async def tickers(request: Request) -> JSONResponse:
    service = service_of(request)
    span = _span(request)

    def all_tickers() -> list[dict[str, str]]:
        return [_ticker(service, m, span) for m, _, _ in service.markets()]

    return JSONResponse(await blocking(all_tickers))


@router.get("/api/v1/depth")
async def depth(request: Request) -> JSONResponse:
    service = service_of(request)
    m = market_of(service, query_text(request, "symbol", required=True))
    levels = query_int(request, "limit", DEPTH_LIMITS[-1], DEPTH_LIMITS)
    asks, bids, position = await blocking(lambda: service.depth(m.symbol, levels))
    now = service.log.clock.now() - _EPOCH
    return JSONResponse({
        "asks": [[app_market.price_text(m, p), app_market.quantity_text(m, q)] for p, q in asks],
        "bids": [[app_market.price_text(m, p), app_market.quantity_text(m, q)]
                 for p, q in reversed(bids)],
        "lastUpdateId": str(position),
        "timestamp": now // timedelta(microseconds=1),
    })  # fmt: skip


@router.get("/api/v1/trades")
async def trades(request: Request) -> JSONResponse:
    service = service_of(request)
    m = market_of(service, query_text(request, "symbol", required=True))
    limit = query_int(request, "limit", PAGE_DEFAULT, PAGE_LIMITS)
    found = await blocking(lambda: service.trades(m.symbol, limit))
    return JSONResponse([shapes.trade(m, t) for t in found])


@router.get("/api/v1/trades/history")
async def trades_history(request: Request) -> JSONResponse:
    service = service_of(request)
    m = market_of(service, query_text(request, "symbol", required=True))
    limit = query_int(request, "limit", PAGE_DEFAULT, PAGE_LIMITS)
    offset = query_int(request, "offset", 0, range(limits.integer_max))
    found = await blocking(lambda: service.trades(m.symbol, limit, offset))
    return JSONResponse([shapes.trade(m, t) for t in found])


@router.get("/api/v1/klines")
async def klines(request: Request) -> JSONResponse:
    service = service_of(request)
    m = market_of(service, query_text(request, "symbol", required=True))
    interval = query_text(request, "interval", required=True)
    if interval not in app_market.KLINE_SECONDS and interval != app_market.MONTH:
        raise bad_request("INVALID_CLIENT_REQUEST", f"Invalid interval {interval!r}")
    start_s = query_ms(request, "startTime")
    if start_s is None:
        raise bad_request("INVALID_CLIENT_REQUEST", "Missing parameter startTime")
    end_s = query_ms(request, "endTime")
    start = time_of_ms(start_s * 1000)
    end = format_time(service.log.clock.now()) if end_s is None else time_of_ms(end_s * 1000)
    found = await blocking(lambda: service.trades_between(m.symbol, start, end))
    buckets: dict[datetime, list[app_market.TradeRecord]] = {}
    for t in found:
        begin, _ = app_market.bucket_of(interval, datetime.fromisoformat(t.time))
        buckets.setdefault(begin, []).append(t)
    out = []
    for begin in sorted(buckets):
        _, finish = app_market.bucket_of(interval, begin)
        s = app_market.summary(buckets[begin], None)
        out.append({
            "start": begin.strftime("%Y-%m-%d %H:%M:%S"),
            "end": finish.strftime("%Y-%m-%d %H:%M:%S"),
            "open": app_market.price_text(m, s.first_ticks),
            "high": app_market.price_text(m, s.high_ticks),
            "low": app_market.price_text(m, s.low_ticks),
            "close": app_market.price_text(m, s.last_ticks),
            "volume": app_market.quantity_text(m, s.volume_steps),
            "quoteVolume": app_market.cash_text(s.cash_minor),
            "trades": str(s.trades),
        })  # fmt: skip
    return JSONResponse(out)


# Signed routes ----------------------------------------------------------------------------------


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return bounded_json.parse(raw)
    except bounded_json.JsonRefused as exc:
        raise bad_request("INVALID_CLIENT_REQUEST", str(exc)) from None


async def signed_query(request: Request, instruction: str) -> Verified:
    params = params_of_query(request)
    verifier = verifier_of(request)
    return await blocking(lambda: verifier.verify(request, instruction, params))


def _markets(service: MarketService) -> dict[str, mk.Market]:
    return {m.symbol: m for m, _, _ in service.markets()}


def _rendered(service: MarketService, records: Sequence[OrderRecord], *,
              history: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    markets = _markets(service)
    return [shapes.order(markets[o.symbol], o, history=history) for o in records]


@router.get("/api/v1/account")
async def account(request: Request) -> JSONResponse:
    await signed_query(request, "accountQuery")
    service = service_of(request)
    found = await blocking(service.markets)
    maker = max((m.maker_fee_bps for m, _, _ in found), default=0)
    taker = max((m.taker_fee_bps for m, _, _ in found), default=0)
    return ok({
        "autoBorrowSettlements": False, "autoLend": False, "autoRealizePnl": False,
        "autoRepayBorrows": False, "borrowLimit": "0", "futuresMakerFee": "0",
        "futuresTakerFee": "0", "leverageLimit": "1",
        "limitOrders": limits.market_open_orders_per_trader_max, "liquidating": False,
        "positionLimit": "0", "spotMakerFee": str(maker), "spotTakerFee": str(taker),
        "triggerOrders": 0,
    })  # fmt: skip


def _find_open(service: MarketService, trader: str, params: Mapping[str, Value]) -> OrderRecord:
    m = market_of(service, _text(params, "symbol"))
    order_id, client_id = _order_named(params)
    for o in service.open_orders(trader, m.symbol):
        if o.order_id == order_id or (client_id is not None and o.request.client_id == client_id):
            return o
    raise BackpackError(404, "RESOURCE_NOT_FOUND", "Order not found")


def _order_named(params: Mapping[str, Value]) -> tuple[int | None, int | None]:
    """The order a request names: by its ``orderId`` or its ``clientId``, exactly one."""
    order_id = shapes.order_id_of(params.get("orderId"))
    client_id = shapes.client_id_of(params.get("clientId"))
    if (order_id is None) == (client_id is None):
        raise bad_request("INVALID_CLIENT_REQUEST", "Specify exactly one of orderId and clientId")
    return order_id, client_id


def _text(params: Mapping[str, Value], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request("INVALID_CLIENT_REQUEST", f"{name} must be a string")
    return value


@router.get("/api/v1/order")
async def get_order(request: Request) -> JSONResponse:
    verified = await signed_query(request, "orderQuery")
    service = service_of(request)
    params = params_of_query(request)
    found = await blocking(lambda: _find_open(service, verified.actor, params))
    return ok(_rendered(service, [found])[0])


def _placed(service: MarketService, answer: app_market.Placed | Refusal) -> list[Any]:
    if isinstance(answer, Refusal):
        raise shapes.refusal_error(answer)
    out: list[Any] = []
    markets = _markets(service)
    for item in answer.items:
        if isinstance(item, Refusal):
            error = shapes.refusal_error(item)
            out.append({"operation": "Err", "code": error.code, "message": error.message})
        else:
            out.append({**shapes.order(markets[item.symbol], item), "operation": "Ok"})
    return out


@router.post("/api/v1/order")
async def execute_order(request: Request) -> JSONResponse:
    body = await _body(request)
    if isinstance(body, list):
        message = 'Expected input type "OrderExecutePayload": a batch goes to /api/v1/orders'
        raise bad_request("INVALID_CLIENT_REQUEST", message)
    params = params_of_body(body)
    verifier = verifier_of(request)
    service = service_of(request)

    def execute() -> dict[str, Any]:
        """On one worker thread: each hop to the thread pool and back costs the event loop
        a wake-up, so the checks, the placement and the answer go there together."""
        verified = verifier.verify(request, "orderExecute", params)
        order = shapes.order_request(body, _markets(service))
        signed_requests.hold(verified.mark)
        answer = service.place(verified.actor, [order], verified.signed)
        if isinstance(answer, Refusal):
            raise shapes.refusal_error(answer)
        (placed,) = answer.items
        if isinstance(placed, Refusal):
            raise shapes.refusal_error(placed)
        return shapes.order(_markets(service)[placed.symbol], placed)

    return ok(await blocking(execute))


@dataclass(frozen=True, slots=True)
class SignedOnMarket:
    """A verified JSON object body and the market its ``symbol`` names."""

    verified: Verified
    params: dict[str, Value]
    service: MarketService
    market: mk.Market


async def signed_on_market(request: Request, instruction: str) -> SignedOnMarket:
    """The verified signature of a JSON object body, its mark held for the command the route
    submits, and the market it names (404 if there is none)."""
    params = params_of_body(await _body(request))
    verifier = verifier_of(request)
    verified = await blocking(lambda: verifier.verify(request, instruction, params))
    signed_requests.hold(verified.mark)
    service = service_of(request)
    m = await blocking(lambda: market_of(service, _text(params, "symbol")))
    return SignedOnMarket(verified, params, service, m)


@router.post("/api/v1/orders")
async def execute_orders(request: Request) -> JSONResponse:
    body = await _body(request)
    if not isinstance(body, list) or not body:
        raise bad_request("INVALID_CLIENT_REQUEST", "a batch is a non-empty JSON array of orders")
    if len(body) > limits.market_batch_orders_max:
        message = f"at most {limits.market_batch_orders_max} orders in a batch"
        raise bad_request("INVALID_CLIENT_REQUEST", message)
    items = [params_of_body(item) for item in body]
    verifier = verifier_of(request)
    verified = await blocking(lambda: verifier.verify(request, "orderExecute", items))
    service = service_of(request)
    markets = await blocking(lambda: _markets(service))
    orders: list[mk.OrderRequest | BackpackError] = []
    for item in items:
        try:
            orders.append(shapes.order_request(item, markets))
        except BackpackError as exc:
            orders.append(exc)
    valid = [o for o in orders if isinstance(o, mk.OrderRequest)]
    answers: list[Any] = []
    if valid:
        signed_requests.hold(verified.mark)
        answer = await blocking(lambda: service.place(verified.actor, valid, verified.signed))
        answers = _placed(service, answer)
    results = iter(answers)
    out = [
        next(results) if isinstance(o, mk.OrderRequest)
        else {"operation": "Err", "code": o.code, "message": o.message}
        for o in orders
    ]  # fmt: skip
    return ok(out)


@router.delete("/api/v1/order")
async def cancel_order(request: Request) -> JSONResponse:
    signed = await signed_on_market(request, "orderCancel")
    verified, service = signed.verified, signed.service
    order_id, client_id = _order_named(signed.params)
    answer = await blocking(lambda: service.cancel(verified.actor, signed.market.symbol, order_id,
                                                   client_id, verified.signed))  # fmt: skip
    if isinstance(answer, Refusal):
        raise shapes.refusal_error(answer)
    return ok(_rendered(service, answer)[0])


@router.delete("/api/v1/orders")
async def cancel_orders(request: Request) -> JSONResponse:
    signed = await signed_on_market(request, "orderCancelAll")
    verified, service, symbol = signed.verified, signed.service, signed.market.symbol
    kind = signed.params.get("orderType")
    if kind not in (None, "RestingLimitOrder", "ConditionalOrder"):
        raise bad_request("INVALID_CLIENT_REQUEST", f"Invalid orderType {kind!r}")
    if kind == "ConditionalOrder":  # none rest here: nothing to cancel
        return ok([])
    answer = await blocking(lambda: service.cancel_all(verified.actor, symbol, verified.signed))
    if isinstance(answer, Refusal):
        if answer.code == "none_resting":
            return ok([])
        raise shapes.refusal_error(answer)
    return ok(_rendered(service, answer))


@router.get("/api/v1/orders")
async def open_orders(request: Request) -> JSONResponse:
    verified = await signed_query(request, "orderQueryAll")
    service = service_of(request)
    symbol = query_text(request, "symbol")
    if symbol is not None:
        market_of(service, symbol)
    found = await blocking(lambda: service.open_orders(verified.actor, symbol))
    return ok(_rendered(service, found))


def _page(request: Request) -> tuple[int, int]:
    limit = query_int(request, "limit", PAGE_DEFAULT, PAGE_LIMITS)
    offset = query_int(request, "offset", 0, range(limits.integer_max))
    return limit, offset


def _sorted(items: list[_T], request: Request) -> list[_T]:
    direction = query_text(request, "sortDirection") or "Desc"
    if direction not in ("Asc", "Desc"):
        raise bad_request("INVALID_CLIENT_REQUEST", f"Invalid sortDirection {direction!r}")
    return list(reversed(items)) if direction == "Asc" else items


@dataclass(frozen=True, slots=True)
class _History:
    """A signed history query and what it filters by: a market, an order (either may be absent)."""

    verified: Verified
    service: MarketService
    symbol: str | None
    order_id: int | None


async def _history(request: Request, instruction: str) -> _History:
    verified = await signed_query(request, instruction)
    return _History(verified, service_of(request), query_text(request, "symbol"),
                    shapes.order_id_of(query_text(request, "orderId")))  # fmt: skip


@router.get("/wapi/v1/history/fills")
async def fills(request: Request) -> JSONResponse:
    query = await _history(request, "fillHistoryQueryAll")
    service, symbol, order_id = query.service, query.symbol, query.order_id
    start, end = query_ms(request, "from"), query_ms(request, "to")
    limit, offset = _page(request)
    fill_type = query_text(request, "fillType")
    if fill_type not in (None, "User", "AllLiquidation", "BookLiquidation", "Adl", "Backstop",
                         "Liquidation", "CollateralConversion",
                         "CollateralConversionAndSpotLiquidation"):  # fmt: skip
        raise bad_request("INVALID_CLIENT_REQUEST", f"Invalid fillType {fill_type!r}")
    found = await blocking(lambda: service.fills(query.verified.actor))
    if fill_type not in (None, "User"):
        found = []  # no system fills here: every fill is a trader's own
    chosen = [
        f for f in found
        if (symbol is None or f.symbol == symbol)
        and (order_id is None or f.order_id == order_id)
        and (start is None or app_market.ms_of(f.time) >= start)
        and (end is None or app_market.ms_of(f.time) < end)
    ]  # fmt: skip
    chosen = _sorted(chosen, request)[offset : offset + limit]
    markets = await blocking(lambda: _markets(service))
    return ok([shapes.fill(markets[f.symbol], f) for f in chosen])


@router.get("/wapi/v1/history/orders")
async def order_history(request: Request) -> JSONResponse:
    query = await _history(request, "orderHistoryQueryAll")
    limit, offset = _page(request)
    service = query.service
    found = await blocking(lambda: service.order_history(query.verified.actor, query.symbol))
    chosen = [o for o in found if query.order_id is None or o.order_id == query.order_id]
    chosen = _sorted(chosen, request)[offset : offset + limit]
    return ok(_rendered(service, chosen, history=True))


@router.get("/wapi/v1/capital/deposits")
async def deposits(request: Request) -> JSONResponse:
    verified = await signed_query(request, "depositQueryAll")
    service = service_of(request)
    start, end = query_ms(request, "from"), query_ms(request, "to")
    limit, offset = _page(request)
    found = await blocking(lambda: service.deposits(verified.actor))
    chosen = [
        d for d in found
        if (start is None or app_market.ms_of(d[3]) >= start)
        and (end is None or app_market.ms_of(d[3]) < end)
    ][offset : offset + limit]  # fmt: skip
    return ok([_deposit(*d) for d in chosen])


def _deposit(ident: str, asset: str, amount_minor: int, time: str) -> dict[str, Any]:
    found = asset_of(asset)
    quantity = str(amount_minor) if found is None else format_amount(amount_minor, found)
    return {
        "id": int.from_bytes(hashlib.sha256(ident.encode()).digest()[:6], "big"),
        "toAddress": None, "fromAddress": None, "source": "internal", "status": "confirmed",
        "transactionHash": ident, "symbol": asset, "quantity": quantity,
        "createdAt": shapes.naive_ms(time), "fiatAmount": None, "fiatCurrency": None,
        "institutionBic": None, "platformMemo": None,
    }  # fmt: skip
