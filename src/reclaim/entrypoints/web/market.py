"""The note market's pages: markets, a market's book and trades, orders, my orders and fills.

| route | what |
| --- | --- |
| ``GET /market`` | every market: its state, best bid and ask, last price |
| ``GET /market/{symbol}`` | the book (depth), the last trades, the order form, my balances |
| ``POST /market/{symbol}/quote`` | the order's cost (or proceeds) and fee, before confirming |
| ``POST /market/{symbol}/orders`` | place the order as quoted (limit, good till cancelled) |
| ``GET /market/orders`` | my open orders (each with a cancel button) and my fills |
| ``POST /market/orders/cancel`` | cancel one of my open orders |

Units on the page: a **price in cents on the dollar** of face value (``72`` is 0.72 of face;
the market's ticks), a **quantity in dollars of face** (the market's steps), cash in USD.

Orders go through ``app.market.MarketService`` (``app.state.market``, the object the Backpack
API uses): ``market.orders_placed`` and ``market.orders_cancelled`` signed by the gateway for
the logged-in creditor (the core's ``"gateway"`` signer of trader events, with no trader
authorisation: the session is the authority, logged by ``creditor.post``). The core decides
everything: a buyer the jurisdiction policy excludes (``buyer_not_allowed``), a market halted
(``market_cancel_only``) or closed, a balance too small — each refusal is shown in the reader's
language (``note_labels.REFUSAL``). Threats: a creditor sees only their own orders and fills
(the service is asked for the session's trader only); cancelling another's order id is refused
by the core (``order_not_found``: the trader's own book is searched); every POST passes the
origin and CSRF checks; the confirm form carries a random client id, so a double submit of
one confirmation is refused as ``client_id_in_use`` while the first order rests.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from babel.numbers import format_decimal
from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from reclaim.app.market import (
    DecimalError,
    MarketService,
    OffGridError,
    OrderRecord,
    Refusal,
    parse_units,
    quantity_steps_of,
)
from reclaim.core import market as mk
from reclaim.core.limits import client_id_max
from reclaim.core.market.amounts import cash_minor, fee_total_minor
from reclaim.core.market.model import pow10
from reclaim.entrypoints.routing import Router
from reclaim.entrypoints.web import forms, note_labels
from reclaim.entrypoints.web.creditor import creditor_of, form_post, page, see_other, services_of
from reclaim.entrypoints.web.pages import WebRoute, locale_of

router = Router(route_class=WebRoute, include_in_schema=False)
#: Levels of each side of the book, and trades, a market's page shows.
BOOK_LEVELS: Final = 10
TRADES_SHOWN: Final = 20
FILLS_SHOWN: Final = 50
#: A price is typed in cents on the dollar: ticks of 10**-price_decimals are 10**(2 - d) cents.
CENTS_DECIMALS: Final = 2
SIDES: Final = {"Bid": mk.Side.Bid, "Ask": mk.Side.Ask}


@dataclass(frozen=True, slots=True)
class Level:
    price: str  # cents on the dollar, in the locale's digits
    face_minor: int
    cash_minor: int


@dataclass(frozen=True, slots=True)
class Quote:
    side: str
    price_text: str
    quantity_text: str
    price: str
    face_minor: int
    cash_minor: int
    fee_minor: int
    total_minor: int  # a buy: cash + fee (at most); a sell: cash − fee (at least)
    client_id: int


def market_service(request: Request) -> MarketService:
    services_of(request)  # the portal's creditor pages are open
    service = getattr(request.app.state, "market", None)
    if not isinstance(service, MarketService):
        raise StarletteHTTPException(404)
    return service


def _market(service: MarketService, symbol: str) -> tuple[mk.Market, mk.MarketStatus]:
    found = service.market(symbol)
    if found is None:
        raise StarletteHTTPException(404)
    return found[0], found[1]


def cents_of(m: mk.Market, ticks: int, locale: str) -> str:
    """``ticks`` of ``m`` as cents on the dollar, in the locale's digits (``72``, ``72,5``)."""
    value = Decimal(ticks).scaleb(CENTS_DECIMALS - m.price_decimals)
    places = max(0, m.price_decimals - CENTS_DECIMALS)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=locale)


