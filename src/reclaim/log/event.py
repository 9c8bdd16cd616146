"""Signed events: the bytes that are signed, the bytes that become Merkle leaves.

Encoding version 1 (frozen by ``tests/vectors/test_canonical.py``):

- the **signed body** is the canonical JSON object
  ``{"actor", "key", "payload", "time", "tv", "type", "v"}`` (``tv`` = the event type's schema
  version, ``v`` = this encoding's version, ``key`` = the hex C2SP key id of the signing key);
- the **signature** is Ed25519 over ``b"reclaim/event/v1\\n" || signed body`` (a domain
  separator, so no other reclaim message can be replayed as an event);
- the **leaf** is the canonical JSON object of the body plus ``"seq"`` (the gapless position in
  the log, 0-based, equal to the Merkle leaf index) and ``"sig"`` (base64 signature); its
  Merkle leaf hash is ``SHA-256(0x00 || leaf)`` (RFC 9162).

The signature does not cover ``seq``: a user signs an instruction before the log orders it. The
order is fixed by the Merkle tree and the signed checkpoints instead, and the verifier checks that
every ``seq`` equals its leaf index.

Errors: ``EventFormatError`` (a ``ValueError``) names what is wrong with a leaf's bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Final

from reclaim.core import limits
from reclaim.core.events import Event, is_time
from reclaim.core.machine import EVENT_TYPES
from reclaim.core.types import JsonValue
from reclaim.log import canonical
from reclaim.log.event_signing import SIGNING_CONTEXT as SIGNING_CONTEXT
from reclaim.log.event_signing import NotCanonicalError as NotCanonicalError
from reclaim.log.event_signing import sign_body as sign_body
from reclaim.log.keys import SignerKey, VerifierKey

_BODY_FIELDS: Final = frozenset({"actor", "key", "payload", "time", "tv", "type", "v"})
_LEAF_FIELDS: Final = _BODY_FIELDS | {"seq", "sig"}
_TIME_FIELD: Final = b',"time":"'
_SEQ_FIELD: Final = b',"seq":"'
_DECIMAL_RE: Final = re.compile(r"0|[1-9][0-9]{0,18}")


class EventFormatError(ValueError):
    """Leaf bytes that are not a well-formed signed event of encoding version 1."""


@dataclass(frozen=True, slots=True)
class SignedEvent:
    """An event with its signature, not yet given a place in the log.

    ``body`` is the canonical signed body (without the signing context). The leaf is made by
    splicing ``"seq"`` and ``"sig"`` into it before ``"time"``, which is where sorted keys put
    them; ``tests/unit/test_event_format.py`` checks the splice against a full re-encoding.
    """

    event: Event
    signature: bytes
    body: bytes

    def leaf(self, seq: int) -> bytes:
        """The canonical leaf bytes of this event at position ``seq``."""
        cut = self.body.rindex(_TIME_FIELD)
        sig = base64.b64encode(self.signature)
        return _within_size(b"".join(
            (self.body[:cut], b',"seq":"', str(seq).encode(), b'","sig":"', sig, b'"',
             self.body[cut:])
        ))  # fmt: skip


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event at its place in the log, as read back from leaf bytes."""

    seq: int
    signed: SignedEvent
    leaf: bytes

    @property
    def event(self) -> Event:
        return self.signed.event


def body_fields(event: Event) -> dict[str, object]:
    return {
        "actor": event.actor,
        "key": event.key_id,
        "payload": event.payload,
        "time": event.time,
        "tv": event.version,
        "type": event.type,
        "v": canonical.ENCODING_VERSION,
    }


def body_bytes(event: Event) -> bytes:
    """The canonical signed body of ``event``."""
    return _within_size(canonical.encode(body_fields(event)))


def decided_body_bytes(event: Event) -> bytes:
    """The signed body of an event the core decided, encoded without re-checking each value.

    The core's payloads are canonical-ready already (text in NFC, integers as decimal strings,
    identifier keys; the property tests check it), so plain sorted JSON of them IS the canonical
    form. Nothing is signed on that trust alone: ``sign_body`` re-checks the bytes, off the
    writer's thread when a process signer is used, and refuses non-canonical ones.
    """
    fields = body_fields(event)
    fields["tv"] = str(event.version)
    return _within_size(canonical.plain_encode(fields))


def _within_size(data: bytes) -> bytes:
    """``data`` (an event's body or leaf) if it is within ``limits.event_size_max_bytes``, else
    ``EventFormatError``."""
    if len(data) > limits.event_size_max_bytes:
        raise EventFormatError(f"event of {len(data)} bytes is over the limit")
    return data


def signing_message(event: Event) -> bytes:
    """The exact bytes an actor signs for ``event``."""
    return SIGNING_CONTEXT + body_bytes(event)


def sign(event: Event, key: SignerKey) -> SignedEvent:
    assert event.key_id == key.key_id.hex(), "an event names the key that signs it"
    body = body_bytes(event)
    return SignedEvent(event, key.sign(SIGNING_CONTEXT + body), body)


def verify_signature(signed: SignedEvent, key: VerifierKey) -> bool:
    return key.verify(signed.signature, SIGNING_CONTEXT + signed.body)


def parse_leaf(data: bytes) -> LoggedEvent:
    """Read a leaf back; refuses bytes that are not canonical or not a v1 event."""
    _within_size(data)
    try:
        fields = canonical.decode(data)
    except canonical.CanonicalError as exc:
        raise EventFormatError(str(exc)) from exc
    if fields.keys() != _LEAF_FIELDS:
        missing, extra = sorted(_LEAF_FIELDS - set(fields)), sorted(set(fields) - _LEAF_FIELDS)
        raise EventFormatError(f"fields missing {missing}, unexpected {extra}")
    if fields["v"] != canonical.ENCODING_VERSION:
        raise EventFormatError(f"encoding version {fields['v']!r} is not supported")
    seq = _integer(fields["seq"], "seq")
    version = _integer(fields["tv"], "tv")
    kind, time = fields["type"], fields["time"]
    actor, key_id, sig = fields["actor"], fields["key"], fields["sig"]
    if type(actor) is not str or type(key_id) is not str or type(sig) is not str:
        raise EventFormatError("actor, key and sig are text")
    if type(kind) is not str or kind not in EVENT_TYPES:
        raise EventFormatError(f"unknown event type {kind!r}")
    if type(time) is not str or not is_time(time):
        raise EventFormatError(f"time {time!r} is not RFC 3339 UTC with microseconds")
    payload = fields["payload"]
    if not isinstance(payload, dict):
        raise EventFormatError("payload is not an object")
    try:
        signature = binascii.a2b_base64(sig, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise EventFormatError("sig is not base64") from exc
    if len(signature) != 64:
        raise EventFormatError(f"signature of {len(signature)} bytes, not 64")
    event = Event(kind, version, time, actor, key_id, payload)
    # The canonical check above guarantees the top-level "seq" and "time" fields are the last
    # occurrences of these byte strings (later fields are fixed-form text), so this cut is exact.
    start = data.rindex(_SEQ_FIELD)
    body = data[:start] + data[data.index(_TIME_FIELD, start) :]
    return LoggedEvent(seq, SignedEvent(event, signature, body), data)


def _integer(value: JsonValue, name: str) -> int:
    if not isinstance(value, str) or not _DECIMAL_RE.fullmatch(value):
        raise EventFormatError(f"{name} {value!r} is not a non-negative decimal integer")
    return int(value)


def _text(value: JsonValue, name: str) -> str:
    if not isinstance(value, str):
        raise EventFormatError(f"{name} is not text")
    return value
