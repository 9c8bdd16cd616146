"""Withdrawal destinations (``withdrawal.destination_added``, ``..._confirmed``, ``..._removed``):
their ladder, decision, evolve and invariants, and the rule a request follows (issue 9,
finding 7).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from reclaim.core.limits import (
    destination_cooling_off_max_seconds,
    destinations_per_creditor_max,
)
from reclaim.core.times import is_time
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals.codes import (
    DestinationCode,
    EventCode,
    RequestCode,
    WithdrawalsRejection,
)
from reclaim.core.withdrawals.ladders import deadline, refuse
from reclaim.core.withdrawals.model import (
    CREDITOR_RE,
    DESTINATION_CONFIRMED,
    DESTINATION_ID_RE,
    DESTINATION_PENDING,
    DESTINATION_REMOVED,
    DESTINATION_STATUSES,
    HEX64_RE,
    RAIL_ASSETS,
    AddDestination,
    ConfirmDestination,
    Decision,
    Destination,
    Payload,
    RemoveDestination,
    Result,
    WithdrawalsState,
    destination_id_of,
)
from reclaim.core.withdrawals.payloads import (
    DESTINATION_ADDED_EVENT,
    DESTINATION_CONFIRMED_EVENT,
    DESTINATION_REMOVED_EVENT,
    PayloadError,
    destination_confirm_fields,
    destination_fields,
    destination_remove_fields,
)

DESTINATION_EVENTS: Final = (
    DESTINATION_ADDED_EVENT,
    DESTINATION_CONFIRMED_EVENT,
    DESTINATION_REMOVED_EVENT,
)

_R = RequestCode
_D = DestinationCode


def destination_refusal(
    state: WithdrawalsState, creditor: str, rail: str, beneficiary: str, time: str
) -> WithdrawalsRejection | None:
    """Why ``creditor`` may not be paid at ``beneficiary`` on ``rail`` at ``time``, or None.

    Stops an attacker who holds the creditor's signing key but not its mailbox: a destination
    the proved e-mail did not confirm is refused, and a confirmed one waits its cooling-off, so
    the owner has time to read the mail and react (issue 9, finding 7)."""
    d = state.destinations.get(destination_id_of(creditor, rail, beneficiary))
    if d is None or d.status != DESTINATION_CONFIRMED:
        status = "never added" if d is None else d.status
        return refuse(_R.destination_not_confirmed, f"this {rail} destination is {status}")
    if time < d.usable_from:
        return refuse(_R.destination_cooling_off, f"usable from {d.usable_from}")
    return None


def live_destinations(state: WithdrawalsState, creditor: str) -> int:
    """Destinations of ``creditor`` that are pending or confirmed (O(its destinations))."""
    return sum(
        1
        for ident in state.destinations_of.get(creditor, ())
        if state.destinations[ident].status != DESTINATION_REMOVED
    )


def decide_destination(
    state: WithdrawalsState, command: AddDestination | ConfirmDestination | RemoveDestination
) -> Decision | WithdrawalsRejection:
    payload: Payload
    match command:
        case AddDestination():
            ident = destination_id_of(command.creditor, command.rail, command.beneficiary)
            payload = {"destination_id": ident, "creditor": command.creditor,
                       "rail": command.rail, "beneficiary": command.beneficiary}  # fmt: skip
            kind = DESTINATION_ADDED_EVENT
        case ConfirmDestination():
            ident = command.destination_id
            cooling_off = command.cooling_off_seconds
            if type(cooling_off) is not int:
                return refuse(_D.cooling_off_out_of_range, repr(cooling_off))
            payload = {"destination_id": ident, "cooling_off_seconds": str(cooling_off)}
            kind = DESTINATION_CONFIRMED_EVENT
        case RemoveDestination():
            ident = command.destination_id
            payload = {"destination_id": ident}
            kind = DESTINATION_REMOVED_EVENT
    try:
        refused = destination_ladder(state, kind, payload)
    except PayloadError as exc:  # a command field of the wrong type
        return WithdrawalsRejection(EventCode.payload_malformed, None, str(exc))
    if refused is not None:
        if refused.code is _D.exists:
            return Decision([], (Result(0, ident, _D.exists),))
        return refused
    return Decision([(kind, payload)], (Result(0, ident, _D.ok),))


def destination_ladder(
    state: WithdrawalsState, kind: str, payload: Mapping[str, JsonValue]
) -> WithdrawalsRejection | None:
    """The first reason a destination event may not follow ``state``, or None (``exists`` is
    returned as a refusal, for the caller to accept or refuse). ``PayloadError`` on a payload
    of the wrong shape."""
    if kind == DESTINATION_ADDED_EVENT:
        ident, creditor, rail, beneficiary = destination_fields(payload)
        if not CREDITOR_RE.fullmatch(creditor):
            return refuse(_D.creditor_name_invalid, repr(creditor))
        if rail not in RAIL_ASSETS:
            return refuse(_D.rail_unknown, repr(rail))
        if not HEX64_RE.fullmatch(beneficiary):
            return refuse(_D.beneficiary_malformed, "not a 64-hex commitment")
        if ident != destination_id_of(creditor, rail, beneficiary):
            return refuse(_D.destination_id_mismatch, repr(ident))
        found = state.destinations.get(ident)
        if found is not None and found.status != DESTINATION_REMOVED:
            return refuse(_D.exists, f"{ident} is {found.status}")
        if live_destinations(state, creditor) >= destinations_per_creditor_max:
            return refuse(_D.destinations_exceeded, f"{destinations_per_creditor_max} live")
        return None
    if kind == DESTINATION_CONFIRMED_EVENT:
        ident, cooling_off = destination_confirm_fields(payload)
        if not 0 <= cooling_off <= destination_cooling_off_max_seconds:
            return refuse(_D.cooling_off_out_of_range, f"{cooling_off} s")
        confirming = _destination(state, ident)
        if isinstance(confirming, WithdrawalsRejection):
            return confirming
        if confirming.status == DESTINATION_CONFIRMED:
            return refuse(_D.exists, f"{ident} is confirmed")
        if confirming.status == DESTINATION_REMOVED:
            return refuse(_D.destination_removed, ident)
        return None
    ident = destination_remove_fields(payload)
    removing = _destination(state, ident)
    if isinstance(removing, WithdrawalsRejection):
        return removing
    if removing.status == DESTINATION_REMOVED:
        return refuse(_D.exists, f"{ident} is removed")
    return None


def _destination(state: WithdrawalsState, ident: str) -> Destination | WithdrawalsRejection:
    if not DESTINATION_ID_RE.fullmatch(ident):
        return refuse(_D.destination_id_malformed, repr(ident))
    found = state.destinations.get(ident)
    if found is None:
        return refuse(_D.destination_not_found, repr(ident))
    return found


def evolve_destination(
    state: WithdrawalsState, kind: str, payload: Mapping[str, JsonValue], time: str
) -> None:
    if kind == DESTINATION_ADDED_EVENT:
        ident, creditor, rail, beneficiary = destination_fields(payload)
        if ident not in state.destinations:
            state.destinations_of.setdefault(creditor, []).append(ident)
        state.destinations[ident] = Destination(
            ident, creditor, rail, beneficiary, DESTINATION_PENDING, time
        )
    elif kind == DESTINATION_CONFIRMED_EVENT:
        ident, cooling_off = destination_confirm_fields(payload)
        d = state.destinations[ident]
        usable_from = deadline(time, cooling_off)
        state.destinations[ident] = d._replace(
            status=DESTINATION_CONFIRMED, confirmed_at=time, usable_from=usable_from
        )
    else:
        ident = destination_remove_fields(payload)
        d = state.destinations[ident]
        state.destinations[ident] = d._replace(status=DESTINATION_REMOVED, removed_at=time)
    state.changed.add("destination/" + ident)


def assert_destinations(state: WithdrawalsState) -> None:
    """Each destination's id is derived from its fields, its status is known, a confirmed one
    has its times, each creditor has at most the bound of live ones, and ``destinations_of``
    is exactly the index (O(destinations))."""
    of: dict[str, list[str]] = {}
    for ident, d in state.destinations.items():
        assert ident == d.id == destination_id_of(d.creditor, d.rail, d.beneficiary), ident
        assert d.status in DESTINATION_STATUSES, ident
        assert is_time(d.added_at), ident
        if d.status == DESTINATION_CONFIRMED:
            assert d.added_at <= d.confirmed_at <= d.usable_from, ident
        of.setdefault(d.creditor, []).append(ident)
    assert {c: sorted(i) for c, i in of.items()} == {
        c: sorted(i) for c, i in state.destinations_of.items()
    }, "destinations_of out of step"
    for creditor in state.destinations_of:
        assert live_destinations(state, creditor) <= destinations_per_creditor_max, creditor
