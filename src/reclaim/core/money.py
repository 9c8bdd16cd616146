"""Money: integer minor units of a registered asset, parsed and formatted without rounding.

Theory of operation
-------------------
Every amount in reclaim is an ``int`` of **minor units** of one asset: cents for USD and EUR,
millionths for USDC, single units for recovery notes (one note unit = one cent of admitted face
value). The asset's ``scale`` is the number of decimal places between its minor and its major
unit. ``Decimal`` appears in exactly two places, ``parse_amount`` and ``format_amount``; nothing
else in a money path divides, rounds or uses floats.

| asset          | scale | minor unit                      |
| -------------- | ----- | ------------------------------- |
| ``USD``        | 2     | cent                            |
| ``EUR``        | 2     | cent                            |
| ``USDC``       | 6     | micro-USDC                      |
| ``NOTE-<ser>`` | 0     | one note = 1 cent of face value |

Splitting an amount is done by ``allocate_pro_rata`` alone (largest remainder, ties by key).

Invariants
----------
- a ``Money`` holds an ``int`` (never a ``bool``) within the PostgreSQL BIGINT range;
- ``Money + Money`` and ``Money - Money`` exist only within one asset; there is no division;
- ``parse_amount(format_amount(n, a), a) == n`` for every BIGINT ``n`` (signed parsing);
- the parts of ``allocate_pro_rata`` sum to the total, each within one minor unit of its exact
  share, and do not depend on the order of the weights.

Errors
------
- ``AmountError`` (a ``ValueError``): text that is not an amount of the asset, with a message
  that says why. A user error: map it to a 400/422 at the boundary.
- ``AssertionError``: a bug (a float or a bool where an amount belongs, an overflowing sum).

Known limits
------------
Amounts are bounded by BIGINT (2**63 - 1 minor units: 92 quadrillion dollars, or 9.2 trillion
USDC). The asset registry is code, not data: a new fiat currency is a code change; a note series
is any ``NOTE-<series>`` name of the right form.
"""

from __future__ import annotations

import decimal
import operator
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from types import MappingProxyType
from typing import Final

from reclaim.core import limits
from reclaim.core.limits import allocation_parts_max, amount_text_length_max_chars, asset_scale_max

# Bounds (to be moved into core/limits.py at integration) --------------------------------------


_NOTE_SERIES_RE: Final = re.compile(r"[A-Z0-9][A-Z0-9-]{0,23}")
_AMOUNT_RE: Final = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?")
#: Enough digits for any BIGINT at any scale; every rounding is a trap, never a silent event.
_EXACT: Final = decimal.Context(
    prec=60,
    traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation, decimal.Overflow],
)


class AmountError(ValueError):
    """Text that is not an amount of the asset (the message says why)."""


@dataclass(frozen=True, slots=True)
class Asset:
    """A unit of account: its code and the decimal places of its minor unit."""

    code: str
    scale: int

    def __post_init__(self) -> None:
        assert type(self.scale) is int, "an asset's scale is an int"
        assert 0 <= self.scale <= asset_scale_max, f"scale {self.scale} out of range"
        assert self.code, "an asset has a code"


#: The registered assets by code. Note series are made by ``note_asset``.
ASSETS: Final[Mapping[str, Asset]] = MappingProxyType(
    {"USD": Asset("USD", 2), "EUR": Asset("EUR", 2), "USDC": Asset("USDC", 6)}
)
NOTE_PREFIX: Final = "NOTE-"


def note_asset(series: str) -> Asset:
    """The asset of a recovery-note series: ``NOTE-<series>``, scale 0."""
    if not _NOTE_SERIES_RE.fullmatch(series):
        raise AmountError(f"note series {series!r} is not 1-24 of A-Z, 0-9 and '-'")
    return Asset(NOTE_PREFIX + series, 0)


def asset_of(code: str) -> Asset | None:
    """The asset named ``code`` (registered, or a well-formed note series), or ``None``."""
    found = ASSETS.get(code)
    if found is not None:
        return found
    return Asset(code, 0) if is_asset_code(code) else None


def is_asset_code(code: str) -> bool:
    """``asset_of(code) is not None``, without building the ``Asset`` (for hot paths)."""
    return code in ASSETS or (
        code.startswith(NOTE_PREFIX)
        and _NOTE_SERIES_RE.fullmatch(code, len(NOTE_PREFIX)) is not None
    )


