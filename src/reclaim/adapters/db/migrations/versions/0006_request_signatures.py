"""Signed API requests that asked for a state change, by signature digest (issue 9, finding 6).

Hand-written and frozen, like the revisions before it. Not a projection: which requests were
received is not in the log. A row is written in the same transaction as the events its request
produced and pruned once its window (``until_ms``, milliseconds since the epoch) has closed, so
no restart, second process or replica accepts the same signed bytes twice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_signatures",
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("until_ms", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_request_signatures")),
    )
    op.create_index(op.f("ix_request_signatures_until_ms"), "request_signatures", ["until_ms"])


def downgrade() -> None:
    op.drop_index(op.f("ix_request_signatures_until_ms"), table_name="request_signatures")
    op.drop_table("request_signatures")
