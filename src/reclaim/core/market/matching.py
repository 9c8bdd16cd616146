"""Matching one taker against a book, without changing it: the plan that ``evolve`` applies.

``plan(book, market, trader, request, order_id, first_trade_id)`` walks the opposite side
best-first, and FIFO within a level, and returns the taker's ``Placement`` (its fills and
self-trade cancels, each in walk order, its outcome and reservation) with the resting orders
those **touch** (``Plan``). It only reads the book; ``machine.evolve`` applies the touches.
Because a touched order is either filled whole, cancelled, or (the last one) filled in part,
the touched orders are always a prefix of the walk: once ``evolve`` has taken the cancelled
ones off, it finds each filled one at the front of the best level.

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

from typing import Final

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
    Placement,
    SelfTradePrevention,
    Side,
    TimeInForce,
)

SELF_TRADE: str = "self_trade"
#: Enum members as module constants, for the hot path: ``Side.Bid`` is an attribute lookup
#: on the enum class (about 70 ns in Python 3.11), a module constant a plain global load.
_STATUS_CANCELLED: Final = OrderStatus.Cancelled
_STATUS_EXPIRED: Final = OrderStatus.Expired
_STATUS_FILLED: Final = OrderStatus.Filled
_STATUS_NEW: Final = OrderStatus.New
_STATUS_PARTIALLY_FILLED: Final = OrderStatus.PartiallyFilled
_LIMIT: Final = OrderType.Limit
_MARKET: Final = OrderType.Market
_REJECT_BOTH: Final = SelfTradePrevention.RejectBoth
_REJECT_TAKER: Final = SelfTradePrevention.RejectTaker
_ASK: Final = Side.Ask
_BID: Final = Side.Bid
_FOK: Final = TimeInForce.FOK
_GTC: Final = TimeInForce.GTC
#: Builds a named tuple from its fields' tuple: half the time of calling the class (whose
#: ``__new__`` is a Python function), for the records built once per order and per fill.
record: Final = tuple.__new__
#: ``10**d`` for every price precision a market may be listed with (``_list_code``), looked up.
_POW10: Final = tuple(10**d for d in range(limits.market_price_decimals_max + 1))


#: A taker's outcome (``plan``'s answer): its ``Placement``, then what ``evolve`` applies — the
#: resting orders its fills are with (one per fill, in walk order, ``Placement.fills``'), those
#: self-trade prevention cancels (one per ``Placement.maker_cancels``), and the taker's fee basis
#: (a resting remainder keeps it). A plain tuple: it is built once per order, on the hot path.
Plan = tuple[Placement, list[Resting], list[Resting], int]

#: No maker touched (most resting limit orders): shared, never changed.
_UNTOUCHED: Final[list[Resting]] = []


def reservation_rate_bps(market: Market, request: OrderRequest) -> int:
    """The fee rate a limit Bid's reservation is computed at: the highest it may pay."""
    if request.post_only:
        return market.maker_fee_bps
    if request.time_in_force is _GTC:
        return market.max_fee_bps
    return market.taker_fee_bps


