"""A plain reference for a distribution round: per claim, in Python ints and ``Fraction``s.

Tests only (the differential property runs it against ``compute.compute_round`` of
``reclaim.core.distribution`` on random registers). It follows ``model``'s docstring word by
word and is written to be obviously right,
not fast: one exact ``Fraction`` entitlement per claim, the class total as the floor of their
sum, and the largest-remainder split over those entitlements (floors first, then one cent each
to the largest fractional parts, ties by claim id).

When a class's exact entitlements sum to a whole number of cents (a pool below its cap, or any
class whose ``rate × Σ admitted`` is whole), the split is ``money.allocate_pro_rata(total,
admitted)``: the same quotas, the same tie-break. ``reference_round`` asserts that, so the
round's rounding is tied to the one property-tested allocator wherever the two are the same
computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import NamedTuple

import polars as pl

from reclaim.core.distribution.interest import cap_fraction
from reclaim.core.distribution.model import CAP, PERCENT, POOL, InterestTerms, Plan, Round
from reclaim.core.money import allocate_pro_rata


class ReferenceLine(NamedTuple):
    """A line as the reference computes it (the columns a test compares)."""

    claim_id: str
    class_code: str
    destination: str
    entitlement_minor: int
    received_minor: int
    usd_minor: int
    asset: str
    amount_minor: int


def reference_entitlements(
    claims: pl.DataFrame,
    plan: Plan,
    round_: Round,
    interest: InterestTerms,
    pools_minor: Mapping[str, int],
) -> dict[str, int]:
    """Each participating claim's cumulative entitlement, by claim id."""
    statuses = set(plan.paid_statuses) | set(plan.reserved_statuses)
    entitlements: dict[str, int] = {}
    for class_round in round_.classes:
        code = class_round.class_code
        members = {
            row["claim_id"]: row["admitted_minor"]
            for row in claims.iter_rows(named=True)
            if row["class_code"] == code and row["status"] in statuses
        }
        cap = cap_fraction(
            plan.classes[code], interest, class_round.interest_to or round_.payment_date
        )
        admitted_total = sum(members.values())
        exact: dict[str, Fraction] = {}
        for claim_id, admitted in members.items():
            ceiling = admitted * cap
            if class_round.target == PERCENT:
                exact[claim_id] = min(
                    Fraction(admitted * class_round.cumulative_bps, 10_000), ceiling
                )
            elif class_round.target == CAP:
                exact[claim_id] = ceiling
            else:
                assert class_round.target == POOL
                pool = pools_minor[code]
                share = Fraction(pool * admitted, admitted_total) if admitted_total else Fraction(0)
                exact[claim_id] = min(share, ceiling)
        total = sum(exact.values(), Fraction(0)).__floor__()
        parts = _largest_remainder(total, exact)
        if total == sum(exact.values()) and admitted_total:
            assert parts == allocate_pro_rata(total, members), "whole sums split pro rata"
        entitlements.update(parts)
    return entitlements


def reference_round(
    claims: pl.DataFrame,
    plan: Plan,
    round_: Round,
    interest: InterestTerms,
    pools_minor: Mapping[str, int],
    fx: Mapping[str, tuple[int, int]],
) -> list[ReferenceLine]:
    """The round's lines (``usd_minor > 0``), sorted by claim id."""
    entitlements = reference_entitlements(claims, plan, round_, interest, pools_minor)
    rates = {"USD": (1, 1), **fx}
    lines: list[ReferenceLine] = []
    for row in sorted(claims.iter_rows(named=True), key=lambda r: str(r["claim_id"])):
        claim_id = row["claim_id"]
        if claim_id not in entitlements:
            continue
        entitlement, received = entitlements[claim_id], row["received_minor"]
        usd = max(0, entitlement - received)
        if usd == 0:
            continue
        asset = "USD" if row["destination"] == "escrow" else row["asset"]
        num, den = rates[asset]
        amount = usd * num // den
        lines.append(
            ReferenceLine(
                claim_id,
                row["class_code"],
                row["destination"],
                entitlement,
                received,
                usd,
                asset,
                amount,
            )
        )
    return lines


def _largest_remainder(total: int, exact: Mapping[str, Fraction]) -> dict[str, int]:
    parts = {claim_id: e.__floor__() for claim_id, e in exact.items()}
    leftover = total - sum(parts.values())
    by_remainder = sorted(exact, key=lambda claim_id: (-(exact[claim_id] % 1), claim_id))
    for claim_id in by_remainder[:leftover]:
        assert exact[claim_id] % 1 > 0, "a leftover cent goes to a fractional entitlement"
        parts[claim_id] += 1
    return parts
