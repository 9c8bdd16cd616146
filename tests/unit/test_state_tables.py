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

from datetime import UTC, datetime, timedelta
from enum import Enum
from types import ModuleType
from typing import Any

import pytest

from reclaim.core.distribution import machine as distribution_machine
from reclaim.core.distribution import rounds
from reclaim.core.distribution.codes import DistributionCode
from reclaim.core.distribution.payloads import (
    LINES_EXECUTED,
    ROUND_APPROVED,
    ROUND_COMPLETED,
    ROUND_FUNDED,
)
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    PENDING_EXPIRED,
    Account,
    CreateTransfers,
    ExpirePending,
    LedgerRejection,
    LedgerState,
    OpenAccounts,
    Transfer,
    check_ledger,
    evolve_ledger,
)
from reclaim.core.ledger import model as ledger_model
from reclaim.core.times import format_time
from reclaim.core.withdrawals import model as withdrawals_model
from tests.support.core_harness import LEDGER, run_subcore


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


# The ledger follows its pending-transfer table, cell by cell ----------------------------------

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
BANK = "operator/USD/rail_settlement"
ALICE = "alice/USD/creditor_available"
TIMEOUT_SECONDS = 60
#: How a pending transfer ``p`` (alice -> bank, 100, a 60 s timeout, made at T0) is brought to
#: each row, and the second the column's transfer or sweep then comes at.
ROWS: dict[str, tuple[tuple[Any, int] | None, int]] = {
    ledger_model.PENDING: (None, 1),
    ledger_model.DUE: (None, TIMEOUT_SECONDS),
    ledger_model.POSTED: ((Transfer("s", "", "", "", 100, "withdrawal", kind="post_pending",
                                    pending_id="p"), 1), 2),
    ledger_model.VOIDED: ((Transfer("s", "", "", "", 0, "withdrawal", kind="void_pending",
                                    pending_id="p"), 1), 2),
    ledger_model.EXPIRED: ((ExpirePending(), TIMEOUT_SECONDS), TIMEOUT_SECONDS + 1),
}  # fmt: skip


def _run(ledger: LedgerState, command: object, second: int) -> Any:
    when = T0 + timedelta(seconds=second)
    return run_subcore(LEDGER, ledger, command, when, format_time(when), [])


def _ledger_in_row(row: str) -> LedgerState:
    ledger = LedgerState()
    accounts = (Account.of("operator", "USD", "rail_settlement",
                           frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})),
                Account.of("alice", "USD", "creditor_available",
                           frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})))  # fmt: skip
    _run(ledger, OpenAccounts(accounts), 0)
    _run(ledger, CreateTransfers((Transfer("d", BANK, ALICE, "USD", 1000, "deposit"),)), 0)
    reserve = Transfer("p", ALICE, BANK, "USD", 100, "withdrawal", kind="pending",
                       timeout_seconds=TIMEOUT_SECONDS)  # fmt: skip
    _run(ledger, CreateTransfers((reserve,)), 0)
    setup, _ = ROWS[row]
    if setup is not None:
        command, second = setup
        if isinstance(command, Transfer):
            command = CreateTransfers((command,))
        _run(ledger, command, second)
    assert ledger.transfers["p"].status == (
        ledger_model.PENDING if row == ledger_model.DUE else row
    )
    return ledger


@pytest.mark.parametrize("row", list(ledger_model.PENDING_TRANSITIONS))
@pytest.mark.parametrize("column", [ledger_model.POST_PENDING, ledger_model.VOID_PENDING,
                                    ledger_model.EXPIRY])  # fmt: skip
def test_the_ledger_follows_the_pending_transfer_table(row: str, column: str) -> None:
    """Each cell of ``PENDING_TRANSITIONS``: the post, void or sweep of ``p`` in that row is
    refused with the cell's code, or accepted and moves ``p`` to the cell's status."""
    ledger = _ledger_in_row(row)
    _, second = ROWS[row]
    when = format_time(T0 + timedelta(seconds=second))
    cell = ledger_model.PENDING_TRANSITIONS[row][column]
    if column == ledger_model.EXPIRY:
        refused = check_ledger(ledger, PENDING_EXPIRED, {"transfers": ["p"]}, when)
        if isinstance(cell, str):
            assert refused is None
            evolve_ledger(ledger, PENDING_EXPIRED, {"transfers": ["p"]}, when)
        else:
            assert isinstance(refused, LedgerRejection)
            assert refused.code is cell
    else:
        amount = 100 if column == ledger_model.POST_PENDING else 0
        settle = Transfer("x", "", "", "", amount, "withdrawal", kind=column, pending_id="p")
        decision = _run(ledger, CreateTransfers((settle,)), second)
        (result,) = decision.results
        assert result.code.name == ("ok" if isinstance(cell, str) else cell.name)
    if isinstance(cell, str):
        assert ledger.transfers["p"].status == cell
