"""A price-time priority order book: price levels kept sorted, a FIFO queue inside each level.

Layout (after nautilus_trader's ``orderbook``): per side, ``levels`` maps a price (ticks) to a
``deque`` of resting orders in arrival order, and ``keys`` lists the level keys ascending with
the **best level last** — bids keyed by price, asks by minus price — so the best level is
``keys[-1]``, removing it is ``pop()``, and walking best-first is ``reversed(keys)``. A new level
is inserted by bisection. Arrival order is order-id order (``model.order_id_of``): a resting
order is appended to its level's queue when placed, so each queue is sorted by id.

Invariants (``assert_book``): every level is non-empty and holds orders of its side and price;
``keys`` is sorted, duplicate-free and the set of level keys; ids ascend in each queue; the book
is never crossed (best bid < best ask).

``Resting`` is the one mutable record of the core: a resting order's remainder, reservation and
fee state change at every fill, in place, during ``evolve``. Nothing outside ``matching`` and
``machine`` mutates one.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from typing import Final

from reclaim.core.market.model import (
    Cancelled,
    OrderRequest,
    OrderStatus,
    SelfTradePrevention,
    Side,
    TimeInForce,
)


class Resting:
    """A resting order (mutable: remainder, reservation and fees change as it fills)."""

    __slots__ = (
        "client_id",
        "created_at",
        "entity_key",
        "executed_cash_minor",
        "executed_steps",
        "fee_basis",
        "fee_minor",
        "order_id",
        "post_only",
        "price_ticks",
        "quantity_steps",
        "remaining_steps",
        "reserved_minor",
        "self_trade_prevention",
        "side",
        "symbol",
        "time_in_force",
        "trader",
    )

    order_id: int
    trader: str
    symbol: str
    side: Side
    price_ticks: int
    quantity_steps: int
    remaining_steps: int
    reserved_minor: int
    fee_basis: int
    fee_minor: int
    executed_steps: int
    executed_cash_minor: int
    client_id: int | None
    self_trade_prevention: SelfTradePrevention
    post_only: bool
    time_in_force: TimeInForce
    created_at: str
    #: ``order/<id>``, the key ``evolve`` marks changed at each fill and at removal (built once).
    entity_key: str

    @property
    def status(self) -> OrderStatus:
        return OrderStatus.New if self.executed_steps == 0 else OrderStatus.PartiallyFilled

    def cancelled(self, reason: str) -> Cancelled:
        """The record of this order cancelled for ``reason`` (its remaining steps and
        reservation, released)."""
        return Cancelled(
            self.order_id, self.trader, self.symbol, self.side, self.remaining_steps,
            self.reserved_minor, reason,
        )  # fmt: skip

    def copy(self) -> Resting:
        twin = _bare(Resting)
        for name in Resting.__slots__:
            setattr(twin, name, getattr(self, name))
        return twin

    def __repr__(self) -> str:
        return (
            f"Resting({self.order_id}, {self.trader}, {self.side.value} "
            f"{self.remaining_steps}/{self.quantity_steps} @ {self.price_ticks}, "
            f"reserved {self.reserved_minor})"
        )


def new_resting(
    order_id: int,
    trader: str,
    request: OrderRequest,
    remaining_steps: int,
    reserved_minor: int,
    fee_basis: int,
    fee_minor: int,
    executed_steps: int,
    executed_cash_minor: int,
    created_at: str,
) -> Resting:
    """The remainder of ``request`` (a limit order: its price and quantity are set) placed at
    ``created_at`` as ``order_id``, after its fills on arrival.

    A function filling a bare instance's slots: calling a class whose ``__init__`` is Python
    goes through C (``slot_tp_init``) and costs several times a plain call, once per resting
    order on ``evolve``'s hot path."""
    assert request.price_ticks is not None
    assert request.quantity_steps is not None
    order = _bare(Resting)
    order.order_id = order_id
    order.trader = trader
    order.symbol = request.symbol
    order.side = request.side
    order.price_ticks = request.price_ticks
    order.quantity_steps = request.quantity_steps
    order.remaining_steps = remaining_steps
    order.reserved_minor = reserved_minor
    order.fee_basis = fee_basis
    order.fee_minor = fee_minor
    order.executed_steps = executed_steps
    order.executed_cash_minor = executed_cash_minor
    order.client_id = request.client_id
    order.self_trade_prevention = request.self_trade_prevention
    order.post_only = request.post_only
    order.time_in_force = request.time_in_force
    order.created_at = created_at
    order.entity_key = f"order/{order_id}"
    return order


