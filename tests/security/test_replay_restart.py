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

import contextvars
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reclaim import bootstrap
from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app import signed_requests
from reclaim.app.log_service import Accepted, InlineSigner, KeyRing, LogService
from reclaim.app.ports import (
    PendingSignatures,
    RequestAlreadyAccepted,
    RequestMark,
    SigningRequests,
)
from reclaim.app.request_signing import sign_request
from reclaim.config import Settings
from reclaim.core.machine import Genesis, PublishDocument
from reclaim.core.withdrawals import destination_id_of
from reclaim.demo.foundation import key_seed
from reclaim.log.keys import SignerKey
from tests.api.conftest import FixedClock, new_keys
from tests.support.factories import ORIGIN

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
    #: The SEPA destination the demo confirmed for the holder (issue 9, finding 7).
    destination: str


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
                destination = destination_id_of(name, "sepa", withdrawal.beneficiary)
                return Holder(name, key, account.available_minor, destination)
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
    body = {
        "destinationId": holder.destination,
        "blockchain": "sepa",
        "quantity": "1.00",
        "symbol": "EUR",
    }
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


def test_a_second_server_on_the_same_store_refuses_the_same_bytes(demo: Path) -> None:
    """Two ``reclaim serve`` processes on one data directory (a replica behind a balancer):
    the signed bytes the first accepted are ``request_replayed`` at the second, whose memory
    never saw them, and only one reservation is made."""
    data_dir = demo / "d"
    holder = eur_holder(data_dir)
    body = {
        "destinationId": holder.destination,
        "blockchain": "sepa",
        "quantity": "2.00",
        "symbol": "EUR",
    }
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    sent = {**sign_request(holder.key, "withdraw", body, now_ms, window_ms=60_000),
            "Content-Type": "application/json"}  # fmt: skip
    raw = json.dumps(body).encode()
    before = balances(data_dir, holder)
    first_url, second_url = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    first = start(first_url, data_dir)
    try:
        second = start(second_url, data_dir)
        try:
            accepted = httpx.post(first_url + PATH, content=raw, headers=sent, timeout=30)
            assert accepted.status_code == 200, accepted.text
            replayed = httpx.post(second_url + PATH, content=raw, headers=sent, timeout=30)
            assert (replayed.status_code, replayed.json().get("code")) == (
                409, "request_replayed"
            ), replayed.text  # fmt: skip
        finally:
            second.send_signal(signal.SIGKILL)
            second.wait(timeout=30)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    fee_minor = int(accepted.json()["fee"].replace(".", ""))
    assert balances(data_dir, holder) == (
        before[0] - 200 - fee_minor, before[1] + 200 + fee_minor
    ), "exactly one reservation of 2.00 EUR plus the fee"  # fmt: skip


def test_a_request_key_names_one_withdrawal() -> None:
    from reclaim.app.withdrawals import new_withdrawal_id

    key = bytes(range(32))
    assert new_withdrawal_id(key) == new_withdrawal_id(key)
    assert new_withdrawal_id(key) != new_withdrawal_id(bytes(32))
    assert new_withdrawal_id(None) != new_withdrawal_id(None), "no key: a random id"


# The log service: every signed write keeps its mark; a race between processes ----------------


class GatedSigner:
    """Signs inline; once ``armed``, the next ``submit`` waits until ``release`` (so the test
    can queue work behind a batch being prepared)."""

    def __init__(self, keys: KeyRing) -> None:
        self._inline = InlineSigner(keys.for_actor)
        self.armed = False
        self.entered = threading.Event()
        self.released = threading.Event()

    def submit(self, requests: SigningRequests) -> PendingSignatures:
        if self.armed:
            self.armed = False
            self.entered.set()
            assert self.released.wait(30), "the test releases the signer"
        return self._inline.submit(requests)

    def close(self) -> None:
        return None


def request_mark(text: str) -> RequestMark:
    return RequestMark(hashlib.sha256(text.encode()).digest(), "admin", 2**40)


def genesis(log: LogService, keys: KeyRing) -> None:
    admin, log_key = keys.for_actor("admin").verifier, keys.log_signer.verifier
    (outcome,) = log.submit_many([(Genesis(ORIGIN, "admin", admin.to_text(), log_key.to_text()),
                                   "admin")])  # fmt: skip
    assert isinstance(outcome, Accepted)


def document(name: str) -> PublishDocument:
    return PublishDocument(name, name, hashlib.sha256(name.encode()).hexdigest(), "text/plain")


def test_a_request_answered_on_the_bulk_path_keeps_its_mark() -> None:
    """A payout election goes through ``submit_many``: its request's mark is stored too."""
    keys = new_keys()
    log = LogService(MemoryEventStore(), keys, FixedClock())
    genesis(log, keys)
    signed_requests.hold(request_mark("election"))
    (outcome,) = log.submit_many([(document("d-1"), "admin")])
    assert isinstance(outcome, Accepted)
    assert log.request_seen(request_mark("election").digest)
    assert signed_requests.held() is None, "taken once"


def test_a_race_lost_to_another_process_refuses_only_the_raced_request() -> None:
    """Two processes accept the same signed bytes at once: the second to append is refused
    (``request_replayed``), and the requests batched with it are still answered — none waits
    forever, none is refused for another's replay."""
    keys, store = new_keys(), MemoryEventStore()
    signer = GatedSigner(keys)
    log = LogService(store, keys, FixedClock(), signer)
    genesis(log, keys)
    log.start()
    raced = request_mark("raced")

    def submit_raced() -> object:
        signed_requests.hold(raced)
        return log.submit(document("raced"), "admin")

    def submit_other(n: int) -> object:
        signed_requests.hold(request_mark(f"other-{n}"))
        return log.submit(document(f"other-{n}"), "admin")

    try:
        with ThreadPoolExecutor(max_workers=5) as pool:
            signer.armed = True
            first = pool.submit(contextvars.copy_context().run, submit_raced)
            assert signer.entered.wait(30), "the raced request's batch is being prepared"
            store.append([], (), [raced])  # the other process stores the same request first
            others = [pool.submit(contextvars.copy_context().run, submit_other, n)
                      for n in range(4)]  # fmt: skip
            deadline = time.monotonic() + 30
            while log._queue.qsize() < 4:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            signer.released.set()
            with pytest.raises(RequestAlreadyAccepted):
                first.result(timeout=30)
            answers = [other.result(timeout=30) for other in others]
    finally:
        log.stop()
    assert all(isinstance(answer, Accepted) for answer in answers), answers
    assert store.size() == 1 + 4, "genesis and the four others; the raced document never"
    assert all(log.request_seen(request_mark(f"other-{n}").digest) for n in range(4))
