"""Issue 9, finding 7: signed writes are rate-limited per actor.

At ``fd0c56d`` one key could send signed writes without bound: each costs an Ed25519 check, a
trip through the log's writer and a store transaction, now also a stored request mark (the
durable replay guard), and many (a KYC submission, a withdrawal) append events to the public
log. A creditor's script electing its payout asset in a loop was answered as fast as the server
could. Now every signed request other than GET/HEAD takes a token of the actor's bucket
(``auth.SIGNED_WRITES``: a burst of ``limits.signed_writes_per_actor_max``), past which it is
``429 rate_limited`` with ``Retry-After``, and nothing is stored.

The app is wired exactly as ``reclaim serve`` wires it (``bootstrap.build`` over a SQLite data
directory with the operator's keys, ``create_app`` with the onboarding wiring). The attacks:
the flood itself; a forger or a replayer trying to spend a victim's tokens (they cannot: the
token is taken after the signature and replay checks); a second process on the same database
(it shares the buckets); reads and other actors are not held up.
"""

from __future__ import annotations

import base64
import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import httpx
import pytest
from sqlalchemy import func, select

from reclaim import bootstrap
from reclaim.adapters.db import tables
from reclaim.adapters.db.store import SqlEventStore
from reclaim.adapters.keyfiles import init_keys
from reclaim.app.log_service import Accepted
from reclaim.app.request_signing import sign_request
from reclaim.config import Settings
from reclaim.core import limits
from reclaim.core.machine import RegisterActor
from reclaim.entrypoints.api.app import create_app
from reclaim.log.keys import SignerKey
from tests.support.factories import ORIGIN

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ELECTION: Final = "/api/v1/distributions/election"
BURST: Final = limits.signed_writes_per_actor_max
#: Seconds between two tokens once the burst is spent (GCRA's emission interval).
INTERVAL_SECONDS: Final = limits.signed_writes_per_actor_period_seconds // BURST
_ticks = itertools.count(1)


@dataclass(slots=True)
class Served:
    container: bootstrap.Container
    client: TestClient
    settings: Settings
    keys: dict[str, SignerKey]


def _serve(settings: Settings) -> tuple[bootstrap.Container, TestClient]:
    container = bootstrap.build(settings)
    assert container.onboarding is not None, "the PII keys are there: onboarding is wired"
    container.log.start()
    return container, TestClient(create_app(container.log, onboarding=container.onboarding))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = Settings.from_env({}, data_dir=tmp_path / "data", origin=ORIGIN)
    init_keys(settings.keys_dir, ORIGIN)
    container, client = _serve(settings)
    keys = {name: SignerKey.generate(name) for name in ("mallory", "alice")}
    registered = container.log.submit_many(
        [(RegisterActor(n, "creditor", k.verifier.to_text()), "gateway") for n, k in keys.items()]
    )
    assert all(isinstance(outcome, Accepted) for outcome in registered), registered
    try:
        with client:
            yield Served(container, client, settings, keys)
    finally:
        container.close()


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000) + next(_ticks)


def elect(client: TestClient, key: SignerKey, asset: str) -> httpx.Response:
    headers = sign_request(key, "payoutElect", {"asset": asset}, now_ms())
    return client.post(ELECTION, params={"asset": asset}, headers=headers)


def marks_of(served: Served, actor: str) -> int:
    """Signed requests of ``actor`` the store keeps (``request_signatures``)."""
    store = served.container.store
    assert isinstance(store, SqlEventStore)
    marks = tables.request_signatures
    query = select(func.count()).select_from(marks).where(marks.c.actor == actor)
    with store.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def assert_rate_limited(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= INTERVAL_SECONDS
    return retry


def test_a_flood_of_payout_elections_stops_at_the_actors_burst(served: Served) -> None:
    mallory = served.keys["mallory"]
    size_before = served.container.log.size
    answers = [elect(served.client, mallory, "USD") for _ in range(BURST)]
    assert [a.status_code for a in answers] == [200] * BURST, answers[-1].text
    assert [a.json()["asset"] for a in answers] == ["USD"] * BURST
    assert served.container.log.size == size_before + 1, "one election, then idempotent retries"
    assert marks_of(served, "mallory") == BURST, "every accepted write is kept as a mark"

    for _ in range(3):
        assert_rate_limited(elect(served.client, mallory, "USD"))
    assert served.container.log.size == size_before + 1
    assert marks_of(served, "mallory") == BURST, "nothing stored past the burst"


def test_a_refused_write_is_not_remembered_as_received(served: Served) -> None:
    """The same bytes sent again are still 429 (to be retried after Retry-After), not 409."""
    mallory = served.keys["mallory"]
    for _ in range(BURST):
        assert elect(served.client, mallory, "USD").status_code == 200
    headers = sign_request(mallory, "payoutElect", {"asset": "USD"}, now_ms())
    for _ in range(2):
        again = served.client.post(ELECTION, params={"asset": "USD"}, headers=headers)
        assert_rate_limited(again)


def test_reads_and_other_actors_are_not_held_up(served: Served) -> None:
    mallory, alice = served.keys["mallory"], served.keys["alice"]
    for _ in range(BURST + 1):
        elect(served.client, mallory, "USD")
    assert_rate_limited(elect(served.client, mallory, "USD"))
    read = sign_request(mallory, "distributionQuery", {}, now_ms())
    mine = served.client.get("/api/v1/distributions", headers=read)
    assert mine.status_code == 200, mine.text
    assert mine.json()["creditor"] == "mallory"
    assert elect(served.client, alice, "USD").status_code == 200


def test_a_forger_or_a_replayer_cannot_spend_a_victims_tokens(served: Served) -> None:
    alice = served.keys["alice"]
    mallory = served.keys["mallory"]
    # A forger: alice's public key, a signature by another key.
    forged = sign_request(mallory, "payoutElect", {"asset": "USD"}, now_ms())
    forged["X-API-Key"] = base64.b64encode(alice.verifier.public_key).decode()
    for _ in range(BURST + 5):
        refused = served.client.post(ELECTION, params={"asset": "USD"}, headers=forged)
        assert (refused.status_code, refused.json()["code"]) == (401, "signature_invalid")
    # A replayer: one of alice's real requests, captured and sent again and again.
    captured = sign_request(alice, "payoutElect", {"asset": "USD"}, now_ms())
    assert served.client.post(ELECTION, params={"asset": "USD"}, headers=captured).is_success
    for _ in range(BURST + 5):
        replayed = served.client.post(ELECTION, params={"asset": "USD"}, headers=captured)
        assert (replayed.status_code, replayed.json()["code"]) == (409, "request_replayed")
    # Alice still has her whole burst but the one request she sent.
    answers = [elect(served.client, alice, "USD") for _ in range(BURST - 1)]
    assert [a.status_code for a in answers] == [200] * (BURST - 1), answers[-1].text
    assert_rate_limited(elect(served.client, alice, "USD"))


def test_a_second_process_on_the_same_database_shares_the_bucket(served: Served) -> None:
    mallory = served.keys["mallory"]
    for _ in range(BURST):
        assert elect(served.client, mallory, "USD").status_code == 200
    second, client = _serve(served.settings)  # another API process: its own memory
    try:
        with client:
            assert_rate_limited(elect(client, mallory, "USD"))
            assert elect(client, served.keys["alice"], "USD").status_code == 200
    finally:
        second.close()
