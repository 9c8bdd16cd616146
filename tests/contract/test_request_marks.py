"""The durable replay guard of the EventStore (issue 9, finding 6), on every store.

A signed request's mark (``ports.RequestMark``) is stored in the same transaction as the batch
that answers it: once ``append`` returns it is seen (``request_seen``); a batch that carries a
mark stored already — another process accepted the same request first — is refused as a whole
(``RequestAlreadyAccepted``) and leaves nothing behind; marks may come without events (a
request the core refused); marks are pruned once their window has closed. SQL stores: a second
store on the same database sees the first one's marks (a second process, or a restart).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reclaim.adapters.db.store import SqlEventStore, open_store
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.ports import RequestAlreadyAccepted, RequestMark
from tests.support.factories import LogFactory

Store = MemoryEventStore | SqlEventStore


def mark(text: str, until_ms: int = 1_000) -> RequestMark:
    return RequestMark(hashlib.sha256(text.encode()).digest(), "alice", until_ms)


def test_a_mark_is_seen_once_its_batch_is_appended(store: Store) -> None:
    factory = LogFactory()
    assert not store.request_seen(mark("a").digest)
    store.append([factory.genesis()], (), [mark("a")])
    assert store.request_seen(mark("a").digest)
    assert not store.request_seen(mark("b").digest)


def test_a_batch_with_a_stored_mark_is_refused_whole(store: Store) -> None:
    factory = LogFactory()
    store.append([factory.genesis()], (), [mark("a")])
    size, root = store.size(), store.root(store.size())
    with pytest.raises(RequestAlreadyAccepted):
        store.append(factory.documents("d", 3), (), [mark("b"), mark("a")])
    assert (store.size(), store.root(size)) == (size, root), "no event of the batch is stored"
    assert not store.request_seen(mark("b").digest), "no mark of the batch is stored"


def test_a_mark_given_twice_in_one_batch_is_refused(store: Store) -> None:
    with pytest.raises(RequestAlreadyAccepted):
        store.append([LogFactory().genesis()], (), [mark("a"), mark("a")])
    assert store.size() == 0


def test_marks_without_events_are_stored(store: Store) -> None:
    factory = LogFactory()
    store.append([factory.genesis()])
    result = store.append([], (), [mark("refused")])
    assert (result.first_seq, result.size) == (1, 1)
    assert store.request_seen(mark("refused").digest)


def test_marks_are_pruned_once_their_window_closed(store: Store) -> None:
    factory = LogFactory()
    store.append([factory.genesis()], (), [mark("old", 1_000), mark("open", 5_000)])
    assert store.prune_request_marks(1_000) == 0, "a window closing at 1000 is open at 1000"
    assert store.prune_request_marks(1_001) == 1
    assert not store.request_seen(mark("old").digest)
    assert store.request_seen(mark("open").digest)


def test_a_second_store_on_the_same_database_sees_the_marks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    first, second = open_store(url), open_store(url)
    try:
        first.append([LogFactory().genesis()], (), [mark("a")])
        assert second.request_seen(mark("a").digest)
        with pytest.raises(RequestAlreadyAccepted):
            second.append(LogFactory().documents("d", 1), (), [mark("a")])
        assert second.size() == 1
    finally:
        first.close()
        second.close()
