"""Scenario table of the foundation's state machine: every rejection code, in ladder order.

Each row starts from the same log — genesis by ``admin``, then ``gateway`` and the creditor
``alice`` (two keys, the first revoked) registered — and tries one event. The expected outcome is
a rejection code, or ``None`` for an accepted event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from reclaim.core.events import Event
from reclaim.core.machine import (
    AddKey,
    Decided,
    Genesis,
    RegisterActor,
    RevokeKey,
    State,
    assert_invariants,
    check,
    decide,
    evolve,
)
from reclaim.core.rejections import Code, Rejection
from reclaim.log.keys import SignerKey

NOW = datetime(2025, 1, 3, 15, 0, tzinfo=UTC)
T0 = "2025-01-03T15:00:00.000000Z"
K = {
    name: SignerKey.from_seed(name, bytes([i]) * 32)
    for i, name in enumerate(["admin", "gateway", "alice", "alice2", "log", "mallory", "bob"])
}


def vk(name: str, as_name: str | None = None) -> str:
    key = K[name]
    return (
        key.verifier.to_text()
        if as_name is None
        else SignerKey.from_seed(as_name, bytes([list(K).index(name)]) * 32).verifier.to_text()
    )


def kid(name: str, as_name: str | None = None) -> str:
    if as_name is None:
        return K[name].key_id.hex()
    return SignerKey.from_seed(as_name, bytes([list(K).index(name)]) * 32).key_id.hex()


def base_state() -> State:
    state = State()
    steps = [
        (Genesis("reclaim.test/log", "admin", vk("admin"), vk("log")), "admin", kid("admin")),
        (RegisterActor("gateway", "gateway", vk("gateway")), "admin", kid("admin")),
        (RegisterActor("alice", "creditor", vk("alice")), "gateway", kid("gateway")),
        (AddKey("alice", vk("alice2", "alice")), "alice", kid("alice")),
        (RevokeKey("alice", kid("alice")), "alice", kid("alice")),
    ]
    for command, actor, key_id in steps:
        decided = decide(state, command, actor, key_id, NOW)
        assert isinstance(decided, Decided), decided
        for event in decided.events:
            evolve(state, event)
    assert_invariants(state)
    return state


@dataclass(frozen=True)
class Row:
    what: str
    event: Event
    code: Code | None


def ev(
    kind: str, actor: str, key_id: str, payload: dict, version: int = 1, time: str = T0
) -> Event:  # type: ignore[type-arg]
    return Event(kind, version, time, actor, key_id, payload)


DOC = {
    "document_id": "ftx/plan",
    "title": "Plan",
    "sha256": "ab" * 32,
    "media_type": "application/pdf",
}
ROWS = [
    Row(
        "the gateway registers a creditor with the admin's public key under another name (v2)",
        ev(
            "actor.registered",
            "gateway",
            kid("gateway"),
            {"name": "bob", "role": "creditor", "key": vk("admin", "creditor")},
            version=2,
        ),
        Code.key_in_use,
    ),
    Row(
        "the same registration as v1 replays under v1's rule (logs exported before issue 9)",
        ev(
            "actor.registered",
            "gateway",
            kid("gateway"),
            {"name": "bob", "role": "creditor", "key": vk("admin", "creditor")},
        ),
        None,
    ),
    Row(
        "a creditor is registered with the log's own public key (v2)",
        ev(
            "actor.registered",
            "gateway",
            kid("gateway"),
            {"name": "bob", "role": "creditor", "key": vk("log", "bob")},
            version=2,
        ),
        Code.key_in_use,
    ),
    Row(
        "alice adds the gateway's public key under her name (v2)",
        ev(
            "actor.key_added",
            "alice",
            kid("alice2", "alice"),
            {"name": "alice", "key": vk("gateway", "alice")},
            version=2,
        ),
        Code.key_in_use,
    ),
    Row(
        "alice adds her revoked key's public bytes again under another name (v2)",
        ev(
            "actor.key_added",
            "alice",
            kid("alice2", "alice"),
            {"name": "alice", "key": vk("alice", "alice-again")},
            version=2,
        ),
        Code.key_in_use,
    ),
    Row(
        "alice adds a fresh key (v2)",
        ev(
            "actor.key_added",
            "alice",
            kid("alice2", "alice"),
            {"name": "alice", "key": vk("bob", "alice")},
            version=2,
        ),
        None,
    ),
    Row(
        "an admin publishes a document", ev("document.published", "admin", kid("admin"), DOC), None
    ),
    Row(
        "the gateway registers a creditor",
        ev(
            "actor.registered",
            "gateway",
            kid("gateway"),
            {"name": "bob", "role": "creditor", "key": vk("bob")},
        ),
        None,
    ),
    Row(
        "alice adds a key with her live key",
        ev("actor.key_added", "alice", kid("alice2", "alice"), {"name": "bob", "key": vk("bob")}),
        Code.actor_not_authorised,
    ),
    Row(
        "an unknown actor signs",
        ev("document.published", "mallory", kid("mallory"), DOC),
        Code.actor_unknown,
    ),
    Row(
        "admin signs with a key that is not his",
        ev("document.published", "admin", kid("mallory"), DOC),
        Code.actor_key_unknown,
    ),
    Row(
        "alice signs with her revoked key",
        ev("actor.key_added", "alice", kid("alice"), {"name": "alice", "key": vk("bob")}),
        Code.actor_key_revoked,
    ),
    Row(
        "the gateway publishes a document",
        ev("document.published", "gateway", kid("gateway"), DOC),
        Code.actor_not_authorised,
    ),
    Row(
        "the gateway registers an admin",
        ev(
            "actor.registered",
            "gateway",
            kid("gateway"),
            {"name": "eve", "role": "admin", "key": vk("bob")},
        ),
        Code.actor_not_authorised,
    ),
    Row(
        "a second genesis",
        ev(
            "log.genesis",
            "admin",
            kid("admin"),
            {"origin": "x", "admin": "admin", "admin_key": vk("admin"), "log_key": vk("log")},
        ),
        Code.genesis_repeated,
    ),
    Row(
        "a schema version the core does not know",
        ev("document.published", "admin", kid("admin"), DOC, version=2),
        Code.event_version_unknown,
    ),
    Row(
        "an event dated before the last one",
        ev("document.published", "admin", kid("admin"), DOC, time="2025-01-03T14:59:59.999999Z"),
        Code.event_time_regressed,
    ),
    Row(
        "a payload with an extra field",
        ev("document.published", "admin", kid("admin"), DOC | {"x": "1"}),
        Code.payload_malformed,
    ),
    Row(
        "a title that is not in Unicode NFC",
        ev("document.published", "admin", kid("admin"), DOC | {"title": "Cafe\u0301"}),
        Code.payload_malformed,
    ),
    Row(
        "a payload field that is not text",
        ev("document.published", "admin", kid("admin"), DOC | {"title": ["a"]}),
        Code.payload_malformed,
    ),
    Row(
        "registering a name that exists",
        ev(
            "actor.registered",
            "admin",
            kid("admin"),
            {"name": "alice", "role": "creditor", "key": vk("bob")},
        ),
        Code.actor_exists,
    ),
    Row(
        "registering an invalid name",
        ev(
            "actor.registered",
            "admin",
            kid("admin"),
            {"name": "Bob Smith", "role": "creditor", "key": vk("bob")},
        ),
        Code.actor_name_invalid,
    ),
    Row(
        "registering an unknown role",
        ev(
            "actor.registered",
            "admin",
            kid("admin"),
            {"name": "bob", "role": "emperor", "key": vk("bob")},
        ),
        Code.role_unknown,
    ),
    Row(
        "registering a malformed key",
        ev(
            "actor.registered",
            "admin",
            kid("admin"),
            {"name": "bob", "role": "creditor", "key": "bob+00+AAAA"},
        ),
        Code.key_malformed,
    ),
    Row(
        "registering a key that another actor holds",
        ev(
            "actor.registered",
            "admin",
            kid("admin"),
            {"name": "bob", "role": "creditor", "key": vk("gateway")},
        ),
        Code.key_exists,
    ),
    Row(
        "revoking the last live key",
        ev(
            "actor.key_revoked",
            "alice",
            kid("alice2", "alice"),
            {"name": "alice", "key_id": kid("alice2", "alice")},
        ),
        Code.key_last_cannot_be_revoked,
    ),
    Row(
        "revoking a key twice",
        ev("actor.key_revoked", "admin", kid("admin"), {"name": "alice", "key_id": kid("alice")}),
        Code.actor_key_revoked,
    ),
    Row(
        "revoking a key of someone else",
        ev("actor.key_revoked", "admin", kid("admin"), {"name": "alice", "key_id": kid("bob")}),
        Code.actor_key_unknown,
    ),
    Row(
        "adding a key to nobody",
        ev("actor.key_added", "admin", kid("admin"), {"name": "zed", "key": vk("bob")}),
        Code.actor_unknown,
    ),
    Row(
        "a document hash that is not SHA-256 hex",
        ev("document.published", "admin", kid("admin"), DOC | {"sha256": "AB" * 32}),
        Code.document_hash_malformed,
    ),
    Row(
        "an event type no domain owns",
        ev("log.burned", "admin", kid("admin"), {}),
        Code.event_type_unknown,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.what)
def test_scenario(row: Row) -> None:
    state = base_state()
    rejection = check(state, row.event)
    assert (rejection.code if rejection else None) == row.code, rejection
    if rejection is None:
        evolve(state, row.event)
        assert_invariants(state)


def test_document_published_twice_is_refused() -> None:
    state = base_state()
    first = ev("document.published", "admin", kid("admin"), DOC)
    assert check(state, first) is None
    evolve(state, first)
    rejection = check(state, first)
    assert rejection is not None
    assert rejection.code is Code.document_exists
    assert str(rejection) == "document_exists: 'ftx/plan'"


def test_events_before_genesis_are_refused() -> None:
    rejection = check(State(), ev("document.published", "admin", kid("admin"), DOC))
    assert rejection is not None
    assert rejection.code is Code.genesis_missing


def test_genesis_must_be_signed_by_the_admin_key_it_names() -> None:
    genesis = Genesis("reclaim.test/log", "admin", vk("admin"), vk("log"))
    refused = decide(State(), genesis, "admin", kid("mallory"), NOW)
    assert isinstance(refused, Rejection)
    assert refused.code is Code.actor_not_authorised


def test_every_code_is_exercised() -> None:
    exercised = {row.code for row in ROWS} | {
        Code.document_exists,
        Code.genesis_missing,
        Code.ledger_refused,
        Code.claims_refused,
        Code.distribution_refused,  # tests/scenarios/test_distribution_scenarios.py
        Code.withdrawal_refused,  # tests/scenarios/test_withdrawal_scenarios.py
        Code.market_refused,  # tests/scenarios/test_market_*.py
        Code.notes_refused,  # tests/scenarios/test_notes_*.py
    }
    assert exercised - {None} == set(Code)


def test_snapshot_is_ordered_and_complete() -> None:
    state = base_state()
    snapshot = state.snapshot()
    assert list(snapshot) == ["log", "actor/admin", "actor/alice", "actor/gateway"]
    assert snapshot["log"] == {
        "origin": "reclaim.test/log",
        "log_key": vk("log"),
        "events": "5",
        "last_time": T0,
    }
    assert snapshot["actor/alice"] == {
        "role": "creditor",
        "keys": sorted([vk("alice"), vk("alice2", "alice")], key=lambda t: t.split("+")[1]),
        "revoked": [kid("alice")],
    }
    assert state.drain_changed() == ["actor/admin", "actor/alice", "actor/gateway", "log"]
    assert state.drain_changed() == []


def test_a_ledger_event_the_ladder_refuses_is_named() -> None:
    from reclaim.core.ledger import Account, OpenAccounts

    state = base_state()
    treasury = SignerKey.from_seed("treasury", b"\x09" * 32)
    register = decide(
        state,
        RegisterActor("treasury", "treasury", treasury.verifier.to_text()),
        "admin",
        kid("admin"),
        NOW,
    )
    assert isinstance(register, Decided)
    evolve(state, register.events[0])
    opened = decide(
        state,
        OpenAccounts((Account.of("alice", "USD", "creditor_available"),)),
        "treasury",
        treasury.key_id.hex(),
        NOW,
    )
    assert isinstance(opened, Decided)
    assert len(opened.events) == 1
    evolve(state, opened.events[0])
    forged = ev(
        "ledger.transfers_created",
        "treasury",
        treasury.key_id.hex(),
        {"atomic": False, "transfers": [{"id": "t1"}]},
    )
    rejection = check(state, forged)
    assert rejection is not None
    assert rejection.code is Code.ledger_refused
    assert rejection.detail.startswith("payload_malformed")
    by_creditor = ev("ledger.accounts_opened", "alice", kid("alice2", "alice"), {"accounts": []})
    refused = check(state, by_creditor)
    assert refused is not None
    assert refused.code is Code.actor_not_authorised


def test_claims_commands_climb_the_whole_ladder() -> None:
    from reclaim.core.claims import ClaimClass, CreateEstate, ProveEmail

    state = base_state()
    estate = CreateEstate(
        "ftx", "FTX Trading Ltd.", "2022-11-11", (ClaimClass("7", "Convenience", 1),)
    )
    created = decide(state, estate, "admin", kid("admin"), NOW)
    assert isinstance(created, Decided)
    evolve(state, created.events[0])
    again = decide(state, estate, "admin", kid("admin"), NOW)
    assert isinstance(again, Decided | Rejection)
    by_gateway = decide(state, estate, "gateway", kid("gateway"), NOW)
    assert isinstance(by_gateway, Rejection)
    assert by_gateway.code is Code.actor_not_authorised
    bad = CreateEstate("ftx2", "", "2022-13-45", ())
    refused = decide(state, bad, "admin", kid("admin"), NOW)
    assert isinstance(refused, Rejection)
    assert refused.code is Code.claims_refused
    nobody = decide(state, ProveEmail("zed", "ab" * 32), "gateway", kid("gateway"), NOW)
    assert isinstance(nobody, Rejection)
    assert nobody.code is Code.actor_unknown
    assert nobody.detail == "no creditor actor named 'zed'"


def test_decide_writes_the_key_rule_version_and_refuses_a_squatted_key() -> None:
    """Key squatting (issue 9, finding 1): the KYC officer's, the admin's or any creditor's
    public key, published at /log/keys, cannot be registered by someone else."""
    state = base_state()
    squat = RegisterActor("squatter", "creditor", vk("gateway", "creditor"))
    refused = decide(state, squat, "gateway", kid("gateway"), NOW)
    assert isinstance(refused, Rejection)
    assert refused.code is Code.key_in_use
    assert str(refused) == "key_in_use: this public key is a key of 'gateway'"
    decided = decide(state, RegisterActor("bob", "creditor", vk("bob")), "gateway",
                     kid("gateway"), NOW)  # fmt: skip
    assert isinstance(decided, Decided)
    assert [e.version for e in decided.events] == [2]
    added = decide(state, AddKey("alice", vk("mallory", "alice")), "alice",
                   kid("alice2", "alice"), NOW)  # fmt: skip
    assert isinstance(added, Decided)
    assert [(e.type, e.version) for e in added.events] == [("actor.key_added", 2)]
