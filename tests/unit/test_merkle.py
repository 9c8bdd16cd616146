"""The Merkle tree against a naive reference written straight from RFC 9162 §2.1.

The reference (``ref_mth``, ``ref_path``, ``ref_proof``) is the RFC's recursive definitions,
character for character; the module under test builds roots level by level, stores perfect
subtrees with ``CompactRange`` and plans proofs from them. They must agree byte for byte.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.core import limits
from reclaim.core.limits import merkle_leaves_max
from reclaim.log.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    ProofErrorReason,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from reclaim.log.merkle_plan import (
    MemoryTree,
    NodeLookupError,
    ProofPlan,
    consistency_plan,
    frontier_nodes,
    inclusion_plan,
    node_key,
    node_key_inverse,
    root_plan,
)

# The reference: RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 --------------------------------------------


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) for 0 < m <= n."""
    return ref_subproof(m, d, True)


# Fixtures -------------------------------------------------------------------------------------

LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(1100)]
#: One store of 1100 leaves serves every smaller size, as the log's store does.
STORE = MemoryTree(LEAVES)

#: RFC 6962 test leaves (transparency-dev/merkle, Certificate Transparency) and their roots.
RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _flip(h: bytes, bit: int) -> bytes:
    return h[: bit // 8] + bytes([h[bit // 8] ^ (1 << (bit % 8))]) + h[bit // 8 + 1 :]


def _check_inclusion(index: int, size: int) -> None:
    d = LEAVES[:size]
    root = ref_mth(d)
    proof = STORE.inclusion_proof(index, size)
    assert proof == ref_path(index, d)
    verify_inclusion(LEAVES[index], index, size, proof, root)
    assert root_from_inclusion_proof(LEAVES[index], index, size, proof) == root


def _check_consistency(size1: int, size2: int) -> None:
    d = LEAVES[:size2]
    root1, root2 = ref_mth(d[:size1]), ref_mth(d)
    proof = STORE.consistency_proof(size1, size2)
    assert proof == (ref_proof(size1, d) if size1 > 0 else [])
    verify_consistency(size1, size2, proof, root1, root2)


# Hashing and roots ----------------------------------------------------------------------------


def test_hashes_are_rfc_9162() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == RFC6962_ROOTS[0]
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


def test_roots_of_the_rfc_6962_test_tree() -> None:
    hashes = [leaf_hash(x) for x in RFC6962_LEAVES]
    assert [root_from_leaf_hashes(hashes[:n]).hex() for n in range(1, 9)] == RFC6962_ROOTS
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


@given(st.integers(min_value=0, max_value=300))
def test_root_equals_reference(size: int) -> None:
    assert root_from_leaf_hashes(LEAVES[:size]) == ref_mth(LEAVES[:size])
    assert STORE.root_at(size) == ref_mth(LEAVES[:size])


@pytest.mark.parametrize("size", [1000, 1023, 1024, 1025, 1100])
def test_root_equals_reference_at_larger_sizes(size: int) -> None:
    assert root_from_leaf_hashes(LEAVES[:size]) == ref_mth(LEAVES[:size])
    assert STORE.root_at(size) == ref_mth(LEAVES[:size])


def test_root_from_leaf_hashes_refuses_a_hash_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match=r"^every leaf hash must be 32 bytes$"):
        root_from_leaf_hashes([LEAVES[0], LEAVES[1][:31]])


# The compact range ------------------------------------------------------------------------------


def test_compact_range_root_equals_full_root_at_every_size() -> None:
    compact = CompactRange()
    assert compact.root() == EMPTY_ROOT
    for size in range(1, len(LEAVES) + 1):
        compact.append(LEAVES[size - 1])
        assert compact.size == size
        assert len(compact.hashes) == size.bit_count()
        assert compact.root() == root_from_leaf_hashes(LEAVES[:size]), size


def test_append_returns_exactly_the_completed_nodes() -> None:
    compact = CompactRange()
    completed = [compact.append(h) for h in LEAVES[:8]]
    levels_and_indices = [[(level, index) for level, index, _ in nodes] for nodes in completed]
    assert levels_and_indices == [
        [(0, 0)],
        [(0, 1), (1, 0)],
        [(0, 2)],
        [(0, 3), (1, 1), (2, 0)],
        [(0, 4)],
        [(0, 5), (1, 2)],
        [(0, 6)],
        [(0, 7), (1, 3), (2, 1), (3, 0)],
    ]
    assert completed[7][-1][2] == ref_mth(LEAVES[:8])
    assert completed[5][-1][2] == ref_mth(LEAVES[4:6])


