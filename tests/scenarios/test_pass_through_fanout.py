"""The pass-through's money as one fan-out posting (``core/ledger/split.py``), through the real
machine: the same transfers as transfer by transfer (``pt:<position>:<i>``, ``i`` the holder's
place in the allocation, a zero part skipped), the accounts it opens, the entities it names for
the state digest, and a replay's ``check`` refusing a tampered event even when the allocation
of the honest one is memoised.
"""

from __future__ import annotations

import copy
from typing import Any

from reclaim.core.ledger.model import POSTED
from reclaim.core.market.machine import MarketState
from reclaim.core.notes import PassCode, PassThrough
from reclaim.core.notes.domain import holdings
from reclaim.core.notes.machine import Conversion, NotesState
from reclaim.core.notes.model import TransferEvidence
from reclaim.core.rejections import Rejection
from tests.scenarios.test_notes_scenarios import HOLDING_USD, fund_holding
from tests.support.core_harness import Event, check, evolve, replay
from tests.support.market_world import HOLDING, MarketWorld


def _logged(w: MarketWorld, index: int) -> Event:
    k, t, a, kid, p, v = w.log[index]
    return Event(k, v, t, a, kid, p)


def _with(event: Event, **fields: Any) -> Event:
    payload = {**copy.deepcopy(event.payload), **fields}
    return Event(event.type, event.version, event.time, event.actor, event.key_id, payload)


def test_the_fan_out_posts_one_transfer_per_paid_holder() -> None:
    """alice and mei hold 1,000,000 each; 1 cent: alice 1, mei 0 — mei gets no transfer (the
    next index is not used)."""
    w = MarketWorld()
    fund_holding(w, 1)
    assert w.held("alice", "USD") == 0
    decided = w.ok(PassThrough("FTX5A", "r1", 1, w.state.events - 1, "2025-06-02"), HOLDING)
    assert decided.results == (("alice", 1), ("mei", 0))
    position = w.state.events - 1
    ledger = w.state.ledger
    record = ledger.transfers[f"pt:{position}:0"]
    assert record.status == POSTED
    assert record.transfer[:6] == (
        f"pt:{position}:0", HOLDING_USD, "alice/USD/creditor_available", "USD", 1, "distribution",
    )  # fmt: skip
    assert dict(record.transfer.refs) == {"distribution": "r1"}
    assert f"pt:{position}:1" not in ledger.transfers
    assert w.held("alice", "USD") == 1
    assert w.held("mei", "USD") == 0
    assert w.replayed().snapshot() == w.state.snapshot()


def test_a_replay_refuses_a_tampered_pass_through_with_the_allocation_memoised() -> None:
    w = MarketWorld()
    fund_holding(w, 1_001)
    w.ok(PassThrough("FTX5A", "r1", 1_001, w.state.events - 1, "2025-06-02"), HOLDING)
    index = len(w.log) - 1
    before = replay(_logged(w, i) for i in range(index))
    event = _logged(w, index)
    assert check(before, event) is None  # the honest event: its allocation is memoised now
    for tampered, code in (
        (_with(event, amount_minor="1002"), PassCode.funds_insufficient),
        (_with(event, record_sequence="1"), PassCode.no_notes_outstanding),
    ):
        answer = check(before, tampered)
        assert isinstance(answer, Rejection), tampered.payload
        assert answer.reason is code
    assert check(before, event) is None
    evolve(before, event)
    assert before.snapshot() == w.state.snapshot()


def test_holdings_add_up_a_creditors_conversions_and_skip_later_ones() -> None:
    """Conversions only (the sorted path): bob converted two claims — added up; one at a later
    position than the record's is not counted; owners come ascending."""
    notes, market = NotesState(), MarketState()
    evidence = TransferEvidence("x", HOLDING, "X", "ftx", 1, "2022-11-11", "2025-06-02")
    for claim, creditor, units, position in (
        ("Z1", "zoe", 5, 3), ("B1", "bob", 2, 4), ("B2", "bob", 3, 5), ("A1", "amy", 7, 9),
    ):  # fmt: skip
        notes.conversions[claim] = Conversion("FTX5A", creditor, units, evidence, position)
    held = holdings(notes, market, "FTX5A", 5)
    assert list(held.items()) == [("bob", 5), ("zoe", 5)]
    assert list(holdings(notes, market, "FTX5A", 9).items()) == [("amy", 7), ("bob", 5), ("zoe", 5)]
    assert holdings(notes, market, "FTX5A", 2) == {}
