"""Register files: every fault of a whole file reported, exact rows out of a clean one.

The acceptance file of issue 4 (``FAULTS``) holds one of each fault: a missing column
(``customer_code``), a negative amount, an unknown country, a repeated claim id, a bad e-mail,
fractional cents and a Latin-1 byte. One report names all of them, and nothing is imported.
"""

from __future__ import annotations

import codecs
import hashlib
import io
from pathlib import Path

import polars as pl
import pytest

from reclaim.adapters.files.register_file import fold, fold_name, read_register
from reclaim.adapters.files.register_format import (
    RegisterError,
    RegisterFile,
    RegisterReport,
    RegisterRow,
)
from reclaim.adapters.files.register_synthetic import (
    RESTRICTED_2025,
    synthetic_register,
    write_register_csv,
    write_register_parquet,
)
from reclaim.core import limits
from reclaim.core.iso3166 import ALPHA2, NAMES

HEADER = "claim_id,customer_code,email,holder_name,jurisdiction,class,admitted_usd,status\n"
GOOD = "FTX-1,C-1,alice@example.com,Alice Smith,FR,5A,100.00,allowed\n"

FAULTS = (
    b"claim_id,email,holder_name,jurisdiction,class,admitted_usd,status\n"
    b"FTX-1,alice@example.com,Alice Smith,FR,5A,100.00,allowed\n"
    b"FTX-2,bob@example.com,Bob Jones,GB,5A,-5.00,allowed\n"
    b"FTX-3,carol@example.com,Carol King,XX,6A,1.00,scheduled\n"
    b"FTX-1,dan@example.com,Dan Brown,DE,7,2.50,filed\n"
    b"FTX-5,erin@@example,Erin Gray,JP,5B,3.00,disputed\n"
    b"FTX-6,frank@example.com,Frank Moss,CN,5A,12.345,allowed\n"
    b"FTX-7,gil@example.com,Ren\xe9 Roux,FR,5A,1.00,expunged\n"
)
FAULT_LINES = [
    "file: not UTF-8: byte 0xE9 at offset 410 (line 8, byte 26 of the line);"
    " save the file as UTF-8",
    "file, customer_code: missing",
    "row 2, admitted_usd: '-5.00' is negative (amounts have no sign)",
    "row 3, jurisdiction: 'XX' is not an ISO 3166-1 alpha-2 country code",
    "row 4, claim_id: 'FTX-1' repeats the claim id of row 1",
    "row 5, email: 'erin@@example' is not an e-mail address (local@domain.tld)",
    "row 6, admitted_usd: '12.345' has 3 decimal places: fractional cents are refused",
    "row 7, holder_name: 'Ren\ufffd Roux' holds bytes that are not UTF-8 (shown as U+FFFD)",
]


