"""``WriteTokens``: concurrent signed writes take their rate-limit tokens together.

Against the real ``SqlRateLimiter`` on an SQLite file: 32 threads of one actor at once get
exactly the rule's count of tokens, and the decisions are those of one ``acquire`` per request.
Against a limiter that records its calls: callers that arrive while a batch is in the database
are answered by the next one (one call for all of them, not one each); a failing batch is every
one of its callers' error and the next caller is served; a limiter without ``acquire_many`` is
called once per request.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from reclaim.adapters.codes import SqlRateLimiter
from reclaim.adapters.db import migrate
from reclaim.adapters.db.store import create_store_engine
from reclaim.app.ports import RateDecision, RateRule
from reclaim.entrypoints.api.write_tokens import WriteTokens

NOW = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
RULE = RateRule("signed_writes", 10, 600)
Request = tuple[RateRule, str, datetime]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'tokens.db'}")
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def at_once(calls: int, fn: object) -> list[RateDecision]:
    barrier = threading.Barrier(calls)

    def one(_: int) -> RateDecision:
        barrier.wait()
        return fn()  # type: ignore[operator]

    with ThreadPoolExecutor(max_workers=calls) as pool:
        return list(pool.map(one, range(calls)))


def test_concurrent_callers_get_exactly_the_rules_tokens(engine: Engine) -> None:
    tokens = WriteTokens(SqlRateLimiter(engine, hashlib.sha256(b"tokens").digest()))
    decisions = at_once(32, lambda: tokens.acquire(RULE, "actor-a", NOW))
    assert sum(d.allowed for d in decisions) == RULE.count
    refused = [d for d in decisions if not d.allowed]
    assert len(refused) == 32 - RULE.count
    assert all(d.retry_after_seconds == RULE.period_seconds // RULE.count for d in refused)
    # another actor's bucket is its own; and the stored bucket is what the next call sees
    assert tokens.acquire(RULE, "actor-b", NOW).allowed
    assert not tokens.acquire(RULE, "actor-a", NOW).allowed


def test_the_same_decisions_as_one_acquire_per_request(tmp_path: Path) -> None:
    def limiter(name: str) -> tuple[SqlRateLimiter, Engine]:
        engine = create_store_engine(f"sqlite:///{tmp_path / name}")
        migrate.upgrade(engine)
        return SqlRateLimiter(engine, hashlib.sha256(b"tokens").digest()), engine

    plain, plain_engine = limiter("plain.db")
    gathered, gathered_engine = limiter("gathered.db")
    tokens = WriteTokens(gathered)
    try:
        for k in range(30):  # one caller at a time: same order, same answers
            actor, moment = f"actor-{k % 3}", NOW.replace(second=k)
            assert tokens.acquire(RULE, actor, moment) == plain.acquire(RULE, actor, moment)
    finally:
        plain_engine.dispose()
        gathered_engine.dispose()


class Recording:
    """A limiter that allows everything, records each call's requests, and can be held."""

    def __init__(self) -> None:
        self.calls: list[list[Request]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.fail_next = False

    def acquire(self, rule: RateRule, identifier: str, now: datetime) -> RateDecision:
        raise AssertionError("WriteTokens calls acquire_many when there is one")

    def acquire_many(self, requests: Sequence[Request]) -> list[RateDecision]:
        self.calls.append(list(requests))
        self.entered.set()
        self.release.wait(10)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the database is unavailable")
        return [RateDecision(True, 0) for _ in requests]


def test_callers_arriving_during_a_batch_are_answered_by_one_call() -> None:
    limiter = Recording()
    tokens = WriteTokens(limiter)
    limiter.release.clear()
    with ThreadPoolExecutor(max_workers=16) as pool:
        first = pool.submit(tokens.acquire, RULE, "leader", NOW)
        assert limiter.entered.wait(10), "the leader's batch reached the limiter"
        rest = [pool.submit(tokens.acquire, RULE, f"actor-{k}", NOW) for k in range(15)]
        deadline = time.monotonic() + 10
        while len(tokens._queued) < 15:  # all fifteen queued behind the held batch
            assert time.monotonic() < deadline, "the callers queued"
            time.sleep(0.001)
        limiter.release.set()
        assert first.result(10).allowed
        assert all(f.result(10).allowed for f in rest)
    assert [len(c) for c in limiter.calls] == [1, 15], "the fifteen waited for one batch"
    assert {r[1] for r in limiter.calls[1]} == {f"actor-{k}" for k in range(15)}


def test_a_failing_batch_fails_its_callers_and_the_next_is_served() -> None:
    limiter = Recording()
    tokens = WriteTokens(limiter)
    limiter.fail_next = True
    with pytest.raises(RuntimeError, match="unavailable"):
        tokens.acquire(RULE, "actor", NOW)
    assert tokens.acquire(RULE, "actor", NOW).allowed, "no leader left stuck"
    assert len(limiter.calls) == 2


def test_a_limiter_without_acquire_many_is_called_per_request() -> None:
    seen: list[Request] = []

    class Plain:
        def acquire(self, rule: RateRule, identifier: str, now: datetime) -> RateDecision:
            seen.append((rule, identifier, now))
            return RateDecision(len(seen) <= 2, 0 if len(seen) <= 2 else 60)

    tokens = WriteTokens(Plain())
    answers = [tokens.acquire(RULE, f"actor-{k}", NOW).allowed for k in range(3)]
    assert answers == [True, True, False]
    assert [r[1] for r in seen] == ["actor-0", "actor-1", "actor-2"]
