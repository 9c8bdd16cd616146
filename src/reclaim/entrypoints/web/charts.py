"""Server-rendered bar charts: the geometry of an SVG the templates draw (``_charts.html``).

A chart is rows of stacked horizontal bars, each row a label line (the name and its value, as
text, so the chart reads without colour) above a bar of one or more segments. Lengths are
integers in SVG user units of a ``chart_width`` wide view box, proportional to the row totals
(the largest row fills ``bar_width_max``), floor-rounded; a segment with a positive amount is
at least one unit wide, so nothing that exists disappears. Amounts are integer minor units.

The chart is a picture of a table that the page also shows; the SVG has ``role="img"`` and a
title and description, the table is the accessible, exact form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from reclaim.core.limits import chart_bar_width_max as bar_width_max
from reclaim.core.limits import chart_rows_max

chart_width: Final = 400
row_height: Final = 44
label_baseline: Final = 16
bar_top: Final = 22
bar_height: Final = 14


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str  # a CSS class suffix: which series the segment belongs to
    x: int
    width: int


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: str
    y: int  # the row's top
    segments: tuple[Segment, ...]

    @property
    def text_y(self) -> int:
        return self.y + label_baseline

    @property
    def bar_y(self) -> int:
        return self.y + bar_top


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bar_height: int
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Item:
    """One row's input: its label, its value as text, and its series' amounts (kind, amount)."""

    label: str
    value: str
    parts: tuple[tuple[str, int], ...]


def bar_chart(items: Sequence[Item]) -> Chart:
    assert len(items) <= chart_rows_max, f"at most {chart_rows_max} rows"
    for item in items:
        assert all(type(a) is int and a >= 0 for _, a in item.parts), "amounts are ints ≥ 0"
    largest = max((sum(a for _, a in item.parts) for item in items), default=0)
    rows: list[Row] = []
    for index, item in enumerate(items):
        x = 0
        segments: list[Segment] = []
        for kind, amount in item.parts:
            width = _length(amount, largest)
            segments.append(Segment(kind, x, width))
            x += width
        rows.append(Row(item.label, item.value, index * row_height, tuple(segments)))
    return Chart(chart_width, max(1, len(rows)) * row_height, bar_height, tuple(rows))


def _length(amount: int, largest: int) -> int:
    if amount <= 0 or largest <= 0:
        return 0
    return max(1, amount * bar_width_max // largest)
