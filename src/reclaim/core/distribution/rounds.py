"""The ladders of a round: plan, declaration, funding, approval, executed lines, completion.

See ``reclaim.core.distribution.machine`` for the round's state table (``ROUND_TRANSITIONS`` is
that table as data, which the ladders consult) and how money moves; ``line_effects`` and
``funding_effects`` are the ledger effects the events imply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

import polars as pl

from reclaim.core.claims.model import (
    ESTATE_ID_RE,
    HEX64_RE,
    STATUSES,
    is_date,
)
from reclaim.core.distribution.codes import DistributionCode as C
from reclaim.core.distribution.codes import DistributionRejection
from reclaim.core.distribution.commands import HOLDER_ROLES, Context, ledger_refusal, refuse
from reclaim.core.distribution.interest import entitlement_cap_minor
from reclaim.core.distribution.model import (
    CAP,
    KYC_MISSED,
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
    ESCROW,
    ESCROW_REASONS,
    PAYOUT_ASSETS,
    USD,
    creditor_account_id,
    escrow_account_id,
)
from reclaim.core.distribution.payload_codec import (
    approval_from_payload,
    lines_from_payload,
    plan_from_payload,
    round_from_payload,
)
from reclaim.core.distribution.payloads import (
    LINES_EXECUTED,
    ROUND_APPROVED,
    ROUND_COMPLETED,
    ROUND_FUNDED,
)
from reclaim.core.distribution.preview import claims_frame, lines_digest, round_lines
from reclaim.core.distribution.state import (
    Approval,
    DistributionState,
    FxUse,
    Line,
    RoundProgress,
)
from reclaim.core.ledger.effects import Effects
from reclaim.core.ledger.model import (
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    Transfer,
    account_id,
)
from reclaim.core.limits import (
    admitted_max_minor,
    cap_bps_max,
    lines_per_event_max,
    round_id_length_max_chars,
    rounds_per_estate_max,
)
from reclaim.core.payload_fields import integer, record, text
from reclaim.core.transitions import transition_table
from reclaim.core.types import JsonValue

_ROUND_ID_RE: Final = re.compile(f"[A-Za-z0-9][A-Za-z0-9._-]{{0,{round_id_length_max_chars - 1}}}")


_FD: Final = frozenset

#: The phases of a round (rows of the round table; ``phase_of``).
DECLARED: Final = "declared"
FUNDED: Final = "funded"
APPROVED: Final = "approved"
COMPLETED: Final = "completed"
PHASES: Final = (DECLARED, FUNDED, APPROVED, COMPLETED)
#: The round table (``machine``'s docstring): phase -> {event -> the phase it moves to, or the
#: code it is refused with}. A move is still subject to the rest of the event's ladder.
ROUND_TRANSITIONS: Final[Mapping[str, Mapping[str, str | C]]] = transition_table(
    (ROUND_FUNDED, ROUND_APPROVED, LINES_EXECUTED, ROUND_COMPLETED),
    {
        DECLARED:  (FUNDED,                 C.round_not_funded,       C.round_not_approved,
                    C.round_not_approved),
        FUNDED:    (C.round_funded_already, APPROVED,                 C.round_not_approved,
                    C.round_not_approved),
        APPROVED:  (C.round_funded_already, C.round_approved_already, APPROVED,
                    COMPLETED),
        COMPLETED: (C.round_funded_already, C.round_approved_already, C.round_completed_already,
                    C.round_completed_already),
    },
)  # fmt: skip


def phase_of(progress: RoundProgress) -> str:
    """The round's row of ``ROUND_TRANSITIONS``: how far its events went."""
    if progress.completed_at:
        return COMPLETED
    if progress.approval is not None:
        return APPROVED
    return FUNDED if progress.funded_minor else DECLARED


def _round_for(
    progress: RoundProgress | None, round_id: JsonValue, event_type: str
) -> RoundProgress | DistributionRejection:
    """The round ``round_id`` names (``progress``) if the round table lets ``event_type`` follow
    in its phase; else the table's refusal, or ``round_unknown`` when there is no such round."""
    if progress is None:
        return refuse(C.round_unknown, repr(round_id))
    cell = ROUND_TRANSITIONS[phase_of(progress)][event_type]
    return refuse(cell, repr(progress.round.round_id)) if isinstance(cell, C) else progress


