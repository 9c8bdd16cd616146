"""The ``LiabilitiesStore`` contract, against every store: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import re

import pytest

from reclaim.adapters.db.store import SqlEventStore
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.ports import RangeNotAvailable, StoreCorrupt, StoredLiabilitiesSnapshot
from tests.support.factories import LogFactory

Store = MemoryEventStore | SqlEventStore


def snapshot(
    size: int, note: str = "", created_at: str = "2026-01-01T00:00:00.000000Z"
) -> StoredLiabilitiesSnapshot:
    note = note or f"reclaim liabilities v1\nreclaim.test/log\nsnapshot {size}\n"
    return StoredLiabilitiesSnapshot(str(size), size, note, f'{{"snapshot":"{size}"}}', created_at)


@pytest.fixture
def logged(store: Store) -> Store:
    factory = LogFactory()
    store.append([factory.genesis(), *factory.documents("d", 9)])
    return store


def test_a_new_store_has_no_liabilities_snapshot(store: Store) -> None:
    assert store.latest_liabilities_snapshot() is None


def test_the_latest_snapshot_is_the_one_of_the_largest_checkpoint(logged: Store) -> None:
    for size in (4, 10, 2):
        assert logged.add_liabilities_snapshot(snapshot(size)) == snapshot(size)
    assert logged.latest_liabilities_snapshot() == snapshot(10)


def test_the_same_snapshot_again_returns_the_first_and_keeps_its_time(logged: Store) -> None:
    first = snapshot(4)
    logged.add_liabilities_snapshot(first)
    again = snapshot(4, created_at="2026-02-02T00:00:00.000000Z")
    assert logged.add_liabilities_snapshot(again) == first
    assert logged.latest_liabilities_snapshot() == first


def test_another_statement_under_a_stored_id_is_refused(logged: Store) -> None:
    logged.add_liabilities_snapshot(snapshot(4))
    with pytest.raises(
        StoreCorrupt, match=re.escape("another liabilities snapshot is stored as 4")
    ):
        logged.add_liabilities_snapshot(snapshot(4, note="another statement\n"))
    assert logged.latest_liabilities_snapshot() == snapshot(4)


def test_a_snapshot_beyond_the_log_is_not_available(logged: Store) -> None:
    with pytest.raises(RangeNotAvailable):
        logged.add_liabilities_snapshot(snapshot(11))
    assert logged.latest_liabilities_snapshot() is None
