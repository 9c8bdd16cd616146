"""The verifier's source port: where it reads a public log from, never a database.

``reclaim.adapters.log_sources`` implements it (an export's files, a server's read-only API);
tests implement it to serve a tampered log. A source that cannot serve what was asked raises
``SourceError``, which ``verify_log`` returns as a failure of kind ``source_error``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol


class SourceError(Exception):
    """A log source could not serve what was asked: I/O, HTTP, a missing or unexpected file."""


class LogSource(Protocol):
    """Where a verifier reads a public log from; never a database.

    ``bundles`` yields ``(first seq, raw bytes)`` in seq order, each bundle being leaves as exact
    canonical bytes, one per ``\\n``-terminated line. Methods raise ``SourceError``.
    """

    def keys(self) -> bytes:
        """The key set document (``keys.json``), exactly as published."""
        ...

    def checkpoints(self) -> list[str]:
        """Every signed checkpoint note, oldest first, the latest last."""
        ...

    def bundles(self) -> Iterator[tuple[int, bytes]]: ...

    def size_hint(self) -> int:
        """How many events the source expects to serve (for progress; not trusted)."""
        ...

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None:
        """The RFC 9162 proof between two tree sizes, or ``None`` if the source has no proofs."""
        ...

    def locate(self, start: int, line: int | None = None) -> str:
        """Where the bundle starting at seq ``start`` (and its 1-based ``line``) is read from."""
        ...


Progress = Callable[[int, int], None]
"""``progress(events verified, events expected)``, called after every bundle."""
