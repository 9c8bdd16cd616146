"""Backpack's error bodies on the Backpack routes: ``{"code": <ApiErrorCode>, "message"}``.

``BackpackError`` is what the routes of this package raise; ``install`` adds its handler and
``BackpackErrors``, an ASGI middleware over the whole app that rewrites any other error answer
on this package's paths (``PATHS``: the request limits' 413, a bounded-parser 400, a 500)
into Backpack's shape, so a Backpack client never sees problem+json. Other paths (reclaim's own
routes, ``/wapi/v1/capital/withdrawals``) keep their problem+json.

Statuses (BACKPACK.md §2.8): 400 for every bad request, 401 for signing and keys, 404 for an
order or resource that is not there, 429 for rates, 500 ``SERVER_ERROR``, 503 ``MAINTENANCE``.
A body over the size limit is ``400 INVALID_CLIENT_REQUEST`` (413 is not one of Backpack's).
"""

from __future__ import annotations

import json
from typing import Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Backpack's ``ApiErrorCode`` (BACKPACK.md §2.8).
API_ERROR_CODES: Final = frozenset(
    {
        "ACCOUNT_DEACTIVATED", "ACCOUNT_LIQUIDATING", "BORROW_LIMIT",
        "BORROW_REQUIRES_LEND_REDEEM", "FORBIDDEN", "INSUFFICIENT_FUNDS", "INSUFFICIENT_MARGIN",
        "INSUFFICIENT_SUPPLY", "INVALID_ASSET", "INVALID_CLIENT_REQUEST", "INVALID_MARKET",
        "INVALID_ORDER", "INVALID_PRICE", "INVALID_POSITION_ID", "INVALID_QUANTITY",
        "INVALID_RANGE", "INVALID_SIGNATURE", "INVALID_SOURCE", "INVALID_SYMBOL",
        "INVALID_TWO_FACTOR_CODE", "LEND_LIMIT", "LEND_REQUIRES_BORROW_REPAY", "MAINTENANCE",
        "MAX_LEVERAGE_REACHED", "NOT_IMPLEMENTED", "ORDER_LIMIT", "POSITION_LIMIT",
        "PRECONDITION_FAILED", "RESOURCE_NOT_FOUND", "SERVER_ERROR", "TIMEOUT", "TOO_EARLY",
        "TOO_MANY_REQUESTS", "TRADING_PAUSED", "UNAUTHORIZED",
    }
)  # fmt: skip
#: The paths whose answers are Backpack's: this package's routes. Not ``/api/v1/capital`` (the
#: ledger API's balance query, ``ledger.py``), ``/api/v1/distributions`` or
#: ``/wapi/v1/capital/withdrawals``, which answer problem+json.
PATHS: Final = frozenset(
    f"/api/v1/{p}"
    for p in (
        "ping",
        "time",
        "status",
        "assets",
        "markets",
        "market",
        "ticker",
        "tickers",
        "depth",
        "trades",
        "trades/history",
        "klines",
        "securities",
        "account",
        "order",
        "orders",
    )
) | {"/wapi/v1/history/fills", "/wapi/v1/history/orders", "/wapi/v1/capital/deposits"}
#: Prefixes of this package's paths with a path parameter.
PREFIXES: Final = ("/api/v1/markets/",)
#: Another layer's error status → Backpack's status and code.
_STATUS: Final = {
    400: (400, "INVALID_CLIENT_REQUEST"),
    401: (401, "UNAUTHORIZED"),
    403: (400, "FORBIDDEN"),
    404: (404, "RESOURCE_NOT_FOUND"),
    405: (400, "INVALID_CLIENT_REQUEST"),
    409: (400, "INVALID_CLIENT_REQUEST"),
    413: (400, "INVALID_CLIENT_REQUEST"),
    414: (400, "INVALID_CLIENT_REQUEST"),
    422: (400, "INVALID_CLIENT_REQUEST"),
    429: (429, "TOO_MANY_REQUESTS"),
    503: (503, "MAINTENANCE"),
}
NO_STORE: Final = {"Cache-Control": "no-store"}


class BackpackError(Exception):
    """A refusal answered as Backpack answers it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        assert code in API_ERROR_CODES, code
        assert status >= 400, status
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(code: str, message: str) -> BackpackError:
    return BackpackError(400, code, message)


def body_of(code: str, message: str) -> bytes:
    return json.dumps({"code": code, "message": message}).encode()


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BackpackError)
    return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status,
                        headers=NO_STORE)  # fmt: skip


def mine(path: str) -> bool:
    return path in PATHS or path.startswith(PREFIXES)


class BackpackErrors:
    """ASGI middleware: on this package's paths, an error answer that is not Backpack's shape
    (module doc) is rewritten into it; everything else passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not mine(str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def sending(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if int(message["status"]) < 400:
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            status, body = _rewritten(int(start["status"]), b"".join(chunks))
            headers = [
                (k, v) for k, v in start.get("headers", [])
                if k.lower() not in (b"content-length", b"content-type")
            ]  # fmt: skip
            headers += [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())]  # fmt: skip
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, sending)


def _rewritten(status: int, body: bytes) -> tuple[int, bytes]:
    """Backpack's status and body for an error answer of ``status`` with ``body``."""
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if (
        isinstance(value, dict)
        and set(value) == {"code", "message"}
        and value["code"] in API_ERROR_CODES
    ):
        return status, body
    mapped_status, code = _STATUS.get(status, (500, "SERVER_ERROR"))
    message = "Internal server error"
    if isinstance(value, dict):
        text = value.get("detail") or value.get("title") or value.get("message")
        if isinstance(text, str):
            message = text
    elif status < 500:
        message = body.decode("utf-8", "replace")[:200] or "Bad request"
    if status == 413:
        message = f"Request body too large: {message}"
    return mapped_status, body_of(code, message)


def install(app: FastAPI) -> None:
    app.add_exception_handler(BackpackError, _handle)
    app.add_middleware(BackpackErrors)
