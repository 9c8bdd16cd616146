"""One bounded JSON parser for every request body (issue 9, findings 3 and 4).

``json.loads`` on untrusted bytes can raise what callers never catch: ``RecursionError`` for
a few thousand nested brackets, ``ValueError`` for an integer of more than 4,300 digits
(CPython's limit on int parsing), and it accepts ``NaN``, ``Infinity`` (also as ``1e999``),
lone surrogates (``"\\ud800"``, text that cannot be encoded again: a ``UnicodeEncodeError``
wherever the value is signed or stored) and duplicate keys (the last wins, unlike some other
parsers). ``parse`` refuses each of these — and any other malformed body — with the one typed
error ``JsonRefused``, before any of them can become a 500.

The bounds (``reclaim.core.limits``): nesting depth (``json_depth_max``), digits of an integer
or a number (``json_number_digits_max``), length of a string (``json_string_max_chars``), items
of one array or members of one object (``json_items_max``). The size of the whole body is the
HTTP layer's bound (``request_body_max_bytes``, answered 413). The depth is scanned before
parsing, iteratively, so no recursion ever starts on a hostile body.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

from reclaim.core import limits

#: A UTF-16 surrogate code point: only a JSON escape can put one in a string, never alone valid.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    """A body that is not JSON, or is JSON beyond one of the parser's bounds."""


def parse(raw: bytes | str) -> Any:
    """The JSON value of ``raw`` (UTF-8 text), or ``JsonRefused`` (module doc)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise JsonRefused("the body is not UTF-8 text") from None
    _check_depth(text)
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_number,
                           parse_constant=_constant, object_pairs_hook=_object)  # fmt: skip
    except JsonRefused:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise JsonRefused(f"the body is not JSON: {exc}") from None
    _check_sizes(value)
    return value


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than ``json_depth_max``, counting brackets outside strings."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limits.json_depth_max:
                raise JsonRefused(f"the body nests deeper than {limits.json_depth_max}")
        elif ch in "]}":
            depth -= 1


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > limits.json_number_digits_max:
        raise JsonRefused(f"a number of more than {limits.json_number_digits_max} digits")
    return int(digits)


def _number(text: str) -> float:
    if len(text) > limits.json_number_digits_max:
        raise JsonRefused(f"a number of more than {limits.json_number_digits_max} digits")
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"{text} is beyond the range of a number")
    return value


def _constant(name: str) -> None:
    raise JsonRefused(f"{name} is not a JSON number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all distinct (a duplicate would be read differently elsewhere)."""
    if len(pairs) > limits.json_items_max:
        raise JsonRefused(f"an object of more than {limits.json_items_max} members")
    members: dict[str, Any] = {}
    for key, value in pairs:
        if key in members:
            raise JsonRefused(f"the key {key[:64]!r} appears twice in one object")
        members[key] = value
    return members


def _check_sizes(value: Any) -> None:
    """Refuse a string, array or object over its bound, anywhere in ``value`` (iteratively)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) > limits.json_string_max_chars:
                raise JsonRefused(f"a string of more than {limits.json_string_max_chars} chars")
            if _SURROGATE.search(item):
                raise JsonRefused("a string holds a lone surrogate (\\ud800-\\udfff): not text")
        elif isinstance(item, list):
            if len(item) > limits.json_items_max:
                raise JsonRefused(f"an array of more than {limits.json_items_max} items")
            stack.extend(item)
        elif isinstance(item, dict):
            if len(item) > limits.json_items_max:
                raise JsonRefused(f"an object of more than {limits.json_items_max} members")
            stack.extend(item.keys())
            stack.extend(item.values())