def test_nodes_stored_per_append_are_bounded() -> None:
    tree = MemoryTree()
    for size in range(1, len(LEAVES) + 1):
        completed = tree.append(LEAVES[size - 1])
        # 1 + trailing ones of the index: at most height + 1.
        assert len(completed) == 1 + ((size - 1) ^ size).bit_length() - 1
        assert len(completed) <= size.bit_length() + 1
        # 2n - popcount(n) nodes in all: fewer than 2 per leaf.
        assert tree.node_count == 2 * size - size.bit_count()


def test_compact_range_reloads_from_stored_nodes() -> None:
    for size in (0, 1, 6, 1023, 1024, 1100):
        keys = [node_key(level, index) for level, index in frontier_nodes(size)]
        stored = STORE.get_nodes(keys)
        reloaded = CompactRange(size, [stored[k] for k in keys])
        assert reloaded.root() == ref_mth(LEAVES[:size])
        if size < len(LEAVES):
            reloaded.append(LEAVES[size])
            assert reloaded.root() == ref_mth(LEAVES[: size + 1])


def test_compact_range_refuses_bad_state() -> None:
    with pytest.raises(ValueError, match=r"^a compact range of size 6 holds 2 hashes, not 1$"):
        CompactRange(6, [LEAVES[0]])
    with pytest.raises(ValueError, match=r"^compact range hash 1 is 3 bytes, not 32$"):
        CompactRange(3, [LEAVES[0], b"abc"])
    with pytest.raises(ValueError, match=r"^compact range size -1 is not in \[0, 2\*\*40\]$"):
        CompactRange(-1, [])
    with pytest.raises(ValueError, match=r"^leaf hash is 31 bytes, not 32$"):
        CompactRange().append(LEAVES[0][:31])
    full = CompactRange(merkle_leaves_max, [LEAVES[0]])
    with pytest.raises(ValueError, match=r"^the tree is full at 2\*\*40 leaves$"):
        full.append(LEAVES[1])


# Node keys --------------------------------------------------------------------------------------


def test_node_keys_round_trip_and_fit_a_bigint() -> None:
    corners = [(0, 0), (0, 2**40 - 1), (40, 0), (40, 2**41 - 1), (3, 12345)]
    for level, index in corners:
        key = node_key(level, index)
        assert node_key_inverse(key) == (level, index)
        assert 0 <= key < limits.integer_max
    assert node_key(1, 0) == 2**41
    assert node_key(40, 2**41 - 1) == 41 * 2**41 - 1


def test_node_keys_out_of_range_are_bugs() -> None:
    with pytest.raises(AssertionError, match="node level 41 out of range"):
        node_key(41, 0)
    with pytest.raises(AssertionError, match="node index 2199023255552 out of range"):
        node_key(0, 2**41)
    with pytest.raises(AssertionError, match="node key -1 is negative"):
        node_key_inverse(-1)


# Proofs from plans against the reference ------------------------------------------------------


def test_every_proof_of_small_trees() -> None:
    for size2 in range(1, 41):
        for m in range(size2):
            _check_inclusion(m, size2)
        for size1 in range(size2 + 1):
            _check_consistency(size1, size2)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_proofs_equal_reference(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=300), label="size")
    _check_inclusion(data.draw(st.integers(min_value=0, max_value=size - 1), label="index"), size)
    _check_consistency(data.draw(st.integers(min_value=0, max_value=size), label="size1"), size)


@pytest.mark.parametrize("size", [1000, 1023, 1024, 1025, 1100])
def test_proofs_equal_reference_at_larger_sizes(size: int) -> None:
    for m in sorted({0, 1, 511, 512, 513, 999, 1022, 1023, size - 2, size - 1}):
        if m < size:
            _check_inclusion(m, size)
    for size1 in sorted({1, 2, 511, 512, 513, 1000, 1023, 1024, size - 1, size}):
        if size1 <= size:
            _check_consistency(size1, size)


