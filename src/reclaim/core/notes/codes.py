"""The notes core's answers: ordered result codes, one enum per validation ladder, each with its
kind (the same ``Kind`` as the market core's; see ``reclaim.core.market.codes``).

| enum           | ladder of                                   |
| -------------- | ------------------------------------------- |
| ``SeriesCode`` | ``notes.series_defined``                    |
| ``ConvertCode``| ``notes.claim_converted``                   |
| ``PassCode``   | ``notes.passed_through``                    |

Codes are ordered by precedence and never renumbered (as every ladder of the core).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from reclaim.core.kinds import Kind


class SeriesCode(enum.Enum):
    """The answer to defining a note series, in precedence order."""

    ok = 0
    #: Not 1-24 of ``A-Z0-9`` (a series is also a market symbol's base: no ``-``).
    series_malformed = 1
    estate_malformed = 2
    class_malformed = 3
    #: The holding entity is not an actor name.
    holding_entity_malformed = 4
    #: The entitlement text is empty, longer than the string bound, or padded.
    entitlement_invalid = 5
    estate_not_found = 10
    #: The estate has no such claim class.
    class_unknown = 11
    #: ``limits.notes_series_max`` series are defined already.
    series_exceeded = 12
    #: The series is defined with other terms (terms never change).
    series_exists_with_different_terms = 13
    #: Another series is defined for the same (estate, class): one series per class.
    class_has_series = 14
    #: The same series with the same terms is defined already (nothing to append).
    exists = 15


class ConvertCode(enum.Enum):
    """The answer to converting (assigning) a claim into notes, in precedence order."""

    ok = 0
    claim_id_malformed = 1
    creditor_malformed = 2
    #: Not a ``YYYY-MM-DD`` calendar date.
    date_invalid = 3
    series_not_found = 10
    claim_not_found = 11
    #: The claim's estate or class is not the series'.
    claim_not_in_series = 12
    #: The claim is not linked to a creditor.
    claim_not_linked = 13
    #: The claim is linked to another creditor than the one converting it.
    claim_linked_to_other = 14
    #: The creditor's KYC is not verified.
    kyc_not_verified = 15
    #: A disputed claim has no admitted amount to assign.
    claim_disputed = 16
    #: An expunged claim is not a claim any more.
    claim_expunged = 17
    #: The claim was converted (assigned to the holding entity) before.
    claim_already_assigned = 18
    #: An admitted amount of zero mints no note.
    claim_amount_zero = 19
    #: The series' notes outstanding would exceed BIGINT.
    supply_exceeds_bigint = 20


class PassCode(enum.Enum):
    """The answer to passing a round's payment through to note holders, in precedence order."""

    ok = 0
    round_id_malformed = 1
    #: Not 0 … BIGINT cents.
    amount_out_of_range = 2
    #: A record position that is negative or not before the event's own position.
    record_sequence_out_of_range = 3
    date_invalid = 4
    series_not_found = 10
    #: The round was passed through for the series before, with other figures.
    pass_through_exists_with_different_fields = 11
    #: The same pass-through was recorded before (nothing to append).
    exists = 12
    #: A positive payment, but no note of the series was held at the record position.
    no_notes_outstanding = 13
    #: More holders than ``money.allocation_parts_max``.
    holders_exceeded = 14
    #: The ledger refuses the payment's transfers: the holding entity's available cash does
    #: not cover it.
    funds_insufficient = 15


class GuardCode(enum.Enum):
    """Why a command or event of another sub-domain may not touch notes, and a logged notes
    event's shape."""

    ok = 0
    #: A plain ledger transfer of a ``NOTE-`` asset, or a plain opening of a note account:
    #: notes move only with notes and market events (conversion, fills), so the holdings at a
    #: record position are the log's.
    note_transfer_reserved = 1
    #: A logged notes event whose payload has not its type's shape, or is not what its
    #: command decides.
    payload_malformed = 2
    #: The ledger refuses the accounts or transfers the event implies.
    ledger_refused = 3


NotesCode = SeriesCode | ConvertCode | PassCode | GuardCode

ACCEPTED: Final[frozenset[NotesCode]] = frozenset(
    {SeriesCode.ok, SeriesCode.exists, ConvertCode.ok, PassCode.ok, PassCode.exists, GuardCode.ok}
)

_B, _F, _N, _C = Kind.bad_input, Kind.forbidden, Kind.not_found, Kind.conflict

KINDS: Final[dict[NotesCode, Kind]] = {
    SeriesCode.series_malformed: _B,
    SeriesCode.estate_malformed: _B,
    SeriesCode.class_malformed: _B,
    SeriesCode.holding_entity_malformed: _B,
    SeriesCode.entitlement_invalid: _B,
    SeriesCode.estate_not_found: _N,
    SeriesCode.class_unknown: _N,
    SeriesCode.series_exceeded: _C,
    SeriesCode.series_exists_with_different_terms: _C,
    SeriesCode.class_has_series: _C,
    ConvertCode.claim_id_malformed: _B,
    ConvertCode.creditor_malformed: _B,
    ConvertCode.date_invalid: _B,
    ConvertCode.series_not_found: _N,
    ConvertCode.claim_not_found: _N,
    ConvertCode.claim_not_in_series: _B,
    ConvertCode.claim_not_linked: _F,
    ConvertCode.claim_linked_to_other: _F,
    ConvertCode.kyc_not_verified: _F,
    ConvertCode.claim_disputed: _C,
    ConvertCode.claim_expunged: _C,
    ConvertCode.claim_already_assigned: _C,
    ConvertCode.claim_amount_zero: _C,
    ConvertCode.supply_exceeds_bigint: _C,
    PassCode.round_id_malformed: _B,
    PassCode.amount_out_of_range: _B,
    PassCode.record_sequence_out_of_range: _B,
    PassCode.date_invalid: _B,
    PassCode.series_not_found: _N,
    PassCode.pass_through_exists_with_different_fields: _C,
    PassCode.no_notes_outstanding: _C,
    PassCode.holders_exceeded: _C,
    PassCode.funds_insufficient: _C,
    GuardCode.note_transfer_reserved: _F,
    GuardCode.payload_malformed: _B,
    GuardCode.ledger_refused: _C,
}
_ALL: Final = frozenset([*SeriesCode, *ConvertCode, *PassCode, *GuardCode])
assert set(KINDS) == _ALL - ACCEPTED, "kinds: every refusal has one, no accepted answer has one"


def kind(code: NotesCode) -> Kind:
    assert code not in ACCEPTED, f"{code} accepts; it has no kind"
    return KINDS[code]


@dataclass(frozen=True, slots=True)
class NotesRejection:
    code: NotesCode
    detail: str
    #: The item of a batch it concerns (never: notes commands are one item each).
    position: int | None = None

    @property
    def kind(self) -> Kind:
        return kind(self.code)

    def __str__(self) -> str:
        return f"{self.code.name}: {self.detail}"
