"""Inclusion proof documents: built from the store, checked with the log key alone.

The log (memory store): a genesis and 249 documents, with checkpoints at 100 and 250.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Final

import pytest

from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.log_service import KeyRing, LogService
from reclaim.app.ports import EventStore
from reclaim.app.prove import (
    ProofCheckError,
    ProofCheckReason,
    ProofRequestError,
    check_inclusion_document,
    inclusion_proof_document,
)
from reclaim.core.machine import Command, Genesis, PublishDocument
from reclaim.core.rejections import Rejection
from reclaim.core.types import JsonValue
from reclaim.log import canonical
from reclaim.log.checkpoint import parse_body, sign_checkpoint
from reclaim.log.keys import SignerKey
from reclaim.log.merkle import leaf_hash
from reclaim.log.note import Note

ORIGIN: Final = "reclaim.test/prove"
ADMIN: Final = SignerKey.from_seed("admin", b"\x21" * 32)
LOG_KEY: Final = SignerKey.from_seed(ORIGIN, b"\x22" * 32)
ATTACKER: Final = SignerKey.from_seed(ORIGIN, b"\x23" * 32)


class StepClock:
    def __init__(self) -> None:
        self._now = datetime(2026, 11, 25, tzinfo=UTC)

    def now(self) -> datetime:
        self._now += timedelta(seconds=1)
        return self._now


@pytest.fixture(scope="module")
def store() -> EventStore:
    store = MemoryEventStore()
    service = LogService(store, KeyRing(LOG_KEY, {"admin": ADMIN}), StepClock())
    todo: list[tuple[Command, str]] = [
        (Genesis(ORIGIN, "admin", ADMIN.verifier.to_text(), LOG_KEY.verifier.to_text()), "admin")
    ]
    for n in range(249):
        sha = hashlib.sha256(str(n).encode()).hexdigest()
        todo.append((PublishDocument(f"doc-{n}", f"Document {n}", sha, "text/plain"), "admin"))
    for start, end in ((0, 100), (100, 250)):
        assert not [o for o in service.submit_many(todo[start:end]) if isinstance(o, Rejection)]
        service.publish_checkpoint()
    return store


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_the_document_of_an_event(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    latest = store.latest_checkpoint()
    assert latest is not None
    (leaf,) = store.leaves(42, 43)
    assert doc == {
        "origin": ORIGIN,
        "index": "42",
        "size": "250",
        "leaf": leaf.decode(),
        "leaf_hash": b64(leaf_hash(leaf)),
        "proof": [b64(h) for h in store.inclusion_proof(42, 250)],
        "root": b64(store.root(250)),
        "checkpoint": latest.note,
    }
    check_inclusion_document(doc, LOG_KEY.verifier)


def test_round_trips_through_json_and_canonical_bytes(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 0)
    text = json.dumps(doc)
    again = json.loads(text)
    assert again == doc
    check_inclusion_document(again, LOG_KEY.verifier)
    assert canonical.decode(canonical.encode(doc)) == doc


@pytest.mark.parametrize("seq", [0, 1, 99, 100, 127, 128, 248, 249])
def test_every_position_proves_against_the_latest_checkpoint(store: EventStore, seq: int) -> None:
    check_inclusion_document(inclusion_proof_document(store, seq), LOG_KEY.verifier)


def test_a_proof_against_an_earlier_checkpoint(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 99, size=100)
    assert (doc["size"], doc["root"]) == ("100", b64(store.root(100)))
    check_inclusion_document(doc, LOG_KEY.verifier)


@pytest.mark.parametrize(
    ("seq", "size", "message"),
    [
        (250, None, "seq 250 is not covered by a checkpoint yet (the latest covers 250)"),
        (5, 150, "no checkpoint has size 150"),
        (100, 100, "seq 100 is not in the tree of checkpoint 100"),
        (-1, None, "seq -1 is negative"),
    ],
)
def test_requests_that_have_no_proof(
    store: EventStore, seq: int, size: int | None, message: str
) -> None:
    with pytest.raises(ProofRequestError) as caught:
        inclusion_proof_document(store, seq, size)
    assert str(caught.value) == message


def refused(doc: dict[str, JsonValue]) -> ProofCheckError:
    with pytest.raises(ProofCheckError) as caught:
        check_inclusion_document(doc, LOG_KEY.verifier)
    return caught.value


def test_a_tampered_leaf(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    leaf = str(doc["leaf"]).replace("Document 41", "Document 14")
    error = refused(doc | {"leaf": leaf})
    assert error.reason == ProofCheckReason.leaf_hash_mismatch
    assert str(error) == (
        f"leaf hashes to {b64(leaf_hash(leaf.encode()))}, not leaf_hash {doc['leaf_hash']}"
    )


def test_a_tampered_leaf_with_its_hash_recomputed(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    leaf = str(doc["leaf"]).replace("Document 41", "Document 14")
    error = refused(doc | {"leaf": leaf, "leaf_hash": b64(leaf_hash(leaf.encode()))})
    assert error.reason == ProofCheckReason.proof_invalid
    assert str(error).startswith("inclusion proof for leaf 42 of a tree of size 250 gives root ")


def test_a_leaf_at_another_index(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    error = refused(doc | {"index": "43"})
    assert (error.reason, str(error)) == (
        ProofCheckReason.leaf_invalid, "leaf has seq 42, not index 43",
    )  # fmt: skip


def test_a_leaf_that_is_not_an_event(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    error = refused(doc | {"leaf": "{}"})
    assert error.reason == ProofCheckReason.leaf_invalid
    assert str(error).startswith("leaf: fields missing ['actor', ")


def test_a_flipped_proof_hash(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    proof = [str(h) for h in doc["proof"]]  # type: ignore[union-attr]
    first = base64.b64decode(proof[0])
    proof[0] = b64(bytes([first[0] ^ 0x80]) + first[1:])
    error = refused(doc | {"proof": list[JsonValue](proof)})
    assert error.reason == ProofCheckReason.proof_invalid
    assert str(error).startswith("inclusion proof for leaf 42 of a tree of size 250 gives root ")


def test_a_proof_with_a_hash_too_few(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    proof = list(doc["proof"])  # type: ignore[arg-type]
    error = refused(doc | {"proof": proof[:-1]})
    assert (error.reason, str(error)) == (
        ProofCheckReason.proof_invalid,
        f"inclusion proof has {len(proof) - 1} hashes; leaf 42 of a tree of size 250 needs "
        f"exactly {len(proof)}",
    )


def test_a_checkpoint_re_signed_by_another_key(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    checkpoint = parse_body(Note.parse(str(doc["checkpoint"])).text)
    error = refused(doc | {"checkpoint": sign_checkpoint(checkpoint, ATTACKER)})
    assert error.reason == ProofCheckReason.checkpoint_invalid
    assert str(error).startswith(
        f"checkpoint: checkpoint is not signed by {ORIGIN}+{LOG_KEY.key_id.hex()}: "
    )


def test_a_root_that_is_not_the_checkpoint_s(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    error = refused(doc | {"root": b64(store.root(100))})
    assert (error.reason, str(error)) == (
        ProofCheckReason.checkpoint_mismatch,
        f"root {b64(store.root(100))} is not the signed checkpoint's {b64(store.root(250))}",
    )


def test_a_size_that_is_not_the_checkpoint_s(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    error = refused(doc | {"size": "100"})
    assert (error.reason, str(error)) == (
        ProofCheckReason.checkpoint_mismatch, "size 100 is not the signed checkpoint's 250",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"index": "042"}, "index '042' is not decimal"),
        ({"size": 250}, "size is not text"),
        ({"root": "not base64!"}, "root 'not base64!' is not base64"),
        ({"proof": "AAAA"}, "proof is not a list"),
    ],
)
def test_malformed_documents(store: EventStore, change: dict[str, JsonValue], message: str) -> None:
    error = refused(inclusion_proof_document(store, 42) | change)
    assert (error.reason, str(error)) == (ProofCheckReason.malformed, message)


def test_a_document_with_a_missing_field(store: EventStore) -> None:
    doc = inclusion_proof_document(store, 42)
    del doc["origin"]
    error = refused(doc)
    assert error.reason == ProofCheckReason.malformed
    assert str(error) == (
        "fields ['checkpoint', 'index', 'leaf', 'leaf_hash', 'proof', 'root', 'size'] are not "
        "['checkpoint', 'index', 'leaf', 'leaf_hash', 'origin', 'proof', 'root', 'size']"
    )
