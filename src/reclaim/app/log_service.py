"""The log service: decide, sign, append (group commit, pipelined), evolve, publish checkpoints.

Theory of operation
-------------------
One ``LogService`` owns the in-memory ``State`` of a log and is its only writer. Commands reach
it from any thread through ``submit`` (a writer thread drains the queue into batches of at most
``limits.append_batch_max``) or in bulk through ``submit_many`` (queued like ``submit`` while
the writer runs and the call fits in a batch, as one run; otherwise on the caller's thread).

Group commit (as exchanges and TigerBeetle do it): each caller queues its command and blocks;
the writer takes every queued command into one batch — waiting, at most
``GATHER_WAIT_SECONDS``, for the callers it has just answered to queue their next one, since
it held the GIL while waking them — decides each in order against the state the ones before
it left, appends all accepted events and the batch's signed-request marks in ONE store
transaction, and then wakes each caller with its own answer. A refusal is that caller's
answer; an operating error of one command (an actor with no key here, a signature that does
not verify, a signed request already in a batch not yet stored) fails that caller alone, as
these are found before its command changes the state; only a failure of the batch itself (the
signer, the store) fails every caller of the batch.

A batch goes through two stages:

1. **prepare** — for each command, the core's ``decide`` against the working state, then
   ``evolve``; the canonical bodies of the resulting events are handed to the ``Signer``, which
   may sign them on the other core while this thread goes on;
2. **finish** — wait for the signatures, append the whole batch in ONE store transaction (group
   commit: one fsync per batch), and only then answer every caller of the batch.

Batch *k+1* is prepared while batch *k*'s signatures are being made, so signing and storing
overlap. The working state therefore runs at most one batch ahead of the store. If a finish
fails, the state is rebuilt from the store, and then every caller of that batch and of the
prepared one gets the error: memory never stays ahead of what is durable, and a caller told
of a failure sees nothing of its batch (if the rebuild fails too, the next batch rebuilds
first). Answers, rejections
included, are given only at finish, so no caller sees a decision that a failure could undo.

Signed API requests (``signed_requests``): the first command a request submits carries its
mark, which the store keeps in the batch's transaction. A batch refused because another process
stored one of its marks first (``RequestAlreadyAccepted``) fails that request only: the other
callers of the threaded path are queued again and decided afresh (the bulk path's caller gets
the error).

Checkpoints are published when the pipeline is drained (state and store agree), after
``checkpoint_events`` new events or ``checkpoint_seconds`` seconds (defaults from ``limits``),
and on demand. A checkpoint names the origin, the tree size, the root and (extension line) the
incremental state digest at that size; it is signed by the log signer key and every one is kept.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

from reclaim.app import signed_requests
from reclaim.app.key_index import PublicKeyIndex
from reclaim.app.log_batch import Accepted as Accepted
from reclaim.app.log_batch import Answer, Prepared, Work
from reclaim.app.log_batch import Outcome as Outcome
from reclaim.app.ports import (
    AppendResult,
    Clock,
    EntityChange,
    EventStore,
    PendingSignatures,
    RequestAlreadyAccepted,
    Signer,
    SigningRequests,
    StoredCheckpoint,
)
from reclaim.core import limits
from reclaim.core.events import Event, parse_time
from reclaim.core.machine import (
    Command,
    Decided,
    State,
    assert_invariants,
    check,
    decide,
    evolve,
)
from reclaim.core.rejections import Rejection
from reclaim.log import event as log_event
from reclaim.log.checkpoint import Checkpoint, sign_checkpoint
from reclaim.log.digest import StateDigest, extension_line
from reclaim.log.keys import SignerKey, VerifierKey
from reclaim.log.public_keys import keys_document

_T = TypeVar("_T")


class UnknownSigner(KeyError):
    """No private key is held for the actor asked to authorise a command."""


class SignatureInvalid(ValueError):
    """An externally signed event whose signature does not verify against its actor's key."""


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


class _Signed:
    def __init__(self, signatures: list[bytes]) -> None:
        self._signatures = signatures

    def wait(self) -> list[bytes]:
        return self._signatures


class InlineSigner:
    """The default ``Signer``: signs on the caller's thread (see adapters.signing for more)."""

    def __init__(self, keys: Callable[[str], SignerKey]) -> None:
        self._keys = keys

    def submit(self, requests: SigningRequests) -> PendingSignatures:
        return _Signed([log_event.sign_body(self._keys(actor), m) for actor, m in requests])

    def close(self) -> None:
        return None


