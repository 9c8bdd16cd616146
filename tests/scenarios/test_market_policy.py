"""Who may buy notes: the jurisdiction policy's ``notes_buyers`` column (with its source), read
from the operator's policy file, logged with the entry, and applied by the market's ladder
(``buyer_not_allowed``) through the real machine.

The world is ``tests/support/market_world.py`` (policy FR/HK open, CN restricted, IR
sanctioned, JP unlisted; mei CN, erin JP, bob HK). Without the column the market's default by
status applies (tested in ``test_market_scenarios.py``); with it, the column decides.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Final

import pytest

from reclaim.adapters.files.policy_file import PolicyReport, load_policy_csv, shipped_policy
from reclaim.core.claims import PolicyCode, PolicyEntry, SetPolicy
from reclaim.core.claims.model import policy_entry_payload
from reclaim.core.claims.payloads import entry_from_payload
from reclaim.core.claims.policy import entry_code
from reclaim.core.market import OrderCode, OrderRequest, OrderType, Placement, PlaceOrders, Side
from reclaim.core.rejections import Rejection
from tests.support.market_world import SYMBOL, MarketWorld

SOURCE: Final = "https://example.org/notes-buyers"
BID: Final = OrderRequest(SYMBOL, Side.Bid, OrderType.Limit, quantity_steps=1, price_ticks=1)


@pytest.fixture(scope="module")
def built() -> MarketWorld:
    return MarketWorld()


@pytest.fixture
def world(built: MarketWorld) -> MarketWorld:
    return copy.deepcopy(built)


def bid(world: MarketWorld, trader: str) -> Placement | Rejection:
    answer = world.run(PlaceOrders(trader, (BID,)), trader)
    return answer if isinstance(answer, Rejection) else answer.results[0]


def test_the_column_lets_a_restricted_jurisdictions_residents_buy(world: MarketWorld) -> None:
    refused = bid(world, "mei")
    assert isinstance(refused, Rejection)
    assert refused.reason is OrderCode.buyer_not_allowed
    motion = "https://example.org/motion"
    entry = PolicyEntry("CN", "restricted", "Restricted Jurisdiction Procedures motion", motion,
                        "2025-06-01", (), "allowed", SOURCE)  # fmt: skip
    world.ok(SetPolicy((entry,)), "admin")
    now = bid(world, "mei")  # past the policy rung: mei has no cash, the next rung says so
    assert isinstance(now, Rejection)
    assert now.reason is OrderCode.insufficient_funds
    assert world.replayed().snapshot() == world.state.snapshot()


def test_the_column_excludes_an_open_jurisdictions_residents(world: MarketWorld) -> None:
    assert isinstance(bid(world, "bob"), Placement)
    entry = PolicyEntry("HK", "open", "Served through the HK correspondent",
                        "https://example.org/policy", "2025-06-01", ("hk_wire", "usdc"),
                        "excluded", SOURCE)  # fmt: skip
    world.ok(SetPolicy((entry,)), "admin")
    refused = bid(world, "bob")
    assert isinstance(refused, Rejection)
    assert refused.reason is OrderCode.buyer_not_allowed


def test_an_entry_without_the_column_keeps_its_bytes() -> None:
    old = PolicyEntry("FR", "open", "EU member state", "https://example.org/p", "2025-01-01")
    assert set(policy_entry_payload(old)) == {
        "iso", "status", "reason", "source", "effective_date", "rails"
    }  # fmt: skip
    new = old._replace(notes_buyers="excluded", notes_buyers_source=SOURCE)
    payload = policy_entry_payload(new)
    assert (payload["notes_buyers"], payload["notes_buyers_source"]) == ("excluded", SOURCE)
    assert entry_from_payload(payload) == new
    assert entry_from_payload(policy_entry_payload(old)) == old


@pytest.mark.parametrize(
    ("buyers", "source", "code"),
    [("allowed", SOURCE, PolicyCode.ok), ("maybe", SOURCE, PolicyCode.status_unknown),
     ("excluded", "", PolicyCode.source_invalid), ("", SOURCE, PolicyCode.source_invalid),
     ("excluded", "https://exämple.org", PolicyCode.source_invalid)],
)  # fmt: skip
def test_the_core_checks_the_column(buyers: str, source: str, code: PolicyCode) -> None:
    entry = PolicyEntry("FR", "open", "EU", "https://example.org/p", "2025-01-01", (), buyers,
                        source)  # fmt: skip
    assert entry_code(entry) is code


def test_the_policy_file_reads_the_column(tmp_path: Path) -> None:
    path = tmp_path / "policy.csv"
    path.write_text(
        "iso,status,reason,source,effective_date,rails,notes_buyers,notes_buyers_source\n"
        f"FR,open,EU member state,https://example.org/p,2025-01-01,sepa,allowed,{SOURCE}\n"
        "JP,open,Not restricted,https://example.org/p,2025-01-01,,,\n",
        encoding="utf-8",
    )
    fr, jp = load_policy_csv(path)  # type: ignore[misc]
    assert (fr.notes_buyers, fr.notes_buyers_source) == ("allowed", SOURCE)
    assert (jp.notes_buyers, jp.notes_buyers_source) == ("", "")


def test_the_policy_file_reports_a_bad_column(tmp_path: Path) -> None:
    path = tmp_path / "policy.csv"
    path.write_text(
        "iso,status,reason,source,effective_date,rails,notes_buyers,notes_buyers_source\n"
        "FR,open,EU,https://example.org/p,2025-01-01,,maybe,https://example.org/x\n"
        "DE,open,EU,https://example.org/p,2025-01-01,,excluded,\n"
        "IT,open,EU,https://example.org/p,2025-01-01,,,https://example.org/x\n",
        encoding="utf-8",
    )
    report = load_policy_csv(path)
    assert isinstance(report, PolicyReport)
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (1, "notes_buyers", "unknown_value"),
        (2, "notes_buyers_source", "invalid_text"),
        (3, "notes_buyers", "missing_value"),
    ]


def test_the_shipped_policy_excludes_buyers_of_every_restricted_jurisdiction() -> None:
    entries = load_policy_csv(shipped_policy("ftx_restricted_jurisdictions_2025"))
    assert isinstance(entries, list)
    assert len(entries) == 27
    assert all(e.status == "restricted" for e in entries)
    assert all(e.notes_buyers == "excluded" for e in entries)
    assert all(e.notes_buyers_source == e.source for e in entries)
