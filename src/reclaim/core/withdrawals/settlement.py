"""Settling a withdrawal (``withdrawal.confirmed``, ``withdrawal.failed``): the settle ladder on
``WITHDRAWAL_TRANSITIONS``, the ledger chain that posts or voids the reservations, its evolve,
and what the reservations say (status, open count, the reserved ``wd:`` namespace).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from reclaim.core.ledger import (
    EXPIRED,
    PENDING,
    POST_PENDING,
    POSTED,
    TRANSFERS_CREATED,
    VOID_PENDING,
    VOIDED,
    LedgerState,
    Transfer,
    account_id,
    check_ledger,
    evolve_ledger,
    transfer_payload,
)
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals.codes import (
    SettleCode,
    WithdrawalsRejection,
)
from reclaim.core.withdrawals.ladders import refuse
from reclaim.core.withdrawals.model import (
    CONFIRMED,
    CREDITOR_PURPOSE,
    FAILED,
    FAILURE_REASONS,
    POST_SUFFIX,
    RAIL_REFERENCE_RE,
    REQUESTED,
    SETTLE_REFUSALS,
    VOID_SUFFIX,
    WITHDRAWAL_ID_RE,
    WITHDRAWAL_TRANSITIONS,
    Decision,
    Payload,
    Result,
    Withdrawal,
    WithdrawalsState,
    amount_transfer_id,
    fee_transfer_id,
)
from reclaim.core.withdrawals.model import EXPIRED as WITHDRAWAL_EXPIRED
from reclaim.core.withdrawals.payloads import (
    CONFIRMED_EVENT,
    settle_fields,
)

#: The prefix of every ledger transfer id a withdrawal event derives; reserved for them.
RESERVED_PREFIX: Final = "wd:"

_S = SettleCode


def decide_settle(
    state: WithdrawalsState,
    ledger: LedgerState,
    event_type: str,
    withdrawal_id: str,
    second: str,
    time: str,
) -> Decision | WithdrawalsRejection:
    refused = settle_ladder(state, ledger, event_type, withdrawal_id, second, time)
    if refused is not None:
        if refused.code is _S.exists:
            return Decision([], (Result(0, withdrawal_id, _S.exists),))
        return refused
    name = "rail_reference" if event_type == CONFIRMED_EVENT else "reason"
    payload: Payload = {"withdrawal_id": withdrawal_id, name: second}
    return Decision([(event_type, payload)], (Result(0, withdrawal_id, _S.ok),))


def settle_ladder(
    state: WithdrawalsState,
    ledger: LedgerState,
    event_type: str,
    withdrawal_id: str,
    second: str,
    time: str,
) -> WithdrawalsRejection | None:
    """The first reason a confirmation (``second``: the rail reference) or a failure (``second``:
    the reason) may not be recorded at ``time``, or ``None``. ``exists`` is returned as a
    rejection, for the caller to accept or refuse."""
    confirming = event_type == CONFIRMED_EVENT
    if type(withdrawal_id) is not str or not WITHDRAWAL_ID_RE.fullmatch(withdrawal_id):
        return refuse(_S.withdrawal_id_malformed, repr(withdrawal_id))
    if confirming and (type(second) is not str or not RAIL_REFERENCE_RE.fullmatch(second)):
        return refuse(_S.rail_reference_malformed, repr(second))
    if not confirming and second not in FAILURE_REASONS:
        return refuse(_S.reason_unknown, repr(second))
    w = state.withdrawals.get(withdrawal_id)
    if w is None:
        return refuse(_S.withdrawal_not_found, repr(withdrawal_id))
    status, recorded = _row_of(w, ledger, time)
    outcome = CONFIRMED if confirming else FAILED
    if outcome not in WITHDRAWAL_TRANSITIONS[status]:
        same = status == outcome and recorded == second
        return refuse(_S.exists if same else SETTLE_REFUSALS[status], recorded)
    transfers = settle_transfers(ledger, withdrawal_id, confirming)
    refused = check_ledger(ledger, TRANSFERS_CREATED, {"atomic": True, "transfers": transfers},
                           time)  # fmt: skip
    if refused is not None:
        return refuse(_S.ledger_refused, str(refused))
    return None


def _row_of(w: Withdrawal, ledger: LedgerState, time: str) -> tuple[str, str]:
    """The withdrawal's row of ``WITHDRAWAL_TRANSITIONS`` at ``time``, and what a refusal from
    it says: the recorded rail reference or reason, or when the reservation expired."""
    if w.status == CONFIRMED:
        return CONFIRMED, w.rail_reference
    if w.status == FAILED:
        return FAILED, w.reason
    pending = ledger.transfers[amount_transfer_id(w.id)]
    if pending.status == EXPIRED or (pending.expires_at and time >= pending.expires_at):
        return WITHDRAWAL_EXPIRED, f"its reservation expired at {pending.expires_at}"
    return REQUESTED, ""


def settle_transfers(ledger: LedgerState, withdrawal_id: str, post: bool) -> list[JsonValue]:
    """The atomic chain that posts (confirmed) or voids (failed) a withdrawal's reservations,
    with every field filled in from the pending transfers."""
    chain: list[JsonValue] = []
    for pending_id in (amount_transfer_id(withdrawal_id), fee_transfer_id(withdrawal_id)):
        record = ledger.transfers.get(pending_id)
        if record is None:  # no fee reserved
            continue
        p = record.transfer
        kind, suffix = (POST_PENDING, POST_SUFFIX) if post else (VOID_PENDING, VOID_SUFFIX)
        t = Transfer(pending_id + suffix, p.debit_account_id, p.credit_account_id, p.asset,
                     p.amount_minor, p.code, dict(p.refs), kind, pending_id, 0)  # fmt: skip
        chain.append(transfer_payload(t, ""))
    return chain


def evolve_settle(
    state: WithdrawalsState,
    ledger: LedgerState,
    event_type: str,
    payload: Mapping[str, JsonValue],
    time: str,
) -> None:
    confirming = event_type == CONFIRMED_EVENT
    ident, value = settle_fields(payload, "rail_reference" if confirming else "reason")
    transfers = settle_transfers(ledger, ident, post=confirming)
    evolve_ledger(ledger, TRANSFERS_CREATED, {"atomic": True, "transfers": transfers}, time)
    w = state.withdrawals[ident]
    following = WITHDRAWAL_TRANSITIONS[w.status][CONFIRMED if confirming else FAILED]
    if confirming:
        w = w._replace(status=following, settled_at=time, rail_reference=value)
    else:
        w = w._replace(status=following, settled_at=time, reason=value)
    state.withdrawals[ident] = w
    state.open[w.creditor].discard(ident)
    if not state.open[w.creditor]:
        del state.open[w.creditor]
    state.changed.add("withdrawal/" + ident)


def status_of(state: WithdrawalsState, ledger: LedgerState, withdrawal_id: str) -> str:
    """The withdrawal's status as a creditor reads it: what its events recorded, or ``expired``
    once the ledger's sweep expired its reservation."""
    w = state.withdrawals[withdrawal_id]
    if w.status == REQUESTED and ledger.transfers[amount_transfer_id(w.id)].status == EXPIRED:
        return WITHDRAWAL_EXPIRED
    return w.status


