"""Claims register files (CSV or Parquet): read, validate whole, and hand over as columns.

An estate's schedule of claims arrives as one file. ``read_register(path)`` reads it with
Polars, checks **every** row with vectorised expressions, and returns either a
``RegisterFile`` (every row valid) or a ``RegisterReport`` (every fault, nothing imported).

The header
----------
Columns are named exactly (lower case, no spaces around), in any order::

    claim_id,customer_code,email,holder_name,jurisdiction,class,admitted_usd,status

The amount comes in exactly one of two columns:

- ``admitted_usd``: dollars as a plain decimal, at most 2 places (``1234``, ``1234.5``,
  ``1234.56``); the canonical form, and what ``write_register_csv`` writes;
- ``admitted_cents``: a whole number of cents (``123456``).

A header with both, or neither, is refused, as are unknown, misspelt and repeated columns:
nothing in the file is ignored. Parquet files use the same names; their columns are strings,
except that ``admitted_cents`` (and ``admitted_usd``) may be integers and ``admitted_usd`` a
decimal with at most 2 places. Floats are refused. CSV files are comma-separated with ``"``
quoting, UTF-8 (a UTF-8 byte-order mark is tolerated), and read with every column as text, so
nothing is converted silently. A file is Parquet when its bytes start and end with ``PAR1``,
whatever its name; otherwise it is CSV (a ZIP/XLSX, gzip or UTF-16 file is named as such).

Cell rules (one fault per cell, the first of its column's ladder)
-----------------------------------------------------------------
- ``claim_id``, ``customer_code``: non-empty, at most ``limits.claim_id_length_max_chars``,
  ``[A-Za-z0-9][A-Za-z0-9._:-]*``; claim ids unique (case-sensitive; each repeat names the row
  of the first).
- ``email``: surrounding white space is tolerated (stripped); then non-empty, at most 254 bytes
  (local part at most 64), no white space or control/format character, and
  ``local@domain.tld``: a dot-atom local part (RFC 5322 ``atext``, non-ASCII allowed as in RFC
  6532; quoted local parts refused), host labels of letters, digits and inner hyphens (up to 63
  characters each), at least two labels, a top-level label that starts with a letter; IP
  literals refused. A pragmatic check, vectorised as one regular expression (~0.1 s per
  million addresses). The ``email-validator`` library is not used: pure Python, per address,
  it took ~21 µs each here (version 2.4.0, without DNS), ~21 s per million rows; and
  deliverability is proven later by the one-time code anyway. The ``email`` column comes out
  stripped.
- ``holder_name``: non-empty after stripping, at most ``limits.holder_name_length_max_chars``,
  no control character or line/paragraph separator.
- ``jurisdiction``: an officially assigned ISO 3166-1 alpha-2 code (``core.iso3166.ALPHA2``),
  upper case; ``cn`` is refused (with the hint ``CN``), never upper-cased silently.
- ``class``: non-empty, at most ``limits.claim_class_length_max_chars``,
  ``[A-Za-z0-9][A-Za-z0-9._-]*``, and one of ``allowed_classes`` when given.
- amount: non-negative, exact (``12.345`` dollars or ``12.5`` cents is *fractional cents*:
  refused, never rounded), no sign, exponent, separator, white space or leading zero, within
  BIGINT cents.
- ``status``: one of ``scheduled, filed, allowed, disputed, expunged`` (lower case).
- a CSV that is not UTF-8 gets a file-level fault naming the first bad byte (offset, line and
  byte of the line), and every cell holding undecodable bytes is named too; the rest of the
  file is still checked, so one report lists everything.
- a row whose every field is empty (a blank line) is one fault, ``row n: the row is blank``;
  blank lines at the very end of a CSV are not rows. A record with more fields than the header,
  or an unclosed quote, stops the reading with a fault that names its line.

Report
------
Faults are ``RegisterError(row, column, code, message)``; ``row`` is the 1-based **data row**
(the header is not counted; in a CSV without line breaks inside quoted fields, row ``n`` is on
line ``n + 1``), ``None`` for a fault of the whole file. File faults come first, then cell
faults by row and by column (in header order above). At most
``limits.register_report_errors_max`` are listed; ``errors_total`` counts all.

Output
------
``RegisterFile.frame`` has the columns of ``RegisterRow`` in file order: ``class`` becomes
``claim_class``, the amount becomes ``admitted_cents`` (Int64), and two columns are added for
matching: ``email_normalized`` = ``NFKC(casefold(NFKC(email))).strip()`` and
``holder_name_normalized`` = the same fold with white-space runs collapsed to one space. Both
are computed in Polars for ASCII values (where the fold is ``lower``) and in Python for the
others. ``register_id`` is the SHA-256 (hex) of the file's bytes exactly as read: the same
claims as CSV and as Parquet have different ids. The HMAC commitments of e-mails and names are
the PII vault's business, not this module's.

Errors
------
``OSError`` from reading the path propagates. Everything wrong with the file's content is a
``RegisterReport`` (a returned value). ``AssertionError`` is a bug.

Known limits
------------
The whole file is held in memory (bounded by ``limits.register_file_size_max_bytes``). A CSV
row with fewer fields than the header has its missing fields read as empty (so reported as
empty cells, not as a short row). User-assigned codes such as ``XK`` (Kosovo) are not
ISO 3166-1 codes and are refused.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

import polars as pl

from reclaim.adapters.files.register_cells import cents, check_cells
from reclaim.adapters.files.register_format import (
    AMOUNT_COLUMNS,
    CANONICAL_HEADER,
    COLUMN_ORDER,
    TEXT_COLUMNS,
    AmountColumn,
    Progress,
    RegisterError,
    RegisterFile,
    RegisterReport,
    SourceFormat,
)
from reclaim.core import limits

_BOM: Final = codecs.BOM_UTF8
_PARQUET_MAGIC: Final = b"PAR1"
_HASH_CHUNK_BYTES: Final = 16 * 1024 * 1024
_HEADER_PREFIX_BYTES: Final = 1024 * 1024


# Reading ----------------------------------------------------------------------------------------


def read_register(
    path: str | Path,
    *,
    allowed_classes: frozenset[str] | None = None,
    progress: Progress | None = None,
) -> RegisterFile | RegisterReport:
    """Read and check a whole register file; a ``RegisterFile`` only if every row is valid."""
    report = progress or _no_progress
    size_max = limits.register_file_size_max_bytes
    with Path(path).open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        data = b"" if size > size_max else file.read(size_max + 1)
    if max(size, len(data)) > size_max:
        return _file_fault(
            None,
            "file_too_large",
            f"{max(size, len(data)):,} bytes; a register file has at most {size_max:,}",
        )
    register_id = _sha256_hex(data, report)
    read = _parse(data, Path(path), report)
    if isinstance(read, RegisterError):
        return RegisterReport(register_id, (read,), 1, 0)
    frame, header, source_format, lossy = read
    if frame.height > limits.register_rows_max:
        return _file_fault(
            register_id,
            "too_many_rows",
            f"{frame.height:,} rows; a register has at most {limits.register_rows_max:,}",
        )
    file_errors = list(lossy)
    columns, header_errors = _check_header(header)
    file_errors += header_errors
    if frame.height == 0 and not file_errors:
        file_errors.append(RegisterError(None, None, "no_rows", "the file has no claims"))
    typed, type_errors = _text_columns(frame, columns, source_format)
    file_errors += type_errors
    cell_errors, cells_total = check_cells(
        typed, allowed_classes=allowed_classes, lossy=bool(lossy), report=report
    )
    if file_errors or cells_total:
        shown = (file_errors + cell_errors)[: limits.register_report_errors_max]
        total = len(file_errors) + cells_total
        return RegisterReport(register_id, tuple(shown), total, frame.height)
    amount_column: AmountColumn = (
        "admitted_cents" if "admitted_cents" in typed.columns else "admitted_usd"
    )
    out = _normalised(typed, amount_column, report)
    return RegisterFile(register_id, source_format, amount_column, out)


def _no_progress(stage: str, done: int, total: int) -> None:
    del stage, done, total


def _file_fault(register_id: str | None, code: str, message: str) -> RegisterReport:
    return RegisterReport(register_id, (RegisterError(None, None, code, message),), 1, 0)


def _sha256_hex(data: bytes, report: Progress) -> str:
    digest = hashlib.sha256()
    view = memoryview(data)
    report("hash", 0, len(data))
    for start in range(0, len(data), _HASH_CHUNK_BYTES):
        digest.update(view[start : start + _HASH_CHUNK_BYTES])
        report("hash", min(start + _HASH_CHUNK_BYTES, len(data)), len(data))
    return digest.hexdigest()


_Parsed = tuple[pl.DataFrame, list[str], SourceFormat, list[RegisterError]]


def _parse(data: bytes, path: Path, report: Progress) -> _Parsed | RegisterError:
    """The file as a frame with its header names, or the fault that stops reading it."""
    report("parse", 0, 1)
    fault = _sniff(data, path)
    if fault is not None:
        return fault
    parsed: _Parsed | RegisterError
    parsed = _parse_parquet(data) if data.startswith(_PARQUET_MAGIC) else _parse_csv(data)
    report("parse", 1, 1)
    return parsed


def _sniff(data: bytes, path: Path) -> RegisterError | None:
    def fault(code: str, message: str) -> RegisterError:
        return RegisterError(None, None, code, message)

    body = data.removeprefix(_BOM)
    if not body.strip():
        return fault("empty_file", "the file is empty (no header)")
    if data.startswith(_PARQUET_MAGIC):
        if len(data) < 12 or not data.endswith(_PARQUET_MAGIC):
            return fault("unreadable", "starts like Parquet (PAR1) but is truncated or damaged")
        return None
    if path.suffix.lower() == ".parquet":
        return fault("unsupported_format", "named .parquet but is not Parquet (no PAR1 magic)")
    if data.startswith(b"PK\x03\x04"):
        return fault("unsupported_format", "a ZIP archive (XLSX?); export the sheet as CSV")
    if data.startswith(b"\x1f\x8b"):
        return fault("unsupported_format", "gzip-compressed; decompress it first")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return fault("not_utf8", "UTF-16 text (byte-order mark); save the file as UTF-8")
    return None


def _parse_csv(data: bytes) -> _Parsed | RegisterError:
    """Polars checks UTF-8 as it reads; only when it refuses is the first bad byte located and
    the file read again with bad bytes replaced, so that its other faults are reported too."""
    body = _without_trailing_blank_lines(data[len(_BOM) :] if data.startswith(_BOM) else data)
    header = _csv_header(body)
    try:
        frame = _read_csv(body, lossy=False)
        lossy: list[RegisterError] = []
    except (pl.exceptions.PolarsError, OSError) as strict_exc:
        lossy = _utf8_fault(data)
        if not lossy:
            return _csv_structure_fault(body, len(header), strict_exc)
        try:
            frame = _read_csv(body, lossy=True)
        except (pl.exceptions.PolarsError, OSError) as exc:
            return _csv_structure_fault(body, len(header), exc)
    if frame.width != len(header):  # pragma: no cover - polars and csv read headers alike
        return RegisterError(None, None, "unreadable", "the header cannot be read")
    return frame, header, "csv", lossy


def _without_trailing_blank_lines(body: bytes) -> bytes:
    """``body`` without blank lines at its very end (Polars reads each as an empty row); blank
    lines elsewhere stay, and are reported."""
    end = len(body)
    while end and body[end - 1] in b"\r\n":
        end -= 1
    if body.count(b"\n", end) <= 1:
        return body
    return body[:end] + b"\n"


def _read_csv(body: bytes, *, lossy: bool) -> pl.DataFrame:
    return pl.read_csv(
        body,
        has_header=True,
        infer_schema=False,
        separator=",",
        quote_char='"',
        encoding="utf8-lossy" if lossy else "utf8",
        truncate_ragged_lines=False,
        raise_if_empty=True,
    )


def _utf8_fault(data: bytes) -> list[RegisterError]:
    """A fault naming the first byte that is not UTF-8, or none; checked in bounded chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data), _HASH_CHUNK_BYTES):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(view[start : start + _HASH_CHUNK_BYTES])
        except UnicodeDecodeError as exc:
            return [_not_utf8(data, start - pending + exc.start)]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return [_not_utf8(data, len(data) - len(decoder.getstate()[0]))]
    return []


