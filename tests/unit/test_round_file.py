"""A round's preview files: the lines file's exact bytes and digest, the reports, and the
streaming reader's refusals (digest, malformed lines, order), plus the plan/rounds loader."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from reclaim.adapters.files.round_file import (
    RoundDigestMismatch,
    RoundFileError,
    RoundLineMalformed,
    RoundLineOrder,
    file_sha256,
    read_round_lines,
    write_lines_csv,
    write_round_preview,
)
from reclaim.adapters.files.round_spec_file import RoundSpecError, load_round_spec
from reclaim.core.distribution.compute import RoundLines, compute_round
from reclaim.core.distribution.model import ClassRound
from reclaim.core.distribution.payloads import LINES_HEADER
from reclaim.core.distribution.state import Line
from tests.support.distribution_frames import (
    FTX_INTEREST,
    FTX_PLAN,
    FX,
    Row,
    escrowed,
    frame,
    one_round,
)

ROUND = one_round(
    "ftx-2",
    "2025-05-30",
    ClassRound("5A", "percent", 7200),
    ClassRound("7", "cap", interest_to="2025-02-18"),
    funding_minor=10_000_000,
)
EXPECTED_CSV = (
    "line,claim_id,class_code,jurisdiction,status,destination,reason,payee,account_id,"
    "entitlement_minor,received_minor,usd_minor,asset,amount_minor\n"
    "0,A-1,5A,FR,allowed,creditor,,h-A-1,h-A-1/EUR,72000,0,72000,EUR,66484\n"
    "1,A-2,5A,CN,allowed,escrow,restricted,,claim:A-2/USD,2,0,2,USD,2\n"
    "2,C-1,7,US,allowed,creditor,,h-C-1,h-C-1/USDC,1,0,1,USDC,10000\n"
)


def computed() -> RoundLines:
    rows = [
        Row("C-1", "7", 1, asset="USDC"),
        escrowed(Row("A-2", "5A", 3, jurisdiction="CN")),
        Row("A-1", "5A", 100_000, jurisdiction="FR", asset="EUR"),
        Row("A-3", "5A", 5, received_minor=4),
    ]
    return compute_round(frame(rows), FTX_PLAN, ROUND, FTX_INTEREST, {}, FX)


@pytest.fixture
def preview(tmp_path: Path):
    return write_round_preview(tmp_path / "preview", computed())


# Writing ------------------------------------------------------------------------------------------


def test_the_lines_file_is_the_header_and_one_line_per_payment(preview) -> None:
    """72% of $1,000.00 = $720.00 → EUR at 0.9234: 66,484.8 → 66,484 EUR cents; 72% of 3 ¢
    = 2.16 → 2 (escrow, USD); class 7: 1 ¢ → 1.2047 → 1 ¢ → 10,000 micro-USDC; A-3 received 4
    of its 3.6 → no line. The bytes are exactly the core's ``Line.text()``s after the header."""
    data = preview.lines_path.read_bytes()
    assert data.decode("ascii") == EXPECTED_CSV
    assert data.startswith(LINES_HEADER.encode())
    assert (
        preview.lines_sha256 == hashlib.sha256(data).hexdigest() == file_sha256(preview.lines_path)
    )
    lines = list(read_round_lines(preview.lines_path, preview.lines_sha256))
    assert LINES_HEADER + "".join(line.text() for line in lines) == EXPECTED_CSV
    assert (preview.lines, preview.usd_minor) == (3, 72_003)


def test_writing_the_same_round_twice_gives_the_same_digest(tmp_path: Path, preview) -> None:
    again = write_round_preview(tmp_path / "again", computed())
    assert again.lines_sha256 == preview.lines_sha256
    assert again.report_json_path.read_bytes() == preview.report_json_path.read_bytes()
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == [
        "lines.csv",
        "report.json",
        "report.md",
    ]


