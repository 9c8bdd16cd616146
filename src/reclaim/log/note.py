"""C2SP signed notes (c2sp.org/signed-note, Go's ``golang.org/x/mod/sumdb/note``), Ed25519 only.

A signed note is its *text* (non-empty, ending in a newline), one blank line, then one or more
signature lines ``— <key name> <base64(4-byte key id || signature)>`` (U+2014 EM DASH, space).
The whole note is UTF-8 with no ASCII control characters other than newline. The text may hold
blank lines itself: it ends at the *last* blank line of the note. An Ed25519 signature is over
the text's UTF-8 bytes, final newline included.

Verification (C2SP signed-note, "Signatures"):

- a signature whose ``(key name, key id)`` matches no verifier is ignored (kept in
  ``NoteVerdict.unknown``), even if the name or the id alone matches one;
- a signature from a known key MUST verify, or the whole note is rejected;
- a note with no verified signature from a known key is rejected.

Invariants: ``open_note(sign_note(text, signers), verifiers)`` returns ``text`` for any
verifier among the signers; ``Note.parse(n).render() == n`` for every well-formed note ``n``
(base64 must be canonical, so a note has one spelling).

Limits: ``limits.note_size_max_bytes`` on the whole note, ``limits.note_signatures_max`` on
its signature lines (C2SP asks verifiers for a bound and to accept at least 16).

Errors (all ``NoteError``, a ``ValueError``):

- ``NoteMalformedError``: not a note of this format (or text that cannot be signed);
- ``NoteUnverifiedError``: well formed, but no signature from a known key;
- ``NoteSignatureError``: a signature from a known key does not verify.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from reclaim.core import limits
from reclaim.log.keys import KeyFormatError, SignerKey, VerifierKey, check_key_name

#: Start of a signature line: U+2014 EM DASH and a space.
SIGNATURE_PREFIX: Final = "\u2014 "
KEY_ID_SIZE_BYTES: Final = 4
ED25519_SIGNATURE_SIZE_BYTES: Final = 64

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A signed note that cannot be accepted."""


class NoteMalformedError(NoteError):
    """Text that is not a signed note of the C2SP form."""


class NoteUnverifiedError(NoteError):
    """A well-formed note with no signature from a known key."""


class NoteSignatureError(NoteError):
    """A signature from a known key that does not verify."""


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key id, and the signature bytes after the id."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def key_label(self) -> str:
        """``<name>+<hex key id>``, as in a verifier key."""
        return f"{self.name}+{self.key_id.hex()}"

    def line(self) -> str:
        """The signature line, newline included."""
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A note's text (ending in a newline) and its signatures, in the order of their lines."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        """The note as text: the text, a blank line, the signature lines."""
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    @classmethod
    def parse(cls, note_text: str) -> Note:
        """Parse without verifying; raises ``NoteMalformedError``."""
        _check_note_size(note_text)
        _check_characters(note_text, "note")
        split = note_text.rfind("\n\n")
        if split < 0:
            raise NoteMalformedError("note has no blank line between its text and signatures")
        text, block = note_text[: split + 1], note_text[split + 2 :]
        if not block:
            raise NoteMalformedError("note has no signature lines after its blank line")
        if not block.endswith("\n"):
            raise NoteMalformedError("note's last signature line does not end in a newline")
        lines = block[:-1].split("\n")
        if len(lines) > limits.note_signatures_max:
            raise NoteMalformedError(
                f"note has {len(lines)} signature lines, more than {limits.note_signatures_max}"
            )
        return cls(text, tuple(_parse_signature_line(n, line) for n, line in enumerate(lines)))


@dataclass(frozen=True, slots=True)
class NoteVerdict:
    """An accepted note: its text, the signatures verified by known keys (at least one, one per
    key), and the signatures by unknown keys, which were ignored."""

    text: str
    verified: tuple[NoteSignature, ...]
    unknown: tuple[NoteSignature, ...]


def sign_note(text: str, signers: Sequence[SignerKey]) -> str:
    """The signed note of ``text`` with one Ed25519 signature line per signer, in order.

    Raises ``NoteMalformedError`` if the text cannot be a note's text, and ``ValueError`` for no
    signers, too many, or two with the same name and key id.
    """
    check_note_text(text)
    if not signers:
        raise ValueError("a note needs at least one signer")
    if len(signers) > limits.note_signatures_max:
        raise ValueError(f"{len(signers)} signers, more than {limits.note_signatures_max}")
    labels = [(s.name, s.key_id) for s in signers]
    if len(set(labels)) != len(labels):
        raise ValueError("two signers share a key name and key id")
    message = text.encode()
    note = Note(
        text, tuple(NoteSignature(s.name, s.key_id, s.sign(message)) for s in signers)
    ).render()
    _check_note_size(note)
    return note


