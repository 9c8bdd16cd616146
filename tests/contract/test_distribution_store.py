"""Distribution rounds through the real log service on every store: memory, SQLite, PostgreSQL.

The commands of ``tests.support.distribution_world`` with rounds r1 and r2 run (funding, lines paid
in USD and EUR, escrows, a release) are submitted to a ``LogService`` over each store. Then: every
ledger account the state holds — creditors, escrows, the pool, the FX accounts — is projected with
the state's balances, and a new service over the same store replays the log to the same distribution
state and the same state digest."""

from __future__ import annotations

from reclaim.adapters.db.store import SqlEventStore
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.log_service import Accepted, KeyRing, LogService
from reclaim.core.distribution.commands import ElectPayout, RecordFxRate, ReleaseEscrow
from tests.api.conftest import FixedClock
from tests.scenarios.test_distribution_scenarios import ECB, R1, R2, run_round
from tests.support.distribution_world import CREDITORS, OPERATORS, World
from tests.support.factories import ORIGIN, key_for


def test_rounds_project_and_replay_on_every_store(store: MemoryEventStore | SqlEventStore) -> None:
    world = World()
    world.ok(ElectPayout("bob", "EUR"), "bob")
    world.ok(RecordFxRate("EUR", "0.9234", ECB, "2025-01-02T09:00:00.000000Z"), "treasury")
    run_round(world, R1)
    run_round(world, R2)
    world.approve_kyc("carol", "case-carol-2")
    world.ok(ReleaseEscrow("C3", "kyc_approved"), "treasury")
    names = ["admin", *(n for n, _ in OPERATORS), *CREDITORS]
    ring = KeyRing(key_for(f"{ORIGIN}-signer"), {n: key_for(n) for n in names})
    log = LogService(store, ring, FixedClock())
    outcomes = log.submit_many(world.commands)
    assert all(isinstance(o, Accepted) for o in outcomes)
    state = log.read(lambda s: s)
    for ident, account in state.ledger.accounts.items():
        projected = store.account(ident)
        assert projected is not None, ident
        row = (projected.debits_posted, projected.credits_posted, projected.debits_pending,
               projected.credits_pending)  # fmt: skip
        assert row == account.balances(), ident
    assert store.account("claim:C3/USD/claim_escrow") is not None
    assert store.account("bob/EUR/creditor_available").credits_posted == 33_242  # type: ignore[union-attr]
    digest = log.read(lambda s: s.snapshot())
    again = LogService(store, ring, FixedClock())
    assert again.read(lambda s: s.snapshot()) == digest
    assert again.read(lambda s: dict(s.distribution.received)) == dict(state.distribution.received)
