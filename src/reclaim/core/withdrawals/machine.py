"""decide, check, evolve and the invariants of the withdrawals core (see the package docstring)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final, NamedTuple, assert_never

from reclaim.core import limits
from reclaim.core.claims.model import SANCTIONED, ClaimsState
from reclaim.core.claims.policy import treatment
from reclaim.core.ledger import (
    EXPIRED,
    PENDING,
    POST_PENDING,
    POSTED,
    TRANSFERS_CREATED,
    VOID_PENDING,
    VOIDED,
    LedgerRejection,
    LedgerState,
    Transfer,
    TransferCode,
    account_id,
    check_ledger,
    evolve_ledger,
    transfer_payload,
)
from reclaim.core.limits import (
    destination_cooling_off_max_seconds,
    destinations_per_creditor_max,
    open_withdrawals_per_creditor_max,
    withdrawal_timeout_max_seconds,
)
from reclaim.core.limits import fee_terms_per_event_max as terms_per_event_max
from reclaim.core.times import format_time, is_time, parse_time
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals.codes import (
    DestinationCode,
    EventCode,
    FeesCode,
    RequestCode,
    SettleCode,
    WithdrawalsRejection,
)
from reclaim.core.withdrawals.fees import fee_minor, schedule_code
from reclaim.core.withdrawals.model import (
    CONFIRMED,
    CREDITOR_PURPOSE,
    CREDITOR_RE,
    DESTINATION_CONFIRMED,
    DESTINATION_ID_RE,
    DESTINATION_PENDING,
    DESTINATION_REMOVED,
    DESTINATION_STATUSES,
    FAILED,
    FAILURE_REASONS,
    HEX64_RE,
    POST_SUFFIX,
    RAIL_ASSETS,
    RAIL_REFERENCE_RE,
    REQUESTED,
    VOID_SUFFIX,
    WITHDRAWAL_ID_RE,
    AddDestination,
    ConfirmDestination,
    ConfirmWithdrawal,
    Decision,
    Destination,
    FailWithdrawal,
    Payload,
    RailTerms,
    RemoveDestination,
    RequestWithdrawal,
    Result,
    SetFees,
    TermsRecord,
    Withdrawal,
    WithdrawalsCommand,
    WithdrawalsState,
    amount_transfer_id,
    destination_id_of,
    fee_transfer_id,
    terms_payload,
)
from reclaim.core.withdrawals.model import EXPIRED as WITHDRAWAL_EXPIRED
from reclaim.core.withdrawals.payloads import (
    CONFIRMED_EVENT,
    DESTINATION_ADDED_EVENT,
    DESTINATION_CONFIRMED_EVENT,
    DESTINATION_REMOVED_EVENT,
    FAILED_EVENT,
    FEES_SET,
    REQUEST_RULE_VERSION,
    REQUESTED_EVENT,
    PayloadError,
    destination_confirm_fields,
    destination_fields,
    destination_remove_fields,
    request_fields,
    settle_fields,
    terms_from_payload,
)

_R = RequestCode
_S = SettleCode
_D = DestinationCode
_DESTINATION_EVENTS: Final = (
    DESTINATION_ADDED_EVENT,
    DESTINATION_CONFIRMED_EVENT,
    DESTINATION_REMOVED_EVENT,
)
#: The prefix of every ledger transfer id a withdrawal event derives; reserved for them.
RESERVED_PREFIX: Final = "wd:"
_WITHDRAWAL_CODE: Final = "withdrawal"
_FEE_CODE: Final = "fee"


# decide -----------------------------------------------------------------------------------------


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
    time = now if isinstance(now, str) else format_time(now)
    assert is_time(time), f"{time!r} is not an event time"
    match command:
        case SetFees():
            return _decide_fees(state, ledger, command)
        case RequestWithdrawal():
            return _decide_request(state, ledger, claims, command, time)
        case ConfirmWithdrawal():
            return _decide_settle(
                state, ledger, CONFIRMED_EVENT, command.withdrawal_id, command.rail_reference,
                time,
            )  # fmt: skip
        case FailWithdrawal():
            return _decide_settle(
                state, ledger, FAILED_EVENT, command.withdrawal_id, command.reason, time
            )
        case AddDestination() | ConfirmDestination() | RemoveDestination():
            return _decide_destination(state, command)
        case _:
            assert_never(command)


def _decide_fees(
    state: WithdrawalsState, ledger: LedgerState, command: SetFees
) -> Decision | WithdrawalsRejection:
    terms = command.terms
    if len(terms) > terms_per_event_max:
        return WithdrawalsRejection(
            EventCode.batch_too_large, None, f"more than {terms_per_event_max} rails"
        )
    codes = _terms_codes(state, ledger, terms)
    for index, code in enumerate(codes):
        if code not in (FeesCode.ok, FeesCode.exists):
            return WithdrawalsRejection(code, index, f"terms of rail {terms[index].rail!r}")
    results = tuple(Result(i, t.rail, c) for i, (t, c) in enumerate(zip(terms, codes, strict=True)))
    changed = sorted(
        (t for t, c in zip(terms, codes, strict=True) if c is FeesCode.ok), key=lambda t: t.rail
    )
    if not changed:
        return Decision([], results)
    items: list[JsonValue] = [terms_payload(t) for t in changed]
    payload: Payload = {"terms": items}
    return Decision([(FEES_SET, payload)], results)


def _decide_request(
    state: WithdrawalsState,
    ledger: LedgerState,
    claims: ClaimsState,
    c: RequestWithdrawal,
    time: str,
) -> Decision | WithdrawalsRejection:
    asked = _Asked(c.withdrawal_id, c.creditor, c.rail, c.asset, c.amount_minor, c.fee_minor,
                   c.beneficiary)  # fmt: skip
    outcome = _request_ladder(state, ledger, claims, asked, time, REQUEST_RULE_VERSION)
    if isinstance(outcome, WithdrawalsRejection):
        if outcome.code is _R.exists:
            return Decision([], (Result(0, c.withdrawal_id, _R.exists),))
        return outcome
    payload: Payload = {
        "withdrawal_id": c.withdrawal_id,
        "creditor": c.creditor,
        "rail": c.rail,
        "asset": c.asset,
        "amount_minor": str(c.amount_minor),
        "fee_minor": str(outcome.fee_minor),
        "beneficiary": c.beneficiary,
    }
    return Decision([(REQUESTED_EVENT, payload)], (Result(0, c.withdrawal_id, _R.ok),))


def _decide_settle(
    state: WithdrawalsState,
    ledger: LedgerState,
    event_type: str,
    withdrawal_id: str,
    second: str,
    time: str,
) -> Decision | WithdrawalsRejection:
    refused = _settle_ladder(state, ledger, event_type, withdrawal_id, second, time)
    if refused is not None:
        if refused.code is _S.exists:
            return Decision([], (Result(0, withdrawal_id, _S.exists),))
        return refused
    name = "rail_reference" if event_type == CONFIRMED_EVENT else "reason"
    payload: Payload = {"withdrawal_id": withdrawal_id, name: second}
    return Decision([(event_type, payload)], (Result(0, withdrawal_id, _S.ok),))


# The ladders ------------------------------------------------------------------------------------


def _terms_codes(
    state: WithdrawalsState, ledger: LedgerState, terms: tuple[RailTerms, ...]
) -> list[FeesCode]:
    """The answer for each rail's terms, in order (a rail twice: the second is duplicated)."""
    codes: list[FeesCode] = []
    seen: set[str] = set()
    for t in terms:
        code = terms_code(ledger, t)
        if code is FeesCode.ok and t.rail in seen:
            code = FeesCode.rail_duplicated
        current = state.terms.get(t.rail)
        if code is FeesCode.ok and current is not None and current.terms == t:
            code = FeesCode.exists
        if code is FeesCode.ok:
            seen.add(t.rail)
        codes.append(code)
    return codes


