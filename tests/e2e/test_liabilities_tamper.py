"""A dishonest operator's liabilities snapshots, each refused by the creditor's offline check.

The creditor's side is what ``reclaim verify-liabilities PROOF.json`` does: read the proof file
(``load_proof``), open the log's published checkpoint with the log key, and ``verify_proof``.
The operator holds the log key, so it can sign any statement it likes; what it cannot do is
make a false statement agree with every creditor's proof.

Snapshots (one asset, BTC, so the shapes are easy to follow)::

    HONEST   300 creditors, acct-000 .. acct-299, balances from a seeded RNG; 9-step paths
    SMALL    8 creditors with balances 100, 200, ..., 800: a perfect tree of 3 levels

Every test changes one thing and asserts the exact refusal: kind and message.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from reclaim.log.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from reclaim.log.keys import SignerKey
from reclaim.log.liabilities.build import Snapshot, build_snapshot, proof_for
from reclaim.log.liabilities.errors import (
    LiabilityInputError,
    LiabilityNotFoundError,
    LiabilityProofError,
    LiabilityProofErrorKind,
)
from reclaim.log.liabilities.hashing import leaf_hash, node_hash
from reclaim.log.liabilities.proof import PathStep, load_proof, proof_to_json
from reclaim.log.liabilities.statement import AssetTotal, render_statement
from reclaim.log.liabilities.verify import verify_proof
from reclaim.log.note import sign_note

ORIGIN = "reclaim.test/log"
LOG = SignerKey.from_seed(ORIGIN, hashlib.sha256(b"tamper log key").digest())
OTHER = SignerKey.from_seed("reclaim.test/other", hashlib.sha256(b"tamper other key").digest())
SECRET = hashlib.sha256(b"tamper snapshot secret").digest()
SNAPSHOT_ID = "7"
#: The checkpoint the log published at size 1234; the creditor fetched and opened it.
PUBLISHED = open_checkpoint(
    sign_checkpoint(Checkpoint(ORIGIN, 1234, hashlib.sha256(b"published").digest()), LOG),
    LOG.verifier,
)
Kind = LiabilityProofErrorKind

_rng = random.Random(5)
ROWS = [(f"acct-{n:03d}", "BTC", _rng.randrange(10**6, 10**9)) for n in range(300)]
SMALL_ROWS = [(f"small-{n}", "BTC", 100 * (n + 1)) for n in range(8)]


def _build(rows: list[tuple[str, str, int]], checkpoint: Checkpoint = PUBLISHED) -> Snapshot:
    return build_snapshot(rows, SECRET, SNAPSHOT_ID, checkpoint, LOG)


HONEST = _build(ROWS)
SMALL = _build(SMALL_ROWS)


def _exact(message: str) -> str:
    return "^" + re.escape(message) + "$"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _account_at(snapshot: Snapshot, rows: list[tuple[str, str, int]], index: int) -> str:
    return next(a for a, x, _ in rows if proof_for(snapshot, a, x)["index"] == str(index))


def _check(tmp_path: Path, proof: Mapping[str, Any]) -> None:
    """``reclaim verify-liabilities PROOF.json``: through a file, against the published head."""
    file = tmp_path / "proof.json"
    file.write_bytes(proof_to_json(proof))
    verify_proof(load_proof(file.read_bytes()), LOG.verifier, PUBLISHED)


def _refused(
    tmp_path: Path, proof: Mapping[str, Any], kind: LiabilityProofErrorKind, message: str
) -> None:
    with pytest.raises(LiabilityProofError, match=_exact(message)) as caught:
        _check(tmp_path, proof)
    assert caught.value.kind is kind


def _forge(
    snapshot: Snapshot,
    *,
    total: int | None = None,
    checkpoint: Checkpoint | None = None,
    assets: tuple[AssetTotal, ...] | None = None,
    signer: SignerKey = LOG,
) -> str:
    """A statement the operator signs after changing one thing in it."""
    statement = snapshot.statement
    lines = statement.assets if assets is None else assets
    if total is not None:
        lines = tuple(AssetTotal(a.asset, total, a.leaf_count, a.root) for a in lines)
    cp = checkpoint or Checkpoint(
        statement.origin, statement.checkpoint_size, statement.checkpoint_root
    )
    text = render_statement(cp.origin, statement.snapshot_id, cp.size, cp.root, lines)
    return sign_note(text, [signer])


def _steps(proof: Mapping[str, Any]) -> list[PathStep]:
    steps = [PathStep.decode(text) for text in proof["path"]]
    assert all(step is not None for step in steps)
    return steps  # type: ignore[return-value]


def _fold(proof: Mapping[str, Any], steps: list[PathStep]) -> bytes:
    """The root the verifier computes, for a leaf in the perfect part of a tree: the sibling
    at step k is on the left iff bit k of the index is set."""
    index, balance = int(proof["index"]), int(proof["balance"])
    h = leaf_hash(base64.b64decode(proof["salt"]), proof["account"], proof["asset"], balance)
    s = balance
    for k, step in enumerate(steps):
        if index >> k & 1:
            h = node_hash(step.sibling_hash, step.sibling_sum, h, s)
        else:
            h = node_hash(h, s, step.sibling_hash, step.sibling_sum)
        s += step.sibling_sum
    return h


def _record(sibling_hash: bytes, sibling_sum: int, parent_sum: int) -> str:
    """A path step with any 64-bit values, negative ones in two's complement."""
    raw = sibling_hash + sibling_sum.to_bytes(8, "big", signed=True)
    return _b64(raw + parent_sum.to_bytes(8, "big", signed=True))


