"""The bar charts' geometry: integer lengths proportional to the row totals."""

from __future__ import annotations

import pytest

from reclaim.entrypoints.web import charts
from reclaim.entrypoints.web.charts import Item, bar_chart


def test_lengths_are_proportional_and_the_largest_fills_the_chart() -> None:
    chart = bar_chart([
        Item("a", "$10", (("paid", 600), ("escrowed", 400))),
        Item("b", "$5", (("paid", 500), ("escrowed", 0))),
        Item("c", "$0.01", (("paid", 0), ("escrowed", 1))),
    ])  # fmt: skip
    a, b, c = chart.rows
    assert [(s.kind, s.x, s.width) for s in a.segments] == [
        ("paid", 0, 240),
        ("escrowed", 240, 160),
    ]
    assert [(s.x, s.width) for s in b.segments] == [(0, 200), (200, 0)]
    assert [(s.x, s.width) for s in c.segments] == [(0, 0), (0, 1)], "what exists is visible"
    assert [r.y for r in chart.rows] == [0, charts.row_height, 2 * charts.row_height]
    assert chart.height == 3 * charts.row_height
    assert chart.width == charts.chart_width
    assert a.text_y == charts.label_baseline
    assert b.bar_y == charts.row_height + charts.bar_top


def test_nothing_to_draw() -> None:
    assert bar_chart([]).rows == ()
    (row,) = bar_chart([Item("a", "$0", (("amount", 0),))]).rows
    assert row.segments[0].width == 0


def test_bad_input_is_a_bug() -> None:
    with pytest.raises(AssertionError):
        bar_chart([Item("a", "", (("amount", -1),))])
    with pytest.raises(AssertionError):
        bar_chart([Item(str(i), "", ()) for i in range(charts.chart_rows_max + 1)])
