"""Canonical bytes of an event: deterministic JSON in the style of RFC 8785 (JCS).

Version 1 of the encoding, frozen by the golden vectors in ``tests/vectors/test_canonical.py``:

- objects with keys sorted; keys are lower-case ASCII identifiers (``[a-z0-9_]``, at most
  ``limits.key_length_max_chars``), so code-point order and RFC 8785's UTF-16 order agree;
- no insignificant white space; separators ``,`` and ``:``;
- strings are normalised to Unicode NFC and written as UTF-8; only ``"``, ``\\`` and control
  characters are escaped (``\\b \\t \\n \\f \\r``, others as ``\\u00xx``), exactly as RFC 8785
  section 3.2.2.2; lone surrogates are refused;
- integers are written as decimal strings (``7`` → ``"7"``), bounded to a signed 64-bit range,
  so no JSON parser can round them; floats are refused; ``bool`` and ``None`` are JSON's
  ``true``, ``false``, ``null``;
- arrays keep their order; tuples are arrays.

``decode`` parses bytes and refuses anything that is not the canonical form of its own value
(duplicate keys, white space, numbers, non-NFC text...): the verifier re-encodes every event and
compares the bytes.

Errors: ``CanonicalError`` (a ``ValueError``) with a message naming the path of the bad value.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Final

from reclaim.core import limits
from reclaim.core.types import JsonValue

#: Version of this encoding; a change to the bytes it produces needs a new version.
ENCODING_VERSION: Final = "1"


_KEY_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
#: Keys already checked (a bounded cache: payload keys come from a few schemas).
_KNOWN_KEYS: Final[set[str]] = set()
_KNOWN_KEYS_MAX: Final = 4096
_TEXT_MAX: Final = limits.string_length_max_chars
_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


class CanonicalError(ValueError):
    """A value that has no canonical encoding, or bytes that are not canonical."""


def prepare(value: object) -> JsonValue:
    """Return ``value`` as JSON-ready data: integers as strings, text in NFC, keys checked."""
    try:
        return _prepare(value, 0)
    except _Refused as refused:
        path = "$" + "".join(reversed(refused.path))
        raise CanonicalError(f"{path}: {refused.reason}") from None


class _Refused(Exception):
    """Raised deep in ``_prepare``; each level adds its key to the path on the way out."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.path: list[str] = []


def _prepare(value: object, depth: int) -> JsonValue:
    # The hot path of every append: dispatch on the exact type first, no path strings built
    # unless something is refused.
    kind = type(value)
    if kind is str:
        return _text(value)  # type: ignore[arg-type]
    if kind is dict:
        if depth >= limits.canonical_depth_max:
            raise _Refused(f"nested deeper than {limits.canonical_depth_max}")
        out: dict[str, JsonValue] = {}
        for key, item in value.items():  # type: ignore[attr-defined]
            if key not in _KNOWN_KEYS:
                _check_key(key)
            if type(item) is str and item.isascii() and len(item) <= _TEXT_MAX:
                out[key] = item  # the common case, inline: ASCII text is NFC already
                continue
            try:
                out[key] = _prepare(item, depth + 1)
            except _Refused as refused:
                refused.path.append(f".{key}")
                raise
        return out
    if kind is int:
        if not limits.integer_min <= value <= limits.integer_max:  # type: ignore[operator]
            raise _Refused(f"integer {value} outside the signed 64-bit range")
        return str(value)
    if value is None or kind is bool:
        return value  # type: ignore[return-value]
    if kind is list or kind is tuple:
        if depth >= limits.canonical_depth_max:
            raise _Refused(f"nested deeper than {limits.canonical_depth_max}")
        items: list[JsonValue] = []
        for i, item in enumerate(value):  # type: ignore[arg-type]
            try:
                items.append(_prepare(item, depth + 1))
            except _Refused as refused:
                refused.path.append(f"[{i}]")
                raise
        return items
    if isinstance(value, str | int | Mapping) or (
        isinstance(value, Sequence) and not isinstance(value, bytes | bytearray)
    ):
        return _prepare(_plain(value), depth)
    raise _Refused(f"{kind.__name__} has no canonical encoding")


def _plain(value: object) -> object:
    """A subclass of a JSON type (an enum, a ``Mapping``) as the plain type."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Mapping):
        return dict(value)
    assert isinstance(value, Sequence)
    return list(value)


def encode(value: object) -> bytes:
    """The canonical bytes of ``value``."""
    try:
        return _ENCODER.encode(prepare(value)).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError(f"$: text is not valid Unicode ({exc.reason})") from exc


def plain_encode(value: object) -> bytes:
    """Sorted, compact JSON of ``value`` with no checks: equal to ``encode`` exactly when
    ``value`` is canonical-ready (see ``reclaim.log.event.decided_body_bytes``)."""
    return _ENCODER.encode(value).encode("utf-8")


def decode(data: bytes) -> dict[str, JsonValue]:
    """Parse canonical bytes of an object; refuse bytes that are not in canonical form.

    The check is "re-encoding gives the same bytes". For ASCII bytes (every event whose text is
    ASCII) it runs at C speed: numbers are refused while parsing, keys are checked per object,
    and plain sorted JSON of the value must equal the bytes (which also refuses duplicate keys,
    white space, unsorted keys and needless escapes). Other bytes take the full ``encode`` path,
    which also checks Unicode NFC and lengths.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"not UTF-8 at byte {exc.start}") from exc
    try:
        value = json.loads(
            text,
            object_hook=_checked_object,
            parse_int=_no_number,
            parse_float=_no_number,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        raise CanonicalError(f"not JSON: {exc.msg} at character {exc.pos}") from exc
    except _Refused as refused:
        raise CanonicalError(f"$: {refused.reason}") from None
    if not isinstance(value, dict):
        raise CanonicalError("$: not a JSON object")
    again = plain_encode(value) if data.isascii() else encode(value)
    if again != data:
        raise CanonicalError("bytes are not in canonical form (v1)")
    return value


def _checked_object(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    for key in value:
        if key not in _KNOWN_KEYS:
            _check_key(key)
    return value


def _no_number(text: str) -> None:
    raise CanonicalError(f"number {text} is not allowed (integers are decimal strings)")


def _text(value: str) -> str:
    if len(value) > limits.string_length_max_chars:
        raise _Refused(f"text longer than {limits.string_length_max_chars}")
    if value.isascii():  # ASCII text is always in NFC
        return value
    return unicodedata.normalize("NFC", value)


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not key:
        raise _Refused(f"object key {key!r} is not a non-empty string")
    if len(key) > limits.key_length_max_chars or not _KEY_CHARS.issuperset(key):
        raise _Refused(f"object key {key!r} is not a lower-case identifier")
    if len(_KNOWN_KEYS) < _KNOWN_KEYS_MAX:
        _KNOWN_KEYS.add(key)


def _no_constant(name: str) -> None:
    raise CanonicalError(f"{name} is not allowed")