def write(tmp_path: Path, data: bytes | str, name: str = "register.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def report_of(tmp_path: Path, data: bytes | str, name: str = "register.csv") -> list[str]:
    result = read_register(write(tmp_path, data, name))
    assert isinstance(result, RegisterReport), "the file must be refused"
    return result.lines()


def imported(path: Path, allowed_classes: frozenset[str] | None = None) -> RegisterFile:
    result = read_register(path, allowed_classes=allowed_classes)
    assert isinstance(result, RegisterFile), result.lines()
    return result


# The acceptance file ----------------------------------------------------------------------------


def test_the_faults_file_reports_every_fault_and_imports_nothing(tmp_path: Path) -> None:
    assert FAULTS.index(b"\xe9") == 410
    result = read_register(write(tmp_path, FAULTS))
    assert isinstance(result, RegisterReport)
    assert result.lines() == FAULT_LINES
    assert result.errors_total == 8
    assert result.rows_read == 7
    assert result.register_id == hashlib.sha256(FAULTS).hexdigest()
    assert [e.code for e in result.errors] == [
        "not_utf8",
        "missing_column",
        "negative_amount",
        "unknown_jurisdiction",
        "duplicate_claim_id",
        "invalid_email",
        "fractional_cents",
        "not_utf8",
    ]


def test_a_missing_column_alone_is_the_whole_report(tmp_path: Path) -> None:
    data = "claim_id,customer_code,holder_name,jurisdiction,class,admitted_usd,status\n"
    data += "FTX-1,C-1,Alice Smith,FR,5A,100.00,allowed\n"
    assert report_of(tmp_path, data) == ["file, email: missing"]


def test_a_latin1_file_names_its_first_bad_byte_and_every_bad_cell(tmp_path: Path) -> None:
    text = HEADER + "FTX-1,C-1,a@example.com,José Núñez,ES,5A,1.00,allowed\n"
    text += "FTX-2,C-2,b@example.com,Zoë Brandt,DE,5A,2.00,allowed\n"
    assert report_of(tmp_path, text.encode("latin-1")) == [
        "file: not UTF-8: byte 0xE9 at offset 107 (line 2, byte 28 of the line);"
        " save the file as UTF-8",
        "row 1, holder_name: 'Jos\ufffd N\ufffd\ufffdez' holds bytes that are not UTF-8"
        " (shown as U+FFFD)",
        "row 2, holder_name: 'Zo\ufffd Brandt' holds bytes that are not UTF-8 (shown as U+FFFD)",
    ]


@pytest.mark.parametrize(
    "row",
    [
        b"FTX-1,C-1,a@example.com,Ann,FR,5A,1.00,\xff\n",  # the last field
        b'FTX-1,C-1,a@example.com,"Ann, \xc3",FR,5A,1.00,allowed\n',  # a quoted field
    ],
)
def test_bad_bytes_are_found_in_any_field(tmp_path: Path, row: bytes) -> None:
    lines = report_of(tmp_path, HEADER.encode() + row)
    assert lines[0].startswith("file: not UTF-8: byte 0x")
    assert "holds bytes that are not UTF-8" in lines[1]


def test_utf16_is_named(tmp_path: Path) -> None:
    data = codecs.BOM_UTF16_LE + (HEADER + GOOD).encode("utf-16-le")
    assert report_of(tmp_path, data) == [
        "file: UTF-16 text (byte-order mark); save the file as UTF-8"
    ]


# A clean file -----------------------------------------------------------------------------------

CLEAN = HEADER + (
    "FTX-1,C-1,alice@example.com,Alice Smith,FR,5A,100.00,allowed\n"
    'FTX-2,C-2, Bob.Jones@Example.COM ,"  Jones,   Bob ",GB,7,0.5,scheduled\n'
    "FTX-3,C-2,用户@例子.中国,王伟,CN,6A,0,disputed\n"
    "FTX-4,C-4,hans@example.de,Hans Straße,DE,5B,92233720368547758.07,filed\n"
    "FTX-5,C-5,z@example.org,ＺＯＥ,JP,6B,12.3,expunged\n"
)
CLEAN_ROWS = [
    RegisterRow(
        1,
        "FTX-1",
        "C-1",
        "alice@example.com",
        "alice@example.com",
        "Alice Smith",
        "alice smith",
        "FR",
        "5A",
        10_000,
        "allowed",
    ),
    RegisterRow(
        2,
        "FTX-2",
        "C-2",
        "Bob.Jones@Example.COM",
        "bob.jones@example.com",
        "  Jones,   Bob ",
        "jones, bob",
        "GB",
        "7",
        50,
        "scheduled",
    ),
    RegisterRow(
        3,
        "FTX-3",
        "C-2",
        "用户@例子.中国",
        "用户@例子.中国",
        "王伟",
        "王伟",
        "CN",
        "6A",
        0,
        "disputed",
    ),
    RegisterRow(
        4,
        "FTX-4",
        "C-4",
        "hans@example.de",
        "hans@example.de",
        "Hans Straße",
        "hans strasse",
        "DE",
        "5B",
        limits.integer_max,
        "filed",
    ),
    RegisterRow(
        5,
        "FTX-5",
        "C-5",
        "z@example.org",
        "z@example.org",
        "ＺＯＥ",
        "zoe",
        "JP",
        "6B",
        1230,
        "expunged",
    ),
]


def test_a_clean_file_gives_its_rows_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN)
    register = imported(path)
    assert list(register.rows()) == CLEAN_ROWS
    assert register.row_count == 5
    assert register.register_id == hashlib.sha256(path.read_bytes()).hexdigest()
    assert register.source_format == "csv"
    assert register.amount_column == "admitted_usd"
    assert next(register.dicts()) == CLEAN_ROWS[0]._asdict()
    assert register.frame.schema["admitted_cents"] == pl.Int64


