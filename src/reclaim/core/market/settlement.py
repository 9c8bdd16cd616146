"""Delivery versus payment: the ledger transfers a market event implies, checked and posted.

Accounts (``<owner>/<asset>/<purpose>``, ``reclaim.core.ledger``): a trader's cash and notes are
``<trader>/USD/creditor_available`` and ``<trader>/NOTE-<series>/creditor_available``; each
market has one escrow account per asset, ``market:<series>-USD/<asset>/market_clearing``
(``debits_must_not_exceed_credits`` on all of them), opened when the market is listed; fees go to
``<fee owner>/USD/creditor_available``.

Transfers (ids derived from order ids, so a replay makes the same ones):

| what                          | transfer                                                   |
| ----------------------------- | ---------------------------------------------------------- |
| an order rests                | ``mk:<order>`` pending, trader → escrow, its reservation   |
| a taker's fills               | ``mt:<taker>`` single, taker → escrow, what the fills use  |
| a fill, the maker's side      | ``mp:<taker>:<maker>`` posts the maker's pending for what  |
|                               | the fill uses (the rest is released); ``mk:<maker>:<taker>``|
|                               | pending re-reserves what the remainder still needs          |
| a fill, delivery and payment  | ``mf:<taker>:<maker>:n`` escrow → buyer (notes),            |
|                               | ``…:c`` escrow → seller (cash less its fee), ``…:f`` escrow |
|                               | → fee owner (both fees)                                     |
| a cancel, close or STP cancel | ``mv:<order>`` voids the order's pending transfer           |

An event's transfers are one chain, applied whole or not at all: both legs of every fill move
together (delivery versus payment), and the escrow's posted balance is back at zero after every
event. Invariant (``assert_settled``): each resting order has exactly one open pending transfer,
of its reservation; the escrow's pending credits are the sum of the resting reservations; no
other pending transfer into an escrow is open — a fill or a cancel leaves no reservation behind.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from typing import Final, NamedTuple

from reclaim.core.ledger.effects import LedgerRefused, apply_chain, first_refusal
from reclaim.core.ledger.model import (
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    PENDING,
    POST_PENDING,
    VOID_PENDING,
    Account,
    LedgerState,
    Transfer,
    account_id,
)
from reclaim.core.market.model import Cancelled, Market, Placement, Side

AVAILABLE_PURPOSE: Final = "creditor_available"
ESCROW_PURPOSE: Final = "market_clearing"
TRADE: Final = "trade"
#: The flags of every account the market opens: a holder's cash and an escrow never go below
#: zero.
NO_OVERDRAFT: Final = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})


class Moves(NamedTuple):
    """Accounts to open when missing (first), then transfers in order (one chain), and the
    resting orders' pending transfers once they apply (``order id → (id, amount)``; ``None``:
    none any more)."""

    accounts: tuple[Account, ...]
    transfers: tuple[Transfer, ...]
    pending: dict[int, tuple[str, int] | None]


#: Every market escrow account's owner starts so (the market's guard keeps plain ledger
#: commands off them).
ESCROW_OWNER_PREFIX: Final = "market:"


def escrow_owner(market: Market) -> str:
    """``market:<series>-<quote>`` (an account owner has no ``_``)."""
    return f"{ESCROW_OWNER_PREFIX}{market.series}-{market.quote_asset}"


def escrow_id(market: Market, asset: str) -> str:
    return account_id(escrow_owner(market), asset, ESCROW_PURPOSE)


def available_id(owner: str, asset: str) -> str:
    return account_id(owner, asset, AVAILABLE_PURPOSE)


def available_account(owner: str, asset: str) -> Account:
    return Account.of(owner, asset, AVAILABLE_PURPOSE, NO_OVERDRAFT)


def listing_accounts(market: Market) -> tuple[Account, ...]:
    """The market's two escrow accounts (opened when it is listed)."""
    owner = escrow_owner(market)
    return tuple(
        Account.of(owner, asset, ESCROW_PURPOSE, NO_OVERDRAFT)
        for asset in (market.quote_asset, market.base_asset)
    )


