"""Key files and key objects never reveal a private key by accident."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reclaim.adapters.keyfiles import KeyFileError, init_keys, load_keyring
from reclaim.log.keys import SignerKey


def test_a_signer_key_never_prints_its_seed() -> None:
    key = SignerKey.from_seed("admin", b"\x05" * 32)
    secret = key.to_private_text().rsplit("+", 1)[1]
    for shown in (repr(key), str(key), f"{key}", repr([key])):
        assert secret not in shown
        assert "admin" in shown


def test_key_files_are_private_and_load_back(tmp_path: Path) -> None:
    published = init_keys(tmp_path / "keys", "reclaim.test/log")
    assert set(published) == {"log", "admin", "kyc-officer", "treasury", "gateway", "kyc-provider"}
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    for path in (tmp_path / "keys").glob("*.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = load_keyring(tmp_path / "keys")
    assert ring.log_signer.verifier.to_text() == published["log"]
    assert ring.for_actor("treasury").verifier.to_text() == published["treasury"]


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    init_keys(tmp_path / "keys", "reclaim.test/log")
    (tmp_path / "keys" / "admin.key").chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        load_keyring(tmp_path / "keys")


def test_a_malformed_key_file_is_named(tmp_path: Path) -> None:
    init_keys(tmp_path / "keys", "reclaim.test/log")
    (tmp_path / "keys" / "treasury.key").write_text("PRIVATE+KEY+treasury+00000000+AAAA\n")
    with pytest.raises(KeyFileError, match=r"treasury\.key: signer key is not 0x01"):
        load_keyring(tmp_path / "keys")
