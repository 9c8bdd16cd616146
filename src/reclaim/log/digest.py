"""The state digest: one 32-byte hash that names the whole replayed state, kept incrementally.

The state is a set of entities (``State.entity_keys()``: ``log``, ``actor/<name>``,
``document/<id>``, …). The digest is a homomorphic set hash over them, **LtHash16** (Bellare and
Micciancio's lattice hash as parameterised by Lewi, Kim, Maykov and Weis, "Securing Update
Propagation with Homomorphic Hashing", 2019; the construction of Facebook's Folly ``LtHash`` and
Solana's accounts lattice hash): 1024 lanes of 16 bits, added modulo 2**16.

- element of an entity: ``e = SHA-256(b"reclaim/entity/v1\\n" || JSON({"key", "value"}))``, the
  JSON with sorted keys, no white space, UTF-8 (``State.entity`` values are text, lists and
  objects only);
- its lattice vector: the first 2048 bytes of the BLAKE3 extendable output of ``e``, read as
  1024 little-endian ``uint16`` (BLAKE3's XOF, as in Solana's lattice hash: five times faster
  here than SHAKE-128, and the expansion is what a checkpoint mostly pays for);
- the set's lattice: the lane-wise sum of its elements' vectors (mod 2**16); changing an entity
  subtracts its old vector and adds its new one, so a checkpoint costs O(entities changed since
  the previous one), not O(state);
- the digest: ``SHA-256(b"reclaim/state/v1\\n" || the 2048 lattice bytes)``.

The operator writes the digest into every checkpoint as the extension line
``reclaim-state <hex>``; a verifier that replays the log through the core must arrive at the
same digest at the same tree size. ``full_digest`` recomputes from scratch (tests compare both).

Memory: 32 bytes of element hash per entity, to subtract an entity's old vector.

Costs: the element's JSON of the ledger's entities (accounts, transfers) is written directly
(``canonical.shaped_json``, the same text as the general encoder's); a caller that has already
built an entity's value (the log service, for its projections) hands it over with ``note``, so
it is neither rebuilt nor re-read; an entity changed many times between two updates is hashed
once per ``note`` (the log service notes once per batch) and folded in once per update.
"""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring
from typing import Final

import numpy as np
import numpy.typing as npt
from blake3 import blake3

from reclaim.core.machine import State
from reclaim.core.types import JsonValue
from reclaim.log.canonical import one_shot, shaped_json

ENTITY_CONTEXT: Final = b"reclaim/entity/v1\n"
DIGEST_CONTEXT: Final = b"reclaim/state/v1\n"
EXTENSION_PREFIX: Final = "reclaim-state "
LANES: Final = 1024
_JSON: Final = one_shot(json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")))
_VECTOR_BYTES: Final = LANES * 2
#: Vectors summed at once: 4096 × 2 KiB = 8 MiB of memory, whatever the number of entities.
_SUM_CHUNK: Final = 4096


def element_hash(key: str, value: JsonValue) -> bytes:
    """The entity's element. ``value`` comes from the core (``State.entity``): text, lists and
    objects only, so plain sorted JSON of it is deterministic; no canonical checks are needed
    for a hash input that the operator and every verifier compute with this same function."""
    inner = shaped_json(value)
    if inner is None:
        text = _JSON({"key": key, "value": value})
    else:  # the same text: JSON nests, and "key" sorts before "value"
        text = f'{{"key":{encode_basestring(key)},"value":{inner}}}'
    return hashlib.sha256(ENTITY_CONTEXT + text.encode()).digest()


#: A noted entity that does not exist (no element).
_ABSENT: Final = b""


class StateDigest:
    """An LtHash16 of a state's entities, updated from the keys ``evolve`` marks as changed."""

    def __init__(self) -> None:
        self._lanes: npt.NDArray[np.uint16] = np.zeros(LANES, dtype=np.uint16)
        self._elements: dict[str, bytes] = {}
        self._marked: set[str] = set()
        #: Elements of marked keys computed from values a caller handed over (``note``).
        self._noted: dict[str, bytes] = {}

    def mark(self, keys: list[str]) -> None:
        """Remember entity keys a caller drained from ``state.changed`` for the next update.
        A value noted for one of them before no longer holds."""
        self._marked.update(keys)
        noted = self._noted
        if noted:
            for key in keys:
                noted.pop(key, None)

    def note(self, key: str, value: JsonValue) -> None:
        """Mark ``key`` with ``value``, its value in the state now (``state.entity(key)``),
        which the next update then uses instead of reading the state — unless ``key`` is
        marked again before (``mark``)."""
        self._marked.add(key)
        self._noted[key] = _ABSENT if value is None else element_hash(key, value)

    def update(self, state: State) -> None:
        """Fold in every entity changed since the last update: the marked keys and those still
        in ``state.changed`` (which this drains). Summing is order-free: keys are not sorted."""
        self.mark(state.drain_changed())  # a change not marked yet also voids a noted value
        added: list[bytes] = []
        removed: list[bytes] = []
        keys = self._marked
        elements, noted = self._elements, self._noted
        for key in keys:
            new = noted.get(key)
            if new is None:
                value = state.entity(key)
                new = _ABSENT if value is None else element_hash(key, value)
            old = elements.get(key)
            if old == new:
                continue  # unchanged: its vector would be taken out and put back
            if old is not None:
                removed.append(old)
            if new:
                elements[key] = new
                added.append(new)
            elif old is not None:
                del elements[key]
        self._marked = set()
        noted.clear()
        self._lanes += _sum_vectors(added)
        self._lanes -= _sum_vectors(removed)

    def digest(self) -> bytes:
        return hashlib.sha256(DIGEST_CONTEXT + self._lanes.astype("<u2").tobytes()).digest()


def full_digest(state: State) -> bytes:
    """The digest of ``state`` computed from scratch (does not touch ``state.changed``)."""
    elements = [element_hash(key, state.entity(key)) for key in state.entity_keys()]
    lanes = _sum_vectors(elements)
    return hashlib.sha256(DIGEST_CONTEXT + lanes.astype("<u2").tobytes()).digest()


def _sum_vectors(elements: list[bytes]) -> npt.NDArray[np.uint16]:
    """The lane-wise sum of the elements' vectors, ``_SUM_CHUNK`` vectors at a time (a replay
    of a million entities would otherwise hold gigabytes of vectors at once)."""
    summed: npt.NDArray[np.uint16] = np.zeros(LANES, dtype=np.uint16)
    for start in range(0, len(elements), _SUM_CHUNK):
        chunk = elements[start : start + _SUM_CHUNK]
        data = b"".join(blake3(e).digest(_VECTOR_BYTES) for e in chunk)
        vectors = np.frombuffer(data, dtype="<u2").reshape(len(chunk), LANES)
        summed += vectors.sum(axis=0, dtype=np.uint16)
    return summed


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


def state_digest(state: State) -> bytes:
    """Alias of ``full_digest``, kept for callers that digest a state once."""
    return full_digest(state)