def terms_code(ledger: LedgerState, t: RailTerms) -> FeesCode:
    """The first fault of a rail's terms against the ledger's accounts, or ``ok``."""
    if t.rail not in RAIL_ASSETS:
        return FeesCode.rail_unknown
    if t.asset != RAIL_ASSETS[t.rail]:
        return FeesCode.asset_not_served_by_rail
    code = schedule_code(t.schedule)
    if code is not FeesCode.ok:
        return code
    if type(t.minimum_minor) is not int or not 0 < t.minimum_minor <= limits.integer_max:
        return FeesCode.minimum_out_of_range
    timeout = t.timeout_seconds
    if type(timeout) is not int or not 0 < timeout <= withdrawal_timeout_max_seconds:
        return FeesCode.timeout_out_of_range
    if not _operator_account(ledger, t.settlement_account, t.asset, "rail_settlement"):
        return FeesCode.settlement_account_invalid
    if not _operator_account(ledger, t.fee_account, t.asset, "fees"):
        return FeesCode.fee_account_invalid
    return FeesCode.ok


def _operator_account(ledger: LedgerState, ident: str, asset: str, purpose: str) -> bool:
    found = ledger.accounts.get(ident)
    return found is not None and found.asset == asset and found.purpose == purpose


class _Asked(NamedTuple):
    """A request as the command or the logged event gives it (``fee_minor`` may be unknown)."""

    withdrawal_id: str
    creditor: str
    rail: str
    asset: str
    amount_minor: int
    fee_minor: int | None
    beneficiary: str


