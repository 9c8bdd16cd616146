"""The creditor's side: check a proof offline, small and pure (no numpy, no operator secret).

The statement's signature by the log key, the checkpoint it names, the leaf, the path shape
(derived from the leaf's index and the leaf count, RFC 9162 §2.1.3.1), every sum's range, every
parent sum against its children, the root hash and the total; the first failure is raised as a
``LiabilityProofError`` naming it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from reclaim.core.limits import integer_max, liabilities_decimal_digits_max
from reclaim.core.limits import liabilities_proof_size_max_bytes as proof_size_max_bytes
from reclaim.log.checkpoint import Checkpoint
from reclaim.log.keys import VerifierKey
from reclaim.log.liabilities.errors import LiabilityProofErrorKind, refuse
from reclaim.log.liabilities.formats import (
    DECIMAL,
    PROOF_FORMAT,
    SALT_SIZE_BYTES,
    STEP_SIZE_BYTES,
    b64,
    unb64,
)
from reclaim.log.liabilities.hashing import leaf_hash, node_hash
from reclaim.log.liabilities.proof import PathStep
from reclaim.log.liabilities.statement import (
    LiabilitiesStatement,
    account_id_problem,
    open_statement,
)

_SIGNED_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")

_PROOF_KEYS: Final = frozenset({"format", "statement", "account", "asset", "balance", "salt"})
_PROOF_KEYS_ALL: Final = _PROOF_KEYS | {"index", "path"}


@dataclass(frozen=True, slots=True)
class VerifiedLiability:
    """What a verified proof shows: this balance is counted in this signed total."""

    account_id: str
    asset: str
    balance: int
    leaf_index: int
    total: int
    leaf_count: int
    snapshot_id: str
    origin: str
    checkpoint_size: int
    checkpoint_root: bytes
    #: True if the statement's checkpoint was compared with a published checkpoint.
    checkpoint_checked: bool


@dataclass(frozen=True, slots=True)
class _Step:
    """One path step, leaf upwards: the parent's leaf range, and where the sibling is."""

    lo: int
    hi: int
    sibling_lo: int
    sibling_hi: int
    sibling_is_left: bool

    def name(self, number: int) -> str:
        return f"path step {number} (node over leaves [{self.lo}, {self.hi}))"


def verify_proof(
    proof: Mapping[str, object], log_key: VerifierKey, published_checkpoint: Checkpoint | None
) -> VerifiedLiability:
    """Check a creditor's proof offline: the statement's signature by ``log_key``, that it
    names ``published_checkpoint`` (if given: the checkpoint the creditor obtained from the
    log), the leaf, the path shape, every sum's range, every parent sum against its children,
    the root hash and the total. Raises ``LiabilityProofError`` naming the first failure.
    """
    _check_size(proof)
    fields = _proof_fields(proof)
    statement = open_statement(fields["statement"], log_key)
    if published_checkpoint is not None:
        _check_checkpoint(statement, published_checkpoint)
    asset, account = fields["asset"], fields["account"]
    line = statement.asset(asset)
    if line is None:
        listed = ", ".join(a.asset for a in statement.assets) or "none"
        refuse(
            LiabilityProofErrorKind.asset_not_in_statement,
            f"asset {asset} is not in the statement of snapshot {statement.snapshot_id} "
            f"(assets: {listed})",
        )
    balance, salt, index = _leaf_values(fields)
    if index >= line.leaf_count:
        refuse(
            LiabilityProofErrorKind.index_out_of_range,
            f"leaf index {index} is not in the {line.leaf_count} {asset} leaves",
        )
    steps = _path_shape(index, line.leaf_count)
    entries = _path_entries(proof.get("path"), steps, index, line.leaf_count)
    h, s = _fold(leaf_hash(salt, account, asset, balance), balance, steps, entries)
    if h != line.root:
        refuse(
            LiabilityProofErrorKind.root_mismatch,
            f"{asset} leaf {index} of {account!r}: the path gives root {b64(h)}, "
            f"but the statement's {asset} root is {b64(line.root)}",
        )
    if s != line.total:
        refuse(
            LiabilityProofErrorKind.total_mismatch,
            f"{asset}: the root's children sum to {s}, but the statement's {asset} total is "
            f"{line.total}",
        )
    return VerifiedLiability(
        account,
        asset,
        balance,
        index,
        line.total,
        line.leaf_count,
        statement.snapshot_id,
        statement.origin,
        statement.checkpoint_size,
        statement.checkpoint_root,
        published_checkpoint is not None,
    )


