"""Checkpoints (C2SP tlog-checkpoint) and the signed notes that carry them (C2SP signed-note).

Every refusal has a case here with its exact message.
"""

from __future__ import annotations

import base64
import re

import pytest

from reclaim.core import limits
from reclaim.log.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointErrorReason,
    open_checkpoint,
    parse_body,
    sign_checkpoint,
)
from reclaim.log.keys import SignerKey
from reclaim.log.merkle import EMPTY_ROOT, leaf_hash
from reclaim.log.note import (
    Note,
    NoteMalformedError,
    NoteSignature,
    NoteSignatureError,
    NoteUnverifiedError,
    open_note,
    sign_note,
)

LOG = SignerKey.from_seed("example.com/reclaim", bytes(32))
OTHER = SignerKey.from_seed("example.com/other", bytes([1]) * 32)
#: Same name as LOG, different key (and so a different key id).
IMPOSTOR = SignerKey.from_seed("example.com/reclaim", bytes([2]) * 32)

ROOT = leaf_hash(b"reclaim")
ROOT_B64 = base64.b64encode(ROOT).decode()
CHECKPOINT = Checkpoint("example.com/reclaim", 1234, ROOT)


def _exact(message: str) -> str:
    return "^" + re.escape(message) + "$"


# Checkpoint bodies ----------------------------------------------------------------------------


def test_body_is_exact() -> None:
    assert CHECKPOINT.body() == f"example.com/reclaim\n1234\n{ROOT_B64}\n"
    empty = Checkpoint("example.com/reclaim", 0, EMPTY_ROOT)
    assert empty.body() == "example.com/reclaim\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    assert parse_body(empty.body()) == empty


def test_signed_checkpoint_round_trips() -> None:
    note = sign_checkpoint(CHECKPOINT, LOG)
    assert note.startswith(CHECKPOINT.body() + "\n\u2014 example.com/reclaim ")
    assert open_checkpoint(note, LOG.verifier) == CHECKPOINT
    assert open_checkpoint(note, LOG.verifier, origin="example.com/reclaim") == CHECKPOINT
    # Ed25519 is deterministic: the same checkpoint gives the same note.
    assert sign_checkpoint(CHECKPOINT, LOG) == note


def test_extension_lines_round_trip() -> None:
    checkpoint = Checkpoint("example.com/reclaim", 2**64 - 1, ROOT, ("ext one", "— two +"))
    body = checkpoint.body()
    assert body == f"example.com/reclaim\n18446744073709551615\n{ROOT_B64}\next one\n— two +\n"
    assert parse_body(body) == checkpoint
    assert open_checkpoint(sign_checkpoint(checkpoint, LOG), LOG.verifier) == checkpoint


R = ROOT_B64
NOT_DECIMAL = "is not a decimal number without sign or leading zeros"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"o\n1\n{R}", "checkpoint body does not end in a newline"),
        ("o\n1\n", "checkpoint body has 2 lines, not at least 3"),
        ("\n", "checkpoint body has 1 lines, not at least 3"),
        (f"\n1\n{R}\n", "origin is empty"),
        (f"{'o' * 256}\n1\n{R}\n", "origin is 256 characters, more than 255"),
        (f"o\tx\n1\n{R}\n", "origin has control character U+0009"),
        (f"o\n01\n{R}\n", f"tree size '01' {NOT_DECIMAL}"),
        (f"o\n00\n{R}\n", f"tree size '00' {NOT_DECIMAL}"),
        (f"o\n-1\n{R}\n", f"tree size '-1' {NOT_DECIMAL}"),
        (f"o\n+1\n{R}\n", f"tree size '+1' {NOT_DECIMAL}"),
        (f"o\n 1\n{R}\n", f"tree size ' 1' {NOT_DECIMAL}"),
        (f"o\n1.0\n{R}\n", f"tree size '1.0' {NOT_DECIMAL}"),
        (f"o\n1_000\n{R}\n", f"tree size '1_000' {NOT_DECIMAL}"),
        (f"o\n\n{R}\n", f"tree size '' {NOT_DECIMAL}"),
        (f"o\n\u0661\n{R}\n", f"tree size '\u0661' {NOT_DECIMAL}"),
        (f"o\n{'9' * 21}\n{R}\n", f"tree size '{'9' * 21}' {NOT_DECIMAL}"),
        (f"o\n{2**64}\n{R}\n", "tree size 18446744073709551616 is more than 2**64 - 1"),
        ("o\n1\nnot base64!\n", "root hash 'not base64!' is not base64"),
        (f"o\n1\n{R[:-1]}\n", f"root hash {R[:-1]!r} is not base64"),
        (f"o\n1\n {R}\n", f"root hash ' {R}' is not base64"),
        (f"o\n1\n{R[:-2]}V=\n", f"root hash '{R[:-2]}V=' is not canonical base64"),
        ("o\n1\nAAAA\n", "root hash is 3 bytes, not 32"),
        (f"o\n1\n{base64.b64encode(bytes(33)).decode()}\n", "root hash is 33 bytes, not 32"),
        (f"o\n1\n{R}\n\n", "extension line 1 is empty"),
        (f"o\n1\n{R}\nok\n\n", "extension line 2 is empty"),
        (f"o\n1\n{R}\nbad\rline\n", "extension line 1 has control character U+000D"),
    ],
)
def test_strict_body_parsing(body: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=_exact(message)) as exc:
        parse_body(body)
    assert exc.value.reason is CheckpointErrorReason.malformed_body


