"""Accessibility of the main pages (axe-core 4, through PyPI ``axe-playwright-python``, which
injects its own copy of ``axe.min.js`` into the Playwright page): no violation of impact
``serious`` or ``critical``, in Chinese and in English, at desktop width and on a 360 px phone.

The pages, against the real ``reclaim serve`` of ``conftest.portal``:

- public: the transparency page (where ``/`` leads), find my claim (sign-up), login, the
  console's login, the error page (an unknown URL asked for by a browser: ``404``);
- a creditor's, as a new creditor goes through them: the code form, my claims (before and after
  uploading a KYC document, and with the claim linked), the claim's own page, withdrawals;
- the console's: its home, the KYC review queue with this creditor's case in it (as the KYC
  officer, whose forms decide), the rounds (as the treasury, whose forms preview and approve).

Each page is checked at both widths (axe runs again after the viewport changes: contrast,
overflow and target sizes depend on the layout). A failure lists every severe violation as
``page [language, width]: rule (impact): help`` and the CSS selectors of its nodes. axe runs as
script injected by the test (the pages themselves have none), so these contexts have
JavaScript on.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any, Final

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page

from tests.web.conftest import new_context
from tests.web.portal_world import CREDITOR_PASSWORD, Holder, Portal
from tests.web.test_creditor_browser import DESKTOP, PHONE, PNG, operator_login

SEVERE: Final = frozenset({"serious", "critical"})
WIDTHS: Final = (("desktop", DESKTOP), ("phone", PHONE))
#: Selectors shown per violation (the rest counted).
NODES_SHOWN_MAX: Final = 6
LANGUAGES: Final = {"zh-CN": "zh-Hans", "en": "en"}


class Audit:
    """axe over pages in one language, at both widths; what it found, as lines of text."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.axe = Axe()
        self.found: list[str] = []
        self.checked: list[str] = []

    def check(self, page: Page, name: str) -> None:
        assert page.get_attribute("html", "lang") == LANGUAGES[self.language], name
        for width, viewport in WIDTHS:
            page.set_viewport_size(viewport)
            results = self.axe.run(page)
            assert results.response["testEngine"]["name"] == "axe-core", "axe ran on the page"
            where = f"{name} [{self.language}, {width}]"
            self.found += [describe(where, v) for v in results.response["violations"]
                           if v.get("impact") in SEVERE]  # fmt: skip
            self.checked.append(where)
        page.set_viewport_size(DESKTOP)


def describe(where: str, violation: dict[str, Any]) -> str:
    nodes = [" ".join(map(str, n.get("target", []))) for n in violation["nodes"]]
    shown = ", ".join(nodes[:NODES_SHOWN_MAX])
    more = f" (+{len(nodes) - NODES_SHOWN_MAX} more)" if len(nodes) > NODES_SHOWN_MAX else ""
    return (f"{where}: {violation['id']} ({violation['impact']}): {violation['help']} — "
            f"nodes: {shown}{more}")  # fmt: skip


@pytest.fixture(params=sorted(LANGUAGES))
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def contexts(chromium_app: Browser, language: str) -> Iterator[list[BrowserContext]]:
    """Three browsers' worth of cookies (the creditor, the KYC officer, the treasury)."""
    opened = [new_context(chromium_app, javascript=True, accept_language=language)
              for _ in range(3)]  # fmt: skip
    try:
        yield opened
    finally:
        for context in opened:
            context.close()


def public_pages(audit: Audit, page: Page, portal: Portal) -> None:
    page.goto(portal.base_url + "/")
    assert page.url.startswith(portal.base_url + "/transparency"), page.url
    audit.check(page, "transparency")
    for path in ("/signup", "/login", "/operator/login"):
        page.goto(portal.base_url + path)
        audit.check(page, path)
    answer = page.goto(portal.base_url + "/no-such-page")
    assert answer is not None
    assert answer.status == 404, "the error page"
    audit.check(page, "error page (404)")


