"""The public claims API: an estate, its register report on a date, the jurisdiction policy.

The log (memory store; e-mails and names are SHA-256 stand-ins for the vault's commitments)::

    estate ftx (the shipped FTX terms)
    claim  jurisdiction  class  admitted (USD)  status
    S-1    CN            5A            100.00   allowed
    S-2    CN            7              50.00   disputed
    S-3    RU            6A             25.00   filed
    S-4    FR            5A          1,000.00   allowed
    S-5    US            5B             10.00   scheduled
    S-6    CN            5A              0.00   expunged

    policy: the shipped FTX restricted jurisdictions (27, restricted from 2025-07-02, no rails),
    then CN open from 2025-11-03 (the motion withdrawn) with the rail ``usdc``.

Owed (not expunged) is $1,185.00. On 2025-07-02 the restricted amount is CN 150 + RU 25 =
$175.00 (14.77% of owed; CN 85.71% of it); before, nothing is listed; from 2025-11-03 only RU
($25.00) is restricted.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

import pytest

from reclaim.adapters.files.estate_file import load_estate_file, shipped_estate
from reclaim.adapters.files.policy_file import load_policy_csv, shipped_policy
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.log_service import Accepted, LogService
from reclaim.core.claims import ImportClaims, PolicyEntry, RegisterRow, SetPolicy
from reclaim.core.machine import Command, Genesis
from tests.api.conftest import ClientFactory, FixedClock, new_keys
from tests.support.factories import ORIGIN

PROBLEM: Final = "application/problem+json"
REGISTER: Final = "ab" * 32
ROWS: Final = (
    ("S-1", "CN", "5A", 10_000, "allowed"),
    ("S-2", "CN", "7", 5_000, "disputed"),
    ("S-3", "RU", "6A", 2_500, "filed"),
    ("S-4", "FR", "5A", 100_000, "allowed"),
    ("S-5", "US", "5B", 1_000, "scheduled"),
    ("S-6", "CN", "5A", 0, "expunged"),
)
CN_OPEN: Final = PolicyEntry(
    "CN", "open", "Restricted Jurisdiction motion withdrawn without prejudice",
    "https://example.org/docket/22-11068", "2025-11-03", ("usdc",),
)  # fmt: skip


def commit(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def row(claim_id: str, iso: str, cls: str, cents: int, status: str) -> RegisterRow:
    return RegisterRow(
        claim_id, "K-" + claim_id, commit(f"email:{claim_id}@example.com"),
        commit(f"name:{claim_id}"), iso, cls, cents, status,
    )  # fmt: skip


def build_log() -> LogService:
    keys = new_keys()
    service = LogService(MemoryEventStore(), keys, FixedClock())
    admin, log_key = keys.for_actor("admin").verifier, keys.log_signer.verifier
    policy = load_policy_csv(shipped_policy("ftx_restricted_jurisdictions_2025"))
    assert isinstance(policy, list)
    commands: list[tuple[Command, str]] = [
        (Genesis(ORIGIN, "admin", admin.to_text(), log_key.to_text()), "admin"),
        (load_estate_file(shipped_estate("ftx")), "admin"),
        (ImportClaims("ftx", REGISTER, tuple(row(*r) for r in ROWS)), "admin"),
        (SetPolicy(tuple(policy)), "admin"),
        (SetPolicy((CN_OPEN,)), "admin"),
    ]
    for outcome in service.submit_many(commands):
        assert isinstance(outcome, Accepted), outcome
    return service


@pytest.fixture(scope="module")
def log() -> LogService:
    return build_log()


@pytest.fixture
def client(log: LogService, make_client: ClientFactory) -> Any:
    return make_client(log)


def get(client: Any, path: str, status: int = 200) -> Any:
    answer = client.get(path)
    assert answer.status_code == status, answer.text
    if status >= 400:
        assert answer.headers["content-type"] == PROBLEM
    else:
        assert answer.headers["cache-control"] == "no-cache"
    return answer.json()


def test_an_estate_answers_its_terms_and_admitted_total(client: Any) -> None:
    estate = get(client, "/estates/ftx")
    assert estate["name"] == "FTX Trading Ltd. et al."
    assert estate["petition_date"] == "2022-11-11"
    assert [(c["code"], c["priority"]) for c in estate["classes"]] == [
        ("5A", "1"), ("5B", "1"), ("7", "1"), ("6A", "2"), ("6B", "2"),
    ]  # fmt: skip
    assert (estate["convenience_class"], estate["convenience_threshold_minor"]) == ("7", "5000000")
    assert estate["consensus_rate_bps"] == "900"
    assert estate["registers"] == [REGISTER]
    assert (estate["admitted_minor"], estate["admitted"]) == ("118500", "1185.00")


def test_unknown_and_malformed_estates_are_problems(client: Any) -> None:
    assert get(client, "/estates/celsius", 404)["code"] == "not_found"
    assert get(client, "/estates/celsius/report", 404)["code"] == "not_found"
    assert get(client, "/estates/Not%20An%20Id", 400)["code"] == "invalid_parameter"


def test_the_report_on_the_day_the_policy_took_effect(client: Any) -> None:
    report = get(client, "/estates/ftx/report?on=2025-07-02")
    assert report["on"] == "2025-07-02"
    assert report["total"] == {"claims": "6", "admitted_minor": "118500", "admitted": "1185.00"}
    assert report["owed"] == {"claims": "5", "admitted_minor": "118500", "admitted": "1185.00"}
    assert report["restricted"] == {
        "claims": "3", "admitted_minor": "17500", "admitted": "175.00",
        "share_of_owed_bps": "1477",
    }  # fmt: skip
    assert [
        (s["jurisdiction"], s["admitted_minor"], s["share_of_restricted_bps"])
        for s in report["restricted_by_jurisdiction"]
    ] == [("CN", "15000", "8571"), ("RU", "2500", "1429")]
    assert [(p["policy_status"], p["claims"], p["admitted_minor"], p["share_of_owed_bps"])
            for p in report["by_policy_status"]] == [
        ("open", "0", "0", "0"),
        ("restricted", "3", "17500", "1477"),
        ("sanctioned", "0", "0", "0"),
        ("unlisted", "2", "101000", "8523"),
    ]  # fmt: skip
    assert report["sanctioned_share_of_owed_bps"] == "0"
    cells = [(c["jurisdiction"], c["status"], c["policy_status"], c["admitted"])
             for c in report["by_jurisdiction_status"]]  # fmt: skip
    assert cells == [
        ("CN", "allowed", "restricted", "100.00"),
        ("CN", "disputed", "restricted", "50.00"),
        ("CN", "expunged", "restricted", "0.00"),
        ("FR", "allowed", "unlisted", "1000.00"),
        ("RU", "filed", "restricted", "25.00"),
        ("US", "scheduled", "unlisted", "10.00"),
    ]


def test_the_report_follows_the_policy_in_force_on_its_date(client: Any) -> None:
    before = get(client, "/estates/ftx/report?on=2025-07-01")
    assert before["restricted"]["admitted_minor"] == "0"
    assert before["restricted_by_jurisdiction"] == []
    withdrawn = get(client, "/estates/ftx/report?on=2025-11-03")
    assert withdrawn["restricted"]["admitted_minor"] == "2500"
    assert [s["jurisdiction"] for s in withdrawn["restricted_by_jurisdiction"]] == ["RU"]
    assert withdrawn["by_policy_status"][0]["admitted_minor"] == "15000"  # CN open
    today = get(client, "/estates/ftx/report")  # the clock says 2026-11-25
    assert today["on"] == "2026-11-25"
    assert today["restricted"] == withdrawn["restricted"]


def test_the_report_holds_no_personal_data(client: Any) -> None:
    text = client.get("/estates/ftx/report?on=2025-07-02").text
    for claim_id, *_ in ROWS:
        assert claim_id not in text
        assert commit(f"email:{claim_id}@example.com") not in text
        assert commit(f"name:{claim_id}") not in text


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("on=2025-7-2", "on: String should match pattern"),
        ("on=2025-02-30", "'2025-02-30' is not a calendar day"),
        ("on=yesterday", "on: String should match pattern"),
    ],
)
def test_a_bad_date_is_an_invalid_parameter(client: Any, query: str, detail: str) -> None:
    for path in ("/estates/ftx/report", "/jurisdictions", "/jurisdictions/CN"):
        problem = get(client, f"{path}?{query}", 400)
        assert problem["code"] == "invalid_parameter"
        assert detail in problem["detail"]


def test_the_policy_in_force_on_a_date(client: Any) -> None:
    assert get(client, "/jurisdictions?on=2025-07-01") == {"on": "2025-07-01", "jurisdictions": []}
    listed = get(client, "/jurisdictions?on=2025-07-02")["jurisdictions"]
    assert len(listed) == 27
    assert [e["iso"] for e in listed] == sorted(e["iso"] for e in listed)
    (china,) = [e for e in listed if e["iso"] == "CN"]
    assert (china["status"], china["effective_date"], china["rails"]) == (
        "restricted", "2025-07-02", [],
    )  # fmt: skip
    assert china["source"].startswith("https://")
    later = get(client, "/jurisdictions?on=2025-11-03")["jurisdictions"]
    (china,) = [e for e in later if e["iso"] == "CN"]
    assert (china["status"], china["rails"]) == ("open", ["usdc"])


def test_one_jurisdiction_with_its_history(client: Any) -> None:
    before = get(client, "/jurisdictions/CN?on=2025-07-01")
    assert (before["status"], before["in_force"]) == ("unlisted", None)
    assert [(h["status"], h["effective_date"]) for h in before["history"]] == [
        ("restricted", "2025-07-02"),
        ("open", "2025-11-03"),
    ]
    assert all(h["set_at"] for h in before["history"])
    during = get(client, "/jurisdictions/CN?on=2025-10-01")
    assert during["status"] == "restricted"
    assert during["in_force"]["effective_date"] == "2025-07-02"
    assert get(client, "/jurisdictions/CN")["status"] == "open"
    france = get(client, "/jurisdictions/FR?on=2025-07-02")
    assert (france["status"], france["in_force"], france["history"]) == ("unlisted", None, [])


def test_a_code_that_is_not_iso_3166_is_refused(client: Any) -> None:
    assert get(client, "/jurisdictions/cn", 400)["code"] == "invalid_parameter"
    problem = get(client, "/jurisdictions/XK", 400)
    assert "not an ISO 3166-1 alpha-2" in problem["detail"]


def test_the_report_is_computed_again_once_the_log_grows(make_client: ClientFactory) -> None:
    log = build_log()
    client = make_client(log)
    first = get(client, "/estates/ftx/report?on=2025-07-02")
    assert get(client, "/estates/ftx/report?on=2025-07-02") == first
    more = ImportClaims("ftx", REGISTER, (row("S-7", "RU", "5A", 500, "allowed"),))
    (outcome,) = log.submit_many([(more, "admin")])
    assert isinstance(outcome, Accepted), outcome
    grown = get(client, "/estates/ftx/report?on=2025-07-02")
    assert grown["restricted"]["admitted_minor"] == "18000"


def test_the_openapi_document_lists_the_claims_routes(client: Any) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/estates/{estate_id}", "/estates/{estate_id}/report", "/jurisdictions",
                 "/jurisdictions/{iso}"):  # fmt: skip
        assert "get" in paths[path]
