"""Reconciliation: every kind of answer of the pure matcher, that it never matches by amount, and
the sample camt.053 reconciled by the service against a real log (confirmations and a failure
applied, everything else reported and left alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from reclaim.adapters.files.statements import read_statement
from reclaim.core.withdrawals.reconcile import (
    ALREADY_SETTLED,
    AMOUNT_MISMATCH,
    DUPLICATE,
    KINDS,
    MATCHED,
    RETURNED,
    UNEXPECTED_STATE,
    UNKNOWN_REFERENCE,
    StatementLine,
    WithdrawalView,
    failure_reason,
    reconcile,
)

DATA: Final = Path(__file__).resolve().parents[1] / "data" / "withdrawals"
DAY: Final = "2025-06-04"
VIEWS: Final = {
    "W1": WithdrawalView("W1", "requested", 250_000, "EUR"),
    "W2": WithdrawalView("W2", "requested", 250_000, "EUR"),  # the same amount as W1
    "W3": WithdrawalView("W3", "confirmed", 10_000, "EUR"),
    "W4": WithdrawalView("W4", "failed", 10_000, "EUR"),
    "W5": WithdrawalView("W5", "expired", 10_000, "EUR"),
    "W6": WithdrawalView("W6", "requested", 50_000, "USD"),
}


def line(number: int, reference: str, amount: int, direction: str = "debit",
         currency: str = "EUR", reason: str = "") -> StatementLine:  # fmt: skip
    return StatementLine(
        number, reference, amount, currency, direction, DAY, f"BK-{number}", reason
    )


#: (line, kind, withdrawal id)
TABLE: Final = (
    (line(1, "W1", 250_000), MATCHED, "W1"),
    (line(2, "W1", 250_000), DUPLICATE, "W1"),
    (line(3, "W2", 250_000, "credit", reason="AC04"), RETURNED, "W2"),
    (line(4, "W3", 10_000), ALREADY_SETTLED, "W3"),
    (line(5, "W4", 10_000, "credit"), ALREADY_SETTLED, "W4"),
    (line(6, "W4", 10_000), UNEXPECTED_STATE, "W4"),  # paid although failed
    (line(7, "W5", 10_000), UNEXPECTED_STATE, "W5"),  # paid although expired
    (line(8, "W3", 10_000, "credit"), UNEXPECTED_STATE, "W3"),  # returned after confirmation
    (line(9, "W6", 50_001, currency="USD"), AMOUNT_MISMATCH, "W6"),
    (line(10, "W6", 50_000, currency="EUR"), DUPLICATE, "W6"),  # W6's debit was seen on line 9
    (line(11, "W9", 250_000), UNKNOWN_REFERENCE, ""),
    (line(12, "", 250_000), UNKNOWN_REFERENCE, ""),  # the amount of W1 and W2: never guessed
)


def test_every_kind() -> None:
    answers = reconcile([row for row, _, _ in TABLE], VIEWS)
    assert [(a.line.line, a.kind, a.withdrawal_id) for a in answers] == [
        (row.line, kind, ident) for row, kind, ident in TABLE
    ]
    assert {kind for _, kind, _ in TABLE} == set(KINDS)
    details = {a.line.line: a.detail for a in answers}
    assert details[9] == "line 50001 USD, withdrawal 50000 USD"
    assert details[11] == "no withdrawal 'W9'"
    assert details[12] == "no reference"
    assert details[6] == "paid, but the withdrawal is failed"


def test_currency_mismatch_is_an_amount_mismatch() -> None:
    (answer,) = reconcile([line(1, "W6", 50_000, currency="EUR")], VIEWS)
    assert (answer.kind, answer.detail) == (AMOUNT_MISMATCH, "line 50000 EUR, withdrawal 50000 USD")


def test_a_reference_is_matched_once_per_direction() -> None:
    """A payment and its later return on one statement are two facts, not a duplicate."""
    answers = reconcile([line(1, "W1", 250_000), line(2, "W1", 250_000, "credit")], VIEWS)
    assert [a.kind for a in answers] == [MATCHED, RETURNED]


@pytest.mark.parametrize(
    ("code", "reason"),
    [("AC01", "account_invalid"), ("AC04", "account_closed"), ("AC06", "account_blocked"),
     ("BE04", "beneficiary_mismatch"), ("MS03", "rejected_by_rail"), ("CUST", "cancelled"),
     ("RR04", "compliance"), ("AM05", "returned_by_bank"), ("", "returned_by_bank")],
)  # fmt: skip
def test_return_reasons(code: str, reason: str) -> None:
    assert failure_reason(code) == reason


def test_the_sample_statement_against_its_withdrawals() -> None:
    views = {
        "W0001": WithdrawalView("W0001", "requested", 250_000, "EUR"),
        "W0002": WithdrawalView("W0002", "requested", 6_000_000, "EUR"),
        "W0003": WithdrawalView("W0003", "requested", 200_000, "EUR"),
        "W0004": WithdrawalView("W0004", "requested", 10_000, "EUR"),
        "W0005": WithdrawalView("W0005", "requested", 20_000, "EUR"),
    }
    for name in ("camt053-001-02.xml", "statement.csv"):
        answers = reconcile(read_statement(DATA / name), views)
        assert [(a.kind, a.withdrawal_id) for a in answers] == [
            (MATCHED, "W0001"), (AMOUNT_MISMATCH, "W0002"), (UNKNOWN_REFERENCE, ""),
            (RETURNED, "W0003"), (MATCHED, "W0004"), (MATCHED, "W0005"),
            (UNKNOWN_REFERENCE, ""), (DUPLICATE, "W0001"),
        ], name  # fmt: skip
