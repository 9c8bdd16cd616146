"""A populated log for the API tests, over the memory store and over SQLite.

The log (``LOG_SIZE`` events, built once per module and store, then only read):

    seq 0            log.genesis (admin "admin")
    seq 1..3         actor.registered: kyc-1 (kyc_officer), treasury-1 (treasury), gateway
    seq 4..1129      document.published doc-0000 ... (payload sha256 = 64 hex)

with signed checkpoints at sizes ``CHECKPOINT_SIZES`` (1, 400, 1100) and 30 events after the
last one, so that answers beyond the latest checkpoint are tested too. 1130 events make one
``/log/entries`` range longer than ``limits.entries_page_max`` (1000).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pytest

from reclaim.adapters.db.store import open_store
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.log_service import KeyRing, LogService
from reclaim.app.ports import EventStore, StoredCheckpoint
from reclaim.core.machine import Command, Genesis, PublishDocument, RegisterActor
from reclaim.entrypoints.api.app import create_app
from reclaim.log.keys import SignerKey
from tests.support.factories import ORIGIN

with warnings.catch_warnings():
    # Starlette asks for httpx2 and warns once, at import, when it finds httpx instead.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

FIXED_TIME: Final = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CHECKPOINT_SIZES: Final = (1, 400, 1100)
LOG_SIZE: Final = 1130
ACTORS: Final = (("kyc-1", "kyc_officer"), ("treasury-1", "treasury"), ("gateway", "gateway"))


class FixedClock:
    """Always the same moment: event times, and so the leaves, are deterministic."""

    def now(self) -> datetime:
        return FIXED_TIME


@dataclass(frozen=True, slots=True)
class LogFixture:
    log: LogService
    store: EventStore
    log_signer: SignerKey
    checkpoints: tuple[StoredCheckpoint, ...]  # as published, oldest first

    def checkpoint(self, size: int) -> StoredCheckpoint:
        (found,) = (c for c in self.checkpoints if c.size == size)
        return found


def new_keys() -> KeyRing:
    """Fresh keys for the log signer, the admin and the actors."""
    names = ("admin", *(name for name, _ in ACTORS))
    return KeyRing(SignerKey.generate(ORIGIN), {n: SignerKey.generate(n) for n in names})


def document(number: int) -> PublishDocument:
    digest = hashlib.sha256(f"document {number}".encode()).hexdigest()
    return PublishDocument(f"doc-{number:04d}", f"Document {number}", digest, "application/pdf")


def populate(log: LogService, keys: KeyRing) -> tuple[StoredCheckpoint, ...]:
    """Append the module doc's events; publish the checkpoints on the way."""
    admin, log_key = keys.for_actor("admin").verifier, keys.log_signer.verifier
    genesis = Genesis(ORIGIN, "admin", admin.to_text(), log_key.to_text())
    commands: list[tuple[Command, str]] = [(genesis, "admin")]
    for name, role in ACTORS:
        key = keys.for_actor(name).verifier.to_text()
        commands.append((RegisterActor(name, role, key), "admin"))
    commands.extend((document(n), "admin") for n in range(LOG_SIZE - len(commands)))
    published = []
    start = 0
    for end in (*CHECKPOINT_SIZES, LOG_SIZE):
        outcomes = log.submit_many(commands[start:end])
        assert [getattr(o, "seq", o) for o in outcomes] == list(range(start, end))
        if end in CHECKPOINT_SIZES:
            published.append(log.publish_checkpoint())
        start = end
    assert log.size == LOG_SIZE
    assert [c.size for c in published] == list(CHECKPOINT_SIZES)
    return tuple(published)


StoreFactory = Callable[[], EventStore]


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def store_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StoreFactory]:
    """Makes empty stores of one kind; every store it made is closed after the module."""
    made: list[EventStore] = []
    directory: Path = tmp_path_factory.mktemp(f"api-{request.param}")

    def make() -> EventStore:
        if request.param == "memory":
            store: EventStore = MemoryEventStore()
        else:
            store = open_store(f"sqlite:///{directory / f'log-{len(made)}.db'}")
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture(scope="module")
def populated(store_factory: StoreFactory) -> LogFixture:
    store, keys = store_factory(), new_keys()
    log = LogService(store, keys, FixedClock())
    return LogFixture(log, store, keys.log_signer, populate(log, keys))


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    """``make_client(log)``: a TestClient of ``create_app(log)``, closed after the test."""
    clients: list[TestClient] = []

    def make(log: LogService, *, raise_server_exceptions: bool = True) -> TestClient:
        test_client = TestClient(create_app(log), raise_server_exceptions=raise_server_exceptions)
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        test_client.close()


@pytest.fixture
def client(populated: LogFixture, make_client: ClientFactory) -> TestClient:
    return make_client(populated.log)
