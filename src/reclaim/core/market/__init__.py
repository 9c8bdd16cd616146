"""The market: recovery notes against USD on a price-time priority book, in the pure core.

Theory of operation
-------------------
A **market** (``model.Market``, event ``market.listed``, signed by an admin) trades one note
series (asset ``NOTE-<series>``, one unit = one cent of admitted face value) against USD, e.g.
``FTX5A_USD``. A price is the fraction of face value a claims trader quotes (``0.72`` = 72 cents
on the dollar), in **ticks** of ``10**-price_decimals``; a quantity is in **steps** of
``step_notes`` note units. A listing is refused unless one tick on one step is a whole number
of cents, so every fill's cash, ``price_ticks × quantity_steps × lot_cash_minor``, is exact:
there is no rounding of cash anywhere (``amounts``). Fees (maker/taker basis points, default 0)
are rounded up once per order (``amounts``). A market is listed ``Closed``; an admin's
``market.status_set`` opens it, halts it (``CancelOnly``: cancels only) or closes it (every
resting order is cancelled and its reservation released).

An order's life, as a state machine (rows: state, columns: what happens):

| state           | placed, crosses       | fill (as maker)         | cancel / close / STP |
| --------------- | --------------------- | ----------------------- | -------------------- |
| (new)           | fills; rest? → below  | –                       | –                    |
| New             | –                     | → PartiallyFilled/Filled| → Cancelled          |
| PartiallyFilled | –                     | → PartiallyFilled/Filled| → Cancelled          |
| Filled, Cancelled, Expired | final      | –                       | ``order_not_found``  |

On placement: ``GTC`` limit remainders rest (``New``/``PartiallyFilled``); ``IOC``, market and
``FOK`` orders never rest (``Filled`` or ``Expired``; ``FOK`` all-or-nothing); a taker stopped by
self-trade prevention is ``Cancelled``; post-only orders that would take are refused.

Events (version 1; shapes and signing roles in ``payloads``): ``market.listed``,
``market.status_set``, ``market.orders_placed`` (one order or a batch; order ``i`` of the event
at log position ``s`` has id ``s × 64 + i``, so ids are the time of price-time priority),
``market.orders_cancelled`` (ids ascending). Fills, self-trade cancels and reservations are not
in the payloads: ``matching.plan`` derives them from the event and the book, deterministically,
and ``decide`` reports them as data (``model.Placement``, ``model.Fill``, ``model.Cancelled``).

**Reservations.** Placing an order reserves from the trader's available balance (the
context's ``available_minor``) its largest possible cost: a Bid's cash at its limit with the
most fees it could pay (a market Bid: its quote budget, or the exact cost of its fills); an
Ask's notes. Fills consume it; what the order can no longer use is released — the taker's at
the end of its placement, a resting Bid's at each fill (a price-improving fill releases the
difference); a cancel releases the remainder whole. ``machine.placement_moves`` and
``machine.moves_of_cancel`` give the balance changes per (owner, asset, available|reserved),
which sum to zero per asset: the ledger wiring turns them into pending transfers, posts and
voids (delivery versus payment: both legs of a fill in one chain).

The pure functions (wired to the machine by ``domain``, issue 10's ``Domain`` seam):

- ``decide(state, ctx, command, sequence, time) -> Decision | MarketRejection`` (the state is
  not changed; a batch is decided on a ``fork``);
- ``check(state, ctx, event) -> MarketRejection | None`` (the verifier's replay: re-decide);
- ``evolve(state, event) -> state`` applies a checked event **in place** (``apply`` also
  returns the derived outcome) and records touched entities in ``state.changed``;
- ``assert_invariants(state)``.

The context (``model.MarketContext``) is the other sub-domains' rung: the trader's available
balances, and whether KYC and the jurisdiction policy let the trader buy or sell
(``kyc_not_verified``, ``buyer_not_allowed``).

Invariants
----------
Asserted by ``assert_invariants``: every book is well-formed, sorted by price with FIFO queues
in id order, and never crossed; the order, trader and client-id indexes are exact; a resting
Ask reserves exactly its remaining notes and a resting Bid exactly what its remainder can still
cost (``amounts.bid_need_minor``); a closed market has no resting order. With
``placement_moves`` this gives conservation: every cent and note that leaves a trader's
available balance is reserved, delivered to the counterparty, paid as a fee, or released.

Interface (what the API and the app service build on)
------------------------------------------------------
Commands (``model``; names and fields stable), each run through ``reclaim.core.machine.decide``
signed by the actor named:

| command                                      | event                      | signed by           |
| -------------------------------------------- | -------------------------- | ------------------- |
| ``ListMarket(Market(...))``                  | ``market.listed``          | admin               |
| ``SetMarketStatus(symbol, MarketStatus)``    | ``market.status_set``      | admin               |
| ``PlaceOrders(trader, (OrderRequest, ...))`` | ``market.orders_placed``   | the trader, gateway |
| ``CancelOrder(trader, symbol, order_id=…)``  | ``market.orders_cancelled``| the trader, gateway |
| ``CancelOrder(trader, symbol, client_id=…)`` | ``market.orders_cancelled``| the trader, gateway |
| ``CancelAll(trader, symbol)``                | ``market.orders_cancelled``| the trader, gateway |

A refusal is ``Rejection(code, ..., reason=<MarketCode member>, position)``: ``reason`` is the
ladder's code (``codes``; its ``KINDS`` entry is the HTTP class). ``Decided.results`` of
``PlaceOrders`` has one item per order in input order: a ``Placement`` (its ``order_id``,
``status``, ``fills``, ``executed_steps``, ``executed_cash_minor``, ``fee_minor``,
``resting_steps``) or a ``Refused`` (``position``, ``code``, ``detail``); of a cancel, the
``Cancelled`` records; ``ListMarket`` / ``SetMarketStatus`` / an empty ``CancelAll`` that change
nothing are accepted with no event and no result. The order id of order ``i`` of the event at
log position ``s`` is ``order_id_of(s, i)``.

State (``reclaim.core.machine.State.market``, a ``MarketState``; read only):

- ``markets[symbol]`` the terms (``Market``), ``status[symbol]`` the ``MarketStatus``;
- ``books[symbol]`` the ``Book`` (``bids`` / ``asks``: ``BookSide``, levels best first with
  ``walk()``, ``depth(n)``, ``best_price()``);
- ``orders[order_id]`` every **resting** order (``book.Resting``: trader, side, price,
  quantity, remaining, executed, reserved, client id, created_at, ``status``); a filled,
  cancelled or expired order is gone from the state — its history is the log;
- ``open_by_trader[(trader, symbol)]`` resting ids, ``client_ids[(trader, symbol, client)]``;
- ``trades[symbol]`` every fill in log order (``model.Trade``: ``sequence``, ``time``,
  ``fill`` — trade id, maker and taker order ids and traders, taker side, price, quantity,
  notes, cash, fees): the fills history of both traders and the public trades;
- ``pending[order_id]`` the resting order's open ledger transfer ``(id, amount)``.

Market data (``data``): ``depth(book, levels)``, ``ticker(trades, start, end)`` (24 hours:
first, last, high, low, volumes, count), ``klines(trades, start, end, interval_seconds)``; a
series' next record date, last transfer date and ex-date:
``reclaim.core.notes.calendar.series_calendar(state.notes, state.distribution, series, today)``.

A trader's balances: ``data.balances(state.ledger, data.market_assets(markets.values()),
trader)`` → ``{asset: Balance(available_minor, locked_minor)}`` from the ledger accounts
``<trader>/<asset>/creditor_available`` (``USD`` in cents, ``NOTE-<series>`` in note units;
``locked`` is what resting orders reserve). The ledger wiring (``settlement``) names every
account and transfer a market event moves.

Known limits
------------
- Prices are ticks of ``10**-d`` of face only (no tick of 0.0005); quote asset USD only.
- A taker touches at most ``limits.market_fills_per_order_max`` resting orders; its remainder
  then expires.
- A batch of several orders forks the books it names (``O(resting orders)`` per batch); a
  single order is decided on the state itself.
- Cancelling an order in the middle of a level is ``O(level length)`` (``deque.remove``).
"""