def test_crlf_line_ends_and_any_column_order(tmp_path: Path) -> None:
    frame = pl.read_csv(io.StringIO(CLEAN), infer_schema=False)
    shuffled = frame.select(reversed(frame.columns))
    text = shuffled.write_csv(line_terminator="\r\n")
    assert list(imported(write(tmp_path, text)).rows()) == CLEAN_ROWS


def test_a_bom_is_tolerated_and_changes_only_the_register_id(tmp_path: Path) -> None:
    plain = imported(write(tmp_path, CLEAN, "plain.csv"))
    with_bom = imported(write(tmp_path, codecs.BOM_UTF8 + CLEAN.encode(), "bom.csv"))
    assert with_bom.frame.equals(plain.frame)
    assert with_bom.register_id != plain.register_id


def test_amounts_in_cents(tmp_path: Path) -> None:
    text = HEADER.replace("admitted_usd", "admitted_cents") + GOOD.replace("100.00", "10000")
    register = imported(write(tmp_path, text))
    assert register.amount_column == "admitted_cents"
    assert [row.admitted_cents for row in register.rows()] == [10_000]


def test_allowed_classes(tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN)
    classes = frozenset({"5A", "5B", "6A", "6B", "7"})
    assert imported(path, allowed_classes=classes).row_count == 5
    result = read_register(path, allowed_classes=frozenset({"5A", "7"}))
    assert isinstance(result, RegisterReport)
    assert result.lines() == [
        "row 3, class: '6A' is not a class of this estate (5A, 7)",
        "row 4, class: '5B' is not a class of this estate (5A, 7)",
        "row 5, class: '6B' is not a class of this estate (5A, 7)",
    ]


