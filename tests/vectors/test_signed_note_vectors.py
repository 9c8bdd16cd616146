"""C2SP signed-note vectors (``shared/vectors/signed-note/notes.json``, provenance in its README).

Every entry gives the verdict its ``wantErr`` says; the entry with a private key reproduces its
signature byte for byte (Ed25519 is deterministic); the sum.golang.org note parses as a
checkpoint.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from reclaim.log.checkpoint import Checkpoint, open_checkpoint, parse_body
from reclaim.log.keys import KeyFormatError, SignerKey, VerifierKey
from reclaim.log.note import NoteError, NoteSignatureError, open_note, sign_note
from tests.vectors.paths import shared_dir

NOTES_FILE = shared_dir() / "vectors" / "signed-note" / "notes.json"
NOTES: list[dict[str, Any]] = json.loads(NOTES_FILE.read_text())

SUMDB_NOTE = next(n for n in NOTES if n["vkey"].startswith("sum.golang.org+"))


def _vkey(text: str) -> VerifierKey:
    """``<name>+<hex id>+<base64>`` split at the first two '+' only, as Go's note.NewVerifier
    does: standard base64 may itself contain '+'. (Stand-in for ``VerifierKey.parse``, which
    splits at every '+'; see ``test_key_parsers_accept_base64_with_plus``.)"""
    name, hex_id, encoded = text.split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    assert raw[0] == 0x01
    assert len(raw) == 33
    key = VerifierKey.from_public_bytes(name, raw[1:])
    assert key.key_id.hex() == hex_id
    return key


def _skey(text: str) -> SignerKey:
    """``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``, split as Go does."""
    prefix1, prefix2, name, hex_id, encoded = text.split("+", 4)
    assert (prefix1, prefix2) == ("PRIVATE", "KEY")
    raw = base64.b64decode(encoded, validate=True)
    assert raw[0] == 0x01
    assert len(raw) == 33
    key = SignerKey.from_seed(name, raw[1:])
    assert key.key_id.hex() == hex_id
    return key


def test_every_vector_is_found() -> None:
    assert len(NOTES) == 4
    assert sum(1 for n in NOTES if "skey" in n) == 1


@pytest.mark.parametrize("vector", NOTES, ids=[n["desc"][:60] for n in NOTES])
def test_note_vector(vector: dict[str, Any]) -> None:
    verifier = _vkey(vector["vkey"])
    if vector["wantErr"]:
        with pytest.raises(NoteError):
            open_note(vector["note"], [verifier])
    else:
        verdict = open_note(vector["note"], [verifier])
        assert vector["note"].startswith(verdict.text + "\n\u2014 ")
        name, hex_id, _ = vector["vkey"].split("+", 2)
        assert [s.key_label for s in verdict.verified] == [f"{name}+{hex_id}"]
        assert verdict.unknown == ()


def test_changed_text_is_a_bad_signature_from_the_known_key() -> None:
    bad = next(n for n in NOTES if n["wantErr"])
    with pytest.raises(NoteSignatureError, match=r"^signature by PeterNeumann\+c74f20a3 does not"):
        open_note(bad["note"], [_vkey(bad["vkey"])])


def test_skey_reproduces_the_signature_byte_for_byte() -> None:
    vector = next(n for n in NOTES if "skey" in n)
    signer = _skey(vector["skey"])
    assert signer.verifier.to_text() == vector["vkey"]
    text = vector["note"][: vector["note"].rindex("\n\n") + 1]
    assert sign_note(text, [signer]) == vector["note"]


def test_sumdb_note_parses_as_a_checkpoint() -> None:
    checkpoint = open_checkpoint(
        SUMDB_NOTE["note"], _vkey(SUMDB_NOTE["vkey"]), origin="go.sum database tree"
    )
    assert checkpoint == Checkpoint(
        origin="go.sum database tree",
        size=6476701,
        root=base64.b64decode("mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="),
        extensions=(),
    )
    assert checkpoint.root.hex() == (
        "99bf102d022cd19d323f90acb6aea0ba3f3ba1759e0bd80433ca158a49a6f569"
    )
    assert checkpoint.body() == (
        "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
    )
    assert parse_body(checkpoint.body()) == checkpoint


@pytest.mark.xfail(
    strict=True,
    raises=KeyFormatError,
    reason="keys.py splits key text at every '+', but base64 may contain '+'",
)
def test_key_parsers_accept_base64_with_plus() -> None:
    vkey = SUMDB_NOTE["vkey"]  # its base64 holds '+'
    skey = next(n["skey"] for n in NOTES if "skey" in n)  # so does this one
    assert VerifierKey.parse(vkey) == _vkey(vkey)
    assert SignerKey.parse(skey).key_id == _skey(skey).key_id
