"""Every string of the portal is translated: extracted with Babel, compared with the catalogues.

- the messages Babel extracts from the templates and the Python of ``entrypoints/web`` (with
  ``babel.cfg`` and the ``N_`` marker) are exactly those of ``locale/messages.pot`` (run
  ``make catalogues`` after changing a template);
- every ``.po`` (zh_Hans, en, fr) has each of them translated — no empty, fuzzy or obsolete
  entry, no message missing or left over — and Babel's checks pass (the ``%(name)s``
  placeholders of a translation are those of its message);
- no template holds text outside a translation: once the Jinja tags and the HTML markup are
  taken away, what a reader sees is only what ``_()`` gives (literal commands inside ``<code>``
  and the brand name excepted); nor do the attributes a reader or a screen reader sees
  (``aria-label``, ``title``, ``alt``, ``placeholder``) hold literal words.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Final

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from reclaim.entrypoints.web import i18n

WEB: Final = Path(str(resources.files("reclaim.entrypoints.web")))
KEYWORDS: Final = {**DEFAULT_KEYWORDS, "N_": None}
#: Words a template may show as they are: the product's name.
UNTRANSLATED_WORDS: Final = frozenset({"reclaim"})
READ_ATTRIBUTES: Final = frozenset({"aria-label", "title", "alt", "placeholder"})


def extracted() -> set[str]:
    with (WEB / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(str(WEB), method_map, options_map, keywords=KEYWORDS)
    ids: set[str] = set()
    for _file, _line, message, _comments, _context in found:
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_the_template_catalogue_is_what_babel_extracts() -> None:
    with (WEB / "locale" / "messages.pot").open("rb") as pot:
        template = {m.id for m in read_po(pot) if m.id}
    found = extracted()
    assert found, "the portal has messages"
    assert sorted(found - template) == [], "not in messages.pot: run `make catalogues`"
    assert sorted(template - found) == [], "in messages.pot but no longer used"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    with i18n.catalogue_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale)
    found = extracted()
    entries = {m.id: m for m in catalog if m.id}
    assert sorted(found - set(entries)) == [], f"{locale}: messages missing from the .po"
    assert sorted(set(entries) - found) == [], f"{locale}: messages no longer used"
    assert sorted(m.id for m in entries.values() if not m.string) == [], "untranslated"
    assert sorted(m.id for m in entries.values() if m.fuzzy) == [], "fuzzy"
    assert list(catalog.obsolete) == [], "obsolete entries"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == [], "Babel's checks (placeholders)"


@pytest.mark.parametrize("locale", ["zh_Hans", "fr"])
def test_a_translation_is_not_the_english(locale: str) -> None:
    """A catalogue filled by copying the English would pass the test above; not this one. Only
    words that are the same in both languages (``Total``) may be equal."""
    with i18n.catalogue_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale)
    same = sorted(m.id for m in catalog if m.id and m.string == m.id)
    assert same == (["Total"] if locale == "fr" else []), same


class _Text(HTMLParser):
    """Text a reader sees, outside ``<code>``, with ``\\x00`` where Jinja printed a value."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.code_depth = 0
        self.text: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "code":
            self.code_depth += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.attributes.append((name, value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self.code_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.code_depth:
            self.text.append(data)


def literal_words(source: str) -> list[str]:
    """Words of a template's source that are neither markup nor Jinja nor a printed value."""
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", "", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", "\x00", source, flags=re.S)
    parser = _Text()
    parser.feed(source)
    parser.close()
    seen = [*parser.text, *(value for _, value in parser.attributes)]
    words = re.findall(r"[^\W\d_]+", " ".join(seen).replace("\x00", " "))
    return [w for w in words if w not in UNTRANSLATED_WORDS]


@pytest.mark.parametrize("template", sorted(p.name for p in (WEB / "templates").glob("*.html")))
def test_a_template_shows_no_untranslated_text(template: str) -> None:
    source = (WEB / "templates" / template).read_text()
    assert literal_words(source) == []


def test_the_literal_text_check_sees_literal_text() -> None:
    assert literal_words('<p>Hello {{ _("x") }}</p><a aria-label="Close">x</a>') == [
        "Hello",
        "x",
        "Close",
    ]
    assert literal_words('<p>{{ _("Hello") }}</p><pre><code>reclaim verify</code></pre>') == []
