"""Withdrawal requests (``withdrawal.requested``): the request ladder, the jurisdiction's rails,
the ledger reservations a request derives, and its evolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NamedTuple

from reclaim.core import limits
from reclaim.core.claims.model import SANCTIONED, ClaimsState
from reclaim.core.claims.policy import treatment
from reclaim.core.ledger import (
    PENDING,
    TRANSFERS_CREATED,
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
    open_withdrawals_per_creditor_max,
)
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals.codes import (
    RequestCode,
    WithdrawalsRejection,
)
from reclaim.core.withdrawals.destinations import destination_refusal
from reclaim.core.withdrawals.fees import fee_minor
from reclaim.core.withdrawals.ladders import deadline, refuse
from reclaim.core.withdrawals.model import (
    CREDITOR_PURPOSE,
    CREDITOR_RE,
    HEX64_RE,
    RAIL_ASSETS,
    WITHDRAWAL_ID_RE,
    Decision,
    Payload,
    RailTerms,
    RequestWithdrawal,
    Result,
    Withdrawal,
    WithdrawalsState,
    amount_transfer_id,
    fee_transfer_id,
)
from reclaim.core.withdrawals.payloads import (
    REQUEST_RULE_VERSION,
    REQUESTED_EVENT,
    request_fields,
)
from reclaim.core.withdrawals.settlement import open_count

_WITHDRAWAL_CODE: Final = "withdrawal"

_R = RequestCode


_FEE_CODE: Final = "fee"


def decide_request(
    state: WithdrawalsState,
    ledger: LedgerState,
    claims: ClaimsState,
    c: RequestWithdrawal,
    time: str,
) -> Decision | WithdrawalsRejection:
    asked = Asked(c.withdrawal_id, c.creditor, c.rail, c.asset, c.amount_minor, c.fee_minor,
                   c.beneficiary)  # fmt: skip
    outcome = request_ladder(state, ledger, claims, asked, time, REQUEST_RULE_VERSION)
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


class Asked(NamedTuple):
    """A request as the command or the logged event gives it (``fee_minor`` may be unknown)."""

    withdrawal_id: str
    creditor: str
    rail: str
    asset: str
    amount_minor: int
    fee_minor: int | None
    beneficiary: str


class Plan(NamedTuple):
    """What an accepted request implies."""

    fee_minor: int
    jurisdiction: str
    transfers: list[JsonValue]
    expires_at: str


def request_ladder(
    state: WithdrawalsState,
    ledger: LedgerState,
    claims: ClaimsState,
    a: Asked,
    time: str,
    version: int,
) -> Plan | WithdrawalsRejection:
    """The first reason the request ``a`` (of event version ``version``) may not be accepted
    at ``time``, or its plan.

    ``exists`` comes back as a rejection too: the caller decides whether it accepts (a command)
    or refuses (a logged event) it.
    """
    code = _request_static(a)
    if code is not _R.ok:
        return refuse(code, a.withdrawal_id)
    existing = state.withdrawals.get(a.withdrawal_id)
    if existing is not None:
        return refuse(_compare(a, existing), a.withdrawal_id)
    if version >= REQUEST_RULE_VERSION:
        unusable = destination_refusal(state, a.creditor, a.rail, a.beneficiary, time)
        if unusable is not None:
            return unusable
    if claims.kyc_state(a.creditor) != "approved":
        return refuse(_R.kyc_not_approved, f"{a.creditor!r}: {claims.kyc_state(a.creditor)}")
    record = state.terms.get(a.rail)
    if record is None:
        return refuse(_R.rail_not_configured, repr(a.rail))
    terms = record.terms
    allowed = rails_allowed(claims, a.creditor, time[:10])
    if isinstance(allowed, WithdrawalsRejection):
        return allowed
    jurisdiction, rails = allowed
    if a.rail not in rails:
        return refuse(_R.rail_not_allowed, f"{a.rail!r} does not serve {jurisdiction}")
    if a.amount_minor < terms.minimum_minor:
        return refuse(_R.amount_below_minimum, f"{a.amount_minor} < {terms.minimum_minor}")
    fee = fee_minor(terms.schedule, a.amount_minor)
    if a.fee_minor is not None and a.fee_minor != fee:
        return refuse(_R.fee_mismatch, f"the schedule's fee is {fee}, not {a.fee_minor}")
    if a.amount_minor + fee > limits.integer_max:
        return refuse(_R.fee_out_of_range, "amount + fee exceeds BIGINT")
    if open_count(state, ledger, a.creditor) >= open_withdrawals_per_creditor_max:
        return refuse(_R.open_withdrawals_exceeded, f"{open_withdrawals_per_creditor_max} open")
    source = ledger.accounts.get(account_id(a.creditor, a.asset, CREDITOR_PURPOSE))
    if source is None:
        return refuse(_R.account_not_found, f"{a.creditor}/{a.asset}/{CREDITOR_PURPOSE}")
    if source.available_minor < a.amount_minor + fee:
        return refuse(
            _R.insufficient_funds, f"available {source.available_minor} < {a.amount_minor + fee}"
        )
    expires_at = deadline(time, terms.timeout_seconds)
    transfers = request_transfers(a.withdrawal_id, a.creditor, a.asset, a.amount_minor, fee,
                                  terms, expires_at)  # fmt: skip
    refused = check_ledger(ledger, TRANSFERS_CREATED, {"atomic": True, "transfers": transfers},
                           time)  # fmt: skip
    if refused is not None:
        return refuse(_request_code_of(refused), str(refused))
    return Plan(fee, jurisdiction, transfers, expires_at)


def _request_static(a: Asked) -> RequestCode:
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


def _compare(a: Asked, w: Withdrawal) -> RequestCode:
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
        return refuse(_R.jurisdiction_unknown, f"{creditor!r} has no linked claim")
    entries = {iso: treatment(claims, iso, on_date) for iso in isos}
    for iso, entry in entries.items():
        if entry is not None and entry.status == SANCTIONED:
            return refuse(_R.jurisdiction_sanctioned, f"{iso} on {on_date}")
    for iso, entry in entries.items():
        if entry is None:
            return refuse(_R.jurisdiction_unlisted, f"{iso} on {on_date}")
    rails: frozenset[str] | None = None
    for entry in entries.values():
        assert entry is not None
        own = frozenset(entry.rails)
        rails = own if rails is None else rails & own
    assert rails is not None
    return "+".join(isos), rails


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


def evolve_request(
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
    expires_at = deadline(time, terms.timeout_seconds)
    transfers = request_transfers(ident, creditor, asset, amount, fee, terms, expires_at)
    evolve_ledger(ledger, TRANSFERS_CREATED, {"atomic": True, "transfers": transfers}, time)
    state.withdrawals[ident] = Withdrawal(
        ident, creditor, rail, asset, amount, fee, beneficiary, allowed[0], time, expires_at
    )
    state.by_creditor.setdefault(creditor, []).append(ident)
    state.open.setdefault(creditor, set()).add(ident)
    state.changed.add("withdrawal/" + ident)
