"""Run commands through the core the way the log does, for the scenario and property tests.

The log service's loop, without a store: ``decide`` (which must change nothing), then for each
event it returns a round trip through the canonical encoding, ``check`` (which must accept it)
and ``evolve``; then the invariants. A replay runs ``check`` and ``evolve`` over logged events
into a fresh state, as the verifier does. Two forms of the same loop:

- the whole core (``run_command``, ``replay``, and ``CoreHarness``: a ``State`` on a clock
  stepped one second per command, each command signed by its actor's key from
  ``factories.key_for``);
- one sub-domain's own three functions on its own state (``run_subcore``, ``replay_subcore``,
  with ``CLAIMS`` and ``LEDGER``).

With ``track_changes`` the loop also asserts that each event's ``evolve`` names, in the state's
``changed`` set, every entity it touched (the incremental state digest relies on it).

This is the one module of the tests that imports the core's entry points (``decide``, ``check``,
``evolve`` and the ``State`` they run on): when they move, only its import changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Generic, Protocol, TypeVar

from reclaim.core.claims import ClaimsRejection, check_claims, decide_claims, evolve_claims
from reclaim.core.events import Event
from reclaim.core.ledger import LedgerRejection, check_ledger, decide_ledger, evolve_ledger
from reclaim.core.machine import Command, Decided, State, assert_invariants, check, decide, evolve
from reclaim.core.rejections import Rejection
from reclaim.core.types import JsonValue
from reclaim.log import canonical
from tests.support.factories import key_for

__all__ = [
    "CLAIMS",
    "LEDGER",
    "STEP",
    "Command",
    "CoreHarness",
    "Decided",
    "Event",
    "Rejection",
    "State",
    "SubCore",
    "assert_invariants",
    "check",
    "decide",
    "evolve",
    "key_id",
    "replay",
    "replay_subcore",
    "run_command",
    "run_subcore",
]

#: How far the clock of a ``CoreHarness`` moves for each command.
STEP: Final = timedelta(seconds=1)


def key_id(actor: str) -> str:
    """The key id ``actor`` signs with (its key from ``factories.key_for``)."""
    return key_for(actor).key_id.hex()


class _Tracked(Protocol):
    def snapshot(self) -> Mapping[str, object]: ...
    def drain_changed(self) -> Iterable[str]: ...


def _assert_names_what_it_moved(before: Mapping[str, object], after: Mapping[str, object],
                                changed: Iterable[str]) -> None:  # fmt: skip
    moved = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert moved <= set(changed), "changed misses an entity"


def _decoded(payload: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """``payload`` read back from its canonical encoding."""
    decoded = canonical.decode(canonical.encode(dict(payload)))
    assert isinstance(decoded, dict)
    return decoded


# The whole core -----------------------------------------------------------------------------------


def run_command(
    state: State, command: Command, actor: str, now: datetime, *, track_changes: bool = False
) -> Decided | Rejection:
    """Decide ``command`` signed by ``actor`` at ``now``, then check and apply each event exactly
    as the log service (and a replay) would; assert the invariants after. Asserts decide changed
    nothing, and each event's encoding round-trips."""
    before = state.snapshot()
    decided = decide(state, command, actor, key_id(actor), now)
    assert state.snapshot() == before, "decide must not change the state"
    if isinstance(decided, Rejection):
        return decided
    for event in decided.events:
        assert _decoded(event.payload) == event.payload
        assert check(state, event) is None, check(state, event)
        if track_changes:
            state.drain_changed()
            before = state.snapshot()
        evolve(state, event)
        if track_changes:
            _assert_names_what_it_moved(before, state.snapshot(), state.drain_changed())
    assert_invariants(state)
    return decided


