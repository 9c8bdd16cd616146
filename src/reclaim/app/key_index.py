"""Who holds a public key: the index the API's request authentication looks keys up in.

An API key (Backpack's ``X-API-Key``) is a bare 32-byte Ed25519 public key, while the state
knows keys by key id, which C2SP derives from the key *and its name*
(``reclaim.core.keyids``). ``PublicKeyIndex`` maps public key bytes to the ``(actor, key id)``
pairs that registered them, and answers with the actor only when exactly one actor holds that
key live (registered and not revoked): a key registered by two actors under two names names
nobody.

The index follows one ``State`` object (``follows``) and catches up lazily: keys are only ever
added to ``State.key_owner``, in log order (a dict keeps insertion order), so the keys past the
ones already indexed are exactly the new ones. Revocations are read from the state at each
lookup. Not thread-safe: the log service calls it under its writer lock.

Known limit: catching up skips the indexed prefix of ``key_owner`` (O(keys), ~10 ms per million
keys) whenever keys were added since the last lookup.
"""

from __future__ import annotations

import itertools

from reclaim.core.keyids import parse_verifier_key
from reclaim.core.machine import State


class PublicKeyIndex:
    """Public key bytes → the actor that holds them live, for one ``State``."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._holders: dict[bytes, list[tuple[str, str]]] = {}  # key -> [(actor, key id)]
        self._indexed = 0

    def follows(self, state: State) -> bool:
        return state is self._state

    def actor_for(self, public_key: bytes) -> str | None:
        """The one actor holding ``public_key`` live, else ``None``."""
        self._catch_up()
        actors = self._state.actors
        live = {
            name
            for name, key_id in self._holders.get(public_key, ())
            if key_id not in actors[name].revoked
        }
        return next(iter(live)) if len(live) == 1 else None

    def _catch_up(self) -> None:
        owners = self._state.key_owner
        assert len(owners) >= self._indexed, "keys are never removed from the state"
        for key_id in itertools.islice(owners, self._indexed, None):
            name = owners[key_id]
            parsed = parse_verifier_key(self._state.actors[name].keys[key_id])
            assert parsed is not None, "the core stores only well-formed verifier keys"
            self._holders.setdefault(parsed[2], []).append((name, key_id))
        self._indexed = len(owners)
