"""The EventStore contract (``reclaim.app.ports.EventStore``), on every store.

Memory, SQLite and PostgreSQL (``conftest.py``): appends get gapless seqs from 0 and read back
byte for byte; roots and proofs of every size verify against a recomputation from the leaves;
sizes beyond the log are ``RangeNotAvailable``; checkpoints; projections; a failing batch
leaves nothing behind. SQL stores only: several stores on one database, 4 threads and 2
processes appending at once, and a writer SIGKILLed mid-run.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventFlag
from pathlib import Path
from typing import Final

import pytest
from sqlalchemy import func, select

from reclaim.adapters.db import tables
from reclaim.adapters.db.store import SqlEventStore, bulk_load_leaf_hashes, open_store
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.ports import (
    AppendResult,
    RangeNotAvailable,
    StoreCorrupt,
    StoredCheckpoint,
    StoreUnavailable,
)
from reclaim.log import merkle
from reclaim.log.event import EventFormatError, SignedEvent, parse_leaf
from tests.contract._crash_writer import append_batches, open_at_once
from tests.support.factories import LogFactory, key_for

Store = MemoryEventStore | SqlEventStore

REPO: Final = Path(__file__).resolve().parents[2]
#: Batch sizes of the Merkle tests: odd, even, powers of two and one past them.
BATCH_SIZES: Final = (1, 1, 2, 3, 5, 8, 1, 16, 7, 4, 17)


def leaf_hashes(store: Store) -> list[bytes]:
    return [merkle.leaf_hash(leaf) for leaf in store.leaves(0, store.size())]


def assert_log_is_sound(store: Store) -> None:
    """Seqs are exactly 0..size-1 and the stored root is the root recomputed from the leaves."""
    size = store.size()
    leaves = store.leaves(0, size)
    assert [parse_leaf(leaf).seq for leaf in leaves] == list(range(size))
    assert store.root(size) == merkle.root_from_leaf_hashes([merkle.leaf_hash(x) for x in leaves])


def build_log(store: Store, factory: LogFactory) -> list[AppendResult]:
    """A genesis, then documents in batches of ``BATCH_SIZES``."""
    results = [store.append([factory.genesis()])]
    for number, count in enumerate(BATCH_SIZES):
        results.append(store.append(factory.documents(f"b{number}", count)))
    return results


# Appending and reading -------------------------------------------------------------------------


def test_a_new_store_is_empty(store: Store) -> None:
    assert store.size() == 0
    assert store.leaves(0, 0) == []
    assert store.root(0) == merkle.EMPTY_ROOT
    assert store.latest_checkpoint() is None
    assert store.checkpoints(0, 10) == []


def test_appended_events_read_back_with_gapless_seqs_from_zero(store: Store) -> None:
    factory = LogFactory()
    first = [factory.genesis(), factory.document("doc-a")]
    second = factory.documents("doc", 3)

    assert store.append(first).first_seq == 0
    result = store.append(second)

    assert (result.first_seq, result.size, store.size()) == (2, 5, 5)
    expected = [s.leaf(seq) for seq, s in enumerate(first + second)]
    assert store.leaves(0, 5) == expected
    assert store.leaves(1, 3) == expected[1:3]
    assert store.leaves(5, 5) == []
    assert [parse_leaf(leaf).signed for leaf in store.leaves(0, 5)] == first + second


def test_an_empty_batch_changes_nothing(store: Store) -> None:
    factory = LogFactory()
    store.append([factory.genesis()])
    root = store.root(1)

    assert store.append([]) == AppendResult(1, 1, root)
    assert store.size() == 1


def test_the_root_after_each_batch_is_the_root_of_all_leaves(store: Store) -> None:
    results = build_log(store, LogFactory())
    hashes = leaf_hashes(store)

    for result in results:
        assert result.root == merkle.root_from_leaf_hashes(hashes[: result.size])
        assert store.root(result.size) == result.root
    for size in range(len(hashes) + 1):  # every historical size, not just batch ends
        assert store.root(size) == merkle.root_from_leaf_hashes(hashes[:size])


def test_inclusion_proofs_verify_for_every_leaf_of_many_sizes(store: Store) -> None:
    build_log(store, LogFactory())
    hashes = leaf_hashes(store)

    for size in (1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, len(hashes)):
        root = store.root(size)
        for index in range(size):
            proof = store.inclusion_proof(index, size)
            merkle.verify_inclusion(hashes[index], index, size, proof, root)


def test_consistency_proofs_verify_for_every_pair_of_sizes(store: Store) -> None:
    build_log(store, LogFactory())
    size = store.size()
    roots = [store.root(n) for n in range(size + 1)]

    for size2 in range(size + 1):
        for size1 in range(size2 + 1):
            proof = store.consistency_proof(size1, size2)
            merkle.verify_consistency(size1, size2, proof, roots[size1], roots[size2])


def test_proofs_survive_later_appends(store: Store) -> None:
    """A proof for an old size is the same after the log grew: old nodes never change."""
    factory = LogFactory()
    store.append([factory.genesis(), *factory.documents("a", 12)])
    before = (store.inclusion_proof(5, 11), store.consistency_proof(3, 11), store.root(11))

    store.append(factory.documents("b", 21))

    assert (store.inclusion_proof(5, 11), store.consistency_proof(3, 11), store.root(11)) == before


@pytest.mark.parametrize(
    "ask",
    [
        pytest.param(lambda s: s.root(6), id="root beyond the end"),
        pytest.param(lambda s: s.root(-1), id="negative root size"),
        pytest.param(lambda s: s.inclusion_proof(5, 5), id="index at the size"),
        pytest.param(lambda s: s.inclusion_proof(0, 6), id="inclusion size beyond the end"),
        pytest.param(lambda s: s.inclusion_proof(-1, 3), id="negative index"),
        pytest.param(lambda s: s.consistency_proof(2, 6), id="consistency beyond the end"),
        pytest.param(lambda s: s.consistency_proof(4, 3), id="sizes out of order"),
        pytest.param(lambda s: s.leaves(0, 6), id="leaves beyond the end"),
        pytest.param(lambda s: s.leaves(6, 6), id="empty range beyond the end"),
        pytest.param(lambda s: s.leaves(-1, 2), id="negative start"),
        pytest.param(lambda s: s.leaves(3, 2), id="end before start"),
        pytest.param(
            lambda s: s.add_checkpoint(StoredCheckpoint(6, bytes(32), "note\n")),
            id="checkpoint beyond the end",
        ),
    ],
)
def test_positions_beyond_the_log_are_not_available(
    store: Store, ask: Callable[[Store], object]
) -> None:
    factory = LogFactory()
    store.append([factory.genesis(), *factory.documents("d", 4)])

    with pytest.raises(RangeNotAvailable):
        ask(store)


# Checkpoints -----------------------------------------------------------------------------------


def test_checkpoints_are_stored_listed_oldest_first_and_the_latest_found(store: Store) -> None:
    factory = LogFactory()
    store.append([factory.genesis(), *factory.documents("d", 9)])
    stored = [StoredCheckpoint(n, store.root(n), f"reclaim.test/log\n{n}\n") for n in (1, 4, 10)]
    for checkpoint in (stored[1], stored[0], stored[2]):
        store.add_checkpoint(checkpoint)

    assert store.latest_checkpoint() == stored[2]
    assert store.checkpoints(0, 10) == stored
    assert store.checkpoints(2, 10) == stored[1:]
    assert store.checkpoints(4, 1) == [stored[1]]
    assert store.checkpoints(11, 10) == []
    assert store.checkpoints(0, 0) == []


def test_storing_a_checkpoint_again_is_a_no_op_but_another_one_of_its_size_is_refused(
    store: Store,
) -> None:
    factory = LogFactory()
    store.append([factory.genesis(), factory.document("d")])
    checkpoint = StoredCheckpoint(2, store.root(2), "reclaim.test/log\n2\n")
    store.add_checkpoint(checkpoint)
    store.add_checkpoint(checkpoint)

    with pytest.raises(StoreCorrupt):
        store.add_checkpoint(StoredCheckpoint(2, store.root(2), "another note\n"))
    assert store.checkpoints(0, 10) == [checkpoint]


# Projections -----------------------------------------------------------------------------------


def test_projections_follow_the_foundation_events(store: Store) -> None:
    factory = LogFactory()
    kyc_first, kyc_second = key_for("kyc-1"), key_for("kyc-1", 1)
    admin_id = factory.admin_key.key_id.hex()
    store.append([factory.genesis(), factory.register("kyc-1", "kyc_officer", kyc_first)])
    store.append(
        [
            factory.add_key("kyc-1", kyc_second),
            factory.revoke_key("kyc-1", kyc_first),
            factory.document("terms/v1", "Terms of the programme"),
        ]
    )

    assert store.projected_rows("actors") == [("admin", "admin", 0), ("kyc-1", "kyc_officer", 1)]
    assert store.projected_rows("actor_keys") == sorted(
        [
            (admin_id, "admin", factory.admin_key.verifier.to_text(), None),
            (kyc_first.key_id.hex(), "kyc-1", kyc_first.verifier.to_text(), 3),
            (kyc_second.key_id.hex(), "kyc-1", kyc_second.verifier.to_text(), None),
        ]
    )
    digest = factory.document("terms/v1").event.payload["sha256"]
    assert store.projected_rows("documents") == [
        ("terms/v1", "Terms of the programme", digest, "application/pdf", 4)
    ]


def test_a_key_added_and_revoked_in_one_batch_is_revoked(store: Store) -> None:
    factory = LogFactory()
    extra = key_for("admin", 1)
    store.append(
        [factory.genesis(), factory.add_key("admin", extra), factory.revoke_key("admin", extra)]
    )

    revoked = {row[0]: row[3] for row in store.projected_rows("actor_keys")}
    assert revoked == {factory.admin_key.key_id.hex(): None, extra.key_id.hex(): 2}


# All or nothing --------------------------------------------------------------------------------


def _oversized(factory: LogFactory) -> SignedEvent:
    """A document whose leaf is over ``limits.event_size_max_bytes`` (64 KiB)."""
    huge = "\N{GRINNING FACE}" * 8192  # 32 KiB of UTF-8 in each of two fields
    event = factory.document("huge")
    payload = {**event.event.payload, "title": huge, "media_type": huge}
    return factory.signed("document.published", payload)


POISONS: Final[dict[str, tuple[type[Exception], Callable[[LogFactory], list[SignedEvent]]]]] = {
    "document id twice in the batch": (
        StoreCorrupt,
        lambda f: [*f.documents("new", 3), f.document("new-1")],
    ),
    "document id already stored": (
        StoreCorrupt,
        lambda f: [*f.documents("new", 3), f.document("old-0")],
    ),
    "key of an unknown actor": (
        StoreCorrupt,
        lambda f: [*f.documents("new", 2), f.add_key("nobody", key_for("nobody"))],
    ),
    "actor registered twice": (
        StoreCorrupt,
        lambda f: [f.document("new-0"), f.register("admin", "trader")],
    ),
    "revoking an unknown key": (
        StoreCorrupt,
        lambda f: [*f.documents("new", 2), f.revoke_key("admin", key_for("stranger"))],
    ),
    "revoking a revoked key": (
        StoreCorrupt,
        lambda f: [
            f.revoke_key("kyc-1", key_for("kyc-1")),
            f.revoke_key("kyc-1", key_for("kyc-1")),
        ],
    ),
    "an event over the size limit": (
        EventFormatError,
        lambda f: [*f.documents("new", 2), _oversized(f)],
    ),
}


def _snapshot(store: Store) -> tuple[object, ...]:
    size = store.size()
    tables_rows = tuple(store.projected_rows(t) for t in ("actors", "actor_keys", "documents"))
    counts: tuple[int, ...] = ()
    if isinstance(store, SqlEventStore):
        with store.engine.connect() as connection:
            counts = tuple(
                connection.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (tables.events, tables.merkle_nodes)
            )
    return size, store.leaves(0, size), store.root(size), tables_rows, counts


@pytest.mark.parametrize("poison", list(POISONS))
def test_a_failing_batch_leaves_nothing_behind(store: Store, poison: str) -> None:
    factory = LogFactory()
    store.append(
        [
            factory.genesis(),
            factory.register("kyc-1", "kyc_officer"),
            factory.add_key("kyc-1", key_for("kyc-1", 1)),
            *factory.documents("old", 4),
        ]
    )
    before = _snapshot(store)
    error, make = POISONS[poison]

    with pytest.raises(error):
        store.append(make(factory))

    assert _snapshot(store) == before
    result = store.append(factory.documents("after", 3))  # the frontier was not disturbed
    assert (result.first_seq, result.size) == (7, 10)
    assert_log_is_sound(store)


# SQL stores: several writers, reopening, crashes -----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/no/such/directory/log.db",
        "postgresql+psycopg://nobody@127.0.0.1:1/nothing",  # port 1: refused at once
    ],
)
def test_opening_an_unreachable_database_is_store_unavailable(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable):
        open_store(url.format(tmp=tmp_path))


def test_stores_on_one_database_take_turns_without_gaps(db_url: str) -> None:
    """Each store caches the Merkle frontier; it must notice when another one appended."""
    factory = LogFactory()
    first, second = open_store(db_url), open_store(db_url)
    try:
        first.append([factory.genesis()])
        for turn in range(6):
            writer = (first, second)[turn % 2]
            result = writer.append(factory.documents(f"turn{turn}", turn + 1))
            assert result.root == (second, first)[turn % 2].root(result.size)
        first.close()
        reopened = open_store(db_url)
        assert reopened.append(factory.documents("reopened", 2)).first_seq == 22
        assert_log_is_sound(reopened)
        reopened.close()
    finally:
        first.close()
        second.close()


def test_the_benchmark_bulk_loader_stores_the_nodes_of_synthetic_leaves(db_url: str) -> None:
    store = open_store(db_url)
    factory = LogFactory()
    store.append([factory.genesis()])
    synthetic = [merkle.leaf_hash(n.to_bytes(4, "big")) for n in range(1000)]

    assert bulk_load_leaf_hashes(store, iter(synthetic)) == 1001
    hashes = [merkle.leaf_hash(store.leaves(0, 1)[0]), *synthetic]
    assert store.root(1001) == merkle.root_from_leaf_hashes(hashes)
    for index in (0, 1, 500, 999, 1000):
        proof = store.inclusion_proof(index, 1001)
        merkle.verify_inclusion(hashes[index], index, 1001, proof, store.root(1001))
    result = store.append([factory.document("after-bulk")])
    assert (result.first_seq, result.size) == (1001, 1002)
    store.close()


SPAWN: Final = multiprocessing.get_context("spawn")


@contextlib.contextmanager
def spawned(
    target: Callable[..., None], arguments: list[tuple[object, ...]], go: EventFlag
) -> Iterator[Sequence[BaseProcess]]:
    """Processes running ``target``, released by ``go``; on the way out (also when a test
    fails) ``go`` is set and every process joined, or killed if it hangs."""
    processes = [SPAWN.Process(target=target, args=args) for args in arguments]
    for process in processes:
        process.start()
    try:
        yield processes
    finally:
        go.set()
        for process in processes:
            process.join(60)
            if process.is_alive():
                process.kill()
                process.join()


def test_processes_opening_a_new_database_at_once_migrate_it_once(db_url: str) -> None:
    go, out = SPAWN.Event(), SPAWN.Queue()
    with spawned(open_at_once, [(db_url, go, out)] * 3, go) as processes:
        for _ in processes:
            assert out.get(timeout=120) is None
        go.set()
        sizes = [out.get(timeout=120) for _ in processes]

    assert sizes == [0, 0, 0]
    assert [process.exitcode for process in processes] == [0, 0, 0]


THREADS: Final = 4
PROCESSES: Final = 2
BATCHES_EACH: Final = 8
BATCH_EVENTS: Final = 16


def test_concurrent_threads_and_processes_never_gap_or_repeat(db_url: str) -> None:
    """The processes and this one open the new database at once: the migrations serialise."""
    go, out = SPAWN.Event(), SPAWN.Queue()
    arguments: list[tuple[object, ...]] = [
        (db_url, f"p{n}", BATCHES_EACH, BATCH_EVENTS, go, out) for n in range(PROCESSES)
    ]
    results: dict[str, list[tuple[int, int]]] = {}
    with spawned(append_batches, arguments, go) as processes:
        store = open_store(db_url)
        factory = LogFactory()
        store.append([factory.genesis()])  # before "go": everyone else waits for it

        def run(prefix: str, batches: list[list[SignedEvent]]) -> None:
            go.wait(60)
            results[prefix] = [(r.first_seq, r.size) for r in map(store.append, batches)]

        threads = [
            threading.Thread(
                target=run,
                args=(
                    f"t{n}",
                    [
                        factory.documents(f"t{n}", BATCH_EVENTS, b * BATCH_EVENTS)
                        for b in range(BATCHES_EACH)
                    ],
                ),
            )
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for _ in processes:  # every process has its store open and its events signed
            prefix, ready = out.get(timeout=120)
            assert ready is None, f"process {prefix}: {ready}"
        go.set()
        for thread in threads:
            thread.join(120)
        for _ in processes:
            prefix, ranges = out.get(timeout=120)
            assert isinstance(ranges, list), f"process {prefix}: {ranges}"
            results[prefix] = ranges
    assert [process.exitcode for process in processes] == [0] * PROCESSES
    assert sorted(results) == sorted([*(f"t{n}" for n in range(THREADS)), "p0", "p1"])

    total = 1 + (THREADS + PROCESSES) * BATCHES_EACH * BATCH_EVENTS
    assert store.size() == total
    ranges = sorted(r for rs in results.values() for r in rs)
    assert [first for first, _ in ranges] == [1, *(size for _, size in ranges[:-1])]
    assert ranges[-1][1] == total
    assert_log_is_sound(store)
    assert len(store.projected_rows("documents")) == total - 1
    store.close()


ACKS_BEFORE_KILL: Final = 12


def test_acknowledged_appends_survive_a_killed_writer(db_url: str) -> None:
    store = open_store(db_url)
    factory = LogFactory()
    store.append([factory.genesis()])
    store.close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.contract._crash_writer", db_url, "crash"],
        stdout=subprocess.PIPE,
        env=env,
        cwd=REPO,
        text=True,
    )
    acknowledged = -1
    try:
        assert writer.stdout is not None
        deadline = time.monotonic() + 120
        for _ in range(ACKS_BEFORE_KILL):
            line = writer.stdout.readline()
            assert line, f"the writer exited early with {writer.poll()}"
            acknowledged = int(line)
            assert time.monotonic() < deadline
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
        assert writer.stdout is not None
        writer.stdout.close()

    reopened = open_store(db_url)
    try:
        size = reopened.size()
        assert size >= acknowledged + 1
        assert_log_is_sound(reopened)
        result = reopened.append(factory.documents("after-crash", 3))
        assert (result.first_seq, result.size) == (size, size + 3)
        assert_log_is_sound(reopened)
    finally:
        reopened.close()
