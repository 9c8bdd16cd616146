"""Claims: estates and their registers, jurisdiction policy, KYC, and linking claims to creditors.

Theory of operation
-------------------
An **estate** (``estate.created``) has claim classes with priorities, a convenience class and
threshold, and a consensus interest rate. Its **register** holds one **claim** per row of the
estate's schedule: claim id (unique across estates; it is also a ledger reference), customer
code, the commitments of the old account's e-mail and of the holder's name (the PII vault keeps
the text; the public log only HMAC commitments), jurisdiction (ISO 3166-1 alpha-2), class,
admitted amount in USD cents as dollarized at the petition date, and status (scheduled, filed,
allowed, disputed, expunged).

A register file is imported by ``plan_register_import(state, estate_id, register_id, rows)``:
it validates every row and compares the file with the register. A file with one bad row imports
nothing and is answered with every bad row (``RegisterRefusal``); otherwise the plan is the
commands that bring the register to the file: ``ImportClaims`` for new claims (in chunks of
``claims_per_event_max``) and ``AmendClaims`` — explicit ``{claim_id, field, old, new}`` — for
changed fields and for the claims the file no longer lists, which are **expunged** (a register
version is the whole schedule; ``full_schedule=False`` reads a supplement). The same file again
plans nothing: re-import is a no-op. The e-mail and holder commitments of a linked claim do not
change; such a row is a bad row until the operator unlinks the claim.

**Jurisdiction policy** is dated data (``jurisdiction.policy_set``): per ISO code, entries with a
status (open, restricted, sanctioned), a reason, a source, an effective date and the payout
rails that may serve it. ``treatment(state, iso, date)`` is the entry in force on a date (the
latest effective date on or before it; of equal dates, the one set last), and
``register_report(state, estate_id, date)`` sums the register by jurisdiction and status and by
policy status, with the restricted share and each restricted jurisdiction's share of it.

**Onboarding**: a creditor proves the e-mail of the old account (``creditor.email_proved``,
attested by the gateway once the one-time code came back), passes KYC (``kyc.submitted``,
``kyc.decided``; the table is in ``onboarding``), and links the claim (``claim.linked``). The
linking ladder and the conflicts it records for the operator (``claim.link_conflict``: a claim
linked to someone else, a verified name that is not the holder's) are in ``onboarding``; a KYC
officer may link after manual review (``claim.linked_on_review``); unlinking is an operator
action with a reason (``claim.unlinked``), as is closing a conflict (``claim.conflict_closed``).

The pure functions, as in ``reclaim.core.ledger``:

- ``decide_claims(state, command, now) -> Decision | ClaimsRejection``: the events a command
  implies ``(type, payload)`` and, for commands with items of their own, one ``Result`` each.
  It never changes ``state``. A ``Decision`` without events is a command already satisfied
  (``exists``, ``link_exists``); a ``Decision`` whose result is not ``accepted`` is a refusal
  recorded by its event (a link conflict: the API answers the code, the log keeps the record).
- ``check_claims(state, type, payload, time) -> ClaimsRejection | None`` re-runs the same ladder
  on a logged event (the verifier's replay); ``evolve_claims(state, type, payload, time)``
  applies a checked event in place and records the entity keys it touched in ``state.changed``
  (``estate/<id>``, ``claim/<id>``, ``jurisdiction/<iso>``, ``kyc/<creditor>``,
  ``email_proof/<creditor>``, ``link_conflict/<claim id>/<creditor>``).
- ``assert_claims_invariants(state)`` recomputes the indexes and totals from the claims.

Events (version 1; payload shapes and signing roles in ``payloads``; ``CLAIMS_EVENT_TYPES`` has
the shape of ``reclaim.core.events.EVENT_TYPES``).

Invariants
----------
Asserted by ``assert_claims_invariants`` (and by the tests after every step):

- every claim's fields pass the row ladder of its estate, and its register id is one of the
  estate's register versions;
- each claim is linked to at most one creditor (a field of the claim), and ``links`` (creditor
  → claims) is exactly the inverse of those fields, at most ``links_per_creditor_max`` each;
- ``by_email`` maps each e-mail commitment to exactly the claims that have it;
- each estate's ``totals`` is the sum of its claims' admitted amounts, within BIGINT (so every
  sum of a report fits a BIGINT column);
- a KYC record is never ``not_started``; approved records carry a name commitment and no reason,
  others a reason (unless pending) and no name commitment;
- an open conflict names an existing claim that is not linked to the conflict's creditor.

Known limits
------------
- All state is in memory: a claim costs about 650 bytes (measured: the record, its four
  strings, its entries in ``claims`` and ``by_email``), so 1,000,000 claims take ~650 MB and
  9 million (FTX's size) ~6 GB.
- Claim ids are unique across estates: an adapter whose estates reuse numbers prefixes them.
- ``register_report`` and the expunging of missing claims walk every claim (O(claims)).
- The e-mail proof and link ladders do not know the log's actors: the shell (``core.state``)
  checks that ``creditor`` names a registered creditor actor.
- An amendment that moves a claim to another e-mail leaves earlier proofs of the old address in
  place; they no longer match the claim, so they link nothing.
"""

