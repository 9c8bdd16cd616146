"""The claims core's values: estates, claims, policy entries, KYC records, commands, the state."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final, NamedTuple

from reclaim.core.claims.codes import ACCEPTED, ClaimsCode
from reclaim.core.domain import Entities, entity_fields, keys_of
from reclaim.core.forms import ACTOR_NAME_RE
from reclaim.core.forms import ESTATE_ID_RE as ESTATE_ID_RE
from reclaim.core.forms import HEX64_RE as HEX64_RE
from reclaim.core.limits import claim_class_length_max_chars as class_code_length_max_chars
from reclaim.core.limits import (
    claim_id_length_max_chars,
)
from reclaim.core.types import JsonValue

# Bounds (to be moved into core/limits.py at integration) --------------------------------------


# Vocabularies -----------------------------------------------------------------------------------

#: Claim statuses, in report order.
STATUSES: Final = ("scheduled", "filed", "allowed", "disputed", "expunged")
EXPUNGED: Final = "expunged"
#: Policy statuses of a jurisdiction, in report order.
POLICY_STATUSES: Final = ("open", "restricted", "sanctioned")
OPEN: Final = "open"
#: Whether a jurisdiction's residents may buy recovery notes (``PolicyEntry.notes_buyers``).
NOTES_BUYERS: Final = ("allowed", "excluded")
RESTRICTED: Final = "restricted"
SANCTIONED: Final = "sanctioned"
INTEREST_METHODS: Final = ("simple", "compound")
DAY_COUNTS: Final = ("ACT/365", "ACT/360")
#: Register fields an amendment may change, in register-row order.
AMENDABLE_FIELDS: Final = (
    "customer_code",
    "email_commitment",
    "holder_commitment",
    "jurisdiction",
    "class_code",
    "admitted_minor",
    "status",
)
#: Fields linking relies on: they do not change while the claim is linked.
IDENTITY_FIELDS: Final = frozenset({"email_commitment", "holder_commitment"})

#: KYC states (the table is in ``reclaim.core.claims.onboarding``).
NOT_STARTED: Final = "not_started"
PENDING: Final = "pending"
APPROVED: Final = "approved"
REJECTED: Final = "rejected"
RESUBMISSION_REQUESTED: Final = "resubmission_requested"
KYC_STATES: Final = (NOT_STARTED, PENDING, APPROVED, REJECTED, RESUBMISSION_REQUESTED)
#: Why KYC was refused or must be redone: codes, which the portal translates for the creditor
#: (free text could leak personal data into the public log).
KYC_REASONS: Final = frozenset(
    {
        "document_unreadable",
        "document_expired",
        "document_unsupported",
        "selfie_mismatch",
        "name_mismatch",
        "birth_date_mismatch",
        "address_unverified",
        "sanctions_screening",
        "duplicate_person",
        "jurisdiction_not_served",
        "fraud_suspected",
        "deadline_missed",
        "other",
    }
)

#: A claim id or customer code; claim ids are ledger references too (``ledger.model.REF_RE``).
CLAIM_ID_RE: Final = re.compile(f"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{claim_id_length_max_chars - 1}}}")
CLASS_CODE_RE: Final = re.compile(
    f"[A-Za-z0-9][A-Za-z0-9._-]{{0,{class_code_length_max_chars - 1}}}"
)
#: A creditor is an actor of the log: the actor-name form.
CREDITOR_RE: Final = ACTOR_NAME_RE
RAIL_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
PROVIDER_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
REFERENCE_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_date(text: str) -> bool:
    """``YYYY-MM-DD`` naming a calendar day (text order is then date order)."""
    if _DATE_RE.fullmatch(text) is None:
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_text(text: str, max_chars: int, *, ascii_only: bool = False) -> bool:
    """Human text for the public log: 1…``max_chars`` printable characters, no surrounding
    spaces, in Unicode NFC (the form the canonical encoding publishes)."""
    if not 0 < len(text) <= max_chars or not text.isprintable() or text != text.strip():
        return False
    if text.isascii():
        return True
    return not ascii_only and unicodedata.is_normalized("NFC", text)


# Values -----------------------------------------------------------------------------------------


class ClaimClass(NamedTuple):
    """A class of claims of an estate's plan; classes with a lower ``priority`` are paid first,
    classes of equal priority pari passu."""

    code: str
    name: str
    priority: int


@dataclass(frozen=True, slots=True)
class Estate:
    """An estate whose claims register reclaim holds.

    ``convenience_class`` is the class whose claims are capped at
    ``convenience_threshold_minor`` (``""`` and 0 if the plan has none); interest accrues at
    ``consensus_rate_bps`` a year from ``petition_date`` (``interest``: simple or compound;
    ``day_count``: ACT/365 or ACT/360). ``registers`` are the ids (SHA-256 of the file) of the
    register versions that changed the register, in the order they first did.
    """

    id: str
    name: str
    petition_date: str
    classes: Mapping[str, ClaimClass]
    convenience_class: str
    convenience_threshold_minor: int
    consensus_rate_bps: int
    interest: str
    day_count: str
    created_at: str
    registers: tuple[str, ...] = ()


class RegisterRow(NamedTuple):
    """One row of an estate's claims register, as the file adapter reads and validates it.

    The e-mail of the old account and the holder's name never reach the core: the PII vault
    keeps them and gives the commitments (64 lower-case hex, an HMAC-SHA-256 under the vault's
    key over the normalised text, so equal names have equal commitments).
    ``admitted_minor`` is USD cents as dollarized at the petition date.
    """

    claim_id: str
    customer_code: str
    email_commitment: str
    holder_commitment: str
    jurisdiction: str
    class_code: str
    admitted_minor: int
    status: str


class Claim(NamedTuple):
    """A claim of the register. Its first eight fields are the ``RegisterRow`` it was imported
    or last amended from (``claim[:8] == row`` when nothing changed), then its estate, the
    register version that last set its fields, and its link (``None`` / ``""`` if unlinked)."""

    id: str
    customer_code: str
    email_commitment: str
    holder_commitment: str
    jurisdiction: str
    class_code: str
    admitted_minor: int
    status: str
    estate_id: str
    register_id: str
    linked_creditor: str | None = None
    linked_at: str = ""


class Amendment(NamedTuple):
    """A change of one field of one claim: ``old`` is the value it replaces (checked, so a
    stale amendment is refused). Values are text, except ``admitted_minor``'s (``int``)."""

    claim_id: str
    field: str
    old: str | int
    new: str | int