def _check_size(proof: Mapping[str, object]) -> None:
    """The proof's size as compact JSON (what ``proof_to_json`` writes for a well-formed one)."""
    try:
        text = json.dumps(proof, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        size = len(text.encode())
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        refuse(LiabilityProofErrorKind.malformed_proof, f"proof is not JSON data: {exc}")
    if size > proof_size_max_bytes:
        refuse(
            LiabilityProofErrorKind.proof_too_large,
            f"proof is {size} bytes, more than {proof_size_max_bytes}",
        )


def _proof_fields(proof: Mapping[str, object]) -> dict[str, str]:
    keys = set(proof)
    if keys != _PROOF_KEYS_ALL:
        missing = ", ".join(sorted(_PROOF_KEYS_ALL - keys)) or "none"
        extra = ", ".join(sorted(keys - _PROOF_KEYS_ALL)) or "none"
        refuse(
            LiabilityProofErrorKind.malformed_proof,
            f"proof fields are wrong: missing {missing}; unexpected {extra}",
        )
    fields: dict[str, str] = {}
    for key in sorted(_PROOF_KEYS | {"index"}):
        value = proof[key]
        if not isinstance(value, str):
            refuse(LiabilityProofErrorKind.malformed_proof, f"proof {key} is not a string")
        fields[key] = value
    if fields["format"] != PROOF_FORMAT:
        refuse(
            LiabilityProofErrorKind.malformed_proof,
            f"proof format {fields['format']!r} is not {PROOF_FORMAT!r}",
        )
    return fields


def _check_checkpoint(statement: LiabilitiesStatement, published: Checkpoint) -> None:
    named = (statement.origin, statement.checkpoint_size, statement.checkpoint_root)
    if named != (published.origin, published.size, published.root):
        refuse(
            LiabilityProofErrorKind.checkpoint_mismatch,
            f"statement of snapshot {statement.snapshot_id} names checkpoint "
            f"{statement.origin} {statement.checkpoint_size} {b64(statement.checkpoint_root)}, "
            f"not the published checkpoint {published.origin} {published.size} "
            f"{b64(published.root)}",
        )


def _leaf_values(fields: dict[str, str]) -> tuple[int, bytes, int]:
    problem = account_id_problem(fields["account"])
    if problem is not None:
        refuse(LiabilityProofErrorKind.bad_leaf, f"leaf: {problem}")
    balance = _proof_sum(fields["balance"], "leaf balance")
    if balance == 0:
        refuse(LiabilityProofErrorKind.bad_leaf, "leaf balance is 0: zero balances have no leaf")
    salt = unb64(fields["salt"])
    if salt is None or len(salt) != SALT_SIZE_BYTES:
        refuse(
            LiabilityProofErrorKind.bad_leaf,
            f"leaf salt {fields['salt']!r} is not canonical base64 of {SALT_SIZE_BYTES} bytes",
        )
    index_word = fields["index"]
    if len(index_word) > liabilities_decimal_digits_max or not DECIMAL.fullmatch(index_word):
        refuse(
            LiabilityProofErrorKind.bad_leaf,
            f"leaf index {index_word!r} is not a decimal number without sign or leading zeros",
        )
    return balance, salt, int(index_word)


def _proof_sum(word: str, what: str) -> int:
    """A decimal sum, range-checked: a sign is parsed so that a negative is named as such."""
    if len(word) > liabilities_decimal_digits_max + 1 or not _SIGNED_DECIMAL.fullmatch(word):
        refuse(LiabilityProofErrorKind.malformed_proof, f"{what} {word!r} is not a decimal number")
    value = int(word)
    if value < 0:
        refuse(
            LiabilityProofErrorKind.sum_out_of_range,
            f"{what} {value} is negative: amounts are unsigned",
        )
    if value > integer_max:
        refuse(LiabilityProofErrorKind.sum_out_of_range, f"{what} {value} is more than 2**63 - 1")
    return value


def _path_shape(index: int, count: int) -> list[_Step]:
    """The steps of leaf ``index`` of ``count`` leaves, leaf upwards (RFC 9162 §2.1.3.1 PATH:
    at ``[lo, hi)`` split at the largest power of two below ``hi - lo``)."""
    steps = []
    lo, hi = 0, count
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if index < lo + k:
            steps.append(_Step(lo, hi, lo + k, hi, sibling_is_left=False))
            hi = lo + k
        else:
            steps.append(_Step(lo, hi, lo, lo + k, sibling_is_left=True))
            lo += k
    steps.reverse()
    return steps


def _path_entries(path: object, steps: list[_Step], index: int, count: int) -> list[PathStep]:
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        refuse(LiabilityProofErrorKind.malformed_proof, "proof path is not a list of strings")
    if len(path) != len(steps):
        refuse(
            LiabilityProofErrorKind.wrong_path_length,
            f"path has {len(path)} steps; leaf {index} of {count} leaves needs exactly "
            f"{len(steps)}",
        )
    parsed = []
    for number, (text, step) in enumerate(zip(path, steps, strict=True)):
        entry = PathStep.decode(text)
        if entry is None:
            refuse(
                LiabilityProofErrorKind.malformed_proof,
                f"path step {number} {text!r} is not canonical base64 of a "
                f"{STEP_SIZE_BYTES}-byte record",
            )
        _check_step_sum(entry.sibling_sum, f"{step.name(number)}: sibling sum")
        _check_step_sum(entry.parent_sum, f"{step.name(number)}: sum")
        parsed.append(entry)
    return parsed


def _check_step_sum(value: int, what: str) -> None:
    if value < 0:
        refuse(
            LiabilityProofErrorKind.sum_out_of_range,
            f"{what} {value + 2**64} is more than 2**63 - 1: it is {value} as a signed 64-bit "
            "integer, a negative amount",
        )


def _fold(h: bytes, s: int, steps: list[_Step], entries: list[PathStep]) -> tuple[bytes, int]:
    """Walk up: check each parent's sum against its children, then hash them (children's sums
    separately: the fix for the max attack)."""
    for number, (step, entry) in enumerate(zip(steps, entries, strict=True)):
        children = s + entry.sibling_sum
        if children > integer_max:
            refuse(
                LiabilityProofErrorKind.sum_out_of_range,
                f"{step.name(number)}: its children sum to {children}, more than 2**63 - 1",
            )
        if step.sibling_is_left:
            left, right = (entry.sibling_hash, entry.sibling_sum), (h, s)
        else:
            left, right = (h, s), (entry.sibling_hash, entry.sibling_sum)
        if entry.parent_sum != children:
            refuse(
                LiabilityProofErrorKind.node_sum_mismatch,
                f"{step.name(number)}: its sum is {entry.parent_sum}, but its children sum to "
                f"{left[1]} + {right[1]} = {children}",
            )
        h, s = node_hash(*left, *right), children
    return h, s
