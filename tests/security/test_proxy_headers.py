"""Issue 9, finding 5: a client cannot choose the address the rate limits count it by.

A real ``reclaim serve`` on loopback over the demo's data. The code checks of
``POST /onboarding/verify`` are limited per client (``code_checks_per_client_max`` an hour).
With the default settings the server believes no proxy header, so a client rotating
``X-Forwarded-For`` is still one client and is refused ``429`` once it has spent its checks. At
``fd0c56d`` uvicorn's default trusted ``X-Forwarded-For`` from 127.0.0.1, so every forged
address got a fresh budget and the limit never bound.

With ``RECLAIM_TRUSTED_PROXIES=127.0.0.1`` (a reverse proxy on the same host) the header is
believed, and each forwarded address has its own budget — what a proxy in front needs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reclaim.config import Settings, SettingsError
from reclaim.core import limits


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proxy")
    done = subprocess.run(
        [sys.executable, "-m", "reclaim", "demo", "--no-serve", "--creditors", "60",
         "--data-dir", "d"],
        cwd=root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return root / "d"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(data_dir: Path, **env: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "reclaim", "serve", "--port", str(port), "--data-dir",
         str(data_dir)],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the server exited while starting"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def spray(base: str, run: str) -> list[int]:
    """One more code check than a client may make, each from a forged address and for another
    address (so only the per-client limit can refuse)."""
    statuses = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for n in range(limits.code_checks_per_client_max + 1):
            answer = http.post(
                "/onboarding/verify",
                json={"email": f"victim-{run}-{n}@example.org", "code": "00000000"},
                headers={"X-Forwarded-For": f"203.0.113.{n % 250 + 1}"},
            )
            statuses.append(answer.status_code)
    return statuses


def test_forged_forwarded_for_does_not_escape_the_per_client_limit(demo: Path) -> None:
    for base in serve(demo):
        statuses = spray(base, "default")
    assert statuses[:-1] == [400] * limits.code_checks_per_client_max, "each a wrong code"
    assert statuses[-1] == 429, "one client, whatever X-Forwarded-For says"


def test_a_named_proxy_is_believed(demo: Path) -> None:
    for base in serve(demo, RECLAIM_TRUSTED_PROXIES="127.0.0.1"):
        statuses = spray(base, "proxied")
    assert statuses == [400] * (limits.code_checks_per_client_max + 1), (
        "each forwarded address has a budget of its own"
    )


@pytest.mark.parametrize("value", ["not-an-ip", "10.0.0.0/33", "127.0.0.1,,x"])
def test_a_trusted_proxy_that_is_not_an_address_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="trusted proxy"):
        Settings.from_env({"RECLAIM_TRUSTED_PROXIES": value})


def test_trusted_proxies_parse_to_networks() -> None:
    settings = Settings.from_env({"RECLAIM_TRUSTED_PROXIES": " 127.0.0.1 , 10.1.2.0/24,::1"})
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.1.2.0/24", "::1/128")
    assert Settings.from_env({}).trusted_proxies == ()
