"""Signers: Ed25519 signatures for the log service, on this core or on another one.

``reclaim.app.log_service.InlineSigner`` signs on the caller's thread. ``ProcessSigner`` signs
in one worker process, so that the log service's writer can decide, encode and store batch
*k* while batch *k+1* is being signed (Ed25519 signing holds the GIL, so threads would not
help). The worker (``reclaim.adapters.signing_worker``, a ``python -c`` child on one end of a
socket pair) receives each private key once, over its pipe, the first time an actor signs; the
keys never leave this machine's memory and are never logged. It is not a ``multiprocessing``
spawn: that re-imports the parent's main module and the whole service in the child (about
0.8 s of CPU, on the core the writer needs, while the first batch waits: a third of the
batched benchmark), where the worker needs only the keys and the canonical check.

The writer talks to the worker over the pipe itself: ``submit`` sends the batch, ``wait``
receives its signatures, both on the caller's thread. A ``multiprocessing.Pool`` would pass
each batch through two helper threads of this process, and each of them must win the GIL
from the log's callers before the batch moves on: with 64 threaded callers that cost more
than 10 ms per batch (``benchmarks/bench_append.py``). Batches are numbered: a batch whose
signatures were never waited for (its pipeline failed) is skipped when a later one is read.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Final

from reclaim.adapters.signing_worker import Reply as _Reply
from reclaim.app.log_service import InlineSigner
from reclaim.app.ports import PendingSignatures, SigningRequests
from reclaim.log.keys import SignerKey

#: Batches of fewer events are signed on the caller's thread: sending one to the worker and
#: waiting for it costs about as much as signing this many (about 1.5 ms on a busy 2-core
#: machine), and the writer would only wait. Group-committed threaded callers make batches
#: of about their number (tens); bulk batches are ``limits.append_batch_max``.
INLINE_BELOW: Final = 128
#: The worker's command line after ``python -c``: its fd, then the parent's ``sys.path``.
_WORKER_BOOT: Final = (
    "import sys; sys.path[:0] = sys.argv[2:]; "
    "from reclaim.adapters.signing_worker import main; main(int(sys.argv[1]))"
)


class _Pending:
    def __init__(self, signer: ProcessSigner, serial: int) -> None:
        self._signer = signer
        self._serial = serial

    def wait(self) -> list[bytes]:
        return self._signer._receive(self._serial)


class ProcessSigner:
    """Signs in one worker process (started lazily, on the first request)."""

    def __init__(self, keys: Callable[[str], SignerKey]) -> None:
        self._keys = keys
        self._inline = InlineSigner(keys)  # for the batches below ``INLINE_BELOW``
        self._sent: dict[str, bytes] = {}  # actor -> key id sent to the worker
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None
        self._lock = threading.Lock()  # one batch on the pipe at a time, either way
        self._serial = 0
        self._received: dict[int, _Reply] = {}  # replies read ahead of their ``wait``

    def submit(self, requests: SigningRequests) -> PendingSignatures:
        if len(requests) < INLINE_BELOW:  # the round trip would cost more than the signatures
            return self._inline.submit(requests)
        with self._lock:
            new_keys: dict[str, str] = {}
            for actor, _ in requests:
                key = self._keys(actor)  # KeyError for an unknown actor, on the caller's thread
                if self._sent.get(actor) != key.key_id:
                    new_keys[actor] = key.to_private_text()
                    self._sent[actor] = key.key_id
            connection = self._connection if self._connection is not None else self._start()
            self._serial += 1
            try:
                connection.send((self._serial, new_keys, list(requests)))
            except BaseException:
                self._reset()
                raise
            return _Pending(self, self._serial)

    def _start(self) -> Connection:
        ours, theirs = multiprocessing.Pipe()  # duplex: a socket pair
        try:
            fd = theirs.fileno()
            command = [sys.executable, "-c", _WORKER_BOOT, str(fd), *sys.path]
            process = subprocess.Popen(command, pass_fds=(fd,), stdin=subprocess.DEVNULL)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()  # the child's end: the worker sees EOF once ours closes
        self._process, self._connection = process, ours
        return ours

    def _receive(self, serial: int) -> list[bytes]:
        with self._lock:
            try:
                reply = self._received.pop(serial, None)
                while reply is None:
                    if self._connection is None:
                        raise BrokenPipeError("the signing worker was stopped")
                    got: _Reply = self._connection.recv()
                    if got[0] == serial:
                        reply = got
                    elif got[0] > serial:  # answered in order: ours was read already
                        self._received[got[0]] = got
                for stale in [n for n in self._received if n < serial]:  # never waited for
                    del self._received[stale]
            except BaseException:
                self._reset()  # the worker may have lost its keys: send them again next time
                raise
            _, signatures, error = reply
            if error is not None:
                self._sent.clear()
                raise error
            assert signatures is not None
            return signatures

    def _reset(self) -> None:
        """Stop the worker (if any): the next ``submit`` starts a fresh one with every key."""
        connection, process = self._connection, self._process
        self._connection = self._process = None
        self._sent.clear()
        self._received.clear()
        if connection is not None:
            connection.close()
        if process is not None:
            process.wait()  # it ends at EOF on its pipe

    def close(self) -> None:
        with self._lock:
            self._reset()
