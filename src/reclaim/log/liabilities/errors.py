"""The errors of proof of liabilities (see ``reclaim.log.liabilities``, "Errors")."""

from __future__ import annotations

from enum import StrEnum
from typing import NoReturn


class LiabilityInputError(ValueError):
    """Liabilities that cannot be committed to (the operator's data is wrong)."""


class LiabilityNotFoundError(LookupError):
    """No liability of that account in that asset in the snapshot."""


class LiabilityProofErrorKind(StrEnum):
    """Why a proof or statement was refused, in the order the checks run."""

    proof_too_large = "proof_too_large"
    malformed_proof = "malformed_proof"
    malformed_statement = "malformed_statement"
    unknown_key = "unknown_key"
    bad_signature = "bad_signature"
    checkpoint_mismatch = "checkpoint_mismatch"
    asset_not_in_statement = "asset_not_in_statement"
    bad_leaf = "bad_leaf"
    index_out_of_range = "index_out_of_range"
    wrong_path_length = "wrong_path_length"
    sum_out_of_range = "sum_out_of_range"
    node_sum_mismatch = "node_sum_mismatch"
    root_mismatch = "root_mismatch"
    total_mismatch = "total_mismatch"


class LiabilityProofError(ValueError):
    """A proof of liability (or a statement) that does not verify."""

    def __init__(self, kind: LiabilityProofErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def refuse(kind: LiabilityProofErrorKind, message: str) -> NoReturn:
    raise LiabilityProofError(kind, message)
