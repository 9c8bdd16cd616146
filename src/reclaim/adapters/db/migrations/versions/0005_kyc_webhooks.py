"""KYC webhook events of a hosted provider, by event id (issue 4).

Hand-written and frozen, like the revisions before it. Not a projection: which webhook deliveries
were seen is not in the log (the decisions they brought are). Times are RFC 3339 UTC text of a
fixed width, so text order is time order.

Create Date: 2026-01-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reclaim.adapters.db.migrations._helpers import create_index, create_table

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    create_table(
        "kyc_webhook_events",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Text(), nullable=False),
        primary_key=["event_id"],
        constraints=[
            sa.CheckConstraint(
                "outcome IN ('applied', 'stale', 'refused')",
                name=op.f("ck_kyc_webhook_events_outcome_known"),
            ),
        ],
    )
    create_index("kyc_webhook_events", ["reference", "occurred_at"])


def downgrade() -> None:
    op.drop_table("kyc_webhook_events")
