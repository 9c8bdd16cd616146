"""The state machine of the log: every sub-domain joined at one seam, routed by table.

Theory of operation
-------------------
``decide(state, command, actor, key_id, now)`` turns a command into the events it implies, or a
``Rejection``; ``check(state, event)`` is the validation ladder an event must pass against the
state before it (the same ladder runs when the operator appends and when a verifier replays the
public log); ``evolve(state, event)`` applies a checked event. ``evolve`` updates ``state`` in
place and returns it: a state belongs to one owner (the log service, or the verifier's replay).

Each sub-domain is a ``reclaim.core.domain.Domain`` in ``DOMAINS``; the machine finds the one
that owns a command type, an event type or an entity kind in tables built from ``DOMAINS`` alone
(``EVENT_TYPES`` too), never by ``isinstance`` chains::

    command ──► probe: head of the ladder ──► guards ──► domain.decide ──► events
                (version, time, genesis,                    │
                 authority, creditor)                       ▼
    event   ──► head of the ladder ──► guards ──► domain.check ──► domain.evolve

The head of the ladder is the same for every event: the event type's version, time never going
backwards, genesis first, and the signer's authority (a registered, unrevoked key of an actor
whose role may sign the type; "self" for the actor the payload names). A domain with
``names_creditor`` also needs its payload's ``creditor`` to be a registered creditor actor. A
command is first *probed* — the head runs on the event its type is authorised as — so who may
ask comes before what is asked; then each event it implies climbs the head again, so a command
never yields an event its signer may not sign. The actors domain decides its events without
probing and checks each fully (its rungs are the checks).

A sub-domain's refusal reaches the caller as ``Rejection(domain.refused, text, reason=<its own
code>, position=<item>)``: the code stays an enum member all the way to the API
(``reclaim.app.refusals``).

Invariants (``assert_invariants``): each domain's cheap ones at every checkpoint, every
recomputation from scratch with ``full=True`` (the verifier); event times never go backwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Generic, TypeVar

from reclaim.core import actors as actors_domain
from reclaim.core.actors import (
    GATEWAY_REGISTERS,
    KEY_RULE_VERSION,
    ROLES,
    Actor,
    ActorsState,
    AddKey,
    Document,
    Genesis,
    PublishDocument,
    RegisterActor,
    RevokeKey,
    check_genesis,
)
from reclaim.core.claims import ClaimsCommand, ClaimsState
from reclaim.core.claims import Result as ClaimsResult
from reclaim.core.claims import domain as claims_domain
from reclaim.core.distribution import domain as distribution_domain
from reclaim.core.distribution.commands import DistributionCommand
from reclaim.core.distribution.state import DistributionState
from reclaim.core.domain import LOG_ENTITY, Domain, Entities, EventType, SubRejection
from reclaim.core.events import Event, format_time
from reclaim.core.ledger import LedgerCommand, LedgerState, Result
from reclaim.core.ledger import domain as ledger_domain
from reclaim.core.market import domain as market_domain
from reclaim.core.market.machine import MarketState
from reclaim.core.notes import domain as notes_domain
from reclaim.core.notes.machine import NotesState
from reclaim.core.rejections import Code, Rejection
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals import Result as WithdrawalResult
from reclaim.core.withdrawals import WithdrawalsCommand, WithdrawalsState
from reclaim.core.withdrawals import domain as withdrawals_domain

__all__ = [
    "DOMAINS",
    "EVENT_TYPES",
    "GATEWAY_REGISTERS",
    "KEY_RULE_VERSION",
    "ROLES",
    "Actor",
    "AddKey",
    "Command",
    "Decided",
    "Document",
    "Genesis",
    "ItemResult",
    "PublishDocument",
    "RegisterActor",
    "RevokeKey",
    "State",
    "assert_invariants",
    "check",
    "decide",
    "evolve",
]

#: Every sub-domain, in the order of the state's entities (the state digest reads that order).
DOMAINS: Final[tuple[Domain[Any], ...]] = (
    actors_domain.DOMAIN,
    ledger_domain.DOMAIN,
    claims_domain.DOMAIN,
    distribution_domain.DOMAIN,
    withdrawals_domain.DOMAIN,
    market_domain.DOMAIN,
    notes_domain.DOMAIN,
)


def _tables() -> tuple[
    dict[type, Domain[Any]], dict[str, Domain[Any]], dict[str, Domain[Any]], dict[str, EventType]
]:
    by_command: dict[type, Domain[Any]] = {}
    by_event: dict[str, Domain[Any]] = {}
    by_kind: dict[str, Domain[Any]] = {}
    event_types: dict[str, EventType] = {}
    for domain in DOMAINS:
        for command in domain.commands:
            assert command not in by_command, f"{command.__name__} in two domains"
            by_command[command] = domain
        for name, entry in domain.event_types.items():
            assert name not in by_event, f"event type {name} in two domains"
            by_event[name], event_types[name] = domain, entry
        for kind in domain.entity_kinds:
            assert kind not in by_kind, f"entity kind {kind} in two domains"
            assert kind != LOG_ENTITY, "the log entity is the machine's own"
            by_kind[kind] = domain
        authorised = set(domain.commands.values()) - set(domain.event_types)
        assert not authorised, f"{domain.name}: commands authorised as foreign types {authorised}"
    return by_command, by_event, by_kind, event_types


_BY_COMMAND, _BY_EVENT, _BY_KIND, _EVENT_TYPES = _tables()
#: Event types the core knows, with the schema versions it can replay, and the roles that may
#: authorise each — built from ``DOMAINS`` alone.
EVENT_TYPES: Final[Mapping[str, EventType]] = _EVENT_TYPES
_GUARDS: Final = tuple(d.guard for d in DOMAINS)


T = TypeVar("T")


class _Registry(Generic[T]):
    """A field of the actors domain's state read on the root state, read-only:
    ``state.actors`` is ``state.registry.actors``."""

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, state: State, owner: type | None = None) -> T:
        value: T = getattr(state.registry, self.name)
        return value


@dataclass(slots=True)
class State(Entities):
    """The root state: the log's own counters and every sub-domain's state."""

    events: int = 0
    last_time: str = ""
    registry: ActorsState = field(default_factory=ActorsState)
    ledger: LedgerState = field(default_factory=LedgerState)
    claims: ClaimsState = field(default_factory=ClaimsState)
    distribution: DistributionState = field(default_factory=DistributionState)
    withdrawals: WithdrawalsState = field(default_factory=WithdrawalsState)
    market: MarketState = field(default_factory=MarketState)
    notes: NotesState = field(default_factory=NotesState)
    #: ``log`` once an event changed the log's counters since the last ``drain_changed``.
    changed: set[str] = field(default_factory=set)

    # The actors domain's fields, read where the state is (the key index, the API).
    origin = _Registry[str]()
    log_key = _Registry[str]()
    actors = _Registry[dict[str, Actor]]()
    key_owner = _Registry[dict[str, str]]()
    public_key_holder = _Registry[dict[bytes, str]]()
    documents = _Registry[dict[str, Document]]()

    def role_of(self, name: str) -> str | None:
        actor = self.registry.actors.get(name)
        return None if actor is None else actor.role

    def holding_entities(self) -> frozenset[str]:
        """The programme's holding entities: holders of claims that pass no KYC."""
        return frozenset(n for n, a in self.registry.actors.items() if a.role == "holding_entity")

    def drain_changed(self) -> list[str]:
        """The keys of the entities ``evolve`` changed since the last call, sorted."""
        keys = set(self.changed)
        self.changed.clear()
        for domain in DOMAINS:
            sub = domain.state(self)
            keys |= sub.changed
            sub.changed.clear()
        return sorted(keys)

    def entity_keys(self) -> list[str]:
        """Every entity of the state: ``log``, then each domain's, in ``DOMAINS`` order."""
        keys = [LOG_ENTITY]
        for domain in DOMAINS:
            keys += domain.state(self).entity_keys()
        return keys

    def entity(self, key: str) -> JsonValue:
        """The canonical-JSON-ready value of one entity, or ``None`` if it does not exist."""
        kind = key.partition("/")[0]
        domain = _BY_KIND.get(kind)
        if domain is not None:
            value: JsonValue = domain.state(self).entity(key)
            return value
        if kind == LOG_ENTITY:
            return {
                "origin": self.registry.origin,
                "log_key": self.registry.log_key,
                "events": str(self.events),
                "last_time": self.last_time,
            }
        return None


