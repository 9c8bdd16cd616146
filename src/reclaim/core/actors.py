"""Actors, keys and documents: who may sign, and what the operator has published.

The first sub-domain of the log (``reclaim.core.machine.DOMAINS``). The first event of every log
is ``log.genesis``, signed by the first admin with its own key: it names the log's origin, the
log signer's key and the admin. Every later event must be signed by a registered, unrevoked key
of an actor whose role may authorise that event type (each domain's ``event_types``); "self" lets
an actor manage its own keys.

Actors and their roles (table):

| role        | may authorise                                    |
| ----------- | ------------------------------------------------ |
| admin       | genesis, actors, keys of anyone, documents       |
| gateway     | registering creditor and trader actors           |
| any actor   | adding and revoking its own keys ("self")        |

Invariants (asserted by ``assert_actors_invariants``): every actor has at least one live key; key
ids are unique across actors.

One key, one actor (issue 9, key squatting): ``actor.registered`` and ``actor.key_added`` of
version 2 — the version ``decide`` writes — refuse a public key that any actor was ever given, or
that is the log's own key (``key_in_use``): an API key is looked up by its public bytes alone
(``reclaim.app.key_index``), so a second holder would make the key name nobody and lock its owner
out. The key id cannot serve for this rule, because C2SP derives it from the key *and its name*.
Version 1 events, decided before the rule, replay under their old rule (key ids unique), so logs
exported before still verify; their shared keys still name nobody.

Refusals are the shell's own ``Rejection`` codes (``reclaim.core.rejections.Code``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from reclaim.core.claims import CLAIMS_ROLES
from reclaim.core.domain import Domain, Entities, EventType, World, entity_fields, keys_of
from reclaim.core.events import Event
from reclaim.core.forms import ACTOR_NAME_RE, HEX64_RE
from reclaim.core.keyids import parse_verifier_key
from reclaim.core.payload_fields import field_names, fields_payload
from reclaim.core.rejections import KINDS, Code, Rejection
from reclaim.core.types import JsonValue

ROLES: Final = (
    frozenset(
        {
            "admin",
            "kyc_officer",
            "treasury",
            "log_signer",
            "gateway",
            "creditor",
            "trader",
            # The programme's entity that holds claims assigned for recovery notes.
            "holding_entity",
        }
    )
    | CLAIMS_ROLES
)
#: Roles the portal gateway may register (it signs for people who sign up on the web).
GATEWAY_REGISTERS: Final = frozenset({"creditor", "trader"})
#: The version of ``actor.registered`` / ``actor.key_added`` that ``decide`` writes: the first
#: with the one-key-one-actor rule (``key_in_use``).
KEY_RULE_VERSION: Final = 2
_DOCUMENT_ID_RE: Final = re.compile(r"[a-z0-9][a-z0-9._/-]{0,127}")


@dataclass(slots=True)
class Actor:
    name: str
    role: str
    keys: dict[str, str] = field(default_factory=dict)  # key id (hex) -> verifier key text
    revoked: set[str] = field(default_factory=set)  # key ids (hex)

    def live_keys(self) -> list[str]:
        return sorted(k for k in self.keys if k not in self.revoked)


@dataclass(frozen=True, slots=True)
class Document:
    document_id: str
    title: str
    sha256: str
    media_type: str
    published_at: str
    published_by: str


@dataclass(slots=True)
class ActorsState(Entities):
    """The log's origin and signer key, its actors with their keys, and its documents."""

    origin: str = ""
    log_key: str = ""
    actors: dict[str, Actor] = field(default_factory=dict)
    key_owner: dict[str, str] = field(default_factory=dict)  # key id (hex) -> actor name
    #: Public key bytes -> the first actor given them ("" for the log's key): the index of the
    #: one-key-one-actor rule. Not an entity: derived from the actors, so not in the digest.
    public_key_holder: dict[bytes, str] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    def entity_keys(self) -> list[str]:
        """``actor/<name>`` then ``document/<id>``, each sorted."""
        return keys_of(("actor", self.actors), ("document", self.documents))

    def entity(self, key: str) -> JsonValue:
        kind, _, ident = key.partition("/")
        if kind == "actor" and ident in self.actors:
            a = self.actors[ident]
            keys: list[JsonValue] = [a.keys[k] for k in sorted(a.keys)]
            revoked: list[JsonValue] = list(sorted(a.revoked))
            return {"role": a.role, "keys": keys, "revoked": revoked}
        if kind == "document" and ident in self.documents:
            return entity_fields(
                self.documents[ident], "title", "sha256", "media_type", "published_at",
                "published_by",
            )  # fmt: skip
        return None


