"""Claims, KYC and linking as a sub-domain of the machine (``reclaim.core.domain``).

Imported by ``reclaim.core.machine`` only.
"""

from __future__ import annotations

from typing import Final

from reclaim.core.claims.codes import KINDS
from reclaim.core.claims.machine import (
    EVENT_OF,
    assert_claims_invariants,
    check_claims,
    decide_claims,
    evolve_claims,
)
from reclaim.core.claims.model import (
    ENTITY_KINDS,
    ClaimsState,
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
    commands=EVENT_OF,
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
