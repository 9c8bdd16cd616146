"""The PII key files (``vault.key``, ``commitment.key``, ``codes.key``) and the commitments the
public log holds."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reclaim.adapters.keyfiles import (
    KeyFileError,
    init_keys,
    init_pii_keys,
    load_pii_keys,
    load_vault_keks,
    rotate_vault_key,
)
from reclaim.adapters.vault import Commitments, FileKeyWrapper

SECRET = bytes(range(32))


def test_keys_init_creates_the_pii_keys_private(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    init_keys(directory, "reclaim.test/log")
    for name in ("vault.key", "commitment.key", "codes.key"):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    keys = load_pii_keys(directory)
    assert len(keys.commitment_secret) == 32
    assert len(keys.codes_secret) == 32
    assert keys.commitment_secret != keys.codes_secret
    assert list(keys.vault.keys) == [keys.vault.active_id]
    assert keys.commitment_secret.hex() not in repr(keys)
    assert keys.vault.keys[keys.vault.active_id].hex() not in repr(keys)


def test_an_older_key_directory_gets_only_the_missing_pii_keys(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    init_keys(directory, "reclaim.test/log")
    (directory / "codes.key").unlink()
    vault_key = (directory / "vault.key").read_bytes()
    assert init_pii_keys(directory) == [directory / "codes.key"]
    assert (directory / "vault.key").read_bytes() == vault_key
    assert init_pii_keys(directory) == []
    with pytest.raises(KeyFileError, match=r"overwrite.*vault\.key"):
        init_keys(directory, "reclaim.test/log")


def test_pii_keys_readable_by_others_are_refused(tmp_path: Path) -> None:
    init_pii_keys(tmp_path)
    (tmp_path / "commitment.key").chmod(0o640)
    with pytest.raises(KeyFileError, match=r"commitment\.key is readable by others"):
        load_pii_keys(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "holds no KEK"),
        (b"VAULT+KEK+0123+AAAA\n", "line 1: not VAULT"),
        (b"VAULT+KEK+0123456789abcdef+AAAA\n", "line 1: a KEK is 32 bytes"),
        (b"VAULT+KEK+0123456789abcdef+A\n", "line 1: malformed base64"),
    ],
)
def test_a_malformed_vault_key_is_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "vault.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=message):
        load_vault_keks(tmp_path)


def test_rotation_adds_an_active_kek_and_keeps_the_old_ones(tmp_path: Path) -> None:
    init_pii_keys(tmp_path)
    first = load_vault_keks(tmp_path)
    new_id = rotate_vault_key(tmp_path)
    second = load_vault_keks(tmp_path)
    assert second.active_id == new_id != first.active_id
    assert second.keys[first.active_id] == first.keys[first.active_id]
    assert stat.S_IMODE((tmp_path / "vault.key").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "codes.key",
        "commitment.key",
        "vault.key",
    ]
    wrapper = FileKeyWrapper.load(tmp_path)
    assert wrapper.active_kek_id == new_id
    assert first.active_id in repr(wrapper)
    wrapped = wrapper.wrap(bytes(32), b"creditor:1")
    assert wrapped.kek_id == new_id
    assert len(wrapped.blob) == 12 + 32 + 16
    assert wrapper.unwrap(wrapped, b"creditor:1") == bytes(32)


def test_a_repeated_kek_id_is_refused(tmp_path: Path) -> None:
    init_pii_keys(tmp_path)
    line = (tmp_path / "vault.key").read_bytes()
    (tmp_path / "vault.key").write_bytes(line + line)
    with pytest.raises(KeyFileError, match=r"line 2: KEK id .* repeated"):
        load_vault_keks(tmp_path)


def test_a_commitment_is_hmac_sha256_of_kind_nul_value() -> None:
    """Vectors from ``printf 'email\\0zhang.wei@example.cn' | openssl dgst -sha256 -mac HMAC
    -macopt hexkey:000102...1f``."""
    commitments = Commitments(SECRET)
    assert commitments.commit("email", "zhang.wei@example.cn") == (
        "691638ca2948ac8fb4cdf3776c3c24959927ccf7ab9ea5a7eb177ed3daa7cf4a"
    )
    assert commitments.commit("holder_name", "zhang.wei@example.cn") == (
        "079bbf9ee5624e87d2a68499052dbda2b95e7a2c9b8b3ae2cb268898a41b58b9"
    )
    other = Commitments(bytes(32)).commit("email", "zhang.wei@example.cn")
    assert other != commitments.commit("email", "zhang.wei@example.cn")
    assert SECRET.hex() not in repr(commitments)


def test_a_commitment_needs_a_normalised_value_and_a_kind() -> None:
    commitments = Commitments(SECRET)
    with pytest.raises(AssertionError, match="NFC"):
        commitments.commit("holder_name", "Zoe\u0301")  # e + combining acute: not NFC
    with pytest.raises(AssertionError, match="kind"):
        commitments.commit("e\x00mail", "x")
    assert commitments.commit("holder_name", "Zoé") != commitments.commit("holder_name", "Zoe")