# Commands -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Genesis:
    origin: str
    admin: str
    admin_key: str
    log_key: str


@dataclass(frozen=True, slots=True)
class RegisterActor:
    name: str
    role: str
    key: str


@dataclass(frozen=True, slots=True)
class AddKey:
    name: str
    key: str


@dataclass(frozen=True, slots=True)
class RevokeKey:
    name: str
    key_id: str


@dataclass(frozen=True, slots=True)
class PublishDocument:
    document_id: str
    title: str
    sha256: str
    media_type: str


ActorsCommand = Genesis | RegisterActor | AddKey | RevokeKey | PublishDocument


# The ladder -----------------------------------------------------------------------------------


def check_genesis(state: ActorsState, event: Event) -> Rejection | None:
    if state.origin:
        return Rejection(Code.genesis_repeated, "the log has a genesis already")
    g = _logged(Genesis, event)
    if isinstance(g, Rejection):
        return g
    if not g.origin or len(g.origin) > 255 or any(ch.isspace() for ch in g.origin):
        return Rejection(Code.payload_malformed, f"origin {g.origin!r}")
    if not ACTOR_NAME_RE.fullmatch(g.admin):
        return Rejection(Code.actor_name_invalid, f"{g.admin!r}")
    parsed_admin, parsed_log = parse_verifier_key(g.admin_key), parse_verifier_key(g.log_key)
    if parsed_admin is None or parsed_log is None:
        return Rejection(Code.key_malformed, "admin_key or log_key is not a verifier key")
    if event.actor != g.admin or event.key_id != parsed_admin[1].hex():
        return Rejection(
            Code.actor_not_authorised, "genesis must be signed by the admin key it names"
        )
    return None


def _check_registered(state: ActorsState, c: RegisterActor, version: int) -> Rejection | None:
    name, role = c.name, c.role
    if not ACTOR_NAME_RE.fullmatch(name):
        return Rejection(Code.actor_name_invalid, f"{name!r}")
    if name in state.actors:
        return Rejection(Code.actor_exists, f"{name!r}")
    if role not in ROLES:
        return Rejection(Code.role_unknown, f"{role!r}")
    return _check_new_key(state, c.key, version)


def _check_key_added(state: ActorsState, c: AddKey, version: int) -> Rejection | None:
    if c.name not in state.actors:
        return Rejection(Code.actor_unknown, f"no actor named {c.name!r}")
    return _check_new_key(state, c.key, version)


def _check_key_revoked(state: ActorsState, c: RevokeKey, version: int) -> Rejection | None:
    name, key_id = c.name, c.key_id
    actor = state.actors.get(name)
    if actor is None:
        return Rejection(Code.actor_unknown, f"no actor named {name!r}")
    if key_id not in actor.keys:
        return Rejection(Code.actor_key_unknown, f"key {key_id} is not a key of {name!r}")
    if key_id in actor.revoked:
        return Rejection(Code.actor_key_revoked, f"key {key_id} of {name!r}")
    if actor.live_keys() == [key_id]:
        return Rejection(Code.key_last_cannot_be_revoked, f"{name!r} would have no key left")
    return None