_bare: Final = object.__new__


class BookSide:
    """One side of a book: levels by price, keys ascending with the best last."""

    __slots__ = ("keys", "levels", "side", "sign")

    def __init__(self, side: Side) -> None:
        self.side = side
        #: Key of a price: the price for bids, minus the price for asks (best = largest key).
        self.sign = 1 if side is Side.Bid else -1
        self.levels: dict[int, deque[Resting]] = {}
        self.keys: list[int] = []

    def best_price(self) -> int | None:
        return self.sign * self.keys[-1] if self.keys else None

    def add(self, order: Resting) -> None:
        price = order.price_ticks
        level = self.levels.get(price)
        if level is None:
            self.levels[price] = deque((order,))
            key = self.sign * price
            if not self.keys or key > self.keys[-1]:
                self.keys.append(key)
            else:
                bisect.insort(self.keys, key)
        else:
            level.append(order)

    def remove(self, order: Resting) -> None:
        price = order.price_ticks
        level = self.levels[price]
        if level[0] is order:
            level.popleft()
        else:
            level.remove(order)
        if not level:
            del self.levels[price]
            key = self.sign * price
            if self.keys[-1] == key:
                self.keys.pop()
            else:
                del self.keys[bisect.bisect_left(self.keys, key)]

    def walk(self) -> Iterator[tuple[int, deque[Resting]]]:
        """Levels best-first: ``(price, queue)``."""
        levels, sign = self.levels, self.sign
        for key in reversed(self.keys):
            yield sign * key, levels[sign * key]

    def depth(self, levels_max: int) -> list[tuple[int, int]]:
        """The best ``levels_max`` levels as ``(price_ticks, remaining steps)``, best first."""
        out: list[tuple[int, int]] = []
        for price, level in self.walk():
            if len(out) == levels_max:
                break
            out.append((price, sum(o.remaining_steps for o in level)))
        return out

    def orders(self) -> Iterator[Resting]:
        for _, level in self.walk():
            yield from level

    def copy(self) -> BookSide:
        twin = BookSide(self.side)
        twin.levels = {p: deque(o.copy() for o in q) for p, q in self.levels.items()}
        twin.keys = list(self.keys)
        return twin


class Book:
    """Both sides of one market's book."""

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids = BookSide(Side.Bid)
        self.asks = BookSide(Side.Ask)

    def side(self, side: Side) -> BookSide:
        return self.bids if side is Side.Bid else self.asks

    def opposite(self, side: Side) -> BookSide:
        return self.asks if side is Side.Bid else self.bids

    def copy(self) -> Book:
        twin = Book()
        twin.bids, twin.asks = self.bids.copy(), self.asks.copy()
        return twin


def crosses(taker_side: Side, limit_ticks: int | None, level_price: int) -> bool:
    """Whether a taker with ``limit_ticks`` (``None``: a market order) trades at ``level_price``."""
    if limit_ticks is None:
        return True
    return level_price <= limit_ticks if taker_side is Side.Bid else level_price >= limit_ticks


def assert_book(book: Book, symbol: str) -> None:
    """The book's structural invariants (see the module docstring)."""
    for half in (book.bids, book.asks):
        assert half.keys == sorted(set(half.keys)), f"{symbol}: keys not sorted and unique"
        assert {half.sign * k for k in half.keys} == set(half.levels), f"{symbol}: keys != levels"
        for price, level in half.levels.items():
            assert level, f"{symbol}: empty level {price}"
            ids = [o.order_id for o in level]
            assert ids == sorted(ids), f"{symbol}: level {price} not in arrival order"
            for o in level:
                assert o.side is half.side, o
                assert o.price_ticks == price, o
                assert o.symbol == symbol, o
                assert 0 < o.remaining_steps <= o.quantity_steps, o
    bid, ask = book.bids.best_price(), book.asks.best_price()
    assert bid is None or ask is None or bid < ask, f"{symbol}: crossed book {bid} >= {ask}"
