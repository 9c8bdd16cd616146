"""The database schema, as SQLAlchemy Core tables (the migrations create exactly these).

Tables
------
- ``events``: the log, one row per leaf; ``seq`` is the Merkle leaf index, gapless from 0;
  ``leaf`` holds the canonical leaf bytes (what the Merkle tree commits to), the other columns
  are copies of fields inside it, for queries.
- ``merkle_nodes``: every complete perfect subtree of the log's Merkle tree, keyed by
  ``merkle_plan.node_key(level, index)``; level 0 are the leaf hashes. Roots and proofs of any size
  are folded from these, never rebuilt from the leaves.
- ``log_head``: one row (``id = 1``) holding the log's size; writers lock it (PostgreSQL
  ``SELECT ... FOR UPDATE``) so appends are serialised and seqs never gap or repeat.
- ``checkpoints``: every signed checkpoint the log published, by tree size.
- ``actors``, ``actor_keys``, ``documents``: projections of the foundation's events, written in
  the same transaction as the events (``projections.py``); they can be rebuilt from the log.
- ``liabilities_snapshots``: every signed liabilities statement (``reclaim.app.liabilities``),
  its public JSON, by snapshot id; one per checkpoint size. Not a projection: rebuilding a
  snapshot needs the operator's salt secret.
- ``pii_subjects``, ``pii_fields``: the PII vault (``reclaim.adapters.vault``): per subject a data
  key wrapped by a key-encryption key (``kek_id``), and per field a nonce and an AES-256-GCM
  ciphertext. An erased subject keeps its row as a tombstone (``erased_at``; no key, no fields).
- ``mail_outbox``: e-mail waiting to be sent or given up (``reclaim.adapters.mail``); the
  recipient is a vault reference and ``payload`` is sealed by the vault, so no row holds an
  address or a code in clear.
- ``one_time_codes``: one live code per (purpose, subject), as an HMAC (``reclaim.adapters.codes``),
  with the digest it is bound to and the HMAC of its confirmation key (issue 9, finding 2).
- ``used_challenges``: the proof-of-possession challenges spent, until they expire (finding 1).
- ``rate_limits``: one GCRA bucket per rule and identifier (the key is an HMAC: client addresses
  are personal data), its theoretical arrival time in microseconds since the epoch.
  These four are not projections: they hold state that is not in the log.
- ``kyc_webhook_events``: every KYC webhook event a hosted provider delivered, by its event id,
  with its case reference, when it occurred and what was done with it (``applied``, ``stale``,
  ``refused``): webhooks are idempotent and out-of-order safe (``reclaim.adapters.kyc``).
- ``request_signatures``: every signed API request that asked for a state change, by the
  SHA-256 of its signature, written in the same transaction as the events it produced and kept
  until its window closes (``until_ms``): the durable replay guard (issue 9, finding 6). Not a
  projection: which requests were received is not in the log.
- ``ledger_accounts``, ``ledger_transfers``: projections of the ledger, upserted in the same
  transaction from the entity values the core computed (``ledger_projections.py``); integers
  are minor units or seqs, ``flags`` and ``refs`` canonical JSON. A transfer's ``seq`` is the
  event that created it (its place in an account's history, read by the two indexes).

Integer keys are ``BIGINT`` on PostgreSQL and ``INTEGER`` on SQLite, where an ``INTEGER PRIMARY
KEY`` is the table's rowid (64-bit, no separate index): the fastest layout for append-only rows.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)

#: BIGINT that is a rowid alias on SQLite (SQLite's INTEGER is 64-bit).
Int64: Final = BigInteger().with_variant(Integer(), "sqlite")

metadata: Final = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)

events: Final = Table(
    "events",
    metadata,
    Column("seq", Int64, primary_key=True, autoincrement=False),
    Column("type", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("time", Text, nullable=False),
    Column("leaf", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
)

merkle_nodes: Final = Table(
    "merkle_nodes",
    metadata,
    Column("node_key", Int64, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

log_head: Final = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", Int64, nullable=False),
    CheckConstraint("id = 1", name="one_row"),
    CheckConstraint("size >= 0", name="size_not_negative"),
)

checkpoints: Final = Table(
    "checkpoints",
    metadata,
    Column("size", Int64, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
)

actors: Final = Table(
    "actors",
    metadata,
    Column("name", Text, primary_key=True),
    Column("role", Text, nullable=False),
    Column("registered_seq", Int64, nullable=False),
)

actor_keys: Final = Table(
    "actor_keys",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("actor", Text, ForeignKey("actors.name"), nullable=False, index=True),
    Column("verifier_key", Text, nullable=False),
    Column("revoked_seq", Int64, nullable=True),
)

documents: Final = Table(
    "documents",
    metadata,
    Column("document_id", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("media_type", Text, nullable=False),
    Column("published_seq", Int64, nullable=False),
)

ledger_accounts: Final = Table(
    "ledger_accounts",
    metadata,
    Column("id", Text, primary_key=True),
    Column("owner", Text, nullable=False, index=True),
    Column("asset", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("flags", Text, nullable=False),
    Column("debits_posted", Int64, nullable=False),
    Column("credits_posted", Int64, nullable=False),
    Column("debits_pending", Int64, nullable=False),
    Column("credits_pending", Int64, nullable=False),
    Column("opened_seq", Int64, nullable=False),
    Column("updated_seq", Int64, nullable=False),
)

ledger_transfers: Final = Table(
    "ledger_transfers",
    metadata,
    Column("id", Text, primary_key=True),
    Column("seq", Int64, nullable=False),
    Column("kind", Text, nullable=False),
    Column("debit_account_id", Text, nullable=False),
    Column("credit_account_id", Text, nullable=False),
    Column("asset", Text, nullable=False),
    Column("amount_minor", Int64, nullable=False),
    Column("code", Text, nullable=False),
    Column("refs", Text, nullable=False),
    Column("pending_id", Text, nullable=False),
    Column("timeout_seconds", Int64, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("posted_minor", Int64, nullable=False),
    Column("updated_seq", Int64, nullable=False),
    Index("ix_ledger_transfers_debit_account_id_seq", "debit_account_id", "seq"),
    Index("ix_ledger_transfers_credit_account_id_seq", "credit_account_id", "seq"),
)

liabilities_snapshots: Final = Table(
    "liabilities_snapshots",
    metadata,
    Column("id", Text, primary_key=True),
    Column("checkpoint_size", Int64, nullable=False, index=True, unique=True),
    Column("statement_note", Text, nullable=False),
    Column("public_json", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

pii_subjects: Final = Table(
    "pii_subjects",
    metadata,
    Column("subject_id", Text, primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=True),  # NULL once erased
    Column("kek_id", Text, nullable=True),  # NULL once erased
    Column("created_at", Text, nullable=False),
    Column("erased_at", Text, nullable=True),
    sqlite_with_rowid=False,  # the text key is the table's only B-tree: faster bulk inserts
)

pii_fields: Final = Table(
    "pii_fields",
    metadata,
    Column("subject_id", Text, ForeignKey("pii_subjects.subject_id"), primary_key=True),
    Column("field", Text, primary_key=True),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

mail_outbox: Final = Table(
    "mail_outbox",
    metadata,
    Column("id", Int64, primary_key=True, autoincrement=True),
    Column("message_token", Text, nullable=False),  # 128 random bits: Message-ID, seal purpose
    Column("to_subject", Text, nullable=False),
    Column("to_field", Text, nullable=False),
    Column("template", Text, nullable=False),
    Column("locale", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Text, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", Text, nullable=False),
    Column("sent_at", Text, nullable=True),
    Column("failed_at", Text, nullable=True),
    CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status_known"),
    Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

one_time_codes: Final = Table(
    "one_time_codes",
    metadata,
    Column("purpose", Text, primary_key=True),
    Column("subject", Text, primary_key=True),
    Column("code_hash", LargeBinary, nullable=False),
    Column("issued_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("used_at", Text, nullable=True),
    Column("binding", LargeBinary, nullable=True),
    Column("token_hash", LargeBinary, nullable=True),
)

used_challenges: Final = Table(
    "used_challenges",
    metadata,
    Column("digest", LargeBinary, primary_key=True),
    Column("expires_at", Text, nullable=False, index=True),
)

rate_limits: Final = Table(
    "rate_limits",
    metadata,
    Column("key", Text, primary_key=True),
    Column("tat_us", Int64, nullable=False, index=True),
)


kyc_webhook_events: Final = Table(
    "kyc_webhook_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("reference", Text, nullable=False),
    Column("occurred_at", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("received_at", Text, nullable=False),
    CheckConstraint("outcome IN ('applied', 'stale', 'refused')", name="outcome_known"),
    Index("ix_kyc_webhook_events_reference_occurred_at", "reference", "occurred_at"),
)


request_signatures: Final = Table(
    "request_signatures",
    metadata,
    Column("digest", LargeBinary, primary_key=True),
    Column("actor", Text, nullable=False),
    Column("until_ms", Int64, nullable=False),
    Index("ix_request_signatures_until_ms", "until_ms"),
)
