"""Group commit of the log service's writer, on every store (memory, SQLite, PostgreSQL).

Callers on many threads each submit one command; the writer takes every queued command into
one batch, decides each in order against the state the ones before it left, appends the
accepted events and the batch's signed-request marks in ONE store transaction, and only then
answers each caller with its own outcome. A refusal refuses only its caller; an operating
error of one caller (an actor with no key here, a signed request already in flight) fails only
that caller; a store failure fails every caller of the batch and leaves the state where the
store is.

Each test gathers its callers into one batch deterministically: a reader holds the log's lock
(``LogService.read``) while the callers queue, and lets go once all of them are queued.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from reclaim.adapters.db.store import SqlEventStore
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app import signed_requests
from reclaim.app.log_service import Accepted, KeyRing, LogService, Outcome, UnknownSigner
from reclaim.app.ports import (
    AppendResult,
    EntityChange,
    RequestAlreadyAccepted,
    RequestMark,
    StoreUnavailable,
)
from reclaim.core.machine import Command, Genesis, PublishDocument, State, check, evolve
from reclaim.core.rejections import Code, Rejection
from reclaim.log import event as log_event
from reclaim.log.event import SignedEvent
from reclaim.log.keys import SignerKey

Store = MemoryEventStore | SqlEventStore
ADMIN = SignerKey.from_seed("admin", b"\x01" * 32)
LOG = SignerKey.from_seed("t.reclaim/log", b"\x02" * 32)
CALLERS = 24
WAIT_SECONDS = 30


class TickClock:
    def __init__(self) -> None:
        self.now_ = datetime(2025, 1, 3, tzinfo=UTC)

    def now(self) -> datetime:
        self.now_ += timedelta(microseconds=7)
        return self.now_


class Watched:
    """The store under test, counting appends; ``fail_next`` makes the next one fail."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.appends = 0
        self.fail_next = False

    def append(
        self,
        batch: Sequence[SignedEvent],
        entities: Sequence[EntityChange] = (),
        marks: Sequence[RequestMark] = (),
    ) -> AppendResult:
        self.appends += 1
        if self.fail_next:
            self.fail_next = False
            raise StoreUnavailable("disk on fire")
        return self.inner.append(batch, entities, marks)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.fixture
def watched(store: Store) -> Watched:
    return Watched(store)


@pytest.fixture
def log(watched: Watched) -> Iterator[LogService]:
    keys = KeyRing(LOG, {"admin": ADMIN})
    # A long checkpoint interval: the idle writer waits on its queue, never on the lock.
    service = LogService(watched, keys, TickClock(), checkpoint_seconds=3600)  # type: ignore[arg-type]
    genesis = Genesis("t.reclaim/log", "admin", ADMIN.verifier.to_text(), LOG.verifier.to_text())
    (outcome,) = service.submit_many([(genesis, "admin")])
    assert isinstance(outcome, Accepted)
    service.start()
    yield service
    service.stop()


def doc(name: str) -> PublishDocument:
    return PublishDocument(f"doc/{name}", f"Doc {name}", hashlib.sha256(name.encode()).hexdigest(),
                           "text/plain")  # fmt: skip


def mark(text: str) -> RequestMark:
    return RequestMark(hashlib.sha256(text.encode()).digest(), "admin", 10**15)


def replay(store: Watched, size: int) -> State:
    state = State()
    for leaf in store.inner.leaves(0, size):
        logged = log_event.parse_leaf(leaf)
        assert check(state, logged.event) is None
        evolve(state, logged.event)
    return state


def in_one_batch(
    log: LogService, calls: Sequence[Callable[[], object]], commands: int | None = None
) -> list[object]:
    """Run each call on its own thread while the log's lock is held, let go once all their
    ``commands`` (one per call by default) are queued (the writer holds the first; the rest
    wait in its queue), and return what each call returned or raised, in ``calls`` order."""
    commands = len(calls) if commands is None else commands
    results: list[object] = [None] * len(calls)
    queued = threading.Event()

    def hold(_: State) -> None:
        assert queued.wait(WAIT_SECONDS), "the callers did not queue"

    holder = threading.Thread(target=log.read, args=(hold,))
    holder.start()
    time.sleep(0.05)  # the holder has the lock before any caller queues

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:  # recorded: each caller's own answer is what is checked
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while log.queued() < commands - 1:  # the writer took the first and waits for the lock
        assert time.monotonic() < deadline, "the callers did not queue"
        time.sleep(0.001)
    queued.set()
    holder.join()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    return results


def submit(log: LogService, command: Command, actor: str = "admin",
           held: RequestMark | None = None) -> Callable[[], Outcome]:  # fmt: skip
    def call() -> Outcome:
        if held is not None:
            signed_requests.hold(held)
        return log.submit(command, actor)

    return call