class PolicyEntry(NamedTuple):
    """A jurisdiction's treatment from ``effective_date`` on: status (open, restricted,
    sanctioned), why, where that is written, and the payout rails that may serve it.

    ``notes_buyers`` (``allowed`` / ``excluded``; ``""``: the policy says nothing, and the
    market's default by status applies: open and unlisted may buy, restricted and sanctioned
    may not) says whether residents may buy recovery notes, with ``notes_buyers_source`` where
    that is written. Absent from an entry's payload when ``""``, so older entries keep their
    bytes."""

    iso: str
    status: str
    reason: str
    source: str
    effective_date: str
    rails: tuple[str, ...] = ()
    notes_buyers: str = ""
    notes_buyers_source: str = ""


class PolicyRecord(NamedTuple):
    """A policy entry as the history keeps it, with the time of the event that set it."""

    entry: PolicyEntry
    set_at: str


class Kyc(NamedTuple):
    """A creditor's KYC: its state, the reason of a refusal, the commitment of the verified name
    (when approved), and the open case (provider, the provider's reference)."""

    creditor: str
    state: str
    reason: str
    name_commitment: str
    provider: str
    reference: str
    updated_at: str


class Conflict(NamedTuple):
    """A refused link the operator must look at: ``code`` is ``claim_already_linked`` (then
    ``holder`` is the creditor holding the claim) or ``kyc_name_mismatch`` (manual review)."""

    claim_id: str
    creditor: str
    code: str
    holder: str
    opened_at: str


# Commands ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateEstate:
    estate_id: str
    name: str
    petition_date: str
    classes: tuple[ClaimClass, ...]
    convenience_class: str = ""
    convenience_threshold_minor: int = 0
    consensus_rate_bps: int = 0
    interest: str = "simple"
    day_count: str = "ACT/365"


@dataclass(frozen=True, slots=True)
class ImportClaims:
    """Add new claims to an estate's register, all or none (``claims_per_event_max`` at most;
    ``plan_register_import`` makes these)."""

    estate_id: str
    register_id: str
    claims: tuple[RegisterRow, ...]


