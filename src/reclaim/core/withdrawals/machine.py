"""decide, check, evolve and the invariants of the withdrawals core (see the package docstring):
the dispatch to ``terms``, ``requests``, ``settlement`` and ``destinations``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import assert_never

from reclaim.core.claims.model import ClaimsState
from reclaim.core.ledger import (
    LedgerState,
)
from reclaim.core.payload_fields import malformed_as
from reclaim.core.times import event_time, is_time
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals.codes import (
    DestinationCode,
    EventCode,
    FeesCode,
    RequestCode,
    SettleCode,
    WithdrawalsRejection,
)
from reclaim.core.withdrawals.destinations import (
    DESTINATION_EVENTS,
    assert_destinations,
    decide_destination,
    destination_ladder,
    evolve_destination,
)
from reclaim.core.withdrawals.ladders import deadline
from reclaim.core.withdrawals.model import (
    REQUESTED,
    AddDestination,
    ConfirmDestination,
    ConfirmWithdrawal,
    Decision,
    FailWithdrawal,
    RemoveDestination,
    RequestWithdrawal,
    SetFees,
    TermsRecord,
    WithdrawalsCommand,
    WithdrawalsState,
    amount_transfer_id,
    fee_transfer_id,
)
from reclaim.core.withdrawals.payloads import (
    CONFIRMED_EVENT,
    FAILED_EVENT,
    FEES_SET,
    REQUEST_RULE_VERSION,
    REQUESTED_EVENT,
    request_fields,
    settle_fields,
    terms_from_payload,
)
from reclaim.core.withdrawals.requests import Asked, decide_request, evolve_request, request_ladder
from reclaim.core.withdrawals.settlement import (
    assert_reservation,
    decide_settle,
    evolve_settle,
    settle_ladder,
)
from reclaim.core.withdrawals.terms import check_fees, decide_fees, terms_code

_R = RequestCode


_S = SettleCode


_D = DestinationCode


def decide_withdrawals(
    state: WithdrawalsState,
    ledger: LedgerState,
    claims: ClaimsState,
    command: WithdrawalsCommand,
    now: datetime | str,
) -> Decision | WithdrawalsRejection:
    """The events ``command`` implies at ``now`` (a time, or its event-time text), or why not.

    Reads the ledger (balances, the pending transfers) and the claims (KYC, links, policy);
    changes nothing. Every event it returns passes ``check_withdrawals`` at the same time (the
    tests assert it). A ``Decision`` without events is a command already satisfied (``exists``).
    """
    time = event_time(now)
    match command:
        case SetFees():
            return decide_fees(state, ledger, command)
        case RequestWithdrawal():
            return decide_request(state, ledger, claims, command, time)
        case ConfirmWithdrawal():
            return decide_settle(
                state, ledger, CONFIRMED_EVENT, command.withdrawal_id, command.rail_reference,
                time,
            )  # fmt: skip
        case FailWithdrawal():
            return decide_settle(
                state, ledger, FAILED_EVENT, command.withdrawal_id, command.reason, time
            )
        case AddDestination() | ConfirmDestination() | RemoveDestination():
            return decide_destination(state, command)
        case _:
            assert_never(command)


@malformed_as(partial(WithdrawalsRejection, EventCode.payload_malformed, None))
def check_withdrawals(
    state: WithdrawalsState,
    ledger: LedgerState,
    claims: ClaimsState,
    event_type: str,
    payload: Mapping[str, JsonValue],
    time: str,
    version: int = REQUEST_RULE_VERSION,
) -> WithdrawalsRejection | None:
    """The first reason a logged withdrawals event (of schema ``version``) may not follow the
    state at ``time``, or None. The verifier runs this on replay: the same ladders as
    ``decide``, where ``exists`` is a refusal (an event must change something), and the
    ledger's ladder runs on the derived transfers. A ``withdrawal.requested`` of version 1
    replays under its old rule (no destination), but only in a log with no destination yet:
    once the log uses destinations, no request may skip them (``event_version_retired``)."""
    assert is_time(time), f"{time!r} is not an event time"
    if event_type == REQUESTED_EVENT:
        fields = request_fields(payload)
        if version < REQUEST_RULE_VERSION and state.destinations:
            return WithdrawalsRejection(
                EventCode.event_version_retired, None, "this log uses destinations"
            )
        outcome = request_ladder(state, ledger, claims, Asked(*fields), time, version)
        return outcome if isinstance(outcome, WithdrawalsRejection) else None
    if event_type in DESTINATION_EVENTS:
        return destination_ladder(state, event_type, payload)
    if event_type in (CONFIRMED_EVENT, FAILED_EVENT):
        second = "rail_reference" if event_type == CONFIRMED_EVENT else "reason"
        withdrawal_id, value = settle_fields(payload, second)
        return settle_ladder(state, ledger, event_type, withdrawal_id, value, time)
    if event_type == FEES_SET:
        return check_fees(state, ledger, payload)
    return WithdrawalsRejection(EventCode.event_type_unknown, None, repr(event_type))


def evolve_withdrawals(
    state: WithdrawalsState,
    ledger: LedgerState,
    claims: ClaimsState,
    event_type: str,
    payload: Mapping[str, JsonValue],
    time: str,
) -> WithdrawalsState:
    """Apply a checked withdrawals event (logged at ``time``) in place: the withdrawal's record
    and, through ``evolve_ledger``, the ledger transfers it implies. Returns ``state``."""
    if event_type == REQUESTED_EVENT:
        evolve_request(state, ledger, claims, payload, time)
    elif event_type in (CONFIRMED_EVENT, FAILED_EVENT):
        evolve_settle(state, ledger, event_type, payload, time)
    elif event_type in DESTINATION_EVENTS:
        evolve_destination(state, event_type, payload, time)
    elif event_type == FEES_SET:
        items = payload["terms"]
        assert isinstance(items, list)
        for item in items:
            terms = terms_from_payload(item)
            state.terms[terms.rail] = TermsRecord(terms, time)
            state.changed.add("fee_schedule/" + terms.rail)
    else:  # pragma: no cover - check_withdrawals refuses unknown types first
        raise AssertionError(f"evolve_withdrawals: unhandled event type {event_type}")
    return state


def assert_withdrawals_invariants(state: WithdrawalsState, ledger: LedgerState) -> None:
    """Every invariant, recomputed: O(withdrawals + rails). A failure is a bug in reclaim.

    - each rail's terms pass their ladder's static rungs and name open accounts of its asset;
    - each withdrawal's reservations are in the ledger as the request derived them (pending
      ``wd:<id>`` of the amount, ``wd:<id>:fee`` of the fee when positive, from the creditor's
      available account, refs ``{"withdrawal": id}``), and their state matches the
      withdrawal's: requested ⇔ pending or expired, confirmed ⇔ posted whole, failed ⇔ voided;
    - ``by_creditor`` and ``open`` are exactly the indexes of the withdrawals.
    """
    for rail, record in state.terms.items():
        assert record.terms.rail == rail, rail
        assert terms_code(ledger, record.terms) is FeesCode.ok, rail
        assert is_time(record.set_at), rail
    by_creditor: dict[str, list[str]] = {}
    still_open: dict[str, set[str]] = {}
    for ident, w in state.withdrawals.items():
        assert ident == w.id, ident
        by_creditor.setdefault(w.creditor, []).append(ident)
        if w.status == REQUESTED:
            still_open.setdefault(w.creditor, set()).add(ident)
        assert_reservation(ledger, w, amount_transfer_id(ident), w.amount_minor)
        if w.fee_minor:
            assert_reservation(ledger, w, fee_transfer_id(ident), w.fee_minor)
        else:
            assert fee_transfer_id(ident) not in ledger.transfers, ident
    assert {c: sorted(ids) for c, ids in by_creditor.items()} == {
        c: sorted(ids) for c, ids in state.by_creditor.items()
    }, "by_creditor out of step"
    assert still_open == state.open, "open index out of step"
    assert_destinations(state)


def deadline_of(requested_at: str, timeout_seconds: int) -> str:
    """Public for the app layer: when a request made at ``requested_at`` expires."""
    return deadline(requested_at, timeout_seconds)
