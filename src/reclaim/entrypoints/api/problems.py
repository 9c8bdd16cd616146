"""Errors as RFC 9457 problem details: one table from error classes to HTTP answers.

Every error the API answers is ``application/problem+json``::

    {"type": "urn:reclaim:problem:<code>", "title": <fixed per code>, "status": <HTTP status>,
     "detail": <this occurrence>, "code": "<code>", "instance": "<request path>"}

``code`` is the stable, machine-readable name a client switches on; ``status`` stays a JSON number
because RFC 9457 §3.1.2 says so (the one integer in reclaim's JSON that is not a string). Problems
are never cached (``Cache-Control: no-store``). A refused query parameter also gets
``"invalid_params": [{"name": "start", "reason": "..."}]``, one entry per parameter.

Error tree of the API layer itself (raised by ``app.py``)::

    ApiError                      a request the API refuses before or instead of asking the store
    ├── InvalidParameterError     a well-formed parameter that makes no sense (end ≤ start)
    ├── NotFoundError             nothing there yet (no checkpoint published)
    ├── BodyTooLargeError         a request body over the limit
    ├── QueryTooLongError         a query string over the limit
    ├── RefusedError              a service's refusal (``app.refusals.Refused``: its code's
    │                             name, the status of its kind, ``STATUS_OF_KIND``), or a
    │                             route's own problem (``rate_limited``, ``forbidden``...)
    └── AuthenticationError       a signed request refused (``auth.py``, Backpack's scheme)
        ├── SignatureMissingError         a signing header is absent
        ├── SignatureInvalidError         malformed headers, or a signature that does not verify
        ├── TimestampOutsideWindowError   ``X-Timestamp`` more than ``X-Window`` ms from now
        ├── KeyUnknownError               ``X-API-Key`` is no live key of exactly one actor
        ├── RequestReplayedError          this signature was accepted before, within its window
        └── ReplayCacheFullError          too many signed requests in flight to remember them

The mapping (``PROBLEMS``; the most specific class in an exception's MRO wins):

| error class                                  | status | code                  |
| -------------------------------------------- | ------ | --------------------- |
| ``RequestValidationError`` (FastAPI)         | 400    | ``invalid_parameter`` |
| ``InvalidParameterError``                    | 400    | ``invalid_parameter`` |
| ``BodyMalformedError`` (``app.bounded_json``) | 400   | ``body_malformed``    |
| ``merkle.ProofError`` (planning a proof)     | 400    | ``invalid_parameter`` |
| ``ports.RangeNotAvailable``                  | 404    | ``range_not_available`` |
| ``NotFoundError``                            | 404    | ``not_found``         |
| Starlette ``HTTPException`` 404 (no route)   | 404    | ``not_found``         |
| Starlette ``HTTPException`` 405              | 405    | ``method_not_allowed`` |
| ``BodyTooLargeError``                        | 413    | ``request_too_large`` |
| ``QueryTooLongError``                        | 414    | ``query_too_long``    |
| ``SignatureMissingError``                    | 401    | ``signature_missing`` |
| ``SignatureInvalidError``                    | 401    | ``signature_invalid`` |
| ``TimestampOutsideWindowError``              | 401    | ``timestamp_outside_window`` |
| ``KeyUnknownError``                          | 401    | ``key_unknown``       |
| ``RequestReplayedError``                     | 409    | ``request_replayed``  |
| ``ports.RequestAlreadyAccepted`` (another process stored it first) | 409 | ``request_replayed`` |
| ``ReplayCacheFullError`` (+ Retry-After)     | 429    | ``too_many_requests`` |
| ``ports.StoreCorrupt``                       | 500    | ``store_corrupt``     |
| ``merkle_plan.NodeLookupError``              | 500    | ``store_corrupt``     |
| ``ports.StoreError`` (any other)             | 500    | ``store_error``       |
| ``ports.StoreUnavailable`` (+ Retry-After)   | 503    | ``store_unavailable`` |
| any other exception (a bug)                  | 500    | ``internal_error``    |

A service's refusal (``reclaim.app.refusals.Refused``) answers with its code's name and the status
of its kind, mapped here once (``STATUS_OF_KIND``): ``bad_input`` 400, ``forbidden`` 403,
``not_found`` 404, ``conflict`` 409, ``unavailable`` 503 (``refused_error``).

The ``detail`` of a 5xx problem never carries the exception's message (it may name database
hosts, paths or SQL); the handler logs it instead.

Bugs are not caught: Starlette's outermost middleware renders ``internal_error`` and re-raises, so
the server logs the traceback (and ``TestClient`` raises it in tests). ``ProofError`` reaches the
API only from *planning* a proof (index or sizes the request got wrong); the server never verifies
proofs, so its other reasons (``root_mismatch``...) cannot occur here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reclaim.app.ports import (
    RangeNotAvailable,
    RequestAlreadyAccepted,
    StoreCorrupt,
    StoreError,
    StoreUnavailable,
)
from reclaim.app.refusals import Refused
from reclaim.core.kinds import Kind
from reclaim.log.merkle import ProofError
from reclaim.log.merkle_plan import NodeLookupError

_logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
TYPE_PREFIX: Final = "urn:reclaim:problem:"
#: Seconds a client should wait before retrying when the store is unavailable.
RETRY_AFTER_SECONDS: Final = 5


class ApiError(Exception):
    """A request the API layer refuses by itself."""


class InvalidParameterError(ApiError):
    """A well-formed parameter whose value makes no sense for this request."""


class BodyMalformedError(InvalidParameterError):
    """A body that is not JSON, or JSON the bounded parser refuses (``app.bounded_json``)."""


class NotFoundError(ApiError):
    """The thing asked for does not exist (yet)."""


class BodyTooLargeError(ApiError):
    """A request body longer than the API accepts."""


class QueryTooLongError(ApiError):
    """A query string longer than the API accepts."""


class AuthenticationError(ApiError):
    """A signed request the API refuses (see ``auth.py``)."""


class RefusedError(ApiError):
    """A refusal that names its own problem (onboarding: one class for the core's many codes);
    ``headers`` go with the answer (``Retry-After`` of a rate limit)."""

    def __init__(
        self, kind: ProblemKind, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.headers = dict(headers or {})


class SignatureMissingError(AuthenticationError):
    """A signing header (``X-API-Key``, ``X-Signature``, ``X-Timestamp``) is absent."""


class SignatureInvalidError(AuthenticationError):
    """Malformed signing headers or parameters, or a signature that does not verify."""


class TimestampOutsideWindowError(AuthenticationError):
    """``X-Timestamp`` is further from the server's time than ``X-Window`` allows."""


class KeyUnknownError(AuthenticationError):
    """``X-API-Key`` is not a live key of exactly one actor of the log."""


class RequestReplayedError(AuthenticationError):
    """The same signature was accepted before, and its window is still open."""


class ReplayCacheFullError(AuthenticationError):
    """Too many signed requests are in flight for the replay cache to remember another."""


@dataclass(frozen=True, slots=True)
class ProblemKind:
    status: int
    code: str
    title: str


INVALID_PARAMETER: Final = ProblemKind(400, "invalid_parameter", "Invalid request parameter")
BODY_MALFORMED: Final = ProblemKind(400, "body_malformed", "The body is not acceptable JSON")
RANGE_NOT_AVAILABLE: Final = ProblemKind(404, "range_not_available", "Beyond the end of the log")
NOT_FOUND: Final = ProblemKind(404, "not_found", "Not found")
METHOD_NOT_ALLOWED: Final = ProblemKind(405, "method_not_allowed", "Method not allowed")
REQUEST_TOO_LARGE: Final = ProblemKind(413, "request_too_large", "Request body too large")
QUERY_TOO_LONG: Final = ProblemKind(414, "query_too_long", "Query string too long")
SIGNATURE_MISSING: Final = ProblemKind(401, "signature_missing", "The request is not signed")
SIGNATURE_INVALID: Final = ProblemKind(401, "signature_invalid", "The request signature is invalid")
TIMESTAMP_OUTSIDE_WINDOW: Final = ProblemKind(
    401, "timestamp_outside_window", "The request timestamp is outside its window"
)
KEY_UNKNOWN: Final = ProblemKind(401, "key_unknown", "The API key is unknown")
REQUEST_REPLAYED: Final = ProblemKind(409, "request_replayed", "The request was replayed")
TOO_MANY_REQUESTS: Final = ProblemKind(429, "too_many_requests", "Too many signed requests")
#: Seconds a client should wait when the replay cache is full (the shortest window is 1 ms, the
#: default 5 s: within a second, most remembered signatures have expired).
RETRY_AFTER_BUSY_SECONDS: Final = 1
#: A route's own authority check: the signer's role may not use it.
FORBIDDEN: Final = ProblemKind(403, "forbidden", "Forbidden")
OPERATOR_KEY_NOT_HELD: Final = ProblemKind(
    403, "operator_key_not_held", "This server holds no key of the operator"
)
#: Sign-up, code and login attempts over their budget (+ Retry-After).
RATE_LIMITED: Final = ProblemKind(429, "rate_limited", "Rate limited")
WEBHOOK_NOT_CONFIGURED: Final = ProblemKind(404, "webhook_not_configured", "Webhook not configured")
WEBHOOK_SIGNATURE_INVALID: Final = ProblemKind(
    401, "webhook_signature_invalid", "Webhook signature invalid"
)
WEBHOOK_MALFORMED: Final = ProblemKind(400, "webhook_malformed", "Webhook malformed")
STORE_CORRUPT: Final = ProblemKind(500, "store_corrupt", "The log store is inconsistent")
STORE_ERROR: Final = ProblemKind(500, "store_error", "The log store failed")
INTERNAL_ERROR: Final = ProblemKind(500, "internal_error", "Internal server error")
STORE_UNAVAILABLE: Final = ProblemKind(503, "store_unavailable", "The log store is unavailable")

#: The one table: error class → problem. Looked up along the exception's MRO.
PROBLEMS: Final[Mapping[type[Exception], ProblemKind]] = {
    RequestValidationError: INVALID_PARAMETER,
    InvalidParameterError: INVALID_PARAMETER,
    BodyMalformedError: BODY_MALFORMED,
    ProofError: INVALID_PARAMETER,
    RangeNotAvailable: RANGE_NOT_AVAILABLE,
    NotFoundError: NOT_FOUND,
    BodyTooLargeError: REQUEST_TOO_LARGE,
    QueryTooLongError: QUERY_TOO_LONG,
    SignatureMissingError: SIGNATURE_MISSING,
    SignatureInvalidError: SIGNATURE_INVALID,
    TimestampOutsideWindowError: TIMESTAMP_OUTSIDE_WINDOW,
    KeyUnknownError: KEY_UNKNOWN,
    RequestReplayedError: REQUEST_REPLAYED,
    RequestAlreadyAccepted: REQUEST_REPLAYED,
    ReplayCacheFullError: TOO_MANY_REQUESTS,
    StoreCorrupt: STORE_CORRUPT,
    NodeLookupError: STORE_CORRUPT,
    StoreError: STORE_ERROR,
    StoreUnavailable: STORE_UNAVAILABLE,
    RefusedError: INVALID_PARAMETER,  # never used: a RefusedError carries its own kind
}

#: Starlette's own HTTP errors (routing), by status.
HTTP_STATUS_PROBLEMS: Final[Mapping[int, ProblemKind]] = {
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: REQUEST_TOO_LARGE,
    414: QUERY_TOO_LONG,
}

#: Every problem kind the API can answer with, for the OpenAPI document.
ALL_KINDS: Final = (
    INVALID_PARAMETER, RANGE_NOT_AVAILABLE, NOT_FOUND, METHOD_NOT_ALLOWED, REQUEST_TOO_LARGE,
    QUERY_TOO_LONG, STORE_CORRUPT, STORE_ERROR, INTERNAL_ERROR, STORE_UNAVAILABLE,
    SIGNATURE_MISSING, SIGNATURE_INVALID, TIMESTAMP_OUTSIDE_WINDOW, KEY_UNKNOWN, REQUEST_REPLAYED,
    TOO_MANY_REQUESTS, BODY_MALFORMED, FORBIDDEN, OPERATOR_KEY_NOT_HELD, RATE_LIMITED,
    WEBHOOK_NOT_CONFIGURED, WEBHOOK_SIGNATURE_INVALID, WEBHOOK_MALFORMED,
)  # fmt: skip


#: The one mapping of a refusal's kind to its HTTP status (``reclaim.core.kinds``).
STATUS_OF_KIND: Final[Mapping[Kind, int]] = {
    Kind.bad_input: 400,
    Kind.forbidden: 403,
    Kind.not_found: 404,
    Kind.conflict: 409,
    Kind.unavailable: 503,
}


def refusal_kind(answer: Refused) -> ProblemKind:
    """The problem of a service's refusal: its kind's status, its code's name."""
    code = answer.code.name
    return ProblemKind(STATUS_OF_KIND[answer.kind], code, code.replace("_", " ").capitalize())


def refused_error(answer: Refused, headers: Mapping[str, str] | None = None) -> RefusedError:
    """The exception that answers ``answer`` as problem+json (raise it from a route)."""
    return RefusedError(refusal_kind(answer), answer.detail or answer.code.name, headers)


def kind_of(exc: BaseException) -> ProblemKind:
    """The problem an exception maps to: its most specific class in ``PROBLEMS``."""
    if isinstance(exc, StarletteHTTPException):
        return HTTP_STATUS_PROBLEMS.get(
            exc.status_code, ProblemKind(exc.status_code, "http_error", "HTTP error")
        )
    if isinstance(exc, RefusedError):
        return exc.kind
    for cls in type(exc).__mro__:
        kind = PROBLEMS.get(cls)
        if kind is not None:
            return kind
    return INTERNAL_ERROR


def problem_response(
    kind: ProblemKind,
    detail: str,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + kind.code,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "code": kind.code,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra or {})
    all_headers = {"Cache-Control": "no-store", **(headers or {})}
    if kind is STORE_UNAVAILABLE:
        all_headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    if kind is TOO_MANY_REQUESTS:
        all_headers.setdefault("Retry-After", str(RETRY_AFTER_BUSY_SECONDS))
    return JSONResponse(body, kind.status, all_headers, media_type=PROBLEM_MEDIA_TYPE)


def invalid_params(errors: Sequence[Any]) -> list[dict[str, str]]:
    """``[{"name", "reason"}]`` of a FastAPI validation error's entries."""
    out = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        name = ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc)
        reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        out.append({"name": name, "reason": reason})
    return out


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    kind = kind_of(exc)
    path = request.url.path
    if isinstance(exc, RequestValidationError):
        params = invalid_params(exc.errors())
        detail = "; ".join(f"{p['name']}: {p['reason']}" for p in params)
        return problem_response(kind, detail, instance=path, extra={"invalid_params": params})
    if isinstance(exc, StarletteHTTPException):
        return problem_response(kind, str(exc.detail), instance=path, headers=exc.headers)
    if isinstance(exc, RefusedError):
        return problem_response(kind, str(exc) or kind.title, instance=path, headers=exc.headers)
    if kind.status >= 500:  # the message may name database internals: log it, don't send it
        if kind is not INTERNAL_ERROR:  # bugs are re-raised and logged by Starlette
            _logger.error("%s on %s", kind.code, path, exc_info=exc)
        return problem_response(kind, f"{kind.title}; the error is logged", instance=path)
    return problem_response(kind, str(exc) or kind.title, instance=path)


def install(app: FastAPI) -> None:
    """Register the problem handlers on ``app``: every class of the table, and bugs."""
    app.add_exception_handler(RequestValidationError, _handle)
    app.add_exception_handler(StarletteHTTPException, _handle)
    for cls in PROBLEMS:
        app.add_exception_handler(cls, _handle)
    app.add_exception_handler(Exception, _handle)
