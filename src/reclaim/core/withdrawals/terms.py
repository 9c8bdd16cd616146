"""The rails' terms (``withdrawal.fees_set``): the ladder of one rail's terms against the
ledger's accounts, the decision of ``SetFees`` and the check of a logged event.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from reclaim.core import limits
from reclaim.core.ledger import (
    LedgerState,
)
from reclaim.core.limits import fee_terms_per_event_max as terms_per_event_max
from reclaim.core.limits import (
    withdrawal_timeout_max_seconds,
)
from reclaim.core.payload_fields import decode_items
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals.codes import (
    EventCode,
    FeesCode,
    WithdrawalsRejection,
)
from reclaim.core.withdrawals.fees import schedule_code
from reclaim.core.withdrawals.model import (
    RAIL_ASSETS,
    Decision,
    Payload,
    RailTerms,
    Result,
    SetFees,
    WithdrawalsState,
    terms_payload,
)
from reclaim.core.withdrawals.payloads import (
    FEES_SET,
    PayloadError,
    terms_from_payload,
)


def decide_fees(
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


def check_fees(
    state: WithdrawalsState, ledger: LedgerState, payload: Mapping[str, JsonValue]
) -> WithdrawalsRejection | None:
    if payload.keys() != {"terms"}:
        raise PayloadError(f"fields {sorted(payload)} != ['terms']")
    items = payload["terms"]
    if not isinstance(items, list) or not items:
        raise PayloadError("terms is not a non-empty list")
    if len(items) > terms_per_event_max:
        return WithdrawalsRejection(EventCode.batch_too_large, None, f"{len(items)} rails")
    malformed = partial(WithdrawalsRejection, EventCode.payload_malformed)
    terms = decode_items(items, terms_from_payload, malformed)
    if isinstance(terms, WithdrawalsRejection):
        return terms
    for index, code in enumerate(_terms_codes(state, ledger, tuple(terms))):
        if code is not FeesCode.ok:
            return WithdrawalsRejection(code, index, f"terms of rail {terms[index].rail!r}")
    rails = [t.rail for t in terms]
    if rails != sorted(rails):
        raise PayloadError("terms are not sorted by rail")
    return None
