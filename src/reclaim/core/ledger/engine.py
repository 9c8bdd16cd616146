"""The validation ladders and the applier, written once for two views of the ledger.

The ladder reads, and the applier writes, through a ``View``: the ``LedgerState`` itself (for
``evolve_ledger``) or an ``Overlay`` on it (for ``decide_ledger`` and ``check_ledger``, which
must see the effect of the earlier transfers of a batch without touching the state). An overlay
copies an account or a total the first time it is written and is simply dropped afterwards.
"""

from __future__ import annotations

from typing import Final, Protocol

from reclaim.core.ledger.codes import AccountCode, TransferCode
from reclaim.core.ledger.model import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    DUE,
    EXPIRY,
    FLAGS,
    KINDS,
    OWNER_RE,
    PENDING,
    PENDING_TRANSITIONS,
    POST_PENDING,
    POSTED,
    PURPOSES,
    REASONS,
    REF_KINDS,
    REF_RE,
    SINGLE,
    TRANSFER_ID_RE,
    VOID_PENDING,
    VOIDED,
    Account,
    AssetTotals,
    LedgerState,
    StoredTransfer,
    Transfer,
    account_id,
    pending_row,
)
from reclaim.core.limits import integer_max, pending_timeout_max_seconds
from reclaim.core.money import is_asset_code

_C = TransferCode
_OK: Final = TransferCode.ok
_POST_OR_VOID: Final = frozenset({POST_PENDING, VOID_PENDING})


class View(Protocol):
    def account(self, ident: str) -> Account | None: ...
    def transfer(self, ident: str) -> StoredTransfer | None: ...
    def asset_totals(self, asset: str) -> AssetTotals | None: ...
    def writable_account(self, ident: str) -> Account: ...
    def writable_totals(self, asset: str) -> AssetTotals: ...
    def put_account(self, account: Account) -> None: ...
    def put_transfer(self, record: StoredTransfer) -> None: ...


class Overlay:
    """Uncommitted changes on top of a ``LedgerState``; reads fall through to it."""

    __slots__ = ("accounts", "base", "totals", "transfers")

    def __init__(self, base: LedgerState) -> None:
        self.base = base
        self.accounts: dict[str, Account] = {}
        self.transfers: dict[str, StoredTransfer] = {}
        self.totals: dict[str, AssetTotals] = {}

    def account(self, ident: str) -> Account | None:
        found = self.accounts.get(ident)
        return found if found is not None else self.base.accounts.get(ident)

    def transfer(self, ident: str) -> StoredTransfer | None:
        found = self.transfers.get(ident)
        return found if found is not None else self.base.transfers.get(ident)

    def asset_totals(self, asset: str) -> AssetTotals | None:
        found = self.totals.get(asset)
        return found if found is not None else self.base.totals.get(asset)

    def writable_account(self, ident: str) -> Account:
        found = self.accounts.get(ident)
        if found is None:
            found = self.accounts[ident] = self.base.accounts[ident].copy()
        return found

    def writable_totals(self, asset: str) -> AssetTotals:
        found = self.totals.get(asset)
        if found is None:
            base = self.base.totals.get(asset)
            found = self.totals[asset] = base.copy() if base is not None else AssetTotals()
        return found

    def put_account(self, account: Account) -> None:
        self.accounts[account.id] = account

    def put_transfer(self, record: StoredTransfer) -> None:
        self.transfers[record.transfer.id] = record


# The transfer ladder ----------------------------------------------------------------------------


def transfer_ladder(
    view: View, t: Transfer, now: str
) -> tuple[TransferCode, StoredTransfer | None]:
    """The first reason ``t`` may not be created at ``now`` (event time text), or ``ok``.

    The record returned with it: for ``exists*`` the transfer stored under the id, for an ``ok``
    post/void the pending transfer it settles, else ``None``.
    """
    ident = t.id
    if not ident:
        return _C.id_must_not_be_empty, None
    if TRANSFER_ID_RE.fullmatch(ident) is None:
        return _C.id_malformed, None
    kind = t.kind
    if kind not in KINDS:
        return _C.kind_unknown, None
    existing = view.transfer(ident)
    if existing is not None:
        return _compare_with_existing(t, existing.transfer), existing
    code = _static_rungs(t, kind in _POST_OR_VOID)
    if code is not _OK:
        return code, None
    return _state_rungs(view, t, now)