class _Plan(NamedTuple):
    """What an accepted request implies."""

    fee_minor: int
    jurisdiction: str
    transfers: list[JsonValue]
    expires_at: str


def _request_ladder(
    state: WithdrawalsState,
    ledger: LedgerState,
    claims: ClaimsState,
    a: _Asked,
    time: str,
    version: int,
) -> _Plan | WithdrawalsRejection:
    """The first reason the request ``a`` (of event version ``version``) may not be accepted
    at ``time``, or its plan.

    ``exists`` comes back as a rejection too: the caller decides whether it accepts (a command)
    or refuses (a logged event) it.
    """
    code = _request_static(a)
    if code is not _R.ok:
        return _refuse(code, a.withdrawal_id)
    existing = state.withdrawals.get(a.withdrawal_id)
    if existing is not None:
        return _refuse(_compare(a, existing), a.withdrawal_id)
    if version >= REQUEST_RULE_VERSION:
        unusable = destination_refusal(state, a.creditor, a.rail, a.beneficiary, time)
        if unusable is not None:
            return unusable
    if claims.kyc_state(a.creditor) != "approved":
        return _refuse(_R.kyc_not_approved, f"{a.creditor!r}: {claims.kyc_state(a.creditor)}")
    record = state.terms.get(a.rail)
    if record is None:
        return _refuse(_R.rail_not_configured, repr(a.rail))
    terms = record.terms
    allowed = rails_allowed(claims, a.creditor, time[:10])
    if isinstance(allowed, WithdrawalsRejection):
        return allowed
    jurisdiction, rails = allowed
    if a.rail not in rails:
        return _refuse(_R.rail_not_allowed, f"{a.rail!r} does not serve {jurisdiction}")
    if a.amount_minor < terms.minimum_minor:
        return _refuse(_R.amount_below_minimum, f"{a.amount_minor} < {terms.minimum_minor}")
    fee = fee_minor(terms.schedule, a.amount_minor)
    if a.fee_minor is not None and a.fee_minor != fee:
        return _refuse(_R.fee_mismatch, f"the schedule's fee is {fee}, not {a.fee_minor}")
    if a.amount_minor + fee > limits.integer_max:
        return _refuse(_R.fee_out_of_range, "amount + fee exceeds BIGINT")
    if open_count(state, ledger, a.creditor) >= open_withdrawals_per_creditor_max:
        return _refuse(_R.open_withdrawals_exceeded, f"{open_withdrawals_per_creditor_max} open")
    source = ledger.accounts.get(account_id(a.creditor, a.asset, CREDITOR_PURPOSE))
    if source is None:
        return _refuse(_R.account_not_found, f"{a.creditor}/{a.asset}/{CREDITOR_PURPOSE}")
    if source.available_minor < a.amount_minor + fee:
        return _refuse(
            _R.insufficient_funds, f"available {source.available_minor} < {a.amount_minor + fee}"
        )
    expires_at = _deadline(time, terms.timeout_seconds)
    transfers = request_transfers(a.withdrawal_id, a.creditor, a.asset, a.amount_minor, fee,
                                  terms, expires_at)  # fmt: skip
    refused = check_ledger(ledger, TRANSFERS_CREATED, {"atomic": True, "transfers": transfers},
                           time)  # fmt: skip
    if refused is not None:
        return _refuse(_request_code_of(refused), str(refused))
    return _Plan(fee, jurisdiction, transfers, expires_at)


