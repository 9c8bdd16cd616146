"""The state machine of the log's foundation: who may sign, and what has been published.

Theory of operation
-------------------
``decide(state, command, now)`` turns a command into the events it implies, or a ``Rejection``;
``check(state, event)`` is the validation ladder an event must pass against the state before it
(the same ladder runs when the operator appends and when a verifier replays the public log);
``evolve(state, event)`` applies a checked event. ``evolve`` updates ``state`` in place and
returns it: a state belongs to one owner (the log service, or the verifier's replay).

The first event of every log is ``log.genesis``, signed by the first admin with its own key: it
names the log's origin, the log signer's key and the admin. Every later event must be signed by
a registered, unrevoked key of an actor whose role may authorise that event type
(``EVENT_TYPES``); "self" lets an actor manage its own keys.

Actors and their roles (table):

| role        | may authorise                                    |
| ----------- | ------------------------------------------------ |
| admin       | genesis, actors, keys of anyone, documents       |
| gateway     | registering creditor and trader actors           |
| any actor   | adding and revoking its own keys ("self")        |

Invariants (asserted by ``assert_invariants``): every actor has at least one live key; key ids
are unique across actors; event times never go backwards.

One key, one actor (issue 9, key squatting): ``actor.registered`` and ``actor.key_added`` of
version 2 — the version ``decide`` writes — refuse a public key that any actor was ever given, or
that is the log's own key (``key_in_use``): an API key is looked up by its public bytes alone
(``reclaim.app.key_index``), so a second holder would make the key name nobody and lock its owner
out. The key id cannot serve for this rule, because C2SP derives it from the key *and its name*.
Version 1 events, decided before the rule, replay under their old rule (key ids unique), so logs
exported before still verify; their shared keys still name nobody.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from reclaim.core.claims import (
    CLAIMS_EVENT_TYPES,
    CLAIMS_ROLES,
    ENTITY_KINDS,
    AmendClaims,
    ClaimsRejection,
    ClaimsState,
    CloseConflict,
    CreateEstate,
    DecideKyc,
    ImportClaims,
    LinkClaim,
    LinkOnReview,
    ProveEmail,
    SetPolicy,
    SubmitKyc,
    UnlinkClaim,
    check_claims,
    decide_claims,
    evolve_claims,
)
from reclaim.core.claims import Result as ClaimsResult
from reclaim.core.distribution.codes import DistributionRejection
from reclaim.core.distribution.commands import (
    EVENT_OF as DISTRIBUTION_EVENT_OF,
)
from reclaim.core.distribution.commands import (
    Context as DistributionContext,
)
from reclaim.core.distribution.commands import DistributionCommand
from reclaim.core.distribution.machine import (
    check_distribution,
    decide_distribution,
    evolve_distribution,
)
from reclaim.core.distribution.payloads import DISTRIBUTION_EVENT_TYPES
from reclaim.core.distribution.state import ENTITY_KINDS as DISTRIBUTION_ENTITY_KINDS
from reclaim.core.distribution.state import DistributionState
from reclaim.core.events import EVENT_TYPES, Event, format_time
from reclaim.core.keyids import parse_verifier_key
from reclaim.core.ledger import (
    CreateTransfers,
    ExpirePending,
    LedgerRejection,
    LedgerState,
    OpenAccounts,
    Result,
    check_ledger,
    decide_ledger,
    evolve_ledger,
)
from reclaim.core.rejections import Code, Rejection
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals import ENTITY_KINDS as WITHDRAWAL_ENTITY_KINDS
from reclaim.core.withdrawals import (
    WITHDRAWAL_EVENT_TYPES,
    WRITTEN_VERSIONS,
    AddDestination,
    ConfirmDestination,
    ConfirmWithdrawal,
    FailWithdrawal,
    RemoveDestination,
    RequestWithdrawal,
    SetFees,
    WithdrawalsCommand,
    WithdrawalsRejection,
    WithdrawalsState,
    assert_withdrawals_invariants,
    check_withdrawals,
    decide_withdrawals,
    evolve_withdrawals,
    reserved_transfer,
)
from reclaim.core.withdrawals import Result as WithdrawalResult

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
_NAME_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_SHA256_RE: Final = re.compile(r"[0-9a-f]{64}")
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
class State:
    origin: str = ""
    log_key: str = ""
    events: int = 0
    last_time: str = ""
    actors: dict[str, Actor] = field(default_factory=dict)
    key_owner: dict[str, str] = field(default_factory=dict)  # key id (hex) -> actor name
    #: Public key bytes -> the first actor given them ("" for the log's key): the index of the
    #: one-key-one-actor rule. Not an entity: derived from the actors, so not in the digest.
    public_key_holder: dict[bytes, str] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    ledger: LedgerState = field(default_factory=LedgerState)
    claims: ClaimsState = field(default_factory=ClaimsState)
    distribution: DistributionState = field(default_factory=DistributionState)
    withdrawals: WithdrawalsState = field(default_factory=WithdrawalsState)
    #: Keys of the entities ``evolve`` changed since the last ``drain_changed`` (for the
    #: incremental state digest); a set, drained in sorted order.
    changed: set[str] = field(default_factory=set)

    def drain_changed(self) -> list[str]:
        keys = sorted(
            self.changed | self.ledger.changed | self.claims.changed | self.distribution.changed
            | self.withdrawals.changed
        )  # fmt: skip
        self.withdrawals.changed.clear()
        self.changed.clear()
        self.ledger.changed.clear()
        self.claims.changed.clear()
        self.distribution.changed.clear()
        return keys

    def holding_entities(self) -> frozenset[str]:
        """The programme's holding entities: holders of claims that pass no KYC."""
        return frozenset(n for n, a in self.actors.items() if a.role == "holding_entity")

    def entity_keys(self) -> list[str]:
        """Every entity of the state: ``log``, ``actor/<name>``, ``document/<id>``."""
        return (
            ["log"]
            + [f"actor/{name}" for name in sorted(self.actors)]
            + [f"document/{doc_id}" for doc_id in sorted(self.documents)]
            + self.ledger.entity_keys()
            + self.claims.entity_keys()
            + self.distribution.entity_keys()
            + self.withdrawals.entity_keys()
        )

    def entity(self, key: str) -> JsonValue:
        """The canonical-JSON-ready value of one entity, or ``None`` if it does not exist."""
        kind, _, ident = key.partition("/")
        if kind in _LEDGER_ENTITIES:
            return self.ledger.entity(key)
        if kind in _CLAIMS_ENTITIES:
            return self.claims.entity(key)
        if kind in _DISTRIBUTION_ENTITIES:
            return self.distribution.entity(key)
        if kind in _WITHDRAWAL_ENTITIES:
            return self.withdrawals.entity(key)
        if kind == "log":
            return {
                "origin": self.origin,
                "log_key": self.log_key,
                "events": str(self.events),
                "last_time": self.last_time,
            }
        if kind == "actor" and ident in self.actors:
            a = self.actors[ident]
            keys: list[JsonValue] = [a.keys[k] for k in sorted(a.keys)]
            revoked: list[JsonValue] = list(sorted(a.revoked))
            return {"role": a.role, "keys": keys, "revoked": revoked}
        if kind == "document" and ident in self.documents:
            d = self.documents[ident]
            return {
                "title": d.title,
                "sha256": d.sha256,
                "media_type": d.media_type,
                "published_at": d.published_at,
                "published_by": d.published_by,
            }
        return None

    def snapshot(self) -> dict[str, JsonValue]:
        """The whole state as canonical-JSON-ready data: every entity by its key."""
        return {key: self.entity(key) for key in self.entity_keys()}


