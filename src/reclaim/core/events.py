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

from dataclasses import dataclass
from typing import Final

from reclaim.core.claims.payloads import CLAIMS_EVENT_TYPES
from reclaim.core.distribution.payloads import DISTRIBUTION_EVENT_TYPES
from reclaim.core.times import format_time, is_time, parse_time
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals.payloads import WITHDRAWAL_EVENT_TYPES

__all__ = ["EVENT_TYPES", "Event", "format_time", "is_time", "parse_time"]


#: Event types the core knows, with the schema versions it can replay, and the roles that may
#: authorise each. A role of "self" means the actor named in the payload signs for itself.
EVENT_TYPES: Final[dict[str, tuple[frozenset[int], frozenset[str]]]] = {
    "log.genesis": (frozenset({1}), frozenset({"admin"})),
    # v2 (decided since issue 9) also refuses a public key that any actor holds (``key_in_use``);
    # v1 stays replayable, with its old rule, so logs exported before still verify.
    "actor.registered": (frozenset({1, 2}), frozenset({"admin", "gateway"})),
    "actor.key_added": (frozenset({1, 2}), frozenset({"admin", "self"})),
    "actor.key_revoked": (frozenset({1}), frozenset({"admin", "self"})),
    "document.published": (frozenset({1}), frozenset({"admin"})),
    "ledger.accounts_opened": (frozenset({1}), frozenset({"admin", "treasury"})),
    "ledger.transfers_created": (frozenset({1}), frozenset({"treasury"})),
    "ledger.pending_expired": (frozenset({1}), frozenset({"treasury"})),
    **CLAIMS_EVENT_TYPES,
    **DISTRIBUTION_EVENT_TYPES,
    **WITHDRAWAL_EVENT_TYPES,
}


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
