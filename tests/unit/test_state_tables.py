"""The state machines written as tables: the table in each module's docstring is the data.

Each machine's module docstring has a markdown table (rows: a state, columns: what happens), and
the module has the same table as data, which the ladders and the appliers consult:

- withdrawals: ``core/withdrawals/model.py``, ``WITHDRAWAL_TRANSITIONS`` and ``SETTLE_REFUSALS``;
- distribution rounds: ``core/distribution/machine.py``, ``rounds.ROUND_TRANSITIONS``;
- pending ledger transfers: ``core/ledger/model.py``, ``PENDING_TRANSITIONS``.

(The KYC table of ``core/claims/onboarding.py`` is tested the same way, cell by cell, in
``tests/scenarios/test_claims_scenarios.py``.) Each test parses the docstring's table and
compares it, cell by cell, with the data; an edit to one without the other fails here.
"""

from __future__ import annotations

from enum import Enum
from types import ModuleType

from reclaim.core.distribution import machine as distribution_machine
from reclaim.core.distribution import rounds
from reclaim.core.distribution.codes import DistributionCode
from reclaim.core.distribution.payloads import (
    LINES_EXECUTED,
    ROUND_APPROVED,
    ROUND_COMPLETED,
    ROUND_FUNDED,
)
from reclaim.core.ledger import model as ledger_model
from reclaim.core.withdrawals import model as withdrawals_model


def markdown_table(module: ModuleType) -> tuple[list[str], dict[str, list[str]]]:
    """The header and the rows (by their first cell) of the one markdown table of ``module``'s
    docstring; cells stripped of spaces and of ``double back-quotes``."""
    doc = module.__doc__
    assert doc, f"{module.__name__} has no docstring"
    lines = [line.strip() for line in doc.splitlines() if line.strip().startswith("|")]
    assert len(lines) >= 3, f"no markdown table in {module.__name__}'s docstring"

    def cells(line: str) -> list[str]:
        assert line.endswith("|"), line
        return [cell.strip().strip("`") for cell in line[1:-1].split("|")]

    header, rule, *body = (cells(line) for line in lines)
    assert all(set(cell) <= {"-", ":"} and cell for cell in rule), rule
    rows: dict[str, list[str]] = {}
    for row in body:
        assert len(row) == len(header), row
        assert row[0] not in rows, f"row {row[0]!r} twice"
        rows[row[0]] = row[1:]
    return header, rows


def test_the_withdrawal_table_is_the_data() -> None:
    header, rows = markdown_table(withdrawals_model)
    assert header == ["status", "confirmed", "failed", "refused with"]
    columns = header[1:3]
    data = withdrawals_model.WITHDRAWAL_TRANSITIONS
    refusals = withdrawals_model.SETTLE_REFUSALS
    assert list(rows) == list(data) == list(withdrawals_model.STATUSES)
    for status, (*moves, refused) in rows.items():
        documented = {column: cell for column, cell in zip(columns, moves, strict=True) if cell}
        assert documented == dict(data[status]), status
        assert refused == (refusals[status].name if status in refusals else ""), status
        # A row refuses exactly when one of its cells is empty: no cell is left undecided.
        assert (status in refusals) == (len(documented) < len(columns)), status
    assert set(refusals) <= set(data)
    for row in data.values():
        assert set(row) <= set(columns)
        assert set(row.values()) <= set(withdrawals_model.STATUSES)


def _cell(value: str | Enum) -> str:
    """A cell of a data table as the docstring writes it: a status, or a code's name."""
    return value if isinstance(value, str) else value.name


def test_the_pending_transfer_table_is_the_data() -> None:
    header, rows = markdown_table(ledger_model)
    m = ledger_model
    assert header == ["status", m.POST_PENDING, m.VOID_PENDING, m.EXPIRY]
    data = m.PENDING_TRANSITIONS
    assert list(rows) == list(data) == [m.PENDING, m.DUE, m.POSTED, m.VOIDED, m.EXPIRED]
    for status, cells in rows.items():
        assert set(data[status]) == set(header[1:]), status
        assert cells == [_cell(data[status][column]) for column in header[1:]], status
    # Every move ends in a status the ledger stores; only pending and due rows move at all.
    moves = {(row, c): v for row, cs in data.items() for c, v in cs.items() if isinstance(v, str)}
    assert moves == {
        (m.PENDING, m.POST_PENDING): m.POSTED,
        (m.PENDING, m.VOID_PENDING): m.VOIDED,
        (m.DUE, m.EXPIRY): m.EXPIRED,
    }


#: The round table's columns, as the docstring names them.
ROUND_COLUMNS = {
    "funded": ROUND_FUNDED,
    "approved": ROUND_APPROVED,
    "lines_executed": LINES_EXECUTED,
    "completed": ROUND_COMPLETED,
}


def test_the_round_table_is_the_data() -> None:
    header, rows = markdown_table(distribution_machine)
    assert header[0] == "phase"
    assert header[1:] == list(ROUND_COLUMNS)
    data = rounds.ROUND_TRANSITIONS
    assert list(rows) == list(data) == list(rounds.PHASES)
    for phase, cells in rows.items():
        assert set(data[phase]) == set(ROUND_COLUMNS.values()), phase
        for column, cell in zip(header[1:], cells, strict=True):
            value = data[phase][ROUND_COLUMNS[column]]
            if cell in rounds.PHASES:
                assert value == cell, (phase, column)
            else:  # the docstring drops the codes' ``round_`` prefix
                assert value is DistributionCode[f"round_{cell}"], (phase, column)
