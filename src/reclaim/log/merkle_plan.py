"""The store side of the log's Merkle tree: node keys, proof plans, and a node store in memory.

Storage model. A *node* ``(level, index)`` is the perfect subtree of ``2**level`` leaves
``[index * 2**level, (index + 1) * 2**level)``. A perfect subtree never changes once its last leaf
is appended, so a store keeps exactly these nodes (the ones ``merkle.CompactRange.append``
returns), keyed by ``node_key(level, index)``. Any subtree the RFC names whose range is
``[a, n)`` with ``n`` not aligned (the right edge) is not stored: its hash is the right-to-left
fold of its perfect decomposition (the binary digits of ``n - a``, largest first).

Proofs (RFC 9162 §2.1.3.1 inclusion ``PATH``, §2.1.4.1 consistency ``PROOF``/``SUBPROOF``) are
*planned* from sizes alone: ``inclusion_plan`` and ``consistency_plan`` return the node keys to
fetch in one batch and how to fold them into proof elements, so a store answers a proof for any
leaf of a large log with one lookup and without rebuilding the tree. They are verified by
``reclaim.log.merkle``.

Invariants:

- every key a plan lists is a complete perfect subtree lying within ``[0, size)``;
- a plan lists at most ``2 * merkle_height_max`` keys (one or two covers per tree level).

Known limits: bounded to ``2**merkle_height_max`` leaves, so that a node key fits a signed
64-bit database integer.

Errors: ``ProofError`` (``reclaim.log.merkle``) for proof requests that cannot be answered
(index or sizes out of range); ``NodeLookupError`` (a ``LookupError``) when a store fails to
supply a planned node; ``assert`` for bugs (bad node keys, broken invariants).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from reclaim.core import limits
from reclaim.core.limits import merkle_leaves_max
from reclaim.log.merkle import (
    EMPTY_ROOT,
    HASH_SIZE_BYTES,
    CompactRange,
    ProofError,
    ProofErrorReason,
)

#: Bits of a node key that hold the index; the level sits above them.
_INDEX_BITS: Final = 41

_sha256 = hashlib.sha256


NodeId = tuple[int, int]
"""A perfect subtree ``(level, index)``: leaves ``[index * 2**level, (index + 1) * 2**level)``."""

NodeGetter = Callable[[Sequence[int]], Mapping[int, bytes]]
"""A store's batched lookup: node keys in, ``{key: hash}`` out."""


class NodeLookupError(LookupError):
    """A node store did not return a planned node, or returned a hash of the wrong length."""


# Node keys -------------------------------------------------------------------------------------


def node_key(level: int, index: int) -> int:
    """Pack a node id into one int below 2**47: ``level * 2**41 + index`` (fits a BIGINT)."""
    assert 0 <= level <= limits.merkle_height_max, f"node level {level} out of range"
    assert 0 <= index < 1 << _INDEX_BITS, f"node index {index} out of range"
    return (level << _INDEX_BITS) | index


def node_key_inverse(key: int) -> NodeId:
    """The ``(level, index)`` that ``node_key`` packed into ``key``."""
    level, index = key >> _INDEX_BITS, key & ((1 << _INDEX_BITS) - 1)
    assert key >= 0, f"node key {key} is negative"
    assert level <= limits.merkle_height_max, f"node key {key} has level {level}"
    return level, index


def frontier_nodes(size: int) -> list[NodeId]:
    """The nodes of ``CompactRange(size).hashes``, left to right (to reload it from a store)."""
    check_store_size(size)
    return list(perfect_cover(0, size))


# Proof plans ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProofPlan:
    """How to build a proof from stored nodes.

    ``elements[i]`` lists the perfect subtrees, left to right, whose right-to-left fold is proof
    element ``i``: one node for a perfect subtree, several for a right-edge subtree. An empty
    cover is the empty tree's root (only ``root_plan(0)`` has one).
    """

    elements: tuple[tuple[NodeId, ...], ...]

    def node_keys(self) -> list[int]:
        """The keys to fetch, deduplicated and sorted."""
        return sorted({node_key(level, index) for cover in self.elements for level, index in cover})

    def assemble(self, hashes: Mapping[int, bytes]) -> list[bytes]:
        """The proof, from ``hashes`` (``{node key: hash}``, a superset of ``node_keys()``)."""
        proof = []
        for cover in self.elements:
            parts = [_lookup(hashes, level, index) for level, index in cover]
            if not parts:
                proof.append(EMPTY_ROOT)
                continue
            h = parts[-1]
            for left in reversed(parts[:-1]):
                h = _sha256(b"\x01" + left + h).digest()
            proof.append(h)
        return proof


def _lookup(hashes: Mapping[int, bytes], level: int, index: int) -> bytes:
    h = hashes.get(node_key(level, index))
    if h is None:
        raise NodeLookupError(f"node (level {level}, index {index}) is missing from the store")
    if len(h) != HASH_SIZE_BYTES:
        raise NodeLookupError(
            f"node (level {level}, index {index}) from the store is {len(h)} bytes, not 32"
        )
    return h


