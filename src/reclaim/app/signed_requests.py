"""The signed request a command answers: how its mark reaches the log's transaction.

The API's authenticator, once a request's signature verifies, calls ``hold(mark)`` in the
request's context; the next command submitted from that context (``LogService.submit``) takes
it (``take``), and the log service stores it in the same transaction as the batch that answers
the command — its events, or its refusal. So a signed request that changed the state is durable
exactly when its effect is, and ``LogService.request_seen`` refuses the same signed bytes after
a restart, or in a second process.

A context variable, not an argument, because every application service would otherwise thread
it through: the mark is a property of the request (like a transaction scope), not of the
command. The variable holds a one-element list so that a sub-context (the worker thread a
synchronous route runs in gets a copy of the request's context) takes the same mark once.

Only the first command of a request carries its mark; a request that submits no command (a
read, or one refused before the core is asked) leaves none: reads are guarded by the process's
own replay cache only (a replayed read changes nothing).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Final

from reclaim.app.ports import RequestMark

_HELD: Final[ContextVar[list[RequestMark] | None]] = ContextVar("signed_request", default=None)


def hold(mark: RequestMark) -> None:
    """Make ``mark`` the signed request of the current context (replacing any held one)."""
    _HELD.set([mark])


def take() -> RequestMark | None:
    """The mark held in the current context, once: later calls answer ``None``."""
    held = _HELD.get()
    return held.pop() if held else None


def held() -> RequestMark | None:
    """The mark held in the current context, without taking it."""
    current = _HELD.get()
    return current[0] if current else None
