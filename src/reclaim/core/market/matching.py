"""Matching one taker against a book, without changing it: the plan that ``evolve`` applies.

``plan(book, market, trader, request, order_id, first_trade_id)`` walks the opposite side
best-first, and FIFO within a level, and returns every **touch** (a fill, or a resting order
cancelled by self-trade prevention) in walk order, with the taker's outcome and reservation.
It only reads the book; ``machine.evolve`` applies the touches. Because a touched order is
either filled whole, cancelled, or (the last one) filled in part, the touched orders are always
a prefix of the walk: ``evolve`` finds each at the front of the best level.

Rules
-----
- **Price**: a fill is at the resting order's price; a Bid takes levels priced ≤ its limit, an
  Ask levels ≥ its limit; a market order takes any level.
- **Time**: within a level, the earliest order (lowest id) first.
- **Quantity**: a fill is ``min(taker remainder, maker remainder)`` steps; a quote-quantity
  market order also stops at its cash cap (``amounts.cash_cap_for_budget`` for a Bid, whose
  budget includes fees; the gross cash for an Ask) and fills only whole steps.
- **Self-trade prevention**, by the taker's mode, when the next resting order is the taker's
  own: ``RejectTaker`` stops the taker (its remainder is cancelled, the resting order stays);
  ``RejectMaker`` cancels the resting order and goes on; ``RejectBoth`` cancels it and stops.
- **FOK**: when the walk cannot fill the whole quantity (the book is short, self-trade
  prevention stops it, the fill bound is reached), nothing happens at all: no fill and no
  self-trade cancel; the order is ``Expired``.
- **Bound**: at most ``limits.market_fills_per_order_max`` touches; a taker that reaches it is
  not rested (its remainder would cross the book) but expired.
- **Resting**: a ``GTC`` limit order with a remainder, not stopped, rests at its price.

A post-only order that would cross, and an order its trader cannot pay for, are refused by the
ladder (``machine``) before or after planning; ``plan`` itself never refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from reclaim.core import limits
from reclaim.core.market.amounts import (
    bid_need_minor,
    cash_cap_for_budget,
    fee_increment_minor,
)
from reclaim.core.market.book import Book, Resting
from reclaim.core.market.model import (
    Cancelled,
    Fill,
    Market,
    OrderRequest,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)

SELF_TRADE: str = "self_trade"


@dataclass(slots=True)
class Plan:
    """A taker's outcome: touches in walk order, then its own figures (see ``Placement``).

    Not frozen, only because a frozen record costs about 1 µs more to build, once per order
    (``bench_matching``); nothing changes a plan once ``plan`` returns it."""

    touches: tuple[tuple[Resting, Fill | Cancelled], ...]
    #: The touches' fills and self-trade cancels, each in walk order (``Placement``'s).
    fills: tuple[Fill, ...]
    cancels: tuple[Cancelled, ...]
    status: OrderStatus
    rests: bool
    executed_steps: int
    executed_cash_minor: int
    fee_basis: int
    fee_minor: int
    remaining_steps: int
    reserved_minor: int
    released_minor: int
    resting_reserved_minor: int
    next_trade_id: int


def reservation_rate_bps(market: Market, request: OrderRequest) -> int:
    """The fee rate a limit Bid's reservation is computed at: the highest it may pay."""
    if request.post_only:
        return market.maker_fee_bps
    if request.time_in_force is TimeInForce.GTC:
        return market.max_fee_bps
    return market.taker_fee_bps


def would_take(book: Book, request: OrderRequest) -> bool:
    """Whether a limit order would match on arrival (post-only's test)."""
    best = book.opposite(request.side).best_price()
    if best is None or request.price_ticks is None:
        return best is not None
    return best <= request.price_ticks if request.side is Side.Bid else best >= request.price_ticks