def test_the_honest_snapshot_verifies(tmp_path: Path) -> None:
    for account, asset, _ in ROWS[:20] + SMALL_ROWS:
        snapshot = SMALL if account.startswith("small") else HONEST
        _check(tmp_path, proof_for(snapshot, account, asset))


# 1. A snapshot that omits one creditor ---------------------------------------------------------


def test_an_omitted_creditor_finds_no_proof_and_their_honest_proof_fails(tmp_path: Path) -> None:
    victim = _account_at(HONEST, ROWS, 0)
    balance = next(b for a, _, b in ROWS if a == victim)
    dishonest = _build([r for r in ROWS if r[0] != victim])
    honest_line, dishonest_line = HONEST.statement.assets[0], dishonest.statement.assets[0]
    assert dishonest_line.total == honest_line.total - balance
    assert dishonest_line.leaf_count == 299
    with pytest.raises(
        LiabilityNotFoundError,
        match=_exact(f"account {victim!r} has no BTC liability in snapshot 7"),
    ):
        proof_for(dishonest, victim, "BTC")
    proof = {**proof_for(HONEST, victim, "BTC"), "statement": dishonest.statement_note}
    _refused(
        tmp_path,
        proof,
        Kind.root_mismatch,
        f"BTC leaf 0 of {victim!r}: the path gives root {_b64(honest_line.root)}, "
        f"but the statement's BTC root is {_b64(dishonest_line.root)}",
    )


# 2. A negative leaf ------------------------------------------------------------------------------


def test_a_negative_leaf_is_refused_at_build() -> None:
    with pytest.raises(
        LiabilityInputError,
        match=_exact(
            "liability 300: BTC balance of 'mallory' is -500, negative: "
            "a liability is never negative"
        ),
    ):
        _build([*ROWS, ("mallory", "BTC", -500)])


def test_a_negative_sibling_sum_is_refused(tmp_path: Path) -> None:
    """The operator hashes a leaf of -500 in two's complement next to the creditor's leaf."""
    victim = _account_at(HONEST, ROWS, 0)
    proof = proof_for(HONEST, victim, "BTC")
    steps = _steps(proof)
    balance = int(proof["balance"])
    path = [_record(steps[0].sibling_hash, -500, balance - 500), *proof["path"][1:]]
    _refused(
        tmp_path,
        {**proof, "path": path},
        Kind.sum_out_of_range,
        "path step 0 (node over leaves [0, 2)): sibling sum 18446744073709551116 is more than "
        "2**63 - 1: it is -500 as a signed 64-bit integer, a negative amount",
    )
    _refused(
        tmp_path,
        {**proof, "balance": "-500"},
        Kind.sum_out_of_range,
        "leaf balance -500 is negative: amounts are unsigned",
    )


# 3. A changed sum --------------------------------------------------------------------------------


def test_a_changed_sibling_sum_is_refused_by_name(tmp_path: Path) -> None:
    victim = _account_at(HONEST, ROWS, 0)
    proof = proof_for(HONEST, victim, "BTC")
    steps = _steps(proof)
    own = int(proof["balance"]) + sum(s.sibling_sum for s in steps[:3])
    lowered = steps[3].sibling_sum - 1000
    path = list(proof["path"])
    path[3] = PathStep(steps[3].sibling_hash, lowered, steps[3].parent_sum).encode()
    _refused(
        tmp_path,
        {**proof, "path": path},
        Kind.node_sum_mismatch,
        f"path step 3 (node over leaves [0, 16)): its sum is {steps[3].parent_sum}, but its "
        f"children sum to {own} + {lowered} = {own + lowered}",
    )


