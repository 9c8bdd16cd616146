"""Where a creditor reads the log's published checkpoints from, to check a liabilities proof.

Each implements ``reclaim.app.liabilities.CheckpointSource`` (``name``, ``note_at(size)``,
``log_key()``, ``close()``) and never touches a database:

- ``CheckpointFile(path)``: one signed checkpoint note in a file (what ``GET /log/checkpoint``
  or ``reclaim checkpoint`` printed). It is returned whatever size is asked for: the comparison
  with the statement then names any difference.
- ``ExportedCheckpoints(path)``: the directory of an exported log (``reclaim export-log``), whose
  ``checkpoints/<size>`` files are every checkpoint the log published.
- ``ServerCheckpoints(base_url)``: a running server, ``GET /log/checkpoints?start=<size>&limit=1``
  (the checkpoint of exactly that size, if it was published); ``log_key()`` reads the log's
  verifier key from ``GET /log/keys`` (trust on first use, like ``reclaim verify``).

``open_checkpoints(location)`` picks one: ``http://`` or ``https://`` → server, a directory →
export, anything else → a file.

Errors: reading that fails (``OSError``, ``httpx.HTTPError``, a status other than 200 or 404, an
answer not of the documented shape) is raised as ``reclaim.verifier.SourceError`` naming the
file or the request.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final

import httpx

from reclaim.core import limits
from reclaim.verifier import SourceError

_DECIMAL: Final = re.compile(r"0|[1-9][0-9]{0,19}")
#: Seconds a request may take before the check gives up (a checkpoint is a few hundred bytes).
http_timeout_seconds: Final = 30


class _LocalCheckpoints:
    """A source on this machine's disk, at ``path``: it publishes no key (an exported log's keys
    are checked by ``reclaim verify``, not taken from here) and holds nothing to close."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)

    def log_key(self) -> None:
        return None

    def close(self) -> None:
        pass


class CheckpointFile(_LocalCheckpoints):
    """One checkpoint note in a file."""

    @property
    def name(self) -> str:
        return f"checkpoint file {self._path}"

    def note_at(self, size: int) -> str | None:
        return _read_note(self._path)


class ExportedCheckpoints(_LocalCheckpoints):
    """The ``checkpoints/<size>`` files of an exported log (``path`` is its directory)."""

    @property
    def name(self) -> str:
        return f"the exported log {self._path}"

    def note_at(self, size: int) -> str | None:
        folder = self._path / "checkpoints"
        if not folder.is_dir():
            raise SourceError(f"{folder} is not a directory: not an exported log")
        path = folder / str(size)
        return _read_note(path) if path.is_file() else None


class ServerCheckpoints:
    """A reclaim server's published checkpoints."""

    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._client = client if client is not None else httpx.Client(timeout=http_timeout_seconds)
        self._owns_client = client is None

    @property
    def name(self) -> str:
        return f"the log at {self._base}"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def note_at(self, size: int) -> str | None:
        path = "/log/checkpoints"
        where = f"GET {self._base}{path}?start={size}&limit=1"
        body = self._json(path, {"start": str(size), "limit": "1"}, where)
        items = body.get("checkpoints") if isinstance(body, dict) else None
        if not isinstance(items, list) or len(items) > 1:
            raise SourceError(f"{where}: not a list of at most one checkpoint")
        if not items:
            return None
        item = items[0]
        listed = item.get("size") if isinstance(item, dict) else None
        note = item.get("note") if isinstance(item, dict) else None
        if not isinstance(listed, str) or not _DECIMAL.fullmatch(listed) or int(listed) < size:
            raise SourceError(f"{where}: the size listed is not a decimal of at least {size}")
        if not isinstance(note, str):
            raise SourceError(f"{where}: the note is not text")
        return note if int(listed) == size else None

    def log_key(self) -> str:
        """The log's verifier key, as ``GET /log/keys`` publishes it."""
        where = f"GET {self._base}/log/keys"
        body = self._json("/log/keys", {}, where)
        key = body.get("log_key") if isinstance(body, dict) else None
        if not isinstance(key, str):
            raise SourceError(f"{where}: no log_key")
        return key

    def _json(self, path: str, params: dict[str, str], where: str) -> object:
        try:
            response = self._client.get(f"{self._base}{path}", params=params)
        except httpx.HTTPError as exc:
            raise SourceError(f"{where}: {exc}") from exc
        if response.status_code != httpx.codes.OK:
            raise SourceError(f"{where}: HTTP {response.status_code}")
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceError(f"{where}: not JSON") from exc


def open_checkpoints(location: str) -> CheckpointFile | ExportedCheckpoints | ServerCheckpoints:
    """The source ``location`` names (module doc)."""
    if location.startswith(("http://", "https://")):
        return ServerCheckpoints(location)
    path = Path(location)
    return ExportedCheckpoints(path) if path.is_dir() else CheckpointFile(path)


def _read_note(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.note_size_max_bytes + 1)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > limits.note_size_max_bytes:
        raise SourceError(f"{path} is larger than a note ({limits.note_size_max_bytes} bytes)")
    try:
        return data.decode()
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path} is not UTF-8 text") from exc