def _compare_with_existing(t: Transfer, e: Transfer) -> TransferCode:
    """Which field of a retried transfer differs from the one accepted under its id.

    A post/void may leave accounts, asset (and a void its amount) empty: those match anything,
    since the stored one has them filled in from its pending transfer.
    """
    if t.kind != e.kind:
        return _C.exists_with_different_kind
    if t.pending_id != e.pending_id:
        return _C.exists_with_different_pending_id
    if t.timeout_seconds != e.timeout_seconds:
        return _C.exists_with_different_timeout
    settles = t.kind in _POST_OR_VOID
    if t.debit_account_id != e.debit_account_id and (t.debit_account_id or not settles):
        return _C.exists_with_different_debit_account_id
    if t.credit_account_id != e.credit_account_id and (t.credit_account_id or not settles):
        return _C.exists_with_different_credit_account_id
    if t.amount_minor != e.amount_minor and (t.amount_minor or t.kind != VOID_PENDING):
        return _C.exists_with_different_amount
    if t.asset != e.asset and (t.asset or not settles):
        return _C.exists_with_different_asset
    if t.code != e.code:
        return _C.exists_with_different_code
    if t.refs != e.refs:
        return _C.exists_with_different_refs
    return _C.exists


def _static_rungs(t: Transfer, settles: bool) -> TransferCode:
    """The rungs that look at the transfer alone."""
    debit, credit = t.debit_account_id, t.credit_account_id
    if not settles:
        if not debit:
            return _C.debit_account_id_must_not_be_empty
        if not credit:
            return _C.credit_account_id_must_not_be_empty
    if debit and debit == credit:
        return _C.accounts_must_be_different
    if settles:
        if not t.pending_id:
            return _C.pending_id_must_not_be_empty
        if t.pending_id == t.id:
            return _C.pending_id_must_be_different
    elif t.pending_id:
        return _C.pending_id_must_be_empty
    timeout = t.timeout_seconds
    if timeout and t.kind != PENDING:
        return _C.timeout_reserved_for_pending_transfer
    if not 0 <= timeout <= pending_timeout_max_seconds:
        return _C.timeout_out_of_range
    if (t.asset or not settles) and not is_asset_code(t.asset):
        return _C.asset_unknown
    if t.code not in REASONS:
        return _C.code_unknown
    refs = t.refs
    if refs:  # most transfers have none: no view of an empty mapping to build
        for kind, ref in refs.items():
            if kind not in REF_KINDS:
                return _C.ref_kind_unknown
            if REF_RE.fullmatch(ref) is None:
                return _C.ref_malformed
    amount = t.amount_minor
    if amount < 0:
        return _C.amount_must_not_be_negative
    if amount == 0 and t.kind != VOID_PENDING:
        return _C.amount_must_not_be_zero
    if amount > integer_max:
        return _C.amount_exceeds_bigint
    return _OK


def _state_rungs(view: View, t: Transfer, now: str) -> tuple[TransferCode, StoredTransfer | None]:
    """The rungs that look at the ledger."""
    dr = cr = None
    if t.debit_account_id:
        dr = view.account(t.debit_account_id)
        if dr is None:
            return _C.debit_account_not_found, None
    if t.credit_account_id:
        cr = view.account(t.credit_account_id)
        if cr is None:
            return _C.credit_account_not_found, None
    if dr is not None and cr is not None and dr.asset != cr.asset:
        return _C.accounts_must_have_the_same_asset, None
    known = dr if dr is not None else cr
    if t.asset and known is not None and t.asset != known.asset:
        return _C.transfer_must_have_the_same_asset_as_accounts, None
    if t.kind in _POST_OR_VOID:
        return _settling_rungs(view, t, now)
    assert dr is not None
    assert cr is not None
    amount = t.amount_minor
    totals = view.asset_totals(t.asset)
    if totals is not None and totals.debits_posted + totals.debits_pending + amount > integer_max:
        return _C.overflows_asset_total, None
    if (
        DEBITS_MUST_NOT_EXCEED_CREDITS in dr.flags
        and dr.debits_posted + dr.debits_pending + amount > dr.credits_posted
    ):
        return _C.exceeds_credits, None
    if (
        CREDITS_MUST_NOT_EXCEED_DEBITS in cr.flags
        and cr.credits_posted + cr.credits_pending + amount > cr.debits_posted
    ):
        return _C.exceeds_debits, None
    return _OK, None


