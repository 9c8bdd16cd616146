"""The notes application service: series, conversions with their Form 2100A, holders at a
record position, pass-through of what the holding entity received.

Theory of operation
-------------------
Every write is a core command through ``LogService.submit`` (``reclaim.core.notes``), signed by
the operator actor whose role the event type names:

| step             | commands (signer)                                                      |
| ---------------- | ---------------------------------------------------------------------- |
| ``define``       | ``RegisterActor(<holding entity>, holding_entity)`` once (admin), then  |
|                  | ``DefineSeries`` (admin)                                               |
| ``convert``      | ``ConvertClaim`` (the gateway, for the creditor), then the clerk's     |
|                  | ``AssignClaim`` (admin: creditor → holding entity, the evidence's      |
|                  | SHA-256); the Form 2100A PDF of the evidence, with both signatures     |
| ``pass_through`` | ``PassThrough`` (treasury) of what the round paid the holding entity   |
|                  | for the series' claims, at the round's record position                 |

**What the series received in a round** (``received``): the round's line transfers
(``d:<round>:<line>``, USD) into the holding entity's ``creditor_available`` account for a claim
converted into the series — read from the ledger, so it is exactly what the round paid.

**The record position** (``record_position``): the last log position whose event is dated on
or before the record date (event times never go backwards, so it is found by bisection). It
exists only once the record date is over (an event dated after it is in the log);
before, the answer is ``record_date_not_passed``. An operator may name the position instead
(the demo does: its events all carry today's time while its rounds' record dates are past).

A conversion is two events: if the clerk's ``claim.assigned`` is refused after the conversion
was logged, ``convert`` answers the refusal, and calling it again records the assignment of the
claim already converted (it does not convert twice).

Refusals: ``Refused`` with the core's own code, or one of ``app.refusals.NotesServiceCode``.

Known limits
------------
- ``received`` scans the ledger's transfers (O(transfers)) for the round's lines.
- An escrow released to the holding entity (``converted_to_notes``) is not a round's line:
  ``pass_through`` does not pass it on (the core's ``PassThrough`` can, under a round id the
  operator chooses).
- ``convert`` does not release a claim's escrow: that waits for the 21-day window
  (``reclaim escrow``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

from reclaim.app.log_service import Accepted, LogService
from reclaim.app.refusals import NotesServiceCode as NotesServiceCode
from reclaim.app.refusals import Refused, refused
from reclaim.core.actors import RegisterActor
from reclaim.core.distribution.commands import AssignClaim
from reclaim.core.distribution.payloads import CLAIM_ASSIGNED
from reclaim.core.notes import (
    ClaimConverted,
    ConvertClaim,
    DefineSeries,
    PassThrough,
    Series,
    TransferEvidence,
    allocate_pass_through,
)
from reclaim.core.notes.calendar import SeriesCalendar, series_calendar
from reclaim.core.notes.domain import holdings
from reclaim.core.notes.machine import evidence_payload
from reclaim.core.notes.payloads import from_payload
from reclaim.core.rejections import Rejection
from reclaim.log import canonical
from reclaim.log import event as log_event
from reclaim.log.event import SignedEvent

if TYPE_CHECKING:
    from reclaim.core.machine import Command, State

HOLDING_ROLE: Final = "holding_entity"
#: The capacities in which ``Converted.signatures`` signed, as the Form 2100A prints them: the
#: gateway converts for the transferor (the creditor's own session or API request asked for
#: it), the admin records the transfer.
SIGNATURE_CAPACITIES: Final = (
    "Conversion for the transferor (notes.claim_converted)",
    "Transfer recorded (claim.assigned)",
)
USD: Final = "USD"
#: Leaves read at a time when looking for an assignment after its conversion.
_SCAN_LEAVES: Final = 256


@dataclass(frozen=True, slots=True)
class SeriesView:
    series: Series
    minted_notes: int
    conversions: int
    passed_minor: int
    #: Cents the holding entity holds for pass-throughs still to come (all series together).
    holding_cash_minor: int
    calendar: SeriesCalendar


@dataclass(frozen=True, slots=True)
class Converted:
    """A conversion, the clerk's assignment and the evidence as a PDF (Form 2100A)."""

    seq: int
    assigned_seq: int
    notes: int
    evidence: TransferEvidence
    evidence_sha256: str
    signatures: tuple[SignedEvent, ...]


@dataclass(frozen=True, slots=True)
class PassedView:
    """A pass-through: its position (``None``: recorded before), the record position and
    date, the amount and each holder's cents (ascending by holder)."""

    seq: int | None
    round_id: str
    record_sequence: int
    record_date: str
    amount_minor: int
    allocation: tuple[tuple[str, int], ...]


