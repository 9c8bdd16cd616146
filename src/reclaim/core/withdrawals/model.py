"""The withdrawals core's values: rails and their terms, withdrawals, commands, the state.

A withdrawal, as a table (h11 style; rows: its status at the event's time, columns: what the
rail reports, ``withdrawal.confirmed`` or ``withdrawal.failed``; ``WITHDRAWAL_TRANSITIONS``). An
empty cell is refused with its row's code (``SETTLE_REFUSALS``), or accepted as ``exists`` when
the event repeats what the withdrawal recorded (the same rail reference or the same reason).
``expired`` is no recorded status: a requested withdrawal is in that row once the ledger's sweep
expired its reservation, or once the reservation's deadline has passed:

| status    | confirmed | failed | refused with                 |
| --------- | --------- | ------ | ---------------------------- |
| requested | confirmed | failed |                              |
| confirmed |           |        | withdrawal_already_confirmed |
| failed    |           |        | withdrawal_already_failed    |
| expired   |           |        | withdrawal_expired           |
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, NamedTuple

from reclaim.core.domain import Entities, entity_fields, keys_of
from reclaim.core.forms import ACTOR_NAME_RE
from reclaim.core.forms import HEX64_RE as HEX64_RE
from reclaim.core.limits import (
    rail_reference_length_max_chars,
    withdrawal_id_length_max_chars,
)
from reclaim.core.transitions import transition_table
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals.codes import ACCEPTED, SettleCode, WithdrawalsCode
from reclaim.core.withdrawals.fees import FeeSchedule, FeeTier

# Bounds (to be moved into core/limits.py at integration) --------------------------------------

#: The cooling-off of a newly confirmed destination unless the operator sets another
#: (``Settings.destination_cooling_off_seconds``): a day for the owner to read the mail and
#: react before money can leave to it.
destination_cooling_off_default_seconds: Final = 24 * 3600

# Vocabularies -----------------------------------------------------------------------------------

#: The rails reclaim pays out through, and the one asset each pays out. A rail's name is what
#: jurisdiction policy entries list (``PolicyEntry.rails``).
RAIL_ASSETS: Final[Mapping[str, str]] = MappingProxyType(
    {"sepa": "EUR", "hk_wire": "USD", "usdc": "USDC"}
)

REQUESTED: Final = "requested"
CONFIRMED: Final = "confirmed"
FAILED: Final = "failed"
#: Not recorded by a withdrawal event: read from the ledger (``status_of``) when the sweep
#: ``ledger.pending_expired`` expired the withdrawal's pending transfer.
EXPIRED: Final = "expired"
STATUSES: Final = (REQUESTED, CONFIRMED, FAILED, EXPIRED)
#: The withdrawal table (module docstring): status -> {what the rail reports -> next status}.
WITHDRAWAL_TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = transition_table(
    (CONFIRMED, FAILED),
    {
        REQUESTED: (CONFIRMED, FAILED),
        CONFIRMED: (None,      None),
        FAILED:    (None,      None),
        EXPIRED:   (None,      None),
    },
)  # fmt: skip
#: The code of an empty cell of the withdrawal table, by row.
SETTLE_REFUSALS: Final[Mapping[str, SettleCode]] = MappingProxyType(
    {
        CONFIRMED: SettleCode.withdrawal_already_confirmed,
        FAILED: SettleCode.withdrawal_already_failed,
        EXPIRED: SettleCode.withdrawal_expired,
    }
)

#: Why a rail failed a withdrawal: codes, not free text (the public log must not carry a bank's
#: message, which may name the beneficiary). Adapters map rail-specific codes (ISO 20022 return
#: reasons AC01, AC04, ...) onto these.
FAILURE_REASONS: Final = frozenset(
    {
        "account_invalid",
        "account_closed",
        "account_blocked",
        "beneficiary_mismatch",
        "returned_by_bank",
        "rejected_by_rail",
        "compliance",
        "cancelled",
        "other",
    }
)

#: ``[A-Za-z0-9]`` then ``[A-Za-z0-9.-]``: the subset of the EPC's SEPA character set that is
#: also a ledger reference, so the id travels unchanged through the bank and back.
WITHDRAWAL_ID_RE: Final = re.compile(
    f"[A-Za-z0-9][A-Za-z0-9.-]{{0,{withdrawal_id_length_max_chars - 1}}}"
)
#: A creditor is an actor of the log (the actor-name form).
CREDITOR_RE: Final = ACTOR_NAME_RE
RAIL_REFERENCE_RE: Final = re.compile(
    f"[A-Za-z0-9][A-Za-z0-9._:/-]{{0,{rail_reference_length_max_chars - 1}}}"
)

#: The ledger transfers of withdrawal ``<id>``: the reserved amount, the reserved fee, and
#: their posts (confirmed) or voids (failed).
AMOUNT_TRANSFER: Final = "wd:{}"
FEE_TRANSFER: Final = "wd:{}:fee"
POST_SUFFIX: Final = ":post"
VOID_SUFFIX: Final = ":void"
#: The purpose of the creditor's account a withdrawal debits.
CREDITOR_PURPOSE: Final = "creditor_available"


#: Statuses of a withdrawal destination (see ``DESTINATION_MACHINE`` in the package doc).
DESTINATION_PENDING: Final = "pending"
DESTINATION_CONFIRMED: Final = "confirmed"
DESTINATION_REMOVED: Final = "removed"
DESTINATION_STATUSES: Final = (DESTINATION_PENDING, DESTINATION_CONFIRMED, DESTINATION_REMOVED)
#: ``D`` and 32 hex digits: the id ``destination_id_of`` derives.
DESTINATION_ID_RE: Final = re.compile(r"D[0-9a-f]{32}")
_DESTINATION_LABEL: Final = b"reclaim/withdrawal-destination/v1\x00"


def destination_id_of(creditor: str, rail: str, beneficiary: str) -> str:
    """The id of the creditor's destination ``beneficiary`` (a commitment) on ``rail``: ``D``
    and the first 32 hex digits of a SHA-256 over the three. One destination per creditor,
    rail and beneficiary, so the request ladder finds it from the request alone, and two
    creditors paying the same account have two destinations."""
    text = "\x00".join((creditor, rail, beneficiary)).encode()
    return "D" + hashlib.sha256(_DESTINATION_LABEL + text).hexdigest()[:32]


def amount_transfer_id(withdrawal_id: str) -> str:
    return AMOUNT_TRANSFER.format(withdrawal_id)


def fee_transfer_id(withdrawal_id: str) -> str:
    return FEE_TRANSFER.format(withdrawal_id)


# Values -----------------------------------------------------------------------------------------


class RailTerms(NamedTuple):
    """What an operator sets per rail: the fee schedule, the smallest amount it pays out, how
    long a request's funds stay reserved before the ledger's sweep releases them, and the
    operator's accounts the money goes through (``<owner>/<asset>/rail_settlement`` credited by
    the amount, ``<owner>/<asset>/fees`` by the fee)."""

    rail: str
    asset: str
    schedule: FeeSchedule
    minimum_minor: int
    timeout_seconds: int
    settlement_account: str
    fee_account: str


class TermsRecord(NamedTuple):
    """A rail's terms in force, with the time of the event that set them."""

    terms: RailTerms
    set_at: str


