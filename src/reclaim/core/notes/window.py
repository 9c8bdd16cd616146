"""Rule 3001(e)(2)'s 21-day window: when an assignment makes a record date.

Fed. R. Bankr. P. 3001(e)(2): when a claim is transferred after its proof was filed, the
transferee files evidence of the transfer (Form 2100A); the clerk notifies the transferor
(Form 2100B), who may object **within 21 days** of the notice; absent a timely objection the
transferee is substituted for the transferor. An estate pays whoever is its holder of record at
a round's record date, so a conversion (an assignment to the holding entity) counts for a round
only when its window has lapsed by the record date (FACTS.md: "after the 21-day objection
window of Rule 3001(e)(2) has lapsed").

Rules used here (documented choices):

- The period starts on the **day the evidence is filed** (the clerk's notice is taken to go
  the same day: "immediately"), the day itself not counted (Rule 9006(a)(1)(A)).
- The last day of the period is ``filed + 21 days``, moved to the next day that is not a
  Saturday, Sunday or legal holiday (Rule 9006(a)(1)(C)); holidays are data the caller passes
  (the core has no calendar). ``extra_days`` adds days for service by mail (Rule 9006(f): 3)
  when an operator's policy counts them; the default is 0.
- The transferee is holder of record from the **day after** the last day
  (``substitution_date``); a conversion **makes** record date ``R`` when that day is on or
  before ``R``, i.e. its last day is before ``R``.
- ``last_transfer_date(R)`` is the latest filing date that still makes ``R``: what a series
  shows before each record date (for FTX's round-2 record date, Friday 2025-04-11, with no
  holidays: Thursday 2025-03-20, whose 21st day, Thursday 2025-04-10, is before it).
"""

from __future__ import annotations

from collections.abc import Set
from datetime import date, timedelta
from typing import Final

from reclaim.core.limits import calendar_roll_days_max

#: Rule 3001(e)(2): days the transferor has to object.
OBJECTION_DAYS: Final = 21
_DAY: Final = timedelta(days=1)


def _business_day(day: date, holidays: Set[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def objection_deadline(filed: date, holidays: Set[date] = frozenset(), extra_days: int = 0) -> date:
    """The last day the transferor may object to a transfer whose evidence was filed ``filed``."""
    assert 0 <= extra_days <= OBJECTION_DAYS, extra_days
    day = filed + timedelta(days=OBJECTION_DAYS + extra_days)
    for _ in range(calendar_roll_days_max):
        if _business_day(day, holidays):
            return day
        day += _DAY
    raise ValueError(f"no business day within {calendar_roll_days_max} days after {day}")


def substitution_date(filed: date, holidays: Set[date] = frozenset(), extra_days: int = 0) -> date:
    """The first day the transferee is the holder of record (the window has lapsed)."""
    return objection_deadline(filed, holidays, extra_days) + _DAY


def makes_record_date(
    filed: date, record_date: date, holidays: Set[date] = frozenset(), extra_days: int = 0
) -> bool:
    """Whether a transfer filed on ``filed`` is on the register at ``record_date``."""
    return substitution_date(filed, holidays, extra_days) <= record_date


def last_transfer_date(
    record_date: date, holidays: Set[date] = frozenset(), extra_days: int = 0
) -> date:
    """The latest filing date whose window lapses by ``record_date``.

    The deadline never moves backwards as the filing date moves forwards, so the answer is
    found from ``record_date − 22 − extra_days`` (the answer when no weekend or holiday
    intervenes) by stepping back while it does not make the date (each step back removes at
    least one day of the deadline, so at most ``calendar_roll_days_max`` steps).
    """
    day = record_date - timedelta(days=OBJECTION_DAYS + extra_days + 1)
    for _ in range(calendar_roll_days_max + 1):
        if makes_record_date(day, record_date, holidays, extra_days):
            return day
        day -= _DAY
    raise ValueError(f"no filing date makes {record_date}")  # pragma: no cover - see docstring
