"""Signers: Ed25519 signatures for the log service, on this core or on another one.

``reclaim.app.log_service.InlineSigner`` signs on the caller's thread. ``ProcessSigner`` signs
in one worker process, so that the log service's writer can decide, encode and store batch
*k* while batch *k+1* is being signed (Ed25519 signing holds the GIL, so threads would not
help). The worker receives each private key once, over the pipe of a ``multiprocessing`` pool
started with ``spawn``, the first time an actor signs; the keys never leave this machine's
memory and are never logged.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping
from multiprocessing.pool import AsyncResult, Pool

from reclaim.app.ports import PendingSignatures, SigningRequests
from reclaim.log.event import sign_body
from reclaim.log.keys import SignerKey

# The worker process's keys, set by ``_worker_add_keys``; module state of the worker only.
_WORKER_KEYS: dict[str, SignerKey] = {}


def _worker_sign(new_keys: Mapping[str, str], requests: SigningRequests) -> list[bytes]:
    for name, private_text in new_keys.items():
        _WORKER_KEYS[name] = SignerKey.parse(private_text)
    return [sign_body(_WORKER_KEYS[actor], message) for actor, message in requests]


class _Async:
    def __init__(self, result: AsyncResult[list[bytes]], on_error: Callable[[], None]) -> None:
        self._result = result
        self._on_error = on_error

    def wait(self) -> list[bytes]:
        try:
            return self._result.get()
        except BaseException:
            self._on_error()  # the worker may have lost its keys: send them again next time
            raise


class ProcessSigner:
    """Signs in one worker process (started lazily, on the first request)."""

    def __init__(self, keys: Callable[[str], SignerKey]) -> None:
        self._keys = keys
        self._sent: dict[str, bytes] = {}  # actor -> key id sent to the worker
        self._pool: Pool | None = None

    def submit(self, requests: SigningRequests) -> PendingSignatures:
        new_keys: dict[str, str] = {}
        for actor, _ in requests:
            key = self._keys(actor)  # KeyError for an unknown actor, on the caller's thread
            if self._sent.get(actor) != key.key_id:
                new_keys[actor] = key.to_private_text()
                self._sent[actor] = key.key_id
        if self._pool is None:
            self._pool = multiprocessing.get_context("spawn").Pool(processes=1)
        result = self._pool.apply_async(_worker_sign, (new_keys, list(requests)))
        return _Async(result, self._sent.clear)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
            self._sent.clear()