def test_the_json_report_carries_the_summary_with_integers_as_strings(preview) -> None:
    report = json.loads(preview.report_json_path.read_text("utf-8"))
    assert report["lines_sha256"] == preview.lines_sha256
    assert report["lines_file"] == "lines.csv"
    assert {
        k: report[k]
        for k in ("round_id", "lines", "usd_minor", "paid_usd_minor", "escrowed_usd_minor")
    } == {
        "round_id": "ftx-2",
        "lines": "3",
        "usd_minor": "72003",
        "paid_usd_minor": "72001",
        "escrowed_usd_minor": "2",
    }
    assert report["classes"][0] == {
        "class_code": "5A",
        "target": "percent",
        "rate": "18/25",
        "claims": "3",
        "admitted_minor": "100008",
        "entitled_minor": "72005",
        "received_minor": "4",
        "lines": "2",
        "usd_minor": "72002",
    }
    assert report["classes"][1]["rate"] == "4397/3650"
    assert report["escrowed_by_reason"] == [
        {"reason": "restricted", "lines": "1", "usd_minor": "2"}
    ]
    assert report["paid_by_asset"] == [
        {"asset": "EUR", "lines": "1", "usd_minor": "72000", "amount_minor": "66484"},
        {"asset": "USDC", "lines": "1", "usd_minor": "1", "amount_minor": "10000"},
    ]
    assert report["largest"][0]["claim_id"] == "A-1"
    assert report["smallest"][0] == {
        "line": "2",
        "claim_id": "C-1",
        "class_code": "7",
        "destination": "creditor",
        "usd_minor": "1",
        "asset": "USDC",
        "amount_minor": "10000",
    }


def test_the_markdown_report_reads_for_people(preview) -> None:
    text = preview.report_md_path.read_text("utf-8")
    assert text.startswith("# Round ftx-2 (ftx) — preview\n")
    assert f"`{preview.lines_sha256}`" in text
    assert "- total: $720.03 (paid $720.01, escrowed $0.02)" in text
    assert "| 5A | percent | 18/25 | 3 | $720.05 | $0.04 | 2 | $720.02 |" in text
    assert "| EUR | 1 | $720.00 | 664.84 EUR |" in text
    assert "| USDC | 1 | $0.01 | 0.010000 USDC |" in text


def test_a_field_that_cannot_be_written_plainly_is_refused(tmp_path: Path) -> None:
    lines = computed().frame
    for bad in ("a,b", 'a"b', "a\nb", "café"):
        broken = lines.with_columns(pl.lit(bad).alias("payee"))
        with pytest.raises(RoundFileError, match="in payee"):
            write_lines_csv(broken, tmp_path / "lines.csv")
    with pytest.raises(RoundFileError, match="columns"):
        write_lines_csv(lines.drop("payee"), tmp_path / "lines.csv")
    assert not list(tmp_path.iterdir()), "nothing is left behind"


def test_an_empty_round_is_a_header_alone(tmp_path: Path) -> None:
    empty = compute_round(frame([]), FTX_PLAN, ROUND, FTX_INTEREST, {}, FX)
    written = write_round_preview(tmp_path, empty)
    assert written.lines_path.read_text() == LINES_HEADER
    assert list(read_round_lines(written.lines_path, written.lines_sha256)) == []


# Reading ------------------------------------------------------------------------------------------


def test_reading_resumes_from_a_line_number(preview) -> None:
    lines = list(read_round_lines(preview.lines_path, preview.lines_sha256, start_line=1))
    assert [line.line for line in lines] == [1, 2]
    assert lines[0] == Line(
        1,
        "A-2",
        "5A",
        "CN",
        "allowed",
        "escrow",
        "restricted",
        "",
        "claim:A-2/USD",
        2,
        0,
        2,
        "USD",
        2,
    )
    assert list(read_round_lines(preview.lines_path, preview.lines_sha256, start_line=3)) == []


def test_a_file_with_other_bytes_is_refused_before_any_line(preview) -> None:
    data = preview.lines_path.read_bytes()
    preview.lines_path.write_bytes(data.replace(b"66484", b"66485"))
    with pytest.raises(RoundDigestMismatch, match="expected " + preview.lines_sha256):
        read_round_lines(preview.lines_path, preview.lines_sha256)


def test_a_file_changed_after_its_digest_was_checked_is_refused_at_its_end(preview) -> None:
    lines = read_round_lines(preview.lines_path, preview.lines_sha256)  # digest checked here
    data = preview.lines_path.read_bytes()
    preview.lines_path.write_bytes(data.replace(b"10000\n", b"10001\n"))
    seen = []
    with pytest.raises(RoundDigestMismatch):
        seen.extend(line.line for line in lines)
    assert seen == [0, 1, 2], "the lines were read; the mismatch ends the reading"


