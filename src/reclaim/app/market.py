"""The market application service: signed orders and cancels to the log, market data from it.

Theory of operation
-------------------
**Writes.** ``place``, ``cancel`` and ``cancel_all`` submit the market core's commands
(``PlaceOrders``, ``CancelOrder``, ``CancelAll``) through ``LogService.submit``, signed by the
portal **gateway** (the trader's private key never reaches the server), with the trader's own
authorisation — the Backpack signing string it signed, its signature and its API key
(``SignedRequest``) — in the command, so the logged event keeps who authorised it and
``reclaim verify`` checks that signature against the trader's registered key on replay
(``core.market.Authorisation``, the payload's ``authorisation``; ``verifier.authorisations``).
The signed request's mark (``app.signed_requests``) goes into the same transaction, so
replaying the same signed bytes is refused, also after a restart.

**Reads.** The service keeps its own **replica** of the market's state: it follows the log,
parses each ``market.*`` event (``core.market.payloads``) and applies it with the pure core
(``core.market.apply``), which also returns the fills, self-trade cancels and expiries the event
implied — exactly what every verifier derives. From them it keeps the history the core does not
keep (a filled or cancelled order leaves the core's state): public trades per market, each
trader's fills and order history, and the snapshot of the book for depth. Balances are the
ledger's (``creditor_available`` accounts: available = credits − debits − pending) with what
the trader's resting orders hold as ``locked``.

Before each read or after each write the replica catches up with the log (``sync``); the
WebSocket streams poll ``updates_after(cursor)`` for the stream messages of the events since
their cursor (``Update``).

Units at this edge: prices are fractions of face value in the market's ticks; a **quantity of
notes is in dollars of face value** (one note unit is one cent of face, so ``"100.00"`` is
10,000 note units, and price × quantity is the cash in USD, as Backpack's clients compute it);
cash is USD with cents. A note series' balance is keyed by its series name (``FTX5A``), which is
the market's ``baseSymbol``.

Known limits: the replica and its history are in memory, rebuilt from the log on start (as the
core's state is); a trade's history lives as long as the process.
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final, TypeVar, cast

from reclaim.app.log_service import Accepted, LogService
from reclaim.core import limits
from reclaim.core import market as mk
from reclaim.core.events import Event, parse_time
from reclaim.core.market import payloads
from reclaim.core.market.model import pow10
from reclaim.core.rejections import Rejection
from reclaim.log import event as log_event

if TYPE_CHECKING:
    from reclaim.core.machine import Command

#: Note units per face dollar (one note unit is one cent of face value).
NOTE_UNITS_PER_DOLLAR: Final = 100
NOTE_DECIMALS: Final = 2
USD_DECIMALS: Final = 2
GATEWAY: Final = "gateway"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MARKET_EVENTS: Final = frozenset(payloads.MARKET_EVENT_TYPES)
#: The ledger purpose of a trader's balances.
_BALANCE_ASSETS: Final = "creditor_available"
_T = TypeVar("_T")
#: Levels of one side of a book: (price ticks, steps), best first.
Levels = list[tuple[int, int]]


# Values -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What the trader signed: the signing string, its signature and the key (base64)."""

    api_key: str
    signed: str
    signature: str

    def payload(self) -> dict[str, str]:
        return {"api_key": self.api_key, "signed": self.signed, "signature": self.signature}


@dataclass(slots=True)
class OrderRecord:
    """An order as its trader sees it, from placement to its end (history)."""

    order_id: int
    trader: str
    symbol: str
    request: mk.OrderRequest
    status: mk.OrderStatus
    created_at: str
    executed_steps: int = 0
    executed_cash_minor: int = 0
    fee_minor: int = 0
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class TradeRecord:
    trade_id: int
    symbol: str
    price_ticks: int
    quantity_steps: int
    notes: int
    cash_minor: int
    time: str
    buyer_is_maker: bool


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One side of a trade, as its trader's fill."""

    trade_id: int
    symbol: str
    order_id: int
    client_id: int | None
    side: mk.Side
    is_maker: bool
    price_ticks: int
    quantity_steps: int
    fee_minor: int
    time: str


