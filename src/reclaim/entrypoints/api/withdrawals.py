"""The withdrawal API, after Backpack Exchange's capital API: request and list withdrawals.

``install(app, service)`` includes ``router``; the logic is ``reclaim.app.withdrawals``
(routes parse, call and render only).

| route                                  | auth             | instruction          |
| -------------------------------------- | ---------------- | -------------------- |
| ``POST /wapi/v1/capital/withdrawals``  | signed, creditor | ``withdraw``         |
| ``GET /wapi/v1/capital/withdrawals``   | signed, creditor | ``withdrawalQueryAll`` |
| ``POST /wapi/v1/capital/destinations`` | signed, creditor | ``destinationAdd``   |
| ``POST /wapi/v1/capital/destinations/confirm`` | signed, creditor | ``destinationConfirm`` |
| ``GET /wapi/v1/capital/destinations``  | signed, creditor | ``destinationQueryAll`` |
| ``DELETE /wapi/v1/capital/destinations`` | signed, creditor | ``destinationRemove`` |

**Destinations** (issue 9, finding 7: a second factor on the money path). A withdrawal goes only
to a destination the creditor's proved e-mail confirmed, once its cooling-off (a setting,
default 24 h) has passed. ``POST .../destinations`` with ``{"address", "blockchain", "bankBic"}``
(as a withdrawal names its destination) adds it and mails a code to the creditor's proved
address, with the masked destination; ``POST .../destinations/confirm`` with
``{"destinationId", "code"}`` confirms it; ``GET`` lists yours (``status``: ``pending``,
``cooling_off``, ``active``, ``removed``); ``DELETE ?destinationId=`` removes one. A withdrawal
names its destination by ``address`` (the same account: the same destination) or by
``destinationId`` (one of yours; exactly one of the two). Someone holding your API key but not
your mailbox can add their IBAN but never confirm it.

**Request** (Backpack's body, JSON)::

    {"address": "FR76 3000 6000 0112 3456 7890 189", "blockchain": "sepa",
     "quantity": "2500.00", "symbol": "EUR", "clientId": 42}

- ``blockchain`` names the **rail**: ``sepa``, ``hk_wire`` or ``usdc`` (Backpack's chain names
  do not fit bank rails; a client passes the rail here);
- ``address``: the IBAN (sepa), the account number (hk_wire) or the EIP-55 address (usdc);
- reclaim's extensions: ``bankBic`` (sepa: optional; hk_wire: the beneficiary bank's BIC) and
  ``fee`` (the fee the client showed; a different schedule fee is refused, never charged);
- ``quantity``: the amount sent, in ``symbol`` (which must be the rail's asset), at most the
  asset's decimals; the fee is charged on top;
- ``clientId`` (Backpack: an unsigned 32-bit integer): the idempotency key — the same clientId
  again is the same withdrawal (answered as it is), never a second one. Without a clientId
  the request's signature is the key (a withdrawal id derived from its SHA-256), so the same
  signed bytes are never two withdrawals.

**Signing**: Backpack signs a POST body's fields like query parameters
(``instruction=withdraw&address=...&blockchain=...&clientId=42&quantity=...&symbol=...&timestamp
=...&window=...``, keys sorted). This route does the same: the body's fields join the signed
parameters (a field that is also a query parameter is refused), and the usual checks of
``auth.py`` follow — window, replay, key, signature.

**Answer** (Backpack's ``Withdrawal``): ``id``, ``blockchain``, ``clientId`` (``null`` in
listings: reclaim keeps only the id derived from it), ``identifier`` and ``transactionHash``
(the rail's reference once confirmed), ``quantity``, ``fee``, ``symbol``, ``status``
(``pending`` → ``confirmed`` | ``failed`` | ``expired``), ``toAddress`` (masked: the destination
is in the PII vault, and answers are not the place to echo it), ``createdAt``; and reclaim's
``reason`` (a failure's code) and ``expiresAt``.

**Problems** (problem+json, stable ``code``): 400 ``body_malformed`` (not JSON, or JSON past
the bounded parser's bounds: ``app.bounded_json``), 400 ``invalid_parameter`` (a body that does
not fit: unknown fields, a nested value, a bad quantity), and the rail's and core's
input codes ``iban_invalid``, ``bic_invalid``, ``not_in_sepa_zone``, ``account_invalid``,
``address_invalid``, ``address_not_checksummed``, ``beneficiary_field_missing``,
``rail_unknown``, ``asset_not_served_by_rail``, ``amount_out_of_range``,
``amount_below_minimum``, ``fee_mismatch``, ``destination_rail_mismatch``; 403 ``forbidden``
(not a creditor), ``kyc_not_approved``, ``jurisdiction_unknown``, ``jurisdiction_sanctioned``,
``jurisdiction_unlisted``, ``rail_not_allowed``, ``address_not_allowed``,
``verified_name_missing``, ``destination_not_confirmed`` and ``destination_cooling_off`` (403,
not 409: like KYC, the second factor is a precondition the request lacks, not a conflict with
another request; retrying the same request fails the same way until the mailbox confirms or the
cooling-off passes — the detail says until when), and for destinations ``email_not_on_file``,
``code_invalid``, ``code_expired``, ``code_attempts_exhausted``; 404 ``destination_not_found``
(never there, or another creditor's: the same answer); 409 ``destination_removed``,
``destinations_exceeded``,
``insufficient_funds``, ``open_withdrawals_exceeded``, ``exists_with_different_fields``,
``rail_funds_insufficient``, ``request_replayed``; 413 ``request_too_large`` (the app's body
limit); 503 ``rail_not_configured``; and the signature problems of ``auth.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, NoReturn, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reclaim.app import bounded_json
from reclaim.app.ports import RequestMark
from reclaim.app.request_signing import param_text
from reclaim.app.withdrawals import (
    DestinationView,
    Refused,
    Requested,
    View,
    WithdrawalService,
)
from reclaim.core.events import format_time
from reclaim.core.limits import client_id_max, withdrawals_page_max
from reclaim.core.money import AmountError, asset_of, format_amount, parse_amount
from reclaim.core.withdrawals import RequestCode
from reclaim.entrypoints.api import auth
from reclaim.entrypoints.api.auth import instruction
from reclaim.entrypoints.api.problems import (
    FORBIDDEN,
    BodyMalformedError,
    InvalidParameterError,
    RefusedError,
    refused_error,
)
from reclaim.entrypoints.api.schemas import Problem, QueryInt
from reclaim.entrypoints.routing import Router

PATH: Final = "/wapi/v1/capital/withdrawals"
DESTINATIONS_PATH: Final = "/wapi/v1/capital/destinations"
CONFIRM_PATH: Final = "/wapi/v1/capital/destinations/confirm"
#: How the API names a destination's status (``reclaim.app.withdrawals.DestinationView``).
DESTINATION_STATUSES: Final = ("pending", "cooling_off", "active", "removed")
NO_STORE: Final = {"Cache-Control": "no-store"}
PAGE_DEFAULT: Final = 100
STATUS: Final = {"requested": "pending", "confirmed": "confirmed", "failed": "failed",
                 "expired": "expired"}  # fmt: skip
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: The body field that carries the destination, by rail.
_ADDRESS_FIELD: Final = {"sepa": "iban", "hk_wire": "account", "usdc": "address"}

router = Router(tags=["capital"])


# Shapes -----------------------------------------------------------------------------------------


class WithdrawalRequest(BaseModel):
    """Backpack's ``withdraw`` body, with reclaim's ``bankBic`` and ``fee``."""

    model_config = ConfigDict(extra="forbid")
    address: str | None = Field(default=None, min_length=1, max_length=128)
    #: reclaim's: one of your destinations instead of ``address`` (exactly one of the two).
    destinationId: str | None = Field(default=None, min_length=1, max_length=64)  # noqa: N815
    blockchain: str = Field(min_length=1, max_length=32, description="the rail")
    quantity: str = Field(min_length=1, max_length=40, examples=["2500.00"])
    symbol: str = Field(min_length=1, max_length=16, examples=["EUR"])
    clientId: int | None = Field(default=None, ge=0, le=client_id_max, strict=True)  # noqa: N815
    bankBic: str | None = Field(default=None, max_length=11)  # noqa: N815 - Backpack style
    fee: str | None = Field(default=None, max_length=40)


class Withdrawal(BaseModel):
    """Backpack's ``Withdrawal``, with reclaim's ``reason`` and ``expiresAt``."""

    model_config = ConfigDict(frozen=True)
    id: str
    blockchain: str
    clientId: str | None  # noqa: N815 - Backpack's field names
    identifier: str | None
    quantity: str
    fee: str
    symbol: str
    status: str = Field(examples=["pending", "confirmed", "failed", "expired"])
    toAddress: str  # noqa: N815
    transactionHash: str | None  # noqa: N815
    createdAt: str  # noqa: N815
    expiresAt: str  # noqa: N815
    reason: str | None


class DestinationRequest(BaseModel):
    """A new withdrawal destination: as a withdrawal names it."""

    model_config = ConfigDict(extra="forbid")
    address: str = Field(min_length=1, max_length=128)
    blockchain: str = Field(min_length=1, max_length=32, description="the rail")
    bankBic: str | None = Field(default=None, max_length=11)  # noqa: N815 - Backpack style


class DestinationConfirmation(BaseModel):
    """The code mailed to the creditor's address for a new destination."""

    model_config = ConfigDict(extra="forbid")
    destinationId: str = Field(min_length=1, max_length=64)  # noqa: N815
    code: str = Field(min_length=1, max_length=64, examples=["1234 5678"])


