"""The operator console in a real browser (JavaScript off) against the real ``reclaim serve``
(``conftest.portal``): the treasury previews a declared round, approves the lines it saw (the
log's ``distribution.round_approved`` carries that digest, signed by the treasury's key),
executes it, and the public API and transparency page show the round completed; the auditor
reads the same pages without a single button. Screenshots in English and Chinese."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.sync_api import Browser, BrowserContext

from tests.web.conftest import new_context
from tests.web.portal_world import FIFTH_ROUND_ID, Portal
from tests.web.test_creditor_browser import operator_login, shoot


def round_events(portal: Portal, start: int) -> list[dict[str, object]]:
    end = int(httpx.get(f"{portal.base_url}/healthz", timeout=10).json()["size"])
    text = httpx.get(f"{portal.base_url}/log/entries", params={"start": start, "end": end},
                     timeout=30).text  # fmt: skip
    return [json.loads(line) for line in text.splitlines() if line]


def test_the_treasury_previews_approves_and_executes_a_round(
    chromium_app: Browser, portal: Portal, shots: Path
) -> None:
    context = new_context(chromium_app, javascript=False, accept_language="en")
    try:
        page = operator_login(context, portal, "treasury")
        page.goto(f"{portal.base_url}/operator/rounds")
        section = page.locator(f"section.round[data-round='{FIFTH_ROUND_ID}']")
        assert section.get_attribute("data-state") == "declared"
        shoot(page, shots, "operator-rounds", "en")
        section.locator("button").click()
        digest = page.locator("#preview-digest").inner_text()
        assert len(digest) == 64
        assert int(page.locator("#preview-lines").inner_text().replace(",", "")) > 0
        shoot(page, shots, "operator-round-preview", "en")
        start = int(httpx.get(f"{portal.base_url}/healthz", timeout=10).json()["size"])
        page.click("form[action='/operator/rounds/approve'] button")
        assert page.locator("#notice").count() == 1, page.locator("main").inner_html()
        (approved,) = [e for e in round_events(portal, start)
                       if e["type"] == "distribution.round_approved"]  # fmt: skip
        assert approved["actor"] == "treasury"
        assert json.dumps(approved).count(digest) == 1, "the approval signs the digest shown"
        section = page.locator(f"section.round[data-round='{FIFTH_ROUND_ID}']")
        assert section.get_attribute("data-state") == "approved"
        section.locator("button").click()
        assert page.locator("#notice").count() == 1, page.locator("main").inner_html()
        section = page.locator(f"section.round[data-round='{FIFTH_ROUND_ID}']")
        assert section.get_attribute("data-state") == "completed"
        shoot(page, shots, "operator-rounds-done", "en")

        published = httpx.get(f"{portal.base_url}/distributions/rounds/{FIFTH_ROUND_ID}",
                              timeout=10).json()  # fmt: skip
        assert published["completed_at"]
        assert published["lines_sha256"] == digest
        public = context.new_page()
        public.goto(f"{portal.base_url}/transparency")
        assert public.locator("#rounds tbody tr", has_text=FIFTH_ROUND_ID).count() == 1
    finally:
        context.close()


def test_the_auditor_reads_the_console_without_buttons(
    nojs: BrowserContext, portal: Portal, shots: Path
) -> None:
    page = operator_login(nojs, portal, "auditor")
    assert page.locator("h1").inner_text() == "运营控制台"
    for path in ("kyc", "escrow", "rounds", "withdrawals"):
        page.goto(f"{portal.base_url}/operator/{path}")
        assert page.locator("main form").count() == 0, f"{path}: the auditor signs nothing"
        shoot(page, shots, f"operator-{path}-auditor", "zh")
