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

from types import ModuleType

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
    for moves in data.values():
        assert set(moves) <= set(columns)
        assert set(moves.values()) <= set(withdrawals_model.STATUSES)