def test_a_checkpoint_breaking_the_rules_cannot_be_built() -> None:
    with pytest.raises(CheckpointError, match=_exact("tree size -1 is not in [0, 2**64 - 1]")):
        Checkpoint("o", -1, ROOT)
    with pytest.raises(CheckpointError, match=_exact("tree size True is not in [0, 2**64 - 1]")):
        Checkpoint("o", True, ROOT)
    with pytest.raises(CheckpointError, match=_exact("root hash is 31 bytes, not 32")):
        Checkpoint("o", 1, ROOT[:31])
    with pytest.raises(CheckpointError, match=_exact("origin has control character U+000A")):
        Checkpoint("o\n2", 1, ROOT)
    with pytest.raises(
        CheckpointError, match=_exact("extension line 1 has control character U+000A")
    ):
        Checkpoint("o", 1, ROOT, ("a\nb",))


# Opening signed checkpoints -------------------------------------------------------------------


def test_signed_by_another_key() -> None:
    note = sign_checkpoint(CHECKPOINT, OTHER)
    with pytest.raises(
        CheckpointError,
        match=_exact(
            f"checkpoint is not signed by example.com/reclaim+{LOG.key_id.hex()}: "
            "note has no signature by a known key: "
            f"signed by example.com/other+{OTHER.key_id.hex()}; "
            f"known: example.com/reclaim+{LOG.key_id.hex()}"
        ),
    ) as exc:
        open_checkpoint(note, LOG.verifier)
    assert exc.value.reason is CheckpointErrorReason.unknown_key


def test_signed_by_a_key_with_the_same_name_is_unknown() -> None:
    note = sign_checkpoint(CHECKPOINT, IMPOSTOR)
    with pytest.raises(CheckpointError, match=r"^checkpoint is not signed by ") as exc:
        open_checkpoint(note, LOG.verifier)
    assert exc.value.reason is CheckpointErrorReason.unknown_key


def test_cosignatures_by_other_keys_are_ignored() -> None:
    note = sign_note(CHECKPOINT.body(), [OTHER, LOG, IMPOSTOR])
    assert open_checkpoint(note, LOG.verifier) == CHECKPOINT


def test_changed_body_is_a_bad_signature() -> None:
    note = sign_checkpoint(CHECKPOINT, LOG).replace("\n1234\n", "\n1235\n")
    with pytest.raises(
        CheckpointError,
        match=_exact(f"signature by example.com/reclaim+{LOG.key_id.hex()} does not verify"),
    ) as exc:
        open_checkpoint(note, LOG.verifier)
    assert exc.value.reason is CheckpointErrorReason.bad_signature


def test_malformed_note() -> None:
    with pytest.raises(
        CheckpointError, match=_exact("note has no blank line between its text and signatures")
    ) as exc:
        open_checkpoint(CHECKPOINT.body(), LOG.verifier)
    assert exc.value.reason is CheckpointErrorReason.malformed_note