class Destination(BaseModel):
    """A withdrawal destination: masked, with its status and times."""

    model_config = ConfigDict(frozen=True)
    id: str
    blockchain: str
    symbol: str
    toAddress: str  # noqa: N815 - masked, as in withdrawals
    status: str = Field(examples=list(DESTINATION_STATUSES))
    createdAt: str  # noqa: N815
    confirmedAt: str | None  # noqa: N815
    usableFrom: str | None  # noqa: N815 - no withdrawal to it before
    removedAt: str | None  # noqa: N815
    codeMailed: bool | None = None  # noqa: N815 - answers to an addition only


_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": Problem, "description": "a malformed body or destination (see the codes)"},
    401: {"model": Problem, "description": "not signed, or not by a live key"},
    403: {"model": Problem, "description": "not allowed: KYC, jurisdiction, rail, allow-list"},
    409: {"model": Problem, "description": "insufficient funds, replay, a clientId reused"},
    413: {"model": Problem, "description": "a body over the limit (`request_too_large`)"},
    "default": {"model": Problem, "description": "any other error, as problem+json"},
}


# Dependencies -----------------------------------------------------------------------------------


def _service(request: Request) -> WithdrawalService:
    service = request.app.state.withdrawals
    assert isinstance(service, WithdrawalService), "install() stores the service"
    return service


