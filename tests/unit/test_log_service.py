"""The log service: pipelined group commit, answers, failures, checkpoints, threads."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.adapters.signing import ProcessSigner
from reclaim.app.log_service import Accepted, KeyRing, LogService
from reclaim.app.ports import (
    AppendResult,
    EntityChange,
    PendingSignatures,
    SigningRequests,
    StoreUnavailable,
)
from reclaim.core import limits
from reclaim.core.machine import (
    Command,
    Genesis,
    PublishDocument,
    RegisterActor,
    State,
    check,
    evolve,
)
from reclaim.core.rejections import Code, Rejection
from reclaim.log import event as log_event
from reclaim.log import merkle
from reclaim.log.checkpoint import open_checkpoint
from reclaim.log.digest import digest_from_extensions, full_digest
from reclaim.log.event import SignedEvent
from reclaim.log.keys import SignerKey

ADMIN = SignerKey.from_seed("admin", b"\x01" * 32)
GATEWAY = SignerKey.from_seed("gateway", b"\x03" * 32)
LOG = SignerKey.from_seed("t.reclaim/log", b"\x02" * 32)


class TickClock:
    def __init__(self) -> None:
        self.now_ = datetime(2025, 1, 3, tzinfo=UTC)

    def now(self) -> datetime:
        self.now_ += timedelta(microseconds=7)
        return self.now_


class FlakyStore(MemoryEventStore):
    """Fails the append that would take the log past ``fail_at`` events."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_at: int | None = None
        self.appends = 0

    def append(
        self, batch: Sequence[SignedEvent], entities: Sequence[EntityChange] = ()
    ) -> AppendResult:
        self.appends += 1
        if self.fail_at is not None and self.size() + len(batch) > self.fail_at:
            raise StoreUnavailable("disk on fire")
        return super().append(batch, entities)


