"""The SQL of the code store, the rate limiter and the outbox, on SQLite and PostgreSQL: the
same answers on both, and concurrent callers (threads on one engine, as several API processes
would be) never get more guesses, tokens or deliveries than the bounds allow."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import Engine

from reclaim.adapters.codes import SqlChallenges, SqlCodeStore, SqlRateLimiter
from reclaim.adapters.db import migrate
from reclaim.adapters.db.store import create_store_engine
from reclaim.adapters.mail import ONE_TIME_CODE, DeliveryReport, RecordingMailSender, SqlOutbox
from reclaim.adapters.mail import deliver_due as deliver
from reclaim.adapters.vault import FileKeyWrapper, SqlVault
from reclaim.app.ports import CodeVerdict, MailServerDown, RateDecision, RateRule
from reclaim.core import limits

SECRET = hashlib.sha256(b"contract codes secret").digest()
NOW = datetime(2026, 1, 25, 10, 0, tzinfo=UTC)
T = TypeVar("T")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_store_engine(db_url)
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def at_once(calls: int, fn: Callable[[], T]) -> list[T]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _: fn(), range(calls)))


def test_codes_issue_check_and_burn(engine: Engine) -> None:
    codes = SqlCodeStore(engine, SECRET)
    code = codes.issue("email_proof", "s1", NOW).code
    assert codes.check("email_proof", "s1", code, NOW) is CodeVerdict.accepted
    assert codes.check("email_proof", "s1", code, NOW) is CodeVerdict.code_invalid
    code = codes.issue("email_proof", "s1", NOW).code  # replaces the used one
    later = NOW + timedelta(seconds=limits.one_time_code_lifetime_seconds)
    assert codes.check("email_proof", "s1", code, later) is CodeVerdict.code_expired
    assert codes.prune(later + timedelta(seconds=1)) == 1


def test_concurrent_guesses_never_exceed_the_attempts(engine: Engine) -> None:
    codes = SqlCodeStore(engine, SECRET)
    code = codes.issue("email_proof", "s1", NOW).code
    guess = f"{(int(code) + 1) % 10**8:08d}"
    verdicts = Counter(at_once(20, lambda: codes.check("email_proof", "s1", guess, NOW)))
    assert verdicts == {
        CodeVerdict.code_invalid: limits.one_time_code_attempts_max,
        CodeVerdict.code_attempts_exhausted: 20 - limits.one_time_code_attempts_max,
    }
    assert codes.check("email_proof", "s1", code, NOW) is CodeVerdict.code_attempts_exhausted


def test_bound_codes_and_their_confirmation_keys(engine: Engine) -> None:
    codes = SqlCodeStore(engine, SECRET)
    binding = hashlib.sha256(b"key and password hash").digest()
    issued = codes.issue("email_proof", "s1", NOW, binding, with_token=True)
    assert codes.check("email_proof", "s1", issued.code, NOW, b"other") is CodeVerdict.code_invalid
    assert codes.check("email_proof", "s1", issued.token, NOW, binding) is CodeVerdict.accepted
    assert codes.check("email_proof", "s1", issued.code, NOW, binding) is CodeVerdict.code_invalid


def test_a_challenge_is_spent_once_under_concurrency(engine: Engine) -> None:
    challenges = SqlChallenges(engine, SECRET)
    text = challenges.issue("sign_up", "s1", NOW).challenge
    spent = at_once(20, lambda: challenges.spend("sign_up", "s1", text, NOW))
    assert spent.count(True) == 1
    assert challenges.prune(NOW + timedelta(hours=1)) == 1


def test_rate_limits_hold_under_concurrency(engine: Engine) -> None:
    limiter = SqlRateLimiter(engine, SECRET)
    rule = RateRule("code_sends_per_address", 5, 3600)
    decisions = at_once(20, lambda: limiter.acquire(rule, "addr", NOW))
    assert sum(d.allowed for d in decisions) == 5
    assert limiter.acquire(rule, "addr", NOW) == RateDecision(False, 720)
    assert limiter.prune(NOW + timedelta(hours=1)) == 1


def test_the_outbox_round_trip(engine: Engine) -> None:
    vault = SqlVault(engine, FileKeyWrapper({"0" * 16: bytes(range(32))}, "0" * 16))
    vault.put("signup:1", {"email": "zhang.wei@example.cn"}, NOW)
    outbox = SqlOutbox(engine, vault)
    payload = {"code": "12345678", "minutes": "15"}
    ids = [outbox.enqueue("signup:1", "email", ONE_TIME_CODE, "zh-Hans", payload, NOW)]
    ids.append(outbox.enqueue("signup:1", "email", ONE_TIME_CODE, "en", payload, NOW))
    assert ids[1] > ids[0]
    down = RecordingMailSender(failure=MailServerDown("connection refused"))
    assert deliver(outbox, down, NOW) == DeliveryReport(retrying=1, deferred=1)
    assert outbox.due(NOW, 10) == []
    later = NOW + timedelta(seconds=30)
    handed = outbox.due(later, 10)
    assert [(q.id, q.attempts) for q in handed] == [(ids[0], 1), (ids[1], 0)]
    assert handed[0].mail.subject == "您的 reclaim 验证码"
    assert handed[0].mail.to_address == "zhang.wei@example.cn"
    assert outbox.due(later, 10) == []  # leased
    for queued in handed:
        outbox.mark_sent(queued.id, later)
    assert outbox.counts() == {"queued": 0, "sent": 2, "failed": 0}


def test_concurrent_workers_never_take_one_message_twice(engine: Engine) -> None:
    vault = SqlVault(engine, FileKeyWrapper({"0" * 16: bytes(range(32))}, "0" * 16))
    vault.put("signup:1", {"email": "a@example.com"}, NOW)
    outbox = SqlOutbox(engine, vault)
    payload = {"code": "12345678", "minutes": "15"}
    for _ in range(30):
        outbox.enqueue("signup:1", "email", ONE_TIME_CODE, "en", payload, NOW)
    batches = at_once(6, lambda: [q.id for q in outbox.due(NOW, 10)])
    taken = [mail_id for batch in batches for mail_id in batch]
    assert len(taken) == len(set(taken)) == 30