@dataclass(frozen=True, slots=True)
class AmendClaims:
    """Change fields of claims of an estate's register, all or none."""

    estate_id: str
    register_id: str
    amendments: tuple[Amendment, ...]


@dataclass(frozen=True, slots=True)
class SetPolicy:
    """Add dated entries to jurisdictions' policy histories, all or none (rails are sorted and
    deduplicated; entries already in the history are answered ``exists``)."""

    entries: tuple[PolicyEntry, ...]


@dataclass(frozen=True, slots=True)
class ProveEmail:
    """The gateway attests that ``creditor`` received the one-time code sent to the address
    whose commitment is ``email_commitment``."""

    creditor: str
    email_commitment: str


@dataclass(frozen=True, slots=True)
class SubmitKyc:
    """The creditor opened a KYC case with ``provider`` (``manual``: the operator's queue)."""

    creditor: str
    provider: str
    reference: str


@dataclass(frozen=True, slots=True)
class DecideKyc:
    """A KYC officer's or provider's decision on the creditor's open case."""

    creditor: str
    state: str
    provider: str
    reference: str
    reason: str = ""
    name_commitment: str = ""


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """Link a claim to the creditor who proved its e-mail and passed KYC under its holder's
    name. Refusals ``CONFLICT_CODES`` are recorded for the operator."""

    claim_id: str
    creditor: str


@dataclass(frozen=True, slots=True)
class LinkOnReview:
    """A KYC officer links a claim after manual review of a name mismatch (every other rung of
    the linking ladder still holds)."""

    claim_id: str
    creditor: str
    reason: str


@dataclass(frozen=True, slots=True)
class UnlinkClaim:
    claim_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CloseConflict:
    claim_id: str
    creditor: str
    reason: str


ClaimsCommand = (
    CreateEstate
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
)


# Results ----------------------------------------------------------------------------------------


class Result(NamedTuple):
    """The answer for one item of a command: a policy entry, an e-mail proof, a link."""

    position: int
    ident: str
    code: ClaimsCode

    @property
    def accepted(self) -> bool:
        """The command holds: done now (``ok``) or already so (``exists``, ``link_exists``).
        A result that is not accepted came with the event recording it (a link conflict)."""
        return self.code in ACCEPTED


Payload = dict[str, JsonValue]


class Decision(NamedTuple):
    """What a command implies: the events to append (type, payload), in order, and for
    commands with items of their own (policy entries, a proof, a link) one result per item."""

    events: list[tuple[str, Payload]]
    results: tuple[Result, ...] = ()


# State ------------------------------------------------------------------------------------------

#: Entity kinds of the claims state, in ``entity_keys`` order.
ENTITY_KINDS: Final = ("estate", "claim", "jurisdiction", "kyc", "email_proof", "link_conflict")


