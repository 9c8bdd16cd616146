"""The ladders of escrow: a claim's escrow released to its holder, or forfeited to the pool.

Each move has a derived transfer id (``er:<claim>:<n>``, ``ef:<claim>:<n>``), so a retried one
is refused, never applied twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from reclaim.core.claims.model import (
    OPEN,
    REFERENCE_RE,
    is_text,
)
from reclaim.core.claims.policy import treatment
from reclaim.core.distribution.codes import DistributionCode as C
from reclaim.core.distribution.codes import DistributionRejection
from reclaim.core.distribution.commands import Context, ledger_refusal, refuse
from reclaim.core.distribution.payees import (
    CREDITOR,
    RELEASE_REASONS,
    USD,
    classify,
    current_holder,
    escrow_account_id,
    residence_on,
)
from reclaim.core.distribution.rounds import pool_id
from reclaim.core.distribution.state import (
    DistributionState,
)
from reclaim.core.ledger.effects import Effects
from reclaim.core.ledger.model import (
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    LedgerState,
    Transfer,
)
from reclaim.core.limits import forfeiture_reason_length_max_chars as reason_length_max_chars
from reclaim.core.payload_fields import integer, record, text
from reclaim.core.types import JsonValue

_FD: Final = frozenset


def escrow_balance(ledger: LedgerState, claim_id: str) -> int:
    account = ledger.accounts.get(escrow_account_id(claim_id))
    return 0 if account is None else account.available_minor


def release_effects(claim_id: str, payee: str, amount: int, n: int) -> Effects:
    target = Account.of(
        payee, USD, "creditor_available", frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
    )
    transfer = Transfer(
        f"er:{claim_id}:{n}", escrow_account_id(claim_id), target.id, USD, amount,
        "escrow_release", {"claim": claim_id},
    )  # fmt: skip
    return Effects((target,), (transfer,))


def forfeit_effects(claim_id: str, estate_id: str, amount: int, n: int) -> Effects:
    transfer = Transfer(
        f"ef:{claim_id}:{n}", escrow_account_id(claim_id), pool_id(estate_id), USD, amount,
        "correction", {"claim": claim_id},
    )  # fmt: skip
    return Effects((), (transfer,))


def check_released(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"claim_id", "reason", "payee", "amount_minor"}))
    claim_id, reason, payee = text(p, "claim_id"), text(p, "reason"), text(p, "payee")
    amount = integer(p, "amount_minor")
    claim = ctx.claims.claims.get(claim_id)
    if claim is None:
        return refuse(C.escrow_claim_unknown, repr(claim_id))
    balance = escrow_balance(ctx.ledger, claim_id)
    if balance <= 0:
        return refuse(C.escrow_empty, repr(claim_id))
    if reason not in RELEASE_REASONS:
        return refuse(C.escrow_reason_unknown, repr(reason))
    if amount != balance or payee != (current_holder(ds, claim) or ""):
        return refuse(C.escrow_holder_not_payable, f"{payee!r} {amount}")
    today = time[:10]
    plan = ds.plans.get(claim.estate_id)
    if plan is None:
        return refuse(C.plan_missing, repr(claim.estate_id))
    code = _release_reason_code(ds, ctx, claim_id, reason, payee, today)
    if code is not None:
        return refuse(code, f"{reason} for {claim_id!r}")
    now = classify(ds, ctx.claims, plan, claim, today, today, ctx.kyc_exempt)
    if now.destination != CREDITOR or (claim.status not in plan.paid_statuses):
        return refuse(C.escrow_holder_not_payable, f"still {now.reason or claim.status}")
    effects = release_effects(claim_id, payee, amount, ds.escrow_moves.get(claim_id, 0))
    return ledger_refusal(ctx.ledger, effects, time)


def _release_reason_code(
    ds: DistributionState, ctx: Context, claim_id: str, reason: str, payee: str, today: str
) -> C | None:
    claim = ctx.claims.claims[claim_id]
    if reason == "restriction_lifted":
        iso = residence_on(ds, payee, today) or claim.jurisdiction
        entry = treatment(ctx.claims, iso, today)
        return None if entry is None or entry.status == OPEN else C.escrow_still_restricted
    if reason == "residence_moved":
        return None if residence_on(ds, payee, today) is not None else C.escrow_no_residence
    if reason == "objection_upheld":
        objection = ds.objections.get(claim_id)
        upheld = objection is not None and objection.outcome == "upheld"
        return None if upheld else C.escrow_no_upheld_objection
    if reason == "converted_to_notes":
        return None if ctx.role_of(payee) == "holding_entity" else C.escrow_holder_not_payable
    return None  # kyc_approved, dispute_resolved, linked: the payable-now check decides


def check_forfeited(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"claim_id", "reason", "order_reference", "amount_minor"}))
    claim_id = text(p, "claim_id")
    claim = ctx.claims.claims.get(claim_id)
    if claim is None:
        return refuse(C.escrow_claim_unknown, repr(claim_id))
    balance = escrow_balance(ctx.ledger, claim_id)
    if balance <= 0 or integer(p, "amount_minor") != balance:
        return refuse(C.escrow_empty, f"{claim_id!r} holds {balance}")
    if not is_text(text(p, "reason"), reason_length_max_chars):
        return refuse(C.escrow_reason_unknown, "the reason must be given")
    if REFERENCE_RE.fullmatch(text(p, "order_reference")) is None:
        return refuse(C.forfeiture_order_missing, "an order reference (docket entry) is required")
    plan = ds.plans.get(claim.estate_id)
    if plan is None:
        return refuse(C.plan_missing, repr(claim.estate_id))
    today = time[:10]
    now = classify(ds, ctx.claims, plan, claim, today, today, ctx.kyc_exempt)
    kyc_forfeit = now.reason == "kyc_deadline_missed" and plan.kyc_missed == "forfeit_on_order"
    if not (kyc_forfeit or now.reason in ("restricted", "sanctioned")):
        return refuse(C.forfeiture_not_ordered_by_plan, f"claim is {now.reason or 'payable'}")
    effects = forfeit_effects(claim_id, claim.estate_id, balance, ds.escrow_moves.get(claim_id, 0))
    return ledger_refusal(ctx.ledger, effects, time)
