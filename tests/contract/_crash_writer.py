"""Writer processes for the contract suite (not a test module).

- ``python -m tests.contract._crash_writer URL PREFIX``: appends batches of documents to the
  store at ``URL`` forever (until killed), printing the last seq of each acknowledged batch on
  stdout, flushed, only after ``append`` returned. The crash test SIGKILLs it mid-run.
- ``append_batches``, ``open_at_once``: bodies of the concurrency tests' ``spawn`` processes.
"""

from __future__ import annotations

import sys
from multiprocessing.synchronize import Event as EventFlag
from typing import Any

from reclaim.adapters.db.store import open_store
from reclaim.log.event import SignedEvent
from tests.support.factories import LogFactory

CRASH_BATCH_EVENTS = 25
CRASH_BATCHES_SIGNED = 40  # signed in rounds, so that most of the time is spent appending


def append_batches(
    url: str, prefix: str, batches: int, batch_events: int, go: EventFlag, out: Any
) -> None:
    """Open a store of its own, put ``(prefix, None)`` on ``out``, wait for ``go``, append, then
    put ``(prefix, [(first_seq, size), ...])`` — or ``(prefix, "the error")``."""
    try:
        factory = LogFactory()
        signed = [
            factory.documents(prefix, batch_events, start=b * batch_events) for b in range(batches)
        ]
        store = open_store(url)
    except Exception as exc:
        out.put((prefix, f"{type(exc).__name__}: {exc}"))
        raise
    try:
        out.put((prefix, None))
        go.wait(60)
        results = [store.append(batch) for batch in signed]
        out.put((prefix, [(r.first_seq, r.size) for r in results]))
    except Exception as exc:
        out.put((prefix, f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        store.close()


def open_at_once(url: str, go: EventFlag, out: Any) -> None:
    """Put ``None`` on ``out``, wait for ``go``, open (and so migrate) the store, put its size
    — or the error."""
    out.put(None)
    go.wait(60)
    try:
        store = open_store(url)
        out.put(store.size())
        store.close()
    except Exception as exc:
        out.put(f"{type(exc).__name__}: {exc}")
        raise


def _crash_batches(factory: LogFactory, prefix: str, round_: int) -> list[list[SignedEvent]]:
    return [
        factory.documents(f"{prefix}-{round_}", CRASH_BATCH_EVENTS, start=b * CRASH_BATCH_EVENTS)
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