def _not_utf8(data: bytes, offset: int) -> RegisterError:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return RegisterError(
        None,
        None,
        "not_utf8",
        f"not UTF-8: byte 0x{data[offset]:02X} at offset {offset:,} (line {line:,}, byte "
        f"{column:,} of the line); save the file as UTF-8",
    )


def _csv_header(body: bytes) -> list[str]:
    text = body[:_HEADER_PREFIX_BYTES].decode("utf-8", errors="replace")
    return next(csv.reader(io.StringIO(text)), [])


def _csv_structure_fault(body: bytes, fields: int, exc: Exception) -> RegisterError:
    """Where the CSV breaks (a record with too many fields, an unclosed quote), found again with
    Python's strict reader, or Polars' own message."""
    reader = csv.reader(io.StringIO(body.decode("utf-8", errors="replace")), strict=True)
    start = 1
    try:
        for row, record in enumerate(reader):
            if len(record) > fields:
                return RegisterError(
                    None,
                    None,
                    "too_many_fields",
                    f"row {row:,} (line {start:,}) has {len(record)} fields; "
                    f"the header has {fields}",
                )
            start = reader.line_num + 1
    except csv.Error as csv_exc:
        hint = " (a quote opened and never closed?)" if "end of data" in str(csv_exc) else ""
        return RegisterError(
            None,
            None,
            "unreadable",
            f"not a readable CSV file: the record that starts on line {start:,}: {csv_exc}{hint}",
        )
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return RegisterError(None, None, "unreadable", f"not a readable CSV file: {first_line}")


