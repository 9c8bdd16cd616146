"""Key ids and verifier-key text of C2SP signed notes, computed without any crypto library.

key id = the first 4 bytes of SHA-256(name || 0x0A || 0x01 || 32-byte Ed25519 public key);
verifier key text = ``<name>+<hex key id>+<base64(0x01 || public key)>``. The core checks the
form of keys named in events with these; signatures themselves are checked by ``reclaim.log``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Final

ALG_ED25519: Final = 0x01


def key_id(name: str, public_key: bytes) -> bytes:
    """C2SP key id of an Ed25519 key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def parse_verifier_key(text: str) -> tuple[str, bytes, bytes] | None:
    """``(name, key id, public key)`` of a verifier key, or ``None`` if the text is not one."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        return None
    name, hex_id, encoded = parts
    if not name or any(ch.isspace() for ch in name):
        return None
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        return None
    public_key = raw[1:]
    ident = key_id(name, public_key)
    if hex_id != ident.hex():
        return None
    return name, ident, public_key
