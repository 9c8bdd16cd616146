"""Events: the only way reclaim's state changes.

An ``Event`` is what the core decided and what every replay re-applies. It carries its type and
schema version, the time it was decided at (an input, never read from a clock here), the
authorising actor and the id of the key that signed it, and a payload of canonical JSON values.
The signature, the sequence number and the Merkle leaf are the log's business
(``reclaim.log.event``); the core never sees bytes.

Invariants:
- ``type`` names a registered event type (``reclaim.core.machine.EVENT_TYPES``) and
  ``version`` one of its versions;
- ``time`` is RFC 3339 UTC with microseconds (``2026-11-25T19:55:35.000000Z``), so text order is
  time order;
- ``payload`` holds only ``str``, ``bool``, ``None``, lists and dicts (integers are decimal
  strings).
"""

from __future__ import annotations

from dataclasses import dataclass

from reclaim.core.times import format_time, is_time, parse_time
from reclaim.core.types import JsonValue

__all__ = ["Event", "format_time", "is_time", "parse_time"]


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
        assert is_time(self.time), f"event time {self.time!r} is not RFC 3339 UTC micro"