# Commands ------------------------------------------------------------------------------------


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


Command = (
    Genesis
    | RegisterActor
    | AddKey
    | RevokeKey
    | PublishDocument
    | OpenAccounts
    | CreateTransfers
    | ExpirePending
    | CreateEstate
    | ImportClaims
    | AmendClaims
    | SetPolicy
    | ProveEmail
    | SubmitKyc
    | DecideKyc
    | LinkClaim
    | LinkOnReview
    | UnlinkClaim
    | CloseConflict
    | DistributionCommand
    | SetFees
    | RequestWithdrawal
    | ConfirmWithdrawal
    | FailWithdrawal
    | AddDestination
    | ConfirmDestination
    | RemoveDestination
)
#: The answer for one item of a batch command (a transfer, an account, a policy entry, ...).
ItemResult = Result | ClaimsResult | WithdrawalResult
_LEDGER_ENTITIES: Final = frozenset({"account", "transfer"})
_CLAIMS_ENTITIES: Final = frozenset(ENTITY_KINDS)
_DISTRIBUTION_ENTITIES: Final = frozenset(DISTRIBUTION_ENTITY_KINDS)
_WITHDRAWAL_ENTITIES: Final = frozenset(WITHDRAWAL_ENTITY_KINDS)
#: The event each withdrawals command is authorised as.
_WITHDRAWAL_EVENT_OF: Final[dict[type, str]] = {
    SetFees: "withdrawal.fees_set",
    RequestWithdrawal: "withdrawal.requested",
    ConfirmWithdrawal: "withdrawal.confirmed",
    FailWithdrawal: "withdrawal.failed",
    AddDestination: "destination.added",
    ConfirmDestination: "destination.confirmed",
    RemoveDestination: "destination.removed",
}
#: The event each claims command is authorised as (a link may instead record a conflict).
_CLAIMS_EVENT_OF: Final[dict[type, str]] = {
    CreateEstate: "estate.created",
    ImportClaims: "claims.imported",
    AmendClaims: "claims.amended",
    SetPolicy: "jurisdiction.policy_set",
    ProveEmail: "creditor.email_proved",
    SubmitKyc: "kyc.submitted",
    DecideKyc: "kyc.decided",
    LinkClaim: "claim.linked",
    LinkOnReview: "claim.linked_on_review",
    UnlinkClaim: "claim.unlinked",
    CloseConflict: "claim.conflict_closed",
}
_CLAIMS_COMMANDS: Final = (
    CreateEstate,
    ImportClaims,
    AmendClaims,
    SetPolicy,
    ProveEmail,
    SubmitKyc,
    DecideKyc,
    LinkClaim,
    LinkOnReview,
    UnlinkClaim,
    CloseConflict,
)


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
    if isinstance(command, OpenAccounts | CreateTransfers | ExpirePending):
        return _decide_ledger(state, command, actor, key_id, time)
    if isinstance(command, _CLAIMS_COMMANDS):
        return _decide_claims(state, command, actor, key_id, time)
    if isinstance(command, WithdrawalsCommand):
        return _decide_withdrawals(state, command, actor, key_id, time)
    if type(command) in DISTRIBUTION_EVENT_OF:
        return _decide_distribution(state, command, actor, key_id, time)  # type: ignore[arg-type]
    payload: dict[str, JsonValue]
    version = 1
    match command:
        case Genesis():
            kind = "log.genesis"
            payload = {
                "origin": command.origin,
                "admin": command.admin,
                "admin_key": command.admin_key,
                "log_key": command.log_key,
            }
        case RegisterActor():
            kind = "actor.registered"
            payload = {"name": command.name, "role": command.role, "key": command.key}
            version = KEY_RULE_VERSION
        case AddKey():
            kind = "actor.key_added"
            payload = {"name": command.name, "key": command.key}
            version = KEY_RULE_VERSION
        case RevokeKey():
            kind = "actor.key_revoked"
            payload = {"name": command.name, "key_id": command.key_id}
        case PublishDocument():
            kind = "document.published"
            payload = {
                "document_id": command.document_id,
                "title": command.title,
                "sha256": command.sha256,
                "media_type": command.media_type,
            }
    event = Event(kind, version, time, actor, key_id, payload)
    rejection = check(state, event)
    return rejection if rejection is not None else Decided([event])


