"""The ledger's projections (``ports.LedgerQueries``), on every store: memory, SQLite, PostgreSQL.

The invariant of issue 3: **balances recomputed from the log equal the projections**. A seeded
random ledger history (accounts opened, funding, transfers between creditors, chains, pending
withdrawals posted, voided or expired) runs through the real log service into the store, in
batches of several events, so one key changes several times in one append. Then the stored
leaves are replayed through the core (``check`` / ``evolve``) into a fresh state, and every
account and transfer the replay holds must be the projected row — balances, statuses, and the
seqs of the events that made and last changed it — and every account's history, read page by
page, must be its transfers newest first. A failed append leaves no projected row behind.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

import pytest

from reclaim.adapters.db.store import SqlEventStore
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.log_service import Accepted, KeyRing, LogService
from reclaim.app.ports import (
    EntityChange,
    ProjectedAccount,
    ProjectedTransfer,
    StoreCorrupt,
)
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    PENDING,
    POST_PENDING,
    VOID_PENDING,
    Account,
    CreateTransfers,
    ExpirePending,
    OpenAccounts,
    Transfer,
    assert_ledger_invariants,
)
from reclaim.core.machine import Command, Genesis, RegisterActor, State, check, evolve
from reclaim.log.event import parse_leaf
from tests.support.factories import ORIGIN, LogFactory, key_for

Store = MemoryEventStore | SqlEventStore

START: Final = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
D: Final = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
C: Final = frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})
CREDITORS: Final = ("alice", "bob", "carol", "dave")
ASSETS: Final = ("USD", "EUR")


class ManualClock:
    def __init__(self) -> None:
        self.now_at = START

    def now(self) -> datetime:
        return self.now_at

    def advance(self, seconds: float) -> None:
        self.now_at += timedelta(seconds=seconds)


def rail(asset: str) -> str:
    return f"operator/{asset}/rail_settlement"


def wallet(owner: str, asset: str) -> str:
    return f"{owner}/{asset}/creditor_available"


def new_log(store: Store) -> tuple[LogService, ManualClock]:
    keys = KeyRing(key_for(ORIGIN), {"admin": key_for("admin"), "treasury": key_for("treasury")})
    clock = ManualClock()
    log = LogService(store, keys, clock)
    admin, log_key = keys.for_actor("admin").verifier, keys.log_signer.verifier
    foundation: list[tuple[Command, str]] = [
        (Genesis(ORIGIN, "admin", admin.to_text(), log_key.to_text()), "admin"),
        (RegisterActor("treasury", "treasury", key_for("treasury").verifier.to_text()), "admin"),
    ]
    assert all(isinstance(o, Accepted) for o in log.submit_many(foundation))
    return log, clock


# A random ledger history ------------------------------------------------------------------------


@dataclass
class History:
    """Commands drawn from a seeded generator; pending ids it created, to post or void later."""

    rng: random.Random
    clock: ManualClock
    serial: int = 0
    pendings: list[tuple[str, str, int]] = field(default_factory=list)  # id, asset, amount

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial:05d}"

    def opening(self) -> list[Command]:
        accounts = [Account.of("operator", a, "rail_settlement", C) for a in ASSETS]
        accounts += [Account.of(o, a, "creditor_available", D) for o in CREDITORS for a in ASSETS]
        self.rng.shuffle(accounts)
        # Several commands, so that accounts open in one batch and change in the same batch.
        return [OpenAccounts(tuple(accounts[i : i + 3])) for i in range(0, len(accounts), 3)]

    def command(self) -> Command:
        rng, asset = self.rng, self.rng.choice(ASSETS)
        draw = rng.random()
        if draw < 0.25:
            owner = rng.choice(CREDITORS)
            return self.single(rail(asset), wallet(owner, asset), asset, rng.randint(1, 5000))
        if draw < 0.45:
            a, b = rng.sample(CREDITORS, 2)
            return self.single(wallet(a, asset), wallet(b, asset), asset, rng.randint(1, 900))
        if draw < 0.55:
            a, b, c = rng.sample(CREDITORS, 3)
            chain = (
                self.transfer(wallet(a, asset), wallet(b, asset), asset, rng.randint(1, 300)),
                self.transfer(wallet(b, asset), wallet(c, asset), asset, rng.randint(1, 300)),
            )
            return CreateTransfers(chain, atomic=rng.random() < 0.5)
        if draw < 0.7:
            owner, amount = rng.choice(CREDITORS), rng.randint(1, 700)
            ident = self.next_id("w")
            timeout = rng.choice((0, 5, 30, 600))
            t = Transfer(
                ident, wallet(owner, asset), rail(asset), asset, amount, "withdrawal",
                {"withdrawal": ident}, PENDING, "", timeout,
            )  # fmt: skip
            self.pendings.append((ident, asset, amount))
            return CreateTransfers((t,))
        if draw < 0.85 and self.pendings:
            ident, _, amount = self.pendings.pop(rng.randrange(len(self.pendings)))
            if rng.random() < 0.6:
                posted = rng.randint(1, amount)
                t = Transfer(self.next_id("p"), "", "", "", posted, "withdrawal",
                             kind=POST_PENDING, pending_id=ident)  # fmt: skip
            else:
                t = Transfer(self.next_id("v"), "", "", "", 0, "withdrawal",
                             kind=VOID_PENDING, pending_id=ident)  # fmt: skip
            return CreateTransfers((t,))
        if draw < 0.9:
            self.clock.advance(rng.choice((1, 10, 40)))
            return ExpirePending()
        batch = tuple(
            self.transfer(rail(asset), wallet(rng.choice(CREDITORS), asset), asset, 100)
            for _ in range(rng.randint(2, 5))
        )
        return CreateTransfers(batch)

    def transfer(self, debit: str, credit: str, asset: str, amount: int) -> Transfer:
        code = "deposit" if debit.startswith("operator/") else "trade"
        return Transfer(self.next_id("t"), debit, credit, asset, amount, code)

    def single(self, debit: str, credit: str, asset: str, amount: int) -> CreateTransfers:
        return CreateTransfers((self.transfer(debit, credit, asset, amount),))


def run_history(log: LogService, clock: ManualClock, seed: int, commands: int) -> None:
    history = History(random.Random(seed), clock)
    opening = history.opening()
    log.submit_many([(opening[0], "treasury")])
    pending: list[tuple[Command, str]] = [(c, "treasury") for c in opening[1:]]
    made = 0
    while made < commands:
        pending.append((history.command(), "treasury"))
        made += 1
        if history.rng.random() < 0.3:  # flush a batch of one to ~10 commands
            log.submit_many(pending)
            pending = []
            clock.advance(history.rng.choice((0, 0.5, 3)))
    log.submit_many(pending)


# Replaying the log: the state, and the seqs of the events that made and last changed each entity -


@dataclass
class Replayed:
    state: State
    made: dict[str, int]
    changed: dict[str, int]


def replay(store: Store) -> Replayed:
    state, made, changed = State(), dict[str, int](), dict[str, int]()
    for leaf in store.leaves(0, store.size()):
        logged = parse_leaf(leaf)
        assert check(state, logged.event) is None
        evolve(state, logged.event)
        for key in state.drain_changed():
            made.setdefault(key, logged.seq)
            changed[key] = logged.seq
    assert_ledger_invariants(state.ledger)
    return Replayed(state, made, changed)


def expected_account(r: Replayed, ident: str) -> ProjectedAccount:
    a, key = r.state.ledger.accounts[ident], f"account/{ident}"
    return ProjectedAccount(
        a.id, a.owner, a.asset, a.purpose, tuple(sorted(a.flags)), a.debits_posted,
        a.credits_posted, a.debits_pending, a.credits_pending, r.made[key], r.changed[key],
    )  # fmt: skip


def expected_transfer(r: Replayed, ident: str) -> ProjectedTransfer:
    stored, key = r.state.ledger.transfers[ident], f"transfer/{ident}"
    t = stored.transfer
    return ProjectedTransfer(
        t.id, r.made[key], t.kind, t.debit_account_id, t.credit_account_id, t.asset,
        t.amount_minor, t.code, dict(t.refs), t.pending_id, t.timeout_seconds,
        stored.created_at, stored.expires_at, stored.status, stored.posted_minor, r.changed[key],
    )  # fmt: skip


def read_history(store: Store, account_id: str, page: int) -> Iterator[ProjectedTransfer]:
    """Every transfer of the account, newest first, following the keyset cursor."""
    cursor: tuple[int | None, str | None] = (None, None)
    while True:
        found = store.account_history(account_id, cursor[0], page, cursor[1])
        assert len(found) <= page
        yield from found
        if len(found) < page:
            return
        cursor = (found[-1].seq, found[-1].id)


# The invariant ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_projections_equal_the_ledger_replayed_from_the_log(store: Store, seed: int) -> None:
    log, clock = new_log(store)
    run_history(log, clock, seed, commands=160)
    r = replay(store)
    ledger = r.state.ledger
    assert log.state.ledger.snapshot() == ledger.snapshot()  # the service agrees with the log
    made = {(s.transfer.kind, s.status) for s in ledger.transfers.values()}
    assert {
        ("single", "posted"), ("pending", "posted"), ("pending", "voided"),
        ("pending", "expired"), ("post_pending", "posted"), ("void_pending", "voided"),
    } <= made, "the history is too tame"  # fmt: skip

    for ident in ledger.accounts:
        assert store.account(ident) == expected_account(r, ident)
    for ident in ledger.transfers:
        assert store.transfer(ident) == expected_transfer(r, ident)
    for owner in ("operator", *CREDITORS):
        mine = sorted(i for i, a in ledger.accounts.items() if a.owner == owner)
        assert store.accounts_of(owner) == [expected_account(r, i) for i in mine]
    for ident in ledger.accounts:
        touching = [
            expected_transfer(r, t)
            for t, s in ledger.transfers.items()
            if ident in (s.transfer.debit_account_id, s.transfer.credit_account_id)
        ]
        newest_first = sorted(touching, key=lambda t: (t.seq, t.id), reverse=True)
        assert list(read_history(store, ident, 7)) == newest_first
        assert list(read_history(store, ident, 1)) == newest_first
        assert store.account_history(ident, None, 1000) == newest_first


def test_unknown_ids_and_empty_pages(store: Store) -> None:
    log, clock = new_log(store)
    run_history(log, clock, 9, commands=20)
    assert store.account("ghost/USD/fees") is None
    assert store.transfer("no-such-transfer") is None
    assert store.accounts_of("ghost") == []
    assert store.account_history("ghost/USD/fees", None, 10) == []
    assert store.account_history(wallet("alice", "USD"), 0, 10) == []
    assert store.account_history(wallet("alice", "USD"), None, 0) == []


# Exact rows, seqs and the keyset cursor, from hand-made entity changes ---------------------------


def account_value(owner: str, debits: int, credits: int, pending: int = 0) -> dict[str, object]:
    return {
        "asset": "USD", "owner": owner, "purpose": "creditor_available",
        "flags": [DEBITS_MUST_NOT_EXCEED_CREDITS], "debits_posted": str(debits),
        "credits_posted": str(credits), "debits_pending": str(pending), "credits_pending": "0",
    }  # fmt: skip


def transfer_value(status: str, amount: int, **extra: object) -> dict[str, object]:
    return {
        "kind": "pending", "debit_account_id": "alice/USD/creditor_available",
        "credit_account_id": "bob/USD/creditor_available", "asset": "USD",
        "amount_minor": str(amount), "code": "trade", "refs": {"order": "o-1"}, "pending_id": "",
        "timeout_seconds": "60", "created_at": "2026-01-01T00:00:01.000000Z",
        "expires_at": "2026-01-01T00:01:01.000000Z", "status": status, "posted_minor": "0",
        **extra,
    }  # fmt: skip


def change(position: int, key: str, value: dict[str, object] | None) -> EntityChange:
    return EntityChange(position, key, value)  # type: ignore[arg-type]


def test_the_last_change_of_a_key_wins_and_the_first_names_the_seq(store: Store) -> None:
    factory = LogFactory()
    store.append([factory.genesis()])
    alice = "account/alice/USD/creditor_available"
    store.append(
        factory.documents("d", 3),
        [
            change(0, alice, account_value("alice", 0, 0)),
            change(1, alice, account_value("alice", 0, 500)),
            change(1, "transfer/t-1", transfer_value("pending", 200)),
            change(2, alice, account_value("alice", 0, 500, pending=200)),
            change(2, "transfer/t-1", transfer_value("posted", 200, posted_minor="150")),
        ],
    )
    store.append(factory.documents("e", 2), [change(1, alice, account_value("alice", 150, 500))])

    flags = (DEBITS_MUST_NOT_EXCEED_CREDITS,)
    assert store.account("alice/USD/creditor_available") == ProjectedAccount(
        "alice/USD/creditor_available", "alice", "USD", "creditor_available", flags,
        150, 500, 0, 0, opened_seq=1, updated_seq=5,
    )  # fmt: skip
    assert store.transfer("t-1") == ProjectedTransfer(
        "t-1", 2, "pending", "alice/USD/creditor_available", "bob/USD/creditor_available",
        "USD", 200, "trade", {"order": "o-1"}, "", 60, "2026-01-01T00:00:01.000000Z",
        "2026-01-01T00:01:01.000000Z", "posted", 150, updated_seq=3,
    )  # fmt: skip


def test_history_pages_split_one_event_by_id(store: Store) -> None:
    """One event that creates several transfers: the cursor is (seq, id), ids in code points."""
    factory = LogFactory()
    store.append([factory.genesis()])
    ids = ["b", "B", "a-1", "a.1", "a1", "Z9"]
    store.append(
        factory.documents("d", 2),
        [change(1, f"transfer/{i}", transfer_value("pending", 1)) for i in ids]
        + [change(0, "transfer/first", transfer_value("pending", 1))],
    )
    newest_first = [*sorted(ids, reverse=True), "first"]
    assert [t.id for t in read_history(store, "bob/USD/creditor_available", 4)] == newest_first
    assert [t.id for t in read_history(store, "alice/USD/creditor_available", 1)] == newest_first
    page = store.account_history("alice/USD/creditor_available", 2, 10, "a1")
    assert [t.id for t in page] == ["a.1", "a-1", "Z9", "B", "first"]
    assert [t.id for t in store.account_history("alice/USD/creditor_available", 2, 10)] == ["first"]


# All or nothing -----------------------------------------------------------------------------------


def ledger_rows(store: Store) -> tuple[object, ...]:
    return (
        store.accounts_of("alice"),
        store.account("alice/USD/creditor_available"),
        store.transfer("t-1"),
        store.account_history("alice/USD/creditor_available", None, 10),
    )


@pytest.mark.parametrize(
    "poison",
    [
        "a document id already stored",
        "a malformed amount",
        "refs that are not an object",
        "a deleted entity",
        "a key that is no ledger entity",
    ],
)
def test_a_failing_append_leaves_no_projected_row_behind(store: Store, poison: str) -> None:
    factory = LogFactory()
    alice = "account/alice/USD/creditor_available"
    store.append(
        [factory.genesis(), factory.document("old")],
        [change(1, alice, account_value("alice", 0, 0))],
    )
    before = (store.size(), ledger_rows(store))
    events = factory.documents("new", 2)
    changes = [
        change(0, alice, account_value("alice", 0, 900)),
        change(1, "transfer/t-1", transfer_value("pending", 300)),
        change(1, "account/bob/USD/creditor_available", account_value("bob", 0, 0)),
    ]
    if poison == "a document id already stored":
        events.append(factory.document("old"))
    elif poison == "a malformed amount":
        changes.append(change(1, "transfer/t-2", transfer_value("pending", 1, amount_minor="1.5")))
    elif poison == "refs that are not an object":
        changes.append(change(1, "transfer/t-2", transfer_value("pending", 1, refs=["x"])))
    elif poison == "a deleted entity":
        changes.append(change(1, "account/bob/USD/creditor_available", None))
    else:
        changes.append(change(1, "actor/bob", {"role": "creditor", "keys": [], "revoked": []}))

    with pytest.raises(StoreCorrupt):
        store.append(events, changes)

    assert (store.size(), ledger_rows(store)) == before
    assert store.account("bob/USD/creditor_available") is None
    assert store.accounts_of("bob") == []