Command = (
    Genesis
    | RegisterActor
    | AddKey
    | RevokeKey
    | PublishDocument
    | LedgerCommand
    | ClaimsCommand
    | DistributionCommand
    | WithdrawalsCommand
)
#: The answer for one item of a batch command (a transfer, an account, a policy entry, ...).
ItemResult = Result | ClaimsResult | WithdrawalResult


@dataclass(frozen=True, slots=True)
class Decided:
    """What an accepted command implies: its events (possibly none, e.g. a retried transfer)
    and, for batch commands, one result per item (``reclaim.core.ledger.Result``)."""

    events: list[Event]
    results: tuple[ItemResult, ...] = ()


def decide(
    state: State, command: Command, actor: str, key_id: str, now: datetime
) -> Decided | Rejection:
    """The events ``command`` implies when ``actor`` authorises it with ``key_id`` at ``now``.

    Does not change ``state``: the caller ``evolve``s each event in order.
    """
    time = format_time(now)
    domain = _BY_COMMAND.get(type(command))
    if domain is None:
        raise TypeError(f"no domain decides {type(command).__name__}")
    sub = domain.state(state)
    if domain is actors_domain.DOMAIN:  # its rungs are its checks: decide, then check fully
        decision = domain.decide(sub, state, command, time)
        events = _events(domain, decision.events, time, actor, key_id)  # type: ignore[union-attr]
        for event in events:
            rejection = check(state, event)
            if rejection is not None:
                return rejection
        return Decided(events)
    creditor = getattr(command, "creditor", None)
    probe_payload: dict[str, JsonValue] = {} if creditor is None else {"creditor": creditor}
    probe = Event(domain.commands[type(command)], 1, time, actor, key_id, probe_payload)
    rejection = _check_head(state, probe) or _check_creditor(state, domain, probe)
    if rejection is not None:
        return rejection
    rejection = _guarded(command)
    if rejection is not None:
        return rejection
    outcome = domain.decide(sub, state, command, time)
    if not hasattr(outcome, "events"):
        return _refused(domain, outcome)
    events = _events(domain, outcome.events, time, actor, key_id)
    for event in events:
        rejection = _check_head(state, event) or _check_creditor(state, domain, event)
        if rejection is not None:
            return rejection
    return Decided(events, outcome.results)  # type: ignore[union-attr]