def test_progress_is_reported_by_stage(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    imported_ = read_register(write(tmp_path, CLEAN), progress=lambda *step: seen.append(step))
    assert isinstance(imported_, RegisterFile)
    size = len(CLEAN.encode())
    assert seen == [
        ("hash", 0, size),
        ("hash", size, size),
        ("parse", 0, 1),
        ("parse", 1, 1),
        ("validate", 0, 8),
        ("validate", 8, 8),
        ("normalise", 0, 1),
        ("normalise", 1, 1),
    ]


# CSV and Parquet --------------------------------------------------------------------------------


def test_the_same_register_as_csv_and_parquet_gives_the_same_rows(tmp_path: Path) -> None:
    frame = synthetic_register(500, seed=7)
    write_register_csv(tmp_path / "r.csv", frame)
    write_register_parquet(tmp_path / "r.parquet", frame)
    from_csv = imported(tmp_path / "r.csv")
    from_parquet = imported(tmp_path / "r.parquet")
    assert from_parquet.source_format == "parquet"
    assert from_parquet.frame.equals(from_csv.frame)
    # register_id is the SHA-256 of the file's bytes: the same claims, other bytes, other id.
    for register, name in ((from_csv, "r.csv"), (from_parquet, "r.parquet")):
        assert register.register_id == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    assert from_csv.register_id != from_parquet.register_id


def test_parquet_is_detected_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    frame = synthetic_register(20, seed=1)
    write_register_parquet(tmp_path / "register.csv", frame)
    assert imported(tmp_path / "register.csv").source_format == "parquet"


def test_parquet_integer_cents_and_decimal_dollars(tmp_path: Path) -> None:
    frame = synthetic_register(50, seed=3)
    write_register_csv(tmp_path / "r.csv", frame)
    cents = synthetic_register(50, seed=3, amount_column="admitted_cents").with_columns(
        pl.col("admitted_cents").cast(pl.Int64)
    )
    write_register_parquet(tmp_path / "c.parquet", cents)
    dollars = frame.with_columns(pl.col("admitted_usd").cast(pl.Decimal(20, 2)))
    write_register_parquet(tmp_path / "d.parquet", dollars)
    expected = imported(tmp_path / "r.csv").frame
    assert imported(tmp_path / "c.parquet").frame.equals(expected)
    assert imported(tmp_path / "d.parquet").frame.equals(expected)


def test_parquet_column_types_are_never_converted_silently(tmp_path: Path) -> None:
    frame = synthetic_register(5, seed=3, amount_column="admitted_cents").with_columns(
        pl.col("admitted_cents").cast(pl.Float64),
        pl.col("customer_code").str.slice(1).cast(pl.Int64),
    )
    write_register_parquet(tmp_path / "f.parquet", frame)
    result = read_register(tmp_path / "f.parquet")
    assert isinstance(result, RegisterReport)
    assert result.lines() == [
        "file, customer_code: is Int64; this column is text (nothing is converted silently)",
        "file, admitted_cents: is Float64: floating-point amounts are refused;"
        " use text or integer cents",
    ]


# Cell rules -------------------------------------------------------------------------------------


def one_row(tmp_path: Path, column: str, value: str, header: str = HEADER) -> list[str]:
    names = header.strip().split(",")
    cells = GOOD.strip().split(",")
    cells[names.index(column)] = value
    return report_of(tmp_path, header + ",".join(cells) + "\n")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "is empty"),
        ("-0", "'-0' is negative (amounts have no sign)"),
        ("1.000", "'1.000' has 3 decimal places: fractional cents are refused"),
        ("0.001", "'0.001' has 3 decimal places: fractional cents are refused"),
        ("1e3", "'1e3' is not a dollar amount (digits, optionally . and 1-2 places)"),
        (" 1", "' 1' is not a dollar amount (digits, optionally . and 1-2 places)"),
        ("01", "'01' is not a dollar amount (digits, optionally . and 1-2 places)"),
        ("+1", "'+1' is not a dollar amount (digits, optionally . and 1-2 places)"),
        (".5", "'.5' is not a dollar amount (digits, optionally . and 1-2 places)"),
        ("1.", "'1.' is not a dollar amount (digits, optionally . and 1-2 places)"),
        ('"1,000"', "'1,000' is not a dollar amount (digits, optionally . and 1-2 places)"),
        ("NaN", "'NaN' is not a dollar amount (digits, optionally . and 1-2 places)"),
        ("92233720368547758.08", "'92233720368547758.08' does not fit a 64-bit number of cents"),
        ("1" * 30, f"'{'1' * 30}' does not fit a 64-bit number of cents"),
    ],
)
def test_dollar_amounts(tmp_path: Path, value: str, message: str) -> None:
    assert one_row(tmp_path, "admitted_usd", value) == [f"row 1, admitted_usd: {message}"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-12", "'-12' is negative (amounts have no sign)"),
        ("12.5", "'12.5' is not a whole number of cents: fractional cents are refused"),
        ("12.00", "'12.00' is not a whole number of cents: fractional cents are refused"),
        ("0012", "'0012' is not a whole number of cents (digits only)"),
        ("9223372036854775808", "'9223372036854775808' does not fit a 64-bit number of cents"),
    ],
)
def test_cent_amounts(tmp_path: Path, value: str, message: str) -> None:
    header = HEADER.replace("admitted_usd", "admitted_cents")
    assert one_row(tmp_path, "admitted_cents", value, header) == [
        f"row 1, admitted_cents: {message}"
    ]


def test_the_largest_cent_amount(tmp_path: Path) -> None:
    header = HEADER.replace("admitted_usd", "admitted_cents")
    text = header + GOOD.replace("100.00", str(limits.integer_max))
    assert next(imported(write(tmp_path, text)).rows()).admitted_cents == limits.integer_max


