"""The ledger's projections: accounts and transfers, as the core computed them.

Hand-written and frozen, like 0001. Both tables are projections, rebuilt from the log if lost.
``ledger_accounts`` is read by owner (a user's balances); ``ledger_transfers`` by account, newest
first (an account's history: the two ``(<account>_id, seq)`` indexes).

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _int64() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("asset", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("flags", sa.Text(), nullable=False),
        sa.Column("debits_posted", _int64(), nullable=False),
        sa.Column("credits_posted", _int64(), nullable=False),
        sa.Column("debits_pending", _int64(), nullable=False),
        sa.Column("credits_pending", _int64(), nullable=False),
        sa.Column("opened_seq", _int64(), nullable=False),
        sa.Column("updated_seq", _int64(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
    )
    op.create_index(op.f("ix_ledger_accounts_owner"), "ledger_accounts", ["owner"])
    op.create_table(
        "ledger_transfers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("seq", _int64(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("debit_account_id", sa.Text(), nullable=False),
        sa.Column("credit_account_id", sa.Text(), nullable=False),
        sa.Column("asset", sa.Text(), nullable=False),
        sa.Column("amount_minor", _int64(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("refs", sa.Text(), nullable=False),
        sa.Column("pending_id", sa.Text(), nullable=False),
        sa.Column("timeout_seconds", _int64(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("posted_minor", _int64(), nullable=False),
        sa.Column("updated_seq", _int64(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfers")),
    )
    op.create_index(
        op.f("ix_ledger_transfers_debit_account_id_seq"),
        "ledger_transfers",
        ["debit_account_id", "seq"],
    )
    op.create_index(
        op.f("ix_ledger_transfers_credit_account_id_seq"),
        "ledger_transfers",
        ["credit_account_id", "seq"],
    )


def downgrade() -> None:
    op.drop_table("ledger_transfers")
    op.drop_table("ledger_accounts")
