"""Distribution plan and rounds files (TOML): an estate's ``Plan`` and its ``Round``s.

Format (``src/reclaim/data/rounds/ftx.toml`` is the shipped example)::

    estate_id = "ftx"

    [plan]
    paid_statuses = ["allowed"]          # register statuses paid (1…5 of the claim statuses)
    reserved_statuses = ["disputed"]     # computed like paid ones, always paid into escrow
    kyc_start_by = "2025-03-03"          # "" (or absent): no deadline; text or a TOML date
    kyc_finish_by = "2025-06-01"
    kyc_missed = "forfeit_on_order"      # escrow | forfeit_on_order (default escrow)

    [[plan.classes]]
    class_code = "5A"
    cap_bps = 10_000                     # most a claim may get, in bps of its admitted amount
    interest = true                      # the cap grows by post-petition interest

    [[rounds]]
    round_id = "ftx-1"                   # [A-Za-z0-9][A-Za-z0-9._:-]*, at most 32 characters
    record_date = "2025-01-03"
    payment_date = "2025-02-18"          # on or after the record date
    funding_minor = 120_000_000_000      # USD cents the estate pool receives for the round

    [[rounds.classes]]
    class_code = "7"                     # a class of the plan, once per round
    target = "cap"                       # percent | cap | pool
    cumulative_bps = 7_200               # percent only: 1…100,000
    pool_minor = 0                       # pool only: the cash this round adds to the pool
    interest_to = "2025-02-18"           # optional; at most the payment date

Integers must be integers (a float, a bool or a numeric string is refused), booleans booleans;
unknown keys are refused (a misspelt key would otherwise be dropped); a key that does not apply
to a round class's target (``cumulative_bps`` of a ``cap``) is refused too. These are the same
checks the core's ladder makes when the plan is set and the rounds declared — here they name
the field, before anything is submitted.

Errors: ``OSError`` reading the file propagates; everything wrong with its content is a
``RoundSpecError`` whose ``faults`` name each field (``rounds[2].classes[1].target: …``).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Final, NamedTuple

from reclaim.adapters.files import FileFaultsError
from reclaim.core import limits
from reclaim.core.claims.model import CLASS_CODE_RE, ESTATE_ID_RE, STATUSES, is_date
from reclaim.core.distribution.model import (
    CAP,
    KYC_MISSED,
    PERCENT,
    POOL,
    TARGETS,
    ClassRound,
    ClassTerms,
    Plan,
    Round,
)
from reclaim.core.limits import (
    cap_bps_max,
    round_id_length_max_chars,
    rounds_per_estate_max,
    statuses_per_plan_max,
)
from reclaim.core.limits import round_plan_classes_max as plan_classes_max

#: Plans and rounds shipped as examples, by estate.
SHIPPED_ROUND_SPECS: Final = ("ftx",)

_TOP: Final = ("estate_id", "plan", "rounds")
_PLAN: Final = (
    "classes",
    "paid_statuses",
    "reserved_statuses",
    "kyc_start_by",
    "kyc_finish_by",
    "kyc_missed",
)
_CLASS: Final = ("class_code", "cap_bps", "interest")
_ROUND: Final = ("round_id", "record_date", "payment_date", "funding_minor", "classes")
_ROUND_CLASS: Final = ("class_code", "target", "cumulative_bps", "pool_minor", "interest_to")
#: Keys a round class may have, by target.
_TARGET_KEYS: Final = {
    PERCENT: frozenset({"class_code", "target", "cumulative_bps", "interest_to"}),
    CAP: frozenset({"class_code", "target", "interest_to"}),
    POOL: frozenset({"class_code", "target", "pool_minor", "interest_to"}),
}
#: Keys a round class must have, by target (beyond its class and target).
_TARGET_REQUIRED: Final = {PERCENT: ("cumulative_bps",), CAP: (), POOL: ("pool_minor",)}
_ROUND_ID_RE: Final = re.compile(f"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{round_id_length_max_chars - 1}}}")


class RoundSpecError(FileFaultsError):
    """A plan/rounds file whose content is not a plan and rounds: every fault, by field."""


class RoundSpec(NamedTuple):
    """An estate's plan and its rounds, in file order (unpacks as ``plan, rounds``)."""

    plan: Plan
    rounds: list[Round]


