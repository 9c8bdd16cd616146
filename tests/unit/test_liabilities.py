"""Proof of liabilities: the sum trees against a recursive reference, every proof, every refusal.

The reference (``ref_root``) is the module docstring's definition written recursively: leaves
sorted by leaf hash, split at the largest power of two below ``n``, each node hashing both
children's hashes and sums. The module builds level by level with numpy; they must agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.log.checkpoint import Checkpoint
from reclaim.log.keys import SignerKey
from reclaim.log.liabilities.build import Snapshot, build_snapshot, proof_for
from reclaim.log.liabilities.errors import (
    LiabilityInputError,
    LiabilityNotFoundError,
    LiabilityProofError,
    LiabilityProofErrorKind,
)
from reclaim.log.liabilities.hashing import derive_salt, leaf_hash, node_hash
from reclaim.log.liabilities.proof import PathStep, load_proof, proof_to_json
from reclaim.log.liabilities.statement import LiabilitiesStatement, parse_statement
from reclaim.log.liabilities.verify import VerifiedLiability, verify_proof

ORIGIN = "reclaim.test/log"
LOG = SignerKey.from_seed(ORIGIN, hashlib.sha256(b"liabilities log key").digest())
SECRET = hashlib.sha256(b"liabilities snapshot secret").digest()
CHECKPOINT = Checkpoint(ORIGIN, 1234, hashlib.sha256(b"log root").digest())
SNAPSHOT_ID = "2026-01-03T15:00:00Z"
ASSETS = ("BTC", "EUR", "USDC")
Kind = LiabilityProofErrorKind


def _exact(message: str) -> str:
    return "^" + re.escape(message) + "$"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _liabilities(accounts: int, seed: int = 3) -> list[tuple[str, str, int]]:
    """Each account holds 1 to 3 assets; some balances are zero (and have no leaf)."""
    rng = random.Random(seed)
    rows = []
    for number in range(accounts):
        for asset in rng.sample(ASSETS, rng.randint(1, 3)):
            balance = 0 if rng.random() < 0.1 else rng.randrange(1, 10**12)
            rows.append((f"acct-{number:04d}", asset, balance))
    return rows


def _build(rows: list[tuple[str, str, int]]) -> Snapshot:
    return build_snapshot(rows, SECRET, SNAPSHOT_ID, CHECKPOINT, LOG)


ROWS = _liabilities(300)
SNAPSHOT = _build(ROWS)


# The reference ----------------------------------------------------------------------------------


def ref_root(leaves: list[tuple[bytes, int]]) -> tuple[bytes, int]:
    """(hash, sum) of leaves already in order, recursively (RFC 9162 split)."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    (lh, ls), (rh, rs) = ref_root(leaves[:k]), ref_root(leaves[k:])
    return node_hash(lh, ls, rh, rs), ls + rs


def ref_leaves(rows: list[tuple[str, str, int]], asset: str) -> list[tuple[bytes, int]]:
    leaves = [
        (leaf_hash(derive_salt(SECRET, a, asset, SNAPSHOT_ID), a, asset, b), b)
        for a, x, b in rows
        if x == asset and b > 0
    ]
    return sorted(leaves)


def test_hashes_are_exact() -> None:
    salt = bytes(range(32))
    assert (
        leaf_hash(salt, "ab", "BTC", 5)
        == hashlib.sha256(
            b"reclaim/pol/leaf/v1\n"
            + salt
            + b"\x00\x02ab"
            + b"\x00\x03BTC"
            + (5).to_bytes(8, "big")
        ).digest()
    )
    left, right = bytes([1]) * 32, bytes([2]) * 32
    assert (
        node_hash(left, 7, right, 9)
        == hashlib.sha256(
            b"reclaim/pol/node/v1\n"
            + left
            + (7).to_bytes(8, "big")
            + right
            + (9).to_bytes(8, "big")
        ).digest()
    )