@pytest.mark.parametrize(
    "email",
    [
        "a@b.co",
        "first.last+tag@sub.example.co.uk",
        "o'brien@example.ie",
        "x_y-z@xn--fiqs8s.xn--fiqz9s",
        "用户@例子.中国",
        "a" * 64 + "@example.com",
    ],
)
def test_valid_emails(tmp_path: Path, email: str) -> None:
    path = write(tmp_path, HEADER + GOOD.replace("alice@example.com", email))
    assert next(imported(path).rows()).email == email


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "is empty"),
        ("plainaddress", "'plainaddress' is not an e-mail address (local@domain.tld)"),
        ("a@b", "'a@b' is not an e-mail address (local@domain.tld)"),
        (".a@b.com", "'.a@b.com' is not an e-mail address (local@domain.tld)"),
        ("a..b@b.com", "'a..b@b.com' is not an e-mail address (local@domain.tld)"),
        ("a@-b.com", "'a@-b.com' is not an e-mail address (local@domain.tld)"),
        ("a@b.com.", "'a@b.com.' is not an e-mail address (local@domain.tld)"),
        ("a@1.2.3.4", "'a@1.2.3.4' is not an e-mail address (local@domain.tld)"),
        ("a@[1.2.3.4]", "'a@[1.2.3.4]' is not an e-mail address (local@domain.tld)"),
        ('"""a b""@b.com"', "'\"a b\"@b.com' holds white space or an invisible character"),
        ("a b@c.com", "'a b@c.com' holds white space or an invisible character"),
        ("a\u200b@c.com", "'a\\u200b@c.com' holds white space or an invisible character"),
        ("a" * 65 + "@b.com", f"'{'a' * 60}…': the part before @ is longer than 64 bytes"),
        ("a@" + "b" * 250 + ".com", "256 bytes long; at most 254"),
    ],
)
def test_invalid_emails(tmp_path: Path, email: str, message: str) -> None:
    assert one_row(tmp_path, "email", email) == [f"row 1, email: {message}"]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("claim_id", "", "is empty"),
        (
            "claim_id",
            "FTX 1",
            "'FTX 1' may hold only letters A-Z a-z, digits and '.', '_', ':',"
            " '-', starting with a letter or digit",
        ),
        (
            "claim_id",
            "-FTX",
            "'-FTX' may hold only letters A-Z a-z, digits and '.', '_', ':',"
            " '-', starting with a letter or digit",
        ),
        ("claim_id", "F" * 65, "65 characters long; at most 64"),
        (
            "customer_code",
            "C/1",
            "'C/1' may hold only letters A-Z a-z, digits and '.', '_',"
            " ':', '-', starting with a letter or digit",
        ),
        ("holder_name", "  ", "is empty"),
        ("holder_name", '"Ann\nLee"', "'Ann\\nLee' holds a control character or a line break"),
        ("holder_name", "N" * 257, "257 characters long; at most 256"),
        ("jurisdiction", "cn", "'cn' must be upper case (CN)"),
        ("jurisdiction", "Fr", "'Fr' must be upper case (FR)"),
        ("jurisdiction", "XK", "'XK' is not an ISO 3166-1 alpha-2 country code"),
        ("jurisdiction", "FRA", "'FRA' is not an ISO 3166-1 alpha-2 country code"),
        ("jurisdiction", "", "is empty"),
        (
            "class",
            "5 A",
            "'5 A' may hold only letters A-Z a-z, digits and '.', '_', '-',"
            " starting with a letter or digit",
        ),
        ("class", "", "is empty"),
        (
            "status",
            "Allowed",
            "'Allowed' is not one of scheduled, filed, allowed, disputed, expunged",
        ),
        ("status", "paid", "'paid' is not one of scheduled, filed, allowed, disputed, expunged"),
    ],
)
def test_cell_rules(tmp_path: Path, column: str, value: str, message: str) -> None:
    assert one_row(tmp_path, column, value) == [f"row 1, {column}: {message}"]


def test_every_repeat_of_a_claim_id_names_the_first(tmp_path: Path) -> None:
    rows = [GOOD.replace("FTX-1", claim) for claim in ("A", "B", "A", "A", "B")]
    assert report_of(tmp_path, HEADER + "".join(rows)) == [
        "row 3, claim_id: 'A' repeats the claim id of row 1",
        "row 4, claim_id: 'A' repeats the claim id of row 1",
        "row 5, claim_id: 'B' repeats the claim id of row 2",
    ]


def test_faults_are_sorted_by_row_then_column_and_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "register_report_errors_max", 4)
    bad = GOOD.replace("allowed", "paid").replace("FR", "fr")
    rows = [bad.replace("FTX-1", f"FTX-{n}") for n in (2, 3, 4)]
    result = read_register(write(tmp_path, HEADER + GOOD + "".join(rows)))
    assert isinstance(result, RegisterReport)
    assert result.lines() == [
        "row 2, jurisdiction: 'fr' must be upper case (FR)",
        "row 2, status: 'paid' is not one of scheduled, filed, allowed, disputed, expunged",
        "row 3, jurisdiction: 'fr' must be upper case (FR)",
        "row 3, status: 'paid' is not one of scheduled, filed, allowed, disputed, expunged",
        "... and 2 more faults not listed",
    ]
    assert result.errors_total == 6