def is_bigint(value: int) -> bool:
    """``value`` is an ``int`` (not a ``bool``) that fits a signed 64-bit column."""
    return type(value) is int and limits.integer_min <= value <= limits.integer_max


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one asset in minor units. Adds and subtracts within its asset only."""

    asset: Asset
    amount_minor: int

    def __post_init__(self) -> None:
        assert isinstance(self.asset, Asset), "Money needs an Asset"
        assert is_bigint(self.amount_minor), f"{self.amount_minor!r} is not a BIGINT int"

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.asset, self.amount_minor + self._same_asset(other))

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.asset, self.amount_minor - self._same_asset(other))

    def __neg__(self) -> Money:
        return Money(self.asset, -self.amount_minor)

    def _same_asset(self, other: Money) -> int:
        if other.asset != self.asset:
            raise ValueError(f"cannot combine {self.asset.code} with {other.asset.code}")
        return other.amount_minor

    @classmethod
    def parse(cls, text: str, asset: Asset, *, signed: bool = False) -> Money:
        return cls(asset, parse_amount(text, asset, signed=signed))

    def __str__(self) -> str:
        return f"{format_amount(self.amount_minor, self.asset)} {self.asset.code}"


def parse_amount(text: str, asset: Asset, *, signed: bool = False) -> int:
    """The minor units ``text`` names in ``asset``; refuses anything it would have to round.

    Accepted: ``123``, ``123.4``, ``0.05`` (at most ``asset.scale`` places; a leading ``-`` only
    when ``signed``). Refused: excess places (even zeros: ``1.000`` for USD), exponents, ``NaN``
    and infinities, ``+``, thousands separators, white space, leading zeros, a bare ``.``,
    non-ASCII digits, and values outside BIGINT.
    """
    if not isinstance(text, str):
        raise AmountError(f"an amount is text, not {type(text).__name__}")
    if len(text) > amount_text_length_max_chars:
        raise AmountError(f"amount text longer than {amount_text_length_max_chars} characters")
    match = _AMOUNT_RE.fullmatch(text)
    if match is None:
        raise AmountError(f"{text!r} is not a plain decimal amount (digits, one optional point)")
    sign, _, places = match.groups()
    if sign and not signed:
        raise AmountError(f"{text!r}: a sign is not allowed here")
    if places is not None and len(places) > asset.scale:
        raise AmountError(
            f"{text!r} has {len(places)} decimal places; {asset.code} allows {asset.scale}"
        )
    try:
        minor = _EXACT.scaleb(decimal.Decimal(text), asset.scale)
        value = int(minor)
    except decimal.DecimalException as exc:  # pragma: no cover - the pattern rules these out
        raise AmountError(f"{text!r} is not an exact amount of {asset.code}") from exc
    assert minor == value, "an amount with at most `scale` places is whole in minor units"
    if not limits.integer_min <= value <= limits.integer_max:
        raise AmountError(f"{text!r} {asset.code} does not fit a 64-bit amount of minor units")
    return value


def format_amount(amount_minor: int, asset: Asset) -> str:
    """``amount_minor`` in major units with exactly ``asset.scale`` places: 1234 USD → ``12.34``."""
    assert is_bigint(amount_minor), f"{amount_minor!r} is not a BIGINT int"
    text = format(_EXACT.scaleb(decimal.Decimal(amount_minor), -asset.scale), "f")
    assert parse_amount(text, asset, signed=True) == amount_minor, "format must round-trip"
    return text


def format_usd(amount_minor: int) -> str:
    """US dollars for people to read, with thousands grouped: 123456789 → ``$1,234,567.89``."""
    whole, _, cents = format_amount(amount_minor, ASSETS["USD"]).partition(".")
    return f"${int(whole):,}.{cents}"


def checked_sum(amounts_minor: Iterable[int]) -> int:
    """The sum of ``amounts_minor``; every partial sum (as a BIGINT accumulator sees it) fits.

    An overflow is a bug: inputs are bounded where they enter (``parse_amount``, the ledger's
    ladder), so a sum that overflows means a bound was not checked. Use ``is_bigint`` to test
    a total of untrusted input before it reaches here.
    """
    total = 0
    for amount in amounts_minor:
        assert is_bigint(amount), f"{amount!r} is not a BIGINT int"
        total += amount
        assert limits.integer_min <= total <= limits.integer_max, "sum overflows BIGINT"
    return total


def allocate_pro_rata(total_minor: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``total_minor`` in proportion to ``weights`` by the largest-remainder method.

    Each key first gets ``floor(total * w / W)``; the units left over (fewer than the number of
    keys) go one each to the keys with the largest remainders ``total * w mod W``, ties broken
    by key in ascending order. The result is independent of the order of ``weights``; the parts
    sum to ``total_minor`` and each is within one unit of its exact share (zero weight → zero).
    The parts come in ascending key order.
    """
    _check_total(total_minor, len(weights))
    if not _weights_valid(weights):
        for key, weight in weights.items():  # the first bad one, for the message
            if not isinstance(key, str):
                raise ValueError(f"key {key!r} is not text")
            if not is_bigint(weight) or weight < 0:
                raise ValueError(f"weight of {key!r} is not a non-negative BIGINT: {weight!r}")
    keys = sorted(weights)
    parts = _largest_remainder(total_minor, [weights[k] for k in keys])
    return dict(zip(keys, parts, strict=True))


