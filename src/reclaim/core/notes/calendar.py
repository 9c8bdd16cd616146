"""A series' calendar: the next record date of its class, the ex-date, the last filing date a
conversion must have to be paid for that record date, and each converted claim's window.

The rule is the distribution engine's (``reclaim.core.distribution.payees``): the holding entity
is the claim's holder of record at record date ``R`` once the evidence of the transfer was
filed (``claim.assigned``) on or before ``R − 21 days`` — the 21-day objection window of Rule
3001(e)(2). So a series shows, for its next record date: the **last transfer date** ``R − 21``
(a conversion filed later is paid to the creditor as before, and the series does not receive
that round for it), and the **ex-date** ``R + 1``: notes bought from then on do not receive
that round's pass-through (its record position is the last event of ``R``). A converted claim
whose transfer is not filed yet has no window.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from reclaim.core.distribution.payees import objection_window_days
from reclaim.core.distribution.state import DistributionState
from reclaim.core.notes.machine import NotesState


class ClaimWindow(NamedTuple):
    """A converted claim: the date its transfer was filed (``None``: not yet) and the first
    record date at which the holding entity is its holder of record."""

    claim_id: str
    filed_date: str | None
    holder_of_record_from: str | None


class SeriesCalendar(NamedTuple):
    series: str
    #: The earliest record date on or after today of a round declared for the series' class.
    record_date: str | None
    #: The last filing date that makes ``record_date`` (``record_date − 21 days``).
    last_transfer_date: str | None
    #: The first day notes trade without that round (``record_date + 1 day``).
    ex_date: str | None
    windows: tuple[ClaimWindow, ...]


def _shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def series_calendar(
    notes: NotesState, ds: DistributionState, series: str, today: str
) -> SeriesCalendar:
    """The calendar of ``series`` on ``today`` (``YYYY-MM-DD``); O(rounds of the estate +
    conversions)."""
    s = notes.series[series]
    upcoming = sorted(
        ds.rounds[r].round.record_date
        for r in ds.estate_rounds.get(s.estate, ())
        if ds.rounds[r].round.record_date >= today
        and any(c.class_code == s.claim_class for c in ds.rounds[r].round.classes)
    )
    record = upcoming[0] if upcoming else None
    windows: list[ClaimWindow] = []
    for claim_id in sorted(c for c, conv in notes.conversions.items() if conv.series == series):
        filed = next(
            (a.filed_date for a in reversed(ds.holders.get(claim_id, ()))
             if a.to_holder == s.holding_entity),
            None,
        )  # fmt: skip
        start = None if filed is None else _shift(filed, objection_window_days)
        windows.append(ClaimWindow(claim_id, filed, start))
    return SeriesCalendar(
        series, record,
        None if record is None else _shift(record, -objection_window_days),
        None if record is None else _shift(record, 1),
        tuple(windows),
    )  # fmt: skip
