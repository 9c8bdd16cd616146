"""Plain value types shared by every part of the core."""

from __future__ import annotations

from typing import TypeAlias

#: A value that the canonical encoding can carry: integers travel as decimal strings.
JsonValue: TypeAlias = "str | bool | list[JsonValue] | dict[str, JsonValue] | None"
