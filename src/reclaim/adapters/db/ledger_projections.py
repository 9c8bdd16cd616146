"""Projections of the ledger: the accounts and transfers the core computed, upserted with the log.

Theory of operation
-------------------
The log service hands the store, with every batch, the ledger entities each event changed, as
the core left them (``ports.EntityChange``: ``account/<id>`` or ``transfer/<id>`` and the value
of ``LedgerState.entity``). The store does not re-derive anything: ``stage(entities, first_seq)``
keeps the **last** value of each key in the batch and turns it into one row in the column order
of ``tables.ledger_accounts`` / ``tables.ledger_transfers``; ``upsert(connection, staged)``
writes the rows in the append's transaction with one driver call per table:

- SQLite: ``executemany`` of ``INSERT ... VALUES (...) ON CONFLICT (id) DO UPDATE SET ...``;
- PostgreSQL: one ``INSERT ... SELECT * FROM unnest(<column arrays>) ON CONFLICT (id) DO UPDATE
  SET ...`` (a key appears once per statement, which PostgreSQL requires).

Seqs: a row's ``updated_seq`` is the seq of the last change of its key in the batch
(``first_seq + position``); a new row's ``opened_seq`` (account) or ``seq`` (transfer) is the seq
of the *first* change in the batch — the event that opened or created it — and an update keeps
the stored one. Amounts are ``int`` minor units; ``flags`` (a sorted list) and ``refs`` (an
object with sorted keys) are stored as canonical JSON text.

The read side (``account``, ``accounts_of``, ``transfer``, ``account_history``) serves
``ports.LedgerQueries`` for ``SqlEventStore``; ``account_of_row`` and ``transfer_of_row`` turn
rows (stored or staged) into the port's values, for the memory store too. An account's history
is the union of two index range scans, ``(debit_account_id, seq)`` and ``(credit_account_id,
seq)``, each stopped at ``limit`` rows, ordered by ``(seq, id)`` descending: a page costs
``O(limit · log n)`` however long the history is.

Errors: an entity value without the shape of the core's entities, or a ``None`` value (the
ledger never deletes an account or a transfer), raises ``ProjectionError``: the append is
rolled back. Invariant: after every append the rows equal ``LedgerState.entity`` of the replayed
log for every key (``tests/contract/test_ledger_projections.py``).
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import (
    Connection,
    Dialect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    or_,
    select,
    union_all,
)

from reclaim.adapters.db import tables
from reclaim.adapters.db.projections import ProjectionError
from reclaim.app.ports import EntityChange, ProjectedAccount, ProjectedTransfer
from reclaim.log.canonical import plain_encode

ACCOUNT_PREFIX: Final = "account/"
TRANSFER_PREFIX: Final = "transfer/"

#: Columns an upsert leaves as stored: the key, and the seq of the event that made the row.
_KEPT: Final = {"ledger_accounts": ("id", "opened_seq"), "ledger_transfers": ("id", "seq")}


@dataclass(slots=True)
class StagedLedger:
    """One row per changed key, in the column order of its table, in first-change order."""

    accounts: list[tuple[Any, ...]] = field(default_factory=list)
    transfers: list[tuple[Any, ...]] = field(default_factory=list)


def stage(entities: Sequence[EntityChange], first_seq: int) -> StagedLedger:
    """The rows ``entities`` leave behind (the last value of each key) at ``first_seq``."""
    first: dict[str, int] = {}
    last: dict[str, EntityChange] = {}
    for change in entities:
        first.setdefault(change.key, change.position)
        last[change.key] = change
    staged = StagedLedger()
    add_account, add_transfer = staged.accounts.append, staged.transfers.append
    for key, change in last.items():
        made, updated = first_seq + first[key], first_seq + change.position
        value = change.value
        if type(value) is not dict:
            what = "never deletes an entity" if value is None else "values are objects"
            raise ProjectionError(f"{key} at seq {updated}: the ledger {what}")
        is_account = key.startswith(ACCOUNT_PREFIX)
        if not is_account and not key.startswith(TRANSFER_PREFIX):
            raise ProjectionError(f"{key!r} is not a ledger entity")
        try:
            if is_account:
                add_account(_account_row(key[len(ACCOUNT_PREFIX) :], value, made, updated))
            else:
                add_transfer(_transfer_row(key[len(TRANSFER_PREFIX) :], value, made, updated))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectionError(f"{key} at seq {updated}: malformed value ({exc!r})") from None
    return staged


# The fields of the core's entities (``LedgerState.entity``), read in one call each.
_ACCOUNT_FIELDS: Final = operator.itemgetter(
    "owner", "asset", "purpose", "flags",
    "debits_posted", "credits_posted", "debits_pending", "credits_pending",
)  # fmt: skip
_TRANSFER_FIELDS: Final = operator.itemgetter(
    "kind", "debit_account_id", "credit_account_id", "asset", "amount_minor", "code", "refs",
    "pending_id", "timeout_seconds", "created_at", "expires_at", "status", "posted_minor",
)  # fmt: skip
_TEXT_FIELDS: Final = {"accounts": (0, 1, 2), "transfers": (0, 1, 2, 3, 5, 7, 9, 10, 11)}


def _account_row(ident: str, v: dict[str, Any], opened: int, updated: int) -> tuple[Any, ...]:
    fields = _ACCOUNT_FIELDS(v)
    owner, asset, purpose, flags, dp, cp, dpend, cpend = fields
    if not (type(owner) is str and type(asset) is str and type(purpose) is str):
        _check_text(fields, _TEXT_FIELDS["accounts"])  # raises, naming the value
    if type(flags) is not list:
        raise TypeError(f"flags {flags!r} is not a list")
    return (
        ident, owner, asset, purpose, _flags_json(tuple(flags)),
        int(dp), int(cp), int(dpend), int(cpend), opened, updated,
    )  # fmt: skip


def _transfer_row(ident: str, v: dict[str, Any], created: int, updated: int) -> tuple[Any, ...]:
    fields = _TRANSFER_FIELDS(v)
    (kind, debit, credit, asset, amount, code, refs, pending_id, timeout, created_at,
     expires_at, status, posted) = fields  # fmt: skip
    if not (
        type(kind) is str and type(debit) is str and type(credit) is str
        and type(asset) is str and type(code) is str and type(pending_id) is str
        and type(created_at) is str and type(expires_at) is str and type(status) is str
    ):  # fmt: skip
        _check_text(fields, _TEXT_FIELDS["transfers"])  # raises, naming the value
    if type(refs) is not dict:
        raise TypeError(f"refs {refs!r} is not an object")
    return (
        ident, created, kind, debit, credit, asset, int(amount), code,
        "{}" if not refs else _json(refs), pending_id, int(timeout), created_at, expires_at,
        status, int(posted), updated,
    )  # fmt: skip


def _check_text(fields: tuple[Any, ...], positions: tuple[int, ...]) -> None:
    for i in positions:
        if type(fields[i]) is not str:
            raise TypeError(f"{fields[i]!r} is not text")


@functools.lru_cache(maxsize=64)
def _flags_json(flags: tuple[str, ...]) -> str:
    """Flags are a few fixed names, so their JSON is cached (one text per combination)."""
    return _json(list(flags))


def _json(value: object) -> str:
    if not isinstance(value, list | dict):
        raise TypeError(f"{value!r} is not a list or an object")
    return plain_encode(value).decode()


# Rows to the port's values -------------------------------------------------------------------


def account_of_row(row: Sequence[Any]) -> ProjectedAccount:
    """A row of ``ledger_accounts`` (stored or staged) as the port's value."""
    (ident, owner, asset, purpose, flags, dp, cp, dpend, cpend, opened, updated) = row
    return ProjectedAccount(
        ident, owner, asset, purpose, tuple(json.loads(flags)), dp, cp, dpend, cpend,
        opened, updated,
    )  # fmt: skip


