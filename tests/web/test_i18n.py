"""Choosing a locale, and formatting per locale with Babel (exact CLDR output)."""

from __future__ import annotations

import pytest

from reclaim.entrypoints.web import i18n
from reclaim.entrypoints.web.i18n import Localizer

NNBSP = "\u202f"  # CLDR's narrow no-break space (French groups)
NBSP = "\xa0"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh-TW", "zh_Hans"),
        ("fr-FR,fr;q=0.9", "fr"),
        ("en-GB", "en"),
        ("de-DE,fr;q=0.5,en;q=0.8", "en"),
        ("de, fr;q=0.1", "fr"),
        ("fr;q=0.5, zh;q=0.5", "fr"),
        ("fr;q=1.000, en", "fr"),
        ("en;q=0, fr;q=0.001", "fr"),
        ("en;q=0", None),
        ("en;q=2, fr;q=0.4", "fr"),
        ("en;q=abc, fr;q=0.4", "fr"),
        ("*", None),
        ("de-DE", None),
        ("", None),
        (None, None),
        ("x" * 10_000, None),
        ("de," * 40 + "fr", None),
    ],
)
def test_negotiate(header: str | None, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


def test_the_url_wins_then_the_cookie_then_the_browser_then_english() -> None:
    assert i18n.choose("fr", "zh_Hans", "en") == "fr"
    assert i18n.choose("zh-Hans", None, "fr") == "zh_Hans"
    assert i18n.choose("xx", "zh_Hans", "fr") == "zh_Hans"
    assert i18n.choose(None, "evil<script>", "fr") == "fr", "an unknown cookie is ignored"
    assert i18n.choose(None, None, "de") == "en"


@pytest.mark.parametrize(
    ("locale", "number", "money", "eur", "usdc", "date_text", "share"),
    [
        ("en", "6,636", "$1,234,567.89", "€12.30", "1.500000 USDC", "Feb 18, 2025", "14.8%"),
        ("fr", f"6{NNBSP}636", f"1{NNBSP}234{NNBSP}567,89{NBSP}$US", f"12,30{NBSP}€",
         "1,500000 USDC", "18 févr. 2025", f"14,8{NBSP}%"),
        ("zh_Hans", "6,636", "US$1,234,567.89", "€12.30", "1.500000 USDC", "2025年2月18日",
         "14.8%"),
    ],
)  # fmt: skip
def test_formatting(
    locale: str, number: str, money: str, eur: str, usdc: str, date_text: str, share: str
) -> None:
    fmt = Localizer(locale)
    assert fmt.number(6636) == number
    assert fmt.money(123_456_789) == money
    assert fmt.money(1230, "EUR") == eur
    assert fmt.money(1_500_000, "USDC") == usdc
    assert fmt.date("2025-02-18") == date_text
    assert fmt.share(148, 1000) == share


def test_money_is_exact_to_the_cent_at_any_size() -> None:
    fmt = Localizer("en")
    assert fmt.money(9_223_372_036_854_775_807) == "$92,233,720,368,547,758.07"
    assert fmt.money(1) == "$0.01"
    assert fmt.money(-250) == "-$2.50"
    with pytest.raises(AssertionError):
        fmt.money(1.5)  # type: ignore[arg-type]


def test_shares_round_to_the_nearest_tenth_and_nothing_of_nothing_is_a_dash() -> None:
    fmt = Localizer("en")
    assert fmt.share(1, 3) == "33.3%"
    assert fmt.share(2, 3) == "66.7%"
    assert fmt.share(5, 5) == "100.0%"
    assert fmt.share(0, 0) == "–"


def test_territories_and_times_in_the_locale() -> None:
    assert Localizer("zh_Hans").territory("CN") == "中国"
    assert Localizer("fr").territory("DE") == "Allemagne"
    assert Localizer("en").territory("XX") == "XX"
    assert (
        Localizer("en").datetime("2026-03-31T12:00:00Z") == f"Mar 31, 2026, 12:00:00{NNBSP}PM UTC"
    )
    assert Localizer("fr").date("not a date") == "not a date"


def test_every_catalogue_loads_and_translates() -> None:
    assert i18n.load_translations("fr").gettext("Transparency") == "Transparence"
    assert i18n.load_translations("zh_Hans").gettext("Transparency") == "透明度"
    assert i18n.load_translations("en").gettext("Transparency") == "Transparency"
