"""A distribution round's lines, computed exactly and vectorised over a register of claims.

Theory of operation
-------------------
``compute_round(claims, plan, round_, interest, pools_minor, fx)`` takes the register as a
Polars frame (``INPUT_SCHEMA``: one row per claim, with what it has received from earlier rounds
and where this round's money for it goes) and returns the round's ``RoundLines``. The rules are
``model``'s; here is how they are computed.

1. **Who takes part.** A claim whose status is in ``plan.paid_statuses ∪
   plan.reserved_statuses`` and whose class the round names. Together they form their class's
   largest-remainder set. Other claims get no line (their rows are checked only for nulls and
   for claim ids that can be ordered: non-empty ASCII without NUL).
2. **Claim-id order.** The participating claims are put in claim-id byte order first
   (``_byte_order``: a radix sort over 16-bit words of the ids), and everything after runs in
   that order: the tie-break of the largest remainder is then positional, and the lines come
   out sorted. A repeated participating claim id is refused.
3. **The class rate.** Every exact entitlement of a class is ``rate × admitted`` with one exact
   rate ``p / q`` for the class (``Fraction``): ``percent`` → ``min(cumulative_bps / 10,000,
   cap)``; ``cap`` → ``cap``; ``pool`` → ``min(pool / Σ admitted, cap)``, where ``cap`` is
   ``interest.cap_fraction`` at ``interest_to`` (or the payment date).
4. **Largest remainder.** Each claim's ``admitted × p`` is divided by ``q``: the floor is its
   first part, the remainder (``admitted × p mod q``) its fractional part in units of ``1/q``.
   The class total is ``⌊p × Σ admitted / q⌋``; the ``leftover = total − Σ floors`` cents go one
   each to the claims with the largest remainders: the ``leftover``-th largest remainder is
   found by ``numpy.partition`` (O(n)), every claim above it gets a cent, and of those equal to
   it the first ones in claim-id order get the rest.
5. **The payment.** ``usd_minor = max(0, entitlement − received)``; a line exists when it is
   positive. Escrow lines stay in USD. A creditor line is converted once into its payout asset:
   ``amount_minor = ⌊usd_minor × num / den⌋`` with the asset's rate ``(num, den)`` (USD cents →
   the asset's minor units: EUR at 0.9234 is ``(9234, 10000)``, USDC ``(10000, 1)``). **Floor**:
   the creditor never receives more than the exact converted value; the fraction of a minor unit
   stays with the operator (a 1-cent EUR line at 0.9234 converts to 0 EUR cents — the line still
   exists, its USD cent is the claim's, and the executor decides what a zero transfer means).
6. **Output.** ``RoundLines.frame`` has the ``payloads.LINE_COLUMNS``, one row per line, sorted
   by claim id and numbered from 0; the per-class totals; ``RoundLines.summary()`` aggregates.

The six low-cardinality text columns (class, jurisdiction, status, destination, reason, asset)
are computed over as integer codes and come out as ``pl.Enum`` columns whose categories are in
byte order (the text is the same: they compare with strings, print and write to CSV as text);
in the input they may be ``String`` or ``pl.Enum``. At 10,000,000 claims a ``String`` column
costs a 16-byte view a row, an ``Enum`` one byte: ~0.9 GB less for the input frame.

Exactness in 64 bits
--------------------
The arithmetic runs on ``int64`` numpy arrays when it provably cannot overflow: a class's
``p × max(admitted) ≤ 2**63 − 1`` (for ``percent`` ``p ≤ cap_bps_max`` after reduction and
``admitted ≤ admitted_max_minor``, so ``10**17``; a simple-interest cap at FTX's terms is
``4397/3650``), and for FX ``max(num) × max(usd_minor) ≤ 2**63 − 1``. Otherwise — a compound
factor, a pool in the trillions — that class (or the conversion) runs on numpy ``object`` arrays
of Python ints: exact, about 30× slower. ``exact_python_ints=True`` forces the object path
everywhere (tests show both paths agree). Sums (Σ admitted, Σ floors) are exact: summed as they
are when ``count × largest`` fits 64 bits, else as their high and low 32-bit halves.

Invariants (asserted)
---------------------
- per class, the entitlements sum to the class total, and each is the floor or the ceiling of
  its exact entitlement, so at most ``⌈admitted × cap⌉`` (``entitlement_cap_minor``);
- ``0 < usd_minor ≤ entitlement_minor`` on every line; ``0 ≤ amount_minor``;
- the lines do not depend on the order of the input rows.

Errors
------
``ValueError`` for inputs that break the contract (a missing or mistyped column, nulls, a
duplicated participating claim id, a claim id that is empty or not ASCII, an amount out of
range, a destination other than creditor or escrow, an escrow line without a known reason, a
creditor line with a reason, a reserved status not sent to escrow, a payout asset without a
rate, a round that names a class the plan lacks, a pool class without its pool, a class total
beyond BIGINT). The callers build these inputs, so this is a bug caught early.

Known limits
------------
At most ``claims_per_round_max`` rows and ``vocabulary_max`` distinct values in a coded column.
The ``object`` path costs ~1 s per million claims and class. Sorting costs grow with the length
of the varying part of the claim ids (one radix pass per 2 varying bytes). A frame in many
chunks (as ``read_parquet`` returns) gathers ~4× slower: rechunk it first. Memory at 10,000,000
claims (benchmarks/bench_distribution_preview.py): ~3 GB peak with the input frame. The frame of
``RoundLines`` is a Polars frame: treat it as immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, NamedTuple, cast

import numpy as np
import numpy.typing as npt
import polars as pl

from reclaim.core import money
from reclaim.core.distribution.interest import bps_per_unit, cap_fraction
from reclaim.core.distribution.model import (
    CAP,
    PERCENT,
    POOL,
    TARGETS,
    ClassRound,
    InterestTerms,
    Plan,
    Round,
)
from reclaim.core.distribution.payees import (
    CREDITOR,
    DESTINATIONS,
    ESCROW,
    ESCROW_REASONS,
    USD,
)
from reclaim.core.distribution.payloads import LINE_COLUMNS
from reclaim.core.limits import (
    admitted_max_minor,
    cap_bps_max,
    fx_term_max,
    integer_max,
    polars_inline_string_max_bytes,
)
from reclaim.core.limits import allocation_parts_max as claims_per_round_max
from reclaim.core.limits import distribution_summary_payments_max as summary_payments_max
from reclaim.core.limits import distribution_vocabulary_max as vocabulary_max

# Bounds -----------------------------------------------------------------------------------------


# Vocabularies and schemas -----------------------------------------------------------------------

INPUT_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "claim_id": pl.String(),
    "class_code": pl.String(),
    "jurisdiction": pl.String(),
    "status": pl.String(),
    "admitted_minor": pl.Int64(),
    "received_minor": pl.Int64(),
    "destination": pl.String(),
    "reason": pl.String(),
    "payee": pl.String(),
    "account_id": pl.String(),
    "asset": pl.String(),
}
#: Text columns of few distinct values: computed over as integer codes, output as ``pl.Enum``.
_CODED: Final = ("class_code", "jurisdiction", "status", "destination", "reason", "asset")
_HALF_BITS: Final = 32
_LOW_MASK: Final = (1 << _HALF_BITS) - 1

IntArray = npt.NDArray[np.int64]
#: An int64 array, or (on the exact path) an object array of Python ints.
AnyIntArray = npt.NDArray[np.int64] | npt.NDArray[np.object_]

# Values -----------------------------------------------------------------------------------------


class ClassTotal(NamedTuple):
    """A class of a round: its exact rate per unit of admitted amount, its participating claims
    and their admitted amount, the cumulative total due (``entitled_minor``, the sum of their
    entitlements), what they had received before the round, and the round's lines for it."""

    class_code: str
    target: str
    rate: Fraction
    claims: int
    admitted_minor: int
    entitled_minor: int
    received_minor: int
    lines: int
    usd_minor: int


