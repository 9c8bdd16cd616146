"""Read models of the creditor's web pages: my claims, their treatment, what they received.

Every function reads the log's ``State`` (under the writer lock: ``LogService.read``) or the
store's ledger projections, and answers one creditor's own data only — the portal checks who is
logged in, these functions never widen it:

- ``my_claims(state, creditor, today)``: the claims the creditor holds now (linked, or assigned
  to them), each with class, admitted amount, status, jurisdiction and its policy entry in force
  today, what it received, what waits in escrow and why (``core.distribution.payees.classify``,
  as ``GET /api/v1/distributions`` answers), and the claims of the creditor's proved addresses
  that are not linked yet;
- ``claim_distributions(store, creditor, claim_id)``: the ledger's distribution transfers of
  one claim (to the holder's accounts or to the claim's escrow), each with the seq of the log
  event that made it — the event an inclusion proof (``app.prove``) covers;
- ``balances(store, creditor)``: the creditor's available accounts per asset.

The escrow reason codes are ``classify``'s (``disputed``, ``unlinked``, ``kyc_pending``,
``kyc_deadline_missed``, ``restricted``, ``sanctioned`` …); what lifts each is the portal's
wording (``entrypoints/web/labels.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from reclaim.app.ports import LedgerQueries
from reclaim.core.claims import UNLISTED, treatment
from reclaim.core.distribution.payees import classify, current_holder, escrow_account_id
from reclaim.core.limits import claim_history_transfers_max as history_page_max
from reclaim.core.machine import State

#: The ledger code of a distribution transfer (``core.distribution.rounds.line_effects``).
DISTRIBUTION_CODE: Final = "distribution"
#: The purpose of a creditor's spendable accounts.
AVAILABLE: Final = "creditor_available"


@dataclass(frozen=True, slots=True)
class ClaimView:
    claim_id: str
    estate_id: str
    class_code: str
    admitted_minor: int
    status: str
    jurisdiction: str
    policy_status: str  # open, restricted, sanctioned, unlisted
    policy_reason: str
    policy_source: str
    policy_since: str
    received_minor: int
    escrow_minor: int
    escrow_reason: str  # "" when the next round pays the holder


@dataclass(frozen=True, slots=True)
class MyClaims:
    creditor: str
    kyc_state: str
    payout_asset: str
    payout_elected: bool
    claims: tuple[ClaimView, ...]
    unlinked: tuple[str, ...]  # claims of the proved addresses, not linked to anyone yet
    proved_emails: int


@dataclass(frozen=True, slots=True)
class Received:
    """One distribution transfer of a claim: ``seq`` is the log event that made it."""

    transfer_id: str
    round_id: str
    seq: int
    asset: str
    amount_minor: int
    escrowed: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class Balance:
    account_id: str
    asset: str
    available_minor: int
    pending_minor: int


def held_claims(state: State, creditor: str) -> list[str]:
    """The ids of the claims ``creditor`` holds now, sorted."""
    ds, claims = state.distribution, state.claims
    candidates = set(claims.links.get(creditor, ())) | {c for c, h in ds.holders.items() if h}
    return sorted(
        c
        for c in candidates
        if c in claims.claims and current_holder(ds, claims.claims[c]) == creditor
    )


def holds(state: State, creditor: str, claim_id: str) -> bool:
    claim = state.claims.claims.get(claim_id)
    return claim is not None and current_holder(state.distribution, claim) == creditor


def my_claims(state: State, creditor: str, today: str) -> MyClaims:
    ds, claims = state.distribution, state.claims
    exempt = state.holding_entities()
    views = []
    for claim_id in held_claims(state, creditor):
        claim = claims.claims[claim_id]
        entry = treatment(claims, claim.jurisdiction, today)
        escrow = state.ledger.accounts.get(escrow_account_id(claim_id))
        plan = ds.plans.get(claim.estate_id)
        reason = ""
        if plan is not None:
            reason = classify(ds, claims, plan, claim, today, today, exempt).reason
        views.append(
            ClaimView(
                claim_id,
                claim.estate_id,
                claim.class_code,
                claim.admitted_minor,
                claim.status,
                claim.jurisdiction,
                UNLISTED if entry is None else entry.status,
                "" if entry is None else entry.reason,
                "" if entry is None else entry.source,
                "" if entry is None else entry.effective_date,
                ds.received.get(claim_id, 0),
                0 if escrow is None else escrow.available_minor,
                reason,
            )
        )
    proved = claims.proofs.get(creditor, {})
    unlinked = sorted(
        c
        for commitment in proved
        for c in claims.claims_of_email(commitment)
        if c in claims.claims and not claims.claims[c].linked_creditor
    )
    election = ds.elections.get(creditor)
    return MyClaims(
        creditor, claims.kyc_state(creditor), "USD" if election is None else election.asset,
        election is not None, tuple(views), tuple(unlinked), len(proved),
    )  # fmt: skip


def claim_distributions(store: LedgerQueries, creditor: str, claim_id: str) -> list[Received]:
    """The distribution transfers of ``claim_id`` into the claim's escrow or ``creditor``'s
    accounts, oldest first (the caller checked that ``creditor`` holds the claim)."""
    accounts = [escrow_account_id(claim_id)] + [
        a.id for a in store.accounts_of(creditor) if a.purpose == AVAILABLE
    ]
    found: dict[str, Received] = {}
    for account_id in accounts:
        for t in store.account_history(account_id, None, history_page_max):
            if t.code != DISTRIBUTION_CODE or t.refs.get("claim") != claim_id:
                continue
            if t.credit_account_id != account_id:
                continue
            found[t.id] = Received(
                t.id, t.refs.get("distribution", ""), t.seq, t.asset, t.amount_minor,
                account_id == escrow_account_id(claim_id), t.created_at,
            )  # fmt: skip
    return sorted(found.values(), key=lambda r: (r.seq, r.transfer_id))


def distribution_seqs(store: LedgerQueries, creditor: str, claim_id: str) -> frozenset[int]:
    return frozenset(r.seq for r in claim_distributions(store, creditor, claim_id))


def balances(store: LedgerQueries, creditor: str) -> list[Balance]:
    return [
        Balance(a.id, a.asset, a.credits_posted - a.debits_posted - a.debits_pending,
                a.debits_pending)
        for a in store.accounts_of(creditor)
        if a.purpose == AVAILABLE
    ]  # fmt: skip