def test_proofs_of_a_larger_tree_verify() -> None:
    size = 100_003
    tree = MemoryTree(leaf_hash(i.to_bytes(4, "big")) for i in range(size))
    root = tree.root()
    assert root == root_from_leaf_hashes([leaf_hash(i.to_bytes(4, "big")) for i in range(size)])
    for m in (0, 1, 65535, 65536, 99_999, 100_000, 100_002):
        proof = tree.inclusion_proof(m, size)
        verify_inclusion(leaf_hash(m.to_bytes(4, "big")), m, size, proof, root)
    for size1 in (1, 7, 65536, 65537, 100_002):
        proof = tree.consistency_proof(size1, size)
        verify_consistency(size1, size, proof, tree.root_at(size1), root)


def _complete_within(level: int, index: int, size: int) -> bool:
    return (index + 1) << level <= size


@pytest.mark.parametrize(
    "index", [0, 1, 4_194_303, 4_194_304, 8_388_607, 8_388_608, 9_999_998, 9_999_999]
)
def test_inclusion_plan_in_ten_million_leaves_is_logarithmic(index: int) -> None:
    size = 10_000_000
    plan = inclusion_plan(index, size)
    keys = plan.node_keys()
    assert 0 < len(keys) <= 2 * limits.merkle_height_max
    assert len(plan.elements) == len(ref_path_shape(index, size))
    for key in keys:
        level, node_index = node_key_inverse(key)
        assert _complete_within(level, node_index, size), (level, node_index)


@pytest.mark.parametrize("size1", [1, 2, 3, 4_194_304, 8_388_607, 8_388_609, 9_999_999])
def test_consistency_plan_in_ten_million_leaves_is_logarithmic(size1: int) -> None:
    size = 10_000_000
    keys = consistency_plan(size1, size).node_keys()
    assert 0 < len(keys) <= 2 * limits.merkle_height_max
    for key in keys:
        assert _complete_within(*node_key_inverse(key), size)


def ref_path_shape(m: int, n: int) -> list[tuple[int, int]]:
    """The ranges of PATH(m, D[n]) (bottom first), from the RFC recursion on sizes alone."""
    lo, hi, ranges = 0, n, []
    while hi - lo > 1:
        k = _k(hi - lo)
        if m < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def test_plans_list_what_the_rfc_names() -> None:
    # Leaf 0 of 7: siblings leaf 1, node [2, 4), then right edge [4, 7) = node [4, 6) + leaf 6.
    assert inclusion_plan(0, 7) == ProofPlan((((0, 1),), ((1, 1),), ((1, 2), (0, 6))))
    # From 3 to 7: leaf 2, leaf 3, node [0, 2), right edge [4, 7).
    assert consistency_plan(3, 7) == ProofPlan((((0, 2),), ((0, 3),), ((1, 0),), ((1, 2), (0, 6))))
    # From 4 to 8: the old tree is a perfect subtree, so only [4, 8).
    assert consistency_plan(4, 8) == ProofPlan((((2, 1),),))
    assert consistency_plan(0, 8) == ProofPlan(())
    assert consistency_plan(8, 8) == ProofPlan(())
    assert root_plan(0) == ProofPlan(((),))
    assert root_plan(6) == ProofPlan((((2, 0), (1, 2)),))
    assert ProofPlan((((2, 0), (1, 2)), ((2, 0),))).node_keys() == [
        node_key(1, 2),
        node_key(2, 0),
    ]


def test_plans_refuse_impossible_requests() -> None:
    with pytest.raises(ProofError, match=r"^leaf index 7 is not in a tree of size 7$") as exc:
        inclusion_plan(7, 7)
    assert exc.value.reason is ProofErrorReason.index_out_of_range
    with pytest.raises(ProofError, match=r"^leaf index 0 is not in a tree of size 0$"):
        inclusion_plan(0, 0)
    with pytest.raises(ProofError, match=r"^leaf index -1 is not in a tree of size 3$"):
        inclusion_plan(-1, 3)
    with pytest.raises(ProofError, match=r"^no consistency proof from size 5 to size 4: ") as exc:
        consistency_plan(5, 4)
    assert exc.value.reason is ProofErrorReason.sizes_out_of_order
    with pytest.raises(ProofError, match=r"^tree size 1099511627777 is not in \[0, 2\*\*40\]$"):
        inclusion_plan(0, merkle_leaves_max + 1)
    with pytest.raises(ProofError, match=r"^tree size -1 is not in \[0, 2\*\*40\]$") as exc:
        root_plan(-1)
    assert exc.value.reason is ProofErrorReason.size_out_of_range