def moves_of(
    market: Market,
    pending: dict[int, tuple[str, int]],
    placements: Sequence[Placement],
    cancels: Iterable[Cancelled],
    opened: Container[str] = (),
) -> Moves:
    """The chain an event's outcome implies, given the resting orders' pending transfers
    before it (``pending`` is only read) and the ids of the accounts open (``opened``: the
    ledger's ``accounts``; the others the chain opens first)."""
    usd, notes = market.quote_asset, market.base_asset
    accounts: list[Account] = []
    transfers: list[Transfer] = []
    now: dict[int, tuple[str, int] | None] = {}

    def need(owner: str, asset: str) -> None:
        if available_id(owner, asset) not in opened:
            accounts.append(available_account(owner, asset))

    def current(order_id: int) -> tuple[str, int]:
        found = now[order_id] if order_id in now else pending.get(order_id)
        assert found is not None, f"order {order_id} has no pending transfer"
        return found

    def single(ident: str, debit: str, credit: str, asset: str, amount: int, ref: int) -> None:
        if amount:
            transfers.append(
                Transfer(ident, debit, credit, asset, amount, TRADE, {"order": str(ref)})
            )

    def void(c: Cancelled) -> None:
        ident, _ = current(c.order_id)
        transfers.append(
            Transfer(f"mv:{c.order_id}", "", "", "", 0, TRADE, {"order": str(c.order_id)},
                     VOID_PENDING, ident)
        )  # fmt: skip
        now[c.order_id] = None

    for p in placements:
        taker = p.order_id
        own = usd if p.request.side is Side.Bid else notes
        other = notes if own == usd else usd
        need(p.trader, own)
        need(p.trader, other)
        consumed = (
            p.executed_cash_minor + p.fee_minor if own == usd else sum(f.notes for f in p.fills)
        )
        single(f"mt:{taker}", available_id(p.trader, own), escrow_id(market, own), own, consumed,
               taker)  # fmt: skip
        for c in p.maker_cancels:
            void(c)
        for f in p.fills:
            maker = f.maker_order_id
            maker_asset = notes if own == usd else usd
            ident, reserved = current(maker)
            used = f.notes if maker_asset == notes else f.cash_minor + f.maker_fee_minor
            left = reserved - used - f.maker_released_minor
            assert left >= 0, (f, reserved)
            transfers.append(
                Transfer(f"mp:{taker}:{maker}", "", "", "", used, TRADE, {"order": str(maker)},
                         POST_PENDING, ident)
            )  # fmt: skip
            if left:
                new = f"mk:{maker}:{taker}"
                debit = available_id(f.maker, maker_asset)
                transfers.append(
                    Transfer(new, debit, escrow_id(market, maker_asset), maker_asset, left, TRADE,
                             {"order": str(maker)}, PENDING)
                )  # fmt: skip
                now[maker] = (new, left)
            else:
                now[maker] = None
            need(f.maker, usd)
            need(f.maker, notes)
            ref = f"mf:{taker}:{maker}"
            single(f"{ref}:n", escrow_id(market, notes), available_id(f.buyer, notes), notes,
                   f.notes, maker)  # fmt: skip
            single(f"{ref}:c", escrow_id(market, usd), available_id(f.seller, usd), usd,
                   f.cash_minor - f.seller_fee_minor, maker)  # fmt: skip
            fees = f.maker_fee_minor + f.taker_fee_minor
            if fees:
                need(market.fee_owner, usd)
            single(f"{ref}:f", escrow_id(market, usd), available_id(market.fee_owner, usd), usd,
                   fees, maker)  # fmt: skip
        if p.resting_steps:
            ident = f"mk:{taker}"
            transfers.append(
                Transfer(ident, available_id(p.trader, own), escrow_id(market, own), own,
                         p.resting_reserved_minor, TRADE, {"order": str(taker)}, PENDING)
            )  # fmt: skip
            now[taker] = (ident, p.resting_reserved_minor)
    for c in cancels:
        void(c)
    return Moves(tuple(accounts), tuple(transfers), now)


def check_moves(ledger: LedgerState, moves: Moves, time: str) -> LedgerRefused | None:
    """The first account or transfer the ledger would refuse at ``time``, or ``None``."""
    return first_refusal(ledger, moves.accounts, moves.transfers, time)


def apply_moves(
    ledger: LedgerState, pending: dict[int, tuple[str, int]], moves: Moves, time: str
) -> None:
    """Post checked moves to the ledger and update the resting orders' pending transfers."""
    apply_chain(ledger, moves.accounts, moves.transfers, time)
    for order_id, entry in moves.pending.items():
        if entry is None:
            pending.pop(order_id, None)
        else:
            pending[order_id] = entry


def assert_settled(
    ledger: LedgerState,
    markets: Iterable[Market],
    reserved: dict[int, int],
    pending: dict[int, tuple[str, int]],
) -> None:
    """Each resting order (``reserved``: id → reservation) has one open pending transfer of
    exactly its reservation; each escrow's posted balance is zero and its pending credits are
    the reservations resting in it. O(resting orders + markets)."""
    assert pending.keys() == reserved.keys(), "pending transfers != resting orders"
    held: dict[str, int] = {}
    for order_id, (ident, amount) in pending.items():
        record = ledger.transfers.get(ident)
        assert record is not None, (order_id, ident)
        assert record.status == PENDING, (order_id, record)
        assert record.transfer.amount_minor == amount == reserved[order_id], (order_id, amount)
        credit = record.transfer.credit_account_id
        held[credit] = held.get(credit, 0) + amount
    for market in markets:
        for asset in (market.quote_asset, market.base_asset):
            ident = escrow_id(market, asset)
            escrow = ledger.accounts.get(ident)
            assert escrow is not None, f"{market.symbol}: no escrow for {asset}"
            assert escrow.credits_posted == escrow.debits_posted, f"{ident} holds posted funds"
            assert escrow.debits_pending == 0, f"{ident} reserves"
            assert escrow.credits_pending == held.pop(ident, 0), f"{ident}: reservations leak"
    assert not held, f"pending transfers into unknown escrows: {held}"
