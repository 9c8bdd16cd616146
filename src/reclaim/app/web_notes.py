"""What the portal's conversion pages read: a claim's series, and a creditor's own conversion
with its evidence and signatures read back from the log (for the Form 2100A download).

The conversion itself is ``app.notes.NotesService.convert`` (the same call as the CLI's); this
module only reads:

- ``series_of(state, claim_id)``: the series a claim would convert into (its estate and class),
  or ``None`` when the programme has none for it;
- ``conversion_of(log, creditor, claim_id)``: the ``Converted`` record of a claim ``creditor``
  converted (the conversion's event, the clerk's ``claim.assigned`` after it, the evidence), or
  ``None`` — also when another creditor converted it: a creditor sees only their own evidence.

Known limits: finding the assignment reads the log from the conversion on
(``O(events since the conversion)``, in pages: ``app.notes.assignment_seq``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reclaim.app.log_service import LogService
from reclaim.app.notes import Converted, assignment_seq, evidence_digest
from reclaim.core.notes import ClaimConverted
from reclaim.core.notes.payloads import from_payload
from reclaim.log import event as log_event

if TYPE_CHECKING:
    from reclaim.core.machine import State


def series_of(state: State, claim_id: str) -> str | None:
    claim = state.claims.claims.get(claim_id)
    if claim is None:
        return None
    return state.notes.by_class.get((claim.estate_id, claim.class_code))


def conversion_of(log: LogService, creditor: str, claim_id: str) -> Converted | None:
    """``creditor``'s conversion of ``claim_id`` with the clerk's assignment, or ``None``."""
    found = log.read(lambda s: s.notes.conversions.get(claim_id))
    if found is None or found.creditor != creditor:
        return None
    series = log.read(lambda s: s.notes.series.get(found.series))
    assert series is not None, "a conversion's series is defined"
    converted = _signed(log, found.sequence)
    event = from_payload(converted.event.type, converted.event.payload, found.sequence,
                         converted.event.time)  # fmt: skip
    assert isinstance(event, ClaimConverted), event
    assigned = assignment_seq(log, found.sequence, claim_id, series.holding_entity)
    if assigned is None:  # the clerk's filing is not logged (yet): no evidence to print
        return None
    digest = evidence_digest(event.evidence)
    signatures = (converted.signed, _signed(log, assigned).signed)
    return Converted(found.sequence, assigned, event.notes, event.evidence, digest, signatures)


def _signed(log: LogService, seq: int) -> log_event.LoggedEvent:
    (leaf,) = log.store.leaves(seq, seq + 1)
    return log_event.parse_leaf(leaf)
