"""The published key set of a log: ``keys.json`` in an export, ``GET /log/keys`` on the API.

Canonical JSON (``reclaim.log.canonical``) of::

    {"origin": "<origin>", "log_key": "<verifier key>",
     "actors": [{"name": ..., "role": ..., "keys": [verifier keys, sorted by key id],
                 "revoked": [hex key ids, sorted]}, ...]}   # actors sorted by name

Every key ever registered is listed, revoked ones too, so that old events stay verifiable.
Private keys never appear: the state holds only verifier keys.
"""

from __future__ import annotations

from reclaim.core.machine import State
from reclaim.core.types import JsonValue
from reclaim.log import canonical


def keys_document(state: State) -> bytes:
    actors: list[JsonValue] = []
    for name in sorted(state.actors):
        entity = state.entity(f"actor/{name}")
        assert isinstance(entity, dict)
        actors.append({"name": name, **entity})
    return canonical.encode({"origin": state.origin, "log_key": state.log_key, "actors": actors})
