"""The browser harness: a real ``reclaim serve`` over the demo's data, and Debian's Chromium
driven by Playwright (PyPI ``playwright``, no browser download: the system executable).

- ``chromium``: the executable, ``/usr/bin/chromium`` (``RECLAIM_CHROMIUM`` to point elsewhere).
  Missing, the browser tests skip on a developer's machine and FAIL when ``CI=true`` (``.ci/run``
  installs ``chromium`` from Debian's packages).
- ``demo_server``: ``reclaim demo --no-serve`` (300 creditors, the FTX programme: register,
  onboarding, four rounds, escrow), ``reclaim liabilities snapshot``, then ``reclaim serve`` as
  a separate process on a free loopback port; its base URL. Once per session.
- ``browser``: one headless Chromium with a fresh profile (``launch_persistent_context`` on a new
  temporary ``user_data_dir``), no network of its own (no QUIC, background fetches, component
  updates or sync).
- ``page``: a new tab per test, cookies cleared, with every console error and uncaught page
  error collected in ``page_errors`` (a CSP violation is a console error).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Page, sync_playwright

CHROMIUM_DEFAULT: Final = "/usr/bin/chromium"
CHROMIUM_ARGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DEMO_CREDITORS: Final = "300"
SERVER_START_SECONDS: Final = 60
COMMAND_TIMEOUT_SECONDS: Final = 600


def reclaim(*args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "reclaim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=COMMAND_TIMEOUT_SECONDS)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def chromium() -> str:
    path = os.environ.get("RECLAIM_CHROMIUM", CHROMIUM_DEFAULT)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        found = shutil.which("chromium")
        if found is None:
            message = f"no Chromium at {path}: apt-get install chromium (Debian's package)"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        path = found
    return path


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web-demo")
    reclaim("demo", "--no-serve", "--creditors", DEMO_CREDITORS, "--data-dir", "d", cwd=root)
    reclaim("liabilities", "snapshot", "--data-dir", "d", cwd=root)
    return root / "d"


@pytest.fixture(scope="session")
def demo_server(demo_dir: Path) -> Iterator[str]:
    """``reclaim serve`` over the demo's data, in its own process; its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_file = (demo_dir.parent / "serve.log").open("wb")
    command = ["serve", "--port", str(port), "--data-dir", str(demo_dir)]
    process = subprocess.Popen(
        [sys.executable, "-m", "reclaim", *command], stdout=log_file, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            assert process.poll() is None, "reclaim serve exited while starting"
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "reclaim serve did not start in time"
            time.sleep(0.1)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log_file.close()


@pytest.fixture(scope="session")
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium,
            headless=True,
            args=list(CHROMIUM_ARGS),
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: BrowserContext, page_errors: list[str]) -> Iterator[Page]:
    browser.clear_cookies()
    tab = browser.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            page_errors.append(f"console {message.type}: {message.text}")

    def on_error(error: Error) -> None:
        page_errors.append(f"page error: {error.message}")

    tab.on("console", on_console)
    tab.on("pageerror", on_error)
    try:
        yield tab
    finally:
        tab.close()
        browser.clear_cookies()
