"""A distribution round's preview over 10,000,000 claims vs. a bare numpy loop of its arithmetic.

Target (issue 5): the preview — ``compute_round`` + the lines file (CSV and its SHA-256) + the
summary — in ≤ 20 s and ≤ 4 GiB peak memory.

The register is synthetic and seeded: every FTX class (5A 55%, 5B 10%, 6A 10%, 6B 5%, 7 20%),
skewed amounts (a mantissa of 1…9,999 times 10^0…10^6 cents — most claims small, a few whales
up to ~$100 million; convenience claims up to $50,000), 95% allowed, 2% disputed (reserved, so
escrowed), 1% scheduled and 2% expunged (no line), ~3% escrowed for a restricted jurisdiction,
payout assets USD 60%, EUR 25%, USDC 15%, about a third of the claims with something received
already, rows in random order. The round is the shipped ``ftx-2`` (four percentages and class 7
at its cap with interest).

The parent builds the register and writes it as a Parquet file; the preview runs in a child
process (``--child``) that reads it, so that the peak memory is the preview's own: the figure is
the child's maximum resident set size (``getrusage(RUSAGE_CHILDREN).ru_maxrss``), which includes
the interpreter, Polars, numpy and the input frame of 10,000,000 rows — but not the garbage of
building a synthetic register. The register's six low-cardinality text columns (class, status,
jurisdiction, destination, reason, asset) are ``pl.Enum``, as a register of millions of claims
is best held (1 byte a row instead of a 16-byte string view each: ~1.0 GB for the frame instead
of ~1.9 GB); ``--strings`` holds them as ``String`` instead. The seconds are those of the preview
alone (reading the input is before the clock starts).

The baseline, in the parent, is the same integer arithmetic on the same (seeded) arrays in a
bare numpy loop: per class, ``admitted × p``, the floor division and remainder by ``q``, the
top-k remainders (``argpartition``), the +1, and ``max(0, entitlement − received)`` — no ids, no
sorting, no strings, no checks, no file. The ratio says what the rest costs.

``--claims N`` runs a smaller register (the smoke test uses 20,000).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from _common import median_seconds, timed
from reclaim.adapters.files.round_file import write_lines_csv
from reclaim.adapters.files.round_spec_file import load_round_spec, shipped_round_spec
from reclaim.core.distribution.compute import INPUT_SCHEMA, compute_round
from reclaim.core.distribution.interest import cap_fraction
from reclaim.core.distribution.model import InterestTerms

CLAIMS = 10_000_000
SEED = 2026
TARGET_SECONDS = 20.0
TARGET_PEAK_MIB = 4096
ROUND_ID = "ftx-2"
INTEREST = InterestTerms(900, "simple", "ACT/365", "2022-11-11")
FX = {"EUR": (9234, 10_000), "USDC": (10_000, 1)}

CLASSES = ("5A", "5B", "6A", "6B", "7")
CLASS_WEIGHTS = (55, 10, 10, 5, 20)
STATUSES = ("allowed", "disputed", "scheduled", "expunged")
STATUS_WEIGHTS = (95, 2, 1, 2)
JURISDICTIONS = ("US", "JP", "KR", "SG", "FR", "DE", "GB", "CA", "AU", "BR", "CN", "HK")
JURISDICTION_WEIGHTS = (20, 12, 12, 8, 8, 8, 8, 6, 6, 5, 3, 4)
ASSETS = ("USD", "EUR", "USDC")
ASSET_WEIGHTS = (60, 25, 15)
RESTRICTED = 10  # index of CN: escrowed as restricted
#: Text columns of few distinct values, which a register of millions holds as pl.Enum.
CODED = ("class_code", "jurisdiction", "status", "destination", "reason", "asset")


def _choice(rng: np.random.Generator, n: int, weights: tuple[int, ...]) -> np.ndarray:
    """Indices drawn with integer weights (no float probabilities)."""
    bounds = np.cumsum(weights)
    return np.searchsorted(bounds, rng.integers(0, int(bounds[-1]), n), side="right")


def synthetic_arrays(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    cls = _choice(rng, n, CLASS_WEIGHTS).astype(np.int8)
    mantissa = rng.integers(1, 10_000, n, dtype=np.int64)
    exponent = _choice(rng, n, (30, 25, 20, 12, 8, 4, 1))
    admitted = mantissa * 10 ** exponent.astype(np.int64)
    convenience = cls == CLASSES.index("7")
    admitted[convenience] = rng.integers(1, 5_000_001, int(convenience.sum()), dtype=np.int64)
    received = np.where(rng.integers(0, 3, n) == 0, admitted // 2, 0).astype(np.int64)
    status = _choice(rng, n, STATUS_WEIGHTS).astype(np.int8)
    jurisdiction = _choice(rng, n, JURISDICTION_WEIGHTS).astype(np.int8)
    asset = _choice(rng, n, ASSET_WEIGHTS).astype(np.int8)
    order = rng.permutation(n).astype(np.int64)
    return {
        "class": cls,
        "admitted": admitted,
        "received": received,
        "status": status,
        "jurisdiction": jurisdiction,
        "asset": asset,
        "order": order,
    }


def synthetic_frame(arrays: dict[str, np.ndarray], *, enums: bool = True) -> pl.DataFrame:
    def names(key: str, vocabulary: tuple[str, ...]) -> pl.Expr:
        return pl.col(key).replace_strict(
            list(range(len(vocabulary))), list(vocabulary), return_dtype=pl.String
        )

    raw = pl.DataFrame({k: arrays[k] for k in arrays}).with_columns(
        pl.col("class", "status", "jurisdiction", "asset").cast(pl.Int32)
    )
    disputed = pl.col("status") == STATUSES.index("disputed")
    restricted = pl.col("jurisdiction") == RESTRICTED
    escrow = disputed | restricted
    claim_id = pl.format("FTX{}", pl.col("order").cast(pl.String).str.zfill(9))
    payee = pl.format("c{}", pl.col("order").cast(pl.String).str.zfill(9))
    frame = raw.select(
        claim_id.alias("claim_id"),
        names("class", CLASSES).alias("class_code"),
        names("jurisdiction", JURISDICTIONS).alias("jurisdiction"),
        names("status", STATUSES).alias("status"),
        pl.col("admitted").alias("admitted_minor"),
        pl.col("received").alias("received_minor"),
        pl.when(escrow).then(pl.lit("escrow")).otherwise(pl.lit("creditor")).alias("destination"),
        pl.when(disputed)
        .then(pl.lit("disputed"))
        .when(restricted)
        .then(pl.lit("restricted"))
        .otherwise(pl.lit(""))
        .alias("reason"),
        pl.when(escrow).then(pl.lit("")).otherwise(payee).alias("payee"),
        pl.when(escrow)
        .then(pl.format("claim:{}/USD/claim_escrow", claim_id))
        .otherwise(pl.format("{}/{}/creditor_available", payee, names("asset", ASSETS)))
        .alias("account_id"),
        names("asset", ASSETS).alias("asset"),
    )
    assert frame.schema == pl.Schema(INPUT_SCHEMA)
    if enums:  # the register's low-cardinality text columns as pl.Enum (compute accepts both)
        frame = frame.with_columns(
            pl.col(name).cast(pl.Enum(sorted(frame[name].unique().to_list()))) for name in CODED
        )
    return frame


def bare_loop(arrays: dict[str, np.ndarray], rates: list[tuple[int, int]]) -> int:
    """The baseline: per class, multiply, floor-divide, remainder, top-k, +1, subtract."""
    taking_part = np.isin(arrays["status"], (0, 1))
    total_usd = 0
    for index, (p, q) in enumerate(rates):
        at = np.flatnonzero(taking_part & (arrays["class"] == index))
        admitted, received = arrays["admitted"][at], arrays["received"][at]
        floors, remainders = np.divmod(admitted * p, q)
        leftover = int(p * int(admitted.sum()) // q - floors.sum())
        if leftover:
            floors[np.argpartition(-remainders, leftover - 1)[:leftover]] += 1
        total_usd += int(np.maximum(floors - received, 0).sum())
    return total_usd


def class_rates() -> list[tuple[int, int]]:
    """The exact rate p/q of each class in round ftx-2 (as compute finds it)."""
    plan, rounds = load_round_spec(shipped_round_spec("ftx"))
    round_ = next(r for r in rounds if r.round_id == ROUND_ID)
    rates = []
    for code in CLASSES:
        c = next(c for c in round_.classes if c.class_code == code)
        cap = cap_fraction(plan.classes[code], INTEREST, c.interest_to or round_.payment_date)
        rate = cap if c.target == "cap" else min(cap, Fraction(c.cumulative_bps, 10_000))
        rates.append((rate.numerator, rate.denominator))
    return rates


def child(register: Path) -> None:
    plan, rounds = load_round_spec(shipped_round_spec("ftx"))
    round_ = next(r for r in rounds if r.round_id == ROUND_ID)
    frame = pl.read_parquet(register).rechunk()  # one chunk, as a frame built in memory is
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        lines = compute_round(frame, plan, round_, INTEREST, {}, FX)
        computed = time.perf_counter()
        digest = write_lines_csv(lines.frame, Path(directory) / "lines.csv")
        written = time.perf_counter()
        summary = lines.summary()
        finished = time.perf_counter()
        size = (Path(directory) / "lines.csv").stat().st_size
    figures: dict[str, Any] = {
        "compute_seconds": computed - started,
        "write_seconds": written - computed,
        "summary_seconds": finished - written,
        "seconds": finished - started,
        "lines": summary.lines,
        "usd_minor": summary.usd_minor,
        "escrowed_usd_minor": summary.escrowed_usd_minor,
        "csv_bytes": size,
        "sha256": digest,
    }
    print(json.dumps(figures))


def dollars(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=CLAIMS)
    parser.add_argument(
        "--strings",
        action="store_true",
        help="hold every text column of the register as String (default: the six "
        "low-cardinality ones as Enum)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child)
        return
    arrays = synthetic_arrays(options.claims)
    rates = class_rates()
    expected_usd = bare_loop(arrays, rates)
    base = median_seconds([timed(lambda: bare_loop(arrays, rates)) for _ in range(3)])
    with tempfile.TemporaryDirectory() as directory:
        register = Path(directory) / "register.parquet"
        synthetic_frame(arrays, enums=not options.strings).write_parquet(register)
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(register)],
            capture_output=True,
            text=True,
            check=True,
        )
    figures = json.loads(done.stdout)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    seconds = figures["seconds"]
    assert figures["usd_minor"] == expected_usd, "the preview and the bare loop agree on the total"
    met = seconds <= TARGET_SECONDS and peak_mib <= TARGET_PEAK_MIB
    print(
        f"distribution preview of {options.claims:,} claims "
        f"({'String' if options.strings else 'Enum'} text columns): {seconds:.1f} s "
        f"(compute {figures['compute_seconds']:.1f} s, lines file "
        f"{figures['csv_bytes'] / 2**20:,.0f} MiB + SHA-256 {figures['write_seconds']:.1f} s, "
        f"summary {figures['summary_seconds']:.1f} s; target ≤ {TARGET_SECONDS:.0f} s) "
        f"= {seconds / base:.1f} × bare numpy loop of the arithmetic ({base:.2f} s); "
        f"peak {peak_mib:,.0f} MiB (target ≤ 4 GiB; max RSS of the child, input frame "
        f"included); {figures['lines']:,} lines, {dollars(figures['usd_minor'])} "
        f"(escrowed {dollars(figures['escrowed_usd_minor'])}) — "
        f"{'PASS' if met else 'FAIL: TARGET MISSED'}",
        flush=True,
    )


if __name__ == "__main__":
    main()