class NotesService:
    """Series, conversions, holders and pass-throughs over the log (module docstring)."""

    def __init__(
        self, log: LogService, *, admin: str = "admin", gateway: str = "gateway",
        treasury: str = "treasury",
    ) -> None:  # fmt: skip
        self.log = log
        self.admin, self.gateway, self.treasury = admin, gateway, treasury

    def _submit(self, command: object, actor: str) -> Accepted | Refused:
        """Submit a command (the machine routes by type; ``Command`` may not name the notes'
        and distribution's commands, hence the cast)."""
        outcome = self.log.submit(cast("Command", command), actor)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        assert isinstance(outcome, Accepted)
        return outcome

    # Series -----------------------------------------------------------------------------------

    def define(self, series: Series, holding_key: str | None = None) -> int | Refused | None:
        """Define ``series`` (registering its holding entity with ``holding_key``, an
        ``ed25519`` verifier key text, if it is no actor yet); the event's position, or
        ``None`` when the same terms are defined already."""
        role = self.log.read(lambda s: _role(s, series.holding_entity))
        if role is None:
            if holding_key is None:
                return Refused(NotesServiceCode.holding_entity_unknown,
                               f"{series.holding_entity!r} is not a registered actor")  # fmt: skip
            done = self._submit(RegisterActor(series.holding_entity, HOLDING_ROLE, holding_key),
                                self.admin)  # fmt: skip
            if isinstance(done, Refused):
                return done
        elif role != HOLDING_ROLE:
            detail = f"{series.holding_entity!r} is a {role}, not a holding entity"
            return Refused(NotesServiceCode.holding_entity_role, detail)
        outcome = self._submit(DefineSeries(series), self.admin)
        if isinstance(outcome, Refused):
            return outcome
        return outcome.seq if outcome.events else None

    def series(self, today: str) -> list[SeriesView]:
        """Every series with its supply, conversions, what passed through and its calendar on
        ``today`` (``YYYY-MM-DD``)."""

        def q(state: State) -> list[SeriesView]:
            ns = state.notes
            out: list[SeriesView] = []
            for name in sorted(ns.series):
                s = ns.series[name]
                count = sum(1 for c in ns.conversions.values() if c.series == name)
                cash = state.ledger.accounts.get(f"{s.holding_entity}/{USD}/creditor_available")
                out.append(SeriesView(
                    s, ns.minted.get(name, 0), count, ns.passed_minor.get(name, 0),
                    0 if cash is None else cash.available_minor,
                    series_calendar(ns, state.distribution, name, today),
                ))  # fmt: skip
            return out

        return self.log.read(q)

    # Conversion -------------------------------------------------------------------------------

    def convert(self, series: str, claim_id: str, creditor: str, date: str) -> Converted | Refused:
        """``creditor`` assigns ``claim_id`` to the series' holding entity on ``date``: the
        notes are minted, then the clerk records the transfer (module docstring)."""
        known = self.log.read(lambda s: (s.notes.series.get(series),
                                         s.notes.conversions.get(claim_id)))  # fmt: skip
        terms, before = known
        if terms is None:
            return Refused(NotesServiceCode.series_not_found, f"no series {series!r}")
        holding = terms.holding_entity
        if (
            before is None
            or assignment_seq(self.log, before.sequence, claim_id, holding) is not None
        ):
            # the core decides, and refuses a claim converted and assigned already
            outcome = self._submit(ConvertClaim(series, claim_id, creditor, date), self.gateway)
            if isinstance(outcome, Refused):
                return outcome
            seq = outcome.seq
        else:  # converted, but the clerk's assignment is missing: record it
            seq = before.sequence
        converted = self._signed(seq)
        event = from_payload(converted.event.type, converted.event.payload, seq,
                             converted.event.time)  # fmt: skip
        assert isinstance(event, ClaimConverted), event
        evidence = event.evidence
        digest = evidence_digest(evidence)
        assigned = assignment_seq(self.log, seq, claim_id, holding)
        if assigned is None:
            outcome = self._submit(
                AssignClaim(claim_id, holding, evidence.transfer_date, digest),
                self.admin,
            )
            if isinstance(outcome, Refused):
                return outcome
            assigned_seq = outcome.seq
        else:
            assigned_seq = assigned
        signatures = (converted, self._signed(assigned_seq))
        return Converted(seq, assigned_seq, event.notes, evidence, digest, signatures)

    def _signed(self, seq: int) -> SignedEvent:
        (leaf,) = self.log.store.leaves(seq, seq + 1)
        return log_event.parse_leaf(leaf).signed

    # Holders and pass-through -----------------------------------------------------------------

    def holders(self, series: str, record_sequence: int) -> dict[str, int] | Refused:
        """Note units of ``series`` per holder once the event at ``record_sequence`` is applied
        (notes locked in resting orders included)."""

        def q(state: State) -> dict[str, int] | Refused:
            if series not in state.notes.series:
                return Refused(NotesServiceCode.series_not_found, f"no series {series!r}")
            if not 0 <= record_sequence < state.events:
                detail = f"position {record_sequence} of a log of {state.events}"
                return Refused(NotesServiceCode.position_out_of_range, detail)
            return holdings(state.notes, state.market, series, record_sequence)

        return self.log.read(q)

    def record_position(self, record_date: str) -> int | Refused:
        """The last position whose event is dated on or before ``record_date`` (module
        docstring); ``record_date_not_passed`` while no later event is logged."""
        size = self.log.size
        if size == 0 or self._date_at(size - 1) <= record_date:
            return Refused(NotesServiceCode.record_date_not_passed,
                           f"no event after {record_date} is logged yet")  # fmt: skip
        if self._date_at(0) > record_date:
            return Refused(NotesServiceCode.record_date_before_log,
                           f"the log begins after {record_date}")  # fmt: skip
        lo, hi = 0, size - 1  # the first event dated after the record date is in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            if self._date_at(mid) <= record_date:
                lo = mid + 1
            else:
                hi = mid
        return lo - 1

    def _date_at(self, seq: int) -> str:
        return self._signed(seq).event.time[:10]

    def received(self, series: str, round_id: str) -> int | Refused:
        """Cents the round paid the holding entity for claims converted into ``series``."""

        def q(state: State) -> int | Refused:
            terms = state.notes.series.get(series)
            if terms is None:
                return Refused(NotesServiceCode.series_not_found, f"no series {series!r}")
            progress = state.distribution.rounds.get(round_id)
            if progress is None:
                return Refused(NotesServiceCode.round_not_found, f"no round {round_id!r}")
            if not progress.completed_at:
                return Refused(NotesServiceCode.round_not_completed, f"{round_id} is not done")
            return _received(state, terms, round_id)

        return self.log.read(q)

    def pass_through(
        self, series: str, round_id: str, record_sequence: int | None = None
    ) -> PassedView | Refused:
        """Pass what ``round_id`` paid the holding entity for ``series`` through to the note
        holders at the round's record position (or ``record_sequence``), signed by the
        treasury."""
        amount = self.received(series, round_id)
        if isinstance(amount, Refused):
            return amount
        record_date = self.log.read(lambda s: s.distribution.rounds[round_id].round.record_date)
        if record_sequence is None:
            position = self.record_position(record_date)
            if isinstance(position, Refused):
                return position
            record_sequence = position
        command = PassThrough(series, round_id, amount, record_sequence, record_date)
        outcome = self._submit(command, self.treasury)
        if isinstance(outcome, Refused):
            return outcome
        held = self.holders(series, record_sequence)
        assert not isinstance(held, Refused), held
        allocation = tuple(sorted(allocation_of(held, amount).items()))
        seq = outcome.seq if outcome.events else None
        return PassedView(seq, round_id, record_sequence, record_date, amount, allocation)