@pytest.mark.parametrize("size", [32, 64, 65, 100])
def test_salt_is_rfc2104_hmac_sha256(size: int) -> None:
    secret = bytes(range(size))
    message = b"reclaim/pol/salt/v1\n\x00\x02ab\x00\x03BTC\x00\x01" + b"7"
    assert derive_salt(secret, "ab", "BTC", "7") == hmac.digest(secret, message, "sha256")


def test_roots_and_totals_match_the_reference() -> None:
    statement = SNAPSHOT.statement
    assert [a.asset for a in statement.assets] == list(ASSETS)
    for line in statement.assets:
        leaves = ref_leaves(ROWS, line.asset)
        root, total = ref_root(leaves)
        assert (line.root, line.total, line.leaf_count) == (root, total, len(leaves))
        assert total == sum(b for _, x, b in ROWS if x == line.asset)


def test_statement_text_is_exact() -> None:
    lines = "".join(
        f"{a.asset} {a.total} {a.leaf_count} {_b64(a.root)}\n" for a in SNAPSHOT.statement.assets
    )
    assert SNAPSHOT.statement.text() == (
        "reclaim liabilities v1\n"
        "reclaim.test/log\n"
        "snapshot 2026-01-03T15:00:00Z\n"
        f"checkpoint 1234 {_b64(CHECKPOINT.root)}\n" + lines
    )
    assert SNAPSHOT.statement_note.startswith(
        SNAPSHOT.statement.text() + "\n\u2014 reclaim.test/log "
    )
    assert parse_statement(SNAPSHOT.statement.text(), SNAPSHOT.statement_note) == SNAPSHOT.statement


def test_every_proof_verifies() -> None:
    checked = 0
    for account, asset, balance in ROWS:
        if balance == 0:
            continue
        line = SNAPSHOT.statement.asset(asset)
        assert line is not None
        verified = verify_proof(proof_for(SNAPSHOT, account, asset), LOG.verifier, CHECKPOINT)
        assert verified == VerifiedLiability(
            account_id=account,
            asset=asset,
            balance=balance,
            leaf_index=verified.leaf_index,
            total=line.total,
            leaf_count=line.leaf_count,
            snapshot_id=SNAPSHOT_ID,
            origin=ORIGIN,
            checkpoint_size=1234,
            checkpoint_root=CHECKPOINT.root,
            checkpoint_checked=True,
        )
        checked += 1
    assert checked == sum(a.leaf_count for a in SNAPSHOT.statement.assets)


def test_leaves_are_in_leaf_hash_order() -> None:
    """The index of a leaf is its rank by leaf hash: position says nothing about identity."""
    for asset in ASSETS:
        leaves = ref_leaves(ROWS, asset)
        ranks = {h: i for i, (h, _) in enumerate(leaves)}
        for account, x, balance in ROWS:
            if x == asset and balance > 0:
                proof = proof_for(SNAPSHOT, account, asset)
                h = leaf_hash(base64.b64decode(str(proof["salt"])), account, asset, balance)
                assert proof["index"] == str(ranks[h])


def test_proof_is_exact() -> None:
    account, asset, balance = next(r for r in ROWS if r[2] > 0)
    proof = proof_for(SNAPSHOT, account, asset)
    line = SNAPSHOT.statement.asset(asset)
    assert line is not None
    assert set(proof) == {
        "format",
        "statement",
        "account",
        "asset",
        "balance",
        "salt",
        "index",
        "path",
    }
    assert proof["format"] == "reclaim-liability-proof/v1"
    assert proof["statement"] == SNAPSHOT.statement_note
    assert (proof["account"], proof["asset"], proof["balance"]) == (account, asset, str(balance))
    assert proof["salt"] == _b64(derive_salt(SECRET, account, asset, SNAPSHOT_ID))
    path = proof["path"]
    assert isinstance(path, list)
    assert 0 < len(path) <= (line.leaf_count - 1).bit_length()
    for text in path:
        assert isinstance(text, str)
        assert len(text) == 64
        step = PathStep.decode(text)
        assert step is not None
        assert step.encode() == text
    # The last step's parent is the root: its sum is the total.
    last = PathStep.decode(str(path[-1]))
    assert last is not None
    assert last.parent_sum == line.total