def ticks_of(m: mk.Market, text: str) -> int:
    """Cents on the dollar (``72``, ``72.5``) → ticks; ``DecimalError`` / ``OffGridError``."""
    places = m.price_decimals - CENTS_DECIMALS
    if places >= 0:
        return parse_units(text, places)
    cents = parse_units(text, 0)
    ticks, rest = divmod(cents, pow10(-places))
    if rest:
        raise OffGridError(f"{text} is not on the market's ticks")
    return ticks


def _levels(m: mk.Market, levels: list[tuple[int, int]], locale: str) -> list[Level]:
    return [Level(cents_of(m, p, locale), q * m.step_notes, cash_minor(p, q, m.lot_cash_minor))
            for p, q in levels]  # fmt: skip


def _market_page(
    request: Request, symbol: str, extra: Mapping[str, object], status: int = 200
) -> Response:
    service = market_service(request)
    m, state = _market(service, symbol)
    locale = locale_of(request)
    asks, bids, _ = service.depth(m.symbol, BOOK_LEVELS)
    trades = [
        (t, cents_of(m, t.price_ticks, locale), t.quantity_steps * m.step_notes)
        for t in service.trades(m.symbol, TRADES_SHOWN)
    ]
    services = services_of(request)
    visitor = forms.visitor_of(request, services.accounts)
    balances = service.balances(visitor.creditor) if visitor.creditor else {}
    context: dict[str, object] = {
        "m": m,
        "status": state.value,
        "asks": list(reversed(_levels(m, asks, locale))),  # highest first, best next to bids
        "bids": _levels(m, bids, locale),
        "trades": trades,
        "balances": balances,
        "step_face_minor": m.step_notes,
        "error": "",
        "form": {"side": "Bid", "price": "", "quantity": ""},
        **_words(),
        **extra,
    }
    return page(request, "market.html", context, status)


def _words() -> dict[str, object]:
    return {
        "REFUSAL_NOTES": note_labels.REFUSAL,
        "SIDE": note_labels.SIDE,
        "ORDER_STATUS": note_labels.ORDER_STATUS,
        "MARKET_STATUS": note_labels.MARKET_STATUS,
        "NOTICE_NOTES": note_labels.NOTICE,
    }


@router.get("/market")
def markets_page(request: Request) -> Response:
    service = market_service(request)
    locale = locale_of(request)
    rows = []
    for m, state, _listed in service.markets():
        asks, bids, _ = service.depth(m.symbol, 1)
        last = service.trades(m.symbol, 1)
        rows.append({
            "m": m, "status": state.value,
            "bid": cents_of(m, bids[0][0], locale) if bids else "",
            "ask": cents_of(m, asks[0][0], locale) if asks else "",
            "last": cents_of(m, last[0].price_ticks, locale) if last else "",
        })  # fmt: skip
    return page(request, "markets.html", {"rows": rows, **_words()})


@router.get("/market/orders")
def my_orders_page(request: Request) -> Response:
    return _my_orders(request, "", 200)


def _my_orders(request: Request, error: str, status: int) -> Response:
    service = market_service(request)
    _, creditor = creditor_of(request)
    locale = locale_of(request)
    terms = {m.symbol: m for m, _s, _l in service.markets()}

    def price(symbol: str, ticks: int) -> str:
        return cents_of(terms[symbol], ticks, locale)

    open_orders = [
        (o, price(o.symbol, o.request.price_ticks or 0),
         (o.request.quantity_steps or 0) * terms[o.symbol].step_notes,
         o.executed_steps * terms[o.symbol].step_notes)
        for o in service.open_orders(creditor, None)
    ]  # fmt: skip
    fills = [
        (f, price(f.symbol, f.price_ticks), f.quantity_steps * terms[f.symbol].step_notes,
         cash_minor(f.price_ticks, f.quantity_steps, terms[f.symbol].lot_cash_minor))
        for f in service.fills(creditor)[:FILLS_SHOWN]
    ]  # fmt: skip
    context = {
        "open_orders": open_orders,
        "fills": fills,
        "error": error,
        "done": request.query_params.get("done", "")[:16],
        **_words(),
    }
    return page(request, "my_orders.html", context, status)


@router.get("/market/{symbol}")
def market_page(request: Request, symbol: str) -> Response:
    return _market_page(request, symbol, {})


