"""Step 2: the signed checkpoints, each opened with the log key and put in order.

Every note is signed by the log key (``open_checkpoint``) and names the origin of
``keys.json``; sizes strictly increase and are not 0 (the genesis event comes first); each
carries the ``reclaim-state`` extension (``reclaim.log.digest``).
"""

from __future__ import annotations

from dataclasses import dataclass

from reclaim.log.checkpoint import CheckpointError, open_checkpoint
from reclaim.verifier.keys import KeySet
from reclaim.verifier.outcome import Failed, FailureKind


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    size: int
    root: bytes
    digest: bytes


def read_checkpoints(notes: list[str], key_set: KeySet) -> list[SignedCheckpoint]:
    from reclaim.log.digest import digest_from_extensions  # numpy: see Replay.__init__

    if not notes:
        raise Failed(FailureKind.no_checkpoint, None, "the source has no checkpoint")
    out: list[SignedCheckpoint] = []
    for number, note in enumerate(notes):
        label = _claimed_size(note, number)
        try:
            cp = open_checkpoint(note, key_set.log_key)
        except CheckpointError as exc:
            raise Failed(
                FailureKind.checkpoint_invalid, None, f"checkpoint {label}: {exc}"
            ) from exc
        if cp.origin != key_set.origin:
            raise Failed.at_checkpoint(
                FailureKind.checkpoint_origin,
                cp.size,
                f"origin {cp.origin!r} is not the log's {key_set.origin!r}",
            )
        if cp.size == 0:
            raise Failed.at_checkpoint(
                FailureKind.checkpoint_invalid, 0, "a checkpoint covers at least the genesis event"
            )
        if out and cp.size <= out[-1].size:
            raise Failed(
                FailureKind.checkpoint_order,
                None,
                f"checkpoint {cp.size} follows checkpoint {out[-1].size}: "
                "sizes must strictly increase",
                checkpoint=cp.size,
            )
        digest = digest_from_extensions(cp.extensions)
        if digest is None:
            raise Failed.at_checkpoint(
                FailureKind.checkpoint_invalid,
                cp.size,
                "no valid 'reclaim-state <hex>' extension line",
            )
        out.append(SignedCheckpoint(cp.size, cp.root, digest))
    return out


def _claimed_size(note: str, number: int) -> str:
    """How to name a checkpoint before its signature is checked: the size its text claims."""
    lines = note.split("\n", 2)
    claimed = lines[1] if len(lines) > 2 else ""
    if claimed.isdecimal() and len(claimed) <= 20:
        return claimed
    return f"#{number + 1} (of the source's list)"
