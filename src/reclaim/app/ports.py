"""Ports: what the application needs from the world, as Protocols.

Adapters implement them (``reclaim.adapters``); tests wire in-memory or SQLite ones. Error tree
of every port (an adapter wraps its library's exceptions into these at its boundary):

    StoreError                       the store could not do what was asked
    ├── StoreUnavailable             cannot reach or open the database (retry later)
    ├── RangeNotAvailable            a seq / tree size beyond what the log holds
    └── StoreCorrupt                 stored data contradicts itself (a bug or tampering)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from reclaim.core.types import JsonValue
from reclaim.log.event import SignedEvent


class StoreError(Exception):
    """The event store could not do what was asked."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""


class RangeNotAvailable(StoreError):
    """A position or tree size beyond what the log holds."""


class StoreCorrupt(StoreError):
    """Stored data contradicts itself."""


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where an appended batch landed: seqs ``first_seq .. size-1``, and the new root."""

    first_seq: int
    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class EntityChange:
    """A state entity as the core left it after the event at ``position`` of a batch; the store
    projects it (``account/<id>``, ``transfer/<id>``: the ledger's tables). ``value`` is the
    core's canonical-JSON-ready entity (``State.entity``), ``None`` if it no longer exists."""

    position: int
    key: str
    value: JsonValue


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str  # the signed C2SP checkpoint note, exactly as published


@dataclass(frozen=True, slots=True)
class StoredLiabilitiesSnapshot:
    """A liabilities snapshot as stored: its public part only (the trees and the salt secret
    never leave the process; see ``reclaim.app.liabilities``)."""

    id: str  # the snapshot id of the statement (its checkpoint's tree size, in decimal)
    checkpoint_size: int  # the log checkpoint the liabilities were computed at
    statement_note: str  # the signed statement note, exactly as published
    public_json: str  # ``Snapshot.to_json()``: canonical JSON, what GET /liabilities/root serves
    created_at: str  # RFC 3339 UTC, when it was taken (not signed: information only)


class LiabilitiesStore(Protocol):
    """Where liabilities snapshots are kept (both event stores implement it).

    Contract: ``add_liabilities_snapshot`` stores a snapshot durably and returns what is stored
    under its id: the snapshot itself, or the one stored before if it has the same statement
    note (a retry; its ``created_at`` is kept); another statement under a stored id is
    ``StoreCorrupt``. ``latest_liabilities_snapshot`` is the one with the largest checkpoint
    size, or ``None``.
    """

    def add_liabilities_snapshot(
        self, snapshot: StoredLiabilitiesSnapshot
    ) -> StoredLiabilitiesSnapshot: ...

    def latest_liabilities_snapshot(self) -> StoredLiabilitiesSnapshot | None: ...


@dataclass(frozen=True, slots=True)
class ProjectedAccount:
    """A ledger account as projected: the core's entity, with the seqs of the events that
    opened it and last changed it. Balances are minor units of ``asset``."""

    id: str
    owner: str
    asset: str
    purpose: str
    flags: tuple[str, ...]  # sorted
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    opened_seq: int
    updated_seq: int


@dataclass(frozen=True, slots=True)
class ProjectedTransfer:
    """A ledger transfer as projected: the core's entity, with ``seq`` the event that created
    it (its place in an account's history) and ``updated_seq`` the last that changed it (a post,
    void or expiry of a pending transfer)."""

    id: str
    seq: int
    kind: str
    debit_account_id: str
    credit_account_id: str
    asset: str
    amount_minor: int
    code: str
    refs: dict[str, str]
    pending_id: str
    timeout_seconds: int
    created_at: str
    expires_at: str
    status: str
    posted_minor: int
    updated_seq: int


class LedgerQueries(Protocol):
    """Reads of the ledger's projections (the ``account/`` and ``transfer/`` entity changes).

    ``account_history`` lists an account's transfers (as debit or credit account) newest first:
    by ``seq`` descending, then by id descending (one event may create many transfers), at most
    ``limit``, strictly after the keyset cursor ``(before_seq, before_id)`` in that order when
    it is given; ``before_id`` ``None`` means "before every transfer of ``before_seq``".
    """

    def account(self, account_id: str) -> ProjectedAccount | None: ...

    def accounts_of(self, owner: str) -> list[ProjectedAccount]:
        """The accounts of ``owner``, by id."""
        ...

    def transfer(self, transfer_id: str) -> ProjectedTransfer | None: ...

    def account_history(
        self, account_id: str, before_seq: int | None, limit: int, before_id: str | None = None
    ) -> list[ProjectedTransfer]: ...


class EventStore(LiabilitiesStore, LedgerQueries, Protocol):
    """The append-only log with its Merkle nodes, checkpoints and projections.

    Contract (tested against every adapter by ``tests/contract``):
    - ``append`` is one transaction: the batch's leaves get the next gapless seqs, their Merkle
      nodes are stored, the projections they change are updated (from the events themselves,
      and from ``entities``: the ledger's accounts and transfers as the core computed them,
      upserted, each with the seq of the event at its ``position``) — all or nothing; concurrent
      appenders (threads or processes) never produce a gap or a duplicate seq; once ``append``
      returns, the batch survives a crash of the process.
    - proofs and roots are served from stored nodes, never by rebuilding the tree.
    - it keeps the liabilities snapshots too (``LiabilitiesStore``).
    - it answers the ledger's queries from its projections (``LedgerQueries``).
    """

    def size(self) -> int: ...

    def append(
        self, batch: Sequence[SignedEvent], entities: Sequence[EntityChange] = ()
    ) -> AppendResult: ...

    def leaves(self, start: int, end: int) -> list[bytes]:
        """Leaf bytes of seqs ``start`` (inclusive) to ``end`` (exclusive)."""
        ...

    def root(self, size: int) -> bytes: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None: ...

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    def checkpoints(self, start_size: int, limit: int) -> list[StoredCheckpoint]:
        """Checkpoints with size ≥ ``start_size``, oldest first, at most ``limit``."""
        ...

    def close(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


#: A batch of signing requests: (actor name, message) pairs.
SigningRequests = Sequence[tuple[str, bytes]]


class PendingSignatures(Protocol):
    def wait(self) -> list[bytes]:
        """The signatures, in request order (blocks until they are ready)."""
        ...


class Signer(Protocol):
    """Signs messages with the private keys of named actors; may do so on another core.

    ``submit`` returns at once; ``wait`` on its answer blocks. An unknown actor raises
    ``KeyError`` (from ``submit`` or ``wait``). The messages are exactly what gets signed.
    """

    def submit(self, requests: SigningRequests) -> PendingSignatures: ...

    def close(self) -> None: ...
