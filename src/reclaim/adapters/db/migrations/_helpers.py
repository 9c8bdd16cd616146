"""What the revision scripts share: the 64-bit integer type and names by the naming convention.

The revisions are frozen, and they import this module: a change here changes what every one of
them creates, so nothing here may ever change a schema (``tests/tidy/test_migrations.py``
compares the head with ``tables.metadata``). Alembic loads every ``.py`` file in ``versions/``
as a revision, which is why this module lives beside ``env.py`` and not there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


def int64() -> sa.types.TypeEngine[int]:
    """BIGINT on PostgreSQL, INTEGER on SQLite (where an ``INTEGER PRIMARY KEY`` is the rowid)."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def create_table(
    name: str,
    *columns: sa.Column[Any],
    primary_key: Sequence[str],
    constraints: Sequence[sa.Constraint] = (),
    **options: Any,
) -> sa.Table:
    """``op.create_table`` with its primary key ``pk_<name>`` after the columns, then the rest."""
    return op.create_table(
        name,
        *columns,
        sa.PrimaryKeyConstraint(*primary_key, name=op.f(f"pk_{name}")),
        *constraints,
        **options,
    )


def create_index(table: str, columns: Sequence[str], *, unique: bool = False) -> None:
    """``op.create_index`` named ``ix_<table>_<columns joined by _>``."""
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), unique=unique)
