"""Liabilities snapshots: the public part of each signed proof-of-liabilities statement.

Hand-written and frozen, like 0001 and 0002. ``id`` is the statement's snapshot id (the tree
size of the checkpoint it names, in decimal); ``checkpoint_size`` orders them (the latest is
served by ``GET /liabilities/root``). Not a projection: the salt secret is needed to rebuild one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _int64() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "liabilities_snapshots",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("checkpoint_size", _int64(), nullable=False),
        sa.Column("statement_note", sa.Text(), nullable=False),
        sa.Column("public_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liabilities_snapshots")),
    )
    op.create_index(
        op.f("ix_liabilities_snapshots_checkpoint_size"),
        "liabilities_snapshots",
        ["checkpoint_size"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("liabilities_snapshots")
