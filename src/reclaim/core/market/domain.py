"""The market as a sub-domain of the machine (``reclaim.core.domain``): its commands, event
types and the adapters of the pure core (``machine``) and its ledger wiring (``settlement``) to
the seam's order.

- ``decide`` re-reads nothing but the state: the market core decides at the log position the
  event will take (``world.events``), then the ledger ladders check the chain the outcome
  implies (``settlement.moves_of``) on an overlay — a refused chain refuses the command
  (``ledger_refused``), so nothing is half-applied.
- ``check`` (the verifier's replay) reads the payload strictly, re-decides the command it
  stands for and requires exactly this event, then checks the chain as ``decide`` did.
- ``evolve`` applies the event to the books and posts the chain to ``world.ledger``
  (reservations, both legs of every fill, voids), and appends the fills to ``trades``.

The context the core asks (``model.MarketContext``): available balances from the ledger
(``<trader>/<asset>/creditor_available``); KYC from the claims sub-domain (``approved``); who
may buy from the jurisdiction policy (``buyer_refusal``).

Imported by ``reclaim.core.machine`` only.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from reclaim.core.claims.model import APPROVED
from reclaim.core.claims.policy import treatment
from reclaim.core.distribution.payees import residence_on
from reclaim.core.domain import Domain, EventType, Payload, World
from reclaim.core.events import Event
from reclaim.core.ledger.model import (
    Account,
    CreateTransfers,
    LedgerState,
    OpenAccounts,
    Transfer,
)
from reclaim.core.market import settlement
from reclaim.core.market.codes import KINDS, EventCode, MarketRejection
from reclaim.core.market.machine import (
    MarketState,
    apply,
    assert_invariants,
    decide,
    redecide,
)
from reclaim.core.market.model import (
    CancelAll,
    Cancelled,
    CancelOrder,
    Decision,
    ListMarket,
    MarketCommand,
    MarketEvent,
    MarketListed,
    OrdersPlaced,
    Placement,
    PlaceOrders,
    SetMarketStatus,
    Side,
    Trade,
)
from reclaim.core.market.payloads import (
    LISTED,
    MARKET_EVENT_TYPES,
    ORDERS_CANCELLED,
    ORDERS_PLACED,
    STATUS_SET,
    PayloadError,
    from_payload,
    to_payload,
)
from reclaim.core.rejections import Code

#: Jurisdiction policy statuses whose residents may not buy notes when the entry's
#: ``notes_buyers`` column is empty (``buyer_refusal``).
NO_BUYERS: Final = frozenset({"restricted", "sanctioned"})


class Decided(NamedTuple):
    """The seam's decision: the event (if any) and one result per item — a batch's
    ``Placement`` or ``Refused`` per order in input order, a cancel's ``Cancelled`` records."""

    events: list[tuple[str, Payload]]
    results: tuple[Any, ...] = ()


def trader_jurisdiction(world: World, trader: str, today: str) -> str | None:
    """The residence a KYC officer recorded in force today; failing one, the register's
    jurisdiction of a claim linked to the trader (the lowest claim id); else unknown."""
    found = residence_on(world.distribution, trader, today)
    if found is not None:
        return found
    linked = sorted(world.claims.links.get(trader, ()))
    return world.claims.claims[linked[0]].jurisdiction if linked else None


def buyer_refusal(world: World, trader: str, today: str) -> str | None:
    """``buyer_not_allowed`` unless the trader's jurisdiction is known and the policy entry in
    force today lets its residents buy notes: its ``notes_buyers`` column (``allowed`` /
    ``excluded``, with its source) when it says, else its status (open may buy, restricted and
    sanctioned may not); an unlisted jurisdiction is open."""
    iso = trader_jurisdiction(world, trader, today)
    if iso is None:
        return "buyer_not_allowed"
    entry = treatment(world.claims, iso, today)
    if entry is None:
        return None
    if entry.notes_buyers:
        return "buyer_not_allowed" if entry.notes_buyers == "excluded" else None
    return "buyer_not_allowed" if entry.status in NO_BUYERS else None


class Context:
    """``model.MarketContext`` over the root state, at an event's time."""

    __slots__ = ("today", "world")

    def __init__(self, world: World, time: str) -> None:
        self.world = world
        self.today = time[:10]

    def available_minor(self, trader: str, asset: str) -> int:
        account = self.world.ledger.accounts.get(settlement.available_id(trader, asset))
        return 0 if account is None else account.available_minor

    def trading_refusal(self, trader: str, side: Side) -> str | None:
        if self.world.claims.kyc_state(trader) != APPROVED:
            return "kyc_not_verified"
        if side is Side.Bid:
            return buyer_refusal(self.world, trader, self.today)
        return None


