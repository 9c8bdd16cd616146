"""Key files of the operator: one private key per role, readable by the owner only.

``reclaim keys init DIR`` writes, in the C2SP/Go ``PRIVATE+KEY+<name>+<id>+<base64>`` form:

    DIR/log.key            the log signer (its key name is the log's origin)
    DIR/admin.key          the admin actor
    DIR/kyc-officer.key    the KYC officer actor
    DIR/treasury.key       the treasury actor
    DIR/gateway.key        the portal gateway (signs for people who sign up on the web)
    DIR/liabilities.secret 32 random bytes: the salt secret of the liabilities snapshots
                           (``reclaim.log.liabilities``); it never leaves the operator
    DIR/public/*.pub       the matching verifier keys, safe to publish

Private files are created with mode 0600 in a 0700 directory and never overwritten; loading
refuses a private key file that others can read. Private keys are never logged or exported: the
log carries verifier keys only.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Final

from reclaim.app.log_service import KeyRing
from reclaim.log.keys import SignerKey

#: Operator actors and their roles, by key file stem (= actor name).
OPERATOR_ACTORS: Final = {
    "admin": "admin",
    "kyc-officer": "kyc_officer",
    "treasury": "treasury",
    "gateway": "gateway",
}
LOG_KEY_FILE: Final = "log.key"
LIABILITIES_SECRET_FILE: Final = "liabilities.secret"  # noqa: S105 - a file name
#: Size of the salt secret: HMAC-SHA256 keys of 32 bytes give its full strength.
LIABILITIES_SECRET_SIZE_BYTES: Final = 32


class KeyFileError(Exception):
    """A key file that is missing, unreadable, malformed, or readable by others."""


def init_keys(directory: Path, origin: str) -> dict[str, str]:
    """Create every operator key; returns the verifier keys by file stem. Never overwrites."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    (directory / "public").mkdir(mode=0o755, exist_ok=True)
    names = {"log": origin} | {stem: stem for stem in OPERATOR_ACTORS}
    existing = [stem for stem in names if (directory / f"{stem}.key").exists()]
    if (directory / LIABILITIES_SECRET_FILE).exists():
        existing.append(LIABILITIES_SECRET_FILE)
    if existing:
        raise KeyFileError(f"refusing to overwrite existing keys in {directory}: {existing}")
    published: dict[str, str] = {}
    for stem, name in names.items():
        key = SignerKey.generate(name)
        _write_private(directory / f"{stem}.key", key.to_private_text() + "\n")
        (directory / "public" / f"{stem}.pub").write_text(key.verifier.to_text() + "\n")
        published[stem] = key.verifier.to_text()
    init_liabilities_secret(directory)
    return published


def init_liabilities_secret(directory: Path) -> Path:
    """Create ``DIR/liabilities.secret`` (32 random bytes, mode 0600); never overwrites."""
    path = directory / LIABILITIES_SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"refusing to overwrite the liabilities secret {path}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(LIABILITIES_SECRET_SIZE_BYTES))
    return path


def load_liabilities_secret(directory: Path) -> bytes:
    """The salt secret of the liabilities snapshots; refused if others can read it."""
    path = directory / LIABILITIES_SECRET_FILE
    try:
        mode = path.stat().st_mode
        secret = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the liabilities secret {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"liabilities secret {path} is readable by others (chmod 600 it)")
    if len(secret) != LIABILITIES_SECRET_SIZE_BYTES:
        raise KeyFileError(
            f"liabilities secret {path} is {len(secret)} bytes, not {LIABILITIES_SECRET_SIZE_BYTES}"
        )
    return secret


def load_keyring(directory: Path) -> KeyRing:
    log_signer = _read_private(directory / LOG_KEY_FILE)
    actors = {stem: _read_private(directory / f"{stem}.key") for stem in OPERATOR_ACTORS}
    return KeyRing(log_signer=log_signer, actors=actors)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _read_private(path: Path) -> SignerKey:
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"key file {path} is readable by others (chmod 600 it)")
    try:
        return SignerKey.parse(text)
    except ValueError as exc:
        raise KeyFileError(f"key file {path}: {exc}") from exc
