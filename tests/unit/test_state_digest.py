"""The incremental LtHash state digest equals the from-scratch digest after any history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.core.machine import (
    AddKey,
    Command,
    Decided,
    Genesis,
    PublishDocument,
    RegisterActor,
    RevokeKey,
    State,
    decide,
    evolve,
)
from reclaim.log.digest import StateDigest, full_digest
from reclaim.log.keys import SignerKey

ADMIN = SignerKey.from_seed("admin", b"\x01" * 32)
LOG = SignerKey.from_seed("log", b"\x02" * 32)
PEOPLE = [SignerKey.from_seed(f"p{i}", bytes([10 + i]) * 32) for i in range(4)]
SPARE = [SignerKey.from_seed(f"p{i}", bytes([50 + i]) * 32) for i in range(4)]
T0 = datetime(2025, 1, 3, tzinfo=UTC)

step = st.one_of(
    st.tuples(st.just("register"), st.integers(0, 3)),
    st.tuples(st.just("add"), st.integers(0, 3)),
    st.tuples(st.just("revoke"), st.integers(0, 3)),
    st.tuples(st.just("doc"), st.integers(0, 20)),
    st.tuples(st.just("checkpoint"), st.just(0)),
)


def command(kind: str, n: int) -> tuple[Command, str, str]:
    admin_id = ADMIN.key_id.hex()
    if kind == "register":
        return RegisterActor(f"p{n}", "creditor", PEOPLE[n].verifier.to_text()), "admin", admin_id
    if kind == "add":
        return AddKey(f"p{n}", SPARE[n].verifier.to_text()), "admin", admin_id
    if kind == "revoke":
        return RevokeKey(f"p{n}", PEOPLE[n].key_id.hex()), "admin", admin_id
    return PublishDocument(f"doc/{n}", f"Doc {n}", f"{n:064x}", "text/plain"), "admin", admin_id


@settings(max_examples=60, deadline=None)
@given(st.lists(step, max_size=40))
def test_incremental_digest_equals_full_digest(steps: list[tuple[str, int]]) -> None:
    state, digest = State(), StateDigest()
    genesis = Genesis("t/log", "admin", ADMIN.verifier.to_text(), LOG.verifier.to_text())
    decided = decide(state, genesis, "admin", ADMIN.key_id.hex(), T0)
    assert isinstance(decided, Decided)
    evolve(state, decided.events[0])
    for i, (kind, n) in enumerate(steps):
        if kind == "checkpoint":
            digest.update(state)
            assert digest.digest() == full_digest(state)
            continue
        cmd, actor, key_id = command(kind, n)
        decided = decide(state, cmd, actor, key_id, T0 + timedelta(seconds=i))
        if isinstance(decided, Decided):
            for event in decided.events:
                evolve(state, event)
    digest.update(state)
    assert digest.digest() == full_digest(state)


def test_digest_changes_when_any_entity_changes() -> None:
    state = State()
    genesis = Genesis("t/log", "admin", ADMIN.verifier.to_text(), LOG.verifier.to_text())
    decided = decide(state, genesis, "admin", ADMIN.key_id.hex(), T0)
    assert isinstance(decided, Decided)
    evolve(state, decided.events[0])
    before = full_digest(state)
    state.documents.clear()
    assert full_digest(state) == before  # no documents yet: nothing changed
    state.actors["admin"].revoked.add("00000000")
    assert full_digest(state) != before
