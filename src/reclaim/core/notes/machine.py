"""decide, evolve and the invariants of the notes core (see the package docstring)."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import NamedTuple, assert_never

from reclaim.core import limits, money
from reclaim.core.domain import Entities, keys_of
from reclaim.core.notes.codes import ConvertCode, NotesRejection, PassCode, SeriesCode
from reclaim.core.notes.model import (
    ACTOR_RE,
    CLAIM_ID_RE,
    CLASS_RE,
    ESTATE_RE,
    REFUSED_STATUSES,
    ROUND_ID_RE,
    SERIES_RE,
    ClaimConverted,
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
from reclaim.core.types import JsonValue


class Conversion(NamedTuple):
    series: str
    creditor: str
    notes: int
    evidence: TransferEvidence
    #: The log position of the conversion (the holdings at a record position read it).
    sequence: int = 0


#: A pass-through's allocation: the (holder, cents) pairs, and the holders and cents aligned.
Allocated = tuple[tuple[tuple[str, int], ...], list[str], list[int]]


@dataclass(slots=True)
class NotesState(Entities):
    """Series, the claims converted into each, notes minted, and the rounds passed through."""

    series: dict[str, Series] = field(default_factory=dict)
    by_class: dict[tuple[str, str], str] = field(default_factory=dict)
    conversions: dict[str, Conversion] = field(default_factory=dict)
    minted: dict[str, int] = field(default_factory=dict)
    passed: dict[tuple[str, str], PassedThrough] = field(default_factory=dict)
    #: Cents passed through per series (the reconciliation: series received = passed through).
    passed_minor: dict[str, int] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    #: The last pass-through allocation computed, by (series, record position, cents): a memo,
    #: not state (no entity, no digest). The holdings at a past log position never change, so
    #: the ``evolve`` after a ``decide`` (or a ``check``) of a pass-through over a million
    #: holders reuses the split instead of recomputing it, and clears it; the ledger's checks
    #: are not memoised.
    allocated: dict[tuple[str, int, int], Allocated] = field(
        default_factory=dict, compare=False, repr=False
    )

    # The digest's view.

    def entity_keys(self) -> list[str]:
        """``note_series/<series>``, ``note_conversion/<claim>``, ``pass_through/<series>/<round>``,
        each sorted."""
        passed = [f"pass_through/{s}/{r}" for s, r in sorted(self.passed)]
        return keys_of(("note_series", self.series), ("note_conversion", self.conversions)) + passed

    def entity(self, key: str) -> JsonValue:
        kind, _, ident = key.partition("/")
        if kind == "note_series" and ident in self.series:
            s = self.series[ident]
            return {
                "estate": s.estate, "claim_class": s.claim_class,
                "holding_entity": s.holding_entity, "entitlement": s.entitlement,
                "minted": str(self.minted[ident]), "passed_minor": str(self.passed_minor[ident]),
            }  # fmt: skip
        if kind == "note_conversion" and ident in self.conversions:
            c = self.conversions[ident]
            return {
                "series": c.series, "creditor": c.creditor, "notes": str(c.notes),
                "sequence": str(c.sequence), "evidence": evidence_payload(c.evidence),
            }  # fmt: skip
        series, _, round_id = ident.partition("/")
        if kind == "pass_through" and (series, round_id) in self.passed:
            p = self.passed[series, round_id]
            return {
                "amount_minor": str(p.amount_minor), "record_sequence": str(p.record_sequence),
                "record_date": p.record_date, "sequence": str(p.sequence),
            }  # fmt: skip
        return None


def evidence_payload(e: TransferEvidence) -> dict[str, JsonValue]:
    """The evidence of transfer as canonical-JSON-ready data (``payloads`` reads it back): its
    fields, the amount as decimal text."""
    return {**asdict(e), "amount_minor": str(e.amount_minor)}


def allocate_pass_through(amount_minor: int, holdings: Mapping[str, int]) -> dict[str, int]:
    """Split ``amount_minor`` over holders in proportion to their notes: the distribution
    engine's rule (``money.allocate_pro_rata``: largest remainder, ties by account id
    ascending, parts summing to the amount exactly). Holders of zero notes get no part."""
    weights = {account: notes for account, notes in holdings.items() if notes}
    return money.allocate_pro_rata(amount_minor, weights)


def _date_ok(text: object) -> bool:
    if not isinstance(text, str) or len(text) != 10:
        return False
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def decide(
    state: NotesState, ctx: NotesContext, command: NotesCommand, sequence: int, time: str
) -> NotesDecision | NotesRejection:
    if isinstance(command, DefineSeries):
        return _define(state, ctx, command.series, sequence, time)
    if isinstance(command, ConvertClaim):
        return _convert(state, ctx, command, sequence, time)
    if isinstance(command, PassThrough):
        return _pass(state, ctx, command, sequence, time)
    assert_never(command)


def _series_code(state: NotesState, ctx: NotesContext, s: Series) -> SeriesCode:
    if not isinstance(s.series, str) or not SERIES_RE.fullmatch(s.series):
        return SeriesCode.series_malformed
    if not isinstance(s.estate, str) or not ESTATE_RE.fullmatch(s.estate):
        return SeriesCode.estate_malformed
    if not isinstance(s.claim_class, str) or not CLASS_RE.fullmatch(s.claim_class):
        return SeriesCode.class_malformed
    if not isinstance(s.holding_entity, str) or not ACTOR_RE.fullmatch(s.holding_entity):
        return SeriesCode.holding_entity_malformed
    e = s.entitlement
    if not isinstance(e, str) or not e or e != e.strip() or len(e) > limits.string_length_max_chars:
        return SeriesCode.entitlement_invalid
    classes = ctx.estate_classes(s.estate)
    if classes is None:
        return SeriesCode.estate_not_found
    if s.claim_class not in classes:
        return SeriesCode.class_unknown
    if s.series in state.series:
        same = state.series[s.series] == s
        return SeriesCode.exists if same else SeriesCode.series_exists_with_different_terms
    if len(state.series) >= limits.notes_series_max:
        return SeriesCode.series_exceeded
    if (s.estate, s.claim_class) in state.by_class:
        return SeriesCode.class_has_series
    return SeriesCode.ok


def _define(
    state: NotesState, ctx: NotesContext, s: Series, sequence: int, time: str
) -> NotesDecision | NotesRejection:
    code = _series_code(state, ctx, s)
    if code is SeriesCode.exists:
        return NotesDecision(None)
    if code is not SeriesCode.ok:
        return NotesRejection(code, None, f"series {s.series!r}: {code.name}")
    return NotesDecision(SeriesDefined(sequence, time, s))


def _convert(
    state: NotesState, ctx: NotesContext, c: ConvertClaim, sequence: int, time: str
) -> NotesDecision | NotesRejection:
    def no(code: ConvertCode, detail: str) -> NotesRejection:
        return NotesRejection(code, None, f"claim {c.claim_id!r}: {detail}")

    if not isinstance(c.claim_id, str) or not CLAIM_ID_RE.fullmatch(c.claim_id):
        return no(ConvertCode.claim_id_malformed, "malformed id")
    if not isinstance(c.creditor, str) or not ACTOR_RE.fullmatch(c.creditor):
        return no(ConvertCode.creditor_malformed, "malformed creditor")
    if not _date_ok(c.date):
        return no(ConvertCode.date_invalid, f"{c.date!r} is not a date")
    series = state.series.get(c.series)
    if series is None:
        return no(ConvertCode.series_not_found, f"no series {c.series!r}")
    claim = ctx.claim(c.claim_id)
    if claim is None:
        return no(ConvertCode.claim_not_found, "not in the register")
    if (claim.estate, claim.claim_class) != (series.estate, series.claim_class):
        return no(ConvertCode.claim_not_in_series, f"not a claim of series {series.series}")
    if claim.creditor is None:
        return no(ConvertCode.claim_not_linked, "not linked to a creditor")
    if claim.creditor != c.creditor:
        return no(ConvertCode.claim_linked_to_other, "linked to another creditor")
    if not ctx.kyc_verified(c.creditor):
        return no(ConvertCode.kyc_not_verified, f"{c.creditor}'s KYC is not verified")
    if claim.status in REFUSED_STATUSES:
        return no(ConvertCode[REFUSED_STATUSES[claim.status]], f"the claim is {claim.status}")
    if c.claim_id in state.conversions:
        return no(ConvertCode.claim_already_assigned, "assigned to the holding entity already")
    notes = notes_for_admitted(claim.admitted_minor)
    if notes == 0:
        return no(ConvertCode.claim_amount_zero, "admitted at zero")
    if not money.is_bigint(state.minted.get(c.series, 0) + notes):
        return no(ConvertCode.supply_exceeds_bigint, "the series' supply would exceed BIGINT")
    evidence = TransferEvidence(
        transferor=c.creditor, transferee=series.holding_entity, claim_id=c.claim_id,
        estate=claim.estate, amount_minor=claim.admitted_minor,
        claim_filed_date=claim.filed_date, transfer_date=c.date,
    )  # fmt: skip
    event = ClaimConverted(sequence, time, c.series, c.creditor, notes, evidence)
    return NotesDecision(event, notes_minted=notes)


def _pass(
    state: NotesState, ctx: NotesContext, p: PassThrough, sequence: int, time: str
) -> NotesDecision | NotesRejection:
    def no(code: PassCode, detail: str) -> NotesRejection:
        return NotesRejection(code, None, f"round {p.round_id!r}: {detail}")

    if not isinstance(p.round_id, str) or not ROUND_ID_RE.fullmatch(p.round_id):
        return no(PassCode.round_id_malformed, "malformed round id")
    if type(p.amount_minor) is not int or not 0 <= p.amount_minor <= limits.integer_max:
        return no(PassCode.amount_out_of_range, f"{p.amount_minor!r} cents")
    if type(p.record_sequence) is not int or not 0 <= p.record_sequence < sequence:
        return no(PassCode.record_sequence_out_of_range, f"record position {p.record_sequence!r}")
    if not _date_ok(p.record_date):
        return no(PassCode.date_invalid, f"{p.record_date!r} is not a date")
    if p.series not in state.series:
        return no(PassCode.series_not_found, f"no series {p.series!r}")
    before = state.passed.get((p.series, p.round_id))
    if before is not None:
        same = (before.amount_minor, before.record_sequence, before.record_date) == (
            p.amount_minor, p.record_sequence, p.record_date,
        )  # fmt: skip
        if same:
            return NotesDecision(None)
        return no(PassCode.pass_through_exists_with_different_fields, "passed through before")
    key = (p.series, p.record_sequence, p.amount_minor)
    memo = state.allocated.get(key)
    if memo is None:
        holdings = ctx.holdings_at(p.series, p.record_sequence)
        held = holdings if 0 not in holdings.values() else {a: n for a, n in holdings.items() if n}
        holders, weights = list(held), list(held.values())  # aligned: one dict's order
        if not all(map(operator.lt, holders, holders[1:])):  # the context gives them ascending
            holders.sort()
            weights = list(map(held.__getitem__, holders))
        if p.amount_minor and not holders:
            return no(PassCode.no_notes_outstanding, "no note was held at the record position")
        if len(holders) > limits.allocation_parts_max:
            return no(PassCode.holders_exceeded, f"{len(holders)} holders")
        parts = money.allocate_pro_rata_sorted(p.amount_minor, holders, weights)
        memo = (tuple(zip(holders, parts, strict=True)), holders, parts)
        state.allocated.clear()  # one entry: the allocation the next step asks for again
        state.allocated[key] = memo
    event = PassedThrough(
        sequence, time, p.series, p.round_id, p.amount_minor, p.record_sequence, p.record_date
    )
    allocation, holders, parts = memo
    return NotesDecision(event, allocation=allocation, holders=holders, parts=parts)


def evolve(state: NotesState, event: NotesEvent) -> NotesState:
    """Apply a decided (or checked) event in place and return the state."""
    if isinstance(event, SeriesDefined):
        s = event.series
        state.series[s.series] = s
        state.by_class[s.estate, s.claim_class] = s.series
        state.minted[s.series] = 0
        state.passed_minor[s.series] = 0
        state.changed.add(f"note_series/{s.series}")
    elif isinstance(event, ClaimConverted):
        ev = event.evidence
        state.conversions[ev.claim_id] = Conversion(
            event.series, event.creditor, event.notes, ev, event.sequence
        )
        state.minted[event.series] += event.notes
        state.changed |= {f"note_conversion/{ev.claim_id}", f"note_series/{event.series}"}
    else:
        state.passed[event.series, event.round_id] = event
        state.passed_minor[event.series] += event.amount_minor
        state.changed |= {
            f"pass_through/{event.series}/{event.round_id}",
            f"note_series/{event.series}",
        }
    return state


def assert_invariants(state: NotesState) -> None:
    """Indexes exact; each series' supply is the sum of its conversions' notes, each
    conversion's notes its admitted face; each series' passed-through cents the sum of its
    rounds."""
    assert state.by_class == {(s.estate, s.claim_class): k for k, s in state.series.items()}
    supply = dict.fromkeys(state.series, 0)
    for claim_id, c in state.conversions.items():
        assert c.evidence.claim_id == claim_id, c
        assert c.notes == notes_for_admitted(c.evidence.amount_minor) > 0, c
        assert c.evidence.transferee == state.series[c.series].holding_entity, c
        supply[c.series] += c.notes
    assert supply == state.minted, (supply, state.minted)
    assert all(money.is_bigint(n) for n in supply.values())
    passed = dict.fromkeys(state.series, 0)
    for (series, round_id), p in state.passed.items():
        assert (p.series, p.round_id) == (series, round_id), p
        passed[series] += p.amount_minor
    assert passed == state.passed_minor, (passed, state.passed_minor)