def test_proof_json_round_trips() -> None:
    account, asset, _ = next(r for r in ROWS if r[2] > 0)
    proof = proof_for(SNAPSHOT, account, asset)
    data = proof_to_json(proof)
    assert json.loads(data) == proof
    assert load_proof(data) == proof
    pretty = json.dumps(proof, indent=2).encode()
    assert verify_proof(load_proof(pretty), LOG.verifier, None).checkpoint_checked is False


def test_single_leaf_tree_has_an_empty_path() -> None:
    snapshot = _build([("only", "EUR", 42), ("other", "BTC", 0)])
    line = snapshot.statement.assets[0]
    assert [a.asset for a in snapshot.statement.assets] == ["EUR"]
    salt = derive_salt(SECRET, "only", "EUR", SNAPSHOT_ID)
    assert (line.total, line.leaf_count, line.root) == (42, 1, leaf_hash(salt, "only", "EUR", 42))
    proof = proof_for(snapshot, "only", "EUR")
    assert proof["path"] == []
    assert verify_proof(proof, LOG.verifier, CHECKPOINT).total == 42


def test_empty_snapshot_has_no_asset_lines() -> None:
    snapshot = _build([("a", "EUR", 0)])
    assert snapshot.statement.assets == ()
    assert snapshot.statement.text().endswith(f"checkpoint 1234 {_b64(CHECKPOINT.root)}\n")


def test_build_is_deterministic_and_public_json_round_trips() -> None:
    again = _build(list(reversed(ROWS)))
    assert again.statement_note == SNAPSHOT.statement_note
    data = SNAPSHOT.to_json()
    assert LiabilitiesStatement.from_json(data, LOG.verifier) == SNAPSHOT.statement
    value = json.loads(data)
    assert value["snapshot"] == SNAPSHOT_ID
    assert value["checkpoint"] == {"size": "1234", "root": _b64(CHECKPOINT.root)}
    assert value["assets"][0]["asset"] == "BTC"
    value["assets"][0]["total"] = "1"
    forged = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    with pytest.raises(
        LiabilityProofError, match=_exact("snapshot JSON fields disagree with its signed statement")
    ):
        LiabilitiesStatement.from_json(forged, LOG.verifier)


def test_no_proof_for_a_zero_or_unknown_balance() -> None:
    account, asset, _ = next(r for r in ROWS if r[2] == 0)
    with pytest.raises(
        LiabilityNotFoundError,
        match=_exact(f"account {account!r} has no {asset} liability in snapshot {SNAPSHOT_ID}"),
    ):
        proof_for(SNAPSHOT, account, asset)
    with pytest.raises(LiabilityNotFoundError, match="has no XRP liability"):
        proof_for(SNAPSHOT, "acct-0000", "XRP")


# Refusals at build --------------------------------------------------------------------------------

