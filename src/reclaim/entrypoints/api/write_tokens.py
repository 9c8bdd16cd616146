"""Group commit for the signed-write rate limit: concurrent requests take their tokens together.

Every signed write takes one token of ``auth.SIGNED_WRITES`` for its actor before it submits its
command (``auth.Authenticator`` for the API's own signed routes, ``backpack.signing.Verifier``
for Backpack's; ``auth.limit_signed_writes`` gives both this one ``WriteTokens``). The buckets
live in the database (``SqlRateLimiter``: shared by every process), so one token is one write
transaction — one lock. Taken one request at a time, 32 concurrent orders were 32 transactions
queueing on SQLite's write lock with the log writer's append, each waiter polling with SQLite's
busy handler (sleeps of 1, 2, 5 … 100 ms, unfair: a waiter can lose many rounds), which gave the
order route a p99 of about one second under load at half the server's capacity (issue 11's
benchmark).

``WriteTokens`` gathers them as the log service gathers commands: the first caller becomes the
*leader* and takes, in one ``acquire_many`` call (one transaction), every request queued by then;
the callers that arrive meanwhile wait on their own lock, and when the leader's transaction ends
the first of them leads the next batch with all the others. A caller waits for at most the
transaction in progress and its own; decisions are exactly those of calling ``acquire`` for each
request in queue order. A failure of the limiter (the database) is every caller of that batch's
error, and the next batch is led all the same. The batch is bounded by the callers' threads
(the server's thread pool), not by a constant.

A limiter without ``acquire_many`` is called once per request (same decisions, no gathering).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from reclaim.app.ports import RateDecision, RateLimiter, RateRule


class _Ask:
    """One caller's request: woken once answered, or once it is its turn to lead."""

    __slots__ = ("_ready", "decision", "error", "lead", "request")

    def __init__(self, request: tuple[RateRule, str, datetime]) -> None:
        self.request = request
        self.decision: RateDecision | None = None
        self.error: BaseException | None = None
        self.lead = False
        self._ready = threading.Lock()
        self._ready.acquire()

    def wait(self) -> None:
        self._ready.acquire()

    def wake(self) -> None:
        self._ready.release()


class WriteTokens:
    """The ``RateLimiter`` port over ``limiter``, concurrent callers gathered (module doc)."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self._mutex = threading.Lock()
        self._queued: list[_Ask] = []
        self._leading = False

    def acquire(self, rule: RateRule, identifier: str, now: datetime) -> RateDecision:
        ask = _Ask((rule, identifier, now))
        with self._mutex:
            self._queued.append(ask)
            lead, self._leading = not self._leading, True
        if not lead:
            ask.wait()  # answered by a leader, or made the next one
        if ask.decision is None and ask.error is None:
            assert lead or ask.lead
            self._lead()
        if ask.error is not None:
            raise ask.error
        assert ask.decision is not None
        return ask.decision

    def _lead(self) -> None:
        with self._mutex:
            batch, self._queued = self._queued, []
        try:
            decisions = self._acquire_many([ask.request for ask in batch])
        except BaseException as exc:  # the limiter's failure: every caller of the batch's
            for ask in batch:
                ask.error = exc
        else:
            for ask, decision in zip(batch, decisions, strict=True):
                ask.decision = decision
        finally:
            with self._mutex:
                if self._queued:
                    self._queued[0].lead = True
                    self._queued[0].wake()
                else:
                    self._leading = False
            for ask in batch:
                ask.wake()

    def _acquire_many(
        self, requests: Sequence[tuple[RateRule, str, datetime]]
    ) -> list[RateDecision]:
        many = getattr(self.limiter, "acquire_many", None)
        if many is None:
            return [self.limiter.acquire(*request) for request in requests]
        decisions: list[RateDecision] = many(requests)
        return decisions
