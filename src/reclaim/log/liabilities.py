"""Proof of liabilities: a Merkle *sum* tree per asset, a signed statement, a proof per creditor.

Sources:

- G. Maxwell's proof-of-reserves Merkle tree (bitcointalk, 2013; Z. Wilcox-O'Hearn's write-up
  "Proving your bitcoin reserves", 2014): each leaf is a customer's (hashed id, balance), each
  node carries the *sum* of its children and a hash over that sum and the children's hashes;
  each customer checks the path from their leaf to the published root and total.
- The flaw: K. Hu, Z. Zhang, K. Guo, "Breaking the Binding: Attacks on the Merkle Approach to
  Prove Liabilities and its Applications", IACR ePrint 2018/1139; surveyed with its fixes in
  K. Chalkias, K. Lewi, P. Mohassel, V. Nikolaenko, "Distributed Auditing Proofs of
  Liabilities" (ePrint 2020/468) and Y. Ji, K. Chalkias, "Generalized Proof of Liabilities"
  (ACM CCS 2021, ePrint 2021/1350). If a node's hash commits only to the *total* of its
  children, an operator can publish ``max(left, right)`` as a node's sum and hand each side the
  sibling sum that makes its arithmetic add up (``max - own``): every customer's check passes,
  yet the published total is too small (the "max" attack).
- The fix, proposed by Hu, Zhang and Guo and used by later designs (Summa's Merkle sum tree,
  whose middle nodes hash the left hash and balances and the right hash and balances; Binance's
  later proof of reserves): the node hash commits to *each child's sum separately*,
  ``H(left_hash || left_sum || right_hash || right_sum)``, so the sums a customer is shown are
  the sums that were hashed; and amounts are fixed-width unsigned integers with every sum
  range-checked, so no balance can be negative or wrap around.

Construction (version 1, frozen by the tests):

- One tree per asset: sums of different assets never mix, and a proof is for one account in
  one asset. Leaves are the non-zero ``(account id, asset, balance)`` liabilities; a zero
  balance has no leaf and a negative one is refused (``LiabilityInputError``).
- Salt: ``HMAC-SHA256(secret, SALT_PREFIX || lp(account) || lp(asset) || lp(snapshot id))``
  (RFC 2104), where ``lp(x)`` is the UTF-8 bytes of ``x`` after their length as 2 bytes
  big-endian. A creditor receives their own salt in their proof; without the operator's secret
  nobody can derive another's, so a leaf hash does not reveal a guessable balance.
- Leaf: hash ``SHA-256(LEAF_PREFIX || salt || lp(account) || lp(asset) || u64be(balance))``,
  sum ``balance``.
- Node: hash ``SHA-256(NODE_PREFIX || left_hash || u64be(left_sum) || right_hash ||
  u64be(right_sum))``, sum ``left_sum + right_sum``.
- Leaf order: ascending by leaf hash (bytes). The salt makes that order pseudo-random, so a
  leaf's index says nothing about who owns it; the index is in the proof.
- Shape: RFC 9162 §2.1.1 (as ``reclaim.log.merkle``): ``n > 1`` leaves split at the largest
  power of two below ``n``; built level by level, an odd node at the right edge is carried up
  unchanged. There is no padding at all, so no padding node can hide or carry value; the path
  of leaf ``i`` of ``n`` (which sibling is left or right, and how many steps) follows from
  ``(i, n)`` alone, and the verifier derives it instead of trusting a side marker.
- The statement, a C2SP signed note (``reclaim.log.note``) signed by the log key::

      reclaim liabilities v1
      <log origin>
      snapshot <snapshot id>
      checkpoint <tree size> <base64 log root>
      <asset> <total> <leaf count> <base64 sum-tree root>     (one line per asset, sorted)

  The checkpoint line links the snapshot to the log checkpoint it was computed at.
- A proof (JSON, integers as decimal strings, hashes as base64): ``format``, ``statement``
  (the signed note), ``account``, ``asset``, ``balance``, ``salt``, ``index``, and ``path``:
  from the leaf up, one step per level, each the base64 of a fixed 48-byte record
  ``sibling hash (32) || u64be(sibling sum) || u64be(parent sum)`` (64 characters, no padding;
  the exact bytes a node hash takes, and a size that does not grow with the amounts). Which side
  the sibling is on follows from ``(index, leaf count)``. The parent sums are what a Maxwell
  customer is shown; here each is checked against its children, then the hashes are checked,
  and they commit to each child's sum.

Invariants:

- every leaf sum is in ``[1, 2**63 - 1]``, every node sum is in ``[0, 2**63 - 1]`` (the
  per-asset total is checked at build, so no node can exceed it); the verifier re-checks the
  bound at every step;
- a root hash commits to its total: for ``n > 1`` the root's hash covers both children's sums,
  for ``n == 1`` the leaf hash covers the balance; so ``(root, total)`` in a statement is
  either consistent or refused by every proof;
- a leaf names its account (and the salt is per account), so one leaf cannot serve as the
  proof of two creditors with equal balances;
- ``verify_proof(proof_for(s, a, x), log key, s's checkpoint)`` returns for every leaf;
- a build is deterministic: the same liabilities, secret, id, checkpoint and key give the same
  statement byte for byte (Ed25519 signatures are deterministic).

Known limits:

- A proof shows that *one* creditor's balance is counted in the signed total. It cannot show
  that the operator did not omit *other* creditors: each creditor must check their own proof
  (a creditor left out finds no proof, or one that does not verify). That is why everyone
  should check, and why the statement is signed and published: an omission is then provable.
- Proof of liabilities, not of solvency: reserves are a separate matter.
- The leaf count and the per-asset total are public, and a proof reveals its sibling sums
  (subtree totals), as in every Merkle sum tree; balances of others are not revealed.
- Bounds below (``assets_max``, ``proof_size_max_bytes``, ...) belong in
  ``reclaim.core.limits``; they live here until that file takes them.

Errors:

- ``LiabilityInputError`` (a ``ValueError``): the operator's input cannot be committed to
  (negative or non-integer balance, duplicate liability, total over ``2**63 - 1``, bad ids);
- ``LiabilityNotFoundError`` (a ``LookupError``): no leaf for that account and asset;
- ``LiabilityProofError`` (a ``ValueError``) with a ``kind`` (``LiabilityProofErrorKind``, in
  the order the checks run) and a message naming what is wrong: a proof or statement refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, NoReturn, TypedDict

import numpy as np
import numpy.typing as npt

from reclaim.core import limits
from reclaim.core.types import JsonValue
from reclaim.log import canonical
from reclaim.log.checkpoint import Checkpoint
from reclaim.log.keys import SignerKey, VerifierKey
from reclaim.log.note import (
    NoteMalformedError,
    NoteSignatureError,
    NoteUnverifiedError,
    open_note,
    sign_note,
)

# Formats ----------------------------------------------------------------------------------------

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

_ASSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_SNAPSHOT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_SIGNED_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL_DIGITS_MAX: Final = 20
_CONTROL = re.compile(r"[\x00-\x1f]")
_PROOF_KEYS: Final = frozenset({"format", "statement", "account", "asset", "balance", "salt"})
_PROOF_KEYS_ALL: Final = _PROOF_KEYS | {"index", "path"}
#: A path step record: sibling hash, sibling sum, parent sum.
STEP_SIZE_BYTES: Final = HASH_SIZE_BYTES + 2 * SUM_SIZE_BYTES
_HMAC_BLOCK_BYTES: Final = 64

_sha256 = hashlib.sha256
_U64BE: Final = np.dtype(">u8")


# Errors -------------------------------------------------------------------------------------------


class LiabilityInputError(ValueError):
    """Liabilities that cannot be committed to (the operator's data is wrong)."""


class LiabilityNotFoundError(LookupError):
    """No liability of that account in that asset in the snapshot."""


class LiabilityProofErrorKind(StrEnum):
    """Why a proof or statement was refused, in the order the checks run."""

    proof_too_large = "proof_too_large"
    malformed_proof = "malformed_proof"
    malformed_statement = "malformed_statement"
    unknown_key = "unknown_key"
    bad_signature = "bad_signature"
    checkpoint_mismatch = "checkpoint_mismatch"
    asset_not_in_statement = "asset_not_in_statement"
    bad_leaf = "bad_leaf"
    index_out_of_range = "index_out_of_range"
    wrong_path_length = "wrong_path_length"
    sum_out_of_range = "sum_out_of_range"
    node_sum_mismatch = "node_sum_mismatch"
    root_mismatch = "root_mismatch"
    total_mismatch = "total_mismatch"


class LiabilityProofError(ValueError):
    """A proof of liability (or a statement) that does not verify."""

    def __init__(self, kind: LiabilityProofErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _refuse(kind: LiabilityProofErrorKind, message: str) -> NoReturn:
    raise LiabilityProofError(kind, message)


# Hashing (the reference definitions; the builder inlines the same bytes) -------------------------


def length_prefixed(text: str) -> bytes:
    """``lp(x)``: the UTF-8 bytes of ``text`` after their length as 2 bytes big-endian."""
    raw = text.encode()
    assert len(raw) < 1 << 16, "length prefix is 2 bytes"
    return len(raw).to_bytes(2, "big") + raw


def derive_salt(secret: bytes, account_id: str, asset: str, snapshot_id: str) -> bytes:
    """HMAC-SHA256(secret, SALT_PREFIX || lp(account) || lp(asset) || lp(snapshot id))."""
    message = SALT_PREFIX + length_prefixed(account_id) + length_prefixed(asset)
    return _Hmac(secret).digest(message + length_prefixed(snapshot_id))


def leaf_hash(salt: bytes, account_id: str, asset: str, balance: int) -> bytes:
    """SHA-256(LEAF_PREFIX || salt || lp(account) || lp(asset) || u64be(balance))."""
    assert len(salt) == SALT_SIZE_BYTES, "salt is 32 bytes"
    assert 0 <= balance <= SUM_MAX, "balance is in the u64 and BIGINT range"
    data = salt + length_prefixed(account_id) + length_prefixed(asset)
    return _sha256(LEAF_PREFIX + data + balance.to_bytes(SUM_SIZE_BYTES, "big")).digest()


def node_hash(left: bytes, left_sum: int, right: bytes, right_sum: int) -> bytes:
    """SHA-256(NODE_PREFIX || left || u64be(left_sum) || right || u64be(right_sum))."""
    assert 0 <= left_sum <= SUM_MAX, "left sum is in range"
    assert 0 <= right_sum <= SUM_MAX, "right sum is in range"
    return _sha256(
        NODE_PREFIX
        + left
        + left_sum.to_bytes(SUM_SIZE_BYTES, "big")
        + right
        + right_sum.to_bytes(SUM_SIZE_BYTES, "big")
    ).digest()


class _Hmac:
    """RFC 2104 HMAC-SHA256 with the padded-key states computed once (``hmac.digest`` sets up
    a fresh context per call, twice as slow over a million leaves)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _HMAC_BLOCK_BYTES:
            key = _sha256(key).digest()
        key = key.ljust(_HMAC_BLOCK_BYTES, b"\x00")
        self._inner = _sha256(bytes(b ^ 0x36 for b in key))
        self._outer = _sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


# Identifiers -----------------------------------------------------------------------------------


def account_id_problem(account_id: object) -> str | None:
    """Why ``account_id`` cannot be a leaf's account id, or None: 1 to 256 bytes of printable
    UTF-8 text in Unicode NFC (so that every JSON tool writes it back the same)."""
    if not isinstance(account_id, str):
        return f"account id {account_id!r} is not text"
    if not account_id.isprintable():  # also refuses lone surrogates (category Cs)
        return f"account id {account_id!r} has a non-printable character"
    if not account_id.isascii() and not unicodedata.is_normalized("NFC", account_id):
        return f"account id {account_id!r} is not in Unicode NFC"
    if not 0 < len(account_id.encode()) <= account_id_size_max_bytes:
        return f"account id {account_id!r} is not 1 to {account_id_size_max_bytes} bytes of UTF-8"
    return None


def asset_problem(asset: object) -> str | None:
    """Why ``asset`` cannot be an asset code, or None: 1 to 32 of ``[A-Za-z0-9._-]``, starting
    with a letter or digit (it is a word of a statement line)."""
    if not isinstance(asset, str) or not _ASSET.fullmatch(asset):
        return f"asset {asset!r} is not 1 to 32 letters, digits, '.', '_' or '-'"
    return None


def _check_snapshot_id(snapshot_id: object) -> str:
    if not isinstance(snapshot_id, str) or not _SNAPSHOT_ID.fullmatch(snapshot_id):
        raise LiabilityInputError(
            f"snapshot id {snapshot_id!r} is not 1 to 64 letters, digits, '.', '_', ':' or '-'"
        )
    return snapshot_id


# The statement -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssetTotal:
    """One statement line: an asset's total, leaf count and sum-tree root."""

    asset: str
    total: int
    leaf_count: int
    root: bytes

    def line(self) -> str:
        return f"{self.asset} {self.total} {self.leaf_count} {_b64(self.root)}"


@dataclass(frozen=True, slots=True)
class LiabilitiesStatement:
    """A signed liabilities statement: its parsed text and the signed note that carries it."""

    origin: str
    snapshot_id: str
    checkpoint_size: int
    checkpoint_root: bytes
    assets: tuple[AssetTotal, ...]
    note: str = field(repr=False)

    def text(self) -> str:
        """The note text that is signed (see the module docstring)."""
        return render_statement(
            self.origin, self.snapshot_id, self.checkpoint_size, self.checkpoint_root, self.assets
        )

    def asset(self, asset: str) -> AssetTotal | None:
        return next((a for a in self.assets if a.asset == asset), None)

    def to_json(self) -> bytes:
        """The public snapshot (``GET /liabilities/root``) as canonical JSON: the signed note and
        its fields spelled out. ``from_json`` checks that they agree."""
        return canonical.encode(self._public())

    @classmethod
    def from_json(cls, data: bytes, log_key: VerifierKey) -> LiabilitiesStatement:
        """Read what ``to_json`` wrote; the note must verify with ``log_key``."""
        try:
            value = canonical.decode(data)
        except canonical.CanonicalError as exc:
            _refuse(LiabilityProofErrorKind.malformed_statement, f"snapshot JSON: {exc}")
        note = value.get("statement")
        if not isinstance(note, str):
            _refuse(LiabilityProofErrorKind.malformed_statement, "snapshot JSON has no statement")
        statement = open_statement(note, log_key)
        if statement._public() != value:
            _refuse(
                LiabilityProofErrorKind.malformed_statement,
                "snapshot JSON fields disagree with its signed statement",
            )
        return statement

    def _public(self) -> dict[str, JsonValue]:
        assets: list[JsonValue] = [
            {
                "asset": a.asset,
                "total": str(a.total),
                "leaf_count": str(a.leaf_count),
                "root": _b64(a.root),
            }
            for a in self.assets
        ]
        return {
            "format": SNAPSHOT_FORMAT,
            "statement": self.note,
            "origin": self.origin,
            "snapshot": self.snapshot_id,
            "checkpoint": {"size": str(self.checkpoint_size), "root": _b64(self.checkpoint_root)},
            "assets": assets,
        }


def render_statement(
    origin: str,
    snapshot_id: str,
    checkpoint_size: int,
    checkpoint_root: bytes,
    assets: Iterable[AssetTotal],
) -> str:
    lines = [
        STATEMENT_HEADER,
        origin,
        f"snapshot {snapshot_id}",
        f"checkpoint {checkpoint_size} {_b64(checkpoint_root)}",
        *(a.line() for a in assets),
    ]
    return "".join(line + "\n" for line in lines)


def open_statement(note: str, log_key: VerifierKey) -> LiabilitiesStatement:
    """Verify ``note`` with ``log_key`` (C2SP signed-note rules) and parse its statement."""
    try:
        verdict = open_note(note, [log_key])
    except NoteMalformedError as exc:
        _refuse(LiabilityProofErrorKind.malformed_statement, f"statement: {exc}")
    except NoteUnverifiedError as exc:
        _refuse(
            LiabilityProofErrorKind.unknown_key,
            f"statement is not signed by {log_key.name}+{log_key.key_id.hex()}: {exc}",
        )
    except NoteSignatureError as exc:
        _refuse(LiabilityProofErrorKind.bad_signature, f"statement: {exc}")
    return parse_statement(verdict.text, note)


def parse_statement(text: str, note: str = "") -> LiabilitiesStatement:
    """Parse a statement's text strictly: one spelling per statement."""
    if not text.endswith("\n"):
        _bad_statement("text does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 4:
        _bad_statement(f"has {len(lines)} lines, not at least 4")
    header, origin, snapshot_line, checkpoint_line, *asset_lines = lines
    if header != STATEMENT_HEADER:
        _bad_statement(f"first line {header!r} is not {STATEMENT_HEADER!r}")
    if not origin or _CONTROL.search(origin) or len(origin) > limits.origin_length_max_chars:
        _bad_statement(f"origin {origin!r} is empty, too long or has a control character")
    snapshot_id = _words(snapshot_line, "snapshot", 1)[0]
    if not _SNAPSHOT_ID.fullmatch(snapshot_id):
        _bad_statement(f"snapshot id {snapshot_id!r} is not a snapshot id")
    size_word, root_word = _words(checkpoint_line, "checkpoint", 2)
    size = _statement_decimal(size_word, "checkpoint size", limits.tree_size_max)
    root = _statement_hash(root_word, "checkpoint root")
    assets = _parse_asset_lines(asset_lines)
    return LiabilitiesStatement(origin, snapshot_id, size, root, assets, note)


def _parse_asset_lines(lines: list[str]) -> tuple[AssetTotal, ...]:
    if len(lines) > assets_max:
        _bad_statement(f"has {len(lines)} asset lines, more than {assets_max}")
    assets: list[AssetTotal] = []
    for line in lines:
        words = line.split(" ")
        if len(words) != 4:
            _bad_statement(f"asset line {line!r} is not '<asset> <total> <leaf count> <root>'")
        asset, total_word, count_word, root_word = words
        if asset_problem(asset) is not None:
            _bad_statement(f"asset line {line!r}: {asset_problem(asset)}")
        total = _statement_decimal(total_word, f"{asset} total", SUM_MAX)
        count = _statement_decimal(count_word, f"{asset} leaf count", leaves_max)
        if not 1 <= count <= total:
            _bad_statement(
                f"{asset} has {count} leaves and total {total}: every leaf is at least 1, "
                "so 1 <= leaf count <= total"
            )
        if assets and asset <= assets[-1].asset:
            _bad_statement(f"asset {asset} is out of order or repeated (assets are sorted)")
        assets.append(AssetTotal(asset, total, count, _statement_hash(root_word, f"{asset} root")))
    return tuple(assets)


def _words(line: str, keyword: str, count: int) -> list[str]:
    words = line.split(" ")
    if words[0] != keyword or len(words) != count + 1:
        _bad_statement(f"line {line!r} is not '{keyword}' and {count} value(s)")
    return words[1:]


def _statement_decimal(word: str, what: str, maximum: int) -> int:
    if len(word) > _DECIMAL_DIGITS_MAX or not _DECIMAL.fullmatch(word):
        _bad_statement(f"{what} {word!r} is not a decimal number without sign or leading zeros")
    value = int(word)
    if value > maximum:
        _bad_statement(f"{what} {value} is more than {maximum}")
    return value


def _statement_hash(word: str, what: str) -> bytes:
    raw = _unb64(word)
    if raw is None or len(raw) != HASH_SIZE_BYTES:
        _bad_statement(f"{what} {word!r} is not canonical base64 of 32 bytes")
    return raw


def _bad_statement(message: str) -> NoReturn:
    _refuse(LiabilityProofErrorKind.malformed_statement, f"statement {message}")


# The snapshot (the operator's side) ---------------------------------------------------------------

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
    _check_snapshot_id(snapshot_id)
    groups = _read_leaves(liabilities, _Hmac(secret), snapshot_id)
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
    liabilities: Iterable[tuple[str, str, int]], hmac_key: _Hmac, snapshot_id: str
) -> dict[str, _Leaves]:
    """Group the non-zero liabilities by asset, hashing each leaf (the hot loop: inline)."""
    groups: dict[str, _Leaves] = {}
    sha256, inner, outer = _sha256, hmac_key._inner, hmac_key._outer
    snapshot_lp = length_prefixed(snapshot_id)
    for number, item in enumerate(liabilities):
        try:
            account, asset, balance = item
        except (TypeError, ValueError):
            raise LiabilityInputError(
                f"liability {number} is not (account id, asset, balance)"
            ) from None
        if type(balance) is not int or not 0 <= balance <= SUM_MAX:
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
    if total > SUM_MAX:
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


class LiabilityProof(TypedDict):
    """A proof as JSON data (see the module docstring); what ``proof_for`` returns."""

    format: str
    statement: str
    account: str
    asset: str
    balance: str
    salt: str
    index: str
    path: list[str]


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
        "salt": _b64(salt),
        "index": str(index),
        "path": path,
    }


def proof_to_json(proof: Mapping[str, Any]) -> bytes:
    """A proof as canonical JSON bytes (the file a creditor downloads)."""
    return canonical.encode(proof)


def load_proof(data: bytes) -> dict[str, JsonValue]:
    """Parse a proof file: at most ``proof_size_max_bytes``, one JSON object, no duplicate
    keys (any JSON spacing is accepted; ``verify_proof`` checks the fields)."""
    if len(data) > proof_size_max_bytes:
        _refuse(
            LiabilityProofErrorKind.proof_too_large,
            f"proof is {len(data)} bytes, more than {proof_size_max_bytes}",
        )
    try:
        value = json.loads(data.decode(), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        _refuse(LiabilityProofErrorKind.malformed_proof, f"proof is not JSON: {exc}")
    if not isinstance(value, dict):
        _refuse(LiabilityProofErrorKind.malformed_proof, "proof is not a JSON object")
    return value


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate object key")
    return out


# Verification (the creditor's side) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedLiability:
    """What a verified proof shows: this balance is counted in this signed total."""

    account_id: str
    asset: str
    balance: int
    leaf_index: int
    total: int
    leaf_count: int
    snapshot_id: str
    origin: str
    checkpoint_size: int
    checkpoint_root: bytes
    #: True if the statement's checkpoint was compared with a published checkpoint.
    checkpoint_checked: bool


@dataclass(frozen=True, slots=True)
class _Step:
    """One path step, leaf upwards: the parent's leaf range, and where the sibling is."""

    lo: int
    hi: int
    sibling_lo: int
    sibling_hi: int
    sibling_is_left: bool

    def name(self, number: int) -> str:
        return f"path step {number} (node over leaves [{self.lo}, {self.hi}))"


@dataclass(frozen=True, slots=True)
class PathStep:
    """One step of a proof's path: the sibling's hash and sum, and the parent's sum.

    Encoded as base64 of ``hash || u64be(sibling sum) || u64be(parent sum)``. ``decode`` reads
    the sums as *signed* 64-bit integers, so that a value of 2**63 or more (out of range) is
    seen for what it usually is, a negative amount in two's complement.
    """

    sibling_hash: bytes
    sibling_sum: int
    parent_sum: int

    def encode(self) -> str:
        assert len(self.sibling_hash) == HASH_SIZE_BYTES, "sibling hash is 32 bytes"
        assert 0 <= self.sibling_sum <= SUM_MAX, "sibling sum is in range"
        assert 0 <= self.parent_sum <= SUM_MAX, "parent sum is in range"
        record = (
            self.sibling_hash
            + self.sibling_sum.to_bytes(SUM_SIZE_BYTES, "big")
            + self.parent_sum.to_bytes(SUM_SIZE_BYTES, "big")
        )
        return _b64(record)

    @classmethod
    def decode(cls, text: str) -> PathStep | None:
        """The step ``text`` encodes, or None if it is not canonical base64 of 48 bytes."""
        record = _unb64(text)
        if record is None or len(record) != STEP_SIZE_BYTES:
            return None
        at = HASH_SIZE_BYTES
        sibling_sum = int.from_bytes(record[at : at + SUM_SIZE_BYTES], "big", signed=True)
        parent_sum = int.from_bytes(record[at + SUM_SIZE_BYTES :], "big", signed=True)
        return cls(record[:at], sibling_sum, parent_sum)


def verify_proof(
    proof: Mapping[str, object], log_key: VerifierKey, published_checkpoint: Checkpoint | None
) -> VerifiedLiability:
    """Check a creditor's proof offline: the statement's signature by ``log_key``, that it
    names ``published_checkpoint`` (if given: the checkpoint the creditor obtained from the
    log), the leaf, the path shape, every sum's range, every parent sum against its children,
    the root hash and the total. Raises ``LiabilityProofError`` naming the first failure.
    """
    _check_size(proof)
    fields = _proof_fields(proof)
    statement = open_statement(fields["statement"], log_key)
    if published_checkpoint is not None:
        _check_checkpoint(statement, published_checkpoint)
    asset, account = fields["asset"], fields["account"]
    line = statement.asset(asset)
    if line is None:
        listed = ", ".join(a.asset for a in statement.assets) or "none"
        _refuse(
            LiabilityProofErrorKind.asset_not_in_statement,
            f"asset {asset} is not in the statement of snapshot {statement.snapshot_id} "
            f"(assets: {listed})",
        )
    balance, salt, index = _leaf_values(fields)
    if index >= line.leaf_count:
        _refuse(
            LiabilityProofErrorKind.index_out_of_range,
            f"leaf index {index} is not in the {line.leaf_count} {asset} leaves",
        )
    steps = _path_shape(index, line.leaf_count)
    entries = _path_entries(proof.get("path"), steps, index, line.leaf_count)
    h, s = _fold(leaf_hash(salt, account, asset, balance), balance, steps, entries)
    if h != line.root:
        _refuse(
            LiabilityProofErrorKind.root_mismatch,
            f"{asset} leaf {index} of {account!r}: the path gives root {_b64(h)}, "
            f"but the statement's {asset} root is {_b64(line.root)}",
        )
    if s != line.total:
        _refuse(
            LiabilityProofErrorKind.total_mismatch,
            f"{asset}: the root's children sum to {s}, but the statement's {asset} total is "
            f"{line.total}",
        )
    return VerifiedLiability(
        account,
        asset,
        balance,
        index,
        line.total,
        line.leaf_count,
        statement.snapshot_id,
        statement.origin,
        statement.checkpoint_size,
        statement.checkpoint_root,
        published_checkpoint is not None,
    )


def _check_size(proof: Mapping[str, object]) -> None:
    """The proof's size as compact JSON (what ``proof_to_json`` writes for a well-formed one)."""
    try:
        text = json.dumps(proof, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        size = len(text.encode())
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        _refuse(LiabilityProofErrorKind.malformed_proof, f"proof is not JSON data: {exc}")
    if size > proof_size_max_bytes:
        _refuse(
            LiabilityProofErrorKind.proof_too_large,
            f"proof is {size} bytes, more than {proof_size_max_bytes}",
        )


def _proof_fields(proof: Mapping[str, object]) -> dict[str, str]:
    keys = set(proof)
    if keys != _PROOF_KEYS_ALL:
        missing = ", ".join(sorted(_PROOF_KEYS_ALL - keys)) or "none"
        extra = ", ".join(sorted(keys - _PROOF_KEYS_ALL)) or "none"
        _refuse(
            LiabilityProofErrorKind.malformed_proof,
            f"proof fields are wrong: missing {missing}; unexpected {extra}",
        )
    fields: dict[str, str] = {}
    for key in sorted(_PROOF_KEYS | {"index"}):
        value = proof[key]
        if not isinstance(value, str):
            _refuse(LiabilityProofErrorKind.malformed_proof, f"proof {key} is not a string")
        fields[key] = value
    if fields["format"] != PROOF_FORMAT:
        _refuse(
            LiabilityProofErrorKind.malformed_proof,
            f"proof format {fields['format']!r} is not {PROOF_FORMAT!r}",
        )
    return fields


def _check_checkpoint(statement: LiabilitiesStatement, published: Checkpoint) -> None:
    named = (statement.origin, statement.checkpoint_size, statement.checkpoint_root)
    if named != (published.origin, published.size, published.root):
        _refuse(
            LiabilityProofErrorKind.checkpoint_mismatch,
            f"statement of snapshot {statement.snapshot_id} names checkpoint "
            f"{statement.origin} {statement.checkpoint_size} {_b64(statement.checkpoint_root)}, "
            f"not the published checkpoint {published.origin} {published.size} "
            f"{_b64(published.root)}",
        )


def _leaf_values(fields: dict[str, str]) -> tuple[int, bytes, int]:
    problem = account_id_problem(fields["account"])
    if problem is not None:
        _refuse(LiabilityProofErrorKind.bad_leaf, f"leaf: {problem}")
    balance = _proof_sum(fields["balance"], "leaf balance")
    if balance == 0:
        _refuse(LiabilityProofErrorKind.bad_leaf, "leaf balance is 0: zero balances have no leaf")
    salt = _unb64(fields["salt"])
    if salt is None or len(salt) != SALT_SIZE_BYTES:
        _refuse(
            LiabilityProofErrorKind.bad_leaf,
            f"leaf salt {fields['salt']!r} is not canonical base64 of {SALT_SIZE_BYTES} bytes",
        )
    index_word = fields["index"]
    if len(index_word) > _DECIMAL_DIGITS_MAX or not _DECIMAL.fullmatch(index_word):
        _refuse(
            LiabilityProofErrorKind.bad_leaf,
            f"leaf index {index_word!r} is not a decimal number without sign or leading zeros",
        )
    return balance, salt, int(index_word)


def _proof_sum(word: str, what: str) -> int:
    """A decimal sum, range-checked: a sign is parsed so that a negative is named as such."""
    if len(word) > _DECIMAL_DIGITS_MAX + 1 or not _SIGNED_DECIMAL.fullmatch(word):
        _refuse(LiabilityProofErrorKind.malformed_proof, f"{what} {word!r} is not a decimal number")
    value = int(word)
    if value < 0:
        _refuse(
            LiabilityProofErrorKind.sum_out_of_range,
            f"{what} {value} is negative: amounts are unsigned",
        )
    if value > SUM_MAX:
        _refuse(LiabilityProofErrorKind.sum_out_of_range, f"{what} {value} is more than 2**63 - 1")
    return value


def _path_shape(index: int, count: int) -> list[_Step]:
    """The steps of leaf ``index`` of ``count`` leaves, leaf upwards (RFC 9162 §2.1.3.1 PATH:
    at ``[lo, hi)`` split at the largest power of two below ``hi - lo``)."""
    steps = []
    lo, hi = 0, count
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if index < lo + k:
            steps.append(_Step(lo, hi, lo + k, hi, sibling_is_left=False))
            hi = lo + k
        else:
            steps.append(_Step(lo, hi, lo, lo + k, sibling_is_left=True))
            lo += k
    steps.reverse()
    return steps


def _path_entries(path: object, steps: list[_Step], index: int, count: int) -> list[PathStep]:
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        _refuse(LiabilityProofErrorKind.malformed_proof, "proof path is not a list of strings")
    if len(path) != len(steps):
        _refuse(
            LiabilityProofErrorKind.wrong_path_length,
            f"path has {len(path)} steps; leaf {index} of {count} leaves needs exactly "
            f"{len(steps)}",
        )
    parsed = []
    for number, (text, step) in enumerate(zip(path, steps, strict=True)):
        entry = PathStep.decode(text)
        if entry is None:
            _refuse(
                LiabilityProofErrorKind.malformed_proof,
                f"path step {number} {text!r} is not canonical base64 of a "
                f"{STEP_SIZE_BYTES}-byte record",
            )
        _check_step_sum(entry.sibling_sum, f"{step.name(number)}: sibling sum")
        _check_step_sum(entry.parent_sum, f"{step.name(number)}: sum")
        parsed.append(entry)
    return parsed


def _check_step_sum(value: int, what: str) -> None:
    if value < 0:
        _refuse(
            LiabilityProofErrorKind.sum_out_of_range,
            f"{what} {value + 2**64} is more than 2**63 - 1: it is {value} as a signed 64-bit "
            "integer, a negative amount",
        )


def _fold(h: bytes, s: int, steps: list[_Step], entries: list[PathStep]) -> tuple[bytes, int]:
    """Walk up: check each parent's sum against its children, then hash them (children's sums
    separately: the fix for the max attack)."""
    for number, (step, entry) in enumerate(zip(steps, entries, strict=True)):
        children = s + entry.sibling_sum
        if children > SUM_MAX:
            _refuse(
                LiabilityProofErrorKind.sum_out_of_range,
                f"{step.name(number)}: its children sum to {children}, more than 2**63 - 1",
            )
        if step.sibling_is_left:
            left, right = (entry.sibling_hash, entry.sibling_sum), (h, s)
        else:
            left, right = (h, s), (entry.sibling_hash, entry.sibling_sum)
        if entry.parent_sum != children:
            _refuse(
                LiabilityProofErrorKind.node_sum_mismatch,
                f"{step.name(number)}: its sum is {entry.parent_sum}, but its children sum to "
                f"{left[1]} + {right[1]} = {children}",
            )
        h, s = node_hash(*left, *right), children
    return h, s


# Encoding helpers -----------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes | None:
    """Canonical standard base64 (RFC 4648 §4), or None."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if _b64(raw) == text else None
