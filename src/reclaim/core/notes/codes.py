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
from collections.abc import Mapping
from typing import Final

from reclaim.core.domain import CodedRejection
from reclaim.core.kinds import B, C, F, Kind, N, kind_table, refusal_kind


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

KINDS: Final[Mapping[NotesCode, Kind]] = kind_table(
    (SeriesCode, ConvertCode, PassCode, GuardCode),
    {
        SeriesCode.series_malformed: B,
        SeriesCode.estate_malformed: B,
        SeriesCode.class_malformed: B,
        SeriesCode.holding_entity_malformed: B,
        SeriesCode.entitlement_invalid: B,
        SeriesCode.estate_not_found: N,
        SeriesCode.class_unknown: N,
        SeriesCode.series_exceeded: C,
        SeriesCode.series_exists_with_different_terms: C,
        SeriesCode.class_has_series: C,
        ConvertCode.claim_id_malformed: B,
        ConvertCode.creditor_malformed: B,
        ConvertCode.date_invalid: B,
        ConvertCode.series_not_found: N,
        ConvertCode.claim_not_found: N,
        ConvertCode.claim_not_in_series: B,
        ConvertCode.claim_not_linked: F,
        ConvertCode.claim_linked_to_other: F,
        ConvertCode.kyc_not_verified: F,
        ConvertCode.claim_disputed: C,
        ConvertCode.claim_expunged: C,
        ConvertCode.claim_already_assigned: C,
        ConvertCode.claim_amount_zero: C,
        ConvertCode.supply_exceeds_bigint: C,
        PassCode.round_id_malformed: B,
        PassCode.amount_out_of_range: B,
        PassCode.record_sequence_out_of_range: B,
        PassCode.date_invalid: B,
        PassCode.series_not_found: N,
        PassCode.pass_through_exists_with_different_fields: C,
        PassCode.no_notes_outstanding: C,
        PassCode.holders_exceeded: C,
        PassCode.funds_insufficient: C,
        GuardCode.note_transfer_reserved: F,
        GuardCode.payload_malformed: B,
        GuardCode.ledger_refused: C,
    },
    ACCEPTED,
)


class NotesRejection(CodedRejection[NotesCode]):
    """A refused command or logged event: the code and why (``position`` is ``None``: a notes
    command is one item)."""

    __slots__ = ()

    @property
    def kind(self) -> Kind:
        """The kind of the refusal (``AssertionError`` for an accepted answer: a bug)."""
        return refusal_kind(KINDS, self.code)
