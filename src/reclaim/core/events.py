"""Events: the only way reclaim's state changes.

An ``Event`` is what the core decided and what every replay re-applies. It carries its type and
schema version, the time it was decided at (an input, never read from a clock here), the
authorising actor and the id of the key that signed it, and a payload of canonical JSON values.
The signature, the sequence number and the Merkle leaf are the log's business
(``reclaim.log.event``); the core never sees bytes.

Invariants:
- ``type`` names a registered event type (``EVENT_TYPES``) and ``version`` one of its versions;
- ``time`` is RFC 3339 UTC with microseconds (``2026-11-25T19:55:35.000000Z``), so text order is
  time order;
- ``payload`` holds only ``str``, ``bool``, ``None``, lists and dicts (integers are decimal
  strings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from reclaim.core.types import JsonValue

_TIME_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")

#: Event types the core knows, with the schema versions it can replay, and the roles that may
#: authorise each. A role of "self" means the actor named in the payload signs for itself.
EVENT_TYPES: Final[dict[str, tuple[frozenset[int], frozenset[str]]]] = {
    "log.genesis": (frozenset({1}), frozenset({"admin"})),
    "actor.registered": (frozenset({1}), frozenset({"admin", "gateway"})),
    "actor.key_added": (frozenset({1}), frozenset({"admin", "self"})),
    "actor.key_revoked": (frozenset({1}), frozenset({"admin", "self"})),
    "document.published": (frozenset({1}), frozenset({"admin"})),
    "ledger.accounts_opened": (frozenset({1}), frozenset({"admin", "treasury"})),
    "ledger.transfers_created": (frozenset({1}), frozenset({"treasury"})),
    "ledger.pending_expired": (frozenset({1}), frozenset({"treasury"})),
}


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with exactly six fractional digits."""
    assert moment.tzinfo is not None, "times are timezone-aware"
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """The moment an event time names (the inverse of ``format_time``)."""
    assert is_time(text), f"{text!r} is not an event time"
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def is_time(text: str) -> bool:
    return _TIME_RE.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class Event:
    """An authorised state change."""

    type: str
    version: int
    time: str
    actor: str
    key_id: str
    payload: dict[str, JsonValue]

    def __post_init__(self) -> None:
        assert self.type in EVENT_TYPES, f"unknown event type {self.type!r}"
        assert is_time(self.time), f"event time {self.time!r} is not RFC 3339 UTC micro"
