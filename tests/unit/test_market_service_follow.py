"""The market service's replica is the log's market, however its events reach it.

``MarketService`` applies the events of its own accepted commands as the log handed them over,
and reads every other event back from the store. A second service over the same log that has
placed nothing (so follows the store alone) must hold the same history, books and positions,
after orders, fills, a batch, cancels, and market events submitted past the first service
(an operator's halt straight to the log, a trader's order through the second service).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reclaim.adapters.db.store import open_store
from reclaim.adapters.keyfiles import OPERATOR_ACTORS
from reclaim.app.log_service import KeyRing, LogService
from reclaim.app.market import MarketService
from reclaim.bootstrap import ensure_genesis
from reclaim.core import market as mk
from reclaim.core.machine import PublishDocument
from reclaim.core.market import MarketStatus, OrderRequest, OrderType, SetMarketStatus, Side
from reclaim.core.rejections import Rejection
from reclaim.log.keys import SignerKey
from tests.api import backpack_world as world
from tests.support.factories import ORIGIN

SYMBOL = world.SYMBOL
DOCUMENT = PublishDocument("doc/1", "Not a market event", "ab" * 32, "application/pdf")


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def log(tmp_path: Path) -> Iterator[LogService]:
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    keys = KeyRing(SignerKey.generate(ORIGIN), {n: SignerKey.generate(n) for n in OPERATOR_ACTORS})
    service = LogService(store, keys, Clock())
    ensure_genesis(service, keys, ORIGIN)
    for outcome in service.submit_many(world.commands()):
        assert not isinstance(outcome, Rejection), outcome
    service.start()
    yield service
    service.stop()
    store.close()


def limit(side: Side, price: int, steps: int, client_id: int | None = None) -> OrderRequest:
    return OrderRequest(SYMBOL, side, OrderType.Limit, steps, price, client_id=client_id)


def snapshot(service: MarketService) -> object:
    return service.read(lambda state, history: (
        history,
        [(m.symbol, state.status[m.symbol]) for m in state.markets.values()],
        service.depth(SYMBOL, 1000),
    ))  # fmt: skip


def test_a_replica_of_the_store_alone_sees_the_market_the_placing_service_sees(
    log: LogService,
) -> None:
    placing, other = MarketService(log), MarketService(log)
    placing.sync()
    steps = [
        lambda: placing.place("seller", [limit(Side.Ask, 70, 5, 1), limit(Side.Ask, 72, 3)], None),
        lambda: placing.place("buyer", [limit(Side.Bid, 71, 2)], None),  # fills 2 at 70
        lambda: log.submit(DOCUMENT, "admin"),  # not a market event
        lambda: other.place("maker", [limit(Side.Bid, 65, 4)], None),  # past `placing`
        lambda: placing.place("buyer", [limit(Side.Bid, 72, 4)], None),  # 3 at 70, 1 at 72
        lambda: placing.cancel("seller", SYMBOL, None, 1, None),  # nothing left of it: refusal
        lambda: placing.cancel_all("seller", SYMBOL, None),
        lambda: log.submit(SetMarketStatus(SYMBOL, MarketStatus.CancelOnly), "admin"),
        lambda: placing.place("buyer", [limit(Side.Bid, 60, 1)], None),  # refused: CancelOnly
        lambda: placing.cancel_all("maker", SYMBOL, None),
    ]
    for step in steps:
        step()
        follower = MarketService(log)  # follows the store alone
        assert follower.sync() == placing.sync() == log.size
        assert snapshot(follower) == snapshot(placing)
    history = placing.read(lambda state, h: h)
    assert sum(len(t) for t in history.trades.values()) == 3, "three fills happened"
    assert placing.read(lambda state, h: state.status[SYMBOL]) is mk.MarketStatus.CancelOnly
    assert placing._handed == {}, "every handed-over event was followed"