def test_a_lowered_sum_with_consistent_parents_and_total_fails_the_root(tmp_path: Path) -> None:
    """The sums add up all the way to a re-signed, lower total; the hashes do not."""
    victim = _account_at(HONEST, ROWS, 0)
    proof = proof_for(HONEST, victim, "BTC")
    steps = _steps(proof)
    forged = [
        PathStep(s.sibling_hash, s.sibling_sum - 1000 * (k == 3), s.parent_sum - 1000 * (k >= 3))
        for k, s in enumerate(steps)
    ]
    line = HONEST.statement.assets[0]
    statement = _forge(HONEST, total=line.total - 1000)
    proof = {**proof, "statement": statement, "path": [s.encode() for s in forged]}
    _refused(
        tmp_path,
        proof,
        Kind.root_mismatch,
        f"BTC leaf 0 of {victim!r}: the path gives root {_b64(_fold(proof, forged))}, "
        f"but the statement's BTC root is {_b64(line.root)}",
    )


def test_a_changed_total_is_refused(tmp_path: Path) -> None:
    victim = _account_at(HONEST, ROWS, 0)
    line = HONEST.statement.assets[0]
    proof = {**proof_for(HONEST, victim, "BTC"), "statement": _forge(HONEST, total=line.total - 1)}
    _refused(
        tmp_path,
        proof,
        Kind.total_mismatch,
        f"BTC: the root's children sum to {line.total}, but the statement's BTC total is "
        f"{line.total - 1}",
    )


# 4. The max-of-children trick (Hu, Zhang, Guo 2018; Ji, Chalkias) ---------------------------------


def _maxwell_node(left: tuple[bytes, int], right: tuple[bytes, int], published_sum: int) -> bytes:
    """Maxwell's node hash: over the node's sum and the children's hashes, not their sums."""
    return hashlib.sha256(str(published_sum).encode() + left[0] + right[0]).digest()


def _sums_only_check(
    leaf: tuple[bytes, int], path: list[tuple[bytes, int, int, bool]], root: bytes, total: int
) -> bool:
    """A Maxwell customer's check: each parent sum is child + sibling, the hash chain (of
    Maxwell node hashes) reaches the root, and the top sum is the total."""
    h, s = leaf
    for sibling_hash, sibling_sum, parent_sum, sibling_is_left in path:
        if parent_sum != s + sibling_sum:
            return False
        pair = (
            ((sibling_hash, sibling_sum), (h, s))
            if sibling_is_left
            else ((h, s), (sibling_hash, sibling_sum))
        )
        h, s = _maxwell_node(*pair, parent_sum), parent_sum
    return h == root and s == total


def test_the_max_trick_passes_a_maxwell_tree() -> None:
    """Four customers of 100, 200, 300, 400. The operator publishes max(300, 700) = 700 as the
    root's sum and tells each side the sibling sum that makes its arithmetic add up."""
    leaves = [(hashlib.sha256(b"customer %d" % n).digest(), 100 * (n + 1)) for n in range(4)]
    left = (_maxwell_node(leaves[0], leaves[1], 300), 300)
    right = (_maxwell_node(leaves[2], leaves[3], 700), 700)
    published = max(left[1], right[1])
    root = _maxwell_node(left, right, published)
    for n, leaf in enumerate(leaves):
        neighbour = leaves[n ^ 1]
        lower = (neighbour[0], neighbour[1], leaf[1] + neighbour[1], n & 1 == 1)
        if n < 2:  # under the left child: the right sibling's sum is said to be 700 - 300
            upper = (right[0], published - left[1], published, False)
        else:  # under the right child: the left sibling's sum is said to be 700 - 700
            upper = (left[0], published - right[1], published, True)
        assert _sums_only_check(leaf, [lower, upper], root, published)
    assert published < sum(b for _, b in leaves)


def test_the_max_trick_is_refused_naming_the_node(tmp_path: Path) -> None:
    """In SMALL, the node over leaves [0, 4) has children [0, 2) and [2, 4). The operator
    publishes max(left, right) as its sum, and a total lowered to match, re-signed."""
    first = _account_at(SMALL, SMALL_ROWS, 0)
    proof = proof_for(SMALL, first, "BTC")
    steps = _steps(proof)
    left_sum = int(proof["balance"]) + steps[0].sibling_sum
    right_sum = steps[1].sibling_sum
    published = max(left_sum, right_sum)
    total = published + steps[2].sibling_sum
    path = [
        proof["path"][0],
        PathStep(steps[1].sibling_hash, right_sum, published).encode(),
        PathStep(steps[2].sibling_hash, steps[2].sibling_sum, total).encode(),
    ]
    proof = {**proof, "statement": _forge(SMALL, total=total), "path": path}
    _refused(
        tmp_path,
        proof,
        Kind.node_sum_mismatch,
        f"path step 1 (node over leaves [0, 4)): its sum is {published}, but its children sum "
        f"to {left_sum} + {right_sum} = {left_sum + right_sum}",
    )


