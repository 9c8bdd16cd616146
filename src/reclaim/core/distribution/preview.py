"""A round computed from the state: the claims frame, the lines, and the digest approvals sign.

``round_lines(ds, claims, round, rates, kyc_exempt)`` classifies every claim of the round's
estate (``payees.classify``), computes the round (``compute.compute_round``) with the given FX
rates, and returns its ``RoundLines``; ``lines_digest(lines)`` is the SHA-256 of the lines file
those lines make (header, then one line each: the bytes ``adapters.files.round_file`` writes). The
approval ladder recomputes both from the state it is decided at — and a verifier replaying the
log recomputes them from the same state — so an approved digest is always the one the public
rules give; nothing about a round is taken on the operator's word.

Cost: O(claims of the estate) — a Python pass to classify, then the vectorised computation;
about 3 s per million claims. Approvals are rare, so the writer pays it once per round.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection, Sequence

import polars as pl

from reclaim.core.claims.model import ClaimsState
from reclaim.core.distribution.compute import INPUT_SCHEMA, RoundLines, compute_round
from reclaim.core.distribution.model import POOL, InterestTerms, Plan, Round
from reclaim.core.distribution.payees import classify
from reclaim.core.distribution.state import DistributionState, FxUse


def claims_frame(
    ds: DistributionState,
    claims: ClaimsState,
    plan: Plan,
    round_: Round,
    kyc_exempt: Collection[str] = (),
) -> pl.DataFrame:
    """Every claim of the round's estate with what it received and where its amount goes
    (``compute.INPUT_SCHEMA``), in register order."""
    columns: dict[str, list[object]] = {name: [] for name in INPUT_SCHEMA}
    dates = (round_.record_date, round_.payment_date)
    for claim in claims.estate_claims(round_.estate_id):
        payee = classify(ds, claims, plan, claim, *dates, kyc_exempt)
        columns["claim_id"].append(claim.id)
        columns["class_code"].append(claim.class_code)
        columns["jurisdiction"].append(claim.jurisdiction)
        columns["status"].append(claim.status)
        columns["admitted_minor"].append(claim.admitted_minor)
        columns["received_minor"].append(ds.received.get(claim.id, 0))
        columns["destination"].append(payee.destination)
        columns["reason"].append(payee.reason)
        columns["payee"].append(payee.payee)
        columns["account_id"].append(payee.account_id)
        columns["asset"].append(payee.asset)
    return pl.DataFrame(columns, schema=INPUT_SCHEMA)


def interest_terms(claims: ClaimsState, estate_id: str) -> InterestTerms:
    estate = claims.estates[estate_id]
    return InterestTerms(
        estate.consensus_rate_bps, estate.interest, estate.day_count, estate.petition_date
    )


def round_lines(
    ds: DistributionState,
    claims: ClaimsState,
    round_: Round,
    frame: pl.DataFrame,
    rates: Sequence[FxUse],
) -> RoundLines:
    """The round over ``frame`` (``claims_frame``) with ``rates`` for the non-USD assets."""
    plan = ds.plans[round_.estate_id]
    pools = {
        c.class_code: ds.pool_to_date(round_.estate_id, c.class_code, round_.round_id)
        for c in round_.classes
        if c.target == POOL
    }
    fx = {u.asset: (u.numerator, u.denominator) for u in rates}
    return compute_round(frame, plan, round_, interest_terms(claims, round_.estate_id), pools, fx)


def lines_digest(lines: RoundLines) -> str:
    """SHA-256 (hex) of the lines file of ``lines``: what an approval signs."""
    buffer = io.BytesIO()
    lines.frame.write_csv(buffer, include_header=True, quote_style="never", line_terminator="\n")
    return hashlib.sha256(buffer.getvalue()).hexdigest()