def test_signed_malformed_body() -> None:
    note = sign_note("example.com/reclaim\n01\n" + ROOT_B64 + "\n", [LOG])
    with pytest.raises(CheckpointError, match=r"^tree size '01' is not a decimal") as exc:
        open_checkpoint(note, LOG.verifier)
    assert exc.value.reason is CheckpointErrorReason.malformed_body


def test_origin_mismatch() -> None:
    with pytest.raises(
        CheckpointError,
        match=_exact("checkpoint origin 'example.com/reclaim' is not the expected 'other.org/log'"),
    ) as exc:
        open_checkpoint(sign_checkpoint(CHECKPOINT, LOG), LOG.verifier, origin="other.org/log")
    assert exc.value.reason is CheckpointErrorReason.origin_mismatch


# The signed-note layer ------------------------------------------------------------------------

TEXT = "If you think cryptography is the answer to your problem,\n\nthen think again.\n"


def _line(signer: SignerKey, text: str = TEXT) -> str:
    encoded = base64.b64encode(signer.key_id + signer.sign(text.encode())).decode()
    return f"\u2014 {signer.name} {encoded}\n"


def test_note_round_trip() -> None:
    note = sign_note(TEXT, [LOG, OTHER])
    assert note == TEXT + "\n" + _line(LOG) + _line(OTHER)
    assert Note.parse(note).render() == note
    for key in (LOG, OTHER):
        verdict = open_note(note, [key.verifier])
        assert verdict.text == TEXT
        assert [s.key_label for s in verdict.verified] == [f"{key.name}+{key.key_id.hex()}"]
        assert len(verdict.unknown) == 1
    both = open_note(note, [OTHER.verifier, LOG.verifier])
    assert [s.name for s in both.verified] == ["example.com/reclaim", "example.com/other"]
    assert both.unknown == ()


def test_note_text_may_end_in_blank_lines() -> None:
    text = "a\n\n"
    note = sign_note(text, [LOG])
    assert note == "a\n\n\n" + _line(LOG, text)
    assert open_note(note, [LOG.verifier]).text == text


def test_duplicate_signature_lines_from_a_known_key_count_once() -> None:
    note = TEXT + "\n" + _line(LOG) + _line(LOG)
    assert len(open_note(note, [LOG.verifier]).verified) == 1


def test_signature_lines_are_bounded() -> None:
    signatures = (NoteSignature("k", b"\x00\x00\x00\x00", b"s"),) * limits.note_signatures_max
    assert len(Note.parse(Note(TEXT, signatures).render()).signatures) == 100
    too_many = Note(TEXT, (*signatures, signatures[0])).render()
    with pytest.raises(
        NoteMalformedError, match=_exact("note has 101 signature lines, more than 100")
    ):
        Note.parse(too_many)