def test_assemble_reports_a_missing_or_bad_node() -> None:
    plan = inclusion_plan(0, 7)
    nodes = STORE.get_nodes(plan.node_keys())
    del nodes[node_key(1, 1)]
    with pytest.raises(
        NodeLookupError, match=r"^node \(level 1, index 1\) is missing from the store$"
    ):
        plan.assemble(nodes)
    nodes[node_key(1, 1)] = b"short"
    with pytest.raises(
        NodeLookupError, match=r"^node \(level 1, index 1\) from the store is 5 bytes, not 32$"
    ):
        plan.assemble(nodes)


# Verifier errors, each with its message ----------------------------------------------------------

SIZE = 7
ROOT7 = ref_mth(LEAVES[:SIZE])
PROOF_0_OF_7 = ref_path(0, LEAVES[:SIZE])
ROOT3 = ref_mth(LEAVES[:3])
PROOF_3_TO_7 = ref_proof(3, LEAVES[:SIZE])


def _raises(message: str) -> pytest.RaisesExc[ProofError]:
    return pytest.raises(ProofError, match="^" + re.escape(message) + "$")


@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize("bit", [0, 77, 255])
def test_flipped_bit_in_an_inclusion_proof(position: int, bit: int) -> None:
    proof = list(PROOF_0_OF_7)
    proof[position] = _flip(proof[position], bit)
    calculated = root_from_inclusion_proof(LEAVES[0], 0, SIZE, proof)
    assert calculated != ROOT7
    with _raises(
        f"inclusion proof for leaf 0 of a tree of size 7 gives root {calculated.hex()}, "
        f"not the expected {ROOT7.hex()}",
    ) as exc:
        verify_inclusion(LEAVES[0], 0, SIZE, proof, ROOT7)
    assert exc.value.reason is ProofErrorReason.root_mismatch


def test_inclusion_errors() -> None:
    leaf, proof, root = LEAVES[0], PROOF_0_OF_7, ROOT7
    cases: list[tuple[tuple[bytes, int, int, list[bytes], bytes], ProofErrorReason, str]] = [
        (
            (leaf, 7, 7, proof, root),
            ProofErrorReason.index_out_of_range,
            "leaf index 7 is not in a tree of size 7",
        ),
        (
            (leaf, 2**64 - 1, 7, proof, root),
            ProofErrorReason.index_out_of_range,
            "leaf index 18446744073709551615 is not in a tree of size 7",
        ),
        (
            (leaf, -1, 7, proof, root),
            ProofErrorReason.index_out_of_range,
            "leaf index -1 is not in a tree of size 7",
        ),
        (
            (leaf, 0, 2**64, proof, root),
            ProofErrorReason.size_out_of_range,
            "tree size 18446744073709551616 is not in [0, 2**64 - 1]",
        ),
        (
            (leaf, 0, 7, [*proof, root], root),
            ProofErrorReason.wrong_proof_length,
            "inclusion proof has 4 hashes; leaf 0 of a tree of size 7 needs exactly 3",
        ),
        (
            (leaf, 0, 7, proof[:2], root),
            ProofErrorReason.wrong_proof_length,
            "inclusion proof has 2 hashes; leaf 0 of a tree of size 7 needs exactly 3",
        ),
        (
            (leaf[:31], 0, 7, proof, root),
            ProofErrorReason.bad_hash_length,
            "leaf hash is 31 bytes, not 32",
        ),
        (
            (leaf, 0, 7, [proof[0], proof[1] + b"\x00", proof[2]], root),
            ProofErrorReason.bad_hash_length,
            "proof hash 1 is 33 bytes, not 32",
        ),
        ((leaf, 0, 7, proof, b""), ProofErrorReason.bad_hash_length, "root is 0 bytes, not 32"),
        (
            (LEAVES[1], 0, 7, proof, root),
            ProofErrorReason.root_mismatch,
            "inclusion proof for leaf 0 of a tree of size 7 gives root "
            f"{root_from_inclusion_proof(LEAVES[1], 0, 7, proof).hex()}, "
            f"not the expected {root.hex()}",
        ),
    ]
    for args, reason, message in cases:
        with _raises(message) as exc:
            verify_inclusion(*args)
        assert exc.value.reason is reason, message