BIG = 2**63 - 1


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [("a", "BTC", -5)],
            "liability 0: BTC balance of 'a' is -5, negative: a liability is never negative",
        ),
        (
            [("a", "BTC", 1), ("b", "BTC", 1.5)],
            "liability 1: BTC balance of 'b' is 1.5, not an integer of minor units",
        ),
        (
            [("a", "BTC", True)],
            "liability 0: BTC balance of 'a' is True, not an integer of minor units",
        ),
        (
            [("a", "BTC", 2**63)],
            "liability 0: BTC balance of 'a' is 9223372036854775808, more than 2**63 - 1",
        ),
        ([("a", "BTC", 1), ("a", "BTC", 2)], "liability 1: account 'a' has a second BTC balance"),
        (
            [("a", "BTC", BIG), ("b", "BTC", 1)],
            "BTC liabilities total 9223372036854775808, more than 2**63 - 1",
        ),
        (
            [("a", "B TC", 1)],
            "liability 0: asset 'B TC' is not 1 to 32 letters, digits, '.', '_' or '-'",
        ),
        ([("a", 7, 1)], "liability 0: asset 7 is not 1 to 32 letters, digits, '.', '_' or '-'"),
        ([("", "BTC", 1)], "liability 0: account id '' is not 1 to 256 bytes of UTF-8"),
        (
            [("a" * 257, "BTC", 1)],
            f"liability 0: account id {'a' * 257!r} is not 1 to 256 bytes of UTF-8",
        ),
        (
            [("é" * 129, "BTC", 1)],
            f"liability 0: account id {'é' * 129!r} is not 1 to 256 bytes of UTF-8",
        ),
        ([("a\nb", "BTC", 1)], "liability 0: account id 'a\\nb' has a non-printable character"),
        ([("e\u0301", "BTC", 1)], "liability 0: account id 'e\u0301' is not in Unicode NFC"),
        (
            [("a\ud800", "BTC", 1)],
            "liability 0: account id 'a\\ud800' has a non-printable character",
        ),
        ([(7, "BTC", 1)], "liability 0: account id 7 is not text"),
        ([("a", "BTC")], "liability 0 is not (account id, asset, balance)"),
        ([None], "liability 0 is not (account id, asset, balance)"),
        ([("a", f"A{n}", 1) for n in range(33)], "33 assets, more than 32"),
    ],
)
def test_build_refuses(rows: list[tuple[str, str, int]], message: str) -> None:
    with pytest.raises(LiabilityInputError, match=_exact(message)):
        _build(rows)


def test_build_refuses_a_short_secret_and_a_bad_snapshot_id() -> None:
    with pytest.raises(LiabilityInputError, match=_exact("salt secret is not at least 32 bytes")):
        build_snapshot([], bytes(31), SNAPSHOT_ID, CHECKPOINT, LOG)
    with pytest.raises(
        LiabilityInputError,
        match=_exact("snapshot id 'a b' is not 1 to 64 letters, digits, '.', '_', ':' or '-'"),
    ):
        build_snapshot([], SECRET, "a b", CHECKPOINT, LOG)


# Refusals by the verifier (the attacks are in tests/e2e/test_liabilities_tamper.py) -------------

ACCOUNT, ASSET, BALANCE = next(r for r in ROWS if r[2] > 0 and r[1] == "BTC")
PROOF = proof_for(SNAPSHOT, ACCOUNT, ASSET)


def _refused(proof: object, kind: LiabilityProofErrorKind, message: str) -> None:
    assert isinstance(proof, dict)
    with pytest.raises(LiabilityProofError, match=_exact(message)) as caught:
        verify_proof(proof, LOG.verifier, CHECKPOINT)
    assert caught.value.kind is kind


def _with(**changes: object) -> dict[str, object]:
    return {**PROOF, **changes}


def test_refuses_a_proof_too_large() -> None:
    proof = _with(account="a" * 17_000)
    size = len(
        json.dumps(proof, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert size > 17_000
    _refused(proof, Kind.proof_too_large, f"proof is {size} bytes, more than 16384")
    _refused(_with(account=1.5), Kind.malformed_proof, "proof account is not a string")
    with pytest.raises(LiabilityProofError, match=_exact("proof is 16385 bytes, more than 16384")):
        load_proof(b" " * 16_385)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "v0"}, "proof format 'v0' is not 'reclaim-liability-proof/v1'"),
        ({"index": 3}, "proof index is not a string"),
        ({"extra": "1"}, "proof fields are wrong: missing none; unexpected extra"),
        ({"path": "x"}, "proof path is not a list of strings"),
    ],
)
def test_refuses_malformed_proofs(changes: dict[str, object], message: str) -> None:
    _refused(_with(**changes), Kind.malformed_proof, message)