def open_count(state: WithdrawalsState, ledger: LedgerState, creditor: str) -> int:
    """Withdrawals of ``creditor`` whose funds are still reserved (O(its open ones))."""
    return sum(
        1
        for ident in state.open.get(creditor, ())
        if ledger.transfers[amount_transfer_id(ident)].status == PENDING
    )


def reserved_transfer(transfers: list[Transfer] | list[JsonValue]) -> str | None:
    """The first transfer (id or pending id) in the ``wd:`` namespace of withdrawal events, among
    transfers created by a plain ledger command or event; ``None`` if there is none.

    The shell refuses such a ledger command or event: a withdrawal's reservations are posted or
    voided only by its own events (or expired by the ledger's sweep), so its status and its
    transfers cannot disagree.
    """
    for item in transfers:
        if isinstance(item, Transfer):
            ids = (item.id, item.pending_id)
        elif isinstance(item, dict):
            ids = (str(item.get("id", "")), str(item.get("pending_id", "")))
        else:
            continue
        for ident in ids:
            if ident.startswith(RESERVED_PREFIX):
                return ident
    return None


_STATUS_OF_PENDING: Final = {REQUESTED: (PENDING, EXPIRED), CONFIRMED: (POSTED,),
                             FAILED: (VOIDED,)}  # fmt: skip


def assert_reservation(ledger: LedgerState, w: Withdrawal, pending_id: str, amount: int) -> None:
    record = ledger.transfers.get(pending_id)
    assert record is not None, f"{w.id}: no transfer {pending_id}"
    t = record.transfer
    assert t.kind == PENDING, pending_id
    assert t.amount_minor == amount, pending_id
    assert t.asset == w.asset, pending_id
    assert t.debit_account_id == account_id(w.creditor, w.asset, CREDITOR_PURPOSE), pending_id
    assert dict(t.refs) == {"withdrawal": w.id}, pending_id
    assert record.expires_at == w.expires_at, pending_id
    assert record.status in _STATUS_OF_PENDING[w.status], f"{pending_id}: {record.status}"
    if w.status == CONFIRMED:
        assert record.posted_minor == amount, pending_id