def replay(events: Iterable[Event], *, round_trip: bool = False, invariants: bool = True) -> State:
    """A fresh state replayed from ``events`` through ``check`` and ``evolve`` (a verifier);
    with ``round_trip``, each payload is first decoded from its canonical encoding; with
    ``invariants``, the replayed state's are asserted."""
    state = State()
    for logged in events:
        event = logged
        if round_trip:
            event = Event(logged.type, logged.version, logged.time, logged.actor, logged.key_id,
                          _decoded(logged.payload))  # fmt: skip
        assert check(state, event) is None, (event.type, check(state, event))
        evolve(state, event)
    if invariants:
        assert_invariants(state)
    return state


class CoreHarness:
    """A ``State`` driven through the core, on a clock stepped ``STEP`` per command.

    ``accepted`` is called after each accepted command, with its decision: a world records the
    events its tests read. ``track_changes`` as for ``run_command``.
    """

    track_changes: bool = False

    def __init__(self, now: datetime) -> None:
        self.state = State()
        self.now = now

    def run(
        self, command: Command, actor: str, *, at: datetime | None = None
    ) -> Decided | Rejection:
        """Run ``command`` signed by ``actor`` one step later (or ``at``)."""
        self.now = at if at is not None else self.now + STEP
        decided = run_command(self.state, command, actor, self.now,
                              track_changes=self.track_changes)  # fmt: skip
        if isinstance(decided, Decided):
            self.accepted(command, actor, decided)
        return decided

    def accepted(self, command: Command, actor: str, decided: Decided) -> None:
        """What a world keeps of an accepted command (nothing here)."""

    def ok(self, command: Command, actor: str, *, at: datetime | None = None) -> Decided:
        """``run``, asserting that the command is accepted."""
        decided = self.run(command, actor, at=at)
        assert isinstance(decided, Decided), f"{command}: {decided}"
        return decided


# One sub-domain -----------------------------------------------------------------------------------

S = TypeVar("S", bound=_Tracked)
#: What a sub-domain's log keeps of each event: (type, payload, time).
Logged = tuple[str, dict[str, Any], str]


@dataclass(frozen=True)
class SubCore(Generic[S]):
    """A sub-domain's ``decide``, ``check`` and ``evolve`` on its own state, and its refusal."""

    decide: Callable[[S, Any, datetime], Any]
    check: Callable[[S, str, Mapping[str, JsonValue], str], object | None]
    evolve: Callable[[S, str, Mapping[str, JsonValue], str], object]
    rejection: type


CLAIMS: Final = SubCore(decide_claims, check_claims, evolve_claims, ClaimsRejection)
LEDGER: Final = SubCore(decide_ledger, check_ledger, evolve_ledger, LedgerRejection)


def run_subcore(
    core: SubCore[S],
    state: S,
    command: object,
    now: datetime,
    time: str,
    log: list[Logged],
    *,
    track_changes: bool = True,
) -> Any:
    """``core.decide`` of ``command`` at ``now`` (event time ``time``), then each event checked
    and applied, and appended to ``log``; the decision (or the refusal, with nothing applied).
    Asserts decide changed nothing, and each event's encoding round-trips."""
    before = state.snapshot()
    decision = core.decide(state, command, now)
    assert state.snapshot() == before, "decide must not change the state"
    if isinstance(decision, core.rejection):
        return decision
    for event_type, payload in decision.events:
        decoded = _decoded(payload)
        assert decoded == payload
        assert core.check(state, event_type, decoded, time) is None
        if track_changes:
            state.drain_changed()
        core.evolve(state, event_type, decoded, time)
        if track_changes:
            after = state.snapshot()
            _assert_names_what_it_moved(before, after, state.drain_changed())
            before = after
        log.append((event_type, payload, time))
    return decision


def replay_subcore(core: SubCore[S], state: S, log: Iterable[Logged]) -> S:
    """``log`` replayed into ``state`` (a fresh one) through ``core.check`` and ``core.evolve``,
    each payload decoded from its canonical encoding; returns ``state``."""
    for event_type, payload, time in log:
        decoded = _decoded(payload)
        assert core.check(state, event_type, decoded, time) is None
        core.evolve(state, event_type, decoded, time)
    return state
