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
_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


class CanonicalError(ValueError):
    """A value that has no canonical encoding, or bytes that are not canonical."""


def prepare(value: object, path: str = "$", depth: int = 0) -> JsonValue:
    """Return ``value`` as JSON-ready data: integers as strings, text in NFC, keys checked."""
    if depth > limits.canonical_depth_max:
        raise CanonicalError(f"{path}: nested deeper than {limits.canonical_depth_max}")
    if isinstance(value, str):
        return _text(value, path)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not limits.integer_min <= value <= limits.integer_max:
            raise CanonicalError(f"{path}: integer {value} outside the signed 64-bit range")
        return str(value)
    if isinstance(value, Mapping):
        out: dict[str, JsonValue] = {}
        for key, item in value.items():
            _check_key(key, path)
            out[key] = prepare(item, f"{path}.{key}", depth + 1)
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [prepare(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise CanonicalError(f"{path}: {type(value).__name__} has no canonical encoding")


def encode(value: object) -> bytes:
    """The canonical bytes of ``value``."""
    try:
        return _ENCODER.encode(prepare(value)).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError(f"$: text is not valid Unicode ({exc.reason})") from exc


def decode(data: bytes) -> dict[str, JsonValue]:
    """Parse canonical bytes of an object; refuse bytes that are not in canonical form."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"not UTF-8 at byte {exc.start}") from exc
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise CanonicalError(f"not JSON: {exc.msg} at character {exc.pos}") from exc
    if not isinstance(value, dict):
        raise CanonicalError("$: not a JSON object")
    if encode(value) != data:
        raise CanonicalError("bytes are not in canonical form (v1)")
    return value


def _text(value: str, path: str) -> str:
    if len(value) > limits.string_length_max_chars:
        raise CanonicalError(f"{path}: text longer than {limits.string_length_max_chars}")
    return unicodedata.normalize("NFC", value)


def _check_key(key: object, path: str) -> None:
    if not isinstance(key, str) or not key:
        raise CanonicalError(f"{path}: object key {key!r} is not a non-empty string")
    if len(key) > limits.key_length_max_chars or not _KEY_CHARS.issuperset(key):
        raise CanonicalError(f"{path}: object key {key!r} is not a lower-case identifier")


def _no_duplicates(pairs: list[tuple[str, JsonValue]]) -> dict[str, JsonValue]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise CanonicalError("duplicate object key")
    return out


def _no_constant(name: str) -> None:
    raise CanonicalError(f"{name} is not allowed")