class Withdrawal(NamedTuple):
    """A requested withdrawal as the state keeps it.

    ``amount_minor`` is what the rail sends; ``fee_minor`` what the operator keeps; the creditor
    is debited both. ``beneficiary`` is the commitment of the destination (the vault holds it).
    ``jurisdiction`` is what allowed the rail: the ISO code of the creditor's linked claims (the
    codes, sorted and joined by ``+``, when they name several). ``status`` is what withdrawal
    events recorded (``requested``, ``confirmed``, ``failed``); ``status_of`` folds in the
    ledger's expiry.
    """

    id: str
    creditor: str
    rail: str
    asset: str
    amount_minor: int
    fee_minor: int
    beneficiary: str
    jurisdiction: str
    requested_at: str
    expires_at: str
    status: str = REQUESTED
    settled_at: str = ""
    rail_reference: str = ""
    reason: str = ""


class Destination(NamedTuple):
    """A withdrawal destination of a creditor, as the state keeps it.

    ``beneficiary`` is the commitment of the account (the vault holds it). ``usable_from`` is
    the confirmation's time plus its cooling-off; a removed destination keeps the times it had.
    """

    id: str
    creditor: str
    rail: str
    beneficiary: str
    status: str
    added_at: str
    confirmed_at: str = ""
    usable_from: str = ""
    removed_at: str = ""


# Commands ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetFees:
    """Set the terms of rails, all or none (terms identical to those in force: ``exists``)."""

    terms: tuple[RailTerms, ...]


@dataclass(frozen=True, slots=True)
class RequestWithdrawal:
    """Reserve ``amount_minor`` + the fee from the creditor's available balance for ``rail``.

    ``fee_minor``: the fee the client was shown; ``None`` takes the schedule's. A request whose
    fee differs from the schedule's (the schedule changed meanwhile) is refused, never silently
    charged more.
    """

    withdrawal_id: str
    creditor: str
    rail: str
    asset: str
    amount_minor: int
    beneficiary: str
    fee_minor: int | None = None


@dataclass(frozen=True, slots=True)
class ConfirmWithdrawal:
    """The rail paid: post the reserved amount and fee. ``rail_reference`` is the rail's own
    reference (a bank's, a transaction hash)."""

    withdrawal_id: str
    rail_reference: str


@dataclass(frozen=True, slots=True)
class FailWithdrawal:
    """The rail did not pay: void the reservations (the funds are available again)."""

    withdrawal_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AddDestination:
    """Add ``beneficiary`` (a commitment) on ``rail`` as a destination of ``creditor``,
    pending until its proved e-mail confirms it. Its id is ``destination_id_of`` the three."""

    creditor: str
    rail: str
    beneficiary: str


