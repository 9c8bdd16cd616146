"""A series' calendar (``reclaim.core.notes.calendar``) from the notes and distribution state:
the next record date of the series' class, the last transfer date (record − 21 days, the
distribution engine's rule), the ex-date (record + 1) and each converted claim's window.

The states are real ones (``tests/support/distribution_world.py``, as in ``test_notes_story.py``):
alice converts C1 on 2025-02-01, the admin files the transfer, round r2 is declared."""

from __future__ import annotations

from reclaim.app import distributions as app
from reclaim.app.log_service import Accepted
from reclaim.core.distribution.commands import AssignClaim
from reclaim.core.distribution.model import ClassRound, Round
from reclaim.core.notes import ConvertClaim, DefineSeries, Series
from reclaim.core.notes.calendar import ClaimWindow, SeriesCalendar, series_calendar
from tests.support.distribution_world import World

SERIES = Series("FTX5A", "ftx", "5A", "programme", "Every distribution for a class 5A claim")
R2 = Round("r2", "ftx", "2025-04-11", "2025-05-30", (ClassRound("5A", "percent", 7200),),
           12_000_000)  # fmt: skip


def test_the_calendar_of_a_series() -> None:
    world = World()
    world.ok(DefineSeries(SERIES), "admin")
    world.at("2025-02-01")
    world.ok(ConvertClaim("FTX5A", "C1", "alice", "2025-02-01"), "alice")
    state = world.state
    assert series_calendar(state.notes, state.distribution, "FTX5A", "2025-02-01") == (
        SeriesCalendar("FTX5A", None, None, None, (ClaimWindow("C1", None, None),))
    ), "no round declared, the transfer not filed"
    world.ok(AssignClaim("C1", "programme", "2025-02-01", "ab" * 32), "admin")
    assert isinstance(app.declare(world, R2), Accepted)
    calendar = series_calendar(state.notes, state.distribution, "FTX5A", "2025-02-01")
    assert calendar == SeriesCalendar(
        "FTX5A", "2025-04-11", "2025-03-21", "2025-04-12",
        (ClaimWindow("C1", "2025-02-01", "2025-02-22"),),
    )  # fmt: skip
    after = series_calendar(state.notes, state.distribution, "FTX5A", "2025-04-12")
    assert after.record_date is None, "r2's record date has passed"
