"""The notes core's values: series terms, conversion and pass-through commands and events.

Face unit (the documented choice): **one note unit = one cent of admitted face value**
(``reclaim.core.money``: asset ``NOTE-<series>``, scale 0). A claim admitted at $1,234.56 mints
123,456 note units; a market quotes them in steps of whole dollars of face or more
(``reclaim.core.market.model.Market``), at prices that read as cents on the dollar.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, NamedTuple, Protocol

from reclaim.core.forms import ACTOR_NAME_RE, ESTATE_ID_RE

#: Cents of admitted face value per note unit.
FACE_MINOR_PER_NOTE: Final = 1
#: A series name: also a market symbol's base, so ``A-Z0-9`` only.
SERIES_RE: Final = re.compile(r"[A-Z0-9]{1,24}")
#: A creditor or holding entity: the actor-name form.
ACTOR_RE: Final = ACTOR_NAME_RE
ESTATE_RE: Final = ESTATE_ID_RE  # the claims register's form: every estate can have a series
CLASS_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}")
CLAIM_ID_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
ROUND_ID_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: Claim statuses (the register's) that refuse a conversion, with their code's name.
REFUSED_STATUSES: Final[Mapping[str, str]] = {
    "disputed": "claim_disputed",
    "expunged": "claim_expunged",
    #: Not a register status: the context's answer for a claim with a holder of record other
    #: than its linked creditor (a ``claim.assigned`` was recorded for it).
    "assigned": "claim_already_assigned",
}


def notes_for_admitted(admitted_minor: int) -> int:
    """Note units minted for a claim admitted at ``admitted_minor`` cents (face, one for one)."""
    assert type(admitted_minor) is int, admitted_minor
    assert admitted_minor >= 0, admitted_minor
    return admitted_minor // FACE_MINOR_PER_NOTE


@dataclass(frozen=True, slots=True)
class Series:
    """The terms of a note series: what a holder is entitled to, and who holds the claims.

    ``holding_entity`` is the programme's entity that is holder of record of every converted
    claim; ``entitlement`` is the text of the terms (e.g. "every distribution the holding
    entity receives for a claim of class 5A of the FTX estate, pro rata to notes held at its
    record date").
    """

    series: str
    estate: str
    claim_class: str
    holding_entity: str
    entitlement: str

    @property
    def asset(self) -> str:
        return "NOTE-" + self.series


class ClaimView(NamedTuple):
    """What the claims sub-domain says of one claim (the context's answer)."""

    claim_id: str
    estate: str
    claim_class: str
    status: str
    admitted_minor: int
    #: The creditor the claim is linked to (``None``: not linked).
    creditor: str | None
    #: The date the proof of claim was filed (or the schedule date), ``YYYY-MM-DD``.
    filed_date: str


class NotesContext(Protocol):
    """A read-only view of the other sub-domains."""

    def estate_classes(self, estate: str) -> frozenset[str] | None:
        """The estate's claim classes (``None``: no such estate)."""
        ...

    def claim(self, claim_id: str) -> ClaimView | None: ...

    def kyc_verified(self, creditor: str) -> bool: ...

    def holdings_at(self, series: str, sequence: int) -> Mapping[str, int]:
        """Note units of ``series`` each account holds at log position ``sequence``, notes
        locked in resting orders included (the ledger replayed to that position)."""
        ...


# Commands ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DefineSeries:
    series: Series


@dataclass(frozen=True, slots=True)
class ConvertClaim:
    """``creditor`` assigns ``claim_id`` whole to the series' holding entity on ``date``."""

    series: str
    claim_id: str
    creditor: str
    date: str


@dataclass(frozen=True, slots=True)
class PassThrough:
    """Split a round's payment for a series over the note holders at ``record_sequence``."""

    series: str
    round_id: str
    amount_minor: int
    record_sequence: int
    record_date: str


NotesCommand = DefineSeries | ConvertClaim | PassThrough


# Events -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransferEvidence:
    """The evidence of transfer of Rule 3001(e)(2) (Form 2100A's fields), as data."""

    transferor: str
    transferee: str
    claim_id: str
    estate: str
    amount_minor: int
    claim_filed_date: str
    transfer_date: str


@dataclass(frozen=True, slots=True)
class SeriesDefined:
    sequence: int
    time: str
    series: Series


@dataclass(frozen=True, slots=True)
class ClaimConverted:
    """Notes minted to the creditor; the claim's holder of record is the holding entity."""

    sequence: int
    time: str
    series: str
    creditor: str
    notes: int
    evidence: TransferEvidence


@dataclass(frozen=True, slots=True)
class PassedThrough:
    """A round's payment split over the holders at ``record_sequence`` (``allocation`` is
    derived: anyone recomputes it from the ledger at that position)."""

    sequence: int
    time: str
    series: str
    round_id: str
    amount_minor: int
    record_sequence: int
    record_date: str


NotesEvent = SeriesDefined | ClaimConverted | PassedThrough


@dataclass(frozen=True, slots=True)
class NotesDecision:
    """The event to append (``None``: accepted, nothing to append) and its derived data: the
    notes minted (conversion) or the cents per holder (pass-through, keys ascending)."""

    event: NotesEvent | None
    notes_minted: int = 0
    allocation: tuple[tuple[str, int], ...] = ()
    #: The same allocation as two aligned sequences (holders ascending, their cents), for the
    #: fan-out posting of a million holders without unzipping the pairs.
    holders: Sequence[str] = field(default=(), compare=False, repr=False)
    parts: Sequence[int] = field(default=(), compare=False, repr=False)
