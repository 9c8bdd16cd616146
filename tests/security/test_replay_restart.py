"""Issue 9, finding 6: a signed withdrawal replayed after a restart is not a second withdrawal.

The repro of the issue, end to end: a real ``reclaim serve`` process on loopback over the demo's
SQLite data; a demo holder signs ``POST /wapi/v1/capital/withdrawals`` (1.00 EUR, no
``clientId``, ``X-Window: 60000``) → 200; the same bytes → 409 ``request_replayed``; the server
is killed with SIGKILL and started again on the same data; the same bytes → still 409, and the
holder's account shows one reservation only. At ``fd0c56d`` the third answer was 200 with a new
withdrawal id and a second reservation (the replay guard lived in process memory).

The withdrawal's id, without a ``clientId``, is derived from the request's signature
(``new_withdrawal_id``), so even a replay that got past the guard would be the same withdrawal:
``test_a_request_key_names_one_withdrawal``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reclaim import bootstrap
from reclaim.app.demo import key_seed
from reclaim.app.request_signing import sign_request
from reclaim.config import Settings
from reclaim.log.keys import SignerKey

DEMO_SEED = 2022_11_11
IBAN = "FR7630006000011234567890189"
PATH = "/wapi/v1/capital/withdrawals"
ENV = {
    **os.environ,
    "RECLAIM_SEPA_DEBTOR_IBAN": "DE89370400440532013000",
    "RECLAIM_SEPA_DEBTOR_NAME": "Reclaim Operator",
    "RECLAIM_SEPA_DEBTOR_BIC": "COBADEFFXXX",
}


def reclaim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "reclaim", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done


@dataclass(frozen=True)
class Holder:
    name: str
    key: SignerKey
    available_minor: int


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replay")
    reclaim("demo", "--no-serve", "--creditors", "300", "--data-dir", "d", cwd=root)
    return root


def eur_holder(data_dir: Path) -> Holder:
    """A demo holder with euros, KYC approved and a verified name (one the demo paid by SEPA)."""
    container = bootstrap.build(Settings.from_env({}, data_dir=data_dir))
    try:
        state = container.log.state
        for withdrawal in sorted(state.withdrawals.withdrawals.values(), key=lambda w: w.id):
            account = state.ledger.accounts[f"{withdrawal.creditor}/EUR/creditor_available"]
            if account.available_minor >= 2_000:
                name = withdrawal.creditor
                key = SignerKey.from_seed(name, key_seed(DEMO_SEED, name))
                return Holder(name, key, account.available_minor)
    finally:
        container.close()
    raise AssertionError("the demo paid no one by SEPA who has euros left")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(base_url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    port = base_url.rsplit(":", 1)[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "reclaim", "serve", "--port", port, "--data-dir", str(data_dir)],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "the server exited while starting"
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)


def balances(data_dir: Path, holder: Holder) -> tuple[int, int]:
    """(available, pending debits) of the holder's EUR account, replayed from the store."""
    container = bootstrap.build(Settings.from_env({}, data_dir=data_dir))
    try:
        account = container.log.state.ledger.accounts[f"{holder.name}/EUR/creditor_available"]
        return account.available_minor, account.debits_pending
    finally:
        container.close()


def test_a_signed_withdrawal_replayed_after_kill_9_is_refused(demo: Path) -> None:
    base_url, data_dir = f"http://127.0.0.1:{free_port()}", demo / "d"
    holder = eur_holder(data_dir)
    body = {"address": IBAN, "blockchain": "sepa", "quantity": "1.00", "symbol": "EUR"}
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    headers = sign_request(holder.key, "withdraw", body, now_ms, window_ms=60_000)
    raw = json.dumps(body).encode()
    sent = {**headers, "Content-Type": "application/json"}
    before = balances(data_dir, holder)

    process = start(base_url, data_dir)
    try:
        first = httpx.post(base_url + PATH, content=raw, headers=sent, timeout=30)
        assert first.status_code == 200, first.text
        again = httpx.post(base_url + PATH, content=raw, headers=sent, timeout=30)
        assert (again.status_code, again.json()["code"]) == (409, "request_replayed")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    process = start(base_url, data_dir)  # the same data, a new process: its memory is empty
    try:
        replayed = httpx.post(base_url + PATH, content=raw, headers=sent, timeout=30)
        assert (replayed.status_code, replayed.json().get("code")) == (409, "request_replayed"), (
            replayed.text
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    fee_minor = int(first.json()["fee"].replace(".", ""))
    after = balances(data_dir, holder)
    assert after == (before[0] - 100 - fee_minor, before[1] + 100 + fee_minor), (
        "exactly one reservation of 1.00 EUR plus the fee"
    )


def test_a_request_key_names_one_withdrawal() -> None:
    from reclaim.app.withdrawals import new_withdrawal_id

    key = bytes(range(32))
    assert new_withdrawal_id(key) == new_withdrawal_id(key)
    assert new_withdrawal_id(key) != new_withdrawal_id(bytes(32))
    assert new_withdrawal_id(None) != new_withdrawal_id(None), "no key: a random id"
