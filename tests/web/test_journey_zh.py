"""The acceptance journey of issue 12, in one browser test, against a real ``reclaim serve`` and
a real SMTP server on loopback (``conftest.market_portal``), JavaScript off, in Chinese:

a Hong Kong holder of a class 5A claim nobody has signed up for signs up with the old exchange
e-mail (the code read from the SMTP server), uploads an identity document; the KYC officer
approves it in the console; the creditor links the claim; the treasury previews, approves and
executes round ftx-5 (a distribution to the creditor); the creditor converts the claim into
FTX5A recovery notes (the confirm page, then the Form 2100A PDF), sells notes on the book to
its best bid (the cost and fee shown before confirming; a fill on "my fills"), and requests a
withdrawal of the dollars; the public transparency page shows the round and a checkpoint that
covers it. Screenshots of the new pages at desktop and 360 px, in Chinese and English.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Final

import httpx
from playwright.sync_api import Browser, FilePayload, Page

from tests.web.conftest import new_context
from tests.web.notes_world import holder_in
from tests.web.portal_world import FIFTH_ROUND_ID, Portal
from tests.web.test_creditor_browser import (
    HK_ACCOUNT,
    HK_BIC,
    PNG,
    operator_login,
    shoot,
    sign_up,
    usd,
)

SERIES: Final = "FTX5A"
SYMBOL: Final = f"{SERIES}_USD"
#: Dollars of face the creditor sells.
SOLD_FACE: Final = "10"
CHECKPOINT_WAIT_SECONDS: Final = 30


def log_size(portal: Portal) -> int:
    return int(httpx.get(f"{portal.base_url}/healthz", timeout=10).json()["size"])


def run_round(treasury: Page, portal: Portal) -> None:
    treasury.goto(f"{portal.base_url}/operator/rounds")
    section = treasury.locator(f"section.round[data-round='{FIFTH_ROUND_ID}']")
    assert section.get_attribute("data-state") == "declared"
    section.locator("button").click()
    assert len(treasury.locator("#preview-digest").inner_text()) == 64
    treasury.click("form[action='/operator/rounds/approve'] button")
    assert treasury.locator("#notice").count() == 1
    section = treasury.locator(f"section.round[data-round='{FIFTH_ROUND_ID}']")
    section.locator("button").click()
    assert treasury.locator("#notice").count() == 1, treasury.locator("main").inner_html()
    section = treasury.locator(f"section.round[data-round='{FIFTH_ROUND_ID}']")
    assert section.get_attribute("data-state") == "completed"


def in_english(page: Page, shots: Path, name: str) -> None:
    """The page again in English (the language switch), shot, then back to Chinese."""
    url = page.url.split("?", 1)[0]
    page.goto(f"{url}?lang=en")
    assert page.get_attribute("html", "lang") == "en"
    shoot(page, shots, name, "en")
    page.goto(f"{url}?lang=zh-Hans")
    assert page.get_attribute("html", "lang") == "zh-Hans"


def test_a_chinese_creditor_from_sign_up_to_notes_sold_and_a_withdrawal(
    chromium_app: Browser, market_portal: Portal, shots: Path
) -> None:
    portal = market_portal
    holder = holder_in(portal, "HK", ("5A",))
    creditor = new_context(chromium_app, javascript=False, accept_language="zh-CN,zh;q=0.9")
    ops = new_context(chromium_app, javascript=False, accept_language="en")
    try:
        page = creditor.new_page()
        sign_up(page, portal, holder)
        assert page.get_attribute("html", "lang") == "zh-Hans"

        # KYC to the manual queue; the officer approves it with the register's name.
        document = FilePayload(name=f"{holder.claim_id}.png", mimeType="image/png", buffer=PNG)
        page.set_input_files("#document", files=[document])
        page.click("form[action='/kyc'] button")
        assert page.get_attribute("#kyc-state", "data-state") == "pending"
        officer = operator_login(ops, portal, "kyc-officer")
        officer.goto(f"{portal.base_url}/operator/kyc")
        case = officer.locator("#kyc-queue li", has=officer.locator(
            f"a.document[data-name='{holder.claim_id}.png']"))  # fmt: skip
        case.locator("input[name=verified_name]").fill(holder.name)
        case.locator("select[name=state]").select_option("approved")
        case.locator("button").click()
        assert officer.locator("#notice").count() == 1

        # Linking, then a distribution: the treasury runs round ftx-5.
        page.goto(f"{portal.base_url}/me")
        page.locator("#to-link form").filter(has_text=holder.claim_id).locator("button").click()
        assert page.locator("#claims tbody tr").count() == 1
        treasury = operator_login(ops, portal, "treasury")
        run_round(treasury, portal)
        round_done_size = log_size(portal)
        page.goto(f"{portal.base_url}/claims/{holder.claim_id}")
        paid = page.locator("#distributions tbody tr", has_text=FIFTH_ROUND_ID)
        assert paid.count() == 1, page.locator("main").inner_html()
        assert paid.locator("td").nth(1).inner_text() == "您的账户", "paid to the creditor"

        # Conversion: what it means, in plain words; then the evidence.
        page.click("#convert-link")
        assert page.url == f"{portal.base_url}/claims/{holder.claim_id}/convert"
        assert page.get_attribute("#convert-notes", "data-notes") == str(holder.admitted_minor)
        assert page.locator("#convert-meaning li").count() == 6
        assert "不能撤销" in page.locator("#convert-meaning").inner_text()
        shoot(page, shots, "convert-confirm", "zh")
        in_english(page, shots, "convert-confirm")
        page.click("#convert-form button")
        assert page.url == f"{portal.base_url}/notes/{holder.claim_id}"
        assert page.locator("#notice").count() == 1
        assert len(page.locator("#evidence-sha256").inner_text()) == 64
        with page.expect_download() as download:
            page.click("#form2100a")
        pdf = Path(download.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF-")
        shoot(page, shots, "converted", "zh")
        in_english(page, shots, "converted")

        # The market: the list, the book, a sale to the best bid with its cost shown first.
        page.click(f"a[href='/market/{SYMBOL}']")
        shoot(page, shots, "market", "zh")
        in_english(page, shots, "market")
        best_bid = page.locator("#book tr.bid").first.locator("td").first.inner_text()
        assert re.fullmatch(r"[0-9]+", best_bid), best_bid
        trades_before = page.locator("#trades tbody tr").count()
        for lang in ("en", "zh-Hans"):  # the English confirm page is only shot
            page.goto(f"{portal.base_url}/market/{SYMBOL}?lang={lang}")
            page.check("input[name=side][value=Ask]")
            page.fill("#price", best_bid)
            page.fill("#quantity", SOLD_FACE)
            page.click("#order-form button")
            if lang == "en":
                shoot(page, shots, "order-confirm", "en")
        cash_minor = int(best_bid) * int(SOLD_FACE)
        assert page.get_attribute("#quote-side", "data-side") == "Ask"
        assert page.get_attribute("#quote-cash", "data-cash") == str(cash_minor)
        assert page.get_attribute("#quote-fee", "data-fee") == "0", "the programme's fee"
        assert page.locator("#quote-cash").inner_text() == usd(cash_minor, "zh_Hans")
        shoot(page, shots, "order-confirm", "zh")
        page.click("main form button")
        assert page.url == f"{portal.base_url}/market/orders?done=placed"
        sold = page.locator("#fills tbody tr[data-side='Ask']")
        assert sold.count() == 1, page.locator("main").inner_html()
        assert page.locator("#no-open-orders").count() == 1, "the whole order traded"
        shoot(page, shots, "my-orders", "zh")
        in_english(page, shots, "my-orders")
        page.goto(f"{portal.base_url}/market/{SYMBOL}")
        assert page.locator("#trades tbody tr").count() == min(trades_before + 1, 20)
        page.goto(f"{portal.base_url}/market")
        assert page.get_attribute(f"#markets tr[data-symbol='{SYMBOL}']", "data-status") == "Open"
        shoot(page, shots, "markets", "zh")
        in_english(page, shots, "markets")

        # A withdrawal of the dollars: a Hong Kong wire, confirmed with the mailed code.
        page.goto(f"{portal.base_url}/withdrawals")
        page.select_option("#rail", "hk_wire")
        page.fill("#address", HK_ACCOUNT)
        page.fill("#bic", HK_BIC)
        before = len(portal.inbox.messages)
        page.click("form[action='/withdrawals/destinations'] button")
        page.fill("#destination-code", portal.code_for(holder.email, before))
        page.click("#confirm-destination button")
        page.fill("#amount", "100.00")
        page.click("form[action='/withdrawals/quote'] button")
        assert page.get_attribute("#quote-fee", "data-fee") == "1500", "fee shown first"
        page.click("form[action='/withdrawals'] button")
        assert page.get_attribute("#withdrawals tbody tr", "data-status") == "requested"

        # The public page: the round, and a signed checkpoint that covers it.
        public = ops.new_page()
        deadline = time.monotonic() + CHECKPOINT_WAIT_SECONDS
        while True:
            public.goto(f"{portal.base_url}/transparency?lang=zh-Hans")
            size = int(public.get_attribute("#checkpoint-size", "data-size") or "0")
            if size >= round_done_size or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert size >= round_done_size, (size, round_done_size)
        assert public.locator("#rounds tbody tr", has_text=FIFTH_ROUND_ID).count() == 1
    finally:
        ops.close()
        creditor.close()
