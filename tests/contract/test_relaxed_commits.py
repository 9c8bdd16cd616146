"""``transaction(durable=False)``, the rate limiter's commit that does not wait for the disk, on
SQLite and PostgreSQL: inside it the database's synchronous setting is relaxed, after it (commit,
rollback or failure) the pooled connection is back to full durability for the log's appends, and
what it wrote is committed all the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, select, text

from reclaim.adapters.db import migrate, tables
from reclaim.adapters.db.store import create_store_engine
from reclaim.adapters.db.transactions import transaction

# PRAGMA synchronous: 1 is NORMAL, 2 is FULL.
RELAXED = {"sqlite": "1", "postgresql": "off"}
DURABLE = {"sqlite": "2", "postgresql": "on"}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    # One pooled connection: every transaction below reuses the one the relaxed one had.
    engine = create_store_engine(db_url)
    engine.pool.dispose()
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def synchronous(connection: Connection) -> str:
    if connection.dialect.name == "sqlite":
        return str(connection.exec_driver_sql("PRAGMA synchronous").scalar_one())
    return str(connection.execute(text("SHOW synchronous_commit")).scalar_one())


def test_relaxed_inside_durable_after(engine: Engine) -> None:
    name = engine.dialect.name
    with transaction(engine, write=True, durable=False) as connection:
        assert synchronous(connection) == RELAXED[name]
        connection.execute(tables.rate_limits.insert().values(key="k", tat_us=1))
    for _ in range(3):  # whichever pooled connection comes next
        with transaction(engine, write=True) as connection:
            assert synchronous(connection) == DURABLE[name]
    with transaction(engine) as connection:
        rows = connection.execute(select(tables.rate_limits.c.tat_us)).scalars().all()
    assert rows == [1], "a relaxed commit is a commit"


def test_durable_again_after_a_failure(engine: Engine) -> None:
    name = engine.dialect.name

    def fail() -> None:
        with transaction(engine, write=True, durable=False) as connection:
            connection.execute(tables.rate_limits.insert().values(key="k", tat_us=1))
            raise RuntimeError("the caller's own failure")

    with pytest.raises(RuntimeError):
        fail()
    with transaction(engine, write=True) as connection:
        assert synchronous(connection) == DURABLE[name]
        rows = connection.execute(select(tables.rate_limits.c.key)).scalars().all()
    assert rows == [], "rolled back"


def test_the_default_is_durable(engine: Engine) -> None:
    with transaction(engine, write=True) as connection:
        assert synchronous(connection) == DURABLE[engine.dialect.name]
