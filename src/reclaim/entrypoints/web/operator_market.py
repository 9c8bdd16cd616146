"""The console's note series, markets and jurisdiction policy (``operator.PERMISSIONS``).

| route | who | what |
| --- | --- | --- |
| ``GET /operator/markets`` | admin, auditor | every note series and every market with its status |
| ``POST /operator/markets/status`` | admin | open, halt (``CancelOnly``) or close a market |
| ``GET /operator/policy`` | every role | the jurisdiction policy in force today |

A status change is ``SetMarketStatus`` through ``app.market_desk.MarketDesk`` signed by the
logged-in admin's own key (the desk's signer is the session's actor); the core refuses what
does not apply (an unknown market) and the refusal is shown with its code. Without a market
service (``app.state.market``) the markets page is ``404``; the policy page needs none.
"""

from __future__ import annotations

from typing import Final

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from reclaim.app.claims_queries import policy_in_force
from reclaim.app.market import MarketService
from reclaim.app.market_desk import MarketDesk
from reclaim.app.notes import NotesService
from reclaim.core import market as mk
from reclaim.core.limits import web_form_id_max_chars
from reclaim.entrypoints.routing import Router
from reclaim.entrypoints.web import forms
from reclaim.entrypoints.web.creditor import form_post
from reclaim.entrypoints.web.labels import N_
from reclaim.entrypoints.web.operator import Console, console_of, shown_after
from reclaim.entrypoints.web.pages import WebRoute

router = Router(route_class=WebRoute, include_in_schema=False)
MARKET_STATUS: Final = {
    mk.MarketStatus.Open.value: N_("Open for trading"),
    mk.MarketStatus.CancelOnly.value: N_("Halted: cancels only"),
    mk.MarketStatus.Closed.value: N_("Closed"),
}
#: The action that sets each status, as its button reads.
MARKET_ACTION: Final = {
    mk.MarketStatus.Open.value: N_("Open"),
    mk.MarketStatus.CancelOnly.value: N_("Halt"),
    mk.MarketStatus.Closed.value: N_("Close"),
}
NOTES_BUYERS: Final = {
    "allowed": N_("May buy"),
    "excluded": N_("May not buy"),
    "": N_("By status"),
}


def _desk(console: Console) -> MarketDesk:
    service = getattr(console.request.app.state, "market", None)
    if not isinstance(service, MarketService):
        raise StarletteHTTPException(404)
    return MarketDesk(service, admin=console.operator.actor)


@router.get("/operator/markets")
def markets_page(request: Request) -> Response:
    return _markets(console_of(request, "markets_view"))


def _markets(console: Console, error: str = "", done: str = "", status: int = 200) -> Response:
    desk = _desk(console)
    services = console.services
    today = services.log.clock.now().date().isoformat()
    markets = desk.views()
    by_series: dict[str, list[str]] = {}
    for view in markets:
        by_series.setdefault(view.market.series, []).append(view.market.symbol)
    context = {"series": NotesService(services.log).series(today), "markets": markets,
               "by_series": by_series, "statuses": list(MARKET_STATUS),
               "MARKET_STATUS": MARKET_STATUS, "MARKET_ACTION": MARKET_ACTION,
               "error": error, "done": done}  # fmt: skip
    return console.page("operator_markets.html", context, status)


@form_post(router, "/operator/markets/status")
def _set_status(request: Request, form: forms.Form) -> Response:
    console = console_of(request, "markets_set")
    wanted = form.get("status")
    if wanted not in MARKET_STATUS:
        return _markets(console, "market_status_unknown", "", 400)
    symbol = form.get("symbol")[:web_form_id_max_chars]
    answer = _desk(console).set_status(symbol, mk.MarketStatus(wanted))
    return shown_after(_markets, console, answer, symbol)


@router.get("/operator/policy")
def policy_page(request: Request) -> Response:
    console = console_of(request, "policy_view")
    log = console.services.log
    today = log.clock.now().date().isoformat()
    entries = log.read(lambda s: policy_in_force(s, today))
    context = {"entries": entries, "today": today, "NOTES_BUYERS": NOTES_BUYERS}
    return console.page("operator_policy.html", context)