from reclaim.core.claims.codes import (
    ACCEPTED,
    CONFLICT_CODES,
    ClaimCode,
    ClaimsCode,
    ClaimsRejection,
    EstateCode,
    EventCode,
    KycCode,
    LinkCode,
    PolicyCode,
    ProofCode,
)
from reclaim.core.claims.machine import (
    assert_claims_invariants,
    check_claims,
    decide_claims,
    evolve_claims,
)
from reclaim.core.claims.model import (
    AMENDABLE_FIELDS,
    DAY_COUNTS,
    ENTITY_KINDS,
    INTEREST_METHODS,
    KYC_REASONS,
    KYC_STATES,
    POLICY_STATUSES,
    STATUSES,
    AmendClaims,
    Amendment,
    Claim,
    ClaimClass,
    ClaimsCommand,
    ClaimsState,
    CloseConflict,
    Conflict,
    CreateEstate,
    DecideKyc,
    Decision,
    Estate,
    ImportClaims,
    Kyc,
    LinkClaim,
    LinkOnReview,
    PolicyEntry,
    PolicyRecord,
    ProveEmail,
    RegisterRow,
    Result,
    SetPolicy,
    SubmitKyc,
    UnlinkClaim,
    policy_entry_payload,
)
from reclaim.core.claims.onboarding import KYC_TRANSITIONS, SUBMIT
from reclaim.core.claims.payloads import (
    CLAIM_LINKED,
    CLAIM_LINKED_ON_REVIEW,
    CLAIM_UNLINKED,
    CLAIMS_AMENDED,
    CLAIMS_EVENT_ROLES,
    CLAIMS_EVENT_TYPES,
    CLAIMS_IMPORTED,
    CLAIMS_ROLES,
    CONFLICT_CLOSED,
    EMAIL_PROVED,
    ESTATE_CREATED,
    KYC_DECIDED,
    KYC_SUBMITTED,
    LINK_CONFLICT,
    POLICY_SET,
    PayloadError,
    amendment_from_payload,
    amendment_payload,
    claim_from_payload,
    claim_payload,
    entry_from_payload,
)
from reclaim.core.claims.policy import (
    UNLISTED,
    JurisdictionShare,
    Report,
    Tally,
    claim_treatment,
    register_report,
    share_bps,
    treatment,
)
from reclaim.core.claims.register import (
    ImportPlan,
    RegisterRefusal,
    RowProblem,
    plan_register_import,
)

__all__ = [
    "ACCEPTED",
    "AMENDABLE_FIELDS",
    "CLAIMS_AMENDED",
    "CLAIMS_EVENT_ROLES",
    "CLAIMS_EVENT_TYPES",
    "CLAIMS_IMPORTED",
    "CLAIMS_ROLES",
    "CLAIM_LINKED",
    "CLAIM_LINKED_ON_REVIEW",
    "CLAIM_UNLINKED",
    "CONFLICT_CLOSED",
    "CONFLICT_CODES",
    "DAY_COUNTS",
    "EMAIL_PROVED",
    "ENTITY_KINDS",
    "ESTATE_CREATED",
    "INTEREST_METHODS",
    "KYC_DECIDED",
    "KYC_REASONS",
    "KYC_STATES",
    "KYC_SUBMITTED",
    "KYC_TRANSITIONS",
    "LINK_CONFLICT",
    "POLICY_SET",
    "POLICY_STATUSES",
    "STATUSES",
    "SUBMIT",
    "UNLISTED",
    "AmendClaims",
    "Amendment",
    "Claim",
    "ClaimClass",
    "ClaimCode",
    "ClaimsCode",
    "ClaimsCommand",
    "ClaimsRejection",
    "ClaimsState",
    "CloseConflict",
    "Conflict",
    "CreateEstate",
    "DecideKyc",
    "Decision",
    "Estate",
    "EstateCode",
    "EventCode",
    "ImportClaims",
    "ImportPlan",
    "JurisdictionShare",
    "Kyc",
    "KycCode",
    "LinkClaim",
    "LinkCode",
    "LinkOnReview",
    "PayloadError",
    "PolicyCode",
    "PolicyEntry",
    "PolicyRecord",
    "ProofCode",
    "ProveEmail",
    "RegisterRefusal",
    "RegisterRow",
    "Report",
    "Result",
    "RowProblem",
    "SetPolicy",
    "SubmitKyc",
    "Tally",
    "UnlinkClaim",
    "amendment_from_payload",
    "amendment_payload",
    "assert_claims_invariants",
    "check_claims",
    "claim_from_payload",
    "claim_payload",
    "claim_treatment",
    "decide_claims",
    "entry_from_payload",
    "evolve_claims",
    "plan_register_import",
    "policy_entry_payload",
    "register_report",
    "share_bps",
    "treatment",
]
