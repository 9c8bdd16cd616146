"""C2SP transparency-log checkpoints (c2sp.org/tlog-checkpoint): a signed note whose text is

    <origin>\\n<tree size>\\n<base64 root hash>\\n[<extension line>\\n ...]

- origin: non-empty, at most ``limits.origin_length_max_chars`` characters, no control
  characters (the log's key name SHOULD equal it; not enforced here);
- tree size: ASCII decimal with no sign and no leading zero (``0`` for the empty tree), at most
  ``limits.tree_size_max`` (uint64);
- root hash: canonical standard base64 (RFC 4648 §4) of exactly 32 bytes, the RFC 9162 root
  (SHA-256) of the tree at that size;
- extension lines: optional, opaque, each non-empty.

Invariants: ``parse_body(cp.body()) == cp`` for every ``Checkpoint``; a body has exactly one
spelling (``parse_body`` refuses every other), so the signed bytes identify the checkpoint.

Errors: ``CheckpointError`` (a ``ValueError``) with a ``reason`` (``CheckpointErrorReason``) and a
message naming what is wrong; a ``Checkpoint`` that breaks the rules above cannot be built.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NoReturn

from reclaim.core import limits
from reclaim.core.limits import tree_size_digits_max
from reclaim.log.keys import SignerKey, VerifierKey
from reclaim.log.note import (
    NoteMalformedError,
    NoteSignatureError,
    NoteUnverifiedError,
    open_note,
    sign_note,
)
from reclaim.log.reasons import ReasonError

ROOT_SIZE_BYTES: Final = 32
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x1f]")


class CheckpointErrorReason(StrEnum):
    """Why a checkpoint was refused, in the order the checks run."""

    malformed_note = "malformed_note"
    unknown_key = "unknown_key"
    bad_signature = "bad_signature"
    malformed_body = "malformed_body"
    origin_mismatch = "origin_mismatch"


class CheckpointError(ReasonError[CheckpointErrorReason]):
    """A checkpoint that cannot be accepted (or built)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's signed statement of its tree head: origin, tree size, root hash, extensions."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if len(self.origin) > limits.origin_length_max_chars:
            _malformed(
                f"origin is {len(self.origin)} characters, "
                f"more than {limits.origin_length_max_chars}"
            )
        if isinstance(self.size, bool) or not 0 <= self.size <= limits.tree_size_max:
            _malformed(f"tree size {self.size!r} is not in [0, 2**64 - 1]")
        if len(self.root) != ROOT_SIZE_BYTES:
            _malformed(f"root hash is {len(self.root)} bytes, not {ROOT_SIZE_BYTES}")
        for number, line in enumerate(self.extensions):
            _check_line(line, f"extension line {number + 1}")

    def body(self) -> str:
        """The note text: origin, size, base64 root, extension lines, each ending in newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(line + "\n" for line in [*lines, *self.extensions])


def parse_body(text: str) -> Checkpoint:
    """Parse a checkpoint body strictly (one spelling per checkpoint)."""
    if not text.endswith("\n"):
        _malformed("checkpoint body does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        _malformed(f"checkpoint body has {len(lines)} lines, not at least 3")
    origin, size_line, root_line, *extensions = lines
    return Checkpoint(origin, _parse_size(size_line), _parse_root(root_line), tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: SignerKey) -> str:
    """The checkpoint as a C2SP signed note, signed by ``signer``."""
    return sign_note(checkpoint.body(), [signer])


def open_checkpoint(
    note_text: str, verifier: VerifierKey, *, origin: str | None = None
) -> Checkpoint:
    """Verify ``note_text`` as a checkpoint signed by ``verifier`` and parse its body.

    Signatures by other keys are ignored (witness cosignatures, rotated keys). If ``origin`` is
    given, the checkpoint's origin must equal it.
    """
    try:
        verdict = open_note(note_text, [verifier])
    except NoteMalformedError as exc:
        raise CheckpointError(CheckpointErrorReason.malformed_note, str(exc)) from exc
    except NoteUnverifiedError as exc:
        raise CheckpointError(
            CheckpointErrorReason.unknown_key,
            f"checkpoint is not signed by {verifier.name}+{verifier.key_id.hex()}: {exc}",
        ) from exc
    except NoteSignatureError as exc:
        raise CheckpointError(CheckpointErrorReason.bad_signature, str(exc)) from exc
    checkpoint = parse_body(verdict.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(
            CheckpointErrorReason.origin_mismatch,
            f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}",
        )
    return checkpoint


def _parse_size(line: str) -> int:
    if len(line) > tree_size_digits_max or not _DECIMAL.fullmatch(line):
        _malformed(f"tree size {line!r} is not a decimal number without sign or leading zeros")
    size = int(line)
    if size > limits.tree_size_max:
        _malformed(f"tree size {line} is more than 2**64 - 1")
    return size


def _parse_root(line: str) -> bytes:
    try:
        root = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointError(
            CheckpointErrorReason.malformed_body, f"root hash {line!r} is not base64"
        ) from exc
    if base64.b64encode(root).decode() != line:
        _malformed(f"root hash {line!r} is not canonical base64")
    if len(root) != ROOT_SIZE_BYTES:
        _malformed(f"root hash is {len(root)} bytes, not {ROOT_SIZE_BYTES}")
    return root


def _check_line(line: str, what: str) -> None:
    if not line:
        _malformed(f"{what} is empty")
    control = _CONTROL.search(line)
    if control is not None:
        _malformed(f"{what} has control character U+{ord(control.group()):04X}")


def _malformed(message: str) -> NoReturn:
    raise CheckpointError(CheckpointErrorReason.malformed_body, message)