def _settling_rungs(
    view: View, t: Transfer, now: str
) -> tuple[TransferCode, StoredTransfer | None]:
    """The rungs of a post or void: the pending transfer it names, and that one's state."""
    p_record = view.transfer(t.pending_id)
    if p_record is None:
        return _C.pending_transfer_not_found, None
    p = p_record.transfer
    if p.kind != PENDING:
        return _C.pending_transfer_not_pending, None
    if t.debit_account_id and t.debit_account_id != p.debit_account_id:
        return _C.pending_transfer_has_different_debit_account_id, None
    if t.credit_account_id and t.credit_account_id != p.credit_account_id:
        return _C.pending_transfer_has_different_credit_account_id, None
    if t.asset and t.asset != p.asset:
        return _C.pending_transfer_has_different_asset, None
    if t.kind == POST_PENDING:
        if t.amount_minor > p.amount_minor:
            return _C.exceeds_pending_transfer_amount, None
    elif t.amount_minor and t.amount_minor != p.amount_minor:
        return _C.pending_transfer_has_different_amount, None
    cell = PENDING_TRANSITIONS[pending_row(p_record, now)][t.kind]
    if isinstance(cell, TransferCode):
        return cell, None
    return _OK, p_record


def resolved(t: Transfer, pending: StoredTransfer | None) -> Transfer:
    """``t`` with the fields a post/void inherits from its pending transfer filled in."""
    if pending is None:
        return t
    p = pending.transfer
    amount = t.amount_minor or p.amount_minor
    if (
        t.debit_account_id == p.debit_account_id
        and t.credit_account_id == p.credit_account_id
        and t.asset == p.asset
        and amount == t.amount_minor
    ):
        return t
    return Transfer(
        t.id, p.debit_account_id, p.credit_account_id, p.asset, amount,
        t.code, t.refs, t.kind, t.pending_id, t.timeout_seconds,
    )  # fmt: skip


# The applier ------------------------------------------------------------------------------------


def record_of(t: Transfer, created_at: str, expires_at: str) -> StoredTransfer:
    """The record an accepted transfer (post/void resolved) is stored as."""
    kind = t.kind
    if kind == PENDING:
        return StoredTransfer(t, created_at, expires_at, PENDING)
    return StoredTransfer(t, created_at, "", VOIDED if kind == VOID_PENDING else POSTED)


def apply_transfer(view: View, t: Transfer, created_at: str, expires_at: str) -> StoredTransfer:
    """Apply a transfer that passed the ladder (post/void resolved); return its record."""
    amount = t.amount_minor
    kind = t.kind
    if kind in (SINGLE, POST_PENDING):
        if kind == POST_PENDING:
            _settle(view, t.pending_id, moved(PENDING, POST_PENDING), amount)
        dr, cr, totals = _move(view, t, amount, pending=False)
    elif kind == PENDING:
        dr, cr, totals = _move(view, t, amount, pending=True)
    else:
        assert kind == VOID_PENDING, kind
        dr, cr, totals = _settle(view, t.pending_id, moved(PENDING, VOID_PENDING), 0)
    record = record_of(t, created_at, expires_at)
    view.put_transfer(record)
    assert_account(dr)
    assert_account(cr)
    assert totals.debits_posted == totals.credits_posted, t.asset
    assert totals.debits_pending == totals.credits_pending, t.asset
    assert totals.debits_posted + totals.debits_pending <= integer_max, t.asset
    return record


