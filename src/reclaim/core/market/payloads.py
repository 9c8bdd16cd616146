"""Event payloads of the market core, the roles that may sign them, and their strict readers.

Payloads hold only canonical JSON values; integers are decimal text (``"100"``), absent
optionals are ``null``, booleans are JSON booleans. The readers accept a Python ``int`` too (a
payload built in-process) but never a ``bool`` where an integer belongs, a float, or text that
is not the canonical form of an integer; enums by their exact Backpack names. They check shape
only; the ladders check meaning (``machine.check`` re-decides).

Shapes (version 1):

``market.listed``  ``{"symbol", "series", "quote_asset", "price_decimals", "step_notes",
"min_quantity_steps", "maker_fee_bps", "taker_fee_bps", "fee_owner"}``.
``market.status_set``  ``{"symbol", "status"}`` (``Open`` | ``CancelOnly`` | ``Closed``).
``market.orders_placed``  ``{"name", "orders": [ORDER, ...]}`` (``name``: the trader, who
signs it: "self" in the machine's authority rung) (1 … batch bound), ORDER =
``{"symbol", "side", "order_type", "quantity_steps", "price_ticks", "quote_quantity_minor",
"time_in_force", "post_only", "self_trade_prevention", "client_id"}``.
``market.orders_cancelled``  ``{"name", "symbol", "order_ids": [id, ...]}`` ascending.
Both may carry ``"authorisation": {"api_key", "signed", "signature"}`` (``model.Authorisation``:
the trader's signed API request, the verifier checks it); absent when the command had none.

Fills, self-trade cancels and reservations are not in the payloads: they are derived from the
event and the book (``matching.plan``), so the log cannot carry a fill the book did not make.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final, TypeVar

from reclaim.core import limits
from reclaim.core.market.model import (
    Authorisation,
    Market,
    MarketEvent,
    MarketListed,
    MarketStatus,
    MarketStatusSet,
    OrderRequest,
    OrdersCancelled,
    OrdersPlaced,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from reclaim.core.payload_fields import PayloadError as PayloadError
from reclaim.core.payload_fields import integer, record, text
from reclaim.core.types import JsonValue

LISTED: Final = "market.listed"
STATUS_SET: Final = "market.status_set"
ORDERS_PLACED: Final = "market.orders_placed"
ORDERS_CANCELLED: Final = "market.orders_cancelled"

#: Market event types, with the schema versions this code reads and the roles that may sign
#: each (the shape of ``reclaim.core.events.EVENT_TYPES``). "self": the trader named in the
#: payload signs its own orders with its API key; the gateway signs for traders on the web.
MARKET_EVENT_TYPES: Final[dict[str, tuple[frozenset[int], frozenset[str]]]] = {
    LISTED: (frozenset({1}), frozenset({"admin"})),
    STATUS_SET: (frozenset({1}), frozenset({"admin"})),
    ORDERS_PLACED: (frozenset({1}), frozenset({"self", "gateway"})),
    ORDERS_CANCELLED: (frozenset({1}), frozenset({"self", "gateway"})),
}

#: The optional field of an order or cancel payload with the trader's signed request
#: (``model.Authorisation``).
AUTHORISATION: Final = "authorisation"
AUTHORISATION_FIELDS: Final = frozenset({"api_key", "signed", "signature"})
MARKET_FIELDS: Final = frozenset(
    {
        "symbol",
        "series",
        "quote_asset",
        "price_decimals",
        "step_notes",
        "min_quantity_steps",
        "maker_fee_bps",
        "taker_fee_bps",
        "fee_owner",
    }
)
ORDER_FIELDS: Final = frozenset(
    {
        "symbol",
        "side",
        "order_type",
        "quantity_steps",
        "price_ticks",
        "quote_quantity_minor",
        "time_in_force",
        "post_only",
        "self_trade_prevention",
        "client_id",
    }
)


# Writers ----------------------------------------------------------------------------------------


def _opt(value: int | None) -> JsonValue:
    return None if value is None else str(value)


def market_payload(m: Market) -> dict[str, JsonValue]:
    return {
        "symbol": m.symbol,
        "series": m.series,
        "quote_asset": m.quote_asset,
        "price_decimals": str(m.price_decimals),
        "step_notes": str(m.step_notes),
        "min_quantity_steps": str(m.min_quantity_steps),
        "maker_fee_bps": str(m.maker_fee_bps),
        "taker_fee_bps": str(m.taker_fee_bps),
        "fee_owner": m.fee_owner,
    }


def order_payload(r: OrderRequest) -> dict[str, JsonValue]:
    return {
        "symbol": r.symbol,
        "side": r.side.value,
        "order_type": r.order_type.value,
        "quantity_steps": _opt(r.quantity_steps),
        "price_ticks": _opt(r.price_ticks),
        "quote_quantity_minor": _opt(r.quote_quantity_minor),
        "time_in_force": r.time_in_force.value,
        "post_only": r.post_only,
        "self_trade_prevention": r.self_trade_prevention.value,
        "client_id": _opt(r.client_id),
    }


def to_payload(event: MarketEvent) -> tuple[str, dict[str, JsonValue]]:
    """``(event type, payload)`` of an event (its sequence and time are the log's envelope)."""
    if isinstance(event, MarketListed):
        return LISTED, market_payload(event.market)
    if isinstance(event, MarketStatusSet):
        return STATUS_SET, {"symbol": event.symbol, "status": event.status.value}
    if isinstance(event, OrdersPlaced):
        orders: list[JsonValue] = [order_payload(r) for r in event.orders]
        placed: dict[str, JsonValue] = {"name": event.trader, "orders": orders}
        return ORDERS_PLACED, _with_authorisation(placed, event.authorisation)
    ids: list[JsonValue] = [str(i) for i in event.order_ids]
    cancelled: dict[str, JsonValue] = {"name": event.trader, "symbol": event.symbol,
                                       "order_ids": ids}  # fmt: skip
    return ORDERS_CANCELLED, _with_authorisation(cancelled, event.authorisation)


def _with_authorisation(
    payload: dict[str, JsonValue], authorisation: Authorisation | None
) -> dict[str, JsonValue]:
    """The payload with the trader's authorisation, when there is one (absent otherwise, so
    events without one keep their bytes)."""
    if authorisation is not None:
        payload[AUTHORISATION] = {
            "api_key": authorisation.api_key,
            "signed": authorisation.signed,
            "signature": authorisation.signature,
        }
    return payload


def _authorisation_of(p: dict[str, JsonValue]) -> Authorisation | None:
    """Pops and reads the optional authorisation field of an order or cancel payload."""
    if AUTHORISATION not in p:
        return None
    a = record(p.pop(AUTHORISATION), AUTHORISATION_FIELDS)
    return Authorisation(text(a, "api_key"), text(a, "signed"), text(a, "signature"))


# Strict readers (the verifier's) ----------------------------------------------------------------

E = TypeVar("E", bound=enum.Enum)


def _enum(p: Mapping[str, JsonValue], name: str, kind: type[E]) -> E:
    value = text(p, name)
    try:
        return kind(value)
    except ValueError:
        raise PayloadError(f"{name} {value!r} is not a {kind.__name__}") from None


def _opt_int(p: Mapping[str, JsonValue], name: str) -> int | None:
    return None if p[name] is None else integer(p, name)


def _list(p: Mapping[str, JsonValue], name: str, low: int, high: int) -> list[JsonValue]:
    items = p[name]
    if not isinstance(items, list) or not low <= len(items) <= high:
        raise PayloadError(f"{name} is not a list of {low} … {high} items")
    return items


def market_from_payload(item: JsonValue) -> Market:
    p = record(item, MARKET_FIELDS)
    return Market(
        symbol=text(p, "symbol"), series=text(p, "series"), quote_asset=text(p, "quote_asset"),
        price_decimals=integer(p, "price_decimals"), step_notes=integer(p, "step_notes"),
        min_quantity_steps=integer(p, "min_quantity_steps"),
        maker_fee_bps=integer(p, "maker_fee_bps"), taker_fee_bps=integer(p, "taker_fee_bps"),
        fee_owner=text(p, "fee_owner"),
    )  # fmt: skip


def order_from_payload(item: JsonValue) -> OrderRequest:
    p = record(item, ORDER_FIELDS)
    post_only = p["post_only"]
    if not isinstance(post_only, bool):
        raise PayloadError("post_only is not a boolean")
    return OrderRequest(
        symbol=text(p, "symbol"), side=_enum(p, "side", Side),
        order_type=_enum(p, "order_type", OrderType),
        quantity_steps=_opt_int(p, "quantity_steps"), price_ticks=_opt_int(p, "price_ticks"),
        quote_quantity_minor=_opt_int(p, "quote_quantity_minor"),
        time_in_force=_enum(p, "time_in_force", TimeInForce), post_only=post_only,
        self_trade_prevention=_enum(p, "self_trade_prevention", SelfTradePrevention),
        client_id=_opt_int(p, "client_id"),
    )  # fmt: skip


def from_payload(
    event_type: str, payload: Mapping[str, JsonValue], sequence: int, time: str
) -> MarketEvent:
    """The event a logged payload names; ``PayloadError`` if it has not its type's shape."""
    if event_type == LISTED:
        return MarketListed(sequence, time, market_from_payload(dict(payload)))
    if event_type == STATUS_SET:
        p = record(dict(payload), frozenset({"symbol", "status"}))
        return MarketStatusSet(sequence, time, text(p, "symbol"), _enum(p, "status", MarketStatus))
    if event_type == ORDERS_PLACED:
        p = dict(payload)
        authorisation = _authorisation_of(p)
        p = record(p, frozenset({"name", "orders"}))
        items = _list(p, "orders", 1, limits.market_batch_orders_max)
        orders = tuple(order_from_payload(i) for i in items)
        return OrdersPlaced(sequence, time, text(p, "name"), orders, authorisation)
    if event_type == ORDERS_CANCELLED:
        p = dict(payload)
        authorisation = _authorisation_of(p)
        p = record(p, frozenset({"name", "symbol", "order_ids"}))
        raw = _list(p, "order_ids", 1, limits.market_open_orders_per_trader_max)
        ids = tuple(integer({"id": i}, "id") for i in raw)
        if list(ids) != sorted(set(ids)):
            raise PayloadError("order_ids are not ascending and unique")
        return OrdersCancelled(sequence, time, text(p, "name"), text(p, "symbol"), ids,
                               authorisation)  # fmt: skip
    raise PayloadError(f"{event_type!r} is not a market event type")
