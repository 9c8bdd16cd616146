"""The locales reclaim writes to people in (code e-mails), and the choice of one for a person.

``supported_locale(tag)`` maps what someone prefers (a BCP 47 tag as a browser or a client sends
it) to one of ``LOCALES``; the mail adapter renders its templates in these, and the API asks
this module which one a sign-up gets.
"""

from __future__ import annotations

from typing import Final

#: The locales mail is written in (BCP 47).
LOCALES: Final = ("en", "zh-Hans", "fr")


def supported_locale(tag: str | None) -> str:
    """The locale to write to someone who prefers ``tag`` (``zh-CN`` → ``zh-Hans``, ``fr-BE`` →
    ``fr``); English for anything else."""
    language = (tag or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return {"zh": "zh-Hans", "fr": "fr"}.get(language, "en")
