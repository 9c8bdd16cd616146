"""The fixed formats of proof of liabilities (version 1): prefixes, sizes, bounds, base64.

See ``reclaim.log.liabilities`` for the construction these bytes belong to.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

from reclaim.core import limits

LEAF_PREFIX: Final = b"reclaim/pol/leaf/v1\n"
NODE_PREFIX: Final = b"reclaim/pol/node/v1\n"
SALT_PREFIX: Final = b"reclaim/pol/salt/v1\n"
STATEMENT_HEADER: Final = "reclaim liabilities v1"
PROOF_FORMAT: Final = "reclaim-liability-proof/v1"
SNAPSHOT_FORMAT: Final = "reclaim-liabilities/v1"
HASH_SIZE_BYTES: Final = 32
SALT_SIZE_BYTES: Final = 32
SUM_SIZE_BYTES: Final = 8
#: Largest sum anywhere in a tree: the ledger's BIGINT range (and below 2**64, so u64 holds it).
SUM_MAX: Final = limits.integer_max

# Bounds (for reclaim.core.limits) -------------------------------------------------------------

#: Assets in one statement: an estate has a handful; bounds the statement (~100 bytes each).
assets_max: Final = 32
#: Leaves in one asset's tree: the log's tree height bound, so a path has at most 40 steps.
leaves_max: Final = 2**limits.merkle_height_max
#: UTF-8 bytes of an account id: ids are short tokens; the length prefix is 2 bytes.
account_id_size_max_bytes: Final = 256
#: Shortest salt secret: HMAC-SHA256 keys of 32 bytes give the full 256-bit strength.
secret_size_min_bytes: Final = 32
#: Largest proof a verifier reads: 40 steps (~3 kB) and a statement of ``assets_max`` assets
#: (~4 kB) fit; a proof of a 1,000,000-leaf tree in one asset is under 2 kB.
proof_size_max_bytes: Final = 16 * 1024

#: A decimal number without sign or leading zeros, and its longest spelling (2**64 has 20 digits).
DECIMAL = re.compile(r"0|[1-9][0-9]*")
DECIMAL_DIGITS_MAX: Final = 20

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