from reclaim.core.kinds import Kind
from reclaim.core.market.codes import (
    ACCEPTED,
    KINDS,
    CancelCode,
    EventCode,
    ListCode,
    MarketCode,
    MarketRejection,
    OrderCode,
    StatusCode,
    kind,
)
from reclaim.core.market.machine import (
    AVAILABLE,
    RESERVED,
    MarketState,
    Outcome,
    apply,
    assert_invariants,
    check,
    command_of,
    decide,
    evolve,
    moves_of_cancel,
    placement_moves,
)
from reclaim.core.market.model import (
    Authorisation,
    CancelAll,
    Cancelled,
    CancelOrder,
    Decision,
    Fill,
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
    OrderStatus,
    OrderType,
    Placement,
    PlaceOrders,
    Refused,
    SelfTradePrevention,
    SetMarketStatus,
    Side,
    StaticContext,
    TimeInForce,
    order_id_of,
)

__all__ = [
    "ACCEPTED",
    "AVAILABLE",
    "KINDS",
    "RESERVED",
    "Authorisation",
    "CancelAll",
    "CancelCode",
    "CancelOrder",
    "Cancelled",
    "Decision",
    "EventCode",
    "Fill",
    "Kind",
    "ListCode",
    "ListMarket",
    "Market",
    "MarketCode",
    "MarketCommand",
    "MarketContext",
    "MarketEvent",
    "MarketListed",
    "MarketRejection",
    "MarketState",
    "MarketStatus",
    "MarketStatusSet",
    "OrderCode",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "OrdersCancelled",
    "OrdersPlaced",
    "Outcome",
    "PlaceOrders",
    "Placement",
    "Refused",
    "SelfTradePrevention",
    "SetMarketStatus",
    "Side",
    "StaticContext",
    "StatusCode",
    "TimeInForce",
    "apply",
    "assert_invariants",
    "check",
    "command_of",
    "decide",
    "evolve",
    "kind",
    "moves_of_cancel",
    "order_id_of",
    "placement_moves",
]