def _request_static(a: _Asked) -> RequestCode:
    if type(a.withdrawal_id) is not str or not WITHDRAWAL_ID_RE.fullmatch(a.withdrawal_id):
        return _R.withdrawal_id_malformed
    if type(a.creditor) is not str or not CREDITOR_RE.fullmatch(a.creditor):
        return _R.creditor_name_invalid
    if a.rail not in RAIL_ASSETS:
        return _R.rail_unknown
    if a.asset != RAIL_ASSETS[a.rail]:
        return _R.asset_not_served_by_rail
    if type(a.amount_minor) is not int or not 0 < a.amount_minor <= limits.integer_max:
        return _R.amount_out_of_range
    if a.fee_minor is not None and (
        type(a.fee_minor) is not int or not 0 <= a.fee_minor <= limits.integer_max
    ):
        return _R.fee_out_of_range
    if type(a.beneficiary) is not str or not HEX64_RE.fullmatch(a.beneficiary):
        return _R.beneficiary_malformed
    return _R.ok


def _compare(a: _Asked, w: Withdrawal) -> RequestCode:
    same = (
        a.creditor == w.creditor
        and a.rail == w.rail
        and a.asset == w.asset
        and a.amount_minor == w.amount_minor
        and a.beneficiary == w.beneficiary
        and (a.fee_minor is None or a.fee_minor == w.fee_minor)
    )
    return _R.exists if same else _R.exists_with_different_fields


def _request_code_of(refused: LedgerRejection) -> RequestCode:
    if refused.code is TransferCode.exceeds_credits:
        return _R.insufficient_funds
    if refused.code is TransferCode.exceeds_debits:
        return _R.rail_funds_insufficient
    return _R.ledger_refused


def _refuse(code: RequestCode | SettleCode | DestinationCode, detail: str) -> WithdrawalsRejection:
    return WithdrawalsRejection(code, None, detail)


