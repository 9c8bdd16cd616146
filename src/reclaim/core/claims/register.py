"""Estates and the claims register: ladders, appliers, and the plan of a register import.

A register version is imported by ``plan_register_import``, which compares it with the state
and returns the commands that bring the register to it (new claims, explicit amendments), or a
``RegisterRefusal`` listing every bad row. The commands' ladders (``import_rejection``,
``amend_rejection``) are the ones ``check_claims`` re-runs on replay.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Generic, TypeVar, cast

from reclaim.core.claims.codes import ClaimCode, ClaimsCode, ClaimsRejection, EstateCode, EventCode
from reclaim.core.claims.model import (
    AMENDABLE_FIELDS,
    CLAIM_ID_RE,
    CLASS_CODE_RE,
    DAY_COUNTS,
    ESTATE_ID_RE,
    EXPUNGED,
    HEX64_RE,
    IDENTITY_FIELDS,
    INTEREST_METHODS,
    STATUSES,
    AmendClaims,
    Amendment,
    Claim,
    ClaimClass,
    ClaimsState,
    CreateEstate,
    Decision,
    Estate,
    ImportClaims,
    Payload,
    RegisterRow,
    is_date,
    is_text,
)
from reclaim.core.claims.payloads import (
    CLAIMS_AMENDED,
    CLAIMS_IMPORTED,
    ESTATE_CREATED,
    PayloadError,
    amendment_from_payload,
    amendment_payload,
    claim_from_payload,
    claim_payload,
    class_from_payload,
    class_payload,
    decode_items,
    estate_fields,
    integer,
    items_of,
    text,
)
from reclaim.core.iso3166 import ALPHA2
from reclaim.core.limits import (
    amendments_per_event_max,
    claims_per_event_max,
    class_priority_max,
    classes_per_estate_max,
    consensus_rate_max_bps,
    integer_max,
    register_rows_max,
)
from reclaim.core.limits import claims_name_length_max_chars as name_length_max_chars
from reclaim.core.limits import register_report_errors_max as register_problems_max
from reclaim.core.types import JsonValue

_C = ClaimCode
_OK: Final = ClaimCode.ok
_STATUSES: Final = frozenset(STATUSES)
_AMENDABLE: Final = frozenset(AMENDABLE_FIELDS)
_claim_id_form = CLAIM_ID_RE.fullmatch
_hex64_form = HEX64_RE.fullmatch
_intern = sys.intern
_tuple_new = tuple.__new__
T = TypeVar("T")


# Estates ----------------------------------------------------------------------------------------


def decide_estate(state: ClaimsState, command: CreateEstate) -> Decision | ClaimsRejection:
    assert all(type(c.priority) is int for c in command.classes), "priorities are ints"
    assert type(command.convenience_threshold_minor) is int, "the threshold is an int"
    assert type(command.consensus_rate_bps) is int, "the rate is an int"
    code, detail = estate_ladder(state, command)
    if code is not EstateCode.ok:
        return ClaimsRejection(code, None, detail)
    classes: list[JsonValue] = [
        class_payload(c) for c in sorted(command.classes, key=lambda c: (c.priority, c.code))
    ]
    payload: Payload = {
        "estate_id": command.estate_id,
        "name": command.name,
        "petition_date": command.petition_date,
        "classes": classes,
        "convenience_class": command.convenience_class,
        "convenience_threshold_minor": str(command.convenience_threshold_minor),
        "consensus_rate_bps": str(command.consensus_rate_bps),
        "interest": command.interest,
        "day_count": command.day_count,
    }
    return Decision([(ESTATE_CREATED, payload)])


def estate_ladder(state: ClaimsState, c: CreateEstate) -> tuple[EstateCode, str]:
    """The first reason the estate may not be created, or ``ok``."""
    e = EstateCode
    if ESTATE_ID_RE.fullmatch(c.estate_id) is None:
        return e.estate_id_malformed, repr(c.estate_id)
    if c.estate_id in state.estates:
        return e.estate_exists, repr(c.estate_id)
    if not is_text(c.name, name_length_max_chars):
        return e.name_invalid, repr(c.name)
    if not is_date(c.petition_date):
        return e.petition_date_invalid, repr(c.petition_date)
    if not 0 < len(c.classes) <= classes_per_estate_max:
        return e.classes_count_out_of_range, f"{len(c.classes)} classes"
    # One rung at a time over all classes, so the first code in precedence order wins.
    for cls in c.classes:
        if CLASS_CODE_RE.fullmatch(cls.code) is None:
            return e.class_code_malformed, repr(cls.code)
    codes = [cls.code for cls in c.classes]
    if len(set(codes)) != len(codes):
        return e.class_code_duplicated, repr(sorted(x for x in codes if codes.count(x) > 1))
    for cls in c.classes:
        if not is_text(cls.name, name_length_max_chars):
            return e.class_name_invalid, f"class {cls.code!r}"
    for cls in c.classes:
        if not 1 <= cls.priority <= class_priority_max:
            return e.class_priority_out_of_range, f"class {cls.code!r}: {cls.priority}"
    if c.convenience_class and c.convenience_class not in codes:
        return e.convenience_class_unknown, repr(c.convenience_class)
    threshold = c.convenience_threshold_minor
    if not 0 <= threshold <= integer_max or (not c.convenience_class and threshold):
        return e.convenience_threshold_out_of_range, str(threshold)
    if not 0 <= c.consensus_rate_bps <= consensus_rate_max_bps:
        return e.consensus_rate_out_of_range, str(c.consensus_rate_bps)
    if c.interest not in INTEREST_METHODS:
        return e.interest_method_unknown, repr(c.interest)
    if c.day_count not in DAY_COUNTS:
        return e.day_count_unknown, repr(c.day_count)
    return e.ok, ""


def check_estate(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    p = estate_fields(payload)
    items = p["classes"]
    if not isinstance(items, list):
        raise PayloadError("classes is not a list")
    classes = tuple(class_from_payload(item) for item in items)
    if list(classes) != sorted(classes, key=lambda c: (c.priority, c.code)):
        raise PayloadError("classes are not sorted by (priority, code)")
    command = CreateEstate(
        text(p, "estate_id"), text(p, "name"), text(p, "petition_date"), classes,
        text(p, "convenience_class"), integer(p, "convenience_threshold_minor"),
        integer(p, "consensus_rate_bps"), text(p, "interest"), text(p, "day_count"),
    )  # fmt: skip
    code, detail = estate_ladder(state, command)
    return None if code is EstateCode.ok else ClaimsRejection(code, None, detail)


def evolve_estate(state: ClaimsState, payload: Mapping[str, Any], time: str) -> None:
    classes = [class_from_payload(item) for item in payload["classes"]]
    estate_id = _intern(payload["estate_id"])
    state.estates[estate_id] = Estate(
        estate_id, payload["name"], payload["petition_date"],
        {_intern(c.code): c for c in classes}, payload["convenience_class"],
        int(payload["convenience_threshold_minor"]), int(payload["consensus_rate_bps"]),
        payload["interest"], payload["day_count"], time,
    )  # fmt: skip
    state.totals[estate_id] = 0
    state.changed.add("estate/" + estate_id)


# One register row (a claim) -------------------------------------------------------------------


def row_code(row: RegisterRow, classes: Mapping[str, ClaimClass]) -> ClaimCode:
    """The first fault of a claim on its own (rungs 10-18), or ``ok``.

    The hot loop of a register import: one call per row, so the fields are unpacked once and
    each rung is a compiled regex or a set lookup.
    """
    claim_id, customer, email, holder, iso, class_code, amount, status = row
    if _claim_id_form(claim_id) is None:
        return _C.claim_id_malformed
    if _claim_id_form(customer) is None:
        return _C.customer_code_malformed
    if _hex64_form(email) is None:
        return _C.email_commitment_malformed
    if _hex64_form(holder) is None:
        return _C.holder_commitment_malformed
    if iso not in ALPHA2:
        return _C.jurisdiction_unknown
    if class_code not in classes:
        return _C.class_unknown
    if type(amount) is not int or not 0 <= amount <= integer_max:
        return _C.amount_out_of_range
    if status not in _STATUSES:
        return _C.status_unknown
    return _OK


def field_code(name: str, value: object, classes: Mapping[str, ClaimClass]) -> ClaimCode:
    """The fault of ``value`` as the new value of field ``name`` of a claim, or ``ok``."""
    if name == "admitted_minor":
        ok = type(value) is int and 0 <= value <= integer_max
        return _OK if ok else _C.amount_out_of_range
    if not isinstance(value, str):
        return _FIELD_FAULTS[name]
    ok = {
        "customer_code": _claim_id_form(value) is not None,
        "email_commitment": _hex64_form(value) is not None,
        "holder_commitment": _hex64_form(value) is not None,
        "jurisdiction": value in ALPHA2,
        "class_code": value in classes,
        "status": value in _STATUSES,
    }[name]
    return _OK if ok else _FIELD_FAULTS[name]


_FIELD_FAULTS: Final = {
    "customer_code": _C.customer_code_malformed,
    "email_commitment": _C.email_commitment_malformed,
    "holder_commitment": _C.holder_commitment_malformed,
    "jurisdiction": _C.jurisdiction_unknown,
    "class_code": _C.class_unknown,
    "admitted_minor": _C.amount_out_of_range,
    "status": _C.status_unknown,
}


# claims.imported --------------------------------------------------------------------------------


def decide_import(state: ClaimsState, command: ImportClaims) -> Decision | ClaimsRejection:
    return _decide_batch(state, command.estate_id, command.register_id, command.claims, _IMPORT)


def check_import(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    return _check_batch(state, payload, _IMPORT)


def import_rejection(
    state: ClaimsState, estate_id: str, register_id: str, rows: Sequence[RegisterRow]
) -> ClaimsRejection | None:
    """The first reason the new claims ``rows`` may not join the estate's register, or None."""
    head = _register_head(state, estate_id, register_id)
    if isinstance(head, ClaimsRejection):
        return head
    classes = head.classes
    claims = state.claims
    seen: set[str] = set()
    total = state.totals[estate_id]
    for index, row in enumerate(rows):
        code = row_code(row, classes)
        if code is _OK:
            claim_id = row.claim_id
            existing = claims.get(claim_id)
            if claim_id in seen:
                code = _C.claim_id_duplicated
            elif existing is not None:
                code = (
                    _C.claim_in_other_estate if existing.estate_id != estate_id else _C.claim_exists
                )
        if code is not _OK:
            return ClaimsRejection(code, index, f"claim {row.claim_id!r}")
        seen.add(row.claim_id)
        total += row.admitted_minor
    if total > integer_max:
        return ClaimsRejection(_C.estate_total_exceeds_bigint, None, f"estate {estate_id!r}")
    return None


