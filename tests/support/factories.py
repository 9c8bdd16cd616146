"""Factories of signed events for tests: a genesis, actors, keys, documents.

Keys come from fixed seeds (``key_for``), so the same name gives the same key in every process,
and times advance one second per event from ``START_TIME``, so a log built twice is built
byte for byte the same. The events are valid for the core (``reclaim.core.machine.check``) when
appended in the order a ``LogFactory`` makes them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Final

from reclaim.core.events import Event, format_time
from reclaim.core.types import JsonValue
from reclaim.log.event import SignedEvent, sign
from reclaim.log.keys import SignerKey

ORIGIN: Final = "reclaim.test/log"
START_TIME: Final = datetime(2026, 1, 1, tzinfo=UTC)


def key_for(name: str, generation: int = 0) -> SignerKey:
    """The deterministic key number ``generation`` of ``name``."""
    seed = hashlib.sha256(f"reclaim test key {name} {generation}".encode()).digest()
    return SignerKey.from_seed(name, seed)


class LogFactory:
    """Signed events of one log, in an order the core accepts, signed by the admin."""

    def __init__(self, admin: str = "admin", origin: str = ORIGIN) -> None:
        self.admin = admin
        self.origin = origin
        self.admin_key = key_for(admin)
        self.log_key = key_for(f"{origin}-signer")
        self._ticks = 0

    def _time(self) -> str:
        self._ticks += 1
        return format_time(START_TIME + timedelta(seconds=self._ticks))

    def signed(
        self, kind: str, payload: dict[str, JsonValue], key: SignerKey | None = None
    ) -> SignedEvent:
        """An event of ``kind`` by the admin (or by ``key``'s owner), signed."""
        key = key or self.admin_key
        event = Event(kind, 1, self._time(), key.name, key.key_id.hex(), payload)
        return sign(event, key)

    def genesis(self) -> SignedEvent:
        return self.signed(
            "log.genesis",
            {
                "origin": self.origin,
                "admin": self.admin,
                "admin_key": self.admin_key.verifier.to_text(),
                "log_key": self.log_key.verifier.to_text(),
            },
        )

    def register(self, name: str, role: str, key: SignerKey | None = None) -> SignedEvent:
        key = key or key_for(name)
        payload: dict[str, JsonValue] = {"name": name, "role": role, "key": key.verifier.to_text()}
        return self.signed("actor.registered", payload)

    def add_key(self, name: str, key: SignerKey) -> SignedEvent:
        return self.signed("actor.key_added", {"name": name, "key": key.verifier.to_text()})

    def revoke_key(self, name: str, key: SignerKey) -> SignedEvent:
        return self.signed("actor.key_revoked", {"name": name, "key_id": key.key_id.hex()})

    def document(self, document_id: str, title: str | None = None) -> SignedEvent:
        return self.signed(
            "document.published",
            {
                "document_id": document_id,
                "title": title if title is not None else f"Document {document_id}",
                "sha256": hashlib.sha256(document_id.encode()).hexdigest(),
                "media_type": "application/pdf",
            },
        )

    def documents(self, prefix: str, count: int, start: int = 0) -> list[SignedEvent]:
        """``count`` documents ``<prefix>-<n>`` for ``n`` from ``start``."""
        return [self.document(f"{prefix}-{n}") for n in range(start, start + count)]