_STOP = object()
#: How long the writer waits for the callers it has just answered to queue their next command
#: (``LogService._gather``): about the time of a small batch's commit, so a batch that waits
#: for stragglers costs at most one more commit's latency.
GATHER_WAIT_SECONDS: Final = 0.002
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch (the unit of signed requests' timestamps)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


#: Entities the store projects from the core's values (the rest it projects from events).
_PROJECTED = ("account/", "transfer/")
#: The entities whose change may change who holds a key (``actor_for_public_key``).
_ACTOR: Final = "actor/"


class LogService:
    def __init__(
        self,
        store: EventStore,
        keys: KeyRing,
        clock: Clock,
        signer: Signer | None = None,
        *,
        checkpoint_events: int = limits.checkpoint_interval_events,
        checkpoint_seconds: float = limits.checkpoint_interval_seconds,
    ) -> None:
        assert checkpoint_events >= 1
        assert checkpoint_seconds > 0
        self._checkpoint_events = checkpoint_events
        self._checkpoint_seconds = checkpoint_seconds
        self._store = store
        self._keys = keys
        self._clock = clock
        self._signer: Signer = signer if signer is not None else InlineSigner(keys.for_actor)
        self._lock = threading.RLock()  # held while the state and the store are written
        self._queue: queue.Queue[Work | object] = queue.Queue()
        self._enqueue_lock = threading.Lock()  # a ``submit_many`` run is queued whole
        #: Digests of the signed requests of prepared batches not yet stored (``_prepare``).
        self._marks_in_flight: set[bytes] = set()
        self._writer: threading.Thread | None = None
        #: Callers answered by the last batch (``_gather`` waits for that many to come back).
        self._answered = 0
        #: While ``_gather`` waits for callers: the queue length at which the caller that
        #: reaches it sets ``_arrived`` (0: the writer is not waiting).
        self._wanted = 0
        self._arrived = threading.Event()
        #: Set when a failed pipeline's state may be ahead of the store until ``reload`` ends.
        self._stale = False
        self.state = State()
        self._digest = StateDigest()
        self._size = 0
        self._last_checkpoint_size = 0
        self._last_checkpoint_at = time.monotonic()
        self._last_now: datetime | None = None
        self._key_index: PublicKeyIndex | None = None
        #: Public key -> its one live holder in the stored state (``actor_for_public_key``);
        #: replaced by an empty dict when a batch changing an actor is prepared or on reload.
        self._key_holders: dict[bytes, str] = {}
        #: The root the store gave for the size of the last append (saves reading it back).
        self._appended_root: tuple[int, bytes] = (-1, b"")
        self.reload()

    # Reading -------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self._size

    @property
    def store(self) -> EventStore:
        return self._store

    @property
    def clock(self) -> Clock:
        return self._clock

    def queued(self) -> int:
        """Commands waiting in the writer's queue (not yet taken into a batch)."""
        return self._queue.qsize()

    def actor_for_public_key(self, public_key: bytes) -> str | None:
        """The actor holding ``public_key`` (32 Ed25519 bytes) as a live key, or ``None`` (no
        actor, or more than one): only what is stored counts.

        Looked up under the writer lock, and the actor found is remembered
        (``_key_holders``) until a batch that changes an actor is prepared (``_track``): so
        the signed requests of a busy market do not wait for the writer to drain its queue (it
        holds the lock while it has work) — a remembered answer is the stored state's, since
        every batch prepared since then left every actor as it was. A key nobody holds is not
        remembered (random keys cannot fill the memory)."""
        known = self._key_holders.get(public_key)
        if known is not None:
            return known
        with self._lock:
            if self._key_index is None or not self._key_index.follows(self.state):
                self._key_index = PublicKeyIndex(self.state)
            actor = self._key_index.actor_for(public_key)
            if actor is not None:
                self._key_holders[public_key] = actor
            return actor

    def public_keys(self) -> bytes:
        """The published key set (``keys.json``) of the log as stored: read under the writer
        lock, so no prepared-but-unstored event shows through."""
        with self._lock:
            return keys_document(self.state)

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
            self._key_holders = {}
            self._stale = False
            self._appended_root = (-1, b"")
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
        self._signer.close()

    def submit(self, command: Command, actor: str) -> Outcome:
        """Decide, sign with ``actor``'s key, and append; returns once the event is durable.

        The signed API request held in the caller's context (``signed_requests``), if any, is
        stored with the batch that answers the command, in the same transaction."""
        return self._enqueue(command, actor).result()

    def submit_signed(self, signed: log_event.SignedEvent) -> Outcome:
        """Append an event an actor signed itself (e.g. with a user's own key)."""
        return self._enqueue(signed, signed.event.actor).result()

    def request_seen(self, digest: bytes) -> bool:
        """Whether a signed request with this signature digest was stored (window open)."""
        return self._store.request_seen(digest)

    def _enqueue(self, command: Command | log_event.SignedEvent, actor: str) -> Answer:
        assert self._writer is not None, "call start() before submit()"
        future = Answer()
        work = Work(command, actor, future, mark=signed_requests.take())
        with self._enqueue_lock:
            self._put(work)
        return future

    def _put(self, work: Work) -> None:
        """Queue ``work`` (``_enqueue_lock`` held); wake the writer if it waits for this many."""
        self._queue.put(work)
        wanted = self._wanted
        if wanted and self._queue.qsize() >= wanted:
            self._wanted = 0
            self._arrived.set()

    def submit_many(self, commands: Iterable[tuple[Command, str]]) -> list[Outcome]:
        """Decide, sign and append ``commands`` in order; their answers in the same order.

        With the writer running, a call of at most ``append_batch_max`` commands is queued for
        it as one run (no other caller's command comes between them), so that it is gathered
        with the other callers into one transaction, as ``submit`` is. Otherwise (or for a
        longer call) it runs on the caller's thread: batches of ``append_batch_max``, pipelined.
        Either way a batch is one transaction, and an error raises the first failed
        command's error. The caller's signed API request (``signed_requests``) goes with the
        first command, as in ``submit``."""
        works = [Work(command, actor) for command, actor in commands]
        if works:  # the caller's signed API request, if any, is stored with its first command
            works[0].mark = signed_requests.take()
        if self._writer is not None and len(works) <= limits.append_batch_max:
            return self._submit_queued(works)
        batches = (
            works[i : i + limits.append_batch_max]
            for i in range(0, len(works), limits.append_batch_max)
        )
        with self._lock:
            self._pipeline(batches)
        outcomes: list[Outcome] = []
        for work in works:
            if work.error is not None:
                raise work.error
            assert work.outcome is not None
            outcomes.append(work.outcome)
        return outcomes

    def _submit_queued(self, works: list[Work]) -> list[Outcome]:
        for work in works:
            work.future = Answer()
        with self._enqueue_lock:  # one run in the queue: taken in order by the writer
            for work in works:
                self._put(work)
        outcomes: list[Outcome] = []
        error: BaseException | None = None
        for work in works:
            assert work.future is not None
            try:
                outcomes.append(work.future.result())
            except BaseException as exc:  # every answer is waited for before raising
                error = exc if error is None else error
        if error is not None:
            raise error
        return outcomes

    def publish_checkpoint(self) -> StoredCheckpoint:
        """Sign and store a checkpoint of the log as it is now (on demand)."""
        with self._lock:
            return self._publish()

    def read(self, query: Callable[[State], _T]) -> _T:
        """``query(state)`` under the writer lock, so it sees exactly the stored log (no batch
        is half prepared). ``query`` must only read, and copy what it keeps: the state moves on
        once it returns; a long query holds up the writer for as long as it runs."""
        with self._lock:
            return query(self.state)

    def with_checkpoint(self, read: Callable[[State, StoredCheckpoint], _T]) -> _T:
        """Publish a checkpoint of the log as it is now and call ``read(state, checkpoint)``
        with the state at exactly that checkpoint, both under the writer lock (so no batch can
        come in between). ``read`` must only read, and copy what it keeps: the state moves on
        once it returns."""
        with self._lock:
            stored = self._publish()
            assert self.state.events == stored.size, "the state is the checkpoint's"
            return read(self.state, stored)

    # The pipeline ----------------------------------------------------------------------------

    def _pipeline(self, batches: Iterable[list[Work]]) -> None:
        """Prepare each batch while the previous one's signatures are made, then finish it.

        A checkpoint that falls due is cut between two batches without draining the pipeline:
        the digest is taken from the state before the next batch is prepared, and the checkpoint
        is published as soon as the store has caught up with that size.
        """
        if self._stale:  # a failed pipeline could not rebuild the state: do it before any other
            self.reload()
        pending: Prepared | None = None
        due: tuple[int, bytes] | None = None
        unanswered: list[list[Work]] = []  # batches taken and not yet answered, oldest first
        try:
            for batch in batches:
                unanswered.append(batch)
                if due is None and self._checkpoint_due(pending):
                    due = self._cut_checkpoint(pending)
                prepared = self._prepare(batch)
                if pending is not None:
                    self._finish(pending)
                    del unanswered[0]
                pending = prepared
                if due is not None and due[0] == self._size:
                    self._publish_at(*due)
                    due = None
            if pending is not None:
                self._finish(pending)
                del unanswered[0]
                pending = None
            if due is not None:
                self._publish_at(*due)
            elif self._checkpoint_due(None):
                self._publish()
        except BaseException as exc:
            # Every caller of a batch not stored gets the error: the failed batch's, the one
            # prepared behind it (or being prepared), rejections decided at prepare included;
            # none is left waiting on its future. When the store refused the batch because
            # another process stored one of its signed requests first, only that request is
            # refused: the writer's other callers are queued again, to be decided afresh.
            self._marks_in_flight.clear()
            self._stale = True
            try:  # first, so that a caller told of the failure sees the state of the store
                self.reload()  # the working state may have run ahead of the store
            finally:
                self._answer_failed(unanswered, exc)
            raise

    def _answer_failed(self, unanswered: list[list[Work]], exc: BaseException) -> None:
        raced = isinstance(exc, RequestAlreadyAccepted)
        for batch in unanswered:
            for work in batch:
                if work.future is not None and work.future.done():
                    continue
                if work.error is not None and work.future is not None:  # its own error
                    work.future.set_exception(work.error)
                    continue
                if raced and work.future is not None and not self._stored_elsewhere(work):
                    work.outcome = None
                    self._queue.put(work)
                else:
                    work.fail(exc)

    def _stored_elsewhere(self, work: Work) -> bool:
        """Whether ``work``'s signed request was stored (by another process: ours failed)."""
        return work.mark is not None and self._store.request_seen(work.mark.digest)

    def _cut_checkpoint(self, pending: Prepared | None) -> tuple[int, bytes]:
        """The size and state digest of the log once ``pending`` is stored."""
        size = self._size + (len(pending.events) if pending is not None else 0)
        assert self.state.events == size, "the state holds exactly the prepared events"
        self._digest.update(self.state)
        return size, self._digest.digest()

    def _run(self) -> None:
        while True:
            first = self._next_work()
            if first is _STOP:
                return
            assert isinstance(first, Work)
            stop = False

            def batches(head: Work) -> Iterator[list[Work]]:
                nonlocal stop
                batch = [head]
                while True:
                    stop = self._gather(batch)
                    yield batch
                    if stop or self._queue.empty():
                        return
                    batch = []

            try:
                with self._lock:
                    self._pipeline(batches(first))
            except Exception:  # each caller got the error (or is queued again): keep serving
                if stop:  # behind any work queued again, so that it is answered first
                    self._queue.put(_STOP)
                continue
            if stop:
                return

    def _gather(self, batch: list[Work]) -> bool:
        """Take queued work into ``batch`` (up to ``append_batch_max``); ``True`` on ``_STOP``.

        The callers the last batch answered were woken while this thread held the GIL, so
        their next commands are still on their way: while fewer than that many are in the
        batch, the writer blocks until they are queued (``_await_callers``), for at most
        ``GATHER_WAIT_SECONDS`` in all. A lone caller is never kept waiting (it was the one
        answered), and callers that do not come back cost that bound once per batch.
        """
        expected = min(self._answered, limits.append_batch_max)
        deadline = 0.0
        while len(batch) < limits.append_batch_max:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                if len(batch) >= expected:
                    return False
                now = time.monotonic()
                if not deadline:
                    deadline = now + GATHER_WAIT_SECONDS
                elif now >= deadline:
                    return False
                self._await_callers(expected - len(batch), deadline - now)
                continue
            if item is _STOP:
                return True
            assert isinstance(item, Work)
            batch.append(item)
        return False

    def _await_callers(self, count: int, timeout_seconds: float) -> None:
        """Block until ``count`` works are queued (the caller queueing the last of them wakes
        this thread) or for ``timeout_seconds``. Blocking rather than yielding the GIL in a
        loop: the callers then run without the writer taking the GIL back between them."""
        with self._enqueue_lock:
            if self._queue.qsize() >= count:
                return
            self._arrived.clear()
            self._wanted = count
        self._arrived.wait(timeout_seconds)
        with self._enqueue_lock:
            self._wanted = 0

    def _next_work(self) -> object:
        """Block for the next work item; publish a due checkpoint while idle."""
        while True:
            try:
                return self._queue.get(timeout=self._idle_timeout())
            except queue.Empty:
                with self._lock:
                    if self._checkpoint_due(None):
                        self._publish()

    def _idle_timeout(self) -> float:
        if self._size == self._last_checkpoint_size:
            return self._checkpoint_seconds
        elapsed = time.monotonic() - self._last_checkpoint_at
        return max(0.01, self._checkpoint_seconds - elapsed)

    def _prepare(self, batch: Sequence[Work]) -> Prepared:
        prepared = Prepared(list(batch), [], {}, [], None)
        requests: list[tuple[str, bytes]] = []
        for work in batch:
            if work.mark is not None and not self._admit_mark(work):
                continue
            try:
                decided = self._decide(work, prepared)
            except (UnknownSigner, SignatureInvalid) as exc:
                if work.future is None:  # the bulk caller's own call: it fails, as it did
                    raise
                work.error = exc  # this caller only: ``_decide`` raises these before evolving
                self._release_mark(work)
                continue
            if isinstance(decided, Rejection):
                work.outcome = decided  # answered at finish, with the rest of the batch
                continue
            if isinstance(decided, log_event.SignedEvent):
                prepared.accepted[id(work)] = (1, ())
                prepared.events.append(decided)
                continue
            prepared.accepted[id(work)] = (len(decided.events), decided.results)
            for event in decided.events:
                prepared.events.append(event)
                body = log_event.decided_body_bytes(event)
                prepared.bodies.append(body)
                requests.append((work.actor, log_event.SIGNING_CONTEXT + body))
        if requests:
            prepared.signatures = self._signer.submit(requests)
        self._last_values(prepared)
        return prepared

    def _admit_mark(self, work: Work) -> bool:
        """Whether ``work``'s signed request may join the batch: not if a prepared batch not
        yet stored carries the same one (the same signed bytes submitted twice at once). The
        store would refuse the whole batch for it; only that caller is refused instead."""
        assert work.mark is not None
        digest = work.mark.digest
        if digest not in self._marks_in_flight:
            self._marks_in_flight.add(digest)
            return True
        refused = RequestAlreadyAccepted("this signed request is being accepted already")
        if work.future is None:
            raise refused
        work.error = refused
        work.mark = None  # never stored for this caller: the first one's is
        return False

    def _release_mark(self, work: Work) -> None:
        if work.mark is not None:
            self._marks_in_flight.discard(work.mark.digest)
            work.mark = None  # an operating error, not a decision: the request may come again

    def _last_values(self, prepared: Prepared) -> None:
        """Once the batch is decided: the value each projected key has now goes to the store
        (when it changed again after its first change) and to the digest (``note``), so
        neither builds it again."""
        entities, later, note = prepared.entities, prepared.later, self._digest.note
        entity = self.state.entity
        for key, index in prepared.touched.items():
            position = later.get(key)
            if position is None:  # changed once: the value sent with that change is the last
                value = entities[index].value
            else:
                value = entity(key)
                entities.append(EntityChange(position, key, value))
            note(key, value)

    def _finish(self, prepared: Prepared) -> None:
        signatures = iter(prepared.signatures.wait() if prepared.signatures else ())
        bodies = iter(prepared.bodies)
        signed_event = log_event.SignedEvent
        signed = [
            signed_event(item, next(signatures), next(bodies)) if isinstance(item, Event) else item
            for item in prepared.events
        ]
        marks = [work.mark for work in prepared.works if work.mark is not None]
        in_flight = self._marks_in_flight
        if marks:
            result: AppendResult = self._store.append(signed, prepared.entities, marks)
        elif signed:
            result = self._store.append(signed, prepared.entities)
        if signed or marks:
            assert result.first_seq == self._size, "the store's seq must follow ours"
            assert result.size == self._size + len(signed)
            self._size = result.size
            self._appended_root = (result.size, result.root)
        for mark in marks:
            in_flight.discard(mark.digest)
        offset = 0
        first_seq = self._size - len(signed)
        self._answered = len(prepared.works)
        for work in prepared.works:
            if work.error is not None:  # its own error, found at prepare (threaded callers)
                assert work.future is not None
                work.future.set_exception(work.error)
                continue
            if work.outcome is not None:  # a rejection decided at prepare
                if work.future is not None:
                    work.future.set_result(work.outcome)
                continue
            count, results = prepared.accepted[id(work)]
            if count == 1:
                events: tuple[Event, ...] = (signed[offset].event,)
            else:
                events = tuple([item.event for item in signed[offset : offset + count]])
            work.answer(Accepted(first_seq + offset, events, results))
            offset += count
        assert offset == len(signed)

    def _decide(
        self, work: Work, prepared: Prepared
    ) -> Decided | log_event.SignedEvent | Rejection:
        if isinstance(work.command, log_event.SignedEvent):
            signed = self._check_signed(work.command)
            if not isinstance(signed, Rejection):
                self._track(prepared, len(prepared.events))
            return signed
        key = self._keys.for_actor(work.actor)
        decided = decide(self.state, work.command, work.actor, key.key_id.hex(), self._now())
        if isinstance(decided, Rejection):
            return decided
        for offset, event in enumerate(decided.events):
            evolve(self.state, event)
            self._track(prepared, len(prepared.events) + offset)
        return decided

    def _track(self, prepared: Prepared, position: int) -> None:
        """After an event is evolved: its changed entities go to the digest, and the ledger's
        go to the store's projections with the value the core computed.

        The store keeps, per key and batch, the seq of the first change and the value of the
        last (``EntityChange``), so only those two are sent: the first now, the last once the
        batch is decided (``_last_values``), which also hands the digest that value. A hot
        account (a rail, the fees) touched by every transfer of a batch costs two values, not
        one per transfer.
        """
        changed = self.state.drain_changed()
        self._digest.mark(changed)
        touched = prepared.touched
        for key in changed:
            if key.startswith(_ACTOR) and self._key_holders:
                self._key_holders = {}  # keys may have changed: look them up again
            if key.startswith(_PROJECTED):
                if key in touched:
                    prepared.later[key] = position
                else:
                    touched[key] = len(prepared.entities)
                    prepared.entities.append(EntityChange(position, key, self.state.entity(key)))

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

    # Checkpoints -----------------------------------------------------------------------------

    def _checkpoint_due(self, pending: Prepared | None) -> bool:
        new_events = self._size - self._last_checkpoint_size
        if pending is not None:
            new_events += len(pending.events)
        if new_events <= 0:
            return False
        waited = time.monotonic() - self._last_checkpoint_at
        return new_events >= self._checkpoint_events or waited >= self._checkpoint_seconds

    def _publish(self) -> StoredCheckpoint:
        """A checkpoint of the log as stored now (no batch may be pending)."""
        return self._publish_at(*self._cut_checkpoint(None))

    def _publish_at(self, size: int, digest: bytes) -> StoredCheckpoint:
        assert self.state.origin, "a checkpoint needs the genesis event"
        assert size == self._size, "a checkpoint is published once its events are stored"
        assert_invariants(self.state)
        known_size, known_root = self._appended_root
        root = known_root if known_size == size else self._store.root(size)
        checkpoint = Checkpoint(self.state.origin, size, root, (extension_line(digest),))
        stored = StoredCheckpoint(size, root, sign_checkpoint(checkpoint, self._keys.log_signer))
        latest = self._store.latest_checkpoint()
        if latest is None or latest.size < stored.size:
            self._store.add_checkpoint(stored)
        else:
            stored = latest
        self._last_checkpoint_size = stored.size
        self._last_checkpoint_at = time.monotonic()
        # Signed requests whose window has closed: the timestamp check refuses them anyway.
        self._store.prune_request_marks(epoch_ms(self._clock.now()))
        return stored

    def _now(self) -> datetime:
        """The clock's time, never earlier than the last event's (times never go backwards)."""
        now = self._clock.now()
        if self._last_now is not None and now < self._last_now:
            now = self._last_now
        self._last_now = now
        return now
