"""Post-petition interest and caps, as exact fractions.

Theory of operation
-------------------
An estate's consensus interest (``InterestTerms``: ``rate_bps`` a year, simple or compound,
ACT/365 or ACT/360, from the petition date) grows a class's cap. ``interest_factor(terms,
to_date)`` is the exact ``Fraction`` a claim's principal is multiplied by at ``to_date``:

- **days** are actual calendar days from the petition date to ``to_date`` (the petition date
  itself counts 0; a ``to_date`` on or before it gives 0 days and the factor 1);
- the **basis** is the day count's denominator: 365 for ACT/365, 360 for ACT/360;
- **simple**: ``1 + r × days / basis`` (``r = rate_bps / 10,000``). FTX: 2022-11-11 →
  2025-02-18 is 830 days, so the factor is ``1 + 0.09 × 830 / 365 = 4397 / 3650`` (≈ 1.2047);
- **compound**: interest is computed daily and compounded annually on the petition date's
  **anniversaries**: the days are cut at each anniversary on or before ``to_date``; each full
  period ``k`` (from one anniversary to the next) grows the amount by ``1 + r × d_k / basis``,
  ``d_k`` its actual days (365 or 366), and the stub after the last anniversary by
  ``1 + r × stub / basis``. The factor is the product. So compound equals simple until the
  first anniversary, a leap year earns one day more, and ACT/360 earns ``365/360 × r`` (or
  ``366/360 × r``) a full year — the day count means what it says on every day. (The other
  common reading, ``(1 + r)`` for each full year whatever its days, differs from this by at most
  ``r / basis`` a year.)
- **Feb-29 anniversaries**: a petition dated 29 February has its anniversary on 28 February in
  years without a 29 February (end-of-month convention; the anniversary never slips into
  March).

``cap_fraction(class_terms, interest, to_date)`` is a class's cap per unit of admitted amount:
``cap_bps / 10,000``, times the factor when the class earns interest.
``entitlement_cap_minor(admitted_minor, ...)`` is the ceiling of ``admitted × cap``: the most
one claim can ever be allotted (largest remainder gives each claim the floor or the ceiling of
an exact entitlement that is at most its exact cap), and so the event machine's hard bound on
an executed line.

Invariants
----------
- Every result is an exact ``Fraction`` (or ``int``); no float is ever formed.
- ``interest_factor`` is 1 for 0 days or a 0 rate, non-decreasing in ``to_date``, and simple
  and compound agree before the first anniversary.

Errors
------
``ValueError`` for terms outside the vocabularies or bounds (an unknown method or day count, a
date that is not ``YYYY-MM-DD``, a rate above ``consensus_rate_max_bps``, more than
``interest_days_max`` days) — the callers validated them, so this is a bug surfacing early.

Known limits
------------
A compound factor over ``n`` anniversaries has a numerator and denominator of about
``n × 27`` bits (``(basis × 10,000)^(n+1)`` before reduction); ``compute`` falls back to
Python-int arithmetic when they do not fit 64 bits. Interest runs at most
``interest_days_max`` days.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Final

from reclaim.core.claims.model import is_date
from reclaim.core.distribution.model import ClassTerms, InterestTerms
from reclaim.core.limits import (
    admitted_max_minor,
    cap_bps_max,
    consensus_rate_max_bps,
    interest_days_max,
)

# Bounds -----------------------------------------------------------------------------------------

#: Basis points in one (10,000 bps = 100%).
bps_per_unit: Final = 10_000

SIMPLE: Final = "simple"
COMPOUND: Final = "compound"
#: Day count conventions and their denominators (days in the year the rate is quoted for).
DAY_COUNT_BASIS: Final = {"ACT/365": 365, "ACT/360": 360}


def interest_days(petition_date: str, to_date: str) -> int:
    """Actual calendar days from ``petition_date`` to ``to_date``; 0 if ``to_date`` is not
    after it."""
    start, end = _date(petition_date, "petition date"), _date(to_date, "interest date")
    days = max(0, (end - start).days)
    if days > interest_days_max:
        raise ValueError(f"interest over {days} days exceeds {interest_days_max}")
    return days


def anniversary(petition: date, years: int) -> date:
    """The ``years``-th anniversary of ``petition`` (29 February → 28 February when the year
    has no 29 February)."""
    year = petition.year + years
    try:
        return petition.replace(year=year)
    except ValueError:
        assert (petition.month, petition.day) == (2, 29), "only 29 February has no anniversary"
        return date(year, 2, 28)


def interest_factor(terms: InterestTerms, to_date: str) -> Fraction:
    """The exact factor ``terms`` grow a principal by from the petition date to ``to_date``."""
    rate, basis = _rate_and_basis(terms)
    days = interest_days(terms.petition_date, to_date)
    if terms.method == SIMPLE:
        return 1 + rate * days / basis
    start, end = date.fromisoformat(terms.petition_date), date.fromisoformat(to_date)
    factor = Fraction(1)
    years = 0
    period_start = start
    while days > 0:
        period_end = anniversary(start, years + 1)
        if period_end > end:
            period_end = end
        period_days = (period_end - period_start).days
        factor *= 1 + rate * period_days / basis
        days -= period_days
        period_start, years = period_end, years + 1
    assert days == 0, "the periods cover the days exactly"
    return factor


def cap_fraction(class_terms: ClassTerms, interest: InterestTerms, to_date: str) -> Fraction:
    """A class's cap per unit of admitted amount: ``cap_bps / 10,000``, times the interest
    factor at ``to_date`` when the class earns interest."""
    cap_bps = class_terms.cap_bps
    if type(cap_bps) is not int or not 0 <= cap_bps <= cap_bps_max:
        raise ValueError(f"class {class_terms.class_code}: cap {cap_bps!r} bps out of range")
    cap = Fraction(cap_bps, bps_per_unit)
    if class_terms.interest:
        cap *= interest_factor(interest, to_date)
    return cap


def entitlement_cap_minor(
    admitted_minor: int, class_terms: ClassTerms, interest: InterestTerms, to_date: str
) -> int:
    """The ceiling of ``admitted × cap``: the most one claim can ever be allotted."""
    if type(admitted_minor) is not int or not 0 <= admitted_minor <= admitted_max_minor:
        raise ValueError(f"admitted amount {admitted_minor!r} out of range")
    exact = admitted_minor * cap_fraction(class_terms, interest, to_date)
    return -((-exact.numerator) // exact.denominator)


def _rate_and_basis(terms: InterestTerms) -> tuple[Fraction, int]:
    if terms.method not in (SIMPLE, COMPOUND):
        raise ValueError(f"interest method {terms.method!r} is not simple or compound")
    basis = DAY_COUNT_BASIS.get(terms.day_count)
    if basis is None:
        raise ValueError(f"day count {terms.day_count!r} is not ACT/365 or ACT/360")
    rate_bps = terms.rate_bps
    if type(rate_bps) is not int or not 0 <= rate_bps <= consensus_rate_max_bps:
        raise ValueError(f"interest rate {rate_bps!r} bps out of range")
    return Fraction(rate_bps, bps_per_unit), basis


def _date(text: str, what: str) -> date:
    if not isinstance(text, str) or not is_date(text):
        raise ValueError(f"{what} {text!r} is not a YYYY-MM-DD date")
    return date.fromisoformat(text)
