"""The state digest: one hash that names the whole replayed state.

``state_digest(state) = SHA-256(b"reclaim/state/v1\\n" || canonical(state.snapshot()))``. The
operator writes it into every checkpoint as the extension line ``reclaim-state <hex>``; a verifier
that replays the log through the core must arrive at the same digest at the same tree size.

Known limit: the digest is recomputed over the whole state at each checkpoint, which is O(state).
That is cheap for the foundation's state (actors, keys, documents); a ledger of millions of
accounts will want an incremental (homomorphic) set hash instead.
"""

from __future__ import annotations

import hashlib
from typing import Final

from reclaim.core.state import State
from reclaim.log import canonical

DIGEST_CONTEXT: Final = b"reclaim/state/v1\n"
EXTENSION_PREFIX: Final = "reclaim-state "


def state_digest(state: State) -> bytes:
    return hashlib.sha256(DIGEST_CONTEXT + canonical.encode(state.snapshot())).digest()


def extension_line(digest: bytes) -> str:
    return EXTENSION_PREFIX + digest.hex()


def digest_from_extensions(extensions: tuple[str, ...]) -> bytes | None:
    for line in extensions:
        if line.startswith(EXTENSION_PREFIX):
            try:
                return bytes.fromhex(line[len(EXTENSION_PREFIX) :])
            except ValueError:
                return None
    return None
