"""A pass-through over 1,000,000 note holders, against a plain integer division loop.

The figure (issue 11): ``notes.allocate_pass_through`` — the exact split of one round's
payment over the holders at the record date (``money.allocate_pro_rata``: floors, then the
leftover cents one each to the largest remainders, ties by account id, the parts summing to
the payment) — over ``HOLDERS`` holders with seeded, skewed holdings. Target ≤ 10 s.

Baseline, measured in the same run on the same holders: the floors alone — one
``amount * notes // total`` per holder in a plain loop, no remainders, no ordering, no checks
(what a split that silently loses cents would cost). The ratio is the exact split's time over
the baseline's.
"""

from __future__ import annotations

import gc
import random
import time
from typing import Final

from _common import report
from reclaim.core.notes.machine import allocate_pass_through

HOLDERS: Final = 1_000_000
TARGET_SECONDS: Final = 10.0
#: One round's payment for the series: $987,654,321.07 in cents (odd, so remainders matter).
AMOUNT_MINOR: Final = 98_765_432_107


def holders(seed: int = 11) -> dict[str, int]:
    """Account ids in no particular order; notes from one cent of face to $10M, skewed small."""
    rng = random.Random(seed)
    ids = [f"creditor-{n:07d}" for n in range(HOLDERS)]
    rng.shuffle(ids)
    return {account: int(rng.paretovariate(1.2) * 10_000) for account in ids}


def baseline(holdings: dict[str, int]) -> float:
    total = sum(holdings.values())
    started = time.perf_counter()
    parts = {account: AMOUNT_MINOR * notes // total for account, notes in holdings.items()}
    elapsed = time.perf_counter() - started
    assert len(parts) == len(holdings)
    return elapsed


def exact(holdings: dict[str, int]) -> float:
    gc.collect()
    started = time.perf_counter()
    parts = allocate_pass_through(AMOUNT_MINOR, holdings)
    elapsed = time.perf_counter() - started
    assert sum(parts.values()) == AMOUNT_MINOR
    assert len(parts) == sum(1 for notes in holdings.values() if notes)
    return elapsed


def main() -> None:
    holdings = holders()
    base = min(baseline(holdings) for _ in range(3))
    ours = min(exact(holdings) for _ in range(2))
    report(
        f"pass-through over {HOLDERS:,} note holders (exact, largest remainder)",
        f"{ours:.2f} s vs plain integer division loop {base:.2f} s"
        f" (target ≤ {TARGET_SECONDS:.0f} s)",
        ours / base,
        "lower is better",
        ours <= TARGET_SECONDS,
    )


if __name__ == "__main__":
    main()
