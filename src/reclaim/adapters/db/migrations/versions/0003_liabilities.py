"""Liabilities snapshots: the public part of each signed proof-of-liabilities statement.

Hand-written and frozen, like 0001 and 0002. ``id`` is the statement's snapshot id (the tree
size of the checkpoint it names, in decimal); ``checkpoint_size`` orders them (the latest is
served by ``GET /liabilities/root``). Not a projection: the salt secret is needed to rebuild one.

Create Date: 2026-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reclaim.adapters.db.migrations._helpers import create_index, create_table, int64

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    create_table(
        "liabilities_snapshots",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("checkpoint_size", int64(), nullable=False),
        sa.Column("statement_note", sa.Text(), nullable=False),
        sa.Column("public_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        primary_key=["id"],
    )
    create_index("liabilities_snapshots", ["checkpoint_size"], unique=True)


def downgrade() -> None:
    op.drop_table("liabilities_snapshots")