def test_consistency_errors() -> None:
    proof, r3, r7 = PROOF_3_TO_7, ROOT3, ROOT7
    r6 = ref_mth(LEAVES[:6])
    cases: list[tuple[tuple[int, int, list[bytes], bytes, bytes], ProofErrorReason, str]] = [
        (
            (2**64, 2**64, [], r3, r3),
            ProofErrorReason.size_out_of_range,
            "first tree size 18446744073709551616 is not in [0, 2**64 - 1]",
        ),
        (
            (3, -7, [], r3, r7),
            ProofErrorReason.size_out_of_range,
            "second tree size -7 is not in [0, 2**64 - 1]",
        ),
        (
            (7, 3, proof, r7, r3),
            ProofErrorReason.sizes_out_of_order,
            "first tree size 7 is larger than second tree size 3",
        ),
        (
            (3, 7, proof[1:], r3, r7),
            ProofErrorReason.wrong_proof_length,
            "consistency proof has 3 hashes; from size 3 to size 7 needs exactly 4",
        ),
        (
            (3, 7, [], r3, r7),
            ProofErrorReason.wrong_proof_length,
            "consistency proof has 0 hashes; from size 3 to size 7 needs exactly 4",
        ),
        (
            (7, 7, [r7], r7, r7),
            ProofErrorReason.wrong_proof_length,
            "consistency proof has 1 hashes; from size 7 to size 7 needs exactly 0",
        ),
        (
            (0, 7, [r7], EMPTY_ROOT, r7),
            ProofErrorReason.wrong_proof_length,
            "consistency proof has 1 hashes; from size 0 to size 7 needs exactly 0",
        ),
        (
            (3, 7, proof, r3[:5], r7),
            ProofErrorReason.bad_hash_length,
            "root1 is 5 bytes, not 32",
        ),
        (
            (3, 7, proof, r3, r7 + b"\x00"),
            ProofErrorReason.bad_hash_length,
            "root2 is 33 bytes, not 32",
        ),
        (
            (3, 7, [*proof[:3], b""], r3, r7),
            ProofErrorReason.bad_hash_length,
            "proof hash 3 is 0 bytes, not 32",
        ),
        (
            (0, 7, [], EMPTY_ROOT, r7[:31]),
            ProofErrorReason.bad_hash_length,
            "root2 is 31 bytes, not 32",
        ),
        (
            (7, 7, [], r7, r6),
            ProofErrorReason.root_mismatch,
            f"trees of equal size 7 have different roots {r7.hex()} and {r6.hex()}",
        ),
        (
            (0, 7, [], r3, r7),
            ProofErrorReason.root_mismatch,
            f"root1 of the empty tree is {r3.hex()}, not SHA-256() = {EMPTY_ROOT.hex()}",
        ),
        (
            (0, 0, [], EMPTY_ROOT, r3),
            ProofErrorReason.root_mismatch,
            f"root2 of the empty tree is {r3.hex()}, not SHA-256() = {EMPTY_ROOT.hex()}",
        ),
        (
            (3, 7, proof, r6, r7),
            ProofErrorReason.root_mismatch,
            f"consistency proof from size 3 to size 7 gives root1 {r3.hex()}, "
            f"not the expected {r6.hex()}",
        ),
        (
            (3, 7, proof, r3, r6),
            ProofErrorReason.root_mismatch,
            f"consistency proof from size 3 to size 7 gives root2 {r7.hex()}, "
            f"not the expected {r6.hex()}",
        ),
    ]
    for args, reason, message in cases:
        with _raises(message) as exc:
            verify_consistency(*args)
        assert exc.value.reason is reason, message


def test_trivial_consistency_cases_pass() -> None:
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    verify_consistency(0, 7, [], EMPTY_ROOT, ROOT7)
    verify_consistency(7, 7, [], ROOT7, ROOT7)


@pytest.mark.parametrize("position", [0, 1, 2, 3])
def test_flipped_bit_in_a_consistency_proof(position: int) -> None:
    proof = list(PROOF_3_TO_7)
    proof[position] = _flip(proof[position], 100)
    with pytest.raises(
        ProofError, match=r"^consistency proof from size 3 to size 7 gives root[12] [0-9a-f]{64}, "
    ) as exc:
        verify_consistency(3, 7, proof, ROOT3, ROOT7)
    assert exc.value.reason is ProofErrorReason.root_mismatch
