"""The SQL log store (SQLAlchemy Core, Alembic migrations, psycopg 3): events, Merkle nodes,
checkpoints, request marks, projections, vault and mail tables, on SQLite or PostgreSQL.

Imported by ``reclaim.bootstrap`` and the contract tests only.
"""