def test_concurrent_callers_share_one_transaction_and_each_gets_its_own_answer(
    log: LogService, watched: Watched
) -> None:
    appends, size = watched.appends, log.size
    results = in_one_batch(log, [submit(log, doc(f"{i}")) for i in range(CALLERS)])
    assert watched.appends == appends + 1, "one transaction for every caller"
    seqs = []
    for i, result in enumerate(results):
        assert isinstance(result, Accepted), result
        assert result.event.payload["document_id"] == f"doc/{i}", "each caller its own event"
        seqs.append(result.seq)
    assert sorted(seqs) == list(range(size, size + CALLERS)), "gapless, each seq once"
    assert log.size == watched.inner.size() == size + CALLERS
    assert log.state.snapshot() == replay(watched, log.size).snapshot()


def test_one_refused_and_one_failed_among_accepted_leave_the_batch_standing(
    log: LogService, watched: Watched
) -> None:
    (first,) = log.submit_many([(doc("taken"), "admin")])
    assert isinstance(first, Accepted)
    appends, size = watched.appends, log.size
    calls = [submit(log, doc(f"{i}")) for i in range(CALLERS)]
    calls[5] = submit(log, doc("taken"))  # refused by the core: the id exists
    calls[9] = submit(log, doc("nobody"), actor="nobody")  # no key for this actor here
    results = in_one_batch(log, calls)
    assert watched.appends == appends + 1
    refused = results[5]
    assert isinstance(refused, Rejection)
    assert refused.code is Code.document_exists
    assert isinstance(results[9], UnknownSigner)
    accepted = [r for i, r in enumerate(results) if i not in (5, 9)]
    assert all(isinstance(r, Accepted) for r in accepted), accepted
    assert sorted(r.seq for r in accepted if isinstance(r, Accepted)) == list(
        range(size, size + CALLERS - 2)
    )
    assert "doc/nobody" not in log.state.documents
    assert log.state.snapshot() == replay(watched, log.size).snapshot()


def test_a_store_failure_fails_every_caller_of_the_batch_and_applies_nothing(
    log: LogService, watched: Watched
) -> None:
    size, snapshot = log.size, log.state.snapshot()
    watched.fail_next = True
    results = in_one_batch(log, [submit(log, doc(f"{i}")) for i in range(CALLERS)])
    assert all(isinstance(r, StoreUnavailable) for r in results), results
    assert log.size == watched.inner.size() == size, "nothing stored"
    assert log.state.snapshot() == snapshot, "the state did not advance"
    again = log.submit(doc("0"), "admin")  # the same command is accepted afterwards
    assert isinstance(again, Accepted)
    assert again.seq == size


def test_the_marks_of_a_gathered_batch_are_stored_with_it_and_a_twin_is_refused(
    log: LogService, watched: Watched
) -> None:
    (first,) = log.submit_many([(doc("taken"), "admin")])
    assert isinstance(first, Accepted)
    size = log.size
    calls = [submit(log, doc(f"{i}"), held=mark(f"request {i}")) for i in range(CALLERS)]
    calls[3] = submit(log, doc("taken"), held=mark("request 3"))  # refused: its mark is kept
    calls[7] = submit(log, doc("twin"), held=mark("request 6"))  # the same signed request
    results = in_one_batch(log, calls)
    assert isinstance(results[3], Rejection)
    assert isinstance(results[6], Accepted)
    assert isinstance(results[7], RequestAlreadyAccepted)
    assert log.size == size + CALLERS - 2
    for i in range(CALLERS):
        if i != 7:
            assert log.request_seen(mark(f"request {i}").digest), i
    assert "doc/twin" not in log.state.documents
    replayed = log.submit(doc("replayed"), "admin")  # a later command without a mark
    assert isinstance(replayed, Accepted)


def test_submit_many_is_gathered_with_the_other_callers_as_one_run(
    log: LogService, watched: Watched
) -> None:
    appends, size = watched.appends, log.size

    def many() -> list[Outcome]:
        return log.submit_many([(doc(f"run-{i}"), "admin") for i in range(5)])

    calls: list[Callable[[], object]] = [submit(log, doc(f"{i}")) for i in range(CALLERS)]
    calls[4] = many
    results = in_one_batch(log, calls, commands=CALLERS - 1 + 5)
    assert watched.appends == appends + 1
    run = results[4]
    assert isinstance(run, list)
    seqs = [o.seq for o in run if isinstance(o, Accepted)]
    assert len(seqs) == 5
    assert seqs == list(range(seqs[0], seqs[0] + 5)), "one run: no other caller in between"
    assert log.size == size + CALLERS - 1 + 5
