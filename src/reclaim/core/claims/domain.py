"""Claims, KYC and linking as a sub-domain of the machine (``reclaim.core.domain``).

Imported by ``reclaim.core.machine`` only.
"""

from __future__ import annotations

from typing import Final

from reclaim.core.claims.codes import KINDS
from reclaim.core.claims.machine import (
    assert_claims_invariants,
    check_claims,
    decide_claims,
    evolve_claims,
)
from reclaim.core.claims.model import (
    ENTITY_KINDS,
    AmendClaims,
    ClaimsState,
    CloseConflict,
    CreateEstate,
    DecideKyc,
    ImportClaims,
    LinkClaim,
    LinkOnReview,
    ProveEmail,
    SetPolicy,
    SubmitKyc,
    UnlinkClaim,
)
from reclaim.core.claims.payloads import CLAIMS_EVENT_TYPES
from reclaim.core.domain import Domain, EventType, World, on_event_fields, world_blind
from reclaim.core.rejections import Code


def _invariants(claims: ClaimsState, world: World, full: bool) -> None:
    if full:
        assert_claims_invariants(claims)


DOMAIN: Final[Domain[ClaimsState]] = Domain(
    name="claims",
    state=lambda root: root.claims,
    commands={
        CreateEstate: "estate.created",
        ImportClaims: "claims.imported",
        AmendClaims: "claims.amended",
        SetPolicy: "jurisdiction.policy_set",
        ProveEmail: "creditor.email_proved",
        SubmitKyc: "kyc.submitted",
        DecideKyc: "kyc.decided",
        LinkClaim: "claim.linked",  # a link may instead record a conflict
        LinkOnReview: "claim.linked_on_review",
        UnlinkClaim: "claim.unlinked",
        CloseConflict: "claim.conflict_closed",
    },
    event_types={name: EventType(*entry) for name, entry in CLAIMS_EVENT_TYPES.items()},
    entity_kinds=frozenset(ENTITY_KINDS),
    refused=Code.claims_refused,
    decide=world_blind(decide_claims),
    check=on_event_fields(check_claims),
    evolve=on_event_fields(evolve_claims),
    assert_invariants=_invariants,
    names_creditor=True,
    kinds=KINDS,
)
