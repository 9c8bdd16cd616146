"""Shared helpers of the benchmarks: timing, a fixed clock, and how figures are printed.

Every benchmark prints its figure next to a baseline measured in the same run, as a ratio, and
says whether the target is met. Benchmarks report; they never fail the build (machines here are
shared and noisy), but a missed target is printed as ``TARGET MISSED``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


class StepClock:
    """A clock that advances one microsecond per reading: deterministic event times."""

    def __init__(self) -> None:
        self._now = datetime(2025, 1, 3, 15, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self._now += timedelta(microseconds=1)
        return self._now


def best_of(runs: int, fn: Callable[[], float]) -> float:
    """The best (highest) of several rate measurements."""
    return max(fn() for _ in range(runs))


def median_seconds(samples: list[float]) -> float:
    return statistics.median(samples)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def report(name: str, figure: str, ratio: float, target: str, met: bool) -> None:
    verdict = "ok" if met else "TARGET MISSED"
    print(f"{name}: {figure}; ratio {ratio:.2f} ({target}) — {verdict}", flush=True)
