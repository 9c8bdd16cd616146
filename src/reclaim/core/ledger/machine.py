"""decide, check, evolve and the invariants of the ledger (see the package docstring)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from types import MappingProxyType
from typing import Any, Final, NamedTuple, assert_never, cast

from reclaim.core import limits
from reclaim.core.ledger.codes import AccountCode, EventCode, LedgerRejection, TransferCode
from reclaim.core.ledger.engine import (
    Overlay,
    account_ladder,
    apply_expiry,
    apply_transfer,
    assert_account,
    record_of,
    resolved,
    transfer_ladder,
)
from reclaim.core.ledger.model import (
    EXPIRED,
    EXPIRY,
    PENDING,
    PENDING_TRANSITIONS,
    POST_PENDING,
    POSTED,
    SINGLE,
    VOID_PENDING,
    VOIDED,
    Account,
    AccountResult,
    CreateTransfers,
    ExpirePending,
    LedgerCommand,
    LedgerState,
    OpenAccounts,
    StoredTransfer,
    Transfer,
    TransferResult,
    account_id,
    pending_row,
)
from reclaim.core.ledger.payloads import (
    ACCOUNTS_OPENED,
    PENDING_EXPIRED,
    TRANSFERS_CREATED,
    PayloadError,
    account_from_payload,
    account_payload,
    items_of,
    transfer_from_payload,
    transfer_payload,
)
from reclaim.core.limits import (
    accounts_per_command_max,
    expiries_per_event_max,
    transfers_per_command_max,
)
from reclaim.core.money import is_asset_code
from reclaim.core.payload_fields import malformed_as
from reclaim.core.times import event_time, format_time, is_time
from reclaim.core.types import JsonValue

_OK: Final = TransferCode.ok
_EXISTS: Final = TransferCode.exists
_LINKED: Final = TransferCode.linked_event_failed

Payload = dict[str, JsonValue]
Result = TransferResult | AccountResult


class Decision(NamedTuple):
    """What a command implies: the events to append (type, payload) and one result per item."""

    events: list[tuple[str, Payload]]
    results: tuple[Result, ...]


# decide -----------------------------------------------------------------------------------------


def decide_ledger(
    ledger: LedgerState, command: LedgerCommand, now: datetime | str
) -> Decision | LedgerRejection:
    """The events ``command`` implies at ``now``, and the answer for each of its items.

    ``now`` is the decision time, or already its event-time text (``Event.time``: RFC 3339 UTC
    with microseconds), which saves formatting it twice. Does not change ``ledger``: apply the
    events with ``evolve_ledger`` at the same time. Every event it returns passes
    ``check_ledger`` against ``ledger`` at that time (tests assert it).
    """
    time = event_time(now)
    match command:
        case CreateTransfers():
            return _decide_transfers(ledger, command, time)
        case OpenAccounts():
            return _decide_accounts(ledger, command)
        case ExpirePending():
            return _decide_expiry(ledger, time)
        case _:
            assert_never(command)


def _decide_transfers(
    ledger: LedgerState, command: CreateTransfers, time: str
) -> Decision | LedgerRejection:
    transfers = command.transfers
    if len(transfers) > transfers_per_command_max:
        return LedgerRejection(
            EventCode.batch_too_large, None, f"more than {transfers_per_command_max} transfers"
        )
    if not transfers:
        return Decision([], ())
    view = Overlay(ledger)
    atomic = command.atomic
    last = len(transfers) - 1
    results: list[TransferResult] = []
    payloads: list[JsonValue] = []
    for index, t in enumerate(transfers):
        _assert_transfer_types(t)
        code, record = transfer_ladder(view, t, time)
        if code is _OK:
            t = resolved(t, record)
            expires_at = _deadline(time, t.timeout_seconds) if t.kind == PENDING else ""
            if index < last:  # later transfers must see this one; none reads after the last
                stored = apply_transfer(view, t, time, expires_at)
            else:
                stored = record_of(t, time, expires_at)
            results.append(TransferResult(index, t.id, _OK, stored))
            payloads.append(transfer_payload(t, expires_at))
        else:
            results.append(TransferResult(index, t.id, code, record))
            if atomic and code is not _EXISTS:
                break
    if atomic:
        return _chain_outcome(ledger, transfers, results, payloads)
    payload: Payload = {"atomic": False, "transfers": payloads}
    return Decision([(TRANSFERS_CREATED, payload)] if payloads else [], tuple(results))


def _chain_outcome(
    ledger: LedgerState,
    transfers: tuple[Transfer, ...],
    results: list[TransferResult],
    payloads: list[JsonValue],
) -> Decision:
    """All or nothing: all ``ok`` → one event; all ``exists`` → the first answers; otherwise
    the first transfer that is not ``ok`` keeps its code and every other one is refused with
    ``linked_event_failed``. (An id used twice in a chain fails it with ``exists``, whose
    ``first`` is dropped: that first one is rolled back with the chain.)"""
    if len(results) == len(transfers):
        if all(r.code is _OK for r in results):
            payload: Payload = {"atomic": True, "transfers": payloads}
            return Decision([(TRANSFERS_CREATED, payload)], tuple(results))
        if all(r.code is _EXISTS for r in results):
            return Decision([], tuple(results))
    failed = next(r for r in results if r.code is not _OK)
    if failed.first is not None and ledger.transfers.get(failed.id) is not failed.first:
        failed = failed._replace(first=None)
    return Decision(
        [],
        tuple(
            failed if i == failed.position else TransferResult(i, t.id, _LINKED)
            for i, t in enumerate(transfers)
        ),
    )


def _decide_accounts(ledger: LedgerState, command: OpenAccounts) -> Decision | LedgerRejection:
    accounts = command.accounts
    if len(accounts) > accounts_per_command_max:
        return LedgerRejection(
            EventCode.batch_too_large, None, f"more than {accounts_per_command_max} accounts"
        )
    view = Overlay(ledger)
    results: list[AccountResult] = []
    payloads: list[JsonValue] = []
    for index, a in enumerate(accounts):
        assert isinstance(a.flags, frozenset), "account flags are a frozenset"
        code, existing = account_ladder(view, a)
        first = existing.copy() if existing is not None else None
        results.append(AccountResult(index, a.id, code, first))
        if code is AccountCode.ok:
            view.put_account(Account(a.id, a.asset, a.owner, a.purpose, a.flags))
            payloads.append(account_payload(a))
    if command.atomic and any(r.code is not AccountCode.ok for r in results):
        if all(r.code is AccountCode.exists for r in results):
            return Decision([], tuple(results))
        failed = next(r for r in results if r.code is not AccountCode.ok)
        if failed.id not in ledger.accounts:  # an id twice in the batch: the first is rolled back
            failed = failed._replace(first=None)
        return Decision(
            [],
            tuple(
                failed if r.position == failed.position
                else AccountResult(r.position, r.id, AccountCode.linked_event_failed)
                for r in results
            ),
        )  # fmt: skip
    payload: Payload = {"accounts": payloads}
    return Decision([(ACCOUNTS_OPENED, payload)] if payloads else [], tuple(results))


def _decide_expiry(ledger: LedgerState, time: str) -> Decision:
    due = sorted((at, ident) for ident, at in ledger.deadlines.items() if at <= time)
    due = due[:expiries_per_event_max]
    if not due:
        return Decision([], ())
    results: list[TransferResult] = []
    for index, (_, ident) in enumerate(due):
        p = ledger.transfers[ident]
        expired = StoredTransfer(p.transfer, p.created_at, p.expires_at, EXPIRED)
        results.append(TransferResult(index, ident, _OK, expired))
    payload: Payload = {"transfers": [ident for _, ident in due]}
    return Decision([(PENDING_EXPIRED, payload)], tuple(results))


def _deadline(time: str, timeout_seconds: int) -> str:
    """``expires_at`` of a pending transfer accepted at ``time``: ``""`` if it never expires."""
    if not timeout_seconds:
        return ""
    assert is_time(time), f"{time!r} is not an event time"
    return format_time(datetime.fromisoformat(time) + timedelta(seconds=timeout_seconds))


def _assert_transfer_types(t: Transfer) -> None:
    """A command built with the wrong types is a bug in the caller, not a refusal."""
    assert type(t.amount_minor) is int, f"amount_minor of {t.id!r} is not an int"
    assert type(t.timeout_seconds) is int, f"timeout_seconds of {t.id!r} is not an int"
    # Concrete types: an ABC isinstance check costs a micro-second on this hot path.
    assert isinstance(t.refs, (dict, MappingProxyType)), f"refs of {t.id!r} is not a mapping"


# check ------------------------------------------------------------------------------------------


@malformed_as(partial(LedgerRejection, EventCode.payload_malformed, None))
def check_ledger(
    ledger: LedgerState, event_type: str, payload: Mapping[str, JsonValue], time: str
) -> LedgerRejection | None:
    """The first reason a logged ledger event may not follow ``ledger`` at ``time``, or None.

    The verifier runs this on replay: an event the ladder would refuse — a transfer that
    overdraws, reuses an id, names no account, settles a settled pending, carries a wrong
    deadline, or a malformed payload — is detected here, before ``evolve_ledger``.
    """
    if event_type == TRANSFERS_CREATED:
        return _check_transfers(ledger, payload, time)
    if event_type == ACCOUNTS_OPENED:
        return _check_accounts(ledger, payload)
    if event_type == PENDING_EXPIRED:
        return _check_expiry(ledger, payload, time)
    return LedgerRejection(EventCode.event_type_unknown, None, repr(event_type))


def _check_transfers(
    ledger: LedgerState, payload: Mapping[str, JsonValue], time: str
) -> LedgerRejection | None:
    items = items_of(payload, "transfers", frozenset({"atomic"}))
    if not isinstance(payload["atomic"], bool):
        raise PayloadError("atomic is not a boolean")
    if len(items) > transfers_per_command_max:
        return LedgerRejection(EventCode.batch_too_large, None, f"{len(items)} transfers")
    view = Overlay(ledger)
    for index, item in enumerate(items):
        try:
            t, expires_at = transfer_from_payload(item)
        except PayloadError as exc:
            return LedgerRejection(EventCode.payload_malformed, index, str(exc))
        code, record = transfer_ladder(view, t, time)
        if code is not _OK:
            return LedgerRejection(code, index, f"transfer {t.id!r}")
        if resolved(t, record) != t:
            return LedgerRejection(
                EventCode.payload_malformed, index, f"{t.kind} {t.id!r} is not filled in"
            )
        expected = _deadline(time, t.timeout_seconds) if t.kind == PENDING else ""
        if expires_at != expected:
            return LedgerRejection(
                EventCode.expires_at_mismatch, index, f"{expires_at!r} != {expected!r}"
            )
        apply_transfer(view, t, time, expires_at)
    return None


def _check_accounts(
    ledger: LedgerState, payload: Mapping[str, JsonValue]
) -> LedgerRejection | None:
    items = items_of(payload, "accounts", frozenset())
    if len(items) > accounts_per_command_max:
        return LedgerRejection(EventCode.batch_too_large, None, f"{len(items)} accounts")
    view = Overlay(ledger)
    for index, item in enumerate(items):
        try:
            account = account_from_payload(item)
        except PayloadError as exc:
            return LedgerRejection(EventCode.payload_malformed, index, str(exc))
        code, _ = account_ladder(view, account)
        if code is not AccountCode.ok:
            return LedgerRejection(code, index, f"account {account.id!r}")
        view.put_account(account)
    return None


def _check_expiry(
    ledger: LedgerState, payload: Mapping[str, JsonValue], time: str
) -> LedgerRejection | None:
    items = items_of(payload, "transfers", frozenset())
    if len(items) > expiries_per_event_max:
        return LedgerRejection(EventCode.batch_too_large, None, f"{len(items)} expiries")
    seen: set[str] = set()
    for index, ident in enumerate(items):
        if not isinstance(ident, str):
            return LedgerRejection(EventCode.payload_malformed, index, "an id is not text")
        record = ledger.transfers.get(ident)
        if record is None or ident in seen:
            return LedgerRejection(EventCode.expiry_not_pending, index, repr(ident))
        cell = PENDING_TRANSITIONS[pending_row(record, time)][EXPIRY]
        if cell is EventCode.expiry_not_due:
            return LedgerRejection(cell, index, f"{ident!r} is due at {record.expires_at!r}")
        if isinstance(cell, EventCode):
            return LedgerRejection(cell, index, repr(ident))
        seen.add(ident)
    return None


# evolve -----------------------------------------------------------------------------------------


def evolve_ledger(
    ledger: LedgerState, event_type: str, payload: Mapping[str, JsonValue], time: str
) -> None:
    """Apply a checked ledger event (logged at ``time``) to ``ledger`` in place."""
    if event_type == TRANSFERS_CREATED:
        for item in cast("list[dict[str, Any]]", payload["transfers"]):
            t = Transfer(
                item["id"], item["debit_account_id"], item["credit_account_id"], item["asset"],
                int(item["amount_minor"]), item["code"], item["refs"], item["kind"],
                item["pending_id"], int(item["timeout_seconds"]),
            )  # fmt: skip
            apply_transfer(ledger, t, time, item["expires_at"])
    elif event_type == ACCOUNTS_OPENED:
        for account in cast("list[JsonValue]", payload["accounts"]):
            ledger.put_account(account_from_payload(account))
    elif event_type == PENDING_EXPIRED:
        for ident in cast("list[str]", payload["transfers"]):
            apply_expiry(ledger, ident)
    else:  # pragma: no cover - check_ledger refuses unknown types first
        raise AssertionError(f"evolve_ledger: unhandled event type {event_type}")


# invariants -------------------------------------------------------------------------------------


def assert_ledger_invariants(ledger: LedgerState) -> None:
    """Every invariant, recomputed from scratch: O(accounts + transfers).

    ``apply_transfer`` asserts the local ones after every change (the touched accounts' flags
    and ranges, the asset's totals balanced); this recomputes everything for checkpoints, the
    verifier and tests. A failure is a bug in reclaim, never a user error.
    """
    columns: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for ident, record in ledger.transfers.items():
        _assert_record(ledger, ident, record, columns)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for ident, a in ledger.accounts.items():
        assert ident == a.id == account_id(a.owner, a.asset, a.purpose), ident
        assert is_asset_code(a.asset), a.asset
        assert_account(a)
        assert list(a.balances()) == columns.get(ident, [0, 0, 0, 0]), (
            f"{ident}: balances {a.balances()} != recomputed from transfers {columns.get(ident)}"
        )
        sums = totals[a.asset]
        for i, value in enumerate(a.balances()):
            sums[i] += value
    assert set(columns) <= set(ledger.accounts), "a transfer names an unknown account"
    for asset, (dp, cp, dq, cq) in totals.items():
        assert dp == cp, f"{asset}: debits posted {dp} != credits posted {cp}"
        assert dq == cq, f"{asset}: debits pending {dq} != credits pending {cq}"
        assert dp + dq <= limits.integer_max, f"{asset}: total exceeds BIGINT"
    for asset in set(totals) | set(ledger.totals):
        kept = ledger.totals.get(asset)
        kept_sums = [0, 0, 0, 0] if kept is None else [
            kept.debits_posted, kept.credits_posted, kept.debits_pending, kept.credits_pending
        ]  # fmt: skip
        assert kept_sums == totals.get(asset, [0, 0, 0, 0]), f"{asset}: kept totals out of step"
    deadlines = {
        i: r.expires_at for i, r in ledger.transfers.items() if r.status == PENDING and r.expires_at
    }
    assert deadlines == ledger.deadlines, "deadline index out of step"


def _assert_record(
    ledger: LedgerState, ident: str, record: StoredTransfer, columns: dict[str, list[int]]
) -> None:
    """One stored transfer's invariants; adds its effect to the recomputed ``columns``."""
    t = record.transfer
    assert ident == t.id, ident
    assert 0 < t.amount_minor <= limits.integer_max, ident
    debit, credit = columns[t.debit_account_id], columns[t.credit_account_id]
    for side in (t.debit_account_id, t.credit_account_id):
        account = ledger.accounts.get(side)
        assert account is not None, f"{ident}: {side}"
        assert account.asset == t.asset, f"{ident}: {side}"
    if t.kind == PENDING:
        # pending ≤ reserved: a post takes at most what was reserved; only open ones count.
        assert 0 <= record.posted_minor <= t.amount_minor, ident
        assert (record.status == POSTED) == (record.posted_minor > 0), ident
        assert record.status in {PENDING, POSTED, VOIDED, EXPIRED}, ident
        if record.status == PENDING:
            debit[2] += t.amount_minor
            credit[3] += t.amount_minor
        return
    assert record.posted_minor == 0, ident
    assert not record.expires_at, ident
    if t.kind in {POST_PENDING, VOID_PENDING}:
        pending = ledger.transfers.get(t.pending_id)
        assert pending is not None, ident
        assert pending.transfer.kind == PENDING, ident
        assert pending.status == (POSTED if t.kind == POST_PENDING else VOIDED), ident
        if t.kind == POST_PENDING:
            assert pending.posted_minor == t.amount_minor, ident
        else:
            assert t.amount_minor == pending.transfer.amount_minor, ident
    if t.kind in {SINGLE, POST_PENDING}:
        assert record.status == POSTED, ident
        debit[0] += t.amount_minor
        credit[1] += t.amount_minor
    else:
        assert t.kind == VOID_PENDING, ident
        assert record.status == VOIDED, ident
