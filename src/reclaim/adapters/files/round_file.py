"""A round's preview on disk: the lines file the treasury approves, its report, and the reader the
executor posts from.

Files (``write_round_preview(directory, lines)``)
-------------------------------------------------
- ``lines.csv``: the header ``payloads.LINES_HEADER`` then one line per payment, in line order
  (= claim-id order): the ``payloads.LINE_COLUMNS`` joined by ``,`` and ended by ``\\n``,
  integers as plain decimal text, no quoting (text fields are ids and codes of printable ASCII
  without a comma or a quote; a field that is not is refused before anything is written). Each
  line's bytes are exactly ``state.Line.text()``, so the running digest the core keeps while
  executing equals the file's. The file's **SHA-256** (lower-case hex) is what the treasury's
  approval signs.
- ``report.json``: the round's summary (``compute.RoundSummary``) and the lines file's name and
  digest; every integer as a decimal string (reclaim's JSON carries amounts as strings), rates
  as ``"p/q"``.
- ``report.md``: the same, short, for people.

Each file is written to a temporary name in the directory, flushed to disk and renamed, so a
crash leaves either the old file or the new one, never half of one.

Reading (``read_round_lines(path, expected_sha256, start_line=0)``)
-------------------------------------------------------------------
The digest is checked over the whole file **before** the first line is yielded. Then the file
is read again, streaming, line by line: the header must be exact; each line must have its 14
fields, decimal integers in canonical form (no sign, no leading zero) within BIGINT, a
destination of ``creditor`` or ``escrow``, a positive ``usd_minor``, and must print back to the
same bytes; line numbers must run 0, 1, 2, … and claim ids must increase strictly. Lines before
``start_line`` are checked but not yielded (the executor resumes after a crash from the first
line the log has not executed). The second pass hashes again; if the file changed between the
passes, ``RoundDigestMismatch`` is raised at its end (the core's own running digest refuses to
complete such a round anyway).

Errors
------
``OSError`` propagates. ``RoundFileError`` (a ``ValueError``) is the base of:
``RoundDigestMismatch`` (the bytes are not the approved ones) and ``RoundLineError`` (a line at
fault; ``line_number`` is the 1-based line of the file), the base of ``RoundLineMalformed`` (a
line, or the header, that is not a line of this format) and ``RoundLineOrder`` (a line number
out of sequence or a claim id not above the previous one). ``write_round_preview`` raises
``RoundFileError`` for a field that cannot be written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from reclaim.core import limits
from reclaim.core.distribution.compute import AssetTotal, Bucket, ClassTotal, Payment, RoundLines
from reclaim.core.distribution.compute import RoundSummary as Summary
from reclaim.core.distribution.payees import DESTINATIONS
from reclaim.core.distribution.payloads import LINE_COLUMNS, LINE_INTEGERS, LINES_HEADER
from reclaim.core.distribution.state import Line
from reclaim.core.limits import round_file_line_length_max_bytes as line_length_max_bytes
from reclaim.core.money import ASSETS, format_amount
from reclaim.core.types import JsonValue

LINES_FILE: Final = "lines.csv"
REPORT_JSON: Final = "report.json"
REPORT_MD: Final = "report.md"
#: What the executor reads: one line of the file (``state.Line``).
RoundLine = Line
#: Bytes hashed per read: large enough to hash at disk speed, small enough not to matter.
read_chunk_bytes: Final = 1 << 20

_INTEGER_RE: Final = re.compile(r"0|[1-9][0-9]{0,18}")
#: What a text field may not hold: anything but printable ASCII, a comma or a quote.
_FORBIDDEN: Final = r'[^\x20-\x7e]|[,"]'
_USD: Final = ASSETS["USD"]


class RoundFileError(ValueError):
    """A lines file that is not the approved one, or not a lines file."""


class RoundDigestMismatch(RoundFileError):
    """The file's SHA-256 is not the expected one."""

    def __init__(self, path: Path, expected: str, found: str) -> None:
        super().__init__(f"{path}: SHA-256 {found}, expected {expected}")
        self.expected, self.found = expected, found


class RoundLineError(RoundFileError):
    """A line of the file at fault (``line_number``, 1-based: the header is line 1), and why."""

    def __init__(self, path: Path, line_number: int, why: str) -> None:
        super().__init__(f"{path}, line {line_number}: {why}")
        self.line_number = line_number


class RoundLineMalformed(RoundLineError):
    """A line (or the header) that is not in the lines file's format."""


class RoundLineOrder(RoundLineError):
    """A line number out of sequence, or a claim id not above the previous line's."""


@dataclass(frozen=True, slots=True)
class RoundPreview:
    """The files of a previewed round and the digest the approval signs."""

    lines_path: Path
    lines_sha256: str
    report_json_path: Path
    report_md_path: Path
    lines: int
    usd_minor: int


# Writing ----------------------------------------------------------------------------------------