def test_refuses_missing_fields_and_bad_path_steps() -> None:
    proof = dict(PROOF)
    del proof["salt"]
    _refused(proof, Kind.malformed_proof, "proof fields are wrong: missing salt; unexpected none")
    path = list(PROOF["path"])
    path[1] = path[1][:-4]
    _refused(
        _with(path=path),
        Kind.malformed_proof,
        f"path step 1 {path[1]!r} is not canonical base64 of a 48-byte record",
    )
    with pytest.raises(LiabilityProofError, match=_exact("proof is not a JSON object")):
        load_proof(b"[]")
    with pytest.raises(
        LiabilityProofError, match=_exact("proof is not JSON: duplicate object key")
    ):
        load_proof(b'{"a":"1","a":"2"}')


def test_refuses_an_asset_not_in_the_statement() -> None:
    _refused(
        _with(asset="XRP"),
        Kind.asset_not_in_statement,
        f"asset XRP is not in the statement of snapshot {SNAPSHOT_ID} (assets: BTC, EUR, USDC)",
    )


@pytest.mark.parametrize(
    ("changes", "kind", "message"),
    [
        ({"balance": "0"}, Kind.bad_leaf, "leaf balance is 0: zero balances have no leaf"),
        (
            {"balance": "-7"},
            Kind.sum_out_of_range,
            "leaf balance -7 is negative: amounts are unsigned",
        ),
        (
            {"balance": str(2**63)},
            Kind.sum_out_of_range,
            "leaf balance 9223372036854775808 is more than 2**63 - 1",
        ),
        ({"balance": "07"}, Kind.malformed_proof, "leaf balance '07' is not a decimal number"),
        ({"salt": "AAAA"}, Kind.bad_leaf, "leaf salt 'AAAA' is not canonical base64 of 32 bytes"),
        (
            {"account": "a\tb"},
            Kind.bad_leaf,
            "leaf: account id 'a\\tb' has a non-printable character",
        ),
        (
            {"index": "-1"},
            Kind.bad_leaf,
            "leaf index '-1' is not a decimal number without sign or leading zeros",
        ),
    ],
)
def test_refuses_bad_leaves(
    changes: dict[str, object], kind: LiabilityProofErrorKind, message: str
) -> None:
    _refused(_with(**changes), kind, message)


def test_refuses_an_index_out_of_range_and_a_path_of_the_wrong_length() -> None:
    line = SNAPSHOT.statement.asset(ASSET)
    assert line is not None
    _refused(
        _with(index=str(line.leaf_count)),
        Kind.index_out_of_range,
        f"leaf index {line.leaf_count} is not in the {line.leaf_count} BTC leaves",
    )
    path = list(PROOF["path"])
    _refused(
        _with(path=[*path, path[0]]),
        Kind.wrong_path_length,
        f"path has {len(path) + 1} steps; leaf {PROOF['index']} of {line.leaf_count} leaves "
        f"needs exactly {len(path)}",
    )