class LateSigner:
    """Signs only when asked for the signatures: shows that finishing waits for them."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, requests: SigningRequests) -> PendingSignatures:
        self.submitted += 1
        keys = {"admin": ADMIN, "gateway": GATEWAY}
        items = list(requests)

        class Pending:
            def wait(self) -> list[bytes]:
                return [keys[actor].sign(message) for actor, message in items]

        return Pending()

    def close(self) -> None:
        return None


def service(store: MemoryEventStore | None = None, **kwargs: object) -> LogService:
    keys = KeyRing(LOG, {"admin": ADMIN, "gateway": GATEWAY})
    log = LogService(store or MemoryEventStore(), keys, TickClock(), **kwargs)  # type: ignore[arg-type]
    genesis = Genesis("t.reclaim/log", "admin", ADMIN.verifier.to_text(), LOG.verifier.to_text())
    register = RegisterActor("gateway", "gateway", GATEWAY.verifier.to_text())
    assert all(
        isinstance(o, Accepted) for o in log.submit_many([(genesis, "admin"), (register, "admin")])
    )
    return log


def docs(start: int, count: int) -> list[tuple[Command, str]]:
    return [
        (PublishDocument(f"doc/{i}", f"Doc {i}", f"{i:064x}", "text/plain"), "admin")
        for i in range(start, start + count)
    ]


def replay(store: MemoryEventStore, size: int) -> State:
    state = State()
    for leaf in store.leaves(0, size):
        logged = log_event.parse_leaf(leaf)
        assert check(state, logged.event) is None
        evolve(state, logged.event)
    return state


def test_bulk_appends_are_gapless_and_answers_keep_their_order() -> None:
    log = service(signer=LateSigner())
    commands = docs(0, 3 * limits.append_batch_max + 5)
    commands.insert(10, (PublishDocument("doc/3", "again", "0" * 64, "text/plain"), "admin"))
    outcomes = log.submit_many(commands)
    accepted = [o for o in outcomes if isinstance(o, Accepted)]
    assert [o.seq for o in accepted] == list(range(2, 2 + len(accepted)))
    refused = outcomes[10]
    assert isinstance(refused, Rejection)
    assert refused.code is Code.document_exists
    assert log.size == log.store.size() == 2 + len(accepted)
    assert replay(log.store, log.size).snapshot() == log.state.snapshot()  # type: ignore[arg-type]


def test_checkpoints_are_cut_between_batches_with_the_digest_at_their_size() -> None:
    store = MemoryEventStore()
    log = service(store, checkpoint_events=1000)
    log.submit_many(docs(0, 7000))
    log.publish_checkpoint()
    checkpoints = store.checkpoints(0, 100)
    # Cut between batches: at most the interval plus one batch apart.
    assert [c.size for c in checkpoints] == [2050, 4098, 6146, 7002]
    previous = None
    for stored in checkpoints:
        checkpoint = open_checkpoint(stored.note, LOG.verifier)
        assert checkpoint.root == merkle.root_from_leaf_hashes(
            [merkle.leaf_hash(leaf) for leaf in store.leaves(0, checkpoint.size)]
        )
        assert digest_from_extensions(checkpoint.extensions) == full_digest(
            replay(store, checkpoint.size)
        )
        if previous is not None:
            assert previous.size < checkpoint.size <= previous.size + 1000 + limits.append_batch_max
            proof = store.consistency_proof(previous.size, checkpoint.size)
            merkle.verify_consistency(
                previous.size, checkpoint.size, proof, previous.root, checkpoint.root
            )
        previous = checkpoint
    assert checkpoints[-1].size == log.size


def test_a_failed_append_fails_its_callers_and_leaves_memory_equal_to_the_store() -> None:
    store = FlakyStore()
    log = service(store)
    log.submit_many(docs(0, 100))
    store.fail_at = 102 + limits.append_batch_max + 10
    with pytest.raises(StoreUnavailable):
        log.submit_many(docs(100, 3 * limits.append_batch_max))
    assert log.size == store.size() == 102 + limits.append_batch_max
    assert log.state.snapshot() == replay(store, store.size()).snapshot()
    store.fail_at = None
    (outcome,) = log.submit_many(docs(50_000, 1))
    assert isinstance(outcome, Accepted)
    assert outcome.seq == 102 + limits.append_batch_max


def test_threaded_callers_are_group_committed() -> None:
    store = FlakyStore()
    log = service(store)
    log.start()
    results: list[Accepted | Rejection] = []
    lock = threading.Lock()

    def work(offset: int) -> None:
        for command, actor in docs(offset, 150):
            outcome = log.submit(command, actor)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=work, args=(t * 1000,)) for t in range(8)]
    appends_before = store.appends
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.stop()
    seqs = sorted(o.seq for o in results if isinstance(o, Accepted))
    assert seqs == list(range(2, 2 + 8 * 150))
    assert store.appends - appends_before < 8 * 150  # batches, not one transaction per event


def test_an_idle_writer_publishes_a_checkpoint_after_the_interval() -> None:
    store = MemoryEventStore()
    log = service(store, checkpoint_seconds=0.05, checkpoint_events=10_000)
    log.start()
    for command, actor in docs(0, 3):
        assert isinstance(log.submit(command, actor), Accepted)
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while datetime.now(UTC) < deadline:
        latest = store.latest_checkpoint()
        if latest is not None and latest.size == log.size:
            break
        threading.Event().wait(0.02)
    log.stop()
    latest = store.latest_checkpoint()
    assert latest is not None
    assert latest.size == 5


def test_process_signer_signs_exactly_as_the_key_does() -> None:
    keys = {"admin": ADMIN, "gateway": GATEWAY}
    signer = ProcessSigner(keys.__getitem__)

    def body(text: str) -> bytes:
        return log_event.SIGNING_CONTEXT + f'{{"a":"{text}"}}'.encode()

    try:
        requests = [("admin", body("one")), ("gateway", body("two")), ("admin", body("3"))]
        assert signer.submit(requests).wait() == [keys[a].sign(m) for a, m in requests]
        with pytest.raises(KeyError):
            signer.submit([("mallory", body("x"))])
        with pytest.raises(log_event.NotCanonicalError):
            signer.submit([("admin", log_event.SIGNING_CONTEXT + b'{"a":1}')]).wait()
        # After a refusal the worker still signs (its keys are sent again if it lost them).
        assert signer.submit(requests[:1]).wait() == [ADMIN.sign(requests[0][1])]
    finally:
        signer.close()


def test_the_log_with_a_process_signer_equals_the_inline_one() -> None:
    inline = service()
    keys = KeyRing(LOG, {"admin": ADMIN, "gateway": GATEWAY})
    parallel = service(signer=ProcessSigner(keys.for_actor))
    try:
        inline.submit_many(docs(0, 2500))
        parallel.submit_many(docs(0, 2500))
        assert inline.store.leaves(0, inline.size) != []
        # Times differ (each service has its own clock readings), but every event verifies.
        for leaf in parallel.store.leaves(0, parallel.size):
            logged = log_event.parse_leaf(leaf)
            key = ADMIN if logged.event.actor == "admin" else GATEWAY
            assert log_event.verify_signature(logged.signed, key.verifier)
        assert parallel.size == inline.size
    finally:
        parallel.stop()