def _read_order(m: mk.Market, form: forms.Form) -> tuple[mk.Side, int, int] | str:
    """(side, price ticks, quantity steps) from the form, or the refusal code."""
    side = SIDES.get(form.get("side"))
    if side is None:
        return "side_invalid"
    ticks = _units(lambda text: ticks_of(m, text), form.get("price"),
                   "price_invalid", "price_out_of_range")  # fmt: skip
    if isinstance(ticks, str):
        return ticks
    steps = _units(lambda text: quantity_steps_of(m, text), form.get("quantity"),
                   "quantity_invalid", "quantity_out_of_range")  # fmt: skip
    if isinstance(steps, str):
        return steps
    return side, ticks, steps


def _units(read: Callable[[str], int], text: str, invalid: str, out_of_range: str) -> int | str:
    """``text`` read as a number of units above zero, else the code ``invalid`` (not a number
    on the market's grid) or ``out_of_range``."""
    try:
        units = read(text.strip())
    except (DecimalError, OffGridError):
        return invalid
    return units if units > 0 else out_of_range


def _typed(form: forms.Form) -> dict[str, str]:
    """What the order form held, to show it again with a refusal."""
    return {"side": form.get("side"), "price": form.get("price").strip(),
            "quantity": form.get("quantity").strip()}  # fmt: skip


def quote_of(m: mk.Market, side: mk.Side, ticks: int, steps: int, client_id: int,
             form: forms.Form, locale: str) -> Quote:  # fmt: skip
    """The order's cash and its largest fee (the taker rate, the higher of the two)."""
    cash = cash_minor(ticks, steps, m.lot_cash_minor)
    fee = fee_total_minor(cash * max(m.taker_fee_bps, m.maker_fee_bps))
    total = cash + fee if side is mk.Side.Bid else cash - fee
    return Quote(side.value, form.get("price").strip(), form.get("quantity").strip(),
                 cents_of(m, ticks, locale), steps * m.step_notes, cash, fee, total,
                 client_id)  # fmt: skip


@form_post(router, "/market/{symbol}/quote")
def _quote(request: Request, form: forms.Form) -> Response:
    service, symbol = market_service(request), str(request.path_params["symbol"])
    creditor_of(request)
    m, state = _market(service, symbol)
    typed = _typed(form)
    if state is not mk.MarketStatus.Open:
        code = "market_cancel_only" if state is mk.MarketStatus.CancelOnly else "market_closed"
        return _market_page(request, symbol, {"error": code, "form": typed}, 409)
    order = _read_order(m, form)
    if isinstance(order, str):
        return _market_page(request, symbol, {"error": order, "form": typed}, 400)
    side, ticks, steps = order
    quote = quote_of(m, side, ticks, steps, secrets.randbelow(client_id_max) + 1, form,
                     locale_of(request))  # fmt: skip
    return page(request, "order_confirm.html", {"m": m, "quote": quote, **_words()})


@form_post(router, "/market/{symbol}/orders")
def _order(request: Request, form: forms.Form) -> Response:
    service, symbol = market_service(request), str(request.path_params["symbol"])
    _, creditor = creditor_of(request)
    m, _state = _market(service, symbol)
    typed = _typed(form)
    order = _read_order(m, form)
    client = form.get("client_id")
    if isinstance(order, str) or not client.isdigit() or not 0 < int(client) <= client_id_max:
        error = order if isinstance(order, str) else "side_invalid"
        return _market_page(request, symbol, {"error": error, "form": typed}, 400)
    side, ticks, steps = order
    request_ = mk.OrderRequest(m.symbol, side, mk.OrderType.Limit, quantity_steps=steps,
                               price_ticks=ticks, client_id=int(client))  # fmt: skip
    answer = service.place(creditor, [request_], None)
    item = answer if isinstance(answer, Refusal) else answer.items[0]
    if isinstance(item, Refusal):
        return _market_page(request, symbol, {"error": item.code, "form": typed}, 409)
    assert isinstance(item, OrderRecord)
    return see_other("/market/orders?done=placed")


@form_post(router, "/market/orders/cancel")
def _cancel(request: Request, form: forms.Form) -> Response:
    service = market_service(request)
    _, creditor = creditor_of(request)
    symbol, order_id = form.get("symbol"), form.get("order_id")
    if not order_id.isdigit() or len(order_id) > 19:
        return _my_orders(request, "order_not_found", 400)
    answer = service.cancel(creditor, symbol, int(order_id), None, None)
    if isinstance(answer, Refusal):
        return _my_orders(request, answer.code, 409)
    return see_other("/market/orders?done=cancelled")
