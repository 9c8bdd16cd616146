"""The creditor's journey in a real browser with JavaScript OFF, in Chinese, against a real
``reclaim serve`` and a real SMTP server (``conftest.portal``); the operators' part in the
console, each role logged in as itself.

A Hong Kong holder of a claim nobody has signed up for: finds the claim (sign-up with the old
exchange e-mail and a password), enters the code read from the SMTP server, uploads a document;
the KYC officer approves it, comparing with the register's name; the creditor links the claim
and sees its treatment and its distributions (kept in escrow while it was unlinked), each with
its log event, and downloads an inclusion proof that checks against the log key; the treasury
releases the escrow; the creditor elects the payout currency, adds a Hong Kong wire destination
confirmed with the mailed code, sees the fee before confirming, and withdraws; the treasury sees
the withdrawal. Screenshots of each page, desktop and 360 px phone, zh and en.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Final

import httpx
from babel.numbers import format_currency
from playwright.sync_api import BrowserContext, FilePayload, Page, ViewportSize

from reclaim.app.prove import check_inclusion_document
from reclaim.log.keys import VerifierKey
from tests.web.portal_world import CREDITOR_PASSWORD, OPERATOR_PASSWORD, Holder, Portal

PHONE: Final = ViewportSize(width=360, height=740)
DESKTOP: Final = ViewportSize(width=1280, height=900)
#: A PNG of one pixel: the identity document the test uploads.
PNG: Final = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
#: The elements that stick out to the right of the viewport (what makes a page scroll sideways).
WIDER_THAN_THE_PAGE: Final = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)"""
HK_ACCOUNT: Final = "123456789012"
HK_BIC: Final = "HSBCHKHHHKH"


def usd(amount_minor: int, locale: str) -> str:
    return format_currency(Decimal(amount_minor).scaleb(-2), "USD", locale=locale)


def shoot(page: Page, shots: Path, name: str, lang: str) -> None:
    """The page at desktop and phone width; at the phone's, no horizontal scroll."""
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(shots / f"{name}-{lang}-{size}.png"), full_page=True)
        if size == "phone":
            widths = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            wide = page.evaluate(WIDER_THAN_THE_PAGE)
            assert widths[0] <= widths[1], (name, lang, widths, wide)
    page.set_viewport_size(DESKTOP)


def sign_up(
    page: Page, portal: Portal, holder: Holder, shots: tuple[Path, str] | None = None
) -> str:
    """Sign up and enter the mailed code (the code page shot into ``shots``, a folder and a
    language, if given): the page is then /me. The session cookie's value."""
    page.goto(f"{portal.base_url}/signup")
    page.fill("#email", holder.email)
    page.fill("#password", CREDITOR_PASSWORD)
    page.fill("#password_again", CREDITOR_PASSWORD)
    before = len(portal.inbox.messages)
    page.click("form.stack button[type=submit]")
    assert page.locator("#code").count() == 1, page.content()
    if shots is not None:
        shoot(page, shots[0], "code", shots[1])
    code = portal.code_for(holder.email, before)
    page.fill("#code", code)
    page.click("form.stack button[type=submit]")
    assert page.url == f"{portal.base_url}/me", page.url
    session = [c for c in page.context.cookies() if c["name"] == "reclaim_session"]
    assert len(session) == 1
    return session[0]["value"]


def operator_login(context: BrowserContext, portal: Portal, actor: str) -> Page:
    page = context.new_page()
    page.goto(f"{portal.base_url}/operator/login")
    page.fill("#actor", actor)
    page.fill("#password", OPERATOR_PASSWORD)
    page.click("form.stack button[type=submit]")
    assert page.url == f"{portal.base_url}/operator", page.url
    return page