def _decide_claims(
    state: State, command: object, actor: str, key_id: str, time: str
) -> Decided | Rejection:
    """Claims commands: who may ask comes first (as for every event), then the claims core
    decides; each resulting event climbs the head of the ladder again, so a command never yields
    an event its signer may not sign."""
    creditor = getattr(command, "creditor", None)
    probe_payload: dict[str, JsonValue] = {} if creditor is None else {"creditor": creditor}
    probe = Event(_CLAIMS_EVENT_OF[type(command)], 1, time, actor, key_id, probe_payload)
    rejection = _check_head(state, probe) or _check_creditor(state, probe)
    if rejection is not None:
        return rejection
    decision = decide_claims(state.claims, command, time)  # type: ignore[arg-type]
    if isinstance(decision, ClaimsRejection):
        return Rejection(Code.claims_refused, str(decision))
    events = [Event(t, 1, time, actor, key_id, p) for t, p in decision.events]
    for event in events:
        rejection = _check_head(state, event)
        if rejection is not None:
            return rejection
        rejection = _check_creditor(state, event)
        if rejection is not None:
            return rejection
    return Decided(events, decision.results)


def _distribution_context(state: State) -> DistributionContext:
    def role_of(name: str) -> str | None:
        actor = state.actors.get(name)
        return None if actor is None else actor.role

    return DistributionContext(state.claims, state.ledger, role_of, state.holding_entities())


