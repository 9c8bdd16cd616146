"""The withdrawals core's answers: ordered result codes, one enum per validation ladder.

As in ``reclaim.core.ledger.codes`` and ``reclaim.core.claims.codes``, codes are ordered by
**precedence**: when a command is wrong in several ways, its ladder returns the code that comes
first in its enum. The values are that order; they are published (API answers, verifier
reports), so a new code is inserted with a value between its neighbours' and no value is ever
reused. Each code reads as a sentence about the command (``kyc_not_approved``,
``insufficient_funds``, ``withdrawal_already_confirmed``).

| enum            | ladder of                                                    |
| --------------- | ------------------------------------------------------------ |
| ``EventCode``   | a whole command or logged event (type, shape, batch size)    |
| ``FeesCode``    | each rail's terms of ``withdrawal.fees_set``                 |
| ``RequestCode`` | ``withdrawal.requested``                                     |
| ``SettleCode``  | ``withdrawal.confirmed`` and ``withdrawal.failed``           |
| ``DestinationCode`` | ``destination.added``, ``.confirmed``, ``.removed``      |

Some answers accept a command without an event (``ACCEPTED``): the thing asked for is already
so (``exists``), like the ledger's ``exists``: a retried request, confirmation or failure with
the same fields gets ``exists`` and appends nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from reclaim.core.domain import CodedRejection
from reclaim.core.kinds import B, C, F, Kind, N, U, kind_table


class EventCode(enum.Enum):
    """Why a whole command or a logged event is refused (not one item of it)."""

    ok = 0
    #: The event type is not a withdrawals event type.
    event_type_unknown = 1
    #: The payload does not have the shape of its type (missing or extra fields, wrong types,
    #: integers that are not canonical decimal text, an empty or unsorted list).
    payload_malformed = 2
    #: A command or an event with more items than its named bound.
    batch_too_large = 3
    #: A ``withdrawal.requested`` of version 1 (no destination rule) in a log that uses
    #: withdrawal destinations: no downgrade past the second factor (issue 9, finding 7).
    event_version_retired = 4
    #: A plain ledger command or event creates a transfer in the ``wd:`` namespace: a
    #: withdrawal's reservations move only with its own events.
    transfer_id_reserved = 5


class FeesCode(enum.Enum):
    """The answer for one rail's terms (fee schedule, minimum, timeout, accounts)."""

    ok = 0
    #: Not a rail of ``model.RAIL_ASSETS``.
    rail_unknown = 1
    #: The rail does not pay out this asset (sepa: EUR, hk_wire: USD, usdc: USDC).
    asset_not_served_by_rail = 2
    #: More tiers than ``fee_tiers_max``, a bound of zero or less, or bounds not strictly
    #: ascending.
    tiers_malformed = 3
    #: A fixed fee or cap that is negative or beyond BIGINT.
    fee_out_of_range = 4
    #: Basis points outside 0 … 10,000.
    bps_out_of_range = 5
    #: ``above_base`` is neither ``whole`` nor ``excess``.
    base_unknown = 6
    #: The cap is below the fixed fee above the last tier (it would cut the fixed part).
    cap_below_fixed = 7
    #: The minimum amount is below one minor unit or beyond BIGINT.
    minimum_out_of_range = 8
    #: The pending timeout is not 1 … ``withdrawal_timeout_max_seconds`` (a withdrawal always
    #: expires, so reserved money never hangs forever).
    timeout_out_of_range = 9
    #: The settlement account is not an open ``rail_settlement`` account of the rail's asset.
    settlement_account_invalid = 10
    #: The fee account is not an open ``fees`` account of the rail's asset.
    fee_account_invalid = 11
    #: Two terms for the same rail in one command or event.
    rail_duplicated = 12
    #: The identical terms are in force already: nothing to change.
    exists = 13


