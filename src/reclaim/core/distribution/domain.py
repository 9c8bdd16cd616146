"""Distributions, escrow and FX as a sub-domain of the machine (``reclaim.core.domain``).

Imported by ``reclaim.core.machine`` only.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from reclaim.core.distribution.codes import KINDS, DistributionRejection
from reclaim.core.distribution.commands import EVENT_OF, Context, DistributionCommand
from reclaim.core.distribution.machine import (
    assert_distribution_invariants,
    check_distribution,
    decide_distribution,
    evolve_distribution,
)
from reclaim.core.distribution.payloads import DISTRIBUTION_EVENT_TYPES
from reclaim.core.distribution.state import ENTITY_KINDS, DistributionState
from reclaim.core.domain import Domain, EventType, Payload, World
from reclaim.core.events import Event
from reclaim.core.rejections import Code


class _Decided(NamedTuple):
    events: list[tuple[str, Payload]]
    results: tuple[()] = ()


def context(world: World) -> Context:
    """What the distribution ladders read besides their own state."""
    return Context(world.claims, world.ledger, world.role_of, world.holding_entities())


def _decide(
    ds: DistributionState, world: World, command: DistributionCommand, time: str
) -> _Decided | DistributionRejection:
    decision = decide_distribution(ds, context(world), command, time)
    if isinstance(decision, DistributionRejection):
        return decision
    return _Decided(decision.events)


def _check(ds: DistributionState, world: World, event: Event) -> DistributionRejection | None:
    return check_distribution(ds, context(world), event.type, event.payload, event.time)


def _evolve(ds: DistributionState, world: World, event: Event) -> None:
    evolve_distribution(
        ds, world.claims, world.ledger, event.type, event.payload, event.time, event.actor
    )


def _invariants(ds: DistributionState, world: World, full: bool) -> None:
    if full:
        assert_distribution_invariants(ds, world.claims, world.ledger)


DOMAIN: Final[Domain[DistributionState]] = Domain(
    name="distribution",
    state=lambda root: root.distribution,
    commands=EVENT_OF,
    event_types={name: EventType(*entry) for name, entry in DISTRIBUTION_EVENT_TYPES.items()},
    entity_kinds=frozenset(ENTITY_KINDS),
    refused=Code.distribution_refused,
    decide=_decide,
    check=_check,
    evolve=_evolve,
    assert_invariants=_invariants,
    kinds=KINDS,
)
