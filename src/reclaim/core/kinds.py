"""Kinds of refusal: the one property of a code that an edge maps to an answer.

Every code enum of the core (``rejections.Code``, each sub-domain's ``codes``) and of the
application (``reclaim.app.refusals``) has an exhaustive table code → ``Kind``, checked at import
by ``kind_table``. The API maps a kind to an HTTP status once (``entrypoints.api.problems``):

| kind          | means                                                        | HTTP |
| ------------- | ------------------------------------------------------------ | ---- |
| ``bad_input`` | the request is wrong and always will be                      | 400  |
| ``forbidden`` | this actor may not (KYC, jurisdiction, authority)             | 403  |
| ``not_found`` | the thing named does not exist                               | 404  |
| ``conflict``  | the state does not allow it now (funds, an id in use, order) | 409  |
| ``unavailable`` | the service does not take this now (not configured, halted) | 503  |

Answers that accept (``ok``, ``exists``) have no kind. Imported by every codes module.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from typing import Final, TypeVar


class Kind(enum.Enum):
    """What sort of refusal a code is (the edge's one mapping to a status)."""

    bad_input = "bad_input"
    forbidden = "forbidden"
    not_found = "not_found"
    conflict = "conflict"
    unavailable = "unavailable"


B: Final = Kind.bad_input
F: Final = Kind.forbidden
N: Final = Kind.not_found
C: Final = Kind.conflict
U: Final = Kind.unavailable

E = TypeVar("E", bound=enum.Enum)


def kind_table(
    enums: Iterable[type[E]], table: Mapping[E, Kind], accepted: Collection[E] = ()
) -> Mapping[E, Kind]:
    """``table``, checked exhaustive: every member of ``enums`` but the accepted ones has
    exactly one kind, and no accepted answer has one (an ``AssertionError`` at import)."""
    members = {member for cls in enums for member in cls}
    refusals = members - set(accepted)
    missing = sorted(f"{m.__class__.__name__}.{m.name}" for m in refusals - set(table))
    extra = sorted(f"{m.__class__.__name__}.{m.name}" for m in set(table) - refusals)
    assert not missing, f"codes without a kind: {missing}"
    assert not extra, f"kinds for answers that are no refusal: {extra}"
    return table


def refusal_kind(kinds: Mapping[E, Kind], code: E) -> Kind:
    """The kind of a refusal in a ``kind_table`` (``AssertionError`` for an accepted answer,
    which has none: a bug)."""
    assert code in kinds, f"{code} accepts; it has no kind"
    return kinds[code]
