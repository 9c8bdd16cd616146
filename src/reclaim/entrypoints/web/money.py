"""The creditor's withdrawal pages: destinations, the fee before confirming, the status.

| route | what |
| --- | --- |
| ``GET /withdrawals`` | my destinations, the request form, my withdrawals and their status |
| ``POST /withdrawals/destinations`` | add a destination: a code goes to my proved e-mail |
| ``POST /withdrawals/destinations/confirm`` | the code from that e-mail |
| ``POST /withdrawals/quote`` | the fee and the total, shown before anything is asked |
| ``POST /withdrawals`` | the request as quoted (the fee shown is checked: never another) |

Everything goes through ``WithdrawalService`` as the API's routes do (the gateway signs for the
logged-in creditor); the confirm form carries the quoted fee (``fee_minor``: the core refuses a
different schedule fee, ``fee_mismatch``) and a random ``client_id``, so a double submit is the
same withdrawal, never two.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Final

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from reclaim.app.withdrawals import DestinationView, Refused, WithdrawalService
from reclaim.core.limits import web_form_id_max_chars
from reclaim.core.money import AmountError, asset_of, parse_amount
from reclaim.core.withdrawals import RAIL_ASSETS
from reclaim.entrypoints.routing import Router
from reclaim.entrypoints.web import forms
from reclaim.entrypoints.web.creditor import code_name, creditor_of, form_post, page, see_other
from reclaim.entrypoints.web.pages import WebRoute

router = Router(route_class=WebRoute, include_in_schema=False)
#: The destination field of each rail (as the API names Backpack's ``address``).
ADDRESS_FIELD: Final = {"sepa": "iban", "hk_wire": "account", "usdc": "address"}
#: Rails whose destination also names the bank (BIC).
BIC_RAILS: Final = frozenset({"sepa", "hk_wire"})
CLIENT_ID_HEX: Final = 16


def _service(request: Request) -> tuple[WithdrawalService, str]:
    services, creditor = creditor_of(request)
    if services.withdrawals is None:
        raise StarletteHTTPException(404)
    return services.withdrawals, creditor


def _overview(request: Request, extra: Mapping[str, object], status: int = 200) -> Response:
    service, creditor = _service(request)
    context: dict[str, object] = {
        "destinations": service.destinations(creditor),
        "withdrawals": service.views(creditor, limit=50),
        "rails": sorted(RAIL_ASSETS),
        "rail_assets": RAIL_ASSETS,
        "error": "",
        "pending": None,
        "notice": request.query_params.get("done", "")[:32],
        **extra,
    }
    return page(request, "withdrawals.html", context, status)


def _refused(request: Request, code: str) -> Response:
    """The overview again, with the refusal ``code``."""
    return _overview(request, {"error": code}, 400)


def _quoted(
    service: WithdrawalService, creditor: str, form: forms.Form
) -> tuple[DestinationView, int] | str:
    """The form's destination (one of the creditor's) and amount (in its asset), or the
    refusal code."""
    chosen = [d for d in service.destinations(creditor) if d.id == form.get("destination_id")]
    if not chosen:
        return "destination_not_found"
    asset = asset_of(chosen[0].asset)
    assert asset is not None, "a rail's asset is a known asset"
    try:
        return chosen[0], parse_amount(form.get("amount").strip(), asset)
    except AmountError:
        return "amount_invalid"


@router.get("/withdrawals")
def withdrawals_page(request: Request) -> Response:
    return _overview(request, {})


@form_post(router, "/withdrawals/destinations")
def _add_destination(request: Request, form: forms.Form) -> Response:
    service, creditor = _service(request)
    rail = form.get("rail")
    if rail not in ADDRESS_FIELD:
        return _refused(request, "rail_unknown")
    fields = {ADDRESS_FIELD[rail]: form.get("address").strip()}
    if rail in BIC_RAILS and form.get("bic").strip():
        fields["bic"] = form.get("bic").strip()
    answer = service.add_destination(creditor, rail, fields)
    if isinstance(answer, Refused):
        return _refused(request, code_name(answer.code))
    return _overview(request, {"pending": answer.view if answer.mailed else None})


@form_post(router, "/withdrawals/destinations/confirm")
def _confirm_destination(request: Request, form: forms.Form) -> Response:
    service, creditor = _service(request)
    ident = form.get("destination_id")[:web_form_id_max_chars]
    answer = service.confirm_destination(creditor, ident, form.get("code"))
    if isinstance(answer, Refused):
        pending = [d for d in service.destinations(creditor) if d.id == ident]
        extra = {"error": code_name(answer.code), "pending": pending[0] if pending else None}
        return _overview(request, extra, 400)
    return see_other("/withdrawals?done=confirmed")


@form_post(router, "/withdrawals/quote")
def _quote(request: Request, form: forms.Form) -> Response:
    service, creditor = _service(request)
    quoted = _quoted(service, creditor, form)
    if isinstance(quoted, str):
        return _refused(request, quoted)
    destination, amount = quoted
    fee = service.quote(destination.rail, amount)
    if isinstance(fee, Refused):
        return _refused(request, code_name(fee.code))
    context = {
        "destination": destination,
        "amount_minor": amount,
        "fee_minor": fee,
        "total_minor": amount + fee,
        "amount_text": form.get("amount").strip(),
        "client_id": secrets.token_hex(CLIENT_ID_HEX),
    }
    return page(request, "withdraw_confirm.html", context)


@form_post(router, "/withdrawals")
def _request(request: Request, form: forms.Form) -> Response:
    service, creditor = _service(request)
    quoted = _quoted(service, creditor, form)
    fee_text, client_id = form.get("fee_minor"), form.get("client_id")
    if isinstance(quoted, str):
        return _refused(request, quoted)
    if not fee_text.isdigit() or len(fee_text) > 19 or not 0 < len(client_id) <= 64:
        return _refused(request, "amount_invalid")
    destination, amount = quoted
    answer = service.request(
        creditor, destination.rail, amount, {}, client_id=client_id, fee_minor=int(fee_text),
        destination_id=destination.id,
    )  # fmt: skip
    if isinstance(answer, Refused):
        return _refused(request, code_name(answer.code))
    return see_other("/withdrawals?done=requested")
