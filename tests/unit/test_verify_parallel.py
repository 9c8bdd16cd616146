"""The process-pool path and the in-process path of the verifier report the same things.

The log: a genesis, one gateway, and ``SIZE - 2`` documents (661 events), checkpointed every 150
events and at the end, exported in bundles of 64 (11 bundles), so that the pool gets many
bundles, the main process checks some of them itself while it waits for the workers, results
come back out of order, and checkpoints fall inside bundles.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import pytest

from reclaim.adapters.log_sources import DirectorySource
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.export import export_log
from reclaim.app.log_service import KeyRing, LogService
from reclaim.core.events import Event
from reclaim.core.machine import Command, Genesis, PublishDocument, RegisterActor
from reclaim.core.rejections import Rejection
from reclaim.log.event import parse_leaf
from reclaim.log.keys import SignerKey
from reclaim.log.merkle import leaf_hash
from reclaim.verifier import FailureKind, VerifyFailure, VerifyReport, verify_log
from reclaim.verifier.bundles import BundleChecker

ORIGIN: Final = "reclaim.test/parallel"
SIZE: Final = 661
BUNDLE: Final = 64
ADMIN: Final = SignerKey.from_seed("admin", b"\x11" * 32)
GATEWAY: Final = SignerKey.from_seed("gateway", b"\x12" * 32)
LOG_KEY: Final = SignerKey.from_seed(ORIGIN, b"\x13" * 32)


class StepClock:
    def __init__(self) -> None:
        self._now = datetime(2026, 11, 25, tzinfo=UTC)

    def now(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = MemoryEventStore()
    service = LogService(store, KeyRing(LOG_KEY, {"admin": ADMIN}), StepClock())
    todo: list[tuple[Command, str]] = [
        (Genesis(ORIGIN, "admin", ADMIN.verifier.to_text(), LOG_KEY.verifier.to_text()), "admin"),
        (RegisterActor("gateway", "gateway", GATEWAY.verifier.to_text()), "admin"),
    ]
    for n in range(SIZE - len(todo)):
        sha = hashlib.sha256(n.to_bytes(4, "big")).hexdigest()
        todo.append((PublishDocument(f"doc/{n}", f"Document {n}", sha, "text/plain"), "admin"))
    for start in range(0, SIZE, 150):
        outcomes = service.submit_many(todo[start : start + 150])
        assert not [o for o in outcomes if isinstance(o, Rejection)]
        service.publish_checkpoint()
    directory = tmp_path_factory.mktemp("parallel") / "export"
    summary = export_log(store, service.state, directory, bundle_size=BUNDLE)
    assert (summary.events, summary.bundles, summary.checkpoints) == (SIZE, 11, 5)
    return directory


def run(directory: Path, workers: int) -> tuple[VerifyReport, list[tuple[int, int]]]:
    seen: list[tuple[int, int]] = []
    report = verify_log(
        DirectorySource(directory),
        workers=workers,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert isinstance(report, VerifyReport), report
    return report, seen


@pytest.mark.parametrize("workers", [1, 2])
def test_pool_and_in_process_reports_are_identical(exported: Path, workers: int) -> None:
    alone, alone_progress = run(exported, workers=0)
    pooled, pooled_progress = run(exported, workers=workers)
    assert (alone.workers, pooled.workers) == (0, workers)
    assert dataclasses.replace(pooled, workers=0, elapsed_seconds=0.0) == dataclasses.replace(
        alone, elapsed_seconds=0.0
    )
    assert (alone.events, alone.checkpoints, alone.actors, alone.keys) == (SIZE, 5, 2, 2)
    expected_progress = [(min(end, SIZE), SIZE) for end in range(BUNDLE, SIZE + BUNDLE, BUNDLE)]
    assert alone_progress == pooled_progress == expected_progress


def test_pool_and_in_process_report_the_same_failure(exported: Path, tmp_path: Path) -> None:
    """Whichever process checks the bundle: the workers, or the main process while it waits."""
    tampered = tmp_path / "export"
    shutil.copytree(exported, tampered)
    bundle = tampered / "entries" / f"{448:012d}.jsonl"
    lines = bundle.read_bytes().split(b"\n")
    lines[500 - 448] = lines[500 - 448].replace(b'"title":"Document ', b'"title":"Documents ')
    bundle.write_bytes(b"\n".join(lines))
    failures = [verify_log(DirectorySource(tampered), workers=n) for n in (0, 1, 2)]
    assert isinstance(failures[0], VerifyFailure), failures[0]
    assert failures[0] == failures[1] == failures[2]
    assert (failures[0].kind, failures[0].seq) == (FailureKind.signature_invalid, 500)
    assert str(failures[0]) == (
        f"seq 500: signature by key {ADMIN.key_id.hex()} (admin) does not verify over the "
        "event's bytes (entries/000000000448.jsonl line 53)"
    )


def test_a_failure_in_a_late_bundle_is_reported_after_the_earlier_ones_replay(
    exported: Path, tmp_path: Path
) -> None:
    """Bundles after a fault are still in flight in the pool; the first fault wins."""
    tampered = tmp_path / "export"
    shutil.copytree(exported, tampered)
    (tampered / "entries" / f"{640:012d}.jsonl").write_bytes(b"not json\n")
    (tampered / "entries" / f"{64:012d}.jsonl").write_bytes(b"")
    found = verify_log(DirectorySource(tampered), workers=2)
    assert isinstance(found, VerifyFailure), found
    assert (found.kind, found.seq) == (FailureKind.leaf_malformed, 64)
    assert str(found) == "seq 64: empty bundle (entries/000000000064.jsonl line 1)"


def test_small_logs_are_verified_in_process_by_default(exported: Path) -> None:
    report = verify_log(DirectorySource(exported))
    assert isinstance(report, VerifyReport), report
    assert report.workers == 0


def test_the_bundle_checker_returns_the_good_prefix_and_the_fault(exported: Path) -> None:
    data = (exported / "entries" / f"{64:012d}.jsonl").read_bytes()
    lines = data.split(b"\n")
    checker = BundleChecker({ADMIN.key_id.hex(): ADMIN.verifier.to_text()})
    result = checker(64, b"\n".join([*lines[:3], lines[4], b""]))
    assert len(result.hashes) == len(result.events) == 3
    assert result.fault is not None
    assert (result.fault.position, result.fault.kind, result.fault.message) == (
        3, FailureKind.seq_mismatch, "expected seq 67, found 68",
    )  # fmt: skip
    assert result.hashes == [leaf_hash(line) for line in lines[:3]]
    assert result.events == [parse_leaf(line).event for line in lines[:3]]
    assert checker(64, data).fault is None
    assert checker(64, data[:-1]).fault == (63, FailureKind.leaf_malformed,
                                            "no newline after the last event")  # fmt: skip


def test_a_worker_s_result_carries_events_as_plain_tuples(exported: Path) -> None:
    data = (exported / "entries" / f"{64:012d}.jsonl").read_bytes()
    keys = {ADMIN.key_id.hex(): ADMIN.verifier.to_text()}
    plain = BundleChecker(keys)(64, data)
    sent = pickle.dumps(BundleChecker(keys, to_pickle=True)(64, data))
    pickled = pickle.loads(sent)  # noqa: S301 - our own bytes, as the pool sends them
    assert pickled.hashes == plain.hashes
    assert pickled.fault is plain.fault is None
    assert [Event(*fields) for fields in pickled.events] == plain.events
    assert all(type(fields) is tuple for fields in pickled.events)
