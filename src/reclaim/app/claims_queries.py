"""Read models of the claims register for the CLI, the API and (later) the public page.

Every function takes the log's ``State`` (read it under the writer lock: ``LogService.read``)
and returns canonical-JSON-ready data: integers as decimal text (``"123456"``), amounts both in
minor units (``admitted_minor``, USD cents) and as a decimal (``admitted``, ``"1234.56"``),
shares in basis points (``"8200"`` is 82.00%; ``null`` when there is nothing to share). No
personal data: claims appear only as counts and sums.

- ``estate_document``: an estate's terms, its register versions and its admitted total;
- ``report_document``: ``core.claims.register_report`` spelled out, with the policy status of
  each jurisdiction on the report's date;
- ``policy_in_force`` / ``jurisdiction_document``: the jurisdiction policy on a date.
"""

from __future__ import annotations

from typing import Final

from reclaim.core.claims import (
    UNLISTED,
    Estate,
    PolicyEntry,
    Report,
    Tally,
    policy_entry_payload,
    register_report,
    share_bps,
    treatment,
)
from reclaim.core.claims.model import RESTRICTED
from reclaim.core.machine import State
from reclaim.core.money import ASSETS, format_amount
from reclaim.core.types import JsonValue

USD: Final = ASSETS["USD"]
#: The currency of admitted amounts (dollarized at the petition date).
CURRENCY: Final = "USD"


def estate_document(state: State, estate_id: str) -> dict[str, JsonValue] | None:
    """The public terms of an estate, or ``None`` if there is none with this id."""
    estate = state.claims.estates.get(estate_id)
    if estate is None:
        return None
    return _estate(estate, state.claims.totals.get(estate_id, 0))


def _estate(estate: Estate, total_minor: int) -> dict[str, JsonValue]:
    classes: list[JsonValue] = [
        {"code": c.code, "name": c.name, "priority": str(c.priority)}
        for c in sorted(estate.classes.values(), key=lambda c: (c.priority, c.code))
    ]
    registers: list[JsonValue] = list(estate.registers)
    return {
        "estate_id": estate.id,
        "name": estate.name,
        "petition_date": estate.petition_date,
        "classes": classes,
        "convenience_class": estate.convenience_class,
        "convenience_threshold_minor": str(estate.convenience_threshold_minor),
        "consensus_rate_bps": str(estate.consensus_rate_bps),
        "interest": estate.interest,
        "day_count": estate.day_count,
        "created_at": estate.created_at,
        "registers": registers,
        "currency": CURRENCY,
        "admitted_minor": str(total_minor),
        "admitted": format_amount(total_minor, USD),
    }


def report_document(state: State, estate_id: str, on_date: str) -> dict[str, JsonValue] | None:
    """The register report of an estate on ``on_date``, or ``None`` if there is no such estate.

    O(claims of the whole register): one pass (``register_report``).
    """
    if estate_id not in state.claims.estates:
        return None
    report = register_report(state.claims, estate_id, on_date)
    return _report(state, report)


def _report(state: State, report: Report) -> dict[str, JsonValue]:
    policy_of: dict[str, str] = {}
    for iso, _, _ in report.by_jurisdiction_status:
        if iso not in policy_of:
            entry = treatment(state.claims, iso, report.on_date)
            policy_of[iso] = UNLISTED if entry is None else entry.status
    owed = report.owed.admitted_minor
    cells: list[JsonValue] = [
        {"jurisdiction": iso, "status": status, "policy_status": policy_of[iso], **_tally(tally)}
        for iso, status, tally in report.by_jurisdiction_status
    ]
    by_policy: list[JsonValue] = [
        {
            "policy_status": status,
            **_tally(tally),
            "share_of_owed_bps": _bps(share_bps(tally.admitted_minor, owed)),
        }
        for status, tally in report.by_policy_status
    ]
    restricted = report.policy_tally(RESTRICTED)
    shares: list[JsonValue] = [
        {
            "jurisdiction": share.iso,
            **_tally(share.tally),
            "share_of_restricted_bps": _bps(share.share_of_restricted_bps),
        }
        for share in report.restricted_by_jurisdiction
    ]
    return {
        "estate_id": report.estate_id,
        "on": report.on_date,
        "currency": CURRENCY,
        "total": _tally(report.total),
        "owed": _tally(report.owed),
        "by_policy_status": by_policy,
        "by_jurisdiction_status": cells,
        "restricted": {
            **_tally(restricted),
            "share_of_owed_bps": _bps(report.restricted_share_bps),
        },
        "sanctioned_share_of_owed_bps": _bps(report.sanctioned_share_bps),
        "restricted_by_jurisdiction": shares,
    }


def _tally(tally: Tally) -> dict[str, JsonValue]:
    return {
        "claims": str(tally.claims),
        "admitted_minor": str(tally.admitted_minor),
        "admitted": format_amount(tally.admitted_minor, USD),
    }


def _bps(value: int | None) -> str | None:
    return None if value is None else str(value)


def format_bps(text: str | None) -> str:
    """``"8200"`` as ``82.00%``; ``None`` (nothing to share) as ``-``."""
    if text is None:
        return "-"
    bps = int(text)
    return f"{bps // 100}.{bps % 100:02d}%"


# Jurisdiction policy ----------------------------------------------------------------------------


def policy_in_force(state: State, on_date: str) -> list[PolicyEntry]:
    """The entry in force on ``on_date`` of every jurisdiction that has one, by ISO code."""
    found = (treatment(state.claims, iso, on_date) for iso in sorted(state.claims.policy))
    return [entry for entry in found if entry is not None]


def entry_document(entry: PolicyEntry) -> dict[str, JsonValue]:
    return policy_entry_payload(entry)


def policy_document(state: State, on_date: str) -> dict[str, JsonValue]:
    entries: list[JsonValue] = [entry_document(e) for e in policy_in_force(state, on_date)]
    return {"on": on_date, "jurisdictions": entries}


def jurisdiction_document(state: State, iso: str, on_date: str) -> dict[str, JsonValue]:
    """One jurisdiction on ``on_date``: its status (``unlisted`` without an entry in force), the
    entry in force, and its whole history (each entry with the time it was set)."""
    entry = treatment(state.claims, iso, on_date)
    history: list[JsonValue] = [
        {**entry_document(record.entry), "set_at": record.set_at}
        for record in state.claims.policy.get(iso, ())
    ]
    return {
        "iso": iso,
        "on": on_date,
        "status": UNLISTED if entry is None else entry.status,
        "in_force": None if entry is None else entry_document(entry),
        "history": history,
    }