# Header and file faults -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "lines"),
    [
        (
            HEADER.replace("email", "Email"),
            [
                "file, Email: unknown column (did you mean email? names are exact and lower case)",
                "file, email: missing",
            ],
        ),
        (
            HEADER.replace("status", "status,notes"),
            [
                "file, notes: unknown column (expected: claim_id, customer_code, email,"
                " holder_name, jurisdiction, class, admitted_usd, status, admitted_cents)"
            ],
        ),
        (
            HEADER.replace("status", "status,admitted_cents"),
            [
                "file, admitted_cents: given with admitted_usd; give the amount in exactly one"
                " of them"
            ],
        ),
        (
            HEADER.replace("admitted_usd", "amount"),
            [
                "file, amount: unknown column (expected: claim_id, customer_code, email,"
                " holder_name, jurisdiction, class, admitted_usd, status, admitted_cents)",
                "file, admitted_usd: missing (give admitted_usd in dollars or admitted_cents"
                " in cents)",
            ],
        ),
    ],
)
def test_header_faults(tmp_path: Path, header: str, lines: list[str]) -> None:
    extra = ",x" if header.count(",") > HEADER.count(",") else ""
    assert report_of(tmp_path, header + GOOD.strip() + extra + "\n") == lines


def test_blank_lines_at_the_end_are_not_rows(tmp_path: Path) -> None:
    assert imported(write(tmp_path, CLEAN + "\n\r\n\n")).row_count == 5


def test_a_column_name_with_spaces_is_shown_quoted(tmp_path: Path) -> None:
    assert report_of(tmp_path, HEADER.replace("status", "status ") + GOOD) == [
        "file, 'status ': unknown column (did you mean status? names are exact and lower case)",
        "file, status: missing",
    ]


def test_a_repeated_column(tmp_path: Path) -> None:
    header = HEADER.strip() + ",email\n"
    assert report_of(tmp_path, header + GOOD.strip() + ",x@y.org\n") == [
        "file, email: appears twice"
    ]


@pytest.mark.parametrize(
    ("data", "name", "line"),
    [
        (b"", "r.csv", "file: the file is empty (no header)"),
        (codecs.BOM_UTF8 + b"\n", "r.csv", "file: the file is empty (no header)"),
        (HEADER.encode(), "r.csv", "file: the file has no claims"),
        (b"PK\x03\x04rest", "r.xlsx", "file: a ZIP archive (XLSX?); export the sheet as CSV"),
        (b"\x1f\x8b\x08rest", "r.csv.gz", "file: gzip-compressed; decompress it first"),
        (b"a,b\n", "r.parquet", "file: named .parquet but is not Parquet (no PAR1 magic)"),
        (b"PAR1xxxx", "r.parquet", "file: starts like Parquet (PAR1) but is truncated or damaged"),
        (
            HEADER.replace(",", ";").encode(),
            "r.csv",
            "file: the header is one column holding ';'; fields are separated by commas",
        ),
        (
            (HEADER + GOOD + GOOD.strip() + ",extra\n").encode(),
            "r.csv",
            "file: row 2 (line 3) has 9 fields; the header has 8",
        ),
        (
            (HEADER + GOOD + GOOD.replace("Alice", '"Alice') + GOOD).encode(),
            "r.csv",
            "file: not a readable CSV file: the record that starts on line 3: unexpected end of"
            " data (a quote opened and never closed?)",
        ),
        (
            (HEADER + GOOD.replace("Alice Smith", '"Alice" Smith')).encode(),
            "r.csv",
            "file: not a readable CSV file: the record that starts on line 2: ',' expected"
            " after '\"'",
        ),
        (
            (HEADER + GOOD + "\n" + GOOD.replace("FTX-1", "FTX-2")).encode(),
            "r.csv",
            "row 2: the row is blank (every field empty)",
        ),
        (
            (HEADER.strip() + ",\n" + GOOD.strip() + ",\n").encode(),
            "r.csv",
            "file, '': unknown column (expected: claim_id, customer_code, email, holder_name,"
            " jurisdiction, class, admitted_usd, status, admitted_cents)",
        ),
    ],
)
def test_file_faults(tmp_path: Path, data: bytes, name: str, line: str) -> None:
    assert report_of(tmp_path, data, name) == [line]


def test_the_row_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = synthetic_register(5, seed=2)
    monkeypatch.setattr(limits, "register_rows_max", 4)
    write_register_csv(tmp_path / "r.csv", frame)
    write_register_parquet(tmp_path / "r.parquet", frame)
    for name in ("r.csv", "r.parquet"):
        result = read_register(tmp_path / name)
        assert isinstance(result, RegisterReport)
        assert result.lines() == ["file: 5 rows; a register has at most 4"]


