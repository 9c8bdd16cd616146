"""Properties of a distribution round (hypothesis), on random registers and plans.

- the round equals the per-claim ``Fraction`` reference (``reference_round``), and its int64
  and Python-int paths agree;
- per class, the entitlements sum to the class total exactly (the round's total is the sum of
  its parts), and each is within one cent of its exact entitlement (floor or ceiling), never
  above the ceiling of its exact cap;
- the lines do not depend on the order of the rows;
- re-running a round with ``received`` updated pays nothing more;
- over a sequence of rounds with rising percentages, what a claim received never exceeds the
  ceiling of its exact entitlement, and the cumulative payments of a class are its total plus
  at most the cents of claims rounded up earlier and down now;
- where the exact entitlements sum to a whole number, the split is ``allocate_pro_rata``.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.core.distribution.compute import RoundLines, compute_round
from reclaim.core.distribution.interest import cap_fraction
from reclaim.core.distribution.model import (
    CAP,
    PERCENT,
    POOL,
    ClassRound,
    ClassTerms,
    InterestTerms,
    Plan,
    Round,
)
from reclaim.core.money import allocate_pro_rata
from tests.support.distribution_frames import FX, Row, escrowed, frame
from tests.support.reference import reference_entitlements, reference_round

CLASSES = ("A", "B", "C")
STATUSES = ("allowed", "allowed", "allowed", "disputed", "scheduled", "expunged")

amounts = st.one_of(
    st.integers(0, 10),
    st.integers(0, 100_000),
    st.integers(0, 10**12),
    st.sampled_from([1, 3, 99_999, 5_000_000, 10**12]),
)
interest_terms = st.builds(
    InterestTerms,
    st.sampled_from([0, 900, 1_234, 10_000]),
    st.sampled_from(["simple", "compound"]),
    st.sampled_from(["ACT/365", "ACT/360"]),
    st.sampled_from(["2022-11-11", "2020-02-29", "2024-12-31"]),
)
plans = st.builds(
    lambda caps, interests, reserved: Plan(
        "e",
        {
            code: ClassTerms(code, cap, interest)
            for code, cap, interest in zip(CLASSES, caps, interests, strict=True)
        },
        ("allowed",),
        ("disputed",) if reserved else (),
        "",
        "",
        "escrow",
    ),
    st.lists(st.sampled_from([0, 1, 5_000, 10_000, 14_200, 100_000]), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.booleans(),
)
class_rounds = st.one_of(
    st.builds(
        lambda bps, to: ClassRound("", PERCENT, bps, 0, to),
        st.integers(1, 100_000),
        st.sampled_from(["", "2024-01-31"]),
    ),
    st.builds(lambda to: ClassRound("", CAP, 0, 0, to), st.sampled_from(["", "2025-02-18"])),
    st.builds(lambda pool: ClassRound("", POOL, 0, pool), st.integers(0, 10**13)),
)


@st.composite
def registers(draw: st.DrawFn, *, received: bool = True) -> list[Row]:
    size = draw(st.integers(0, 30))
    ids = draw(
        st.lists(
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,19}", fullmatch=True),
            min_size=size,
            max_size=size,
            unique=True,
        )
    )
    rows = []
    for claim_id in ids:
        status = draw(st.sampled_from(STATUSES))
        row = Row(
            claim_id,
            draw(st.sampled_from(CLASSES)),
            draw(amounts),
            status,
            draw(st.integers(0, 10**6)) if received and draw(st.booleans()) else 0,
            asset=draw(st.sampled_from(["USD", "EUR", "USDC"])),
            jurisdiction=draw(st.sampled_from(["US", "FR", "CN"])),
        )
        if status == "disputed":
            row = escrowed(row, "disputed")
        elif draw(st.integers(0, 9)) == 0:
            row = escrowed(row, "restricted")
        rows.append(row)
    return rows


@st.composite
def rounds(draw: st.DrawFn) -> Round:
    named = draw(st.lists(st.sampled_from(CLASSES), min_size=1, max_size=3, unique=True))
    classes = tuple(draw(class_rounds)._replace(class_code=code) for code in sorted(named))
    return Round(
        "r", "e", "2025-01-03", draw(st.sampled_from(["2025-02-18", "2031-07-15"])), classes, 0
    )


def pools_for(round_: Round) -> dict[str, int]:
    return {c.class_code: c.pool_minor for c in round_.classes if c.target == POOL}


def exact_entitlements(
    rows: list[Row], plan: Plan, round_: Round, interest: InterestTerms
) -> dict[str, Fraction]:
    """Each participating claim's exact entitlement (per the model docstring)."""
    exact: dict[str, Fraction] = {}
    pools = pools_for(round_)
    for c in round_.classes:
        members = [
            r for r in rows if r.class_code == c.class_code and r.status in ("allowed", "disputed")
        ]
        members = [r for r in members if r.status in plan.paid_statuses + plan.reserved_statuses]
        cap = cap_fraction(
            plan.classes[c.class_code], interest, c.interest_to or round_.payment_date
        )
        total = sum(r.admitted_minor for r in members)
        for r in members:
            if c.target == PERCENT:
                exact[r.claim_id] = min(
                    Fraction(r.admitted_minor * c.cumulative_bps, 10_000), r.admitted_minor * cap
                )
            elif c.target == CAP:
                exact[r.claim_id] = r.admitted_minor * cap
            else:
                share = (
                    Fraction(pools[c.class_code] * r.admitted_minor, total)
                    if total
                    else Fraction(0)
                )
                exact[r.claim_id] = min(share, r.admitted_minor * cap)
    return exact


