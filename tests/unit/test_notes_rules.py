"""Table tests of the notes core: series, conversion, pass-through, and Rule 3001(e)(2)'s window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction
from typing import Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.core import limits
from reclaim.core.notes import (
    ACCEPTED,
    KINDS,
    ClaimConverted,
    ClaimView,
    ConvertClaim,
    ConvertCode,
    DefineSeries,
    NotesDecision,
    NotesRejection,
    NotesState,
    PassCode,
    PassThrough,
    Series,
    SeriesCode,
    allocate_pass_through,
    assert_invariants,
    decide,
    evolve,
    last_transfer_date,
    makes_record_date,
    notes_for_admitted,
    objection_deadline,
    substitution_date,
)
from reclaim.core.notes.window import OBJECTION_DAYS

T: Final = "2025-03-01T09:00:00.000000Z"
C: Final = ConvertClaim
SERIES: Final = Series("FTX5A", "ftx", "5A", "reclaim-holding", "Every distribution for class 5A")


@dataclass
class Ctx:
    claims: dict[str, ClaimView] = field(default_factory=dict)
    verified: set[str] = field(default_factory=lambda: {"li-wei", "bob"})
    holdings: dict[int, dict[str, int]] = field(default_factory=dict)

    def estate_classes(self, estate: str) -> frozenset[str] | None:
        return frozenset({"5A", "5B", "7"}) if estate == "ftx" else None

    def claim(self, claim_id: str) -> ClaimView | None:
        return self.claims.get(claim_id)

    def kyc_verified(self, creditor: str) -> bool:
        return creditor in self.verified

    def holdings_at(self, series: str, sequence: int) -> Mapping[str, int]:
        return self.holdings.get(sequence, {})


def claim(claim_id: str = "3265-70-01", **kw: object) -> ClaimView:
    base = ClaimView(claim_id, "ftx", "5A", "allowed", 123_456, "li-wei", "2023-09-20")
    return base._replace(**kw)  # type: ignore[arg-type]


class Book:
    def __init__(self, ctx: Ctx | None = None) -> None:
        self.state = NotesState()
        self.ctx = ctx or Ctx()
        self.sequence = 0
        assert isinstance(self.run(DefineSeries(SERIES)), NotesDecision)

    def run(self, command: object) -> NotesDecision | NotesRejection:
        self.sequence += 1
        d = decide(self.state, self.ctx, command, self.sequence, T)  # type: ignore[arg-type]
        if isinstance(d, NotesDecision) and d.event is not None:
            evolve(self.state, d.event)
            assert_invariants(self.state)
        return d


def code_of(d: NotesDecision | NotesRejection) -> object:
    return d.code if isinstance(d, NotesRejection) else None


# Face unit and conversion ------------------------------------------------------------------------


def test_one_note_unit_is_one_cent_of_admitted_face() -> None:
    assert notes_for_admitted(123_456) == 123_456
    assert notes_for_admitted(0) == 0


def test_a_conversion_mints_the_admitted_face_and_carries_the_evidence_of_transfer() -> None:
    b = Book(Ctx(claims={"3265-70-01": claim()}))
    d = b.run(C("FTX5A", "3265-70-01", "li-wei", "2025-03-01"))
    assert isinstance(d, NotesDecision)
    assert d.notes_minted == 123_456
    assert isinstance(d.event, ClaimConverted)
    e = d.event.evidence
    assert (e.transferor, e.transferee, e.claim_id, e.amount_minor) == (
        "li-wei", "reclaim-holding", "3265-70-01", 123_456,
    )  # fmt: skip
    assert (e.claim_filed_date, e.transfer_date, e.estate) == ("2023-09-20", "2025-03-01", "ftx")
    assert b.state.minted["FTX5A"] == 123_456
    again = b.run(C("FTX5A", "3265-70-01", "li-wei", "2025-03-02"))
    assert code_of(again) is ConvertCode.claim_already_assigned


@pytest.mark.parametrize(
    ("command", "view", "code"),
    [
        (C("FTX5A", "", "li-wei", "2025-03-01"), claim(), ConvertCode.claim_id_malformed),
        (C("FTX5A", "c1", "Li Wei", "2025-03-01"), claim(), ConvertCode.creditor_malformed),
        (C("FTX5A", "c1", "li-wei", "2025-02-30"), claim(), ConvertCode.date_invalid),
        (C("FTX6A", "c1", "li-wei", "2025-03-01"), claim(), ConvertCode.series_not_found),
        (C("FTX5A", "c2", "li-wei", "2025-03-01"), claim(), ConvertCode.claim_not_found),
        (C("FTX5A", "c1", "li-wei", "2025-03-01"), claim(claim_class="5B"),
         ConvertCode.claim_not_in_series),
        (C("FTX5A", "c1", "li-wei", "2025-03-01"), claim(creditor=None),
         ConvertCode.claim_not_linked),
        (C("FTX5A", "c1", "bob", "2025-03-01"), claim(), ConvertCode.claim_linked_to_other),
        (C("FTX5A", "c1", "eve", "2025-03-01"), claim(creditor="eve"),
         ConvertCode.kyc_not_verified),
        (C("FTX5A", "c1", "li-wei", "2025-03-01"), claim(status="disputed"),
         ConvertCode.claim_disputed),
        (C("FTX5A", "c1", "li-wei", "2025-03-01"), claim(status="expunged"),
         ConvertCode.claim_expunged),
        (C("FTX5A", "c1", "li-wei", "2025-03-01"), claim(admitted_minor=0),
         ConvertCode.claim_amount_zero),
        (C("FTX5A", "c1", "li-wei", "2025-03-01"),
         claim(admitted_minor=limits.integer_max), None),
    ],
)  # fmt: skip
def test_conversion_refusals(command: ConvertClaim, view: ClaimView, code: object) -> None:
    b = Book(Ctx(claims={"c1": view._replace(claim_id="c1")}))
    assert code_of(b.run(command)) is code


def test_the_supply_of_a_series_stays_within_bigint() -> None:
    big = limits.integer_max
    ctx = Ctx(claims={"c1": claim("c1", admitted_minor=big), "c2": claim("c2", admitted_minor=1)})
    b = Book(ctx)
    assert code_of(b.run(C("FTX5A", "c1", "li-wei", "2025-03-01"))) is None
    over = b.run(C("FTX5A", "c2", "li-wei", "2025-03-01"))
    assert code_of(over) is ConvertCode.supply_exceeds_bigint


@pytest.mark.parametrize(
    ("series", "code"),
    [
        (replace(SERIES, series="FTX-5A"), SeriesCode.series_malformed),
        (replace(SERIES, estate="FTX"), SeriesCode.estate_malformed),
        (replace(SERIES, claim_class=""), SeriesCode.class_malformed),
        (replace(SERIES, holding_entity="Holding Co"), SeriesCode.holding_entity_malformed),
        (replace(SERIES, entitlement=" padded"), SeriesCode.entitlement_invalid),
        (replace(SERIES, estate="celsius"), SeriesCode.estate_not_found),
        (replace(SERIES, claim_class="6A"), SeriesCode.class_unknown),
        (replace(SERIES, entitlement="Other terms"), SeriesCode.series_exists_with_different_terms),
        (replace(SERIES, series="FTX5AX"), SeriesCode.class_has_series),
        (SERIES, None),  # exists: accepted, nothing to append
    ],
)
def test_series_refusals(series: Series, code: object) -> None:
    b = Book()
    d = b.run(DefineSeries(series))
    assert code_of(d) is code
    if code is None:
        assert d == NotesDecision(None)


def test_the_number_of_series_is_bounded() -> None:
    state = NotesState()
    ctx = Ctx()
    for n in range(limits.notes_series_max):
        s = Series(f"S{n}", "ftx", "5A", "h", "terms")
        evolve(state, decide(state, ctx, DefineSeries(s), n, T).event)  # type: ignore[union-attr,arg-type]
        state.by_class.clear()  # let every series share the class for this bound only
    d = decide(state, ctx, DefineSeries(SERIES), 999, T)
    assert code_of(d) is SeriesCode.series_exceeded


# Pass-through -----------------------------------------------------------------------------------


def test_pass_through_splits_by_largest_remainder_with_ties_by_account_id() -> None:
    # 100 cents over 3 equal holders: 33 each, one cent left; the three remainders tie, so
    # the lowest account id gets it.
    assert allocate_pass_through(100, {"carol": 5, "alice": 5, "bob": 5}) == {
        "alice": 34, "bob": 33, "carol": 33,
    }  # fmt: skip
    assert allocate_pass_through(10, {"a": 1, "b": 0}) == {"a": 10}
    ctx = Ctx(holdings={1: {"buyer": 60_000, "li-wei": 63_456, "gone": 0}})
    b = Book(ctx)
    d = b.run(PassThrough("FTX5A", "round-2", 8_888_88, 1, "2025-04-11"))
    assert isinstance(d, NotesDecision)
    # 888,888 × 60,000 / 123,456 = 432,002.33…; × 63,456 / 123,456 = 456,885.67…: the floors
    # leave one cent, which goes to the larger remainder.
    assert d.allocation == (("buyer", 432_002), ("li-wei", 456_886))
    assert sum(v for _, v in d.allocation) == 8_888_88
    assert b.state.passed_minor["FTX5A"] == 8_888_88
    same = b.run(PassThrough("FTX5A", "round-2", 8_888_88, 1, "2025-04-11"))
    assert same == NotesDecision(None)
    other = b.run(PassThrough("FTX5A", "round-2", 1, 1, "2025-04-11"))
    assert code_of(other) is PassCode.pass_through_exists_with_different_fields


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (PassThrough("FTX5A", "", 1, 1, "2025-04-11"), PassCode.round_id_malformed),
        (PassThrough("FTX5A", "r", -1, 1, "2025-04-11"), PassCode.amount_out_of_range),
        (PassThrough("FTX5A", "r", 1, 99, "2025-04-11"), PassCode.record_sequence_out_of_range),
        (PassThrough("FTX5A", "r", 1, 1, "11/04/2025"), PassCode.date_invalid),
        (PassThrough("FTX6A", "r", 1, 1, "2025-04-11"), PassCode.series_not_found),
        (PassThrough("FTX5A", "r", 1, 0, "2025-04-11"), PassCode.no_notes_outstanding),
    ],
)
def test_pass_through_refusals(command: PassThrough, code: PassCode) -> None:
    assert code_of(Book(Ctx(holdings={1: {"a": 1}})).run(command)) is code


@given(
    total=st.integers(0, 10**12),
    holdings=st.dictionaries(st.text("abcdef", min_size=1, max_size=4), st.integers(1, 10**9),
                             min_size=1, max_size=30),
)  # fmt: skip
def test_pass_through_is_exact_and_within_a_cent_of_each_share(
    total: int, holdings: dict[str, int]
) -> None:
    parts = allocate_pass_through(total, holdings)
    assert sum(parts.values()) == total
    whole = sum(holdings.values())
    for account, part in parts.items():
        assert abs(Fraction(part) - Fraction(total * holdings[account], whole)) < 1
    assert allocate_pass_through(total, dict(reversed(list(holdings.items())))) == parts


# Rule 3001(e)(2): the 21-day window -------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed", "deadline"),
    [
        (date(2025, 3, 3), date(2025, 3, 24)),  # Monday + 21 = Monday
        (date(2025, 3, 1), date(2025, 3, 24)),  # Saturday + 21 = Saturday, rolled to Monday
        (date(2025, 3, 2), date(2025, 3, 24)),  # Sunday + 21 = Sunday, rolled to Monday
    ],
)
def test_objection_deadline(filed: date, deadline: date) -> None:
    assert objection_deadline(filed) == deadline
    assert substitution_date(filed) == date(2025, 3, 25)


def test_a_holiday_pushes_the_deadline_and_mail_adds_days() -> None:
    assert objection_deadline(date(2025, 3, 3), frozenset({date(2025, 3, 24)})) == date(2025, 3, 25)
    assert objection_deadline(date(2025, 3, 3), extra_days=3) == date(2025, 3, 27)


def test_last_transfer_date_before_ftx_round_two() -> None:
    record = date(2025, 4, 11)  # a Friday
    last = last_transfer_date(record)
    assert last == date(2025, 3, 20)
    assert makes_record_date(last, record)
    assert not makes_record_date(date(2025, 3, 21), record)
    assert OBJECTION_DAYS == 21


@given(
    record=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    holidays=st.frozensets(st.dates(date(2023, 12, 1), date(2027, 12, 31)), max_size=40),
)
def test_last_transfer_date_is_the_latest_that_makes_the_record_date(
    record: date, holidays: frozenset[date]
) -> None:
    last = last_transfer_date(record, holidays)
    assert makes_record_date(last, record, holidays)
    later = date.fromordinal(last.toordinal() + 1)
    assert not makes_record_date(later, record, holidays)


def test_every_code_has_a_kind() -> None:
    assert not set(KINDS) & ACCEPTED
    assert KINDS[ConvertCode.claim_disputed].value == "conflict"
    assert KINDS[ConvertCode.kyc_not_verified].value == "forbidden"


def test_every_estate_a_register_can_name_can_have_a_series() -> None:
    """A register's ``estate_id`` may hold ``.`` and ``_`` and 63 characters; a series' terms
    take the same form (they once took only ``[a-z0-9-]``, up to 32: such an estate's claims
    could never be converted)."""
    from reclaim.core.claims.model import ESTATE_ID_RE

    class Known(Ctx):
        def estate_classes(self, name: str) -> frozenset[str] | None:
            return frozenset({"5A"}) if ESTATE_ID_RE.fullmatch(name) else None

    for estate in ("ftx.trading_ltd", "e" * 63):
        assert ESTATE_ID_RE.fullmatch(estate), "a register may name it"
        d = Book(Known()).run(DefineSeries(replace(SERIES, series="OTHER5A", estate=estate)))
        assert code_of(d) is None, estate
        assert isinstance(d, NotesDecision)
        assert d.event is not None, "a series defined"
    too_long = Book(Known()).run(DefineSeries(replace(SERIES, estate="e" * 64)))
    assert code_of(too_long) is SeriesCode.estate_malformed
