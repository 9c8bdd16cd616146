"""Ledger effects of other sub-machines' events: money that moves *with* a domain event.

A distribution's executed lines, an escrow release or a round's funding are one signed event
each, and the transfers they imply are derived from the event's payload deterministically, so
the event and its money move together or not at all. ``check_effects`` runs the ledger's own
ladders (``account_ladder``, ``transfer_ladder``) over an ``Overlay`` — the accounts the event
opens first, then its transfers in order, each seeing the ones before it — and
``apply_effects`` applies them to the state. Accounts already open are skipped (deterministic on
replay: the same state opens the same accounts).

Only ``single`` transfers: a domain event that needs a reservation uses the ledger's pending
transfers through its own payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from reclaim.core.ledger.codes import AccountCode, TransferCode
from reclaim.core.ledger.engine import (
    Overlay,
    View,
    account_ladder,
    apply_transfer,
    transfer_ladder,
)
from reclaim.core.ledger.model import SINGLE, Account, LedgerState, Transfer


class Effects(NamedTuple):
    """Accounts to open if missing (first), then single transfers (in order)."""

    accounts: tuple[Account, ...]
    transfers: tuple[Transfer, ...]


class EffectRefused(NamedTuple):
    """Which effect the ledger refused (``account`` or ``transfer``, its position) and why."""

    what: str
    position: int
    code: AccountCode | TransferCode
    ident: str

    def __str__(self) -> str:
        return f"{self.what} {self.ident!r}: {self.code.name}"


def missing_accounts(view: View, accounts: Sequence[Account]) -> list[Account]:
    """``accounts`` that are not open yet, first occurrence of each id, in order."""
    seen: set[str] = set()
    out: list[Account] = []
    for account in accounts:
        if account.id in seen or view.account(account.id) is not None:
            continue
        seen.add(account.id)
        out.append(account)
    return out


def check_effects(ledger: LedgerState, effects: Effects, time: str) -> EffectRefused | None:
    """The first effect the ledger would refuse at ``time``, or ``None``."""
    view = Overlay(ledger)
    for index, account in enumerate(missing_accounts(view, effects.accounts)):
        account_code, _ = account_ladder(view, account)
        if account_code is not AccountCode.ok:
            return EffectRefused("account", index, account_code, account.id)
        view.put_account(account)
    for index, transfer in enumerate(effects.transfers):
        assert transfer.kind == SINGLE, "effects are single transfers"
        transfer_code, _ = transfer_ladder(view, transfer, time)
        if transfer_code is not TransferCode.ok:
            return EffectRefused("transfer", index, transfer_code, transfer.id)
        apply_transfer(view, transfer, time, "")
    return None


def apply_effects(ledger: LedgerState, effects: Effects, time: str) -> None:
    """Apply checked effects to ``ledger`` in place."""
    for account in missing_accounts(ledger, effects.accounts):
        ledger.put_account(account)
    for transfer in effects.transfers:
        apply_transfer(ledger, transfer, time, "")
