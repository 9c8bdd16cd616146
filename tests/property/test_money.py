"""Properties of money: the algebra, exact parsing and formatting, and pro-rata allocation."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.core import limits
from reclaim.core.money import (
    ASSETS,
    AmountError,
    Asset,
    Money,
    allocate_pro_rata,
    asset_of,
    checked_sum,
    format_amount,
    note_asset,
    parse_amount,
)

USD, EUR, USDC = ASSETS["USD"], ASSETS["EUR"], ASSETS["USDC"]
NOTE = note_asset("FTX-2025")
ALL_ASSETS = [USD, EUR, USDC, NOTE]
BIGINT = limits.integer_max
bigints = st.integers(limits.integer_min, limits.integer_max)
small = st.integers(-(2**40), 2**40)
assets = st.sampled_from(ALL_ASSETS)


# The registry -----------------------------------------------------------------------------------


def test_the_registered_assets_and_their_scales() -> None:
    assert {code: a.scale for code, a in ASSETS.items()} == {"USD": 2, "EUR": 2, "USDC": 6}
    assert note_asset("FTX-2025") == Asset("NOTE-FTX-2025", 0)
    assert asset_of("NOTE-FTX-2025") == Asset("NOTE-FTX-2025", 0)
    assert asset_of("USD") is USD
    for code in ("GBP", "usd", "NOTE-", "NOTE-ftx", "NOTE-" + "A" * 25, ""):
        assert asset_of(code) is None, code
    with pytest.raises(AmountError, match="note series"):
        note_asset("ftx 2025")


# The algebra ------------------------------------------------------------------------------------


@given(assets, small, small, small)
def test_addition_and_subtraction_within_an_asset(asset: Asset, a: int, b: int, c: int) -> None:
    x, y, z = Money(asset, a), Money(asset, b), Money(asset, c)
    assert x + y == y + x == Money(asset, a + b)
    assert (x + y) + z == x + (y + z)
    assert (x + y) - y == x
    assert x - x == Money(asset, 0)
    assert -x + x == Money(asset, 0)
    assert (-x).amount_minor == -a


def test_money_of_two_assets_does_not_mix() -> None:
    with pytest.raises(ValueError, match="cannot combine USD with EUR"):
        Money(USD, 1) + Money(EUR, 1)
    with pytest.raises(ValueError, match="cannot combine USD with USDC"):
        Money(USD, 1) - Money(USDC, 1)


def test_money_has_no_division_and_no_mixing_with_bare_numbers() -> None:
    m = Money(USD, 100)
    with pytest.raises(TypeError):
        m / 3  # type: ignore[operator]
    with pytest.raises(TypeError):
        m // 3  # type: ignore[operator]
    with pytest.raises(TypeError):
        m + 1
    with pytest.raises(TypeError):
        m * 2  # type: ignore[operator]


@pytest.mark.parametrize("amount", [True, 1.0, "1", BIGINT + 1, limits.integer_min - 1])
def test_money_refuses_what_is_not_a_bigint_int(amount: object) -> None:
    with pytest.raises(AssertionError):
        Money(USD, amount)  # type: ignore[arg-type]


def test_money_overflow_is_a_bug() -> None:
    with pytest.raises(AssertionError):
        Money(USD, BIGINT) + Money(USD, 1)


def test_money_reads_and_prints() -> None:
    assert Money.parse("12.34", USD) == Money(USD, 1234)
    assert str(Money(USDC, 1)) == "0.000001 USDC"
    assert str(Money(NOTE, 7)) == "7 NOTE-FTX-2025"
    assert str(Money(EUR, -5)) == "-0.05 EUR"


# Parsing and formatting -------------------------------------------------------------------------


@given(assets, bigints)
def test_format_then_parse_is_the_identity(asset: Asset, amount: int) -> None:
    text = format_amount(amount, asset)
    assert parse_amount(text, asset, signed=True) == amount
    places = text.partition(".")[2]
    assert len(places) == asset.scale


@given(assets, st.integers(0, 10**17), st.integers(0, 6))
def test_parse_is_exact(asset: Asset, digits: int, places: int) -> None:
    places = min(places, asset.scale)
    text = str(Decimal(digits).scaleb(-places)) if places else str(digits)
    if "E" in text:  # Decimal may choose scientific notation for some values
        text = format(Decimal(digits).scaleb(-places), "f")
    expected = Fraction(Decimal(text)) * 10**asset.scale
    assert expected.denominator == 1
    if expected <= BIGINT:
        assert parse_amount(text, asset) == expected


@pytest.mark.parametrize(
    ("text", "asset", "minor"),
    [
        ("0", USD, 0),
        ("0.5", USD, 50),
        ("12.34", USD, 1234),
        ("1000000", EUR, 100000000),
        ("0.000001", USDC, 1),
        ("1.5", USDC, 1500000),
        ("42", NOTE, 42),
        ("92233720368547758.07", USD, BIGINT),
    ],
)
def test_parse_examples(text: str, asset: Asset, minor: int) -> None:
    assert parse_amount(text, asset) == minor


@pytest.mark.parametrize(
    ("text", "asset", "message"),
    [
        ("1.001", USD, "has 3 decimal places; USD allows 2"),
        ("1.000", USD, "has 3 decimal places; USD allows 2"),  # even zeros: never rounded
        ("0.0000001", USDC, "has 7 decimal places; USDC allows 6"),
        ("1.0", NOTE, "has 1 decimal places; NOTE-FTX-2025 allows 0"),
        ("1e3", USD, "not a plain decimal"),
        ("1E-2", USD, "not a plain decimal"),
        ("NaN", USD, "not a plain decimal"),
        ("Infinity", USD, "not a plain decimal"),
        ("-inf", USD, "not a plain decimal"),
        ("+1", USD, "not a plain decimal"),
        ("-1", USD, "a sign is not allowed"),
        ("1,000", USD, "not a plain decimal"),
        ("1_000", USD, "not a plain decimal"),
        ("1 000", USD, "not a plain decimal"),
        (" 1", USD, "not a plain decimal"),
        ("1 ", USD, "not a plain decimal"),
        ("01", USD, "not a plain decimal"),
        (".5", USD, "not a plain decimal"),
        ("5.", USD, "not a plain decimal"),
        ("", USD, "not a plain decimal"),
        ("١٢", USD, "not a plain decimal"),  # Arabic-Indic digits
        ("１２", USD, "not a plain decimal"),  # full-width digits
        ("92233720368547758.08", USD, "does not fit"),
        ("9" * 41, NOTE, "longer than 40"),
    ],
)
def test_parse_refuses(text: str, asset: Asset, message: str) -> None:
    with pytest.raises(AmountError, match=message):
        parse_amount(text, asset)


def test_parse_refuses_what_is_not_text() -> None:
    with pytest.raises(AmountError, match="an amount is text"):
        parse_amount(1.5, USD)  # type: ignore[arg-type]


def test_signed_parsing() -> None:
    assert parse_amount("-0.05", USD, signed=True) == -5
    assert parse_amount("-92233720368547758.08", USD, signed=True) == limits.integer_min
    with pytest.raises(AmountError, match="does not fit"):
        parse_amount("-92233720368547758.09", USD, signed=True)


@pytest.mark.parametrize(
    ("minor", "asset", "text"),
    [(0, USD, "0.00"), (5, USD, "0.05"), (-1234, EUR, "-12.34"), (1, USDC, "0.000001"),
     (7, NOTE, "7"), (BIGINT, USD, "92233720368547758.07")],
)  # fmt: skip
def test_format_examples(minor: int, asset: Asset, text: str) -> None:
    assert format_amount(minor, asset) == text


# Sums -------------------------------------------------------------------------------------------


@given(st.lists(st.integers(-(2**58), 2**58), max_size=16))
def test_checked_sum_is_the_sum(values: list[int]) -> None:
    assert checked_sum(values) == sum(values)


def test_checked_sum_overflow_is_a_bug() -> None:
    with pytest.raises(AssertionError, match="overflows BIGINT"):
        checked_sum([BIGINT, 1])
    with pytest.raises(AssertionError, match="overflows BIGINT"):
        checked_sum([BIGINT, 1, -5])  # a BIGINT accumulator fails on the way
    with pytest.raises(AssertionError):
        checked_sum([True])


# Pro-rata allocation ----------------------------------------------------------------------------

keys = st.text(alphabet="abcdefghij0123456789-", min_size=1, max_size=6)
weight_maps = st.dictionaries(keys, st.integers(0, 10**12), min_size=1, max_size=40).filter(
    lambda w: sum(w.values()) > 0
)
totals = st.one_of(st.integers(0, 10**6), st.integers(0, BIGINT))


def _naive(total: int, weights: dict[str, int]) -> dict[str, int]:
    """Largest remainder with exact fractions, ties by key: the definition, written plainly."""
    whole = sum(weights.values())
    exact = {k: Fraction(total * w, whole) for k, w in weights.items()}
    parts = {k: int(share) for k, share in exact.items()}  # floor: shares are non-negative
    order = sorted(weights, key=lambda k: (-(exact[k] - parts[k]), k))
    for k in order[: total - sum(parts.values())]:
        parts[k] += 1
    return parts


@settings(max_examples=300)
@given(totals, weight_maps, st.randoms(use_true_random=False))
def test_allocation_is_exact_fair_and_order_independent(
    total: int, weights: dict[str, int], rng: random.Random
) -> None:
    parts = allocate_pro_rata(total, weights)
    whole = sum(weights.values())
    assert sum(parts.values()) == total
    assert set(parts) == set(weights)
    for key, part in parts.items():
        assert abs(Fraction(part) - Fraction(total * weights[key], whole)) < 1
        if weights[key] == 0:
            assert part == 0
    shuffled_keys = list(weights)
    rng.shuffle(shuffled_keys)
    assert allocate_pro_rata(total, {k: weights[k] for k in shuffled_keys}) == parts
    assert parts == _naive(total, weights)


def test_allocation_ties_go_to_the_smallest_keys() -> None:
    assert allocate_pro_rata(1, {"b": 1, "a": 1}) == {"a": 1, "b": 0}
    assert allocate_pro_rata(2, {"c": 1, "b": 1, "a": 1}) == {"a": 1, "b": 1, "c": 0}
    assert allocate_pro_rata(100, {"x": 1, "y": 1, "z": 1}) == {"x": 34, "y": 33, "z": 33}
    # Largest remainder first: 10 * 2/7 = 2.857 (rem 6/7), 10 * 5/7 = 7.142 (rem 1/7).
    assert allocate_pro_rata(10, {"a": 5, "b": 2}) == {"a": 7, "b": 3}


def test_allocation_refuses_what_cannot_be_split() -> None:
    assert allocate_pro_rata(0, {"a": 0, "b": 0}) == {"a": 0, "b": 0}
    with pytest.raises(ValueError, match="weights that sum to zero"):
        allocate_pro_rata(5, {"a": 0})
    with pytest.raises(ValueError, match="non-negative BIGINT"):
        allocate_pro_rata(-1, {"a": 1})
    with pytest.raises(ValueError, match="weight of 'a'"):
        allocate_pro_rata(5, {"a": -1})
    with pytest.raises(ValueError, match="weight of 'a'"):
        allocate_pro_rata(5, {"a": True})
    with pytest.raises(ValueError, match="non-negative BIGINT"):
        allocate_pro_rata(BIGINT + 1, {"a": 1})