def lines_of(lines: RoundLines) -> list[tuple[object, ...]]:
    return lines.frame.select(
        "claim_id",
        "class_code",
        "destination",
        "entitlement_minor",
        "received_minor",
        "usd_minor",
        "asset",
        "amount_minor",
    ).rows()


def compute(
    rows: list[Row], plan: Plan, round_: Round, interest: InterestTerms, **options: bool
) -> RoundLines:
    return compute_round(frame(rows), plan, round_, interest, pools_for(round_), FX, **options)


@settings(max_examples=300, deadline=None)
@given(registers(), plans, rounds(), interest_terms)
def test_the_round_equals_the_reference_and_both_paths_agree(
    rows: list[Row], plan: Plan, round_: Round, interest: InterestTerms
) -> None:
    lines = compute(rows, plan, round_, interest)
    reference = reference_round(frame(rows), plan, round_, interest, pools_for(round_), FX)
    assert lines_of(lines) == [tuple(r) for r in reference]
    exact = compute(rows, plan, round_, interest, exact_python_ints=True)
    assert exact.frame.equals(lines.frame)
    assert exact.classes == lines.classes


@settings(max_examples=300, deadline=None)
@given(registers(received=False), plans, rounds(), interest_terms)
def test_parts_sum_to_the_class_total_each_within_a_cent_of_its_exact_entitlement(
    rows: list[Row], plan: Plan, round_: Round, interest: InterestTerms
) -> None:
    lines = compute(rows, plan, round_, interest)
    exact = exact_entitlements(rows, plan, round_, interest)
    paid = dict(
        zip(
            lines.frame["claim_id"].to_list(),
            lines.frame["entitlement_minor"].to_list(),
            strict=True,
        )
    )
    for total in lines.classes:
        members = [
            r.claim_id for r in rows if r.claim_id in exact and r.class_code == total.class_code
        ]
        exact_sum = sum((exact[m] for m in members), Fraction(0))
        assert total.entitled_minor == exact_sum.__floor__()
        assert sum(paid.get(m, 0) for m in members) == total.entitled_minor == total.usd_minor
        assert total.lines == sum(1 for m in members if m in paid)
    for row in rows:
        if row.claim_id not in exact:
            assert row.claim_id not in paid
            continue
        part = paid.get(row.claim_id, 0)
        assert abs(part - exact[row.claim_id]) < 1, row
        class_round = next(c for c in round_.classes if c.class_code == row.class_code)
        cap = cap_fraction(
            plan.classes[row.class_code], interest, class_round.interest_to or round_.payment_date
        )
        assert part <= (row.admitted_minor * cap).__ceil__()
    assert lines.usd_minor == sum(paid.values()) == lines.summary().usd_minor


@settings(max_examples=150, deadline=None)
@given(registers(), plans, rounds(), interest_terms, st.randoms(use_true_random=False))
def test_the_lines_do_not_depend_on_the_order_of_the_rows(
    rows: list[Row], plan: Plan, round_: Round, interest: InterestTerms, rng
) -> None:
    shuffled = list(rows)
    rng.shuffle(shuffled)
    assert compute(shuffled, plan, round_, interest).frame.equals(
        compute(rows, plan, round_, interest).frame
    )