@dataclass(frozen=True, slots=True)
class ConfirmDestination:
    """The creditor's mailbox confirmed the destination (the shell checked the mailed code);
    it may be paid to ``cooling_off_seconds`` later."""

    destination_id: str
    cooling_off_seconds: int


@dataclass(frozen=True, slots=True)
class RemoveDestination:
    """No more withdrawals to this destination (withdrawals already requested go on)."""

    destination_id: str


WithdrawalsCommand = (
    SetFees | RequestWithdrawal | ConfirmWithdrawal | FailWithdrawal | AddDestination
    | ConfirmDestination | RemoveDestination
)  # fmt: skip


# Results ----------------------------------------------------------------------------------------


class Result(NamedTuple):
    """The answer for one item of a command: a rail's terms, a withdrawal."""

    position: int
    ident: str
    code: WithdrawalsCode

    @property
    def accepted(self) -> bool:
        return self.code in ACCEPTED


Payload = dict[str, JsonValue]


class Decision(NamedTuple):
    """What a command implies: the events to append (type, payload) and one result per item."""

    events: list[tuple[str, Payload]]
    results: tuple[Result, ...] = ()


# State ------------------------------------------------------------------------------------------

#: Entity kinds of the withdrawals state, in ``entity_keys`` order.
ENTITY_KINDS: Final = ("fee_schedule", "withdrawal", "destination")


@dataclass(slots=True)
class WithdrawalsState(Entities):
    """Rails' terms in force, and every withdrawal ever requested.

    Derived indexes, kept by ``evolve_withdrawals`` and recomputed by
    ``assert_withdrawals_invariants``: ``by_creditor`` (creditor → withdrawal ids, in request
    order) and ``open`` (creditor → ids still ``requested``; some may have expired in the
    ledger, which the ladder reads). ``changed`` collects the entity keys evolve touched.
    ``destinations`` (id → destination, every one ever added) and its index
    ``destinations_of`` (creditor → ids, in the order first added).
    """

    terms: dict[str, TermsRecord] = field(default_factory=dict)
    withdrawals: dict[str, Withdrawal] = field(default_factory=dict)
    by_creditor: dict[str, list[str]] = field(default_factory=dict)
    open: dict[str, set[str]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    destinations: dict[str, Destination] = field(default_factory=dict)
    destinations_of: dict[str, list[str]] = field(default_factory=dict)

    # The digest's view.

    def entity_keys(self) -> list[str]:
        """Every entity: ``fee_schedule/<rail>``, ``withdrawal/<id>``, then
        ``destination/<id>``, each sorted."""
        return keys_of(
            ("fee_schedule", self.terms),
            ("withdrawal", self.withdrawals),
            ("destination", self.destinations),
        )

    def entity(self, key: str) -> JsonValue:
        """The canonical-JSON-ready value of one entity, or ``None`` if it does not exist.

        A withdrawal's ``status`` is the one its events recorded; an expiry is the ledger's
        (its ``transfer/wd:<id>`` entity), so this value changes only with withdrawal events.
        """
        kind, _, ident = key.partition("/")
        if kind == "fee_schedule" and ident in self.terms:
            record = self.terms[ident]
            return {**terms_payload(record.terms), "set_at": record.set_at}
        if kind == "withdrawal" and ident in self.withdrawals:
            return entity_fields(
                self.withdrawals[ident], "creditor", "rail", "asset", "amount_minor",
                "fee_minor", "beneficiary", "jurisdiction", "requested_at", "expires_at",
                "status", "settled_at", "rail_reference", "reason",
            )  # fmt: skip
        if kind == "destination" and ident in self.destinations:
            return entity_fields(
                self.destinations[ident], "creditor", "rail", "beneficiary", "status",
                "added_at", "confirmed_at", "usable_from", "removed_at",
            )  # fmt: skip
        return None


def terms_payload(t: RailTerms) -> dict[str, JsonValue]:
    """A rail's terms as the ``withdrawal.fees_set`` event (and the entity view) write them."""
    s = t.schedule
    tiers: list[JsonValue] = [
        {"up_to_minor": str(tier.up_to_minor), "fee_minor": str(tier.fee_minor)} for tier in s.tiers
    ]
    return {
        "rail": t.rail,
        "asset": t.asset,
        "tiers": tiers,
        "above_fixed_minor": str(s.above_fixed_minor),
        "above_bps": str(s.above_bps),
        "above_base": s.above_base,
        "cap_minor": str(s.cap_minor),
        "minimum_minor": str(t.minimum_minor),
        "timeout_seconds": str(t.timeout_seconds),
        "settlement_account": t.settlement_account,
        "fee_account": t.fee_account,
    }


def tier(up_to_minor: int, fee: int) -> FeeTier:
    """Shorthand for a ``FeeTier``."""
    return FeeTier(up_to_minor, fee)
