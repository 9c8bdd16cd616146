"""The event store on SQLite or PostgreSQL (SQLAlchemy Core): ``SqlEventStore`` and ``open_store``.

Theory of operation
-------------------
``append`` is one write transaction. It first takes the log's write lock — PostgreSQL
``SELECT size FROM log_head WHERE id = 1 FOR UPDATE``; SQLite ``BEGIN IMMEDIATE`` (every write
transaction starts with it, so concurrent writers queue on ``busy_timeout`` instead of failing
to upgrade a read lock) — and reads the size ``n``. It then loads the Merkle frontier of size
``n`` (``merkle.CompactRange``: cached in memory by size, reloaded from ``merkle_nodes`` with
one query when another writer moved the log), gives the batch seqs ``n, n+1, ...``, builds
each leaf with ``SignedEvent.leaf(seq)``, and inserts the events, every Merkle node the
frontier completes, the projections (``projections.py``; the ledger's accounts and transfers
upserted from the batch's entity changes, ``ledger_projections.py``) and the new size, then
commits.
Inserts are one driver call per table with plain tuples (``projections.insert_many``: SQLite
``executemany``, PostgreSQL ``INSERT ... SELECT FROM unnest(arrays)``). Measured on a 2-core
machine, batches of 2048 prepared events: about 10 µs per event on SQLite (about 3 µs of it
Python, the rest SQLite and the fsync), about 16 µs on PostgreSQL over loopback.

Reads need no lock: roots and proofs are planned from the sizes (``merkle_plan.root_plan``,
``inclusion_plan``, ``consistency_plan``) and fetched with one ``WHERE node_key IN (...)``
query. A planned node that is missing means the size is beyond the log (the last node of any
cover of ``[0, size)`` is complete only once leaf ``size - 1`` is stored): then the size is
checked and ``RangeNotAvailable`` raised; a missing node below the log's size is
``StoreCorrupt``.

Durability: SQLite runs in WAL mode with ``synchronous=FULL`` (the commit is fsynced before
``append`` returns); PostgreSQL with its defaults (``synchronous_commit=on``).

SQLite WAL checkpoints (``_SQLITE_WAL_CHECKPOINT_PAGES``): a batch of 2048 transfers adds about
3 MB of pages to the WAL, close to SQLite's default checkpoint threshold of 1,000 pages, so with
the default nearly every commit also copied the WAL into the database file and fsynced it. A
checkpoint every 10,000 pages (a WAL of about 40 MB) took about a third off the commit of a
batch in the transfers benchmark; durability is unchanged (every commit is still fsynced). A
larger page cache was measured too and did not help.

Errors (the port's tree, ``reclaim.app.ports``): SQLAlchemy and driver errors are wrapped at
this boundary — ``IntegrityError`` and projection conflicts become ``StoreCorrupt`` (the batch
contradicts what is stored: the caller's check is broken), connection and lock failures
``StoreUnavailable``, anything else ``StoreError``; a size or range beyond the log, and a
proof the tree cannot have (an index at or past the size, ``size1 > size2``, negative
numbers), is ``RangeNotAvailable``. ``EventFormatError`` from an oversized leaf passes
through (the batch was never valid); the transaction is rolled back in every case.

Roots and proofs: one indexed lookup of at most ``2 * merkle_height_max`` keys; about 0.3 ms
median for a random leaf of a 10,000,000-leaf SQLite log (``bulk_load_leaf_hashes``).

Known limits: an SQLite database is written by one process at a time (the file lock); a
``sqlite://`` in-memory database lives in one connection shared by every thread, so it is for
single-threaded tests only. ``leaves`` and ``checkpoints`` return what they are asked for in
one list: callers page them (``limits.bundle_size_max``, ``limits.checkpoints_page_max``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, Final

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from reclaim.adapters.db import ledger_projections, migrate, projections, tables
from reclaim.adapters.db.transactions import transaction
from reclaim.app.ports import (
    AppendResult,
    EntityChange,
    ProjectedAccount,
    ProjectedTransfer,
    RangeNotAvailable,
    RequestAlreadyAccepted,
    RequestMark,
    StoreCorrupt,
    StoredCheckpoint,
    StoredLiabilitiesSnapshot,
    StoreUnavailable,
)
from reclaim.core import limits
from reclaim.log import merkle, merkle_plan
from reclaim.log.event import SignedEvent

_WRITE: Final = migrate.WRITE_TRANSACTION
#: The WAL size in pages at which a commit checkpoints it into the database file (module doc).
_SQLITE_WAL_CHECKPOINT_PAGES: Final = 10_000
#: The log head's statements, built once (building one costs more than running it).
_HEAD_SIZE: Final = select(tables.log_head.c.size).where(tables.log_head.c.id == 1)
_HEAD_SIZE_LOCKED: Final = _HEAD_SIZE.with_for_update()
_SET_HEAD_SIZE: Final = tables.log_head.update().where(tables.log_head.c.id == 1)
#: Asked before every signed request (replay after a restart): built once, so that SQLAlchemy
#: compiles it once rather than building and hashing a new statement per request.
_REQUEST_SEEN: Final = select(tables.request_signatures.c.digest).where(
    tables.request_signatures.c.digest == bindparam("digest")
)


def open_store(url: str) -> SqlEventStore:
    """Create the engine for ``url``, bring the schema to the newest migration, open the store.

    ``url`` is ``sqlite:///path/to/file.db`` or ``postgresql+psycopg://user@host/db``.
    Raises ``StoreUnavailable`` if the database cannot be reached or migrated.
    """
    engine = create_store_engine(url)
    try:
        migrate.upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreUnavailable(f"cannot open the store: {exc}") from exc
    return SqlEventStore(engine)


def create_store_engine(url: str) -> Engine:
    """An engine configured for the store: SQLite pragmas and write locking, or psycopg."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False},
            **(
                {"poolclass": StaticPool}
                if in_memory
                else {"pool_size": limits.store_sqlite_pool_connections}
            ),
        )
        _configure_sqlite(engine, in_memory)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"connect_timeout": limits.store_connect_timeout_seconds},
        )
    raise StoreUnavailable(f"unsupported database {parsed.get_backend_name()!r}")


