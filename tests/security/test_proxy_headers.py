"""Issue 9, finding 5: a client cannot choose the address the rate limits count it by.

A real ``reclaim serve`` on loopback over the demo's data. Sign-ups are limited per client
(``code_sends_per_client_max`` code e-mails an hour) and so are the code checks of
``POST /onboarding/verify`` (``code_checks_per_client_max`` an hour). With the default settings
the server believes no proxy header, so a client rotating ``X-Forwarded-For`` is still one
client and is refused ``429 rate_limited`` once it has spent its budget. At ``fd0c56d``
uvicorn's default trusted ``X-Forwarded-For`` from 127.0.0.1, so every forged address got a
fresh budget and neither limit ever bound.

With ``RECLAIM_TRUSTED_PROXIES=127.0.0.1`` (a reverse proxy on the same host) the header is
believed, and each forwarded address has its own budget — what a proxy in front needs. The
limits are stored (SQL), so each run forges addresses of its own documentation range.
"""

from __future__ import annotations

import base64
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
from reclaim.log.keys import SignerKey


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


#: The documentation range (RFC 5737) each run forges its X-Forwarded-For from.
FORGED = {"default": "203.0.113", "proxied": "198.51.100"}


def forged(run: str, n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"{FORGED[run]}.{n % 250 + 1}"}


def code_of(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["code"] if answer.status_code >= 400 else ""


def spray_checks(base: str, run: str) -> list[tuple[int, str]]:
    """One more code check than a client may make, each from a forged address and for another
    address (so only the per-client limit can refuse)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        return [
            code_of(http.post(
                "/onboarding/verify",
                json={"email": f"victim-{run}-{n}@example.org", "code": "00000000"},
                headers=forged(run, n),
            ))
            for n in range(limits.code_checks_per_client_max + 1)
        ]  # fmt: skip


def spray_sign_ups(base: str, run: str) -> list[tuple[int, str]]:
    """One more sign-up than a client may make, each from a forged address, for another address
    and with a fresh key that proves itself (so only the per-client limit can refuse). Where
    there is no challenge to sign (``fd0c56d``), the body that server took."""
    answers = []
    with httpx.Client(base_url=base, timeout=30) as http:
        origin = http.get("/log/checkpoint").text.split("\n", 1)[0]
        for n in range(limits.code_sends_per_client_max + 1):
            email = f"signup-{run}-{n}@example.org"
            key = SignerKey.generate(f"k{n}")
            body = {"email": email, "password": "correct horse battery", "locale": "en",
                    "public_key": base64.b64encode(key.verifier.public_key).decode()}  # fmt: skip
            issued = http.post("/onboarding/challenge", json={"email": email})
            if issued.status_code != 404:
                challenge = issued.json()["challenge"]
                message = b"\x00".join((b"reclaim/sign-up-possession/v1", origin.encode(),
                                        challenge.encode(), email.encode()))  # fmt: skip
                signature = base64.b64encode(key.sign(message)).decode()
                body |= {"challenge": challenge, "signature": signature}
            answers.append(code_of(http.post("/onboarding/signup", json=body,
                                             headers=forged(run, n))))  # fmt: skip
    return answers


def test_forged_forwarded_for_does_not_escape_the_per_client_limits(demo: Path) -> None:
    for base in serve(demo):
        sign_ups = spray_sign_ups(base, "default")
        checks = spray_checks(base, "default")
    assert sign_ups[:-1] == [(202, "")] * limits.code_sends_per_client_max
    assert sign_ups[-1] == (429, "rate_limited"), "one client, whatever X-Forwarded-For says"
    assert checks[:-1] == [(400, "code_invalid")] * limits.code_checks_per_client_max
    assert checks[-1] == (429, "rate_limited"), "one client, whatever X-Forwarded-For says"


def test_a_named_proxy_is_believed(demo: Path) -> None:
    for base in serve(demo, RECLAIM_TRUSTED_PROXIES="127.0.0.1"):
        sign_ups = spray_sign_ups(base, "proxied")
        checks = spray_checks(base, "proxied")
    assert sign_ups == [(202, "")] * (limits.code_sends_per_client_max + 1), (
        "each forwarded address has a budget of its own"
    )
    assert checks == [(400, "code_invalid")] * (limits.code_checks_per_client_max + 1)


@pytest.mark.parametrize("value", ["not-an-ip", "10.0.0.0/33", "127.0.0.1,,x"])
def test_a_trusted_proxy_that_is_not_an_address_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="trusted proxy"):
        Settings.from_env({"RECLAIM_TRUSTED_PROXIES": value})


def test_trusted_proxies_parse_to_networks() -> None:
    settings = Settings.from_env({"RECLAIM_TRUSTED_PROXIES": " 127.0.0.1 , 10.1.2.0/24,::1"})
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.1.2.0/24", "::1/128")
    assert Settings.from_env({}).trusted_proxies == ()