def shipped_round_spec(name: str) -> Path:
    """The path of a shipped example plan/rounds file (package data)."""
    assert name in SHIPPED_ROUND_SPECS, f"no shipped rounds {name!r}"
    return Path(str(resources.files("reclaim") / "data" / "rounds" / f"{name}.toml"))


def load_round_spec(path: str | Path) -> RoundSpec:
    """The plan and rounds a TOML file describes."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RoundSpecError(path, [f"not readable: {exc}"]) from None
    faults: list[str] = []
    spec = _spec(document, faults)
    if faults or spec is None:
        raise RoundSpecError(path, faults)
    return spec


class _Reader:
    """Reads typed fields of one table, appending a fault named by the field's path."""

    def __init__(self, table: Mapping[str, object], where: str, faults: list[str]) -> None:
        self.table, self.where, self.faults = table, where, faults

    def label(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fault(self, key: str, why: str) -> None:
        self.faults.append(f"{self.label(key)}: {why}")

    def keys(self, allowed: tuple[str, ...] | frozenset[str], required: tuple[str, ...]) -> None:
        for key in sorted(set(self.table) - set(allowed)):
            self.fault(key, f"unknown key (expected {', '.join(sorted(allowed))})")
        for key in required:
            if key not in self.table:
                self.fault(key, "missing")

    def text(self, key: str, pattern: re.Pattern[str] | None = None, default: str = "") -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str):
            self.fault(key, f"{value!r} is not text")
            return default
        if pattern is not None and pattern.fullmatch(value) is None:
            self.fault(key, f"{value!r} is not of the form {pattern.pattern}")
        return value

    def date(self, key: str, *, optional: bool = False) -> str:
        value = self.table.get(key, "" if optional else None)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if value == "" and optional:
            return ""
        if not isinstance(value, str) or not is_date(value):
            if key in self.table:
                self.fault(key, f"{value!r} is not a YYYY-MM-DD date")
            return ""
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        if key not in self.table:
            return 0  # reported by ``keys`` when required
        value = self.table[key]
        if type(value) is not int:
            self.fault(key, f"{value!r} is not an integer")
            return 0
        if not low <= value <= high:
            self.fault(key, f"{value} is not in {low}…{high}")
        return value

    def boolean(self, key: str) -> bool:
        value = self.table.get(key)
        if not isinstance(value, bool):
            self.fault(key, f"{value!r} is not true or false")
            return False
        return value

    def statuses(self, key: str, *, minimum: int) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fault(key, "not a list of statuses")
            return ()
        if not minimum <= len(value) <= statuses_per_plan_max:
            self.fault(key, f"{len(value)} statuses, expected {minimum}…{statuses_per_plan_max}")
        for status in value:
            if status not in STATUSES:
                self.fault(key, f"{status!r} is not one of {', '.join(STATUSES)}")
        if len(set(value)) != len(value):
            self.fault(key, "a status is named twice")
        return tuple(value)

    def tables(self, key: str, maximum: int) -> list[Mapping[str, object]]:
        value = self.table.get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fault(key, "not a list of tables")
            return []
        if not 1 <= len(value) <= maximum:
            self.fault(key, f"{len(value)} entries, expected 1…{maximum}")
        return value


def _spec(document: Mapping[str, object], faults: list[str]) -> RoundSpec | None:
    top = _Reader(document, "", faults)
    top.keys(_TOP, _TOP)
    estate_id = top.text("estate_id", ESTATE_ID_RE)
    plan_table = document.get("plan")
    if not isinstance(plan_table, dict):
        if "plan" in document:
            top.fault("plan", "not a table")
        return None
    plan = _plan(estate_id, plan_table, faults)
    rounds: list[Round] = []
    seen: set[str] = set()
    for number, table in enumerate(top.tables("rounds", rounds_per_estate_max), start=1):
        round_ = _round(estate_id, plan, table, f"rounds[{number}]", faults)
        if round_.round_id in seen:
            faults.append(f"rounds[{number}].round_id: {round_.round_id!r} is used twice")
        seen.add(round_.round_id)
        rounds.append(round_)
    return None if faults else RoundSpec(plan, rounds)