class RequestCode(enum.Enum):
    """The answer to a withdrawal request, in precedence order."""

    ok = 0
    # The request on its own.
    withdrawal_id_malformed = 1
    creditor_name_invalid = 2
    rail_unknown = 3
    asset_not_served_by_rail = 4
    #: Not 1 … BIGINT minor units.
    amount_out_of_range = 5
    #: A fee that is negative or beyond BIGINT (or amount + fee beyond BIGINT).
    fee_out_of_range = 6
    #: The beneficiary is not a 64-hex commitment (the account itself stays in the vault).
    beneficiary_malformed = 7
    # Idempotency: the id was requested before.
    #: The same id with another creditor, rail, asset, amount, fee or beneficiary.
    exists_with_different_fields = 10
    #: The same request was accepted before (nothing to append).
    exists = 11
    # The destination (version 2; issue 9, finding 7: a second factor on the money path).
    #: The creditor has no destination of this rail and beneficiary that its proved e-mail
    #: confirmed (never added, still pending, or removed).
    destination_not_confirmed = 15
    #: The destination was confirmed, but its cooling-off time has not passed yet.
    destination_cooling_off = 16
    # The request against the state.
    kyc_not_approved = 20
    #: No terms (fee schedule, accounts) have been set for the rail.
    rail_not_configured = 21
    #: The creditor has no linked claim, so no jurisdiction is known.
    jurisdiction_unknown = 22
    #: A jurisdiction of the creditor is sanctioned at the request date: nothing is paid out.
    jurisdiction_sanctioned = 23
    #: A jurisdiction of the creditor has no policy entry in force (default: no rail).
    jurisdiction_unlisted = 24
    #: The policy in force does not let this rail serve every jurisdiction of the creditor.
    rail_not_allowed = 25
    #: The amount is below the rail's minimum.
    amount_below_minimum = 26
    #: The fee given is not the fee the rail's schedule computes.
    fee_mismatch = 27
    #: The creditor has ``open_withdrawals_per_creditor_max`` withdrawals in flight.
    open_withdrawals_exceeded = 28
    #: The creditor has no ``creditor_available`` account of the asset.
    account_not_found = 29
    #: Amount + fee exceed what the creditor's account has available (reservations count).
    insufficient_funds = 30
    #: The rail's settlement account would send out more than came in through it.
    rail_funds_insufficient = 31
    #: The ledger's own ladder refused the derived transfers for another reason (the detail
    #: carries the ledger's code).
    ledger_refused = 32


class SettleCode(enum.Enum):
    """The answer to confirming or failing a withdrawal, in precedence order."""

    ok = 0
    withdrawal_id_malformed = 1
    #: The rail's reference (bank end-to-end id, transaction hash) is not
    #: ``[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}``.
    rail_reference_malformed = 2
    #: A failure reason that is not one of ``model.FAILURE_REASONS``.
    reason_unknown = 3
    withdrawal_not_found = 10
    #: The same confirmation (same reference) or failure (same reason) was recorded before.
    exists = 11
    withdrawal_already_confirmed = 12
    withdrawal_already_failed = 13
    #: The withdrawal's pending transfers expired (or their deadline has passed): the funds
    #: are, or are about to be, back with the creditor.
    withdrawal_expired = 14
    #: The ledger's own ladder refused the derived posts or voids.
    ledger_refused = 15


class DestinationCode(enum.Enum):
    """The answer to adding, confirming or removing a withdrawal destination, in precedence
    order."""

    ok = 0
    #: Not ``D`` and 32 lower-case hex digits.
    destination_id_malformed = 1
    creditor_name_invalid = 2
    rail_unknown = 3
    #: The beneficiary is not a 64-hex commitment (the account itself stays in the vault).
    beneficiary_malformed = 4
    #: The id is not the one derived from (creditor, rail, beneficiary) (``destination_id_of``).
    destination_id_mismatch = 5
    #: A cooling-off time outside 0 … ``destination_cooling_off_max_seconds``.
    cooling_off_out_of_range = 6
    destination_not_found = 10
    #: Already so: added (pending or confirmed), confirmed, or removed — nothing to append.
    exists = 11
    #: A removed destination cannot be confirmed (add it again: a new code is mailed).
    destination_removed = 12
    #: The creditor has ``destinations_per_creditor_max`` live (pending or confirmed) ones.
    destinations_exceeded = 13


