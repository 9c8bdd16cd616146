"""Run the schema migrations (Alembic) programmatically; no ``alembic.ini`` at run time.

The migration scripts are package data under ``reclaim/adapters/db/migrations``; ``upgrade``
builds the Alembic ``Config`` in code and hands Alembic an open connection through
``config.attributes["connection"]`` (read by ``migrations/env.py``).

Processes that open the same database at once migrate one after the other: the migration runs
in one write transaction that first takes the database's write lock (PostgreSQL: a
transaction-level advisory lock; SQLite: ``BEGIN IMMEDIATE``, on engines built by
``store.create_store_engine``), so the second finds the schema at head and does nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
#: Execution option marking a transaction that writes: the store's SQLite engines begin it
#: with ``BEGIN IMMEDIATE`` (take the write lock first) instead of a deferred ``BEGIN``.
WRITE_TRANSACTION: Final = "reclaim_write"
#: PostgreSQL advisory lock key held while migrating ("reclaim" in ASCII).
_PG_MIGRATION_LOCK: Final = 0x7265636C61696D


def alembic_config() -> Config:
    """The Alembic configuration of reclaim's migrations, built in code."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The revision the newest migration script brings the schema to."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert isinstance(head, str), "reclaim's migrations have exactly one head"
    return head


def upgrade(engine: Engine) -> None:
    """Bring the database of ``engine`` to the newest schema, in one transaction."""
    config = alembic_config()
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_TRANSACTION: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
