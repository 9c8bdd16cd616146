"""The database schema, as SQLAlchemy Core tables (the migrations create exactly these).

Tables
------
- ``events``: the log, one row per leaf; ``seq`` is the Merkle leaf index, gapless from 0;
  ``leaf`` holds the canonical leaf bytes (what the Merkle tree commits to), the other columns
  are copies of fields inside it, for queries.
- ``merkle_nodes``: every complete perfect subtree of the log's Merkle tree, keyed by
  ``merkle.node_key(level, index)``; level 0 are the leaf hashes. Roots and proofs of any size
  are folded from these, never rebuilt from the leaves.
- ``log_head``: one row (``id = 1``) holding the log's size; writers lock it (PostgreSQL
  ``SELECT ... FOR UPDATE``) so appends are serialised and seqs never gap or repeat.
- ``checkpoints``: every signed checkpoint the log published, by tree size.
- ``actors``, ``actor_keys``, ``documents``: projections of the foundation's events, written in
  the same transaction as the events (``projections.py``); they can be rebuilt from the log.

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
