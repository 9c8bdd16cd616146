"""Proof of liabilities in the product: snapshots of the ledger at a published checkpoint.

The Merkle sum trees, the signed statement and the proofs are ``reclaim.log.liabilities``; this
module decides *what* goes into them, *when*, and keeps them: the operator's side
(``LiabilitiesService``) and the creditor's offline check (``verify_liability_proof``).

Theory of operation
-------------------
``LiabilitiesService.snapshot()``:

1. under the log's writer lock (``LogService.with_checkpoint``) it publishes a checkpoint of the
   log as stored and reads every liability from the state at exactly that checkpoint
   (``liabilities_of``, O(accounts)); no batch can come in between, so the balances are those
   of the checkpoint the statement names;
2. outside the lock it builds the sum trees and signs the statement with the log key
   (``build_snapshot``; about 3 µs per leaf);
3. it stores the public part durably (``LiabilitiesStore``: the signed note and
   ``Snapshot.to_json()``, which ``GET /liabilities/root`` serves) and keeps the built snapshot
   in memory to serve proofs (``proof``).

Which balances are liabilities
------------------------------
What reclaim owes someone else: the balance ``credits_posted - debits_posted`` of every account
whose purpose (``reclaim.core.ledger``) is one of ``LIABILITY_PURPOSES``:

- ``creditor_available`` — a user's withdrawable cash or notes;
- ``claim_escrow`` — a restricted claim's distributions, held until they can be paid;
- ``estate_pool`` — a distribution round's cash, received from the estate, not yet paid out;
- ``market_clearing`` — fills in flight between buyer and seller.

Not liabilities to creditors: ``fees`` (the operator's income) and ``funding`` (its own capital:
equity), which reclaim owes nobody; ``rail_settlement`` (debit-normal: what reclaim *holds*);
``holding_entity`` (the programme's own holder of record, debit-normal for the notes it issued:
the notes themselves are counted in the holders' ``creditor_available`` accounts).

Pending transfers: a reservation (``debits_pending``, e.g. a withdrawal waiting for the rail, an
order's cash) is still owed until it is posted, so it is *not* subtracted; money on its way in
(``credits_pending``) is not owed until it is posted, so it is *not* added. A pending transfer
between two liability accounts is therefore counted once, at its source, and a voided or
expired one changes nothing.

A leaf is one creditor in one asset: the account id of the leaf is the accounts' **owner** (the
actor name, ``alice``), its balance the sum of that owner's liability accounts in that asset, so
each creditor checks one proof per asset, the one ``GET /liabilities/proof?asset=`` serves to
the authenticated actor. Every account's balance is checked to be non-negative *before* it is
added, so no negative balance can offset another one (a liability account with more debits than
credits — possible only without the ``debits_must_not_exceed_credits`` flag — refuses the
snapshot with ``LiabilityInputError`` naming it). Zero balances have no leaf.

Snapshot ids
------------
A snapshot's id is its checkpoint's tree size, in decimal (``"1130"``). The liabilities at a
checkpoint are a function of the log up to it, and ``build_snapshot`` is deterministic, so there
is one snapshot per checkpoint: taking a snapshot again with no new event rebuilds the same
statement byte for byte (and the store keeps the first one). The id is in every leaf's salt, so
two snapshots never share salts. A statement that differs from the stored one under the same id
means the salt secret or the log key changed: the store refuses it (``StoreCorrupt``).

Serving proofs after a restart, or after another process took a snapshot
------------------------------------------------------------------------
The trees are kept in memory only. ``proof`` reads the store's latest snapshot; if the snapshot
in memory is not that one (a restart, or ``reclaim liabilities snapshot`` run by another
process), it replays the stored log up to the snapshot's checkpoint through the core and
rebuilds the snapshot, and checks that the rebuilt statement is the stored one byte for byte
(``SnapshotRebuildError`` otherwise: the secret, the key or the log changed). The replay costs
about 10 µs per event, once per snapshot and process.

The creditor's check
--------------------
``verify_liability_proof(data, log_key, published)`` runs offline: ``load_proof`` and
``verify_proof`` (the signature by the log key, the path, every sum), and, when the creditor
has a source of published checkpoints (``PublishedCheckpoints``: a checkpoint file, an exported
log, a server), that the statement's checkpoint is one the log published: the checkpoint of
that size is fetched, opened with the log key, and compared (origin, size, root). Without such
a source the result says that the link was not checked (``checkpoint_checked`` is false).

Errors
------
- ``LiabilityInputError`` (``reclaim.log.liabilities``): the ledger cannot be committed to;
- ``NoSnapshotError`` (a ``LookupError``): no snapshot has been taken yet;
- ``LiabilityNotFoundError`` (``reclaim.log.liabilities``): no leaf for that owner and asset;
- ``SnapshotRebuildError`` (a ``StoreCorrupt``): the stored snapshot cannot be rebuilt;
- on the creditor's side, ``LiabilityProofError`` (its ``kind`` says which check failed;
  ``checkpoint_mismatch`` also when the log never published the statement's checkpoint) and
  ``CheckpointError`` (the published checkpoint itself does not open with the log key).

Known limits
------------
- A checkpoint source that is the operator's own server shows what the operator serves; a
  creditor who wants more compares with a mirror or a witness (any ``PublishedCheckpoints``).
- ``claim_escrow`` accounts are counted under their owner: an escrow owned by a claim id rather
  than by the creditor gets a leaf of that id, which the creditor cannot fetch by signing in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Final, Protocol

from reclaim.app.log_service import LogService
from reclaim.app.ports import (
    Clock,
    EventStore,
    LiabilitiesStore,
    StoreCorrupt,
    StoredLiabilitiesSnapshot,
)
from reclaim.core import limits
from reclaim.core.events import format_time
from reclaim.core.ledger import LedgerState
from reclaim.core.machine import State, check, evolve
from reclaim.log.checkpoint import Checkpoint, open_checkpoint
from reclaim.log.event import parse_leaf
from reclaim.log.keys import SignerKey, VerifierKey
from reclaim.log.liabilities.build import Snapshot, build_snapshot
from reclaim.log.liabilities.errors import (
    LiabilityInputError,
    LiabilityProofError,
    LiabilityProofErrorKind,
)
from reclaim.log.liabilities.proof import LiabilityProof, load_proof
from reclaim.log.liabilities.statement import open_statement
from reclaim.log.liabilities.verify import VerifiedLiability, verify_proof

#: Account purposes whose credit balance reclaim owes to someone else (see the module doc).
LIABILITY_PURPOSES: Final = frozenset(
    {"creditor_available", "claim_escrow", "estate_pool", "market_clearing"}
)


class NoSnapshotError(LookupError):
    """No liabilities snapshot has been taken yet."""


class SnapshotRebuildError(StoreCorrupt):
    """The stored snapshot cannot be rebuilt from the log as it was taken."""


# What is owed ----------------------------------------------------------------------------------


def liabilities_of(ledger: LedgerState) -> list[tuple[str, str, int]]:
    """Every non-zero liability as ``(owner, asset, balance in minor units)``, sorted by asset
    then owner; refuses (``LiabilityInputError``) a liability account with a negative balance.
    """
    owed: dict[tuple[str, str], int] = {}
    for ident in sorted(ledger.accounts):
        account = ledger.accounts[ident]
        if account.purpose not in LIABILITY_PURPOSES:
            continue
        balance = account.credit_balance_minor  # credits_posted - debits_posted: see module doc
        if balance < 0:
            raise LiabilityInputError(
                f"account {ident} has a balance of {balance} {account.asset}: more debits than "
                "credits, which a liability cannot have (it needs the "
                "debits_must_not_exceed_credits flag)"
            )
        if balance:
            key = (account.asset, account.owner)
            owed[key] = owed.get(key, 0) + balance
    return [(owner, asset, balance) for (asset, owner), balance in sorted(owed.items())]


def snapshot_id_for(checkpoint_size: int) -> str:
    """The id of the snapshot taken at the checkpoint of ``checkpoint_size`` (module doc)."""
    assert 0 < checkpoint_size <= limits.tree_size_max, "a snapshot follows the genesis event"
    return str(checkpoint_size)


# The operator's side ---------------------------------------------------------------------------


class LiabilitiesService:
    """Takes liabilities snapshots of the log's ledger, stores them, serves creditors' proofs.

    ``signer`` is the log key (the statement is signed like a checkpoint); ``secret`` the salt
    secret (``liabilities.secret``, at least 32 bytes). Thread-safe.
    """

    def __init__(
        self,
        log: LogService,
        store: LiabilitiesStore,
        secret: bytes,
        signer: SignerKey,
        *,
        clock: Clock,
    ) -> None:
        self._log = log
        self._store = store
        self._secret = secret
        self._signer = signer
        self._clock = clock
        self._lock = threading.Lock()  # guards _latest; held while a snapshot is rebuilt
        self._latest: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        """Publish a checkpoint, commit to every liability at it, store and keep the snapshot.

        Raises ``LiabilityInputError`` if the ledger holds a balance that cannot be committed
        to, and the store's errors.
        """
        rows, stored = self._log.with_checkpoint(
            lambda state, checkpoint: (liabilities_of(state.ledger), checkpoint)
        )
        checkpoint = open_checkpoint(stored.note, self._signer.verifier)
        built = self._build(rows, checkpoint)
        record = StoredLiabilitiesSnapshot(
            id=built.statement.snapshot_id,
            checkpoint_size=checkpoint.size,
            statement_note=built.statement_note,
            public_json=built.to_json().decode(),
            created_at=format_time(self._clock.now()),
        )
        kept = self._store.add_liabilities_snapshot(record)
        assert kept.statement_note == record.statement_note, "the store refuses another one"
        with self._lock:
            if self._latest is None or _size(self._latest) <= checkpoint.size:
                self._latest = built
        return built

    def latest(self) -> StoredLiabilitiesSnapshot | None:
        """The latest stored snapshot (its public part), or ``None``."""
        return self._store.latest_liabilities_snapshot()

    def proof(self, account_id: str, asset: str) -> LiabilityProof:
        """The proof of ``account_id``'s ``asset`` liability in the latest snapshot.

        Raises ``NoSnapshotError``, ``LiabilityNotFoundError`` (no such liability: the account
        is owed nothing in that asset), ``SnapshotRebuildError``.
        """
        return self.current().proof_for(account_id, asset)

    def current(self) -> Snapshot:
        """The latest stored snapshot, built: from memory, or rebuilt (module doc)."""
        record = self._store.latest_liabilities_snapshot()
        if record is None:
            raise NoSnapshotError("no liabilities snapshot has been taken yet")
        with self._lock:
            latest = self._latest
            if latest is None or latest.statement_note != record.statement_note:
                latest = self._latest = self._rebuild(record)
            return latest

    def _build(self, rows: Iterable[tuple[str, str, int]], checkpoint: Checkpoint) -> Snapshot:
        snapshot_id = snapshot_id_for(checkpoint.size)
        return build_snapshot(rows, self._secret, snapshot_id, checkpoint, self._signer)

    def _rebuild(self, record: StoredLiabilitiesSnapshot) -> Snapshot:
        try:
            statement = open_statement(record.statement_note, self._signer.verifier)
        except LiabilityProofError as exc:
            raise SnapshotRebuildError(f"stored snapshot {record.id}: {exc}") from exc
        size = statement.checkpoint_size
        root = self._log.store.root(size)
        if size != record.checkpoint_size or root != statement.checkpoint_root:
            raise SnapshotRebuildError(
                f"stored snapshot {record.id} names checkpoint {size}, which is not the log's "
                f"tree of that size (stored as of checkpoint {record.checkpoint_size})"
            )
        state = replay(self._log.store, size)
        checkpoint = Checkpoint(statement.origin, size, root)
        try:
            rebuilt = self._build(liabilities_of(state.ledger), checkpoint)
        except LiabilityInputError as exc:
            raise SnapshotRebuildError(f"stored snapshot {record.id}: {exc}") from exc
        if rebuilt.statement_note != record.statement_note:
            raise SnapshotRebuildError(
                f"stored snapshot {record.id} cannot be rebuilt: the ledger at checkpoint "
                f"{size} gives another statement (was the liabilities secret or the log key "
                "changed?)"
            )
        return rebuilt


def _size(snapshot: Snapshot) -> int:
    return snapshot.statement.checkpoint_size


def replay(store: EventStore, size: int) -> State:
    """The state after the first ``size`` stored events, replayed through the core (as
    ``LogService.reload`` does, up to ``size``)."""
    state = State()
    for start in range(0, size, limits.bundle_size_max):
        end = min(size, start + limits.bundle_size_max)
        for leaf in store.leaves(start, end):
            logged = parse_leaf(leaf)
            rejection = check(state, logged.event)
            if rejection is not None:
                raise StoreCorrupt(f"stored event {logged.seq} fails the core: {rejection}")
            evolve(state, logged.event)
    assert state.events == size, "every stored event was replayed"
    return state


# The creditor's side ---------------------------------------------------------------------------


class PublishedCheckpoints(Protocol):
    """Where a creditor gets the log's published checkpoints from (``reclaim.adapters``).

    ``note_at(size)``: the signed checkpoint note of that tree size, or ``None`` if the log
    never published one (a source holding one checkpoint returns it whatever the size, and the
    comparison names the difference). ``name``: the source, for messages. I/O errors are
    raised as ``reclaim.verifier.SourceError``.
    """

    @property
    def name(self) -> str: ...

    def note_at(self, size: int) -> str | None: ...


class CheckpointSource(PublishedCheckpoints, Protocol):
    """Published checkpoints a command opens, reads and closes (``bootstrap.open_checkpoints``).

    ``log_key()``: the log's verifier key as the source publishes it (a server's
    ``GET /log/keys``: trust on first use), or ``None`` for a source that publishes none (a
    note file, an exported log). ``close()``: release what the source holds (a connection).
    """

    def log_key(self) -> str | None: ...

    def close(self) -> None: ...


def verify_liability_proof(
    data: bytes, log_key: VerifierKey, published: PublishedCheckpoints | None
) -> VerifiedLiability:
    """Check a proof file offline (module doc). Raises ``LiabilityProofError`` naming the first
    failure, or ``CheckpointError`` if the published checkpoint does not open with the key."""
    proof = load_proof(data)
    note = proof.get("statement")
    if published is None or not isinstance(note, str):
        return verify_proof(proof, log_key, None)  # a missing statement is refused in order
    try:
        statement = open_statement(note, log_key)
    except LiabilityProofError:
        return verify_proof(proof, log_key, None)  # refuses it, in the order of its checks
    size = statement.checkpoint_size
    published_note = published.note_at(size)
    if published_note is None:
        raise LiabilityProofError(
            LiabilityProofErrorKind.checkpoint_mismatch,
            f"statement of snapshot {statement.snapshot_id} names checkpoint {statement.origin} "
            f"{size}, but {published.name} has no checkpoint of size {size}: the log never "
            "published it",
        )
    checkpoint = open_checkpoint(published_note, log_key)
    return verify_proof(proof, log_key, checkpoint)
