"""Where the verifier reads a public log from: an export's files, or a server's read-only API.

Both implement ``reclaim.verifier.LogSource`` and never touch a database.

- ``DirectorySource(path)`` reads the layout ``reclaim.app.export`` writes::

      checkpoint              the latest signed checkpoint note
      checkpoints/<size>      every checkpoint note, named by its decimal tree size
      keys.json               the key set (canonical JSON)
      entries/<start>.jsonl   leaves, one per line, named by the 12-digit seq of the first

  The layout is checked before anything is read: a missing or an unexpected file is reported,
  named; so is a ``checkpoints/<size>`` whose note claims another size, and a ``checkpoint``
  that is not the latest of ``checkpoints/``. It serves no proofs (the verifier recomputes
  every root from the leaves).
- ``HttpSource(base_url, client)`` reads ``GET /log/keys``, ``/log/checkpoint``,
  ``/log/checkpoints?start=&limit=`` (paged until a page is short), ``/log/entries?start=&end=``
  (``limits.entries_page_max`` leaves per request, grouped into bundles of whole pages and
  fetched one bundle ahead on a helper thread) and ``/log/proof/consistency?first=&second=``. It
  takes the latest checkpoint first and serves the log up to its size only, so that a log which
  grows meanwhile is seen as one consistent snapshot.

``open_source(location)`` picks one by the ``http://`` / ``https://`` prefix.

Errors: everything that goes wrong reading (``OSError``, ``httpx.HTTPError``, a status other
than 200, an answer not of the documented shape) is raised as ``SourceError``, whose message
names the file or the request.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

import httpx

from reclaim.core import limits
from reclaim.verifier import SourceError

_BUNDLE_NAME: Final = re.compile(r"([0-9]{12,20})\.jsonl")
_DECIMAL: Final = re.compile(r"0|[1-9][0-9]{0,19}")
_TOP_LEVEL: Final = ("checkpoint", "checkpoints", "entries", "keys.json")
#: Seconds an HTTP request may take (connect, read, write, pool) before the source gives up.
http_timeout_seconds: Final = 60
#: Bundles fetched ahead of the one the verifier is working on: hides the network's latency.
http_bundles_ahead: Final = 2


def open_source(location: str) -> DirectorySource | HttpSource:
    """A source for a URL (``http://``, ``https://``) or a directory path."""
    if location.startswith(("http://", "https://")):
        return HttpSource(location)
    return DirectorySource(Path(location))


# Files -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Layout:
    checkpoints: tuple[tuple[int, Path], ...]  # by size, ascending
    bundles: tuple[tuple[int, Path], ...]  # by first seq, ascending


class DirectorySource:
    """A log export on disk (the layout of ``reclaim.app.export``)."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._layout_cache: _Layout | None = None

    @property
    def path(self) -> Path:
        return self._path

    def keys(self) -> bytes:
        self._layout()
        return self._read(self._path / "keys.json")

    def checkpoints(self) -> list[str]:
        layout = self._layout()
        notes = []
        for size, file in layout.checkpoints:
            note = self._read_text(file)
            claimed = note.split("\n", 2)[1] if note.count("\n") >= 2 else ""
            if claimed != str(size):
                raise SourceError(
                    f"{self._name(file)} holds a checkpoint of size {claimed!r}, not {size}"
                )
            notes.append(note)
        latest = self._read_text(self._path / "checkpoint")
        if not notes or latest != notes[-1]:
            last = self._name(layout.checkpoints[-1][1]) if notes else "checkpoints/"
            raise SourceError(f"checkpoint is not the latest checkpoint, {last}")
        return notes

    def bundles(self) -> Iterator[tuple[int, bytes]]:
        for start, file in self._layout().bundles:
            yield start, self._read(file)

    def size_hint(self) -> int:
        bundles = self._layout().bundles
        if not bundles:
            return 0
        start, file = bundles[-1]
        return start + self._read(file).count(b"\n")

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None:
        return None

    def locate(self, start: int, line: int | None = None) -> str:
        name = f"entries/{start:012d}.jsonl"
        return name if line is None else f"{name} line {line}"

    def _layout(self) -> _Layout:
        if self._layout_cache is None:
            self._layout_cache = self._scan()
        return self._layout_cache

    def _scan(self) -> _Layout:
        top = self._list(self._path)
        for name in _TOP_LEVEL:
            if name not in top:
                raise SourceError(f"{self._path}: {name} is missing")
        for name in sorted(top):
            if name not in _TOP_LEVEL:
                raise SourceError(f"{self._path}: unexpected file {name}")
        for name in ("checkpoint", "keys.json"):
            if not (self._path / name).is_file():
                raise SourceError(f"{self._path}: {name} is not a file")
        checkpoints = []
        for name in self._list(self._path / "checkpoints"):
            if not _DECIMAL.fullmatch(name) or not (self._path / "checkpoints" / name).is_file():
                raise SourceError(f"{self._path}: unexpected file checkpoints/{name}")
            checkpoints.append((int(name), self._path / "checkpoints" / name))
        if not checkpoints:
            raise SourceError(f"{self._path}: checkpoints/ is empty")
        bundles = []
        for name in self._list(self._path / "entries"):
            match = _BUNDLE_NAME.fullmatch(name)
            start = int(match.group(1)) if match else -1
            file = self._path / "entries" / name
            if match is None or name != f"{start:012d}.jsonl" or not file.is_file():
                raise SourceError(f"{self._path}: unexpected file entries/{name}")
            bundles.append((start, file))
        return _Layout(tuple(sorted(checkpoints)), tuple(sorted(bundles)))

    def _list(self, directory: Path) -> set[str]:
        try:
            return {entry.name for entry in directory.iterdir()}
        except NotADirectoryError:
            raise SourceError(f"{directory}: not a directory") from None
        except OSError as exc:
            raise SourceError(f"{directory}: {exc.strerror or exc}") from exc

    def _read(self, file: Path) -> bytes:
        try:
            return file.read_bytes()
        except OSError as exc:
            raise SourceError(f"{self._name(file)}: {exc.strerror or exc}") from exc

    def _read_text(self, file: Path) -> str:
        data = self._read(file)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(f"{self._name(file)}: not UTF-8 at byte {exc.start}") from exc

    def _name(self, file: Path) -> str:
        return file.relative_to(self._path).as_posix()


# HTTP ------------------------------------------------------------------------------------------


class HttpSource:
    """A running reclaim server's read-only log API."""

    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=http_timeout_seconds)
        self._size: int | None = None
        page = limits.entries_page_max
        self._bundle_events = max(page, limits.bundle_size_max // page * page)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HttpSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def keys(self) -> bytes:
        return self._get("/log/keys").content

    def checkpoints(self) -> list[str]:
        """Every checkpoint up to the latest one, read first: the size this source serves."""
        latest = self._get("/log/checkpoint").text
        lines = latest.split("\n", 2)
        if len(lines) < 3 or not _DECIMAL.fullmatch(lines[1]):
            raise SourceError(f"GET {self._base}/log/checkpoint: not a checkpoint note")
        latest_size = int(lines[1])
        notes = self._listed_checkpoints(latest_size)
        if notes and notes[-1][0] == latest_size and notes[-1][1] != latest:
            raise SourceError(
                f"GET {self._base}/log/checkpoints: the checkpoint of size {latest_size} "
                "differs from /log/checkpoint"
            )
        if not notes or notes[-1][0] != latest_size:
            notes.append((latest_size, latest))
        self._size = latest_size
        return [note for _, note in notes]

    def _listed_checkpoints(self, latest_size: int) -> list[tuple[int, str]]:
        page = limits.checkpoints_page_max
        listed: list[tuple[int, str]] = []
        start = 0
        while start <= latest_size:  # every page moves start past a listed size
            path = "/log/checkpoints"
            items = self._checkpoint_page(path, {"start": str(start), "limit": str(page)})
            for size, note in items:
                if size < start or (listed and size <= listed[-1][0]):
                    raise SourceError(f"GET {self._base}{path}: sizes out of order at {size}")
                if size > latest_size:
                    return listed
                listed.append((size, note))
            if len(items) < page:
                break
            start = items[-1][0] + 1
        return listed

    def _checkpoint_page(self, path: str, params: dict[str, str]) -> list[tuple[int, str]]:
        body = self._json(path, params)
        items = body.get("checkpoints") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise SourceError(f"GET {self._base}{path}: no checkpoints list")
        out = []
        for item in items:
            size = item.get("size") if isinstance(item, dict) else None
            note = item.get("note") if isinstance(item, dict) else None
            if not isinstance(size, str) or not _DECIMAL.fullmatch(size):
                raise SourceError(f"GET {self._base}{path}: a size is not decimal text")
            if not isinstance(note, str):
                raise SourceError(f"GET {self._base}{path}: a note is not text")
            out.append((int(size), note))
        return out

    def bundles(self) -> Iterator[tuple[int, bytes]]:
        size = self.size_hint()
        step = self._bundle_events
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reclaim-fetch") as fetcher:
            ahead: deque[tuple[int, Future[bytes]]] = deque()
            try:
                for start in range(0, size, step):
                    end = min(start + step, size)
                    ahead.append((start, fetcher.submit(self._fetch_bundle, start, end)))
                    if len(ahead) > http_bundles_ahead:
                        first, future = ahead.popleft()
                        yield first, future.result()
                while ahead:
                    first, future = ahead.popleft()
                    yield first, future.result()
            finally:
                fetcher.shutdown(wait=True, cancel_futures=True)

    def _fetch_bundle(self, start: int, end: int) -> bytes:
        pages = []
        for first in range(start, end, limits.entries_page_max):
            last = min(first + limits.entries_page_max, end)
            params = {"start": str(first), "end": str(last)}
            data = self._get("/log/entries", params).content
            lines = data.count(b"\n")
            if lines != last - first or (data and not data.endswith(b"\n")):
                raise SourceError(
                    f"GET {self._base}/log/entries?start={first}&end={last}: "
                    f"{lines} lines, not {last - first}"
                )
            pages.append(data)
        return b"".join(pages)

    def size_hint(self) -> int:
        if self._size is None:
            self.checkpoints()
        assert self._size is not None, "checkpoints() sets the size"
        return self._size

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None:
        path = "/log/proof/consistency"
        body = self._json(path, {"first": str(first), "second": str(second)})
        where = f"GET {self._base}{path}?first={first}&second={second}"
        if not isinstance(body, dict) or (body.get("first"), body.get("second")) != (
            str(first), str(second),
        ):  # fmt: skip
            raise SourceError(f"{where}: the answer is not for these sizes")
        proof = body.get("proof")
        if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
            raise SourceError(f"{where}: proof is not a list of base64 texts")
        try:
            return [base64.b64decode(h, validate=True) for h in proof]
        except (binascii.Error, ValueError) as exc:
            raise SourceError(f"{where}: a proof hash is not base64") from exc

    def locate(self, start: int, line: int | None = None) -> str:
        seq = start + (line - 1 if line else 0)
        page = limits.entries_page_max
        first = seq // page * page
        end = first + page if self._size is None else min(first + page, max(self._size, seq + 1))
        where = f"{self._base}/log/entries?start={first}&end={end}"
        return where if line is None else f"{where} line {seq - first + 1}"

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        url = f"{self._base}{path}"
        try:
            response = self._client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise SourceError(f"GET {url}: {exc}") from exc
        if response.status_code != httpx.codes.OK:
            raise SourceError(f"GET {response.url}: HTTP {response.status_code}")
        return response

    def _json(self, path: str, params: dict[str, str]) -> object:
        response = self._get(path, params)
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceError(f"GET {response.url}: not JSON") from exc