def _decide_distribution(
    state: State, command: DistributionCommand, actor: str, key_id: str, time: str
) -> Decided | Rejection:
    """Distribution commands: who may ask first (a creditor's own election is "self"), then the
    distribution core decides; its event climbs the head of the ladder again."""
    creditor = getattr(command, "creditor", None)
    probe_payload: dict[str, JsonValue] = {} if creditor is None else {"creditor": creditor}
    probe = Event(DISTRIBUTION_EVENT_OF[type(command)], 1, time, actor, key_id, probe_payload)
    rejection = _check_head(state, probe)
    if rejection is not None:
        return rejection
    decision = decide_distribution(state.distribution, _distribution_context(state), command, time)
    if isinstance(decision, DistributionRejection):
        return Rejection(Code.distribution_refused, str(decision))
    events = [Event(t, 1, time, actor, key_id, p) for t, p in decision.events]
    for event in events:
        rejection = _check_head(state, event)
        if rejection is not None:
            return rejection
    return Decided(events)


def _decide_withdrawals(
    state: State,
    command: WithdrawalsCommand,
    actor: str,
    key_id: str,
    time: str,
) -> Decided | Rejection:
    """Withdrawal commands: who may ask first (a creditor's own request is "self", and names a
    registered creditor actor), then the withdrawals core decides; its event climbs the head of
    the ladder again."""
    creditor = getattr(command, "creditor", None)
    probe_payload: dict[str, JsonValue] = {} if creditor is None else {"creditor": creditor}
    probe = Event(_WITHDRAWAL_EVENT_OF[type(command)], 1, time, actor, key_id, probe_payload)
    rejection = _check_head(state, probe) or _check_creditor(state, probe)
    if rejection is not None:
        return rejection
    decision = decide_withdrawals(state.withdrawals, state.ledger, state.claims, command, time)
    if isinstance(decision, WithdrawalsRejection):
        return Rejection(Code.withdrawal_refused, str(decision))
    events = [Event(t, WRITTEN_VERSIONS.get(t, 1), time, actor, key_id, p)
              for t, p in decision.events]  # fmt: skip
    for event in events:
        rejection = _check_head(state, event)
        if rejection is not None:
            return rejection
    return Decided(events, decision.results)


def _check_creditor(state: State, event: Event) -> Rejection | None:
    """A claims event that names a creditor names a registered creditor actor."""
    creditor = event.payload.get("creditor")
    if creditor is None:
        return None
    actor = state.actors.get(str(creditor))
    if actor is None or actor.role != "creditor":
        return Rejection(Code.actor_unknown, f"no creditor actor named {creditor!r}")
    return None


def _decide_ledger(
    state: State,
    command: OpenAccounts | CreateTransfers | ExpirePending,
    actor: str,
    key_id: str,
    time: str,
) -> Decided | Rejection:
    kind = {
        OpenAccounts: "ledger.accounts_opened",
        CreateTransfers: "ledger.transfers_created",
        ExpirePending: "ledger.pending_expired",
    }[type(command)]
    # Who may ask comes first, as for every event; the ledger's ladder then answers per item.
    probe = Event(kind, 1, time, actor, key_id, {})
    rejection = _check_head(state, probe)
    if rejection is not None:
        return rejection
    reserved = None
    if isinstance(command, CreateTransfers):
        reserved = reserved_transfer(list(command.transfers))
    if reserved is not None:  # a withdrawal's transfers move only with its own events
        return Rejection(
            Code.withdrawal_refused,
            f"transfer_id_reserved: {reserved!r} moves only with its withdrawal's events",
        )
    decision = decide_ledger(state.ledger, command, time)
    if isinstance(decision, LedgerRejection):
        return Rejection(Code.ledger_refused, str(decision))
    events = [Event(t, 1, time, actor, key_id, p) for t, p in decision.events]
    return Decided(events, decision.results)


# The validation ladder -----------------------------------------------------------------------


