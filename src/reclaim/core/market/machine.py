"""decide, evolve and the invariants of the market core (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, NamedTuple, assert_never

from reclaim.core import limits, money
from reclaim.core.domain import Entities, entity_fields, keys_of
from reclaim.core.limits import client_id_max
from reclaim.core.market.amounts import bid_need_minor, fee_total_minor
from reclaim.core.market.book import Book, Resting, assert_book, new_resting
from reclaim.core.market.codes import (
    CancelCode,
    EventCode,
    ListCode,
    MarketRejection,
    OrderCode,
    StatusCode,
)
from reclaim.core.market.matching import largest_cost_minor, plan, record, would_take
from reclaim.core.market.model import (
    ACTOR_RE,
    SYMBOL_RE,
    USD,
    CancelAll,
    Cancelled,
    CancelOrder,
    Decision,
    ListMarket,
    Market,
    MarketCommand,
    MarketContext,
    MarketEvent,
    MarketListed,
    MarketStatus,
    MarketStatusSet,
    OrderRequest,
    OrdersCancelled,
    OrdersPlaced,
    OrderType,
    Placement,
    PlaceOrders,
    Refused,
    SetMarketStatus,
    Side,
    TimeInForce,
    Trade,
    order_id_of,
    pow10,
)
from reclaim.core.market.payloads import market_payload
from reclaim.core.types import JsonValue

USER: Final = "user"
MARKET_CLOSED: Final = "market_closed"
#: The status a market is listed in: an operator opens it once its terms are checked.
LISTED_STATUS: Final = MarketStatus.Closed
#: ``Side.Bid`` as a module constant for ``evolve``'s hot path (see ``matching._BID``).
_BID: Final = Side.Bid


# State ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class MarketState(Entities):
    """Markets, their status and books, every resting order, and the indexes over them.

    ``orders`` holds resting orders only (a filled, expired or cancelled order leaves the state:
    its history is the log). Indexes, kept by ``evolve`` and recomputed by
    ``assert_invariants``: ``open_by_trader`` ((trader, symbol) → resting ids) and
    ``client_ids`` ((trader, symbol, client id) → resting id). ``next_trade_id`` numbers each
    market's trades from 1. ``changed`` collects the entity keys evolve touched.
    """

    markets: dict[str, Market] = field(default_factory=dict)
    status: dict[str, MarketStatus] = field(default_factory=dict)
    books: dict[str, Book] = field(default_factory=dict)
    next_trade_id: dict[str, int] = field(default_factory=dict)
    orders: dict[int, Resting] = field(default_factory=dict)
    open_by_trader: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    client_ids: dict[tuple[str, str, int], int] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    #: Resting order id → its open pending ledger transfer ``(id, amount)`` (the ledger
    #: wiring's, ``settlement``; the batch fork leaves it empty: ``decide`` never reads it).
    pending: dict[int, tuple[str, int]] = field(default_factory=dict)
    #: Symbol → every fill of the market, in log order (trades, fills history, ticker, klines
    #: and the note holdings at a record position are read from it).
    trades: dict[str, list[Trade]] = field(default_factory=dict)

    def fork(self, symbols: Iterable[str]) -> MarketState:
        """A copy in which the books of ``symbols`` (and their orders) may be changed freely;
        other books are shared and must not be (a batch's scratch state)."""
        twin = MarketState(
            dict(self.markets), dict(self.status), dict(self.books), dict(self.next_trade_id),
            dict(self.orders), {k: set(v) for k, v in self.open_by_trader.items()},
            dict(self.client_ids),
        )  # fmt: skip
        for symbol in set(symbols) & set(self.books):
            book = self.books[symbol].copy()
            twin.books[symbol] = book
            for half in (book.bids, book.asks):
                for order in half.orders():
                    twin.orders[order.order_id] = order
        return twin

    # The digest's view.

    def entity_keys(self) -> list[str]:
        """Every entity: ``market/<symbol>``, then ``order/<id>`` (resting), each sorted."""
        return keys_of(("market", self.markets), ("order", self.orders))

    def entity(self, key: str) -> JsonValue:
        kind, _, ident = key.partition("/")
        if kind == "market" and ident in self.markets:
            return {
                **market_payload(self.markets[ident]),
                "status": self.status[ident].value,
                "next_trade_id": str(self.next_trade_id[ident]),
            }
        if kind == "order" and ident.isdigit() and int(ident) in self.orders:
            return entity_fields(
                self.orders[int(ident)], "trader", "symbol", "side", "price_ticks",
                "quantity_steps", "remaining_steps", "reserved_minor", "fee_basis", "fee_minor",
                "executed_cash_minor", "client_id", "self_trade_prevention", "post_only",
                "created_at",
            )  # fmt: skip
        return None


# decide -----------------------------------------------------------------------------------------


def decide(
    state: MarketState, ctx: MarketContext, command: MarketCommand, sequence: int, time: str
) -> Decision | MarketRejection:
    """The event ``command`` implies at log position ``sequence`` and ``time``, with its derived
    outcome, or why it is refused. ``state`` is not changed."""
    if isinstance(command, PlaceOrders):
        return _decide_place(state, ctx, command, sequence, time)
    if isinstance(command, CancelOrder):
        return _decide_cancel(state, command, sequence, time)
    if isinstance(command, CancelAll):
        return _decide_cancel_all(state, command, sequence, time)
    if isinstance(command, ListMarket):
        return _decide_list(state, command.market, sequence, time)
    if isinstance(command, SetMarketStatus):
        return _decide_status(state, command, sequence, time)
    assert_never(command)


def _decide_list(
    state: MarketState, m: Market, sequence: int, time: str
) -> Decision | MarketRejection:
    code = _list_code(m)
    if code is ListCode.ok and m.symbol in state.markets:
        code = ListCode.exists if state.markets[m.symbol] == m else (
            ListCode.market_exists_with_different_terms
        )  # fmt: skip
    elif code is ListCode.ok and len(state.markets) >= limits.market_markets_max:
        code = ListCode.markets_exceeded
    if code is ListCode.exists:
        return Decision(None)
    if code is not ListCode.ok:
        return MarketRejection(code, None, f"market {m.symbol!r}: {code.name}")
    return Decision(MarketListed(sequence, time, m))


def _list_code(m: Market) -> ListCode:
    match = SYMBOL_RE.fullmatch(m.symbol) if isinstance(m.symbol, str) else None
    if match is None:
        return ListCode.symbol_malformed
    if match.group(1) != m.series or match.group(2) != m.quote_asset:
        return ListCode.symbol_mismatch
    if m.quote_asset != USD:
        return ListCode.quote_asset_unsupported
    if not _int_in(m.price_decimals, 0, limits.market_price_decimals_max):
        return ListCode.price_decimals_out_of_range
    if not _int_in(m.step_notes, 1, limits.integer_max):
        return ListCode.step_out_of_range
    if m.step_notes % pow10(m.price_decimals):
        return ListCode.lot_cash_not_whole
    if not _int_in(m.min_quantity_steps, 1, limits.market_quantity_steps_max):
        return ListCode.min_quantity_out_of_range
    fees = (m.maker_fee_bps, m.taker_fee_bps)
    if not all(_int_in(b, 0, limits.market_fee_bps_max) for b in fees):
        return ListCode.fee_bps_out_of_range
    if not isinstance(m.fee_owner, str) or not ACTOR_RE.fullmatch(m.fee_owner):
        return ListCode.fee_owner_malformed
    return ListCode.ok


def _decide_status(
    state: MarketState, command: SetMarketStatus, sequence: int, time: str
) -> Decision | MarketRejection:
    if command.symbol not in state.markets:
        return MarketRejection(StatusCode.market_not_found, None, f"no market {command.symbol!r}")
    if state.status[command.symbol] is command.status:
        return Decision(None)
    event = MarketStatusSet(sequence, time, command.symbol, command.status)
    cancels: tuple[Cancelled, ...] = ()
    if command.status is MarketStatus.Closed:
        cancels = tuple(o.cancelled(MARKET_CLOSED) for o in _resting_in(state, command.symbol))
    return Decision(event, cancels=cancels)


def _decide_place(
    state: MarketState, ctx: MarketContext, command: PlaceOrders, sequence: int, time: str
) -> Decision | MarketRejection:
    orders = command.orders
    if not orders:
        return MarketRejection(EventCode.batch_empty, None, "a batch with no order")
    if len(orders) > limits.market_batch_orders_max:
        return MarketRejection(
            EventCode.batch_too_large, None, f"more than {limits.market_batch_orders_max} orders"
        )
    trader = command.trader
    if not isinstance(trader, str) or not ACTOR_RE.fullmatch(trader):
        return MarketRejection(OrderCode.trader_malformed, None, f"trader {trader!r}")
    if len(orders) == 1:
        decided = _decide_order(state, ctx, {}, trader, orders[0], order_id_of(sequence, 0))
        if isinstance(decided, MarketRejection):
            return decided
        single = OrdersPlaced(sequence, time, trader, orders, command.authorisation)
        return Decision(single, placements=(decided,))
    work = state.fork(o.symbol for o in orders)
    deltas: dict[tuple[str, str], int] = {}
    accepted: list[OrderRequest] = []
    placements: list[Placement] = []
    refused: list[Refused] = []
    for position, request in enumerate(orders):
        order_id = order_id_of(sequence, len(accepted))
        decided = _decide_order(work, ctx, deltas, trader, request, order_id)
        if isinstance(decided, MarketRejection):
            refused.append(Refused(position, decided.code, decided.detail))
            continue
        accepted.append(request)
        placements.append(decided)
        _place(work, trader, request, order_id, time)
        market = work.markets[request.symbol]
        for (owner, asset, bucket), delta in placement_moves(market, decided).items():
            if bucket == AVAILABLE:
                deltas[owner, asset] = deltas.get((owner, asset), 0) + delta
    event = (
        OrdersPlaced(sequence, time, trader, tuple(accepted), command.authorisation)
        if accepted
        else None
    )
    return Decision(event, placements=tuple(placements), refused=tuple(refused))


def _refuse(code: OrderCode, detail: str) -> MarketRejection:
    return MarketRejection(code, None, detail)


def _decide_order(
    state: MarketState,
    ctx: MarketContext,
    deltas: dict[tuple[str, str], int],
    trader: str,
    r: OrderRequest,
    order_id: int,
) -> Placement | MarketRejection:
    """One order's ladder (``OrderCode`` order), then its plan."""
    code = _request_code(r)
    if code is not OrderCode.ok:
        return _refuse(code, f"order: {code.name}")
    market = state.markets.get(r.symbol)
    if market is None:
        return _refuse(OrderCode.market_not_found, f"no market {r.symbol!r}")
    status = state.status[r.symbol]
    if status is MarketStatus.Closed:
        return _refuse(OrderCode.market_closed, f"{r.symbol} is closed")
    if status is MarketStatus.CancelOnly:
        return _refuse(OrderCode.market_cancel_only, f"{r.symbol} takes cancels only")
    if r.price_ticks is not None and r.price_ticks > market.max_price_ticks:
        return _refuse(OrderCode.price_above_maximum, f"price above {market.max_price_ticks} ticks")
    if r.quantity_steps is not None and r.quantity_steps < market.min_quantity_steps:
        return _refuse(OrderCode.quantity_below_minimum, f"below {market.min_quantity_steps} steps")
    if not _value_fits(market, r):
        return _refuse(OrderCode.order_value_exceeds_bigint, "the order's cost exceeds BIGINT")
    refusal = ctx.trading_refusal(trader, r.side)
    if refusal is not None:
        assert refusal in ("kyc_not_verified", "buyer_not_allowed"), refusal
        return _refuse(OrderCode[refusal], f"{trader} may not place a {r.side.value}")
    may_rest = r.order_type is OrderType.Limit and r.time_in_force is TimeInForce.GTC
    if r.client_id is not None and (trader, r.symbol, r.client_id) in state.client_ids:
        return _refuse(OrderCode.client_id_in_use, f"client id {r.client_id} rests already")
    if may_rest and (
        len(state.open_by_trader.get((trader, r.symbol), ()))
        >= limits.market_open_orders_per_trader_max
    ):
        return _refuse(OrderCode.open_orders_exceeded, f"{trader} has the most resting orders")
    asset = market.quote_asset if r.side is Side.Bid else market.base_asset
    available = ctx.available_minor(trader, asset) + deltas.get((trader, asset), 0)
    largest = largest_cost_minor(market, r)
    if largest is not None and largest > available:
        return _refuse(OrderCode.insufficient_funds, f"needs {largest} {asset}, has {available}")
    book = state.books[r.symbol]
    if r.post_only and would_take(book, r):
        return _refuse(OrderCode.post_only_would_take, "a post-only order would match")
    placement = plan(book, market, trader, r, order_id, state.next_trade_id[r.symbol])[0]
    if placement.reserved_minor > available:
        return _refuse(
            OrderCode.insufficient_funds,
            f"needs {placement.reserved_minor} {asset}, has {available}",
        )
    return placement


def _request_code(r: OrderRequest) -> OrderCode:
    """The order's own rungs (no state)."""
    if r.client_id is not None and not _int_in(r.client_id, 0, client_id_max):
        return OrderCode.client_id_out_of_range
    is_limit = r.order_type is OrderType.Limit
    if is_limit and r.price_ticks is None:
        return OrderCode.price_missing
    if not is_limit and r.price_ticks is not None:
        return OrderCode.price_not_allowed
    if r.quantity_steps is None and (is_limit or r.quote_quantity_minor is None):
        return OrderCode.quantity_missing
    if r.quote_quantity_minor is not None and (is_limit or r.quantity_steps is not None):
        return OrderCode.quantity_ambiguous
    if r.post_only is not False and (not is_limit or r.time_in_force is not TimeInForce.GTC):
        return OrderCode.post_only_not_allowed
    if r.price_ticks is not None and not _int_in(r.price_ticks, 1, limits.integer_max):
        return OrderCode.price_out_of_range
    if r.quantity_steps is not None and not _int_in(
        r.quantity_steps, 1, limits.market_quantity_steps_max
    ):
        return OrderCode.quantity_out_of_range
    if r.quote_quantity_minor is not None and not _int_in(
        r.quote_quantity_minor, 1, limits.integer_max
    ):
        return OrderCode.quote_quantity_out_of_range
    if r.quote_quantity_minor is not None and r.time_in_force is TimeInForce.FOK:
        return OrderCode.fok_needs_quantity
    return OrderCode.ok


def _value_fits(market: Market, r: OrderRequest) -> bool:
    """Every amount the order can move fits a BIGINT: its notes, and its cash (with fees) at
    the highest price a market allows."""
    if r.quantity_steps is None:
        return True  # a quote quantity is a BIGINT already, and cash never exceeds it
    notes = r.quantity_steps * market.step_notes
    cash = bid_need_minor(
        r.quantity_steps, market.max_price_ticks, market.lot_cash_minor, 0, 0, market.max_fee_bps
    )
    return money.is_bigint(notes) and money.is_bigint(cash)


def _decide_cancel(
    state: MarketState, c: CancelOrder, sequence: int, time: str
) -> Decision | MarketRejection:
    code = CancelCode.ok
    if not isinstance(c.trader, str) or not ACTOR_RE.fullmatch(c.trader):
        code = CancelCode.trader_malformed
    elif c.order_id is None and c.client_id is None:
        code = CancelCode.order_ref_missing
    elif c.order_id is not None and c.client_id is not None:
        code = CancelCode.order_ref_ambiguous
    elif c.client_id is not None and not _int_in(c.client_id, 0, client_id_max):
        code = CancelCode.client_id_out_of_range
    elif c.symbol not in state.markets:
        code = CancelCode.market_not_found
    elif state.status[c.symbol] is MarketStatus.Closed:
        code = CancelCode.market_closed
    if code is not CancelCode.ok:
        return MarketRejection(code, None, f"cancel: {code.name}")
    if c.client_id is not None:
        order_id = state.client_ids.get((c.trader, c.symbol, c.client_id))
    else:
        order_id = c.order_id
    order = state.orders.get(order_id) if type(order_id) is int else None
    if order is None or order.trader != c.trader or order.symbol != c.symbol:
        return MarketRejection(CancelCode.order_not_found, None, "no such resting order")
    event = OrdersCancelled(sequence, time, c.trader, c.symbol, (order.order_id,),
                            c.authorisation)  # fmt: skip
    return Decision(event, cancels=(order.cancelled(USER),))


def _decide_cancel_all(
    state: MarketState, c: CancelAll, sequence: int, time: str
) -> Decision | MarketRejection:
    if not isinstance(c.trader, str) or not ACTOR_RE.fullmatch(c.trader):
        return MarketRejection(CancelCode.trader_malformed, None, f"trader {c.trader!r}")
    if c.symbol not in state.markets:
        return MarketRejection(CancelCode.market_not_found, None, f"no market {c.symbol!r}")
    if state.status[c.symbol] is MarketStatus.Closed:
        return MarketRejection(CancelCode.market_closed, None, f"{c.symbol} is closed")
    ids = sorted(state.open_by_trader.get((c.trader, c.symbol), ()))
    if not ids:
        return Decision(None)
    event = OrdersCancelled(sequence, time, c.trader, c.symbol, tuple(ids), c.authorisation)
    return Decision(event, cancels=tuple(state.orders[i].cancelled(USER) for i in ids))


# evolve -----------------------------------------------------------------------------------------


class Outcome(NamedTuple):
    """What applying an event did (the same figures ``decide`` reported); a named tuple, as
    the outcomes of ``model`` are (built once per event on the replay's hot path)."""

    placements: tuple[Placement, ...] = ()
    cancels: tuple[Cancelled, ...] = ()


def evolve(state: MarketState, event: MarketEvent) -> MarketState:
    """Apply a decided (or checked) event **in place** and return the state, as every
    sub-domain of the core does; ``apply`` also returns the derived outcome."""
    apply(state, event)
    return state


def apply(state: MarketState, event: MarketEvent) -> Outcome:
    """Apply ``event`` in place; the fills, cancels and reservations it implied."""
    if isinstance(event, OrdersPlaced):
        requests, base = event.orders, event.sequence * limits.market_order_ids_per_event
        assert event.sequence >= 0, event.sequence
        # Ids as ``order_id_of(event.sequence, i)``, without a call per order.
        if len(requests) == 1:  # most events: no list to build
            placement = _place(state, event.trader, requests[0], base, event.time)
            return record(Outcome, ((placement,), ()))
        assert len(requests) <= limits.market_order_ids_per_event, len(requests)
        trader, time = event.trader, event.time
        return Outcome(
            tuple([_place(state, trader, r, base + i, time) for i, r in enumerate(requests)])
        )
    if isinstance(event, OrdersCancelled):
        orders = [state.orders[i] for i in event.order_ids]
        cancels = tuple(o.cancelled(USER) for o in orders)
        for order in orders:
            _remove(state, order)
        return Outcome(cancels=cancels)
    if isinstance(event, MarketListed):
        m = event.market
        state.markets[m.symbol] = m
        state.status[m.symbol] = LISTED_STATUS
        state.books[m.symbol] = Book()
        state.next_trade_id[m.symbol] = 1
        state.changed.add(f"market/{m.symbol}")
        return Outcome()
    assert isinstance(event, MarketStatusSet), event
    state.status[event.symbol] = event.status
    state.changed.add(f"market/{event.symbol}")
    cancels = ()
    if event.status is MarketStatus.Closed:
        orders = _resting_in(state, event.symbol)
        cancels = tuple(o.cancelled(MARKET_CLOSED) for o in orders)
        for order in orders:
            _remove(state, order)
    return Outcome(cancels=cancels)


def _place(state: MarketState, trader: str, r: OrderRequest, order_id: int, time: str) -> Placement:
    """Apply one placement: the plan's self-trade cancels, then its fills to the makers (each
    then at the front of the best level, see ``matching``), then the taker's remainder to the
    book. The replay's hot path."""
    symbol = r.symbol
    market = state.markets[symbol]
    book = state.books[symbol]
    placement, fill_makers, cancel_makers, fee_basis = plan(
        book, market, trader, r, order_id, state.next_trade_id[symbol]
    )
    changed = state.changed
    if cancel_makers:
        for maker in cancel_makers:
            _remove(state, maker, book)
    # The placement's fields, unpacked at once (cheaper than one attribute load each).
    _, _, _, _, fills, _, _, _, resting, resting_reserved, executed, executed_cash, fee_minor = (
        placement
    )
    if fills:
        maker_bps = market.maker_fee_bps
        assert len(fill_makers) == len(fills), (fill_makers, fills)
        for n, maker in enumerate(fill_makers):
            _, _, _, _, _, _, _, _, steps, notes, cash, fee, _, released = fills[n]
            remaining = maker.remaining_steps - steps
            if remaining == 0:  # filled whole: it leaves the book, and no record keeps it
                assert maker.reserved_minor == (
                    cash + fee + released if maker.side is _BID else notes
                ), maker
                _remove(state, maker, book)  # marks it changed
                continue
            maker.remaining_steps = remaining
            maker.executed_steps += steps
            maker.executed_cash_minor += cash
            if maker_bps:
                maker.fee_basis += cash * maker_bps
            maker.fee_minor += fee
            if maker.side is _BID:
                maker.reserved_minor -= cash + fee + released
            else:
                maker.reserved_minor -= notes
            changed.add(maker.entity_key)
        state.next_trade_id[symbol] += len(fills)
    if fills or cancel_makers:
        changed.add(f"market/{symbol}")
    if resting:
        order = new_resting(
            order_id, trader, r, resting, resting_reserved, fee_basis, fee_minor, executed,
            executed_cash, time,
        )  # fmt: skip
        (book.bids if r.side is _BID else book.asks).add(order)
        state.orders[order_id] = order
        key = (trader, symbol)
        ids = state.open_by_trader.get(key)
        if ids is None:
            state.open_by_trader[key] = {order_id}
        else:
            ids.add(order_id)
        if r.client_id is not None:
            state.client_ids[trader, symbol, r.client_id] = order_id
        changed.add(order.entity_key)
    return placement


def _remove(state: MarketState, order: Resting, book: Book | None = None) -> None:
    """Take ``order`` off its book (``book``, when the caller has it) and the indexes."""
    if book is None:
        book = state.books[order.symbol]
    (book.bids if order.side is _BID else book.asks).remove(order)
    order_id = order.order_id
    del state.orders[order_id]
    key = (order.trader, order.symbol)
    ids = state.open_by_trader[key]
    ids.discard(order_id)
    if not ids:
        del state.open_by_trader[key]
    if order.client_id is not None:
        del state.client_ids[order.trader, order.symbol, order.client_id]
    state.changed.add(order.entity_key)


def _resting_in(state: MarketState, symbol: str) -> list[Resting]:
    book = state.books[symbol]
    return sorted([*book.bids.orders(), *book.asks.orders()], key=lambda o: o.order_id)


def _int_in(value: object, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


# Balance moves (what the ledger wiring posts) ----------------------------------------------------

AVAILABLE: Final = "available"
RESERVED: Final = "reserved"
Moves = dict[tuple[str, str, str], int]


def _add(moves: Moves, owner: str, asset: str, bucket: str, delta: int) -> None:
    if delta:
        key = (owner, asset, bucket)
        moves[key] = moves.get(key, 0) + delta


def placement_moves(market: Market, p: Placement) -> Moves:
    """The balance changes a placement implies, as ``(owner, asset, bucket) → delta`` with
    bucket ``available`` or ``reserved`` (held for resting orders). Every asset's deltas sum to
    zero: cash and notes are conserved."""
    moves: Moves = {}
    usd, notes = market.quote_asset, market.base_asset
    own = usd if p.request.side is Side.Bid else notes
    _add(moves, p.trader, own, AVAILABLE, p.released_minor - p.reserved_minor)
    _add(moves, p.trader, own, RESERVED, p.reserved_minor - p.released_minor)
    for f in p.fills:
        _add(moves, f.buyer, usd, RESERVED, -(f.cash_minor + f.buyer_fee_minor))
        _add(moves, f.seller, notes, RESERVED, -f.notes)
        _add(moves, f.buyer, notes, AVAILABLE, f.notes)
        _add(moves, f.seller, usd, AVAILABLE, f.cash_minor - f.seller_fee_minor)
        _add(moves, market.fee_owner, usd, AVAILABLE, f.maker_fee_minor + f.taker_fee_minor)
        _add(moves, f.maker, usd, RESERVED, -f.maker_released_minor)
        _add(moves, f.maker, usd, AVAILABLE, f.maker_released_minor)
    for c in p.maker_cancels:
        moves_of_cancel(market, c, moves)
    return {key: delta for key, delta in moves.items() if delta}


def moves_of_cancel(market: Market, c: Cancelled, moves: Moves | None = None) -> Moves:
    """A cancel releases the order's whole remaining reservation."""
    out: Moves = {} if moves is None else moves
    asset = market.quote_asset if c.side is Side.Bid else market.base_asset
    _add(out, c.trader, asset, RESERVED, -c.released_minor)
    _add(out, c.trader, asset, AVAILABLE, c.released_minor)
    return out


# Invariants -------------------------------------------------------------------------------------


def assert_invariants(state: MarketState) -> None:
    """Books well-formed and uncrossed; indexes exact; every resting order's reservation is
    exactly what its remainder can still use; closed markets have empty books."""
    assert set(state.markets) == set(state.status) == set(state.books) == set(state.next_trade_id)
    seen: dict[int, Resting] = {}
    by_trader: dict[tuple[str, str], set[int]] = {}
    client_ids: dict[tuple[str, str, int], int] = {}
    for symbol, book in state.books.items():
        assert_book(book, symbol)
        market = state.markets[symbol]
        assert state.next_trade_id[symbol] >= 1
        for half in (book.bids, book.asks):
            for o in half.orders():
                assert o.order_id not in seen, o
                seen[o.order_id] = o
                by_trader.setdefault((o.trader, symbol), set()).add(o.order_id)
                if o.client_id is not None:
                    assert (o.trader, symbol, o.client_id) not in client_ids, o
                    client_ids[o.trader, symbol, o.client_id] = o.order_id
                _assert_resting(market, o)
        if state.status[symbol] is MarketStatus.Closed:
            assert not book.bids.keys, f"{symbol} closed with bids"
            assert not book.asks.keys, f"{symbol} closed with asks"
    assert seen.keys() == state.orders.keys(), "orders index"
    assert all(state.orders[i] is o for i, o in seen.items()), "orders index: same records"
    assert by_trader == state.open_by_trader, "open_by_trader index"
    assert client_ids == state.client_ids, "client_ids index"
    assert all(len(v) <= limits.market_open_orders_per_trader_max for v in by_trader.values())


def _assert_resting(market: Market, o: Resting) -> None:
    assert o.fee_minor == fee_total_minor(o.fee_basis), o
    assert o.executed_steps == o.quantity_steps - o.remaining_steps, o
    assert 1 <= o.price_ticks <= market.max_price_ticks, o
    if o.side is Side.Bid:
        need = bid_need_minor(
            o.remaining_steps, o.price_ticks, market.lot_cash_minor, o.fee_basis, o.fee_minor,
            market.maker_fee_bps,
        )  # fmt: skip
        assert o.reserved_minor == need, (o, need)
    else:
        assert o.reserved_minor == o.remaining_steps * market.step_notes, o


# check (the verifier's replay) ------------------------------------------------------------------


def command_of(event: MarketEvent) -> MarketCommand:
    """The command that decides to exactly ``event`` when it is valid against the state."""
    if isinstance(event, MarketListed):
        return ListMarket(event.market)
    if isinstance(event, MarketStatusSet):
        return SetMarketStatus(event.symbol, event.status)
    if isinstance(event, OrdersPlaced):
        return PlaceOrders(event.trader, event.orders, event.authorisation)
    if len(event.order_ids) == 1:
        return CancelOrder(event.trader, event.symbol, order_id=event.order_ids[0],
                           authorisation=event.authorisation)  # fmt: skip
    return CancelAll(event.trader, event.symbol, event.authorisation)


def check(state: MarketState, ctx: MarketContext, event: MarketEvent) -> MarketRejection | None:
    """``None`` when ``event`` is what its command decides to at its position; else why not."""
    decided = redecide(state, ctx, event)
    return decided if isinstance(decided, MarketRejection) else None


def redecide(
    state: MarketState, ctx: MarketContext, event: MarketEvent
) -> Decision | MarketRejection:
    """The decision of ``event``'s command at its position, when it is ``event``; else why not.

    A logged batch lists only orders that were accepted, so re-deciding it must accept each."""
    decided = decide(state, ctx, command_of(event), event.sequence, event.time)
    if isinstance(decided, MarketRejection):
        return decided
    if decided.refused:
        first = decided.refused[0]
        assert isinstance(first.code, OrderCode), first
        return MarketRejection(first.code, first.position, first.detail)
    if decided.event != event:
        return MarketRejection(EventCode.payload_malformed, None, "not what its command decides")
    return decided
