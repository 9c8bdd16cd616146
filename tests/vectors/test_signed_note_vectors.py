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
from tests.vectors.paths import vectors_dir

NOTES_FILE = vectors_dir() / "signed-note" / "notes.json"
NOTES: list[dict[str, Any]] = json.loads(NOTES_FILE.read_text())

SUMDB_NOTE = next(n for n in NOTES if n["vkey"].startswith("sum.golang.org+"))


def _vkey(text: str) -> VerifierKey:
    return VerifierKey.parse(text)


def _skey(text: str) -> SignerKey:
    return SignerKey.parse(text)


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


def test_key_parsers_accept_base64_with_plus() -> None:
    vkey = SUMDB_NOTE["vkey"]  # its base64 holds '+'
    skey = next(n["skey"] for n in NOTES if "skey" in n)  # so does this one
    assert VerifierKey.parse(vkey).to_text() == vkey
    signer = SignerKey.parse(skey)
    assert signer.to_private_text() == skey


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PeterNeumann+c74f20a3", "a verifier key is <name>+<hex key id>+<base64 key>"),
        (
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "verifier key id c74f20a4 does not match its key",
        ),
        (
            "PeterNeumann+c74f20a3+AhpC",
            "verifier key is not 0x01 followed by a 32-byte Ed25519 key",
        ),
        ("PeterNeumann+c74f20a3+!!", "verifier key: not base64"),
    ],
)
def test_malformed_verifier_keys_are_named(text: str, message: str) -> None:
    with pytest.raises(KeyFormatError) as caught:
        VerifierKey.parse(text)
    assert str(caught.value) == message