def _moves(
    ms: MarketState,
    ledger: LedgerState,
    event: MarketEvent,
    placements: tuple[Placement, ...],
    cancels: tuple[Cancelled, ...],
) -> settlement.Moves:
    """The ledger chain of an event's outcome (a batch may span markets: each market's orders
    are settled in turn, in symbol order; resting orders belong to one market)."""
    if isinstance(event, MarketListed):
        return settlement.Moves(settlement.listing_accounts(event.market), (), {})
    if isinstance(event, OrdersPlaced):
        symbols = sorted({p.request.symbol for p in placements})
    else:
        symbols = [event.symbol]
    if len(symbols) == 1:
        return settlement.moves_of(
            ms.markets[symbols[0]], ms.pending, placements, cancels, ledger.accounts
        )
    accounts: tuple[Account, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    pending: dict[int, tuple[str, int] | None] = {}
    for symbol in symbols:
        part = settlement.moves_of(
            ms.markets[symbol], ms.pending, [p for p in placements if p.request.symbol == symbol],
            (), ledger.accounts,
        )  # fmt: skip
        accounts, transfers = accounts + part.accounts, transfers + part.transfers
        pending.update(part.pending)
    return settlement.Moves(accounts, transfers, pending)


def _results(decision: Decision) -> tuple[Any, ...]:
    if decision.refused:
        items: list[Any] = [*decision.placements]
        for r in decision.refused:
            items.insert(r.position, r)
        return tuple(items)
    return decision.placements or decision.cancels


def _decide(ms: MarketState, world: World, command: MarketCommand, time: str
            ) -> Decided | MarketRejection:  # fmt: skip
    decision = decide(ms, Context(world, time), command, world.events, time)
    if isinstance(decision, MarketRejection):
        return decision
    if decision.event is None:
        return Decided([], _results(decision))
    moves = _moves(ms, world.ledger, decision.event, decision.placements, decision.cancels)
    refused = settlement.check_moves(world.ledger, moves, time)
    if refused is not None:
        return MarketRejection(EventCode.ledger_refused, None, str(refused))
    return Decided([to_payload(decision.event)], _results(decision))


def _check(ms: MarketState, world: World, event: Event) -> MarketRejection | None:
    try:
        logged = from_payload(event.type, event.payload, world.events, event.time)
    except PayloadError as exc:
        return MarketRejection(EventCode.payload_malformed, None, str(exc))
    decision = redecide(ms, Context(world, event.time), logged)
    if isinstance(decision, MarketRejection):
        return decision
    moves = _moves(ms, world.ledger, logged, decision.placements, decision.cancels)
    refused = settlement.check_moves(world.ledger, moves, event.time)
    if refused is not None:
        return MarketRejection(EventCode.ledger_refused, None, str(refused))
    return None


def _evolve(ms: MarketState, world: World, event: Event) -> None:
    logged = from_payload(event.type, event.payload, world.events, event.time)
    outcome = apply(ms, logged)
    moves = _moves(ms, world.ledger, logged, outcome.placements, outcome.cancels)
    settlement.apply_moves(world.ledger, ms.pending, moves, event.time)
    if isinstance(logged, MarketListed):
        ms.trades[logged.market.symbol] = []
    for p in outcome.placements:
        history = ms.trades[p.request.symbol]
        history.extend(Trade(logged.sequence, logged.time, f) for f in p.fills)


def _escrow_named(items: object) -> str | None:
    """The first id of ``items`` (transfers or accounts, records or payload objects) that
    names a market escrow account, or ``None``."""
    if not isinstance(items, list | tuple):
        return None
    prefix = settlement.ESCROW_OWNER_PREFIX
    for item in items:
        names: tuple[str, ...]
        if isinstance(item, Transfer):
            names = (item.debit_account_id, item.credit_account_id)
        elif isinstance(item, Account):
            names = (item.id,)
        elif isinstance(item, dict):  # a transfer's accounts, or an account's id and owner
            keys = ("debit_account_id", "credit_account_id") if "debit_account_id" in item else (
                "id", "owner"
            )  # fmt: skip
            names = tuple(str(item.get(k, "")) for k in keys)
        else:
            continue
        if any(name.startswith(prefix) for name in names):
            return next(name for name in names if name.startswith(prefix))
    return None


def _guard(item: object) -> MarketRejection | None:
    """A plain ledger command or event that would open or move a market escrow account: the
    escrow's balances are the book's (``settlement.assert_settled``), so only market events
    touch it."""
    found: str | None = None
    if isinstance(item, CreateTransfers):
        found = _escrow_named(item.transfers)
    elif isinstance(item, OpenAccounts):
        found = _escrow_named(item.accounts)
    elif isinstance(item, Event) and item.type in ("ledger.transfers_created",
                                                   "ledger.accounts_opened"):  # fmt: skip
        found = _escrow_named(item.payload.get("transfers", item.payload.get("accounts")))
    if found is None:
        return None
    return MarketRejection(EventCode.escrow_reserved, None, f"{found!r} moves with market events")


def _invariants(ms: MarketState, world: World, full: bool) -> None:
    """The books and indexes (``machine.assert_invariants``), and the ledger's reservations
    equal to the resting orders (``settlement.assert_settled``): O(resting orders)."""
    assert_invariants(ms)
    reserved = {i: o.reserved_minor for i, o in ms.orders.items()}
    settlement.assert_settled(world.ledger, ms.markets.values(), reserved, ms.pending)
    assert ms.trades.keys() == ms.markets.keys(), "a trade history per market"
    if full:
        for symbol, history in ms.trades.items():
            ids = [t.fill.trade_id for t in history]
            assert ids == list(range(1, ms.next_trade_id[symbol])), f"{symbol}: trade ids"


DOMAIN: Final[Domain[MarketState]] = Domain(
    name="market",
    state=lambda root: root.market,
    commands={
        ListMarket: LISTED,
        SetMarketStatus: STATUS_SET,
        PlaceOrders: ORDERS_PLACED,
        CancelOrder: ORDERS_CANCELLED,
        CancelAll: ORDERS_CANCELLED,
    },
    event_types={name: EventType(*entry) for name, entry in MARKET_EVENT_TYPES.items()},
    entity_kinds=frozenset({"market", "order"}),
    refused=Code.market_refused,
    decide=_decide,
    check=_check,
    evolve=_evolve,
    assert_invariants=_invariants,
    guard=_guard,
    kinds=KINDS,
)
