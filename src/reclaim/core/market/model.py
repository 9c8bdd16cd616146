"""The market core's values: vocabularies, a market's terms, commands, logged events, outcomes.

Everything here is a frozen value. The mutable state (the books) is in ``book`` and ``machine``.
Integers only: prices in **ticks**, quantities in **steps**, cash in USD **cents**, notes in
**note units** (one unit = one cent of admitted face value, ``reclaim.core.money``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, NamedTuple, Protocol

from reclaim.core import limits
from reclaim.core.forms import ACTOR_NAME_RE

# Vocabularies (Backpack's names, ``../shared/api/BACKPACK.md`` §2) -------------------------------


class Side(enum.Enum):
    Bid = "Bid"
    Ask = "Ask"


class OrderType(enum.Enum):
    Limit = "Limit"
    Market = "Market"


class TimeInForce(enum.Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class SelfTradePrevention(enum.Enum):
    """What happens when a taker would fill a resting order of its own trader (the taker's
    choice; Backpack's default is ``RejectTaker``)."""

    #: The taker stops there: its remainder is cancelled; the resting order stays.
    RejectTaker = "RejectTaker"
    #: The resting order is cancelled (its reservation released); matching goes on.
    RejectMaker = "RejectMaker"
    #: Both: the resting order is cancelled and the taker stops.
    RejectBoth = "RejectBoth"


class MarketStatus(enum.Enum):
    """A market's state, set by an operator event (Backpack's ``OrderBookState`` subset)."""

    Open = "Open"
    #: Orders are cancelled, none is placed (a halt).
    CancelOnly = "CancelOnly"
    #: Nothing: closing cancels every resting order and releases its reservation.
    Closed = "Closed"


class OrderStatus(enum.Enum):
    """An order's status after its placement or a later fill or cancel (Backpack's names)."""

    #: Resting, nothing filled.
    New = "New"
    #: Resting, partly filled.
    PartiallyFilled = "PartiallyFilled"
    Filled = "Filled"
    #: Cancelled by its trader, by self-trade prevention, or by the market closing.
    Cancelled = "Cancelled"
    #: Its time in force ended it: an IOC or market remainder, a FOK that could not fill whole,
    #: a taker that reached ``limits.market_fills_per_order_max``.
    Expired = "Expired"


USD: Final = "USD"
NOTE_PREFIX: Final = "NOTE-"
#: Basis points in one: fees are ``bps / 10,000`` of cash.
BPS: Final = 10_000
#: An actor of the log (the actor-name form): traders, fee owners.
ACTOR_RE: Final = ACTOR_NAME_RE
#: ``<SERIES>_<QUOTE>``; the series part is a note series name without ``-``.
SYMBOL_RE: Final = re.compile(r"([A-Z0-9]{1,24})_([A-Z]{3,5})")


def pow10(exponent: int) -> int:
    """``10**exponent`` for a non-negative exponent, typed as an ``int``."""
    assert exponent >= 0, exponent
    return int(10**exponent)


def order_id_of(sequence: int, position: int) -> int:
    """The id of the ``position``-th order of the event at log ``sequence``.

    Ids increase with the log and with the position in a batch, so comparing ids is comparing
    arrival: the time of price-time priority.
    """
    assert 0 <= position < limits.market_order_ids_per_event, position
    assert sequence >= 0, sequence
    return sequence * limits.market_order_ids_per_event + position


assert limits.market_batch_orders_max <= limits.market_order_ids_per_event


# A market's terms --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Market:
    """The terms of one market: a note series against USD.

    A price is a fraction of face value (``0.72`` = 72 cents on the dollar) counted in ticks of
    ``10**-price_decimals``; a quantity is counted in steps of ``step_notes`` note units (cents
    of face). The **cash of a fill** is ``price × face`` and is exact by construction:
    ``price_ticks × quantity_steps × lot_cash_minor`` cents, where ``lot_cash_minor =
    step_notes / 10**price_decimals`` — the cash of one tick on one step — is required whole
    when the market is listed (``lot_cash_not_whole``). So there is no rounding of cash at all;
    e.g. ticks of 0.001 with steps of $10 face (1,000 note units): one tick-step is one cent.

    Fees are ``maker_fee_bps`` / ``taker_fee_bps`` of cash (default 0: the programme is
    non-profit), paid in USD by both sides to ``fee_owner``'s account; rounding is once per
    order, upwards (``amounts.fee_total_minor``).
    """

    symbol: str
    series: str
    price_decimals: int
    step_notes: int
    min_quantity_steps: int = 1
    maker_fee_bps: int = 0
    taker_fee_bps: int = 0
    fee_owner: str = "operator"
    quote_asset: str = USD

    @property
    def base_asset(self) -> str:
        return NOTE_PREFIX + self.series

    @property
    def lot_cash_minor(self) -> int:
        """Cents of one tick on one step (whole for a listed market)."""
        return self.step_notes // pow10(self.price_decimals)

    @property
    def max_price_ticks(self) -> int:
        return limits.market_price_face_multiple_max * pow10(self.price_decimals)

    @property
    def max_fee_bps(self) -> int:
        return max(self.maker_fee_bps, self.taker_fee_bps)


# Commands ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListMarket:
    """List a market with its terms (an operator's act)."""

    market: Market


@dataclass(frozen=True, slots=True)
class SetMarketStatus:
    """Open, halt (``CancelOnly``) or close a market (an operator's act)."""

    symbol: str
    status: MarketStatus


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order as a trader signed it (Backpack's ``OrderExecutePayload``, in integers).

    A limit order has ``price_ticks`` and ``quantity_steps``. A market order has exactly one of
    ``quantity_steps`` (that many steps, at any price) and ``quote_quantity_minor`` (a Bid
    spends at most that many cents, fees included; an Ask sells until its gross cash would pass
    it).
    """

    symbol: str
    side: Side
    order_type: OrderType
    quantity_steps: int | None = None
    price_ticks: int | None = None
    quote_quantity_minor: int | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.RejectTaker
    client_id: int | None = None


@dataclass(frozen=True, slots=True)
class Authorisation:
    """The trader's own signature of the API request that asked for an order or a cancel:
    its API key (base64 of the 32-byte Ed25519 public key), the Backpack signing string it
    signed (``instruction=orderExecute&...&timestamp=...&window=...``) and the signature
    (base64 of 64 bytes). Kept in the event, so that a verifier checks against the trader's
    registered key who authorised it, not only the gateway that logged it. The core keeps it
    as data: checking the signature is the verifier's (no cryptography in the core)."""

    api_key: str
    signed: str
    signature: str


class _SignedByTrader:
    """A command the trader it names signs ("self"): the machine's probe reads ``creditor``."""

    __slots__ = ()
    trader: str

    @property
    def creditor(self) -> str:
        return self.trader


@dataclass(frozen=True, slots=True)
class PlaceOrders(_SignedByTrader):
    """Place one order or a batch, in order; each is decided against the state the ones before
    it left (Backpack's batch: each element succeeds or fails on its own)."""

    trader: str
    orders: tuple[OrderRequest, ...]
    #: The trader's signed request (``None``: a command not from a signed API request).
    authorisation: Authorisation | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder(_SignedByTrader):
    """Cancel one resting order of ``trader``, by id or by client id (exactly one)."""

    trader: str
    symbol: str
    order_id: int | None = None
    client_id: int | None = None
    authorisation: Authorisation | None = None


@dataclass(frozen=True, slots=True)
class CancelAll(_SignedByTrader):
    """Cancel every resting order of ``trader`` in ``symbol``."""

    trader: str
    symbol: str
    authorisation: Authorisation | None = None


MarketCommand = ListMarket | SetMarketStatus | PlaceOrders | CancelOrder | CancelAll


# Logged events (the payload and its log position) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketListed:
    sequence: int
    time: str
    market: Market


@dataclass(frozen=True, slots=True)
class MarketStatusSet:
    """On ``Closed``, every resting order of the market is cancelled (derived, in id order)."""

    sequence: int
    time: str
    symbol: str
    status: MarketStatus


@dataclass(frozen=True, slots=True)
class OrdersPlaced:
    """The accepted orders of one command; order ``i`` gets ``order_id_of(sequence, i)``.

    The fills, self-trade cancels and reservations are not in the event: they are derived from
    it and the book, deterministically (``match.plan``), as every verifier replays them.
    """

    sequence: int
    time: str
    trader: str
    orders: tuple[OrderRequest, ...]
    authorisation: Authorisation | None = None


@dataclass(frozen=True, slots=True)
class OrdersCancelled:
    """Resting orders of ``trader`` cancelled at its request, ids ascending."""

    sequence: int
    time: str
    trader: str
    symbol: str
    order_ids: tuple[int, ...]
    authorisation: Authorisation | None = None


MarketEvent = MarketListed | MarketStatusSet | OrdersPlaced | OrdersCancelled


# Outcomes (derived data: what the ledger wiring posts) --------------------------------------------
#
# ``Fill``, ``Cancelled`` and ``Placement`` are built on the matching hot path (one placement
# per order, one fill per trade, replay included): they are named tuples — immutable and
# hashable like the frozen dataclasses above, and built in about 0.2 µs where a frozen
# dataclass of as many fields takes about 1 µs (``benchmarks/bench_matching.py``).


class Fill(NamedTuple):
    """One trade between the taker and one resting order, at the resting order's price.

    The buyer pays ``cash_minor + buyer_fee_minor`` out of its reservation; the seller's
    reservation gives ``notes`` to the buyer and the seller receives ``cash_minor -
    seller_fee_minor``; the fee owner receives both fees. ``maker_released_minor`` is what the
    resting order's reservation gives back at this fill (a resting Bid keeps only what its
    remainder can still cost: see ``amounts.bid_need_minor``); the taker's leftover is released
    once, at the end of its placement (``Placement.released_minor``).
    """

    trade_id: int
    symbol: str
    maker_order_id: int
    taker_order_id: int
    maker: str
    taker: str
    taker_side: Side
    price_ticks: int
    quantity_steps: int
    notes: int
    cash_minor: int
    maker_fee_minor: int
    taker_fee_minor: int
    maker_released_minor: int

    @property
    def buyer(self) -> str:
        return self.taker if self.taker_side is Side.Bid else self.maker

    @property
    def seller(self) -> str:
        return self.maker if self.taker_side is Side.Bid else self.taker

    @property
    def buyer_fee_minor(self) -> int:
        return self.taker_fee_minor if self.taker_side is Side.Bid else self.maker_fee_minor

    @property
    def seller_fee_minor(self) -> int:
        return self.maker_fee_minor if self.taker_side is Side.Bid else self.taker_fee_minor


class Trade(NamedTuple):
    """A fill as the market's history keeps it: the log position and time of its event."""

    sequence: int
    time: str
    fill: Fill


class Cancelled(NamedTuple):
    """A resting order taken off the book; its whole remaining reservation is released."""

    order_id: int
    trader: str
    symbol: str
    side: Side
    remaining_steps: int
    released_minor: int
    #: ``user``, ``self_trade`` or ``market_closed``.
    reason: str


class Placement(NamedTuple):
    """What placing one order did.

    ``reserved_minor`` is taken from the trader's available balance at placement (cash for a
    Bid, notes for an Ask): the order's largest possible cost. Fills consume it; what the
    order does not need any more comes back as ``released_minor`` at the end of the placement;
    a resting remainder keeps ``resting_reserved_minor`` until it fills or is cancelled.
    ``reserved = Σ consumed + released + resting_reserved`` exactly.
    """

    order_id: int
    trader: str
    request: OrderRequest
    status: OrderStatus
    fills: tuple[Fill, ...]
    maker_cancels: tuple[Cancelled, ...]
    reserved_minor: int
    released_minor: int
    resting_steps: int
    resting_reserved_minor: int
    executed_steps: int
    executed_cash_minor: int
    fee_minor: int


@dataclass(frozen=True, slots=True)
class Refused:
    """A batch element that was refused (its rejection); the others stand."""

    position: int
    code: object
    detail: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What a command implies: the event to append (``None``: nothing to append, the answer is
    ``ok`` with no change or an accepted ``exists``) and its derived outcome."""

    event: MarketEvent | None
    placements: tuple[Placement, ...] = ()
    cancels: tuple[Cancelled, ...] = ()
    refused: tuple[Refused, ...] = ()


# What the core needs from the other sub-domains ------------------------------------------------


class MarketContext(Protocol):
    """A read-only view of the other sub-domains (the wiring supplies it)."""

    def available_minor(self, trader: str, asset: str) -> int:
        """The trader's available balance of ``asset`` (ledger: credits − debits − pending)."""
        ...

    def trading_refusal(self, trader: str, side: Side) -> str | None:
        """``None`` when the trader may place an order on ``side``; else the name of the
        ``OrderCode`` that refuses it (``kyc_not_verified``, ``buyer_not_allowed``)."""
        ...


@dataclass(frozen=True, slots=True)
class StaticContext:
    """A context from plain tables (tests, benchmarks, a replay with recorded balances)."""

    balances: Mapping[tuple[str, str], int] = field(default_factory=dict)
    unverified: frozenset[str] = frozenset()
    excluded_buyers: frozenset[str] = frozenset()

    def available_minor(self, trader: str, asset: str) -> int:
        return self.balances.get((trader, asset), 0)

    def trading_refusal(self, trader: str, side: Side) -> str | None:
        if trader in self.unverified:
            return "kyc_not_verified"
        if side is Side.Bid and trader in self.excluded_buyers:
            return "buyer_not_allowed"
        return None