def transfer_of_row(row: Sequence[Any]) -> ProjectedTransfer:
    """A row of ``ledger_transfers`` (stored or staged) as the port's value."""
    (ident, seq, kind, debit, credit, asset, amount, code, refs, pending_id, timeout,
     created_at, expires_at, status, posted, updated) = row  # fmt: skip
    return ProjectedTransfer(
        ident, seq, kind, debit, credit, asset, amount, code, json.loads(refs), pending_id,
        timeout, created_at, expires_at, status, posted, updated,
    )  # fmt: skip


# Writing ---------------------------------------------------------------------------------------


def upsert(connection: Connection, staged: StagedLedger) -> None:
    """Write ``staged`` on ``connection`` (inside the append's transaction)."""
    _upsert_rows(connection, tables.ledger_accounts.name, staged.accounts)
    _upsert_rows(connection, tables.ledger_transfers.name, staged.transfers)


def _upsert_rows(connection: Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    dialect = connection.dialect
    sql = _upsert_sql(table, dialect)
    if dialect.name == "postgresql":
        connection.exec_driver_sql(sql, tuple(list(c) for c in zip(*rows, strict=True)))
    else:
        connection.exec_driver_sql(sql, rows)


@functools.cache
def _upsert_sql(table_name: str, dialect: Dialect) -> str:
    """``INSERT ... ON CONFLICT (id) DO UPDATE SET <every column but the kept ones>``."""
    table = tables.metadata.tables[table_name]
    names = [c.name for c in table.columns]
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n not in _KEPT[table_name])
    columns = ", ".join(names)
    if dialect.name == "postgresql":
        arrays = ", ".join(f"%b::{c.type.compile(dialect=dialect)}[]" for c in table.columns)
        values = f"SELECT * FROM unnest({arrays})"
    else:
        assert dialect.paramstyle == "qmark", f"paramstyle {dialect.paramstyle}"
        values = "VALUES (" + ", ".join("?" * len(names)) + ")"
    return f"INSERT INTO {table.name} ({columns}) {values} ON CONFLICT (id) DO UPDATE SET {updates}"


