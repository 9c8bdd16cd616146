"""Withdrawal fees: the FTX EU schedule at its boundaries, both readings of "€13 + 0.1% above",
rounding up to the cent, every refusal of a schedule, and the shipped terms file.

FACTS.md: "€8 up to €2,000; €13 up to €50,000; €13 + 0.1% above, capped at €353". Amounts in
cents. ``excess``: 0.1% of the part above €50,000 (the shipped reading); ``whole``: of the whole.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.adapters.files.fee_file import FeeFileError, parse_fee_file, shipped_fee_file
from reclaim.core import limits
from reclaim.core.withdrawals import (
    EXCESS,
    WHOLE,
    FeeSchedule,
    FeesCode,
    FeeTier,
    RailTerms,
    fee_minor,
    schedule_code,
)

BIGINT: Final = limits.integer_max
TIERS: Final = (FeeTier(200_000, 800), FeeTier(5_000_000, 1_300))
FTX_EXCESS: Final = FeeSchedule(TIERS, 1_300, 10, EXCESS, 35_300)
FTX_WHOLE: Final = FTX_EXCESS._replace(above_base=WHOLE)

#: (amount, fee with excess, fee with whole), in cents.
BOUNDARIES: Final = (
    (1, 800, 800),  # one cent
    (199_999, 800, 800),
    (200_000, 800, 800),  # €2,000.00: the first tier, inclusive
    (200_001, 1_300, 1_300),  # €2,000.01
    (5_000_000, 1_300, 1_300),  # €50,000.00: the second tier, inclusive
    (5_000_001, 1_301, 6_301),  # €50,000.01: 0.1% of €0.01 rounds up to a cent / of €50,000.01
    (5_001_000, 1_301, 6_301),  # excess €10.00 → exactly €0.01
    (5_001_001, 1_302, 6_302),  # excess €10.01 → €0.01001 → €0.02
    (6_000_000, 2_300, 7_300),  # €60,000.00
    (33_999_000, 30_299, 35_299),  # whole: €339,990.00 → 13 + 339.99
    (33_999_999, 30_300, 35_300),  # whole: the cap one cent early, by rounding up
    (34_000_000, 30_300, 35_300),  # whole: €340,000.00 → €353.00, the cap point
    (38_999_000, 35_299, 35_300),  # excess: €389,990.00 → 13 + 339.99
    (38_999_999, 35_300, 35_300),  # excess: the cap one cent early, by rounding up
    (39_000_000, 35_300, 35_300),  # excess: €390,000.00 → €353.00, the cap point
    (39_000_001, 35_300, 35_300),  # beyond: capped
    (BIGINT, 35_300, 35_300),
)


@pytest.mark.parametrize(("amount", "excess", "whole"), BOUNDARIES)
def test_ftx_schedule_at_its_boundaries(amount: int, excess: int, whole: int) -> None:
    assert fee_minor(FTX_EXCESS, amount) == excess
    assert fee_minor(FTX_WHOLE, amount) == whole


def test_the_whole_reading_jumps_and_the_excess_one_does_not() -> None:
    """One cent more above €50,000 costs €50.01 more under ``whole``, one cent under
    ``excess``: the reason the shipped file reads the percentage on the excess."""
    assert fee_minor(FTX_WHOLE, 5_000_001) - fee_minor(FTX_WHOLE, 5_000_000) == 5_001
    assert fee_minor(FTX_EXCESS, 5_000_001) - fee_minor(FTX_EXCESS, 5_000_000) == 1


def test_a_schedule_without_tiers_and_a_percentage_only_one() -> None:
    flat = FeeSchedule((), 2_500, 0, EXCESS, 2_500)
    assert [fee_minor(flat, a) for a in (1, 10_000, BIGINT)] == [2_500, 2_500, 2_500]
    percent = FeeSchedule((), 0, 25, WHOLE, BIGINT)  # 0.25%, no cap
    assert [fee_minor(percent, a) for a in (1, 399, 400, 401, 100_000)] == [1, 1, 1, 2, 250]
    free = FeeSchedule((), 0, 0, EXCESS, 0)
    assert fee_minor(free, 123) == 0


def test_an_amount_is_positive() -> None:
    with pytest.raises(AssertionError):
        fee_minor(FTX_EXCESS, 0)
    with pytest.raises(AssertionError):
        fee_minor(FTX_EXCESS, BIGINT + 1)


@given(st.integers(1, BIGINT), st.sampled_from([EXCESS, WHOLE]))
def test_the_fee_is_the_exact_formula(amount: int, base: str) -> None:
    """The integer computation equals the rational one, rounded up, capped."""
    schedule = FTX_EXCESS._replace(above_base=base)
    if amount <= 200_000:
        expected = 800
    elif amount <= 5_000_000:
        expected = 1_300
    else:
        portion = amount if base == WHOLE else amount - 5_000_000
        exact = Fraction(portion * 10, 10_000)
        rounded_up = -(-exact.numerator // exact.denominator)
        expected = min(1_300 + rounded_up, 35_300)
    assert fee_minor(schedule, amount) == expected


@given(st.integers(1, BIGINT - 1))
def test_with_excess_the_fee_never_decreases_and_grows_at_most_a_cent(amount: int) -> None:
    step = fee_minor(FTX_EXCESS, amount + 1) - fee_minor(FTX_EXCESS, amount)
    assert 0 <= step <= 500  # a tier step (€8 → €13) or at most one cent above the tiers
    if amount >= 5_000_000:
        assert step in (0, 1)


# Refusals of a schedule (FeesCode order) --------------------------------------------------------

SCHEDULE_REFUSALS: Final = (
    (FTX_EXCESS._replace(tiers=tuple(FeeTier(n + 1, 0) for n in range(17))), "tiers_malformed"),
    (FTX_EXCESS._replace(tiers=(FeeTier(5, 1), FeeTier(5, 1))), "tiers_malformed"),
    (FTX_EXCESS._replace(tiers=(FeeTier(-5, 1),)), "tiers_malformed"),
    (FTX_EXCESS._replace(tiers=(FeeTier(BIGINT + 1, 1),)), "tiers_malformed"),
    (FTX_EXCESS._replace(tiers=(FeeTier(5, -1),)), "fee_out_of_range"),
    (FTX_EXCESS._replace(above_fixed_minor=-1), "fee_out_of_range"),
    (FTX_EXCESS._replace(cap_minor=BIGINT + 1), "fee_out_of_range"),
    (FTX_EXCESS._replace(above_bps=10_001), "bps_out_of_range"),
    (FTX_EXCESS._replace(above_base="all"), "base_unknown"),
    (FTX_EXCESS._replace(cap_minor=1_299), "cap_below_fixed"),
    (FTX_EXCESS, "ok"),
    (FTX_EXCESS._replace(tiers=tuple(FeeTier(n + 1, 0) for n in range(16))), "ok"),
)


@pytest.mark.parametrize(("schedule", "code"), SCHEDULE_REFUSALS)
def test_schedule_codes(schedule: FeeSchedule, code: str) -> None:
    assert schedule_code(schedule) is FeesCode[code]


# The shipped terms file -------------------------------------------------------------------------


def test_the_shipped_ftx_eu_file_is_the_facts_schedule() -> None:
    assert shipped_fee_file() == (
        RailTerms("sepa", "EUR", FTX_EXCESS, 100, 14 * 86_400, "operator/EUR/rail_settlement",
                  "operator/EUR/fees"),
    )  # fmt: skip


GOOD: Final = """
[rails.usdc]
asset = "USDC"
above_fixed = "1.000000"
above_bps = 0
above_base = "excess"
minimum = "10"
timeout_seconds = 86400
settlement_account = "operator/USDC/rail_settlement"
fee_account = "operator/USDC/fees"
"""


def test_a_terms_file_without_tiers_or_cap() -> None:
    (usdc,) = parse_fee_file(GOOD.encode())
    assert usdc.schedule == FeeSchedule((), 1_000_000, 0, EXCESS, BIGINT)
    assert usdc.minimum_minor == 10_000_000


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('above_fixed = "1.000000"', "above_fixed = 1.0"),
         'usdc.above_fixed: write amounts as text, e.g. "8.00"'),
        (('above_fixed = "1.000000"', 'above_fixed = "1.0000001"'),
         "usdc.above_fixed: '1.0000001' has 7 decimal places; USDC allows 6"),
        (('asset = "USDC"', 'asset = "USD"'), "usdc.asset: usdc pays out USDC, not 'USD'"),
        (("[rails.usdc]", "[rails.ach]"), "ach: not a rail (['hk_wire', 'sepa', 'usdc'])"),
        (("above_bps = 0", "above_bps = 20000"), "usdc: the fee schedule is refused: "
         "bps_out_of_range"),
        (("timeout_seconds = 86400", "timeout_seconds = 0"),
         "usdc.timeout_seconds: 1 to 31622400"),
        (('minimum = "10"', 'minimum = "0"'), "usdc.minimum: must be positive"),
        (("above_bps = 0\n", "above_bps = 0\nfee = 1\n"),
         "usdc: unknown keys ['fee'], missing keys []"),
    ],
)  # fmt: skip
def test_terms_file_refusals(change: tuple[str, str], problem: str) -> None:
    with pytest.raises(FeeFileError) as caught:
        parse_fee_file(GOOD.replace(*change).encode())
    assert caught.value.problems == [problem]


def test_terms_file_that_is_not_toml() -> None:
    with pytest.raises(FeeFileError, match="not UTF-8 TOML"):
        parse_fee_file(b"[rails\n")
    with pytest.raises(FeeFileError, match=r"one table, \[rails.<rail>\]"):
        parse_fee_file(b"fees = 1\n")
