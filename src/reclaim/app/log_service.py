"""The log service: decide, sign, append (with group commit), evolve, publish checkpoints.

Theory of operation
-------------------
One ``LogService`` owns the in-memory ``State`` of a log and is its only writer. Commands reach
it from any thread through ``submit``; a single writer thread drains the queue into batches of at
most ``limits.append_batch_max`` commands. For each command it runs the core's ``decide`` against
the working state, signs the resulting events with the authorising actor's key and ``evolve``s the
working state; then it appends the whole batch in ONE store transaction (group commit: one fsync
for the batch, not one per event) and only then answers each caller. If the transaction fails,
every caller of the batch gets the error and the state is rebuilt from the store, so the memory
never runs ahead of what is durable.

Checkpoints are published after a batch when ``limits.checkpoint_interval_events`` events or
``limits.checkpoint_interval_seconds`` seconds have passed since the last one, and on demand.
A checkpoint names the origin, the tree size, the root and (extension line) the state digest at
that size; it is signed by the log signer key and stored, every one of them kept.

``submit_many`` is the bulk path (imports, the demo, benchmarks): same steps, called on the
caller's thread, in batches, while holding the writer lock.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from reclaim.app.ports import AppendResult, Clock, EventStore, StoredCheckpoint
from reclaim.core import limits
from reclaim.core.events import Event, parse_time
from reclaim.core.rejections import Rejection
from reclaim.core.state import Command, State, assert_invariants, check, decide, evolve
from reclaim.log import event as log_event
from reclaim.log.checkpoint import Checkpoint, sign_checkpoint
from reclaim.log.digest import StateDigest, extension_line
from reclaim.log.keys import SignerKey, VerifierKey


class UnknownSigner(KeyError):
    """No private key is held for the actor asked to authorise a command."""


class SignatureInvalid(ValueError):
    """An externally signed event whose signature does not verify against its actor's key."""


@dataclass(frozen=True, slots=True)
class Accepted:
    seq: int
    event: Event


Outcome = Accepted | Rejection


@dataclass(slots=True)
class KeyRing:
    """The private keys this process holds: operator role keys and the log signer."""

    log_signer: SignerKey
    actors: dict[str, SignerKey] = field(default_factory=dict)

    def for_actor(self, name: str) -> SignerKey:
        try:
            return self.actors[name]
        except KeyError:
            raise UnknownSigner(name) from None


@dataclass(slots=True)
class _Work:
    command: Command | log_event.SignedEvent
    actor: str
    future: Future[Outcome]


_STOP = object()


