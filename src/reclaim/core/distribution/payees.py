"""Who is paid for a claim, and where the money goes when it cannot be paid yet.

Holder of record (Rule 3001(e)(2))
----------------------------------
A claim's first holder is the creditor it is linked to (the person who proved the old
account's e-mail and passed KYC under the holder's name). A ``claim.assigned`` event records a
transfer with the date its evidence was filed; the transferee is substituted once the 21-day
objection window has run. So the holder of record at a record date ``R`` is the last transferee
whose evidence was filed on or before ``R − 21 days`` — a claim sold within 21 days before the
record date is paid to the previous holder. The *current* holder (who may sell it again, or
receive a release from escrow) is the last transferee, window or not.

Destination of a claim's amount in a round (first rule that applies):

| rule                                                        | destination, reason         |
| ----------------------------------------------------------- | --------------------------- |
| status is one of the plan's reserved statuses (disputed)    | escrow, disputed            |
| no holder of record (not linked), KYC deadline passed       | escrow, kyc_deadline_missed |
| no holder of record (not linked) otherwise                  | escrow, unlinked            |
| holder's KYC not approved, plan's KYC deadline passed       | escrow, kyc_deadline_missed |
| holder's KYC not approved otherwise                         | escrow, kyc_pending         |

(A claim is linked only to a creditor who passed KYC, so a claim still unlinked when the plan's
``kyc_finish_by`` has passed at the payment date missed the deadline: FTX expunged ~392,000 such
claims; here their amounts wait in escrow and only an ordered forfeiture takes them back.
``kyc_start_by`` is informational: reported, not enforced.)
| holder's jurisdiction restricted at the record date, and    | escrow, restricted          |
| no objection upheld for the claim (sanctioned likewise)     | (or sanctioned)             |
| otherwise                                                   | the holder, elected asset   |

(The holder is paid in the asset they elected — USD by default.)

The holder's jurisdiction is the residence a KYC officer recorded in force at the date; failing
one, the claim's register jurisdiction for its first holder, and none (not restricted) for a
transferee without a recorded residence. Nothing is ever dropped: every amount not paid goes to
the claim's own escrow account, ``claim:<claim id>/USD/claim_escrow``, until an
``escrow.released`` event (with the reason that cleared it) or an ordered ``escrow.forfeited``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import Final, NamedTuple

from reclaim.core.claims.model import APPROVED, RESTRICTED, SANCTIONED, Claim, ClaimsState
from reclaim.core.claims.policy import treatment
from reclaim.core.distribution.model import Plan
from reclaim.core.distribution.state import DistributionState
from reclaim.core.ledger.model import account_id

#: Rule 3001(e)(2): the transferor has 21 days to object after notice of the transfer.
objection_window_days: Final = 21
CREDITOR: Final = "creditor"
ESCROW: Final = "escrow"
DESTINATIONS: Final = (CREDITOR, ESCROW)
ESCROW_REASONS: Final = (
    "disputed",
    "unlinked",
    "kyc_deadline_missed",
    "kyc_pending",
    RESTRICTED,
    SANCTIONED,
)
#: What may clear an escrow (the reason an ``escrow.released`` event gives).
RELEASE_REASONS: Final = (
    "restriction_lifted",
    "residence_moved",
    "objection_upheld",
    "kyc_approved",
    "dispute_resolved",
    "linked",
    "converted_to_notes",
)
USD: Final = "USD"
PAYOUT_ASSETS: Final = ("USD", "EUR", "USDC")


class Payee(NamedTuple):
    destination: str
    reason: str
    payee: str
    account_id: str
    asset: str


def escrow_account_id(claim_id: str) -> str:
    return account_id(f"claim:{claim_id}", USD, "claim_escrow")


def creditor_account_id(creditor: str, asset: str) -> str:
    return account_id(creditor, asset, "creditor_available")


def current_holder(ds: DistributionState, claim: Claim) -> str | None:
    history = ds.holders.get(claim.id)
    if history:
        return history[-1].to_holder
    return claim.linked_creditor or None


def holder_of_record(ds: DistributionState, claim: Claim, record_date: str) -> str | None:
    cutoff = (date.fromisoformat(record_date) - timedelta(days=objection_window_days)).isoformat()
    holder = claim.linked_creditor or None
    for assignment in ds.holders.get(claim.id, ()):
        if assignment.filed_date <= cutoff:
            holder = assignment.to_holder
    return holder


def residence_on(ds: DistributionState, creditor: str, on_date: str) -> str | None:
    """The residence recorded for ``creditor`` in force on ``on_date`` (latest effective date on
    or before it; of equal dates, the one recorded last), or ``None``."""
    found = None
    for r in ds.residences.get(creditor, ()):
        if r.effective_date <= on_date and (
            found is None or r.effective_date >= found.effective_date
        ):
            found = r
    return None if found is None else found.iso


def jurisdiction_of(ds: DistributionState, claim: Claim, holder: str, on_date: str) -> str | None:
    residence = residence_on(ds, holder, on_date)
    if residence is not None:
        return residence
    return claim.jurisdiction if holder == claim.linked_creditor else None


def restriction(
    ds: DistributionState, claims: ClaimsState, claim: Claim, holder: str, on_date: str
) -> str:
    """``restricted`` / ``sanctioned`` if the holder's jurisdiction is so on ``on_date`` and no
    objection was upheld for the claim, else ``""``."""
    iso = jurisdiction_of(ds, claim, holder, on_date)
    if iso is None:
        return ""
    entry = treatment(claims, iso, on_date)
    if entry is None or entry.status not in (RESTRICTED, SANCTIONED):
        return ""
    objection = ds.objections.get(claim.id)
    if objection is not None and objection.outcome == "upheld":
        return ""
    return entry.status


def classify(
    ds: DistributionState,
    claims: ClaimsState,
    plan: Plan,
    claim: Claim,
    record_date: str,
    payment_date: str,
    kyc_exempt: Collection[str] = (),
) -> Payee:
    """Where the claim's amount of a round with these dates goes (the table above).
    ``kyc_exempt`` are holders who pass no KYC: the programme's holding entity."""
    if claim.status in plan.reserved_statuses:
        return _escrow(claim, "disputed")
    missed = bool(plan.kyc_finish_by) and payment_date > plan.kyc_finish_by
    holder = holder_of_record(ds, claim, record_date)
    if holder is None:  # linking needs a passed KYC: past the deadline, it was missed
        return _escrow(claim, "kyc_deadline_missed" if missed else "unlinked")
    if claims.kyc_state(holder) != APPROVED and holder not in kyc_exempt:
        return _escrow(claim, "kyc_deadline_missed" if missed else "kyc_pending")
    restricted = restriction(ds, claims, claim, holder, record_date)
    if restricted:
        return _escrow(claim, restricted)
    election = ds.elections.get(holder)
    asset = USD if election is None else election.asset
    return Payee(CREDITOR, "", holder, creditor_account_id(holder, asset), asset)


def _escrow(claim: Claim, reason: str) -> Payee:
    return Payee(ESCROW, reason, "", escrow_account_id(claim.id), USD)