SIG = base64.b64encode(LOG.key_id + LOG.sign(TEXT.encode())).decode()
LINE = f"\u2014 example.com/reclaim {SIG}\n"
BAD_NAME = "is empty or has white space or '+'"
TOO_SHORT = "not a 4-byte key id and a signature"
BIG = limits.note_size_max_bytes
ANY_SIG = "\n\n\u2014 k AAAAAAA=\n"


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("no blank line\n" + LINE, "note has no blank line between its text and signatures"),
        # TEXT holds a blank line of its own: the note splits there, and "then..." is no signature.
        (TEXT + LINE, "signature line 1 does not start with an em dash and a space"),
        (TEXT + "\n", "note has no signature lines after its blank line"),
        (TEXT + "\n" + LINE[:-1], "note's last signature line does not end in a newline"),
        (
            TEXT + "\n- k " + SIG + "\n",
            "signature line 1 does not start with an em dash and a space",
        ),
        (
            TEXT + "\n\u2014k " + SIG + "\n",
            "signature line 1 does not start with an em dash and a space",
        ),
        (
            TEXT + "\n" + LINE + "\u2014 x\n",
            "signature line 2 has no space between key name and signature",
        ),
        (TEXT + f"\n\u2014  {SIG}\n", f"signature line 1: key name '' {BAD_NAME}"),
        (TEXT + f"\n\u2014 a+b {SIG}\n", f"signature line 1: key name 'a+b' {BAD_NAME}"),
        (TEXT + f"\n\u2014 a\u00a0b {SIG}\n", f"signature line 1: key name 'a\\xa0b' {BAD_NAME}"),
        (TEXT + "\n\u2014 k not-base64\n", "signature line 1: signature is not base64"),
        (TEXT + f"\n\u2014 k {SIG} \n", "signature line 1: signature is not base64"),
        (TEXT + "\n\u2014 k AAAAAB==\n", "signature line 1: signature is not canonical base64"),
        (TEXT + "\n\u2014 k AAAAAA==\n", f"signature line 1: signature is 4 bytes, {TOO_SHORT}"),
        (TEXT + "\n\u2014 k \n", f"signature line 1: signature is 0 bytes, {TOO_SHORT}"),
        ("tab\there" + ANY_SIG, "note has control character U+0009 at offset 3"),
        ("cr\r" + ANY_SIG, "note has control character U+000D at offset 2"),
        ("bad \ud800" + ANY_SIG, "note is not valid UTF-8: lone surrogate at offset 4"),
        ("x" * BIG + ANY_SIG, "note is larger than 131072 bytes"),
        ("\u00e9" * (BIG // 2) + ANY_SIG, "note is larger than 131072 bytes"),
    ],
)
def test_malformed_notes(note: str, message: str) -> None:
    with pytest.raises(NoteMalformedError, match=_exact(message)):
        open_note(note, [LOG.verifier])


def test_no_signature_by_a_known_key() -> None:
    note = sign_note(TEXT, [OTHER, IMPOSTOR])
    with pytest.raises(
        NoteUnverifiedError,
        match=_exact(
            "note has no signature by a known key: "
            f"signed by example.com/other+{OTHER.key_id.hex()}, "
            f"example.com/reclaim+{IMPOSTOR.key_id.hex()}; "
            f"known: example.com/reclaim+{LOG.key_id.hex()}"
        ),
    ):
        open_note(note, [LOG.verifier])
    with pytest.raises(NoteUnverifiedError, match=r"; known: none$"):
        open_note(note, [])


def test_bad_signature_from_a_known_key_rejects_the_note() -> None:
    good = sign_note(TEXT, [LOG])
    label = f"example.com/reclaim+{LOG.key_id.hex()}"
    forged = base64.b64encode(LOG.key_id + bytes(64)).decode()
    with pytest.raises(NoteSignatureError, match=_exact(f"signature by {label} does not verify")):
        open_note(good + f"\u2014 example.com/reclaim {forged}\n", [LOG.verifier])
    short = base64.b64encode(LOG.key_id + bytes(63)).decode()
    with pytest.raises(
        NoteSignatureError,
        match=_exact(f"signature by {label} is 63 bytes, not a 64-byte Ed25519 signature"),
    ):
        open_note(TEXT + f"\n\u2014 example.com/reclaim {short}\n", [LOG.verifier])
    # A valid signature does not excuse a bad one from the same key.
    with pytest.raises(NoteSignatureError):
        open_note(
            TEXT + "\n" + f"\u2014 example.com/reclaim {forged}\n" + _line(LOG), [LOG.verifier]
        )


def test_sign_note_refuses_bad_text_and_signers() -> None:
    with pytest.raises(NoteMalformedError, match=_exact("note text does not end in a newline")):
        sign_note("no newline", [LOG])
    with pytest.raises(NoteMalformedError, match=_exact("note text does not end in a newline")):
        sign_note("", [LOG])
    with pytest.raises(
        NoteMalformedError, match=_exact("note text has control character U+0000 at offset 1")
    ):
        sign_note("a\x00\n", [LOG])
    with pytest.raises(ValueError, match=_exact("a note needs at least one signer")):
        sign_note(TEXT, [])
    with pytest.raises(ValueError, match=_exact("two signers share a key name and key id")):
        sign_note(TEXT, [LOG, OTHER, LOG])
    with pytest.raises(ValueError, match=_exact("101 signers, more than 100")):
        sign_note(TEXT, [LOG] * 101)