def check_plan(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    plan = plan_from_payload(p, time)
    estate = ctx.claims.estates.get(plan.estate_id)
    if estate is None:
        return refuse(C.estate_unknown, repr(plan.estate_id))
    for index, c in enumerate(plan.classes.values()):
        if c.class_code not in estate.classes:
            return refuse(C.plan_class_unknown, repr(c.class_code), index)
        if not 0 < c.cap_bps <= cap_bps_max:
            return refuse(C.plan_cap_out_of_range, f"{c.class_code}: {c.cap_bps}", index)
    statuses = plan.paid_statuses + plan.reserved_statuses
    if len(set(statuses)) != len(statuses) or not all(s in STATUSES for s in statuses):
        return refuse(C.plan_status_unknown, f"{statuses}")
    for name in ("kyc_start_by", "kyc_finish_by"):
        value = getattr(plan, name)
        if value and not is_date(value):
            return refuse(C.plan_date_invalid, f"{name} {value!r}")
    if plan.kyc_start_by and plan.kyc_finish_by and plan.kyc_start_by > plan.kyc_finish_by:
        return refuse(C.plan_date_invalid, "kyc_start_by is after kyc_finish_by")
    if plan.kyc_missed not in KYC_MISSED:
        return refuse(C.plan_kyc_missed_unknown, repr(plan.kyc_missed))
    return None


def check_round(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    r = round_from_payload(p, time)
    if _ROUND_ID_RE.fullmatch(r.round_id) is None:
        return refuse(C.round_id_malformed, repr(r.round_id))
    if r.round_id in ds.rounds:
        return refuse(C.round_exists, repr(r.round_id))
    if ESTATE_ID_RE.fullmatch(r.estate_id) is None or r.estate_id not in ctx.claims.estates:
        return refuse(C.estate_unknown, repr(r.estate_id))
    plan = ds.plans.get(r.estate_id)
    if plan is None:
        return refuse(C.plan_missing, f"estate {r.estate_id!r} has no plan")
    if not (is_date(r.record_date) and is_date(r.payment_date)) or r.record_date > r.payment_date:
        return refuse(C.round_dates_invalid, f"{r.record_date} → {r.payment_date}")
    seen: set[str] = set()
    for index, c in enumerate(r.classes):
        refused = _class_round_code(plan, c, seen, r.payment_date)
        if refused is not None:
            return refuse(refused, f"class {c.class_code!r}", index)
        seen.add(c.class_code)
    if not r.funding_minor >= 0:
        return refuse(C.funding_amount_invalid, str(r.funding_minor))
    if len(ds.estate_rounds.get(r.estate_id, ())) >= rounds_per_estate_max:
        return refuse(C.round_too_many, f"{rounds_per_estate_max} rounds")
    return None


def _class_round_code(plan: Plan, c: ClassRound, seen: set[str], payment_date: str) -> C | None:
    if c.class_code not in plan.classes:
        return C.round_class_unknown
    if c.class_code in seen:
        return C.round_class_duplicated
    if c.target not in TARGETS:
        return C.round_target_unknown
    valid = (
        (c.target == PERCENT and 0 < c.cumulative_bps <= cap_bps_max and c.pool_minor == 0)
        or (c.target == CAP and c.cumulative_bps == 0 and c.pool_minor == 0)
        or (c.target == POOL and c.cumulative_bps == 0 and c.pool_minor >= 0)
    )
    if not valid or (
        c.interest_to and (not is_date(c.interest_to) or c.interest_to > payment_date)
    ):
        return C.round_target_invalid
    return None


def _progress(ds: DistributionState, p: Mapping[str, JsonValue]) -> RoundProgress | None:
    return ds.rounds.get(text(p, "round_id"))


def check_funded(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"round_id", "amount_minor"}))
    progress = _round_for(_progress(ds, p), p["round_id"], ROUND_FUNDED)
    if isinstance(progress, DistributionRejection):
        return progress
    amount = integer(p, "amount_minor")
    if amount != progress.round.funding_minor or amount <= 0:
        return refuse(C.funding_amount_invalid, f"{amount} != {progress.round.funding_minor}")
    return ledger_refusal(ctx.ledger, funding_effects(progress.round, amount), time)


def pool_id(estate_id: str) -> str:
    return account_id(f"estate.{estate_id}", USD, "estate_pool")