def _refused(tmp_path: Path, text: str, error: type[RoundFileError], message: str) -> None:
    path = tmp_path / "lines.csv"
    path.write_bytes(text.encode("utf-8"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(error, match=message):
        list(read_round_lines(path, digest))


LINE0 = "0,A-1,5A,FR,allowed,creditor,,h-A-1,h-A-1/EUR,72000,0,72000,EUR,66484\n"
LINE1 = "1,A-2,5A,CN,allowed,escrow,restricted,,claim:A-2/USD,2,0,2,USD,2\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("line,claim_id\n" + LINE0, "line 1: not the lines file header"),
        (LINES_HEADER + LINE0.replace(",EUR,", ",EUR,,"), "line 2: 15 fields, expected 14"),
        (LINES_HEADER + LINE0.replace(",72000,0,", ",072000,0,"), "entitlement_minor '072000'"),
        (LINES_HEADER + LINE0.replace(",72000,0,", ",-1,0,"), "entitlement_minor '-1'"),
        (LINES_HEADER + LINE0.replace(",72000,0,", ",1e3,0,"), "entitlement_minor '1e3'"),
        (LINES_HEADER + LINE0.replace(",72000,0,", f",{2**63},0,"), "is not a BIGINT"),
        (LINES_HEADER + LINE0.replace("creditor", "bank"), "destination 'bank'"),
        (LINES_HEADER + LINE0.replace(",72000,EUR", ",0,EUR"), "usd_minor is not positive"),
        (LINES_HEADER + LINE0.replace("A-1,5A", ",5A"), "no claim id"),
        (LINES_HEADER + LINE0.replace("FR", "FRé"), "line 2: not ASCII"),
        (LINES_HEADER + LINE0 + LINE1.rstrip("\n"), "line 3: the last line does not end"),
        (LINES_HEADER + LINE0.replace("h-A-1/EUR", "x" * 5000), "longer than 4096 bytes"),
    ],
)
def test_malformed_lines_are_refused(tmp_path: Path, text: str, message: str) -> None:
    _refused(tmp_path, text, RoundLineMalformed, message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (LINES_HEADER + LINE1, "line 2: line number 1, expected 0"),
        (
            LINES_HEADER + LINE0 + LINE1.replace("1,A-2", "2,A-2", 1),
            "line 3: line number 2, expected 1",
        ),
        (LINES_HEADER + LINE0 + LINE1.replace("A-2", "A-0"), "claim A-0 is not after A-1"),
        (LINES_HEADER + LINE0 + LINE1.replace("A-2", "A-1"), "claim A-1 is not after A-1"),
    ],
)
def test_lines_out_of_order_are_refused(tmp_path: Path, text: str, message: str) -> None:
    _refused(tmp_path, text, RoundLineOrder, message)


# The plan and rounds loader ---------------------------------------------------------------------

SPEC = """
estate_id = "ftx"

[plan]
paid_statuses = ["allowed"]
reserved_statuses = ["disputed"]
kyc_start_by = 2025-03-03
kyc_finish_by = "2025-06-01"
kyc_missed = "forfeit_on_order"

[[plan.classes]]
class_code = "5A"
cap_bps = 10_000
interest = true

[[plan.classes]]
class_code = "P"
cap_bps = 12_000
interest = false

[[rounds]]
round_id = "r-1"
record_date = "2025-04-11"
payment_date = 2025-05-30
funding_minor = 1_000

[[rounds.classes]]
class_code = "5A"
target = "percent"
cumulative_bps = 7_200
interest_to = "2025-02-18"

[[rounds.classes]]
class_code = "P"
target = "pool"
pool_minor = 500
"""


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rounds.toml"
    path.write_text(text, "utf-8")
    return path


def test_a_plan_and_rounds_file_is_read_with_toml_dates(tmp_path: Path) -> None:
    plan, rounds = load_round_spec(_spec(tmp_path, SPEC))
    assert (plan.estate_id, plan.kyc_start_by, plan.kyc_finish_by) == (
        "ftx",
        "2025-03-03",
        "2025-06-01",
    )
    assert plan.classes["P"].cap_bps == 12_000
    assert plan.classes["P"].interest is False
    (round_,) = rounds
    assert (round_.round_id, round_.payment_date, round_.funding_minor) == (
        "r-1",
        "2025-05-30",
        1_000,
    )
    assert round_.classes == (
        ClassRound("5A", "percent", 7200, 0, "2025-02-18"),
        ClassRound("P", "pool", 0, 500, ""),
    )