def _parse_parquet(data: bytes) -> _Parsed | RegisterError:
    try:
        rows = pl.scan_parquet(io.BytesIO(data)).select(pl.len()).collect().item()
        if rows > limits.register_rows_max:
            return RegisterError(
                None,
                None,
                "too_many_rows",
                f"{rows:,} rows; a register has at most {limits.register_rows_max:,}",
            )
        frame = pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "damaged"
        return RegisterError(None, None, "unreadable", f"not a readable Parquet file: {first_line}")
    return frame, list(frame.columns), "parquet", []


# The header -------------------------------------------------------------------------------------


def _check_header(header: Sequence[str]) -> tuple[dict[str, int], list[RegisterError]]:
    """Each known column's position in the file, and the header's faults."""
    errors: list[RegisterError] = []
    positions: dict[str, int] = {}
    known = set(CANONICAL_HEADER) | set(AMOUNT_COLUMNS)
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        separator = "';'" if ";" in header[0] else "a tab"
        message = f"the header is one column holding {separator}; fields are separated by commas"
        return {}, [RegisterError(None, None, "wrong_separator", message)]
    for position, name in enumerate(header):
        if name in positions:
            errors.append(RegisterError(None, name, "duplicate_column", "appears twice"))
        elif name in known:
            positions[name] = position
        else:
            errors.append(RegisterError(None, name, "unknown_column", _unknown(name)))
    missing = [name for name in TEXT_COLUMNS if name not in positions]
    amounts = [name for name in AMOUNT_COLUMNS if name in positions]
    for name in CANONICAL_HEADER:
        if name in missing:
            errors.append(RegisterError(None, name, "missing_column", "missing"))
        elif name == "admitted_usd" and not amounts:
            errors.append(
                RegisterError(
                    None,
                    "admitted_usd",
                    "missing_column",
                    "missing (give admitted_usd in dollars or admitted_cents in cents)",
                )
            )
    if len(amounts) == 2:
        errors.append(
            RegisterError(
                None,
                "admitted_cents",
                "both_amount_columns",
                "given with admitted_usd; give the amount in exactly one of them",
            )
        )
        del positions["admitted_cents"]
    return positions, errors


