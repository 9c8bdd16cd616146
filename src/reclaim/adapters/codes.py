"""One-time codes and rate limits, in SQL, shared by every API process.

One-time codes (``SqlCodeStore``)
---------------------------------
A code is ``limits.one_time_code_digits`` (8) decimal digits drawn with ``secrets.randbelow``:
10**8 possibilities. There is at most one live code per (purpose, subject); issuing a new one
replaces it. At rest only ``HMAC-SHA256(codes secret, "reclaim/one-time-code/v1" 0x00 purpose
0x00 subject 0x00 code)`` is kept: a leaked database does not reveal live codes, and an offline
search of the 10**8 codes needs the secret (``codes.key``), which is not in the database.

A check counts an attempt, in the same transaction as it reads the row (SQLite's write lock,
PostgreSQL ``SELECT ... FOR UPDATE``), so concurrent guesses cannot exceed the bound; it compares
with ``hmac.compare_digest``. The verdict, in precedence order (``CodeVerdict``): no live code or
an already used one is ``code_invalid``; past ``expires_at`` ``code_expired``; after
``limits.one_time_code_attempts_max`` (5) wrong guesses ``code_attempts_exhausted`` — even for the
right code; then a right guess is ``accepted`` (once: the code is used) and a wrong one
``code_invalid``.

Binding (issue 9, finding 2): a code is issued for a ``binding`` (for a sign-up, SHA-256 of the
key and the password hash), kept in clear beside it (a digest, not a secret); a check with
another binding is a wrong guess. A code therefore proves only what it was mailed for, even if
what is pending changed after it was issued. ``with_token`` also issues a confirmation key:
20 characters of base32 (100 bits), kept as ``HMAC-SHA256(codes secret,
"reclaim/confirmation-key/v1" 0x00 purpose 0x00 subject 0x00 key)``, accepted by ``check`` in
place of the code (the same attempts, the same single use).

Entropy against attempts: a guesser wins a code with probability 5 / 10**8 = 5e-8; with 25
short-code checks an hour per address (``CODE_GUESSES_PER_ADDRESS``, the bound the per-address
send limit gave: 5 codes x 5 attempts) that is 2.5e-7 an hour, about 6e-6 a day, per address,
whatever number of keys strangers sign the address up with. Six digits would make it 100 times
easier; more than eight buys little and costs typing. A confirmation key is not counted against
that bound (so strangers spending it lock nobody out): 5 guesses at 2**-100 each.

What a typed code may look like: the e-mail shows it as ``1234 5678`` (a confirmation key as
``ABCDE-FGHIJ-KLMNO-PQRST``); spaces and hyphens are ignored, case too, and full-width digits
(typed with a Chinese input method) are read as digits (NFKC): ``reclaim.app.ports.normalise_code``.

Challenges (``SqlChallenges``, issue 9, finding 1)
-------------------------------------------------
A proof of possession signs a server challenge: stateless (an HMAC under the codes secret of
purpose, subject, expiry and a nonce; see the class), so handing them out writes nothing; a
challenge is spent once (``used_challenges``, pruned after its expiry), so a signed sign-up or
key addition cannot be sent twice.

Rate limits (``SqlRateLimiter``)
--------------------------------
The generic cell rate algorithm (GCRA), the exact integer form of a token bucket: one row per
(rule, identifier) holds the *theoretical arrival time* ``tat`` in microseconds. A rule allows
``count`` actions per ``period`` with bursts of ``count``: the emission interval is
``T = period / count`` and the tolerance ``τ = T * (count - 1)``. At ``now``, with
``tat' = max(tat, now)``: if ``tat' - now > τ`` the action is refused (retry after
``tat' - τ - now``) and nothing changes; else it is allowed and ``tat = tat' + T``.

The row's key is ``HMAC-SHA256(codes secret, "reclaim/rate-limit/v1" 0x00 rule 0x00
identifier)``: identifiers are address commitments and client IP addresses, and an IP address is
personal data. Rows whose ``tat`` is past are full buckets; ``prune`` deletes them.

The rules of issue 4 (``CODE_SENDS_PER_ADDRESS``, ``CODE_SENDS_PER_CLIENT``,
``CODE_CHECKS_PER_CLIENT``) take their figures from ``limits``; sign-up counts sends per
(address, key) (``CODE_SENDS_PER_ADDRESS_KEY``) and short-code checks per address
(``CODE_GUESSES_PER_ADDRESS``) since issue 9.

Errors: the ``StoreError`` tree for the database. Refusals are values (``CodeVerdict``,
``ChallengeVerdict``, ``RateDecision``). Malformed purposes or subjects are bugs of the caller
(assertions).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from reclaim.adapters.db import tables
from reclaim.adapters.db.transactions import (
    epoch_us,
    parse_stamp,
    stamp,
    transaction,
    upsert,
)
from reclaim.app.ports import (
    CONFIRMATION_KEY_ALPHABET,
    CONFIRMATION_KEY_LENGTH,
    ChallengeVerdict,
    CodeVerdict,
    IssuedChallenge,
    IssuedCode,
    RateDecision,
    RateRule,
    is_confirmation_key,
)
from reclaim.app.ports import (
    normalise_code as normalise_code,
)
from reclaim.core import limits

_CODE_LABEL: Final = b"reclaim/one-time-code/v1\x00"
_TOKEN_LABEL: Final = b"reclaim/confirmation-key/v1\x00"
_CHALLENGE_LABEL: Final = b"reclaim/challenge/v1\x00"
_SPENT_LABEL: Final = b"reclaim/challenge-spent/v1\x00"
_RATE_LABEL: Final = b"reclaim/rate-limit/v1\x00"
_PURPOSE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
_SUBJECT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_SECRET_SIZE_MIN_BYTES: Final = 32
#: How long a proof-of-possession challenge is good for: a client asks for it and signs at once;
#: ten minutes leaves room for a slow connection, and a stolen one is useless after.
CHALLENGE_LIFETIME_SECONDS: Final = 600
_NONCE_BYTES: Final = 16

#: Code e-mails per (address, key) — the per-address budget of issue 4, counted per key so that
#: strangers signing the owner's address up with keys of their own never spend the owner's
#: (issue 9, finding 2).
CODE_SENDS_PER_ADDRESS_KEY: Final = RateRule(
    "code_sends_per_address_key",
    limits.code_sends_per_address_max,
    limits.code_sends_per_address_period_seconds,
)
#: Checks of short codes per address: 5 codes x 5 attempts an hour, the bound on guesses per
#: address the per-address send limit gave before it was counted per key. Strangers can spend
#: it; the confirmation key mailed with each code is not counted against it.
CODE_GUESSES_PER_ADDRESS: Final = RateRule(
    "code_guesses_per_address",
    limits.code_sends_per_address_max * limits.one_time_code_attempts_max,
    limits.code_sends_per_address_period_seconds,
)
CODE_SENDS_PER_ADDRESS: Final = RateRule(
    "code_sends_per_address",
    limits.code_sends_per_address_max,
    limits.code_sends_per_address_period_seconds,
)
CODE_SENDS_PER_CLIENT: Final = RateRule(
    "code_sends_per_client",
    limits.code_sends_per_client_max,
    limits.code_sends_per_client_period_seconds,
)
CODE_CHECKS_PER_CLIENT: Final = RateRule(
    "code_checks_per_client",
    limits.code_checks_per_client_max,
    limits.code_checks_per_client_period_seconds,
)


class SqlCodeStore:
    """The ``CodeStore`` port on SQLite or PostgreSQL (an engine from
    ``store.create_store_engine``, migrated), keyed by ``secret`` (``codes.key``)."""

    def __init__(
        self,
        engine: Engine,
        secret: bytes,
        *,
        lifetime_seconds: int = limits.one_time_code_lifetime_seconds,
        attempts_max: int = limits.one_time_code_attempts_max,
    ) -> None:
        assert len(secret) >= _SECRET_SIZE_MIN_BYTES, "the codes secret has at least 32 bytes"
        assert lifetime_seconds > 0, "a code lives a while"
        assert attempts_max > 0, "a code can be tried"
        self._engine = engine
        self._secret = secret
        self._lifetime = timedelta(seconds=lifetime_seconds)
        self._attempts_max = attempts_max

    def __repr__(self) -> str:
        return f"SqlCodeStore(lifetime={self._lifetime}, attempts_max={self._attempts_max})"

    def _digest(self, purpose: str, subject: str, code: str, label: bytes = _CODE_LABEL) -> bytes:
        message = b"\x00".join((purpose.encode(), subject.encode(), code.encode("utf-8")))
        return hmac.new(self._secret, label + message, hashlib.sha256).digest()

    def issue(
        self, purpose: str, subject: str, now: datetime, binding: bytes = b"",
        *, with_token: bool = False,
    ) -> IssuedCode:  # fmt: skip
        """A fresh code for (purpose, subject), bound to ``binding``, replacing any earlier one;
        with a confirmation key if ``with_token``."""
        _check(purpose, subject)
        digits = limits.one_time_code_digits
        code = f"{secrets.randbelow(10**digits):0{digits}d}"
        token = ""
        if with_token:
            alphabet = CONFIRMATION_KEY_ALPHABET
            token = "".join(secrets.choice(alphabet) for _ in range(CONFIRMATION_KEY_LENGTH))
        expires_at = now + self._lifetime
        row = {
            "purpose": purpose,
            "subject": subject,
            "code_hash": self._digest(purpose, subject, code),
            "issued_at": stamp(now),
            "expires_at": stamp(expires_at),
            "attempts": 0,
            "used_at": None,
            "binding": binding or None,
            "token_hash": self._digest(purpose, subject, token, _TOKEN_LABEL) if token else None,
        }
        with transaction(self._engine, write=True) as connection:
            upsert(connection, tables.one_time_codes, row)
        return IssuedCode(code, expires_at, token)

    def check(
        self, purpose: str, subject: str, code: str, now: datetime, binding: bytes = b""
    ) -> CodeVerdict:
        """Count an attempt at the live code (or its confirmation key) of (purpose, subject),
        issued for ``binding``; see the module doc."""
        _check(purpose, subject)
        typed = normalise_code(code)
        token = is_confirmation_key(typed)
        digest = self._digest(purpose, subject, typed, _TOKEN_LABEL if token else _CODE_LABEL)
        codes = tables.one_time_codes
        key = (codes.c.purpose == purpose, codes.c.subject == subject)
        query = select(
            codes.c.code_hash, codes.c.token_hash, codes.c.binding, codes.c.expires_at,
            codes.c.attempts, codes.c.used_at,
        )  # fmt: skip
        with transaction(self._engine, write=True) as connection:
            row = connection.execute(query.where(*key).with_for_update()).one_or_none()
            if row is None or row.used_at is not None:
                return CodeVerdict.code_invalid
            if now >= parse_stamp(row.expires_at):
                return CodeVerdict.code_expired
            if row.attempts >= self._attempts_max:
                return CodeVerdict.code_attempts_exhausted
            stored = row.token_hash if token else row.code_hash
            right = stored is not None and hmac.compare_digest(digest, bytes(stored))
            # Stops rebinding: a code proves only what it was issued for (issue 9, finding 2).
            right = hmac.compare_digest(bytes(row.binding or b""), binding) and right
            connection.execute(
                update(codes)
                .where(*key)
                .values(attempts=row.attempts + 1, used_at=stamp(now) if right else None)
            )
        return CodeVerdict.accepted if right else CodeVerdict.code_invalid

    def prune(self, now: datetime, limit: int = limits.prune_batch_max) -> int:
        """Delete up to ``limit`` codes that expired before ``now``; returns how many."""
        codes = tables.one_time_codes
        expired = (
            select(codes.c.purpose, codes.c.subject)
            .where(codes.c.expires_at < stamp(now))
            .limit(limit)
        )
        with transaction(self._engine, write=True) as connection:
            keys = connection.execute(expired).all()
            for purpose, subject in keys:
                connection.execute(
                    delete(codes).where(codes.c.purpose == purpose, codes.c.subject == subject)
                )
        return len(keys)


def _check(purpose: str, subject: str) -> None:
    assert _PURPOSE.fullmatch(purpose), f"not a code purpose: {purpose!r}"
    assert _SUBJECT.fullmatch(subject), f"not a code subject: {subject!r}"


class SqlChallenges:
    """The ``Challenges`` port: stateless challenges (an HMAC under ``secret`` of purpose,
    subject, expiry and a random nonce), spent once in ``used_challenges``.

    A challenge is the unpadded base64url of ``expiry (8 bytes, big-endian Unix seconds) ||
    nonce (16 random bytes) || HMAC-SHA256(secret, "reclaim/challenge/v1" 0x00 purpose 0x00
    subject 0x00 expiry || nonce)``. Issuing writes nothing (an unauthenticated route can hand
    them out without letting anyone fill the database); spending writes the HMAC of the
    challenge with its expiry, and ``prune`` deletes the expired ones.
    """

    def __init__(
        self, engine: Engine, secret: bytes, *, lifetime_seconds: int = CHALLENGE_LIFETIME_SECONDS
    ) -> None:
        assert len(secret) >= _SECRET_SIZE_MIN_BYTES, "the secret has at least 32 bytes"
        assert lifetime_seconds > 0, "a challenge lives a while"
        self._engine = engine
        self._secret = secret
        self._lifetime_seconds = lifetime_seconds

    def __repr__(self) -> str:
        return f"SqlChallenges(lifetime_seconds={self._lifetime_seconds})"

    def _mac(self, purpose: str, subject: str, body: bytes) -> bytes:
        message = _CHALLENGE_LABEL + purpose.encode() + b"\x00" + subject.encode() + b"\x00"
        return hmac.new(self._secret, message + body, hashlib.sha256).digest()

    def issue(self, purpose: str, subject: str, now: datetime) -> IssuedChallenge:
        _check(purpose, subject)
        expires = int(now.timestamp()) + self._lifetime_seconds
        body = expires.to_bytes(8, "big") + secrets.token_bytes(_NONCE_BYTES)
        raw = body + self._mac(purpose, subject, body)
        text = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return IssuedChallenge(text, datetime.fromtimestamp(expires, UTC))

    def check(self, purpose: str, subject: str, challenge: str, now: datetime) -> ChallengeVerdict:
        _check(purpose, subject)
        raw = _unb64url(challenge)
        if raw is None or len(raw) != 8 + _NONCE_BYTES + 32:
            return ChallengeVerdict.challenge_invalid
        body, mac = raw[: 8 + _NONCE_BYTES], raw[8 + _NONCE_BYTES :]
        if not hmac.compare_digest(mac, self._mac(purpose, subject, body)):
            return ChallengeVerdict.challenge_invalid
        if int(now.timestamp()) >= int.from_bytes(body[:8], "big"):
            return ChallengeVerdict.challenge_expired
        return ChallengeVerdict.accepted

    def spend(self, purpose: str, subject: str, challenge: str, now: datetime) -> bool:
        """Spend a challenge ``check`` accepted; ``False`` if it was spent already."""
        assert self.check(purpose, subject, challenge, now) is ChallengeVerdict.accepted
        raw = _unb64url(challenge)
        assert raw is not None
        expires = datetime.fromtimestamp(int.from_bytes(raw[:8], "big"), UTC)
        message = _SPENT_LABEL + purpose.encode() + b"\x00" + subject.encode() + b"\x00" + raw
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        used = tables.used_challenges
        with transaction(self._engine, write=True) as connection:
            dialect = connection.dialect.name
            assert dialect in ("sqlite", "postgresql"), f"unsupported database {dialect}"
            insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(used)
            statement = insert.values(digest=digest, expires_at=stamp(expires))
            # RETURNING, not the row count: psycopg reports -1 for this statement's row count.
            spent = statement.on_conflict_do_nothing().returning(used.c.digest)
            return connection.execute(spent).first() is not None

    def prune(self, now: datetime, limit: int = limits.prune_batch_max) -> int:
        """Delete up to ``limit`` spent challenges that have expired; returns how many."""
        used = tables.used_challenges
        expired = select(used.c.digest).where(used.c.expires_at < stamp(now)).limit(limit)
        with transaction(self._engine, write=True) as connection:
            digests = list(connection.execute(expired).scalars())
            if digests:
                connection.execute(delete(used).where(used.c.digest.in_(digests)))
        return len(digests)


def _unb64url(text: str) -> bytes | None:
    if not 0 < len(text) <= 128 or not text.isascii():
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


# The rate limiter's statements, built once: every signed write runs them, and SQLAlchemy then
# compiles each once instead of building and hashing new statement objects per request.
_BUCKETS: Final = tables.rate_limits
_NEW_BUCKET: Final = {  # INSERT ... ON CONFLICT DO NOTHING, per dialect
    "sqlite": sqlite.insert(_BUCKETS).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(_BUCKETS).on_conflict_do_nothing(),
}
_LOCK_BUCKET: Final = (
    select(_BUCKETS.c.tat_us).where(_BUCKETS.c.key == bindparam("k")).with_for_update()
)
_MOVE_BUCKET: Final = (
    update(_BUCKETS).where(_BUCKETS.c.key == bindparam("k")).values(tat_us=bindparam("tat_us"))
)


class SqlRateLimiter:
    """The ``RateLimiter`` port: GCRA buckets in ``rate_limits``, shared by every process."""

    def __init__(self, engine: Engine, secret: bytes) -> None:
        assert len(secret) >= _SECRET_SIZE_MIN_BYTES, "the secret has at least 32 bytes"
        self._engine = engine
        self._secret = secret

    def __repr__(self) -> str:
        return "SqlRateLimiter(<secret>)"

    def _key(self, rule: RateRule, identifier: str) -> str:
        message = _RATE_LABEL + rule.name.encode() + b"\x00" + identifier.encode("utf-8")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def acquire(self, rule: RateRule, identifier: str, now: datetime) -> RateDecision:
        return self.acquire_many([(rule, identifier, now)])[0]

    def acquire_many(
        self, requests: Sequence[tuple[RateRule, str, datetime]]
    ) -> list[RateDecision]:
        """``acquire`` for each request, in order, in ONE write transaction (one lock, one
        commit): concurrent callers gathered together cost one commit, not one each. Rows are
        locked in key order, so two processes' batches cannot deadlock on PostgreSQL. The commit
        does not wait for the disk (``transaction(durable=False)``): a bucket is a rate limit,
        not a record, and an fsync per batch of tokens queued every signed write behind the disk
        twice (the token's commit, then its event's); the event's commit, durable, syncs the
        WAL with the token in it, so only tokens of requests whose events never committed can be
        forgotten by a power loss (issue 11's benchmark)."""
        for rule, _, _ in requests:
            assert _PURPOSE.fullmatch(rule.name), f"not a rule name: {rule.name!r}"
        keys = [self._key(rule, identifier) for rule, identifier, _ in requests]
        with transaction(self._engine, write=True, durable=False) as connection:
            new_bucket = _NEW_BUCKET[connection.dialect.name]
            tats: dict[str, int] = {}
            for key, now in sorted(zip(keys, [r[2] for r in requests], strict=True)):
                if key not in tats:
                    connection.execute(new_bucket, {"key": key, "tat_us": epoch_us(now)})
                    tats[key] = int(connection.execute(_LOCK_BUCKET, {"k": key}).scalar_one())
            stored = dict(tats)
            decisions = [
                _gcra_step(tats, key, *request) for key, request in zip(keys, requests, strict=True)
            ]
            moved = [{"k": key, "tat_us": tat} for key, tat in tats.items() if tat != stored[key]]
            if moved:
                connection.execute(_MOVE_BUCKET, moved)
        return decisions

    def prune(self, now: datetime, limit: int = limits.prune_batch_max) -> int:
        """Delete up to ``limit`` buckets that are full again; returns how many."""
        buckets = tables.rate_limits
        full = select(buckets.c.key).where(buckets.c.tat_us <= epoch_us(now)).limit(limit)
        with transaction(self._engine, write=True) as connection:
            keys = list(connection.execute(full).scalars())
            if keys:
                connection.execute(delete(buckets).where(buckets.c.key.in_(keys)))
        return len(keys)


def _gcra_step(
    tats: dict[str, int], key: str, rule: RateRule, identifier: str, now: datetime
) -> RateDecision:
    """One GCRA step (module doc) of ``rule`` on the bucket ``tats[key]``, moved if allowed."""
    now_us = epoch_us(now)
    interval_us = rule.period_seconds * 1_000_000 // rule.count
    tolerance_us = interval_us * (rule.count - 1)
    tat_us = max(tats[key], now_us)
    wait_us = tat_us - tolerance_us - now_us
    if wait_us > 0:
        return RateDecision(False, -(-wait_us // 1_000_000))
    tats[key] = tat_us + interval_us
    return RateDecision(True, 0)