def _check_document(state: ActorsState, c: PublishDocument, version: int) -> Rejection | None:
    document_id, title, sha256, media_type = c.document_id, c.title, c.sha256, c.media_type
    if not _DOCUMENT_ID_RE.fullmatch(document_id) or not title or not media_type:
        return Rejection(Code.payload_malformed, f"document {document_id!r}")
    if document_id in state.documents:
        return Rejection(Code.document_exists, f"{document_id!r}")
    if not HEX64_RE.fullmatch(sha256):
        return Rejection(Code.document_hash_malformed, f"{sha256!r} is not 64 lower-case hex")
    return None


def _check_new_key(state: ActorsState, key: str, version: int) -> Rejection | None:
    parsed = parse_verifier_key(key)
    if parsed is None:
        return Rejection(Code.key_malformed, f"{key!r} is not a verifier key")
    if parsed[1].hex() in state.key_owner:
        return Rejection(Code.key_exists, f"key {parsed[1].hex()} is registered already")
    holder = state.public_key_holder.get(parsed[2])
    if version >= KEY_RULE_VERSION and holder is not None:
        # Stops key squatting: a second holder would make the key name nobody (module doc).
        whose = "the log's own key" if holder == "" else f"a key of {holder!r}"
        return Rejection(Code.key_in_use, f"this public key is {whose}")
    return None


def _strings(p: Mapping[str, JsonValue], names: tuple[str, ...]) -> tuple[str, ...] | Rejection:
    """The payload's text fields, exactly ``names``, each in Unicode NFC (the form the canonical
    encoding publishes, so the state decided here equals the state a verifier replays)."""
    if len(p) != len(names) or not all(n in p for n in names):
        return Rejection(Code.payload_malformed, f"fields {sorted(p)} != {sorted(names)}")
    out: list[str] = []
    for name in names:
        value = p[name]
        if not isinstance(value, str):
            return Rejection(Code.payload_malformed, f"{name} is not text")
        if not value.isascii() and not unicodedata.is_normalized("NFC", value):
            return Rejection(Code.payload_malformed, f"{name} is not in Unicode NFC")
        out.append(value)
    return tuple(out)


_Command = TypeVar("_Command", Genesis, RegisterActor, AddKey, RevokeKey, PublishDocument)


def _logged(kind: type[_Command], event: Event) -> _Command | Rejection:
    """The command ``event`` records: its payload is the command's fields, each text (NFC)."""
    fields = _strings(event.payload, field_names(kind))
    return fields if isinstance(fields, Rejection) else kind(*fields)


#: Command type → the event it implies: the command's fields, all text, are the payload.
_EVENT_OF: Final[dict[type[ActorsCommand], str]] = {
    Genesis: "log.genesis",
    RegisterActor: "actor.registered",
    AddKey: "actor.key_added",
    RevokeKey: "actor.key_revoked",
    PublishDocument: "document.published",
}
_COMMAND_OF: Final[dict[str, type[Any]]] = {event: kind for kind, event in _EVENT_OF.items()}
#: The rungs of each event type but genesis (the head of the ladder checks it).
_CHECKS: Final[dict[str, Callable[[ActorsState, Any, int], Rejection | None]]] = {
    "actor.registered": _check_registered,
    "actor.key_added": _check_key_added,
    "actor.key_revoked": _check_key_revoked,
    "document.published": _check_document,
}


def _register(state: ActorsState, name: str, role: str, key: str) -> None:
    actor = Actor(name, role)
    state.actors[name] = actor
    _add_key(state, actor, key)


def _add_key(state: ActorsState, actor: Actor, key: str) -> None:
    parsed = parse_verifier_key(key)
    assert parsed is not None, "checked before evolve"
    ident = parsed[1].hex()
    actor.keys[ident] = key
    state.key_owner[ident] = actor.name
    state.public_key_holder.setdefault(parsed[2], actor.name)


