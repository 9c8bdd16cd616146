"""Pydantic models of the log API's JSON answers, and the types of its query parameters.

These are the *public* shapes (the "Public" half of full-stack-fastapi-template's Create/Public
split; the log API takes no request bodies, so there is no "Create" half). They exist for the
OpenAPI document and for serialising answers; nothing in them decides anything.

Wire rules (DESIGN.md §3, §5):

- every integer in JSON is a decimal string (``"42"``), so no client's JSON parser rounds it;
- hashes are standard base64 (RFC 4648 §4) of 32 bytes;
- query parameters that are integers must be spelled the same way: ``0`` or a decimal without
  sign, leading zero, white space or ``_`` (Python's ``int()`` would accept ``+7``, `` 7``,
  ``0_7``; we refuse them, so that each request has exactly one spelling and caches hit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from reclaim.core import limits

_DECIMAL_RE: Final = re.compile(r"0|[1-9][0-9]{0,18}")
DECIMAL_PATTERN: Final = "^(0|[1-9][0-9]{0,18})$"
BASE64_HASH_PATTERN: Final = "^[A-Za-z0-9+/]{43}=$"


def _strict_decimal(value: object) -> object:
    """Refuse every spelling of an integer query parameter but the canonical one."""
    if isinstance(value, str) and not _DECIMAL_RE.fullmatch(value):
        raise ValueError("must be a decimal integer without sign, leading zeros or spaces")
    return value


#: An integer query parameter: canonical decimal text in the URL, an ``int`` in Python.
QueryInt = Annotated[
    int,
    BeforeValidator(_strict_decimal),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}),
]


def position(description: str, *, ge: int = 0) -> Any:
    """The ``Query`` of a seq or a tree size: from ``ge`` up to ``limits.integer_max``."""
    return Query(ge=ge, le=limits.integer_max, description=description)


DecimalString = Annotated[
    str,
    Field(pattern=DECIMAL_PATTERN, description="a non-negative integer as decimal text"),
]
Base64Hash = Annotated[
    str,
    Field(pattern=BASE64_HASH_PATTERN, description="standard base64 of a 32-byte SHA-256 hash"),
]


class Public(BaseModel):
    """An answer's shape: frozen, and no field it does not declare."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckpointItem(Public):
    """One published checkpoint."""

    size: DecimalString = Field(description="the tree size the checkpoint commits to")
    note: str = Field(description="the C2SP signed checkpoint note, exactly as published")


class CheckpointList(Public):
    """Checkpoints with size ≥ ``start``, oldest first."""

    checkpoints: list[CheckpointItem]


class InclusionProof(Public):
    """RFC 9162 §2.1.3 inclusion proof of one leaf in the tree of ``size`` leaves."""

    index: DecimalString = Field(description="the leaf's index (its seq)")
    size: DecimalString = Field(description="the tree size the proof is for")
    leaf_hash: Base64Hash = Field(description="SHA-256(0x00 || leaf bytes)")
    proof: list[Base64Hash] = Field(description="the audit path, deepest hash first")
    root: Base64Hash = Field(
        description="root of the tree of this size; check it against a signed checkpoint"
    )


class ConsistencyProof(Public):
    """RFC 9162 §2.1.4 consistency proof: the tree of ``first`` leaves is a prefix of ``second``."""

    first: DecimalString
    second: DecimalString
    proof: list[Base64Hash]


class Health(Public):
    """The server answers and can read its store."""

    status: str = Field(examples=["ok"])
    size: DecimalString = Field(description="events in the log now")


class InvalidParam(Public):
    """One query parameter that was refused."""

    name: str
    reason: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``).

    ``code`` is stable and machine-readable (``range_not_available``...); ``title`` is fixed per
    code; ``detail`` explains this occurrence.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI reference naming the problem type", examples=["about:blank"])
    title: str
    status: int = Field(description="the HTTP status code (a JSON number, as RFC 9457 says)")
    detail: str
    code: str = Field(examples=["range_not_available"])
    instance: str | None = Field(default=None, description="the request path")
    invalid_params: list[InvalidParam] | None = None


def problem_answers(described: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses`` for the OpenAPI document: each status with its description,
    then ``default`` (any other error), all problem+json."""
    answers: dict[int | str, dict[str, Any]] = {
        status: {"model": Problem, "description": description}
        for status, description in described.items()
    }
    answers["default"] = {"model": Problem, "description": "any other error, as problem+json"}
    return answers