def test_refuses_a_sum_of_children_out_of_range() -> None:
    path = list(PROOF["path"])
    first = PathStep.decode(path[0])
    assert first is not None
    path[0] = PathStep(first.sibling_hash, BIG, BIG).encode()
    line = SNAPSHOT.statement.asset(ASSET)
    assert line is not None
    lo = int(str(PROOF["index"])) & ~1
    hi = min(lo + 2, line.leaf_count)
    _refused(
        _with(path=path),
        Kind.sum_out_of_range,
        f"path step 0 (node over leaves [{lo}, {hi})): its children sum to {BIG + BALANCE}, "
        "more than 2**63 - 1",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "reclaim liabilities v2\no\nsnapshot 1\ncheckpoint 1 {r}\n",
            "statement first line 'reclaim liabilities v2' is not 'reclaim liabilities v1'",
        ),
        ("reclaim liabilities v1\no\nsnapshot 1\n", "statement has 3 lines, not at least 4"),
        (
            "reclaim liabilities v1\no\nsnapshot 1\ncheckpoint 1 {r}",
            "statement text does not end in a newline",
        ),
        (
            "reclaim liabilities v1\no\nsnapshot  1\ncheckpoint 1 {r}\n",
            "statement line 'snapshot  1' is not 'snapshot' and 1 value(s)",
        ),
        (
            "reclaim liabilities v1\no\nsnapshot 1\ncheckpoint 01 {r}\n",
            "statement checkpoint size '01' is not a decimal number without sign or leading zeros",
        ),
        (
            "reclaim liabilities v1\no\nsnapshot 1\ncheckpoint 1 AAAA\n",
            "statement checkpoint root 'AAAA' is not canonical base64 of 32 bytes",
        ),
        (
            "reclaim liabilities v1\no\nsnapshot 1\ncheckpoint 1 {r}\nBTC 5 6 {r}\n",
            "statement BTC has 6 leaves and total 5: every leaf is at least 1, "
            "so 1 <= leaf count <= total",
        ),
        (
            "reclaim liabilities v1\no\nsnapshot 1\ncheckpoint 1 {r}\nEUR 5 1 {r}\nBTC 5 1 {r}\n",
            "statement asset BTC is out of order or repeated (assets are sorted)",
        ),
        (
            "reclaim liabilities v1\no\nsnapshot 1\ncheckpoint 1 {r}\n"
            "BTC 9223372036854775808 1 {r}\n",
            "statement BTC total 9223372036854775808 is more than 9223372036854775807",
        ),
        (
            "reclaim liabilities v1\no\nsnapshot 1\ncheckpoint 1 {r}\nBTC 5 1\n",
            "statement asset line 'BTC 5 1' is not '<asset> <total> <leaf count> <root>'",
        ),
    ],
)
def test_statement_parser_refuses(text: str, message: str) -> None:
    text = text.replace("{r}", _b64(bytes(32)))
    with pytest.raises(LiabilityProofError, match=_exact(message)) as caught:
        parse_statement(text)
    assert caught.value.kind is Kind.malformed_statement


# Size of a proof in a tree of 1,000,000 leaves ----------------------------------------------------


@pytest.mark.slow
def test_proof_of_a_million_leaf_tree_is_at_most_2_kb() -> None:
    rng = random.Random(11)
    rows = [(f"acct-{n:07d}", "BTC", rng.randrange(1, 10**12)) for n in range(1_000_000)]
    snapshot = _build(rows)
    del rows
    line = snapshot.statement.assets[0]
    assert line.leaf_count == 1_000_000
    for n in (0, 1, 499_999, 999_999):
        proof = proof_for(snapshot, f"acct-{n:07d}", "BTC")
        assert len(proof["path"]) == 20
        assert len(proof_to_json(proof)) <= 2048
        assert verify_proof(proof, LOG.verifier, CHECKPOINT).leaf_count == 1_000_000


# Properties -----------------------------------------------------------------------------------

_balances = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from(ASSETS), st.integers(0, 2**40)),
    max_size=60,
    unique_by=lambda r: (r[0], r[1]),
)


@settings(max_examples=60, deadline=None)
@given(_balances)
def test_every_proof_verifies_and_the_root_sum_is_the_total(
    rows: list[tuple[int, str, int]],
) -> None:
    liabilities = [(f"a{n}", asset, balance) for n, asset, balance in rows]
    snapshot = _build(liabilities)
    totals = {a.asset: a.total for a in snapshot.statement.assets}
    expected = {asset: sum(b for _, x, b in liabilities if x == asset) for asset in ASSETS}
    assert totals == {asset: total for asset, total in expected.items() if total > 0}
    for account, asset, balance in liabilities:
        if balance == 0:
            continue
        verified = verify_proof(proof_for(snapshot, account, asset), LOG.verifier, CHECKPOINT)
        assert (verified.balance, verified.total) == (balance, totals[asset])
        line = snapshot.statement.asset(asset)
        assert line is not None
        assert ref_root(ref_leaves(liabilities, asset)) == (line.root, line.total)
