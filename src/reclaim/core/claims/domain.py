"""Claims, KYC and linking as a sub-domain of the machine (``reclaim.core.domain``).

Imported by ``reclaim.core.machine`` only.
"""

from __future__ import annotations

from typing import Final

from reclaim.core.claims.codes import KINDS, ClaimsRejection
from reclaim.core.claims.machine import (
    assert_claims_invariants,
    check_claims,
    decide_claims,
    evolve_claims,
)
from reclaim.core.claims.model import (
    ENTITY_KINDS,
    AmendClaims,
    ClaimsCommand,
    ClaimsState,
    CloseConflict,
    CreateEstate,
    DecideKyc,
    Decision,
    ImportClaims,
    LinkClaim,
    LinkOnReview,
    ProveEmail,
    SetPolicy,
    SubmitKyc,
    UnlinkClaim,
)
from reclaim.core.claims.payloads import CLAIMS_EVENT_TYPES
from reclaim.core.domain import Domain, EventType, World
from reclaim.core.events import Event
from reclaim.core.rejections import Code


def _decide(
    claims: ClaimsState, world: World, command: ClaimsCommand, time: str
) -> Decision | ClaimsRejection:
    return decide_claims(claims, command, time)


def _check(claims: ClaimsState, world: World, event: Event) -> ClaimsRejection | None:
    return check_claims(claims, event.type, event.payload, event.time)


def _evolve(claims: ClaimsState, world: World, event: Event) -> None:
    evolve_claims(claims, event.type, event.payload, event.time)


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
    decide=_decide,
    check=_check,
    evolve=_evolve,
    assert_invariants=_invariants,
    names_creditor=True,
    kinds=KINDS,
)
