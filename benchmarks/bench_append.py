"""Signed appends per second on SQLite, against the single-core Ed25519 signing rate.

The full path of one event: the core decides, the actor's key signs the canonical bytes, the leaf
is encoded, and the store appends the leaf, its Merkle nodes and the projections in one
transaction per group-committed batch (SQLite WAL, synchronous=FULL).

Targets (issue 2): ≥ 20,000 appends/s, and ≥ 0.4 × the Ed25519 signing rate of one core
measured in the same run on messages of the same size. Issue 11 (every order is one HTTP
request): ``THREADS`` concurrent submitters of one event per call, group-committed by the
log's writer, ≥ 0.5 × the batched rate measured in the same run.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from pathlib import Path

from _common import StepClock, report
from reclaim.adapters.db.store import open_store
from reclaim.adapters.signing import ProcessSigner
from reclaim.app.log_service import KeyRing, LogService
from reclaim.bootstrap import tune_garbage_collector
from reclaim.core.events import Event
from reclaim.core.machine import Command, Genesis, PublishDocument
from reclaim.core.rejections import Rejection
from reclaim.core.types import JsonValue
from reclaim.log.event import signing_message
from reclaim.log.keys import SignerKey

EVENTS = 60_000
THREADS = 64


def document(i: int) -> PublishDocument:
    digest = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
    return PublishDocument(f"bench/{i:08d}", f"Benchmark document {i}", digest, "application/pdf")


def signing_rate(admin: SignerKey) -> float:
    payload: dict[str, JsonValue] = {
        "document_id": "bench/00000001",
        "title": "Benchmark document 1",
        "sha256": "ab" * 32,
        "media_type": "application/pdf",
    }
    at = "2025-01-03T15:00:00.000001Z"
    event = Event("document.published", 1, at, "admin", admin.key_id.hex(), payload)
    message = signing_message(event)
    count = 20_000
    started = time.perf_counter()
    for _ in range(count):
        admin.sign(message)
    return count / (time.perf_counter() - started)


def new_service(directory: Path, admin: SignerKey, log_key: SignerKey) -> LogService:
    store = open_store(f"sqlite:///{directory / 'bench.db'}")
    keys = KeyRing(log_key, {"admin": admin})
    service = LogService(store, keys, StepClock(), ProcessSigner(keys.for_actor))
    genesis = Genesis("bench.reclaim/log", "admin", admin.verifier.to_text(),
                      log_key.verifier.to_text())  # fmt: skip
    assert not isinstance(service.submit_many([(genesis, "admin")])[0], Rejection)
    return service


def bulk_rate(admin: SignerKey, log_key: SignerKey) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        service = new_service(Path(tmp), admin, log_key)
        commands: list[tuple[Command, str]] = [(document(i), "admin") for i in range(EVENTS)]
        started = time.perf_counter()
        outcomes = service.submit_many(commands)
        elapsed = time.perf_counter() - started
        assert not any(isinstance(o, Rejection) for o in outcomes)
        assert service.size == EVENTS + 1
        service.stop()
        service.store.close()
        return EVENTS / elapsed


def concurrent_rate(admin: SignerKey, log_key: SignerKey) -> float:
    """Callers on THREADS threads, each waiting for its own event: group commit batches them."""
    with tempfile.TemporaryDirectory() as tmp:
        service = new_service(Path(tmp), admin, log_key)
        service.start()
        per_thread = EVENTS // 4 // THREADS

        def work(offset: int) -> None:
            for i in range(per_thread):
                outcome = service.submit(document(offset + i), "admin")
                assert not isinstance(outcome, Rejection), outcome

        threads = [threading.Thread(target=work, args=(t * per_thread,)) for t in range(THREADS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        service.stop()
        service.store.close()
        return per_thread * THREADS / elapsed


def main() -> None:
    tune_garbage_collector()  # the service's process settings (reclaim.bootstrap)
    admin, log_key = SignerKey.generate("admin"), SignerKey.generate("bench.reclaim/log")
    sign = max(signing_rate(admin) for _ in range(3))
    bulk = max(bulk_rate(admin, log_key) for _ in range(2))
    ratio = bulk / sign
    report(
        "signed appends on SQLite (batched)",
        f"{bulk:,.0f} events/s vs Ed25519 signing on one core {sign:,.0f}/s",
        ratio,
        "targets ≥ 20,000/s and ratio ≥ 0.4",
        bulk >= 20_000 and ratio >= 0.4,
    )
    threaded = max(concurrent_rate(admin, log_key) for _ in range(2))
    report(
        f"signed appends on SQLite ({THREADS} concurrent submitters, one event per call, "
        "group commit)",
        f"{threaded:,.0f} events/s vs batched {bulk:,.0f} events/s"
        f" ({threaded / sign:.2f} of the signing rate)",
        threaded / bulk,
        "target ≥ 0.5 of the batched rate (issue 11)",
        threaded / bulk >= 0.5,
    )


if __name__ == "__main__":
    main()
