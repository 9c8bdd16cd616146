"""Backpack's JSON shapes: order bodies read into the core's integers, answers rendered.

Decimals are JSON strings both ways; a price is in the market's ticks (more places than the
tick is ``INVALID_PRICE``), a quantity in dollars of face value on the market's step (off the
step is ``INVALID_QUANTITY``), a quote quantity in USD cents. Optional fields without a value
are ``null`` in answers. Times per endpoint (BACKPACK.md §2): order objects ``createdAt`` in
integer ms, history orders and fills naive ISO text (``2025-07-27T18:05:40.897``), public trades
integer ms, klines ``"2025-07-19 13:09:00"``, markets ``createdAt`` naive ISO with microseconds,
depth ``timestamp`` integer µs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from reclaim.app import market as app_market
from reclaim.app.market import OrderRecord, Refusal
from reclaim.core import limits
from reclaim.core import market as mk
from reclaim.core.events import parse_time
from reclaim.entrypoints.api.backpack.errors import BackpackError, bad_request

Json = dict[str, Any]
_E = TypeVar("_E", bound=enum.Enum)

#: Order body fields the server reads; the others Backpack defines are accepted only without a
#: value (``null``, ``false``): spot notes have no margin, triggers or brokers here.
ORDER_FIELDS: Final = frozenset(
    {"symbol", "side", "orderType", "price", "quantity", "quoteQuantity", "timeInForce",
     "postOnly", "selfTradePrevention", "clientId"}
)  # fmt: skip
IGNORED_IF_EMPTY: Final = frozenset(
    {"reduceOnly", "autoLend", "autoLendRedeem", "autoBorrow", "autoBorrowRepay", "triggerPrice",
     "triggerQuantity", "triggerBy", "stopLossTriggerPrice", "stopLossLimitPrice",
     "stopLossTriggerBy", "takeProfitTriggerPrice", "takeProfitLimitPrice", "takeProfitTriggerBy",
     "brokerId", "slippageTolerance", "slippageToleranceType"}
)  # fmt: skip
#: Where a core refusal's code answers: Backpack's code (the status is 400 unless named).
_ORDER_CODES: Final[dict[str, tuple[int, str]]] = {
    "price_missing": (400, "INVALID_PRICE"),
    "price_not_allowed": (400, "INVALID_PRICE"),
    "price_out_of_range": (400, "INVALID_PRICE"),
    "price_above_maximum": (400, "INVALID_PRICE"),
    "quantity_missing": (400, "INVALID_QUANTITY"),
    "quantity_ambiguous": (400, "INVALID_QUANTITY"),
    "quantity_out_of_range": (400, "INVALID_QUANTITY"),
    "quote_quantity_out_of_range": (400, "INVALID_QUANTITY"),
    "quantity_below_minimum": (400, "INVALID_QUANTITY"),
    "fok_needs_quantity": (400, "INVALID_QUANTITY"),
    "client_id_out_of_range": (400, "INVALID_CLIENT_REQUEST"),
    "client_id_in_use": (400, "INVALID_CLIENT_REQUEST"),
    "market_not_found": (400, "INVALID_SYMBOL"),
    "market_closed": (400, "TRADING_PAUSED"),
    "market_cancel_only": (400, "TRADING_PAUSED"),
    "kyc_not_verified": (400, "FORBIDDEN"),
    "buyer_not_allowed": (400, "FORBIDDEN"),
    "insufficient_funds": (400, "INSUFFICIENT_FUNDS"),
    "open_orders_exceeded": (400, "ORDER_LIMIT"),
    "order_not_found": (404, "RESOURCE_NOT_FOUND"),
    "none_resting": (404, "RESOURCE_NOT_FOUND"),
}


def refusal_error(refusal: Refusal) -> BackpackError:
    """The Backpack answer to a core refusal (by its own code, then by its kind)."""
    status, code = _ORDER_CODES.get(refusal.code, (0, ""))
    if not code:
        status, code = {
            "forbidden": (400, "FORBIDDEN"),
            "not_found": (404, "RESOURCE_NOT_FOUND"),
            "unavailable": (400, "TRADING_PAUSED"),
        }.get(refusal.kind, (400, "INVALID_ORDER"))
    return BackpackError(status, code, f"{refusal.code}: {refusal.detail}")


# Reading ----------------------------------------------------------------------------------------


def text_field(body: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad_request("INVALID_CLIENT_REQUEST", f"Missing field {name}")
        return None
    if not isinstance(value, str):
        raise bad_request("INVALID_CLIENT_REQUEST", f"{name} must be a string")
    return value


def client_id_of(value: object) -> int | None:
    """Backpack's ``clientId``: a uint32 number, or the same as text (bpx-py sends text)."""
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 0 <= value <= limits.client_id_max
    ):
        raise bad_request("INVALID_CLIENT_REQUEST", "clientId must be a uint32")
    return value