class Bucket(NamedTuple):
    """Lines grouped by a key (a jurisdiction, an escrow reason) and their USD total."""

    key: str
    lines: int
    usd_minor: int


class AssetTotal(NamedTuple):
    """Creditor lines paid in one asset: their USD total and the converted amount."""

    asset: str
    lines: int
    usd_minor: int
    amount_minor: int


class Payment(NamedTuple):
    """One line, as the summary lists it among the largest or smallest."""

    line: int
    claim_id: str
    class_code: str
    destination: str
    usd_minor: int
    asset: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class RoundSummary:
    """What a round's preview report says: totals by class, jurisdiction, escrow reason and
    payout asset, the largest and smallest payments (ties by claim id), all in integers."""

    round_id: str
    estate_id: str
    record_date: str
    payment_date: str
    funding_minor: int
    lines: int
    usd_minor: int
    paid_usd_minor: int
    escrowed_usd_minor: int
    classes: tuple[ClassTotal, ...]
    jurisdictions: tuple[Bucket, ...]
    escrowed_by_reason: tuple[Bucket, ...]
    paid_by_asset: tuple[AssetTotal, ...]
    largest: tuple[Payment, ...]
    smallest: tuple[Payment, ...]


@dataclass(frozen=True, slots=True)
class RoundLines:
    """A computed round: ``frame`` holds one row per line (``LINE_COLUMNS``, sorted by claim
    id, ``line`` numbered from 0), ``classes`` the per-class totals in class-code order."""

    round_id: str
    estate_id: str
    record_date: str
    payment_date: str
    funding_minor: int
    frame: pl.DataFrame
    classes: tuple[ClassTotal, ...]

    @property
    def usd_minor(self) -> int:
        """The round's total, USD cents (paid and escrowed)."""
        return sum(c.usd_minor for c in self.classes)

    def summary(self) -> RoundSummary:
        return _summary(self)