def write_round_preview(directory: str | Path, lines: RoundLines) -> RoundPreview:
    """Write ``lines.csv``, ``report.json`` and ``report.md`` of ``lines`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lines_path = directory / LINES_FILE
    digest = write_lines_csv(lines.frame, lines_path)
    summary = lines.summary()
    report = summary_to_json(summary, LINES_FILE, digest)
    json_path = directory / REPORT_JSON
    _write_atomically(
        json_path, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    )
    md_path = directory / REPORT_MD
    _write_atomically(md_path, summary_to_markdown(summary, digest).encode("utf-8"))
    return RoundPreview(lines_path, digest, json_path, md_path, summary.lines, summary.usd_minor)


def write_lines_csv(frame: pl.DataFrame, path: str | Path) -> str:
    """Write the lines of a round to ``path``; the SHA-256 (hex) of the bytes written."""
    path = Path(path)
    if tuple(frame.columns) != LINE_COLUMNS:
        raise RoundFileError(f"the lines have columns {frame.columns}, not {list(LINE_COLUMNS)}")
    unwritable = _unwritable(frame)
    if unwritable:
        raise RoundFileError(
            f"a comma, quote or character other than printable ASCII in {', '.join(unwritable)}"
        )
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        # Polars writes fastest to a path (through a Python file object it was ~5× slower);
        # the digest is then read back from the page cache.
        frame.write_csv(temporary, include_header=True, quote_style="never", line_terminator="\n")
        digest = file_sha256(temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return digest


def _unwritable(frame: pl.DataFrame) -> list[str]:
    """The text columns with a value (of an ``Enum``: a category) that needs quoting or is not
    printable ASCII; the ``String`` columns are checked in one parallel query."""
    text = [name for name in LINE_COLUMNS if name not in LINE_INTEGERS]
    enums = [name for name in text if isinstance(frame.schema[name], pl.Enum)]
    strings = [name for name in text if name not in enums]
    found: dict[str, bool] = (
        frame.select(
            pl.col(name).cast(pl.String).str.contains(_FORBIDDEN).any() for name in strings
        ).row(0, named=True)
        if strings
        else {}
    )
    for name in enums:
        dtype = frame.schema[name]
        assert isinstance(dtype, pl.Enum)
        found[name] = bool(dtype.categories.str.contains(_FORBIDDEN).any())
    return [name for name in text if found[name]]


def file_sha256(path: str | Path) -> str:
    """The SHA-256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as source:
        while chunk := source.read(read_chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# Reports ----------------------------------------------------------------------------------------


def summary_to_json(summary: Summary, lines_file: str, lines_sha256: str) -> dict[str, JsonValue]:
    """The report of a round as JSON values: integers as decimal strings."""

    def buckets(items: tuple[Bucket, ...], key: str) -> list[JsonValue]:
        return [{key: b.key, "lines": str(b.lines), "usd_minor": str(b.usd_minor)} for b in items]

    return {
        "round_id": summary.round_id,
        "estate_id": summary.estate_id,
        "record_date": summary.record_date,
        "payment_date": summary.payment_date,
        "funding_minor": str(summary.funding_minor),
        "lines_file": lines_file,
        "lines_sha256": lines_sha256,
        "lines": str(summary.lines),
        "usd_minor": str(summary.usd_minor),
        "paid_usd_minor": str(summary.paid_usd_minor),
        "escrowed_usd_minor": str(summary.escrowed_usd_minor),
        "classes": [_class_json(c) for c in summary.classes],
        "jurisdictions": buckets(summary.jurisdictions, "jurisdiction"),
        "escrowed_by_reason": buckets(summary.escrowed_by_reason, "reason"),
        "paid_by_asset": [_asset_json(a) for a in summary.paid_by_asset],
        "largest": [_payment_json(p) for p in summary.largest],
        "smallest": [_payment_json(p) for p in summary.smallest],
    }


def _class_json(c: ClassTotal) -> JsonValue:
    return {
        "class_code": c.class_code,
        "target": c.target,
        "rate": f"{c.rate.numerator}/{c.rate.denominator}",
        "claims": str(c.claims),
        "admitted_minor": str(c.admitted_minor),
        "entitled_minor": str(c.entitled_minor),
        "received_minor": str(c.received_minor),
        "lines": str(c.lines),
        "usd_minor": str(c.usd_minor),
    }


def _asset_json(a: AssetTotal) -> JsonValue:
    return {
        "asset": a.asset,
        "lines": str(a.lines),
        "usd_minor": str(a.usd_minor),
        "amount_minor": str(a.amount_minor),
    }


def _payment_json(p: Payment) -> JsonValue:
    return {
        "line": str(p.line),
        "claim_id": p.claim_id,
        "class_code": p.class_code,
        "destination": p.destination,
        "usd_minor": str(p.usd_minor),
        "asset": p.asset,
        "amount_minor": str(p.amount_minor),
    }


def summary_to_markdown(summary: Summary, lines_sha256: str) -> str:
    """A short report for people: totals, classes, escrow, assets, extremes, the digest."""

    def usd(amount_minor: int) -> str:
        return f"${format_amount(amount_minor, _USD)}"

    out = [
        f"# Round {summary.round_id} ({summary.estate_id}) — preview",
        "",
        f"Record date {summary.record_date}, payment date {summary.payment_date}; "
        f"funding {usd(summary.funding_minor)}.",
        "",
        f"- lines: {summary.lines:,}",
        f"- total: {usd(summary.usd_minor)} (paid {usd(summary.paid_usd_minor)}, "
        f"escrowed {usd(summary.escrowed_usd_minor)})",
        f"- lines file SHA-256 (what the approval signs): `{lines_sha256}`",
        "",
        "| class | target | rate | claims | entitled (cumulative) | received before | lines "
        "| this round |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in summary.classes:
        out.append(
            f"| {c.class_code} | {c.target} | {c.rate.numerator}/{c.rate.denominator} "
            f"| {c.claims:,} | {usd(c.entitled_minor)} | {usd(c.received_minor)} "
            f"| {c.lines:,} | {usd(c.usd_minor)} |"
        )
    out += ["", "| escrowed: reason | lines | USD |", "| --- | ---: | ---: |"]
    out += [f"| {b.key} | {b.lines:,} | {usd(b.usd_minor)} |" for b in summary.escrowed_by_reason]
    out += ["", "| paid in | lines | USD | amount |", "| --- | ---: | ---: | ---: |"]
    for a in summary.paid_by_asset:
        amount = format_amount(a.amount_minor, ASSETS[a.asset]) if a.asset in ASSETS else "?"
        out.append(f"| {a.asset} | {a.lines:,} | {usd(a.usd_minor)} | {amount} {a.asset} |")
    out += ["", "| jurisdiction | lines | USD |", "| --- | ---: | ---: |"]
    out += [f"| {b.key} | {b.lines:,} | {usd(b.usd_minor)} |" for b in summary.jurisdictions]
    for title, payments in (("Largest", summary.largest), ("Smallest", summary.smallest)):
        out += [
            "",
            f"{title} payments: "
            + ", ".join(f"{p.claim_id} {usd(p.usd_minor)} ({p.destination})" for p in payments)
            + ".",
        ]
    return "\n".join(out) + "\n"


# Reading ----------------------------------------------------------------------------------------


def read_round_lines(
    path: str | Path, expected_sha256: str, *, start_line: int = 0
) -> Iterator[Line]:
    """The lines of an approved lines file, from ``start_line`` on, once its digest is checked."""
    path = Path(path)
    found = file_sha256(path)
    if found != expected_sha256:
        raise RoundDigestMismatch(path, expected_sha256, found)
    return _lines(path, expected_sha256, start_line)


def _lines(path: Path, expected_sha256: str, start_line: int) -> Iterator[Line]:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        header = source.readline(line_length_max_bytes + 1)
        digest.update(header)
        if header != LINES_HEADER.encode("ascii"):
            raise RoundLineMalformed(path, 1, "not the lines file header")
        previous = ""
        for index, raw in enumerate(iter(lambda: source.readline(line_length_max_bytes + 1), b"")):
            digest.update(raw)
            file_line = index + 2
            line = _parse(path, file_line, raw)
            if line.line != index:
                raise RoundLineOrder(path, file_line, f"line number {line.line}, expected {index}")
            if line.claim_id <= previous:
                raise RoundLineOrder(
                    path, file_line, f"claim {line.claim_id} is not after {previous}"
                )
            previous = line.claim_id
            if index >= start_line:
                yield line
    found = digest.hexdigest()
    if found != expected_sha256:
        raise RoundDigestMismatch(path, expected_sha256, found)


def _parse(path: Path, file_line: int, raw: bytes) -> Line:
    if len(raw) > line_length_max_bytes:
        raise RoundLineMalformed(path, file_line, f"longer than {line_length_max_bytes} bytes")
    if not raw.endswith(b"\n"):
        raise RoundLineMalformed(path, file_line, "the last line does not end with a line feed")
    try:
        text = raw[:-1].decode("ascii")
    except UnicodeDecodeError:
        raise RoundLineMalformed(path, file_line, "not ASCII") from None
    fields = text.split(",")
    if len(fields) != len(LINE_COLUMNS):
        raise RoundLineMalformed(
            path, file_line, f"{len(fields)} fields, expected {len(LINE_COLUMNS)}"
        )
    values: list[str | int] = []
    for name, field in zip(LINE_COLUMNS, fields, strict=True):
        if name not in LINE_INTEGERS:
            values.append(field)
            continue
        if _INTEGER_RE.fullmatch(field) is None or int(field) > limits.integer_max:
            raise RoundLineMalformed(path, file_line, f"{name} {field!r} is not a BIGINT ≥ 0")
        values.append(int(field))
    line = Line(*values)  # type: ignore[arg-type]
    if not line.claim_id:
        raise RoundLineMalformed(path, file_line, "no claim id")
    if line.destination not in DESTINATIONS:
        raise RoundLineMalformed(path, file_line, f"destination {line.destination!r}")
    if line.usd_minor <= 0:
        raise RoundLineMalformed(path, file_line, "usd_minor is not positive")
    assert line.text().encode("ascii") == raw, "a parsed line prints back to its bytes"
    return line
