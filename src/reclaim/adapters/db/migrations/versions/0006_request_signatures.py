"""Signed API requests that asked for a state change, by signature digest (issue 9, finding 6).

Hand-written and frozen, like the revisions before it. Not a projection: which requests were
received is not in the log. A row is written in the same transaction as the events its request
produced and pruned once its window (``until_ms``, milliseconds since the epoch) has closed, so
no restart, second process or replica accepts the same signed bytes twice.

Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reclaim.adapters.db.migrations._helpers import create_index, create_table, int64

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    create_table(
        "request_signatures",
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("until_ms", int64(), nullable=False),
        primary_key=["digest"],
    )
    create_index("request_signatures", ["until_ms"])


def downgrade() -> None:
    op.drop_index(op.f("ix_request_signatures_until_ms"), table_name="request_signatures")
    op.drop_table("request_signatures")
