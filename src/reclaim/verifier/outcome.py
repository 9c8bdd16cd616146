"""What a verification finds: a ``VerifyReport``, or the first ``VerifyFailure`` and its kind.

``Failed`` carries a failure out of the checks that find it; ``verify_log`` catches it and
returns its ``failure`` (a log that does not verify is a finding, not an error).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from enum import StrEnum


class FailureKind(StrEnum):
    """What is wrong, in the order the checks run (see the ``reclaim.verifier`` docstring)."""

    source_error = "source_error"
    keys_malformed = "keys_malformed"
    untrusted_key = "untrusted_key"
    no_checkpoint = "no_checkpoint"
    checkpoint_invalid = "checkpoint_invalid"
    checkpoint_origin = "checkpoint_origin"
    checkpoint_order = "checkpoint_order"
    entries_missing = "entries_missing"
    bundle_misplaced = "bundle_misplaced"
    leaf_malformed = "leaf_malformed"
    seq_mismatch = "seq_mismatch"
    unknown_key = "unknown_key"
    signature_invalid = "signature_invalid"
    event_rejected = "event_rejected"
    authorisation_invalid = "authorisation_invalid"
    keys_disagree = "keys_disagree"
    root_mismatch = "root_mismatch"
    state_digest_mismatch = "state_digest_mismatch"
    consistency_proof_invalid = "consistency_proof_invalid"
    checkpoint_beyond_log = "checkpoint_beyond_log"
    events_uncovered = "events_uncovered"
    invariant_violated = "invariant_violated"


@dataclass(frozen=True, slots=True)
class VerifyFailure:
    """The log does not verify: the first thing found wrong, and where.

    ``seq`` is the event concerned (``None`` when the failure is not about one event),
    ``checkpoint`` the tree size of the checkpoint concerned, ``detail`` a sentence naming both
    and, for an event, the file and line (or request) it was read from.
    """

    kind: FailureKind
    seq: int | None
    detail: str
    checkpoint: int | None = None

    def __str__(self) -> str:
        return self.detail


class Failed(Exception):
    def __init__(self, kind: FailureKind, seq: int | None, detail: str, *,
                 checkpoint: int | None = None) -> None:  # fmt: skip
        super().__init__(detail)
        self.failure = VerifyFailure(kind, seq, detail, checkpoint)

    @classmethod
    def at_checkpoint(cls, kind: FailureKind, size: int, detail: str) -> Failed:
        """A failure about the checkpoint of tree size ``size``: ``checkpoint <size>: detail``."""
        return cls(kind, None, f"checkpoint {size}: {detail}", checkpoint=size)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What a successful verification established."""

    origin: str
    events: int
    checkpoints: int
    consistency_proofs: int
    root: bytes
    state_digest: bytes
    actors: int
    keys: int
    workers: int  # pool processes besides the calling one; 0: verified in the calling process
    elapsed_seconds: float
    #: Orders and cancels whose trader's own signature was checked (``authorisations``).
    authorisations: int = 0

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def __str__(self) -> str:
        plural = "es" if self.workers > 1 else ""
        where = f"with {self.workers} worker process{plural}" if self.workers else "in process"
        return (
            f"{self.origin}: {self.events:,} events, {self.checkpoints:,} signed checkpoints, "
            f"{self.consistency_proofs:,} consistency proofs; root {b64(self.root)}, "
            f"state {self.state_digest.hex()}; {self.actors:,} actors, {self.keys:,} keys; "
            f"{self.elapsed_seconds:.2f} s ({self.events_per_second:,.0f} events/s, {where})"
            + (f"; {self.authorisations:,} traders' signatures" if self.authorisations else "")
        )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
