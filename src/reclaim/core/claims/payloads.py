"""Event payloads of the claims core, the roles that may sign them, and their strict readers.

Payloads hold only canonical JSON values; integers are written as decimal text (``"100"``),
which is also what ``reclaim.log.canonical.decode`` gives back, so
``decode(encode(payload)) == payload``. The readers accept a Python ``int`` too (a payload built
in-process) but never a ``bool``, a float, or text that is not the canonical form of an integer.
They check shape only; the ladders check meaning.

Shapes (version 1):

``estate.created``  ``{"estate_id", "name", "petition_date", "classes": [CLASS, ...],
"convenience_class", "convenience_threshold_minor", "consensus_rate_bps", "interest",
"day_count"}``; CLASS = ``{"code", "name", "priority"}``, sorted by (priority, code).
``claims.imported``  ``{"estate_id", "register_id", "claims": [CLAIM, ...]}``; CLAIM =
``{"claim_id", "customer_code", "email_commitment", "holder_commitment", "jurisdiction",
"class_code", "admitted_minor", "status"}``.
``claims.amended``  ``{"estate_id", "register_id", "amendments": [{"claim_id", "field",
"old", "new"}, ...]}`` (values as text; amounts as decimal text).
``jurisdiction.policy_set``  ``{"entries": [{"iso", "status", "reason", "source",
"effective_date", "rails": [sorted, unique]}, ...]}`` (written by
``model.policy_entry_payload``, which the entity view shares).
``creditor.email_proved``  ``{"creditor", "email_commitment"}``.
``kyc.submitted``  ``{"creditor", "provider", "reference"}``.
``kyc.decided``  ``{"creditor", "state", "reason", "name_commitment", "provider",
"reference"}``.
``claim.linked``  ``{"claim_id", "creditor"}``.
``claim.linked_on_review``  ``{"claim_id", "creditor", "reason"}``.
``claim.link_conflict``  ``{"claim_id", "creditor", "code", "holder"}``.
``claim.unlinked``  ``{"claim_id", "creditor", "reason"}``.
``claim.conflict_closed``  ``{"claim_id", "creditor", "reason"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Final, TypeVar

from reclaim.core import payload_fields
from reclaim.core.claims.codes import ClaimsRejection, EventCode
from reclaim.core.claims.model import (
    Amendment,
    ClaimClass,
    PolicyEntry,
    RegisterRow,
)
from reclaim.core.payload_fields import PayloadError as PayloadError
from reclaim.core.payload_fields import integer as integer
from reclaim.core.payload_fields import record as record
from reclaim.core.payload_fields import text as text
from reclaim.core.types import JsonValue

ESTATE_CREATED: Final = "estate.created"
CLAIMS_IMPORTED: Final = "claims.imported"
CLAIMS_AMENDED: Final = "claims.amended"
POLICY_SET: Final = "jurisdiction.policy_set"
EMAIL_PROVED: Final = "creditor.email_proved"
KYC_SUBMITTED: Final = "kyc.submitted"
KYC_DECIDED: Final = "kyc.decided"
CLAIM_LINKED: Final = "claim.linked"
CLAIM_LINKED_ON_REVIEW: Final = "claim.linked_on_review"
LINK_CONFLICT: Final = "claim.link_conflict"
CLAIM_UNLINKED: Final = "claim.unlinked"
CONFLICT_CLOSED: Final = "claim.conflict_closed"

#: Claims event types, with the schema versions this code reads and the roles that may sign
#: each — the shape of ``reclaim.core.events.EVENT_TYPES``, to merge into it. "self" means the
#: creditor named in the payload (``creditor``) signs for itself with its own API key; the portal
#: gateway signs for creditors on the web. ``kyc_provider`` is a service actor: the webhook
#: adapter of a hosted KYC provider signs that provider's decisions with it.
CLAIMS_EVENT_TYPES: Final[dict[str, tuple[frozenset[int], frozenset[str]]]] = {
    ESTATE_CREATED: (frozenset({1}), frozenset({"admin"})),
    CLAIMS_IMPORTED: (frozenset({1}), frozenset({"admin"})),
    CLAIMS_AMENDED: (frozenset({1}), frozenset({"admin"})),
    POLICY_SET: (frozenset({1}), frozenset({"admin"})),
    EMAIL_PROVED: (frozenset({1}), frozenset({"gateway"})),
    KYC_SUBMITTED: (frozenset({1}), frozenset({"gateway", "self"})),
    KYC_DECIDED: (frozenset({1}), frozenset({"kyc_officer", "kyc_provider"})),
    CLAIM_LINKED: (frozenset({1}), frozenset({"gateway", "self"})),
    CLAIM_LINKED_ON_REVIEW: (frozenset({1}), frozenset({"kyc_officer"})),
    LINK_CONFLICT: (frozenset({1}), frozenset({"gateway", "self", "kyc_officer"})),
    CLAIM_UNLINKED: (frozenset({1}), frozenset({"admin", "kyc_officer"})),
    CONFLICT_CLOSED: (frozenset({1}), frozenset({"admin", "kyc_officer"})),
}
#: The roles alone, by event type (``CLAIMS_EVENT_TYPES`` without the versions).
CLAIMS_EVENT_ROLES: Final[dict[str, frozenset[str]]] = {
    kind: roles for kind, (_, roles) in CLAIMS_EVENT_TYPES.items()
}
#: New roles the claims events need in ``reclaim.core.machine.ROLES``.
CLAIMS_ROLES: Final = frozenset({"kyc_provider"})

_CLASS_FIELDS: Final = frozenset({"code", "name", "priority"})
CLAIM_FIELDS: Final = frozenset(RegisterRow._fields)
_AMENDMENT_FIELDS: Final = frozenset({"claim_id", "field", "old", "new"})
_ENTRY_FIELDS: Final = frozenset({"iso", "status", "reason", "source", "effective_date", "rails"})
#: An entry that says whether residents may buy notes has both of these too.
_BUYERS_FIELDS: Final = frozenset({"notes_buyers", "notes_buyers_source"})
_ESTATE_FIELDS: Final = frozenset(
    {
        "estate_id",
        "name",
        "petition_date",
        "classes",
        "convenience_class",
        "convenience_threshold_minor",
        "consensus_rate_bps",
        "interest",
        "day_count",
    }
)


# Writers ----------------------------------------------------------------------------------------


def class_payload(c: ClaimClass) -> dict[str, JsonValue]:
    return {"code": c.code, "name": c.name, "priority": str(c.priority)}


def claim_payload(row: RegisterRow) -> dict[str, JsonValue]:
    """The row's fields (``CLAIM_FIELDS``), the amount as decimal text."""
    return {**row._asdict(), "admitted_minor": str(row.admitted_minor)}