def order_id_of(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise bad_request("INVALID_CLIENT_REQUEST", "orderId must be an order id")


def _enum(kind: type[_E], value: str | None, default: _E, name: str) -> _E:
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise bad_request("INVALID_CLIENT_REQUEST", f"{name} {value!r} is not valid") from None


def _decimal(m: mk.Market, name: str, text: str, kind: str) -> int:
    code = "INVALID_PRICE" if name == "price" else "INVALID_QUANTITY"
    try:
        if kind == "price":
            return app_market.price_ticks_of(m, text)
        if kind == "quantity":
            return app_market.quantity_steps_of(m, text)
        return app_market.parse_units(text, app_market.USD_DECIMALS)
    except app_market.DecimalError as exc:
        raise bad_request("INVALID_CLIENT_REQUEST", f"{name}: {exc}") from None
    except app_market.OffGridError as exc:
        grid = "tick size" if kind == "price" else "step size"
        raise bad_request(code, f"{name} is not a multiple of the {grid}: {exc}") from None


def order_request(body: Any, markets: Mapping[str, mk.Market]) -> mk.OrderRequest:
    """One ``OrderExecutePayload`` as the core's ``OrderRequest``, or Backpack's 400."""
    if not isinstance(body, dict):
        raise bad_request("INVALID_CLIENT_REQUEST", "an order is a JSON object")
    for name, value in body.items():
        if name in ORDER_FIELDS:
            continue
        if name in IGNORED_IF_EMPTY and value in (None, False):
            continue
        if name in IGNORED_IF_EMPTY:
            raise bad_request("INVALID_ORDER", f"{name} is not supported on this market")
        raise bad_request("INVALID_CLIENT_REQUEST", f"unknown field {name}")
    symbol = text_field(body, "symbol", required=True)
    assert symbol is not None
    m = markets.get(symbol)
    if m is None:
        raise bad_request("INVALID_SYMBOL", f"Invalid market symbol {symbol!r}")
    side = _enum(mk.Side, text_field(body, "side", required=True), mk.Side.Bid, "side")
    order_type = _enum(mk.OrderType, text_field(body, "orderType", required=True),
                       mk.OrderType.Limit, "orderType")  # fmt: skip
    price = text_field(body, "price")
    quantity = text_field(body, "quantity")
    quote = text_field(body, "quoteQuantity")
    tif = _enum(mk.TimeInForce, text_field(body, "timeInForce"), mk.TimeInForce.GTC,
                "timeInForce")  # fmt: skip
    stp = _enum(mk.SelfTradePrevention, text_field(body, "selfTradePrevention"),
                mk.SelfTradePrevention.RejectTaker, "selfTradePrevention")  # fmt: skip
    post_only = body.get("postOnly")
    if post_only is None:
        post_only = False
    if not isinstance(post_only, bool):
        raise bad_request("INVALID_CLIENT_REQUEST", "postOnly must be a boolean")
    return mk.OrderRequest(
        symbol=symbol, side=side, order_type=order_type,
        quantity_steps=None if quantity is None else _decimal(m, "quantity", quantity, "quantity"),
        price_ticks=None if price is None else _decimal(m, "price", price, "price"),
        quote_quantity_minor=None if quote is None else _decimal(m, "quoteQuantity", quote, "cash"),
        time_in_force=tif, post_only=post_only, self_trade_prevention=stp,
        client_id=client_id_of(body.get("clientId")),
    )  # fmt: skip


# Rendering --------------------------------------------------------------------------------------


def naive_ms(time: str) -> str:
    """``2025-07-27T18:05:40.897``: naive ISO, UTC, milliseconds."""
    return parse_time(time).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def naive_us(time: str) -> str:
    return parse_time(time).strftime("%Y-%m-%dT%H:%M:%S.%f")


def spaced(time: str) -> str:
    return parse_time(time).strftime("%Y-%m-%d %H:%M:%S")


_NULLS: Final = (
    "reduceOnly", "relatedOrderId", "stopLossLimitPrice", "stopLossTriggerBy",
    "stopLossTriggerPrice", "strategyId", "takeProfitLimitPrice", "takeProfitTriggerBy",
    "takeProfitTriggerPrice", "triggerBy", "triggerPrice", "triggerQuantity", "triggeredAt",
    "systemOrderType",
)  # fmt: skip


def order(m: mk.Market, o: OrderRecord, *, history: bool = False) -> Json:
    """Backpack's order object (``createdAt`` ms; naive ISO in history)."""
    r = o.request
    out: Json = {
        "id": str(o.order_id),
        "clientId": r.client_id,
        "createdAt": naive_ms(o.created_at) if history else app_market.ms_of(o.created_at),
        "executedQuantity": app_market.quantity_text(m, o.executed_steps),
        "executedQuoteQuantity": app_market.cash_text(o.executed_cash_minor),
        "orderType": r.order_type.value,
        "quantity": None
        if r.quantity_steps is None
        else app_market.quantity_text(m, r.quantity_steps),
        "selfTradePrevention": r.self_trade_prevention.value,
        "side": r.side.value,
        "status": o.status.value,
        "symbol": o.symbol,
        "timeInForce": r.time_in_force.value,
    }
    if r.order_type is mk.OrderType.Limit:
        out["price"] = None if r.price_ticks is None else app_market.price_text(m, r.price_ticks)
        out["postOnly"] = r.post_only
    else:
        out["quoteQuantity"] = (
            None if r.quote_quantity_minor is None else app_market.cash_text(r.quote_quantity_minor)
        )
        out["price"] = None
        out["slippageTolerance"] = None
        out["slippageToleranceType"] = None
    for name in _NULLS:
        out[name] = None
    if history:
        out["expiryReason"] = None
    return out


def fill(m: mk.Market, f: app_market.FillRecord) -> Json:
    return {
        "clientId": None if f.client_id is None else str(f.client_id),
        "fee": app_market.cash_text(f.fee_minor),
        "feeSymbol": m.quote_asset,
        "isMaker": f.is_maker,
        "orderId": str(f.order_id),
        "price": app_market.price_text(m, f.price_ticks),
        "quantity": app_market.quantity_text(m, f.quantity_steps),
        "side": f.side.value,
        "symbol": f.symbol,
        "systemOrderType": None,
        "timestamp": naive_ms(f.time),
        "tradeId": f.trade_id,
    }


def trade(m: mk.Market, t: app_market.TradeRecord) -> Json:
    return {
        "id": t.trade_id,
        "price": app_market.price_text(m, t.price_ticks),
        "quantity": app_market.quantity_text(m, t.quantity_steps),
        "quoteQuantity": app_market.cash_text(t.cash_minor),
        "timestamp": app_market.ms_of(t.time),
        "isBuyerMaker": t.buyer_is_maker,
    }


def base_symbol(m: mk.Market) -> str:
    """The note series' asset code, as the ledger's balance query keys it."""
    return m.base_asset


def market(m: mk.Market, status: mk.MarketStatus, listed_at: str) -> Json:
    tick = app_market.price_text(m, 1)
    return {
        "symbol": m.symbol,
        "baseSymbol": base_symbol(m),
        "quoteSymbol": m.quote_asset,
        "marketType": "SPOT",
        "filters": {
            "price": {
                "minPrice": tick,
                "maxPrice": app_market.price_text(m, m.max_price_ticks),
                "tickSize": tick,
                "maxMultiplier": None,
                "minMultiplier": None,
                "maxImpactMultiplier": None,
                "minImpactMultiplier": None,
                "meanMarkPriceBand": None,
                "meanPremiumBand": None,
                "borrowEntryFeeMaxMultiplier": None,
                "borrowEntryFeeMinMultiplier": None,
            },
            "quantity": {
                "minQuantity": app_market.quantity_text(m, m.min_quantity_steps),
                "maxQuantity": app_market.quantity_text(m, limits.market_quantity_steps_max),
                "stepSize": app_market.quantity_text(m, 1),
            },
        },
        "imfFunction": None,
        "mmfFunction": None,
        "fundingInterval": None,
        "fundingRateUpperBound": None,
        "fundingRateLowerBound": None,
        "openInterestLimit": None,
        "orderBookState": status.value,
        "createdAt": naive_us(listed_at) if listed_at else None,
        "visible": True,
        "positionLimitWeight": None,
    }
