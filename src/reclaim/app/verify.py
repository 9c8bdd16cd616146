"""The independent verifier: replays a public log from files or a URL, with no database.

Anyone can run it (DESIGN §1, §7): it reads the log through a ``LogSource`` — the files of an
export (``reclaim.adapters.log_sources.DirectorySource``) or a running server's read-only API
(``HttpSource``) — and checks everything the operator signed, replaying every event through the
same pure core (``check`` and ``evolve``) that the operator ran when it appended them.

Theory of operation
-------------------
The checks run in this order and the verifier stops at the first failure, which it returns as a
``VerifyFailure`` naming what is wrong and where (the seq, the checkpoint, the file and line):

1. **keys**: ``keys.json`` is the canonical key set (``reclaim.app.public_keys``); the log key and
   every actor key are verifier keys; key ids are unique; revoked ids are keys of their actor.
   Keys the user trusts (``trusted_log_key``, ``trusted_admin_key``) must be the published ones.
2. **checkpoints**: every note is signed by the log key (``open_checkpoint``) and names the
   origin of ``keys.json``; sizes strictly increase and are not 0 (the genesis event comes
   first); each carries the ``reclaim-state`` extension (``reclaim.log.digest``).
3. **entries**, streamed bundle by bundle in order. Bundles are contiguous. For each leaf:
   a. canonical and well formed (``reclaim.log.event.parse_leaf``);
   b. its ``seq`` is its position, so a dropped, duplicated or reordered event is named;
   c. signed by a key that ``keys.json`` lists, found by key id, and the signature verifies;
   d. the core accepts it after the events before it (``check``; a rejection is a failure),
      the key it names is, in the replayed state, the same key ``keys.json`` lists; ``evolve``;
   e. its leaf hash joins the Merkle frontier (``merkle.CompactRange``).
   When the frontier reaches a checkpoint's size: the root equals the signed root; the state
   digest of the replay equals the signed one; when the source serves proofs, the RFC 9162
   consistency proof from the previous checkpoint verifies. Equal roots at every checkpoint
   already make consecutive checkpoints consistent; the proof check tests the server's proofs.
   At seq 0 the genesis event must name the origin and log key of ``keys.json``.
4. **the end**: no checkpoint lies beyond the log; every event is covered by a checkpoint (the
   exporter always publishes one at the end); ``keys.json`` equals the key set of the replayed
   state byte for byte.

Parallelism
-----------
Steps 3a-c and the leaf hash are independent from one leaf to the next and cost nearly all of
the time (an Ed25519 verification, a canonical re-encoding). A ``ProcessPoolExecutor`` (spawn
context) takes whole bundles as raw bytes and returns compact results: the leaf hashes, each
event as a plain tuple, and the first fault of the bundle. The main process keeps the workers
``bundles_ahead_per_worker`` bundles ahead, takes results back in order and does steps 3d-e,
which must see the events one after the other; when the next result is not ready it checks a
later bundle itself instead of waiting. So the pool has one worker per CPU *but one*: the main
process is the last checker, and the busy processes never outnumber the CPUs (measured: two
workers and a busy main process on two CPUs cost ~10 µs more CPU per event, in context switches
and caches lost, than one worker and the main process). Small logs (``in_process_events_max``)
are verified in the calling process. Every path runs the same ``BundleChecker`` and replays in
the same order, so they report the same thing.

Where the time goes (CPU per event, 2-vCPU reference machine, ``benchmarks/bench_verify.py``):
~85 µs for the Ed25519 verification, ~17 µs for ``parse_leaf`` (a JSON parse and a canonical
re-encoding), ~1 µs for the leaf hash; ~6 µs for ``check`` and ``evolve``, ~9.5 µs for the
incremental state digest (one entity per event), a few µs for the pool's pickling, the frontier
and the loops. The verification alone is the floor; the benchmark reports the ratio of the two.

Outcomes and errors
-------------------
- ``verify_log`` returns a ``VerifyReport``, or a ``VerifyFailure`` (a value, not an exception:
  a log that does not verify is a finding): ``kind`` (``FailureKind``), ``seq`` (``None`` when
  the failure is not about one event), ``checkpoint`` (a tree size or ``None``) and ``detail``,
  a sentence naming the place.
- ``SourceError``: raised by a ``LogSource`` that cannot serve what was asked (an I/O or HTTP
  error, a missing or unexpected file); ``verify_log`` returns it as a ``VerifyFailure`` of kind
  ``source_error``.
- ``ValueError`` for a bad argument (negative ``workers``); ``BrokenProcessPool`` if a worker
  process dies (killed, out of memory) — an operating error, not a finding; ``assert`` for bugs.

Known limits: the whole list of checkpoints is held in memory (a note is at most
``limits.note_size_max_bytes``); a source that is a live server may answer ``/log/keys`` with keys
registered after its latest checkpoint, which reads as ``keys_disagree`` — verify again.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple, Protocol, TypeGuard

from reclaim.app.public_keys import keys_document
from reclaim.core import limits
from reclaim.core.claims import assert_claims_invariants
from reclaim.core.distribution.machine import assert_distribution_invariants
from reclaim.core.events import Event
from reclaim.core.ledger import assert_ledger_invariants
from reclaim.core.state import State, assert_invariants, check, evolve
from reclaim.core.types import JsonValue
from reclaim.log import canonical
from reclaim.log.checkpoint import CheckpointError, open_checkpoint
from reclaim.log.event import EventFormatError, parse_leaf, verify_signature
from reclaim.log.keys import KeyFormatError, VerifierKey
from reclaim.log.merkle import CompactRange, ProofError, leaf_hash, verify_consistency

#: Logs of at most this many events are verified without a process pool: spawning workers (an
#: interpreter start and this module's imports, ~0.1 s of CPU each, more if the program's main
#: module is heavy: spawn imports it again) costs more than it saves on two bundles.
in_process_events_max: Final = 2 * limits.bundle_size_max
#: Bundles queued per worker ahead of the one being replayed: enough that a worker never waits
#: for the main process, few enough to bound memory (a bundle is a few MB; as many again wait
#: for the main process to check them).
bundles_ahead_per_worker: Final = 3
#: Longest key id quoted in a failure message (key ids are 8 hex digits; a forged one may not be).
_QUOTE_MAX_CHARS: Final = 64


class FailureKind(StrEnum):
    """What is wrong, in the order the checks run (see the module docstring)."""

    source_error = "source_error"
    keys_malformed = "keys_malformed"
    untrusted_key = "untrusted_key"
    no_checkpoint = "no_checkpoint"
    checkpoint_invalid = "checkpoint_invalid"
    checkpoint_origin = "checkpoint_origin"
    checkpoint_order = "checkpoint_order"
    entries_missing = "entries_missing"
    bundle_misplaced = "bundle_misplaced"
    leaf_malformed = "leaf_malformed"
    seq_mismatch = "seq_mismatch"
    unknown_key = "unknown_key"
    signature_invalid = "signature_invalid"
    event_rejected = "event_rejected"
    keys_disagree = "keys_disagree"
    root_mismatch = "root_mismatch"
    state_digest_mismatch = "state_digest_mismatch"
    consistency_proof_invalid = "consistency_proof_invalid"
    checkpoint_beyond_log = "checkpoint_beyond_log"
    events_uncovered = "events_uncovered"
    invariant_violated = "invariant_violated"


@dataclass(frozen=True, slots=True)
class VerifyFailure:
    """The log does not verify: the first thing found wrong, and where.

    ``seq`` is the event concerned (``None`` when the failure is not about one event),
    ``checkpoint`` the tree size of the checkpoint concerned, ``detail`` a sentence naming both
    and, for an event, the file and line (or request) it was read from.
    """

    kind: FailureKind
    seq: int | None
    detail: str
    checkpoint: int | None = None

    def __str__(self) -> str:
        return self.detail


class _Failed(Exception):
    def __init__(self, kind: FailureKind, seq: int | None, detail: str, *,
                 checkpoint: int | None = None) -> None:  # fmt: skip
        super().__init__(detail)
        self.failure = VerifyFailure(kind, seq, detail, checkpoint)


class SourceError(Exception):
    """A log source could not serve what was asked: I/O, HTTP, a missing or unexpected file."""


class LogSource(Protocol):
    """Where a verifier reads a public log from; never a database.

    ``bundles`` yields ``(first seq, raw bytes)`` in seq order, each bundle being leaves as exact
    canonical bytes, one per ``\\n``-terminated line. Methods raise ``SourceError``.
    """

    def keys(self) -> bytes:
        """The key set document (``keys.json``), exactly as published."""
        ...

    def checkpoints(self) -> list[str]:
        """Every signed checkpoint note, oldest first, the latest last."""
        ...

    def bundles(self) -> Iterator[tuple[int, bytes]]: ...

    def size_hint(self) -> int:
        """How many events the source expects to serve (for progress; not trusted)."""
        ...

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None:
        """The RFC 9162 proof between two tree sizes, or ``None`` if the source has no proofs."""
        ...

    def locate(self, start: int, line: int | None = None) -> str:
        """Where the bundle starting at seq ``start`` (and its 1-based ``line``) is read from."""
        ...


Progress = Callable[[int, int], None]
"""``progress(events verified, events expected)``, called after every bundle."""


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What a successful verification established."""

    origin: str
    events: int
    checkpoints: int
    consistency_proofs: int
    root: bytes
    state_digest: bytes
    actors: int
    keys: int
    workers: int  # pool processes besides the calling one; 0: verified in the calling process
    elapsed_seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def __str__(self) -> str:
        plural = "es" if self.workers > 1 else ""
        where = f"with {self.workers} worker process{plural}" if self.workers else "in process"
        return (
            f"{self.origin}: {self.events:,} events, {self.checkpoints:,} signed checkpoints, "
            f"{self.consistency_proofs:,} consistency proofs; root {_b64(self.root)}, "
            f"state {self.state_digest.hex()}; {self.actors:,} actors, {self.keys:,} keys; "
            f"{self.elapsed_seconds:.2f} s ({self.events_per_second:,.0f} events/s, {where})"
        )