@pytest.mark.parametrize("index", [0, 2])
def test_the_max_trick_with_maxwell_sibling_sums_fails_the_root_on_both_sides(
    tmp_path: Path, index: int
) -> None:
    """As a Maxwell operator would: each side is told the sibling sum that makes ``max`` add
    up, so a sums-only check passes; but the node hash committed to each child's real sum."""
    account = _account_at(SMALL, SMALL_ROWS, index)
    proof = proof_for(SMALL, account, "BTC")
    steps = _steps(proof)
    own = int(proof["balance"]) + steps[0].sibling_sum
    published = max(own, steps[1].sibling_sum)
    total = published + steps[2].sibling_sum
    forged = [
        steps[0],
        PathStep(steps[1].sibling_hash, published - own, published),
        PathStep(steps[2].sibling_hash, steps[2].sibling_sum, total),
    ]
    assert all(
        s.parent_sum == c + s.sibling_sum
        for s, c in zip(forged, [int(proof["balance"]), own, published], strict=True)
    )
    proof = {**proof, "statement": _forge(SMALL, total=total), "path": [s.encode() for s in forged]}
    _refused(
        tmp_path,
        proof,
        Kind.root_mismatch,
        f"BTC leaf {index} of {account!r}: the path gives root {_b64(_fold(proof, forged))}, "
        f"but the statement's BTC root is {_b64(SMALL.statement.assets[0].root)}",
    )


def test_the_max_trick_at_the_root_is_a_total_mismatch(tmp_path: Path) -> None:
    """Honest path, but the statement's total is max(left, right) of the root's children."""
    first = _account_at(SMALL, SMALL_ROWS, 0)
    proof = proof_for(SMALL, first, "BTC")
    last = _steps(proof)[-1]
    children = (last.parent_sum - last.sibling_sum, last.sibling_sum)
    proof = {**proof, "statement": _forge(SMALL, total=max(children))}
    _refused(
        tmp_path,
        proof,
        Kind.total_mismatch,
        f"BTC: the root's children sum to {sum(children)}, but the statement's BTC total is "
        f"{max(children)}",
    )


# 5. Signatures -----------------------------------------------------------------------------------


def test_a_statement_resigned_with_another_key_is_refused(tmp_path: Path) -> None:
    proof = proof_for(HONEST, ROWS[0][0], "BTC")
    proof = {**proof, "statement": _forge(HONEST, signer=OTHER)}
    log, other = f"{ORIGIN}+{LOG.key_id.hex()}", f"reclaim.test/other+{OTHER.key_id.hex()}"
    _refused(
        tmp_path,
        proof,
        Kind.unknown_key,
        f"statement is not signed by {log}: note has no signature by a known key: signed by "
        f"{other}; known: {log}",
    )


def test_a_statement_changed_after_signing_is_refused(tmp_path: Path) -> None:
    proof = proof_for(HONEST, ROWS[0][0], "BTC")
    line = HONEST.statement.assets[0]
    text, _, signatures = HONEST.statement_note.partition("\n\n")
    changed = text.replace(f"BTC {line.total} ", f"BTC {line.total - 1} ") + "\n\n" + signatures
    _refused(
        tmp_path,
        {**proof, "statement": changed},
        Kind.bad_signature,
        f"statement: signature by {ORIGIN}+{LOG.key_id.hex()} does not verify",
    )


# 6. The checkpoint link and the asset list -------------------------------------------------------


def test_a_statement_naming_another_checkpoint_is_refused(tmp_path: Path) -> None:
    """Built at a checkpoint the log never published (a fork, or a head shown to no one else)."""
    fork = Checkpoint(ORIGIN, 1234, hashlib.sha256(b"fork").digest())
    dishonest = _build(ROWS, fork)
    proof = proof_for(dishonest, ROWS[0][0], "BTC")
    _refused(
        tmp_path,
        proof,
        Kind.checkpoint_mismatch,
        f"statement of snapshot 7 names checkpoint {ORIGIN} 1234 {_b64(fork.root)}, "
        f"not the published checkpoint {ORIGIN} 1234 {_b64(PUBLISHED.root)}",
    )
    stale = _forge(HONEST, checkpoint=Checkpoint(ORIGIN, 1000, PUBLISHED.root))
    _refused(
        tmp_path,
        {**proof_for(HONEST, ROWS[0][0], "BTC"), "statement": stale},
        Kind.checkpoint_mismatch,
        f"statement of snapshot 7 names checkpoint {ORIGIN} 1000 {_b64(PUBLISHED.root)}, "
        f"not the published checkpoint {ORIGIN} 1234 {_b64(PUBLISHED.root)}",
    )


def test_a_statement_without_the_asset_is_refused(tmp_path: Path) -> None:
    proof = proof_for(HONEST, ROWS[0][0], "BTC")
    _refused(
        tmp_path,
        {**proof, "statement": _forge(HONEST, assets=())},
        Kind.asset_not_in_statement,
        "asset BTC is not in the statement of snapshot 7 (assets: none)",
    )