def open_note(note_text: str, verifiers: Sequence[VerifierKey]) -> NoteVerdict:
    """Parse ``note_text`` and verify it against ``verifiers`` (C2SP signed-note rules).

    Raises ``NoteMalformedError``, ``NoteSignatureError`` or ``NoteUnverifiedError``.
    """
    known = _index_verifiers(verifiers)
    note = Note.parse(note_text)
    message = note.text.encode()
    verified: dict[tuple[str, bytes], NoteSignature] = {}
    unknown = []
    for sig in note.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            unknown.append(sig)
            continue
        if len(sig.signature) != ED25519_SIGNATURE_SIZE_BYTES:
            raise NoteSignatureError(
                f"signature by {sig.key_label} is {len(sig.signature)} bytes, "
                f"not a {ED25519_SIGNATURE_SIZE_BYTES}-byte Ed25519 signature"
            )
        if not key.verify(sig.signature, message):
            raise NoteSignatureError(f"signature by {sig.key_label} does not verify")
        verified.setdefault((sig.name, sig.key_id), sig)
    if not verified:
        signed_by = ", ".join(s.key_label for s in note.signatures)
        known_keys = ", ".join(f"{n}+{i.hex()}" for n, i in sorted(known)) or "none"
        raise NoteUnverifiedError(
            f"note has no signature by a known key: signed by {signed_by}; known: {known_keys}"
        )
    return NoteVerdict(note.text, tuple(verified.values()), tuple(unknown))


def check_note_text(text: str) -> str:
    """A note's text is non-empty, ends in a newline, is UTF-8 with no control characters
    other than newline, and fits a note. Raises ``NoteMalformedError``."""
    if not text.endswith("\n"):
        raise NoteMalformedError("note text does not end in a newline")
    _check_note_size(text)
    _check_characters(text, "note text")
    return text


def _index_verifiers(verifiers: Sequence[VerifierKey]) -> dict[tuple[str, bytes], VerifierKey]:
    known: dict[tuple[str, bytes], VerifierKey] = {}
    for v in verifiers:
        other = known.setdefault((v.name, v.key_id), v)
        if other.public_key != v.public_key:
            raise ValueError(f"two verifier keys share name and key id {v.name}+{v.key_id.hex()}")
    return known


def _check_note_size(text: str) -> None:
    # A str of more characters than the bound has at least that many UTF-8 bytes: refuse it
    # before encoding anything.
    if len(text) > limits.note_size_max_bytes or (
        len(text.encode(errors="surrogatepass")) > limits.note_size_max_bytes
    ):
        raise NoteMalformedError(f"note is larger than {limits.note_size_max_bytes} bytes")


def _check_characters(text: str, what: str) -> None:
    control = _CONTROL.search(text)
    if control is not None:
        raise NoteMalformedError(
            f"{what} has control character U+{ord(control.group()):04X} at offset {control.start()}"
        )
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise NoteMalformedError(
            f"{what} is not valid UTF-8: lone surrogate at offset {exc.start}"
        ) from exc


def _parse_signature_line(number: int, line: str) -> NoteSignature:
    where = f"signature line {number + 1}"
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteMalformedError(f"{where} does not start with an em dash and a space")
    name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space:
        raise NoteMalformedError(f"{where} has no space between key name and signature")
    try:
        check_key_name(name)
    except KeyFormatError as exc:
        raise NoteMalformedError(f"{where}: {exc}") from exc
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteMalformedError(f"{where}: signature is not base64") from exc
    if base64.b64encode(raw).decode() != encoded:
        raise NoteMalformedError(f"{where}: signature is not canonical base64")
    if len(raw) <= KEY_ID_SIZE_BYTES:
        raise NoteMalformedError(
            f"{where}: signature is {len(raw)} bytes, not a 4-byte key id and a signature"
        )
    return NoteSignature(name, raw[:KEY_ID_SIZE_BYTES], raw[KEY_ID_SIZE_BYTES:])