def _unknown(name: str) -> str:
    known = (*CANONICAL_HEADER, "admitted_cents")
    guess = name.strip().lower().replace(" ", "_").replace("-", "_")
    hints = {"e_mail": "email", "holder": "holder_name", "country": "jurisdiction"}
    guess = hints.get(guess, guess)
    if guess in known:
        return f"unknown column (did you mean {guess}? names are exact and lower case)"
    return "unknown column (expected: " + ", ".join(known) + ")"


# Column types -----------------------------------------------------------------------------------


def _text_columns(
    frame: pl.DataFrame, positions: Mapping[str, int], source_format: SourceFormat
) -> tuple[pl.DataFrame, list[RegisterError]]:
    """The known columns as text (with a 1-based ``row``), and faults of column types."""
    errors: list[RegisterError] = []
    selected: list[pl.Expr] = [pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("row")]
    for name, position in sorted(positions.items(), key=lambda item: COLUMN_ORDER[item[0]]):
        column = frame.columns[position]
        dtype = frame.schema[column]
        fault = None if source_format == "csv" else _type_fault(name, dtype)
        if fault is not None:
            errors.append(RegisterError(None, name, "wrong_column_type", fault))
            continue
        text = pl.col(column).cast(pl.String).fill_null("")
        selected.append((text.str.strip_chars() if name == "email" else text).alias(name))
    return frame.select(selected), errors