@dataclass(frozen=True, slots=True)
class Update:
    """What one event did, for the streams: its position, time and what changed."""

    seq: int
    time: str
    symbols: tuple[str, ...]
    trades: tuple[TradeRecord, ...]
    #: (trader, event name, order record as it stands after the event, the fill if any)
    orders: tuple[tuple[str, str, OrderRecord, TradeRecord | None], ...]


@dataclass(frozen=True, slots=True)
class Balance:
    available_minor: int
    locked_minor: int


@dataclass(frozen=True, slots=True)
class Placed:
    """The answer to a placement: per request, its order record or its refusal."""

    seq: int | None
    items: tuple[OrderRecord | Refusal, ...]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the core refused a command or one order of a batch: its own code (an enum member of
    ``core.market.codes``, or the shell's ``Code``) and a sentence."""

    code: str
    kind: str
    detail: str


@dataclass(slots=True)
class _History:
    trades: dict[str, list[TradeRecord]] = field(default_factory=dict)
    orders: dict[int, OrderRecord] = field(default_factory=dict)
    by_trader: dict[str, list[int]] = field(default_factory=dict)
    fills: dict[str, list[FillRecord]] = field(default_factory=dict)
    listed_at: dict[str, str] = field(default_factory=dict)
    updates: list[Update] = field(default_factory=list)


# Decimal text at the edge ---------------------------------------------------------------------


class DecimalError(ValueError):
    """Text that is not a plain decimal number (``"1e5"``, ``"1.2.3"``, ``"-1"``, ``""``)."""


class OffGridError(ValueError):
    """A decimal with more places than the grid it must lie on."""


def parse_units(text: str, decimals: int) -> int:
    """``text`` (a non-negative plain decimal) in units of ``10**-decimals``; ``DecimalError``
    if it is not one, ``OffGridError`` if it has finer places than the grid."""
    if not isinstance(text, str) or not text or len(text) > 40:
        raise DecimalError(f"{text!r} is not a decimal")
    if not all(c.isdigit() or c == "." for c in text) or text.count(".") > 1:
        raise DecimalError(f"{text!r} is not a plain decimal number")
    if text.startswith(".") or text.endswith("."):
        raise DecimalError(f"{text!r} is not a plain decimal number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DecimalError(f"{text!r} is not a decimal") from None
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise OffGridError(f"{text} has more than {decimals} decimal places")
    return int(scaled)


def format_units(units: int, decimals: int) -> str:
    """``units`` of ``10**-decimals`` as decimal text with exactly ``decimals`` places."""
    sign = "-" if units < 0 else ""
    units = abs(units)
    if decimals == 0:
        return f"{sign}{units}"
    whole, frac = divmod(units, pow10(decimals))
    return f"{sign}{whole}.{frac:0{decimals}d}"


def price_text(m: mk.Market, ticks: int) -> str:
    return format_units(ticks, m.price_decimals)


def quantity_text(m: mk.Market, steps: int) -> str:
    return format_units(steps * m.step_notes, NOTE_DECIMALS)


def notes_text(units: int) -> str:
    return format_units(units, NOTE_DECIMALS)


def cash_text(cents: int) -> str:
    return format_units(cents, USD_DECIMALS)


def price_ticks_of(m: mk.Market, text: str) -> int:
    return parse_units(text, m.price_decimals)


def quantity_steps_of(m: mk.Market, text: str) -> int:
    """Face dollars → steps; ``OffGridError`` when not a whole number of steps."""
    units = parse_units(text, NOTE_DECIMALS)
    steps, rest = divmod(units, m.step_notes)
    if rest:
        raise OffGridError(f"{text} is not a multiple of the step {quantity_text(m, 1)}")
    return steps


def ms_of(time: str) -> int:
    return (parse_time(time) - _EPOCH) // _MS


def us_of(time: str) -> int:
    moment = parse_time(time) - _EPOCH
    return moment.days * 86_400_000_000 + moment.seconds * 1_000_000 + moment.microseconds


_MS: Final = parse_time("1970-01-01T00:00:00.001000Z") - _EPOCH


# The service ----------------------------------------------------------------------------------


class MarketService:
    """Signed orders and cancels to the log; market data from a replica that follows it."""

    def __init__(self, log: LogService, gateway: str = GATEWAY) -> None:
        self.log = log
        self.gateway = gateway
        self._lock = threading.RLock()
        self._state = mk.MarketState()
        self._history = _History()
        self._position = 0
        #: Events this service's own commands were accepted with, by seq, not yet followed:
        #: ``sync`` takes them from here instead of reading their leaves back from the store.
        self._handed: dict[int, Event] = {}

    # Following the log -----------------------------------------------------------------------

    def sync(self) -> int:
        """Apply the market events stored since the last call; the log size now followed.

        The events of this service's own accepted commands are applied as the log handed them
        over (``_handed``: the events it committed, the very values its leaves encode), the
        others read back from the store; every seq once, in order."""
        with self._lock:
            size = self.log.size
            store = self.log.store
            handed = self._handed
            while self._position < size:
                position = self._position
                event = handed.pop(position, None)
                if event is not None:
                    if event.type in _MARKET_EVENTS:
                        self._apply(position, event)
                    self._position = position + 1
                    continue
                end = min(size, position + limits.bundle_size_max)
                if handed:  # read up to the next handed event only
                    end = next((seq for seq in range(position + 1, end) if seq in handed), end)
                for leaf in store.leaves(position, end):
                    logged = log_event.parse_leaf(leaf)
                    if logged.event.type in _MARKET_EVENTS:
                        self._apply(logged.seq, logged.event)
                self._position = end
            return self._position

    def _hand_over(self, outcome: Accepted) -> None:
        """Keep an accepted command's (committed) events for ``sync``."""
        with self._lock:
            if outcome.first_seq >= self._position:
                for i, event in enumerate(outcome.events):
                    self._handed[outcome.first_seq + i] = event

    def _apply(self, seq: int, event: Event) -> None:
        market_event = payloads.from_payload(event.type, event.payload, seq, event.time)
        outcome = mk.apply(self._state, market_event)
        self._state.drain_changed()
        history = self._history
        trades: list[TradeRecord] = []
        orders: list[tuple[str, str, OrderRecord, TradeRecord | None]] = []
        symbols: set[str] = set()
        if isinstance(market_event, mk.MarketListed):
            history.listed_at[market_event.market.symbol] = event.time
            symbols.add(market_event.market.symbol)
        elif isinstance(market_event, mk.MarketStatusSet):
            symbols.add(market_event.symbol)
        for p in outcome.placements:
            symbols.add(p.request.symbol)
            self._record_placement(p, event.time, trades, orders)
        for c in outcome.cancels:
            symbols.add(c.symbol)
            self._record_cancel(c, event.time, orders)
        if symbols:
            update = Update(seq, event.time, tuple(sorted(symbols)), tuple(trades), tuple(orders))
            history.updates.append(update)

    def _record_placement(
        self,
        p: mk.Placement,
        time: str,
        trades: list[TradeRecord],
        orders: list[tuple[str, str, OrderRecord, TradeRecord | None]],
    ) -> None:
        history = self._history
        r = p.request
        record = OrderRecord(p.order_id, p.trader, r.symbol, r, mk.OrderStatus.New, time,
                             updated_at=time)  # fmt: skip
        history.orders[p.order_id] = record
        history.by_trader.setdefault(p.trader, []).append(p.order_id)
        orders.append((p.trader, "orderAccepted", dataclasses.replace(record), None))
        for c in p.maker_cancels:
            self._record_cancel(c, time, orders)
        for f in p.fills:
            trade = TradeRecord(f.trade_id, f.symbol, f.price_ticks, f.quantity_steps, f.notes,
                                f.cash_minor, time, f.taker_side is mk.Side.Ask)  # fmt: skip
            history.trades.setdefault(f.symbol, []).append(trade)
            trades.append(trade)
            maker = history.orders.get(f.maker_order_id)
            if maker is not None:
                maker.executed_steps += f.quantity_steps
                maker.executed_cash_minor += f.cash_minor
                maker.fee_minor += f.maker_fee_minor
                remaining = maker.request.quantity_steps or 0
                maker.status = (
                    mk.OrderStatus.Filled
                    if maker.executed_steps >= remaining
                    else mk.OrderStatus.PartiallyFilled
                )
                maker.updated_at = time
                orders.append((f.maker, "orderFill", dataclasses.replace(maker), trade))
                self._fill(f.maker, f, maker, True, f.maker_fee_minor, time)
            record.executed_steps += f.quantity_steps
            record.executed_cash_minor += f.cash_minor
            record.fee_minor += f.taker_fee_minor
            record.status = mk.OrderStatus.PartiallyFilled
            orders.append((p.trader, "orderFill", dataclasses.replace(record), trade))
            self._fill(p.trader, f, record, False, f.taker_fee_minor, time)
        record.status = p.status
        record.executed_steps, record.executed_cash_minor = p.executed_steps, p.executed_cash_minor
        record.fee_minor = p.fee_minor
        if p.status is mk.OrderStatus.Expired:
            orders.append((p.trader, "orderExpired", dataclasses.replace(record), None))
        elif p.status is mk.OrderStatus.Cancelled:
            orders.append((p.trader, "orderCancelled", dataclasses.replace(record), None))

    def _fill(self, trader: str, f: mk.Fill, record: OrderRecord, is_maker: bool, fee: int,
              time: str) -> None:  # fmt: skip
        side = record.request.side
        fill = FillRecord(f.trade_id, f.symbol, record.order_id, record.request.client_id, side,
                          is_maker, f.price_ticks, f.quantity_steps, fee, time)  # fmt: skip
        self._history.fills.setdefault(trader, []).append(fill)

    def _record_cancel(
        self,
        c: mk.Cancelled,
        time: str,
        orders: list[tuple[str, str, OrderRecord, TradeRecord | None]],
    ) -> None:
        record = self._history.orders.get(c.order_id)
        if record is None:
            return
        record.status = mk.OrderStatus.Cancelled
        record.updated_at = time
        orders.append((c.trader, "orderCancelled", dataclasses.replace(record), None))

    # Writes ----------------------------------------------------------------------------------

    def place(
        self, trader: str, orders: Sequence[mk.OrderRequest], signed: SignedRequest | None
    ) -> Placed | Refusal:
        """Place one order or a batch for ``trader``; per request its record or its refusal."""
        command = mk.PlaceOrders(trader, tuple(orders), _authorisation(signed))
        outcome = self._submit(command)
        if isinstance(outcome, Rejection):  # the whole command (a batch's chain, its size)
            return _refusal(outcome)
        assert isinstance(outcome, Accepted)
        self._hand_over(outcome)
        self.sync()
        with self._lock:
            if not outcome.events:  # every order of the batch refused
                return Placed(None, _align(orders, [], outcome.results))
            seq = outcome.first_seq
            accepted = [
                self._history.orders[mk.order_id_of(seq, i)]
                for i in range(len(_orders_of(outcome.events[0])))
            ]
        return Placed(seq, _align(orders, accepted, outcome.results))

    def cancel(
        self, trader: str, symbol: str, order_id: int | None, client_id: int | None,
        signed: SignedRequest | None,
    ) -> list[OrderRecord] | Refusal:  # fmt: skip
        command = mk.CancelOrder(trader, symbol, order_id=order_id, client_id=client_id,
                                 authorisation=_authorisation(signed))  # fmt: skip
        return self._cancel(command)

    def cancel_all(
        self, trader: str, symbol: str, signed: SignedRequest | None
    ) -> list[OrderRecord] | Refusal:
        return self._cancel(mk.CancelAll(trader, symbol, _authorisation(signed)))

    def _cancel(self, command: mk.CancelOrder | mk.CancelAll) -> list[OrderRecord] | Refusal:
        outcome = self._submit(command)
        if isinstance(outcome, Rejection):
            return _refusal(outcome)
        assert isinstance(outcome, Accepted)
        self._hand_over(outcome)
        self.sync()
        with self._lock:
            cancelled: list[OrderRecord] = []
            for event in outcome.events:
                if event.type == payloads.ORDERS_CANCELLED:
                    ids = event.payload.get("order_ids")
                    assert isinstance(ids, list)
                    cancelled += [self._history.orders[int(str(i))] for i in ids]
            return [dataclasses.replace(r) for r in cancelled]

    def _submit(self, command: mk.MarketCommand) -> Accepted | Rejection:
        """Submit a market command signed by the gateway. The machine routes it by its type
        (``core.machine.DOMAINS``); ``Command``, the machine's union of command types, may
        not name the market's yet, hence the cast from ``object``."""
        routed: object = command
        return self.log.submit(cast("Command", routed), self.gateway)

    # Reads -----------------------------------------------------------------------------------

    def read(self, query: Callable[[mk.MarketState, _History], _T]) -> _T:
        self.sync()
        with self._lock:
            return query(self._state, self._history)

    def markets(self) -> list[tuple[mk.Market, mk.MarketStatus, str]]:
        def q(s: mk.MarketState, h: _History) -> list[tuple[mk.Market, mk.MarketStatus, str]]:
            return [(s.markets[k], s.status[k], h.listed_at.get(k, "")) for k in sorted(s.markets)]

        return self.read(q)

    def market(self, symbol: str) -> tuple[mk.Market, mk.MarketStatus, str] | None:
        found = [m for m in self.markets() if m[0].symbol == symbol]
        return found[0] if found else None

    def depth(self, symbol: str, levels: int) -> tuple[Levels, Levels, int]:
        """(asks, bids) as (price ticks, steps), best first, and the log position."""

        def q(s: mk.MarketState, h: _History) -> tuple[Levels, Levels, int]:
            book = s.books[symbol]
            return book.asks.depth(levels), book.bids.depth(levels), self._position

        return self.read(q)

    def trades(self, symbol: str, limit: int, offset: int = 0) -> list[TradeRecord]:
        """The market's trades, newest first."""

        def q(s: mk.MarketState, h: _History) -> list[TradeRecord]:
            all_trades = h.trades.get(symbol, [])
            end = len(all_trades) - offset
            return list(reversed(all_trades[max(0, end - limit) : max(0, end)]))

        return self.read(q)

    def trades_between(self, symbol: str, start: str, end: str) -> list[TradeRecord]:
        """Trades with ``start <= time < end`` (event times), oldest first: a market's trades
        are kept in log order, so in time order, and found by bisection."""

        def q(s: mk.MarketState, h: _History) -> list[TradeRecord]:
            trades = h.trades.get(symbol, [])
            lo = bisect.bisect_left(trades, start, key=_time_of)
            hi = bisect.bisect_left(trades, end, key=_time_of)
            return trades[lo:hi]

        return self.read(q)

    def last_trade_before(self, symbol: str, moment: str) -> TradeRecord | None:
        def q(s: mk.MarketState, h: _History) -> TradeRecord | None:
            trades = h.trades.get(symbol, [])
            at = bisect.bisect_left(trades, moment, key=_time_of)
            return trades[at - 1] if at else None

        return self.read(q)

    def open_orders(self, trader: str, symbol: str | None) -> list[OrderRecord]:
        def q(s: mk.MarketState, h: _History) -> list[OrderRecord]:
            ids = sorted(
                i for i, o in s.orders.items() if o.trader == trader
                and (symbol is None or o.symbol == symbol)
            )  # fmt: skip
            return [dataclasses.replace(h.orders[i]) for i in ids if i in h.orders]

        return self.read(q)

    def order_history(self, trader: str, symbol: str | None) -> list[OrderRecord]:
        """The trader's orders, newest first."""

        def q(s: mk.MarketState, h: _History) -> list[OrderRecord]:
            ids = reversed(h.by_trader.get(trader, []))
            return [
                dataclasses.replace(h.orders[i]) for i in ids
                if symbol is None or h.orders[i].symbol == symbol
            ]  # fmt: skip

        return self.read(q)

    def fills(self, trader: str) -> list[FillRecord]:
        """The trader's fills, newest first."""
        return self.read(lambda s, h: list(reversed(h.fills.get(trader, []))))

    def updates_after(self, seq: int) -> list[Update]:
        """The stream updates of events at positions above ``seq``, oldest first."""

        def q(s: mk.MarketState, h: _History) -> list[Update]:
            updates = h.updates
            lo, hi = 0, len(updates)
            while lo < hi:
                mid = (lo + hi) // 2
                if updates[mid].seq <= seq:
                    lo = mid + 1
                else:
                    hi = mid
            return updates[lo:]

        return self.read(q)

    @property
    def position(self) -> int:
        return self.sync()

    def locked(self, trader: str) -> dict[str, int]:
        """What the trader's resting orders hold, per asset (cash for bids, notes for asks)."""

        def q(s: mk.MarketState, h: _History) -> dict[str, int]:
            out: dict[str, int] = {}
            for o in s.orders.values():
                if o.trader == trader:
                    m = s.markets[o.symbol]
                    asset = m.quote_asset if o.side is mk.Side.Bid else m.base_asset
                    out[asset] = out.get(asset, 0) + o.reserved_minor
            return out

        return self.read(q)

    def balances(self, trader: str) -> dict[str, Balance]:
        """The trader's balances by asset code: the ledger's available, the orders' locked."""
        locked = self.locked(trader)

        def q(state: object) -> dict[str, int]:
            ledger = getattr(state, "ledger")  # noqa: B009 - the root state's ledger
            out: dict[str, int] = {}
            for account in ledger.accounts.values():
                if account.owner == trader and account.purpose == _BALANCE_ASSETS:
                    out[account.asset] = (
                        account.credits_posted - account.debits_posted - account.debits_pending
                    )
            return out

        available = self.log.read(q)
        assets = sorted(set(available) | set(locked))
        return {a: Balance(available.get(a, 0), locked.get(a, 0)) for a in assets}

    def deposits(self, trader: str) -> list[tuple[str, str, int, str]]:
        """Transfers into the trader's available balances that are deposits (id, asset,
        amount, time), newest first."""

        def q(state: object) -> list[tuple[str, str, int, str]]:
            ledger = getattr(state, "ledger")  # noqa: B009
            out: list[tuple[str, str, int, str]] = []
            prefix = f"{trader}/"
            for stored in ledger.transfers.values():
                t = stored.transfer
                if t.credit_account_id.startswith(prefix) and t.code == "deposit":
                    out.append((t.id, t.asset, t.amount_minor, stored.created_at))
            return sorted(out, key=lambda d: (d[3], d[0]), reverse=True)

        return self.log.read(q)


# Helpers ----------------------------------------------------------------------------------------


def _authorisation(signed: SignedRequest | None) -> mk.Authorisation | None:
    """The core's record of the trader's signed request (kept in the event)."""
    if signed is None:
        return None
    return mk.Authorisation(signed.api_key, signed.signed, signed.signature)


def _time_of(trade: TradeRecord) -> str:
    return trade.time


def _orders_of(event: Event) -> list[object]:
    orders = event.payload.get("orders")
    assert isinstance(orders, list), event.type
    return list(orders)


def _refusal(rejection: Rejection) -> Refusal:
    specific = rejection.specific
    kind = "bad_input"
    if isinstance(specific, mk.EventCode | mk.OrderCode | mk.CancelCode | mk.ListCode
                  | mk.StatusCode) and specific not in mk.ACCEPTED:  # fmt: skip
        kind = mk.kind(specific).name
    elif rejection.code.name.startswith("actor_"):
        kind = "forbidden"
    detail = rejection.reason_detail or rejection.detail
    return Refusal(specific.name, kind, detail)


def _item_refusal(result: object) -> Refusal:
    code = getattr(result, "code", None)
    detail = str(getattr(result, "detail", "") or code)
    if isinstance(code, mk.OrderCode) and code not in mk.ACCEPTED:
        return Refusal(code.name, mk.kind(code).name, detail)
    return Refusal(getattr(code, "name", str(code)), "bad_input", detail)


def _align(
    requested: Sequence[mk.OrderRequest], accepted: list[OrderRecord], results: Sequence[object]
) -> tuple[OrderRecord | Refusal, ...]:
    """Each requested order's record, or its refusal: the event lists the accepted orders in
    request order, the refused ones are left out (``core.market.Decision.refused``)."""
    refused = {getattr(r, "position", None): r for r in results if _is_refused(r)}
    out: list[OrderRecord | Refusal] = []
    position_known = len(refused) + len(accepted) == len(requested)
    taken = 0
    for position, request in enumerate(requested):
        if position in refused:
            out.append(_item_refusal(refused[position]))
        elif taken < len(accepted) and (position_known or accepted[taken].request == request):
            out.append(accepted[taken])
            taken += 1
        else:  # the results do not say why: the event left this one out
            out.append(Refusal("refused", "bad_input", "the order was refused"))
    return tuple(out)


def _is_refused(result: object) -> bool:
    code = getattr(result, "code", None)
    return isinstance(code, mk.OrderCode) and code is not mk.OrderCode.ok


# Ticker and klines ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    """Trades of one window: first, last, high and low prices (ticks; the last before the window
    when it has none, else 0), volume in steps, cash in cents, and the count."""

    first_ticks: int
    last_ticks: int
    high_ticks: int
    low_ticks: int
    volume_steps: int
    cash_minor: int
    trades: int


def summary(trades: Sequence[TradeRecord], before: TradeRecord | None) -> Summary:
    """The summary of ``trades`` (oldest first); ``before``: the last trade before them."""
    if not trades:
        last = before.price_ticks if before is not None else 0
        return Summary(last, last, last, last, 0, 0, 0)
    prices = [t.price_ticks for t in trades]
    return Summary(
        prices[0], prices[-1], max(prices), min(prices),
        sum(t.quantity_steps for t in trades), sum(t.cash_minor for t in trades), len(trades),
    )  # fmt: skip


def change_fraction_text(first_ticks: int, last_ticks: int) -> str:
    """(last − first) / first as a decimal fraction with six places (Backpack's
    ``priceChangePercent``), truncated toward zero; ``"0"`` without a first price."""
    if first_ticks == 0:
        return "0"
    change = last_ticks - first_ticks
    scaled = abs(change) * 1_000_000 // first_ticks
    return ("-" if change < 0 and scaled else "") + format_units(scaled, 6)


#: Kline intervals in seconds (``1month`` is a calendar month, handled apart).
KLINE_SECONDS: Final = {
    "1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600,
    "2h": 7200, "4h": 14_400, "6h": 21_600, "8h": 28_800, "12h": 43_200, "1d": 86_400,
    "3d": 259_200, "1w": 604_800,
}  # fmt: skip
MONTH: Final = "1month"


def bucket_of(interval: str, moment: datetime) -> tuple[datetime, datetime]:
    """The kline bucket ``[start, end)`` of ``interval`` that holds ``moment`` (UTC, aligned to
    the epoch; a calendar month for ``1month``)."""
    if interval == MONTH:
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        return start, start.replace(year=year, month=month)
    seconds = KLINE_SECONDS[interval]
    since = int((moment - _EPOCH).total_seconds()) // seconds * seconds
    start = datetime.fromtimestamp(since, UTC)
    return start, datetime.fromtimestamp(since + seconds, UTC)