WithdrawalsCode = EventCode | FeesCode | RequestCode | SettleCode | DestinationCode

#: Answers that accept a command: ``ok``, or already so with nothing to change.
ACCEPTED: Final[frozenset[WithdrawalsCode]] = frozenset(
    {
        EventCode.ok,
        FeesCode.ok,
        FeesCode.exists,
        RequestCode.ok,
        RequestCode.exists,
        SettleCode.ok,
        SettleCode.exists,
        DestinationCode.ok,
        DestinationCode.exists,
    }
)


class WithdrawalsRejection(CodedRejection[WithdrawalsCode]):
    """A refused command or logged event: the code, which item (if one), and why."""

    __slots__ = ()


#: The kind of every refusal (``reclaim.core.kinds``: what the API maps to a status, once).
KINDS: Final[Mapping[WithdrawalsCode, Kind]] = kind_table(
    (
        EventCode,
        FeesCode,
        RequestCode,
        SettleCode,
        DestinationCode,
    ),
    {
        EventCode.event_type_unknown: B,
        EventCode.payload_malformed: B,
        EventCode.batch_too_large: B,
        EventCode.event_version_retired: C,
        EventCode.transfer_id_reserved: C,
        FeesCode.rail_unknown: B,
        FeesCode.asset_not_served_by_rail: B,
        FeesCode.tiers_malformed: B,
        FeesCode.fee_out_of_range: B,
        FeesCode.bps_out_of_range: B,
        FeesCode.base_unknown: B,
        FeesCode.cap_below_fixed: B,
        FeesCode.minimum_out_of_range: B,
        FeesCode.timeout_out_of_range: B,
        FeesCode.settlement_account_invalid: B,
        FeesCode.fee_account_invalid: B,
        FeesCode.rail_duplicated: C,
        RequestCode.withdrawal_id_malformed: B,
        RequestCode.creditor_name_invalid: B,
        RequestCode.rail_unknown: B,
        RequestCode.asset_not_served_by_rail: B,
        RequestCode.amount_out_of_range: B,
        RequestCode.fee_out_of_range: B,
        RequestCode.beneficiary_malformed: B,
        RequestCode.exists_with_different_fields: C,
        RequestCode.destination_not_confirmed: F,
        RequestCode.destination_cooling_off: F,
        RequestCode.kyc_not_approved: F,
        RequestCode.rail_not_configured: U,
        RequestCode.jurisdiction_unknown: F,
        RequestCode.jurisdiction_sanctioned: F,
        RequestCode.jurisdiction_unlisted: F,
        RequestCode.rail_not_allowed: F,
        RequestCode.amount_below_minimum: B,
        RequestCode.fee_mismatch: B,
        RequestCode.open_withdrawals_exceeded: C,
        RequestCode.account_not_found: N,
        RequestCode.insufficient_funds: C,
        RequestCode.rail_funds_insufficient: C,
        RequestCode.ledger_refused: C,
        SettleCode.withdrawal_id_malformed: B,
        SettleCode.rail_reference_malformed: B,
        SettleCode.reason_unknown: B,
        SettleCode.withdrawal_not_found: N,
        SettleCode.withdrawal_already_confirmed: C,
        SettleCode.withdrawal_already_failed: C,
        SettleCode.withdrawal_expired: C,
        SettleCode.ledger_refused: C,
        DestinationCode.destination_id_malformed: B,
        DestinationCode.creditor_name_invalid: B,
        DestinationCode.rail_unknown: B,
        DestinationCode.beneficiary_malformed: B,
        DestinationCode.destination_id_mismatch: C,
        DestinationCode.cooling_off_out_of_range: B,
        DestinationCode.destination_not_found: N,
        DestinationCode.destination_removed: C,
        DestinationCode.destinations_exceeded: C,
    },
    ACCEPTED,
)
