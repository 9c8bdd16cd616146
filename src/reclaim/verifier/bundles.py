"""Steps 3a-c and the leaf hash: the order-free work on a bundle, in a worker or in process.

For each leaf of a bundle: canonical and well formed (``parse_leaf``); its ``seq`` is its
position; signed by a key that ``keys.json`` lists, and the signature verifies. The result is
the bundle's good prefix (leaf hashes and events) and its first fault, which the replay
reports once it has replayed the prefix.
"""

from __future__ import annotations

from typing import NamedTuple

from reclaim.core import limits
from reclaim.core.events import Event
from reclaim.core.limits import verifier_quoted_key_id_max_chars
from reclaim.core.types import JsonValue
from reclaim.log.event import EventFormatError, parse_leaf, verify_signature
from reclaim.log.keys import VerifierKey
from reclaim.log.merkle import leaf_hash
from reclaim.verifier.outcome import FailureKind

EventTuple = tuple[str, int, str, str, str, dict[str, JsonValue]]
"""``(type, version, time, actor, key_id, payload)``: an ``Event`` as pickled cheaply."""


class BundleFault(NamedTuple):
    position: int  # 0-based line in the bundle
    kind: FailureKind
    message: str


class BundleResult(NamedTuple):
    """A checked bundle: its good prefix (leaf hashes and events), and its first fault if any.

    The events are ``Event`` values, or ``EventTuple`` when the result crosses to another
    process (a tuple of plain values pickles in a fraction of the time).
    """

    hashes: list[bytes]
    events: list[Event] | list[EventTuple]
    fault: BundleFault | None


class BundleChecker:
    """Steps 3a-c and the leaf hash for whole bundles; needs only ``keys.json``'s keys."""

    def __init__(self, keys_by_id: dict[str, str], *, to_pickle: bool = False) -> None:
        self._keys = {ident: VerifierKey.parse(text) for ident, text in keys_by_id.items()}
        self._to_pickle = to_pickle

    def __call__(self, start: int, data: bytes) -> BundleResult:
        lines = data.split(b"\n")
        complete = len(lines) - 1
        hashes: list[bytes] = []
        events: list[Event] = []
        keys = self._keys
        for index in range(min(complete, limits.bundle_size_max)):
            line = lines[index]
            seq = start + index
            try:
                logged = parse_leaf(line)
            except EventFormatError as exc:
                reason = "empty line" if not line else f"malformed event: {exc}"
                return self._result(
                    hashes, events, BundleFault(index, FailureKind.leaf_malformed, reason)
                )
            if logged.seq != seq:
                message = f"expected seq {seq}, found {logged.seq}"
                return self._result(
                    hashes, events, BundleFault(index, FailureKind.seq_mismatch, message)
                )
            event = logged.signed.event
            key = keys.get(event.key_id)
            if key is None:
                message = f"signed by unknown key {event.key_id[:verifier_quoted_key_id_max_chars]}"
                return self._result(
                    hashes, events, BundleFault(index, FailureKind.unknown_key, message)
                )
            if not verify_signature(logged.signed, key):
                message = (
                    f"signature by key {event.key_id} ({key.name}) does not verify "
                    f"over the event's bytes"
                )
                return self._result(
                    hashes, events, BundleFault(index, FailureKind.signature_invalid, message)
                )
            hashes.append(leaf_hash(line))
            events.append(event)
        return self._result(hashes, events, _bundle_end_fault(lines, complete))

    def _result(
        self, hashes: list[bytes], events: list[Event], fault: BundleFault | None
    ) -> BundleResult:
        if self._to_pickle:
            return BundleResult(hashes, _as_tuples(events), fault)
        return BundleResult(hashes, events, fault)


def _as_tuples(events: list[Event]) -> list[EventTuple]:
    """Events as plain tuples, repeated texts as one object each (pickled once, then by ref)."""
    strings: dict[str, str] = {}
    intern = strings.setdefault
    return [
        (intern(e.type, e.type), e.version, e.time, intern(e.actor, e.actor),
         intern(e.key_id, e.key_id), e.payload)
        for e in events
    ]  # fmt: skip


def _bundle_end_fault(lines: list[bytes], complete: int) -> BundleFault | None:
    """A fault after the bundle's last complete line: too many lines, a cut line, none at all."""
    if complete > limits.bundle_size_max:
        message = f"a bundle holds at most {limits.bundle_size_max} events"
        return BundleFault(limits.bundle_size_max, FailureKind.leaf_malformed, message)
    if lines[-1]:
        message = "no newline after the last event"
        return BundleFault(complete, FailureKind.leaf_malformed, message)
    if complete == 0:
        return BundleFault(0, FailureKind.leaf_malformed, "empty bundle")
    return None
