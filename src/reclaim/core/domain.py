"""The seam where the core's sub-domains join: one ``Domain`` record per sub-domain.

Each sub-domain (actors and keys, the ledger, claims, distribution, withdrawals, ...) exports one
``Domain`` — its commands, its event types, its entity kinds and five functions with one argument
order — and ``reclaim.core.machine`` routes every command and event by those tables. Adding a
sub-domain is its package, its ``DOMAIN`` and one line in ``machine.DOMAINS``
(ARCHITECTURE.md, "Adding a sub-domain").

The five functions, for a sub-state ``S``::

    decide(sub: S, world: World, command, time: str) -> Decision | SubRejection
    check(sub: S, world: World, event: Event) -> SubRejection | None
    evolve(sub: S, world: World, event: Event) -> None
    assert_invariants(sub: S, world: World, full: bool) -> None
    state(root) -> S                    # which field of the root state is this sub-state

``world`` is the root state seen through ``World``: ``decide`` and ``check`` only read it;
``evolve`` may post to ``world.ledger`` (the one shared book every sub-domain's money moves on,
as a bank's core posts every product's entries to one general ledger), and to nothing else.
``time`` is the event time as RFC 3339 text (``reclaim.core.times``).

The machine runs the same head of the ladder (version, time, genesis, authority) on every event
before the sub-domain's own rungs, so the authority rule is written once; ``guard`` lets a
sub-domain veto another's command or event (withdrawals: a plain ledger transfer may not touch
a withdrawal's reserved transfer ids).

Imported by every sub-domain's ``domain`` module and by ``reclaim.core.machine``; imports nothing
of them at run time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Generic, NamedTuple, Protocol, TypeVar

from reclaim.core.events import Event
from reclaim.core.kinds import Kind
from reclaim.core.rejections import Code
from reclaim.core.types import JsonValue

if TYPE_CHECKING:
    from reclaim.core.claims import ClaimsState
    from reclaim.core.distribution.state import DistributionState
    from reclaim.core.ledger import LedgerState
    from reclaim.core.market.machine import MarketState
    from reclaim.core.notes.machine import NotesState
    from reclaim.core.withdrawals import WithdrawalsState

__all__ = [
    "CodedRejection",
    "Decision",
    "Domain",
    "Entities",
    "EventType",
    "Payload",
    "SubRejection",
    "World",
    "entity_fields",
    "keys_of",
    "on_event_fields",
    "world_blind",
]

Payload = dict[str, JsonValue]


class EventType(NamedTuple):
    """An event type: the schema versions the core replays, and the roles that may sign it
    ("self": the actor the payload names, as ``creditor`` or ``name``, signs for itself)."""

    versions: frozenset[int]
    roles: frozenset[str]


class World(Protocol):
    """What a sub-domain may read of the others (the root state, read-only but for the ledger
    in ``evolve``)."""

    @property
    def ledger(self) -> LedgerState: ...
    @property
    def claims(self) -> ClaimsState: ...
    @property
    def distribution(self) -> DistributionState: ...
    @property
    def withdrawals(self) -> WithdrawalsState: ...
    @property
    def market(self) -> MarketState: ...
    @property
    def notes(self) -> NotesState: ...
    @property
    def events(self) -> int:
        """Events applied so far: the log position of the event being decided, checked or
        evolved (the market numbers its orders by it)."""
        ...

    def role_of(self, name: str) -> str | None: ...
    def holding_entities(self) -> frozenset[str]: ...


class SubRejection(Protocol):
    """A sub-domain's refusal: its own ordered code (an enum member), the item it concerns
    (``None``: the whole command), and a sentence."""

    @property
    def code(self) -> enum.Enum: ...
    @property
    def position(self) -> int | None: ...
    @property
    def detail(self) -> str: ...


E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True, slots=True)
class CodedRejection(Generic[E]):
    """The ``SubRejection`` record a sub-domain subclasses with its code union (the subclass
    keeps its own name, for ``isinstance`` and ``repr``); ``str`` reads
    ``<code>[ (item <position>)]: <detail>``."""

    code: E
    position: int | None
    detail: str

    def __str__(self) -> str:
        where = "" if self.position is None else f" (item {self.position})"
        return f"{self.code.name}{where}: {self.detail}"


class Entities:
    """The digest's view of a state (``reclaim.log.digest``), as every sub-state and the root
    give it: ``changed`` holds the keys of the entities ``evolve`` touched; ``entity_keys`` (every
    entity, in a fixed order) and ``entity`` (one entity's canonical-JSON-ready value, ``None``
    if it does not exist) are the state's own."""

    __slots__ = ()
    changed: set[str]

    def entity_keys(self) -> list[str]:
        raise NotImplementedError

    def entity(self, key: str) -> JsonValue:
        raise NotImplementedError

    def drain_changed(self) -> list[str]:
        """The keys of the entities changed since the last call, sorted."""
        keys = sorted(self.changed)
        self.changed.clear()
        return keys

    def snapshot(self) -> dict[str, JsonValue]:
        """The whole state as canonical-JSON-ready data: every entity by its key."""
        return {key: self.entity(key) for key in self.entity_keys()}


