"""Make a reclaim run deterministic, for comparing the exports of two commits byte for byte.

Loaded by Python at start-up when this folder is on PYTHONPATH (``scripts/compare-demo-exports``):
the system clock is a fixed instant that steps one millisecond per reading, Ed25519 keys and
every ``secrets`` draw come from a seeded generator. Never used by reclaim itself.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from datetime import UTC, datetime, timedelta

_RNG = random.Random(2022_11_11)
_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_STEP = [0]


def _token_bytes(n: int | None = None) -> bytes:
    return _RNG.randbytes(32 if n is None else n)


secrets.token_bytes = _token_bytes  # type: ignore[assignment]
secrets.token_hex = lambda n=None: _token_bytes(n).hex()  # type: ignore[assignment]
secrets.token_urlsafe = lambda n=None: _token_bytes(n).hex()  # type: ignore[assignment]
secrets.randbelow = lambda n: _RNG.randrange(n)  # type: ignore[assignment]
secrets.choice = lambda seq: seq[_RNG.randrange(len(seq))]  # type: ignore[assignment]

from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402

_KEYS = [0]


def _generate() -> ed25519.Ed25519PrivateKey:
    _KEYS[0] += 1
    seed = hashlib.sha256(f"reclaim-compare-{_KEYS[0]}".encode()).digest()
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


ed25519.Ed25519PrivateKey.generate = staticmethod(_generate)  # type: ignore[method-assign]


def _now(self: object) -> datetime:
    _STEP[0] += 1
    return _START + timedelta(milliseconds=_STEP[0])


try:
    from reclaim.adapters import clock as _clock

    _clock.SystemClock.now = _now  # type: ignore[method-assign]
except ImportError:  # pragma: no cover
    pass
