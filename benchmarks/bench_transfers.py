"""Ledger transfers per second through the full path, against the pure core alone.

The full path of one transfer: the core decides (the ledger's validation ladder) and evolves the
state; the treasury key signs the event (``ProcessSigner``, on the other core); the store appends
the leaf, its Merkle nodes and the ledger's projections — the transfer row and both account rows
upserted — in one transaction per group-committed batch (SQLite WAL, synchronous=FULL). The
baseline, measured in the same run: ``decide`` + ``evolve`` of the same commands in memory, with
no signing, no encoding and no storage.

Two shapes of command: one transfer per ``CreateTransfers`` (one event each: the realistic API
case, on which the target is judged) and 64 per command (one event per 64 transfers).

Target (issue 3): ≥ 10,000 transfers/s on SQLite, one transfer per command. PostgreSQL runs when
``RECLAIM_PG_URL`` names a server (in a throwaway schema, dropped afterwards).
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from _common import StepClock
from reclaim.adapters.db.store import open_store
from reclaim.adapters.signing import ProcessSigner
from reclaim.app.log_service import Accepted, KeyRing, LogService
from reclaim.app.ports import EventStore
from reclaim.bootstrap import tune_garbage_collector
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
)
from reclaim.core.machine import Command, Decided, Genesis, RegisterActor, State, decide, evolve
from reclaim.core.rejections import Rejection
from reclaim.log.keys import SignerKey

TRANSFERS = 60_000
CREDITORS = 1_000
PER_COMMAND_BATCH = 64
TARGET_PER_SECOND = 10_000
ORIGIN = "bench.reclaim/log"
RAIL = "operator/USD/rail_settlement"


def wallet(n: int) -> str:
    return f"c{n:05d}/USD/creditor_available"


def setup_commands(keys: KeyRing) -> list[tuple[Command, str]]:
    admin, treasury = keys.for_actor("admin"), keys.for_actor("treasury")
    genesis = Genesis(ORIGIN, "admin", admin.verifier.to_text(), keys.log_signer.verifier.to_text())
    accounts = [Account.of("operator", "USD", "rail_settlement",
                           frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS}))]  # fmt: skip
    accounts += [
        Account.of(f"c{n:05d}", "USD", "creditor_available",
                   frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS}))
        for n in range(CREDITORS)
    ]  # fmt: skip
    commands: list[tuple[Command, str]] = [
        (genesis, "admin"),
        (RegisterActor("treasury", "treasury", treasury.verifier.to_text()), "admin"),
    ]
    commands += [(OpenAccounts(tuple(accounts[i : i + 64])), "treasury")
                 for i in range(0, len(accounts), 64)]  # fmt: skip
    return commands


def transfers() -> list[Transfer]:
    """Deposits from the rail, each followed by a trade out of the account just funded."""
    made = []
    for i in range(TRANSFERS):
        k = (i // 2) % CREDITORS
        if i % 2 == 0:
            made.append(Transfer(f"t{i:08d}", RAIL, wallet(k), "USD", 10_000, "deposit"))
        else:
            t = Transfer(f"t{i:08d}", wallet(k), wallet((k + 1) % CREDITORS), "USD", 2_500, "trade")
            made.append(t)
    return made


def as_commands(items: list[Transfer], per_command: int) -> list[tuple[Command, str]]:
    return [
        (CreateTransfers(tuple(items[i : i + per_command])), "treasury")
        for i in range(0, len(items), per_command)
    ]


def core_rate(keys: KeyRing, per_command: int) -> float:
    """decide + evolve of the same commands on an in-memory state: no signing, no storage."""
    state = State()
    moment = datetime(2025, 1, 3, 15, 0, tzinfo=UTC)
    step = timedelta(microseconds=1)

    def run(commands: list[tuple[Command, str]]) -> None:
        nonlocal moment
        for command, actor in commands:
            moment += step
            decided = decide(state, command, actor, keys.for_actor(actor).key_id.hex(), moment)
            assert isinstance(decided, Decided), decided
            for event in decided.events:
                evolve(state, event)

    run(setup_commands(keys))
    gc.freeze()  # as the composition root does after replay
    commands = as_commands(transfers(), per_command)
    started = time.perf_counter()
    run(commands)
    return TRANSFERS / (time.perf_counter() - started)


def full_rate(keys: KeyRing, store: EventStore, per_command: int) -> float:
    service = LogService(store, keys, StepClock(), ProcessSigner(keys.for_actor))
    try:
        for outcome in service.submit_many(setup_commands(keys)):
            assert isinstance(outcome, Accepted), outcome
        gc.freeze()  # as the composition root does after replay
        commands = as_commands(transfers(), per_command)
        started = time.perf_counter()
        outcomes = service.submit_many(commands)
        elapsed = time.perf_counter() - started
        assert not any(isinstance(o, Rejection) for o in outcomes)
        assert store.account(wallet(1)) is not None
        return TRANSFERS / elapsed
    finally:
        service.stop()
        store.close()


def on_sqlite(keys: KeyRing, per_command: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return full_rate(keys, open_store(f"sqlite:///{Path(tmp) / 'bench.db'}"), per_command)


def on_postgresql(url: str) -> Callable[[KeyRing, int], float]:
    def run(keys: KeyRing, per_command: int) -> float:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(url, poolclass=NullPool)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            return full_rate(keys, open_store(scoped.render_as_string(False)), per_command)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    return run


def line(backend: str, per_command: int, rate: float, core: float, judged: bool) -> str:
    shape = "1 transfer per command" if per_command == 1 else f"{per_command} per command"
    figure = f"transfers on {backend} ({shape}): {rate:,.0f}/s"
    if judged:
        verdict = "ok" if rate >= TARGET_PER_SECOND else "TARGET MISSED"
        figure += f" (target ≥ {TARGET_PER_SECOND:,}/s, {verdict})"
    return f"{figure} = {rate / core:.2f} of the core alone ({core:,.0f}/s)"


def main() -> None:
    tune_garbage_collector()  # the service's process settings (reclaim.bootstrap)
    keys = KeyRing(
        SignerKey.generate(ORIGIN),
        {"admin": SignerKey.generate("admin"), "treasury": SignerKey.generate("treasury")},
    )
    backends: list[tuple[str, Callable[[KeyRing, int], float]]] = [("SQLite", on_sqlite)]
    pg_url = os.environ.get("RECLAIM_PG_URL")
    if pg_url:
        backends.append(("PostgreSQL", on_postgresql(pg_url)))
    for per_command in (1, PER_COMMAND_BATCH):
        core = max(core_rate(keys, per_command) for _ in range(2))
        for name, run in backends:
            rate = max(run(keys, per_command) for _ in range(2))
            print(line(name, per_command, rate, core, judged=name == "SQLite" and per_command == 1),
                  flush=True)  # fmt: skip
    if not pg_url:
        print("PostgreSQL: skipped (RECLAIM_PG_URL unset)", flush=True)


if __name__ == "__main__":
    main()
