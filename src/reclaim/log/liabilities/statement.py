"""The signed liabilities statement: its identifiers, its text, and reading it back strictly.

A C2SP signed note by the log key, one line per asset (see ``reclaim.log.liabilities``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NoReturn

from reclaim.core import limits
from reclaim.core.limits import integer_max, liabilities_decimal_digits_max
from reclaim.core.limits import liabilities_account_id_size_max_bytes as account_id_size_max_bytes
from reclaim.core.limits import liabilities_assets_max as assets_max
from reclaim.core.limits import merkle_leaves_max as leaves_max
from reclaim.core.types import JsonValue
from reclaim.log import canonical
from reclaim.log.keys import VerifierKey
from reclaim.log.liabilities.errors import (
    LiabilityInputError,
    LiabilityProofErrorKind,
    refuse,
)
from reclaim.log.liabilities.formats import (
    DECIMAL,
    HASH_SIZE_BYTES,
    SNAPSHOT_FORMAT,
    STATEMENT_HEADER,
    b64,
    unb64,
)
from reclaim.log.note import (
    NoteMalformedError,
    NoteSignatureError,
    NoteUnverifiedError,
    open_note,
)

_ASSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")

_SNAPSHOT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_CONTROL = re.compile(r"[\x00-\x1f]")


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


def check_snapshot_id(snapshot_id: object) -> str:
    if not isinstance(snapshot_id, str) or not _SNAPSHOT_ID.fullmatch(snapshot_id):
        raise LiabilityInputError(
            f"snapshot id {snapshot_id!r} is not 1 to 64 letters, digits, '.', '_', ':' or '-'"
        )
    return snapshot_id


@dataclass(frozen=True, slots=True)
class AssetTotal:
    """One statement line: an asset's total, leaf count and sum-tree root."""

    asset: str
    total: int
    leaf_count: int
    root: bytes

    def line(self) -> str:
        return f"{self.asset} {self.total} {self.leaf_count} {b64(self.root)}"


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
        """The note text that is signed (see ``reclaim.log.liabilities``)."""
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
            refuse(LiabilityProofErrorKind.malformed_statement, f"snapshot JSON: {exc}")
        note = value.get("statement")
        if not isinstance(note, str):
            refuse(LiabilityProofErrorKind.malformed_statement, "snapshot JSON has no statement")
        statement = open_statement(note, log_key)
        if statement._public() != value:
            refuse(
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
                "root": b64(a.root),
            }
            for a in self.assets
        ]
        return {
            "format": SNAPSHOT_FORMAT,
            "statement": self.note,
            "origin": self.origin,
            "snapshot": self.snapshot_id,
            "checkpoint": {"size": str(self.checkpoint_size), "root": b64(self.checkpoint_root)},
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
        f"checkpoint {checkpoint_size} {b64(checkpoint_root)}",
        *(a.line() for a in assets),
    ]
    return "".join(line + "\n" for line in lines)


def open_statement(note: str, log_key: VerifierKey) -> LiabilitiesStatement:
    """Verify ``note`` with ``log_key`` (C2SP signed-note rules) and parse its statement."""
    try:
        verdict = open_note(note, [log_key])
    except NoteMalformedError as exc:
        refuse(LiabilityProofErrorKind.malformed_statement, f"statement: {exc}")
    except NoteUnverifiedError as exc:
        refuse(
            LiabilityProofErrorKind.unknown_key,
            f"statement is not signed by {log_key.name}+{log_key.key_id.hex()}: {exc}",
        )
    except NoteSignatureError as exc:
        refuse(LiabilityProofErrorKind.bad_signature, f"statement: {exc}")
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
        total = _statement_decimal(total_word, f"{asset} total", integer_max)
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
    if len(word) > liabilities_decimal_digits_max or not DECIMAL.fullmatch(word):
        _bad_statement(f"{what} {word!r} is not a decimal number without sign or leading zeros")
    value = int(word)
    if value > maximum:
        _bad_statement(f"{what} {value} is more than {maximum}")
    return value


def _statement_hash(word: str, what: str) -> bytes:
    raw = unb64(word)
    if raw is None or len(raw) != HASH_SIZE_BYTES:
        _bad_statement(f"{what} {word!r} is not canonical base64 of 32 bytes")
    return raw


def _bad_statement(message: str) -> NoReturn:
    refuse(LiabilityProofErrorKind.malformed_statement, f"statement {message}")
