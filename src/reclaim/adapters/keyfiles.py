"""Key files of the operator: one private key per role, readable by the owner only.

``reclaim keys init DIR`` writes, in the C2SP/Go ``PRIVATE+KEY+<name>+<id>+<base64>`` form:

    DIR/log.key            the log signer (its key name is the log's origin)
    DIR/admin.key          the admin actor
    DIR/kyc-officer.key    the KYC officer actor
    DIR/treasury.key       the treasury actor
    DIR/gateway.key        the portal gateway (signs for people who sign up on the web)
    DIR/liabilities.secret 32 random bytes: the salt secret of the liabilities snapshots
                           (``reclaim.log.liabilities``); it never leaves the operator
    DIR/vault.key          the PII vault's key-encryption keys (KEKs), one per line as
                           ``VAULT+KEK+<kek id>+<base64 of 32 bytes>``; the first line is the
                           active KEK (wraps new data keys), the others only unwrap old ones
                           (``rotate_vault_key`` adds a new first line)
    DIR/commitment.key     32 random bytes: the HMAC key of the PII commitments the public log
                           holds (``reclaim.adapters.vault.Commitments``); never rotated (the
                           log's commitments are made with it)
    DIR/codes.key          32 random bytes: the HMAC key of one-time codes at rest and of
                           rate-limit bucket keys; replacing it only voids the live codes
    DIR/kyc-provider.key   the hosted KYC provider's service actor (signs webhook decisions)
    DIR/kyc-webhook.secret 32 random bytes: the HMAC key the hosted KYC provider signs its
                           webhooks with (shared with the provider, never published)
    DIR/public/*.pub       the matching verifier keys, safe to publish

Private files are created with mode 0600 in a 0700 directory and never overwritten; loading
refuses a private key file that others can read. ``init_pii_keys`` creates the three PII key
files in a key directory made before they existed (the others untouched). Private keys are
never logged or exported: the log carries verifier keys only.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar

from reclaim.app.log_service import KeyRing
from reclaim.log.keys import SignerKey

#: Operator actors and their roles, by key file stem (= actor name).
OPERATOR_ACTORS: Final = {
    "admin": "admin",
    "kyc-officer": "kyc_officer",
    "treasury": "treasury",
    "gateway": "gateway",
    "kyc-provider": "kyc_provider",  # signs the decisions a hosted KYC provider's webhooks bring
}
LOG_KEY_FILE: Final = "log.key"
LIABILITIES_SECRET_FILE: Final = "liabilities.secret"  # noqa: S105 - a file name
#: Size of the salt secret: HMAC-SHA256 keys of 32 bytes give its full strength.
LIABILITIES_SECRET_SIZE_BYTES: Final = 32

T = TypeVar("T")


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
    existing += [name for name in PII_KEY_FILES if (directory / name).exists()]
    if existing:
        raise KeyFileError(f"refusing to overwrite existing keys in {directory}: {existing}")
    published: dict[str, str] = {}
    for stem, name in names.items():
        key = SignerKey.generate(name)
        _write_private(directory / f"{stem}.key", key.to_private_text() + "\n")
        (directory / "public" / f"{stem}.pub").write_text(key.verifier.to_text() + "\n")
        published[stem] = key.verifier.to_text()
    init_liabilities_secret(directory)
    init_pii_keys(directory)
    init_kyc_webhook_secret(directory)
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
    text = _read_private_file(path, Path.read_text)
    try:
        return SignerKey.parse(text)
    except ValueError as exc:
        raise KeyFileError(f"key file {path}: {exc}") from exc


def _read_private_file(path: Path, read: Callable[[Path], T]) -> T:
    """``read(path)`` of a key file that only its owner may read."""
    try:
        mode = path.stat().st_mode
        content = read(path)
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"key file {path} is readable by others (chmod 600 it)")
    return content


# The PII keys (issue 4) --------------------------------------------------------------------------

VAULT_KEY_FILE: Final = "vault.key"
COMMITMENT_KEY_FILE: Final = "commitment.key"
CODES_KEY_FILE: Final = "codes.key"
PII_KEY_FILES: Final = (VAULT_KEY_FILE, COMMITMENT_KEY_FILE, CODES_KEY_FILE)
#: Size of a KEK (AES-256) and of the HMAC-SHA256 secrets.
PII_KEY_SIZE_BYTES: Final = 32
_KEK_LINE: Final = re.compile(r"VAULT\+KEK\+([0-9a-f]{16})\+([A-Za-z0-9+/=]+)")


@dataclass(frozen=True, slots=True)
class VaultKeks:
    """The vault's key-encryption keys by id; ``active_id`` wraps new data keys. Its ``repr``
    shows the ids only."""

    active_id: str
    keys: dict[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        assert self.active_id in self.keys, "the active KEK is one of the keys"
        assert all(len(key) == PII_KEY_SIZE_BYTES for key in self.keys.values())


@dataclass(frozen=True, slots=True)
class PiiKeys:
    """What ``load_pii_keys`` returns: the vault's KEKs and the two HMAC secrets."""

    vault: VaultKeks
    commitment_secret: bytes = field(repr=False)
    codes_secret: bytes = field(repr=False)


