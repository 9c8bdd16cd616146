"""The ledger as a sub-domain of the machine (``reclaim.core.domain``): its commands, event types
and the adapters of ``decide_ledger``/``check_ledger``/``evolve_ledger`` to the seam's order.

Imported by ``reclaim.core.machine`` only.
"""

from __future__ import annotations

from typing import Final

from reclaim.core.domain import Domain, EventType, World, on_event_fields, world_blind
from reclaim.core.ledger.codes import KINDS
from reclaim.core.ledger.machine import (
    assert_ledger_invariants,
    check_ledger,
    decide_ledger,
    evolve_ledger,
)
from reclaim.core.ledger.model import (
    CreateTransfers,
    ExpirePending,
    LedgerState,
    OpenAccounts,
)
from reclaim.core.rejections import Code

LEDGER_EVENT_TYPES: Final[dict[str, EventType]] = {
    "ledger.accounts_opened": EventType(frozenset({1}), frozenset({"admin", "treasury"})),
    "ledger.transfers_created": EventType(frozenset({1}), frozenset({"treasury"})),
    "ledger.pending_expired": EventType(frozenset({1}), frozenset({"treasury"})),
}


def _invariants(ledger: LedgerState, world: World, full: bool) -> None:
    """Every asset balanced (cheap: O(assets)); ``full`` recomputes every balance."""
    for asset, totals in ledger.totals.items():
        assert totals.debits_posted == totals.credits_posted, f"{asset}: posted unbalanced"
        assert totals.debits_pending == totals.credits_pending, f"{asset}: pending unbalanced"
    if full:
        assert_ledger_invariants(ledger)


DOMAIN: Final[Domain[LedgerState]] = Domain(
    name="ledger",
    state=lambda root: root.ledger,
    commands={
        OpenAccounts: "ledger.accounts_opened",
        CreateTransfers: "ledger.transfers_created",
        ExpirePending: "ledger.pending_expired",
    },
    event_types=LEDGER_EVENT_TYPES,
    entity_kinds=frozenset({"account", "transfer"}),
    refused=Code.ledger_refused,
    decide=world_blind(decide_ledger),
    check=on_event_fields(check_ledger),
    evolve=on_event_fields(evolve_ledger),
    assert_invariants=_invariants,
    kinds=KINDS,
)
