"""The demo programme: a few thousand signed events by operators and creditors.

Deterministic for a given seed (the creditors' keys come from seeded bytes), so two demo runs
publish logs with the same shape. Creditors sign their own key changes with their own keys; the
gateway signs their registration; the admin publishes the estate's documents.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

from reclaim.core.machine import AddKey, Command, PublishDocument, RegisterActor, RevokeKey
from reclaim.log.keys import SignerKey

#: The estate documents the demo publishes (titles as filed; hashes are of demo stand-ins).
DOCUMENTS = (
    ("ftx/plan-2024-10-07", "Second amended joint chapter 11 plan (confirmed 2024-10-07)"),
    ("ftx/effective-2025-01-03", "Notice of effective date (2025-01-03)"),
    ("ftx/round-1-2025-02-18", "Initial distribution, record date 2025-01-03"),
    ("ftx/round-2-2025-05-30", "Second distribution, record date 2025-04-11"),
    ("ftx/round-3-2025-09-30", "Third distribution, record date 2025-08-15"),
    ("ftx/restricted-2025-07-02", "Motion for restricted jurisdiction procedures (2025-07-02)"),
)


@dataclass(frozen=True, slots=True)
class DemoCreditor:
    name: str
    keys: tuple[SignerKey, SignerKey]


def key_seed(seed: int, name: str, index: int = 0) -> bytes:
    """The private seed of an actor's ``index``-th demo key: a hash of the demo's seed and the
    actor's name, so no two actors ever draw the same key (issue 9: two demo streams from one
    ``random.Random`` seed gave 134 actors shared keys, and shared keys name nobody)."""
    return hashlib.sha256(f"reclaim-demo-key\n{seed}\n{name}\n{index}".encode()).digest()


def creditors(count: int, seed: int) -> list[DemoCreditor]:
    out = []
    for i in range(count):
        name = f"creditor-{i:05d}"
        first = SignerKey.from_seed(name, key_seed(seed, name, 0))
        second = SignerKey.from_seed(name, key_seed(seed, name, 1))
        out.append(DemoCreditor(name, (first, second)))
    return out


def commands(people: list[DemoCreditor], seed: int) -> Iterator[tuple[Command, str]]:
    """Registrations, key rotations by the creditors themselves, and published documents."""
    rng = random.Random(seed)
    for person in people:
        yield RegisterActor(person.name, "creditor", person.keys[0].verifier.to_text()), "gateway"
    rotated: list[DemoCreditor] = []
    for index, (doc_id, title) in enumerate(DOCUMENTS):
        digest = hashlib.sha256(f"{doc_id}\n{title}\n".encode()).hexdigest()
        yield PublishDocument(doc_id, title, digest, "application/pdf"), "admin"
        for person in people[index :: len(DOCUMENTS)]:
            if rng.random() < 0.5:
                rotated.append(person)
                yield AddKey(person.name, person.keys[1].verifier.to_text()), person.name
    # A creditor retires its first key, signing the revocation with that same key.
    for person in rotated[::3]:
        yield RevokeKey(person.name, person.keys[0].key_id.hex()), person.name