#: Event types of this domain: versions, and the roles that may sign each.
ACTORS_EVENT_TYPES: Final[dict[str, EventType]] = {
    "log.genesis": EventType(frozenset({1}), frozenset({"admin"})),
    # v2 (decided since issue 9) also refuses a public key that any actor holds (``key_in_use``);
    # v1 stays replayable, with its old rule, so logs exported before still verify.
    "actor.registered": EventType(frozenset({1, 2}), frozenset({"admin", "gateway"})),
    "actor.key_added": EventType(frozenset({1, 2}), frozenset({"admin", "self"})),
    "actor.key_revoked": EventType(frozenset({1}), frozenset({"admin", "self"})),
    "document.published": EventType(frozenset({1}), frozenset({"admin"})),
}


def decide_actors(
    state: ActorsState, world: World, command: ActorsCommand, time: str
) -> _Decided | Rejection:
    """The one event ``command`` implies, its fields the payload (its rungs run in
    ``check_actors``)."""
    return _Decided([(_EVENT_OF[type(command)], fields_payload(command))])


@dataclass(frozen=True, slots=True)
class _Decided:
    events: list[tuple[str, dict[str, JsonValue]]]
    results: tuple[()] = ()


def check_actors(state: ActorsState, world: World, event: Event) -> Rejection | None:
    """This domain's rungs (genesis is checked by the head of the ladder)."""
    if event.type == "log.genesis":
        return None
    command = _logged(_COMMAND_OF[event.type], event)
    if isinstance(command, Rejection):
        return command
    return _CHECKS[event.type](state, command, event.version)


def evolve_actors(state: ActorsState, world: World, event: Event) -> None:
    p = event.payload
    match event.type:
        case "log.genesis":
            state.changed.add(f"actor/{p['admin']}")
            state.origin = str(p["origin"])
            state.log_key = str(p["log_key"])
            log_key = parse_verifier_key(state.log_key)
            assert log_key is not None, "checked before evolve"
            state.public_key_holder[log_key[2]] = ""
            _register(state, str(p["admin"]), "admin", str(p["admin_key"]))
        case "actor.registered":
            state.changed.add(f"actor/{p['name']}")
            _register(state, str(p["name"]), str(p["role"]), str(p["key"]))
        case "actor.key_added":
            state.changed.add(f"actor/{p['name']}")
            _add_key(state, state.actors[str(p["name"])], str(p["key"]))
        case "actor.key_revoked":
            state.changed.add(f"actor/{p['name']}")
            state.actors[str(p["name"])].revoked.add(str(p["key_id"]))
        case "document.published":
            doc_id = str(p["document_id"])
            state.changed.add(f"document/{doc_id}")
            state.documents[doc_id] = Document(
                doc_id, str(p["title"]), str(p["sha256"]), str(p["media_type"]),
                event.time, event.actor,
            )  # fmt: skip
        case _:  # pragma: no cover - the machine routes only this domain's types here
            raise AssertionError(f"evolve_actors: unhandled event type {event.type}")


def assert_actors_invariants(state: ActorsState, world: World, full: bool) -> None:
    """Every actor has a live key; key ids have one owner each; the indexes agree."""
    owners: dict[str, str] = {}
    for name, actor in state.actors.items():
        assert actor.live_keys(), f"actor {name!r} has no live key"
        for ident in actor.keys:
            assert owners.setdefault(ident, name) == name, f"key {ident} has two owners"
    assert owners == state.key_owner, "key_owner index out of step with actors"
    # Every entry of the public-key index comes from a key given to an actor, or the log's key.
    assert len(state.public_key_holder) <= len(state.key_owner) + 1, "public_key_holder grew"


DOMAIN: Final[Domain[ActorsState]] = Domain(
    name="actors",
    state=lambda root: root.registry,
    commands=_EVENT_OF,
    event_types=ACTORS_EVENT_TYPES,
    entity_kinds=frozenset({"actor", "document"}),
    refused=Code.payload_malformed,  # unused: this domain's refusals are shell codes already
    decide=decide_actors,
    check=check_actors,
    evolve=evolve_actors,
    assert_invariants=assert_actors_invariants,
    written_versions={"actor.registered": KEY_RULE_VERSION, "actor.key_added": KEY_RULE_VERSION},
    kinds=KINDS,
)
