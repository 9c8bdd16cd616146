"""The PII vault, the mail outbox, one-time codes and rate-limit buckets (issue 4).

Hand-written and frozen, like the revisions before it. None of these tables is a projection:
they hold what must never enter the public log (encrypted personal data, sealed mail, hashed
codes) and state that is not in it (rate-limit buckets). On SQLite the two vault tables are
``WITHOUT ROWID``: their text primary key is their only B-tree (the register import writes a
million subjects at once). Times are RFC 3339 UTC text of a fixed
width (``...T...:...:...ffffffZ``), so text order is time order.

Create Date: 2026-01-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reclaim.adapters.db.migrations._helpers import create_index, create_table, int64

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    create_table(
        "pii_subjects",
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("kek_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("erased_at", sa.Text(), nullable=True),
        primary_key=["subject_id"],
        sqlite_with_rowid=False,
    )
    create_table(
        "pii_fields",
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        primary_key=["subject_id", "field"],
        constraints=[
            sa.ForeignKeyConstraint(
                ["subject_id"],
                ["pii_subjects.subject_id"],
                name=op.f("fk_pii_fields_subject_id_pii_subjects"),
            ),
        ],
        sqlite_with_rowid=False,
    )
    create_table(
        "mail_outbox",
        sa.Column("id", int64(), autoincrement=True),
        sa.Column("message_token", sa.Text(), nullable=False),
        sa.Column("to_subject", sa.Text(), nullable=False),
        sa.Column("to_field", sa.Text(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.Text(), nullable=True),
        sa.Column("failed_at", sa.Text(), nullable=True),
        primary_key=["id"],
        constraints=[
            sa.CheckConstraint(
                "status IN ('queued', 'sent', 'failed')", name=op.f("ck_mail_outbox_status_known")
            ),
        ],
    )
    create_index("mail_outbox", ["status", "next_attempt_at"])
    create_table(
        "one_time_codes",
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.Text(), nullable=True),
        primary_key=["purpose", "subject"],
    )
    create_index("one_time_codes", ["expires_at"])
    create_table(
        "rate_limits",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("tat_us", int64(), nullable=False),
        primary_key=["key"],
    )
    create_index("rate_limits", ["tat_us"])


def downgrade() -> None:
    for table in ("rate_limits", "one_time_codes", "mail_outbox", "pii_fields", "pii_subjects"):
        op.drop_table(table)
