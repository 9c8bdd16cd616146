"""Jurisdiction policy as dated data, the treatment in force at a date, and the register report.

A jurisdiction's history is the list of entries set for it, in the order they were set. The
entry **in force** on a date is the one with the latest ``effective_date`` on or before that
date; of several with that date, the one set last (so a mistaken entry is corrected by setting
the same date again; the history keeps both). A jurisdiction with no entry in force is
``unlisted``: the policy says nothing about it, and the report counts it apart from ``open``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from reclaim.core.claims.codes import ClaimsRejection, EventCode, PolicyCode
from reclaim.core.claims.model import (
    EXPUNGED,
    NOTES_BUYERS,
    POLICY_STATUSES,
    RAIL_RE,
    RESTRICTED,
    SANCTIONED,
    STATUSES,
    ClaimsState,
    Decision,
    Payload,
    PolicyEntry,
    PolicyRecord,
    Result,
    SetPolicy,
    is_date,
    is_text,
    policy_entry_payload,
)
from reclaim.core.claims.payloads import POLICY_SET, decode_items, entry_from_payload, items_of
from reclaim.core.iso3166 import ALPHA2
from reclaim.core.limits import (
    policy_entries_per_event_max,
    policy_history_max,
    policy_reason_length_max_chars,
    policy_source_length_max_chars,
)
from reclaim.core.limits import policy_rails_per_entry_max as rails_per_entry_max
from reclaim.core.types import JsonValue

_P = PolicyCode
#: The report's policy column of a jurisdiction with no entry in force.
UNLISTED: Final = "unlisted"


# jurisdiction.policy_set ------------------------------------------------------------------------


def decide_policy(state: ClaimsState, command: SetPolicy) -> Decision | ClaimsRejection:
    entries = command.entries
    if len(entries) > policy_entries_per_event_max:
        return ClaimsRejection(
            EventCode.batch_too_large, None, f"more than {policy_entries_per_event_max} entries"
        )
    normal = [e._replace(rails=tuple(sorted(set(e.rails)))) for e in entries]
    codes = policy_codes(state, normal)
    refused = next((i for i, c in enumerate(codes) if c not in (_P.ok, _P.exists)), None)
    if refused is not None:
        return ClaimsRejection(codes[refused], refused, f"entry for {normal[refused].iso!r}")
    results = tuple(Result(i, e.iso, c) for i, (e, c) in enumerate(zip(normal, codes, strict=True)))
    items: list[JsonValue] = [
        policy_entry_payload(e) for e, c in zip(normal, codes, strict=True) if c is _P.ok
    ]
    if not items:
        return Decision([], results)
    payload: Payload = {"entries": items}
    return Decision([(POLICY_SET, payload)], results)


def check_policy(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    items = items_of(payload, "entries", frozenset())
    if len(items) > policy_entries_per_event_max:
        return ClaimsRejection(EventCode.batch_too_large, None, f"{len(items)} entries")
    entries = decode_items(items, entry_from_payload)
    if isinstance(entries, ClaimsRejection):
        return entries
    for index, code in enumerate(policy_codes(state, entries)):
        if code is not _P.ok:  # an entry already in the history is no change to log
            return ClaimsRejection(code, index, f"entry for {entries[index].iso!r}")
    return None


def policy_codes(state: ClaimsState, entries: Sequence[PolicyEntry]) -> list[PolicyCode]:
    """The answer for each entry (rails sorted and unique), seeing the entries before it."""
    codes: list[PolicyCode] = []
    seen: set[tuple[str, str]] = set()
    added: dict[str, int] = {}
    for entry in entries:
        code = entry_code(entry)
        key = (entry.iso, entry.effective_date)
        if code is _P.ok and key in seen:
            code = _P.entry_duplicated
        history = state.policy.get(entry.iso, [])
        if code is _P.ok and _latest_set(history, entry.effective_date) == entry:
            code = _P.exists
        if code is _P.ok and len(history) + added.get(entry.iso, 0) >= policy_history_max:
            code = _P.history_full
        if code is _P.ok:
            seen.add(key)
            added[entry.iso] = added.get(entry.iso, 0) + 1
        codes.append(code)
    return codes


def _latest_set(history: Sequence[PolicyRecord], effective_date: str) -> PolicyEntry | None:
    """The entry set last for ``effective_date`` (the one in force from that date)."""
    for record in reversed(history):
        if record.entry.effective_date == effective_date:
            return record.entry
    return None


def entry_code(e: PolicyEntry) -> PolicyCode:
    """The first fault of a policy entry on its own, or ``ok``."""
    if e.iso not in ALPHA2:
        return _P.iso_unknown
    if e.status not in POLICY_STATUSES:
        return _P.status_unknown
    if not is_text(e.reason, policy_reason_length_max_chars):
        return _P.reason_invalid
    if not is_text(e.source, policy_source_length_max_chars, ascii_only=True):
        return _P.source_invalid
    if not is_date(e.effective_date):
        return _P.effective_date_invalid
    if len(e.rails) > rails_per_entry_max or not all(
        isinstance(r, str) and RAIL_RE.fullmatch(r) for r in e.rails
    ):
        return _P.rail_malformed
    if e.status == SANCTIONED and e.rails:
        return _P.sanctioned_with_rails
    # Who may buy notes: a known answer with its source, or neither (no new codes: an unknown
    # answer reads as an unknown status, a missing or stray source as an invalid source).
    if e.notes_buyers not in ("", *NOTES_BUYERS):
        return _P.status_unknown
    if bool(e.notes_buyers) != bool(e.notes_buyers_source) or (
        e.notes_buyers_source
        and not is_text(e.notes_buyers_source, policy_source_length_max_chars, ascii_only=True)
    ):
        return _P.source_invalid
    return _P.ok


def evolve_policy(state: ClaimsState, payload: Mapping[str, Any], time: str) -> None:
    for item in payload["entries"]:
        entry = entry_from_payload(item)
        state.policy.setdefault(entry.iso, []).append(PolicyRecord(entry, time))
        state.changed.add("jurisdiction/" + entry.iso)


# Treatment at a date ----------------------------------------------------------------------------


def treatment(state: ClaimsState, iso: str, on_date: str) -> PolicyEntry | None:
    """The entry in force for ``iso`` on ``on_date`` (``YYYY-MM-DD``), or ``None`` (unlisted).

    O(history of ``iso``), at most ``policy_history_max``.
    """
    assert is_date(on_date), f"{on_date!r} is not a date"
    found: PolicyEntry | None = None
    for record in state.policy.get(iso, ()):
        entry = record.entry
        # Later records win ties: a same-date entry set afterwards corrects the earlier one.
        if entry.effective_date <= on_date and (
            found is None or entry.effective_date >= found.effective_date
        ):
            found = entry
    return found


def claim_treatment(state: ClaimsState, claim_id: str, on_date: str) -> PolicyEntry | None:
    """The policy entry in force on ``on_date`` for the jurisdiction of a claim (which must
    exist), or ``None`` if its jurisdiction is unlisted."""
    claim = state.claims.get(claim_id)
    assert claim is not None, f"no claim {claim_id!r}"
    return treatment(state, claim.jurisdiction, on_date)


# The register report ----------------------------------------------------------------------------


class Tally(NamedTuple):
    claims: int
    admitted_minor: int


class JurisdictionShare(NamedTuple):
    """A restricted jurisdiction's owed claims and its share of everything owed in restricted
    jurisdictions."""

    iso: str
    tally: Tally
    share_of_restricted_bps: int | None


@dataclass(frozen=True, slots=True)
class Report:
    """The register of an estate by jurisdiction and status, under the policy in force on
    ``on_date``. Exact integers; shares are basis points (see ``share_bps``).

    - ``by_jurisdiction_status``: every (jurisdiction, claim status) with claims, sorted;
    - ``by_policy_status``: owed claims (every status but expunged) by the policy status of
      their jurisdiction on ``on_date``: open, restricted, sanctioned, unlisted (in that order);
    - ``total``: every claim; ``owed``: every claim not expunged;
    - ``restricted_share_bps`` / ``sanctioned_share_bps``: of the owed amount;
    - ``restricted_by_jurisdiction``: the restricted jurisdictions, largest owed amount first
      (ties by code), each with its share of the restricted amount (e.g. mainland China's).
    """

    estate_id: str
    on_date: str
    by_jurisdiction_status: tuple[tuple[str, str, Tally], ...]
    by_policy_status: tuple[tuple[str, Tally], ...]
    total: Tally
    owed: Tally
    restricted_share_bps: int | None
    sanctioned_share_bps: int | None
    restricted_by_jurisdiction: tuple[JurisdictionShare, ...]

    def policy_tally(self, status: str) -> Tally:
        return dict(self.by_policy_status)[status]


def share_bps(part: int, whole: int) -> int | None:
    """``part / whole`` in basis points, rounded to the nearest (halves up), with integers only;
    ``None`` when ``whole`` is 0 (nothing to share)."""
    assert 0 <= part <= whole, f"{part} is not a part of {whole}"
    if whole == 0:
        return None
    return (part * 20_000 + whole) // (2 * whole)


def register_report(state: ClaimsState, estate_id: str, on_date: str) -> Report:
    """The report of one estate's register on ``on_date`` (O(all claims), one pass)."""
    assert estate_id in state.estates, f"no estate {estate_id!r}"
    assert is_date(on_date), f"{on_date!r} is not a date"
    cells: dict[tuple[str, str], list[int]] = {}
    for claim in state.estate_claims(estate_id):
        cell = cells.get((claim.jurisdiction, claim.status))
        if cell is None:
            cell = cells[(claim.jurisdiction, claim.status)] = [0, 0]
        cell[0] += 1
        cell[1] += claim.admitted_minor
    status_order = {s: i for i, s in enumerate(STATUSES)}
    keys = sorted(cells, key=lambda k: (k[0], status_order[k[1]]))
    by_cell = tuple((iso, status, Tally(*cells[(iso, status)])) for iso, status in keys)
    policy_of = {iso: treatment(state, iso, on_date) for iso in sorted({k[0] for k in keys})}
    by_policy: dict[str, list[int]] = {s: [0, 0] for s in (*POLICY_STATUSES, UNLISTED)}
    by_restricted: dict[str, list[int]] = {}
    total, owed = [0, 0], [0, 0]
    for iso, status, tally in by_cell:
        _add(total, tally)
        if status == EXPUNGED:
            continue
        _add(owed, tally)
        entry = policy_of[iso]
        policy = UNLISTED if entry is None else entry.status
        _add(by_policy[policy], tally)
        if policy == RESTRICTED:
            _add(by_restricted.setdefault(iso, [0, 0]), tally)
    restricted = by_policy[RESTRICTED][1]
    shares = tuple(
        JurisdictionShare(
            iso, Tally(*by_restricted[iso]), share_bps(by_restricted[iso][1], restricted)
        )
        for iso in sorted(by_restricted, key=lambda i: (-by_restricted[i][1], i))
    )
    return Report(
        estate_id, on_date, by_cell,
        tuple((s, Tally(*t)) for s, t in by_policy.items()),
        Tally(*total), Tally(*owed),
        share_bps(restricted, owed[1]), share_bps(by_policy[SANCTIONED][1], owed[1]), shares,
    )  # fmt: skip


def _add(into: list[int], tally: Tally) -> None:
    into[0] += tally.claims
    into[1] += tally.admitted_minor