ServiceDep = Annotated[WithdrawalService, Depends(_service)]


async def _signed_body(request: Request) -> tuple[RequestMark, dict[str, Any]]:
    """The mark of the signed request (its actor...) and its body, whose fields are signed
    like query parameters."""
    try:
        body = bounded_json.parse(await request.body())
    except bounded_json.JsonRefused as exc:
        raise BodyMalformedError(str(exc)) from None
    if not isinstance(body, dict):
        raise InvalidParameterError("the body is not a JSON object")
    signed: list[tuple[str, str]] = list(request.query_params.multi_items())
    for name, value in body.items():
        if isinstance(value, bool | int | str):
            signed.append((name, param_text(value)))
        elif value is not None:
            raise InvalidParameterError(f"{name}: a body field is text, a number or a boolean")
    scope = {**request.scope, "query_string": urlencode(signed).encode()}
    return await auth.authenticate(Request(scope)), body


M = TypeVar("M", bound=BaseModel)
SignedBody = Annotated[tuple[RequestMark, dict[str, Any]], Depends(_signed_body)]


def _creditor(service: WithdrawalService, actor: str) -> str:
    role = service.log.read(lambda s: s.actors[actor].role if actor in s.actors else None)
    if role != "creditor":
        raise RefusedError(FORBIDDEN, f"{actor!r} is not a creditor")
    return actor


