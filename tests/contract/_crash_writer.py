"""Writer processes for the contract suite (not a test module).

- ``python -m tests.contract._crash_writer URL PREFIX``: appends batches of documents to the
  store at ``URL`` forever (until killed), printing the last seq of each acknowledged batch on
  stdout, flushed, only after ``append`` returned. The crash test SIGKILLs it mid-run.
- ``append_batches``: the body of the concurrency test's ``spawn`` processes.
"""

from __future__ import annotations

import sys
from multiprocessing.synchronize import Event as EventFlag
from typing import Any

from reclaim.adapters.db.store import open_store
from reclaim.log.event import SignedEvent
from tests.factories import LogFactory

CRASH_BATCH_EVENTS = 25
CRASH_BATCHES_SIGNED = 40  # signed up front, then re-used with new document ids by re-signing


def append_batches(
    url: str, prefix: str, batches: int, batch_events: int, go: EventFlag, out: Any
) -> None:
    """Open a store of its own, wait for ``go``, append; put ``(prefix, results)`` on ``out``."""
    factory = LogFactory()
    signed = [
        factory.documents(prefix, batch_events, start=b * batch_events) for b in range(batches)
    ]
    store = open_store(url)
    try:
        go.wait(60)
        results = [store.append(batch) for batch in signed]
    finally:
        store.close()
    out.put((prefix, [(r.first_seq, r.size) for r in results]))


def _crash_batches(factory: LogFactory, prefix: str, round_: int) -> list[list[SignedEvent]]:
    return [
        factory.documents(
            f"{prefix}-{round_}", CRASH_BATCH_EVENTS, start=b * CRASH_BATCH_EVENTS
        )
        for b in range(CRASH_BATCHES_SIGNED)
    ]


def main(argv: list[str]) -> None:
    url, prefix = argv
    factory = LogFactory()
    store = open_store(url)
    round_ = 0
    while True:  # until killed
        for batch in _crash_batches(factory, prefix, round_):
            result = store.append(batch)
            print(result.size - 1, flush=True)
        round_ += 1


if __name__ == "__main__":
    main(sys.argv[1:])
