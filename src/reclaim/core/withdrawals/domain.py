"""Withdrawals and their destinations as a sub-domain of the machine (``reclaim.core.domain``).

Its ``guard`` keeps a withdrawal's reserved ledger transfers (the ``wd:`` namespace) out of plain
ledger commands and events: they move only with the withdrawal's own events.

Imported by ``reclaim.core.machine`` only.
"""

from __future__ import annotations

from typing import Final

from reclaim.core.domain import Domain, EventType, World
from reclaim.core.events import Event
from reclaim.core.ledger.model import CreateTransfers
from reclaim.core.rejections import Code
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals import (
    ENTITY_KINDS,
    WITHDRAWAL_EVENT_TYPES,
    WRITTEN_VERSIONS,
    AddDestination,
    ConfirmDestination,
    ConfirmWithdrawal,
    Decision,
    EventCode,
    FailWithdrawal,
    RemoveDestination,
    RequestWithdrawal,
    SetFees,
    WithdrawalsCommand,
    WithdrawalsRejection,
    WithdrawalsState,
    assert_withdrawals_invariants,
    check_withdrawals,
    decide_withdrawals,
    evolve_withdrawals,
    reserved_transfer,
)
from reclaim.core.withdrawals.codes import KINDS


def _decide(
    w: WithdrawalsState, world: World, command: WithdrawalsCommand, time: str
) -> Decision | WithdrawalsRejection:
    return decide_withdrawals(w, world.ledger, world.claims, command, time)


def _check(w: WithdrawalsState, world: World, event: Event) -> WithdrawalsRejection | None:
    return check_withdrawals(
        w, world.ledger, world.claims, event.type, event.payload, event.time, event.version
    )


def _evolve(w: WithdrawalsState, world: World, event: Event) -> None:
    evolve_withdrawals(w, world.ledger, world.claims, event.type, event.payload, event.time)


def _invariants(w: WithdrawalsState, world: World, full: bool) -> None:
    assert_withdrawals_invariants(w, world.ledger)  # O(withdrawals + rails): always


def _guard(item: object) -> WithdrawalsRejection | None:
    """A plain ledger command or event that would move a withdrawal's reserved transfer."""
    transfers: list[JsonValue] | None = None
    if isinstance(item, CreateTransfers):
        reserved = reserved_transfer(list(item.transfers))
    elif isinstance(item, Event) and item.type == "ledger.transfers_created":
        listed = item.payload.get("transfers")
        transfers = listed if isinstance(listed, list) else None
        reserved = None if transfers is None else reserved_transfer(transfers)
    else:
        return None
    if reserved is None:
        return None
    return WithdrawalsRejection(
        EventCode.transfer_id_reserved, None,
        f"{reserved!r} moves only with its withdrawal's events",
    )  # fmt: skip


DOMAIN: Final[Domain[WithdrawalsState]] = Domain(
    name="withdrawals",
    state=lambda root: root.withdrawals,
    commands={
        SetFees: "withdrawal.fees_set",
        RequestWithdrawal: "withdrawal.requested",
        ConfirmWithdrawal: "withdrawal.confirmed",
        FailWithdrawal: "withdrawal.failed",
        AddDestination: "destination.added",
        ConfirmDestination: "destination.confirmed",
        RemoveDestination: "destination.removed",
    },
    event_types={name: EventType(*entry) for name, entry in WITHDRAWAL_EVENT_TYPES.items()},
    entity_kinds=frozenset(ENTITY_KINDS),
    refused=Code.withdrawal_refused,
    decide=_decide,
    check=_check,
    evolve=_evolve,
    assert_invariants=_invariants,
    written_versions=WRITTEN_VERSIONS,
    names_creditor=True,
    guard=_guard,
    kinds=KINDS,
)