# Routes -----------------------------------------------------------------------------------------


@router.post(PATH, response_model=Withdrawal, responses=_RESPONSES,
             openapi_extra=instruction("withdraw"))  # fmt: skip
def request_withdrawal(service: ServiceDep, signed: SignedBody, response: Response) -> Withdrawal:
    """Withdraw ``quantity`` of ``symbol`` through the rail ``blockchain`` to ``address``; the
    fee is reserved with it and charged when the rail confirms."""
    mark, raw = signed
    actor = mark.actor
    body = _parsed(WithdrawalRequest, raw)
    creditor = _creditor(service, actor)
    asset = asset_of(body.symbol)
    if asset is None:
        raise InvalidParameterError(f"symbol {body.symbol!r} is not an asset")
    try:
        amount = parse_amount(body.quantity, asset)
        fee = None if body.fee is None else parse_amount(body.fee, asset)
    except AmountError as exc:
        raise InvalidParameterError(f"quantity or fee: {exc}") from None
    rail = service.rails.get(body.blockchain)
    if rail is not None and rail.asset != asset.code:
        raise refused_error(
            Refused(RequestCode.asset_not_served_by_rail, f"{rail.name} pays out {rail.asset}")
        )
    if (body.address is None) == (body.destinationId is None):
        raise InvalidParameterError("give exactly one of address and destinationId")
    destination = {}
    if body.address is not None:
        destination = _destination_fields(body.blockchain, body.address, body.bankBic)
    client_id = None if body.clientId is None else str(body.clientId)
    # No clientId: the signature is the idempotency key, so the same signed bytes can never be
    # a second withdrawal, even if they got past the replay guard (issue 9, finding 6).
    answer = service.request(creditor, body.blockchain, amount, destination,
                             client_id=client_id, fee_minor=fee,
                             request_key=mark.digest,
                             destination_id=body.destinationId)  # fmt: skip
    if isinstance(answer, Refused):
        _raise(answer)
    assert isinstance(answer, Requested)
    response.headers.update(NO_STORE)
    view = service.view(answer.withdrawal_id)
    assert view is not None, "an accepted request is in the state"
    return render(view, client_id)


@router.get(PATH, response_model=list[Withdrawal], responses=_RESPONSES,
            openapi_extra=instruction("withdrawalQueryAll"))  # fmt: skip
def list_withdrawals(
    service: ServiceDep,
    actor: auth.AuthenticatedActor,
    response: Response,
    from_: Annotated[QueryInt | None, Query(alias="from", description="ms since the epoch")] = None,
    to: Annotated[QueryInt | None, Query(description="ms since the epoch, exclusive")] = None,
    limit: Annotated[QueryInt, Query(ge=1, le=withdrawals_page_max)] = PAGE_DEFAULT,
    offset: Annotated[QueryInt, Query(ge=0, le=1_000_000)] = 0,
) -> list[Withdrawal]:
    """Your withdrawals, newest first (Backpack's ``from``, ``to``, ``limit``, ``offset``)."""
    creditor = _creditor(service, actor)
    views = service.views(creditor, offset=offset, limit=limit)
    start = None if from_ is None else _time_of_ms(from_)
    end = None if to is None else _time_of_ms(to)
    response.headers.update(NO_STORE)
    return [
        render(v, None)
        for v in views
        if (start is None or v.requested_at >= start) and (end is None or v.requested_at < end)
    ]


@router.post(DESTINATIONS_PATH, response_model=Destination, responses=_RESPONSES,
             openapi_extra=instruction("destinationAdd"))  # fmt: skip
def add_destination(service: ServiceDep, signed: SignedBody, response: Response) -> Destination:
    """Add a withdrawal destination: a code goes to your proved e-mail address; withdrawals to
    it are possible once you confirm it and its cooling-off has passed."""
    mark, raw = signed
    body = _parsed(DestinationRequest, raw)
    creditor = _creditor(service, mark.actor)
    fields = _destination_fields(body.blockchain, body.address, body.bankBic)
    answer = service.add_destination(creditor, body.blockchain, fields)
    if isinstance(answer, Refused):
        _raise(answer)
    response.headers.update(NO_STORE)
    return render_destination(answer.view).model_copy(update={"codeMailed": answer.mailed})


