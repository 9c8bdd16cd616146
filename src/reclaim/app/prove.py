"""Inclusion proofs a third party can check alone: one event, one signed checkpoint, one path.

``inclusion_proof_document(store, seq)`` builds the document (JSON-ready, integers as decimal
text, hashes as base64)::

    {"origin": ..., "index": "<seq>", "size": "<tree size>",
     "leaf": "<the event's canonical leaf bytes, as text>",
     "leaf_hash": b64, "proof": [b64, ...], "root": b64,
     "checkpoint": "<the signed checkpoint note of that size>"}

It proves against the latest checkpoint that covers ``seq`` (or the checkpoint of the ``size``
asked for): a proof against a signed size is what an outsider can trust, a proof against an
unsigned size is not.

``check_inclusion_document(doc, log_key)`` checks it with nothing else than the log's verifier
key: the checkpoint's signature (``open_checkpoint``), that origin, size and root are the
checkpoint's, that the leaf is a well-formed event at that index and hashes to ``leaf_hash``
(RFC 9162: SHA-256(0x00 || leaf)), and that the proof leads from it to the signed root
(``merkle.verify_inclusion``, RFC 9162 §2.1.3.2). It does not check the event's own signature:
that needs the actor's key, which the full verifier (``reclaim.verifier``) checks.

Errors: ``ProofRequestError`` when no such proof can be built (the seq is not covered by a
checkpoint, no checkpoint has the size asked for); ``ProofCheckError`` with a ``reason``
(``ProofCheckReason``) when a document does not check out.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from enum import StrEnum

from reclaim.app.ports import EventStore, StoredCheckpoint
from reclaim.core.types import JsonValue
from reclaim.log.checkpoint import CheckpointError, open_checkpoint
from reclaim.log.event import EventFormatError, parse_leaf
from reclaim.log.keys import VerifierKey
from reclaim.log.merkle import ProofError, leaf_hash, verify_inclusion
from reclaim.log.reasons import ReasonError

DOCUMENT_FIELDS = frozenset(
    {"origin", "index", "size", "leaf", "leaf_hash", "proof", "root", "checkpoint"}
)


class ProofRequestError(LookupError):
    """No inclusion proof can be built for what was asked."""


class ProofCheckReason(StrEnum):
    """Why a proof document was refused, in the order the checks run."""

    malformed = "malformed"
    checkpoint_invalid = "checkpoint_invalid"
    checkpoint_mismatch = "checkpoint_mismatch"
    leaf_invalid = "leaf_invalid"
    leaf_hash_mismatch = "leaf_hash_mismatch"
    proof_invalid = "proof_invalid"


class ProofCheckError(ReasonError[ProofCheckReason]):
    """An inclusion proof document that does not check out."""


def inclusion_proof_document(
    store: EventStore, seq: int, size: int | None = None
) -> dict[str, JsonValue]:
    """The inclusion proof of event ``seq`` against a signed checkpoint (see the module doc)."""
    checkpoint = _checkpoint_for(store, seq, size)
    (leaf,) = store.leaves(seq, seq + 1)
    proof = store.inclusion_proof(seq, checkpoint.size)
    origin = checkpoint.note.split("\n", 1)[0]
    return {
        "origin": origin,
        "index": str(seq),
        "size": str(checkpoint.size),
        "leaf": leaf.decode("utf-8"),
        "leaf_hash": _b64(leaf_hash(leaf)),
        "proof": [_b64(h) for h in proof],
        "root": _b64(checkpoint.root),
        "checkpoint": checkpoint.note,
    }


def _checkpoint_for(store: EventStore, seq: int, size: int | None) -> StoredCheckpoint:
    if seq < 0:
        raise ProofRequestError(f"seq {seq} is negative")
    if size is None:
        latest = store.latest_checkpoint()
        if latest is None or latest.size <= seq:
            covered = latest.size if latest else 0
            raise ProofRequestError(
                f"seq {seq} is not covered by a checkpoint yet (the latest covers {covered})"
            )
        return latest
    found = store.checkpoints(size, 1)
    if not found or found[0].size != size:
        raise ProofRequestError(f"no checkpoint has size {size}")
    if size <= seq:
        raise ProofRequestError(f"seq {seq} is not in the tree of checkpoint {size}")
    return found[0]


@dataclass(frozen=True, slots=True)
class _Document:
    origin: str
    index: int
    size: int
    leaf: bytes
    leaf_hash: bytes
    proof: list[bytes]
    root: bytes
    checkpoint: str


def check_inclusion_document(doc: dict[str, JsonValue], log_key: VerifierKey) -> None:
    """Check a proof document against the log key; raise ``ProofCheckError`` if it fails."""
    d = _read_document(doc)
    try:
        checkpoint = open_checkpoint(d.checkpoint, log_key)
    except CheckpointError as exc:
        raise ProofCheckError(ProofCheckReason.checkpoint_invalid, f"checkpoint: {exc}") from exc
    for name, ours, signed in (
        ("origin", d.origin, checkpoint.origin),
        ("size", d.size, checkpoint.size),
        ("root", d.root, checkpoint.root),
    ):
        if ours != signed:
            raise ProofCheckError(
                ProofCheckReason.checkpoint_mismatch,
                f"{name} {_show(ours)} is not the signed checkpoint's {_show(signed)}",
            )
    try:
        logged = parse_leaf(d.leaf)
    except EventFormatError as exc:
        raise ProofCheckError(ProofCheckReason.leaf_invalid, f"leaf: {exc}") from exc
    if logged.seq != d.index:
        raise ProofCheckError(
            ProofCheckReason.leaf_invalid, f"leaf has seq {logged.seq}, not index {d.index}"
        )
    computed = leaf_hash(d.leaf)
    if computed != d.leaf_hash:
        raise ProofCheckError(
            ProofCheckReason.leaf_hash_mismatch,
            f"leaf hashes to {_b64(computed)}, not leaf_hash {_b64(d.leaf_hash)}",
        )
    try:
        verify_inclusion(computed, d.index, d.size, d.proof, checkpoint.root)
    except ProofError as exc:
        raise ProofCheckError(ProofCheckReason.proof_invalid, str(exc)) from exc


def _read_document(doc: dict[str, JsonValue]) -> _Document:
    """The document's fields, decoded; its shape checked."""
    if not isinstance(doc, dict) or set(doc) != DOCUMENT_FIELDS:
        keys = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise ProofCheckError(
            ProofCheckReason.malformed, f"fields {keys} are not {sorted(DOCUMENT_FIELDS)}"
        )
    text = {name: _text(doc[name], name) for name in sorted(DOCUMENT_FIELDS - {"proof"})}
    proof = doc["proof"]
    if not isinstance(proof, list):
        raise ProofCheckError(ProofCheckReason.malformed, "proof is not a list")
    return _Document(
        origin=text["origin"],
        index=_decimal(text["index"], "index"),
        size=_decimal(text["size"], "size"),
        leaf=text["leaf"].encode("utf-8"),
        leaf_hash=_hash(text["leaf_hash"], "leaf_hash"),
        proof=[_hash(_text(h, f"proof[{n}]"), f"proof[{n}]") for n, h in enumerate(proof)],
        root=_hash(text["root"], "root"),
        checkpoint=text["checkpoint"],
    )


def _text(value: JsonValue, name: str) -> str:
    if not isinstance(value, str):
        raise ProofCheckError(ProofCheckReason.malformed, f"{name} is not text")
    return value


def _decimal(text: str, name: str) -> int:
    if not text.isascii() or not text.isdecimal() or (len(text) > 1 and text[0] == "0"):
        raise ProofCheckError(ProofCheckReason.malformed, f"{name} {text!r} is not decimal")
    return int(text)


def _hash(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProofCheckError(ProofCheckReason.malformed, f"{name} {text!r} is not base64") from exc


def _show(value: object) -> str:
    return _b64(value) if isinstance(value, bytes) else repr(value)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
