"""ProcessSigner's shared batches (``SHARED_FROM`` up to ``INLINE_BELOW`` events): the worker
signs the first half while the caller's thread signs the rest when it waits."""

from __future__ import annotations

import pytest

from reclaim.adapters.signing import INLINE_BELOW, SHARED_FROM, ProcessSigner
from reclaim.log import event as log_event
from reclaim.log.keys import SignerKey

ADMIN = SignerKey.from_seed("admin", b"\x01" * 32)
GATEWAY = SignerKey.from_seed("gateway", b"\x03" * 32)
KEYS = {"admin": ADMIN, "gateway": GATEWAY}


def requests(tag: str, count: int) -> list[tuple[str, bytes]]:
    return [
        (
            "admin" if i % 3 else "gateway",
            log_event.SIGNING_CONTEXT + f'{{"a":"{tag}{i}"}}'.encode(),
        )
        for i in range(count)
    ]


def signed(batch: list[tuple[str, bytes]]) -> list[bytes]:
    return [KEYS[actor].sign(message) for actor, message in batch]


@pytest.mark.parametrize("count", [SHARED_FROM, SHARED_FROM + 1, INLINE_BELOW - 1])
def test_a_shared_batch_is_signed_in_order_as_the_keys_do(count: int) -> None:
    signer = ProcessSigner(KEYS.__getitem__)
    try:
        first, second = requests("a", count), requests("b", count)
        pending_first, pending_second = signer.submit(first), signer.submit(second)
        assert pending_first.wait() == signed(first)  # two in flight, waited for in order
        assert pending_second.wait() == signed(second)
    finally:
        signer.close()


def test_an_unknown_actor_in_the_callers_half_is_refused_at_submit() -> None:
    signer = ProcessSigner(KEYS.__getitem__)
    try:
        batch = requests("a", SHARED_FROM)
        batch[-1] = ("mallory", batch[-1][1])
        with pytest.raises(KeyError):
            signer.submit(batch)
        good = requests("b", SHARED_FROM)
        assert signer.submit(good).wait() == signed(good)
    finally:
        signer.close()


def test_a_non_canonical_body_in_either_half_is_refused_by_wait() -> None:
    signer = ProcessSigner(KEYS.__getitem__)
    try:
        for position in (0, SHARED_FROM - 1):  # the worker's half, then the caller's
            bad = requests("x", SHARED_FROM)
            bad[position] = ("admin", log_event.SIGNING_CONTEXT + b'{"a":1}')
            with pytest.raises(log_event.NotCanonicalError):
                signer.submit(bad).wait()
        good = requests("y", SHARED_FROM)
        assert signer.submit(good).wait() == signed(good)
    finally:
        signer.close()
