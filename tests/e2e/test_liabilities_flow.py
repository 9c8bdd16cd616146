"""Proof of liabilities end to end: a ledger, a snapshot, a creditor's signed request for their
proof over the API, and the creditor's offline check with ``reclaim verify-liabilities``.

The log is ``tests.support.ledger_log``'s (its docstring has the ledger and what is owed): a
genesis, the treasury and four creditors, the treasury's accounts and transfers (deposits,
distributions from the estate pool, a fee, withdrawals pending and posted, an order's cash pending,
a fill), on SQLite. The operator takes a snapshot (``LiabilitiesService``), which publishes a
checkpoint at the log's size and signs a statement naming it::

    USD  594500 minor units owed to 4 creditors (alice 119500, bob 24000, estate 450000,
         market 1000); carol (all withdrawn) and dave (a deposit still pending) are owed 0
    EUR  7777 owed to alice

The creditor's side runs the real CLI (Typer's ``CliRunner``) on the files the API served, and
once against a real server on loopback (``--checkpoint URL``). The last test runs
``reclaim keys init`` and ``reclaim liabilities snapshot`` / ``proof`` on a data directory.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import socket
import stat
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import httpx
import pytest
import uvicorn
from tests.support import ledger_log
from tests.support.factories import ORIGIN

with warnings.catch_warnings():
    # Starlette asks for httpx2 and warns once, at import, when it finds httpx instead.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient
from typer.testing import CliRunner

from reclaim import bootstrap
from reclaim.adapters.db.store import SqlEventStore, open_store
from reclaim.app.export import export_log
from reclaim.app.liabilities import LIABILITY_PURPOSES, LiabilitiesService
from reclaim.app.log_service import LogService
from reclaim.app.request_signing import sign_request
from reclaim.config import Settings
from reclaim.entrypoints.api.app import create_app
from reclaim.entrypoints.cli import app as cli
from reclaim.log.checkpoint import Checkpoint
from reclaim.log.keys import VerifierKey
from reclaim.log.liabilities.build import Snapshot, build_snapshot
from reclaim.log.liabilities.proof import PathStep, proof_to_json
from reclaim.log.liabilities.statement import LiabilitiesStatement

SECRET: Final = hashlib.sha256(b"e2e liabilities secret").digest()
NOW: Final = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NOW_MS: Final = int(NOW.timestamp() * 1000)
INSTRUCTION: Final = "liabilityProofQuery"
PROBLEM_TYPE: Final = "application/problem+json"
#: Milliseconds added to each request's timestamp: every signature differs (no replay), all
#: within the default window of the fixed clock's time.
_ticks = itertools.count(1)


class FixedClock:
    def now(self) -> datetime:
        return NOW


@dataclass(frozen=True, slots=True)
class World:
    directory: Path
    log: LogService
    store: SqlEventStore
    service: LiabilitiesService
    snapshot: Snapshot
    client: TestClient
    log_key: VerifierKey  # the log's verifier key, which a creditor is given
    checkpoint_file: Path  # the published checkpoint the statement names, as the API served it

    @property
    def log_key_text(self) -> str:
        return self.log_key.to_text()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("liabilities")
    store = open_store(f"sqlite:///{directory / 'log.db'}")
    keys = ledger_log.new_keys()
    log = LogService(store, keys, FixedClock())
    ledger_log.submit_all(log, ledger_log.foundation(keys) + ledger_log.ledger())
    service = LiabilitiesService(log, store, SECRET, keys.log_signer, clock=FixedClock())
    snapshot = service.snapshot()
    with TestClient(create_app(log, liabilities=service)) as client:
        size = snapshot.statement.checkpoint_size
        listed = client.get("/log/checkpoints", params={"start": size, "limit": 1}).json()
        (item,) = listed["checkpoints"]
        assert item["size"] == str(size)
        checkpoint_file = directory / "checkpoint.txt"
        checkpoint_file.write_text(item["note"])
        yield World(
            directory, log, store, service, snapshot, client, keys.log_signer.verifier,
            checkpoint_file,
        )  # fmt: skip
    store.close()


def signed_get(client: TestClient, path: str, params: dict[str, str], actor: str) -> httpx.Response:
    """A GET signed with ``actor``'s registered key, as a Backpack client signs it."""
    key = ledger_log.creditor_key(actor)
    headers = sign_request(key, INSTRUCTION, params, NOW_MS + next(_ticks))
    response: httpx.Response = client.get(path, params=params, headers=headers)
    return response


