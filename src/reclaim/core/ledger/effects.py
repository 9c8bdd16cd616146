"""Ledger effects of other sub-machines' events: money that moves *with* a domain event.

A distribution's executed lines, an escrow release or a round's funding are one signed event
each, and the transfers they imply are derived from the event's payload deterministically, so
the event and its money move together or not at all. ``check_effects`` runs the ledger's own
ladders (``account_ladder``, ``transfer_ladder``) over an ``Overlay`` — the accounts the event
opens first, then its transfers in order, each seeing the ones before it (``first_refusal``) —
and ``apply_effects`` applies them to the state (``apply_chain``). The market's moves and the
notes' pass-through splits are checked and applied by the same two functions. Accounts already
open are skipped (deterministic on replay: the same state opens the same accounts).

Only ``single`` transfers: a domain event that needs a reservation uses the ledger's pending
transfers through its own payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from reclaim.core.ledger.codes import AccountCode, TransferCode
from reclaim.core.ledger.engine import (
    Overlay,
    View,
    account_ladder,
    apply_transfer,
    resolved,
    transfer_ladder,
)
from reclaim.core.ledger.model import SINGLE, Account, LedgerState, Transfer


class Effects(NamedTuple):
    """Accounts to open if missing (first), then single transfers (in order)."""

    accounts: tuple[Account, ...]
    transfers: tuple[Transfer, ...]


class LedgerRefused(NamedTuple):
    """Which account (``account``: its position among those to open) or transfer
    (``transfer``: its position in the chain) the ledger refused, and why."""

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


def first_refusal(
    ledger: LedgerState, accounts: Iterable[Account], transfers: Iterable[Transfer], time: str
) -> LedgerRefused | None:
    """The first of ``accounts`` (those not open yet, the first of each id) or ``transfers`` (in
    order, each seeing the ones before it) the ledger would refuse at ``time``, or ``None``.

    A new account enters the overlay as a copy: the overlay posts to it, and the caller's
    accounts must stay as they were to be applied after (else they would be credited twice).
    """
    view = Overlay(ledger)
    seen: set[str] = set()
    for index, account in enumerate(accounts):
        if account.id in seen or view.account(account.id) is not None:
            continue
        seen.add(account.id)
        account_code, _ = account_ladder(view, account)
        if account_code is not AccountCode.ok:
            return LedgerRefused("account", index, account_code, account.id)
        view.put_account(account.copy())
    for index, transfer in enumerate(transfers):
        transfer_code, record = transfer_ladder(view, transfer, time)
        if transfer_code is not TransferCode.ok:
            return LedgerRefused("transfer", index, transfer_code, transfer.id)
        apply_transfer(view, resolved(transfer, record), time, "")
    return None


def apply_chain(
    ledger: LedgerState, accounts: Sequence[Account], transfers: Iterable[Transfer], time: str
) -> None:
    """Apply accounts and transfers ``first_refusal`` accepted to ``ledger`` in place: the
    missing accounts opened, then the transfers in order (a post or void resolved against its
    pending transfer)."""
    for account in missing_accounts(ledger, accounts):
        ledger.put_account(account)
    for transfer in transfers:
        pending = ledger.transfer(transfer.pending_id) if transfer.pending_id else None
        apply_transfer(ledger, resolved(transfer, pending), time, "")


def check_effects(ledger: LedgerState, effects: Effects, time: str) -> LedgerRefused | None:
    """The first effect the ledger would refuse at ``time``, or ``None``."""
    assert all(t.kind == SINGLE for t in effects.transfers), "effects are single transfers"
    return first_refusal(
        ledger, missing_accounts(ledger, effects.accounts), effects.transfers, time
    )


def apply_effects(ledger: LedgerState, effects: Effects, time: str) -> None:
    """Apply checked effects to ``ledger`` in place."""
    apply_chain(ledger, effects.accounts, effects.transfers, time)