def _events(
    domain: Domain[Any], events: list[tuple[str, dict[str, JsonValue]]], time: str, actor: str,
    key_id: str,
) -> list[Event]:  # fmt: skip
    versions = domain.written_versions
    return [Event(t, versions.get(t, 1), time, actor, key_id, p) for t, p in events]


def _refused(domain: Domain[Any], sub: SubRejection) -> Rejection:
    """A sub-domain's refusal under its shell code, its own code kept as the ``reason``."""
    if isinstance(sub, Rejection):
        return sub
    return Rejection(domain.refused, str(sub), sub.code, sub.position, sub.detail)


def _guarded(item: object) -> Rejection | None:
    for guard, domain in zip(_GUARDS, DOMAINS, strict=True):
        vetoed = guard(item)
        if vetoed is not None:
            return _refused(domain, vetoed)
    return None


# The validation ladder -----------------------------------------------------------------------


def check(state: State, event: Event) -> Rejection | None:
    """The first reason ``event`` may not follow ``state``, or ``None``."""
    rejection = _check_head(state, event)
    if rejection is not None:
        return rejection
    domain = _BY_EVENT[event.type]  # the head refused unknown types
    rejection = _check_creditor(state, domain, event) or _guarded(event)
    if rejection is not None:
        return rejection
    refused = domain.check(domain.state(state), state, event)
    return None if refused is None else _refused(domain, refused)


