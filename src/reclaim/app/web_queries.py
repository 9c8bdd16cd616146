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

``CreditorReads`` keeps what a claim page shows (``claim_page``: the claim's view, the
creditor's claims, the claim's distributions, the log key) per (creditor, claim, day) for one
log position: the log's size is read first and the entry is used only while the log still has
that size, so a new event (a distribution, a link, an election, anything) is never answered from
before it, and an entry is never older than its key (the reads after the size may see newer
events, never older ones). Everything a claim page shows comes from the log — the state and the
ledger projections stored in the events' transaction — and the day.

The escrow reason codes are ``classify``'s (``disputed``, ``unlinked``, ``kyc_pending``,
``kyc_deadline_missed``, ``restricted``, ``sanctioned`` …); what lifts each is the portal's
wording (``entrypoints/web/labels.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final, Protocol

from reclaim.app.log_ports import LogReader
from reclaim.app.ports import LedgerQueries
from reclaim.core.claims import UNLISTED, treatment
from reclaim.core.distribution.payees import classify, current_holder, escrow_account_id
from reclaim.core.limits import claim_history_transfers_max as history_page_max
from reclaim.core.limits import creditor_pages_cached_max
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


class CreditorLog(LogReader, Protocol):
    """What ``CreditorReads`` reads of the log (``LogService`` has it): its ledger queries too."""

    @property
    def store(self) -> LedgerQueries: ...


@dataclass(frozen=True, slots=True)
class ClaimPage:
    """What the claim page shows: the claim, the creditor's claims, its distributions."""

    claim: ClaimView
    mine: MyClaims
    received: tuple[Received, ...]
    log_key: str


class CreditorReads:
    """The creditor pages' reads, kept per log position (see the module doc)."""

    def __init__(self, log: CreditorLog, entries_max: int = creditor_pages_cached_max) -> None:
        self._log = log
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, str, str], tuple[int, ClaimPage]] = {}
        self._entries_max = entries_max
        #: Claim pages read from the log so far.
        self.reads = 0

    def claim_page(self, creditor: str, claim_id: str, today: str) -> ClaimPage | None:
        """The claim page of ``claim_id`` if ``creditor`` holds it now, else ``None``."""
        size = self._log.size  # first: what is read after it is never older
        key = (creditor, claim_id, today)
        with self._lock:
            kept = self._pages.get(key)
        if kept is not None and kept[0] == size:
            return kept[1]
        mine, log_key = self._log.read(lambda s: (my_claims(s, creditor, today), s.log_key))
        found = [c for c in mine.claims if c.claim_id == claim_id]
        if not found:  # another's claim, or none: nothing is kept
            return None
        received = tuple(claim_distributions(self._log.store, creditor, claim_id))
        page = ClaimPage(found[0], mine, received, log_key)
        with self._lock:
            self.reads += 1
            if key not in self._pages and len(self._pages) >= self._entries_max:
                self._pages.clear()
            self._pages[key] = (size, page)
        return page