def check(state: State, event: Event) -> Rejection | None:
    """The first reason ``event`` may not follow ``state``, or ``None``."""
    rejection = _check_head(state, event)
    if rejection is not None:
        return rejection
    if event.type == "ledger.transfers_created" and isinstance(
        event.payload.get("transfers"), list
    ):
        reserved = reserved_transfer(event.payload["transfers"])  # type: ignore[arg-type]
        if reserved is not None:
            return Rejection(
                Code.withdrawal_refused,
                f"transfer_id_reserved: {reserved!r} moves only with its withdrawal's events",
            )
    if event.type.startswith("ledger."):
        refused = check_ledger(state.ledger, event.type, event.payload, event.time)
        return None if refused is None else Rejection(Code.ledger_refused, str(refused))
    if event.type in CLAIMS_EVENT_TYPES:
        rejection = _check_creditor(state, event)
        if rejection is not None:
            return rejection
        claims_refused = check_claims(state.claims, event.type, event.payload, event.time)
        if claims_refused is None:
            return None
        return Rejection(Code.claims_refused, str(claims_refused))
    if event.type in WITHDRAWAL_EVENT_TYPES:
        rejection = _check_creditor(state, event)
        if rejection is not None:
            return rejection
        withdrawal_refused = check_withdrawals(
            state.withdrawals, state.ledger, state.claims, event.type, event.payload, event.time,
            event.version,
        )  # fmt: skip
        if withdrawal_refused is None:
            return None
        return Rejection(Code.withdrawal_refused, str(withdrawal_refused))
    if event.type in DISTRIBUTION_EVENT_TYPES:
        context = _distribution_context(state)
        distribution_refused = check_distribution(
            state.distribution, context, event.type, event.payload, event.time
        )
        if distribution_refused is None:
            return None
        return Rejection(Code.distribution_refused, str(distribution_refused))
    if event.type == "log.genesis":
        return None
    return _CHECKS[event.type](state, event)


def _check_head(state: State, event: Event) -> Rejection | None:
    """The rungs every event climbs first: version, time, genesis, authority."""
    versions, roles = EVENT_TYPES[event.type]
    if event.version not in versions:
        return Rejection(Code.event_version_unknown, f"{event.type} v{event.version}")
    if state.last_time and event.time < state.last_time:
        return Rejection(Code.event_time_regressed, f"{event.time} < {state.last_time}")
    if event.type == "log.genesis":
        return _check_genesis(state, event)
    if not state.origin:
        return Rejection(Code.genesis_missing, "the first event must be log.genesis")
    return _check_authority(state, event, roles)


def _check_authority(state: State, event: Event, roles: frozenset[str]) -> Rejection | None:
    actor = state.actors.get(event.actor)
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


def _check_genesis(state: State, event: Event) -> Rejection | None:
    if state.origin:
        return Rejection(Code.genesis_repeated, "the log has a genesis already")
    p = event.payload
    fields = _strings(p, ("origin", "admin", "admin_key", "log_key"))
    if isinstance(fields, Rejection):
        return fields
    origin, admin, admin_key, log_key = fields
    if not origin or len(origin) > 255 or any(ch.isspace() for ch in origin):
        return Rejection(Code.payload_malformed, f"origin {origin!r}")
    if not _NAME_RE.fullmatch(admin):
        return Rejection(Code.actor_name_invalid, f"{admin!r}")
    parsed_admin, parsed_log = parse_verifier_key(admin_key), parse_verifier_key(log_key)
    if parsed_admin is None or parsed_log is None:
        return Rejection(Code.key_malformed, "admin_key or log_key is not a verifier key")
    if event.actor != admin or event.key_id != parsed_admin[1].hex():
        return Rejection(
            Code.actor_not_authorised, "genesis must be signed by the admin key it names"
        )
    return None


def _check_registered(state: State, event: Event) -> Rejection | None:
    fields = _strings(event.payload, ("name", "role", "key"))
    if isinstance(fields, Rejection):
        return fields
    name, role, key = fields
    if not _NAME_RE.fullmatch(name):
        return Rejection(Code.actor_name_invalid, f"{name!r}")
    if name in state.actors:
        return Rejection(Code.actor_exists, f"{name!r}")
    if role not in ROLES:
        return Rejection(Code.role_unknown, f"{role!r}")
    return _check_new_key(state, key, event.version)


def _check_key_added(state: State, event: Event) -> Rejection | None:
    fields = _strings(event.payload, ("name", "key"))
    if isinstance(fields, Rejection):
        return fields
    name, key = fields
    if name not in state.actors:
        return Rejection(Code.actor_unknown, f"no actor named {name!r}")
    return _check_new_key(state, key, event.version)