class LogService:
    def __init__(self, store: EventStore, keys: KeyRing, clock: Clock) -> None:
        self._store = store
        self._keys = keys
        self._clock = clock
        self._lock = threading.RLock()  # held while the state and the store are written
        self._queue: queue.Queue[_Work | object] = queue.Queue()
        self._writer: threading.Thread | None = None
        self.state = State()
        self._digest = StateDigest()
        self._size = 0
        self._last_checkpoint_size = 0
        self._last_checkpoint_at = time.monotonic()
        self._last_now: datetime | None = None
        self.reload()

    # Reading -------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self._size

    @property
    def store(self) -> EventStore:
        return self._store

    def reload(self) -> None:
        """Rebuild the in-memory state by replaying every stored event through the core."""
        with self._lock:
            state, size = State(), self._store.size()
            for start in range(0, size, limits.bundle_size_max):
                end = min(size, start + limits.bundle_size_max)
                for leaf in self._store.leaves(start, end):
                    logged = log_event.parse_leaf(leaf)
                    rejection = check(state, logged.event)
                    assert rejection is None, f"stored event {logged.seq} fails: {rejection}"
                    evolve(state, logged.event)
            self.state, self._size = state, size
            self._digest = StateDigest()
            self._digest.update(state)
            self._last_now = parse_time(state.last_time) if state.last_time else None
            latest = self._store.latest_checkpoint()
            self._last_checkpoint_size = latest.size if latest else 0

    # Writing -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the group-commit writer thread (``submit`` needs it)."""
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="log-writer", daemon=True)
                self._writer.start()

    def stop(self) -> None:
        writer = self._writer
        if writer is not None:
            self._queue.put(_STOP)
            writer.join()
            self._writer = None

    def submit(self, command: Command, actor: str) -> Outcome:
        """Decide, sign with ``actor``'s key, and append; returns once the event is durable."""
        return self._enqueue(command, actor).result()

    def submit_signed(self, signed: log_event.SignedEvent) -> Outcome:
        """Append an event an actor signed itself (e.g. a user's own key)."""
        return self._enqueue(signed, signed.event.actor).result()

    def _enqueue(self, command: Command | log_event.SignedEvent, actor: str) -> Future[Outcome]:
        assert self._writer is not None, "call start() before submit()"
        future: Future[Outcome] = Future()
        self._queue.put(_Work(command, actor, future))
        return future

    def submit_many(self, commands: Iterable[tuple[Command, str]]) -> list[Outcome]:
        """Bulk path on the caller's thread: batches of ``append_batch_max`` in one transaction."""
        outcomes: list[Outcome] = []
        batch: list[_Work] = []
        for command, actor in commands:
            future: Future[Outcome] = Future()
            batch.append(_Work(command, actor, future))
            if len(batch) == limits.append_batch_max:
                self._commit(batch)
                outcomes.extend(w.future.result() for w in batch)
                batch = []
        if batch:
            self._commit(batch)
            outcomes.extend(w.future.result() for w in batch)
        return outcomes

    def publish_checkpoint(self) -> StoredCheckpoint:
        """Sign and store a checkpoint of the log as it is now (on demand)."""
        with self._lock:
            return self._publish()

    def _run(self) -> None:
        while True:
            timeout = self._checkpoint_wait_seconds()
            try:
                first = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._maybe_checkpoint()
                continue
            if first is _STOP:
                return
            assert isinstance(first, _Work)
            batch = [first]
            while len(batch) < limits.append_batch_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                assert isinstance(item, _Work)
                batch.append(item)
            self._commit(batch)

    def _checkpoint_wait_seconds(self) -> float | None:
        if self._size == self._last_checkpoint_size:
            return None if self._queue.qsize() else limits.checkpoint_interval_seconds
        elapsed = time.monotonic() - self._last_checkpoint_at
        return max(0.0, limits.checkpoint_interval_seconds - elapsed)

    def _commit(self, batch: Sequence[_Work]) -> None:
        with self._lock:
            signed: list[log_event.SignedEvent] = []
            owners: list[_Work] = []
            for work in batch:
                outcome = self._decide_and_sign(work)
                if isinstance(outcome, Rejection):
                    work.future.set_result(outcome)
                else:
                    signed.append(outcome)
                    owners.append(work)
            if not signed:
                return
            try:
                result: AppendResult = self._store.append(signed)
            except BaseException as exc:
                for work in owners:
                    work.future.set_exception(exc)
                self.reload()  # the working state ran ahead of the store: rebuild it
                raise
            assert result.first_seq == self._size, "the store's seq must follow ours"
            assert result.size == self._size + len(signed)
            self._size = result.size
            for offset, (work, item) in enumerate(zip(owners, signed, strict=True)):
                work.future.set_result(Accepted(result.first_seq + offset, item.event))
            self._maybe_checkpoint()

    def _decide_and_sign(self, work: _Work) -> log_event.SignedEvent | Rejection:
        if isinstance(work.command, log_event.SignedEvent):
            return self._check_signed(work.command)
        key = self._keys.for_actor(work.actor)
        decided = decide(self.state, work.command, work.actor, key.key_id.hex(), self._now())
        if isinstance(decided, Rejection):
            return decided
        assert len(decided) == 1, "foundation commands imply exactly one event"
        evolve(self.state, decided[0])
        return log_event.sign(decided[0], key)

    def _check_signed(self, signed: log_event.SignedEvent) -> log_event.SignedEvent | Rejection:
        event = signed.event
        rejection = check(self.state, event)
        if rejection is not None:
            return rejection
        actor = self.state.actors.get(event.actor)
        vkey_text = actor.keys.get(event.key_id) if actor else None
        if vkey_text is None or not log_event.verify_signature(
            signed, VerifierKey.parse(vkey_text)
        ):
            raise SignatureInvalid(f"signature of {event.type} by {event.actor!r} is invalid")
        evolve(self.state, event)
        return signed

    def _maybe_checkpoint(self) -> None:
        new_events = self._size - self._last_checkpoint_size
        if new_events <= 0:
            return
        waited = time.monotonic() - self._last_checkpoint_at
        if (
            new_events >= limits.checkpoint_interval_events
            or waited >= limits.checkpoint_interval_seconds
        ):
            with self._lock:
                self._publish()

    def _publish(self) -> StoredCheckpoint:
        assert self.state.origin, "a checkpoint needs the genesis event"
        if __debug__:
            assert_invariants(self.state)
        root = self._store.root(self._size)
        self._digest.update(self.state)
        checkpoint = Checkpoint(
            self.state.origin, self._size, root, (extension_line(self._digest.digest()),)
        )
        stored = StoredCheckpoint(
            self._size, root, sign_checkpoint(checkpoint, self._keys.log_signer)
        )
        latest = self._store.latest_checkpoint()
        if latest is None or latest.size < stored.size:
            self._store.add_checkpoint(stored)
        else:
            stored = latest
        self._last_checkpoint_size = stored.size
        self._last_checkpoint_at = time.monotonic()
        return stored

    def _now(self) -> datetime:
        """The clock's time, never earlier than the last event's (times never go backwards)."""
        now = self._clock.now()
        if self._last_now is not None and now < self._last_now:
            now = self._last_now
        self._last_now = now
        return now