def init_pii_keys(directory: Path) -> list[Path]:
    """Create the PII key files that do not exist yet (mode 0600); returns those created."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    created: list[Path] = []
    if not (directory / VAULT_KEY_FILE).exists():
        _create_private_bytes(directory / VAULT_KEY_FILE, _kek_line().encode("ascii"))
        created.append(directory / VAULT_KEY_FILE)
    for name in (COMMITMENT_KEY_FILE, CODES_KEY_FILE):
        if not (directory / name).exists():
            _create_private_bytes(directory / name, secrets.token_bytes(PII_KEY_SIZE_BYTES))
            created.append(directory / name)
    return created


def load_pii_keys(directory: Path) -> PiiKeys:
    """The vault's KEKs and the commitment and code secrets; refused if others can read them."""
    return PiiKeys(
        vault=load_vault_keks(directory),
        commitment_secret=_load_secret_bytes(directory / COMMITMENT_KEY_FILE),
        codes_secret=_load_secret_bytes(directory / CODES_KEY_FILE),
    )


def load_vault_keks(directory: Path) -> VaultKeks:
    """Parse ``vault.key``: one KEK a line, the first one active, ids unique."""
    path = directory / VAULT_KEY_FILE
    text = _read_private_file(path, Path.read_bytes).decode("ascii", errors="replace")
    keys: dict[str, bytes] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _KEK_LINE.fullmatch(line.strip())
        if match is None:
            raise KeyFileError(f"{path} line {number}: not VAULT+KEK+<16 hex>+<base64>")
        kek_id, encoded = match.groups()
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise KeyFileError(f"{path} line {number}: malformed base64") from None
        if len(key) != PII_KEY_SIZE_BYTES:
            raise KeyFileError(f"{path} line {number}: a KEK is {PII_KEY_SIZE_BYTES} bytes")
        if kek_id in keys:
            raise KeyFileError(f"{path} line {number}: KEK id {kek_id} repeated")
        keys[kek_id] = key
    if not keys:
        raise KeyFileError(f"{path} holds no KEK")
    return VaultKeks(active_id=next(iter(keys)), keys=keys)


def rotate_vault_key(directory: Path) -> str:
    """Make a new KEK the active one (the old ones stay, to unwrap); returns its id.

    The file is replaced atomically (a 0600 temporary renamed over it). Re-wrap the stored data
    keys afterwards (``SqlVault.rewrap``); an old line may be deleted once no subject uses it.
    """
    path = directory / VAULT_KEY_FILE
    load_vault_keks(directory)  # refuse to rotate a file that does not load
    old = _read_private_file(path, Path.read_bytes)
    line = _kek_line()
    temporary = path.with_name(f".{VAULT_KEY_FILE}.{secrets.token_hex(4)}")
    _create_private_bytes(temporary, line.encode("ascii") + old)
    os.replace(temporary, path)
    return line.split("+")[2]


def _kek_line() -> str:
    kek_id = secrets.token_hex(8)
    key = base64.b64encode(secrets.token_bytes(PII_KEY_SIZE_BYTES)).decode("ascii")
    return f"VAULT+KEK+{kek_id}+{key}\n"


def _create_private_bytes(path: Path, content: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"refusing to overwrite {path}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _load_secret_bytes(path: Path) -> bytes:
    secret = _read_private_file(path, Path.read_bytes)
    if len(secret) != PII_KEY_SIZE_BYTES:
        raise KeyFileError(f"{path} is {len(secret)} bytes, not {PII_KEY_SIZE_BYTES}")
    return secret


# The KYC webhook secret (issue 4) ----------------------------------------------------------------

KYC_WEBHOOK_SECRET_FILE: Final = "kyc-webhook.secret"  # noqa: S105 - a file name


def init_kyc_webhook_secret(directory: Path) -> Path | None:
    """Create ``DIR/kyc-webhook.secret`` if absent (mode 0600); the path, or ``None``."""
    path = directory / KYC_WEBHOOK_SECRET_FILE
    if path.exists():
        return None
    _create_private_bytes(path, secrets.token_bytes(PII_KEY_SIZE_BYTES))
    return path


def load_kyc_webhook_secret(directory: Path) -> bytes | None:
    """The hosted KYC provider's webhook secret, or ``None`` if this operator has none."""
    path = directory / KYC_WEBHOOK_SECRET_FILE
    if not path.exists():
        return None
    return _load_secret_bytes(path)
