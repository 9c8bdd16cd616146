"""What the application's services need of the log service (``LogService`` has it all).

Each service names the narrow port it uses, so a test can hand it a smaller log:

- ``LogReader``: the log's size and a query run on the state (the transparency page, a
  creditor's pages);
- ``LogWriter``: a query run on the state and commands submitted in order, each answered by an
  ``Outcome`` (distribution rounds, the register import).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from reclaim.app.log_batch import Outcome
from reclaim.core.machine import Command, State

_T = TypeVar("_T")


class LogReader(Protocol):
    """The log as a reader sees it: its size (events logged) and queries on its state."""

    @property
    def size(self) -> int: ...

    def read(self, query: Callable[[State], _T]) -> _T: ...


class LogWriter(Protocol):
    """The log as a writer sees it: queries on its state and ``(command, actor)`` pairs
    submitted in order, one ``Outcome`` each."""

    def read(self, query: Callable[[State], _T]) -> _T: ...

    def submit_many(self, commands: Iterable[tuple[Command, str]]) -> list[Outcome]: ...
