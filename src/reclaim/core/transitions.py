"""A state machine written as a table (h11 style), as read-only data.

Rows are the states, columns what may happen; a cell is what follows (a state, or the code of a
refusal), or nothing (``None``: the machine has no such move). Each machine writes its table in
its module docstring too, and a test compares the two (``tests/unit/test_state_tables.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

V = TypeVar("V")


def transition_table(
    columns: tuple[str, ...], rows: Mapping[str, tuple[V | None, ...]]
) -> Mapping[str, Mapping[str, V]]:
    """``rows`` (state -> one cell per column) as state -> {column -> cell}, read-only; empty
    (``None``) cells are left out."""
    table: dict[str, Mapping[str, V]] = {}
    for state, cells in rows.items():
        assert len(cells) == len(columns), (state, cells)
        moves = {
            column: cell for column, cell in zip(columns, cells, strict=True) if cell is not None
        }
        table[state] = MappingProxyType(moves)
    return MappingProxyType(table)
