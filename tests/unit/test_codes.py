"""One-time codes (random, single use, hashed at rest, expiring, a bounded number of guesses),
rate limits per address and per client, and argon2 password hashing."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from reclaim.adapters.codes import (
    CHALLENGE_LIFETIME_SECONDS,
    CODE_CHECKS_PER_CLIENT,
    CODE_SENDS_PER_ADDRESS,
    CODE_SENDS_PER_CLIENT,
    SqlChallenges,
    SqlCodeStore,
    SqlRateLimiter,
    normalise_code,
)
from reclaim.adapters.db import migrate, tables
from reclaim.adapters.db.store import create_store_engine
from reclaim.adapters.passwords import Argon2Parameters, Argon2PasswordHasher
from reclaim.app.ports import (
    ChallengeVerdict,
    CodeVerdict,
    PasswordHashInvalid,
    RateDecision,
    RateRule,
)
from reclaim.core import limits

SECRET = hashlib.sha256(b"unit codes secret").digest()
NOW = datetime(2026, 1, 25, 10, 0, tzinfo=UTC)
PURPOSE = "email_proof"
ADDRESS = "691638ca2948ac8fb4cdf3776c3c24959927ccf7ab9ea5a7eb177ed3daa7cf4a"  # a commitment


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'codes.db'}")
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def codes(engine: Engine) -> SqlCodeStore:
    return SqlCodeStore(engine, SECRET)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


# One-time codes -------------------------------------------------------------------------------


def test_a_code_is_eight_random_digits_that_expire_in_fifteen_minutes(
    codes: SqlCodeStore,
) -> None:
    issued = [codes.issue(PURPOSE, f"subject-{i}", NOW) for i in range(50)]
    assert all(len(c.code) == 8 and c.code.isascii() and c.code.isdigit() for c in issued)
    assert len({c.code for c in issued}) == 50
    assert issued[0].expires_at == NOW + timedelta(minutes=15)
    assert issued[0].code not in repr(issued[0])


def test_the_right_code_is_accepted_once(codes: SqlCodeStore) -> None:
    code = codes.issue(PURPOSE, ADDRESS, NOW).code
    assert codes.check(PURPOSE, ADDRESS, code, NOW + seconds(30)) is CodeVerdict.accepted
    assert codes.check(PURPOSE, ADDRESS, code, NOW + seconds(31)) is CodeVerdict.code_invalid


def test_a_code_is_bound_to_its_purpose_and_subject(codes: SqlCodeStore) -> None:
    code = codes.issue(PURPOSE, ADDRESS, NOW).code
    assert codes.check("password_reset", ADDRESS, code, NOW) is CodeVerdict.code_invalid
    assert codes.check(PURPOSE, "another-subject", code, NOW) is CodeVerdict.code_invalid
    assert codes.check(PURPOSE, ADDRESS, code, NOW) is CodeVerdict.accepted


def test_a_code_expires_at_the_end_of_its_lifetime(codes: SqlCodeStore) -> None:
    issued = codes.issue(PURPOSE, ADDRESS, NOW)
    end = NOW + timedelta(seconds=limits.one_time_code_lifetime_seconds)
    assert issued.expires_at == end
    assert codes.check(PURPOSE, ADDRESS, issued.code, end) is CodeVerdict.code_expired
    assert codes.check(PURPOSE, ADDRESS, issued.code, end - seconds(1)) is CodeVerdict.accepted


def test_a_new_code_replaces_the_old_one(codes: SqlCodeStore) -> None:
    old = codes.issue(PURPOSE, ADDRESS, NOW).code
    new = codes.issue(PURPOSE, ADDRESS, NOW + seconds(60)).code
    if old != new:  # 1 chance in 10**8 that they are equal
        assert codes.check(PURPOSE, ADDRESS, old, NOW + seconds(61)) is CodeVerdict.code_invalid
    assert codes.check(PURPOSE, ADDRESS, new, NOW + seconds(62)) is CodeVerdict.accepted


def test_brute_force_is_refused_after_five_wrong_guesses_even_with_the_right_code(
    codes: SqlCodeStore,
) -> None:
    code = codes.issue(PURPOSE, ADDRESS, NOW).code
    guesses = [wrong(code), "00000000", "99999999", "1234", "not a code"]
    assert len(guesses) == limits.one_time_code_attempts_max
    for guess in guesses:
        if guess != code:
            assert codes.check(PURPOSE, ADDRESS, guess, NOW) is CodeVerdict.code_invalid
    # The N+1-th guess is right, and still fails: the code is burnt.
    verdict = codes.check(PURPOSE, ADDRESS, code, NOW)
    assert verdict is CodeVerdict.code_attempts_exhausted
    assert codes.check(PURPOSE, ADDRESS, code, NOW) is CodeVerdict.code_attempts_exhausted


def test_the_fifth_guess_may_still_be_right(codes: SqlCodeStore) -> None:
    code = codes.issue(PURPOSE, ADDRESS, NOW).code
    for _ in range(limits.one_time_code_attempts_max - 1):
        assert codes.check(PURPOSE, ADDRESS, wrong(code), NOW) is CodeVerdict.code_invalid
    assert codes.check(PURPOSE, ADDRESS, code, NOW) is CodeVerdict.accepted


def test_checking_without_a_code_says_nothing_more_than_a_wrong_code(
    codes: SqlCodeStore,
) -> None:
    assert codes.check(PURPOSE, ADDRESS, "12345678", NOW) is CodeVerdict.code_invalid


def test_codes_are_typed_as_shown_or_with_full_width_digits(codes: SqlCodeStore) -> None:
    code = codes.issue(PURPOSE, ADDRESS, NOW).code
    full_width = "".join(chr(0xFF10 + int(d)) for d in code)  # a Chinese input method's digits
    assert normalise_code(f" {code[:4]} {code[4:]} ") == code
    assert normalise_code(f"{code[:4]}-{code[4:]}") == code
    assert normalise_code(full_width) == code
    assert codes.check(PURPOSE, ADDRESS, full_width[:4] + "\u3000" + full_width[4:], NOW) is (
        CodeVerdict.accepted
    )


def test_hashes_at_rest_do_not_reveal_the_code(engine: Engine, codes: SqlCodeStore) -> None:
    code = codes.issue(PURPOSE, ADDRESS, NOW).code
    with engine.connect() as connection:
        row = connection.execute(select(*tables.one_time_codes.c)).one()
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    assert code.encode() not in stored
    assert bytes(row.code_hash) != hashlib.sha256(code.encode()).digest()  # not a plain hash
    # What it is: an HMAC under the server's secret, which the database does not hold.
    label = b"reclaim/one-time-code/v1\x00"
    message = label + f"{PURPOSE}\x00{ADDRESS}\x00{code}".encode()
    assert bytes(row.code_hash) == hmac.new(SECRET, message, hashlib.sha256).digest()
    other_secret = hashlib.sha256(b"another server").digest()
    assert bytes(row.code_hash) != hmac.new(other_secret, message, hashlib.sha256).digest()


def test_another_secret_accepts_no_code(engine: Engine, codes: SqlCodeStore) -> None:
    code = codes.issue(PURPOSE, ADDRESS, NOW).code
    impostor = SqlCodeStore(engine, hashlib.sha256(b"another").digest())
    assert impostor.check(PURPOSE, ADDRESS, code, NOW) is CodeVerdict.code_invalid


def test_prune_deletes_expired_codes_only(engine: Engine, codes: SqlCodeStore) -> None:
    codes.issue(PURPOSE, "old", NOW)
    codes.issue(PURPOSE, "new", NOW + timedelta(minutes=10))
    assert codes.prune(NOW + timedelta(minutes=16)) == 1
    with engine.connect() as connection:
        left = connection.execute(select(tables.one_time_codes.c.subject)).scalars().all()
    assert left == ["new"]


# Rate limits ------------------------------------------------------------------------------------


@pytest.fixture
def limiter(engine: Engine) -> SqlRateLimiter:
    return SqlRateLimiter(engine, SECRET)


def test_code_sends_per_address_allow_a_burst_of_five_then_one_every_twelve_minutes(
    limiter: SqlRateLimiter,
) -> None:
    rule = CODE_SENDS_PER_ADDRESS
    assert (rule.count, rule.period_seconds) == (5, 3600)
    for _ in range(5):
        assert limiter.acquire(rule, ADDRESS, NOW) == RateDecision(True, 0)
    assert limiter.acquire(rule, ADDRESS, NOW) == RateDecision(False, 720)
    assert limiter.acquire(rule, ADDRESS, NOW + seconds(719)) == RateDecision(False, 1)
    assert limiter.acquire(rule, ADDRESS, NOW + seconds(720)) == RateDecision(True, 0)
    assert limiter.acquire(rule, ADDRESS, NOW + seconds(721)) == RateDecision(False, 719)
    # Another address has its own bucket.
    assert limiter.acquire(rule, "another-address", NOW) == RateDecision(True, 0)
    # An hour of quiet refills the bucket.
    later = NOW + seconds(720 + 3600)
    assert all(limiter.acquire(rule, ADDRESS, later).allowed for _ in range(5))
    assert not limiter.acquire(rule, ADDRESS, later).allowed


def test_code_sends_per_client_are_counted_across_addresses(limiter: SqlRateLimiter) -> None:
    rule = CODE_SENDS_PER_CLIENT
    client = "203.0.113.7"
    allowed = [limiter.acquire(rule, client, NOW).allowed for _ in range(rule.count + 1)]
    assert allowed == [True] * rule.count + [False]
    assert limiter.acquire(rule, "198.51.100.1", NOW).allowed
    assert limiter.acquire(CODE_CHECKS_PER_CLIENT, client, NOW).allowed  # another rule


def test_a_refusal_takes_no_token(limiter: SqlRateLimiter) -> None:
    rule = RateRule("tiny", 1, 10)
    assert limiter.acquire(rule, "x", NOW).allowed
    for i in range(5):
        assert limiter.acquire(rule, "x", NOW + seconds(i)) == RateDecision(False, 10 - i)
    assert limiter.acquire(rule, "x", NOW + seconds(10)).allowed


def test_buckets_are_shared_by_limiters_on_one_database(engine: Engine) -> None:
    rule = RateRule("shared", 2, 60)
    first, second = SqlRateLimiter(engine, SECRET), SqlRateLimiter(engine, SECRET)
    assert first.acquire(rule, "x", NOW).allowed
    assert second.acquire(rule, "x", NOW).allowed
    assert not first.acquire(rule, "x", NOW).allowed


def test_bucket_keys_do_not_reveal_the_client(engine: Engine, limiter: SqlRateLimiter) -> None:
    limiter.acquire(CODE_SENDS_PER_CLIENT, "203.0.113.7", NOW)
    with engine.connect() as connection:
        (key,) = connection.execute(select(tables.rate_limits.c.key)).scalars().all()
    assert "203.0.113" not in key
    assert len(key) == 64


def test_prune_deletes_full_buckets(engine: Engine, limiter: SqlRateLimiter) -> None:
    limiter.acquire(CODE_SENDS_PER_ADDRESS, "a", NOW)
    limiter.acquire(CODE_SENDS_PER_ADDRESS, "b", NOW + seconds(600))
    assert limiter.prune(NOW + seconds(720)) == 1  # a's bucket is full again
    assert limiter.prune(NOW + seconds(720)) == 0
    assert limiter.prune(NOW + seconds(1320)) == 1


# Passwords --------------------------------------------------------------------------------------

FAST = Argon2Parameters(time_cost=1, memory_cost_kib=8, parallelism=1)


def test_argon2_round_trip_with_the_recommended_parameters() -> None:
    hasher = Argon2PasswordHasher()
    encoded = hasher.hash("correct horse battery staple")
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=2$")
    assert hasher.verify(encoded, "correct horse battery staple")
    assert not hasher.verify(encoded, "correct horse battery stapler")
    assert not hasher.needs_rehash(encoded)
    assert encoded != hasher.hash("correct horse battery staple")  # salted


def test_a_hash_with_old_parameters_needs_a_rehash() -> None:
    old = Argon2PasswordHasher(FAST).hash("pw")
    assert Argon2PasswordHasher().needs_rehash(old)
    assert Argon2PasswordHasher().verify(old, "pw")  # still verifies, then gets rehashed


def test_wrong_and_oversized_passwords_and_absent_accounts_are_false() -> None:
    hasher = Argon2PasswordHasher(FAST)
    encoded = hasher.hash("pw")
    assert not hasher.verify(encoded, "x" * (limits.password_length_max_chars + 1))
    assert not hasher.verify(encoded, "")
    assert hasher.verify_absent("pw") is False


def test_an_unreadable_stored_hash_is_an_error_not_a_wrong_password() -> None:
    hasher = Argon2PasswordHasher(FAST)
    with pytest.raises(PasswordHashInvalid):
        hasher.verify("$argon2id$garbage", "pw")
    with pytest.raises(PasswordHashInvalid):
        hasher.needs_rehash("not a hash")


# Bindings, confirmation keys and challenges (issue 9, findings 1 and 2) -------------------------

BINDING = hashlib.sha256(b"key and password hash").digest()


def test_a_code_proves_only_the_binding_it_was_issued_for(codes: SqlCodeStore) -> None:
    code = codes.issue(PURPOSE, ADDRESS, NOW, BINDING).code
    other = hashlib.sha256(b"another key").digest()
    assert codes.check(PURPOSE, ADDRESS, code, NOW, other) is CodeVerdict.code_invalid
    assert codes.check(PURPOSE, ADDRESS, code, NOW) is CodeVerdict.code_invalid
    assert codes.check(PURPOSE, ADDRESS, code, NOW, BINDING) is CodeVerdict.accepted
    unbound = codes.issue(PURPOSE, "unbound", NOW).code
    assert codes.check(PURPOSE, "unbound", unbound, NOW, BINDING) is CodeVerdict.code_invalid


def test_the_confirmation_key_stands_for_the_code_once(codes: SqlCodeStore) -> None:
    issued = codes.issue(PURPOSE, ADDRESS, NOW, BINDING, with_token=True)
    assert len(issued.token) == 20
    assert set(issued.token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert issued.token not in repr(issued)
    typed = "-".join(issued.token[i : i + 5] for i in range(0, 20, 5)).lower()
    assert codes.check(PURPOSE, ADDRESS, typed, NOW, BINDING) is CodeVerdict.accepted
    assert codes.check(PURPOSE, ADDRESS, issued.code, NOW, BINDING) is CodeVerdict.code_invalid
    without = codes.issue(PURPOSE, "no-token", NOW)
    assert without.token == ""
    assert codes.check(PURPOSE, "no-token", "A" * 20, NOW) is CodeVerdict.code_invalid


def test_challenges_are_bound_live_and_spent_once(engine: Engine) -> None:
    challenges = SqlChallenges(engine, SECRET)
    issued = challenges.issue("sign_up", ADDRESS, NOW)
    assert issued.expires_at == NOW + seconds(CHALLENGE_LIFETIME_SECONDS)
    text = issued.challenge
    assert challenges.check("sign_up", ADDRESS, text, NOW) is ChallengeVerdict.accepted
    for purpose, subject in (("key_add", ADDRESS), ("sign_up", "another-subject")):
        assert challenges.check(purpose, subject, text, NOW) is ChallengeVerdict.challenge_invalid
    other_secret = SqlChallenges(engine, hashlib.sha256(b"another").digest())
    assert other_secret.check("sign_up", ADDRESS, text, NOW) is ChallengeVerdict.challenge_invalid
    for garbage in ("", "!" * 75, text[:-2], text + "AA", "é" * 10):
        assert challenges.check("sign_up", ADDRESS, garbage, NOW) is (
            ChallengeVerdict.challenge_invalid
        )
    late = NOW + seconds(CHALLENGE_LIFETIME_SECONDS)
    assert challenges.check("sign_up", ADDRESS, text, late) is ChallengeVerdict.challenge_expired
    assert challenges.spend("sign_up", ADDRESS, text, NOW) is True
    assert challenges.spend("sign_up", ADDRESS, text, NOW + seconds(1)) is False
    assert challenges.prune(NOW) == 0
    assert challenges.prune(late + seconds(1)) == 1
