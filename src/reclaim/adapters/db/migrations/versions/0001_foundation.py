"""The foundation: the log, its Merkle nodes and checkpoints, actors, keys and documents.

Hand-written and frozen: a later schema change is a new revision, never an edit of this one.
Integer keys are BIGINT on PostgreSQL and INTEGER (the rowid) on SQLite.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reclaim.adapters.db.migrations._helpers import create_index, create_table, int64

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_table(
        "events",
        sa.Column("seq", int64(), autoincrement=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("time", sa.Text(), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        primary_key=["seq"],
    )
    create_table(
        "merkle_nodes",
        sa.Column("node_key", int64(), autoincrement=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        primary_key=["node_key"],
    )
    log_head = create_table(
        "log_head",
        sa.Column("id", sa.Integer(), autoincrement=False),
        sa.Column("size", int64(), nullable=False),
        primary_key=["id"],
        constraints=[
            sa.CheckConstraint("id = 1", name=op.f("ck_log_head_one_row")),
            sa.CheckConstraint("size >= 0", name=op.f("ck_log_head_size_not_negative")),
        ],
    )
    op.bulk_insert(log_head, [{"id": 1, "size": 0}])
    create_table(
        "checkpoints",
        sa.Column("size", int64(), autoincrement=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        primary_key=["size"],
    )
    create_table(
        "actors",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("registered_seq", int64(), nullable=False),
        primary_key=["name"],
    )
    create_table(
        "actor_keys",
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("verifier_key", sa.Text(), nullable=False),
        sa.Column("revoked_seq", int64(), nullable=True),
        primary_key=["key_id"],
        constraints=[
            sa.ForeignKeyConstraint(
                ["actor"], ["actors.name"], name=op.f("fk_actor_keys_actor_actors")
            ),
        ],
    )
    create_index("actor_keys", ["actor"])
    create_table(
        "documents",
        sa.Column("document_id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("published_seq", int64(), nullable=False),
        primary_key=["document_id"],
    )


def downgrade() -> None:
    for table in (
        "documents",
        "actor_keys",
        "actors",
        "checkpoints",
        "log_head",
        "merkle_nodes",
        "events",
    ):
        op.drop_table(table)