# The computation --------------------------------------------------------------------------------


def compute_round(
    claims: pl.DataFrame,
    plan: Plan,
    round_: Round,
    interest: InterestTerms,
    pools_minor: Mapping[str, int],
    fx: Mapping[str, tuple[int, int]],
    *,
    exact_python_ints: bool = False,
) -> RoundLines:
    """The lines of ``round_`` over ``claims`` (``INPUT_SCHEMA``). ``pools_minor`` is the
    cumulative pool of each ``pool`` class (this round's and earlier ones'), ``fx`` the rate of
    each payout asset other than USD. ``exact_python_ints`` forces Python-int arithmetic."""
    named = _check_terms(plan, round_, pools_minor)
    rates = _check_fx(fx)
    _check_schema(claims)
    vocabularies = _vocabularies(plan, named, rates)
    coded = _coded(claims)
    vocabularies["jurisdiction"] = sorted(coded["jurisdiction"][0])
    tables = {name: _table(coded[name][0], vocabularies[name]) for name in _CODED}
    taking_part = (tables["class_code"][coded["class_code"][1]] >= 0) & (
        tables["status"][coded["status"][1]] >= 0
    )
    rows = np.flatnonzero(taking_part)
    del taking_part
    rows = rows[_byte_order(claims["claim_id"], rows)]
    text = {name: tables[name][coded[name][1][rows]] for name in _CODED}
    del coded
    _check_rows(text, vocabularies, plan.reserved_statuses)
    escrow = text["destination"] == vocabularies["destination"].index(ESCROW)
    text["asset"][escrow] = vocabularies["asset"].index(USD)
    del escrow
    admitted = claims["admitted_minor"].to_numpy()[rows]
    received = claims["received_minor"].to_numpy()[rows]
    if len(rows) and (int(admitted.min()) < 0 or int(admitted.max()) > admitted_max_minor):
        raise ValueError(f"an admitted amount is outside 0…{admitted_max_minor}")
    if len(rows) and int(received.min()) < 0:
        raise ValueError("a received amount is negative")
    entitlement = np.zeros(len(rows), dtype=np.int64)
    usd = np.zeros(len(rows), dtype=np.int64)
    totals: list[ClassTotal] = []
    for index, code in enumerate(vocabularies["class_code"]):
        at = np.flatnonzero(text["class_code"] == index)
        a = admitted[at]
        admitted_total = _exact_sum(a)
        rate = _class_rate(plan, round_, interest, named[code], pools_minor, admitted_total)
        parts, total = _largest_remainder(a, admitted_total, rate, exact=exact_python_ints)
        cap = cap_fraction(plan.classes[code], interest, _interest_to(round_, named[code]))
        _assert_within_cap(a, parts, cap, exact=exact_python_ints)
        assert _exact_sum(parts) == total, "the parts of a class sum to its total"
        pay = np.maximum(parts - received[at], 0)
        entitlement[at], usd[at] = parts, pay
        totals.append(
            ClassTotal(
                code,
                named[code].target,
                rate,
                len(at),
                admitted_total,
                total,
                _exact_sum(received[at]),
                int(np.count_nonzero(pay)),
                _exact_sum(pay),
            )
        )
    paying = usd > 0
    assert bool(np.all(usd <= entitlement)), "a payment never exceeds the entitlement"
    selected = rows[paying]
    usd = usd[paying]
    assets = text["asset"][paying]
    columns: dict[str, pl.Series | npt.NDArray[np.int64]] = {
        "line": np.arange(len(selected), dtype=np.int64),
        "claim_id": _gathered(claims["claim_id"], selected),
        "payee": _gathered(claims["payee"], selected),
        "account_id": _gathered(claims["account_id"], selected),
        "entitlement_minor": entitlement[paying],
        "received_minor": received[paying],
        "usd_minor": usd,
        "amount_minor": _convert(
            assets, usd, vocabularies["asset"], rates, exact=exact_python_ints
        ),
    }
    for name in _CODED:
        columns[name] = _decoded(name, vocabularies[name], text[name][paying])
    frame = pl.DataFrame({name: columns[name] for name in LINE_COLUMNS})
    return RoundLines(
        round_.round_id,
        round_.estate_id,
        round_.record_date,
        round_.payment_date,
        round_.funding_minor,
        frame,
        tuple(totals),
    )