def _settle_ladder(
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
        return _refuse(_S.withdrawal_id_malformed, repr(withdrawal_id))
    if confirming and (type(second) is not str or not RAIL_REFERENCE_RE.fullmatch(second)):
        return _refuse(_S.rail_reference_malformed, repr(second))
    if not confirming and second not in FAILURE_REASONS:
        return _refuse(_S.reason_unknown, repr(second))
    w = state.withdrawals.get(withdrawal_id)
    if w is None:
        return _refuse(_S.withdrawal_not_found, repr(withdrawal_id))
    if w.status == CONFIRMED:
        same = confirming and w.rail_reference == second
        return _refuse(_S.exists if same else _S.withdrawal_already_confirmed, w.rail_reference)
    if w.status == FAILED:
        same = not confirming and w.reason == second
        return _refuse(_S.exists if same else _S.withdrawal_already_failed, w.reason)
    pending = ledger.transfers[amount_transfer_id(withdrawal_id)]
    if pending.status == EXPIRED or (pending.expires_at and time >= pending.expires_at):
        return _refuse(_S.withdrawal_expired, f"its reservation expired at {pending.expires_at}")
    transfers = settle_transfers(ledger, withdrawal_id, confirming)
    refused = check_ledger(ledger, TRANSFERS_CREATED, {"atomic": True, "transfers": transfers},
                           time)  # fmt: skip
    if refused is not None:
        return _refuse(_S.ledger_refused, str(refused))
    return None


# Destinations -----------------------------------------------------------------------------------


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
        return _refuse(_R.destination_not_confirmed, f"this {rail} destination is {status}")
    if time < d.usable_from:
        return _refuse(_R.destination_cooling_off, f"usable from {d.usable_from}")
    return None


def live_destinations(state: WithdrawalsState, creditor: str) -> int:
    """Destinations of ``creditor`` that are pending or confirmed (O(its destinations))."""
    return sum(
        1
        for ident in state.destinations_of.get(creditor, ())
        if state.destinations[ident].status != DESTINATION_REMOVED
    )


def _decide_destination(
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
                return _refuse(_D.cooling_off_out_of_range, repr(cooling_off))
            payload = {"destination_id": ident, "cooling_off_seconds": str(cooling_off)}
            kind = DESTINATION_CONFIRMED_EVENT
        case RemoveDestination():
            ident = command.destination_id
            payload = {"destination_id": ident}
            kind = DESTINATION_REMOVED_EVENT
    try:
        refused = _destination_ladder(state, kind, payload)
    except PayloadError as exc:  # a command field of the wrong type
        return WithdrawalsRejection(EventCode.payload_malformed, None, str(exc))
    if refused is not None:
        if refused.code is _D.exists:
            return Decision([], (Result(0, ident, _D.exists),))
        return refused
    return Decision([(kind, payload)], (Result(0, ident, _D.ok),))


def _destination_ladder(
    state: WithdrawalsState, kind: str, payload: Mapping[str, JsonValue]
) -> WithdrawalsRejection | None:
    """The first reason a destination event may not follow ``state``, or None (``exists`` is
    returned as a refusal, for the caller to accept or refuse). ``PayloadError`` on a payload
    of the wrong shape."""
    if kind == DESTINATION_ADDED_EVENT:
        ident, creditor, rail, beneficiary = destination_fields(payload)
        if not CREDITOR_RE.fullmatch(creditor):
            return _refuse(_D.creditor_name_invalid, repr(creditor))
        if rail not in RAIL_ASSETS:
            return _refuse(_D.rail_unknown, repr(rail))
        if not HEX64_RE.fullmatch(beneficiary):
            return _refuse(_D.beneficiary_malformed, "not a 64-hex commitment")
        if ident != destination_id_of(creditor, rail, beneficiary):
            return _refuse(_D.destination_id_mismatch, repr(ident))
        found = state.destinations.get(ident)
        if found is not None and found.status != DESTINATION_REMOVED:
            return _refuse(_D.exists, f"{ident} is {found.status}")
        if live_destinations(state, creditor) >= destinations_per_creditor_max:
            return _refuse(_D.destinations_exceeded, f"{destinations_per_creditor_max} live")
        return None
    if kind == DESTINATION_CONFIRMED_EVENT:
        ident, cooling_off = destination_confirm_fields(payload)
        if not 0 <= cooling_off <= destination_cooling_off_max_seconds:
            return _refuse(_D.cooling_off_out_of_range, f"{cooling_off} s")
        confirming = _destination(state, ident)
        if isinstance(confirming, WithdrawalsRejection):
            return confirming
        if confirming.status == DESTINATION_CONFIRMED:
            return _refuse(_D.exists, f"{ident} is confirmed")
        if confirming.status == DESTINATION_REMOVED:
            return _refuse(_D.destination_removed, ident)
        return None
    ident = destination_remove_fields(payload)
    removing = _destination(state, ident)
    if isinstance(removing, WithdrawalsRejection):
        return removing
    if removing.status == DESTINATION_REMOVED:
        return _refuse(_D.exists, f"{ident} is removed")
    return None


def _destination(state: WithdrawalsState, ident: str) -> Destination | WithdrawalsRejection:
    if not DESTINATION_ID_RE.fullmatch(ident):
        return _refuse(_D.destination_id_malformed, repr(ident))
    found = state.destinations.get(ident)
    if found is None:
        return _refuse(_D.destination_not_found, repr(ident))
    return found


def _evolve_destination(
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
        usable_from = _deadline(time, cooling_off)
        state.destinations[ident] = d._replace(
            status=DESTINATION_CONFIRMED, confirmed_at=time, usable_from=usable_from
        )
    else:
        ident = destination_remove_fields(payload)
        d = state.destinations[ident]
        state.destinations[ident] = d._replace(status=DESTINATION_REMOVED, removed_at=time)
    state.changed.add("destination/" + ident)


# Jurisdiction -----------------------------------------------------------------------------------


def creditor_jurisdictions(claims: ClaimsState, creditor: str) -> tuple[str, ...]:
    """The ISO codes of the creditor's linked claims, sorted and unique."""
    held = claims.links.get(creditor, ())
    return tuple(sorted({claims.claims[claim_id].jurisdiction for claim_id in held}))


def rails_allowed(
    claims: ClaimsState, creditor: str, on_date: str
) -> tuple[str, frozenset[str]] | WithdrawalsRejection:
    """The creditor's jurisdiction (codes joined by ``+``) and the rails the policy in force on
    ``on_date`` allows for it — the **strictest** reading when the linked claims name several
    jurisdictions: any sanctioned one refuses everything, any unlisted one too (a policy that
    says nothing allows no rail), and the rails are those every jurisdiction's entry allows."""
    isos = creditor_jurisdictions(claims, creditor)
    if not isos:
        return _refuse(_R.jurisdiction_unknown, f"{creditor!r} has no linked claim")
    entries = {iso: treatment(claims, iso, on_date) for iso in isos}
    for iso, entry in entries.items():
        if entry is not None and entry.status == SANCTIONED:
            return _refuse(_R.jurisdiction_sanctioned, f"{iso} on {on_date}")
    for iso, entry in entries.items():
        if entry is None:
            return _refuse(_R.jurisdiction_unlisted, f"{iso} on {on_date}")
    rails: frozenset[str] | None = None
    for entry in entries.values():
        assert entry is not None
        own = frozenset(entry.rails)
        rails = own if rails is None else rails & own
    assert rails is not None
    return "+".join(isos), rails


# The derived ledger transfers -------------------------------------------------------------------


def request_transfers(
    withdrawal_id: str,
    creditor: str,
    asset: str,
    amount_minor: int,
    fee: int,
    terms: RailTerms,
    expires_at: str,
) -> list[JsonValue]:
    """The atomic chain a request reserves: the amount to the rail's settlement account and,
    if any, the fee to the fee account, both pending with the rail's timeout."""
    source = account_id(creditor, asset, CREDITOR_PURPOSE)
    refs = {"withdrawal": withdrawal_id}
    timeout = terms.timeout_seconds
    chain = [
        Transfer(amount_transfer_id(withdrawal_id), source, terms.settlement_account, asset,
                 amount_minor, _WITHDRAWAL_CODE, refs, PENDING, "", timeout),
    ]  # fmt: skip
    if fee:
        chain.append(
            Transfer(fee_transfer_id(withdrawal_id), source, terms.fee_account, asset, fee,
                     _FEE_CODE, refs, PENDING, "", timeout)
        )  # fmt: skip
    return [transfer_payload(t, expires_at) for t in chain]


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


def _deadline(time: str, timeout_seconds: int) -> str:
    """``expires_at`` of a reservation made at ``time`` (as the ledger computes it)."""
    return format_time(parse_time(time) + timedelta(seconds=timeout_seconds))


# check ------------------------------------------------------------------------------------------


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
    try:
        if event_type == REQUESTED_EVENT:
            fields = request_fields(payload)
            if version < REQUEST_RULE_VERSION and state.destinations:
                return WithdrawalsRejection(
                    EventCode.event_version_retired, None, "this log uses destinations"
                )
            outcome = _request_ladder(state, ledger, claims, _Asked(*fields), time, version)
            return outcome if isinstance(outcome, WithdrawalsRejection) else None
        if event_type in _DESTINATION_EVENTS:
            return _destination_ladder(state, event_type, payload)
        if event_type in (CONFIRMED_EVENT, FAILED_EVENT):
            second = "rail_reference" if event_type == CONFIRMED_EVENT else "reason"
            withdrawal_id, value = settle_fields(payload, second)
            return _settle_ladder(state, ledger, event_type, withdrawal_id, value, time)
        if event_type == FEES_SET:
            return _check_fees(state, ledger, payload)
    except PayloadError as exc:
        return WithdrawalsRejection(EventCode.payload_malformed, None, str(exc))
    return WithdrawalsRejection(EventCode.event_type_unknown, None, repr(event_type))


def _check_fees(
    state: WithdrawalsState, ledger: LedgerState, payload: Mapping[str, JsonValue]
) -> WithdrawalsRejection | None:
    if payload.keys() != {"terms"}:
        raise PayloadError(f"fields {sorted(payload)} != ['terms']")
    items = payload["terms"]
    if not isinstance(items, list) or not items:
        raise PayloadError("terms is not a non-empty list")
    if len(items) > terms_per_event_max:
        return WithdrawalsRejection(EventCode.batch_too_large, None, f"{len(items)} rails")
    terms: list[RailTerms] = []
    for index, item in enumerate(items):
        try:
            terms.append(terms_from_payload(item))
        except PayloadError as exc:
            return WithdrawalsRejection(EventCode.payload_malformed, index, str(exc))
    for index, code in enumerate(_terms_codes(state, ledger, tuple(terms))):
        if code is not FeesCode.ok:
            return WithdrawalsRejection(code, index, f"terms of rail {terms[index].rail!r}")
    rails = [t.rail for t in terms]
    if rails != sorted(rails):
        raise PayloadError("terms are not sorted by rail")
    return None


# evolve -----------------------------------------------------------------------------------------


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
        _evolve_request(state, ledger, claims, payload, time)
    elif event_type in (CONFIRMED_EVENT, FAILED_EVENT):
        _evolve_settle(state, ledger, event_type, payload, time)
    elif event_type in _DESTINATION_EVENTS:
        _evolve_destination(state, event_type, payload, time)
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


def _evolve_request(
    state: WithdrawalsState,
    ledger: LedgerState,
    claims: ClaimsState,
    payload: Mapping[str, JsonValue],
    time: str,
) -> None:
    ident, creditor, rail, asset, amount, fee, beneficiary = request_fields(payload)
    terms = state.terms[rail].terms
    allowed = rails_allowed(claims, creditor, time[:10])
    assert not isinstance(allowed, WithdrawalsRejection), "checked before evolve"
    expires_at = _deadline(time, terms.timeout_seconds)
    transfers = request_transfers(ident, creditor, asset, amount, fee, terms, expires_at)
    evolve_ledger(ledger, TRANSFERS_CREATED, {"atomic": True, "transfers": transfers}, time)
    state.withdrawals[ident] = Withdrawal(
        ident, creditor, rail, asset, amount, fee, beneficiary, allowed[0], time, expires_at
    )
    state.by_creditor.setdefault(creditor, []).append(ident)
    state.open.setdefault(creditor, set()).add(ident)
    state.changed.add("withdrawal/" + ident)


def _evolve_settle(
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
    if confirming:
        w = w._replace(status=CONFIRMED, settled_at=time, rail_reference=value)
    else:
        w = w._replace(status=FAILED, settled_at=time, reason=value)
    state.withdrawals[ident] = w
    state.open[w.creditor].discard(ident)
    if not state.open[w.creditor]:
        del state.open[w.creditor]
    state.changed.add("withdrawal/" + ident)


# Queries ----------------------------------------------------------------------------------------


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


# invariants -------------------------------------------------------------------------------------


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
        _assert_reservation(ledger, w, amount_transfer_id(ident), w.amount_minor)
        if w.fee_minor:
            _assert_reservation(ledger, w, fee_transfer_id(ident), w.fee_minor)
        else:
            assert fee_transfer_id(ident) not in ledger.transfers, ident
    assert {c: sorted(ids) for c, ids in by_creditor.items()} == {
        c: sorted(ids) for c, ids in state.by_creditor.items()
    }, "by_creditor out of step"
    assert still_open == state.open, "open index out of step"
    _assert_destinations(state)


def _assert_destinations(state: WithdrawalsState) -> None:
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


_STATUS_OF_PENDING: Final = {REQUESTED: (PENDING, EXPIRED), CONFIRMED: (POSTED,),
                             FAILED: (VOIDED,)}  # fmt: skip


def _assert_reservation(ledger: LedgerState, w: Withdrawal, pending_id: str, amount: int) -> None:
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


def deadline_of(requested_at: str, timeout_seconds: int) -> str:
    """Public for the app layer: when a request made at ``requested_at`` expires."""
    return _deadline(requested_at, timeout_seconds)