def funding_effects(r: Round, amount: int) -> Effects:
    owner = f"estate.{r.estate_id}"
    source = Account.of(owner, USD, "rail_settlement")
    pool = Account.of(owner, USD, "estate_pool", frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS}))
    transfer = Transfer(
        f"fund:{r.round_id}",
        source.id,
        pool.id,
        USD,
        amount,
        "funding",
        {"distribution": r.round_id},
    )
    return Effects((source, pool), (transfer,))


def check_approved(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    a = approval_from_payload(p, time, "")
    progress = _round_for(_progress(ds, p), p["round_id"], ROUND_APPROVED)
    if isinstance(progress, DistributionRejection):
        return progress
    busy = ds.open_round(progress.round.estate_id)
    if busy is not None:
        return refuse(C.another_round_executing, f"round {busy.round.round_id!r} is executing")
    if HEX64_RE.fullmatch(a.lines_sha256) is None:
        return refuse(C.approval_digest_malformed, repr(a.lines_sha256))
    if a.lines < 0 or not 0 <= a.escrow_total_minor <= a.usd_total_minor:
        return refuse(C.approval_totals_invalid, f"{a.lines} lines, {a.usd_total_minor}")
    if (a.lines == 0) != (a.usd_total_minor == 0) or a.usd_total_minor < a.lines:
        return refuse(C.approval_totals_invalid, f"{a.lines} lines, {a.usd_total_minor}")
    for index, u in enumerate(a.rates):
        latest = ds.latest_rate(u.asset)
        expected = None if latest is None else (latest.rate, latest.numerator, latest.denominator)
        if u.asset == USD or expected != (u.rate, u.numerator, u.denominator):
            return refuse(C.approval_rate_not_latest, f"{u.asset} {u.rate}", index)
    pool = ctx.ledger.accounts.get(pool_id(progress.round.estate_id))
    available = 0 if pool is None else pool.available_minor
    if a.usd_total_minor > available:
        return refuse(C.pool_insufficient, f"{a.usd_total_minor} > {available} in the pool")
    return _recomputed(ds, ctx, progress.round, a)


def _recomputed(
    ds: DistributionState, ctx: Context, round_: Round, a: Approval
) -> DistributionRejection | None:
    """The approval's digest and totals are the round's, recomputed from this state."""
    plan = ds.plans[round_.estate_id]
    frame = claims_frame(ds, ctx.claims, plan, round_, ctx.kyc_exempt)
    paid_assets = frame.filter(pl.col("destination") == CREDITOR)["asset"].unique().to_list()
    missing = sorted(set(paid_assets) - {USD} - {u.asset for u in a.rates})
    if missing:
        return refuse(C.approval_rate_not_latest, f"no rate for {', '.join(missing)}")
    lines = round_lines(ds, ctx.claims, round_, frame, a.rates)
    summary = lines.summary()
    found = (lines_digest(lines), summary.lines, summary.usd_minor, summary.escrowed_usd_minor)
    wanted = (a.lines_sha256, a.lines, a.usd_total_minor, a.escrow_total_minor)
    if found != wanted:
        return refuse(C.approval_not_as_computed, f"recomputed {found}, approved {wanted}")
    return None


def check_lines(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    round_id, first, lines = lines_from_payload(p)
    if len(lines) > lines_per_event_max:
        return refuse(C.batch_too_large, f"{len(lines)} lines")
    progress = _round_for(ds.rounds.get(round_id), round_id, LINES_EXECUTED)
    if isinstance(progress, DistributionRejection):
        return progress
    approval = progress.approval
    assert approval is not None, "the round table refuses lines of an unapproved round"
    if first != progress.executed_lines:
        return refuse(C.line_out_of_order, f"line {first}, expected {progress.executed_lines}")
    if first + len(lines) > approval.lines:
        return refuse(C.line_beyond_approved, f"{first + len(lines)} > {approval.lines}")
    rates = {u.asset: u for u in approval.rates}
    previous = progress.last_claim
    for index, line in enumerate(lines):
        code = _line_code(ds, ctx, progress, rates, line, previous)
        if code is not None:
            return refuse(code, f"line {line.line} (claim {line.claim_id!r})", index)
        previous = line.claim_id
    return ledger_refusal(ctx.ledger, line_effects(progress.round, lines), time)


def _line_code(
    ds: DistributionState,
    ctx: Context,
    progress: RoundProgress,
    rates: Mapping[str, FxUse],
    line: Line,
    previous: str,
) -> C | None:
    claim = ctx.claims.claims.get(line.claim_id)
    r = progress.round
    if claim is None or claim.estate_id != r.estate_id or line.claim_id <= previous:
        return (
            C.line_claim_unknown
            if claim is None or line.claim_id > previous
            else (C.line_out_of_order if claim.estate_id == r.estate_id else C.line_claim_unknown)
        )
    if line.usd_minor <= 0 or line.received_minor != ds.received.get(line.claim_id, 0):
        return C.line_amount_invalid
    if line.entitlement_minor != line.received_minor + line.usd_minor:
        return C.line_amount_invalid
    plan = ds.plans[r.estate_id]
    terms = plan.classes.get(claim.class_code)
    class_round = next((c for c in r.classes if c.class_code == claim.class_code), None)
    if terms is None or class_round is None or claim.admitted_minor > admitted_max_minor:
        return C.line_exceeds_entitlement
    estate = ctx.claims.estates[r.estate_id]
    interest = InterestTerms(
        estate.consensus_rate_bps, estate.interest, estate.day_count, estate.petition_date
    )
    ceiling = entitlement_cap_minor(
        claim.admitted_minor, terms, interest, class_round.interest_to or r.payment_date
    )
    if line.entitlement_minor > ceiling:
        return C.line_exceeds_entitlement
    return _destination_code(ctx, rates, line)


def _destination_code(ctx: Context, rates: Mapping[str, FxUse], line: Line) -> C | None:
    if line.destination == ESCROW:
        ok = (
            line.reason in ESCROW_REASONS
            and not line.payee
            and line.asset == USD
            and line.account_id == escrow_account_id(line.claim_id)
        )
        if not ok:
            return C.line_account_mismatch
        return None if line.amount_minor == line.usd_minor else C.line_conversion_mismatch
    if line.destination != CREDITOR or line.reason:
        return C.line_account_mismatch
    if ctx.role_of(line.payee) not in HOLDER_ROLES:
        return C.line_payee_unknown
    if line.asset not in PAYOUT_ASSETS or line.account_id != creditor_account_id(
        line.payee, line.asset
    ):
        return C.line_account_mismatch
    if line.asset == USD:
        return None if line.amount_minor == line.usd_minor else C.line_conversion_mismatch
    rate = rates.get(line.asset)
    if rate is None or line.amount_minor != line.usd_minor * rate.numerator // rate.denominator:
        return C.line_conversion_mismatch
    return None


def line_effects(r: Round, lines: Sequence[Line]) -> Effects:
    """The accounts and transfers a batch of lines implies (see ``distribution.machine``)."""
    pool = pool_id(r.estate_id)
    flags = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
    accounts: list[Account] = []
    transfers: list[Transfer] = []
    for line in lines:
        ident = f"d:{r.round_id}:{line.line}"
        refs = {"claim": line.claim_id, "distribution": r.round_id}
        owner, asset, purpose = line.account_id.split("/")
        accounts.append(Account.of(owner, asset, purpose, flags))
        code = "distribution"
        if asset == USD:
            transfers.append(
                Transfer(ident, pool, line.account_id, USD, line.usd_minor, code, refs)
            )
            continue
        fx_usd, fx_asset = Account.of("fx", USD, "fx"), Account.of("fx", asset, "fx")
        accounts += (fx_usd, fx_asset)
        transfers.append(Transfer(ident, pool, fx_usd.id, USD, line.usd_minor, code, refs))
        if line.amount_minor:
            transfers.append(
                Transfer(f"{ident}:fx", fx_asset.id, line.account_id, asset, line.amount_minor,
                         code, refs)
            )  # fmt: skip
    return Effects(tuple(accounts), tuple(transfers))


def check_completed(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"round_id"}))
    progress = _round_for(_progress(ds, p), p["round_id"], ROUND_COMPLETED)
    if isinstance(progress, DistributionRejection):
        return progress
    a = progress.approval
    assert a is not None, "the round table refuses completing an unapproved round"
    if progress.executed_lines != a.lines or progress.executed_usd_minor != a.usd_total_minor:
        return refuse(C.round_incomplete, f"{progress.executed_lines} of {a.lines} lines")
    if progress.escrowed_usd_minor != a.escrow_total_minor:
        return refuse(C.round_incomplete, f"escrowed {progress.escrowed_usd_minor}")
    digest = progress.hasher.copy().hexdigest()
    if digest != a.lines_sha256:
        return refuse(C.round_digest_mismatch, f"{digest} != {a.lines_sha256}")
    return None
