"""The Merkle tree of the public log: RFC 9162 (Certificate Transparency 2.0), section 2.1.

Pure: ``hashlib`` only; no clock, I/O or randomness. This module holds what a verifier needs:
the hashes, the compact range that computes a root leaf by leaf, and the verification of
inclusion and consistency proofs. The store side (node keys, proof plans, ``MemoryTree``) is
``reclaim.log.merkle_plan``.

Hashing (RFC 9162 §2.1.1, identical to RFC 6962 §2.1):

- ``MTH({}) = SHA-256()`` (``EMPTY_ROOT``);
- leaf hash ``= SHA-256(0x00 || data)``; interior node ``= SHA-256(0x01 || left || right)``;
- a tree of ``n > 1`` leaves splits at ``k``, the largest power of two smaller than ``n``:
  ``MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))``. Equivalently, built level by level, a node
  without a right sibling at the right edge is carried up unchanged.

``CompactRange`` holds the perfect subtrees covering ``[0, size)`` (the right frontier);
``append`` returns the nodes each append completes (the leaf and at most ``height`` parents;
two per leaf amortised), which a store keeps (``reclaim.log.merkle_plan``).

Verification follows the algorithms of RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
(consistency) step by step, after checking the proof length and every hash length up front so
that an error names exactly what is wrong.

Invariants:

- ``CompactRange(n).root() == root_from_leaf_hashes(first n leaf hashes)`` for every ``n``;
- a ``CompactRange`` holds ``popcount(size)`` hashes, largest subtree first.

Known limits:

- ``CompactRange`` and ``root_from_leaf_hashes`` are bounded to ``2**merkle_height_max``
  leaves (as the store side); verifiers accept any tree size up to ``limits.tree_size_max``
  (RFC 9162 sizes are uint64);
- SHA-256 only (RFC 9162 allows other hash algorithms; C2SP checkpoints here use SHA-256);
- when ``size1 == size2 > 0`` ``verify_consistency`` compares the two roots as given, without
  checking their length: there is nothing to hash, and the transparency-dev vectors accept
  equal roots of any length in that case.

Errors: ``ProofError`` (a ``ValueError``) with a ``reason`` (``ProofErrorReason``) and a message
naming the bad value, for proofs that fail to verify and for proof requests that cannot be
answered (index or sizes out of range; raised by ``reclaim.log.merkle_plan`` too); ``assert``
for bugs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import StrEnum
from typing import Final

from reclaim.core import limits
from reclaim.core.limits import merkle_leaves_max
from reclaim.log.reasons import ReasonError

HASH_SIZE_BYTES: Final = 32
#: MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1).
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


class ProofErrorReason(StrEnum):
    """Why a proof failed or could not be planned, in the order the checks run."""

    size_out_of_range = "size_out_of_range"
    index_out_of_range = "index_out_of_range"
    sizes_out_of_order = "sizes_out_of_order"
    wrong_proof_length = "wrong_proof_length"
    bad_hash_length = "bad_hash_length"
    root_mismatch = "root_mismatch"


class ProofError(ReasonError[ProofErrorReason]):
    """A Merkle proof that does not verify, or a proof request that has no answer."""


# Hashing -----------------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of the leaves whose hashes are given (RFC 9162 §2.1.1), level by level.

    A node without a right sibling carries up unchanged, which gives the RFC's split at the
    largest power of two smaller than n. The loop body is one inline ``sha256`` call per node.
    Raises ``ValueError`` for more than ``merkle_leaves_max`` leaves or a hash that is not 32 bytes.
    """
    n = len(hashes)
    if n > merkle_leaves_max:
        raise ValueError(f"{n} leaves is more than 2**{limits.merkle_height_max}")
    if n == 0:
        return EMPTY_ROOT
    if set(map(len, hashes)) != {HASH_SIZE_BYTES}:
        raise ValueError("every leaf hash must be 32 bytes")
    sha256 = _sha256
    level = hashes
    while len(level) > 1:
        pairs = iter(level)
        # zip(pairs, pairs) walks adjacent pairs; a last odd node is dropped, then carried up.
        parents = [sha256(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs, strict=False)]
        if len(level) & 1:
            parents.append(level[-1])
        level = parents
    return level[0]


