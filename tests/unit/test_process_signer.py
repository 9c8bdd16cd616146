"""ProcessSigner: the worker over a pipe, batches numbered, small batches signed inline."""

from __future__ import annotations

import pytest

from reclaim.adapters.signing import INLINE_BELOW, ProcessSigner
from reclaim.log import event as log_event
from reclaim.log.keys import SignerKey

ADMIN = SignerKey.from_seed("admin", b"\x01" * 32)
GATEWAY = SignerKey.from_seed("gateway", b"\x03" * 32)
KEYS = {"admin": ADMIN, "gateway": GATEWAY}


def requests(tag: str, count: int = INLINE_BELOW) -> list[tuple[str, bytes]]:
    """``count`` signing requests (at least ``INLINE_BELOW``: the worker signs them)."""
    return [
        (
            "admin" if i % 3 else "gateway",
            log_event.SIGNING_CONTEXT + f'{{"a":"{tag}{i}"}}'.encode(),
        )
        for i in range(count)
    ]


def signed(batch: list[tuple[str, bytes]]) -> list[bytes]:
    return [KEYS[actor].sign(message) for actor, message in batch]


@pytest.fixture
def signer() -> ProcessSigner:
    return ProcessSigner(KEYS.__getitem__)


def test_worker_batches_sign_as_the_keys_do_in_the_order_they_are_waited_for(
    signer: ProcessSigner,
) -> None:
    try:
        first, second = requests("a"), requests("b")
        pending_first, pending_second = signer.submit(first), signer.submit(second)
        assert pending_first.wait() == signed(first)
        assert pending_second.wait() == signed(second)
    finally:
        signer.close()


def test_a_batch_never_waited_for_is_skipped_by_the_next_one(signer: ProcessSigner) -> None:
    try:
        abandoned, later = requests("a"), requests("b")
        signer.submit(abandoned)  # its pipeline failed: nobody waits for it
        assert signer.submit(later).wait() == signed(later)
        again = requests("c")
        assert signer.submit(again).wait() == signed(again)
    finally:
        signer.close()


def test_a_worker_refusal_is_raised_by_its_wait_and_the_worker_signs_on(
    signer: ProcessSigner,
) -> None:
    try:
        bad = requests("x")
        bad[7] = ("admin", log_event.SIGNING_CONTEXT + b'{"a":1}')  # not canonical
        with pytest.raises(log_event.NotCanonicalError):
            signer.submit(bad).wait()
        good = requests("y")
        assert signer.submit(good).wait() == signed(good)
    finally:
        signer.close()


def test_small_batches_are_signed_inline_and_unknown_actors_refused_at_submit(
    signer: ProcessSigner,
) -> None:
    small = requests("s", INLINE_BELOW - 1)
    assert signer.submit(small).wait() == signed(small)
    with pytest.raises(KeyError):
        signer.submit([("mallory", small[0][1])] * INLINE_BELOW)
    signer.close()  # no worker was started: closing is a no-op


def test_a_closed_signer_starts_a_fresh_worker_with_every_key(signer: ProcessSigner) -> None:
    try:
        first = requests("a")
        assert signer.submit(first).wait() == signed(first)
        signer.close()
        second = requests("b")
        assert signer.submit(second).wait() == signed(second)
    finally:
        signer.close()
