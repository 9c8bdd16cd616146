"""Password hashing with argon2id (argon2-cffi): the ``PasswordHasher`` port.

Parameters (``Argon2Parameters.recommended``): argon2id, ``t = 3`` passes, ``m = 64 MiB``,
``p = 2`` lanes, 16-byte salt, 32-byte tag. RFC 9106 §4 recommends, when 2 GiB per hash is too
much, argon2id with ``t = 3``, ``m = 64 MiB`` and ``p = 4``; a lane is worth a core, and our
servers have 2, so ``p = 2``: the same memory hardness, about 0.1 s per hash on the 2-core
machine here (measured while other work ran). The parameters are written into every hash
(``$argon2id$v=19$m=65536,t=3,p=2$...``), so raising them later is safe: ``needs_rehash`` says
so for old hashes, and the login that proves the password stores a new one.

Resources: each hash takes 64 MiB for ~0.1 s; ``limits.password_hash_concurrency_max`` hashes
run at once per hasher (others wait), so a burst of sign-ups or logins cannot exhaust memory;
``limits.password_length_max_chars`` bounds the input. ``verify_absent`` spends the time of a
``verify`` for a login to an account that does not exist (no enumeration by timing).

Errors: a wrong password is ``False``; a stored hash argon2 cannot read is
``PasswordHashInvalid`` (corrupt data, not a user's mistake).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Final

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from reclaim.app.ports import PasswordHashInvalid
from reclaim.core import limits


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    time_cost: int
    memory_cost_kib: int
    parallelism: int
    hash_length_bytes: int = 32
    salt_length_bytes: int = 16

    @classmethod
    def recommended(cls) -> Argon2Parameters:
        """RFC 9106's low-memory recommendation, with one lane per core of a 2-core server."""
        return cls(time_cost=3, memory_cost_kib=64 * 1024, parallelism=2)


RECOMMENDED: Final = Argon2Parameters.recommended()


class Argon2PasswordHasher:
    """The ``PasswordHasher`` port (argon2id); thread-safe."""

    def __init__(self, parameters: Argon2Parameters = RECOMMENDED) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost_kib,
            parallelism=parameters.parallelism,
            hash_len=parameters.hash_length_bytes,
            salt_len=parameters.salt_length_bytes,
            type=argon2.Type.ID,
        )
        self._slots = threading.BoundedSemaphore(limits.password_hash_concurrency_max)
        self._absent: str | None = None  # a hash of a random password, made on first use

    def __repr__(self) -> str:
        hasher = self._hasher
        return f"Argon2PasswordHasher(t={hasher.time_cost}, m={hasher.memory_cost} KiB)"

    def hash(self, password: str) -> str:
        assert len(password) <= limits.password_length_max_chars, "validate passwords first"
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, encoded: str, password: str) -> bool:
        if len(password) > limits.password_length_max_chars:
            return False
        with self._slots:
            try:
                return self._hasher.verify(encoded, password)
            except VerifyMismatchError:
                return False
            except (InvalidHashError, VerificationError) as exc:  # cannot decode the hash
                raise PasswordHashInvalid(f"a stored password hash is unreadable: {exc}") from exc

    def needs_rehash(self, encoded: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(encoded)
        except (InvalidHashError, ValueError) as exc:
            raise PasswordHashInvalid(f"a stored password hash is unreadable: {exc}") from exc

    def verify_absent(self, password: str) -> bool:
        if self._absent is None:
            self._absent = self.hash(secrets.token_urlsafe(16))
        self.verify(self._absent, password)
        return False