@pytest.mark.parametrize(
    ("old", "new", "fault"),
    [
        ('estate_id = "ftx"', 'estate_id = "FTX"', "estate_id: 'FTX' is not of the form"),
        ('estate_id = "ftx"', 'estate_id = "ftx"\nextra = 1', "extra: unknown key"),
        ('paid_statuses = ["allowed"]', "paid_statuses = []", "plan.paid_statuses: 0 statuses"),
        ('paid_statuses = ["allowed"]', 'paid_statuses = ["paid"]', "'paid' is not one of"),
        (
            'reserved_statuses = ["disputed"]',
            'reserved_statuses = ["allowed"]',
            "also paid: allowed",
        ),
        ('kyc_finish_by = "2025-06-01"', 'kyc_finish_by = "2025-02-01"', "before kyc_start_by"),
        (
            'kyc_finish_by = "2025-06-01"',
            'kyc_finish_by = "June"',
            "kyc_finish_by: 'June' is not a",
        ),
        ('kyc_missed = "forfeit_on_order"', 'kyc_missed = "forfeit"', "kyc_missed: 'forfeit'"),
        ("cap_bps = 10_000", "cap_bps = 100_001", "plan.classes[1].cap_bps: 100001 is not in"),
        ("cap_bps = 10_000", "cap_bps = 100.0", "plan.classes[1].cap_bps: 100.0 is not an integer"),
        ("interest = true", 'interest = "yes"', "plan.classes[1].interest: 'yes' is not true"),
        ('round_id = "r-1"', 'round_id = "r 1"', "rounds[1].round_id: 'r 1' is not of the form"),
        ("payment_date = 2025-05-30", "payment_date = 2025-04-10", "before the record date"),
        ("funding_minor = 1_000", "funding_minor = -1", "rounds[1].funding_minor: -1 is not in"),
        (
            "funding_minor = 1_000",
            'funding_minor = "1000"',
            "funding_minor: '1000' is not an integer",
        ),
        (
            'target = "percent"',
            'target = "all"',
            "rounds[1].classes[1].target: 'all' is not one of",
        ),
        ("cumulative_bps = 7_200", "cumulative_bps = 0", "classes[1].cumulative_bps: 0 is not in"),
        ("cumulative_bps = 7_200\n", "", "rounds[1].classes[1].cumulative_bps: missing"),
        ("pool_minor = 500", "cumulative_bps = 500", "classes[2].cumulative_bps: unknown key"),
        (
            'class_code = "P"\ntarget',
            'class_code = "Q"\ntarget',
            "classes[2].class_code: 'Q' is not",
        ),
        ('interest_to = "2025-02-18"', 'interest_to = "2025-06-18"', "after the payment date"),
    ],
)
def test_a_faulty_file_names_the_field(tmp_path: Path, old: str, new: str, fault: str) -> None:
    assert old in SPEC
    with pytest.raises(RoundSpecError, match=r"rounds\.toml: ") as caught:
        load_round_spec(_spec(tmp_path, SPEC.replace(old, new, 1)))
    assert any(fault in f for f in caught.value.faults), caught.value.faults


def test_repeated_rounds_and_classes_and_unreadable_files_are_refused(tmp_path: Path) -> None:
    twice = SPEC + SPEC[SPEC.index("[[rounds]]") :]
    with pytest.raises(RoundSpecError, match=r"rounds\[2\]\.round_id: 'r-1' is used twice"):
        load_round_spec(_spec(tmp_path, twice))
    same_class = SPEC.replace('class_code = "P"\ntarget', 'class_code = "5A"\ntarget')
    with pytest.raises(RoundSpecError, match="class '5A' is named twice"):
        load_round_spec(_spec(tmp_path, same_class))
    with pytest.raises(RoundSpecError, match="not readable"):
        load_round_spec(_spec(tmp_path, "estate_id = "))
    with pytest.raises(RoundSpecError, match="plan: missing"):
        load_round_spec(_spec(tmp_path, 'estate_id = "ftx"\nrounds = []\n'))
