"""Values handed to the state digest (``StateDigest.note``) and the log service's use of them.

The log service builds each ledger entity's value once per batch, for the store's projections,
and notes it to the digest instead of letting the digest read it again. These tests show the
digest stays exactly the from-scratch digest: a noted value is used only until its key is
marked again; and, through the service, every checkpoint of a ledger history with hot accounts
(changed by every transfer of many batches, with checkpoints cut between batches) names the
digest and the root of the log replayed to its size, on the memory store and on SQLite.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.adapters.db.store import open_store
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.log_service import Accepted, KeyRing, LogService
from reclaim.app.ports import EventStore
from reclaim.core import limits
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
)
from reclaim.core.machine import (
    Command,
    Decided,
    Genesis,
    RegisterActor,
    State,
    check,
    decide,
    evolve,
)
from reclaim.log import event as log_event
from reclaim.log import merkle
from reclaim.log.checkpoint import open_checkpoint
from reclaim.log.digest import StateDigest, digest_from_extensions, full_digest
from tests.support.factories import ORIGIN, key_for

T0 = datetime(2026, 2, 1, tzinfo=UTC)
RAIL = "operator/USD/rail_settlement"
WALLETS = [f"c{i}/USD/creditor_available" for i in range(6)]


def opening() -> list[tuple[Command, str]]:
    accounts = [Account.of("operator", "USD", "rail_settlement",
                           frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS}))]  # fmt: skip
    accounts += [
        Account.of(
            f"c{i}", "USD", "creditor_available", frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
        )
        for i in range(len(WALLETS))
    ]
    return [(OpenAccounts(tuple(accounts)), "treasury")]


def transfers(count: int, seed: int) -> list[tuple[Command, str]]:
    """Deposits from the rail (hot: in every other transfer) and trades between wallets."""
    rng, made = random.Random(seed), list[tuple[Command, str]]()
    for i in range(count):
        if i % 2 == 0:
            t = Transfer(f"t{seed}-{i}", RAIL, rng.choice(WALLETS), "USD", 100, "deposit")
        else:
            a, b = rng.sample(WALLETS, 2)
            t = Transfer(f"t{seed}-{i}", a, b, "USD", 1, "trade")
        made.append((CreateTransfers((t,)), "treasury"))
    return made


# The digest alone ---------------------------------------------------------------------------------


def ledger_state(steps: int) -> tuple[State, list[str]]:
    """A state with accounts and ``steps`` transfers, and the keys they touched."""
    state, keys = State(), KeyRing(key_for(ORIGIN), {"admin": key_for("admin")})
    admin = key_for("admin")
    commands: list[tuple[Command, str]] = [
        (Genesis(ORIGIN, "admin", admin.verifier.to_text(), keys.log_signer.verifier.to_text()),
         "admin"),
        (RegisterActor("treasury", "treasury", key_for("treasury").verifier.to_text()), "admin"),
        *opening(),
        *transfers(steps, 7),
    ]  # fmt: skip
    for i, (command, actor) in enumerate(commands):
        key_id = key_for(actor).key_id.hex()
        decided = decide(state, command, actor, key_id, T0 + timedelta(seconds=i))
        assert isinstance(decided, Decided), decided
        for event in decided.events:
            evolve(state, event)
    return state, [k for k in state.entity_keys() if k.startswith(("account/", "transfer/"))]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10**6)), max_size=40))
def test_noted_values_hold_until_their_key_is_marked_again(
    steps: list[tuple[int, int]],
) -> None:
    """Note right values, wrong values then a mark, updates in between: always the full digest."""
    state, keys = ledger_state(12)
    digest = StateDigest()
    digest.update(state)
    rng = random.Random(len(steps))
    for action, n in steps:
        key = keys[n % len(keys)]
        if action == 0:  # the state's own value
            digest.note(key, state.entity(key))
        elif action == 1:  # a wrong value, then the key changes: the value must be dropped
            digest.note(key, {"not": "the value"})
            digest.mark([key])
        elif action == 2:  # a key that does not exist, noted as absent
            digest.note(f"transfer/ghost-{n}", None)
        else:
            digest.update(state)
            assert digest.digest() == full_digest(state)
        if rng.random() < 0.2:
            digest.mark([keys[rng.randrange(len(keys))]])
    digest.update(state)
    assert digest.digest() == full_digest(state)


def test_a_change_left_in_the_state_voids_a_noted_value() -> None:
    """A key changed after its value was noted, and not marked but left in ``state.changed``
    (which ``update`` drains), is read from the state."""
    state, keys = ledger_state(4)
    digest = StateDigest()
    digest.update(state)
    digest.note(keys[0], {"not": "the value"})
    state.ledger.changed.add(keys[0])
    digest.update(state)
    assert digest.digest() == full_digest(state)


def test_an_unchanged_noted_entity_leaves_the_digest_as_it_was() -> None:
    state, keys = ledger_state(4)
    digest = StateDigest()
    digest.update(state)
    before = digest.digest()
    for key in keys:
        digest.note(key, state.entity(key))
    digest.update(state)
    assert digest.digest() == before == full_digest(state)


# Through the log service --------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        self.at += timedelta(microseconds=3)
        return self.at


def replay(store: EventStore, size: int) -> State:
    state = State()
    for leaf in store.leaves(0, size):
        logged = log_event.parse_leaf(leaf)
        assert check(state, logged.event) is None
        evolve(state, logged.event)
    return state


def ledger_log(store: EventStore, checkpoint_events: int) -> LogService:
    keys = KeyRing(key_for(ORIGIN), {"admin": key_for("admin"), "treasury": key_for("treasury")})
    log = LogService(store, keys, Clock(), checkpoint_events=checkpoint_events)
    admin, log_key = keys.for_actor("admin").verifier, keys.log_signer.verifier
    foundation: list[tuple[Command, str]] = [
        (Genesis(ORIGIN, "admin", admin.to_text(), log_key.to_text()), "admin"),
        (RegisterActor("treasury", "treasury", key_for("treasury").verifier.to_text()), "admin"),
        *opening(),
    ]
    assert all(isinstance(o, Accepted) for o in log.submit_many(foundation))
    return log


def assert_checkpoints_name_the_replayed_log(store: EventStore, log: LogService) -> int:
    checked, start = 0, 0
    while page := store.checkpoints(start, limits.checkpoints_page_max):
        for stored in page:
            checkpoint = open_checkpoint(stored.note, key_for(ORIGIN).verifier)
            leaves = store.leaves(0, checkpoint.size)
            assert checkpoint.root == stored.root == store.root(checkpoint.size)
            assert checkpoint.root == merkle.root_from_leaf_hashes(
                [merkle.leaf_hash(leaf) for leaf in leaves]
            )
            expected = full_digest(replay(store, checkpoint.size))
            assert digest_from_extensions(checkpoint.extensions) == expected
            checked += 1
        start = page[-1].size + 1
    assert log.state.snapshot() == replay(store, store.size()).snapshot()
    return checked


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_checkpoints_of_a_ledger_with_hot_accounts_name_the_replayed_digest(
    backend: str, tmp_path: Path
) -> None:
    store: EventStore = (
        MemoryEventStore() if backend == "memory" else open_store(f"sqlite:///{tmp_path / 'l.db'}")
    )
    log = ledger_log(store, checkpoint_events=700)
    # Several batches (2048 commands each): hot keys change in every batch, and checkpoints are
    # cut between batches, with a batch already prepared (its values noted) but not stored.
    outcomes = log.submit_many(transfers(2 * limits.append_batch_max + 300, seed=1))
    assert all(isinstance(o, Accepted) for o in outcomes)
    for chunk in range(3):  # then small batches, one checkpoint after each
        log.submit_many(transfers(5, seed=100 + chunk))
        log.publish_checkpoint()
    assert assert_checkpoints_name_the_replayed_log(store, log) >= 5
    log.stop()


def test_threaded_batches_keep_the_digest_of_the_replayed_log() -> None:
    store = MemoryEventStore()
    log = ledger_log(store, checkpoint_events=50)
    log.start()
    try:
        for command, actor in transfers(300, seed=5):
            outcome = log.submit(command, actor)
            assert isinstance(outcome, Accepted)
        log.publish_checkpoint()
    finally:
        log.stop()
    assert assert_checkpoints_name_the_replayed_log(store, log) >= 6