def _set_wal(cursor: Any) -> None:
    """Switch to WAL. Changing the journal mode takes an exclusive lock and SQLite answers
    "database is locked" at once, without its busy handler, when several processes open a new
    database together: retry for up to the busy timeout."""
    deadline = time.monotonic() + limits.store_busy_timeout_seconds
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _configure_sqlite(engine: Engine, in_memory: bool) -> None:
    """WAL, fsync on commit, a busy timeout, foreign keys; transactions begun by us."""
    busy_ms = int(limits.store_busy_timeout_seconds * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own BEGIN handling is off: the "begin" listener below emits it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if not in_memory:
            _set_wal(cursor)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        if not in_memory:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {_SQLITE_WAL_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN DEFERRED")


class SqlEventStore:
    """The ``EventStore`` port on an SQLAlchemy engine (SQLite or PostgreSQL).

    Thread-safe: appends from threads of one process are serialised by a lock (they would be
    by the database anyway); reads run concurrently on the engine's pool.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._append_lock = threading.Lock()
        self._frontier = merkle.CompactRange()  # of the size last seen; guarded by the lock

    @property
    def engine(self) -> Engine:
        return self._engine

    # Transactions --------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[Connection]:
        """One transaction; driver errors leave as the port's ``StoreError`` subclasses."""
        contradicts = "the batch contradicts the stored log"
        try:
            with transaction(self._engine, write=write, contradicts=contradicts) as connection:
                yield connection
        except projections.ProjectionError as exc:
            raise StoreCorrupt(f"the batch contradicts the stored projections: {exc}") from exc

    # Reading -------------------------------------------------------------------------------

    def size(self) -> int:
        with self._transaction() as connection:
            return self._head_size(connection)

    @staticmethod
    def _head_size(connection: Connection, *, lock: bool = False) -> int:
        size = connection.execute(_HEAD_SIZE_LOCKED if lock else _HEAD_SIZE).scalar_one()
        assert isinstance(size, int)
        return size

    def leaves(self, start: int, end: int) -> list[bytes]:
        """Leaf bytes of seqs ``[start, end)``; ``RangeNotAvailable`` past the end of the log."""
        if not 0 <= start <= end:
            raise RangeNotAvailable(f"no leaves in [{start}, {end})")
        events = tables.events
        query = (
            select(events.c.leaf)
            .where(events.c.seq >= start, events.c.seq < end)
            .order_by(events.c.seq)
        )
        with self._transaction() as connection:
            size = self._head_size(connection)
            if end > size:
                raise RangeNotAvailable(f"leaves [{start}, {end}) of a log of size {size}")
            rows = connection.execute(query).scalars().all()
        if len(rows) != end - start:
            raise StoreCorrupt(f"{end - start - len(rows)} events missing in [{start}, {end})")
        return [bytes(leaf) for leaf in rows]

    def _get_nodes(self, keys: Sequence[int]) -> dict[int, bytes]:
        nodes = tables.merkle_nodes
        query = select(nodes.c.node_key, nodes.c.hash).where(nodes.c.node_key.in_(keys))
        with self._transaction() as connection:
            return {key: bytes(h) for key, h in connection.execute(query).tuples()}

    def _served(self, plan: merkle_plan.ProofPlan, size: int) -> list[bytes]:
        """Assemble ``plan`` from stored nodes (one query); the plan's tree has ``size``."""
        try:
            return plan.assemble(self._get_nodes(plan.node_keys()))
        except merkle_plan.NodeLookupError as exc:
            stored = self.size()
            if size > stored:
                raise RangeNotAvailable(f"tree size {size} beyond the log's {stored}") from None
            raise StoreCorrupt(f"tree of size {size}: {exc}") from exc

    def root(self, size: int) -> bytes:
        return self._served(_plan(merkle_plan.root_plan, size), size)[0]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self._served(_plan(merkle_plan.inclusion_plan, index, size), size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return self._served(_plan(merkle_plan.consistency_plan, size1, size2), size2)

    def projected_rows(self, table: str) -> list[tuple[object, ...]]:
        """Rows of projection ``table`` (``actors``, ``actor_keys``, ``documents``) by key."""
        assert table in ("actors", "actor_keys", "documents"), f"not a projection: {table}"
        t = tables.metadata.tables[table]
        with self._transaction() as connection:
            rows = [tuple(row) for row in connection.execute(select(*t.columns))]
        return sorted(rows, key=lambda row: str(row[0]))  # Python's order, not the collation's

    # The ledger's projections (``ports.LedgerQueries``; see ``ledger_projections``) ---------

    def account(self, account_id: str) -> ProjectedAccount | None:
        with self._transaction() as connection:
            return ledger_projections.account(connection, account_id)

    def accounts_of(self, owner: str) -> list[ProjectedAccount]:
        with self._transaction() as connection:
            return ledger_projections.accounts_of(connection, owner)

    def transfer(self, transfer_id: str) -> ProjectedTransfer | None:
        with self._transaction() as connection:
            return ledger_projections.transfer(connection, transfer_id)

    def account_history(
        self, account_id: str, before_seq: int | None, limit: int, before_id: str | None = None
    ) -> list[ProjectedTransfer]:
        with self._transaction() as connection:
            return ledger_projections.account_history(
                connection, account_id, before_seq, limit, before_id
            )

    # Writing -------------------------------------------------------------------------------

    def append(
        self,
        batch: Sequence[SignedEvent],
        entities: Sequence[EntityChange] = (),
        marks: Sequence[RequestMark] = (),
    ) -> AppendResult:
        """Append ``batch`` and store ``marks`` in one transaction (see the module doc); all or
        nothing. A mark stored already refuses the batch (``RequestAlreadyAccepted``)."""
        assert len(batch) <= limits.append_batch_max, f"a batch of {len(batch)} events"
        with self._append_lock, self._transaction(write=True) as connection:
            first = self._head_size(connection, lock=True)  # serialises appenders
            if marks:
                _store_marks(connection, marks)
            frontier = self._load_frontier(connection, first)
            event_rows: list[tuple[int, str, str, str, str, bytes, bytes]] = []
            node_rows: list[tuple[int, bytes]] = []
            changes = projections.Changes()
            # The hot loop (a few µs per event): names bound once, no generators.
            leaf_hash, node_key = merkle.leaf_hash, merkle_plan.node_key
            project = projections.project
            add_event, add_node, grow = event_rows.append, node_rows.append, frontier.append
            for seq, signed in enumerate(batch, start=first):
                event = signed.event
                leaf = signed.leaf(seq)
                h = leaf_hash(leaf)
                add_event((seq, event.type, event.actor, event.key_id, event.time, leaf, h))
                for level, index, node in grow(h):
                    add_node((node_key(level, index), node))
                project(changes, seq, event)
            if event_rows:
                projections.insert_many(connection, tables.events, event_rows)
                projections.insert_many(connection, tables.merkle_nodes, node_rows)
                projections.apply(connection, changes)
                ledger_projections.upsert(connection, ledger_projections.stage(entities, first))
                connection.execute(_SET_HEAD_SIZE, {"size": frontier.size})
        # Committed: only now may the cache move to the new size.
        self._frontier = frontier
        return AppendResult(first, frontier.size, frontier.root())

    def request_seen(self, digest: bytes) -> bool:
        with self._transaction() as connection:
            return connection.execute(_REQUEST_SEEN, {"digest": digest}).first() is not None

    def prune_request_marks(self, before_ms: int) -> int:
        marks = tables.request_signatures
        with self._transaction(write=True) as connection:
            done = connection.execute(delete(marks).where(marks.c.until_ms < before_ms))
            return int(done.rowcount or 0)

    def _load_frontier(self, connection: Connection, size: int) -> merkle.CompactRange:
        """A private copy of the frontier of ``size``: from the cache, or from stored nodes."""
        cached = self._frontier
        if cached.size == size:
            return merkle.CompactRange(size, cached.hashes)
        ids = merkle_plan.frontier_nodes(size)
        keys = [merkle_plan.node_key(level, index) for level, index in ids]
        nodes = tables.merkle_nodes
        query = select(nodes.c.node_key, nodes.c.hash).where(nodes.c.node_key.in_(keys))
        found = {key: bytes(h) for key, h in connection.execute(query).tuples()}
        missing = [node for node, key in zip(ids, keys, strict=True) if key not in found]
        if missing:
            raise StoreCorrupt(f"frontier nodes {missing} of size {size} are not stored")
        return merkle.CompactRange(size, [found[key] for key in keys])

    # Checkpoints ---------------------------------------------------------------------------

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a checkpoint; storing the same one again is a no-op.

        ``RangeNotAvailable`` if its size is beyond the log; ``StoreCorrupt`` if a different
        checkpoint of that size is stored.
        """
        cps = tables.checkpoints
        with self._transaction(write=True) as connection:
            size = self._head_size(connection, lock=True)
            if checkpoint.size > size:
                raise RangeNotAvailable(f"checkpoint of size {checkpoint.size} beyond {size}")
            stored = connection.execute(
                select(cps.c.root, cps.c.note).where(cps.c.size == checkpoint.size)
            ).first()
            if stored is None:
                connection.execute(
                    cps.insert().values(
                        size=checkpoint.size, root=checkpoint.root, note=checkpoint.note
                    )
                )
            elif (bytes(stored.root), stored.note) != (checkpoint.root, checkpoint.note):
                raise StoreCorrupt(f"another checkpoint of size {checkpoint.size} is stored")

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        cps = tables.checkpoints
        query = select(cps.c.size, cps.c.root, cps.c.note).order_by(cps.c.size.desc()).limit(1)
        with self._transaction() as connection:
            row = connection.execute(query).first()
        return None if row is None else StoredCheckpoint(row.size, bytes(row.root), row.note)

    def checkpoints(self, start_size: int, limit: int) -> list[StoredCheckpoint]:
        cps = tables.checkpoints
        query = (
            select(cps.c.size, cps.c.root, cps.c.note)
            .where(cps.c.size >= start_size)
            .order_by(cps.c.size)
            .limit(max(0, limit))
        )
        with self._transaction() as connection:
            rows = connection.execute(query).all()
        return [StoredCheckpoint(r.size, bytes(r.root), r.note) for r in rows]

    # Liabilities snapshots -----------------------------------------------------------------

    def add_liabilities_snapshot(
        self, snapshot: StoredLiabilitiesSnapshot
    ) -> StoredLiabilitiesSnapshot:
        """Store a snapshot, or return the one stored under its id if it has the same statement
        (``LiabilitiesStore``). ``RangeNotAvailable`` if its checkpoint is beyond the log;
        ``StoreCorrupt`` if another statement is stored under its id or checkpoint size."""
        t = tables.liabilities_snapshots
        query = select(*t.columns).where(
            (t.c.id == snapshot.id) | (t.c.checkpoint_size == snapshot.checkpoint_size)
        )
        with self._transaction(write=True) as connection:
            size = self._head_size(connection, lock=True)
            if snapshot.checkpoint_size > size:
                raise RangeNotAvailable(
                    f"liabilities snapshot at checkpoint {snapshot.checkpoint_size} beyond {size}"
                )
            row = connection.execute(query).first()
            if row is None:
                # The snapshot's fields are the table's columns, by name.
                connection.execute(t.insert().values(**asdict(snapshot)))
                return snapshot
        return same_liabilities_snapshot(_liabilities_snapshot(row), snapshot)

    def latest_liabilities_snapshot(self) -> StoredLiabilitiesSnapshot | None:
        t = tables.liabilities_snapshots
        query = select(*t.columns).order_by(t.c.checkpoint_size.desc()).limit(1)
        with self._transaction() as connection:
            row = connection.execute(query).first()
        return None if row is None else _liabilities_snapshot(row)

    def close(self) -> None:
        self._engine.dispose()


def _liabilities_snapshot(row: Any) -> StoredLiabilitiesSnapshot:
    return StoredLiabilitiesSnapshot(
        row.id, row.checkpoint_size, row.statement_note, row.public_json, row.created_at
    )


def same_liabilities_snapshot(
    stored: StoredLiabilitiesSnapshot, new: StoredLiabilitiesSnapshot
) -> StoredLiabilitiesSnapshot:
    """``stored`` if ``new`` is the same snapshot taken again (its time aside), else
    ``StoreCorrupt`` (both stores use it)."""
    same = (stored.id, stored.checkpoint_size, stored.statement_note, stored.public_json) == (
        new.id, new.checkpoint_size, new.statement_note, new.public_json,
    )  # fmt: skip
    if not same:
        raise StoreCorrupt(
            f"another liabilities snapshot is stored as {stored.id} (checkpoint "
            f"{stored.checkpoint_size}) than the one given as {new.id} (checkpoint "
            f"{new.checkpoint_size})"
        )
    return stored


def _plan(make: Any, *sizes: int) -> merkle_plan.ProofPlan:
    """``make(*sizes)``, with a request the tree cannot answer as ``RangeNotAvailable``."""
    try:
        plan = make(*sizes)
    except merkle.ProofError as exc:
        raise RangeNotAvailable(str(exc)) from exc
    assert isinstance(plan, merkle_plan.ProofPlan)
    return plan


def bulk_load_leaf_hashes(store: SqlEventStore, leaf_hashes: Iterable[bytes]) -> int:
    """Store the Merkle nodes of synthetic leaves after the log's end; return the new size.

    FOR THE PROOF BENCHMARK ONLY (a 10,000,000-leaf log without signing 10 million events):
    no ``events`` rows are written, so ``leaves`` of these seqs reports ``StoreCorrupt``; the
    head size, the nodes, roots and proofs are exactly those of a log with these leaf hashes.
    Commits every ``limits.bulk_load_chunk_leaves`` leaves.
    """
    with store._append_lock:
        with store._transaction(write=True) as connection:
            written = store._head_size(connection, lock=True)
            frontier = store._load_frontier(connection, written)
        chunk: list[tuple[int, bytes]] = []
        node_key, grow = merkle_plan.node_key, frontier.append
        for h in leaf_hashes:
            for level, index, node in grow(h):
                chunk.append((node_key(level, index), node))
            if frontier.size - written >= limits.bulk_load_chunk_leaves:
                written = _bulk_commit(store, chunk, written, frontier.size)
                chunk = []
        written = _bulk_commit(store, chunk, written, frontier.size)
        store._frontier = frontier
        return written


def _bulk_commit(
    store: SqlEventStore, nodes: list[tuple[int, bytes]], expected: int, size: int
) -> int:
    with store._transaction(write=True) as connection:
        if store._head_size(connection, lock=True) != expected:
            raise StoreCorrupt("another writer appended during a bulk load")
        if nodes:
            projections.insert_many(connection, tables.merkle_nodes, nodes)
        connection.execute(
            tables.log_head.update().where(tables.log_head.c.id == 1).values(size=size)
        )
    return size


def _store_marks(connection: Connection, marks: Sequence[RequestMark]) -> None:
    """Insert ``marks``; refuse (before any insert) one stored already, or one given twice.
    Runs after the head row is locked, so two appenders cannot both pass the check."""
    table = tables.request_signatures
    digests = [mark.digest for mark in marks]
    seen = connection.execute(select(table.c.digest).where(table.c.digest.in_(digests)))
    if seen.first() is not None or len(set(digests)) < len(digests):
        raise RequestAlreadyAccepted("a signed request of the batch is stored already")
    connection.execute(
        insert(table),
        [{"digest": m.digest, "actor": m.actor, "until_ms": m.until_ms} for m in marks],
    )