def fetch_proof(world: World, actor: str, asset: str, path: Path) -> Path:
    response = signed_get(world.client, "/liabilities/proof", {"asset": asset}, actor)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    path.write_bytes(response.content)
    return path


@dataclass(frozen=True, slots=True)
class Ran:
    code: int
    stdout: str
    stderr: str


def run(*args: str) -> Ran:
    result = CliRunner().invoke(cli, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def forged(world: World, size: int) -> Snapshot:
    """A statement signed with the log key at the log's real tree head of ``size``, at which
    the log published no checkpoint."""
    assert size not in [c.size for c in world.store.checkpoints(0, 1000)], "never published"
    head = Checkpoint(ORIGIN, size, world.store.root(size))
    keys = ledger_log.new_keys()
    rows = [(owner, "USD", amount) for owner, amount in ledger_log.EXPECTED_USD.items()]
    return build_snapshot(rows, SECRET, f"{size}", head, keys.log_signer)


@pytest.fixture
def server(world: World) -> Iterator[str]:
    """The same app, served by uvicorn on a free loopback port, in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(world.log, liabilities=world.service)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert thread.is_alive(), "the server thread died while starting"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)
        sock.close()


# The operator's statement ----------------------------------------------------------------------


def test_the_root_is_the_signed_statement_at_the_published_checkpoint(world: World) -> None:
    response = world.client.get("/liabilities/root")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == world.snapshot.to_json()
    statement = LiabilitiesStatement.from_json(response.content, world.log_key)
    assert statement.checkpoint_root == world.store.root(world.log.size)
    body = json.loads(response.content)
    assert body["snapshot"] == body["checkpoint"]["size"] == str(world.log.size)
    assert body["statement"] == world.snapshot.statement_note
    assert [(a["asset"], a["total"], a["leaf_count"]) for a in body["assets"]] == [
        ("EUR", "7777", "1"),
        ("USD", "594500", "4"),
    ]
    assert world.checkpoint_file.read_text().startswith(f"{ORIGIN}\n{world.log.size}\n")


def test_the_sum_of_all_liabilities_equals_the_statement_totals(world: World) -> None:
    owed: dict[str, int] = {}
    for account in world.log.state.ledger.accounts.values():
        if account.purpose in LIABILITY_PURPOSES:
            owed[account.asset] = owed.get(account.asset, 0) + account.credit_balance_minor
    totals = {a.asset: a.total for a in world.snapshot.statement.assets}
    assert totals == owed == {"USD": 594_500, "EUR": 7_777}
    for asset, expected in (("USD", ledger_log.EXPECTED_USD), ("EUR", ledger_log.EXPECTED_EUR)):
        proofs = [world.service.proof(owner, asset) for owner in expected]
        assert {p["account"]: int(p["balance"]) for p in proofs} == expected
        assert sum(int(p["balance"]) for p in proofs) == totals[asset]
        assert sorted(int(p["index"]) for p in proofs) == list(range(len(expected)))


# A creditor's proof, over the API and offline -----------------------------------------------


def test_a_creditor_fetches_their_proof_and_checks_it_offline(world: World, tmp_path: Path) -> None:
    proof = fetch_proof(world, "alice", "USD", tmp_path / "alice-usd.json")
    assert proof.read_bytes() == proof_to_json(world.snapshot.proof_for("alice", "USD"))
    done = run(
        "verify-liabilities", str(proof), "--log-key", world.log_key_text,
        "--checkpoint", str(world.checkpoint_file),
    )  # fmt: skip
    assert done.code == 0, done.stderr
    size = world.log.size
    assert "OK alice: 119500 USD (minor units) is leaf" in done.stdout
    assert f"in the signed USD total 594500 of snapshot {size}" in done.stdout
    assert f"checked the statement names checkpoint {ORIGIN} {size} " in done.stdout
    assert f"as published by checkpoint file {world.checkpoint_file}" in done.stdout
    assert "NOT CHECKED" not in done.stdout


def test_each_asset_has_its_own_proof(world: World, tmp_path: Path) -> None:
    proof = fetch_proof(world, "alice", "EUR", tmp_path / "alice-eur.json")
    done = run("verify-liabilities", str(proof), "--log-key", world.log_key_text)
    assert done.code == 0, done.stderr
    assert "OK alice: 7777 EUR (minor units) is leaf 0 of 1 in the signed EUR total 7777" in (
        done.stdout
    )


def test_without_a_published_checkpoint_the_link_is_reported_unchecked(
    world: World, tmp_path: Path
) -> None:
    proof = fetch_proof(world, "bob", "USD", tmp_path / "bob.json")
    done = run("verify-liabilities", str(proof), "--log-key", world.log_key_text)
    assert done.code == 0, done.stderr
    assert "OK bob: 24000 USD (minor units)" in done.stdout
    assert (
        "NOT CHECKED the statement names checkpoint "
        f"{ORIGIN} {world.log.size} {world.checkpoint_file.read_text().split(chr(10))[2]}; the "
        "checkpoint link was not checked: give --checkpoint FILE|URL to check it was published"
    ) in done.stdout


def test_a_creditor_checks_against_the_server_and_its_published_key(
    world: World, server: str, tmp_path: Path
) -> None:
    proof = fetch_proof(world, "bob", "USD", tmp_path / "bob.json")
    done = run("verify-liabilities", str(proof), "--checkpoint", server)
    assert done.code == 0, done.stderr
    assert f"using the log key the log at {server} publishes: {world.log_key_text}" in done.stderr
    assert f"as published by the log at {server}" in done.stdout


def test_a_creditor_owed_nothing_gets_no_proof(world: World) -> None:
    for actor, asset in (("carol", "USD"), ("dave", "USD"), ("bob", "EUR")):
        response = signed_get(world.client, "/liabilities/proof", {"asset": asset}, actor)
        assert response.status_code == 404, (actor, asset)
        assert response.headers["content-type"] == PROBLEM_TYPE
        body = response.json()
        assert body["code"] == "not_found"
        assert body["detail"] == (
            f"account {actor!r} has no {asset} liability in snapshot {world.log.size}"
        )


def test_a_proof_needs_a_signed_request(world: World) -> None:
    response = world.client.get("/liabilities/proof", params={"asset": "USD"})
    assert response.status_code == 401
    assert response.json()["code"] == "signature_missing"
    key = ledger_log.creditor_key("alice")
    headers = sign_request(key, INSTRUCTION, {"asset": "EUR"}, NOW_MS + next(_ticks))
    tampered = world.client.get("/liabilities/proof", params={"asset": "USD"}, headers=headers)
    assert tampered.status_code == 401
    assert tampered.json()["code"] == "signature_invalid"


# Refusals of the offline check -----------------------------------------------------------------


def test_a_statement_naming_a_checkpoint_the_log_never_published_fails(
    world: World, server: str, tmp_path: Path
) -> None:
    size = world.log.size - 2
    proof = tmp_path / "forged.json"
    proof.write_bytes(proof_to_json(forged(world, size).proof_for("alice", "USD")))
    export = tmp_path / "export"
    export_log(world.store, world.log.state, export)

    never = (
        f"statement of snapshot {size} names checkpoint {ORIGIN} {size}, but {{}} has no "
        f"checkpoint of size {size}: the log never published it"
    )
    for source, name in (
        (server, f"the log at {server}"),
        (str(export), f"the exported log {export}"),
    ):
        done = run("verify-liabilities", str(proof), "--log-key", world.log_key_text,
                   "--checkpoint", source)  # fmt: skip
        assert done.code == 1, done.stdout
        assert done.stdout == ""
        assert done.stderr.strip() == "FAILED checkpoint_mismatch: " + never.format(name)

    done = run("verify-liabilities", str(proof), "--log-key", world.log_key_text,
               "--checkpoint", str(world.checkpoint_file))  # fmt: skip
    assert done.code == 1
    own_root = _b64(world.store.root(size))
    published_root = _b64(world.store.root(world.log.size))
    assert done.stderr.strip() == (
        f"FAILED checkpoint_mismatch: statement of snapshot {size} names checkpoint {ORIGIN} "
        f"{size} {own_root}, not the published checkpoint {ORIGIN} {world.log.size} "
        f"{published_root}"
    )
    # Without a published checkpoint, the proof itself is sound: only the link exposes it.
    assert run("verify-liabilities", str(proof), "--log-key", world.log_key_text).code == 0


def test_a_changed_balance_fails_with_the_precise_message(world: World, tmp_path: Path) -> None:
    proof = json.loads(fetch_proof(world, "alice", "USD", tmp_path / "a.json").read_text())
    proof["balance"] = "219500"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(proof))
    done = run("verify-liabilities", str(changed), "--log-key", world.log_key_text,
               "--checkpoint", str(world.checkpoint_file))  # fmt: skip
    assert done.code == 1
    step = PathStep.decode(proof["path"][0])
    assert step is not None
    index = int(proof["index"])
    assert index // 2 * 2 + 1 < 4, "alice's leaf has a sibling at the first step (4 leaves)"
    low = index // 2 * 2
    pair = (219_500, step.sibling_sum) if index % 2 == 0 else (step.sibling_sum, 219_500)
    assert done.stderr.strip() == (
        f"FAILED node_sum_mismatch: path step 0 (node over leaves [{low}, {low + 2})): its sum "
        f"is {step.parent_sum}, but its children sum to {pair[0]} + {pair[1]} = {sum(pair)}"
    )
    assert step.parent_sum == 119_500 + step.sibling_sum


def test_another_log_key_fails(world: World, tmp_path: Path) -> None:
    proof = fetch_proof(world, "alice", "USD", tmp_path / "a.json")
    other = ledger_log.creditor_key("alice").verifier.to_text()
    done = run("verify-liabilities", str(proof), "--log-key", other)
    assert done.code == 1
    assert done.stderr.startswith("FAILED unknown_key: statement is not signed by alice+")


def test_no_key_and_no_server_is_a_usage_error(world: World, tmp_path: Path) -> None:
    proof = fetch_proof(world, "alice", "USD", tmp_path / "a.json")
    done = run("verify-liabilities", str(proof), "--checkpoint", str(world.checkpoint_file))
    assert done.code == 2
    assert "give --log-key (the log's verifier key), or a --checkpoint server URL" in done.stderr


def test_before_any_snapshot_there_is_no_root(world: World) -> None:
    store = open_store(f"sqlite:///{world.directory / 'empty.db'}")
    try:
        keys = ledger_log.new_keys()
        log = LogService(store, keys, FixedClock())
        ledger_log.submit_all(log, ledger_log.foundation(keys))
        service = LiabilitiesService(log, store, SECRET, keys.log_signer, clock=FixedClock())
        with TestClient(create_app(log, liabilities=service)) as client:
            response = client.get("/liabilities/root")
            assert response.status_code == 404
            assert response.json()["detail"] == "no liabilities snapshot has been taken yet"
            proof = signed_get(client, "/liabilities/proof", {"asset": "USD"}, "alice")
            assert proof.status_code == 404
    finally:
        store.close()


# The operator's CLI on a data directory ------------------------------------------------------


def test_the_operator_cli_takes_a_snapshot_and_exports_a_proof(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run("keys", "init", "--data-dir", str(data)).code == 0
    secret = data / "keys" / "liabilities.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_bytes()) == 32

    container = bootstrap.build(Settings.from_env({}, data_dir=data))
    try:
        ledger_log.submit_all(container.log, ledger_log.creditors() + ledger_log.ledger())
        size = container.log.size
    finally:
        container.close()

    done = run("liabilities", "snapshot", "--data-dir", str(data))
    assert done.code == 0, done.stderr
    stored = open_store(Settings.from_env({}, data_dir=data).database_url)
    try:
        record = stored.latest_liabilities_snapshot()
    finally:
        stored.close()
    assert record is not None
    assert (record.id, record.checkpoint_size) == (str(size), size)
    assert done.stdout.startswith(record.statement_note)
    assert record.statement_note.startswith(
        f"reclaim liabilities v1\nreclaim.local/log\nsnapshot {size}\ncheckpoint {size} "
    )
    for row in (r"EUR\W+77\.77\W+7777\W+1\W", r"USD\W+5945\.00\W+594500\W+4\W"):
        assert re.search(row, done.stdout), done.stdout
    assert f"snapshot {size} at checkpoint {size}: 2 asset(s)" in done.stdout

    proof = tmp_path / "alice.json"
    done = run("liabilities", "proof", "--account", "alice", "--asset", "USD", "--out",
               str(proof), "--data-dir", str(data))  # fmt: skip
    assert done.code == 0, done.stderr
    assert json.loads(proof.read_text())["balance"] == "119500"
    export = tmp_path / "export"
    assert run("export-log", str(export), "--data-dir", str(data)).code == 0
    log_key = (data / "keys" / "public" / "log.pub").read_text().strip()
    done = run("verify-liabilities", str(proof), "--log-key", log_key, "--checkpoint", str(export))
    assert done.code == 0, done.stderr
    assert f"as published by the exported log {export}" in done.stdout

    done = run("liabilities", "proof", "--account", "carol", "--asset", "USD", "--data-dir",
               str(data))  # fmt: skip
    assert done.code == 1
    assert f"account 'carol' has no USD liability in snapshot {size}" in done.stderr


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