def verify_log(
    source: LogSource,
    *,
    trusted_log_key: VerifierKey | None = None,
    trusted_admin_key: VerifierKey | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> VerifyReport | VerifyFailure:
    """Verify the whole log ``source`` serves: a report, or the first failure found.

    ``workers``: ``None`` chooses (one per CPU but one, or none for a small log); ``0`` verifies
    in the calling process; ``n >= 1`` uses a pool of ``n`` processes whatever the log's size.
    """
    try:
        return _verify(source, trusted_log_key, trusted_admin_key, workers, progress)
    except _Failed as failed:
        return failed.failure
    except SourceError as exc:
        return VerifyFailure(FailureKind.source_error, None, str(exc))


def _verify(
    source: LogSource,
    trusted_log_key: VerifierKey | None,
    trusted_admin_key: VerifierKey | None,
    workers: int | None,
    progress: Progress | None,
) -> VerifyReport:
    started = time.perf_counter()
    key_set = _read_keys(source.keys())
    _check_trusted(key_set, trusted_log_key, trusted_admin_key)
    checkpoints = _read_checkpoints(source.checkpoints(), key_set)
    total = source.size_hint()
    pool_size = _pool_size(workers, total)
    replay = _Replay(source, key_set, checkpoints, trusted_admin_key)
    if pool_size:
        _stream_in_pool(source, key_set, replay, pool_size, total, progress)
    else:
        _stream_in_process(source, key_set, replay, total, progress)
    replay.finish()
    return VerifyReport(
        origin=key_set.origin,
        events=replay.size,
        checkpoints=len(checkpoints),
        consistency_proofs=replay.consistency_proofs,
        root=replay.frontier.root(),
        state_digest=replay.digest.digest(),
        actors=len(replay.state.actors),
        keys=len(replay.state.key_owner),
        workers=pool_size,
        elapsed_seconds=time.perf_counter() - started,
    )


def _pool_size(workers: int | None, total: int) -> int:
    if workers is None:
        cpus = os.cpu_count() or 1
        return cpus - 1 if cpus >= 2 and total > in_process_events_max else 0
    if workers < 0:
        raise ValueError(f"workers must be None or >= 0, not {workers}")
    return workers


# 1. Keys ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _KeySet:
    """``keys.json``, parsed and checked."""

    data: bytes
    origin: str
    log_key: VerifierKey
    log_key_text: str
    by_id: dict[str, str]  # hex key id -> verifier key text
    admins: frozenset[VerifierKey]  # keys of actors whose role is admin


def _read_keys(data: bytes) -> _KeySet:
    def fail(detail: str) -> _Failed:
        return _Failed(FailureKind.keys_malformed, None, f"keys.json: {detail}")

    try:
        doc = canonical.decode(data)
    except canonical.CanonicalError as exc:
        raise fail(str(exc)) from exc
    if sorted(doc) != ["actors", "log_key", "origin"]:
        raise fail(f"fields {sorted(doc)} are not ['actors', 'log_key', 'origin']")
    origin, log_key_text, actors = doc["origin"], doc["log_key"], doc["actors"]
    if not isinstance(origin, str) or not origin:
        raise fail("origin is not a non-empty text")
    if not isinstance(log_key_text, str):
        raise fail("log_key is not text")
    try:
        log_key = VerifierKey.parse(log_key_text)
    except KeyFormatError as exc:
        raise fail(f"log_key is not a verifier key: {exc}") from exc
    if not isinstance(actors, list):
        raise fail("actors is not a list")
    by_id: dict[str, str] = {}
    admins: set[VerifierKey] = set()
    for entry in actors:
        role, keys = _read_actor(entry, by_id, fail)
        if role == "admin":
            admins.update(keys)
    return _KeySet(data, origin, log_key, log_key_text, by_id, frozenset(admins))


def _read_actor(
    entry: JsonValue, by_id: dict[str, str], fail: Callable[[str], _Failed]
) -> tuple[str, list[VerifierKey]]:
    """An actor's role and keys; its keys are added to ``by_id``."""
    if not isinstance(entry, dict) or sorted(entry) != ["keys", "name", "revoked", "role"]:
        raise fail("an actor is not an object of keys, name, revoked and role")
    name, role, keys, revoked = entry["name"], entry["role"], entry["keys"], entry["revoked"]
    if not isinstance(name, str) or not isinstance(role, str):
        raise fail("an actor's name or role is not text")
    if not _all_text(keys) or not _all_text(revoked):
        raise fail(f"actor {name!r}: keys and revoked must be lists of text")
    parsed: list[VerifierKey] = []
    for text in keys:
        try:
            key = VerifierKey.parse(text)
        except KeyFormatError as exc:
            raise fail(f"actor {name!r}: {text!r} is not a verifier key: {exc}") from exc
        ident = key.key_id.hex()
        if ident in by_id:
            raise fail(f"actor {name!r}: key id {ident} is listed twice")
        by_id[ident] = text
        parsed.append(key)
    own = {key.key_id.hex() for key in parsed}
    for ident in revoked:
        if ident not in own:
            raise fail(f"actor {name!r}: revoked key {ident!r} is not one of its keys")
    return role, parsed


def _all_text(value: JsonValue) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check_trusted(
    key_set: _KeySet, log_key: VerifierKey | None, admin_key: VerifierKey | None
) -> None:
    if log_key is not None and log_key != key_set.log_key:
        raise _Failed(
            FailureKind.untrusted_key,
            None,
            f"untrusted key: keys.json names the log key {key_set.log_key_text}, "
            f"not the trusted {log_key.to_text()}",
        )
    if admin_key is not None and admin_key not in key_set.admins:
        raise _Failed(
            FailureKind.untrusted_key,
            None,
            f"untrusted key: keys.json lists no admin with the trusted key {admin_key.to_text()}",
        )


# 2. Checkpoints --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SignedCheckpoint:
    size: int
    root: bytes
    digest: bytes


def _read_checkpoints(notes: list[str], key_set: _KeySet) -> list[_SignedCheckpoint]:
    from reclaim.log.digest import digest_from_extensions  # numpy: see _Replay.__init__

    if not notes:
        raise _Failed(FailureKind.no_checkpoint, None, "the source has no checkpoint")
    out: list[_SignedCheckpoint] = []
    for number, note in enumerate(notes):
        label = _claimed_size(note, number)
        try:
            cp = open_checkpoint(note, key_set.log_key)
        except CheckpointError as exc:
            raise _Failed(
                FailureKind.checkpoint_invalid, None, f"checkpoint {label}: {exc}"
            ) from exc
        if cp.origin != key_set.origin:
            raise _Failed(
                FailureKind.checkpoint_origin,
                None,
                f"checkpoint {cp.size}: origin {cp.origin!r} is not the log's {key_set.origin!r}",
                checkpoint=cp.size,
            )
        if cp.size == 0:
            raise _Failed(
                FailureKind.checkpoint_invalid,
                None,
                "checkpoint 0: a checkpoint covers at least the genesis event",
                checkpoint=0,
            )
        if out and cp.size <= out[-1].size:
            raise _Failed(
                FailureKind.checkpoint_order,
                None,
                f"checkpoint {cp.size} follows checkpoint {out[-1].size}: "
                "sizes must strictly increase",
                checkpoint=cp.size,
            )
        digest = digest_from_extensions(cp.extensions)
        if digest is None:
            raise _Failed(
                FailureKind.checkpoint_invalid,
                None,
                f"checkpoint {cp.size}: no valid 'reclaim-state <hex>' extension line",
                checkpoint=cp.size,
            )
        out.append(_SignedCheckpoint(cp.size, cp.root, digest))
    return out


def _claimed_size(note: str, number: int) -> str:
    """How to name a checkpoint before its signature is checked: the size its text claims."""
    lines = note.split("\n", 2)
    claimed = lines[1] if len(lines) > 2 else ""
    if claimed.isdecimal() and len(claimed) <= 20:
        return claimed
    return f"#{number + 1} (of the source's list)"


# 3a-c. Bundles: the order-free work, in worker processes or in process ------------------------

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
                message = f"signed by unknown key {event.key_id[:_QUOTE_MAX_CHARS]}"
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


_WORKER_CHECKER: BundleChecker | None = None


def _worker_init(keys_by_id: dict[str, str]) -> None:
    global _WORKER_CHECKER  # one per worker process, set once by the pool's initializer
    _WORKER_CHECKER = BundleChecker(keys_by_id, to_pickle=True)


def _worker_check(start: int, data: bytes) -> BundleResult:
    assert _WORKER_CHECKER is not None, "the pool's initializer sets the checker"
    return _WORKER_CHECKER(start, data)


def _stream_in_process(
    source: LogSource,
    key_set: _KeySet,
    replay: _Replay,
    total: int,
    progress: Progress | None,
) -> None:
    checker = BundleChecker(key_set.by_id)
    for start, data in source.bundles():
        replay.check_start(start)
        replay.feed(start, checker(start, data))
        if progress is not None:
            progress(replay.size, max(total, replay.size))


@dataclass(slots=True)
class _Slot:
    """A bundle on its way: sent to a worker (``future``), or kept for the main process."""

    start: int
    data: bytes | None
    future: Future[BundleResult] | None
    result: BundleResult | None = None


def _stream_in_pool(
    source: LogSource,
    key_set: _KeySet,
    replay: _Replay,
    pool_size: int,
    total: int,
    progress: Progress | None,
) -> None:
    """Workers check bundles ahead; the main process replays in order and, rather than wait for
    a worker, checks a later bundle itself. So the busy processes never outnumber the CPUs."""
    checker = BundleChecker(key_set.by_id)
    ahead = bundles_ahead_per_worker * pool_size
    slots: deque[_Slot] = deque()
    bundles = iter(source.bundles())
    pool = ProcessPoolExecutor(
        max_workers=pool_size,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(key_set.by_id,),
    )
    try:
        while _fill(slots, bundles, pool, ahead) or slots:
            head = slots[0]
            if head.future is not None and not head.future.done():
                local = next((s for s in slots if s.future is None and s.result is None), None)
                if local is not None:
                    local.result, local.data = checker(local.start, _bytes(local.data)), None
                    continue
            slots.popleft()
            if head.future is not None:
                head.result = head.future.result()
            elif head.result is None:
                head.result = checker(head.start, _bytes(head.data))
            replay.check_start(head.start)
            replay.feed(head.start, head.result)
            if progress is not None:
                progress(replay.size, max(total, replay.size))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _fill(
    slots: deque[_Slot],
    bundles: Iterator[tuple[int, bytes]],
    pool: ProcessPoolExecutor,
    ahead: int,
) -> bool:
    """Read bundles into ``slots`` up to the window; ``False`` once the source is exhausted."""
    while len(slots) < 2 * ahead:
        try:
            start, data = next(bundles)
        except StopIteration:
            return False
        busy = sum(1 for s in slots if s.future is not None and not s.future.done())
        if busy < ahead:
            slots.append(_Slot(start, None, pool.submit(_worker_check, start, data)))
        else:
            slots.append(_Slot(start, data, None))
    return True


def _bytes(data: bytes | None) -> bytes:
    assert data is not None, "a bundle kept for the main process keeps its bytes until checked"
    return data


# 3d-e and 4. The replay, in order, in the main process -----------------------------------------


class _Replay:
    """The ordered part: the core, the Merkle frontier, the checkpoints, the final checks."""

    def __init__(
        self,
        source: LogSource,
        key_set: _KeySet,
        checkpoints: list[_SignedCheckpoint],
        trusted_admin_key: VerifierKey | None,
    ) -> None:
        # Imported here, not at the top: worker processes import this module and start faster
        # without numpy, which the digest pulls in and only the main process needs.
        from reclaim.log.digest import StateDigest

        self.state = State()
        self.digest = StateDigest()
        self.frontier = CompactRange()
        self.size = 0
        self.consistency_proofs = 0
        self._source = source
        self._keys = key_set
        self._checkpoints = checkpoints
        self._next = 0  # index of the next checkpoint to reach
        self._trusted_admin_key = trusted_admin_key
        self._proofs = True  # until the source says it has none
        #: Key ids whose registered text was found equal to keys.json's: a registered key never
        #: changes (``key_exists``), so each is compared once.
        self._confirmed: set[str] = set()

    def check_start(self, start: int) -> None:
        expected = self.size
        if start > expected:
            raise _Failed(
                FailureKind.entries_missing,
                expected,
                f"seq {expected}: entries {expected} to {start - 1} are missing: "
                f"{self._source.locate(expected)} is absent, the next bundle is "
                f"{self._source.locate(start)}",
            )
        if start < expected:
            raise _Failed(
                FailureKind.bundle_misplaced,
                start,
                f"seq {start}: {self._source.locate(start)} starts at seq {start}, "
                f"inside the entries before it (they end at seq {expected - 1})",
            )

    def feed(self, start: int, result: BundleResult) -> None:
        """Replay a bundle's good prefix, then report its fault if it has one."""
        state, append, by_id = self.state, self.frontier.append, self._keys.by_id
        confirmed = self._confirmed
        next_size = self._next_size()
        seq = self.size
        events: Sequence[Event | EventTuple] = result.events
        for leaf_hash_, item in zip(result.hashes, events, strict=True):
            event = item if isinstance(item, Event) else Event(*item)
            rejection = check(state, event)
            if rejection is not None:
                raise _Failed(
                    FailureKind.event_rejected,
                    seq,
                    f"seq {seq}: rejected by the core: {rejection.code.name}: "
                    f"{rejection.detail} ({self._source.locate(start, seq - start + 1)})",
                )
            evolve(state, event)
            if event.key_id not in confirmed:
                if state.actors[event.actor].keys[event.key_id] != by_id[event.key_id]:
                    self._key_differs(start, seq, event)
                confirmed.add(event.key_id)
            if seq == 0:
                self._check_genesis(start)
            append(leaf_hash_)
            seq += 1
            if seq == next_size:
                self.size = seq
                self._reach_checkpoint()
                next_size = self._next_size()
        self.size = seq
        if result.fault is not None:
            index, kind, message = result.fault
            at = start + index
            where = self._source.locate(start, index + 1)
            raise _Failed(kind, at, f"seq {at}: {message} ({where})")

    def _next_size(self) -> int:
        return self._checkpoints[self._next].size if self._next < len(self._checkpoints) else -1

    def _key_differs(self, start: int, seq: int, event: Event) -> None:
        registered = self.state.actors[event.actor].keys[event.key_id]
        raise _Failed(
            FailureKind.keys_disagree,
            seq,
            f"seq {seq}: key {event.key_id} of {event.actor!r} is {registered} in the log, "
            f"but keys.json lists {self._keys.by_id[event.key_id]} "
            f"({self._source.locate(start, seq - start + 1)})",
        )

    def _check_genesis(self, start: int) -> None:
        state, key_set = self.state, self._keys
        where = self._source.locate(start, 1)
        if state.origin != key_set.origin:
            raise _Failed(
                FailureKind.keys_disagree,
                0,
                f"seq 0: the genesis event names origin {state.origin!r}, "
                f"keys.json {key_set.origin!r} ({where})",
            )
        if state.log_key != key_set.log_key_text:
            raise _Failed(
                FailureKind.keys_disagree,
                0,
                f"seq 0: the genesis event names log key {state.log_key}, "
                f"keys.json {key_set.log_key_text} ({where})",
            )
        trusted = self._trusted_admin_key
        (admin,) = state.actors.values()
        (admin_key,) = admin.keys.values()
        if trusted is not None and VerifierKey.parse(admin_key) != trusted:
            raise _Failed(
                FailureKind.untrusted_key,
                0,
                f"seq 0: untrusted key: the genesis admin key is {admin_key}, "
                f"not the trusted {trusted.to_text()} ({where})",
            )

    def _reach_checkpoint(self) -> None:
        signed = self._checkpoints[self._next]
        size = signed.size
        root = self.frontier.root()
        if root != signed.root:
            raise _Failed(
                FailureKind.root_mismatch,
                None,
                f"checkpoint {size}: root mismatch, computed {_b64(root)}, "
                f"signed {_b64(signed.root)}",
                checkpoint=size,
            )
        self.digest.update(self.state)
        digest = self.digest.digest()
        if digest != signed.digest:
            raise _Failed(
                FailureKind.state_digest_mismatch,
                None,
                f"checkpoint {size}: state digest mismatch, computed {digest.hex()}, "
                f"signed {signed.digest.hex()}",
                checkpoint=size,
            )
        if self._next > 0 and self._proofs:
            self._check_consistency(self._checkpoints[self._next - 1], signed)
        self._next += 1

    def _check_consistency(self, old: _SignedCheckpoint, new: _SignedCheckpoint) -> None:
        proof = self._source.consistency_proof(old.size, new.size)
        if proof is None:
            self._proofs = False
            return
        try:
            verify_consistency(old.size, new.size, proof, old.root, new.root)
        except ProofError as exc:
            raise _Failed(
                FailureKind.consistency_proof_invalid,
                None,
                f"checkpoint {new.size}: the source's consistency proof from checkpoint "
                f"{old.size} does not verify: {exc}",
                checkpoint=new.size,
            ) from exc
        self.consistency_proofs += 1

    def finish(self) -> None:
        """Step 4: nothing signed beyond the log, nothing unsigned in it, keys.json exact."""
        last = self._checkpoints[-1]
        if self._next < len(self._checkpoints):
            size = self._checkpoints[self._next].size
            raise _Failed(
                FailureKind.checkpoint_beyond_log,
                None,
                f"checkpoint {size} is beyond the log: the source has {self.size} events "
                f"(nothing from {self._source.locate(self.size)})",
                checkpoint=size,
            )
        if self.size > last.size:
            uncovered = self.size - last.size
            raise _Failed(
                FailureKind.events_uncovered,
                last.size,
                f"{uncovered} events not covered by a signed checkpoint "
                f"(seq {last.size} to {self.size - 1}; the latest checkpoint is {last.size})",
            )
        broken = invariant_failure(self.state)
        if broken is not None:
            raise _Failed(
                FailureKind.invariant_violated,
                None,
                f"the replayed state breaks an invariant: {broken}",
            )
        replayed = keys_document(self.state)
        if replayed != self._keys.data:
            difference = _first_difference(replayed, self._keys.data)
            raise _Failed(
                FailureKind.keys_disagree,
                None,
                f"keys.json disagrees with the replayed log: {difference}",
            )


def invariant_failure(state: State) -> str | None:
    """Every invariant of the replayed state, recomputed from scratch (the ledger's balances
    from its transfers: per asset debits = credits, no flagged account negative, pending ≤
    reserved; the claims' links and indexes); the first one broken, or ``None``."""
    try:
        assert_invariants(state)
        assert_ledger_invariants(state.ledger)
        assert_claims_invariants(state.claims)
        assert_distribution_invariants(state.distribution, state.claims, state.ledger)
    except AssertionError as broken:
        return str(broken) or "an assertion without a message"
    return None


def _first_difference(replayed: bytes, published: bytes) -> str:
    """The first actor (or field) where the replayed key set and keys.json differ."""
    mine, theirs = canonical.decode(replayed), canonical.decode(published)
    for field in ("origin", "log_key"):
        if mine[field] != theirs[field]:
            return f"{field} is {mine[field]!r} in the log, {theirs[field]!r} in keys.json"
    ours = {str(_field(a, "name")): a for a in _items(mine["actors"])}
    listed = {str(_field(a, "name")): a for a in _items(theirs["actors"])}
    for name in sorted(ours.keys() | listed.keys()):
        a, b = ours.get(name), listed.get(name)
        if a is None:
            return f"keys.json lists actor {name!r}, which the log never registered"
        if b is None:
            return f"the log registers actor {name!r}, which keys.json does not list"
        for field in ("role", "keys", "revoked"):
            if _field(a, field) != _field(b, field):
                return (
                    f"actor {name!r}: {field} is {_field(a, field)!r} in the log, "
                    f"{_field(b, field)!r} in keys.json"
                )
    return "the actors are listed in another order"


def _items(value: JsonValue) -> list[dict[str, JsonValue]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _field(item: dict[str, JsonValue], name: str) -> JsonValue:
    return item.get(name)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
