"""Accessibility of the main pages (axe-core, through PyPI ``axe-playwright-python``), in
Chinese and English, with a creditor logged in for the creditor pages and an operator for the
console: no violation of impact ``serious`` or ``critical``. axe runs as script injected by the
test (the pages themselves have none), so this context has JavaScript on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext

from tests.web.conftest import new_context
from tests.web.portal_world import Portal
from tests.web.test_creditor_browser import operator_login, sign_up

SEVERE: Final = frozenset({"serious", "critical"})
PUBLIC: Final = ("/transparency", "/signup", "/login", "/operator/login")
CREDITOR: Final = ("/me", "/withdrawals")
CONSOLE: Final = ("/operator", "/operator/kyc", "/operator/rounds")


@pytest.fixture(params=["zh-CN", "en"])
def js(request: pytest.FixtureRequest, chromium_app: Browser) -> Iterator[BrowserContext]:
    context = new_context(chromium_app, javascript=True, accept_language=str(request.param))
    try:
        yield context
    finally:
        context.close()


def severe(context: BrowserContext, url: str) -> list[str]:
    page = context.pages[-1] if context.pages else context.new_page()
    page.goto(url)
    results = Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core", "axe ran on the page"
    assert results.response["url"] == url
    return [
        f"{url}: {v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in SEVERE
    ]


def test_the_main_pages_have_no_serious_violation(js: BrowserContext, portal: Portal) -> None:
    found = [problem for path in PUBLIC for problem in severe(js, portal.base_url + path)]
    page = js.new_page()
    sign_up(page, portal, portal.holder("GB"))
    found += [problem for path in CREDITOR for problem in severe(js, portal.base_url + path)]
    operator_login(js, portal, "auditor")
    found += [problem for path in CONSOLE for problem in severe(js, portal.base_url + path)]
    assert found == []