def _check_head(state: State, event: Event) -> Rejection | None:
    """The rungs every event climbs first: type and version, time, genesis, authority."""
    entry = EVENT_TYPES.get(event.type)
    if entry is None:
        return Rejection(Code.event_type_unknown, repr(event.type))
    versions, roles = entry
    if event.version not in versions:
        return Rejection(Code.event_version_unknown, f"{event.type} v{event.version}")
    if state.last_time and event.time < state.last_time:
        return Rejection(Code.event_time_regressed, f"{event.time} < {state.last_time}")
    if event.type == "log.genesis":
        return check_genesis(state.registry, event)
    if not state.registry.origin:
        return Rejection(Code.genesis_missing, "the first event must be log.genesis")
    return _check_authority(state, event, roles)


def _check_authority(state: State, event: Event, roles: frozenset[str]) -> Rejection | None:
    actor = state.registry.actors.get(event.actor)
    if actor is None:
        return Rejection(Code.actor_unknown, f"no actor named {event.actor!r}")
    if event.key_id not in actor.keys:
        return Rejection(
            Code.actor_key_unknown, f"key {event.key_id} is not a key of {event.actor!r}"
        )
    if event.key_id in actor.revoked:
        return Rejection(Code.actor_key_revoked, f"key {event.key_id} of {event.actor!r}")
    subject = event.payload.get("creditor", event.payload.get("name"))
    is_self = "self" in roles and subject == event.actor
    if actor.role not in roles and not is_self:
        return Rejection(
            Code.actor_not_authorised, f"{actor.role} {event.actor!r} may not sign {event.type}"
        )
    if event.type == "actor.registered" and actor.role == "gateway":
        role = event.payload.get("role")
        if role not in GATEWAY_REGISTERS:
            return Rejection(Code.actor_not_authorised, f"the gateway may not register {role}")
    return None


def _check_creditor(state: State, domain: Domain[Any], event: Event) -> Rejection | None:
    """An event of a ``names_creditor`` domain that names a creditor names a creditor actor."""
    if not domain.names_creditor:
        return None
    creditor = event.payload.get("creditor")
    if creditor is None:
        return None
    actor = state.registry.actors.get(str(creditor))
    if actor is None or actor.role != "creditor":
        return Rejection(Code.actor_unknown, f"no creditor actor named {creditor!r}")
    return None


# Evolution -----------------------------------------------------------------------------------


def evolve(state: State, event: Event) -> State:
    """Apply a checked event to ``state`` (in place) and return it."""
    domain = _BY_EVENT.get(event.type)
    if domain is None:  # pragma: no cover - check() refuses unknown types first
        raise AssertionError(f"evolve: unhandled event type {event.type}")
    domain.evolve(domain.state(state), state, event)
    state.events += 1
    state.last_time = event.time
    state.changed.add(LOG_ENTITY)
    return state


def assert_invariants(state: State, *, full: bool = False) -> None:
    """Every domain's invariants: the cheap ones (O(actors + assets + withdrawals)) at every
    checkpoint; with ``full``, every recomputation from scratch (O(transfers + claims)), as the
    verifier runs them after a replay."""
    for domain in DOMAINS:
        domain.assert_invariants(domain.state(state), state, full)