def plan(
    book: Book,
    market: Market,
    trader: str,
    request: OrderRequest,
    order_id: int,
    first_trade_id: int,
) -> Plan:
    """The outcome of placing ``request`` now (the book is only read).

    The hot path of the market (every placement and every replayed one): locals only, no call
    per level or per maker beyond the records it builds, and no walk at all when the opposite
    best does not cross (most resting limit orders).
    """
    side, limit = request.side, request.price_ticks
    is_bid = side is Side.Bid
    opposite = book.asks if is_bid else book.bids
    keys = opposite.keys
    quantity = request.quantity_steps
    remaining = quantity if quantity is not None else 0
    touches: list[tuple[Resting, Fill | Cancelled]] = []
    fills: list[Fill] = []
    cancels: list[Cancelled] = []
    executed = cash_total = basis = fee = 0
    lot = market.step_notes // 10**market.price_decimals
    trade_id = first_trade_id
    stopped = bounded = budget_spent = False
    if keys:
        best = opposite.sign * keys[-1]
        crossing = limit is None or (best <= limit if is_bid else best >= limit)
    else:
        crossing = False
    if crossing:
        taker_bps, maker_bps = market.taker_fee_bps, market.maker_fee_bps
        cash_cap = -1
        if request.quote_quantity_minor is not None:
            q_minor = request.quote_quantity_minor
            cash_cap = cash_cap_for_budget(q_minor, taker_bps) if is_bid else q_minor
        by_quantity = quantity is not None
        touches_max = limits.market_fills_per_order_max
        stp = request.self_trade_prevention
        symbol, step_notes = market.symbol, market.step_notes
        done = False
        sign, levels = opposite.sign, opposite.levels
        for key in reversed(keys):  # best first (``BookSide.walk``, inlined)
            price = sign * key
            if limit is not None and (price > limit if is_bid else price < limit):
                break
            level = levels[price]
            unit = price * lot
            for maker in level:
                if len(touches) == touches_max:
                    bounded = done = True
                    break
                if maker.trader == trader:
                    if stp is SelfTradePrevention.RejectTaker:
                        stopped = done = True
                        break
                    cancel = maker.cancelled(SELF_TRADE)
                    touches.append((maker, cancel))
                    cancels.append(cancel)
                    if stp is SelfTradePrevention.RejectBoth:
                        stopped = done = True
                        break
                    continue
                q = maker.remaining_steps
                if by_quantity and remaining < q:
                    q = remaining
                if cash_cap >= 0:
                    affordable = (cash_cap - cash_total) // unit
                    if affordable < q:  # the budget ends within this order: fill what it buys
                        q = affordable
                        budget_spent = done = True
                        if q == 0:
                            break
                cash = unit * q
                taker_fee = maker_fee = 0
                if taker_bps:
                    taker_fee = fee_increment_minor(basis, cash, taker_bps)
                    basis += cash * taker_bps
                    fee += taker_fee
                if maker_bps:
                    maker_fee = fee_increment_minor(maker.fee_basis, cash, maker_bps)
                released = 0
                if not is_bid:  # the maker is a resting Bid: keep only what its remainder needs
                    need = bid_need_minor(
                        maker.remaining_steps - q, maker.price_ticks, lot,
                        maker.fee_basis + cash * maker_bps, maker.fee_minor + maker_fee, maker_bps,
                    )  # fmt: skip
                    released = maker.reserved_minor - cash - maker_fee - need
                    assert released >= 0, (maker, released)
                fill = Fill(
                    trade_id, symbol, maker.order_id, order_id, maker.trader, trader,
                    side, price, q, q * step_notes, cash, maker_fee, taker_fee, released,
                )  # fmt: skip
                touches.append((maker, fill))
                fills.append(fill)
                trade_id += 1
                executed += q
                cash_total += cash
                if by_quantity:
                    remaining -= q
                    if remaining == 0:
                        done = True
                if done:
                    break
            if done:
                break
    if request.time_in_force is TimeInForce.FOK and (remaining > 0 or stopped or bounded):
        return Plan((), (), (), OrderStatus.Expired, False, 0, 0, 0, 0, quantity or 0, 0, 0, 0,
                    first_trade_id)  # fmt: skip
    rests = (
        remaining > 0
        and request.order_type is OrderType.Limit
        and request.time_in_force is TimeInForce.GTC
        and not stopped
        and not bounded
    )
    if quantity is not None and remaining == 0:
        status = OrderStatus.Filled
    elif rests:
        status = OrderStatus.New if executed == 0 else OrderStatus.PartiallyFilled
    elif stopped:
        status = OrderStatus.Cancelled
    elif budget_spent:
        status = OrderStatus.Filled
    else:
        status = OrderStatus.Expired
    reserved, consumed, resting_reserved = _reservation(
        market, lot, request, executed, cash_total, basis, fee, remaining, rests
    )
    released = reserved - consumed - resting_reserved
    assert released >= 0, (request, reserved, consumed, resting_reserved)
    if not touches:
        return Plan((), (), (), status, rests, 0, 0, 0, 0, remaining if quantity is not None else 0,
                    reserved, released, resting_reserved, trade_id)  # fmt: skip
    return Plan(
        tuple(touches), tuple(fills), tuple(cancels), status, rests, executed, cash_total, basis,
        fee, remaining if quantity is not None else 0, reserved, released, resting_reserved,
        trade_id,
    )  # fmt: skip


def _reservation(
    market: Market,
    lot: int,
    request: OrderRequest,
    executed: int,
    cash_total: int,
    basis: int,
    fee: int,
    remaining: int,
    rests: bool,
) -> tuple[int, int, int]:
    """``(reserved at placement, consumed by the fills, kept by the resting remainder)``."""
    if request.side is Side.Ask:
        notes = market.step_notes
        consumed = executed * notes
        held = remaining * notes if rests else 0
        if request.quantity_steps is None:  # sells until the quote cap: reserves what it sells
            return consumed, consumed, 0
        return request.quantity_steps * notes, consumed, held
    consumed = cash_total + fee
    if request.order_type is OrderType.Market:
        if request.quote_quantity_minor is not None:
            return request.quote_quantity_minor, consumed, 0
        return consumed, consumed, 0  # no limit price: reserves exactly what it costs
    assert request.price_ticks is not None
    assert request.quantity_steps is not None
    price = request.price_ticks
    if not (market.maker_fee_bps or market.taker_fee_bps):  # no fees: the cash, exactly
        return (
            request.quantity_steps * price * lot,
            consumed,
            remaining * price * lot if rests else 0,
        )
    reserved = bid_need_minor(
        request.quantity_steps, price, lot, 0, 0, reservation_rate_bps(market, request)
    )
    held = bid_need_minor(remaining, price, lot, basis, fee, market.maker_fee_bps) if rests else 0
    return reserved, consumed, held


def largest_cost_minor(market: Market, request: OrderRequest) -> int | None:
    """The most an order could reserve, known before matching (``None``: a market Bid by
    quantity, whose cost is known only from the book). Used to refuse orders beyond BIGINT."""
    if request.side is Side.Ask:
        if request.quantity_steps is None:
            return None
        return request.quantity_steps * market.step_notes
    if request.order_type is OrderType.Market:
        return request.quote_quantity_minor
    assert request.price_ticks is not None
    assert request.quantity_steps is not None
    return bid_need_minor(
        request.quantity_steps, request.price_ticks, market.lot_cash_minor, 0, 0,
        reservation_rate_bps(market, request),
    )  # fmt: skip
