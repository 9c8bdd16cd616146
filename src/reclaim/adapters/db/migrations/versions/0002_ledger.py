"""The ledger's projections: accounts and transfers, as the core computed them.

Hand-written and frozen, like 0001. Both tables are projections, rebuilt from the log if lost.
``ledger_accounts`` is read by owner (a user's balances); ``ledger_transfers`` by account, newest
first (an account's history: the two ``(<account>_id, seq)`` indexes).

Create Date: 2026-01-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reclaim.adapters.db.migrations._helpers import create_index, create_table, int64

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    create_table(
        "ledger_accounts",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("asset", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("flags", sa.Text(), nullable=False),
        sa.Column("debits_posted", int64(), nullable=False),
        sa.Column("credits_posted", int64(), nullable=False),
        sa.Column("debits_pending", int64(), nullable=False),
        sa.Column("credits_pending", int64(), nullable=False),
        sa.Column("opened_seq", int64(), nullable=False),
        sa.Column("updated_seq", int64(), nullable=False),
        primary_key=["id"],
    )
    create_index("ledger_accounts", ["owner"])
    create_table(
        "ledger_transfers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("seq", int64(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("debit_account_id", sa.Text(), nullable=False),
        sa.Column("credit_account_id", sa.Text(), nullable=False),
        sa.Column("asset", sa.Text(), nullable=False),
        sa.Column("amount_minor", int64(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("refs", sa.Text(), nullable=False),
        sa.Column("pending_id", sa.Text(), nullable=False),
        sa.Column("timeout_seconds", int64(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("posted_minor", int64(), nullable=False),
        sa.Column("updated_seq", int64(), nullable=False),
        primary_key=["id"],
    )
    create_index("ledger_transfers", ["debit_account_id", "seq"])
    create_index("ledger_transfers", ["credit_account_id", "seq"])


def downgrade() -> None:
    op.drop_table("ledger_transfers")
    op.drop_table("ledger_accounts")