def _class_rate(
    plan: Plan,
    round_: Round,
    interest: InterestTerms,
    class_round: ClassRound,
    pools_minor: Mapping[str, int],
    admitted_total: int,
) -> Fraction:
    """The exact entitlement per unit of admitted amount of a class in a round."""
    terms = plan.classes[class_round.class_code]
    cap = cap_fraction(terms, interest, _interest_to(round_, class_round))
    if class_round.target == PERCENT:
        return min(Fraction(class_round.cumulative_bps, bps_per_unit), cap)
    if class_round.target == CAP:
        return cap
    assert class_round.target == POOL, class_round.target
    if admitted_total == 0:
        return Fraction(0)
    return min(Fraction(pools_minor[class_round.class_code], admitted_total), cap)


def _interest_to(round_: Round, class_round: ClassRound) -> str:
    return class_round.interest_to or round_.payment_date


def _largest_remainder(
    admitted: IntArray, admitted_total: int, rate: Fraction, *, exact: bool
) -> tuple[IntArray, int]:
    """Each claim's part of ``⌊rate × Σ admitted⌋`` (claims in claim-id order) and that total."""
    p, q = rate.numerator, rate.denominator
    total = p * admitted_total // q
    if total > integer_max:
        raise ValueError(f"a class total of {total} minor units does not fit a BIGINT")
    if len(admitted) == 0:
        return np.zeros(0, dtype=np.int64), total
    floors: AnyIntArray
    remainders: AnyIntArray
    if not exact and p * int(admitted.max()) <= integer_max and q <= integer_max:
        floors, remainders = np.divmod(admitted * np.int64(p), np.int64(q))
    else:
        product = admitted.astype(object) * p
        floors, remainders = product // q, product % q
    leftover = total - _exact_sum(floors)
    parts = floors.astype(np.int64)
    parts[_largest(remainders, leftover)] += 1
    return parts, total


def _largest(remainders: AnyIntArray, count: int) -> IntArray:
    """Positions of the ``count`` largest positive remainders, ties by position."""
    size = len(remainders)
    assert 0 <= count <= size, "fewer leftover cents than claims"
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    threshold = np.partition(remainders, size - count)[size - count]
    assert threshold > 0, "a leftover cent goes only to a claim with a fractional part"
    above = np.flatnonzero(remainders > threshold)
    level = np.flatnonzero(remainders == threshold)[: count - len(above)]
    chosen = np.concatenate([above, level]).astype(np.int64)
    assert len(chosen) == count
    return chosen