def evolve_import(state: ClaimsState, payload: Mapping[str, Any]) -> None:
    estate_id, register_id = _note_register(state, payload)
    claims, index, changed = state.claims, state.by_email, state.changed
    total = 0
    # The hot loop of a replay: a claim is built with ``tuple.__new__`` (no Python frame) and
    # its short repeated strings are interned, so a million claims share one "CN".
    for item in payload["claims"]:
        claim_id, email = item["claim_id"], item["email_commitment"]
        amount = int(item["admitted_minor"])
        claims[claim_id] = _tuple_new(Claim, (
            claim_id, item["customer_code"], email, item["holder_commitment"],
            _intern(item["jurisdiction"]), _intern(item["class_code"]), amount,
            _intern(item["status"]), estate_id, register_id, None, "",
        ))  # fmt: skip
        if email in index:
            index_add(index, email, claim_id)
        else:
            index[email] = claim_id
        changed.add("claim/" + claim_id)
        total += amount
    state.totals[estate_id] += total


# claims.amended ---------------------------------------------------------------------------------


def decide_amend(state: ClaimsState, command: AmendClaims) -> Decision | ClaimsRejection:
    c = command
    return _decide_batch(state, c.estate_id, c.register_id, c.amendments, _AMEND)


def check_amend(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    return _check_batch(state, payload, _AMEND)


def amend_rejection(
    state: ClaimsState, estate_id: str, register_id: str, amendments: Sequence[Amendment]
) -> ClaimsRejection | None:
    """The first reason ``amendments`` may not apply to the estate's register, or None."""
    head = _register_head(state, estate_id, register_id)
    if isinstance(head, ClaimsRejection):
        return head
    seen: set[tuple[str, str]] = set()
    total = state.totals[estate_id]
    for index, a in enumerate(amendments):
        code = amendment_code(state, head, a, seen)
        if code is not _OK:
            return ClaimsRejection(code, index, f"{a.field} of claim {a.claim_id!r}")
        seen.add((a.claim_id, a.field))
        if a.field == "admitted_minor":
            total += cast(int, a.new) - cast(int, a.old)
    if total > integer_max:
        return ClaimsRejection(_C.estate_total_exceeds_bigint, None, f"estate {estate_id!r}")
    return None


@dataclass(frozen=True, slots=True)
class _Batch(Generic[T]):
    """A register event of items (``claims.imported``, ``claims.amended``): its type, the
    payload list ``key`` (the noun of its refusals), its bound, the item codec and the ladder."""

    event_type: str
    key: str
    bound: int
    encode: Callable[[T], dict[str, JsonValue]]
    decode: Callable[[JsonValue], T]
    rejection: Callable[[ClaimsState, str, str, Sequence[T]], ClaimsRejection | None]


_IMPORT: Final = _Batch(
    CLAIMS_IMPORTED, "claims", claims_per_event_max, claim_payload, claim_from_payload,
    import_rejection,
)  # fmt: skip
_AMEND: Final = _Batch(
    CLAIMS_AMENDED, "amendments", amendments_per_event_max, amendment_payload,
    amendment_from_payload, amend_rejection,
)  # fmt: skip


def _decide_batch(
    state: ClaimsState, estate_id: str, register_id: str, items: Sequence[T], batch: _Batch[T]
) -> Decision | ClaimsRejection:
    if len(items) > batch.bound:
        return ClaimsRejection(
            EventCode.batch_too_large, None, f"more than {batch.bound} {batch.key}"
        )
    if not items:
        return Decision([])
    refused = batch.rejection(state, estate_id, register_id, items)
    if refused is not None:
        return refused
    encoded: list[JsonValue] = [batch.encode(item) for item in items]
    payload: Payload = {"estate_id": estate_id, "register_id": register_id, batch.key: encoded}
    return Decision([(batch.event_type, payload)])


def _check_batch(
    state: ClaimsState, payload: Mapping[str, JsonValue], batch: _Batch[T]
) -> ClaimsRejection | None:
    items = items_of(payload, batch.key, frozenset({"estate_id", "register_id"}))
    if len(items) > batch.bound:
        return ClaimsRejection(EventCode.batch_too_large, None, f"{len(items)} {batch.key}")
    decoded = decode_items(items, batch.decode)
    if isinstance(decoded, ClaimsRejection):
        return decoded
    estate_id, register_id = text(payload, "estate_id"), text(payload, "register_id")
    return batch.rejection(state, estate_id, register_id, decoded)


def amendment_code(
    state: ClaimsState, estate: Estate, a: Amendment, seen: set[tuple[str, str]]
) -> ClaimCode:
    """The first fault of one amendment (``seen``: the (claim, field) pairs before it)."""
    if not isinstance(a.claim_id, str) or _claim_id_form(a.claim_id) is None:
        return _C.claim_id_malformed
    if a.field not in _AMENDABLE:
        return _C.amendment_field_unknown
    code = field_code(a.field, a.new, estate.classes)
    if code is not _OK:
        return code
    if (a.claim_id, a.field) in seen:
        return _C.amendment_duplicated
    claim = state.claims.get(a.claim_id)
    if claim is None:
        return _C.claim_not_found
    if claim.estate_id != estate.id:
        return _C.claim_in_other_estate
    current = getattr(claim, a.field)
    if type(a.old) is not type(current) or a.old != current:
        return _C.amendment_old_value_mismatch
    if a.new == current:
        return _C.amendment_changes_nothing
    if a.field in IDENTITY_FIELDS and claim.linked_creditor is not None:
        return _C.linked_claim_identity_change
    return _OK


def evolve_amend(state: ClaimsState, payload: Mapping[str, Any]) -> None:
    estate_id, register_id = _note_register(state, payload)
    claims, changed = state.claims, state.changed
    for item in payload["amendments"]:
        claim_id, name = item["claim_id"], item["field"]
        claim = claims[claim_id]
        value: Any
        if name == "admitted_minor":
            value = int(item["new"])
            state.totals[estate_id] += value - claim.admitted_minor
        elif name == "email_commitment":
            value = item["new"]
            index_remove(state.by_email, claim.email_commitment, claim_id)
            index_add(state.by_email, value, claim_id)
        else:
            value = _intern(item["new"])
        claims[claim_id] = claim._replace(**{name: value, "register_id": register_id})
        changed.add("claim/" + claim_id)


# Shared by both ---------------------------------------------------------------------------------


def _register_head(
    state: ClaimsState, estate_id: str, register_id: str
) -> Estate | ClaimsRejection:
    estate = state.estates.get(estate_id)
    if estate is None:
        return ClaimsRejection(_C.estate_not_found, None, repr(estate_id))
    if _hex64_form(register_id) is None:
        return ClaimsRejection(_C.register_id_malformed, None, repr(register_id))
    return estate


def _note_register(state: ClaimsState, payload: Mapping[str, Any]) -> tuple[str, str]:
    """The estate's id and the event's register id (interned); records the register version
    in the estate the first time it changes the register."""
    estate = state.estates[payload["estate_id"]]
    register_id = _intern(payload["register_id"])
    if register_id not in estate.registers:
        state.estates[estate.id] = replace(estate, registers=(*estate.registers, register_id))
        state.changed.add("estate/" + estate.id)
    return estate.id, register_id


def index_add(index: dict[str, str | tuple[str, ...]], email: str, claim_id: str) -> None:
    found = index.get(email)
    if found is None:
        index[email] = claim_id
    elif isinstance(found, str):
        index[email] = (found, claim_id)
    else:
        index[email] = (*found, claim_id)


def index_remove(index: dict[str, str | tuple[str, ...]], email: str, claim_id: str) -> None:
    found = index[email]
    if isinstance(found, str):
        assert found == claim_id, f"index: {email} holds {found}, not {claim_id}"
        del index[email]
        return
    rest = tuple(c for c in found if c != claim_id)
    assert len(rest) == len(found) - 1, f"index: {email} does not hold {claim_id}"
    index[email] = rest[0] if len(rest) == 1 else rest


# The plan of a register import ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A bad row: its 0-based position in the register (``None`` for the register as a whole),
    its claim id, the code and why."""

    row: int | None
    claim_id: str
    code: ClaimsCode
    detail: str


@dataclass(frozen=True, slots=True)
class RegisterRefusal:
    """A register that imports nothing: the first ``register_problems_max`` problems, in row
    order, and how many there are in all."""

    problems: tuple[RowProblem, ...]
    problem_count: int


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The commands that bring the estate's register to the imported version, in order:
    amendments (``AmendClaims``: lowered amounts, then the other changes in row order, then the
    expunging of missing claims by claim id), then new claims (``ImportClaims``, in row order).
    No command: a no-op."""

    commands: tuple[ImportClaims | AmendClaims, ...]
    new_claims: int
    amended_claims: int
    expunged_claims: int
    unchanged_claims: int


def plan_register_import(
    state: ClaimsState,
    estate_id: str,
    register_id: str,
    rows: Sequence[RegisterRow],
    *,
    full_schedule: bool = True,
) -> ImportPlan | RegisterRefusal:
    """Compare a register version with the estate's register: what to import and amend.

    Every row is validated (the same rungs as ``claims.imported``); a single bad row refuses the
    whole register, listing every bad row. A row whose claim exists unchanged is nothing to do,
    so re-importing a file is a no-op; a changed field is an explicit amendment ``{field, old,
    new}``. With ``full_schedule`` (the default: a register version is the whole schedule), a
    claim of the estate that the version does not list is amended to ``expunged`` — never left
    silently as it was; ``full_schedule=False`` reads a supplement and leaves missing claims
    alone.

    The commands hold against ``state`` applied in order (each sees the ones before it), so
    the app appends them in one transaction; a plan re-made after a partial append continues
    where it stopped. Lowered amounts come first, so the estate's total fits BIGINT after
    every command exactly when it fits after the last.
    """
    estate = state.estates.get(estate_id)
    if estate is None:
        return _refusal(_C.estate_not_found, repr(estate_id))
    if _hex64_form(register_id) is None:
        return _refusal(_C.register_id_malformed, repr(register_id))
    if len(rows) > register_rows_max:
        return _refusal(EventCode.batch_too_large, f"{len(rows)} rows > {register_rows_max}")
    scan = _Scan(state, estate)
    for index, row in enumerate(rows):
        scan.row(index, row)
    if full_schedule:
        scan.expunge_missing()
    if state.totals[estate_id] + scan.delta > integer_max:
        scan.problem(None, "", _C.estate_total_exceeds_bigint, f"estate {estate_id!r}")
    if scan.problem_count:
        return RegisterRefusal(tuple(scan.problems), scan.problem_count)
    # Lowered amounts first, so the estate's total only rises after them: each command then
    # fits BIGINT exactly when the whole plan does.
    amendments = scan.lowered + scan.amendments
    commands: list[ImportClaims | AmendClaims] = [
        AmendClaims(estate_id, register_id, tuple(amendments[i : i + amendments_per_event_max]))
        for i in range(0, len(amendments), amendments_per_event_max)
    ]
    commands += [
        ImportClaims(estate_id, register_id, tuple(scan.new[i : i + claims_per_event_max]))
        for i in range(0, len(scan.new), claims_per_event_max)
    ]
    return ImportPlan(tuple(commands), len(scan.new), scan.amended, scan.expunged, scan.unchanged)


class _Scan:
    """One pass over a register's rows."""

    def __init__(self, state: ClaimsState, estate: Estate) -> None:
        self.state, self.estate = state, estate
        self.seen: set[str] = set()
        self.new: list[RegisterRow] = []
        self.amendments: list[Amendment] = []
        self.lowered: list[Amendment] = []
        #: What the plan adds to the estate's total.
        self.delta = 0
        self.amended = self.expunged = self.unchanged = 0
        self.problems: list[RowProblem] = []
        self.problem_count = 0

    def row(self, index: int, row: RegisterRow) -> None:
        code = row_code(row, self.estate.classes)
        if code is not _OK:
            self.problem(index, row.claim_id, code, _ROW_DETAIL[code])
            return
        claim_id = row.claim_id
        if claim_id in self.seen:
            self.problem(index, claim_id, _C.claim_id_duplicated, "a claim id listed again")
            return
        self.seen.add(claim_id)
        existing = self.state.claims.get(claim_id)
        if existing is None:
            self.new.append(row)
            self.delta += row.admitted_minor
        elif existing.estate_id != self.estate.id:
            self.problem(index, claim_id, _C.claim_in_other_estate, existing.estate_id)
        elif existing[:8] == row:
            self.unchanged += 1
        else:
            self.changes(index, existing, row)

    def changes(self, index: int, existing: Claim, row: RegisterRow) -> None:
        olds: tuple[str | int, ...] = existing[1:8]
        news: tuple[str | int, ...] = row[1:8]
        changed = [
            Amendment(row.claim_id, name, old, new)
            for name, old, new in zip(AMENDABLE_FIELDS, olds, news, strict=True)
            if old != new
        ]
        if existing.linked_creditor is not None:
            identity = sorted(a.field for a in changed if a.field in IDENTITY_FIELDS)
            if identity:
                detail = f"{', '.join(identity)} of a claim linked to {existing.linked_creditor}"
                self.problem(index, row.claim_id, _C.linked_claim_identity_change, detail)
                return
        for a in changed:
            lowered = a.field == "admitted_minor" and row.admitted_minor < existing.admitted_minor
            (self.lowered if lowered else self.amendments).append(a)
        self.amended += 1
        self.delta += row.admitted_minor - existing.admitted_minor

    def expunge_missing(self) -> None:
        missing = [
            c for c in self.state.estate_claims(self.estate.id)
            if c.status != EXPUNGED and c.id not in self.seen
        ]  # fmt: skip
        missing.sort(key=lambda c: c.id)
        self.amendments += [Amendment(c.id, "status", c.status, EXPUNGED) for c in missing]
        self.expunged = len(missing)

    def problem(self, row: int | None, claim_id: str, code: ClaimsCode, detail: str) -> None:
        self.problem_count += 1
        if len(self.problems) < register_problems_max:
            self.problems.append(RowProblem(row, claim_id, code, detail))


_ROW_DETAIL: Final = {
    _C.claim_id_malformed: "not 1-64 characters of [A-Za-z0-9._:-]",
    _C.customer_code_malformed: "not 1-64 characters of [A-Za-z0-9._:-]",
    _C.email_commitment_malformed: "not 64 lower-case hex digits",
    _C.holder_commitment_malformed: "not 64 lower-case hex digits",
    _C.jurisdiction_unknown: "not an ISO 3166-1 alpha-2 code",
    _C.class_unknown: "not a class of the estate",
    _C.amount_out_of_range: "not an integer in 0..2**63-1",
    _C.status_unknown: f"not one of {', '.join(STATUSES)}",
}


def _refusal(code: ClaimsCode, detail: str) -> RegisterRefusal:
    return RegisterRefusal((RowProblem(None, "", code, detail),), 1)
