"""Projections of the foundation's events: the rows that queries read, written with the events.

Theory of operation
-------------------
``project(changes, seq, event)`` maps one event's payload to row changes, with one function per
event type (``PROJECTORS``); it is pure and knows nothing of SQL, so the in-memory store applies
the very same rows. ``apply(connection, changes)`` writes a batch's changes with one
``executemany`` per kind of change, inside the append's transaction:

| event               | change                                                     |
| ------------------- | ---------------------------------------------------------- |
| log.genesis         | insert the admin into ``actors`` and its key into ``actor_keys`` |
| actor.registered    | insert into ``actors`` and the first key into ``actor_keys``  |
| actor.key_added     | insert into ``actor_keys``                                  |
| actor.key_revoked   | set ``actor_keys.revoked_seq`` of a live key of that actor   |
| document.published  | insert into ``documents``                                   |

Grouping by kind (actors, then keys, then revocations, then documents) gives the same rows as
applying the events one by one, for every batch the core accepts: an actor is registered before
its keys are named, and a key is added before it is revoked.

Errors: a batch that contradicts the stored projections (a second actor, key or document of the
same id; a key of an unknown actor; revoking a key that is not live) raises
``ProjectionError``; the caller rolls the whole append back. An event type without a
projector is a bug (``assert``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import Connection, Dialect, Table, bindparam, update

from reclaim.adapters.db import tables
from reclaim.core.events import Event
from reclaim.core.keyids import parse_verifier_key
from reclaim.core.machine import EVENT_TYPES

#: A row in the column order of its table (``tables``), ready for ``executemany``.
Row = tuple[object, ...]


class ProjectionError(ValueError):
    """A batch whose projections contradict the stored ones (or each other)."""


@dataclass(frozen=True, slots=True)
class Revocation:
    key_id: str
    actor: str
    revoked_seq: int


@dataclass(slots=True)
class Changes:
    """Row changes of a batch, grouped by kind, in log order within each kind.

    ``actors``, ``keys`` and ``documents`` hold rows of ``tables.actors``, ``actor_keys`` and
    ``documents`` in column order.
    """

    actors: list[Row] = field(default_factory=list)
    keys: list[Row] = field(default_factory=list)
    revocations: list[Revocation] = field(default_factory=list)
    documents: list[Row] = field(default_factory=list)


def _key_row(actor: str, verifier_key: str) -> Row:
    parsed = parse_verifier_key(verifier_key)
    if parsed is None:
        raise ProjectionError(f"{verifier_key!r} is not a verifier key")
    return (parsed[1].hex(), actor, verifier_key, None)


def _genesis(changes: Changes, seq: int, event: Event) -> None:
    p = event.payload
    admin = str(p["admin"])
    changes.actors.append((admin, "admin", seq))
    changes.keys.append(_key_row(admin, str(p["admin_key"])))


def _registered(changes: Changes, seq: int, event: Event) -> None:
    p = event.payload
    name = str(p["name"])
    changes.actors.append((name, str(p["role"]), seq))
    changes.keys.append(_key_row(name, str(p["key"])))


def _key_added(changes: Changes, seq: int, event: Event) -> None:
    p = event.payload
    changes.keys.append(_key_row(str(p["name"]), str(p["key"])))


def _key_revoked(changes: Changes, seq: int, event: Event) -> None:
    p = event.payload
    changes.revocations.append(Revocation(str(p["key_id"]), str(p["name"]), seq))


def _document(changes: Changes, seq: int, event: Event) -> None:
    p = event.payload
    changes.documents.append(
        (str(p["document_id"]), str(p["title"]), str(p["sha256"]), str(p["media_type"]), seq)
    )


def _from_entities(changes: Changes, seq: int, event: Event) -> None:
    """Ledger events: projected from the core's entity values (``EntityChange``), not here."""


