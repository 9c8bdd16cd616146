"""Jurisdiction policy at a date, and the register report, on a small register with exact figures.

The register (estate ``ftx``, cents):

    claim  jurisdiction  status     admitted
    a1     CN            allowed     500,000
    a2     CN            disputed    320,000
    a3     CN            expunged    999,999   (owed nothing: not in the shares)
    r1     RU            filed       100,000
    n1     NG            allowed      80,000
    f1     FR            allowed   1,000,000
    u1     US            scheduled 2,000,000   (no policy entry: unlisted)
    i1     IR            allowed           7

and the policy: IR sanctioned from 2020-01-01; FR open from 2025-01-01; CN, RU and NG
restricted from 2025-07-02 (the Recovery Trust's motion); CN open again from 2025-11-03 (the
motion withdrawn). On 2025-07-02, 1,000,000 of the 4,000,007 owed sits in restricted
jurisdictions (2,500 bps, rounded from 2,499.996) and mainland China holds 820,000 of it: 8,200
bps, the ~82% of the press reports.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from reclaim.core.claims import (
    UNLISTED,
    ClaimClass,
    ClaimsCommand,
    ClaimsRejection,
    ClaimsState,
    CreateEstate,
    ImportClaims,
    JurisdictionShare,
    PolicyEntry,
    RegisterRow,
    SetPolicy,
    Tally,
    assert_claims_invariants,
    check_claims,
    claim_treatment,
    decide_claims,
    evolve_claims,
    register_report,
    share_bps,
    treatment,
)
from reclaim.core.events import format_time

T0 = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
MOTION = "https://example.org/ftx/restricted-jurisdiction-motion"


def h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def row(cid: str, iso: str, status: str, amount: int) -> RegisterRow:
    return RegisterRow(cid, cid.upper(), h("e" + cid), h("n" + cid), iso, "5A", amount, status)


def entry(iso: str, status: str, date: str, reason: str = "listed in the motion") -> PolicyEntry:
    rails = () if status == "sanctioned" else ("usdc",)
    return PolicyEntry(iso, status, reason, MOTION, date, rails)


class World:
    def __init__(self) -> None:
        self.state = ClaimsState()
        self.now = T0

    def apply(self, command: ClaimsCommand) -> None:
        self.now += timedelta(seconds=1)
        decision = decide_claims(self.state, command, self.now)
        assert not isinstance(decision, ClaimsRejection), decision
        for event_type, payload in decision.events:
            assert check_claims(self.state, event_type, payload, format_time(self.now)) is None
            evolve_claims(self.state, event_type, payload, format_time(self.now))
        assert_claims_invariants(self.state)


@pytest.fixture
def world() -> World:
    w = World()
    w.apply(CreateEstate("ftx", "FTX Trading Ltd.", "2022-11-11", (ClaimClass("5A", "Dotcom", 1),)))
    w.apply(
        ImportClaims(
            "ftx",
            h("register"),
            (
                row("a1", "CN", "allowed", 500_000),
                row("a2", "CN", "disputed", 320_000),
                row("a3", "CN", "expunged", 999_999),
                row("r1", "RU", "filed", 100_000),
                row("n1", "NG", "allowed", 80_000),
                row("f1", "FR", "allowed", 1_000_000),
                row("u1", "US", "scheduled", 2_000_000),
                row("i1", "IR", "allowed", 7),
            ),
        )
    )
    w.apply(SetPolicy((entry("IR", "sanctioned", "2020-01-01"), entry("FR", "open", "2025-01-01"))))
    w.apply(SetPolicy(tuple(entry(iso, "restricted", "2025-07-02") for iso in ("CN", "RU", "NG"))))
    w.apply(SetPolicy((entry("CN", "open", "2025-11-03", "motion withdrawn without prejudice"),)))
    return w


# Treatment at a date ----------------------------------------------------------------------------


def test_the_entry_in_force_is_the_latest_on_or_before_the_date(world: World) -> None:
    s = world.state
    assert treatment(s, "CN", "2025-07-01") is None
    assert treatment(s, "CN", "2025-07-02") == entry("CN", "restricted", "2025-07-02")
    assert treatment(s, "CN", "2025-11-02") == entry("CN", "restricted", "2025-07-02")
    opened = entry("CN", "open", "2025-11-03", "motion withdrawn without prejudice")
    assert treatment(s, "CN", "2025-11-03") == opened
    assert treatment(s, "CN", "2099-12-31") == opened
    assert treatment(s, "US", "2099-12-31") is None
    assert treatment(s, "IR", "2020-01-01") == entry("IR", "sanctioned", "2020-01-01")
    assert treatment(s, "IR", "2019-12-31") is None


def test_a_same_date_entry_set_later_corrects_the_earlier_one(world: World) -> None:
    corrected = PolicyEntry("RU", "restricted", "listed in the motion", MOTION, "2025-07-02", ())
    world.apply(SetPolicy((corrected,)))
    assert treatment(world.state, "RU", "2025-08-01") == corrected
    # Setting the first entry again restores it: it is not the one set last for that date.
    world.apply(SetPolicy((entry("RU", "restricted", "2025-07-02"),)))
    assert treatment(world.state, "RU", "2025-08-01") == entry("RU", "restricted", "2025-07-02")
    assert [r.entry.rails for r in world.state.policy["RU"]] == [("usdc",), (), ("usdc",)]


def test_a_retroactive_entry_applies_from_its_date_until_the_next(world: World) -> None:
    world.apply(SetPolicy((entry("CN", "restricted", "2025-03-01", "earlier schedule"),)))
    assert treatment(world.state, "CN", "2025-02-28") is None
    assert treatment(world.state, "CN", "2025-03-01") == entry(
        "CN", "restricted", "2025-03-01", "earlier schedule"
    )
    assert treatment(world.state, "CN", "2025-07-02") == entry("CN", "restricted", "2025-07-02")


def test_a_claim_is_treated_by_its_jurisdiction(world: World) -> None:
    restricted = entry("CN", "restricted", "2025-07-02")
    assert claim_treatment(world.state, "a1", "2025-07-02") == restricted
    assert claim_treatment(world.state, "u1", "2025-07-02") is None
    with pytest.raises(AssertionError):
        claim_treatment(world.state, "zz", "2025-07-02")
    with pytest.raises(AssertionError):
        treatment(world.state, "CN", "2025-7-2")


# The report -------------------------------------------------------------------------------------


def test_the_report_on_the_day_of_the_motion(world: World) -> None:
    report = register_report(world.state, "ftx", "2025-07-02")
    assert report.by_jurisdiction_status == (
        ("CN", "allowed", Tally(1, 500_000)),
        ("CN", "disputed", Tally(1, 320_000)),
        ("CN", "expunged", Tally(1, 999_999)),
        ("FR", "allowed", Tally(1, 1_000_000)),
        ("IR", "allowed", Tally(1, 7)),
        ("NG", "allowed", Tally(1, 80_000)),
        ("RU", "filed", Tally(1, 100_000)),
        ("US", "scheduled", Tally(1, 2_000_000)),
    )
    assert report.by_policy_status == (
        ("open", Tally(1, 1_000_000)),
        ("restricted", Tally(4, 1_000_000)),
        ("sanctioned", Tally(1, 7)),
        (UNLISTED, Tally(1, 2_000_000)),
    )
    assert report.total == Tally(8, 5_000_006)
    assert report.owed == Tally(7, 4_000_007)
    assert report.restricted_share_bps == 2_500  # 2,499.996 bps, to the nearest
    assert report.sanctioned_share_bps == 0  # 0.0175 bps
    assert report.restricted_by_jurisdiction == (
        JurisdictionShare("CN", Tally(2, 820_000), 8_200),
        JurisdictionShare("RU", Tally(1, 100_000), 1_000),
        JurisdictionShare("NG", Tally(1, 80_000), 800),
    )
    assert report.policy_tally("restricted") == Tally(4, 1_000_000)


def test_the_report_before_the_motion_and_after_its_withdrawal(world: World) -> None:
    before = register_report(world.state, "ftx", "2025-07-01")
    assert before.policy_tally("restricted") == Tally(0, 0)
    assert before.policy_tally(UNLISTED) == Tally(5, 3_000_000)  # CN's two owed, RU, NG, US
    assert before.restricted_share_bps == 0
    assert before.restricted_by_jurisdiction == ()
    after = register_report(world.state, "ftx", "2025-11-03")
    assert after.policy_tally("open") == Tally(3, 1_820_000)
    assert after.restricted_share_bps == 450  # 180,000 / 4,000,007 = 449.999 bps
    assert after.restricted_by_jurisdiction == (
        JurisdictionShare("RU", Tally(1, 100_000), 5_556),  # 5,555.56
        JurisdictionShare("NG", Tally(1, 80_000), 4_444),  # 4,444.44
    )


def test_an_empty_register_has_no_shares(world: World) -> None:
    world.apply(CreateEstate("empty", "Empty", "2024-01-01", (ClaimClass("A", "All", 1),)))
    report = register_report(world.state, "empty", "2025-07-02")
    assert report.total == report.owed == Tally(0, 0)
    assert report.restricted_share_bps is None
    assert report.by_jurisdiction_status == ()


@pytest.mark.parametrize(
    ("part", "whole", "bps"),
    [
        (0, 1, 0),
        (1, 1, 10_000),
        (1, 3, 3_333),  # 3,333.33
        (2, 3, 6_667),  # 6,666.67
        (1, 20_000, 1),  # 0.5: halves go up
        (1, 40_000, 0),  # 0.25
        (3, 40_000, 1),  # 0.75
        (2**63 - 2, 2**63 - 1, 10_000),
        (0, 0, None),
    ],
)
def test_shares_are_basis_points_rounded_half_up(part: int, whole: int, bps: int | None) -> None:
    assert share_bps(part, whole) == bps
