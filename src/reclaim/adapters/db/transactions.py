"""Transactions and timestamps shared by the SQL adapters that are not the event store.

``transaction(engine, write=...)`` is one transaction on an engine built by
``store.create_store_engine`` (so ``write=True`` begins with ``BEGIN IMMEDIATE`` on SQLite: the
write lock is taken first, and concurrent writers queue instead of failing to upgrade a read
lock). Driver errors leave it as the ports' ``StoreError`` tree, as in the event store:
``IntegrityError`` is ``StoreCorrupt``, connection and lock failures ``StoreUnavailable``,
anything else ``StoreError``. Other exceptions pass through and roll the transaction back.

Times are stored as RFC 3339 UTC text of one fixed width (``2026-01-25T10:00:00.000000Z``): text
order is time order, so ``WHERE next_attempt_at <= :now`` works on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from reclaim.adapters.db import migrate
from reclaim.app.ports import StoreCorrupt, StoreError, StoreUnavailable

_STAMP_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@contextmanager
def transaction(
    engine: Engine,
    *,
    write: bool = False,
    durable: bool = True,
    contradicts: str = "the write contradicts the stored rows",
) -> Iterator[Connection]:
    """One transaction; database errors leave as the ports' ``StoreError`` subclasses (an
    ``IntegrityError`` as ``StoreCorrupt`` saying ``contradicts``).

    ``durable=False`` (rate-limit buckets only, never the log, the ledger or anything a
    creditor's money depends on) commits without waiting for the disk: SQLite's ``synchronous =
    NORMAL`` for this transaction (set before it begins, put back to ``FULL`` after; a connection
    that cannot be put back is invalidated, never returned to the pool) and PostgreSQL's
    ``synchronous_commit = off``. The commit is atomic all the same; a power loss may forget the
    last such commits, and in WAL mode the next durable commit on the database syncs them too."""
    try:
        with engine.connect() as connection:
            if write:
                connection.execution_options(**{migrate.WRITE_TRANSACTION: True})
            sqlite_relaxed = not durable and connection.dialect.name == "sqlite"
            if sqlite_relaxed:
                _sqlite_synchronous(connection, "NORMAL")
            try:
                with connection.begin():
                    if not durable and connection.dialect.name == "postgresql":
                        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                    yield connection
            finally:
                if sqlite_relaxed:
                    try:
                        _sqlite_synchronous(connection, "FULL")
                    except Exception:
                        connection.invalidate()
                        raise
    except IntegrityError as exc:
        raise StoreCorrupt(f"{contradicts}: {exc.orig}") from exc
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            raise StoreUnavailable(f"the database is unavailable: {exc.orig}") from exc
        raise StoreError(f"the database refused: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"the database is unavailable: {exc}") from exc


def _sqlite_synchronous(connection: Connection, level: str) -> None:
    """``PRAGMA synchronous`` on the driver's connection, outside any transaction (SQLite
    refuses to change it inside one; SQLAlchemy's own execute would begin one)."""
    assert level in ("NORMAL", "FULL"), level
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None, "a live connection"
    dbapi.execute(f"PRAGMA synchronous = {level}")


def insert_ignore(connection: Connection, table: Table, row: dict[str, Any]) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL); ``True`` if inserted."""
    dialect = connection.dialect.name
    assert dialect in ("sqlite", "postgresql"), f"unsupported database {dialect}"
    insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)
    result = connection.execute(insert.values(**row).on_conflict_do_nothing())
    return bool(result.rowcount == 1)


def upsert(connection: Connection, table: Table, row: dict[str, Any]) -> None:
    """``INSERT ... ON CONFLICT (<primary key>) DO UPDATE`` the other columns of ``row``."""
    dialect = connection.dialect.name
    assert dialect in ("sqlite", "postgresql"), f"unsupported database {dialect}"
    keys = [column.name for column in table.primary_key.columns]
    insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table).values(**row)
    changes = {name: insert.excluded[name] for name in row if name not in keys}
    connection.execute(insert.on_conflict_do_update(index_elements=keys, set_=changes))


def stamp(moment: datetime) -> str:
    """``moment`` (aware) as fixed-width RFC 3339 UTC text."""
    assert moment.tzinfo is not None, "times are timezone-aware"
    return moment.astimezone(UTC).strftime(_STAMP_FORMAT)


def parse_stamp(text: str) -> datetime:
    """The inverse of ``stamp``."""
    return datetime.strptime(text, _STAMP_FORMAT).replace(tzinfo=UTC)


def epoch_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch (exact: no float on the way)."""
    assert moment.tzinfo is not None, "times are timezone-aware"
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