PROJECTORS: Final[dict[str, Callable[[Changes, int, Event], None]]] = {
    # Every sub-domain's events move money through the ledger, whose account and transfer
    # entities are projected; their own records are read from the service's state for now.
    **dict.fromkeys(EVENT_TYPES, _from_entities),
    "log.genesis": _genesis,
    "actor.registered": _registered,
    "actor.key_added": _key_added,
    "actor.key_revoked": _key_revoked,
    "document.published": _document,
}


def project(changes: Changes, seq: int, event: Event) -> None:
    """Add the row changes of ``event`` at ``seq`` to ``changes``."""
    projector = PROJECTORS.get(event.type)
    assert projector is not None, f"no projector for event type {event.type!r}"
    try:
        projector(changes, seq, event)
    except KeyError as exc:
        raise ProjectionError(f"{event.type} at seq {seq}: payload lacks {exc}") from None


_REVOKE: Final = (
    update(tables.actor_keys)
    .where(
        tables.actor_keys.c.key_id == bindparam("b_key_id"),
        tables.actor_keys.c.actor == bindparam("b_actor"),
        tables.actor_keys.c.revoked_seq.is_(None),
    )
    .values(revoked_seq=bindparam("b_revoked_seq"))
)


def insert_many(connection: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (tuples in column order) with one driver call, the fastest way each
    database offers for the plain ``int``, ``str`` and ``bytes`` values of these tables.

    SQLite: ``executemany`` straight on the driver's cursor (no per-row parameter processing).
    PostgreSQL: one ``INSERT ... SELECT * FROM unnest(<column arrays>)`` statement, one round
    trip for the whole batch (an ``executemany`` costs the server a statement per row).
    """
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name == "postgresql":
        columns = [list(column) for column in zip(*rows, strict=True)]
        connection.exec_driver_sql(_unnest_insert_sql(table.name, dialect), tuple(columns))
    else:
        sql = _insert_sql(table.name, dialect.paramstyle)
        connection.exec_driver_sql(sql, rows if isinstance(rows, list) else list(rows))


@functools.cache
def _insert_sql(table_name: str, paramstyle: str) -> str:
    """``INSERT INTO t (c1, ...) VALUES (?, ...)`` in the driver's positional paramstyle."""
    assert paramstyle in ("qmark", "format", "pyformat"), f"paramstyle {paramstyle}"
    table = tables.metadata.tables[table_name]
    mark = "?" if paramstyle == "qmark" else "%s"
    columns = ", ".join(c.name for c in table.columns)
    marks = ", ".join([mark] * len(table.columns))
    return f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"


@functools.cache
def _unnest_insert_sql(table_name: str, dialect: Dialect) -> str:
    """``INSERT INTO t (c1, ...) SELECT * FROM unnest(%b::BIGINT[], ...)`` for psycopg
    (``%b``: parameters in binary format, much faster to dump than text arrays)."""
    table = tables.metadata.tables[table_name]
    columns = ", ".join(c.name for c in table.columns)
    arrays = ", ".join(f"%b::{c.type.compile(dialect=dialect)}[]" for c in table.columns)
    return f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays})"


def apply(connection: Connection, changes: Changes) -> None:
    """Write ``changes`` on ``connection`` (inside the caller's transaction).

    Raises ``ProjectionError`` for a revocation that matches no live key; constraint
    violations (duplicate ids, unknown actors) surface as the driver's ``IntegrityError``.
    """
    insert_many(connection, tables.actors, changes.actors)
    insert_many(connection, tables.actor_keys, changes.keys)
    for r in changes.revocations:  # rare: one statement each, to check that each matched
        params = {"b_key_id": r.key_id, "b_actor": r.actor, "b_revoked_seq": r.revoked_seq}
        if connection.execute(_REVOKE, params).rowcount != 1:
            raise ProjectionError(f"key {r.key_id} of {r.actor!r} is not a live key")
    insert_many(connection, tables.documents, changes.documents)


assert set(PROJECTORS) == set(EVENT_TYPES), "every event type has exactly one projector"
