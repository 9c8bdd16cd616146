"""Withdrawal terms files (TOML): each rail's fee schedule, minimum, timeout and accounts.

Format (``data/fees/ftx-eu.toml`` is the shipped example)::

    [rails.<rail>]                  # sepa, hk_wire, usdc
    asset = "EUR"                   # the rail's asset
    tiers = [{ up_to = "2000.00", fee = "8.00" }, ...]   # inclusive bounds, ascending
    above_fixed = "13.00"           # above the last tier: fixed part ...
    above_bps = 10                  # ... plus basis points (an integer) ...
    above_base = "excess"           # ... of the part above the last tier, or "whole" amount
    cap = "353.00"                  # ... capped (omit for no cap)
    minimum = "1.00"                # the smallest amount paid out
    timeout_seconds = 1209600       # how long funds stay reserved
    settlement_account = "operator/EUR/rail_settlement"
    fee_account = "operator/EUR/fees"

Amounts are **text** in the asset's major unit, parsed by ``reclaim.core.money.parse_amount``:
exact, never a float (a TOML float is refused), more decimals than the asset has refused. The
loader checks each rail on its own (the core's ``schedule_code`` and the rail's asset); whether
the accounts are open is the core's ladder, when the terms are set (``withdrawal.fees_set``).

Errors: ``FeeFileError`` with every problem found (``<rail>.<key>: why``) — nothing is loaded
from a file with one bad value.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final

from reclaim.core import limits
from reclaim.core.limits import fee_file_size_max_bytes, withdrawal_timeout_max_seconds
from reclaim.core.money import ASSETS, AmountError, parse_amount
from reclaim.core.withdrawals import (
    RAIL_ASSETS,
    FeeSchedule,
    FeesCode,
    FeeTier,
    RailTerms,
    schedule_code,
)

KEYS: Final = frozenset(
    {
        "asset", "tiers", "above_fixed", "above_bps", "above_base", "cap", "minimum",
        "timeout_seconds", "settlement_account", "fee_account",
    }
)  # fmt: skip
OPTIONAL: Final = frozenset({"tiers", "cap"})
#: The shipped example: the FTX EU schedule (``reclaim withdrawals set-fees --ftx-eu``).
FTX_EU: Final = "ftx-eu"


class FeeFileError(ValueError):
    """A terms file that cannot be loaded; ``problems`` lists every fault found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_fee_file(path: Path) -> tuple[RailTerms, ...]:
    if path.stat().st_size > fee_file_size_max_bytes:
        raise FeeFileError([f"{path}: larger than {fee_file_size_max_bytes} bytes"])
    return parse_fee_file(path.read_bytes())


def shipped_fee_file(name: str = FTX_EU) -> tuple[RailTerms, ...]:
    """The terms file shipped in ``reclaim/data/fees/<name>.toml``."""
    data = resources.files("reclaim").joinpath("data", "fees", f"{name}.toml").read_bytes()
    return parse_fee_file(data)


def parse_fee_file(data: bytes) -> tuple[RailTerms, ...]:
    """The rails' terms a TOML document gives, sorted by rail; ``FeeFileError`` if any fault."""
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FeeFileError([f"not UTF-8 TOML: {exc}"]) from None
    problems: list[str] = []
    if set(document) != {"rails"} or not isinstance(document["rails"], dict):
        raise FeeFileError(["the file holds one table, [rails.<rail>]"])
    terms: list[RailTerms] = []
    for rail in sorted(document["rails"]):
        found = _rail(rail, document["rails"][rail], problems)
        if found is not None:
            terms.append(found)
    if not document["rails"]:
        problems.append("no rail")
    if problems:
        raise FeeFileError(problems)
    return tuple(terms)


def _rail(rail: str, table: Any, problems: list[str]) -> RailTerms | None:
    before = len(problems)
    if rail not in RAIL_ASSETS:
        problems.append(f"{rail}: not a rail ({sorted(RAIL_ASSETS)})")
        return None
    if not isinstance(table, dict):
        problems.append(f"{rail}: not a table")
        return None
    extra, missing = sorted(set(table) - KEYS), sorted(KEYS - OPTIONAL - set(table))
    if extra or missing:
        problems.append(f"{rail}: unknown keys {extra}, missing keys {missing}")
        return None
    asset_code = table["asset"]
    if asset_code != RAIL_ASSETS[rail]:
        problems.append(f"{rail}.asset: {rail} pays out {RAIL_ASSETS[rail]}, not {asset_code!r}")
        return None
    p = _Reader(rail, table, asset_code, problems)
    tiers = []
    raw_tiers = table.get("tiers", [])
    if not isinstance(raw_tiers, list):
        problems.append(f"{rail}.tiers: not a list")
        raw_tiers = []
    for n, item in enumerate(raw_tiers):
        if not isinstance(item, dict) or set(item) != {"up_to", "fee"}:
            problems.append(f"{rail}.tiers[{n}]: not {{ up_to, fee }}")
            continue
        tiers.append(FeeTier(p.amount(item, "up_to", f"tiers[{n}]."),
                             p.amount(item, "fee", f"tiers[{n}].")))  # fmt: skip
    cap = p.amount(table, "cap") if "cap" in table else limits.integer_max
    schedule = FeeSchedule(
        tuple(tiers), p.amount(table, "above_fixed"), p.integer("above_bps"),
        p.text("above_base"), cap,
    )  # fmt: skip
    terms = RailTerms(
        rail, asset_code, schedule, p.amount(table, "minimum"), p.integer("timeout_seconds"),
        p.text("settlement_account"), p.text("fee_account"),
    )  # fmt: skip
    if len(problems) > before:
        return None
    code = schedule_code(schedule)
    if code is not FeesCode.ok:
        problems.append(f"{rail}: the fee schedule is refused: {code.name}")
    if terms.minimum_minor <= 0:
        problems.append(f"{rail}.minimum: must be positive")
    if not 0 < terms.timeout_seconds <= withdrawal_timeout_max_seconds:
        problems.append(f"{rail}.timeout_seconds: 1 to {withdrawal_timeout_max_seconds}")
    return None if len(problems) > before else terms


class _Reader:
    """Typed reads of one rail's table; each fault is appended to ``problems``."""

    def __init__(
        self, rail: str, table: Mapping[str, Any], asset_code: str, problems: list[str]
    ) -> None:
        self.rail, self.table, self.problems = rail, table, problems
        self.asset = ASSETS[asset_code]

    def amount(self, table: Mapping[str, Any], key: str, prefix: str = "") -> int:
        value = table[key]
        if not isinstance(value, str):
            self.problems.append(f'{self.rail}.{prefix}{key}: write amounts as text, e.g. "8.00"')
            return 0
        try:
            return parse_amount(value, self.asset)
        except AmountError as exc:
            self.problems.append(f"{self.rail}.{prefix}{key}: {exc}")
            return 0

    def integer(self, key: str) -> int:
        value = self.table[key]
        if type(value) is not int:
            self.problems.append(f"{self.rail}.{key}: not an integer")
            return 0
        return value

    def text(self, key: str) -> str:
        value = self.table[key]
        if not isinstance(value, str):
            self.problems.append(f"{self.rail}.{key}: not text")
            return ""
        return value
