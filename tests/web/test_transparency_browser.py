"""The public transparency page in a real browser (Debian's Chromium) against a real
``reclaim serve`` over the demo's data (see ``conftest.py``).

What a reader in each language sees is checked against what the server's API publishes: the
checkpoint size against ``GET /log/checkpoint``, the rounds against ``GET /distributions/rounds``,
the liabilities against ``GET /liabilities/root``; numbers as Babel formats them for the locale.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

import httpx
import pytest
from babel.numbers import format_currency, format_decimal
from playwright.sync_api import Page, Response

#: (Accept-Language sent, portal locale, <html lang>, the page's title, China's name).
LANGUAGES: Final = (
    ("zh-CN,zh;q=0.9", "zh_Hans", "zh-Hans", "透明度", "中国"),
    ("en-GB,en;q=0.8", "en", "en", "Transparency", "China"),
    ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "fr", "Transparence", "Chine"),
)
PHONE: Final = {"width": 360, "height": 740}


def visit(page: Page, url: str, accept_language: str) -> Response:
    page.set_extra_http_headers({"Accept-Language": accept_language})
    response = page.goto(url)
    assert response is not None
    return response


def published_checkpoint(base_url: str) -> tuple[int, str]:
    note = httpx.get(f"{base_url}/log/checkpoint", timeout=10)
    assert note.status_code == 200
    return int(note.text.split("\n")[1]), note.text


@pytest.mark.parametrize(("accept", "locale", "tag", "title", "china"), LANGUAGES)
def test_the_page_in_each_language_shows_what_the_log_publishes(
    page: Page, page_errors: list[str], demo_server: str,
    accept: str, locale: str, tag: str, title: str, china: str,
) -> None:  # fmt: skip
    response = visit(page, f"{demo_server}/transparency", accept)
    assert response.status == 200
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["content-language"] == tag
    assert "strict-transport-security" not in headers, "no HSTS over plain HTTP"

    assert page.get_attribute("html", "lang") == tag
    assert page.locator("h1").inner_text() == title
    assert page.title().startswith(title)

    size, note = published_checkpoint(demo_server)
    shown = page.locator("#checkpoint-size")
    assert shown.get_attribute("data-size") == str(size)
    assert shown.inner_text() == format_decimal(size, locale=locale)
    assert page.locator("#checkpoint-note").inner_text().strip() == note.strip()

    rounds = httpx.get(f"{demo_server}/distributions/rounds", timeout=10).json()
    assert len(rounds) == 4, "the demo runs the four FTX rounds"
    table = page.locator("#rounds tbody tr")
    assert table.count() == len(rounds)
    for row, published in zip(table.all(), rounds, strict=True):
        cells = row.locator("td").all_inner_texts()
        assert row.locator("th").inner_text() == published["round_id"]
        escrowed = int(published["escrow_total_minor"])
        paid = int(published["executed_usd_minor"]) - escrowed
        assert cells[-2:] == [usd(paid, locale), usd(escrowed, locale)]

    liabilities = httpx.get(f"{demo_server}/liabilities/root", timeout=10).json()
    (usd_line,) = [a for a in liabilities["assets"] if a["asset"] == "USD"]
    usd_row = page.locator("#liabilities tbody tr", has_text="USD")
    assert usd_row.locator("td").first.inner_text() == usd(int(usd_line["total"]), locale)

    first_jurisdiction = page.locator("table.jurisdictions tbody tr th").first.inner_text()
    assert first_jurisdiction.startswith(china), "CN owes the most in the demo register"

    charts = page.locator("svg.chart")
    assert charts.count() == 2, "amount by jurisdiction, and paid vs escrowed per round"
    for chart in charts.all():
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 200
        assert box["height"] > 100
        assert chart.get_attribute("role") == "img"
        assert (chart.locator("title").text_content() or "").strip()
    rounds_chart = page.locator("#chart-rounds")
    assert rounds_chart.locator("rect.bar-paid").count() == len(rounds)
    assert rounds_chart.locator("rect.bar-escrowed").count() == len(rounds)
    widths = [
        int(r.get_attribute("width") or "0")
        for r in page.locator("#chart-jurisdictions-1 rect.bar").all()
    ]
    assert widths[0] == 400, "the largest fills the chart"
    assert widths == sorted(widths, reverse=True), "largest first"
    assert page.locator("#chart-jurisdictions-1 rect.bar").first.bounding_box() is not None

    page.wait_for_load_state("networkidle")
    assert page_errors == [], page_errors


def usd(amount_minor: int, locale: str) -> str:
    return format_currency(Decimal(amount_minor).scaleb(-2), "USD", locale=locale)


@pytest.mark.parametrize(("accept", "locale", "tag", "title", "china"), LANGUAGES)
def test_a_360_pixel_phone_has_no_horizontal_scroll(
    page: Page, page_errors: list[str], demo_server: str,
    accept: str, locale: str, tag: str, title: str, china: str,
) -> None:  # fmt: skip
    page.set_viewport_size(PHONE)
    visit(page, f"{demo_server}/transparency", accept)
    assert page.locator("h1").inner_text() == title
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " document.body.scrollWidth]"
    )
    assert widths[1] == PHONE["width"]
    assert widths[0] <= widths[1], widths
    assert widths[2] <= widths[1], widths
    for chart in page.locator("svg.chart").all():
        box = chart.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    assert page_errors == [], page_errors


def test_the_switch_changes_the_language_and_it_sticks(
    page: Page, page_errors: list[str], demo_server: str
) -> None:
    visit(page, f"{demo_server}/transparency", "en")
    assert page.get_attribute("html", "lang") == "en"
    switch = page.get_by_role("navigation", name="Language")
    assert switch.get_by_role("link", name="English").get_attribute("aria-current") == "true"

    switch.get_by_role("link", name="Français").click()
    page.wait_for_url(re.compile(r"lang=fr"))
    assert page.get_attribute("html", "lang") == "fr"
    assert page.locator("h1").inner_text() == "Transparence"

    page.goto(f"{demo_server}/transparency")  # no ?lang=: the cookie keeps the choice
    assert page.get_attribute("html", "lang") == "fr"
    french_switch = page.get_by_role("navigation", name="Langue")
    french_switch.get_by_role("link", name="简体中文").click()
    page.wait_for_url(re.compile(r"lang=zh-Hans"))
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.locator("h1").inner_text() == "透明度"
    assert page_errors == [], page_errors


def test_the_root_leads_to_the_page_in_the_chosen_language(
    page: Page, page_errors: list[str], demo_server: str
) -> None:
    visit(page, f"{demo_server}/?lang=fr", "en")
    assert page.url == f"{demo_server}/transparency?lang=fr"
    assert page.get_attribute("html", "lang") == "fr"
    assert page_errors == [], page_errors


def test_the_keyboard_reaches_the_skip_link_first_and_it_moves_to_the_content(
    page: Page, page_errors: list[str], demo_server: str
) -> None:
    visit(page, f"{demo_server}/transparency", "zh-CN")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "[document.activeElement.className, document.activeElement.textContent]"
    )
    assert focused == ["skip", "跳到正文"]
    assert page.locator("a.skip").bounding_box() is not None
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    assert page_errors == [], page_errors


def test_no_personal_data_on_the_page(page: Page, demo_server: str, demo_dir: object) -> None:
    visit(page, f"{demo_server}/transparency", "en")
    text = page.content()
    assert "@" not in text, "no e-mail address"
    assert not re.search(r"FTX-\d{6}|CUST-\d{6}|Holder \d{6}|creditor-\d{5}", text), (
        "no claim id, customer code, holder name or creditor name"
    )


@pytest.mark.parametrize(
    ("accept", "tag", "heading"),
    [
        ("zh-CN", "zh-Hans", "找不到页面"),
        ("fr", "fr", "Page introuvable"),
        ("en", "en", "Page not found"),
    ],
)
def test_an_unknown_address_is_an_error_page_in_the_readers_language(
    page: Page, demo_server: str, accept: str, tag: str, heading: str
) -> None:
    response = visit(page, f"{demo_server}/no/such/page", accept)
    assert response.status == 404
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert page.get_attribute("html", "lang") == tag
    assert page.locator("h1").inner_text() == heading
    assert "Traceback" not in page.content()
    api = httpx.get(f"{demo_server}/no/such/page", timeout=10)
    assert api.headers["content-type"] == "application/problem+json", "API clients: problem+json"


def test_an_injected_inline_script_does_not_run(
    page: Page, page_errors: list[str], demo_server: str
) -> None:
    """The CSP at work (and the harness seeing it): a script element that an XSS would insert
    is refused by the browser, which reports the violation on the console."""
    visit(page, f"{demo_server}/transparency", "en")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injectedRan = true'; document.body.appendChild(s); }"
    )
    assert page.evaluate("window.injectedRan === true") is False
    assert any("Content Security Policy" in e for e in page_errors), page_errors
