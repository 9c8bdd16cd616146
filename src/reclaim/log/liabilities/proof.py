"""A creditor's proof as data: its JSON fields, its path steps, and reading a proof file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from reclaim.core.limits import integer_max
from reclaim.core.limits import liabilities_proof_size_max_bytes as proof_size_max_bytes
from reclaim.core.types import JsonValue
from reclaim.log import canonical
from reclaim.log.liabilities.errors import LiabilityProofErrorKind, refuse
from reclaim.log.liabilities.formats import (
    HASH_SIZE_BYTES,
    STEP_SIZE_BYTES,
    SUM_SIZE_BYTES,
    b64,
    unb64,
)


class LiabilityProof(TypedDict):
    """A proof as JSON data (see ``reclaim.log.liabilities``); what ``proof_for`` returns."""

    format: str
    statement: str
    account: str
    asset: str
    balance: str
    salt: str
    index: str
    path: list[str]


@dataclass(frozen=True, slots=True)
class PathStep:
    """One step of a proof's path: the sibling's hash and sum, and the parent's sum.

    Encoded as base64 of ``hash || u64be(sibling sum) || u64be(parent sum)``. ``decode`` reads
    the sums as *signed* 64-bit integers, so that a value of 2**63 or more (out of range) is
    seen for what it usually is, a negative amount in two's complement.
    """

    sibling_hash: bytes
    sibling_sum: int
    parent_sum: int

    def encode(self) -> str:
        assert len(self.sibling_hash) == HASH_SIZE_BYTES, "sibling hash is 32 bytes"
        assert 0 <= self.sibling_sum <= integer_max, "sibling sum is in range"
        assert 0 <= self.parent_sum <= integer_max, "parent sum is in range"
        record = (
            self.sibling_hash
            + self.sibling_sum.to_bytes(SUM_SIZE_BYTES, "big")
            + self.parent_sum.to_bytes(SUM_SIZE_BYTES, "big")
        )
        return b64(record)

    @classmethod
    def decode(cls, text: str) -> PathStep | None:
        """The step ``text`` encodes, or None if it is not canonical base64 of 48 bytes."""
        record = unb64(text)
        if record is None or len(record) != STEP_SIZE_BYTES:
            return None
        at = HASH_SIZE_BYTES
        sibling_sum = int.from_bytes(record[at : at + SUM_SIZE_BYTES], "big", signed=True)
        parent_sum = int.from_bytes(record[at + SUM_SIZE_BYTES :], "big", signed=True)
        return cls(record[:at], sibling_sum, parent_sum)


def proof_to_json(proof: Mapping[str, Any]) -> bytes:
    """A proof as canonical JSON bytes (the file a creditor downloads)."""
    return canonical.encode(proof)


def load_proof(data: bytes) -> dict[str, JsonValue]:
    """Parse a proof file: at most ``proof_size_max_bytes``, one JSON object, no duplicate
    keys (any JSON spacing is accepted; ``verify_proof`` checks the fields)."""
    if len(data) > proof_size_max_bytes:
        refuse(
            LiabilityProofErrorKind.proof_too_large,
            f"proof is {len(data)} bytes, more than {proof_size_max_bytes}",
        )
    try:
        value = json.loads(data.decode(), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        refuse(LiabilityProofErrorKind.malformed_proof, f"proof is not JSON: {exc}")
    if not isinstance(value, dict):
        refuse(LiabilityProofErrorKind.malformed_proof, "proof is not a JSON object")
    return value


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate object key")
    return out
