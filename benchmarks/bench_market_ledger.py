"""Orders per second through the market core with its ledger, against the book-only matcher.

The figure (issue 11): signed-off orders through ``reclaim.core.machine`` as the log service
runs them without storage — ``decide`` (the market's ladder, KYC and policy, the plan, and the
ledger's check of the chain: the reservation of a resting order as a pending transfer, each
fill's delivery versus payment, the maker's pending posted and re-reserved) then ``evolve``
(the plan applied, the chain posted) — one ``PlaceOrders`` of one limit GTC order per command.

Baseline, measured in the same run on the same flow: the book-only matcher of
``bench_matching`` (``machine.apply`` of one ``market.orders_placed`` per order on a bare
``MarketState``: no machine, no ledger). The ratio is what the shell and the ledger cost.

The world is the market tests' (``tests/support/market_world.py``, built through the machine:
series FTX5A, market FTX5A_USD open, steps of $1 of face); four KYC-verified traders — alice,
bob and carol convert their claims (1,000,000 note units each, with mei's: 40,000 steps in
all) and every trader gets $100M of cash by a treasury deposit. mei (CN, restricted) only
sells. Orders of 1-5 steps around a drifting mid price, a tenth crossing deep, self-trade
prevention as the market's default; each trader cancels all every ``CANCEL_EVERY`` orders (a
command counted like an order). A refused command is counted (it still went through
``decide``).
"""

from __future__ import annotations

import gc
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support: the world

from tests.support.core_harness import key_id
from tests.support.market_world import SYMBOL, MarketWorld

from _common import report
from bench_matching import fresh_state
from reclaim.bootstrap import tune_garbage_collector
from reclaim.core.ledger import Account, CreateTransfers, OpenAccounts, Transfer
from reclaim.core.ledger.model import DEBITS_MUST_NOT_EXCEED_CREDITS
from reclaim.core.machine import Decided, decide, evolve
from reclaim.core.market import (
    CancelAll,
    OrderRequest,
    OrdersPlaced,
    OrderType,
    PlaceOrders,
    Side,
    apply,
)
from reclaim.core.notes import ConvertClaim

ORDERS: Final = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
TRADERS: Final = ("alice", "bob", "carol", "mei")
CASH_MINOR: Final = 10_000_000_000
#: Each trader cancels all its resting orders after every so many orders: four traders would
#: otherwise reach ``limits.market_open_orders_per_trader_max`` (500) and be refused.
CANCEL_EVERY: Final = 400


def world() -> MarketWorld:
    w = MarketWorld()
    for claim, creditor in (("A1", "alice"), ("B1", "bob"), ("C1", "carol")):
        if claim not in w.state.notes.conversions:
            w.ok(ConvertClaim("FTX5A", claim, creditor, "2025-06-03"), creditor)
    d = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
    missing = tuple(
        Account.of(t, "USD", "creditor_available", d)
        for t in TRADERS
        if f"{t}/USD/creditor_available" not in w.state.ledger.accounts
    )
    if missing:
        w.ok(OpenAccounts(missing), "treasury")
    w.ok(
        CreateTransfers(tuple(
            Transfer(f"bench-cash-{t}", "operator/USD/rail_settlement",
                     f"{t}/USD/creditor_available", "USD", CASH_MINOR, "deposit")
            for t in TRADERS
        )),
        "treasury",
    )  # fmt: skip
    return w


def flow(seed: int = 11) -> list[tuple[str, OrderRequest]]:
    rng = random.Random(seed)
    mid = 72
    orders = []
    for _ in range(ORDERS):
        mid = min(max(mid + rng.choice((-1, 0, 0, 1)), 68), 76)
        trader = rng.choice(TRADERS)
        side = Side.Ask if trader == "mei" else rng.choice((Side.Bid, Side.Ask))
        depth = rng.randint(4, 10) if rng.random() < 0.1 else rng.randint(-2, 2)
        price = min(max(mid + depth if side is Side.Bid else mid - depth, 1), 99)
        orders.append(
            (trader, OrderRequest(SYMBOL, side, OrderType.Limit, rng.randint(1, 5), price))
        )
    return orders


def through_machine(orders: list[tuple[str, OrderRequest]]) -> tuple[float, int, int]:
    """Commands/s of decide + evolve on the world; (rate, refused, fills)."""
    w = world()
    state, now = w.state, w.now
    keys = {t: key_id(t) for t in TRADERS}
    commands: list[tuple[PlaceOrders | CancelAll, str]] = []
    placed = dict.fromkeys(TRADERS, 0)
    for t, r in orders:
        commands.append((PlaceOrders(t, (r,)), t))
        placed[t] += 1
        if placed[t] % CANCEL_EVERY == 0:  # under the resting-orders bound of a trader
            commands.append((CancelAll(t, SYMBOL), t))
    step = timedelta(microseconds=10)
    refused = fills = 0
    gc.collect()
    started = time.perf_counter()
    for command, trader in commands:
        now += step
        decided = decide(state, command, trader, keys[trader], now)
        if not isinstance(decided, Decided) or not decided.events:
            refused += 1
            continue
        for event in decided.events:
            evolve(state, event)
    elapsed = time.perf_counter() - started
    fills = sum(len(trades) for trades in state.market.trades.values())
    return len(commands) / elapsed, refused, fills


def book_only(orders: list[tuple[str, OrderRequest]]) -> float:
    state = fresh_state()
    events = [OrdersPlaced(10 + i, "2025-05-01T12:00:00.000000Z", t, (r,))
              for i, (t, r) in enumerate(orders)]  # fmt: skip
    gc.collect()
    started = time.perf_counter()
    for event in events:
        apply(state, event)
    return len(orders) / (time.perf_counter() - started)


def main() -> None:
    tune_garbage_collector()
    orders = flow()
    base = max(book_only(orders) for _ in range(3))
    ours, refused, fills = max((through_machine(orders) for _ in range(2)), key=lambda r: r[0])
    report(
        f"market core with ledger reservations and fills ({ORDERS:,} orders, {fills:,} fills,"
        f" {refused:,} refused)",
        f"{ours:,.0f} commands/s through machine decide+evolve vs book only {base:,.0f} orders/s",
        ours / base,
        "informational: what the shell and the ledger cost",
        True,
    )


if __name__ == "__main__":
    main()
