"""Acceptance: FTX's four distribution rounds (``../shared/domain/FACTS.md``) on a synthetic
register, run in sequence with what each claim received fed forward.

The rounds table, cumulative percentages of the allowed amount::

    round  record      paid        5A    5B    6A/6B  7 (convenience)
    ftx-1  2025-01-03  2025-02-18  –     –     –      cap: 100% + 9% simple for 830 days
    ftx-2  2025-04-11  2025-05-30  72%   54%   61%    cap (interest stopped 2025-02-18)
    ftx-3  2025-08-15  2025-09-30  78%   95%   85%    cap (idem)
    ftx-4  2026-02-14  2026-03-31  96%   100%  100%   cap (idem)

The register: every class, allowed and disputed claims, claims escrowed for a restricted
jurisdiction, payouts in USD, EUR and USDC, convenience claims below $50,000, and odd amounts
(0, 1, 3, 7, 99,999 cents) next to skewed large ones. After each round:

- per class, the entitlements sum exactly to ``⌊Σ admitted × percentage⌋`` (the class total);
- each claim's cumulative received is its percentage of its admitted amount to the cent: the
  floor or the ceiling of the exact amount (the one-cent largest-remainder tolerance);
- what a class has received is exactly its total. (In general it is its total plus the cents of
  tiny claims rounded up in an earlier round and down in this one — possible only when a claim's
  exact amount rose by less than a cent, ``admitted × Δpercentage < 1 cent``; the unit tests show
  such a claim. This register, odd amounts included, has none.)
- class 7 received exactly ``admitted × 4397/3650`` (``1 + 0.09 × 830/365``) by largest
  remainder in round 1, and nothing more later;
- every cent of a round is paid or escrowed, and the round is within its funding.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Final

import pytest

from reclaim.adapters.files.round_spec_file import load_round_spec, shipped_round_spec
from reclaim.core.distribution.compute import RoundLines, compute_round
from reclaim.core.distribution.model import CAP, PERCENT, Round
from tests.support.distribution_frames import FTX_INTEREST, FX, Row, escrowed, frame

#: The rounds table of FACTS.md: cumulative basis points per class, "cap" for class 7.
TABLE: Final = {
    "ftx-1": ("2025-01-03", "2025-02-18", {"7": CAP}),
    "ftx-2": (
        "2025-04-11",
        "2025-05-30",
        {"5A": 7200, "5B": 5400, "6A": 6100, "6B": 6100, "7": CAP},
    ),
    "ftx-3": (
        "2025-08-15",
        "2025-09-30",
        {"5A": 7800, "5B": 9500, "6A": 8500, "6B": 8500, "7": CAP},
    ),
    "ftx-4": (
        "2026-02-14",
        "2026-03-31",
        {"5A": 9600, "5B": 10_000, "6A": 10_000, "6B": 10_000, "7": CAP},
    ),
}
#: 1 + 0.09 × 830 / 365: 830 days from 2022-11-11 to 2025-02-18.
CONVENIENCE_FACTOR: Final = Fraction(4397, 3650)
ODD_AMOUNTS: Final = (0, 1, 3, 7, 99_999)
CONVENIENCE_MAX_MINOR: Final = 5_000_000


def synthetic_register(seed: int = 2025, size: int = 3_000) -> list[Row]:
    rng = random.Random(seed)
    rows: list[Row] = []
    for number in range(size):
        code = rng.choice(("5A", "5A", "5A", "5B", "6A", "6B", "7", "7"))
        if number < 5 * len(ODD_AMOUNTS):
            code = ("5A", "5B", "6A", "6B", "7")[number // len(ODD_AMOUNTS)]
            admitted = ODD_AMOUNTS[number % len(ODD_AMOUNTS)]
        elif code == "7":
            admitted = rng.randint(1, CONVENIENCE_MAX_MINOR)
        else:  # log-uniform from 1 cent to $10 million: mostly small, a few whales
            admitted = int(10 ** rng.uniform(0, 9))
        status = "disputed" if rng.random() < 0.03 else "allowed"
        row = Row(
            f"FTX-{rng.randrange(10**9):09d}-{number}",
            code,
            admitted,
            status,
            jurisdiction=rng.choice(("US", "FR", "JP", "CN")),
            asset=rng.choice(("USD", "USD", "EUR", "USDC")),
        )
        if status == "disputed":
            row = escrowed(row, "disputed")
        elif row.jurisdiction == "CN":
            row = escrowed(row, "restricted")
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def spec() -> tuple[object, list[Round]]:
    return load_round_spec(shipped_round_spec("ftx"))


def test_the_shipped_rounds_are_the_facts_table(spec) -> None:
    plan, rounds = spec
    assert plan.paid_statuses == ("allowed",)
    assert plan.reserved_statuses == ("disputed",)
    assert (plan.kyc_start_by, plan.kyc_finish_by, plan.kyc_missed) == (
        "2025-03-03",
        "2025-06-01",
        "forfeit_on_order",
    )
    assert {c: (t.cap_bps, t.interest) for c, t in plan.classes.items()} == {
        c: (10_000, True) for c in ("5A", "5B", "6A", "6B", "7")
    }
    table = {
        r.round_id: (
            r.record_date,
            r.payment_date,
            {
                c.class_code: c.cumulative_bps if c.target == PERCENT else c.target
                for c in r.classes
            },
        )
        for r in rounds
    }
    assert table == TABLE
    for r in rounds:
        assert all(c.interest_to == "2025-02-18" for c in r.classes if c.target == CAP)


def test_four_rounds_reproduce_the_table_to_the_cent(spec) -> None:
    plan, rounds = spec
    register = synthetic_register()
    assert all(
        r.admitted_minor < CONVENIENCE_MAX_MINOR + 1 for r in register if r.class_code == "7"
    )
    received = {r.claim_id: 0 for r in register}
    for round_ in rounds:
        current = [r._replace(received_minor=received[r.claim_id]) for r in register]
        lines = compute_round(frame(current), plan, round_, FTX_INTEREST, {}, FX)
        _check_round(lines, round_)
        for claim_id, usd in zip(
            lines.frame["claim_id"].to_list(), lines.frame["usd_minor"].to_list(), strict=True
        ):
            received[claim_id] += usd
        _, _, targets = TABLE[round_.round_id]
        for total in lines.classes:
            members = [r for r in register if r.class_code == total.class_code]
            target = targets[total.class_code]
            rate = CONVENIENCE_FACTOR if target == CAP else Fraction(target, 10_000)
            exact = {r.claim_id: r.admitted_minor * rate for r in members}
            # The class total is the floor of the exact sum; each claim within one cent.
            assert total.entitled_minor == sum(exact.values(), Fraction(0)).__floor__()
            for claim_id, due in exact.items():
                assert due.__floor__() <= received[claim_id] <= due.__ceil__(), (
                    round_.round_id,
                    claim_id,
                )
            # Exactly the class total: no claim of this register was rounded up in one round
            # and down in the next (see the module docstring; the unit tests show one that is).
            assert sum(received[r.claim_id] for r in members) == total.entitled_minor
        if round_.round_id == "ftx-1":
            assert [c.class_code for c in lines.classes] == ["7"]
            assert {c for c in lines.frame["class_code"].to_list()} == {"7"}
        else:
            assert "7" not in lines.frame["class_code"].to_list(), (
                "class 7 was paid in full in round 1"
            )
    # After round 4: 5B, 6A and 6B at exactly 100%, 5A at 96% ± a cent, 7 at its cap ± a cent.
    for row in register:
        if row.class_code in ("5B", "6A", "6B"):
            assert received[row.claim_id] == row.admitted_minor


def test_the_convenience_class_exactly_in_round_one(spec) -> None:
    """Spot values: $50,000.00 → $60,232.88 (6,023,287.67… rounded up or down by largest
    remainder), 1 ¢ → 1 ¢ (1.2047), 3 ¢ → 3 or 4 ¢ (3.6139), 99,999 ¢ → 120,464 or 120,465."""
    plan, rounds = spec
    rows = [
        Row("C-50K", "7", 5_000_000),
        Row("C-1", "7", 1),
        Row("C-3", "7", 3),
        Row("C-99999", "7", 99_999),
    ]
    lines = compute_round(frame(rows), plan, rounds[0], FTX_INTEREST, {}, FX)
    # exact: 6,023,287.671 + 1.205 + 3.614 + 120,464.549 = 6,143,757.039 → 6,143,757;
    # floors 6,143,755 → two cents, to the largest fractions .671 (C-50K) and .614 (C-3).
    assert dict(
        zip(lines.frame["claim_id"].to_list(), lines.frame["usd_minor"].to_list(), strict=True)
    ) == {
        "C-1": 1,
        "C-3": 4,
        "C-50K": 6_023_288,
        "C-99999": 120_464,
    }


def _check_round(lines: RoundLines, round_: Round) -> None:
    summary = lines.summary()
    assert (
        summary.paid_usd_minor + summary.escrowed_usd_minor == summary.usd_minor == lines.usd_minor
    )
    assert summary.usd_minor <= round_.funding_minor, "the round is funded"
    assert sum(b.usd_minor for b in summary.jurisdictions) == summary.usd_minor
    escrow = lines.frame.filter(lines.frame["destination"] == "escrow")
    assert set(escrow["asset"].to_list()) <= {"USD"}
    assert set(escrow["reason"].to_list()) <= {"disputed", "restricted"}
    assert lines.frame["line"].to_list() == list(range(lines.frame.height))
    assert lines.frame["claim_id"].to_list() == sorted(lines.frame["claim_id"].to_list())
