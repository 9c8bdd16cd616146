"""Sign-up codes bound to what they were issued for, and spent sign-up challenges (issue 9,
findings 1 and 2).

Hand-written and frozen, like the revisions before it. ``one_time_codes`` gains ``binding``
(the SHA-256 the code was issued for: for a sign-up, of the public key and the password hash;
NULL for codes bound to nothing) and ``token_hash`` (the HMAC of the long confirmation key mailed
with the code; NULL for codes without one). ``used_challenges`` keeps, until it expires, the
HMAC of every proof-of-possession challenge a sign-up or a key addition spent, so none is
accepted twice. Neither is a projection: none of this is in the log.

Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reclaim.adapters.db.migrations._helpers import create_index, create_table

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.add_column("one_time_codes", sa.Column("binding", sa.LargeBinary(), nullable=True))
    op.add_column("one_time_codes", sa.Column("token_hash", sa.LargeBinary(), nullable=True))
    create_table(
        "used_challenges",
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.Text(), nullable=False),
        primary_key=["digest"],
    )
    create_index("used_challenges", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_used_challenges_expires_at"), table_name="used_challenges")
    op.drop_table("used_challenges")
    with op.batch_alter_table("one_time_codes") as batch:
        batch.drop_column("token_hash")
        batch.drop_column("binding")