def allocate_pro_rata_sorted(
    total_minor: int, keys: Sequence[str], weights: Sequence[int]
) -> list[int]:
    """``allocate_pro_rata`` over keys given in strictly ascending order, ``weights[i]`` the
    weight of ``keys[i]``: the parts, in the same order. For callers that hold their weights
    sorted already (a pass-through over a million holders): no mapping is built or sorted.
    The same rule and the same refusals (``ValueError``), and one more: keys out of order."""
    _check_total(total_minor, len(weights))
    if len(keys) != len(weights):
        raise ValueError(f"{len(keys)} keys for {len(weights)} weights")
    if not set(map(type, keys)) <= {str}:  # the bulk checks run in C: map, not a generator
        raise ValueError("every key must be text")
    if not all(map(operator.lt, keys, keys[1:])):
        raise ValueError("keys must be strictly ascending")
    if not _values_valid(weights):
        raise ValueError("every weight must be a non-negative BIGINT")
    return _largest_remainder(total_minor, list(weights))


def _check_total(total_minor: int, parts: int) -> None:
    if not is_bigint(total_minor) or total_minor < 0:
        raise ValueError(f"total {total_minor!r} is not a non-negative BIGINT")
    if parts > allocation_parts_max:
        raise ValueError(f"more than {allocation_parts_max} parts")


def _largest_remainder(total_minor: int, weights: list[int]) -> list[int]:
    """The parts of ``total_minor`` for valid ``weights`` whose keys ascend: floors, then one
    unit each to the largest remainders, ties to the lower index (the lower key).

    Whole-list passes (a comprehension runs several times faster than one loop doing it all).
    The leftover units go to every remainder above the cut-off (the leftover-th largest), and
    the remainders equal to it take the rest in index order: the same choice as ordering every
    (-remainder, key) pair, without sorting the pairs.
    """
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total_minor == 0:
            return [0] * len(weights)
        raise ValueError("cannot split a positive total over weights that sum to zero")
    products = [total_minor * w for w in weights]
    parts = [p // weight_sum for p in products]
    remainders = [p % weight_sum for p in products]
    leftover = total_minor - sum(parts)
    fractional = len(remainders) - remainders.count(0)
    assert 0 <= leftover <= fractional, "floors leave fewer units than fractional keys"
    if leftover:
        cutoff = sorted(remainders, reverse=True)[leftover - 1]
        assert cutoff > 0
        above = [r > cutoff for r in remainders]
        room = leftover - sum(above)
        for index in compress(range(len(parts)), above):
            parts[index] += 1
        if room:
            for index in compress(range(len(parts)), [r == cutoff for r in remainders]):
                parts[index] += 1
                room -= 1
                if not room:
                    break
        assert room == 0
    # The parts sum to the total, each within one unit of its exact share:
    # |part - total*w/W| < 1  <=>  |part*W - total*w| < W.
    assert sum(parts) == total_minor, "the parts must sum to the total"
    off = map(operator.sub, map(operator.mul, parts, repeat(weight_sum)), products)
    assert max(map(abs, off)) < weight_sum, "a part is a unit or more off its exact share"
    return parts


def _weights_valid(weights: Mapping[str, int]) -> bool:
    """Every key text and every weight a non-negative BIGINT (``is_bigint``), in bulk."""
    return all(isinstance(key, str) for key in weights) and _values_valid(weights.values())


def _values_valid(values: Collection[int]) -> bool:
    """Every value an ``int`` (not a ``bool``) from 0 to BIGINT's maximum, in bulk."""
    if not set(map(type, values)) <= {int}:  # in C; and a bool is not an int here
        return False
    return not values or (min(values) >= 0 and max(values) <= limits.integer_max)