def would_take(book: Book, request: OrderRequest) -> bool:
    """Whether a limit order would match on arrival (post-only's test)."""
    best = book.opposite(request.side).best_price()
    if best is None or request.price_ticks is None:
        return best is not None
    return best <= request.price_ticks if request.side is _BID else best >= request.price_ticks


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
    is_bid = side is _BID
    opposite = book.asks if is_bid else book.bids
    keys = opposite.keys
    quantity = request.quantity_steps
    remaining = quantity if quantity is not None else 0
    lot = market.step_notes // _POW10[market.price_decimals]  # ``Market.lot_cash_minor``
    trade_id = first_trade_id
    executed = cash_total = basis = fee = 0
    stopped = bounded = budget_spent = False
    if keys:
        best = opposite.sign * keys[-1]
        crossing = limit is None or (best <= limit if is_bid else best >= limit)
    else:
        crossing = False
    if not crossing:
        fills: list[Fill] = []
        cancels: list[Cancelled] = []
        fill_makers = cancel_makers = _UNTOUCHED
    else:
        fills, cancels, fill_makers, cancel_makers = [], [], [], []
        taker_bps, maker_bps = market.taker_fee_bps, market.maker_fee_bps
        cash_cap = -1
        if request.quote_quantity_minor is not None:
            q_minor = request.quote_quantity_minor
            cash_cap = cash_cap_for_budget(q_minor, taker_bps) if is_bid else q_minor
        by_quantity = quantity is not None
        touches_max = limits.market_fills_per_order_max
        touches = 0
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
                if touches == touches_max:
                    bounded = done = True
                    break
                if maker.trader == trader:
                    if stp is _REJECT_TAKER:
                        stopped = done = True
                        break
                    touches += 1
                    cancel_makers.append(maker)
                    cancels.append(maker.cancelled(SELF_TRADE))
                    if stp is _REJECT_BOTH:
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
                touches += 1
                fill_makers.append(maker)
                fills.append(record(Fill, (
                    trade_id, symbol, maker.order_id, order_id, maker.trader, trader,
                    side, price, q, q * step_notes, cash, maker_fee, taker_fee, released,
                )))  # fmt: skip
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
    tif = request.time_in_force
    if tif is _FOK and (remaining > 0 or stopped or bounded):
        expired = Placement(order_id, trader, request, _STATUS_EXPIRED, (), (), 0, 0, 0, 0,
                            0, 0, 0)  # fmt: skip
        return expired, _UNTOUCHED, _UNTOUCHED, 0
    rests = (
        remaining > 0
        and tif is _GTC
        and request.order_type is _LIMIT
        and not stopped
        and not bounded
    )
    if rests:
        status = _STATUS_NEW if executed == 0 else _STATUS_PARTIALLY_FILLED
    elif quantity is not None and remaining == 0:
        status = _STATUS_FILLED
    elif stopped:
        status = _STATUS_CANCELLED
    elif budget_spent:
        status = _STATUS_FILLED
    else:
        status = _STATUS_EXPIRED
    # The reservation: (reserved at placement, consumed by the fills, kept by the remainder).
    if not is_bid:
        notes = market.step_notes
        consumed = executed * notes
        if quantity is None:  # sells until the quote cap: reserves what it sells
            reserved, resting_reserved = consumed, 0
        else:
            reserved, resting_reserved = quantity * notes, remaining * notes if rests else 0
    else:
        consumed = cash_total + fee
        if request.order_type is _MARKET:
            cap_minor = request.quote_quantity_minor  # no cap: reserves exactly what it costs
            reserved = consumed if cap_minor is None else cap_minor
            resting_reserved = 0
        else:
            assert limit is not None
            assert quantity is not None
            if not (market.maker_fee_bps or market.taker_fee_bps):  # no fees: the cash, exactly
                reserved = quantity * limit * lot
                resting_reserved = remaining * limit * lot if rests else 0
            else:
                reserved = bid_need_minor(
                    quantity, limit, lot, 0, 0, reservation_rate_bps(market, request)
                )
                resting_reserved = (
                    bid_need_minor(remaining, limit, lot, basis, fee, market.maker_fee_bps)
                    if rests
                    else 0
                )
    released = reserved - consumed - resting_reserved
    assert released >= 0, (request, reserved, consumed, resting_reserved)
    placement = record(Placement, (
        order_id, trader, request, status, tuple(fills) if fills else (),
        tuple(cancels) if cancels else (), reserved, released, remaining if rests else 0,
        resting_reserved, executed, cash_total, fee,
    ))  # fmt: skip
    return placement, fill_makers, cancel_makers, basis


def largest_cost_minor(market: Market, request: OrderRequest) -> int | None:
    """The most an order could reserve, known before matching (``None``: a market Bid by
    quantity, whose cost is known only from the book). Used to refuse orders beyond BIGINT."""
    if request.side is _ASK:
        if request.quantity_steps is None:
            return None
        return request.quantity_steps * market.step_notes
    if request.order_type is _MARKET:
        return request.quote_quantity_minor
    assert request.price_ticks is not None
    assert request.quantity_steps is not None
    return bid_need_minor(
        request.quantity_steps, request.price_ticks, market.lot_cash_minor, 0, 0,
        reservation_rate_bps(market, request),
    )  # fmt: skip