@dataclass(slots=True)
class ClaimsState(Entities):
    """Estates, claims, jurisdiction policy, KYC, e-mail proofs, links and open conflicts.

    Derived indexes, kept by ``evolve_claims`` and recomputed by ``assert_claims_invariants``:
    ``by_email`` (e-mail commitment → the claim id, or a tuple of them when several claims share
    the address), ``links`` (creditor → claim ids), ``totals`` (estate → admitted sum over all its
    claims). ``changed`` collects the entity keys ``evolve_claims`` touched, for the state digest.
    """

    estates: dict[str, Estate] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)
    by_email: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    #: ISO code -> the entries set for it, in the order they were set.
    policy: dict[str, list[PolicyRecord]] = field(default_factory=dict)
    kyc: dict[str, Kyc] = field(default_factory=dict)
    #: creditor -> {e-mail commitment: time of the proof}.
    proofs: dict[str, dict[str, str]] = field(default_factory=dict)
    links: dict[str, set[str]] = field(default_factory=dict)
    #: (claim id, creditor) -> the open conflict.
    conflicts: dict[tuple[str, str], Conflict] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    # Queries.

    def claims_of_email(self, email_commitment: str) -> tuple[str, ...]:
        """The ids of the claims whose old account has this e-mail, in the order they came to
        have it (imported, or amended to it)."""
        found = self.by_email.get(email_commitment)
        if found is None:
            return ()
        return (found,) if isinstance(found, str) else found

    def kyc_state(self, creditor: str) -> str:
        record = self.kyc.get(creditor)
        return NOT_STARTED if record is None else record.state

    def estate_claims(self, estate_id: str) -> Iterator[Claim]:
        """The estate's claims, in import order (O(all claims))."""
        return (c for c in self.claims.values() if c.estate_id == estate_id)

    def open_conflicts(self) -> list[Conflict]:
        """The operator's queue: open conflicts, oldest first, then by claim and creditor."""
        return sorted(self.conflicts.values(), key=lambda c: (c.opened_at, c.claim_id, c.creditor))

    # The digest's view.

    def entity_keys(self) -> list[str]:
        """Every entity: ``estate/<id>``, ``claim/<id>``, ``jurisdiction/<iso>``,
        ``kyc/<creditor>``, ``email_proof/<creditor>``, ``link_conflict/<claim id>/<creditor>``,
        each kind sorted."""
        conflicts = sorted(self.conflicts)
        return keys_of(
            ("estate", self.estates), ("claim", self.claims), ("jurisdiction", self.policy),
            ("kyc", self.kyc), ("email_proof", self.proofs),
        ) + [f"link_conflict/{claim}/{creditor}" for claim, creditor in conflicts]  # fmt: skip

    def entity(self, key: str) -> JsonValue:
        """The canonical-JSON-ready value of one entity, or ``None`` if it does not exist."""
        kind, _, ident = key.partition("/")
        if kind == "claim":
            claim = self.claims.get(ident)
            return None if claim is None else claim_entity(claim)
        if kind == "estate":
            estate = self.estates.get(ident)
            return None if estate is None else estate_entity(estate)
        if kind == "jurisdiction" and ident in self.policy:
            history: list[JsonValue] = [
                {**policy_entry_payload(r.entry), "set_at": r.set_at} for r in self.policy[ident]
            ]
            return {"history": history}
        if kind == "kyc" and ident in self.kyc:
            return entity_fields(
                self.kyc[ident], "state", "reason", "name_commitment", "provider", "reference",
                "updated_at",
            )  # fmt: skip
        if kind == "email_proof" and ident in self.proofs:
            proofs = self.proofs[ident]
            emails: list[JsonValue] = [
                {"email_commitment": e, "proved_at": proofs[e]} for e in sorted(proofs)
            ]
            return {"emails": emails}
        if kind == "link_conflict":
            claim_id, _, creditor = ident.partition("/")
            conflict = self.conflicts.get((claim_id, creditor))
            if conflict is None:
                return None
            return entity_fields(conflict, "code", "holder", "opened_at")
        return None


def claim_entity(c: Claim) -> dict[str, JsonValue]:
    """Every field of the claim but its id (the entity's key), the amount as decimal text."""
    value: dict[str, JsonValue] = {**c._asdict(), "admitted_minor": str(c.admitted_minor)}
    del value["id"]
    return value


def estate_entity(e: Estate) -> dict[str, JsonValue]:
    classes: list[JsonValue] = [
        {"code": c.code, "name": c.name, "priority": str(c.priority)} for c in e.classes.values()
    ]
    registers: list[JsonValue] = list(e.registers)
    return {
        "name": e.name,
        "petition_date": e.petition_date,
        "classes": classes,
        "convenience_class": e.convenience_class,
        "convenience_threshold_minor": str(e.convenience_threshold_minor),
        "consensus_rate_bps": str(e.consensus_rate_bps),
        "interest": e.interest,
        "day_count": e.day_count,
        "created_at": e.created_at,
        "registers": registers,
    }


def policy_entry_payload(entry: PolicyEntry) -> dict[str, JsonValue]:
    rails: list[JsonValue] = list(entry.rails)
    payload: dict[str, JsonValue] = {
        "iso": entry.iso,
        "status": entry.status,
        "reason": entry.reason,
        "source": entry.source,
        "effective_date": entry.effective_date,
        "rails": rails,
    }
    if entry.notes_buyers or entry.notes_buyers_source:
        payload["notes_buyers"] = entry.notes_buyers
        payload["notes_buyers_source"] = entry.notes_buyers_source
    return payload