def _type_fault(name: str, dtype: pl.DataType) -> str | None:
    """Why a Parquet column of ``dtype`` cannot hold ``name``, or None (converted exactly)."""
    if dtype in (pl.String, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum):
        return None
    if name in AMOUNT_COLUMNS and dtype.is_integer():
        return None
    if name == "admitted_usd" and isinstance(dtype, pl.Decimal):
        if (dtype.scale or 0) <= 2:
            return None
        return f"is {dtype} with {dtype.scale} places; at most 2 (fractional cents)"
    if dtype.is_float():
        return f"is {dtype}: floating-point amounts are refused; use text or integer cents"
    return f"is {dtype}; this column is text (nothing is converted silently)"


# Normalisation ----------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Caseless-matching form: ``NFKC(casefold(NFKC(text))).strip()``."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).strip()


def fold_name(text: str) -> str:
    """``fold`` with every run of white space collapsed to one space."""
    return " ".join(fold(text).split())


def _folded(frame: pl.DataFrame, name: str, python_fold: Callable[[str], str]) -> pl.Expr:
    """``python_fold`` of column ``name``, computed in Python only for the values that need it.

    A value of ASCII letters with no white space to strip or collapse folds to its lower case
    (NFKC and casefold are the identity and ``lower`` on ASCII); the rest (non-ASCII text,
    white space at an end, runs of spaces in names) goes through ``python_fold`` once per
    distinct value.
    """
    col = pl.col(name)
    special = (col.str.len_bytes() != col.str.len_chars()) | col.str.contains(r"^\s|\s$")
    if name == "holder_name":
        special = special | col.str.contains(r"\s\s")
    others = frame.select(col.filter(special).unique()).to_series()
    if others.is_empty():
        return col.str.to_lowercase()
    old = others.to_list()
    new = [python_fold(value) for value in old]
    return (
        pl.when(special)
        .then(col.replace_strict(old, new, default=None, return_dtype=pl.String))
        .otherwise(col.str.to_lowercase())
    )


def _normalised(typed: pl.DataFrame, amount_column: AmountColumn, report: Progress) -> pl.DataFrame:
    report("normalise", 0, 1)
    out = typed.select(
        pl.col("row"),
        pl.col("claim_id"),
        pl.col("customer_code"),
        pl.col("email"),
        _folded(typed, "email", fold).alias("email_normalized"),
        pl.col("holder_name"),
        _folded(typed, "holder_name", fold_name).alias("holder_name_normalized"),
        pl.col("jurisdiction"),
        pl.col("class").alias("claim_class"),
        cents(amount_column).alias("admitted_cents"),
        pl.col("status"),
    )
    report("normalise", 1, 1)
    assert out.null_count().sum_horizontal().item() == 0, "valid rows normalise to values"
    return out
