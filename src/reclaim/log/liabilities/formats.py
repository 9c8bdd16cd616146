"""The fixed formats of proof of liabilities (version 1): prefixes, sizes, bounds, base64.

See ``reclaim.log.liabilities`` for the construction these bytes belong to.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

LEAF_PREFIX: Final = b"reclaim/pol/leaf/v1\n"
NODE_PREFIX: Final = b"reclaim/pol/node/v1\n"
SALT_PREFIX: Final = b"reclaim/pol/salt/v1\n"
STATEMENT_HEADER: Final = "reclaim liabilities v1"
PROOF_FORMAT: Final = "reclaim-liability-proof/v1"
SNAPSHOT_FORMAT: Final = "reclaim-liabilities/v1"
HASH_SIZE_BYTES: Final = 32
SALT_SIZE_BYTES: Final = 32
SUM_SIZE_BYTES: Final = 8

# Bounds (for reclaim.core.limits) -------------------------------------------------------------

#: Shortest salt secret: HMAC-SHA256 keys of 32 bytes give the full 256-bit strength.
secret_size_min_bytes: Final = 32

#: A decimal number without sign or leading zeros, and its longest spelling (2**64 has 20 digits).
DECIMAL = re.compile(r"0|[1-9][0-9]*")

#: A path step record: sibling hash, sibling sum, parent sum.
STEP_SIZE_BYTES: Final = HASH_SIZE_BYTES + 2 * SUM_SIZE_BYTES


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def unb64(text: str) -> bytes | None:
    """Canonical standard base64 (RFC 4648 §4), or None."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if b64(raw) == text else None
