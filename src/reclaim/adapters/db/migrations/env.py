"""Alembic environment for reclaim: online only, on the connection ``migrate.upgrade`` passes.

``config.attributes["connection"]`` carries an open SQLAlchemy ``Connection``; the migrations
run inside its transaction. There is no offline (SQL script) mode and no ``alembic.ini``: the
configuration is built in code by ``reclaim.adapters.db.migrate``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from reclaim.adapters.db.tables import metadata

connection = context.config.attributes.get("connection")
assert isinstance(connection, Connection), "run migrations through reclaim.adapters.db.migrate"
assert not context.is_offline_mode(), "reclaim's migrations run online only"

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
