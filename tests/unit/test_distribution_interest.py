"""Post-petition interest and caps: exact fractions, FTX's terms, compounding, day counts."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from reclaim.core.distribution.interest import (
    anniversary,
    cap_fraction,
    entitlement_cap_minor,
    interest_days,
    interest_factor,
)
from reclaim.core.distribution.model import ClassTerms, InterestTerms

FTX = InterestTerms(900, "simple", "ACT/365", "2022-11-11")
R = Fraction(9, 100)


def terms(method: str = "simple", day_count: str = "ACT/365", petition: str = "2022-11-11"):
    return InterestTerms(900, method, day_count, petition)


# Days ---------------------------------------------------------------------------------------------


def test_ftx_round_one_is_830_days_after_the_petition() -> None:
    """2022-11-11 → 2024-11-11 is 731 days (29 Feb 2024 between); → 2025-02-18, 99 more."""
    assert interest_days("2022-11-11", "2024-11-11") == 731
    assert interest_days("2022-11-11", "2025-02-18") == 830


def test_no_days_on_or_before_the_petition_date() -> None:
    assert interest_days("2022-11-11", "2022-11-11") == 0
    assert interest_days("2022-11-11", "2022-11-10") == 0
    assert interest_factor(FTX, "2022-11-11") == 1
    assert interest_factor(FTX, "2021-01-01") == 1
    assert interest_factor(terms("compound"), "2021-01-01") == 1


# Simple -------------------------------------------------------------------------------------------


def test_ftx_factor_to_the_first_payment_is_4397_over_3650() -> None:
    """1 + 0.09 × 830 / 365 = 1 + 747/3650."""
    assert interest_factor(FTX, "2025-02-18") == Fraction(4397, 3650)
    assert interest_factor(FTX, "2025-02-18") == 1 + R * 830 / 365


def test_simple_act_360_divides_by_360() -> None:
    """1 + 0.09 × 830 / 360 = 1 + 747/3600 = 483/400."""
    assert interest_factor(terms(day_count="ACT/360"), "2025-02-18") == Fraction(483, 400)


def test_simple_one_day_and_a_zero_rate() -> None:
    assert interest_factor(FTX, "2022-11-12") == 1 + Fraction(9, 36_500)
    assert interest_factor(InterestTerms(0, "simple", "ACT/365", "2022-11-11"), "2030-01-01") == 1


# Compound -----------------------------------------------------------------------------------------


def test_compound_cuts_at_anniversaries_and_counts_actual_days() -> None:
    """2022-11-11 → 2023-11-11 (365 days) → 2024-11-11 (366: a leap year) → 2025-02-18 (99)."""
    expected = (1 + R * 365 / 365) * (1 + R * 366 / 365) * (1 + R * 99 / 365)
    assert interest_factor(terms("compound"), "2025-02-18") == expected
    assert expected > interest_factor(FTX, "2025-02-18")


def test_compound_act_360_earns_the_actual_days_over_360() -> None:
    expected = (1 + R * 365 / 360) * (1 + R * 366 / 360) * (1 + R * 99 / 360)
    assert interest_factor(terms("compound", "ACT/360"), "2025-02-18") == expected


def test_compound_equals_simple_until_the_first_anniversary() -> None:
    for to_date in ("2022-11-12", "2023-06-30", "2023-11-10", "2023-11-11"):
        assert interest_factor(terms("compound"), to_date) == interest_factor(FTX, to_date)
    assert interest_factor(terms("compound"), "2023-11-11") == Fraction(109, 100)
    assert interest_factor(terms("compound"), "2023-11-12") == Fraction(109, 100) * (1 + R / 365)


def test_compound_on_an_anniversary_has_no_stub() -> None:
    assert interest_factor(terms("compound"), "2024-11-11") == Fraction(109, 100) * (
        1 + R * 366 / 365
    )


def test_a_29_february_petition_has_its_anniversary_on_28_february() -> None:
    leap = date(2024, 2, 29)
    assert anniversary(leap, 1) == date(2025, 2, 28)
    assert anniversary(leap, 4) == date(2028, 2, 29)
    assert anniversary(date(2022, 11, 11), 2) == date(2024, 11, 11)
    compound = terms("compound", petition="2024-02-29")
    # 2024-02-29 → 2025-02-28 is one period of 365 days; then one day of stub.
    assert interest_factor(compound, "2025-02-28") == 1 + R * 365 / 365
    assert interest_factor(compound, "2025-03-01") == (1 + R) * (1 + R / 365)
    # 2025-02-28 → 2026-02-28 (365) → 2027-02-28 (365) → 2028-02-29 (366).
    assert interest_factor(compound, "2028-02-29") == (1 + R) ** 3 * (1 + R * 366 / 365)


def test_the_factor_never_decreases() -> None:
    days = [f"2023-{m:02d}-01" for m in range(1, 13)] + ["2030-01-01", "2060-06-30"]
    for method in ("simple", "compound"):
        factors = [interest_factor(terms(method), d) for d in days]
        assert factors == sorted(factors)


# Caps ---------------------------------------------------------------------------------------------


def test_cap_of_a_class_with_and_without_interest() -> None:
    with_interest = ClassTerms("7", 10_000, True)
    without = ClassTerms("6A", 12_500, False)
    assert cap_fraction(with_interest, FTX, "2025-02-18") == Fraction(4397, 3650)
    assert cap_fraction(without, FTX, "2025-02-18") == Fraction(5, 4)
    assert cap_fraction(ClassTerms("X", 0, True), FTX, "2025-02-18") == 0


def test_entitlement_cap_is_the_ceiling_of_the_exact_cap() -> None:
    """Convenience claims: 100 ¢ → 120.4657… → 121; $50,000 → 6,023,287.67… → 6,023,288."""
    seven = ClassTerms("7", 10_000, True)
    assert entitlement_cap_minor(100, seven, FTX, "2025-02-18") == 121
    assert entitlement_cap_minor(5_000_000, seven, FTX, "2025-02-18") == 6_023_288
    assert entitlement_cap_minor(3_650, seven, FTX, "2025-02-18") == 4_397  # exact: no ceiling
    assert entitlement_cap_minor(0, seven, FTX, "2025-02-18") == 0
    assert entitlement_cap_minor(1, ClassTerms("6A", 10_000, False), FTX, "2025-02-18") == 1
    assert entitlement_cap_minor(10**12, ClassTerms("6A", 100_000, False), FTX, "2025-01-01") == (
        10**13
    )


# Refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (InterestTerms(900, "continuous", "ACT/365", "2022-11-11"), "not simple or compound"),
        (InterestTerms(900, "simple", "30/360", "2022-11-11"), "not ACT/365 or ACT/360"),
        (InterestTerms(10_001, "simple", "ACT/365", "2022-11-11"), "out of range"),
        (InterestTerms(-1, "simple", "ACT/365", "2022-11-11"), "out of range"),
        (InterestTerms(900, "simple", "ACT/365", "2022-02-30"), "not a YYYY-MM-DD date"),
        (InterestTerms(900, "simple", "ACT/365", "1922-11-11"), "exceeds 36525"),
    ],
)
def test_terms_outside_the_vocabularies_are_refused(bad: InterestTerms, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        interest_factor(bad, "2025-02-18")


def test_out_of_range_caps_and_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="cap 100001 bps out of range"):
        cap_fraction(ClassTerms("7", 100_001, True), FTX, "2025-02-18")
    with pytest.raises(ValueError, match="admitted amount"):
        entitlement_cap_minor(10**12 + 1, ClassTerms("7", 10_000, True), FTX, "2025-02-18")
    with pytest.raises(ValueError, match="admitted amount"):
        entitlement_cap_minor(-1, ClassTerms("7", 10_000, True), FTX, "2025-02-18")
    with pytest.raises(ValueError, match="interest date"):
        interest_factor(FTX, "18/02/2025")
