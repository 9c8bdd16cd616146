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
- ``market_portal``: another such server, for the note pages and the acceptance journey (its
  fifth round is the journey's to run; one market halted);
- ``portal``: a second ``reclaim serve`` over a copy of the demo (``portal_world.prepare``:
  console logins, a USD rail), mailing through a real SMTP server on loopback (aiosmtpd) whose
  inbox the tests read the codes from; new destinations usable at once (cooling-off 0).
- ``nojs``: a browser context with JavaScript OFF (the creditor flow must work without it),
  Chinese by default; ``shots``: where screenshots go (``build/screenshots/web/``, or
  ``RECLAIM_SCREENSHOTS``), named ``<page>-<lang>-<desktop|phone>.png``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    sync_playwright,
)

from tests.support.onboarding_world import Inbox, smtp_server
from tests.support.serving import serving
from tests.web import portal_world

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
COMMAND_TIMEOUT_SECONDS: Final = 600
#: The demo's data as made, before a server opened it (what ``portal`` copies).
PRISTINE: Final = "pristine"


def reclaim(*args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "reclaim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=COMMAND_TIMEOUT_SECONDS)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


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
    shutil.copytree(root / "d", root / PRISTINE)  # before any server writes to "d"
    return root / "d"


@pytest.fixture(scope="session")
def demo_server(demo_dir: Path) -> Iterator[str]:
    """``reclaim serve`` over the demo's data, in its own process; its base URL."""
    with serving(demo_dir, demo_dir.parent / "serve.log") as base_url:
        yield base_url


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(
    chromium: str, playwright_session: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright_session.chromium.launch_persistent_context(
        str(profile),
        executable_path=chromium,
        headless=True,
        args=list(CHROMIUM_ARGS),
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="session")
def chromium_app(chromium: str, playwright_session: Playwright) -> Iterator[Browser]:
    """Chromium as a browser of many contexts (each test its own cookies and settings)."""
    launched = playwright_session.chromium.launch(
        executable_path=chromium, headless=True, args=list(CHROMIUM_ARGS)
    )
    try:
        yield launched
    finally:
        launched.close()


def new_context(browser: Browser, *, javascript: bool, accept_language: str) -> BrowserContext:
    context = browser.new_context(
        java_script_enabled=javascript,
        accept_downloads=True,
        extra_http_headers={"Accept-Language": accept_language},
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def nojs(chromium_app: Browser) -> Iterator[BrowserContext]:
    context = new_context(chromium_app, javascript=False, accept_language="zh-CN,zh;q=0.9")
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    folder = Path(os.environ.get("RECLAIM_SCREENSHOTS", "build/screenshots/web"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture(scope="session")
def portal(
    demo_dir: Path, smtp: tuple[Inbox, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[portal_world.Portal]:
    """``reclaim serve`` over a prepared copy of the demo, mailing to ``smtp``."""
    with prepared_portal(demo_dir, smtp, tmp_path_factory.mktemp("portal")) as running:
        yield running


@pytest.fixture(scope="session")
def market_portal(
    demo_dir: Path, smtp: tuple[Inbox, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[portal_world.Portal]:
    """A portal of its own for the note pages and the acceptance journey (its fifth round is
    the journey's to run), with the market ``HALTED_MARKET`` halted (cancels only)."""
    root = tmp_path_factory.mktemp("market-portal")
    with prepared_portal(demo_dir, smtp, root, ("market", "halt", HALTED_MARKET)) as running:
        yield running


#: The market ``market_portal`` halts before it serves.
HALTED_MARKET: Final = "FTX6B_USD"


@contextmanager
def prepared_portal(
    demo_dir: Path, smtp: tuple[Inbox, int], root: Path, *command: tuple[str, ...]
) -> Iterator[portal_world.Portal]:
    """A prepared copy of the demo under ``root`` (and each ``reclaim`` command run on it),
    served, mailing to ``smtp``."""
    data = root / "d"
    shutil.copytree(demo_dir.parent / PRISTINE, data)
    free, taken = portal_world.prepare(data)
    (root / "hk.toml").write_text(portal_world.HK_WIRE_TERMS)
    reclaim("withdrawals", "set-fees", str(root / "hk.toml"), "--data-dir", str(data), cwd=root)
    spec = root / "rounds.toml"  # the shipped plan and a fifth round, declared and funded
    spec.write_text(portal_world.shipped_rounds() + portal_world.FIFTH_ROUND)
    reclaim("distribute", "declare", portal_world.FIFTH_ROUND_ID, "--spec", str(spec),
            "--data-dir", str(data), cwd=root)  # fmt: skip
    reclaim("distribute", "fund", portal_world.FIFTH_ROUND_ID, "--data-dir", str(data), cwd=root)
    for args in command:
        reclaim(*args, "--data-dir", str(data), cwd=root)
    inbox, smtp_port = smtp
    env = {**os.environ, "RECLAIM_SMTP_HOST": "127.0.0.1", "RECLAIM_SMTP_PORT": str(smtp_port),
           "RECLAIM_DESTINATION_COOLING_OFF_SECONDS": "0"}  # fmt: skip
    with serving(data, root / "serve.log", env) as base_url:
        yield portal_world.Portal(base_url, inbox, data, portal_world.handing_out(free), taken)


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
