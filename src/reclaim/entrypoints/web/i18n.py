"""Languages of the portal: choosing one per request, the gettext catalogues, locale formatting.

The locale of a request (``choose``), first that applies:

1. ``?lang=`` in the URL (the visible switch's links; the answer then sets the ``reclaim_lang``
   cookie so the choice sticks);
2. the ``reclaim_lang`` cookie;
3. the browser's ``Accept-Language`` (RFC 9110 §12.5.4: weighted ranges, ``q=0`` excluded; any
   Chinese range — ``zh``, ``zh-CN``, ``zh-Hans``, also ``zh-TW`` — gets Simplified Chinese, the
   only Chinese the portal has);
4. English.

Catalogues: ``locale/<locale>/LC_MESSAGES/messages.po``, extracted from the templates and
``labels.py`` into ``locale/messages.pot`` (``make catalogues``). The ``.po`` files are compiled in
memory when the portal starts (``babel.messages.mofile.write_mo``), so there is no build step and
no binary file in the repository; ``tests/web/test_i18n_catalogues.py`` fails on any untranslated,
fuzzy or obsolete message.

Formatting (``Localizer``): numbers, money, percentages, dates and territory names by Babel's
CLDR data for the locale. Money comes in as integer minor units and is turned into a ``Decimal``
only to be formatted (never rounded: the scale is the asset's).
"""

from __future__ import annotations

import decimal
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from typing import Final

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, parse_pattern
from babel.support import Translations

from reclaim.core.limits import accept_language_max_chars, accept_language_ranges_max
from reclaim.core.money import asset_of

#: The portal's locales, in the order the switch shows them.
LOCALES: Final = ("zh_Hans", "en", "fr")
DEFAULT_LOCALE: Final = "en"
#: BCP 47 tags for ``<html lang>`` and ``Content-Language``.
LANG_TAGS: Final = {"zh_Hans": "zh-Hans", "en": "en", "fr": "fr"}
#: Each language's name in itself, for the switch.
NATIVE_NAMES: Final = {"zh_Hans": "简体中文", "en": "English", "fr": "Français"}
LANG_COOKIE: Final = "reclaim_lang"
LANG_QUERY: Final = "lang"
#: Currencies Babel formats with a symbol; any other asset is a number and its code.
_ISO_CURRENCIES: Final = frozenset({"USD", "EUR"})
_EXACT: Final = decimal.Context(prec=60)


def parse_lang(text: str | None) -> str | None:
    """A portal locale from a language tag (``zh-Hans``, ``zh_CN``, ``FR``, ``en-GB``), else
    ``None``. Only the primary subtag decides: the portal has one variant per language."""
    if not text or len(text) > 35:
        return None
    primary = text.strip().replace("_", "-").split("-", 1)[0].lower()
    if primary == "zh":
        return "zh_Hans"
    return primary if primary in LOCALES else None


def negotiate(accept_language: str | None) -> str | None:
    """The portal locale the ``Accept-Language`` header prefers most, or ``None``.

    Ranges are taken by weight (highest first; equal weights in header order); ``*`` and
    ranges of languages the portal lacks are skipped; a malformed weight counts as 0."""
    if not accept_language:
        return None
    ranked: list[tuple[int, int, str]] = []
    parts = accept_language[:accept_language_max_chars].split(",")
    for position, part in enumerate(parts[:accept_language_ranges_max]):
        tag, _, params = part.strip().partition(";")
        weight = 1000
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                weight = _weight(value.strip())
        locale = parse_lang(tag)
        if weight > 0 and locale is not None:
            ranked.append((-weight, position, locale))
    ranked.sort()
    return ranked[0][2] if ranked else None


def _weight(text: str) -> int:
    """An RFC 9110 qvalue (``0`` … ``1`` with up to three decimals) in thousandths; else 0."""
    whole, _, fraction = text.partition(".")
    if whole not in ("0", "1") or len(fraction) > 3 or not (fraction.isdigit() or not fraction):
        return 0
    value = int(whole) * 1000 + int(fraction.ljust(3, "0") or "0")
    return min(value, 1000)


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The locale of a request (the order is in the module's docstring)."""
    return (
        parse_lang(query)
        or (cookie if cookie in LOCALES else None)
        or negotiate(accept_language)
        or DEFAULT_LOCALE
    )


# Catalogues -------------------------------------------------------------------------------


def catalogue_path(locale: str) -> resources.abc.Traversable:
    return resources.files("reclaim.entrypoints.web").joinpath(
        "locale", locale, "LC_MESSAGES", "messages.po"
    )


def load_translations(locale: str) -> Translations:
    """The locale's ``.po`` compiled in memory (fuzzy entries are left out, as msgfmt does)."""
    assert locale in LOCALES, f"no locale {locale!r}"
    with catalogue_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


# Formatting --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Localizer:
    """Babel's formatting for one locale, as the templates' filters. The locale is parsed once
    (Babel parses a locale given as text on every call: a third of a number's cost)."""

    locale: str
    babel: Locale = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "babel", Locale.parse(self.locale))

    @property
    def lang_tag(self) -> str:
        return LANG_TAGS[self.locale]

    def number(self, value: int) -> str:
        assert type(value) is int, "numbers on the page are integers"
        return format_decimal(value, locale=self.babel)

    def money(self, amount_minor: int, code: str = "USD") -> str:
        """``amount_minor`` of ``code`` (its scale from ``core.money``) in the locale's form,
        with every decimal place the asset has."""
        assert type(amount_minor) is int, "amounts are integer minor units"
        asset = asset_of(code)
        scale = 0 if asset is None else asset.scale
        value = _EXACT.scaleb(decimal.Decimal(amount_minor), -scale)
        if code in _ISO_CURRENCIES:
            return format_currency(value, code, locale=self.babel, currency_digits=True)
        pattern = "#,##0" + ("." + "0" * scale if scale else "")
        return f"{format_decimal(value, format=pattern, locale=self.babel)} {code}"

    def share(self, part: int, whole: int) -> str:
        """``part`` of ``whole`` as a percentage with one decimal; ``–`` when ``whole`` is 0."""
        if whole <= 0:
            return "–"
        per_mille = (part * 1000 + whole // 2) // whole  # nearest tenth of a percent
        value = _EXACT.scaleb(decimal.Decimal(per_mille), -3)
        pattern = parse_pattern(self.babel.percent_formats[None].pattern)  # the locale's spacing
        pattern.frac_prec = (1, 1)
        shown: str = pattern.apply(value, self.babel)
        return shown

    def date(self, iso: str) -> str:
        """An ISO date (``2025-02-18``) in the locale's medium form; other text as given."""
        try:
            day = date.fromisoformat(iso)
        except ValueError:
            return iso
        return format_date(day, format="medium", locale=self.babel)

    def datetime(self, iso: str) -> str:
        """An RFC 3339 time, shown in UTC in the locale's medium form (``… UTC``)."""
        try:
            moment = datetime.fromisoformat(iso)
        except ValueError:
            return iso
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        shown = format_datetime(moment, format="medium", tzinfo=UTC, locale=self.babel)
        return f"{shown} UTC"

    def territory(self, iso: str) -> str:
        """The territory's name in the locale (CLDR), or the code itself if CLDR has none."""
        name = self.babel.territories.get(iso)
        return name if isinstance(name, str) else iso
