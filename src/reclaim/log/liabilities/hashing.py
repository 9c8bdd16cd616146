"""The hashes of a Merkle sum tree: salt, leaf and node (the reference definitions).

``reclaim.log.liabilities.build`` inlines the same bytes in its hot loop; the creditor's
``verify`` uses these.
"""

from __future__ import annotations

import hashlib
from typing import Final

from reclaim.core.limits import integer_max
from reclaim.log.liabilities.formats import (
    LEAF_PREFIX,
    NODE_PREFIX,
    SALT_PREFIX,
    SALT_SIZE_BYTES,
    SUM_SIZE_BYTES,
)

_HMAC_BLOCK_BYTES: Final = 64

_sha256 = hashlib.sha256


def length_prefixed(text: str) -> bytes:
    """``lp(x)``: the UTF-8 bytes of ``text`` after their length as 2 bytes big-endian."""
    raw = text.encode()
    assert len(raw) < 1 << 16, "length prefix is 2 bytes"
    return len(raw).to_bytes(2, "big") + raw


def derive_salt(secret: bytes, account_id: str, asset: str, snapshot_id: str) -> bytes:
    """HMAC-SHA256(secret, SALT_PREFIX || lp(account) || lp(asset) || lp(snapshot id))."""
    message = SALT_PREFIX + length_prefixed(account_id) + length_prefixed(asset)
    return Hmac(secret).digest(message + length_prefixed(snapshot_id))


def leaf_hash(salt: bytes, account_id: str, asset: str, balance: int) -> bytes:
    """SHA-256(LEAF_PREFIX || salt || lp(account) || lp(asset) || u64be(balance))."""
    assert len(salt) == SALT_SIZE_BYTES, "salt is 32 bytes"
    assert 0 <= balance <= integer_max, "balance is in the u64 and BIGINT range"
    data = salt + length_prefixed(account_id) + length_prefixed(asset)
    return _sha256(LEAF_PREFIX + data + balance.to_bytes(SUM_SIZE_BYTES, "big")).digest()


def node_hash(left: bytes, left_sum: int, right: bytes, right_sum: int) -> bytes:
    """SHA-256(NODE_PREFIX || left || u64be(left_sum) || right || u64be(right_sum))."""
    assert 0 <= left_sum <= integer_max, "left sum is in range"
    assert 0 <= right_sum <= integer_max, "right sum is in range"
    return _sha256(
        NODE_PREFIX
        + left
        + left_sum.to_bytes(SUM_SIZE_BYTES, "big")
        + right
        + right_sum.to_bytes(SUM_SIZE_BYTES, "big")
    ).digest()


class Hmac:
    """RFC 2104 HMAC-SHA256 with the padded-key states computed once (``hmac.digest`` sets up
    a fresh context per call, twice as slow over a million leaves)."""

    __slots__ = ("inner", "outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _HMAC_BLOCK_BYTES:
            key = _sha256(key).digest()
        key = key.ljust(_HMAC_BLOCK_BYTES, b"\x00")
        self.inner = _sha256(bytes(b ^ 0x36 for b in key))
        self.outer = _sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.digest()
