"""``reclaim.app.liabilities``: which balances are owed, snapshots at a checkpoint, restarts,
and the creditor's check against published checkpoints.

The ledger is ``tests.support.ledger_log``'s (its docstring has the table of what is owed).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.liabilities import (
    LIABILITY_PURPOSES,
    LiabilitiesService,
    NoSnapshotError,
    SnapshotRebuildError,
    liabilities_of,
    verify_liability_proof,
)
from reclaim.app.log_service import LogService
from reclaim.core.ledger import PURPOSES, Account, LedgerState
from reclaim.core.machine import PublishDocument
from reclaim.log.checkpoint import Checkpoint
from reclaim.log.liabilities.build import build_snapshot
from reclaim.log.liabilities.errors import (
    LiabilityInputError,
    LiabilityNotFoundError,
    LiabilityProofError,
    LiabilityProofErrorKind,
)
from reclaim.log.liabilities.proof import proof_to_json
from tests.support import ledger_log
from tests.support.factories import ORIGIN

SECRET = hashlib.sha256(b"unit liabilities secret").digest()
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


@dataclass
class Published:
    """A ``PublishedCheckpoints`` over the notes of a store."""

    notes: dict[int, str] = field(default_factory=dict)
    name: str = "the test log"

    def note_at(self, size: int) -> str | None:
        return self.notes.get(size)


def _exact(message: str) -> str:
    return "^" + re.escape(message) + "$"


@pytest.fixture
def log() -> LogService:
    keys = ledger_log.new_keys()
    service = LogService(MemoryEventStore(), keys, FixedClock())
    ledger_log.submit_all(service, ledger_log.foundation(keys) + ledger_log.ledger())
    return service


def _service(log: LogService, secret: bytes = SECRET) -> LiabilitiesService:
    store = log.store
    assert isinstance(store, MemoryEventStore)
    return LiabilitiesService(
        log, store, secret, ledger_log.new_keys().log_signer, clock=FixedClock()
    )


def _published(log: LogService) -> Published:
    return Published({c.size: c.note for c in log.store.checkpoints(0, 1000)})


# What is owed ------------------------------------------------------------------------------------


def test_the_liabilities_are_the_credit_balances_of_the_four_purposes_by_owner(
    log: LogService,
) -> None:
    assert liabilities_of(log.state.ledger) == [
        ("alice", "EUR", 7_777),
        ("alice", "USD", 119_500),
        ("bob", "USD", 24_000),
        ("estate", "USD", 450_000),
        ("market", "USD", 1_000),
    ]
    assert {"fees", "funding", "rail_settlement", "holding_entity", "fx"} == (
        PURPOSES - LIABILITY_PURPOSES
    )


def test_a_reserved_withdrawal_is_still_owed_and_a_pending_deposit_not_yet() -> None:
    account = Account.of("erin", "USD", "creditor_available")
    account.credits_posted, account.debits_pending, account.credits_pending = 900, 300, 50
    ledger = LedgerState(accounts={account.id: account})
    assert liabilities_of(ledger) == [("erin", "USD", 900)]


def test_a_liability_account_with_more_debits_than_credits_refuses_the_snapshot() -> None:
    overdrawn = Account.of("erin", "USD", "claim_escrow")
    overdrawn.credits_posted, overdrawn.debits_posted = 100, 250
    rich = Account.of("erin", "USD", "creditor_available")
    rich.credits_posted = 1_000
    ledger = LedgerState(accounts={a.id: a for a in (overdrawn, rich)})
    with pytest.raises(LiabilityInputError) as refused:
        liabilities_of(ledger)
    assert str(refused.value) == (
        "account erin/USD/claim_escrow has a balance of -150 USD: more debits than credits, "
        "which a liability cannot have (it needs the debits_must_not_exceed_credits flag)"
    )


def test_owners_with_nothing_owed_have_no_leaf() -> None:
    empty = Account.of("erin", "USD", "creditor_available")
    fees = Account.of("operator", "USD", "fees")
    fees.credits_posted = 5
    assert liabilities_of(LedgerState(accounts={a.id: a for a in (empty, fees)})) == []


# Snapshots -------------------------------------------------------------------------------------


def test_a_snapshot_is_taken_at_a_checkpoint_published_for_it(log: LogService) -> None:
    service = _service(log)
    snapshot = service.snapshot()
    latest = log.store.latest_checkpoint()
    assert latest is not None
    assert latest.size == log.size == snapshot.statement.checkpoint_size
    statement = snapshot.statement
    assert (statement.origin, statement.snapshot_id) == (ORIGIN, str(log.size))
    assert statement.checkpoint_root == latest.root
    assert [(a.asset, a.total, a.leaf_count) for a in statement.assets] == [
        ("EUR", 7_777, 1),
        ("USD", 594_500, 4),
    ]
    record = service.latest()
    assert record is not None
    assert (record.id, record.checkpoint_size) == (str(log.size), log.size)
    assert record.statement_note == snapshot.statement_note
    assert record.public_json == snapshot.to_json().decode()
    assert record.created_at == "2026-11-25T12:00:00.000000Z"


def test_a_snapshot_again_without_new_events_is_the_same_snapshot(log: LogService) -> None:
    service = _service(log)
    first = service.snapshot()
    again = service.snapshot()
    assert again.statement_note == first.statement_note
    assert log.store.latest_checkpoint() == log.store.checkpoints(log.size, 1)[0]


def test_new_events_make_a_new_snapshot(log: LogService) -> None:
    service = _service(log)
    first = service.snapshot()
    ledger_log.submit_all(log, [(PublishDocument("doc-1", "One", "0" * 64, "text/plain"), "admin")])
    second = service.snapshot()
    assert second.statement.snapshot_id == str(first.statement.checkpoint_size + 1)
    record = service.latest()
    assert record is not None
    assert record.statement_note == second.statement_note


def test_proofs_are_served_from_the_latest_snapshot(log: LogService) -> None:
    service = _service(log)
    with pytest.raises(NoSnapshotError, match="no liabilities snapshot has been taken yet"):
        service.proof("alice", "USD")
    service.snapshot()
    proof = service.proof("alice", "USD")
    assert (proof["account"], proof["asset"], proof["balance"]) == ("alice", "USD", "119500")
    with pytest.raises(LiabilityNotFoundError):
        service.proof("carol", "USD")
    with pytest.raises(LiabilityNotFoundError):
        service.proof("bob", "EUR")


def test_after_a_restart_the_snapshot_is_rebuilt_byte_for_byte(log: LogService) -> None:
    taken = _service(log).snapshot()
    ledger_log.submit_all(log, [(PublishDocument("doc-1", "One", "0" * 64, "text/plain"), "admin")])
    restarted = _service(log)  # nothing in memory; the log has moved on since the snapshot
    for owner, asset, _ in liabilities_of(log.state.ledger):
        assert proof_to_json(restarted.proof(owner, asset)) == proof_to_json(
            taken.proof_for(owner, asset)
        )


def test_a_snapshot_that_another_secret_cannot_rebuild_is_refused(log: LogService) -> None:
    _service(log).snapshot()
    other = _service(log, hashlib.sha256(b"another secret").digest())
    with pytest.raises(SnapshotRebuildError) as refused:
        other.proof("alice", "USD")
    assert str(refused.value) == (
        f"stored snapshot {log.size} cannot be rebuilt: the ledger at checkpoint {log.size} "
        "gives another statement (was the liabilities secret or the log key changed?)"
    )


# The creditor's check ------------------------------------------------------------------------


def test_a_proof_checks_against_the_published_checkpoint(log: LogService) -> None:
    service = _service(log)
    service.snapshot()
    data = proof_to_json(service.proof("bob", "USD"))
    key = ledger_log.new_keys().log_signer.verifier
    verified = verify_liability_proof(data, key, _published(log))
    assert (verified.account_id, verified.balance, verified.total) == ("bob", 24_000, 594_500)
    assert verified.checkpoint_checked
    unchecked = verify_liability_proof(data, key, None)
    assert not unchecked.checkpoint_checked


def test_a_statement_naming_a_checkpoint_never_published_is_refused(log: LogService) -> None:
    keys = ledger_log.new_keys()
    size = log.size - 3  # a real tree head of the log, but no checkpoint was published at it
    assert size not in _published(log).notes
    forged = build_snapshot(
        liabilities_of(log.state.ledger), SECRET, "x1",
        Checkpoint(ORIGIN, size, log.store.root(size)), keys.log_signer,
    )  # fmt: skip
    data = proof_to_json(forged.proof_for("alice", "USD"))
    with pytest.raises(LiabilityProofError) as refused:
        verify_liability_proof(data, keys.log_signer.verifier, _published(log))
    assert refused.value.kind is LiabilityProofErrorKind.checkpoint_mismatch
    assert str(refused.value) == (
        f"statement of snapshot x1 names checkpoint {ORIGIN} {size}, but the test log has no "
        f"checkpoint of size {size}: the log never published it"
    )
    assert verify_liability_proof(data, keys.log_signer.verifier, None).balance == 119_500