def moved(row: str, column: str) -> str:
    """The status ``PENDING_TRANSITIONS`` moves a pending transfer in ``row`` to by ``column``
    (a cell the ladder accepted: never a code)."""
    cell = PENDING_TRANSITIONS[row][column]
    assert isinstance(cell, str), (row, column, cell)
    return cell


def _settle(
    view: View, pending_id: str, status: str, posted_minor: int
) -> tuple[Account, Account, AssetTotals]:
    """Close an open pending transfer: release its reservation, record how it ended, and
    return its (writable) accounts and asset totals."""
    pending = view.transfer(pending_id)
    assert pending is not None, "checked before apply"
    assert pending.status == PENDING, "checked before apply"
    view.put_transfer(pending._replace(status=status, posted_minor=posted_minor))
    return _move(view, pending.transfer, -pending.transfer.amount_minor, pending=True)


def apply_expiry(view: View, ident: str) -> StoredTransfer:
    """Release an open pending transfer whose deadline has passed; return its new record."""
    dr, cr, _ = _settle(view, ident, moved(DUE, EXPIRY), 0)
    assert_account(dr)
    assert_account(cr)
    record = view.transfer(ident)
    assert record is not None
    return record


def _move(
    view: View, t: Transfer, amount: int, *, pending: bool
) -> tuple[Account, Account, AssetTotals]:
    """Add ``amount`` (negative: a release) to the debits of ``t``'s debit account, the credits
    of its credit account and both sides of its asset's totals, pending or posted; return the
    three (writable) records."""
    dr = view.writable_account(t.debit_account_id)
    cr = view.writable_account(t.credit_account_id)
    totals = view.writable_totals(t.asset)
    if pending:
        dr.debits_pending += amount
        cr.credits_pending += amount
        totals.debits_pending += amount
        totals.credits_pending += amount
    else:
        dr.debits_posted += amount
        cr.credits_posted += amount
        totals.debits_posted += amount
        totals.credits_posted += amount
    return dr, cr, totals


def assert_account(a: Account) -> None:
    """One account's invariants: columns in range, and its flag respected counting pending."""
    assert 0 <= a.debits_posted <= integer_max, a.id
    assert 0 <= a.credits_posted <= integer_max, a.id
    assert 0 <= a.debits_pending <= integer_max, a.id
    assert 0 <= a.credits_pending <= integer_max, a.id
    if DEBITS_MUST_NOT_EXCEED_CREDITS in a.flags:
        assert a.debits_posted + a.debits_pending <= a.credits_posted, f"{a.id} overdrawn"
    if CREDITS_MUST_NOT_EXCEED_DEBITS in a.flags:
        assert a.credits_posted + a.credits_pending <= a.debits_posted, f"{a.id} overcredited"


# The account ladder -----------------------------------------------------------------------------


def account_ladder(view: View, a: Account) -> tuple[AccountCode, Account | None]:
    """The first reason ``a`` may not be opened, or ``ok``; with the open account for exists*."""
    if a.id != account_id(a.owner, a.asset, a.purpose):
        return AccountCode.id_malformed, None
    if OWNER_RE.fullmatch(a.owner) is None:
        return AccountCode.owner_malformed, None
    if not is_asset_code(a.asset):
        return AccountCode.asset_unknown, None
    if a.purpose not in PURPOSES:
        return AccountCode.purpose_unknown, None
    if not a.flags <= FLAGS:
        return AccountCode.flag_unknown, None
    if DEBITS_MUST_NOT_EXCEED_CREDITS in a.flags and CREDITS_MUST_NOT_EXCEED_DEBITS in a.flags:
        return AccountCode.flags_are_mutually_exclusive, None
    if a.debits_posted or a.credits_posted or a.debits_pending or a.credits_pending:
        return AccountCode.balances_must_be_zero, None
    existing = view.account(a.id)
    if existing is not None:
        if existing.flags != a.flags:
            return AccountCode.exists_with_different_flags, existing
        return AccountCode.exists, existing
    return AccountCode.ok, None