def _assert_within_cap(admitted: IntArray, parts: IntArray, cap: Fraction, *, exact: bool) -> None:
    if len(admitted) == 0:
        return
    p, q = cap.numerator, cap.denominator
    ceiling: AnyIntArray
    if not exact and p * int(admitted.max()) <= integer_max and q <= integer_max:
        ceiling = -((admitted * np.int64(-p)) // np.int64(q))
    else:
        ceiling = -((admitted.astype(object) * -p) // q)
    assert bool(np.all(parts <= ceiling)), "no claim above the ceiling of its exact cap"


def _convert(
    assets: npt.NDArray[np.int16],
    usd: IntArray,
    vocabulary: list[str],
    rates: Mapping[str, tuple[int, int]],
    *,
    exact: bool,
) -> IntArray:
    """``⌊usd × num / den⌋`` per line, with its payout asset's rate."""
    if len(usd) == 0:
        return np.zeros(0, dtype=np.int64)
    numerators = np.array([rates[code][0] for code in vocabulary], dtype=np.int64)
    denominators = np.array([rates[code][1] for code in vocabulary], dtype=np.int64)
    if not exact and int(numerators.max()) * int(usd.max()) <= integer_max:
        return usd * numerators[assets] // denominators[assets]
    converted: npt.NDArray[np.object_] = (
        usd.astype(object) * numerators[assets].astype(object) // denominators[assets]
    )
    if max(converted) > integer_max:
        raise ValueError("a converted payment does not fit a BIGINT")
    return np.asarray(converted, dtype=np.int64)


# Checks -----------------------------------------------------------------------------------------


def _check_terms(
    plan: Plan, round_: Round, pools_minor: Mapping[str, int]
) -> dict[str, ClassRound]:
    if round_.estate_id != plan.estate_id:
        raise ValueError(f"round {round_.round_id} is of {round_.estate_id}, not {plan.estate_id}")
    overlap = set(plan.paid_statuses) & set(plan.reserved_statuses)
    if overlap:
        raise ValueError(f"statuses both paid and reserved: {sorted(overlap)}")
    named: dict[str, ClassRound] = {}
    for class_round in round_.classes:
        code = class_round.class_code
        if code in named:
            raise ValueError(f"round {round_.round_id} names class {code} twice")
        if code not in plan.classes:
            raise ValueError(f"round {round_.round_id}: class {code} is not in the plan")
        if class_round.target not in TARGETS:
            raise ValueError(f"class {code}: target {class_round.target!r} not in {TARGETS}")
        if not 0 <= class_round.cumulative_bps <= cap_bps_max:
            raise ValueError(f"class {code}: cumulative_bps out of 0…{cap_bps_max}")
        if class_round.target == POOL:
            pool = pools_minor.get(code)
            if pool is None or not money.is_bigint(pool) or pool < class_round.pool_minor:
                raise ValueError(
                    f"class {code}: the cumulative pool {pool!r} is missing, not a BIGINT, or "
                    f"below this round's pool {class_round.pool_minor}"
                )
        named[code] = class_round
    for code, pool in pools_minor.items():
        if code not in plan.classes or not money.is_bigint(pool) or pool < 0:
            raise ValueError(f"pool of {code!r}: not a class of the plan or not a BIGINT ≥ 0")
    return named


def _check_fx(fx: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    rates = {USD: (1, 1)}
    for code, (num, den) in fx.items():
        if not money.is_asset_code(code):
            raise ValueError(f"FX rate for {code!r}, which is not an asset")
        if not all(type(t) is int and 0 < t <= fx_term_max for t in (num, den)):
            raise ValueError(f"FX rate of {code}: {num}/{den} is not two ints in 1…{fx_term_max}")
        if code == USD and num != den:
            raise ValueError(f"the rate of USD to itself is 1, not {num}/{den}")
        rates[code] = (num, den) if code != USD else (1, 1)
    return rates


def _check_schema(claims: pl.DataFrame) -> None:
    for name, dtype in INPUT_SCHEMA.items():
        if name not in claims.schema:
            raise ValueError(f"the claims frame has no column {name}")
        found = claims.schema[name]
        if found != dtype and not (name in _CODED and isinstance(found, pl.Enum)):
            raise ValueError(f"column {name} is {found}, not {dtype}")
    if claims.height > claims_per_round_max:
        raise ValueError(f"more than {claims_per_round_max} claims")
    nulls = [name for name in INPUT_SCHEMA if claims[name].null_count()]
    if nulls:
        raise ValueError(f"null values in {', '.join(nulls)}")


def _vocabularies(
    plan: Plan, named: Mapping[str, ClassRound], rates: Mapping[str, tuple[int, int]]
) -> dict[str, list[str]]:
    """The values each text column of a line can take, in byte order (jurisdictions: those of
    the register, added by the caller)."""
    return {
        "class_code": sorted(named),
        "status": sorted({*plan.paid_statuses, *plan.reserved_statuses}),
        "destination": sorted(DESTINATIONS),
        "reason": sorted({"", *ESCROW_REASONS}),
        "asset": sorted(rates),
    }


def _check_rows(
    text: Mapping[str, npt.NDArray[np.int16]],
    vocabularies: Mapping[str, list[str]],
    reserved: tuple[str, ...],
) -> None:
    """Refuse participating rows that break the contract (codes are -1 outside a vocabulary)."""
    destination, reason = text["destination"], text["reason"]
    creditor = destination == vocabularies["destination"].index(CREDITOR)
    escrow = destination == vocabularies["destination"].index(ESCROW)
    no_reason = reason == vocabularies["reason"].index("")
    reserved_codes = [i for i, s in enumerate(vocabularies["status"]) if s in reserved]
    rules = {
        "a destination other than creditor or escrow": destination < 0,
        "an escrow line without a known reason": escrow & (no_reason | (reason < 0)),
        "a creditor line with a reason": creditor & ~no_reason,
        "a reserved status not sent to escrow": np.isin(text["status"], reserved_codes) & ~escrow,
        "a creditor payout asset without an FX rate": creditor & (text["asset"] < 0),
    }
    broken = [f"{np.count_nonzero(rule)} with {name}" for name, rule in rules.items() if rule.any()]
    if broken:
        raise ValueError("participating claims: " + "; ".join(broken))


# Helpers ----------------------------------------------------------------------------------------


def _coded(claims: pl.DataFrame) -> dict[str, tuple[list[str], npt.NDArray[np.integer[Any]]]]:
    """Each low-cardinality text column as a vocabulary and each row's index in it (the
    ``pl.Enum`` physical codes: ``uint8`` for up to 256 values). A ``String`` column's
    vocabulary is its distinct values; an ``Enum`` column's, its categories."""
    strings = [name for name in _CODED if claims.schema[name] == pl.String()]
    distinct = (
        claims.select(pl.col(name).unique().implode() for name in strings).row(0) if strings else ()
    )
    vocabularies: dict[str, list[str]] = dict(zip(strings, distinct, strict=True))
    for name in _CODED:
        dtype = claims.schema[name]
        if isinstance(dtype, pl.Enum):
            vocabularies[name] = dtype.categories.to_list()
        if len(vocabularies[name]) > vocabulary_max:
            raise ValueError(f"column {name} has more than {vocabulary_max} distinct values")
    codes = claims.select(
        pl.col(name).cast(pl.Enum(vocabularies[name])).to_physical() for name in _CODED
    )
    return {name: (vocabularies[name], codes[name].to_numpy()) for name in _CODED}


def _table(vocabulary: list[str], target: list[str]) -> npt.NDArray[np.int16]:
    """For each value of ``vocabulary``, its index in ``target`` (-1 if absent); a final -1 so
    that an empty vocabulary still indexes. ``int16``: ``vocabulary_max`` fits."""
    where = {value: index for index, value in enumerate(target)}
    return np.array([where.get(value, -1) for value in vocabulary] + [-1], dtype=np.int16)


def _decoded(name: str, vocabulary: list[str], codes: npt.NDArray[np.int16]) -> pl.Series:
    """A text column from codes, as a ``pl.Enum`` over ``vocabulary``."""
    assert len(codes) == 0 or int(codes.min()) >= 0, f"every {name} of a line is known"
    return pl.Series(name, vocabulary, dtype=pl.Enum(vocabulary)).gather(codes)


def _gathered(column: pl.Series, rows: IntArray) -> pl.Series:
    """``column[rows]``, its text copied into fresh buffers in row order when any value is
    longer than a string view holds inline (12 bytes). A plain gather only copies the views,
    which keep pointing into the input's buffers in the input's order: every later pass over
    the lines (the file writer, its checks) then reads them at random — at 10,000,000 lines,
    ~5 s more per pass than the ~1.5 s this copy costs."""
    picked = column.gather(rows)
    longest = picked.str.len_bytes().max()
    if longest is None or int(cast(int, longest)) <= polars_inline_string_max_bytes:
        return picked
    return picked.to_frame().select(pl.concat_str(pl.col(column.name), pl.lit(""))).to_series()


def _byte_order(ids: pl.Series, rows: IntArray) -> IntArray:
    """The permutation of ``rows`` that sorts their claim ids by bytes; refuses repeated ids.

    Polars' ``arg_sort`` of 10,000,000 strings takes ~10 s here (its value sort, ~1 s), so the
    ids are cut into big-endian 16-bit words (NUL-padded to a multiple of 8 bytes) and sorted by
    ``numpy.lexsort`` over the words that vary (a radix sort per word): ~2 s for 10,000,000
    ids of 12 characters, more for long ids whose every word varies. Every id of the frame
    must be non-empty ASCII without NUL (``CLAIM_ID_RE`` is stricter), so that padding with
    NULs keeps byte order.
    """
    count = len(rows)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    frame = ids.to_frame("id")
    found = frame.select(
        pl.col("id").str.len_bytes().min().alias("shortest"),
        pl.col("id").str.len_bytes().max().alias("longest"),
        (pl.col("id").str.len_bytes() != pl.col("id").str.len_chars()).any().alias("wide"),
        pl.col("id").str.contains("\x00", literal=True).any().alias("nul"),
    ).row(0, named=True)
    if found["shortest"] == 0 or found["wide"] or found["nul"]:
        raise ValueError("claim ids must be non-empty ASCII text without NUL")
    width = -(-int(found["longest"]) // 8) * 8
    binary = pl.col("id").str.pad_end(width, "\x00").cast(pl.Binary)
    words = frame.select(
        binary.bin.slice(start, 8)
        .bin.reinterpret(dtype=pl.UInt64, endianness="little")
        .alias(str(start))
        for start in range(0, width, 8)
    )
    del frame
    keys: list[npt.NDArray[np.uint16]] = []
    for name in words.columns:
        raw = np.ascontiguousarray(words[name].to_numpy(), dtype="<u8")
        pairs = raw.view(np.uint8).reshape(len(raw), 8).view(">u2")
        for column in pairs.T:
            if int(column.min()) == int(column.max()):
                continue  # the same in every id: orders nothing
            key = column[rows].astype(np.uint16)
            if int(key.min()) != int(key.max()):
                keys.append(key)
    permutation = np.lexsort(keys[::-1]) if keys else np.arange(count)
    same = np.ones(count - 1, dtype=np.bool_)
    for key in keys:
        ordered = key[permutation]
        same &= ordered[1:] == ordered[:-1]
    if same.any():
        raise ValueError("claim ids of participating claims are not unique")
    return permutation.astype(np.int64)


def _exact_sum(values: AnyIntArray) -> int:
    """The exact sum of an int64 or object array. An int64 array whose count × largest
    magnitude fits 64 bits is summed as it is (no partial sum can overflow); another is split
    into its high and low 32 bits, which sum without overflow for fewer than 2**31 values."""
    if values.dtype == np.object_:
        return int(sum(values.tolist()))
    if len(values) == 0:
        return 0
    largest = max(abs(int(values.max())), abs(int(values.min())))
    if largest * len(values) <= integer_max:
        return int(np.sum(values, dtype=np.int64))
    high = int(np.sum(values >> _HALF_BITS, dtype=np.int64))
    low = int(np.sum(values & _LOW_MASK, dtype=np.int64))
    return (high << _HALF_BITS) + low


# The summary ------------------------------------------------------------------------------------


def _summary(lines: RoundLines) -> RoundSummary:
    frame = lines.frame
    jurisdictions = tuple(
        Bucket(key[0], count, sums[0])
        for key, count, sums in _group_sums(frame, ("jurisdiction",), ("usd_minor",))
    )
    groups = _group_sums(frame, ("destination", "reason", "asset"), ("usd_minor", "amount_minor"))
    reasons: dict[str, list[int]] = {}
    assets: dict[str, list[int]] = {}
    for (destination, reason, asset), count, (usd_minor, amount_minor) in groups:
        if destination == ESCROW:
            bucket = reasons.setdefault(reason, [0, 0])
            bucket[0], bucket[1] = bucket[0] + count, bucket[1] + usd_minor
        else:
            totals = assets.setdefault(asset, [0, 0, 0])
            totals[0], totals[1], totals[2] = (
                totals[0] + count,
                totals[1] + usd_minor,
                totals[2] + amount_minor,
            )
    total = sum(b.usd_minor for b in jurisdictions)
    assert total == lines.usd_minor, "the lines sum to the classes' totals"
    escrowed = sum(usd_minor for _, usd_minor in reasons.values())
    return RoundSummary(
        lines.round_id,
        lines.estate_id,
        lines.record_date,
        lines.payment_date,
        lines.funding_minor,
        frame.height,
        total,
        total - escrowed,
        escrowed,
        lines.classes,
        jurisdictions,
        tuple(Bucket(k, v[0], v[1]) for k, v in sorted(reasons.items())),
        tuple(AssetTotal(k, v[0], v[1], v[2]) for k, v in sorted(assets.items())),
        _extremes(frame, largest=True),
        _extremes(frame, largest=False),
    )


def _group_sums(
    frame: pl.DataFrame, keys: tuple[str, ...], columns: tuple[str, ...]
) -> list[tuple[tuple[str, ...], int, tuple[int, ...]]]:
    """Per value of ``keys`` (in byte order): the count of lines and the exact sums of
    ``columns`` (non-negative). A column whose exact total fits 64 bits is summed as it is (no
    partial sum can exceed the total); another is summed as 32-bit halves."""
    aggregates = [pl.len().alias("_count")]
    halves: set[str] = set()
    for name in columns:
        if _exact_sum(frame[name].to_numpy()) <= integer_max:
            aggregates.append(pl.col(name).sum().alias(name))
            continue
        halves.add(name)
        aggregates += [
            (pl.col(name) // (1 << _HALF_BITS)).sum().alias(f"{name}_high"),
            (pl.col(name) % (1 << _HALF_BITS)).sum().alias(f"{name}_low"),
        ]
    grouped = frame.lazy().group_by(keys).agg(aggregates).sort(keys).collect()
    result: list[tuple[tuple[str, ...], int, tuple[int, ...]]] = []
    for row in grouped.iter_rows(named=True):
        sums = tuple(
            (row[f"{n}_high"] << _HALF_BITS) + row[f"{n}_low"] if n in halves else row[n]
            for n in columns
        )
        result.append((tuple(row[k] for k in keys), row["_count"], sums))
    return result


def _extremes(frame: pl.DataFrame, *, largest: bool) -> tuple[Payment, ...]:
    """The ``summary_payments_max`` largest (or smallest) lines by USD, ties by claim id."""
    count = min(summary_payments_max, frame.height)
    if count == 0:
        return ()
    usd = frame["usd_minor"].to_numpy()
    keyed = -usd if largest else usd
    threshold = np.partition(keyed, count - 1)[count - 1]
    candidates = np.flatnonzero(keyed <= threshold)
    ordered = candidates[np.lexsort((candidates, keyed[candidates]))][:count]
    picked = frame[ordered]
    return tuple(
        Payment(
            row["line"],
            row["claim_id"],
            row["class_code"],
            row["destination"],
            row["usd_minor"],
            row["asset"],
            row["amount_minor"],
        )
        for row in picked.iter_rows(named=True)
    )