# The compact range -------------------------------------------------------------------------------


class CompactRange:
    """The perfect subtrees covering leaves ``[0, size)``: the right frontier of the tree.

    ``hashes`` holds one hash per set bit of ``size``, largest subtree (leftmost) first, so at
    most ``merkle_height_max`` of them. Appending a leaf is O(log n); the root is their
    right-to-left fold.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Reload a range saved as ``(size, hashes)``; the nodes are ``frontier_nodes(size)``."""
        if not 0 <= size <= merkle_leaves_max:
            raise ValueError(f"compact range size {size} is not in [0, 2**40]")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a compact range of size {size} holds {size.bit_count()} hashes, not {len(hashes)}"
            )
        for position, h in enumerate(hashes):
            if len(h) != HASH_SIZE_BYTES:
                raise ValueError(f"compact range hash {position} is {len(h)} bytes, not 32")
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; return the nodes it completes as ``(level, index, hash)``, leaf first.

        A leaf at an odd index completes its parent, which completes its own parent if it is a
        right child, and so on: ``1 + trailing ones of the index`` nodes in all.
        """
        if len(leaf_hash) != HASH_SIZE_BYTES:
            raise ValueError(f"leaf hash is {len(leaf_hash)} bytes, not 32")
        if self._size >= merkle_leaves_max:
            raise ValueError(f"the tree is full at 2**{limits.merkle_height_max} leaves")
        index = self._size
        h = leaf_hash
        completed = [(0, index, h)]
        level = 0
        while index & 1:
            h = _sha256(b"\x01" + self._hashes.pop() + h).digest()
            level += 1
            index >>= 1
            completed.append((level, index, h))
        self._hashes.append(h)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """MTH of the leaves so far: fold the frontier from the right (RFC 9162 §2.1.1)."""
        if not self._hashes:
            return EMPTY_ROOT
        h = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            h = _sha256(b"\x01" + left + h).digest()
        return h

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size})"


# Verification --------------------------------------------------------------------------------


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that ``proof`` gives for ``leaf_hash`` at ``index`` (RFC 9162 §2.1.3.2 steps 1-4).

    Raises ``ProofError`` if the index is not in the tree, the proof has the wrong number of
    hashes for ``(index, size)``, or any hash is not 32 bytes.
    """
    _check_verifier_size(size, "tree size")
    if not 0 <= index < size:
        raise ProofError(
            ProofErrorReason.index_out_of_range,
            f"leaf index {index} is not in a tree of size {size}",
        )
    want = _inclusion_proof_length(index, size)
    if len(proof) != want:
        raise ProofError(
            ProofErrorReason.wrong_proof_length,
            f"inclusion proof has {len(proof)} hashes; leaf {index} of a tree of size {size} "
            f"needs exactly {want}",
        )
    _check_hash(leaf_hash, "leaf hash")
    _check_proof_hashes(proof)
    # §2.1.3.2 step 2-4.
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        assert sn != 0, "step 4a: unreachable once the proof length is checked"
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    assert sn == 0, "step 5: sn is 0 once the proof length is checked"
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: return if ``proof`` shows ``leaf_hash`` at ``index`` under ``root``.

    Raises ``ProofError`` naming the first thing that is wrong.
    """
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    _check_hash(root, "root")
    if calculated != root:
        raise ProofError(
            ProofErrorReason.root_mismatch,
            f"inclusion proof for leaf {index} of a tree of size {size} gives root "
            f"{calculated.hex()}, not the expected {root.hex()}",
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2: return if ``proof`` shows tree ``(size1, root1)`` is a prefix of
    ``(size2, root2)``.

    Cases the RFC algorithm leaves to the caller: ``size1 == size2`` needs an empty proof and
    equal roots; a tree of size 0 must have root ``EMPTY_ROOT``, and every tree extends it with
    an empty proof. Raises ``ProofError`` naming the first thing that is wrong.
    """
    _check_verifier_size(size1, "first tree size")
    _check_verifier_size(size2, "second tree size")
    if size1 > size2:
        raise ProofError(
            ProofErrorReason.sizes_out_of_order,
            f"first tree size {size1} is larger than second tree size {size2}",
        )
    if size1 == size2 or size1 == 0:
        _verify_trivial_consistency(size1, size2, proof, root1, root2)
        return
    want = _consistency_proof_length(size1, size2)
    if len(proof) != want:
        raise ProofError(
            ProofErrorReason.wrong_proof_length,
            f"consistency proof has {len(proof)} hashes; from size {size1} to size {size2} "
            f"needs exactly {want}",
        )
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")
    _check_proof_hashes(proof)
    fr, sr = _roots_from_consistency_proof(size1, size2, proof, root1)
    if fr != root1:
        raise ProofError(
            ProofErrorReason.root_mismatch,
            f"consistency proof from size {size1} to size {size2} gives root1 {fr.hex()}, "
            f"not the expected {root1.hex()}",
        )
    if sr != root2:
        raise ProofError(
            ProofErrorReason.root_mismatch,
            f"consistency proof from size {size1} to size {size2} gives root2 {sr.hex()}, "
            f"not the expected {root2.hex()}",
        )


