"""The event store in memory: ``MemoryEventStore``, for fast tests of the service and verifier.

It keeps what the SQL store keeps — leaves, the Merkle nodes of every complete perfect subtree,
checkpoints, and the projections of ``reclaim.adapters.db.projections`` (the same pure
projector, so the same rows) — and passes the same contract suite (``tests/contract``):
gapless seqs, all-or-nothing appends (a batch is staged, checked against the projections'
constraints, then applied), roots and proofs from stored nodes, the same errors. Projected rows
are readable with ``projected_rows``, in the shape the SQL store returns; the ledger's, through
``ports.LedgerQueries`` (``memory_ledger``).

Known limits: nothing survives the process (so ``append`` is "durable" only as long as the
object lives); one process only; appends and reads are serialised by one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reclaim.adapters.db import ledger_projections, projections
from reclaim.adapters.db.store import same_liabilities_snapshot
from reclaim.adapters.memory_ledger import MemoryLedger
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
)
from reclaim.core import limits
from reclaim.log import merkle, merkle_plan
from reclaim.log.event import SignedEvent

Row = projections.Row


@dataclass(slots=True)
class _Projections:
    """Rows by primary key, in the column order of their tables."""

    actors: dict[str, Row] = field(default_factory=dict)
    keys: dict[str, Row] = field(default_factory=dict)
    documents: dict[str, Row] = field(default_factory=dict)


class MemoryEventStore:
    """The ``EventStore`` port in memory; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._leaves: list[bytes] = []
        self._nodes: dict[int, bytes] = {}
        self._frontier = merkle.CompactRange()
        self._checkpoints: dict[int, StoredCheckpoint] = {}
        self._liabilities: dict[str, StoredLiabilitiesSnapshot] = {}
        self._projections = _Projections()
        self._ledger = MemoryLedger()
        self._marks: dict[bytes, RequestMark] = {}  # signature digest -> mark

    # Reading -------------------------------------------------------------------------------

    def size(self) -> int:
        with self._lock:
            return len(self._leaves)

    def leaves(self, start: int, end: int) -> list[bytes]:
        with self._lock:
            if not 0 <= start <= end <= len(self._leaves):
                raise RangeNotAvailable(
                    f"leaves [{start}, {end}) of a log of size {len(self._leaves)}"
                )
            return self._leaves[start:end]

    def root(self, size: int) -> bytes:
        return self._served(lambda: merkle_plan.root_plan(size), size)[0]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self._served(lambda: merkle_plan.inclusion_plan(index, size), size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return self._served(lambda: merkle_plan.consistency_plan(size1, size2), size2)

    def _served(self, make: Callable[[], merkle_plan.ProofPlan], size: int) -> list[bytes]:
        try:
            plan = make()
        except merkle.ProofError as exc:
            raise RangeNotAvailable(str(exc)) from exc
        with self._lock:
            if size > len(self._leaves):
                raise RangeNotAvailable(f"tree size {size} beyond the log's {len(self._leaves)}")
            nodes = {k: self._nodes[k] for k in plan.node_keys() if k in self._nodes}
        try:
            return plan.assemble(nodes)
        except merkle_plan.NodeLookupError as exc:
            raise StoreCorrupt(f"tree of size {size}: {exc}") from exc

    def projected_rows(self, table: str) -> list[Row]:
        """Rows of projection ``table`` (``actors``, ``actor_keys``, ``documents``) by key."""
        with self._lock:
            rows = {
                "actors": self._projections.actors,
                "actor_keys": self._projections.keys,
                "documents": self._projections.documents,
            }[table]
            return [rows[k] for k in sorted(rows)]

    # The ledger's projections (``ports.LedgerQueries``; see ``memory_ledger``) -------------

    def account(self, account_id: str) -> ProjectedAccount | None:
        with self._lock:
            return self._ledger.account(account_id)

    def accounts_of(self, owner: str) -> list[ProjectedAccount]:
        with self._lock:
            return self._ledger.accounts_of(owner)

    def transfer(self, transfer_id: str) -> ProjectedTransfer | None:
        with self._lock:
            return self._ledger.transfer(transfer_id)

    def account_history(
        self, account_id: str, before_seq: int | None, limit: int, before_id: str | None = None
    ) -> list[ProjectedTransfer]:
        with self._lock:
            return self._ledger.account_history(account_id, before_seq, limit, before_id)

    # Writing -------------------------------------------------------------------------------

    def append(
        self,
        batch: Sequence[SignedEvent],
        entities: Sequence[EntityChange] = (),
        marks: Sequence[RequestMark] = (),
    ) -> AppendResult:
        assert len(batch) <= limits.append_batch_max, f"a batch of {len(batch)} events"
        with self._lock:
            digests = {mark.digest for mark in marks}
            if len(digests) < len(marks) or any(d in self._marks for d in digests):
                raise RequestAlreadyAccepted("a signed request of the batch is stored already")
            first = len(self._leaves)
            frontier = merkle.CompactRange(first, self._frontier.hashes)
            leaves: list[bytes] = []
            nodes: dict[int, bytes] = {}
            changes = projections.Changes()
            for seq, signed in enumerate(batch, start=first):
                leaf = signed.leaf(seq)
                leaves.append(leaf)
                for level, index, h in frontier.append(merkle.leaf_hash(leaf)):
                    nodes[merkle_plan.node_key(level, index)] = h
                try:
                    projections.project(changes, seq, signed.event)
                except projections.ProjectionError as exc:
                    raise StoreCorrupt(f"the batch contradicts the projections: {exc}") from exc
            new = self._stage(changes)
            try:
                ledger = ledger_projections.stage(entities, first)
            except projections.ProjectionError as exc:
                raise StoreCorrupt(f"the batch contradicts the projections: {exc}") from exc
            # Nothing has changed so far; from here on nothing can fail.
            self._leaves.extend(leaves)
            self._nodes.update(nodes)
            self._frontier = frontier
            self._projections.actors.update(new.actors)
            self._projections.keys.update(new.keys)
            self._projections.documents.update(new.documents)
            self._ledger.apply(ledger)
            self._marks.update((mark.digest, mark) for mark in marks)
            return AppendResult(first, frontier.size, frontier.root())

    def request_seen(self, digest: bytes) -> bool:
        with self._lock:
            return digest in self._marks

    def prune_request_marks(self, before_ms: int) -> int:
        with self._lock:
            closed = [d for d, mark in self._marks.items() if mark.until_ms < before_ms]
            for digest in closed:
                del self._marks[digest]
            return len(closed)

    def _stage(self, changes: projections.Changes) -> _Projections:
        """The rows ``changes`` add or replace, with the SQL store's constraints checked.

        Checked in the SQL store's order: actors, keys, revocations, documents. Returns only
        the new rows (an overlay), so a batch costs its own size, not the projections'.
        """
        current, new = self._projections, _Projections()
        for row in changes.actors:
            _insert(current.actors, new.actors, row, "actor")
        for row in changes.keys:
            if row[1] not in current.actors and row[1] not in new.actors:
                raise StoreCorrupt(f"key {row[0]} names an unknown actor {row[1]!r}")
            _insert(current.keys, new.keys, row, "key")
        for r in changes.revocations:
            key = new.keys.get(r.key_id) or current.keys.get(r.key_id)
            if key is None or key[1] != r.actor or key[3] is not None:
                raise StoreCorrupt(f"key {r.key_id} of {r.actor!r} is not a live key")
            new.keys[r.key_id] = (*key[:3], r.revoked_seq)
        for row in changes.documents:
            _insert(current.documents, new.documents, row, "document")
        return new

    # Checkpoints ---------------------------------------------------------------------------

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self._lock:
            if checkpoint.size > len(self._leaves):
                raise RangeNotAvailable(
                    f"checkpoint of size {checkpoint.size} beyond {len(self._leaves)}"
                )
            stored = self._checkpoints.setdefault(checkpoint.size, checkpoint)
            if stored != checkpoint:
                raise StoreCorrupt(f"another checkpoint of size {checkpoint.size} is stored")

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self._lock:
            if not self._checkpoints:
                return None
            return self._checkpoints[max(self._checkpoints)]

    def checkpoints(self, start_size: int, limit: int) -> list[StoredCheckpoint]:
        with self._lock:
            sizes = sorted(s for s in self._checkpoints if s >= start_size)[: max(0, limit)]
            return [self._checkpoints[s] for s in sizes]

    # Liabilities snapshots -----------------------------------------------------------------

    def add_liabilities_snapshot(
        self, snapshot: StoredLiabilitiesSnapshot
    ) -> StoredLiabilitiesSnapshot:
        with self._lock:
            if snapshot.checkpoint_size > len(self._leaves):
                raise RangeNotAvailable(
                    f"liabilities snapshot at checkpoint {snapshot.checkpoint_size} "
                    f"beyond {len(self._leaves)}"
                )
            size = snapshot.checkpoint_size
            stored = self._liabilities.get(snapshot.id) or next(
                (s for s in self._liabilities.values() if s.checkpoint_size == size), None
            )
            if stored is None:
                self._liabilities[snapshot.id] = snapshot
                return snapshot
        return same_liabilities_snapshot(stored, snapshot)

    def latest_liabilities_snapshot(self) -> StoredLiabilitiesSnapshot | None:
        with self._lock:
            return max(self._liabilities.values(), key=lambda s: s.checkpoint_size, default=None)

    def close(self) -> None:
        """Nothing to release."""


def _insert(current: dict[str, Row], new: dict[str, Row], row: Row, what: str) -> None:
    key = row[0]
    assert isinstance(key, str)
    if key in current or key in new:
        raise StoreCorrupt(f"{what} {key!r} exists already")
    new[key] = row