def perfect_cover(begin: int, end: int) -> tuple[NodeId, ...]:
    """The perfect subtrees covering ``[begin, end)``, largest (leftmost) first.

    ``[begin, end)`` must be a subtree of the RFC tree: ``begin`` is a multiple of the smallest
    power of two that is at least ``end - begin``.
    """
    assert 0 <= begin <= end
    assert end == begin or begin % (1 << (end - begin - 1).bit_length()) == 0, (begin, end)
    parts = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        parts.append((level, begin >> level))
        begin += 1 << level
    return tuple(parts)


def _split(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1), where RFC 9162 §2.1.1 splits."""
    return 1 << ((n - 1).bit_length() - 1)


def root_plan(size: int) -> ProofPlan:
    """MTH of the first ``size`` leaves as a one-element plan (a historical root)."""
    check_store_size(size)
    return ProofPlan((perfect_cover(0, size),))


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, as nodes to fetch.

    Walks from the root down: at ``[lo, hi)`` with split ``k``, the subtree not holding
    ``index`` is a proof element (the RFC lists the deepest first, so the walk is reversed).
    """
    check_store_size(size)
    if not 0 <= index < size:
        raise ProofError(
            ProofErrorReason.index_out_of_range,
            f"leaf index {index} is not in a tree of size {size}",
        )
    covers = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            covers.append(perfect_cover(lo + k, hi))
            hi = lo + k
        else:
            covers.append(perfect_cover(lo, lo + k))
            lo += k
    covers.reverse()
    return ProofPlan(tuple(covers))


def consistency_plan(size1: int, size2: int) -> ProofPlan:
    """PROOF(size1, D[size2]) of RFC 9162 §2.1.4.1, as nodes to fetch.

    SUBPROOF unrolled: at ``[lo, hi)`` with split ``k``, if ``size1 - lo <= k`` the right part
    ``[lo + k, hi)`` is an element and the walk goes left, else the left part is an element and
    the walk goes right (and the subtree it ends on is no longer the whole old tree, so its root
    ends the proof). Empty when ``size1`` is 0 or ``size2``.
    """
    check_store_size(size2)
    if not 0 <= size1 <= size2:
        raise ProofError(
            ProofErrorReason.sizes_out_of_order,
            f"no consistency proof from size {size1} to size {size2}: "
            "the first size must be in [0, second size]",
        )
    if size1 in (0, size2):
        return ProofPlan(())
    covers = []
    lo, hi, whole = 0, size2, True
    while size1 != hi:
        k = _split(hi - lo)
        if size1 - lo <= k:
            covers.append(perfect_cover(lo + k, hi))
            hi = lo + k
        else:
            covers.append(perfect_cover(lo, lo + k))
            lo += k
            whole = False
    if not whole:
        covers.append(perfect_cover(lo, hi))
    covers.reverse()
    return ProofPlan(tuple(covers))


def check_store_size(size: int) -> None:
    if not 0 <= size <= merkle_leaves_max:
        raise ProofError(
            ProofErrorReason.size_out_of_range,
            f"tree size {size} is not in [0, 2**{limits.merkle_height_max}]",
        )


def inclusion_proof(index: int, size: int, get_nodes: NodeGetter) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``size``, with one lookup."""
    plan = inclusion_plan(index, size)
    return plan.assemble(get_nodes(plan.node_keys()))


def consistency_proof(size1: int, size2: int, get_nodes: NodeGetter) -> list[bytes]:
    """The consistency proof from the tree of ``size1`` to that of ``size2``, with one lookup."""
    plan = consistency_plan(size1, size2)
    return plan.assemble(get_nodes(plan.node_keys()))


def root_at(size: int, get_nodes: NodeGetter) -> bytes:
    """MTH of the first ``size`` leaves, with one lookup."""
    plan = root_plan(size)
    return plan.assemble(get_nodes(plan.node_keys()))[0]


class MemoryTree:
    """A log's node store in a dict, built with ``CompactRange`` (for tests and tools)."""

    __slots__ = ("_nodes", "_range")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._range = CompactRange()
        self._nodes: dict[int, bytes] = {}
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        return self._range.size

    @property
    def node_count(self) -> int:
        return len(self._nodes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        completed = self._range.append(leaf_hash)
        for level, index, h in completed:
            self._nodes[node_key(level, index)] = h
        return completed

    def root(self) -> bytes:
        return self._range.root()

    def get_nodes(self, keys: Sequence[int]) -> dict[int, bytes]:
        """The stored nodes among ``keys``; absent keys are left out."""
        return {k: self._nodes[k] for k in keys if k in self._nodes}

    def root_at(self, size: int) -> bytes:
        return root_at(size, self.get_nodes)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return inclusion_proof(index, size, self.get_nodes)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return consistency_proof(size1, size2, self.get_nodes)
