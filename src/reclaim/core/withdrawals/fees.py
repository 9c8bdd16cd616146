"""Withdrawal fees as data: tiers, then a fixed part plus basis points, capped. Exact integers.

A ``FeeSchedule`` is, in the minor units of the rail's asset:

- ``tiers``: ``(up_to_minor, fee_minor)`` with strictly ascending bounds; an amount at most a
  tier's bound (**inclusive**) pays that tier's fixed fee, the first tier that holds it;
- above the last bound: ``above_fixed_minor`` plus ``above_bps`` basis points of a **base**,
  the whole fee capped at ``cap_minor``. ``above_base`` says what the basis points apply to:

  - ``excess`` (the default, and the shipped FTX EU schedule): the part of the amount **above
    the last tier's bound**. The fee is then continuous — one more cent of withdrawal never
    costs more than one cent's share of the percentage — and what the creditor is debited
    (amount + fee) never jumps;
  - ``whole``: the **whole amount**. This is the literal "€13 + 0.1%" of a price list, and
    expressible for an operator who means it, but it makes the fee jump at the last bound
    (€13.00 at €50,000.00, €63.01 at €50,000.01 under the FTX figures): withdrawing one cent
    more costs fifty euros more.

**Rounding**: the percentage part is ``ceil(base × bps / 10,000)`` — rounded **up** to the
minor unit, so the operator never charges less than the stated rate (and a positive base with
positive bps always costs at least one minor unit); the fixed part is added, then the cap
applied: ``fee = min(above_fixed + ceil(base × bps / 10,000), cap)``. Integers only: no float
and no ``Decimal`` is involved, and the result is exact for every BIGINT amount.

The FTX EU schedule (FACTS.md, "€8 up to €2,000; €13 up to €50,000; €13 + 0.1% above, capped
at €353"; figures in cents) is ``tiers = ((200_000, 800), (5_000_000, 1_300))``,
``above_fixed = 1_300``, ``above_bps = 10``, ``above_base = excess``, ``cap = 35_300``:

| amount        | fee (excess) | fee (whole) |
| ------------- | ------------ | ----------- |
| €2,000.00     | €8.00        | €8.00       |
| €2,000.01     | €13.00       | €13.00      |
| €50,000.00    | €13.00       | €13.00      |
| €50,000.01    | €13.01       | €63.01      |
| €340,000.00   | €303.00      | €353.00 (cap reached) |
| €390,000.00   | €353.00 (cap reached) | €353.00 |

Invariants (tests): the fee is never negative and never above ``max(tier fees, cap)``; with
``excess`` and tier fees that do not decrease and do not exceed ``above_fixed``, the fee never
decreases as the amount grows.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from reclaim.core import limits
from reclaim.core.limits import fee_tiers_max
from reclaim.core.withdrawals.codes import FeesCode

#: Basis points in one whole.
BPS_PER_WHOLE: Final = 10_000
#: The percentage applies to the part above the last tier's bound.
EXCESS: Final = "excess"
#: The percentage applies to the whole amount.
WHOLE: Final = "whole"
BASES: Final = (EXCESS, WHOLE)


class FeeTier(NamedTuple):
    """Amounts up to ``up_to_minor`` (inclusive) pay ``fee_minor``."""

    up_to_minor: int
    fee_minor: int


class FeeSchedule(NamedTuple):
    """Tiers, then ``above_fixed_minor`` + ``above_bps`` of the base, capped at ``cap_minor``
    (a schedule without a cap sets it to ``limits.integer_max``)."""

    tiers: tuple[FeeTier, ...]
    above_fixed_minor: int
    above_bps: int
    above_base: str
    cap_minor: int


def fee_minor(schedule: FeeSchedule, amount_minor: int) -> int:
    """The fee of withdrawing ``amount_minor`` (≥ 1) under ``schedule`` (which passed
    ``schedule_code``): the tier's fee, or the capped fixed + percentage above the tiers."""
    assert type(amount_minor) is int, "an amount is an int"
    assert 0 < amount_minor <= limits.integer_max, f"amount {amount_minor} out of range"
    for tier in schedule.tiers:
        if amount_minor <= tier.up_to_minor:
            return tier.fee_minor
    last_bound = schedule.tiers[-1].up_to_minor if schedule.tiers else 0
    base = amount_minor if schedule.above_base == WHOLE else amount_minor - last_bound
    assert base > 0, "above the tiers, the base is positive"
    percentage = -(-base * schedule.above_bps // BPS_PER_WHOLE)  # ceil, in integers
    fee = min(schedule.above_fixed_minor + percentage, schedule.cap_minor)
    assert 0 <= fee <= limits.integer_max, "a valid schedule's fee fits a BIGINT"
    return fee


def schedule_code(schedule: FeeSchedule) -> FeesCode:
    """The first fault of a fee schedule on its own (``FeesCode`` order), or ``ok``."""
    tiers = schedule.tiers
    if len(tiers) > fee_tiers_max:
        return FeesCode.tiers_malformed
    previous = 0
    for tier in tiers:
        if not _is_amount(tier.up_to_minor) or tier.up_to_minor <= previous:
            return FeesCode.tiers_malformed
        previous = tier.up_to_minor
    fees = [t.fee_minor for t in tiers] + [schedule.above_fixed_minor, schedule.cap_minor]
    if not all(type(f) is int and 0 <= f <= limits.integer_max for f in fees):
        return FeesCode.fee_out_of_range
    if type(schedule.above_bps) is not int or not 0 <= schedule.above_bps <= BPS_PER_WHOLE:
        return FeesCode.bps_out_of_range
    if schedule.above_base not in BASES:
        return FeesCode.base_unknown
    if schedule.cap_minor < schedule.above_fixed_minor:
        return FeesCode.cap_below_fixed
    return FeesCode.ok


def _is_amount(value: int) -> bool:
    return type(value) is int and 0 < value <= limits.integer_max
