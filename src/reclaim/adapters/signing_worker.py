"""The signing worker process of ``reclaim.adapters.signing.ProcessSigner``.

Started as ``python -c`` with the parent's ``sys.path``: it imports this module, the canonical
encoding and the keys, and nothing else of reclaim (about 0.06 s; a ``multiprocessing`` spawn
re-imports the parent's main module and the whole service, about 0.8 s of CPU on the core the
writer works on, while the first batch waits for it).

It reads ``(serial, new keys, requests)`` from its end of a socket pair and answers
``(serial, signatures, None)`` or ``(serial, None, error)``, in order, until the parent closes
the pipe (or exits). Interrupts are the parent's to handle: the worker ignores SIGINT and ends
when its pipe does.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from multiprocessing.connection import Connection

from reclaim.log.event_signing import sign_body
from reclaim.log.keys import SignerKey

#: What the worker answers for one batch: its number, then the signatures or the error.
Reply = tuple[int, list[bytes] | None, BaseException | None]


def main(fd: int) -> None:
    """Sign each batch received on ``fd``, in order, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection = Connection(fd)
    keys: dict[str, SignerKey] = {}
    while True:
        try:
            serial, new_keys, requests = connection.recv()
        except EOFError:
            return
        try:
            add_keys(keys, new_keys)
            reply: Reply = (serial, [sign_body(keys[a], m) for a, m in requests], None)
        except Exception as exc:  # the writer raises it from ``wait``
            reply = (serial, None, exc)
        connection.send(reply)


def add_keys(keys: dict[str, SignerKey], new_keys: Mapping[str, str]) -> None:
    for name, private_text in new_keys.items():
        keys[name] = SignerKey.parse(private_text)
