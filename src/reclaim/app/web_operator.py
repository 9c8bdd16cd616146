"""What the operator console reads and does beyond the onboarding and withdrawal services.

- ``releasable_escrows(state, today, limit)``: the claims whose escrow holds money and whose
  holder the plan would pay today (linked, KYC approved, jurisdiction open, claim payable):
  each with the release reason that fits (``linked`` when the escrow was kept for an unlinked
  claim or a pending KYC, ``restriction_lifted`` when the jurisdiction is open again …). The
  core decides again when the treasury releases (``escrow.released``), so a stale row is
  refused, never paid twice.
- ``release_escrow(log, treasury, claim_id, reason)``: ``ReleaseEscrow`` signed by the
  treasury actor of the session (its own key).
- ``register_names(state, vault, creditor)``: the name-match material of a KYC case;
- ``rounds(state)``: every round with its approval and execution figures (the round report).

O(claims of the register) per call for ``releasable_escrows`` (a page of the console, bounded
by ``limit``).
"""

from __future__ import annotations

from dataclasses import dataclass

from reclaim.app.claims_import import CLAIM_SUBJECT_PREFIX, HOLDER_NAME_FIELD
from reclaim.app.log_service import LogService
from reclaim.app.onboarding import Refused
from reclaim.app.ports import SubjectErased, SubjectNotFound, Vault
from reclaim.app.refusals import refused
from reclaim.core.claims import treatment
from reclaim.core.distribution.commands import ReleaseEscrow
from reclaim.core.distribution.payees import CREDITOR, classify, current_holder, escrow_account_id
from reclaim.core.machine import State
from reclaim.core.rejections import Rejection


@dataclass(frozen=True, slots=True)
class Releasable:
    claim_id: str
    holder: str
    jurisdiction: str
    escrow_minor: int
    reason: str


@dataclass(frozen=True, slots=True)
class Released:
    claim_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class RoundRow:
    round_id: str
    estate_id: str
    record_date: str
    payment_date: str
    funding_minor: int
    funded_minor: int
    approved_by: str
    lines: int
    usd_total_minor: int
    escrow_total_minor: int
    executed_lines: int
    executed_usd_minor: int
    completed_at: str


def releasable_escrows(state: State, today: str, limit: int) -> list[Releasable]:
    ds, claims = state.distribution, state.claims
    exempt = state.holding_entities()
    found: list[Releasable] = []
    for claim_id in sorted(claims.claims):
        account = state.ledger.accounts.get(escrow_account_id(claim_id))
        if account is None or account.available_minor <= 0:
            continue
        claim = claims.claims[claim_id]
        plan = ds.plans.get(claim.estate_id)
        holder = current_holder(ds, claim)
        if plan is None or holder is None or claim.status not in plan.paid_statuses:
            continue
        if classify(ds, claims, plan, claim, today, today, exempt).destination != CREDITOR:
            continue
        entry = treatment(claims, claim.jurisdiction, today)
        was_restricted = (
            entry is not None
            and entry.effective_date <= today
            and any(r.entry.status != "open" for r in claims.policy.get(claim.jurisdiction, ()))
        )
        reason = "restriction_lifted" if was_restricted else "linked"
        found.append(Releasable(claim_id, holder, claim.jurisdiction, account.available_minor,
                                reason))  # fmt: skip
        if len(found) >= limit:
            break
    return found


def register_names(state: State, vault: Vault, creditor: str) -> list[tuple[str, str]]:
    """The claims of ``creditor``'s proved addresses with the holder name the register gave
    each (``claim:<id>`` in the vault): what an officer compares the document's name with."""
    claims = state.claims
    found = []
    for commitment in sorted(claims.proofs.get(creditor, {})):
        for claim_id in claims.claims_of_email(commitment):
            try:
                name = vault.get(CLAIM_SUBJECT_PREFIX + claim_id, [HOLDER_NAME_FIELD])
                found.append((claim_id, name.text(HOLDER_NAME_FIELD)))
            except (SubjectNotFound, SubjectErased, KeyError):
                found.append((claim_id, ""))
    return found


def release_escrow(
    log: LogService, treasury: str, claim_id: str, reason: str
) -> Released | Refused:
    (outcome,) = log.submit_many([(ReleaseEscrow(claim_id, reason), treasury)])
    if isinstance(outcome, Rejection):
        return refused(outcome)
    return Released(claim_id, outcome.seq)


def rounds(state: State) -> list[RoundRow]:
    rows = []
    for p in state.distribution.rounds.values():
        r, a = p.round, p.approval
        rows.append(RoundRow(
            r.round_id, r.estate_id, r.record_date, r.payment_date, r.funding_minor,
            p.funded_minor, "" if a is None else a.approved_by, 0 if a is None else a.lines,
            0 if a is None else a.usd_total_minor, 0 if a is None else a.escrow_total_minor,
            p.executed_lines, p.executed_usd_minor, p.completed_at,
        ))  # fmt: skip
    return rows
