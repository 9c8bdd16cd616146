"""The batch book in a JSON file: which withdrawal went out in which batch file.

The file (``{"version": 1, "batches": {<withdrawal id>: <batch id>}}``, keys sorted) is rewritten
whole by ``record``: written to a temporary file beside it, flushed to disk, then renamed over
it (``os.replace`` is atomic on POSIX), so a crash leaves the old or the new book, never half of
one. A process lock serialises writers of one book; one operator runs exports at a time (the
CLI), which is what this adapter is for. Errors: ``BatchBookError`` for an unreadable book or an
id recorded twice.

Known limit: the whole book is read and written per export (O(withdrawals exported ever));
a deployment with millions of exports keeps the book in its database instead.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Final

from reclaim.app.withdrawal_ports import BatchBookError

VERSION: Final = 1


class JsonBatchBook:
    """``BatchBook`` over a JSON file at ``path`` (created on first record)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def batch_of(self, withdrawal_id: str) -> str | None:
        return self._read().get(withdrawal_id)

    def record(self, batch_id: str, withdrawal_ids: Iterable[str], now: datetime) -> None:
        ids = list(withdrawal_ids)
        with self._lock:
            book = self._read()
            again = sorted(i for i in ids if i in book)
            if again:
                raise BatchBookError(f"exported already: {again[:5]}")
            book.update(dict.fromkeys(ids, batch_id))
            body = json.dumps({"version": VERSION, "batches": book}, sort_keys=True, indent=1)
            temporary = self._path.with_name(self._path.name + ".tmp")
            try:
                with temporary.open("w", encoding="utf-8") as out:
                    out.write(body + "\n")
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, self._path)
            except OSError as exc:
                raise BatchBookError(f"cannot write {self._path}: {exc}") from exc

    def _read(self) -> dict[str, str]:
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BatchBookError(f"cannot read {self._path}: {exc}") from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BatchBookError(f"{self._path} is not JSON: {exc}") from exc
        if not isinstance(document, dict) or document.get("version") != VERSION:
            raise BatchBookError(f"{self._path} is not a batch book of version {VERSION}")
        batches = document.get("batches")
        if not isinstance(batches, dict):
            raise BatchBookError(f"{self._path} is not a batch book of version {VERSION}")
        return {str(k): str(v) for k, v in batches.items()}