# Reading ---------------------------------------------------------------------------------------

_A: Final = tables.ledger_accounts
_T: Final = tables.ledger_transfers


def account(connection: Connection, account_id: str) -> ProjectedAccount | None:
    row = connection.execute(select(*_A.columns).where(_A.c.id == account_id)).first()
    return None if row is None else account_of_row(row)


def accounts_of(connection: Connection, owner: str) -> list[ProjectedAccount]:
    rows = connection.execute(select(*_A.columns).where(_A.c.owner == owner)).all()
    return sorted(map(account_of_row, rows), key=lambda a: a.id)  # Python's order, not collation


def transfer(connection: Connection, transfer_id: str) -> ProjectedTransfer | None:
    row = connection.execute(select(*_T.columns).where(_T.c.id == transfer_id)).first()
    return None if row is None else transfer_of_row(row)


def account_history(
    connection: Connection,
    account_id: str,
    before_seq: int | None,
    limit: int,
    before_id: str | None = None,
) -> list[ProjectedTransfer]:
    """The account's transfers newest first, after the cursor (``ports.LedgerQueries``).

    Ids are compared in code-point order on both databases (PostgreSQL: ``COLLATE "C"``; the
    default collation would order ``a-b`` and ``ab`` by locale rules), as Python does.
    """
    if limit <= 0:
        return []
    query = _history_query(connection.dialect.name, before_seq is not None, before_id is not None)
    values = {"account_id": account_id, "before_seq": before_seq, "before_id": before_id,
              "limit": limit}  # fmt: skip
    return [transfer_of_row(row) for row in connection.execute(query, values)]


@functools.cache
def _history_query(dialect_name: str, after_seq: bool, after_id: bool) -> Select[Any]:
    """The history statement of one cursor shape, built once with bound parameters: building
    the union of two subqueries and its cache key cost about a millisecond a call (the
    portal's claim page reads two histories per answer), executing it a few microseconds."""
    binary = _binary_text(dialect_name)
    limit = bindparam("limit", type_=Integer)
    arms = [
        _history_arm(side, after_seq, after_id, limit, binary)
        for side in (_T.c.debit_account_id, _T.c.credit_account_id)
    ]
    both = union_all(*arms).subquery()
    return select(*both.columns).order_by(both.c.seq.desc(), binary(both.c.id).desc()).limit(limit)


def _history_arm(
    side: Any, after_seq: bool, after_id: bool, limit: Any, binary: Callable[[Any], Any]
) -> Select[Any]:
    conditions = [side == bindparam("account_id", type_=String)]
    if after_seq:
        before_seq = bindparam("before_seq", type_=Integer)
        if not after_id:
            conditions.append(_T.c.seq < before_seq)
        else:
            before_id = bindparam("before_id", type_=String)
            conditions.append(
                and_(
                    _T.c.seq <= before_seq,
                    or_(_T.c.seq < before_seq, binary(_T.c.id) < before_id),
                )
            )
    arm = (
        select(*_T.columns)
        .where(*conditions)
        .order_by(_T.c.seq.desc(), binary(_T.c.id).desc())
        .limit(limit)
        .subquery()
    )
    return select(*arm.columns)


def _binary_text(dialect_name: str) -> Callable[[Any], Any]:
    """Text in code-point order: SQLite's default (BINARY); PostgreSQL's ``"C"`` collation."""
    if dialect_name == "postgresql":
        return lambda column: column.collate("C")
    return lambda column: column