def amendment_payload(a: Amendment) -> dict[str, JsonValue]:
    return {"claim_id": a.claim_id, "field": a.field, "old": str(a.old), "new": str(a.new)}


# Strict readers (the verifier's) ----------------------------------------------------------------


def class_from_payload(item: JsonValue) -> ClaimClass:
    p = record(item, _CLASS_FIELDS)
    return ClaimClass(text(p, "code"), text(p, "name"), integer(p, "priority"))


def estate_fields(payload: Mapping[str, JsonValue]) -> Mapping[str, JsonValue]:
    """The ``estate.created`` payload, checked for its field names."""
    if payload.keys() != _ESTATE_FIELDS:
        raise PayloadError(f"fields {sorted(payload)} != {sorted(_ESTATE_FIELDS)}")
    return payload


def claim_from_payload(item: JsonValue) -> RegisterRow:
    """The claim a ``claims.imported`` item names; ``PayloadError`` if it is not one."""
    if type(item) is not dict or item.keys() != CLAIM_FIELDS:
        raise PayloadError("an item is not a claim record")
    claim_id, customer = item["claim_id"], item["customer_code"]
    email, holder = item["email_commitment"], item["holder_commitment"]
    iso, class_code, status = item["jurisdiction"], item["class_code"], item["status"]
    # One test per field, unrolled: this runs once per claim of every replayed import.
    if (
        type(claim_id) is not str
        or type(customer) is not str
        or type(email) is not str
        or type(holder) is not str
        or type(iso) is not str
        or type(class_code) is not str
        or type(status) is not str
    ):
        raise PayloadError("a claim field is not text")
    amount = integer(item, "admitted_minor")
    return RegisterRow(claim_id, customer, email, holder, iso, class_code, amount, status)


def amendment_from_payload(item: JsonValue) -> Amendment:
    """The amendment an item names: ``admitted_minor``'s values as ``int``, others as text."""
    p = record(item, _AMENDMENT_FIELDS)
    claim_id, name = text(p, "claim_id"), text(p, "field")
    if name == "admitted_minor":
        return Amendment(claim_id, name, integer(p, "old"), integer(p, "new"))
    return Amendment(claim_id, name, text(p, "old"), text(p, "new"))


def entry_from_payload(item: JsonValue) -> PolicyEntry:
    buyers = isinstance(item, dict) and "notes_buyers" in item
    p = record(item, _ENTRY_FIELDS | _BUYERS_FIELDS if buyers else _ENTRY_FIELDS)
    rails = p["rails"]
    if not isinstance(rails, list) or not all(isinstance(r, str) for r in rails):
        raise PayloadError("rails is not a list of text")
    names = tuple(r for r in rails if isinstance(r, str))
    if list(names) != sorted(set(names)):
        raise PayloadError("rails are not sorted and unique")
    return PolicyEntry(
        text(p, "iso"), text(p, "status"), text(p, "reason"), text(p, "source"),
        text(p, "effective_date"), names,
        text(p, "notes_buyers") if buyers else "",
        text(p, "notes_buyers_source") if buyers else "",
    )  # fmt: skip


T = TypeVar("T")


def decode_items(
    items: list[JsonValue], decode: Callable[[JsonValue], T]
) -> list[T] | ClaimsRejection:
    """Every item of a logged list through ``decode``, or ``payload_malformed`` at the first
    one it refuses."""
    malformed = partial(ClaimsRejection, EventCode.payload_malformed)
    return payload_fields.decode_items(items, decode, malformed)


def items_of(payload: Mapping[str, JsonValue], name: str, extra: frozenset[str]) -> list[JsonValue]:
    """The non-empty list ``payload[name]``, checking the payload has exactly ``{name} | extra``."""
    if payload.keys() != {name} | extra:
        raise PayloadError(f"fields {sorted(payload)} != {sorted({name} | extra)}")
    items = payload[name]
    if not isinstance(items, list) or not items:
        raise PayloadError(f"{name} is not a non-empty list")
    return items


def texts(payload: Mapping[str, JsonValue], names: tuple[str, ...]) -> tuple[str, ...]:
    """The payload's fields, exactly ``names``, each text."""
    if len(payload) != len(names) or not all(n in payload for n in names):
        raise PayloadError(f"fields {sorted(payload)} != {sorted(names)}")
    return tuple(text(payload, n) for n in names)
