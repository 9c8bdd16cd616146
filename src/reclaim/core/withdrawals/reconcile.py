"""Reconciliation: a bank statement's lines matched to withdrawals — by reference, never guessed.

Theory of operation
-------------------
A statement line (read by ``adapters.files.statements`` from CSV or ISO 20022 camt.053) names
the end-to-end id the payment carried; reclaim makes that id the withdrawal id (SEPA pain.001
``EndToEndId``, the wire's reference), so the bank names the withdrawal back. ``reconcile``
looks every line up **by that reference only** and then demands the **exact amount and
currency**; a line is never matched by amount, date or name, so two withdrawals of the same
amount can never be mistaken for each other. Each line gets exactly one answer:

| kind                | the line                                                 | action          |
| ------------------- | -------------------------------------------------------- | --------------- |
| ``matched``         | a debit for a requested withdrawal, same amount/currency | confirm it      |
| ``returned``        | a credit (a return) for a requested withdrawal, same     | fail it         |
|                     | amount/currency                                          |                 |
| ``already_settled`` | the withdrawal is confirmed (debit) or failed (credit)   | none (re-import)|
|                     | already                                                  |                 |
| ``duplicate``       | the same reference and direction on an earlier line of   | report          |
|                     | this statement                                           |                 |
| ``amount_mismatch`` | a known reference, another amount or currency            | report          |
| ``unknown_reference`` | no withdrawal has this reference (or none is given)    | report          |
| ``unexpected_state``| paid for a failed or expired withdrawal, returned after  | report: the     |
|                     | its confirmation, or returned after it expired           | operator acts   |

Only ``matched`` and ``returned`` lead to events (``withdrawal.confirmed`` with the bank's
reference, ``withdrawal.failed`` with the return reason mapped by ``failure_reason``); every
other line is reported for a person and changes nothing. The matcher is pure: the caller gives
it the withdrawals as they are (``WithdrawalView``), and applies the actions itself.

Known limits: a bank that books several of our payments as one entry without per-transaction
details (no ``TxDtls`` in camt.053) gives one line with no usable reference: it is reported
``unknown_reference``, never split by guessing. Partial payments do not exist on these rails;
a line for part of a withdrawal is an ``amount_mismatch``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple

from reclaim.core.withdrawals.model import CONFIRMED, EXPIRED, FAILED, REQUESTED

MATCHED: Final = "matched"
RETURNED: Final = "returned"
ALREADY_SETTLED: Final = "already_settled"
DUPLICATE: Final = "duplicate"
AMOUNT_MISMATCH: Final = "amount_mismatch"
UNKNOWN_REFERENCE: Final = "unknown_reference"
UNEXPECTED_STATE: Final = "unexpected_state"
#: Every kind of answer, in report order.
KINDS: Final = (
    MATCHED, RETURNED, ALREADY_SETTLED, DUPLICATE, AMOUNT_MISMATCH, UNKNOWN_REFERENCE,
    UNEXPECTED_STATE,
)  # fmt: skip
#: Money left the operator's account / came back into it.
DEBIT: Final = "debit"
CREDIT: Final = "credit"

#: ISO 20022 external return reason codes (``RtrInf/Rsn/Cd``) → ``model.FAILURE_REASONS``;
#: any other code is ``returned_by_bank``.
RETURN_REASONS: Final[Mapping[str, str]] = {
    "AC01": "account_invalid",  # incorrect account number
    "AC02": "account_invalid",  # invalid debtor account number
    "AC03": "account_invalid",  # invalid creditor account number
    "AC04": "account_closed",  # closed account
    "AC06": "account_blocked",  # blocked account
    "AG01": "account_blocked",  # transaction forbidden on this account
    "BE01": "beneficiary_mismatch",  # inconsistent with end customer
    "BE04": "beneficiary_mismatch",  # missing creditor address
    "RR01": "compliance",  # regulatory reason: missing debtor account or identification
    "RR04": "compliance",  # regulatory reason
    "MS02": "rejected_by_rail",  # not specified reason, customer generated
    "MS03": "rejected_by_rail",  # not specified reason, agent generated
    "CUST": "cancelled",  # requested by customer
}


class StatementLine(NamedTuple):
    """One booked movement of the operator's account, as a statement reports it.

    ``line``: 1-based position in the file (CSV data row, or camt.053 transaction in order);
    ``reference``: the end-to-end id (``""`` when the bank gives none); ``amount_minor``: the
    amount, positive, in minor units of ``currency``; ``direction``: ``debit`` (out of the
    operator's account) or ``credit`` (into it: a return, a deposit); ``bank_reference``: the
    bank's own id of the entry; ``return_reason``: the ISO reason code of a return, or ``""``.
    """

    line: int
    reference: str
    amount_minor: int
    currency: str
    direction: str
    booking_date: str
    bank_reference: str = ""
    return_reason: str = ""


class WithdrawalView(NamedTuple):
    """What reconciliation needs of a withdrawal (``status`` as ``status_of`` reads it)."""

    id: str
    status: str
    amount_minor: int
    asset: str


class LineMatch(NamedTuple):
    """The answer for one statement line; ``withdrawal_id`` is ``""`` for unknown references."""

    line: StatementLine
    kind: str
    withdrawal_id: str
    detail: str


def reconcile(
    lines: Sequence[StatementLine], withdrawals: Mapping[str, WithdrawalView]
) -> tuple[LineMatch, ...]:
    """One answer per line, in line order (O(lines)); see the module docstring's table."""
    seen: set[tuple[str, str]] = set()
    answers: list[LineMatch] = []
    for line in lines:
        assert line.direction in (DEBIT, CREDIT), line.direction
        assert type(line.amount_minor) is int, line
        assert line.amount_minor > 0, line
        answers.append(_answer(line, withdrawals, seen))
    return tuple(answers)


def _answer(
    line: StatementLine, withdrawals: Mapping[str, WithdrawalView], seen: set[tuple[str, str]]
) -> LineMatch:
    w = withdrawals.get(line.reference) if line.reference else None
    if w is None:
        why = "no reference" if not line.reference else f"no withdrawal {line.reference!r}"
        return LineMatch(line, UNKNOWN_REFERENCE, "", why)
    key = (line.reference, line.direction)
    if key in seen:
        return LineMatch(line, DUPLICATE, w.id, f"{line.direction} of {w.id} on an earlier line")
    seen.add(key)
    if line.currency != w.asset or line.amount_minor != w.amount_minor:
        detail = f"line {line.amount_minor} {line.currency}, withdrawal {w.amount_minor} {w.asset}"
        return LineMatch(line, AMOUNT_MISMATCH, w.id, detail)
    if line.direction == DEBIT:
        if w.status == REQUESTED:
            return LineMatch(line, MATCHED, w.id, "paid")
        if w.status == CONFIRMED:
            return LineMatch(line, ALREADY_SETTLED, w.id, "confirmed already")
        return LineMatch(line, UNEXPECTED_STATE, w.id, f"paid, but the withdrawal is {w.status}")
    if w.status == REQUESTED:
        return LineMatch(line, RETURNED, w.id, f"returned ({line.return_reason or 'no reason'})")
    if w.status == FAILED:
        return LineMatch(line, ALREADY_SETTLED, w.id, "failed already")
    assert w.status in (CONFIRMED, EXPIRED), w.status
    return LineMatch(line, UNEXPECTED_STATE, w.id, f"returned, but the withdrawal is {w.status}")


def failure_reason(return_reason: str) -> str:
    """The failure reason recorded for a return with this ISO reason code."""
    return RETURN_REASONS.get(return_reason, "returned_by_bank")
