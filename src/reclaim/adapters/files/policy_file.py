"""Jurisdiction policy files (CSV): dated, sourced entries, validated row by row.

Format: UTF-8 (a byte-order mark is tolerated), comma-separated with ``"`` quoting, a header
naming exactly these columns, in any order (``name`` is optional and for people only: it is not
logged)::

    iso,name,status,reason,source,effective_date,rails
    CN,China (mainland),restricted,"Named in ... motion of 2025-07-02 ...",https://...,2025-07-02,

- ``iso``: an ISO 3166-1 alpha-2 code, upper case (``cn`` is refused with the hint ``CN``);
- ``status``: ``open``, ``restricted`` or ``sanctioned``;
- ``reason``: why, in one line of at most 200 characters (it is published in the log);
- ``source``: where that is written (a URL or a docket reference), ASCII, at most 256;
- ``effective_date``: ``YYYY-MM-DD``, the first day the entry is in force;
- ``rails``: the payout rails that may serve the jurisdiction, separated by spaces (each
  ``[a-z0-9][a-z0-9_-]*``, e.g. ``sepa_eur usd_wire_hk usdc``); empty for none. A sanctioned
  jurisdiction has none.
- ``notes_buyers`` (optional): whether residents may buy recovery notes on the market,
  ``allowed`` or ``excluded``; empty: the market's default by status (open may buy, restricted
  and sanctioned may not). ``notes_buyers_source`` (required with it): where that is written.

One entry per (``iso``, ``effective_date``) in a file; a jurisdiction's later change is a row
with a later date (policy is a history, and a claim's treatment is the entry in force on a
date). ``load_policy_csv`` returns the entries only if every row is valid, otherwise a
``PolicyReport`` of every fault (``RegisterError``: 1-based data row, column, code, message),
as for register files.

The shipped example ``data/policies/ftx_restricted_jurisdictions_2025.csv`` holds the 27 of the
FTX Recovery Trust's 49 "potentially restricted foreign jurisdictions" (motion of 2025-07-02)
that press reports name, each ``restricted`` from 2025-07-02 with the report as its source and
**no rails**: the motion would pay through a licensed local partner only where counsel finds it
lawful, so until an operator records such a rail per jurisdiction, distributions to these
claims go to escrow. The other 22 jurisdictions were not found; an operator completes the list
from the motion's schedule.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from reclaim.adapters.files.register_format import RegisterError
from reclaim.app.claims_import import fault_lines
from reclaim.core import limits
from reclaim.core.claims import POLICY_STATUSES, PolicyCode, PolicyEntry
from reclaim.core.claims.model import NOTES_BUYERS, RAIL_RE, SANCTIONED, is_date, is_text
from reclaim.core.claims.policy import entry_code
from reclaim.core.iso3166 import ALPHA2
from reclaim.core.limits import (
    policy_file_rows_max,
    policy_reason_length_max_chars,
    policy_source_length_max_chars,
)
from reclaim.core.limits import policy_rails_per_entry_max as rails_per_entry_max

COLUMNS: Final = ("iso", "name", "status", "reason", "source", "effective_date", "rails",
                   "notes_buyers", "notes_buyers_source")  # fmt: skip
_OPTIONAL: Final = frozenset({"name", "notes_buyers", "notes_buyers_source"})
_REQUIRED: Final = tuple(c for c in COLUMNS if c not in _OPTIONAL)
#: Shipped example policies, by name.
SHIPPED_POLICIES: Final = ("ftx_restricted_jurisdictions_2025",)


@dataclass(frozen=True, slots=True)
class PolicyReport:
    """A policy file that sets nothing, and why: every fault (up to a bound)."""

    errors: tuple[RegisterError, ...]
    errors_total: int

    def lines(self) -> list[str]:
        return fault_lines(self.errors, self.errors_total)


def shipped_policy(name: str) -> Path:
    """The path of a shipped example policy (package data)."""
    assert name in SHIPPED_POLICIES, f"no shipped policy {name!r}"
    return Path(str(resources.files("reclaim") / "data" / "policies" / f"{name}.csv"))


def load_policy_csv(path: str | Path) -> list[PolicyEntry] | PolicyReport:
    """The entries of a policy file, in file order, if every row is valid."""
    data = Path(path).read_bytes()
    try:
        text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        return _file_fault("not_utf8", f"not UTF-8: byte at offset {exc.start:,}; save as UTF-8")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        return _file_fault("unreadable", f"not a readable CSV file: {exc}")
    if not records:
        return _file_fault("empty_file", "the file is empty (no header)")
    header, body = records[0], records[1:]
    faults = _header_faults(header)
    if faults:
        return _report(faults)
    if not body:
        return _file_fault("no_rows", "the file has no entries")
    if len(body) > policy_file_rows_max:
        return _file_fault("too_many_rows", f"{len(body):,} rows; at most {policy_file_rows_max:,}")
    entries: list[PolicyEntry] = []
    first_row: dict[tuple[str, str], int] = {}
    for number, record in enumerate(body, start=1):
        if len(record) != len(header):
            faults.append(
                RegisterError(
                    number, None, "wrong_field_count",
                    f"{len(record)} fields; the header has {len(header)}",
                )
            )  # fmt: skip
            continue
        cells = dict(zip(header, record, strict=True))
        entry, row_faults = _entry(number, cells)
        if entry is not None:
            key = (entry.iso, entry.effective_date)
            if key in first_row:
                message = f"{entry.iso} from {key[1]} is given in row {first_row[key]} already"
                row_faults.append(RegisterError(number, "effective_date", "duplicate", message))
            first_row.setdefault(key, number)
        faults += row_faults
        if entry is not None and not row_faults:
            entries.append(entry)
    if faults:
        return _report(faults)
    return entries


def _file_fault(code: str, message: str) -> PolicyReport:
    return PolicyReport((RegisterError(None, None, code, message),), 1)


def _report(faults: list[RegisterError]) -> PolicyReport:
    return PolicyReport(tuple(faults[: limits.register_report_errors_max]), len(faults))


def _header_faults(header: list[str]) -> list[RegisterError]:
    faults: list[RegisterError] = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            faults.append(RegisterError(None, name, "duplicate_column", "appears twice"))
        elif name not in COLUMNS:
            expected = ", ".join(COLUMNS)
            faults.append(
                RegisterError(None, name, "unknown_column", f"unknown column (expected {expected})")
            )
        seen.add(name)
    faults += [
        RegisterError(None, name, "missing_column", "missing")
        for name in _REQUIRED
        if name not in seen
    ]
    return faults


def _entry(number: int, cells: Mapping[str, str]) -> tuple[PolicyEntry | None, list[RegisterError]]:
    """The row's entry and its faults (one per cell, the first of the cell's ladder)."""
    faults: list[RegisterError] = []

    def fault(column: str, code: str, message: str) -> None:
        faults.append(RegisterError(number, column, code, message))

    iso, status = cells["iso"], cells["status"]
    reason, source, effective = cells["reason"], cells["source"], cells["effective_date"]
    rails = tuple(cells["rails"].split())
    if not iso:
        fault("iso", "missing_value", "is empty")
    elif iso.upper() in ALPHA2 and iso not in ALPHA2:
        fault("iso", "jurisdiction_not_upper_case", f"{iso!r} must be upper case ({iso.upper()})")
    elif iso not in ALPHA2:
        fault("iso", "unknown_jurisdiction", f"{iso!r} is not an ISO 3166-1 alpha-2 country code")
    if status not in POLICY_STATUSES:
        fault("status", "unknown_status", f"{status!r} is not one of {', '.join(POLICY_STATUSES)}")
    if not is_text(reason, policy_reason_length_max_chars):
        fault("reason", "invalid_text", _text_problem(reason, policy_reason_length_max_chars))
    if not is_text(source, policy_source_length_max_chars, ascii_only=True):
        problem = _text_problem(source, policy_source_length_max_chars)
        if source and source.isprintable() and not source.isascii():
            problem = f"{source!r} is not ASCII (percent-encode a URL)"
        fault("source", "invalid_text", problem)
    if not is_date(effective):
        fault("effective_date", "invalid_date", f"{effective!r} is not a date (YYYY-MM-DD)")
    bad_rails = [r for r in rails if RAIL_RE.fullmatch(r) is None]
    if bad_rails:
        fault("rails", "bad_rail", f"{bad_rails[0]!r} is not a rail name ([a-z0-9][a-z0-9_-]*)")
    elif len(set(rails)) > rails_per_entry_max:
        fault("rails", "too_many_rails", f"{len(set(rails))} rails; at most {rails_per_entry_max}")
    elif status == SANCTIONED and rails:
        fault("rails", "sanctioned_with_rails", "a sanctioned jurisdiction is served by no rail")
    buyers, buyers_source = cells.get("notes_buyers", ""), cells.get("notes_buyers_source", "")
    if buyers not in ("", *NOTES_BUYERS):
        answers = ", ".join(NOTES_BUYERS)
        fault("notes_buyers", "unknown_value", f"{buyers!r} is not one of {answers}")
    elif buyers and not is_text(buyers_source, policy_source_length_max_chars, ascii_only=True):
        problem = _text_problem(buyers_source, policy_source_length_max_chars)
        fault("notes_buyers_source", "invalid_text", problem)
    elif buyers_source and not buyers:
        fault("notes_buyers", "missing_value", "is empty, but notes_buyers_source is given")
    if faults:
        return None, faults
    entry = PolicyEntry(iso, status, reason, source, effective, tuple(sorted(set(rails))),
                        buyers, buyers_source)  # fmt: skip
    assert entry_code(entry) is PolicyCode.ok, f"row {number}: the core refuses {entry}"
    return entry, faults


def _text_problem(value: str, max_chars: int) -> str:
    if not value.strip():
        return "is empty"
    if len(value) > max_chars:
        return f"{len(value):,} characters long; at most {max_chars:,}"
    if value != value.strip():
        return "has spaces at an end"
    if value.isprintable() and not unicodedata.is_normalized("NFC", value):
        return "is not in Unicode NFC (normalise the text)"
    return f"{value[:60]!r} holds a control character or line break"
