"""Event payloads of the notes core, the roles that sign them, and their strict readers.

Canonical JSON: integers as decimal text, dates ``YYYY-MM-DD``. Shapes (version 1):

``notes.series_defined``  ``{"series", "estate", "claim_class", "holding_entity",
"entitlement"}`` — signed by an admin.
``notes.claim_converted``  ``{"creditor", "series", "notes", "evidence": EVIDENCE}`` with
EVIDENCE = ``{"transferor", "transferee", "claim_id", "estate", "amount_minor",
"claim_filed_date", "transfer_date"}`` (Form 2100A's fields; the transferor's signature is the
event's own: the creditor signs it, "self", or the portal gateway for it).
``notes.passed_through``  ``{"series", "round_id", "amount_minor", "record_sequence",
"record_date"}`` — signed by the holding entity or the treasury.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from reclaim.core.notes.machine import evidence_payload
from reclaim.core.notes.model import (
    ClaimConverted,
    NotesEvent,
    PassedThrough,
    Series,
    SeriesDefined,
    TransferEvidence,
)
from reclaim.core.payload_fields import PayloadError as PayloadError
from reclaim.core.payload_fields import integer, record, text
from reclaim.core.types import JsonValue

SERIES_DEFINED: Final = "notes.series_defined"
CLAIM_CONVERTED: Final = "notes.claim_converted"
PASSED_THROUGH: Final = "notes.passed_through"

_V1: Final = frozenset({1})
NOTES_EVENT_TYPES: Final[dict[str, tuple[frozenset[int], frozenset[str]]]] = {
    SERIES_DEFINED: (_V1, frozenset({"admin"})),
    CLAIM_CONVERTED: (_V1, frozenset({"self", "gateway"})),
    PASSED_THROUGH: (_V1, frozenset({"holding_entity", "treasury"})),
}
_SERIES_FIELDS: Final = frozenset({"series", "estate", "claim_class", "holding_entity",
                                   "entitlement"})  # fmt: skip
_EVIDENCE_FIELDS: Final = frozenset(
    {"transferor", "transferee", "claim_id", "estate", "amount_minor", "claim_filed_date",
     "transfer_date"}
)  # fmt: skip
_CONVERTED_FIELDS: Final = frozenset({"creditor", "series", "notes", "evidence"})
_PASSED_FIELDS: Final = frozenset(
    {"series", "round_id", "amount_minor", "record_sequence", "record_date"}
)


def to_payload(event: NotesEvent) -> tuple[str, dict[str, JsonValue]]:
    if isinstance(event, SeriesDefined):
        s = event.series
        return SERIES_DEFINED, {
            "series": s.series, "estate": s.estate, "claim_class": s.claim_class,
            "holding_entity": s.holding_entity, "entitlement": s.entitlement,
        }  # fmt: skip
    if isinstance(event, ClaimConverted):
        return CLAIM_CONVERTED, {
            "creditor": event.creditor, "series": event.series, "notes": str(event.notes),
            "evidence": evidence_payload(event.evidence),
        }  # fmt: skip
    return PASSED_THROUGH, {
        "series": event.series, "round_id": event.round_id,
        "amount_minor": str(event.amount_minor), "record_sequence": str(event.record_sequence),
        "record_date": event.record_date,
    }  # fmt: skip


def evidence_from_payload(item: JsonValue) -> TransferEvidence:
    p = record(item, _EVIDENCE_FIELDS)
    return TransferEvidence(
        transferor=text(p, "transferor"), transferee=text(p, "transferee"),
        claim_id=text(p, "claim_id"), estate=text(p, "estate"),
        amount_minor=integer(p, "amount_minor"), claim_filed_date=text(p, "claim_filed_date"),
        transfer_date=text(p, "transfer_date"),
    )  # fmt: skip


def from_payload(
    event_type: str, payload: Mapping[str, JsonValue], sequence: int, time: str
) -> NotesEvent:
    """The event a logged payload names; ``PayloadError`` if it has not its type's shape."""
    if event_type == SERIES_DEFINED:
        p = record(dict(payload), _SERIES_FIELDS)
        series = Series(text(p, "series"), text(p, "estate"), text(p, "claim_class"),
                        text(p, "holding_entity"), text(p, "entitlement"))  # fmt: skip
        return SeriesDefined(sequence, time, series)
    if event_type == CLAIM_CONVERTED:
        p = record(dict(payload), _CONVERTED_FIELDS)
        evidence = evidence_from_payload(p["evidence"])
        return ClaimConverted(sequence, time, text(p, "series"), text(p, "creditor"),
                              integer(p, "notes"), evidence)  # fmt: skip
    if event_type == PASSED_THROUGH:
        p = record(dict(payload), _PASSED_FIELDS)
        return PassedThrough(sequence, time, text(p, "series"), text(p, "round_id"),
                             integer(p, "amount_minor"), integer(p, "record_sequence"),
                             text(p, "record_date"))  # fmt: skip
    raise PayloadError(f"{event_type!r} is not a notes event type")
