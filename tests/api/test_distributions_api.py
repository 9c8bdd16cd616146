"""The distributions API over a real ``LogService``: rounds (public), a creditor's own claims and
payout election (signed requests, Backpack's scheme).

The log is ``tests.support.distribution_world`` with rounds r1 and r2 run (see
``tests/scenarios/test_distribution_scenarios.py`` for their lines), replayed command by command
through a ``LogService`` on the memory store with a fixed clock.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping
from typing import Any, Final

import httpx
import pytest

from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.log_service import Accepted, KeyRing, LogService
from reclaim.app.request_signing import Param, sign_request
from reclaim.core import limits
from reclaim.entrypoints.api.app import create_app
from tests.api.conftest import FIXED_TIME, FixedClock
from tests.scenarios.test_distribution_scenarios import ECB, R1, R2, run_round
from tests.support.distribution_world import CREDITORS, OPERATORS, World
from tests.support.factories import ORIGIN, key_for

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

FIXED_MS: Final = int(FIXED_TIME.timestamp()) * 1000
PROBLEM_TYPE: Final = "application/problem+json"
_ticks = itertools.count(1)


@pytest.fixture(scope="module")
def client() -> TestClient:
    from reclaim.core.distribution.commands import ElectPayout, RecordFxRate

    world = World()
    world.ok(ElectPayout("bob", "EUR"), "bob")
    world.ok(RecordFxRate("EUR", "0.9234", ECB, "2025-01-02T09:00:00.000000Z"), "treasury")
    run_round(world, R1)
    run_round(world, R2)
    names = ["admin", *(n for n, _ in OPERATORS), *CREDITORS]
    ring = KeyRing(key_for(f"{ORIGIN}-signer"), {n: key_for(n) for n in names})
    log = LogService(MemoryEventStore(), ring, FixedClock())
    outcomes = log.submit_many(world.commands)
    assert all(isinstance(o, Accepted) for o in outcomes), [
        o for o in outcomes if not isinstance(o, Accepted)
    ][:2]
    # The same balances (times differ: the service's clock is fixed).
    balances = log.read(lambda s: {i: a.balances() for i, a in s.ledger.accounts.items()})
    assert balances == {i: a.balances() for i, a in world.state.ledger.accounts.items()}
    return TestClient(create_app(log))


def signed(
    client: TestClient, method: str, name: str, instruction: str, path: str,
    params: Mapping[str, Param] | None = None,
) -> httpx.Response:  # fmt: skip
    stamp = FIXED_MS - next(_ticks)
    headers = sign_request(
        key_for(name), instruction, params or {}, stamp, limits.request_window_default_ms
    )
    return client.request(method, path, params=dict(params or {}), headers=headers)


def problem(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_TYPE
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return str(body["detail"])


def test_rounds_are_public_with_their_approved_digest_and_progress(client: TestClient) -> None:
    rounds = client.get("/distributions/rounds").json()
    assert [r["round_id"] for r in rounds] == ["r1", "r2"]
    r2 = client.get("/distributions/rounds/r2").json()
    assert r2["approved"] is True
    assert (r2["lines"], r2["usd_total_minor"], r2["escrow_total_minor"]) == (
        "6", "8726689", "8546689",
    )  # fmt: skip
    assert (r2["executed_lines"], r2["funded_minor"]) == ("6", "9000000")
    assert len(r2["lines_sha256"]) == 64
    assert [c["class_code"] for c in r2["classes"]] == ["5A", "5B", "6A", "7"]
    assert r2["completed_at"]


def test_an_unknown_round_is_a_problem(client: TestClient) -> None:
    problem(client.get("/distributions/rounds/r9"), 404, "not_found")
    problem(client.get("/distributions/rounds/r%209"), 400, "invalid_parameter")


def test_a_creditor_sees_what_each_claim_received_and_why_it_waits(client: TestClient) -> None:
    mine = signed(client, "GET", "alice", "distributionQuery", "/api/v1/distributions")
    assert mine.status_code == 200, mine.text
    assert mine.headers["cache-control"] == "no-store"
    assert mine.json() == {
        "creditor": "alice",
        "payout_asset": "USD",
        "claims": [
            {"claim_id": "C1", "class_code": "5A", "admitted_minor": "10000000",
             "received_minor": "7200000", "escrow_minor": "7200000",
             "escrow_reason": "restricted"},
        ],
    }  # fmt: skip
    bob = signed(client, "GET", "bob", "distributionQuery", "/api/v1/distributions").json()
    assert bob["payout_asset"] == "EUR"
    assert bob["claims"][0]["escrow_reason"] == ""


def test_reading_needs_a_signed_request(client: TestClient) -> None:
    problem(client.get("/api/v1/distributions"), 401, "signature_missing")


def test_an_election_is_recorded_once_and_is_irrevocable(client: TestClient) -> None:
    first = signed(client, "POST", "carol", "payoutElect", "/api/v1/distributions/election",
                   {"asset": "USDC"})  # fmt: skip
    assert first.status_code == 200, first.text
    assert first.json()["asset"] == "USDC"
    assert first.json()["seq"] is not None
    again = signed(client, "POST", "carol", "payoutElect", "/api/v1/distributions/election",
                   {"asset": "USDC"})  # fmt: skip
    assert again.json()["seq"] is None  # already so: nothing new in the log
    other = signed(client, "POST", "carol", "payoutElect", "/api/v1/distributions/election",
                   {"asset": "EUR"})  # fmt: skip
    # Typed refusals (issue 10, part 2): the code is the distribution core's own, not "refused".
    assert problem(other, 409, "payout_elected_already")
    bad = signed(client, "POST", "carol", "payoutElect", "/api/v1/distributions/election",
                 {"asset": "BTC"})  # fmt: skip
    problem(bad, 400, "invalid_parameter")
