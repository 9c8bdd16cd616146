"""Checking a market's moves leaves them as they were, so the same moves can then be applied."""

from __future__ import annotations

from reclaim.core.ledger import Account, LedgerState, Transfer, evolve_ledger
from reclaim.core.market.settlement import Moves, apply_moves, check_moves

TIME = "2026-12-07T10:00:00.000000Z"


def _ledger() -> LedgerState:
    ledger = LedgerState()
    funding = Account.of("bank", "USD", "funding")
    evolve_ledger(ledger, "ledger.accounts_opened", {"accounts": [_opened(funding)]}, TIME)
    return ledger


def _opened(account: Account) -> dict[str, object]:
    return {"id": account.id, "asset": account.asset, "owner": account.owner,
            "purpose": account.purpose, "flags": sorted(account.flags)}  # fmt: skip


def test_checking_moves_does_not_change_them_and_they_apply_once() -> None:
    ledger = _ledger()
    buyer = Account.of("bob", "USD", "creditor_available")
    moves = Moves(
        (buyer,),
        (Transfer("m-1", "bank/USD/funding", buyer.id, "USD", 700, "funding"),),
        {},
    )
    assert check_moves(ledger, moves, TIME) is None
    assert (buyer.credits_posted, buyer.debits_posted) == (0, 0), "check changed the moves"
    assert buyer.id not in ledger.accounts, "check changed the ledger"
    apply_moves(ledger, {}, moves, TIME)
    assert ledger.accounts[buyer.id].credits_posted == 700
