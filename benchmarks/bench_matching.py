"""Orders per second through the market core, against a naive sorted-list matcher.

The flow (seeded, the same for every matcher): ``ORDERS`` limit GTC orders of 1,000 traders
around a mid price that drifts, 1-20 steps each, a tenth of them crossing deep, with
self-trade prevention ``RejectTaker``; the book settles at a few thousand resting orders.

Three figures, measured in the same run:

- **book only**: ``matching.plan`` + ``evolve``'s application (``machine.apply`` of one
  ``market.orders_placed`` event per order), the work a replay does per order — the figure the
  target is judged on (issue 11: ≥ 200,000 orders/s);
- **decide + evolve**: the whole pure core per order, as the shell runs it (the validation
  ladder, the plan for the answer, then the application that plans again);
- **baseline**: a naive matcher written separately — one Python list per side, sorted by
  (price, time) with ``list.sort`` after each insert, scanned from the front — on the same flow.
  It must produce the same fills (count and steps), which is checked.
"""

from __future__ import annotations

import gc
import random
import time
from typing import Final

from _common import report
from reclaim.core.market import (
    Decision,
    ListMarket,
    Market,
    MarketState,
    MarketStatus,
    OrderRequest,
    OrdersPlaced,
    OrderType,
    PlaceOrders,
    SetMarketStatus,
    Side,
    StaticContext,
    apply,
    decide,
)

ORDERS: Final = 100_000
TRADERS: Final = 1_000
TARGET_PER_SECOND: Final = 200_000
SYMBOL: Final = "FTX5A_USD"
MARKET: Final = Market(SYMBOL, "FTX5A", price_decimals=3, step_notes=1_000)
TIME: Final = "2025-05-01T12:00:00.000000Z"


def flow(seed: int = 11) -> list[tuple[str, OrderRequest]]:
    rng = random.Random(seed)
    mid = 720
    orders = []
    for _ in range(ORDERS):
        mid = min(max(mid + rng.choice((-1, 0, 0, 1)), 600), 900)
        side = rng.choice((Side.Bid, Side.Ask))
        depth = rng.randint(8, 25) if rng.random() < 0.1 else rng.randint(-12, 3)
        price = mid + depth if side is Side.Bid else mid - depth
        trader = f"t{rng.randrange(TRADERS):04d}"
        orders.append(
            (trader, OrderRequest(SYMBOL, side, OrderType.Limit, rng.randint(1, 20), price))
        )
    return orders


def fresh_state() -> MarketState:
    state = MarketState()
    ctx = StaticContext()
    for n, command in enumerate((ListMarket(MARKET), SetMarketStatus(SYMBOL, MarketStatus.Open))):
        decided = decide(state, ctx, command, n, TIME)
        assert isinstance(decided, Decision)
        assert decided.event is not None
        apply(state, decided.event)
    return state


def book_only(orders: list[tuple[str, OrderRequest]]) -> tuple[float, int, int]:
    state = fresh_state()
    events = [OrdersPlaced(10 + i, TIME, t, (r,)) for i, (t, r) in enumerate(orders)]
    gc.collect()
    fills = steps = 0
    started = time.perf_counter()
    for event in events:
        for p in apply(state, event).placements:
            fills += len(p.fills)
            steps += p.executed_steps
    return len(orders) / (time.perf_counter() - started), fills, steps


class _Rich:
    """Every trader can afford every order (reservations are still computed and checked)."""

    def available_minor(self, trader: str, asset: str) -> int:
        return 10**15

    def trading_refusal(self, trader: str, side: Side) -> str | None:
        return None


def decide_and_evolve(orders: list[tuple[str, OrderRequest]]) -> float:
    state = fresh_state()
    ctx = _Rich()
    commands = [PlaceOrders(t, (r,)) for t, r in orders]
    gc.collect()
    started = time.perf_counter()
    for i, command in enumerate(commands):
        decided = decide(state, ctx, command, 10 + i, TIME)
        assert isinstance(decided, Decision), decided
        assert decided.event is not None
        apply(state, decided.event)
    return len(orders) / (time.perf_counter() - started)


def naive(orders: list[tuple[str, OrderRequest]]) -> tuple[float, int, int]:
    """Sorted Python lists of ``[key, id, trader, remaining]``; best first after each sort."""
    bids: list[list[object]] = []  # key: -price, then id
    asks: list[list[object]] = []  # key: price, then id
    fills = steps = 0
    started = time.perf_counter()
    for n, (trader, r) in enumerate(orders):
        assert r.price_ticks is not None
        assert r.quantity_steps is not None
        remaining = r.quantity_steps
        if r.side is Side.Bid:
            opposite, own, key = asks, bids, -r.price_ticks
        else:
            opposite, own, key = bids, asks, r.price_ticks
        stopped = False
        while remaining and opposite:
            best = opposite[0]
            price = best[0] if r.side is Side.Bid else -best[0]  # type: ignore[operator]
            if (r.side is Side.Bid and price > r.price_ticks) or (
                r.side is Side.Ask and price < r.price_ticks  # type: ignore[operator]
            ):
                break
            if best[2] == trader:
                stopped = True  # RejectTaker
                break
            q = min(remaining, best[3])  # type: ignore[call-overload]
            best[3] -= q  # type: ignore[operator]
            remaining -= q
            fills += 1
            steps += q
            if best[3] == 0:
                opposite.pop(0)
        if remaining and not stopped:
            own.append([key, n, trader, remaining])
            own.sort(key=lambda o: (o[0], o[1]))  # type: ignore[return-value]
    return len(orders) / (time.perf_counter() - started), fills, steps


def main() -> None:
    orders = flow()
    base, base_fills, base_steps = max((naive(orders) for _ in range(2)), key=lambda x: x[0])
    ours, fills, steps = max((book_only(orders) for _ in range(3)), key=lambda x: x[0])
    assert (fills, steps) == (base_fills, base_steps), ((fills, steps), (base_fills, base_steps))
    core = max(decide_and_evolve(orders) for _ in range(2))
    report(
        f"matching, book only ({ORDERS:,} limit orders, {fills:,} fills)",
        f"{ours:,.0f} orders/s vs naive sorted-list matcher {base:,.0f} orders/s"
        f" (target ≥ {TARGET_PER_SECOND:,} orders/s)",
        ours / base,
        "higher is better",
        ours >= TARGET_PER_SECOND,
    )
    report(
        "matching, decide + evolve (whole pure core)",
        f"{core:,.0f} orders/s vs book only {ours:,.0f} orders/s",
        core / ours,
        "informational",
        True,
    )


if __name__ == "__main__":
    main()
