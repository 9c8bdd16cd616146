"""A round's lines to the cent, on small registers written as tables.

Each test's docstring is the spec: the exact entitlements, the class total (the floor of their
sum), the floors, and which claims get the leftover cents (largest fractional part first, ties
by claim id).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import polars as pl
import pytest

from reclaim.core.distribution.compute import (
    INPUT_SCHEMA,
    AssetTotal,
    Bucket,
    ClassTotal,
    _exact_sum,
    compute_round,
)
from reclaim.core.distribution.model import ClassRound, ClassTerms, InterestTerms, Plan
from reclaim.core.distribution.payloads import LINE_COLUMNS
from reclaim.core.money import allocate_pro_rata
from tests.support.distribution_frames import (
    FTX_INTEREST,
    FTX_PLAN,
    FX,
    Row,
    escrowed,
    frame,
    one_round,
)
from tests.support.reference import reference_round

CONVENIENCE_ROUND = one_round(
    "ftx-1", "2025-02-18", ClassRound("7", "cap", interest_to="2025-02-18")
)


def cents(lines: pl.DataFrame, column: str = "usd_minor") -> dict[str, int]:
    return dict(zip(lines["claim_id"].to_list(), lines[column].to_list(), strict=True))


# Largest remainder --------------------------------------------------------------------------------


def test_convenience_class_gets_its_cap_with_830_days_of_interest() -> None:
    """Class 7, cap 100% × 4397/3650 (9% simple for 830 days):

        claim  admitted     exact entitlement        floor     gets
        C-01           1            1.2047…              1        1
        C-02           3            3.6139…              3        4   (2nd largest fraction)
        C-03      99,999      120,464.5487…        120,464  120,464
        C-04   5,000,000    6,023,287.6712…      6,023,287  6,023,288 (largest fraction)
        C-05   4,999,999    6,023,286.4665…      6,023,286  6,023,286
        C-06         100          120.4657…            120      120

    Σ exact = 12,167,163.97… → total 12,167,163; Σ floors 12,167,161 → 2 leftover cents.
    """
    rows = [
        Row("C-01", "7", 1),
        Row("C-02", "7", 3),
        Row("C-03", "7", 99_999),
        Row("C-04", "7", 5_000_000),
        Row("C-05", "7", 4_999_999),
        Row("C-06", "7", 100),
    ]
    lines = compute_round(frame(rows), FTX_PLAN, CONVENIENCE_ROUND, FTX_INTEREST, {}, FX)
    assert cents(lines.frame) == {
        "C-01": 1,
        "C-02": 4,
        "C-03": 120_464,
        "C-04": 6_023_288,
        "C-05": 6_023_286,
        "C-06": 120,
    }
    assert lines.classes == (
        ClassTotal("7", "cap", Fraction(4397, 3650), 6, 10_100_102, 12_167_163, 0, 6, 12_167_163),
    )
    assert lines.usd_minor == 12_167_163


def test_percentages_of_two_classes() -> None:
    """5A at 72%, 5B at 54%:

        claim  class  admitted    exact          floor    gets
        A-1    5A             1       0.72           0       1   (largest fraction of 5A)
        A-2    5A             3       2.16           2       2
        A-3    5A        99,999   71,999.28     71,999  71,999
        A-4    5A    12,345,678 8,888,888.16 8,888,888 8,888,888
        A-5    5A             7       5.04           5       5
        B-1    5B             1       0.54           0       1   (largest fraction of 5B)
        B-2    5B        99,999   53,999.46     53,999  53,999
        B-3    5B        50,000   27,000         27,000  27,000

    5A: Σ exact 8,960,895.36 → 8,960,895, floors 8,960,894: one cent to A-1.
    5B: Σ exact 81,000 (whole) → floors 80,999: one cent to B-1.
    """
    rows = [
        Row("A-1", "5A", 1),
        Row("A-2", "5A", 3),
        Row("A-3", "5A", 99_999),
        Row("A-4", "5A", 12_345_678),
        Row("A-5", "5A", 7),
        Row("B-1", "5B", 1),
        Row("B-2", "5B", 99_999),
        Row("B-3", "5B", 50_000),
    ]
    round_ = one_round(
        "ftx-2", "2025-05-30", ClassRound("5A", "percent", 7200), ClassRound("5B", "percent", 5400)
    )
    lines = compute_round(frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX)
    assert cents(lines.frame) == {
        "A-1": 1,
        "A-2": 2,
        "A-3": 71_999,
        "A-4": 8_888_888,
        "A-5": 5,
        "B-1": 1,
        "B-2": 53_999,
        "B-3": 27_000,
    }
    assert [(c.class_code, c.rate, c.entitled_minor) for c in lines.classes] == [
        ("5A", Fraction(18, 25), 8_960_895),
        ("5B", Fraction(27, 50), 81_000),
    ]


def test_claim_ids_of_any_length_are_ordered_by_bytes() -> None:
    """Ids of 1 to 30 characters (several 8-byte words), sharing long prefixes."""
    ids = ["a", "a0", "a.", "A", "a" * 30, "a" * 29 + "b", "a" * 16, "a" * 15 + "-", "Z9:x", "0"]
    rows = [Row(claim_id, "5A", 100) for claim_id in ids]
    round_ = one_round("r", "2025-05-30", ClassRound("5A", "percent", 10_000))
    lines = compute_round(frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX)
    assert lines.frame["claim_id"].to_list() == sorted(ids, key=str.encode)


def test_equal_remainders_go_to_the_smallest_claim_ids_in_byte_order() -> None:
    """Five claims of 1 cent at 50%: exact 0.5 each, total ⌊2.5⌋ = 2, all floors 0; the two
    cents go to the two smallest ids in byte order: "B" < "a" < "b" (upper case first)."""
    rows = [Row(c, "5A", 1) for c in ("b", "a", "c", "B", "d")]
    round_ = one_round("r", "2025-05-30", ClassRound("5A", "percent", 5000))
    lines = compute_round(frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX)
    assert cents(lines.frame, "entitlement_minor") == {"B": 1, "a": 1}
    assert lines.frame["claim_id"].to_list() == ["B", "a"]
    assert lines.frame["line"].to_list() == [0, 1]


def test_a_percentage_above_the_cap_pays_the_cap() -> None:
    """6A capped at 100% without interest: a round naming 120% pays 100%."""
    plan = Plan("ftx", {"6A": ClassTerms("6A", 10_000, False)}, ("allowed",), (), "", "", "escrow")
    round_ = one_round("r", "2025-05-30", ClassRound("6A", "percent", 12_000))
    lines = compute_round(frame([Row("G-1", "6A", 12_345)]), plan, round_, FTX_INTEREST, {}, FX)
    assert cents(lines.frame) == {"G-1": 12_345}
    assert lines.classes[0].rate == 1


# Pools --------------------------------------------------------------------------------------------


def test_a_pool_is_split_pro_rata_exactly_like_allocate_pro_rata() -> None:
    """A pool of $100.00 over admitted 1, 2 and 4 cents ($0.07 in all, cap 1,000%): the pool
    exceeds Σ caps (70 cents) — capped at 70; a pool of 10 cents: 10·1/7, 10·2/7, 10·4/7 =
    1.43, 2.86, 5.71 → floors 1, 2, 5; one cent to P-2 (.86)."""
    plan = Plan("ftx", {"P": ClassTerms("P", 100_000, False)}, ("allowed",), (), "", "", "escrow")
    rows = [Row("P-1", "P", 1), Row("P-2", "P", 2), Row("P-3", "P", 4)]
    round_ = one_round("r", "2025-05-30", ClassRound("P", "pool", pool_minor=10))
    small = compute_round(frame(rows), plan, round_, FTX_INTEREST, {"P": 10}, FX)
    assert cents(small.frame) == {"P-1": 1, "P-2": 3, "P-3": 6}
    assert cents(small.frame) == allocate_pro_rata(10, {"P-1": 1, "P-2": 2, "P-3": 4})
    large = compute_round(frame(rows), plan, round_, FTX_INTEREST, {"P": 10_000}, FX)
    assert cents(large.frame) == {"P-1": 10, "P-2": 20, "P-3": 40}
    assert large.classes[0].entitled_minor == 70


def test_a_pool_class_without_claims_pays_nothing() -> None:
    plan = Plan("ftx", {"P": ClassTerms("P", 10_000, False)}, ("allowed",), (), "", "", "escrow")
    round_ = one_round("r", "2025-05-30", ClassRound("P", "pool", pool_minor=10))
    lines = compute_round(frame([]), plan, round_, FTX_INTEREST, {"P": 10}, FX)
    assert lines.frame.height == 0
    assert lines.classes == (ClassTotal("P", "pool", Fraction(0), 0, 0, 0, 0, 0, 0),)


# Cumulative rounds --------------------------------------------------------------------------------


def test_a_round_pays_the_entitlement_less_what_was_received() -> None:
    """5A at 78% after 72%: R-1 received 72,000 of 100,000 → 6,000 more; R-2 was corrected to
    more than it is due (80,000 > 78,000) → nothing (no claw-back); R-3 received its 78 cents →
    no line."""
    rows = [
        Row("R-1", "5A", 100_000, received_minor=72_000),
        Row("R-2", "5A", 100_000, received_minor=80_000),
        Row("R-3", "5A", 100, received_minor=78),
    ]
    round_ = one_round("ftx-3", "2025-09-30", ClassRound("5A", "percent", 7800))
    lines = compute_round(frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX)
    assert lines.frame.select(
        "claim_id", "entitlement_minor", "received_minor", "usd_minor"
    ).rows() == [("R-1", 78_000, 72_000, 6_000)]
    (total,) = lines.classes
    assert (total.entitled_minor, total.received_minor, total.usd_minor) == (
        156_078,
        152_078,
        6_000,
    )


def test_a_tiny_claim_rounded_up_keeps_its_cent_when_rounded_down_later() -> None:
    """5A, X = 1 ¢ and Y = 5 ¢.

        round  %   X exact  Y exact  total        floors  leftover cent  X    Y
        2      72  0.72     3.60     ⌊4.32⌋ = 4   0 + 3   X (.72 > .60)  1    3
        3      78  0.78     3.90     ⌊4.68⌋ = 4   0 + 3   Y (.90 > .78)  0    4

    In round 3, X is entitled to 0 but received 1: it gets nothing and keeps its cent (within
    ⌈0.78⌉); Y gets 1 more. The class received 5 cents for a total of 4."""
    rows = [Row("X", "5A", 1), Row("Y", "5A", 5)]
    second = one_round("ftx-2", "2025-05-30", ClassRound("5A", "percent", 7200))
    third = one_round("ftx-3", "2025-09-30", ClassRound("5A", "percent", 7800))
    lines = compute_round(frame(rows), FTX_PLAN, second, FTX_INTEREST, {}, FX)
    assert cents(lines.frame) == {"X": 1, "Y": 3}
    after = [Row("X", "5A", 1, received_minor=1), Row("Y", "5A", 5, received_minor=3)]
    lines = compute_round(frame(after), FTX_PLAN, third, FTX_INTEREST, {}, FX)
    assert lines.frame.select(
        "claim_id", "entitlement_minor", "received_minor", "usd_minor"
    ).rows() == [("Y", 4, 3, 1)]
    assert lines.classes[0].entitled_minor == 4
    assert (lines.classes[0].received_minor, lines.classes[0].usd_minor) == (4, 1)


def test_re_running_a_round_with_received_updated_pays_nothing() -> None:
    rows = [Row("C-01", "7", 3), Row("C-02", "7", 1_234_567), Row("C-03", "7", 4_999_999)]
    first = compute_round(frame(rows), FTX_PLAN, CONVENIENCE_ROUND, FTX_INTEREST, {}, FX)
    paid = cents(first.frame)
    again = [r._replace(received_minor=paid[r.claim_id]) for r in rows]
    second = compute_round(frame(again), FTX_PLAN, CONVENIENCE_ROUND, FTX_INTEREST, {}, FX)
    assert second.frame.height == 0
    assert second.classes[0].entitled_minor == first.classes[0].entitled_minor


# Who takes part -----------------------------------------------------------------------------------


def test_only_paid_and_reserved_statuses_of_named_classes_take_part() -> None:
    """Scheduled, filed and expunged claims get nothing and do not dilute the largest-remainder
    set; a disputed (reserved) claim is computed like an allowed one, into escrow; class 5B is
    not named by the round."""
    rows = [
        Row("S-1", "5A", 100, status="scheduled"),
        Row("S-2", "5A", 100, status="filed"),
        Row("S-3", "5A", 100, status="expunged"),
        Row("S-4", "5A", 100, status="disputed", destination="escrow", reason="disputed"),
        Row("S-5", "5A", 100),
        Row("S-6", "5B", 100),
    ]
    round_ = one_round("r", "2025-05-30", ClassRound("5A", "percent", 7250))
    lines = compute_round(frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX)
    assert lines.frame.select("claim_id", "destination", "usd_minor").rows() == [
        ("S-4", "escrow", 73),
        ("S-5", "creditor", 72),
    ]
    assert lines.classes[0].claims == 2


# Payout assets ------------------------------------------------------------------------------------


def test_creditor_lines_convert_with_floor_and_escrow_lines_stay_in_usd() -> None:
    """EUR at 0.9234: 12,345 ¢ → 11,399.373 → 11,399 EUR cents; 1 ¢ → 0.9234 → 0 (the line
    stays: its USD cent is the claim's). USDC: 12,345 ¢ → 123,450,000 micro-USDC. An escrowed
    claim that elected EUR is escrowed in USD."""
    rows = [
        Row("F-1", "6A", 12_345, asset="EUR"),
        Row("F-2", "6A", 1, asset="EUR"),
        Row("F-3", "6A", 12_345, asset="USDC"),
        escrowed(Row("F-4", "6A", 12_345, asset="EUR", jurisdiction="CN")),
        Row("F-5", "6A", 12_345),
    ]
    round_ = one_round("ftx-4", "2026-03-31", ClassRound("6A", "percent", 10_000))
    lines = compute_round(frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX)
    assert lines.frame.select("claim_id", "usd_minor", "asset", "amount_minor").rows() == [
        ("F-1", 12_345, "EUR", 11_399),
        ("F-2", 1, "EUR", 0),
        ("F-3", 12_345, "USDC", 123_450_000),
        ("F-4", 12_345, "USD", 12_345),
        ("F-5", 12_345, "USD", 12_345),
    ]


# The frame of lines -------------------------------------------------------------------------------


def test_lines_have_the_file_columns_sorted_by_claim_id_and_numbered() -> None:
    rows = [Row(f"Z-{n:02d}", "7", 1_000 + n) for n in (9, 3, 7, 1)]
    lines = compute_round(frame(rows), FTX_PLAN, CONVENIENCE_ROUND, FTX_INTEREST, {}, FX)
    assert tuple(lines.frame.columns) == LINE_COLUMNS
    assert lines.frame["claim_id"].to_list() == ["Z-01", "Z-03", "Z-07", "Z-09"]
    assert lines.frame["line"].to_list() == [0, 1, 2, 3]
    first = lines.frame.row(0, named=True)
    assert first == {
        "line": 0,
        "claim_id": "Z-01",
        "class_code": "7",
        "jurisdiction": "US",
        "status": "allowed",
        "destination": "creditor",
        "reason": "",
        "payee": "h-Z-01",
        "account_id": "h-Z-01/USD",
        "entitlement_minor": 1_206,  # 1,205.86…: the largest of the four fractions
        "received_minor": 0,
        "usd_minor": 1_206,
        "asset": "USD",
        "amount_minor": 1_206,
    }
    assert cents(lines.frame) == {"Z-01": 1_206, "Z-03": 1_208, "Z-07": 1_213, "Z-09": 1_215}


def test_the_lines_do_not_depend_on_the_order_of_the_rows() -> None:
    rows = [
        Row(f"K-{n:03d}", ("5A", "5B", "6A")[n % 3], 1 + n * 7_919 % 100_003) for n in range(60)
    ]
    round_ = one_round(
        "r",
        "2025-05-30",
        ClassRound("5A", "percent", 7_203),
        ClassRound("5B", "percent", 5_401),
        ClassRound("6A", "percent", 6_107),
    )
    expected = compute_round(frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX)
    for shuffled in (
        rows[::-1],
        rows[1::2] + rows[::2],
        sorted(rows, key=lambda r: r.admitted_minor),
    ):
        again = compute_round(frame(shuffled), FTX_PLAN, round_, FTX_INTEREST, {}, FX)
        assert again.frame.equals(expected.frame)
        assert again.classes == expected.classes


def test_low_cardinality_text_columns_may_be_enums() -> None:
    """A register of millions holds class, jurisdiction, status, destination, reason and asset
    as ``pl.Enum`` (categories in any order): the lines are the same."""
    rows = [
        Row("E-1", "5A", 100_000, jurisdiction="FR", asset="EUR"),
        escrowed(Row("E-2", "5A", 3, jurisdiction="CN")),
        Row("E-3", "7", 1, asset="USDC"),
        Row("E-4", "6A", 5, status="expunged"),
    ]
    round_ = one_round("r", "2025-05-30", ClassRound("5A", "percent", 7200), ClassRound("7", "cap"))
    strings = frame(rows)
    enums = strings.with_columns(
        pl.col(name).cast(pl.Enum(sorted(set(strings[name].to_list()), reverse=True)))
        for name in ("class_code", "jurisdiction", "status", "destination", "reason", "asset")
    )
    expected = compute_round(strings, FTX_PLAN, round_, FTX_INTEREST, {}, FX)
    again = compute_round(enums, FTX_PLAN, round_, FTX_INTEREST, {}, FX)
    assert again.frame.equals(expected.frame)
    assert again.summary() == expected.summary()
    assert expected.frame["jurisdiction"].to_list() == ["FR", "CN", "US"]
    assert expected.frame.schema["jurisdiction"] == pl.Enum(["CN", "FR", "US"])


# Exactness: int64 and Python ints ---------------------------------------------------------------


def test_compound_interest_over_decades_runs_on_python_ints_and_matches_the_reference() -> None:
    """A compound factor over 30 anniversaries has a denominator of hundreds of bits: the class
    runs on Python ints; the result equals the per-claim Fraction reference, and the int64 path
    (forced off) agrees where it applies."""
    interest = InterestTerms(1_234, "compound", "ACT/360", "2000-02-29")
    rows = [Row(f"D-{n}", "7", a) for n, a in enumerate([1, 3, 99_999, 10**12, 777_777_777])]
    round_ = one_round("r", "2031-07-15", ClassRound("7", "cap"))
    lines = compute_round(frame(rows), FTX_PLAN, round_, interest, {}, FX)
    assert lines.classes[0].rate.denominator > 2**63
    reference = reference_round(frame(rows), FTX_PLAN, round_, interest, {}, FX)
    assert cents(lines.frame, "entitlement_minor") == {
        r.claim_id: r.entitlement_minor for r in reference
    }


def test_the_int64_and_python_int_paths_agree() -> None:
    rows = [
        Row(f"E-{n:02d}", code, amount, asset=asset)
        for n, (code, amount, asset) in enumerate(
            [("5A", 1, "EUR"), ("5A", 10**12, "USDC"), ("7", 4_999_999, "EUR"), ("7", 3, "USD")] * 5
        )
    ]
    round_ = one_round(
        "r",
        "2025-05-30",
        ClassRound("5A", "percent", 7_200),
        ClassRound("7", "cap", interest_to="2025-02-18"),
    )
    fast = compute_round(frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX)
    exact = compute_round(
        frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX, exact_python_ints=True
    )
    assert fast.frame.equals(exact.frame)
    assert fast.classes == exact.classes


# The summary --------------------------------------------------------------------------------------


def test_the_summary_totals_by_class_jurisdiction_reason_and_asset() -> None:
    rows = [
        Row("S-1", "6A", 100_000, jurisdiction="FR", asset="EUR"),
        Row("S-2", "6A", 200_000, jurisdiction="US", asset="USDC"),
        escrowed(Row("S-3", "6A", 300_000, jurisdiction="CN")),
        escrowed(Row("S-4", "6B", 50, jurisdiction="US"), "kyc_pending"),
        Row("S-5", "6B", 7, jurisdiction="US"),
    ]
    round_ = one_round(
        "ftx-2",
        "2025-05-30",
        ClassRound("6A", "percent", 6_100),
        ClassRound("6B", "percent", 6_100),
    )
    summary = compute_round(frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX).summary()
    # 6A: 61,000 + 122,000 + 183,000; 6B: 30.5 + 4.27 = 34.77 → 34 = the floors 30 + 4.
    assert (summary.lines, summary.usd_minor) == (5, 366_034)
    assert (summary.paid_usd_minor, summary.escrowed_usd_minor) == (183_004, 183_030)
    assert [(c.class_code, c.lines, c.usd_minor) for c in summary.classes] == [
        ("6A", 3, 366_000),
        ("6B", 2, 34),
    ]
    assert summary.jurisdictions == (
        Bucket("CN", 1, 183_000),
        Bucket("FR", 1, 61_000),
        Bucket("US", 3, 122_034),
    )
    assert summary.escrowed_by_reason == (
        Bucket("kyc_pending", 1, 30),
        Bucket("restricted", 1, 183_000),
    )
    assert summary.paid_by_asset == (
        AssetTotal("EUR", 1, 61_000, 56_327),  # 61,000 × 0.9234 = 56,327.4
        AssetTotal("USD", 1, 4, 4),
        AssetTotal("USDC", 1, 122_000, 1_220_000_000),
    )
    assert [p.claim_id for p in summary.largest] == ["S-3", "S-2", "S-1", "S-4", "S-5"]
    assert [p.claim_id for p in summary.smallest] == ["S-5", "S-4", "S-1", "S-2", "S-3"]


def test_the_largest_and_smallest_break_ties_by_claim_id() -> None:
    rows = [Row(f"T-{n}", "5A", 100) for n in range(9, 0, -1)]
    round_ = one_round("r", "2025-05-30", ClassRound("5A", "percent", 10_000))
    summary = compute_round(frame(rows), FTX_PLAN, round_, FTX_INTEREST, {}, FX).summary()
    assert [p.claim_id for p in summary.largest] == ["T-1", "T-2", "T-3", "T-4", "T-5"]
    assert [p.claim_id for p in summary.smallest] == ["T-1", "T-2", "T-3", "T-4", "T-5"]


# Refusals -----------------------------------------------------------------------------------------


def _compute(rows: list[Row], *, round_=CONVENIENCE_ROUND, plan=FTX_PLAN, fx=FX, pools=None):
    return compute_round(frame(rows), plan, round_, FTX_INTEREST, pools or {}, fx)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([Row("X", "7", 1), Row("X", "7", 2)], "claim ids of participating claims are not unique"),
        ([Row("X", "7", 10**12 + 1)], "admitted amount is outside"),
        ([Row("X", "7", -1)], "admitted amount is outside"),
        ([Row("X", "7", 1, received_minor=-1)], "received amount is negative"),
        ([Row("X", "7", 1, destination="bank")], "destination other than creditor or escrow"),
        ([Row("X", "7", 1, destination="escrow")], "escrow line without a known reason"),
        ([Row("X", "7", 1, reason="restricted")], "creditor line with a reason"),
        ([Row("X", "7", 1, status="disputed")], "reserved status not sent to escrow"),
        ([Row("X", "7", 1, asset="GBP")], "creditor payout asset without an FX rate"),
        ([Row("", "7", 1)], "claim ids must be non-empty ASCII text without NUL"),
        ([Row("C-é", "7", 1)], "claim ids must be non-empty ASCII text without NUL"),
        ([Row("C-\x00", "7", 1)], "claim ids must be non-empty ASCII text without NUL"),
    ],
)
def test_rows_that_break_the_contract_are_refused(rows: list[Row], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _compute(rows)


def test_frames_that_break_the_schema_are_refused() -> None:
    good = frame([Row("X", "7", 1)])
    with pytest.raises(ValueError, match="has no column asset"):
        compute_round(good.drop("asset"), FTX_PLAN, CONVENIENCE_ROUND, FTX_INTEREST, {}, FX)
    wrong = good.with_columns(pl.col("admitted_minor").cast(pl.Int32))
    with pytest.raises(ValueError, match="column admitted_minor is Int32"):
        compute_round(wrong, FTX_PLAN, CONVENIENCE_ROUND, FTX_INTEREST, {}, FX)
    nulls = good.with_columns(pl.lit(None, dtype=pl.String).alias("status"))
    with pytest.raises(ValueError, match="null values in status"):
        compute_round(nulls, FTX_PLAN, CONVENIENCE_ROUND, FTX_INTEREST, {}, FX)
    assert set(INPUT_SCHEMA) <= set(good.columns)


def test_terms_that_break_the_contract_are_refused() -> None:
    row = [Row("X", "7", 1)]
    with pytest.raises(ValueError, match="is of other, not ftx"):
        _compute(
            row, round_=CONVENIENCE_ROUND.__class__("r", "other", "2025-01-03", "2025-02-18", (), 0)
        )
    with pytest.raises(ValueError, match="class 9 is not in the plan"):
        _compute(row, round_=one_round("r", "2025-02-18", ClassRound("9", "cap")))
    with pytest.raises(ValueError, match="names class 7 twice"):
        _compute(
            row, round_=one_round("r", "2025-02-18", ClassRound("7", "cap"), ClassRound("7", "cap"))
        )
    with pytest.raises(ValueError, match="target 'all'"):
        _compute(row, round_=one_round("r", "2025-02-18", ClassRound("7", "all")))
    with pytest.raises(ValueError, match="cumulative_bps out of"):
        _compute(row, round_=one_round("r", "2025-02-18", ClassRound("7", "percent", 100_001)))
    pool_round = one_round("r", "2025-02-18", ClassRound("7", "pool", pool_minor=50))
    with pytest.raises(ValueError, match="cumulative pool None is missing"):
        _compute(row, round_=pool_round)
    with pytest.raises(ValueError, match="below this round's pool 50"):
        _compute(row, round_=pool_round, pools={"7": 49})
    with pytest.raises(ValueError, match="not a class of the plan"):
        _compute(row, pools={"9": 1})
    with pytest.raises(ValueError, match="FX rate of EUR"):
        _compute(row, fx={"EUR": (0, 1)})
    with pytest.raises(ValueError, match="rate of USD to itself is 1"):
        _compute(row, fx={"USD": (2, 1)})
    with pytest.raises(ValueError, match="not an asset"):
        _compute(row, fx={"eur": (1, 1)})
    both = Plan("ftx", FTX_PLAN.classes, ("allowed",), ("allowed",), "", "", "escrow")
    with pytest.raises(ValueError, match="both paid and reserved"):
        _compute(row, plan=both)


def test_exact_sums_do_not_overflow_64_bits() -> None:
    """Sums are exact beyond 2**63: three values of 2**62 sum to 3 × 2**62 (the int64 path
    splits them into 32-bit halves); an object array sums as Python ints."""
    assert _exact_sum(np.array([2**62, 2**62, 2**62], dtype=np.int64)) == 3 * 2**62
    assert _exact_sum(np.array([2**63 - 1, 1, -5], dtype=np.int64)) == 2**63 - 5
    assert _exact_sum(np.array([10**30, 1], dtype=object)) == 10**30 + 1
    assert _exact_sum(np.array([], dtype=np.int64)) == 0