def _check_key_revoked(state: State, event: Event) -> Rejection | None:
    fields = _strings(event.payload, ("name", "key_id"))
    if isinstance(fields, Rejection):
        return fields
    name, key_id = fields
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


def _check_document(state: State, event: Event) -> Rejection | None:
    fields = _strings(event.payload, ("document_id", "title", "sha256", "media_type"))
    if isinstance(fields, Rejection):
        return fields
    document_id, title, sha256, media_type = fields
    if not _DOCUMENT_ID_RE.fullmatch(document_id) or not title or not media_type:
        return Rejection(Code.payload_malformed, f"document {document_id!r}")
    if document_id in state.documents:
        return Rejection(Code.document_exists, f"{document_id!r}")
    if not _SHA256_RE.fullmatch(sha256):
        return Rejection(Code.document_hash_malformed, f"{sha256!r} is not 64 lower-case hex")
    return None


def _check_new_key(state: State, key: str, version: int) -> Rejection | None:
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


#: The version of ``actor.registered`` / ``actor.key_added`` that ``decide`` writes: the first
#: with the one-key-one-actor rule (``key_in_use``).
KEY_RULE_VERSION: Final = 2

_CHECKS: Final = {
    "actor.registered": _check_registered,
    "actor.key_added": _check_key_added,
    "actor.key_revoked": _check_key_revoked,
    "document.published": _check_document,
}


# Evolution -----------------------------------------------------------------------------------


def evolve(state: State, event: Event) -> State:
    """Apply a checked event to ``state`` (in place) and return it."""
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
        case "ledger.accounts_opened" | "ledger.transfers_created" | "ledger.pending_expired":
            evolve_ledger(state.ledger, event.type, p, event.time)
        case kind if kind in CLAIMS_EVENT_TYPES:
            evolve_claims(state.claims, event.type, p, event.time)
        case kind if kind in WITHDRAWAL_EVENT_TYPES:
            evolve_withdrawals(state.withdrawals, state.ledger, state.claims, kind, p, event.time)
        case kind if kind in DISTRIBUTION_EVENT_TYPES:
            evolve_distribution(
                state.distribution, state.claims, state.ledger, event.type, p, event.time,
                event.actor,
            )  # fmt: skip
        case "document.published":
            doc_id = str(p["document_id"])
            state.changed.add(f"document/{doc_id}")
            state.documents[doc_id] = Document(
                doc_id, str(p["title"]), str(p["sha256"]), str(p["media_type"]),
                event.time, event.actor,
            )  # fmt: skip
        case _:  # pragma: no cover - check() refuses unknown types first
            raise AssertionError(f"evolve: unhandled event type {event.type}")
    state.events += 1
    state.last_time = event.time
    state.changed.add("log")
    return state


def _register(state: State, name: str, role: str, key: str) -> None:
    actor = Actor(name, role)
    state.actors[name] = actor
    _add_key(state, actor, key)


def _add_key(state: State, actor: Actor, key: str) -> None:
    parsed = parse_verifier_key(key)
    assert parsed is not None, "checked before evolve"
    ident = parsed[1].hex()
    actor.keys[ident] = key
    state.key_owner[ident] = actor.name
    state.public_key_holder.setdefault(parsed[2], actor.name)


def assert_invariants(state: State) -> None:
    """The state's invariants that are cheap enough for every checkpoint: O(actors + assets).

    The ledger's local invariants are asserted after every transfer; its full recomputation
    (``assert_ledger_invariants``, O(transfers)) runs in the verifier and the tests.
    """
    for asset, totals in state.ledger.totals.items():
        assert totals.debits_posted == totals.credits_posted, f"{asset}: posted unbalanced"
        assert totals.debits_pending == totals.credits_pending, f"{asset}: pending unbalanced"
    owners: dict[str, str] = {}
    for name, actor in state.actors.items():
        assert actor.live_keys(), f"actor {name!r} has no live key"
        for ident in actor.keys:
            assert owners.setdefault(ident, name) == name, f"key {ident} has two owners"
    assert owners == state.key_owner, "key_owner index out of step with actors"
    # Every entry of the public-key index comes from a key given to an actor, or the log's key.
    assert len(state.public_key_holder) <= len(state.key_owner) + 1, "public_key_holder grew"
    assert_withdrawals_invariants(state.withdrawals, state.ledger)  # O(withdrawals + rails)