def keys_of(*tables: tuple[str, Iterable[Any]]) -> list[str]:
    """``<kind>/<id>`` of every id of each ``(kind, ids)``, kinds in the order given, each
    kind's ids sorted (the ``entity_keys`` of a state)."""
    return [f"{kind}/{ident}" for kind, ids in tables for ident in sorted(ids)]


def entity_fields(record: object, *names: str) -> dict[str, JsonValue]:
    """The attributes ``names`` of ``record``, each under its name, canonical-JSON-ready (an
    entity's value, or part of one): an integer as decimal text, an enum member as its value;
    text, booleans and ``None`` as they are."""
    return {name: _json_ready(getattr(record, name)) for name in names}


def _json_ready(value: object) -> JsonValue:
    if type(value) is int:
        return str(value)
    if isinstance(value, enum.Enum):
        value = value.value
    assert value is None or isinstance(value, str | bool), f"{value!r} is no entity field"
    return value


class Decision(Protocol):
    """What a sub-domain decided: events to append (type, payload) and, for batch commands,
    one result per item."""

    @property
    def events(self) -> list[tuple[str, Payload]]: ...
    @property
    def results(self) -> tuple[Any, ...]: ...


S = TypeVar("S")


def _no_invariants(sub: object, world: World, full: bool) -> None:
    return None


def _no_guard(item: object) -> SubRejection | None:
    return None


Cmd = TypeVar("Cmd")
Out = TypeVar("Out")


def world_blind(decide: Callable[[S, Cmd, str], Out]) -> Callable[[S, World, Cmd, str], Out]:
    """``decide(sub, command, time)`` of a sub-domain that reads nothing of the others, in the
    seam's order."""

    def seam(sub: S, world: World, command: Cmd, time: str) -> Out:
        return decide(sub, command, time)

    return seam


def on_event_fields(
    apply: Callable[[S, str, Mapping[str, JsonValue], str], Out],
) -> Callable[[S, World, Event], Out]:
    """``apply(sub, event type, payload, time)`` — a ``check`` or ``evolve`` that reads nothing
    of the others — in the seam's order."""

    def seam(sub: S, world: World, event: Event) -> Out:
        return apply(sub, event.type, event.payload, event.time)

    return seam


@dataclass(frozen=True, slots=True)
class Domain(Generic[S]):
    """One sub-domain, as the machine routes to it (module docstring)."""

    name: str
    #: The sub-state of the root state this domain owns.
    state: Callable[[Any], S]
    #: Command type → the event type its signer is authorised as (the probe of the ladder).
    commands: Mapping[type, str]
    #: Event type → its versions and signing roles.
    event_types: Mapping[str, EventType]
    #: Entity kinds (``<kind>/<id>`` keys) of the sub-state, for the state digest.
    entity_kinds: frozenset[str]
    #: The shell code a refusal of this domain is reported under (its own code is the reason).
    refused: Code
    decide: Callable[[S, World, Any, str], Decision | SubRejection]
    check: Callable[[S, World, Event], SubRejection | None]
    evolve: Callable[[S, World, Event], None]
    #: The cheap invariants (every checkpoint); with ``full``, every recomputation from scratch.
    assert_invariants: Callable[[S, World, bool], None] = _no_invariants
    #: The version ``decide`` writes of each event type (1 when absent).
    written_versions: Mapping[str, int] = field(default_factory=dict)
    #: A payload's ``creditor`` must name a registered creditor actor.
    names_creditor: bool = False
    #: Veto over any command or event, run after the head of the ladder (``None``: no veto).
    guard: Callable[[object], SubRejection | None] = _no_guard
    #: The kind of every refusal code of this domain (its ``codes.KINDS``), for the edges.
    kinds: Mapping[Any, Kind] = field(default_factory=dict)


#: The entity kind of the log's own entity.
LOG_ENTITY: Final = "log"
