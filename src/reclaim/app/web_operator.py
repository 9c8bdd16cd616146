"""What the operator console reads and does beyond the onboarding and withdrawal services.

- ``releasable_escrows(state, today, limit)``: the claims whose escrow holds money and whose
  holder the plan would pay today (linked, KYC approved, jurisdiction open, claim payable):
  each with the release reason that fits (``linked`` when the escrow was kept for an unlinked
  claim or a pending KYC, ``restriction_lifted`` when the jurisdiction is open again …). The
  core decides again when the treasury releases (``escrow.released``), so a stale row is
  refused, never paid twice.
- ``release_escrow(log, treasury, claim_id, reason)``: ``ReleaseEscrow`` signed by the
  treasury actor of the session (its own key); the log's ``Accepted`` (its ``seq``) or the
  refusal.
- ``register_names(state, vault, creditor)``: the name-match material of a KYC case;
- ``rounds(state)``: every round with its approval and execution figures (the round report);
- ``RoundDesk``: a declared round previewed, approved (the treasury signs the digest of the
  lines it saw) and executed from the console.

O(claims of the register) per call for ``releasable_escrows`` (a page of the console, bounded
by ``limit``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from reclaim.app import distributions
from reclaim.app.claims_import import CLAIM_SUBJECT_PREFIX, HOLDER_NAME_FIELD
from reclaim.app.log_service import Accepted, LogService
from reclaim.app.ports import SubjectErased, SubjectNotFound, Vault
from reclaim.app.refusals import PortalCode, Refused, refused
from reclaim.core.claims import treatment
from reclaim.core.distribution.commands import ReleaseEscrow
from reclaim.core.distribution.compute import RoundLines, RoundSummary
from reclaim.core.distribution.payees import CREDITOR, classify, current_holder, escrow_account_id
from reclaim.core.distribution.payloads import LINE_COLUMNS
from reclaim.core.distribution.preview import lines_digest
from reclaim.core.distribution.state import Line
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
) -> Accepted | Refused:
    (outcome,) = log.submit_many([(ReleaseEscrow(claim_id, reason), treasury)])
    if isinstance(outcome, Rejection):
        return refused(outcome)
    return outcome


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


# Rounds: preview, approve, execute from the console ----------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundPreview:
    """A computed round as the console shows it before approval: ``digest`` is the SHA-256 of
    its lines file (``core.distribution.preview.lines_digest``), what the approval signs."""

    digest: str
    summary: RoundSummary


@dataclass(slots=True)
class RoundDesk:
    """Preview, approve and execute a declared round in memory, as ``reclaim distribute`` does
    with its files: the approval signs the digest of the lines the treasurer saw (a preview
    computed again must give the same digest, else ``preview_changed``: look again), and the
    execution posts those very lines (kept here; after a restart they are computed again and
    must still have the approved digest, else ``lines_changed``: resume with the CLI and the
    approved file). The core checks every line again, and the final digest."""

    log: LogService
    _approved: dict[str, tuple[str, RoundLines]] = field(default_factory=dict)

    def preview(self, round_id: str) -> RoundPreview | Refused:
        computed = self._compute(round_id)
        if isinstance(computed, Refused):
            return computed
        return RoundPreview(lines_digest(computed.lines), computed.lines.summary())

    def approve(self, treasury: str, round_id: str, digest: str) -> RoundPreview | Refused:
        computed = self._compute(round_id)
        if isinstance(computed, Refused):
            return computed
        found = lines_digest(computed.lines)
        if found != digest:
            return Refused(
                PortalCode.preview_changed, "the round changed since the preview: look again"
            )
        outcome = distributions.approve(self.log, round_id, found, computed, actor=treasury)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        self._approved[round_id] = (found, computed.lines)
        return RoundPreview(found, computed.lines.summary())

    def execute(self, treasury: str, round_id: str) -> distributions.Executed | Refused:
        approval = self.log.read(lambda s: _approval_of(s, round_id))
        if approval is None:
            return Refused(PortalCode.round_not_approved, repr(round_id))
        kept = self._approved.get(round_id)
        if kept is None or kept[0] != approval:
            computed = self._compute(round_id)
            if isinstance(computed, Refused):
                return computed
            if lines_digest(computed.lines) != approval:
                return Refused(PortalCode.lines_changed, "resume with reclaim distribute execute")
            kept = (approval, computed.lines)
        try:
            outcome = distributions.execute(self.log, round_id, _lines_of(kept[1]), actor=treasury)
        except distributions.DistributionError as exc:
            return Refused(PortalCode.round_cannot_be_executed, str(exc))
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return outcome

    def _compute(self, round_id: str) -> distributions.Preview | Refused:
        try:
            return distributions.preview(self.log, round_id)
        except distributions.DistributionError as exc:
            return Refused(PortalCode.round_cannot_be_previewed, str(exc))


def _approval_of(state: State, round_id: str) -> str | None:
    progress = state.distribution.rounds.get(round_id)
    return None if progress is None or progress.approval is None else progress.approval.lines_sha256


def _lines_of(lines: RoundLines) -> Iterator[Line]:
    for row in lines.frame.select(LINE_COLUMNS).iter_rows():
        yield Line(*row)
