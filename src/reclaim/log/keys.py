"""Ed25519 keys in the text forms of C2SP signed notes (and Go's ``sumdb/note``).

- key id: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), written as 8 hex
  digits (C2SP signed-note, "Ed25519" signature type 0x01);
- verifier key: ``<name>+<hex key id>+<base64(0x01 || public key)>``;
- signer key: ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>``.

A ``SignerKey`` never renders its seed in ``repr``/``str``; the only way to the seed is
``to_private_text``, used by the key-file writer alone.

Errors: ``KeyFormatError`` (a ``ValueError``) for text that is not a key of these forms.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from reclaim.core.keyids import ALG_ED25519
from reclaim.core.keyids import key_id as compute_key_id

_PRIVATE_PREFIX: Final = "PRIVATE+KEY+"


class KeyFormatError(ValueError):
    """Text that is not a verifier or signer key of the C2SP signed-note forms."""


def check_key_name(name: str) -> str:
    """A key name is non-empty Unicode with no white space and no '+' (C2SP signed-note)."""
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise KeyFormatError(f"key name {name!r} is empty or has white space or '+'")
    return name


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A named Ed25519 public key."""

    name: str
    public_key: bytes
    _key: Ed25519PublicKey = field(repr=False, compare=False)
    key_id: bytes = field(repr=False, compare=False)

    @classmethod
    def from_public_bytes(cls, name: str, public_key: bytes) -> VerifierKey:
        check_key_name(name)
        if len(public_key) != 32:
            raise KeyFormatError(f"Ed25519 public key of {len(public_key)} bytes, not 32")
        return cls(
            name,
            public_key,
            Ed25519PublicKey.from_public_bytes(public_key),
            compute_key_id(name, public_key),
        )

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse ``<name>+<hex id>+<base64(0x01 || key)>``; the id must match the key."""
        form = "<name>+<hex key id>+<base64 key>"
        name, hex_id, public_key = _key_fields(text.strip(), "verifier", form, "Ed25519 key")
        key = cls.from_public_bytes(name, public_key)
        _check_key_id(key.key_id, hex_id, "verifier")
        return key

    def to_text(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class SignerKey:
    """A named Ed25519 private key. Its repr shows the name and key id only."""

    name: str
    _private: Ed25519PrivateKey = field(repr=False, compare=False)
    verifier: VerifierKey = field(repr=False, compare=False)

    @classmethod
    def generate(cls, name: str) -> SignerKey:
        return cls._from_private(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> SignerKey:
        if len(seed) != 32:
            raise KeyFormatError(f"Ed25519 seed of {len(seed)} bytes, not 32")
        return cls._from_private(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``."""
        text = text.strip()
        if not text.startswith(_PRIVATE_PREFIX):
            raise KeyFormatError("a signer key starts with PRIVATE+KEY+")
        body, form = text[len(_PRIVATE_PREFIX) :], "PRIVATE+KEY+<name>+<hex id>+<base64 seed>"
        name, hex_id, seed = _key_fields(body, "signer", form, "seed")
        key = cls.from_seed(check_key_name(name), seed)
        _check_key_id(key.key_id, hex_id, "signer")
        return key

    @classmethod
    def _from_private(cls, name: str, private: Ed25519PrivateKey) -> SignerKey:
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(check_key_name(name), private, VerifierKey.from_public_bytes(name, public))

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def to_private_text(self) -> str:
        """The key file form. Only the key-file writer calls this."""
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+{encoded}"

    def __str__(self) -> str:
        return f"SignerKey({self.name}+{self.key_id.hex()})"


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError(f"{what}: not base64") from exc


def _key_fields(body: str, kind: str, form: str, material: str) -> tuple[str, str, bytes]:
    """The name, hex key id and 32 key bytes of ``<name>+<hex id>+<base64(0x01 || 32 bytes)>``,
    the text of a ``kind`` key (``form`` and ``material`` name its parts in the errors)."""
    parts = body.split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError(f"a {kind} key is {form}")
    name, hex_id, encoded = parts
    raw = _b64(encoded, f"{kind} key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise KeyFormatError(f"{kind} key is not 0x01 followed by a 32-byte {material}")
    return name, hex_id, raw[1:]


def _check_key_id(key_id: bytes, hex_id: str, kind: str) -> None:
    """The id written in a ``kind`` key's text is the id of its key."""
    if hex_id != key_id.hex():
        raise KeyFormatError(f"{kind} key id {hex_id} does not match its key")
