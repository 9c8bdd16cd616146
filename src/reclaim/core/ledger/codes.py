"""The ledger's answers: ordered result codes, and which refusals are transient.

Codes are ordered by **precedence**, as TigerBeetle's ``CreateTransferResult``: when a transfer
is wrong in several ways, the validation ladder returns the code that comes first here. The
enum's values are that order; they are published (API answers, verifier reports), so a new code
is inserted with a value between its neighbours' and no value is ever reused.

A refusal is **transient** when it depends on the ledger's changing state (balances, whether an
account or a pending transfer exists yet): the same transfer, retried with the same id, may
succeed later. Every other refusal is **permanent**: the request is wrong and always will be.
Refused transfers leave no trace in the log, so their ids stay free (unlike TigerBeetle's
``id_already_failed``): a client that wants "the first answer" for a refused transfer keeps it
itself; an accepted transfer's id is remembered and answers ``exists`` forever.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from reclaim.core.domain import CodedRejection
from reclaim.core.kinds import B, C, Kind, N, kind_table


class TransferCode(enum.Enum):
    """The result of one transfer, in precedence order (first failure wins)."""

    ok = 0
    #: Another transfer of the same atomic chain failed, so none applied.
    linked_event_failed = 1
    # The id, which every later rung relies on.
    id_must_not_be_empty = 2
    id_malformed = 3
    kind_unknown = 4
    # Idempotency: the id was accepted before. Compared field by field, the first that differs.
    exists_with_different_kind = 10
    exists_with_different_pending_id = 11
    exists_with_different_timeout = 12
    exists_with_different_debit_account_id = 13
    exists_with_different_credit_account_id = 14
    exists_with_different_amount = 15
    exists_with_different_asset = 16
    exists_with_different_code = 17
    exists_with_different_refs = 18
    #: The same transfer was accepted before; the result carries that first answer.
    exists = 19
    # The transfer on its own.
    debit_account_id_must_not_be_empty = 30
    credit_account_id_must_not_be_empty = 31
    accounts_must_be_different = 32
    pending_id_must_be_empty = 33
    pending_id_must_not_be_empty = 34
    pending_id_must_be_different = 35
    timeout_reserved_for_pending_transfer = 36
    timeout_out_of_range = 37
    asset_unknown = 38
    code_unknown = 39
    ref_kind_unknown = 40
    ref_malformed = 41
    amount_must_not_be_negative = 42
    amount_must_not_be_zero = 43
    amount_exceeds_bigint = 44
    # The transfer against the ledger.
    debit_account_not_found = 50
    credit_account_not_found = 51
    accounts_must_have_the_same_asset = 52
    transfer_must_have_the_same_asset_as_accounts = 53
    pending_transfer_not_found = 54
    pending_transfer_not_pending = 55
    pending_transfer_has_different_debit_account_id = 56
    pending_transfer_has_different_credit_account_id = 57
    pending_transfer_has_different_asset = 58
    exceeds_pending_transfer_amount = 59
    pending_transfer_has_different_amount = 60
    pending_transfer_already_posted = 61
    pending_transfer_already_voided = 62
    pending_transfer_expired = 63
    # Balances.
    #: The asset's total debits (posted + pending) would exceed BIGINT; every account's columns
    #: and every sum over accounts are bounded by that total.
    overflows_asset_total = 70
    #: The debit account has ``debits_must_not_exceed_credits`` and too little left.
    exceeds_credits = 71
    #: The credit account has ``credits_must_not_exceed_debits`` and too little room.
    exceeds_debits = 72


class AccountCode(enum.Enum):
    """The result of opening one account, in precedence order."""

    ok = 0
    #: Another account of the same atomic batch failed, so none opened.
    linked_event_failed = 1
    #: The id is not ``<owner>/<asset>/<purpose>`` of the account's own fields.
    id_malformed = 2
    owner_malformed = 3
    asset_unknown = 4
    purpose_unknown = 5
    flag_unknown = 6
    flags_are_mutually_exclusive = 7
    #: An account opens with all four balance columns at zero.
    balances_must_be_zero = 8
    exists_with_different_flags = 10
    #: The same account is open already; the result carries it.
    exists = 11


class EventCode(enum.Enum):
    """Why a whole ledger command or logged ledger event is refused (not one item of it)."""

    #: The event type is not a ledger event type.
    event_type_unknown = 1
    #: The payload does not have the shape of its type (missing or extra fields, wrong types,
    #: integers that are not canonical decimal text).
    payload_malformed = 2
    #: A command or an event with more items than its named bound.
    batch_too_large = 3
    #: A logged pending transfer whose ``expires_at`` is not its event time plus its timeout.
    expires_at_mismatch = 4
    #: ``ledger.pending_expired`` names a transfer that is not an open pending transfer (or
    #: names it twice).
    expiry_not_pending = 5
    #: ``ledger.pending_expired`` names a pending transfer whose deadline is after the event.
    expiry_not_due = 6


LedgerCode = TransferCode | AccountCode | EventCode


class LedgerRejection(CodedRejection[LedgerCode]):
    """A refused ledger command or logged event: the code, which item (if one), and why."""

    __slots__ = ()


_TRANSIENT_TRANSFER: Final[dict[TransferCode, bool]] = {
    # Depend on the ledger's state; the same request may succeed later.
    TransferCode.linked_event_failed: True,  # as transient as the chain member that failed
    TransferCode.debit_account_not_found: True,
    TransferCode.credit_account_not_found: True,
    TransferCode.pending_transfer_not_found: True,
    TransferCode.overflows_asset_total: True,  # voids and expiries lower the pending total
    TransferCode.exceeds_credits: True,
    TransferCode.exceeds_debits: True,
    # The request itself is wrong, or contradicts a fact that never changes.
    TransferCode.id_must_not_be_empty: False,
    TransferCode.id_malformed: False,
    TransferCode.kind_unknown: False,
    TransferCode.exists_with_different_kind: False,
    TransferCode.exists_with_different_pending_id: False,
    TransferCode.exists_with_different_timeout: False,
    TransferCode.exists_with_different_debit_account_id: False,
    TransferCode.exists_with_different_credit_account_id: False,
    TransferCode.exists_with_different_amount: False,
    TransferCode.exists_with_different_asset: False,
    TransferCode.exists_with_different_code: False,
    TransferCode.exists_with_different_refs: False,
    TransferCode.exists: False,
    TransferCode.debit_account_id_must_not_be_empty: False,
    TransferCode.credit_account_id_must_not_be_empty: False,
    TransferCode.accounts_must_be_different: False,
    TransferCode.pending_id_must_be_empty: False,
    TransferCode.pending_id_must_not_be_empty: False,
    TransferCode.pending_id_must_be_different: False,
    TransferCode.timeout_reserved_for_pending_transfer: False,
    TransferCode.timeout_out_of_range: False,
    TransferCode.asset_unknown: False,
    TransferCode.code_unknown: False,
    TransferCode.ref_kind_unknown: False,
    TransferCode.ref_malformed: False,
    TransferCode.amount_must_not_be_negative: False,
    TransferCode.amount_must_not_be_zero: False,
    TransferCode.amount_exceeds_bigint: False,
    TransferCode.accounts_must_have_the_same_asset: False,  # an account's asset never changes
    TransferCode.transfer_must_have_the_same_asset_as_accounts: False,
    TransferCode.pending_transfer_not_pending: False,
    TransferCode.pending_transfer_has_different_debit_account_id: False,
    TransferCode.pending_transfer_has_different_credit_account_id: False,
    TransferCode.pending_transfer_has_different_asset: False,
    TransferCode.exceeds_pending_transfer_amount: False,
    TransferCode.pending_transfer_has_different_amount: False,
    TransferCode.pending_transfer_already_posted: False,  # a settled pending stays settled
    TransferCode.pending_transfer_already_voided: False,
    TransferCode.pending_transfer_expired: False,
}
assert set(_TRANSIENT_TRANSFER) == set(TransferCode) - {TransferCode.ok}, "transient: exhaustive"


def transient(code: TransferCode | AccountCode) -> bool:
    """Whether retrying the identical request (same id) can produce a different answer.

    Opening accounts has no transient refusal: accounts are never closed, and every other check
    looks only at the request.
    """
    assert code.name != "ok", "ok is not a refusal"
    if isinstance(code, AccountCode):
        return False
    return _TRANSIENT_TRANSFER[code]


#: Answers that accept a command (they have no kind).
ACCEPTED: Final[frozenset[LedgerCode]] = frozenset(
    {TransferCode.ok, TransferCode.exists, AccountCode.ok, AccountCode.exists}
)


#: The kind of every refusal (``reclaim.core.kinds``: what the API maps to a status, once).
KINDS: Final[Mapping[LedgerCode, Kind]] = kind_table(
    (
        TransferCode,
        AccountCode,
        EventCode,
    ),
    {
        TransferCode.linked_event_failed: C,
        TransferCode.id_must_not_be_empty: B,
        TransferCode.id_malformed: B,
        TransferCode.kind_unknown: B,
        TransferCode.exists_with_different_kind: C,
        TransferCode.exists_with_different_pending_id: C,
        TransferCode.exists_with_different_timeout: C,
        TransferCode.exists_with_different_debit_account_id: C,
        TransferCode.exists_with_different_credit_account_id: C,
        TransferCode.exists_with_different_amount: C,
        TransferCode.exists_with_different_asset: C,
        TransferCode.exists_with_different_code: C,
        TransferCode.exists_with_different_refs: C,
        TransferCode.debit_account_id_must_not_be_empty: B,
        TransferCode.credit_account_id_must_not_be_empty: B,
        TransferCode.accounts_must_be_different: B,
        TransferCode.pending_id_must_be_empty: B,
        TransferCode.pending_id_must_not_be_empty: B,
        TransferCode.pending_id_must_be_different: B,
        TransferCode.timeout_reserved_for_pending_transfer: B,
        TransferCode.timeout_out_of_range: B,
        TransferCode.asset_unknown: B,
        TransferCode.code_unknown: B,
        TransferCode.ref_kind_unknown: B,
        TransferCode.ref_malformed: B,
        TransferCode.amount_must_not_be_negative: B,
        TransferCode.amount_must_not_be_zero: B,
        TransferCode.amount_exceeds_bigint: B,
        TransferCode.debit_account_not_found: N,
        TransferCode.credit_account_not_found: N,
        TransferCode.accounts_must_have_the_same_asset: B,
        TransferCode.transfer_must_have_the_same_asset_as_accounts: B,
        TransferCode.pending_transfer_not_found: N,
        TransferCode.pending_transfer_not_pending: C,
        TransferCode.pending_transfer_has_different_debit_account_id: C,
        TransferCode.pending_transfer_has_different_credit_account_id: C,
        TransferCode.pending_transfer_has_different_asset: C,
        TransferCode.exceeds_pending_transfer_amount: C,
        TransferCode.pending_transfer_has_different_amount: C,
        TransferCode.pending_transfer_already_posted: C,
        TransferCode.pending_transfer_already_voided: C,
        TransferCode.pending_transfer_expired: C,
        TransferCode.overflows_asset_total: C,
        TransferCode.exceeds_credits: C,
        TransferCode.exceeds_debits: C,
        AccountCode.linked_event_failed: C,
        AccountCode.id_malformed: B,
        AccountCode.owner_malformed: B,
        AccountCode.asset_unknown: B,
        AccountCode.purpose_unknown: B,
        AccountCode.flag_unknown: B,
        AccountCode.flags_are_mutually_exclusive: B,
        AccountCode.balances_must_be_zero: B,
        AccountCode.exists_with_different_flags: C,
        EventCode.event_type_unknown: B,
        EventCode.payload_malformed: B,
        EventCode.batch_too_large: B,
        EventCode.expires_at_mismatch: B,
        EventCode.expiry_not_pending: C,
        EventCode.expiry_not_due: C,
    },
    ACCEPTED,
)
