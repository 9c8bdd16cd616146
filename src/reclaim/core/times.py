"""Event times: RFC 3339 UTC with exactly six fractional digits, so text order is time order."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

_TIME_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with exactly six fractional digits."""
    assert moment.tzinfo is not None, "times are timezone-aware"
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """The moment an event time names (the inverse of ``format_time``)."""
    assert is_time(text), f"{text!r} is not an event time"
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def is_time(text: str) -> bool:
    return _TIME_RE.fullmatch(text) is not None


def event_time(now: datetime | str) -> str:
    """The event-time text of ``now``: a moment, formatted, or text that already is an event
    time (``Event.time``, which saves formatting it twice)."""
    time = now if isinstance(now, str) else format_time(now)
    assert is_time(time), f"{time!r} is not an event time"
    return time
