"""Export the public log as static files, for verifiers and for any web server or object store.

Layout of an export (read back by ``reclaim.adapters.log_sources.DirectorySource``)::

    DIR/checkpoint              the latest signed checkpoint note (text)
    DIR/checkpoints/<size>      every checkpoint note, named by its decimal tree size
    DIR/keys.json               the key set: ``reclaim.log.public_keys.keys_document(state)``
    DIR/entries/<start>.jsonl   bundles of ``bundle_size`` leaves (``limits.bundle_size_max``):
                                each leaf's exact canonical bytes and ``\\n``, one per line;
                                named by the seq of its first leaf, zero-padded to 12 digits

What is exported is the snapshot ``state`` describes: the first ``state.events`` leaves, and the
checkpoints up to that size. The latest of them must cover exactly that many events — a
verifier reports events no checkpoint covers — so the caller publishes a checkpoint first
(``LogService.publish_checkpoint``) and keeps ``state`` still while the export runs (hold the
log's lock, or pass a state replayed for the purpose). Private keys never appear: the state
holds verifier keys only, and the notes are signed text.

Atomicity: everything is written (and fsynced) into a temporary sibling directory, which then
replaces ``DIR`` by rename, so readers see the old export or the new one, never a mixture. An
existing ``DIR`` is replaced only if it is empty or an export itself.

Errors: ``ExportError`` when the log cannot be exported as asked (no checkpoint covering the
state, a store shorter than the state, a target that is not an export); the store's own errors
(``reclaim.app.ports.StoreError``) and ``OSError`` pass through, and the temporary directory is
removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reclaim.app.ports import EventStore, StoredCheckpoint
from reclaim.core import limits
from reclaim.core.machine import State
from reclaim.log.public_keys import keys_document

#: Names an export holds at its top level (an existing directory with others is not replaced).
EXPORT_NAMES: Final = frozenset({"checkpoint", "checkpoints", "entries", "keys.json"})

Progress = Callable[[int, int], None]
"""``progress(events written, events to write)``, called after every bundle."""


class ExportError(Exception):
    """The log cannot be exported as asked."""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    directory: Path
    events: int
    bundles: int
    checkpoints: int
    root: bytes  # of the latest checkpoint, which covers every exported event
    bytes_written: int
    elapsed_seconds: float


def export_log(
    store: EventStore,
    state: State,
    directory: Path,
    progress: Progress | None = None,
    *,
    bundle_size: int = limits.bundle_size_max,
) -> ExportSummary:
    """Write the public log of ``state``'s size from ``store`` to ``directory``, atomically."""
    started = time.perf_counter()
    if not 1 <= bundle_size <= limits.bundle_size_max:
        raise ExportError(f"bundle size {bundle_size} is not in [1, {limits.bundle_size_max}]")
    size = state.events
    if size == 0:
        raise ExportError("the log is empty: there is nothing to export")
    checkpoints = _checkpoints_up_to(store, size)
    stored = store.size()
    if stored < size:
        raise ExportError(f"the store holds {stored} events, fewer than the state's {size}")
    directory = Path(directory)
    _check_target(directory)
    temporary = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        writer = _Writer(temporary)
        bundles = _write_entries(writer, store, size, bundle_size, progress)
        for checkpoint in checkpoints:
            writer.write(f"checkpoints/{checkpoint.size}", checkpoint.note.encode())
        writer.write("checkpoint", checkpoints[-1].note.encode())
        key_set = keys_document(state)
        assert b"PRIVATE+KEY" not in key_set, "the key set holds verifier keys only"
        writer.write("keys.json", key_set)
        writer.sync_directories()
        _replace(temporary, directory)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return ExportSummary(
        directory=directory,
        events=size,
        bundles=bundles,
        checkpoints=len(checkpoints),
        root=checkpoints[-1].root,
        bytes_written=writer.bytes_written,
        elapsed_seconds=time.perf_counter() - started,
    )


def _checkpoints_up_to(store: EventStore, size: int) -> list[StoredCheckpoint]:
    """Every stored checkpoint of size ≤ ``size``, oldest first; the last must be ``size``."""
    found: list[StoredCheckpoint] = []
    start = 0
    while start <= size:  # each page moves ``start`` past the sizes it listed
        page = store.checkpoints(start, limits.checkpoints_page_max)
        found.extend(c for c in page if c.size <= size)
        if len(page) < limits.checkpoints_page_max or page[-1].size >= size:
            break
        start = page[-1].size + 1
    covered = found[-1].size if found else 0
    if covered != size:
        raise ExportError(
            f"the latest checkpoint covers {covered} of {size} events: "
            "publish a checkpoint before exporting"
        )
    return found


def _check_target(directory: Path) -> None:
    if not directory.parent.is_dir():
        raise ExportError(f"{directory.parent} is not a directory")
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise ExportError(f"{directory} exists and is not a directory")
    if directory.is_dir():
        foreign = sorted({p.name for p in directory.iterdir()} - EXPORT_NAMES)
        if foreign:
            raise ExportError(
                f"{directory} is not a log export (it holds {', '.join(foreign[:3])}): "
                "not replacing it"
            )


def _write_entries(
    writer: _Writer, store: EventStore, size: int, bundle_size: int, progress: Progress | None
) -> int:
    writer.mkdir("entries")
    bundles = 0
    for start in range(0, size, bundle_size):
        end = min(start + bundle_size, size)
        leaves = store.leaves(start, end)
        assert len(leaves) == end - start, "the store returns the whole range"
        assert not any(b"\n" in leaf for leaf in leaves), "canonical leaves are one line each"
        writer.write(f"entries/{start:012d}.jsonl", b"".join(leaf + b"\n" for leaf in leaves))
        bundles += 1
        if progress is not None:
            progress(end, size)
    return bundles


class _Writer:
    """Files under one directory, each written, flushed and fsynced; counts the bytes."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._directories = [root]
        self.bytes_written = 0

    def mkdir(self, name: str) -> None:
        path = self._root / name
        path.mkdir()
        self._directories.append(path)

    def write(self, name: str, data: bytes) -> None:
        path = self._root / name
        if not path.parent.is_dir():
            self.mkdir(path.parent.relative_to(self._root).as_posix())
        with path.open("xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        self.bytes_written += len(data)

    def sync_directories(self) -> None:
        for directory in self._directories:
            descriptor = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def _replace(temporary: Path, directory: Path) -> None:
    """Put ``temporary`` in ``directory``'s place by rename; the old export is then removed."""
    if not directory.exists():
        temporary.rename(directory)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
    old.rmdir()  # a free name next to the target, for the old export
    directory.rename(old)
    try:
        temporary.rename(directory)
    except BaseException:
        old.rename(directory)
        raise
    shutil.rmtree(old)