def creditor_until_kyc(audit: Audit, page: Page, portal: Portal, holder: Holder) -> None:
    """Sign-up, the code form, my claims; a KYC document uploaded to the manual queue."""
    page.goto(portal.base_url + "/signup")
    page.fill("#email", holder.email)
    page.fill("#password", CREDITOR_PASSWORD)
    page.fill("#password_again", CREDITOR_PASSWORD)
    before = len(portal.inbox.messages)
    page.click("form.stack button[type=submit]")
    assert page.locator("#code").count() == 1, "the code form"
    audit.check(page, "/signup/code")
    page.fill("#code", portal.code_for(holder.email, before))
    page.click("form.stack button[type=submit]")
    assert page.url == portal.base_url + "/me", page.url
    audit.check(page, "/me (new)")
    document = FilePayload(name=f"{holder.claim_id}.png", mimeType="image/png", buffer=PNG)
    page.set_input_files("#document", files=[document])
    page.click("form[action='/kyc'] button")
    assert page.get_attribute("#kyc-state", "data-state") == "pending"
    audit.check(page, "/me (KYC pending)")


def officer_approves(audit: Audit, context: BrowserContext, portal: Portal, holder: Holder) -> None:
    officer = operator_login(context, portal, "kyc-officer")
    audit.check(officer, "/operator")
    officer.goto(portal.base_url + "/operator/kyc")
    case = officer.locator("#kyc-queue li", has=officer.locator(
        f"a.document[data-name='{holder.claim_id}.png']"))  # fmt: skip
    assert case.count() == 1, "the creditor's case waits in the queue"
    audit.check(officer, "/operator/kyc")
    case.locator("input[name=verified_name]").fill(holder.name)
    case.locator("select[name=state]").select_option("approved")
    case.locator("button").click()
    assert officer.locator("#notice").count() == 1


def creditor_linked(audit: Audit, page: Page, portal: Portal, holder: Holder) -> None:
    page.goto(portal.base_url + "/me")
    page.locator("#to-link form").filter(has_text=holder.claim_id).locator("button").click()
    assert page.locator("#claims tbody tr").count() == 1, "the claim is linked"
    audit.check(page, "/me (linked)")
    page.goto(f"{portal.base_url}/claims/{holder.claim_id}")
    assert page.locator("#distributions tbody tr").count() >= 1, "the demo's rounds paid it"
    audit.check(page, "/claims/<id>")
    page.goto(portal.base_url + "/withdrawals")
    audit.check(page, "/withdrawals")


def test_the_main_pages_have_no_serious_or_critical_violation(
    contexts: list[BrowserContext], language: str, portal: Portal
) -> None:
    creditor, officer, treasury = contexts
    audit = Audit(language)
    page = creditor.new_page()
    public_pages(audit, page, portal)
    holder = portal.holder("HK")
    creditor_until_kyc(audit, page, portal, holder)
    officer_approves(audit, officer, portal, holder)
    creditor_linked(audit, page, portal, holder)
    rounds = operator_login(treasury, portal, "treasury")
    rounds.goto(portal.base_url + "/operator/rounds")
    assert rounds.locator("section.round form").count() >= 1, "the treasury's forms"
    audit.check(rounds, "/operator/rounds")
    assert len(audit.checked) == 2 * 14, audit.checked
    assert audit.found == [], "\n".join(audit.found)


#: A page with what the portal must never have: an unlabelled field, grey on grey, an image
#: without text.
FLAWED: Final = """<!doctype html><html lang="en"><head><title>flawed</title></head><body>
<main><h1>Flawed</h1><input id="nameless" type="text">
<p id="faint" style="color:#bbb;background:#fff">hard to read</p>
<img id="mute" src="data:image/png;base64,{png}"></main></body></html>"""


def test_the_audit_names_each_severe_violation_and_its_nodes(chromium_app: Browser) -> None:
    context = new_context(chromium_app, javascript=True, accept_language="en")
    try:
        page = context.new_page()
        page.set_content(FLAWED.format(png=base64.b64encode(PNG).decode()))
        audit = Audit("en")
        audit.check(page, "flawed")
    finally:
        context.close()
    assert audit.checked == ["flawed [en, desktop]", "flawed [en, phone]"]
    rules = sorted({line.split(": ")[1].split(" ")[0] for line in audit.found})
    assert rules == ["color-contrast", "image-alt", "label"], audit.found
    by_rule = {line.split(": ")[1].split(" ")[0]: line for line in audit.found}
    assert by_rule["label"].endswith("nodes: #nameless")
    assert by_rule["color-contrast"].endswith("nodes: #faint")
    assert by_rule["image-alt"].endswith("nodes: #mute")
    assert "(critical)" in by_rule["label"]
    assert "(serious)" in by_rule["color-contrast"]
