"""transparency-dev/merkle test data (``shared/vectors/merkle``, provenance in its README).

Every file is one test and must give the verdict its ``wantErr`` says: a happy path verifies,
every tampered proof, size, index or root raises ``ProofError``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from reclaim.log.merkle import (
    ProofError,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from tests.vectors.paths import vectors_dir

MERKLE_DIR = vectors_dir() / "merkle"
VECTOR_FILES = sorted(p.relative_to(MERKLE_DIR).as_posix() for p in MERKLE_DIR.rglob("*.json"))


def _load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MERKLE_DIR / relative).read_text())
    return data


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _proof(data: dict[str, Any]) -> list[bytes]:
    return [_b64(h) for h in data["proof"] or []]


def test_every_vector_file_is_found() -> None:
    assert len(VECTOR_FILES) == 196, MERKLE_DIR
    assert sum(f.startswith("inclusion/") for f in VECTOR_FILES) == 98
    assert sum(f.startswith("consistency/") for f in VECTOR_FILES) == 98


@pytest.mark.parametrize("relative", [f for f in VECTOR_FILES if f.startswith("inclusion/")])
def test_inclusion_vector(relative: str) -> None:
    data = _load(relative)
    args = (
        _b64(data["leafHash"]),
        data["leafIdx"],
        data["treeSize"],
        _proof(data),
        _b64(data["root"]),
    )
    if data["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)
        assert root_from_inclusion_proof(*args[:4]) == args[4]


@pytest.mark.parametrize("relative", [f for f in VECTOR_FILES if f.startswith("consistency/")])
def test_consistency_vector(relative: str) -> None:
    data = _load(relative)
    args = (
        data["size1"],
        data["size2"],
        _proof(data),
        _b64(data["root1"]),
        _b64(data["root2"]),
    )
    if data["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_vector_dir_is_next_to_the_repository() -> None:
    assert MERKLE_DIR.is_dir()
    assert (MERKLE_DIR / "README.md").is_file()
    assert isinstance(MERKLE_DIR, Path)