def test_the_size_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, CLEAN)
    monkeypatch.setattr(limits, "register_file_size_max_bytes", path.stat().st_size - 1)
    result = read_register(path)
    assert isinstance(result, RegisterReport)
    size = path.stat().st_size
    assert result.lines() == [f"file: {size:,} bytes; a register file has at most {size - 1:,}"]
    assert result.register_id is None


def test_the_named_bounds() -> None:
    assert limits.register_rows_max >= 9_000_000  # FTX's ~9 million customer claims
    assert limits.register_report_errors_max > 0
    assert limits.email_length_max_bytes == 254
    assert limits.email_local_part_max_bytes == 64


def test_a_report_needs_a_fault() -> None:
    with pytest.raises(AssertionError):
        RegisterReport(None, (), 0, 0)
    error = RegisterError(None, "email", "missing_column", "missing")
    assert RegisterReport(None, (error,), 1, 0).lines() == ["file, email: missing"]


# Normalisation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Bob@Example.COM", "bob@example.com"),
        (" \tBob@Example.COM\u00a0", "bob@example.com"),
        ("STRASSE@straße.de", "strasse@strasse.de"),
        ("ＡＢＣ@ｅｘａｍｐｌｅ.com", "abc@example.com"),
        ("ﬁle@x.org", "file@x.org"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_name() -> None:
    assert fold_name("  Zhāng \u3000 Wěi  ") == "zhāng wěi"
    assert fold_name("O\u2019Brien  Seán") == "o\u2019brien seán"


def test_polars_and_python_folds_agree(tmp_path: Path) -> None:
    frame = synthetic_register(2_000, seed=11)
    write_register_csv(tmp_path / "r.csv", frame)
    for row in imported(tmp_path / "r.csv").rows():
        assert row.email_normalized == fold(row.email)
        assert row.holder_name_normalized == fold_name(row.holder_name)


# Synthetic registers ----------------------------------------------------------------------------


def test_synthetic_registers_are_seeded_and_realistic(tmp_path: Path) -> None:
    frame = synthetic_register(20_000, seed=5)
    assert frame.equals(synthetic_register(20_000, seed=5))
    assert not frame.equals(synthetic_register(20_000, seed=6))
    restricted = frame.filter(pl.col("jurisdiction").is_in(RESTRICTED_2025))
    assert 0.025 < restricted.height / frame.height < 0.035
    counts = restricted.get_column("jurisdiction").value_counts(sort=True)
    assert counts.row(0) == ("CN", counts.get_column("count").max())
    assert 0.75 < counts.row(0)[1] / restricted.height < 0.9
    assert set(frame.get_column("class")) == {"5A", "5B", "6A", "6B", "7"}
    assert set(frame.get_column("jurisdiction")) <= ALPHA2
    write_register_csv(tmp_path / "r.csv", frame)
    register = imported(tmp_path / "r.csv")
    convenience = register.frame.filter(pl.col("claim_class") == "7")
    assert convenience.get_column("admitted_cents").max() <= 5_000_000  # type: ignore[operator]
    assert register.frame.get_column("admitted_cents").min() == 0


def test_iso3166() -> None:
    assert len(ALPHA2) == 249
    assert set(NAMES) == ALPHA2
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in ALPHA2)
    assert {"CN", "US", "FR", "TW", "HK", "MO", "SS", "KP"} <= ALPHA2
    assert not {"XK", "EU", "UK", "ZZ", "AN"} & ALPHA2
    assert NAMES["CI"] == "Côte d'Ivoire"


def test_parquet_nulls_and_out_of_range_cents(tmp_path: Path) -> None:
    frame = synthetic_register(3, seed=4, amount_column="admitted_cents").with_columns(
        pl.Series("admitted_cents", [1, 2**63, 3], dtype=pl.UInt64),
        pl.Series("holder_name", ["Ann", None, "Bo"], dtype=pl.String),
    )
    write_register_parquet(tmp_path / "r.parquet", frame)
    result = read_register(tmp_path / "r.parquet")
    assert isinstance(result, RegisterReport)
    assert result.lines() == [
        "row 2, holder_name: is empty",
        "row 2, admitted_cents: '9223372036854775808' does not fit a 64-bit number of cents",
    ]
