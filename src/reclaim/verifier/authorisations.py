"""Traders' own signatures of their orders and cancels (issue 11, point 5).

The gateway signs a market event into the log; the trader signed the API request that asked
for it, with its API key, in Backpack's scheme (``../shared/api/BACKPACK.md`` §1). The event
keeps that request as ``"authorisation": {"api_key", "signed", "signature"}``
(``reclaim.core.market.model.Authorisation``), and the verifier checks, against the state just
before the event — so an auditor sees who authorised every order, not only the operator's key:

1. ``api_key`` is a live (unrevoked) key of the trader the payload names (``name``);
2. ``signature`` is that key's Ed25519 signature of ``signed`` (UTF-8);
3. ``signed`` is an instruction this event answers (``orderExecute`` for orders,
   ``orderCancel`` / ``orderCancelAll`` for cancels), names each symbol of the event
   (``symbol=<S>``), and ends with ``&timestamp=<ms>&window=<ms>``;
4. the event's time is within the request's window: not before ``timestamp − window``, not
   after ``timestamp + window`` plus ``LATE_MS`` (the time the server took to decide);
5. no two events carry the same signature (the operator cannot spend one request twice).

An event without the field (an order from a command line or a test) is not checked here; the
core checked it as every event. Known limit: the check does not re-read prices and quantities
from ``signed`` (decimal text in the market's units); the signature binds them, and a dispute
compares them by hand.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta
from typing import Final

from reclaim.core.events import Event, parse_time
from reclaim.core.machine import State
from reclaim.log.keys import KeyFormatError, VerifierKey

#: The instructions each market event type answers.
INSTRUCTIONS: Final = {
    "market.orders_placed": frozenset({"orderExecute"}),
    "market.orders_cancelled": frozenset({"orderCancel", "orderCancelAll"}),
}
FIELD: Final = "authorisation"
#: How long after its window a request's event may be decided (queueing, a slow store).
LATE_MS: Final = 60_000
_TAIL_RE: Final = re.compile(r"&timestamp=(0|[1-9][0-9]{0,18})&window=([1-9][0-9]{0,8})")
_INSTRUCTION_RE: Final = re.compile(r"instruction=([A-Za-z]+)&")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class Authorisations:
    """The signatures seen so far (rule 5) and how many were checked."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.checked = 0

    def failure(self, state: State, event: Event) -> str | None:
        """Why ``event``'s authorisation does not hold (the module doc's rules), or ``None``."""
        allowed = INSTRUCTIONS.get(event.type)
        if allowed is None:
            return None
        found = event.payload.get(FIELD)
        if found is None:
            return None
        if not isinstance(found, dict) or set(found) != {"api_key", "signed", "signature"}:
            return "the authorisation is not {api_key, signed, signature}"
        api_key, signed, signature = found["api_key"], found["signed"], found["signature"]
        if not (isinstance(api_key, str) and isinstance(signed, str)
                and isinstance(signature, str)):  # fmt: skip
            return "the authorisation's fields are not text"
        trader = event.payload.get("name")
        problem = _key_problem(state, trader, api_key) or _signature_problem(
            api_key, signed, signature
        )
        if problem is None:
            problem = _content_problem(event, allowed, signed)
        if problem is None and signature in self.seen:
            problem = "the same signed request authorises an earlier event"
        if problem is None:
            self.seen.add(signature)
            self.checked += 1
        return problem


def _raw(text: str, size: int) -> bytes | None:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


def _key_problem(state: State, trader: object, api_key: str) -> str | None:
    actor = state.actors.get(trader) if isinstance(trader, str) else None
    if actor is None:
        return f"the trader {trader!r} is not an actor"
    public = _raw(api_key, 32)
    if public is None:
        return "api_key is not base64 of 32 bytes"
    for key_id in actor.live_keys():
        try:
            if VerifierKey.parse(actor.keys[key_id]).public_key == public:
                return None
        except KeyFormatError:
            continue
    return f"api_key is not a live key of {actor.name!r}"


def _signature_problem(api_key: str, signed: str, signature: str) -> str | None:
    public, raw = _raw(api_key, 32), _raw(signature, 64)
    if public is None or raw is None:
        return "signature is not base64 of 64 bytes"
    try:
        key = VerifierKey.from_public_bytes("api", public)
    except (KeyFormatError, ValueError):
        return "api_key is not an Ed25519 key"
    if not key.verify(raw, signed.encode("utf-8", "surrogatepass")):
        return "the trader's signature of the request does not verify"
    return None


def _content_problem(event: Event, allowed: frozenset[str], signed: str) -> str | None:
    instructions = set(_INSTRUCTION_RE.findall(signed))
    if not signed.startswith("instruction=") or not instructions or not instructions <= allowed:
        return f"the request signs {sorted(instructions)}, not one of {sorted(allowed)}"
    symbols: set[str] = set()
    if isinstance(event.payload.get("symbol"), str):
        symbols.add(str(event.payload["symbol"]))
    orders = event.payload.get("orders")
    if isinstance(orders, list):
        symbols |= {str(o.get("symbol")) for o in orders if isinstance(o, dict)}
    for symbol in sorted(symbols):
        if f"&symbol={symbol}&" not in signed:
            return f"the request does not name {symbol}"
    tail = _TAIL_RE.search(signed)
    if tail is None or tail.end() != len(signed):
        return "the request does not end with its timestamp and window"
    timestamp, window = int(tail.group(1)), int(tail.group(2))
    event_ms = (parse_time(event.time) - _EPOCH) // timedelta(milliseconds=1)
    if not timestamp - window <= event_ms <= timestamp + window + LATE_MS:
        return f"the event's time is outside the request's window ({timestamp} ± {window} ms)"
    return None
