"""Authentication of API requests: Backpack Exchange's ED25519 request signing.

A route that needs a signed request takes ``actor: AuthenticatedActor`` (the actor's name) and
names its **instruction** with ``openapi_extra=instruction("balanceQuery")`` (published in the
OpenAPI document as ``x-instruction``). ``install(app)`` must have run (idempotent; the ledger
router's ``install`` does it). The signing scheme and a client helper are in
``reclaim.app.request_signing``; the signed parameters are the route's **path parameters and
query parameters**, by name (a reclaim extension for path parameters: a signature names the
resource it was made for). Request bodies are not signed yet: signed routes take none.

The checks, in order — the first that fails answers (problem+json, ``problems.py``):

| check                                                      | status | code                 |
| ---------------------------------------------------------- | ------ | -------------------- |
| ``X-API-Key``, ``X-Signature``, ``X-Timestamp`` present    | 401    | signature_missing    |
| headers well formed (base64 of 32 / 64 bytes, decimals),   | 401    | signature_invalid    |
| window 1 … 60000 ms (default 5000), no parameter twice     |        |                      |
| ``abs(now - timestamp) <= window`` (the log's clock)       | 401    | timestamp_outside_window |
| the key is a live key of exactly one actor of the log      | 401    | key_unknown          |
| the signature verifies                                     | 401    | signature_invalid    |
| the signature was not accepted before, within its window   | 409    | request_replayed     |
| a write (not GET/HEAD): the actor's rate (``SIGNED_WRITES``) | 429  | rate_limited         |
| the replay cache has room (``replay_cache_max_entries``)   | 429    | too_many_requests    |

Replay protection: every accepted signature is remembered until its request's window closes
(``timestamp + window``), after which the timestamp check refuses the request anyway. Ed25519
signatures are deterministic, so the same request signed twice in the same millisecond is a
replay too. Only verified signatures enter the cache, so forged requests cannot fill it; when it
is full of open windows, new requests are refused (429) rather than any signature forgotten.

Durable replay protection (issue 9, finding 6): the process's cache alone forgets on a restart.
So a verified request also holds its **mark** (``ports.RequestMark``: the SHA-256 of its
signature, its actor, the end of its window) in the request's context (``app.signed_requests``);
the command the route submits carries it into the log's transaction, and the store keeps it
with the events (or the refusal) that answered it, until the window closes. The authenticator
refuses a signature whose mark is stored (``request_replayed``), so no restart, second process
or replica on the same store accepts the same signed bytes twice; a second process racing the
first is refused at append (``ports.RequestAlreadyAccepted``, also ``request_replayed``).
Reads (GET) submit no command, so only the process's cache guards them: a replayed read
changes nothing.

Rate of signed writes (issue 9, finding 7): a signed request other than GET or HEAD takes a
token of ``SIGNED_WRITES`` for its actor (``limits.signed_writes_per_actor_max`` per
``limits.signed_writes_per_actor_period_seconds``, GCRA) from the ``RateLimiter`` given to
``limit_signed_writes``; none left is ``429 rate_limited`` with ``Retry-After``. It stops one key
from flooding the public log (a payout election is one event) and the mark table. The token is
taken after the signature verifies and the replay checks pass, so neither a forger nor someone
replaying captured bytes can spend an actor's tokens; a refused request is not remembered, so
the same bytes may be sent again after ``Retry-After`` (within their window). The buckets are
in the database (``SqlRateLimiter``), shared by every process. ``reclaim serve`` limits wherever
onboarding is wired (the rate-limit key is the PII keys' codes secret); an app without a
limiter (tests over the memory store) has no such limit.

Known limits: a lookup takes the log service's writer lock, so it waits while a large bulk
append is being stored. Two processes racing with the same signed bytes: the loser's whole
batch (other requests of the same group commit too) is refused as ``request_replayed`` and its
state rebuilt — rare (the same bytes at two processes within milliseconds), safe, not fair.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from reclaim.app import signed_requests
from reclaim.app.log_service import LogService
from reclaim.app.ports import RateLimiter, RateRule, RequestMark
from reclaim.app.request_signing import (
    API_KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WINDOW_HEADER,
    signing_string,
    verify_signature,
)
from reclaim.core import limits
from reclaim.entrypoints.api.problems import (
    KeyUnknownError,
    ProblemKind,
    RefusedError,
    ReplayCacheFullError,
    RequestReplayedError,
    SignatureInvalidError,
    SignatureMissingError,
    TimestampOutsideWindowError,
)
from reclaim.entrypoints.api.write_tokens import WriteTokens

#: Where a route names its instruction: ``openapi_extra={"x-instruction": ...}``.
INSTRUCTION_KEY: Final = "x-instruction"
_INSTRUCTION_RE: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9]{0,63}")
_DECIMAL_RE: Final = re.compile(r"0|[1-9][0-9]{0,18}")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)
#: Methods that only read: not signed writes, so not rate-limited per actor.
_READS: Final = frozenset({"GET", "HEAD"})
#: The actor's signed writes (module doc, "Rate of signed writes").
SIGNED_WRITES: Final = RateRule(
    "signed_writes_per_actor",
    limits.signed_writes_per_actor_max,
    limits.signed_writes_per_actor_period_seconds,
)
RATE_LIMITED: Final = ProblemKind(429, "rate_limited", "Too many signed writes")


def instruction(name: str) -> dict[str, Any]:
    """``openapi_extra`` of a signed route: the instruction its clients sign."""
    assert _INSTRUCTION_RE.fullmatch(name), f"instruction {name!r}"
    return {INSTRUCTION_KEY: name}


class ReplayGuard:
    """Signatures accepted recently, each until its window closes; bounded; thread-safe."""

    def __init__(self, capacity: int = limits.replay_cache_max_entries) -> None:
        assert capacity >= 1
        self._capacity = capacity
        self._lock = threading.Lock()
        self._until: dict[bytes, int] = {}  # signature -> end of its window (ms)
        self._expiries: list[tuple[int, bytes]] = []  # a heap of the same

    def __len__(self) -> int:
        return len(self._until)

    def holds(self, signature: bytes, now_ms: int) -> bool:
        """Whether ``signature`` is remembered (its window open at ``now_ms``)."""
        with self._lock:
            self._forget_closed(now_ms)
            return signature in self._until

    def admit(self, signature: bytes, until_ms: int, now_ms: int) -> None:
        """Remember ``signature`` until ``until_ms``; refuse one already remembered."""
        with self._lock:
            self._forget_closed(now_ms)
            if signature in self._until:
                raise RequestReplayedError("this signed request was received before")
            if len(self._until) >= self._capacity:
                raise ReplayCacheFullError(
                    f"{self._capacity} signed requests in flight; retry shortly"
                )
            self._until[signature] = until_ms
            heapq.heappush(self._expiries, (until_ms, signature))

    def _forget_closed(self, now_ms: int) -> None:
        expiries = self._expiries
        while expiries and expiries[0][0] < now_ms:
            _, signature = heapq.heappop(expiries)
            del self._until[signature]


class Authenticator:
    """Checks a request's signature against the log's actors (the module doc's table)."""

    def __init__(
        self, log: LogService, guard: ReplayGuard, limiter: RateLimiter | None = None
    ) -> None:
        self._log = log
        self._guard = guard
        self.limiter = limiter  # of signed writes, per actor (module doc); None: no limit

    def authenticate(self, request: Request) -> str:
        """The name of the actor that signed ``request``; an ``AuthenticationError`` if none."""
        return self.verify(request).actor

    def verify(self, request: Request) -> RequestMark:
        """The mark of the signed ``request`` (its actor, signature digest and window's end);
        an ``AuthenticationError`` if it is not signed by a live key, or was accepted before."""
        headers = request.headers
        api_key, signature = headers.get(API_KEY_HEADER), headers.get(SIGNATURE_HEADER)
        timestamp = headers.get(TIMESTAMP_HEADER)
        if api_key is None or signature is None or timestamp is None:
            missing = [
                name
                for name, value in (
                    (API_KEY_HEADER, api_key),
                    (SIGNATURE_HEADER, signature),
                    (TIMESTAMP_HEADER, timestamp),
                )
                if value is None
            ]
            raise SignatureMissingError(f"missing {', '.join(missing)}")
        public_key = header_bytes(api_key, 32, API_KEY_HEADER)
        signature_bytes = header_bytes(signature, 64, SIGNATURE_HEADER)
        timestamp_ms = header_ms(timestamp, TIMESTAMP_HEADER)
        window = headers.get(WINDOW_HEADER)
        window_ms = limits.request_window_default_ms
        if window is not None:
            window_ms = header_ms(window, WINDOW_HEADER)
            if not 1 <= window_ms <= limits.request_window_max_ms:
                raise SignatureInvalidError(
                    f"{WINDOW_HEADER} must be 1 to {limits.request_window_max_ms} ms"
                )
        message = signing_string(_instruction_of(request), _params_of(request), timestamp_ms,
                                 window_ms)  # fmt: skip
        now_ms = (self._log.clock.now() - _EPOCH) // _MILLISECOND
        if abs(now_ms - timestamp_ms) > window_ms:
            raise TimestampOutsideWindowError(
                f"{TIMESTAMP_HEADER} {timestamp_ms} is {now_ms - timestamp_ms} ms from the "
                f"server's time, more than the window of {window_ms} ms"
            )
        actor = self._log.actor_for_public_key(public_key)
        if actor is None:
            raise KeyUnknownError(f"{API_KEY_HEADER} is not a live key of an actor")
        if not verify_signature(public_key, signature_bytes, message):
            raise SignatureInvalidError(f"{SIGNATURE_HEADER} does not verify")
        if self._guard.holds(signature_bytes, now_ms):
            raise RequestReplayedError("this signed request was received before")
        digest = hashlib.sha256(signature_bytes).digest()
        if self._log.request_seen(digest):  # accepted before a restart, or by another process
            raise RequestReplayedError("this signed request was received before")
        if request.method not in _READS:
            self._take_write_token(actor)
        self._guard.admit(signature_bytes, timestamp_ms + window_ms, now_ms)  # atomic: races
        return RequestMark(digest, actor, timestamp_ms + window_ms)

    def _take_write_token(self, actor: str) -> None:
        """Stops one key flooding the log with signed writes (finding 7): 429 past its rate."""
        if self.limiter is None:
            return
        decision = self.limiter.acquire(SIGNED_WRITES, actor, self._log.clock.now())
        if not decision.allowed:
            retry = str(max(1, decision.retry_after_seconds))
            raise RefusedError(RATE_LIMITED, f"too many signed writes; retry in {retry} s",
                               {"Retry-After": retry})  # fmt: skip


#: What a malformed signing header raises, given why (each scheme answers with its own error).
Malformed = Callable[[str], Exception]


def header_bytes(text: str, size: int, header: str,
                 malformed: Malformed = SignatureInvalidError) -> bytes:  # fmt: skip
    """The ``size`` bytes whose base64 ``header`` holds (a key, a signature)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise malformed(f"{header} is not base64") from None
    if len(raw) != size:
        raise malformed(f"{header} is {len(raw)} bytes, not {size}")
    return raw


def header_ms(text: str, header: str, malformed: Malformed = SignatureInvalidError) -> int:
    """The milliseconds ``header`` holds in decimal (a timestamp, a window)."""
    if not _DECIMAL_RE.fullmatch(text):
        raise malformed(f"{header} is not a decimal integer of milliseconds")
    return int(text)


def _instruction_of(request: Request) -> str:
    route = request.scope.get("route")
    assert isinstance(route, APIRoute), "AuthenticatedActor is for FastAPI routes"
    name = (route.openapi_extra or {}).get(INSTRUCTION_KEY)
    assert isinstance(name, str), (
        f"route {route.path} takes AuthenticatedActor but names no instruction: "
        "add openapi_extra=auth.instruction(<name>)"
    )
    return name


def _params_of(request: Request) -> dict[str, str]:
    """The signed parameters: the path parameters and the query, each name once."""
    params = {name: str(value) for name, value in request.path_params.items()}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise SignatureInvalidError(f"parameter {name!r} is given twice")
        params[name] = value
    return params


# The FastAPI side ---------------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Give ``app`` (whose ``state.log`` is the log service) its authenticator, once."""
    if getattr(app.state, "authenticator", None) is None:
        log = app.state.log
        assert isinstance(log, LogService), "create_app stores the LogService in app.state.log"
        app.state.authenticator = Authenticator(log, ReplayGuard())


def limit_signed_writes(app: FastAPI, limiter: RateLimiter) -> None:
    """Rate-limit ``app``'s signed writes per actor with ``limiter`` (module doc), concurrent
    writes' tokens taken together (``WriteTokens``: one transaction for all of them)."""
    install(app)
    authenticator = app.state.authenticator
    assert isinstance(authenticator, Authenticator)
    authenticator.limiter = limiter if isinstance(limiter, WriteTokens) else WriteTokens(limiter)


async def authenticate(request: Request) -> RequestMark:
    """Verify ``request`` (on a worker thread: the check may wait for the log's lock) and hold
    its mark in the request's context, for the command the route submits (module doc)."""
    authenticator = getattr(request.app.state, "authenticator", None)
    assert isinstance(authenticator, Authenticator), "call auth.install(app) first"
    mark = await run_in_threadpool(authenticator.verify, request)
    signed_requests.hold(mark)
    return mark


async def authenticated_actor(request: Request) -> str:
    return (await authenticate(request)).actor


#: The actor that signed the request (its name). A route taking it must name its instruction.
AuthenticatedActor = Annotated[str, Depends(authenticated_actor)]
