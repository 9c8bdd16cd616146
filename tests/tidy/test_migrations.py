"""The migrations and the tables agree: a database migrated to head is ``tables.metadata``."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from reclaim.adapters.db import migrate, tables


def test_the_migration_head_creates_exactly_the_tables(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # a second run is a no-op
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, tables.metadata) == []
            assert context.get_current_revision() == migrate.head_revision()
            names = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert names == {*tables.metadata.tables, "alembic_version"}