@settings(max_examples=150, deadline=None)
@given(registers(), plans, rounds(), interest_terms)
def test_re_running_a_round_with_received_updated_pays_nothing_more(
    rows: list[Row], plan: Plan, round_: Round, interest: InterestTerms
) -> None:
    lines = compute(rows, plan, round_, interest)
    paid = dict(
        zip(lines.frame["claim_id"].to_list(), lines.frame["usd_minor"].to_list(), strict=True)
    )
    after = [r._replace(received_minor=r.received_minor + paid.get(r.claim_id, 0)) for r in rows]
    again = compute(after, plan, round_, interest)
    assert again.frame.height == 0
    assert [c.entitled_minor for c in again.classes] == [c.entitled_minor for c in lines.classes]


@settings(max_examples=150, deadline=None)
@given(
    registers(received=False),
    plans,
    interest_terms,
    st.lists(st.integers(1, 100_000), min_size=1, max_size=5).map(sorted),
)
def test_rising_percentages_never_pay_a_claim_above_its_entitlement(
    rows: list[Row], plan: Plan, interest: InterestTerms, percentages: list[int]
) -> None:
    received = {r.claim_id: 0 for r in rows}
    for number, bps in enumerate(percentages):
        classes = tuple(ClassRound(code, PERCENT, bps) for code in CLASSES)
        round_ = Round(f"r{number}", "e", "2025-01-03", "2026-03-31", classes, 0)
        current = [r._replace(received_minor=received[r.claim_id]) for r in rows]
        lines = compute(current, plan, round_, interest)
        for claim_id, usd in zip(
            lines.frame["claim_id"].to_list(), lines.frame["usd_minor"].to_list(), strict=True
        ):
            received[claim_id] += usd
        exact = exact_entitlements(rows, plan, round_, interest)
        overshoot = 0
        entitled = reference_entitlements(frame(current), plan, round_, interest, {})
        for claim_id, due in exact.items():
            assert due.__floor__() <= received[claim_id] <= due.__ceil__(), claim_id
            overshoot += received[claim_id] - entitled[claim_id]
        assert (
            sum(received[c] for c in exact)
            == sum(c.entitled_minor for c in lines.classes) + overshoot
        )
        assert all(received[r.claim_id] == 0 for r in rows if r.claim_id not in exact)


@settings(max_examples=150, deadline=None)
@given(registers(received=False), st.integers(0, 10**9))
def test_a_pool_below_its_cap_is_split_by_allocate_pro_rata(rows: list[Row], pool: int) -> None:
    plan = Plan(
        "e",
        {c: ClassTerms(c, 100_000, False) for c in CLASSES},
        ("allowed",),
        ("disputed",),
        "",
        "",
        "escrow",
    )
    round_ = Round("r", "e", "2025-01-03", "2025-02-18", (ClassRound("A", POOL, 0, pool),), 0)
    members = {
        r.claim_id: r.admitted_minor
        for r in rows
        if r.class_code == "A" and r.status in ("allowed", "disputed")
    }
    weight = sum(members.values())
    if weight == 0 or pool > 10 * weight:
        return
    lines = compute(rows, plan, round_, InterestTerms(0, "simple", "ACT/365", "2022-11-11"))
    expected = {k: v for k, v in allocate_pro_rata(pool, members).items() if v}
    assert (
        dict(
            zip(lines.frame["claim_id"].to_list(), lines.frame["usd_minor"].to_list(), strict=True)
        )
        == expected
    )


def test_the_helpers_on_a_fixed_register() -> None:
    """The helpers above on a register small enough to check by hand: 50% of 3 and 5 cents is
    1.5 and 2.5 → total 4, floors 3, the leftover cent to "a" (equal fractions, smaller id)."""
    rows = [Row("a", "A", 3), Row("b", "A", 5), Row("c", "B", 7)]
    plan = Plan(
        "e", {c: ClassTerms(c, 10_000, False) for c in CLASSES}, ("allowed",), (), "", "", "escrow"
    )
    round_ = Round(
        "r",
        "e",
        "2025-01-03",
        "2025-02-18",
        (ClassRound("A", PERCENT, 5_000), ClassRound("B", CAP)),
        0,
    )
    interest = InterestTerms(0, "simple", "ACT/365", "2022-11-11")
    assert lines_of(compute(rows, plan, round_, interest)) == [
        ("a", "A", "creditor", 2, 0, 2, "USD", 2),
        ("b", "A", "creditor", 2, 0, 2, "USD", 2),
        ("c", "B", "creditor", 7, 0, 7, "USD", 7),
    ]
    assert exact_entitlements(rows, plan, round_, interest) == {
        "a": Fraction(3, 2),
        "b": Fraction(5, 2),
        "c": 7,
    }
