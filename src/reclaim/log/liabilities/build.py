"""The operator's side: build a snapshot (one sum tree per asset, the signed statement) and
the proof of each creditor.

The leaf hashes are computed inline (the same bytes as ``hashing``) and the trees level by level
in numpy arrays, so that a million leaves build in seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, NoReturn

import numpy as np
import numpy.typing as npt

from reclaim.core.limits import integer_max
from reclaim.core.limits import liabilities_account_id_size_max_bytes as account_id_size_max_bytes
from reclaim.core.limits import liabilities_assets_max as assets_max
from reclaim.core.limits import merkle_leaves_max as leaves_max
from reclaim.log.checkpoint import Checkpoint
from reclaim.log.keys import SignerKey
from reclaim.log.liabilities.errors import LiabilityInputError, LiabilityNotFoundError
from reclaim.log.liabilities.formats import (
    HASH_SIZE_BYTES,
    LEAF_PREFIX,
    NODE_PREFIX,
    PROOF_FORMAT,
    SALT_PREFIX,
    SUM_SIZE_BYTES,
    b64,
    secret_size_min_bytes,
)
from reclaim.log.liabilities.hashing import Hmac, derive_salt, length_prefixed
from reclaim.log.liabilities.proof import LiabilityProof, PathStep
from reclaim.log.liabilities.statement import (
    AssetTotal,
    LiabilitiesStatement,
    account_id_problem,
    asset_problem,
    check_snapshot_id,
    parse_statement,
    render_statement,
)
from reclaim.log.note import sign_note

_sha256 = hashlib.sha256
_U64BE: Final = np.dtype(">u8")

_Level = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64]]
"""One tree level: hashes as an ``(m, 32)`` byte array, sums as ``m`` unsigned 64-bit ints."""


@dataclass(frozen=True, slots=True, eq=False)
class _AssetTree:
    """An asset's tree: every level, leaves first, and each account's leaf index."""

    levels: tuple[_Level, ...]
    index_of: dict[str, int] = field(repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    """A built snapshot: the signed statement and, privately, the trees and the salt secret."""

    statement: LiabilitiesStatement
    _trees: Mapping[str, _AssetTree] = field(repr=False)
    _secret: bytes = field(repr=False)

    @property
    def statement_note(self) -> str:
        """The signed note to publish (``GET /liabilities/root``, the statement of proofs)."""
        return self.statement.note

    def to_json(self) -> bytes:
        """The public parts, for storage and ``GET /liabilities/root``."""
        return self.statement.to_json()

    def proof_for(self, account_id: str, asset: str) -> LiabilityProof:
        return proof_for(self, account_id, asset)


@dataclass(slots=True, eq=False)
class _Leaves:
    """The leaves of one asset as they are read: account → input position, hashes, balances."""

    tail: bytes
    salt_tail: bytes
    positions: dict[str, int] = field(default_factory=dict)
    hashes: list[bytes] = field(default_factory=list)
    balances: list[int] = field(default_factory=list)


def build_snapshot(
    liabilities: Iterable[tuple[str, str, int]],
    secret: bytes,
    snapshot_id: str,
    checkpoint: Checkpoint,
    signer: SignerKey,
) -> Snapshot:
    """Commit to every non-zero ``(account id, asset, balance in minor units)``.

    ``checkpoint`` is the log checkpoint the balances were computed at; ``signer`` is the log
    key. Raises ``LiabilityInputError`` for input that cannot be committed to.
    """
    if not isinstance(secret, bytes) or len(secret) < secret_size_min_bytes:
        raise LiabilityInputError(f"salt secret is not at least {secret_size_min_bytes} bytes")
    check_snapshot_id(snapshot_id)
    groups = _read_leaves(liabilities, Hmac(secret), snapshot_id)
    if len(groups) > assets_max:
        raise LiabilityInputError(f"{len(groups)} assets, more than {assets_max}")
    trees: dict[str, _AssetTree] = {}
    totals = []
    for asset in sorted(groups):
        tree, total = _build_tree(asset, groups.pop(asset))
        trees[asset] = tree
        hashes, _ = tree.levels[-1]
        totals.append(AssetTotal(asset, total, len(tree.index_of), hashes[0].tobytes()))
    text = render_statement(
        checkpoint.origin, snapshot_id, checkpoint.size, checkpoint.root, totals
    )
    note = sign_note(text, [signer])
    statement = parse_statement(text, note)
    return Snapshot(statement, trees, secret)


def _read_leaves(
    liabilities: Iterable[tuple[str, str, int]], hmac_key: Hmac, snapshot_id: str
) -> dict[str, _Leaves]:
    """Group the non-zero liabilities by asset, hashing each leaf (the hot loop: inline)."""
    groups: dict[str, _Leaves] = {}
    sha256, inner, outer = _sha256, hmac_key.inner, hmac_key.outer
    snapshot_lp = length_prefixed(snapshot_id)
    for number, item in enumerate(liabilities):
        try:
            account, asset, balance = item
        except (TypeError, ValueError):
            raise LiabilityInputError(
                f"liability {number} is not (account id, asset, balance)"
            ) from None
        if type(balance) is not int or not 0 <= balance <= integer_max:
            _bad_balance(number, account, asset, balance)
        if balance == 0:
            continue
        group = groups.get(asset) if type(asset) is str else None
        if group is None:
            group = groups[asset] = _new_group(number, asset, snapshot_lp)
        problem = _fast_account_problem(account)
        if problem is not None:
            raise LiabilityInputError(f"liability {number}: {problem}")
        if account in group.positions:
            raise LiabilityInputError(
                f"liability {number}: account {account!r} has a second {asset} balance"
            )
        group.positions[account] = len(group.hashes)
        raw = account.encode()
        account_lp = len(raw).to_bytes(2, "big") + raw
        h = inner.copy()
        h.update(SALT_PREFIX + account_lp + group.salt_tail)
        salt = outer.copy()
        salt.update(h.digest())
        group.hashes.append(
            sha256(
                LEAF_PREFIX
                + salt.digest()
                + account_lp
                + group.tail
                + balance.to_bytes(SUM_SIZE_BYTES, "big")
            ).digest()
        )
        group.balances.append(balance)
    return groups


def _new_group(number: int, asset: object, snapshot_lp: bytes) -> _Leaves:
    problem = asset_problem(asset)
    if problem is not None:
        raise LiabilityInputError(f"liability {number}: {problem}")
    assert isinstance(asset, str)
    asset_lp = length_prefixed(asset)
    return _Leaves(tail=asset_lp, salt_tail=asset_lp + snapshot_lp)


def _fast_account_problem(account: object) -> str | None:
    if type(account) is str and account.isascii() and account.isprintable():
        return (
            None if 0 < len(account) <= account_id_size_max_bytes else account_id_problem(account)
        )
    return account_id_problem(account)


def _bad_balance(number: int, account: object, asset: object, balance: object) -> NoReturn:
    where = f"liability {number}: {asset} balance of {account!r}"
    if type(balance) is not int:
        raise LiabilityInputError(f"{where} is {balance!r}, not an integer of minor units")
    if balance < 0:
        raise LiabilityInputError(f"{where} is {balance}, negative: a liability is never negative")
    raise LiabilityInputError(f"{where} is {balance}, more than 2**63 - 1")


def _build_tree(asset: str, leaves: _Leaves) -> tuple[_AssetTree, int]:
    count = len(leaves.hashes)
    assert count > 0, "a group exists only with a non-zero balance"
    if count > leaves_max:
        raise LiabilityInputError(f"{asset} has {count} leaves, more than 2**40")
    total = sum(leaves.balances)
    if total > integer_max:
        raise LiabilityInputError(f"{asset} liabilities total {total}, more than 2**63 - 1")
    joined = b"".join(leaves.hashes)
    leaves.hashes.clear()
    order = np.argsort(np.frombuffer(joined, dtype=f"S{HASH_SIZE_BYTES}"), kind="stable")
    hashes = np.frombuffer(joined, dtype=np.uint8).reshape(count, HASH_SIZE_BYTES)[order]
    del joined
    sums = np.array(leaves.balances, dtype=np.uint64)[order]
    leaves.balances.clear()
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count, dtype=np.int64)
    index_of = leaves.positions
    index_of.update(zip(list(index_of), rank.tolist(), strict=True))
    levels = [(hashes, sums)]
    while len(levels[-1][1]) > 1:
        levels.append(_parent_level(*levels[-1]))
    assert int(levels[-1][1][0]) == total, "the root sum is the total"
    return _AssetTree(tuple(levels), index_of), total


def _parent_level(hashes: npt.NDArray[np.uint8], sums: npt.NDArray[np.uint64]) -> _Level:
    """Hash adjacent pairs; an odd last node is carried up unchanged (RFC 9162 shape).

    The node messages are laid out in one array, so the Python loop is one ``sha256`` call per
    node over a slice of it.
    """
    m = len(sums)
    pairs = m // 2
    prefix = len(NODE_PREFIX)
    width = prefix + 2 * (HASH_SIZE_BYTES + SUM_SIZE_BYTES)
    sums_be = sums.astype(_U64BE).view(np.uint8).reshape(m, SUM_SIZE_BYTES)
    messages = np.empty((pairs, width), dtype=np.uint8)
    messages[:, :prefix] = np.frombuffer(NODE_PREFIX, dtype=np.uint8)
    at = prefix
    for side in (0, 1):
        messages[:, at : at + HASH_SIZE_BYTES] = hashes[side : 2 * pairs : 2]
        at += HASH_SIZE_BYTES
        messages[:, at : at + SUM_SIZE_BYTES] = sums_be[side : 2 * pairs : 2]
        at += SUM_SIZE_BYTES
    view = messages.data.cast("B")
    sha256 = _sha256
    digests = b"".join(
        [sha256(view[i : i + width]).digest() for i in range(0, pairs * width, width)]
    )
    parent_hashes = np.frombuffer(digests, dtype=np.uint8).reshape(pairs, HASH_SIZE_BYTES)
    parent_sums = sums[0 : 2 * pairs : 2] + sums[1 : 2 * pairs : 2]
    if m & 1:
        parent_hashes = np.concatenate([parent_hashes, hashes[-1:]])
        parent_sums = np.concatenate([parent_sums, sums[-1:]])
    return parent_hashes, parent_sums


def proof_for(snapshot: Snapshot, account_id: str, asset: str) -> LiabilityProof:
    """The proof that ``account_id``'s ``asset`` balance is in the snapshot's signed total.

    Raises ``LiabilityNotFoundError`` if the account has no (non-zero) balance in that asset.
    """
    tree = snapshot._trees.get(asset)
    index = None if tree is None else tree.index_of.get(account_id)
    if tree is None or index is None:
        raise LiabilityNotFoundError(
            f"account {account_id!r} has no {asset} liability in snapshot "
            f"{snapshot.statement.snapshot_id}"
        )
    leaf_sums = tree.levels[0][1]
    salt = derive_salt(snapshot._secret, account_id, asset, snapshot.statement.snapshot_id)
    path: list[str] = []
    j = index
    for (hashes, sums), (_, parent_sums) in zip(tree.levels, tree.levels[1:], strict=False):
        sibling = j ^ 1
        if sibling < len(sums):  # else: the node is carried up unchanged, no step
            step = PathStep(hashes[sibling].tobytes(), int(sums[sibling]), int(parent_sums[j >> 1]))
            path.append(step.encode())
        j >>= 1
    return {
        "format": PROOF_FORMAT,
        "statement": snapshot.statement_note,
        "account": account_id,
        "asset": asset,
        "balance": str(int(leaf_sums[index])),
        "salt": b64(salt),
        "index": str(index),
        "path": path,
    }
