"""Recovery notes: series per (estate, claim class), conversion of claims, pass-through.

Theory of operation
-------------------
A **series** (``model.Series``, event ``notes.series_defined``) is one per (estate, claim
class), e.g. ``FTX5A`` for class 5A of the FTX estate; its asset is ``NOTE-<series>``, and **one
note unit is one cent of admitted face value** (``model.FACE_MINOR_PER_NOTE``): a market price
of ``0.72`` is 72 cents on the dollar of face. Its terms name the holding entity (holder of
record of every converted claim) and the text of what a holder is entitled to.

A **conversion** (``notes.claim_converted``) is a linked, KYC-verified creditor — restricted
jurisdiction or not — assigning a whole claim to the holding entity: the ladder
(``codes.ConvertCode`` order) refuses a claim of another estate or class, not linked or linked
to someone else, a creditor not verified, a disputed or expunged claim, one already assigned, an
admitted amount of zero. ``notes_for_admitted(admitted)`` note units are minted to the creditor
(the ledger wiring credits them). The event carries the **evidence of transfer** of Rule
3001(e)(2) / Form 2100A as data (``model.TransferEvidence``: transferor, transferee, claim
number, amount, date filed, date of transfer); ``window`` gives its 21-day objection window and
the last filing date that makes a record date.

A **pass-through** (``notes.passed_through``) splits a round's payment for the series over the
note holders at the record position (the context replays the ledger there; notes locked in
resting orders count) with ``allocate_pass_through`` — the distribution engine's rule,
``money.allocate_pro_rata``: largest remainder, ties by account id, parts summing exactly to the
payment. The allocation is derived, not logged: anyone recomputes it from the log.

Pure functions: ``decide(state, ctx, command, sequence, time)``, ``evolve(state, event) ->
state`` (in place), ``assert_invariants(state)``; ``domain`` wires them to the machine (issue
10's seam): the ledger effects of each event (the issuing account, the mint, the pass-through's
transfers), the context over the other sub-domains (claims, KYC, the register's assignments,
the holdings at a record position replayed from conversions and market fills), and the guard
that keeps notes off plain ledger transfers. ``payloads`` reads and writes the events.

The clerk's side of a conversion: the admin records ``claim.assigned`` (creditor → holding
entity, with ``reclaim.adapters.files.form2100a.evidence_sha256`` of the evidence), so the
distribution core pays the holding entity as holder of record once the 21-day window has run,
and the claim's escrow is released to it (``escrow.released``, ``converted_to_notes``);
``form2100a.render`` makes the PDF of the evidence. ``calendar.series_calendar`` gives what a
series shows: its next record date, the last transfer date that makes it, the ex-date and each
converted claim's window.

Known limits
------------
- Holdings at a record position are recomputed from the conversions and fills up to it
  (O(conversions + the series' trades) per pass-through), not kept per position.
- A pass-through's amount is the operator's (what the holding entity received for the series);
  the ledger refuses more than its cash. The notes core does not match it to the round's lines.
- A claim's filing date on the evidence is the estate's petition date (scheduled claims are
  deemed filed; the register has no filing date).
- The conversion (the creditor's signature) and the filing (the admin's ``claim.assigned``)
  are two events: until the filing, and for 21 days after it, the creditor stays holder of
  record, and a round with an earlier record date pays the creditor, not the series. The
  shell submits both in one batch.
"""

from reclaim.core.notes.codes import (
    ACCEPTED,
    KINDS,
    ConvertCode,
    GuardCode,
    NotesCode,
    NotesRejection,
    PassCode,
    SeriesCode,
)
from reclaim.core.notes.machine import (
    Conversion,
    NotesState,
    allocate_pass_through,
    assert_invariants,
    decide,
    evolve,
)
from reclaim.core.notes.model import (
    FACE_MINOR_PER_NOTE,
    ClaimConverted,
    ClaimView,
    ConvertClaim,
    DefineSeries,
    NotesCommand,
    NotesContext,
    NotesDecision,
    NotesEvent,
    PassedThrough,
    PassThrough,
    Series,
    SeriesDefined,
    TransferEvidence,
    notes_for_admitted,
)
from reclaim.core.notes.window import (
    OBJECTION_DAYS,
    last_transfer_date,
    makes_record_date,
    objection_deadline,
    substitution_date,
)

__all__ = [
    "ACCEPTED",
    "FACE_MINOR_PER_NOTE",
    "KINDS",
    "OBJECTION_DAYS",
    "ClaimConverted",
    "ClaimView",
    "Conversion",
    "ConvertClaim",
    "ConvertCode",
    "DefineSeries",
    "GuardCode",
    "NotesCode",
    "NotesCommand",
    "NotesContext",
    "NotesDecision",
    "NotesEvent",
    "NotesRejection",
    "NotesState",
    "PassCode",
    "PassThrough",
    "PassedThrough",
    "Series",
    "SeriesCode",
    "SeriesDefined",
    "TransferEvidence",
    "allocate_pass_through",
    "assert_invariants",
    "decide",
    "evolve",
    "last_transfer_date",
    "makes_record_date",
    "notes_for_admitted",
    "objection_deadline",
    "substitution_date",
]