def _plan(estate_id: str, table: Mapping[str, object], faults: list[str]) -> Plan:
    r = _Reader(table, "plan", faults)
    r.keys(_PLAN, ("classes", "paid_statuses"))
    paid = r.statuses("paid_statuses", minimum=1)
    reserved = r.statuses("reserved_statuses", minimum=0)
    both = sorted(set(paid) & set(reserved))
    if both:
        r.fault("reserved_statuses", f"also paid: {', '.join(both)}")
    start_by, finish_by = (
        r.date("kyc_start_by", optional=True),
        r.date("kyc_finish_by", optional=True),
    )
    if start_by and finish_by and finish_by < start_by:
        r.fault("kyc_finish_by", f"{finish_by} is before kyc_start_by {start_by}")
    missed = r.text("kyc_missed", default="escrow")
    if missed not in KYC_MISSED:
        r.fault("kyc_missed", f"{missed!r} is not one of {', '.join(KYC_MISSED)}")
    classes: dict[str, ClassTerms] = {}
    for number, item in enumerate(r.tables("classes", plan_classes_max), start=1):
        c = _Reader(item, f"plan.classes[{number}]", faults)
        c.keys(_CLASS, _CLASS)
        code = c.text("class_code", CLASS_CODE_RE)
        if code in classes:
            c.fault("class_code", f"{code!r} is named twice")
        classes[code] = ClassTerms(
            code, c.integer("cap_bps", 0, cap_bps_max), c.boolean("interest")
        )
    return Plan(estate_id, classes, paid, reserved, start_by, finish_by, missed)


def _round(
    estate_id: str, plan: Plan, table: Mapping[str, object], where: str, faults: list[str]
) -> Round:
    r = _Reader(table, where, faults)
    r.keys(_ROUND, _ROUND)
    round_id = r.text("round_id", _ROUND_ID_RE)
    record_date, payment_date = r.date("record_date"), r.date("payment_date")
    if record_date and payment_date and payment_date < record_date:
        r.fault("payment_date", f"{payment_date} is before the record date {record_date}")
    funding = r.integer("funding_minor", 0, limits.integer_max)
    classes: list[ClassRound] = []
    for number, item in enumerate(r.tables("classes", plan_classes_max), start=1):
        classes.append(_class_round(plan, item, f"{where}.classes[{number}]", payment_date, faults))
    codes = [c.class_code for c in classes]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        r.fault("classes", f"class {code!r} is named twice")
    return Round(round_id, estate_id, record_date, payment_date, tuple(classes), funding)


def _class_round(
    plan: Plan, table: Mapping[str, object], where: str, payment_date: str, faults: list[str]
) -> ClassRound:
    c = _Reader(table, where, faults)
    target = c.text("target")
    if target not in TARGETS:
        c.fault("target", f"{target!r} is not one of {', '.join(TARGETS)}")
        c.keys(_ROUND_CLASS, ("class_code", "target"))
    else:
        c.keys(_TARGET_KEYS[target], ("class_code", "target", *_TARGET_REQUIRED[target]))
    code = c.text("class_code")
    if code not in plan.classes:
        c.fault("class_code", f"{code!r} is not a class of the plan")
    cumulative_bps = c.integer("cumulative_bps", 1, cap_bps_max) if target == PERCENT else 0
    pool_minor = c.integer("pool_minor", 0, limits.integer_max) if target == POOL else 0
    interest_to = c.date("interest_to", optional=True)
    if interest_to and payment_date and interest_to > payment_date:
        c.fault("interest_to", f"{interest_to} is after the payment date {payment_date}")
    return ClassRound(code, target, cumulative_bps, pool_minor, interest_to)