def _verify_trivial_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """size1 == size2, or size1 == 0: no hashing, the proof must be empty."""
    if proof:
        raise ProofError(
            ProofErrorReason.wrong_proof_length,
            f"consistency proof has {len(proof)} hashes; from size {size1} to size {size2} "
            "needs exactly 0",
        )
    if size1 == 0:
        if root1 != EMPTY_ROOT:
            raise ProofError(
                ProofErrorReason.root_mismatch,
                f"root1 of the empty tree is {root1.hex()}, not SHA-256() = {EMPTY_ROOT.hex()}",
            )
        if size2 == 0 and root2 != EMPTY_ROOT:
            raise ProofError(
                ProofErrorReason.root_mismatch,
                f"root2 of the empty tree is {root2.hex()}, not SHA-256() = {EMPTY_ROOT.hex()}",
            )
        _check_hash(root2, "root2")
        return
    if root1 != root2:
        raise ProofError(
            ProofErrorReason.root_mismatch,
            f"trees of equal size {size1} have different roots {root1.hex()} and {root2.hex()}",
        )


def _roots_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2 steps 2-6 for 0 < size1 < size2 and a proof of the right length."""
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # step 2: size1 is a power of two
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        assert sn != 0, "step 6a: unreachable once the proof length is checked"
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    assert sn == 0, "step 7: sn is 0 once the proof length is checked"
    return fr, sr


def _inclusion_proof_length(index: int, size: int) -> int:
    """Hashes in PATH(index, D[size]): the levels where the paths to ``index`` and to the last
    leaf differ (``inner``), plus one per left sibling above them (``border``)."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_proof_length(size1: int, size2: int) -> int:
    """Hashes in PROOF(size1, D[size2]) for 0 < size1 < size2: the inclusion path of leaf
    ``size1 - 1`` above the level of the largest perfect subtree ending at ``size1``, plus that
    subtree's root unless it is the whole old tree (size1 a power of two)."""
    shift = (size1 & -size1).bit_length() - 1
    length = _inclusion_proof_length(size1 - 1, size2) - shift
    return length if size1 == 1 << shift else length + 1


def _check_verifier_size(size: int, what: str) -> None:
    if not 0 <= size <= limits.tree_size_max:
        raise ProofError(
            ProofErrorReason.size_out_of_range, f"{what} {size} is not in [0, 2**64 - 1]"
        )


def _check_hash(h: bytes, what: str) -> None:
    if len(h) != HASH_SIZE_BYTES:
        raise ProofError(ProofErrorReason.bad_hash_length, f"{what} is {len(h)} bytes, not 32")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, h in enumerate(proof):
        _check_hash(h, f"proof hash {position}")
