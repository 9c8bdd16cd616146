"""How bundles reach the replay: checked in the calling process, or by a worker pool ahead.

See the package docstring ("Parallelism") for why the pool has one worker per CPU but one and
why the main process checks a later bundle itself rather than wait for a worker.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Final

from reclaim.core.limits import verifier_in_process_events_max as in_process_events_max
from reclaim.verifier.bundles import BundleChecker, BundleResult
from reclaim.verifier.keys import KeySet
from reclaim.verifier.replay import Replay
from reclaim.verifier.source import LogSource, Progress

#: Bundles queued per worker ahead of the one being replayed: enough that a worker never waits
#: for the main process, few enough to bound memory (a bundle is a few MB; as many again wait
#: for the main process to check them).
bundles_ahead_per_worker: Final = 3


def pool_size(workers: int | None, total: int) -> int:
    """Pool processes to use: ``None`` chooses (one per CPU but one, none for a small log)."""
    if workers is None:
        cpus = os.cpu_count() or 1
        return cpus - 1 if cpus >= 2 and total > in_process_events_max else 0
    if workers < 0:
        raise ValueError(f"workers must be None or >= 0, not {workers}")
    return workers


_WORKER_CHECKER: BundleChecker | None = None


def _worker_init(keys_by_id: dict[str, str]) -> None:
    global _WORKER_CHECKER  # one per worker process, set once by the pool's initializer
    _WORKER_CHECKER = BundleChecker(keys_by_id, to_pickle=True)


def _worker_check(start: int, data: bytes) -> BundleResult:
    assert _WORKER_CHECKER is not None, "the pool's initializer sets the checker"
    return _WORKER_CHECKER(start, data)


def stream_in_process(
    source: LogSource,
    key_set: KeySet,
    replay: Replay,
    total: int,
    progress: Progress | None,
) -> None:
    checker = BundleChecker(key_set.by_id)
    for start, data in source.bundles():
        replay.check_start(start)
        replay.feed(start, checker(start, data))
        if progress is not None:
            progress(replay.size, max(total, replay.size))


@dataclass(slots=True)
class _Slot:
    """A bundle on its way: sent to a worker (``future``), or kept for the main process."""

    start: int
    data: bytes | None
    future: Future[BundleResult] | None
    result: BundleResult | None = None


def stream_in_pool(
    source: LogSource,
    key_set: KeySet,
    replay: Replay,
    pool_size: int,
    total: int,
    progress: Progress | None,
) -> None:
    """Workers check bundles ahead; the main process replays in order and, rather than wait for
    a worker, checks a later bundle itself. So the busy processes never outnumber the CPUs."""
    checker = BundleChecker(key_set.by_id)
    ahead = bundles_ahead_per_worker * pool_size
    slots: deque[_Slot] = deque()
    bundles = iter(source.bundles())
    pool = ProcessPoolExecutor(
        max_workers=pool_size,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(key_set.by_id,),
    )
    try:
        while _fill(slots, bundles, pool, ahead) or slots:
            head = slots[0]
            if head.future is not None and not head.future.done():
                local = next((s for s in slots if s.future is None and s.result is None), None)
                if local is not None:
                    local.result, local.data = checker(local.start, _bytes(local.data)), None
                    continue
            slots.popleft()
            if head.future is not None:
                head.result = head.future.result()
            elif head.result is None:
                head.result = checker(head.start, _bytes(head.data))
            replay.check_start(head.start)
            replay.feed(head.start, head.result)
            if progress is not None:
                progress(replay.size, max(total, replay.size))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _fill(
    slots: deque[_Slot],
    bundles: Iterator[tuple[int, bytes]],
    pool: ProcessPoolExecutor,
    ahead: int,
) -> bool:
    """Read bundles into ``slots`` up to the window; ``False`` once the source is exhausted."""
    while len(slots) < 2 * ahead:
        try:
            start, data = next(bundles)
        except StopIteration:
            return False
        busy = sum(1 for s in slots if s.future is not None and not s.future.done())
        if busy < ahead:
            slots.append(_Slot(start, None, pool.submit(_worker_check, start, data)))
        else:
            slots.append(_Slot(start, data, None))
    return True


def _bytes(data: bytes | None) -> bytes:
    assert data is not None, "a bundle kept for the main process keeps its bytes until checked"
    return data
