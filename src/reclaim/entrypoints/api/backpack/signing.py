"""Backpack's request signing on the trading routes, bodies and batches included.

The string a client signs (BACKPACK.md §1.2-1.3) is rebuilt from the request as received:
``instruction=<i>&<sorted k=v>&timestamp=<X-Timestamp>&window=<X-Window or 5000>``; the pairs
are the query's (GET) or the JSON body's (POST, DELETE): strings verbatim, integers in decimal,
booleans ``true``/``false``. A JSON array body (a batch, ``POST /api/v1/orders``) signs one
``instruction=orderExecute&<sorted k=v>`` block per order, joined with ``&``, then the
timestamp and window. Where clients disagree (§3.6) the server accepts each rendering a real
client makes: a ``null`` value left out (bpx-py) or signed as ``None`` (backpack-exchange-sdk's
``price=None``), and values percent-encoded (ccxt). Headers are matched case-insensitively.

The checks, in order; the first that fails answers (Backpack's body, ``errors``):

| check                                                   | status | code                   |
| ------------------------------------------------------- | ------ | ---------------------- |
| ``X-API-Key``, ``X-Signature``, ``X-Timestamp`` present | 401    | UNAUTHORIZED           |
| headers well formed (base64 of 32 / 64 bytes, decimals) | 401    | INVALID_SIGNATURE      |
| window 1 … 60000 ms (default 5000)                      | 400    | INVALID_CLIENT_REQUEST |
| ``abs(now - timestamp) <= window``                      | 401    | UNAUTHORIZED (expired) |
| the key is a live key of one actor of the log           | 401    | UNAUTHORIZED           |
| the signature verifies                                  | 401    | INVALID_SIGNATURE      |
| not received before (process cache, stored marks)       | 401    | UNAUTHORIZED ("replayed") |
| a write: the actor's signed-write rate                  | 429    | TOO_MANY_REQUESTS      |

A verified write holds its mark (``app.signed_requests``) for the command it submits, so its
replay is refused after a restart too (``auth.py``'s durable marks); reads are guarded by the
process's cache only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from fastapi import Request

from reclaim.app.log_service import LogService, epoch_ms
from reclaim.app.market import SignedRequest
from reclaim.app.ports import RateLimiter, RequestMark
from reclaim.app.request_signing import verify_signature
from reclaim.core import limits
from reclaim.entrypoints.api.auth import SIGNED_WRITES, ReplayGuard, header_bytes, header_ms
from reclaim.entrypoints.api.backpack.errors import BackpackError, bad_request
from reclaim.entrypoints.api.problems import ReplayCacheFullError, RequestReplayedError

_DECIMAL_RE: Final = re.compile(r"0|[1-9][0-9]{0,18}")
_READS: Final = frozenset({"GET", "HEAD"})
#: A JSON value as signed: ``None`` stands for ``null``.
Value = str | int | bool | None


@dataclass(frozen=True, slots=True)
class Verified:
    actor: str
    mark: RequestMark
    signed: SignedRequest


def _unauthorized(message: str) -> BackpackError:
    return BackpackError(401, "UNAUTHORIZED", message)


def _invalid(message: str) -> BackpackError:
    return BackpackError(401, "INVALID_SIGNATURE", message)


def render(value: Value, *, encoded: bool, null: str | None) -> str | None:
    """A value as a client signs it; ``None`` when the pair is left out."""
    if value is None:
        return null
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return quote(text, safe="") if encoded else text


def pairs_text(params: Mapping[str, Value], *, encoded: bool, null: str | None) -> list[str]:
    out: list[str] = []
    for key in sorted(params):
        text = render(params[key], encoded=encoded, null=null)
        if text is not None:
            out.append(f"{quote(key, safe='') if encoded else key}={text}")
    return out


def signing_strings(
    instruction: str,
    params: Mapping[str, Value] | Sequence[Mapping[str, Value]],
    timestamp_ms: int,
    window_ms: int,
) -> list[str]:
    """Every rendering a real client signs for these parameters (module doc), distinct, the
    plain one first. A sequence is a batch: one ``instruction=`` block per item."""
    tail = f"timestamp={timestamp_ms}&window={window_ms}"
    out: list[str] = []
    for encoded, null in ((False, None), (False, "None"), (True, None)):
        if isinstance(params, Mapping):
            parts = [f"instruction={instruction}", *pairs_text(params, encoded=encoded, null=null)]
        else:
            parts = []
            for item in params:
                parts.append(f"instruction={instruction}")
                parts += pairs_text(item, encoded=encoded, null=null)
        text = "&".join([*parts, tail])
        if text not in out:
            out.append(text)
    return out


def params_of_body(body: Any) -> dict[str, Value]:
    """A JSON object body as signed parameters; 400 for any other shape or a nested value."""
    if not isinstance(body, dict):
        raise bad_request("INVALID_CLIENT_REQUEST", "the body is not a JSON object")
    out: dict[str, Value] = {}
    for key, value in body.items():
        if value is None or isinstance(value, bool | int | str):
            out[key] = value
        elif isinstance(value, float):
            raise bad_request("INVALID_CLIENT_REQUEST", f"{key}: decimals are JSON strings")
        else:
            raise bad_request("INVALID_CLIENT_REQUEST", f"{key}: a nested value")
    return out


def params_of_query(request: Request) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for key, value in request.query_params.multi_items():
        if key in out:
            raise bad_request("INVALID_CLIENT_REQUEST", f"parameter {key!r} is given twice")
        out[key] = value
    return out


class Verifier:
    """Checks Backpack signatures against the log's actors (the module doc's table)."""

    def __init__(self, log: LogService, limiter: RateLimiter | None = None) -> None:
        self.log = log
        self.guard = ReplayGuard()
        self.limiter = limiter

    def verify(
        self,
        request: Request,
        instruction: str,
        params: Mapping[str, Value] | Sequence[Mapping[str, Value]],
    ) -> Verified:
        headers = request.headers  # case-insensitive
        api_key = headers.get("x-api-key")
        signature = headers.get("x-signature")
        timestamp = headers.get("x-timestamp")
        if api_key is None or signature is None or timestamp is None:
            missing = [n for n, v in (("X-API-Key", api_key), ("X-Signature", signature),
                                      ("X-Timestamp", timestamp)) if v is None]  # fmt: skip
            raise _unauthorized(f"Missing {', '.join(missing)}")
        public_key = header_bytes(api_key, 32, "X-API-Key", _invalid)
        signature_bytes = header_bytes(signature, 64, "X-Signature", _invalid)
        timestamp_ms = header_ms(timestamp, "X-Timestamp", _invalid)
        window_text = headers.get("x-window")
        window_ms = limits.request_window_default_ms
        if window_text is not None:
            if not _DECIMAL_RE.fullmatch(window_text):
                raise bad_request("INVALID_CLIENT_REQUEST", "X-Window is not a decimal integer")
            window_ms = int(window_text)
            if not 1 <= window_ms <= limits.request_window_max_ms:
                raise bad_request(
                    "INVALID_CLIENT_REQUEST",
                    f"Invalid X-Window: must be 1 to {limits.request_window_max_ms} ms",
                )
        now_ms = epoch_ms(self.log.clock.now())
        if abs(now_ms - timestamp_ms) > window_ms:
            raise _unauthorized("Request has expired")
        actor = self.log.actor_for_public_key(public_key)
        if actor is None:
            raise _unauthorized("API key is not a live key of this exchange")
        for text in signing_strings(instruction, params, timestamp_ms, window_ms):
            message = text.encode("utf-8", "surrogatepass")
            if verify_signature(public_key, signature_bytes, message):
                break
        else:
            raise _invalid("Invalid signature")
        if self.guard.holds(signature_bytes, now_ms):
            raise _unauthorized("Request replayed: this signature was received before")
        digest = hashlib.sha256(signature_bytes).digest()
        if self.log.request_seen(digest):
            raise _unauthorized("Request replayed: this signature was received before")
        if request.method not in _READS:
            self._take_write_token(actor)
        try:
            self.guard.admit(signature_bytes, timestamp_ms + window_ms, now_ms)
        except RequestReplayedError:
            raise _unauthorized("Request replayed: this signature was received before") from None
        except ReplayCacheFullError as exc:  # the cache is full of open windows
            raise BackpackError(429, "TOO_MANY_REQUESTS", str(exc)) from None
        mark = RequestMark(digest, actor, timestamp_ms + window_ms)
        return Verified(actor, mark, SignedRequest(api_key, text, signature))

    def _take_write_token(self, actor: str) -> None:
        limiter = self.limiter
        if limiter is None:
            return
        decision = limiter.acquire(SIGNED_WRITES, actor, self.log.clock.now())
        if not decision.allowed:
            retry = max(1, decision.retry_after_seconds)
            raise BackpackError(429, "TOO_MANY_REQUESTS", f"Too many requests; retry in {retry} s")

    def verify_subscription(self, signature: Sequence[object]) -> str:
        """The actor of a WebSocket subscription's ``signature`` array
        ``[key, signature, timestamp, window]`` (``instruction=subscribe``)."""
        if len(signature) != 4 or not all(isinstance(s, str | int) for s in signature):
            raise _unauthorized("signature must be [key, signature, timestamp, window]")
        key, sig, timestamp, window = (str(s) for s in signature)
        public_key = header_bytes(key, 32, "key", _invalid)
        signature_bytes = header_bytes(sig, 64, "signature", _invalid)
        timestamp_ms = header_ms(timestamp, "timestamp", _invalid)
        window_ms = header_ms(window, "window", _invalid)
        if not 1 <= window_ms <= limits.request_window_max_ms:
            raise bad_request("INVALID_CLIENT_REQUEST", "Invalid window")
        if abs(epoch_ms(self.log.clock.now()) - timestamp_ms) > window_ms:
            raise _unauthorized("Request has expired")
        actor = self.log.actor_for_public_key(public_key)
        if actor is None:
            raise _unauthorized("API key is not a live key of this exchange")
        message = f"instruction=subscribe&timestamp={timestamp_ms}&window={window_ms}"
        if not verify_signature(public_key, signature_bytes, message.encode()):
            raise _invalid("Invalid signature")
        return actor
