"""The console's note series, markets and jurisdiction policy against the real ``reclaim
serve`` (``conftest.portal``): the admin halts, closes and reopens a market in a browser with
JavaScript off, each change a ``market.status_set`` signed by the admin's key and seen by the
public market API; the auditor reads the same page without a button and signs nothing; the
KYC officer and the treasury get ``403``; a creditor's session is no operator's; every role
reads the policy in force, the very entries ``reclaim policy show`` prints. axe finds no
serious or critical violation on either page, in Chinese and English, at both widths."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from tests.web.conftest import new_context, reclaim
from tests.web.portal_world import Portal
from tests.web.test_accessibility import LANGUAGES, Audit
from tests.web.test_creditor_browser import operator_login, shoot
from tests.web.test_operator_browser import round_events
from tests.web.test_web_attacks import log_size, operator, signed_up, token_of


def book_state(portal: Portal, symbol: str) -> str:
    answer = httpx.get(f"{portal.base_url}/api/v1/market", params={"symbol": symbol}, timeout=10)
    assert answer.status_code == 200, answer.text
    state = answer.json()["orderBookState"]
    assert isinstance(state, str)
    return state


def public_markets(portal: Portal) -> dict[str, str]:
    found = httpx.get(f"{portal.base_url}/api/v1/markets", timeout=10).json()
    return {m["symbol"]: m["orderBookState"] for m in found}


def test_the_admin_halts_closes_and_reopens_a_market_signed_by_its_key(
    chromium_app: Browser, portal: Portal, shots: Path
) -> None:
    listed = public_markets(portal)
    assert listed, "the demo lists markets"
    context = new_context(chromium_app, javascript=False, accept_language="en")
    try:
        page = operator_login(context, portal, "admin")
        page.click("a[href='/operator/markets']")
        assert page.url == f"{portal.base_url}/operator/markets"
        rows = page.locator("#markets tbody tr")
        shown = {rows.nth(i).get_attribute("data-market"): rows.nth(i).get_attribute("data-status")
                 for i in range(rows.count())}  # fmt: skip
        assert shown == listed, "every market with the status the public API gives"
        series = page.locator("#series tbody tr")
        assert series.count() >= 1
        for symbol in listed:
            market_series = page.locator(f"#markets tr[data-market='{symbol}'] td").first
            name = market_series.inner_text()
            assert symbol in page.locator(f"#series tr[data-series='{name}']").inner_text()
        symbol = sorted(s for s, state in listed.items() if state == "Open")[-1]
        shoot(page, shots, "operator-markets", "en")
        for wanted in ("CancelOnly", "Closed", "Open"):
            start = log_size(portal)
            row = page.locator(f"#markets tr[data-market='{symbol}']")
            row.locator(f"button[data-status='{wanted}']").click()
            assert page.locator("#notice").count() == 1, page.locator("main").inner_html()
            row = page.locator(f"#markets tr[data-market='{symbol}']")
            assert row.get_attribute("data-status") == wanted
            assert row.locator(f"button[data-status='{wanted}']").count() == 0
            assert book_state(portal, symbol) == wanted
            (event,) = [e for e in round_events(portal, start) if e["type"] == "market.status_set"]
            assert event["actor"] == "admin", "the admin's key signs"
            assert json.dumps(event).count(symbol) >= 1
        assert public_markets(portal) == listed, "the market is open again"
    finally:
        context.close()


def test_the_market_page_in_chinese(chromium_app: Browser, portal: Portal, shots: Path) -> None:
    context = new_context(chromium_app, javascript=False, accept_language="zh-CN")
    try:
        page = operator_login(context, portal, "admin")
        page.goto(f"{portal.base_url}/operator/markets")
        assert page.locator("h1").inner_text() == "票据系列与市场"
        assert page.locator("#markets td.status").first.inner_text() in (
            "开放交易", "已暂停：只能撤单", "已关闭",
        )  # fmt: skip
        shoot(page, shots, "operator-markets", "zh")
        page.goto(f"{portal.base_url}/operator/policy")
        assert page.locator("h1").inner_text() == "司法管辖区政策"
        shoot(page, shots, "operator-policy", "zh")
    finally:
        context.close()


def test_the_auditor_reads_the_markets_and_signs_nothing(portal: Portal) -> None:
    web = operator(portal, "auditor")
    answer = web.get("/operator/markets")
    assert answer.status_code == 200
    assert 'id="markets"' in answer.text
    assert "/operator/markets/status" not in answer.text, "no button for a reader"
    assert 'href="/operator/markets"' in web.get("/operator").text
    token = token_of(web.get("/operator/rounds").text)
    symbol = sorted(public_markets(portal))[0]
    size = log_size(portal)
    refused = web.post(
        "/operator/markets/status", data={"csrf_token": token, "symbol": symbol, "status": "Closed"}
    )
    assert refused.status_code == 403
    assert log_size(portal) == size
    assert public_markets(portal)[symbol] == "Open"


@pytest.mark.parametrize("actor", ["kyc-officer", "treasury"])
def test_other_roles_may_not_see_or_set_a_market(portal: Portal, actor: str) -> None:
    web = operator(portal, actor)
    assert web.get("/operator/markets").status_code == 403
    assert 'href="/operator/markets"' not in web.get("/operator").text
    token = token_of(web.get("/operator/rounds").text)
    size = log_size(portal)
    answer = web.post("/operator/markets/status", data={
        "csrf_token": token, "symbol": sorted(public_markets(portal))[0], "status": "Closed",
    })  # fmt: skip
    assert answer.status_code == 403
    assert log_size(portal) == size


def test_a_creditor_session_is_sent_to_the_operator_login(portal: Portal) -> None:
    web = signed_up(portal, portal.holder("FR"))
    token = token_of(web.get("/me").text)
    size = log_size(portal)
    for path in ("/operator/markets", "/operator/policy"):
        answer = web.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/operator/login"
    answer = web.post("/operator/markets/status", data={
        "csrf_token": token, "symbol": sorted(public_markets(portal))[0], "status": "Closed",
    })  # fmt: skip
    assert answer.status_code in (303, 403)
    assert log_size(portal) == size


def test_a_status_change_without_csrf_or_with_a_bad_value_signs_nothing(portal: Portal) -> None:
    web = operator(portal, "admin")
    symbol = sorted(public_markets(portal))[0]
    size = log_size(portal)
    forged = web.post("/operator/markets/status", data={"symbol": symbol, "status": "Closed"})
    assert forged.status_code == 403, "no CSRF token"
    token = token_of(web.get("/operator/markets").text)
    bad = {"csrf_token": token[::-1], "symbol": symbol, "status": "Closed"}
    forged = web.post("/operator/markets/status", data=bad)
    assert forged.status_code == 403, "a wrong CSRF token"
    paused = {"csrf_token": token, "symbol": symbol, "status": "Paused"}
    unknown = web.post("/operator/markets/status", data=paused)
    assert unknown.status_code == 400
    assert 'data-code="market_status_unknown"' in unknown.text
    nope = {"csrf_token": token, "symbol": "NOPE_USD", "status": "CancelOnly"}
    missing = web.post("/operator/markets/status", data=nope)
    assert missing.status_code == 409
    assert 'id="form-error"' in missing.text
    assert log_size(portal) == size, "nothing was signed"
    assert public_markets(portal)[symbol] == "Open"


@pytest.mark.parametrize("actor", ["admin", "kyc-officer", "treasury", "auditor"])
def test_every_role_reads_the_policy_in_force(portal: Portal, actor: str) -> None:
    data = portal.data_dir
    shown = reclaim("policy", "show", "--format", "json", "--data-dir", str(data), cwd=data)
    expected = json.loads(shown)["jurisdictions"]
    assert expected, "the demo's policy names jurisdictions"
    web = operator(portal, actor)
    assert 'href="/operator/policy"' in web.get("/operator").text
    answer = web.get("/operator/policy")
    assert answer.status_code == 200
    assert "<form" not in answer.text.split("<main", 1)[1].split("</main>", 1)[0]
    for entry in expected:
        row = answer.text.split(f'<tr data-iso="{entry["iso"]}"', 1)[1].split("</tr>", 1)[0]
        assert f'data-status="{entry["status"]}"' in row
        assert f'data-buyers="{entry.get("notes_buyers", "")}"' in row
        for text in (entry["reason"], entry["source"]):
            assert httpx_escape(text) in row, (entry["iso"], text)
    assert answer.text.count("<tr data-iso=") == len(expected)


def httpx_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&#34;").replace("'", "&#39;")  # fmt: skip


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_market_and_policy_pages_pass_axe(
    chromium_app: Browser, portal: Portal, language: str
) -> None:
    context = new_context(chromium_app, javascript=True, accept_language=language)
    try:
        page = operator_login(context, portal, "admin")
        audit = Audit(language)
        for path, table in (("/operator/markets", "#markets"), ("/operator/policy", "#policy")):
            page.goto(portal.base_url + path)
            assert page.locator(f"{table} tbody tr").count() >= 1, path
            audit.check(page, path)
    finally:
        context.close()
    assert len(audit.checked) == 2 * 2, audit.checked
    assert audit.found == [], "\n".join(audit.found)