def test_a_chinese_creditor_goes_from_sign_up_to_a_withdrawal_without_javascript(
    nojs: BrowserContext, chromium_app: object, portal: Portal, shots: Path
) -> None:
    from tests.web.conftest import new_context

    holder = portal.holder("HK")
    page = nojs.new_page()
    page.goto(f"{portal.base_url}/signup")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.locator("h1").inner_text() == "查找我的债权"
    shoot(page, shots, "signup", "zh")
    sign_up(page, portal, holder, (shots, "zh"))
    assert page.locator("h1").inner_text() == "我的债权"
    assert page.get_attribute("#kyc-state", "data-state") == "not_started"
    assert holder.claim_id in page.locator("#to-link-later").inner_text()

    # KYC: the document goes to the manual queue.
    document = FilePayload(name=f"{holder.claim_id}.png", mimeType="image/png", buffer=PNG)
    page.set_input_files("#document", files=[document])
    page.click("form[action='/kyc'] button")
    assert page.locator("#notice").count() == 1
    assert page.get_attribute("#kyc-state", "data-state") == "pending"
    shoot(page, shots, "me-kyc-pending", "zh")

    # The KYC officer compares with the register's name and approves, signing with its key.
    ops = new_context(chromium_app, javascript=False, accept_language="en")  # type: ignore[arg-type]
    try:
        officer = operator_login(ops, portal, "kyc-officer")
        officer.goto(f"{portal.base_url}/operator/kyc")
        case = officer.locator("#kyc-queue li", has=officer.locator(
            f"a.document[data-name='{holder.claim_id}.png']"))  # fmt: skip
        assert case.count() == 1
        assert f"{holder.claim_id}: {holder.name}" in case.inner_text()
        shoot(officer, shots, "operator-kyc", "en")
        case.locator("input[name=verified_name]").fill(holder.name)
        case.locator("select[name=state]").select_option("approved")
        size = httpx.get(f"{portal.base_url}/healthz").json()["size"]
        case.locator("button").click()
        assert officer.locator("#notice").count() == 1
        entries = httpx.get(f"{portal.base_url}/log/entries",
                            params={"start": size, "end": int(size) + 1}).text  # fmt: skip
        assert '"kyc.decided"' in entries, entries
        assert '"kyc-officer"' in entries, "signed by the officer's own key"

        # The creditor links the claim and reads its page.
        page.goto(f"{portal.base_url}/me")
        assert page.get_attribute("#kyc-state", "data-state") == "approved"
        page.locator("#to-link form").filter(has_text=holder.claim_id).locator("button").click()
        assert page.locator("#notice").count() == 1
        assert page.locator("#claims tbody tr").count() == 1
        page.click(f"#claims a[href='/claims/{holder.claim_id}']")
        assert page.locator("h1").inner_text() == f"债权 {holder.claim_id}"
        assert page.locator("#admitted").inner_text() == usd(holder.admitted_minor, "zh_Hans")
        assert "香港" in page.locator("#jurisdiction").inner_text()
        rows = page.locator("#distributions tbody tr")
        assert rows.count() >= 1, "the demo's rounds paid this claim into escrow"
        assert page.get_attribute("#treatment", "data-treatment") in ("paid", "escrowed")
        shoot(page, shots, "claim", "zh")

        # Its inclusion proof checks against the published log key.
        seq = rows.first.get_attribute("data-seq")
        with page.expect_download() as download:
            rows.first.locator("a[download]").click()
        document = json.loads(Path(download.value.path()).read_text())
        assert document["index"] == seq
        keys = httpx.get(f"{portal.base_url}/log/keys").json()
        check_inclusion_document(document, VerifierKey.parse(keys["log_key"]))
        command = page.locator("#check-proof").inner_text().split()
        assert command[:2] == ["reclaim", "check-proof"]
        assert command[3:] == ["--log-key", keys["log_key"]], "the page names the log's key"
        saved = shots.parent / command[2]
        saved.write_bytes(Path(download.value.path()).read_bytes())
        offline = [sys.executable, "-m", "reclaim", "check-proof", str(saved), *command[3:]]
        checked = subprocess.run(offline, capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stderr
        assert "OK" in checked.stdout

        # The treasury releases the escrow (signed by the treasury's key).
        treasury = operator_login(ops, portal, "treasury")
        treasury.goto(f"{portal.base_url}/operator/escrow")
        row = treasury.locator(f"#escrows tr[data-claim='{holder.claim_id}']")
        assert row.count() == 1
        row.locator("button").click()
        assert treasury.locator("#notice").count() == 1

        # The creditor sees the balance, elects a currency, adds a destination, withdraws.
        page.goto(f"{portal.base_url}/me")
        balance = page.locator("#balances tbody tr", has_text="USD")
        assert balance.count() == 1
        page.select_option("#asset", "USD")
        page.click("form[action='/payout'] button")
        assert page.get_attribute("#payout-asset", "data-asset") == "USD"
        shoot(page, shots, "me", "zh")

        page.goto(f"{portal.base_url}/withdrawals")
        page.select_option("#rail", "hk_wire")
        page.fill("#address", HK_ACCOUNT)
        page.fill("#bic", HK_BIC)
        before = len(portal.inbox.messages)
        page.click("form[action='/withdrawals/destinations'] button")
        code = portal.code_for(holder.email, before)
        page.fill("#destination-code", code)
        page.click("#confirm-destination button")
        assert page.get_attribute("#destinations li", "data-status") == "active"
        page.fill("#amount", "100.00")
        page.click("form[action='/withdrawals/quote'] button")
        assert page.get_attribute("#quote-fee", "data-fee") == "1500", "fee shown first"
        assert page.locator("#quote-total").inner_text() == usd(11_500, "zh_Hans")
        shoot(page, shots, "withdraw-confirm", "zh")
        page.click("form[action='/withdrawals'] button")
        assert page.locator("#notice").count() == 1, page.locator("main").inner_html()
        assert page.get_attribute("#withdrawals tbody tr", "data-status") == "requested"
        shoot(page, shots, "withdrawals", "zh")

        treasury.goto(f"{portal.base_url}/operator/withdrawals")
        assert treasury.locator("#ops-withdrawals tbody tr").count() >= 1
        shoot(treasury, shots, "operator-withdrawals", "en")
        treasury.select_option("#batch-rail", "hk_wire")  # the demo configures no correspondent
        treasury.click("form[action='/operator/withdrawals/batch'] button")
        assert treasury.get_attribute("#form-error", "data-code") == "batch_file_unavailable"
        treasury.select_option("#batch-rail", "sepa")  # the demo's SEPA batch went out already
        treasury.click("form[action='/operator/withdrawals/batch'] button")
        assert treasury.get_attribute("#form-error", "data-code") == "nothing_to_export"
    finally:
        ops.close()


def test_the_pages_in_english(nojs: BrowserContext, portal: Portal, shots: Path) -> None:
    nojs.set_extra_http_headers({"Accept-Language": "en-GB,en;q=0.9"})
    page = nojs.new_page()
    page.goto(f"{portal.base_url}/signup")
    assert page.locator("h1").inner_text() == "Find my claim"
    shoot(page, shots, "signup", "en")
    page.goto(f"{portal.base_url}/login")
    shoot(page, shots, "login", "en")
    sign_up(page, portal, portal.holder("FR"), (shots, "en"))
    assert page.locator("h1").inner_text() == "My claims"
    shoot(page, shots, "me", "en")
    page.goto(f"{portal.base_url}/withdrawals")
    shoot(page, shots, "withdrawals", "en")
    page.goto(f"{portal.base_url}/login?lang=zh-Hans")
    shoot(page, shots, "login", "zh")
    assert re.search("登录", page.locator("h1").inner_text())
