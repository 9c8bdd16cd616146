"""Claims frames for the distribution computation's tests, written as tables of rows.

``frame(rows)`` builds the input of ``compute.compute_round`` (``INPUT_SCHEMA``) from ``Row``s
that name only what a test is about; the rest takes defaults: an allowed claim in the US, paid
to its holder (``h-<claim id>``) in USD, nothing received yet. Escrowed rows get no payee.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, NamedTuple

import polars as pl

from reclaim.core.distribution.compute import INPUT_SCHEMA
from reclaim.core.distribution.model import ClassRound, ClassTerms, InterestTerms, Plan, Round

#: FTX's consensus interest: 9% a year, simple, ACT/365, from the petition date.
FTX_INTEREST: Final = InterestTerms(900, "simple", "ACT/365", "2022-11-11")
#: FTX's plan as shipped in data/rounds/ftx.toml: every class 100% plus interest.
FTX_PLAN: Final = Plan(
    "ftx",
    {code: ClassTerms(code, 10_000, True) for code in ("5A", "5B", "6A", "6B", "7")},
    ("allowed",),
    ("disputed",),
    "2025-03-03",
    "2025-06-01",
    "forfeit_on_order",
)
#: EUR at 0.9234 per USD; USDC at par (USD cents → micro-USDC).
FX: Final = {"EUR": (9234, 10_000), "USDC": (10_000, 1)}


class Row(NamedTuple):
    claim_id: str
    class_code: str
    admitted_minor: int
    status: str = "allowed"
    received_minor: int = 0
    destination: str = "creditor"
    reason: str = ""
    jurisdiction: str = "US"
    asset: str = "USD"


def escrowed(row: Row, reason: str = "restricted") -> Row:
    return row._replace(destination="escrow", reason=reason)


def frame(rows: Iterable[Row]) -> pl.DataFrame:
    columns: dict[str, list[object]] = {name: [] for name in INPUT_SCHEMA}
    for row in rows:
        for name in Row._fields:
            columns[name].append(getattr(row, name))
        to_holder = row.destination == "creditor"
        columns["payee"].append(f"h-{row.claim_id}" if to_holder else "")
        columns["account_id"].append(
            f"h-{row.claim_id}/{row.asset}" if to_holder else f"claim:{row.claim_id}/USD"
        )
    return pl.DataFrame(columns, schema=INPUT_SCHEMA)


def one_round(
    round_id: str, payment_date: str, *classes: ClassRound, funding_minor: int = 0
) -> Round:
    """A round of the FTX estate recorded 45 days before ``payment_date`` (the date matters
    only for interest)."""
    return Round(round_id, "ftx", "2025-01-03", payment_date, classes, funding_minor)
