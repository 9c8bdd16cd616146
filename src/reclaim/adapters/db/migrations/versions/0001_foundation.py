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

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _int64() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("seq", _int64(), autoincrement=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("time", sa.Text(), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
    )
    op.create_table(
        "merkle_nodes",
        sa.Column("node_key", _int64(), autoincrement=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("node_key", name=op.f("pk_merkle_nodes")),
    )
    log_head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), autoincrement=False),
        sa.Column("size", _int64(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_head")),
        sa.CheckConstraint("id = 1", name=op.f("ck_log_head_one_row")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_log_head_size_not_negative")),
    )
    op.bulk_insert(log_head, [{"id": 1, "size": 0}])
    op.create_table(
        "checkpoints",
        sa.Column("size", _int64(), autoincrement=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_checkpoints")),
    )
    op.create_table(
        "actors",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("registered_seq", _int64(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_actors")),
    )
    op.create_table(
        "actor_keys",
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("verifier_key", sa.Text(), nullable=False),
        sa.Column("revoked_seq", _int64(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_actor_keys")),
        sa.ForeignKeyConstraint(
            ["actor"], ["actors.name"], name=op.f("fk_actor_keys_actor_actors")
        ),
    )
    op.create_index(op.f("ix_actor_keys_actor"), "actor_keys", ["actor"])
    op.create_table(
        "documents",
        sa.Column("document_id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("published_seq", _int64(), nullable=False),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_documents")),
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
