"""The records one batch of the log service is made of (``reclaim.app.log_service``).

A caller's command travels as a ``Work``; on the threaded path its ``Answer`` is what the
caller blocks on until the writer has stored the batch that answers it. ``Prepared`` is a
batch after the writer's prepare stage: decided, evolved into the state, its signatures on
their way. ``Accepted`` (or a ``Rejection``: an ``Outcome``) is what a caller is answered.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from reclaim.app.ports import EntityChange, PendingSignatures, RequestMark
from reclaim.core.events import Event
from reclaim.core.machine import Command, ItemResult
from reclaim.core.rejections import Rejection
from reclaim.log import event as log_event


@dataclass(frozen=True, slots=True)
class Accepted:
    """An accepted command: its events at ``first_seq`` onwards, and its per-item results
    (batch commands). A retried command may be accepted with no new event at all."""

    first_seq: int
    events: tuple[Event, ...]
    results: tuple[ItemResult, ...] = ()

    @property
    def seq(self) -> int:
        """The seq of the command's last event (of its only event, for most commands)."""
        assert self.events, "a command accepted with no event has no seq"
        return self.first_seq + len(self.events) - 1

    @property
    def event(self) -> Event:
        assert len(self.events) == 1, "this command has not exactly one event"
        return self.events[0]


Outcome = Accepted | Rejection


class Answer:
    """One caller's answer on the threaded path: set once by the writer, waited for once by
    the caller. The caller blocks on a bare lock that the writer releases — the cheapest
    wake-up CPython has (``concurrent.futures.Future`` takes a condition and its lock per
    caller, several times the cost with tens of callers per batch)."""

    __slots__ = ("_error", "_outcome", "_ready", "_set")

    def __init__(self) -> None:
        self._ready = threading.Lock()
        self._ready.acquire()
        self._set = False
        self._outcome: Outcome | None = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        return self._set

    def set_result(self, outcome: Outcome) -> None:
        assert not self._set, "a caller is answered once"
        self._outcome, self._set = outcome, True
        self._ready.release()

    def set_exception(self, error: BaseException) -> None:
        assert not self._set, "a caller is answered once"
        self._error, self._set = error, True
        self._ready.release()

    def result(self) -> Outcome:
        with self._ready:  # blocks until the writer answers
            pass
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome


@dataclass(slots=True)
class Work:
    command: Command | log_event.SignedEvent
    actor: str
    future: Answer | None = None  # the threaded path; the bulk path reads `outcome`
    mark: RequestMark | None = None  # the signed API request it answers (``signed_requests``)
    outcome: Outcome | None = None
    error: BaseException | None = None

    def answer(self, outcome: Outcome) -> None:
        self.outcome = outcome
        if self.future is not None:
            self.future.set_result(outcome)

    def fail(self, error: BaseException) -> None:
        self.error = error
        if self.future is not None:
            self.future.set_exception(error)


@dataclass(slots=True)
class Prepared:
    """A batch after ``prepare``: decided, evolved into the state, signatures on their way."""

    works: list[Work]
    events: list[Event | log_event.SignedEvent]  # every accepted work's events, in order
    accepted: dict[int, tuple[int, tuple[ItemResult, ...]]]  # id(work) -> (event count, results)
    bodies: list[bytes]
    signatures: PendingSignatures | None
    entities: list[EntityChange] = field(default_factory=list)
    #: Projected keys changed in the batch -> the index in ``entities`` of their first change.
    touched: dict[str, int] = field(default_factory=dict)
    #: Projected keys changed again after their first change -> the position of the last one
    #: (its value is taken once the batch is decided).
    later: dict[str, int] = field(default_factory=dict)