@router.post(CONFIRM_PATH, response_model=Destination, responses=_RESPONSES,
             openapi_extra=instruction("destinationConfirm"))  # fmt: skip
def confirm_destination(service: ServiceDep, signed: SignedBody, response: Response) -> Destination:
    """Confirm one of your destinations with the code mailed to you."""
    mark, raw = signed
    body = _parsed(DestinationConfirmation, raw)
    creditor = _creditor(service, mark.actor)
    answer = service.confirm_destination(creditor, body.destinationId, body.code)
    if isinstance(answer, Refused):
        _raise(answer)
    response.headers.update(NO_STORE)
    return render_destination(answer)


@router.get(DESTINATIONS_PATH, response_model=list[Destination], responses=_RESPONSES,
            openapi_extra=instruction("destinationQueryAll"))  # fmt: skip
def list_destinations(
    service: ServiceDep, actor: auth.AuthenticatedActor, response: Response
) -> list[Destination]:
    """Your withdrawal destinations, oldest first (removed ones too)."""
    creditor = _creditor(service, actor)
    response.headers.update(NO_STORE)
    return [render_destination(v) for v in service.destinations(creditor)]


@router.delete(DESTINATIONS_PATH, response_model=Destination, responses=_RESPONSES,
               openapi_extra=instruction("destinationRemove"))  # fmt: skip
def remove_destination(
    service: ServiceDep,
    actor: auth.AuthenticatedActor,
    response: Response,
    destination_id: Annotated[str, Query(alias="destinationId", min_length=1, max_length=64)],
) -> Destination:
    """Remove one of your destinations: no new withdrawal goes to it."""
    creditor = _creditor(service, actor)
    answer = service.remove_destination(creditor, destination_id)
    if isinstance(answer, Refused):
        _raise(answer)
    response.headers.update(NO_STORE)
    return render_destination(answer)


def _destination_fields(rail: str, address: str, bic: str | None) -> dict[str, str]:
    """The rail's fields of a destination given as Backpack's ``address`` (and ``bankBic``)."""
    fields = {_ADDRESS_FIELD.get(rail, "address"): address}
    if bic is not None:
        fields["bic"] = bic
    return fields


# Rendering and problems -------------------------------------------------------------------------


def render_destination(v: DestinationView) -> Destination:
    return Destination(
        id=v.id, blockchain=v.rail, symbol=v.asset, toAddress=v.destination, status=v.status,
        createdAt=v.added_at, confirmedAt=v.confirmed_at or None,
        usableFrom=v.usable_from or None, removedAt=v.removed_at or None,
    )  # fmt: skip


def render(v: View, client_id: str | None) -> Withdrawal:
    asset = asset_of(v.asset)
    assert asset is not None
    reference = v.rail_reference or None
    return Withdrawal(
        id=v.id, blockchain=v.rail, clientId=client_id, identifier=reference,
        quantity=format_amount(v.amount_minor, asset), fee=format_amount(v.fee_minor, asset),
        symbol=v.asset, status=STATUS[v.status], toAddress=v.destination,
        transactionHash=reference, createdAt=v.requested_at, expiresAt=v.expires_at,
        reason=v.reason or None,
    )  # fmt: skip


def _time_of_ms(ms: int) -> str:
    return format_time(_EPOCH + timedelta(milliseconds=min(ms, 253_402_300_799_000)))


def _parsed(model: type[M], raw: dict[str, Any]) -> M:
    """The signed body as ``model``; a body that does not fit is ``InvalidParameterError``
    naming its first fault."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidParameterError(_first_error(exc)) from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error.get("loc", ())) or "body"
    return f"{where}: {error.get('msg', 'invalid')}"


def _raise(answer: Refused) -> NoReturn:
    raise refused_error(answer)


def install(app: FastAPI, service: WithdrawalService) -> None:
    """Serve the withdrawal routes on ``app``, with request authentication."""
    auth.install(app)
    app.state.withdrawals = service
    app.include_router(router)