# Helpers ----------------------------------------------------------------------------------------


def evidence_digest(evidence: TransferEvidence) -> str:
    """SHA-256 of the canonical evidence (``adapters.files.form2100a.evidence_sha256``'s rule,
    which ``claim.assigned`` records)."""
    return hashlib.sha256(canonical.encode(evidence_payload(evidence))).hexdigest()


def _role(state: State, name: str) -> str | None:
    actor = state.actors.get(name)
    return None if actor is None else str(actor.role)


def _received(state: State, terms: Series, round_id: str) -> int:
    account = f"{terms.holding_entity}/{USD}/creditor_available"
    claims = {c for c, conv in state.notes.conversions.items() if conv.series == terms.series}
    prefix = f"d:{round_id}:"
    total = 0
    for stored in state.ledger.transfers.values():
        t = stored.transfer
        if (t.id.startswith(prefix) and t.credit_account_id == account and t.asset == USD
                and t.refs.get("claim") in claims):  # fmt: skip
            total += t.amount_minor
    return total


def allocation_of(holders: Mapping[str, int], amount_minor: int) -> dict[str, int]:
    """The pass-through's split of ``amount_minor`` over ``holders`` (the core's rule)."""
    return allocate_pass_through(amount_minor, {a: n for a, n in holders.items() if n})


def assignment_seq(log: LogService, start: int, claim_id: str, holding_entity: str) -> int | None:
    """The position of the ``claim.assigned`` of ``claim_id`` to the holding entity logged
    after ``start`` (the conversion), or ``None``; reads the log in pages of ``_SCAN_LEAVES``."""
    size = log.size
    for begin in range(start + 1, size, _SCAN_LEAVES):
        leaves = log.store.leaves(begin, min(size, begin + _SCAN_LEAVES))
        for offset, leaf in enumerate(leaves):
            e = log_event.parse_leaf(leaf).event
            if (e.type == CLAIM_ASSIGNED and e.payload.get("claim_id") == claim_id
                    and e.payload.get("to") == holding_entity):  # fmt: skip
                return begin + offset
    return None
