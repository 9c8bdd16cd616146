"""Synthetic claims registers for tests and benchmarks, and writers of register files.

``synthetic_register(rows, seed=...)`` is a valid register, the same for the same seed; the
writers put a frame on disk as ``read_register`` reads it (CSV or Parquet).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from reclaim.adapters.files.register_format import AmountColumn
from reclaim.core import limits
from reclaim.core.limits import synthetic_convenience_claim_max_cents

# Synthetic registers (tests and benchmarks) -----------------------------------------------------

#: The 27 restricted jurisdictions named in press reports of the FTX motion (2025-07-02).
RESTRICTED_2025: Final = tuple(
    "AF DZ AD AW BD BY KH CN CO CG EG FJ IR IQ LY MO ME MA MM NG KP PK RU SA SY UA ZW".split()  # noqa: SIM905
)
_OPEN_JURISDICTIONS: Final = tuple(
    "GB DE FR JP KR SG AU CA HK TW NL CH ES IT BR TR VN TH PH IN ID MY AE IL PL SE NO".split()  # noqa: SIM905
    + "AR MX ZA".split()  # noqa: SIM905
)
_CLASSES: Final = (("5A", 55), ("5B", 8), ("6A", 2), ("6B", 1), ("7", 34))
_STATUS_WEIGHTS: Final = (
    ("allowed", 70),
    ("scheduled", 12),
    ("filed", 10),
    ("disputed", 5),
    ("expunged", 3),
)
_GIVEN: Final = tuple(
    "Alice Bruno Chloé Daniel Emma Farid Grace Hiro Ines Jonas Kenji Lea Marta Noah".split()  # noqa: SIM905
)
_FAMILY: Final = tuple(
    "Smith Müller Dubois Rossi Tanaka Kim Nguyen Silva Novak Ivanov Haddad Cohen".split()  # noqa: SIM905
)
_CHINESE: Final = tuple("王伟 李娜 张敏 刘洋 陈静 杨磊 赵丽 黄勇 周杰 吴芳".split())  # noqa: SIM905
_DOMAINS: Final = tuple(
    "gmail.com outlook.com proton.me icloud.com yahoo.co.jp naver.com web.de".split()  # noqa: SIM905
)
_CN_DOMAINS: Final = tuple("qq.com 163.com 126.com sina.com".split())  # noqa: SIM905


def synthetic_register(
    rows: int, *, seed: int = 0, amount_column: AmountColumn = "admitted_usd"
) -> pl.DataFrame:
    """A valid register of ``rows`` claims, the same for the same seed, as text columns.

    About 3% of claims are in restricted jurisdictions, 82% of those in CN; classes 5A/5B/6A/
    6B/7; amounts have a log-normal-like spread of decades (integer arithmetic only: a decade
    drawn binomially, then a uniform integer within it); class 7 is capped at $50,000.
    """
    assert 0 < rows <= limits.register_rows_max, "a register has 1..register_rows_max rows"
    rng = np.random.default_rng(seed)
    customers = max(1, rows * 4 // 5)
    customer = rng.integers(0, customers, rows)
    restricted = rng.integers(0, 1000, rows) < 30
    china = restricted & (rng.integers(0, 100, rows) < 82)
    other_restricted = [code for code in RESTRICTED_2025 if code != "CN"]
    jurisdiction = np.where(
        china,
        "CN",
        np.where(
            restricted,
            np.array(other_restricted)[rng.integers(0, len(other_restricted), rows)],
            np.array(_OPEN_JURISDICTIONS)[rng.integers(0, len(_OPEN_JURISDICTIONS), rows)],
        ),
    )
    claim_class = _weighted(rng, _CLASSES, rows)
    decade = 2 + rng.binomial(9, 0.45, rows)
    cents = rng.integers(10 ** (decade - 1), 10**decade, dtype=np.int64)
    cents = np.where(claim_class == "7", cents % (synthetic_convenience_claim_max_cents + 1), cents)
    status = _weighted(rng, _STATUS_WEIGHTS, rows)
    cents = np.where(status == "expunged", 0, cents)
    latin = (
        np.array(_GIVEN)[rng.integers(0, len(_GIVEN), rows)].astype(object)
        + " "
        + np.array(_FAMILY)[rng.integers(0, len(_FAMILY), rows)].astype(object)
    )
    chinese = np.array(_CHINESE)[rng.integers(0, len(_CHINESE), rows)].astype(object)
    name = np.where(china & (rng.integers(0, 2, rows) == 0), chinese, latin)
    domain = np.where(
        china,
        np.array(_CN_DOMAINS)[rng.integers(0, len(_CN_DOMAINS), rows)],
        np.array(_DOMAINS)[rng.integers(0, len(_DOMAINS), rows)],
    )
    frame = pl.DataFrame(
        {
            "index": np.arange(rows, dtype=np.int64),
            "customer": customer,
            "cents": cents,
            "jurisdiction": jurisdiction,
            "class": claim_class,
            "status": status,
            "holder_name": pl.Series(name.tolist(), dtype=pl.String),
            "domain": domain,
            "shout": rng.integers(0, 20, rows) == 0,
        }
    )
    customer_code = pl.lit("C") + pl.col("customer").cast(pl.String).str.zfill(9)
    local = pl.concat_str(pl.lit("user."), pl.col("customer").cast(pl.String))
    local = pl.when(pl.col("shout")).then(local.str.to_uppercase()).otherwise(local)
    amount = pl.col("cents").cast(pl.String)
    if amount_column == "admitted_usd":
        amount = pl.format(
            "{}.{}",
            (pl.col("cents") // 100).cast(pl.String),
            (pl.col("cents") % 100).cast(pl.String).str.zfill(2),
        )
    return frame.select(
        (pl.lit("FTX-") + pl.col("index").cast(pl.String).str.zfill(9)).alias("claim_id"),
        customer_code.alias("customer_code"),
        pl.concat_str(local, pl.lit("@"), pl.col("domain")).alias("email"),
        pl.col("holder_name"),
        pl.col("jurisdiction"),
        pl.col("class"),
        amount.alias(amount_column),
        pl.col("status"),
    )


def _weighted(
    rng: np.random.Generator, table: Sequence[tuple[str, int]], rows: int
) -> np.ndarray[tuple[int], np.dtype[np.str_]]:
    values = np.array([value for value, _ in table])
    bounds = np.cumsum([weight for _, weight in table])
    drawn = rng.integers(0, int(bounds[-1]), rows)
    picked: np.ndarray[tuple[int], np.dtype[np.str_]] = values[
        np.searchsorted(bounds, drawn, side="right")
    ]
    return picked


def write_register_csv(path: str | Path, frame: pl.DataFrame) -> None:
    """Write ``frame`` as a register CSV: UTF-8, comma-separated, a header line, LF endings."""
    frame.write_csv(path, include_header=True, line_terminator="\n", quote_style="necessary")


def write_register_parquet(path: str | Path, frame: pl.DataFrame) -> None:
    """Write ``frame`` as a register Parquet file (the frame's column types as they are)."""
    frame.write_parquet(path)
