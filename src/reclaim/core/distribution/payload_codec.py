"""The distribution events' payloads, written from and read into the core's values.

The shapes are listed in ``reclaim.core.distribution.payloads``; readers are strict
(``reclaim.core.payload_fields``: exact fields, decimal integers, sorted lists) and raise
``PayloadError``, which ``check_distribution`` returns as ``payload_malformed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from reclaim.core.distribution.model import (
    ClassRound,
    ClassTerms,
    Plan,
    Round,
)
from reclaim.core.distribution.payloads import (
    LINE_FIELDS,
)
from reclaim.core.distribution.state import (
    Approval,
    FxUse,
    Line,
    class_round_json,
)
from reclaim.core.payload_fields import PayloadError, integer, record, text
from reclaim.core.types import JsonValue

_FD: Final = frozenset


_CLASS_ROUND_FIELDS: Final = frozenset(
    {"class_code", "target", "cumulative_bps", "pool_minor", "interest_to"}
)


Payload = dict[str, JsonValue]


def plan_payload(plan: Plan) -> Payload:
    classes: list[JsonValue] = [
        {"class_code": c.class_code, "cap_bps": str(c.cap_bps), "interest": c.interest}
        for c in sorted(plan.classes.values())
    ]
    return {
        "estate_id": plan.estate_id,
        "classes": classes,
        "paid_statuses": list(sorted(plan.paid_statuses)),
        "reserved_statuses": list(sorted(plan.reserved_statuses)),
        "kyc_start_by": plan.kyc_start_by,
        "kyc_finish_by": plan.kyc_finish_by,
        "kyc_missed": plan.kyc_missed,
    }


def round_payload(r: Round) -> Payload:
    classes: list[JsonValue] = [class_round_json(c) for c in sorted(r.classes)]
    return {
        "round_id": r.round_id,
        "estate_id": r.estate_id,
        "record_date": r.record_date,
        "payment_date": r.payment_date,
        "classes": classes,
        "funding_minor": str(r.funding_minor),
    }


def line_payload(line: Line) -> Payload:
    out: Payload = {}
    for name, value in zip(Line._fields, line, strict=True):
        if name != "line":
            out[name] = str(value)
    return out


def _strings(items: JsonValue, name: str) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise PayloadError(f"{name} is not a list of text")
    out = [i for i in items if isinstance(i, str)]
    if out != sorted(set(out)):
        raise PayloadError(f"{name} is not sorted and unique")
    return out


def plan_from_payload(p: Mapping[str, JsonValue], set_at: str) -> Plan:
    p = record(
        dict(p),
        _FD({"estate_id", "classes", "paid_statuses", "reserved_statuses", "kyc_start_by",
             "kyc_finish_by", "kyc_missed"}),
    )  # fmt: skip
    items = p["classes"]
    if not isinstance(items, list):
        raise PayloadError("classes is not a list")
    classes: dict[str, ClassTerms] = {}
    for item in items:
        c = record(item, _FD({"class_code", "cap_bps", "interest"}))
        interest = c["interest"]
        if not isinstance(interest, bool):
            raise PayloadError("interest is not a boolean")
        code = text(c, "class_code")
        if code in classes or (classes and code < max(classes)):
            raise PayloadError("classes are not sorted and unique")
        classes[code] = ClassTerms(code, integer(c, "cap_bps"), interest)
    return Plan(
        text(p, "estate_id"),
        classes,
        tuple(_strings(p["paid_statuses"], "paid_statuses")),
        tuple(_strings(p["reserved_statuses"], "reserved_statuses")),
        text(p, "kyc_start_by"),
        text(p, "kyc_finish_by"),
        text(p, "kyc_missed"),
        set_at,
    )


def round_from_payload(p: Mapping[str, JsonValue], declared_at: str) -> Round:
    p = record(
        dict(p),
        _FD({"round_id", "estate_id", "record_date", "payment_date", "classes", "funding_minor"}),
    )
    items = p["classes"]
    if not isinstance(items, list):
        raise PayloadError("classes is not a list")
    classes: list[ClassRound] = []
    for item in items:
        c = record(
            item, _FD({"class_code", "target", "cumulative_bps", "pool_minor", "interest_to"})
        )
        classes.append(
            ClassRound(
                text(c, "class_code"),
                text(c, "target"),
                integer(c, "cumulative_bps"),
                integer(c, "pool_minor"),
                text(c, "interest_to"),
            )
        )
    if classes != sorted(classes):
        raise PayloadError("classes are not sorted by code")
    return Round(
        text(p, "round_id"), text(p, "estate_id"), text(p, "record_date"),
        text(p, "payment_date"), tuple(classes), integer(p, "funding_minor"), declared_at,
    )  # fmt: skip


def approval_from_payload(p: Mapping[str, JsonValue], time: str, actor: str) -> Approval:
    p = record(
        dict(p),
        _FD({"round_id", "lines_sha256", "lines", "usd_total_minor", "escrow_total_minor",
             "rates"}),
    )  # fmt: skip
    items = p["rates"]
    if not isinstance(items, list):
        raise PayloadError("rates is not a list")
    rates: list[FxUse] = []
    for item in items:
        u = record(item, _FD({"asset", "rate", "numerator", "denominator"}))
        rates.append(
            FxUse(
                text(u, "asset"),
                text(u, "rate"),
                integer(u, "numerator"),
                integer(u, "denominator"),
            )
        )
    if rates != sorted(rates) or len({u.asset for u in rates}) != len(rates):
        raise PayloadError("rates are not sorted by asset and unique")
    return Approval(
        text(p, "lines_sha256"), integer(p, "lines"), integer(p, "usd_total_minor"),
        integer(p, "escrow_total_minor"), tuple(rates), time, actor,
    )  # fmt: skip


def lines_from_payload(p: Mapping[str, JsonValue]) -> tuple[str, int, list[Line]]:
    p = record(dict(p), _FD({"round_id", "first_line", "lines"}))
    items = p["lines"]
    if not isinstance(items, list) or not items:
        raise PayloadError("lines is not a non-empty list")
    first = integer(p, "first_line")
    lines: list[Line] = []
    for offset, item in enumerate(items):
        f = record(item, LINE_FIELDS)
        lines.append(
            Line(
                first + offset,
                text(f, "claim_id"),
                text(f, "class_code"),
                text(f, "jurisdiction"),
                text(f, "status"),
                text(f, "destination"),
                text(f, "reason"),
                text(f, "payee"),
                text(f, "account_id"),
                integer(f, "entitlement_minor"),
                integer(f, "received_minor"),
                integer(f, "usd_minor"),
                text(f, "asset"),
                integer(f, "amount_minor"),
            )
        )
    return text(p, "round_id"), first, lines
