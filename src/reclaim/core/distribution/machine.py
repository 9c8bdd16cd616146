"""The distribution core's ladders: decide, check and evolve its events.

Theory of operation
-------------------
A round goes ``declared → funded → approved → executing → completed`` (h11 style):

| state     | funded            | approved            | lines_executed     | completed          |
| --------- | ----------------- | ------------------- | ------------------ | ------------------ |
| declared  | → funded          | round_not_funded    | round_not_approved | round_not_approved |
| funded    | …funded_already   | → approved          | round_not_approved | round_not_approved |
| approved  | …funded_already   | …approved_already   | → approved (more)  | → completed (all)  |
| completed | …funded_already   | …approved_already   | …completed_already | …completed_already |

(columns: ``distribution.round_funded``, ``…round_approved``, ``…lines_executed``,
``…round_completed``; codes abbreviated from ``codes.DistributionCode``.)

The approval signs the SHA-256 of the round's lines file (computed by ``compute`` from the state
at preview time and written by the shell). Execution replays that file in order, in batches:
each ``distribution.lines_executed`` event must start at the next line number, name claims in
strictly increasing id order, and carry lines that agree with the state — the claim exists, the
line's ``received_minor`` is what the claim has received so far (so a line can never be paid
twice, even from a forged file), ``entitlement = received + usd`` is at most the ceiling of the
claim's cap, the account is the payee's (or the claim's escrow), the conversion uses the approved
rate. The event hashes each line's text; ``round_completed`` requires every approved line
executed and the running digest equal to the approved one, so what was paid is exactly what was
approved. One round per estate executes at a time (approval refuses a second), so ``received``
cannot move under an approved file.

Money moves with the events (``reclaim.core.ledger.effects``): funding ``estate.<id>/USD/
rail_settlement → estate.<id>/USD/estate_pool``; a USD line ``pool → payee or escrow``; a line in
EUR or USDC ``pool → fx/USD/fx`` then ``fx/<asset>/fx → payee`` (the operator's FX position;
amounts floored, the fraction stays with the operator); a release ``escrow → holder``; a
forfeiture ``escrow → pool`` (back to the estate). Transfer ids are derived (``d:<round>:<line>``,
``fund:<round>``, ``er:<claim>:<n>``, ``ef:<claim>:<n>``), so a retried batch is refused, never
applied twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Final, NamedTuple

import polars as pl

from reclaim.core.claims.model import (
    ESTATE_ID_RE,
    HEX64_RE,
    OPEN,
    REFERENCE_RE,
    STATUSES,
    ClaimsState,
    is_date,
    is_text,
)
from reclaim.core.claims.policy import treatment
from reclaim.core.distribution.codes import DistributionCode as C
from reclaim.core.distribution.codes import DistributionRejection
from reclaim.core.distribution.interest import entitlement_cap_minor
from reclaim.core.distribution.model import (
    CAP,
    KYC_MISSED,
    PERCENT,
    POOL,
    TARGETS,
    ClassRound,
    ClassTerms,
    InterestTerms,
    Plan,
    Round,
    admitted_max_minor,
    cap_bps_max,
    round_id_length_max_chars,
    rounds_per_estate_max,
)
from reclaim.core.distribution.payees import (
    CREDITOR,
    ESCROW,
    ESCROW_REASONS,
    PAYOUT_ASSETS,
    RELEASE_REASONS,
    USD,
    classify,
    creditor_account_id,
    current_holder,
    escrow_account_id,
    residence_on,
)
from reclaim.core.distribution.payloads import (
    CLAIM_ASSIGNED,
    DISTRIBUTION_EVENT_TYPES,
    ESCROW_FORFEITED,
    ESCROW_RELEASED,
    FX_RATE_RECORDED,
    LINE_FIELDS,
    LINES_EXECUTED,
    OBJECTION_DECIDED,
    PAYOUT_ELECTED,
    PLAN_SET,
    RESIDENCE_PROVED,
    ROUND_APPROVED,
    ROUND_COMPLETED,
    ROUND_DECLARED,
    ROUND_FUNDED,
)
from reclaim.core.distribution.preview import claims_frame, lines_digest, round_lines
from reclaim.core.distribution.state import (
    Approval,
    Assignment,
    DistributionState,
    Election,
    FxRate,
    FxUse,
    Line,
    Objection,
    Residence,
    RoundProgress,
)
from reclaim.core.iso3166 import ALPHA2
from reclaim.core.ledger.effects import Effects, apply_effects, check_effects
from reclaim.core.ledger.model import (
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    LedgerState,
    Transfer,
    account_id,
)
from reclaim.core.money import ASSETS
from reclaim.core.payload_fields import PayloadError, integer, record, text
from reclaim.core.times import is_time
from reclaim.core.types import JsonValue

# Bounds -----------------------------------------------------------------------------------------

#: Lines in one ``distribution.lines_executed`` event: a line is at most ~420 canonical bytes
#: (a 64-character claim id twice, an 80-character account, the field names), so 64 stay well
#: under the 64 KiB event bound. The executor sends as many events as a round needs.
lines_per_event_max: Final = 64
#: Longest FX source (a URL or a feed name) and forfeiture reason.
source_length_max_chars: Final = 256
reason_length_max_chars: Final = 200
#: Decimal places of a recorded FX rate, and the largest rate (units of the asset per USD).
rate_decimals_max: Final = 12
rate_max: Final = 1_000_000
_ROUND_ID_RE: Final = re.compile(f"[A-Za-z0-9][A-Za-z0-9._-]{{0,{round_id_length_max_chars - 1}}}")
_RATE_RE: Final = re.compile(rf"(0|[1-9][0-9]{{0,6}})(\.[0-9]{{1,{rate_decimals_max}}})?")
_FD: Final = frozenset
_HOLDER_ROLES: Final = frozenset({"creditor", "trader", "holding_entity"})
_CLASS_ROUND_FIELDS: Final = frozenset(
    {"class_code", "target", "cumulative_bps", "pool_minor", "interest_to"}
)


class Context(NamedTuple):
    """What the distribution ladders read besides their own state."""

    claims: ClaimsState
    ledger: LedgerState
    #: The role of a registered actor, or ``None``.
    role_of: Callable[[str], str | None]
    #: Holders that pass no KYC (the programme's holding entities).
    kyc_exempt: Collection[str] = ()


Payload = dict[str, JsonValue]


class Decision(NamedTuple):
    events: list[tuple[str, Payload]]


# Commands ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetPlan:
    plan: Plan


@dataclass(frozen=True, slots=True)
class DeclareRound:
    round: Round


@dataclass(frozen=True, slots=True)
class FundRound:
    round_id: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class ApproveRound:
    round_id: str
    lines_sha256: str
    lines: int
    usd_total_minor: int
    escrow_total_minor: int
    rates: tuple[FxUse, ...] = ()


@dataclass(frozen=True, slots=True)
class ExecuteLines:
    round_id: str
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class CompleteRound:
    round_id: str


@dataclass(frozen=True, slots=True)
class ReleaseEscrow:
    claim_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ForfeitEscrow:
    claim_id: str
    reason: str
    order_reference: str


@dataclass(frozen=True, slots=True)
class AssignClaim:
    claim_id: str
    to: str
    filed_date: str
    evidence_sha256: str


@dataclass(frozen=True, slots=True)
class ProveResidence:
    creditor: str
    iso: str
    effective_date: str


@dataclass(frozen=True, slots=True)
class DecideObjection:
    claim_id: str
    outcome: str
    reference: str


@dataclass(frozen=True, slots=True)
class RecordFxRate:
    asset: str
    rate: str
    source: str
    observed_at: str


@dataclass(frozen=True, slots=True)
class ElectPayout:
    creditor: str
    asset: str


DistributionCommand = (
    SetPlan
    | DeclareRound
    | FundRound
    | ApproveRound
    | ExecuteLines
    | CompleteRound
    | ReleaseEscrow
    | ForfeitEscrow
    | AssignClaim
    | ProveResidence
    | DecideObjection
    | RecordFxRate
    | ElectPayout
)
#: The event each command is authorised as.
EVENT_OF: Final[dict[type, str]] = {
    SetPlan: PLAN_SET,
    DeclareRound: ROUND_DECLARED,
    FundRound: ROUND_FUNDED,
    ApproveRound: ROUND_APPROVED,
    ExecuteLines: LINES_EXECUTED,
    CompleteRound: ROUND_COMPLETED,
    ReleaseEscrow: ESCROW_RELEASED,
    ForfeitEscrow: ESCROW_FORFEITED,
    AssignClaim: CLAIM_ASSIGNED,
    ProveResidence: RESIDENCE_PROVED,
    DecideObjection: OBJECTION_DECIDED,
    RecordFxRate: FX_RATE_RECORDED,
    ElectPayout: PAYOUT_ELECTED,
}


# Payload writers --------------------------------------------------------------------------------


def plan_payload(plan: Plan) -> Payload:
    classes: list[JsonValue] = [
        {"class_code": c.class_code, "cap_bps": str(c.cap_bps), "interest": c.interest}
        for c in sorted(plan.classes.values())
    ]
    return {
        "estate_id": plan.estate_id,
        "classes": classes,
        "paid_statuses": list(sorted(plan.paid_statuses)),
        "reserved_statuses": list(sorted(plan.reserved_statuses)),
        "kyc_start_by": plan.kyc_start_by,
        "kyc_finish_by": plan.kyc_finish_by,
        "kyc_missed": plan.kyc_missed,
    }


def round_payload(r: Round) -> Payload:
    classes: list[JsonValue] = [
        {
            "class_code": c.class_code,
            "target": c.target,
            "cumulative_bps": str(c.cumulative_bps),
            "pool_minor": str(c.pool_minor),
            "interest_to": c.interest_to,
        }
        for c in sorted(r.classes)
    ]
    return {
        "round_id": r.round_id,
        "estate_id": r.estate_id,
        "record_date": r.record_date,
        "payment_date": r.payment_date,
        "classes": classes,
        "funding_minor": str(r.funding_minor),
    }


def line_payload(line: Line) -> Payload:
    out: Payload = {}
    for name, value in zip(Line._fields, line, strict=True):
        if name != "line":
            out[name] = str(value)
    return out


def _command_payload(command: DistributionCommand, ds: DistributionState, ctx: Context) -> Payload:
    match command:
        case SetPlan():
            return plan_payload(command.plan)
        case DeclareRound():
            return round_payload(command.round)
        case FundRound():
            return {"round_id": command.round_id, "amount_minor": str(command.amount_minor)}
        case ApproveRound():
            rates: list[JsonValue] = [
                {
                    "asset": u.asset,
                    "rate": u.rate,
                    "numerator": str(u.numerator),
                    "denominator": str(u.denominator),
                }
                for u in sorted(command.rates)
            ]
            return {
                "round_id": command.round_id,
                "lines_sha256": command.lines_sha256,
                "lines": str(command.lines),
                "usd_total_minor": str(command.usd_total_minor),
                "escrow_total_minor": str(command.escrow_total_minor),
                "rates": rates,
            }
        case ExecuteLines():
            first = command.lines[0].line if command.lines else 0
            items: list[JsonValue] = [line_payload(line) for line in command.lines]
            return {"round_id": command.round_id, "first_line": str(first), "lines": items}
        case CompleteRound():
            return {"round_id": command.round_id}
        case ReleaseEscrow():
            return _release_payload(command, ds, ctx)
        case ForfeitEscrow():
            return {
                "claim_id": command.claim_id,
                "reason": command.reason,
                "order_reference": command.order_reference,
                "amount_minor": str(_escrow_balance(ctx.ledger, command.claim_id)),
            }
        case AssignClaim():
            claim = ctx.claims.claims.get(command.claim_id)
            holder = current_holder(ds, claim) if claim is not None else None
            return {
                "claim_id": command.claim_id,
                "from": holder or "",
                "to": command.to,
                "filed_date": command.filed_date,
                "evidence_sha256": command.evidence_sha256,
            }
        case ProveResidence():
            return {
                "creditor": command.creditor,
                "iso": command.iso,
                "effective_date": command.effective_date,
            }
        case DecideObjection():
            return {
                "claim_id": command.claim_id,
                "outcome": command.outcome,
                "reference": command.reference,
            }
        case RecordFxRate():
            return {
                "asset": command.asset,
                "rate": command.rate,
                "source": command.source,
                "observed_at": command.observed_at,
            }
        case ElectPayout():
            return {"creditor": command.creditor, "asset": command.asset}


def _release_payload(command: ReleaseEscrow, ds: DistributionState, ctx: Context) -> Payload:
    claim = ctx.claims.claims.get(command.claim_id)
    holder = current_holder(ds, claim) if claim is not None else None
    return {
        "claim_id": command.claim_id,
        "reason": command.reason,
        "payee": holder or "",
        "amount_minor": str(_escrow_balance(ctx.ledger, command.claim_id)),
    }


# decide -----------------------------------------------------------------------------------------


def decide_distribution(
    ds: DistributionState, ctx: Context, command: DistributionCommand, time: str
) -> Decision | DistributionRejection:
    """The event ``command`` implies at ``time``, or why not. Never changes the state."""
    event_type = EVENT_OF[type(command)]
    if isinstance(command, ExecuteLines) and len(command.lines) > lines_per_event_max:
        return DistributionRejection(C.batch_too_large, None, f"{len(command.lines)} lines")
    if isinstance(command, ElectPayout):
        election = ds.elections.get(command.creditor)
        if election is not None and election.asset == command.asset:
            return Decision([])  # already so: an idempotent retry
    payload = _command_payload(command, ds, ctx)
    refused = check_distribution(ds, ctx, event_type, payload, time)
    if refused is not None:
        return refused
    return Decision([(event_type, payload)])


# check ------------------------------------------------------------------------------------------


def check_distribution(
    ds: DistributionState,
    ctx: Context,
    event_type: str,
    payload: Mapping[str, JsonValue],
    time: str,
) -> DistributionRejection | None:
    """The first reason a distribution event may not follow the state at ``time``, or None."""
    try:
        return _CHECKS[event_type](ds, ctx, payload, time)
    except PayloadError as exc:
        return DistributionRejection(C.payload_malformed, None, str(exc))


def _refuse(code: C, detail: str, position: int | None = None) -> DistributionRejection:
    return DistributionRejection(code, position, detail)


def _strings(items: JsonValue, name: str) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise PayloadError(f"{name} is not a list of text")
    out = [i for i in items if isinstance(i, str)]
    if out != sorted(set(out)):
        raise PayloadError(f"{name} is not sorted and unique")
    return out


def plan_from_payload(p: Mapping[str, JsonValue], set_at: str) -> Plan:
    p = record(
        dict(p),
        _FD({"estate_id", "classes", "paid_statuses", "reserved_statuses", "kyc_start_by",
             "kyc_finish_by", "kyc_missed"}),
    )  # fmt: skip
    items = p["classes"]
    if not isinstance(items, list):
        raise PayloadError("classes is not a list")
    classes: dict[str, ClassTerms] = {}
    for item in items:
        c = record(item, _FD({"class_code", "cap_bps", "interest"}))
        interest = c["interest"]
        if not isinstance(interest, bool):
            raise PayloadError("interest is not a boolean")
        code = text(c, "class_code")
        if code in classes or (classes and code < max(classes)):
            raise PayloadError("classes are not sorted and unique")
        classes[code] = ClassTerms(code, integer(c, "cap_bps"), interest)
    return Plan(
        text(p, "estate_id"),
        classes,
        tuple(_strings(p["paid_statuses"], "paid_statuses")),
        tuple(_strings(p["reserved_statuses"], "reserved_statuses")),
        text(p, "kyc_start_by"),
        text(p, "kyc_finish_by"),
        text(p, "kyc_missed"),
        set_at,
    )


def _check_plan(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    plan = plan_from_payload(p, time)
    estate = ctx.claims.estates.get(plan.estate_id)
    if estate is None:
        return _refuse(C.estate_unknown, repr(plan.estate_id))
    for index, c in enumerate(plan.classes.values()):
        if c.class_code not in estate.classes:
            return _refuse(C.plan_class_unknown, repr(c.class_code), index)
        if not 0 < c.cap_bps <= cap_bps_max:
            return _refuse(C.plan_cap_out_of_range, f"{c.class_code}: {c.cap_bps}", index)
    statuses = plan.paid_statuses + plan.reserved_statuses
    if len(set(statuses)) != len(statuses) or not all(s in STATUSES for s in statuses):
        return _refuse(C.plan_status_unknown, f"{statuses}")
    for name in ("kyc_start_by", "kyc_finish_by"):
        value = getattr(plan, name)
        if value and not is_date(value):
            return _refuse(C.plan_date_invalid, f"{name} {value!r}")
    if plan.kyc_start_by and plan.kyc_finish_by and plan.kyc_start_by > plan.kyc_finish_by:
        return _refuse(C.plan_date_invalid, "kyc_start_by is after kyc_finish_by")
    if plan.kyc_missed not in KYC_MISSED:
        return _refuse(C.plan_kyc_missed_unknown, repr(plan.kyc_missed))
    return None


def round_from_payload(p: Mapping[str, JsonValue], declared_at: str) -> Round:
    p = record(
        dict(p),
        _FD({"round_id", "estate_id", "record_date", "payment_date", "classes", "funding_minor"}),
    )
    items = p["classes"]
    if not isinstance(items, list):
        raise PayloadError("classes is not a list")
    classes: list[ClassRound] = []
    for item in items:
        c = record(
            item, _FD({"class_code", "target", "cumulative_bps", "pool_minor", "interest_to"})
        )
        classes.append(
            ClassRound(
                text(c, "class_code"),
                text(c, "target"),
                integer(c, "cumulative_bps"),
                integer(c, "pool_minor"),
                text(c, "interest_to"),
            )
        )
    if classes != sorted(classes):
        raise PayloadError("classes are not sorted by code")
    return Round(
        text(p, "round_id"), text(p, "estate_id"), text(p, "record_date"),
        text(p, "payment_date"), tuple(classes), integer(p, "funding_minor"), declared_at,
    )  # fmt: skip


def _check_round(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    r = round_from_payload(p, time)
    if _ROUND_ID_RE.fullmatch(r.round_id) is None:
        return _refuse(C.round_id_malformed, repr(r.round_id))
    if r.round_id in ds.rounds:
        return _refuse(C.round_exists, repr(r.round_id))
    if ESTATE_ID_RE.fullmatch(r.estate_id) is None or r.estate_id not in ctx.claims.estates:
        return _refuse(C.estate_unknown, repr(r.estate_id))
    plan = ds.plans.get(r.estate_id)
    if plan is None:
        return _refuse(C.plan_missing, f"estate {r.estate_id!r} has no plan")
    if not (is_date(r.record_date) and is_date(r.payment_date)) or r.record_date > r.payment_date:
        return _refuse(C.round_dates_invalid, f"{r.record_date} → {r.payment_date}")
    seen: set[str] = set()
    for index, c in enumerate(r.classes):
        refused = _class_round_code(plan, c, seen, r.payment_date)
        if refused is not None:
            return _refuse(refused, f"class {c.class_code!r}", index)
        seen.add(c.class_code)
    if not r.funding_minor >= 0:
        return _refuse(C.funding_amount_invalid, str(r.funding_minor))
    if len(ds.estate_rounds.get(r.estate_id, ())) >= rounds_per_estate_max:
        return _refuse(C.round_too_many, f"{rounds_per_estate_max} rounds")
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


def _check_funded(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"round_id", "amount_minor"}))
    progress = _progress(ds, p)
    if progress is None:
        return _refuse(C.round_unknown, repr(p["round_id"]))
    if progress.funded_minor:
        return _refuse(C.round_funded_already, repr(progress.round.round_id))
    amount = integer(p, "amount_minor")
    if amount != progress.round.funding_minor or amount <= 0:
        return _refuse(C.funding_amount_invalid, f"{amount} != {progress.round.funding_minor}")
    return _ledger_refusal(ctx.ledger, _funding_effects(progress.round, amount), time)


def _pool_id(estate_id: str) -> str:
    return account_id(f"estate.{estate_id}", USD, "estate_pool")


def _funding_effects(r: Round, amount: int) -> Effects:
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


def _ledger_refusal(
    ledger: LedgerState, effects: Effects, time: str
) -> DistributionRejection | None:
    refused = check_effects(ledger, effects, time)
    if refused is None:
        return None
    return _refuse(C.ledger_refused, str(refused), refused.position)


def approval_from_payload(p: Mapping[str, JsonValue], time: str, actor: str) -> Approval:
    p = record(
        dict(p),
        _FD({"round_id", "lines_sha256", "lines", "usd_total_minor", "escrow_total_minor",
             "rates"}),
    )  # fmt: skip
    items = p["rates"]
    if not isinstance(items, list):
        raise PayloadError("rates is not a list")
    rates: list[FxUse] = []
    for item in items:
        u = record(item, _FD({"asset", "rate", "numerator", "denominator"}))
        rates.append(
            FxUse(
                text(u, "asset"),
                text(u, "rate"),
                integer(u, "numerator"),
                integer(u, "denominator"),
            )
        )
    if rates != sorted(rates) or len({u.asset for u in rates}) != len(rates):
        raise PayloadError("rates are not sorted by asset and unique")
    return Approval(
        text(p, "lines_sha256"), integer(p, "lines"), integer(p, "usd_total_minor"),
        integer(p, "escrow_total_minor"), tuple(rates), time, actor,
    )  # fmt: skip


def _check_approved(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    a = approval_from_payload(p, time, "")
    progress = _progress(ds, p)
    if progress is None:
        return _refuse(C.round_unknown, repr(p["round_id"]))
    if progress.approval is not None:
        return _refuse(C.round_approved_already, repr(progress.round.round_id))
    if not progress.funded_minor:
        return _refuse(C.round_not_funded, repr(progress.round.round_id))
    busy = ds.open_round(progress.round.estate_id)
    if busy is not None:
        return _refuse(C.another_round_executing, f"round {busy.round.round_id!r} is executing")
    if HEX64_RE.fullmatch(a.lines_sha256) is None:
        return _refuse(C.approval_digest_malformed, repr(a.lines_sha256))
    if a.lines < 0 or not 0 <= a.escrow_total_minor <= a.usd_total_minor:
        return _refuse(C.approval_totals_invalid, f"{a.lines} lines, {a.usd_total_minor}")
    if (a.lines == 0) != (a.usd_total_minor == 0) or a.usd_total_minor < a.lines:
        return _refuse(C.approval_totals_invalid, f"{a.lines} lines, {a.usd_total_minor}")
    for index, u in enumerate(a.rates):
        latest = ds.latest_rate(u.asset)
        expected = None if latest is None else (latest.rate, latest.numerator, latest.denominator)
        if u.asset == USD or expected != (u.rate, u.numerator, u.denominator):
            return _refuse(C.approval_rate_not_latest, f"{u.asset} {u.rate}", index)
    pool = ctx.ledger.accounts.get(_pool_id(progress.round.estate_id))
    available = 0 if pool is None else pool.available_minor
    if a.usd_total_minor > available:
        return _refuse(C.pool_insufficient, f"{a.usd_total_minor} > {available} in the pool")
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
        return _refuse(C.approval_rate_not_latest, f"no rate for {', '.join(missing)}")
    lines = round_lines(ds, ctx.claims, round_, frame, a.rates)
    summary = lines.summary()
    found = (lines_digest(lines), summary.lines, summary.usd_minor, summary.escrowed_usd_minor)
    wanted = (a.lines_sha256, a.lines, a.usd_total_minor, a.escrow_total_minor)
    if found != wanted:
        return _refuse(C.approval_not_as_computed, f"recomputed {found}, approved {wanted}")
    return None


def lines_from_payload(p: Mapping[str, JsonValue]) -> tuple[str, int, list[Line]]:
    p = record(dict(p), _FD({"round_id", "first_line", "lines"}))
    items = p["lines"]
    if not isinstance(items, list) or not items:
        raise PayloadError("lines is not a non-empty list")
    first = integer(p, "first_line")
    lines: list[Line] = []
    for offset, item in enumerate(items):
        f = record(item, LINE_FIELDS)
        lines.append(
            Line(
                first + offset,
                text(f, "claim_id"),
                text(f, "class_code"),
                text(f, "jurisdiction"),
                text(f, "status"),
                text(f, "destination"),
                text(f, "reason"),
                text(f, "payee"),
                text(f, "account_id"),
                integer(f, "entitlement_minor"),
                integer(f, "received_minor"),
                integer(f, "usd_minor"),
                text(f, "asset"),
                integer(f, "amount_minor"),
            )
        )
    return text(p, "round_id"), first, lines


def _check_lines(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    round_id, first, lines = lines_from_payload(p)
    if len(lines) > lines_per_event_max:
        return _refuse(C.batch_too_large, f"{len(lines)} lines")
    progress = ds.rounds.get(round_id)
    if progress is None:
        return _refuse(C.round_unknown, repr(round_id))
    if progress.completed_at:
        return _refuse(C.round_completed_already, repr(round_id))
    approval = progress.approval
    if approval is None:
        return _refuse(C.round_not_approved, repr(round_id))
    if first != progress.executed_lines:
        return _refuse(C.line_out_of_order, f"line {first}, expected {progress.executed_lines}")
    if first + len(lines) > approval.lines:
        return _refuse(C.line_beyond_approved, f"{first + len(lines)} > {approval.lines}")
    rates = {u.asset: u for u in approval.rates}
    previous = progress.last_claim
    for index, line in enumerate(lines):
        code = _line_code(ds, ctx, progress, rates, line, previous)
        if code is not None:
            return _refuse(code, f"line {line.line} (claim {line.claim_id!r})", index)
        previous = line.claim_id
    return _ledger_refusal(ctx.ledger, line_effects(progress.round, lines), time)


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
    if ctx.role_of(line.payee) not in _HOLDER_ROLES:
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
    """The accounts and transfers a batch of lines implies (see the module docstring)."""
    pool = _pool_id(r.estate_id)
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


def _check_completed(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"round_id"}))
    progress = _progress(ds, p)
    if progress is None:
        return _refuse(C.round_unknown, repr(p["round_id"]))
    if progress.completed_at:
        return _refuse(C.round_completed_already, repr(progress.round.round_id))
    a = progress.approval
    if a is None:
        return _refuse(C.round_not_approved, repr(progress.round.round_id))
    if progress.executed_lines != a.lines or progress.executed_usd_minor != a.usd_total_minor:
        return _refuse(C.round_incomplete, f"{progress.executed_lines} of {a.lines} lines")
    if progress.escrowed_usd_minor != a.escrow_total_minor:
        return _refuse(C.round_incomplete, f"escrowed {progress.escrowed_usd_minor}")
    digest = progress.hasher.copy().hexdigest()
    if digest != a.lines_sha256:
        return _refuse(C.round_digest_mismatch, f"{digest} != {a.lines_sha256}")
    return None


# Escrow -----------------------------------------------------------------------------------------


def _escrow_balance(ledger: LedgerState, claim_id: str) -> int:
    account = ledger.accounts.get(escrow_account_id(claim_id))
    return 0 if account is None else account.available_minor


def release_effects(claim_id: str, payee: str, amount: int, n: int) -> Effects:
    target = Account.of(
        payee, USD, "creditor_available", frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
    )
    transfer = Transfer(
        f"er:{claim_id}:{n}", escrow_account_id(claim_id), target.id, USD, amount,
        "escrow_release", {"claim": claim_id},
    )  # fmt: skip
    return Effects((target,), (transfer,))


def forfeit_effects(claim_id: str, estate_id: str, amount: int, n: int) -> Effects:
    transfer = Transfer(
        f"ef:{claim_id}:{n}", escrow_account_id(claim_id), _pool_id(estate_id), USD, amount,
        "correction", {"claim": claim_id},
    )  # fmt: skip
    return Effects((), (transfer,))


def _check_released(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"claim_id", "reason", "payee", "amount_minor"}))
    claim_id, reason, payee = text(p, "claim_id"), text(p, "reason"), text(p, "payee")
    amount = integer(p, "amount_minor")
    claim = ctx.claims.claims.get(claim_id)
    if claim is None:
        return _refuse(C.escrow_claim_unknown, repr(claim_id))
    balance = _escrow_balance(ctx.ledger, claim_id)
    if balance <= 0:
        return _refuse(C.escrow_empty, repr(claim_id))
    if reason not in RELEASE_REASONS:
        return _refuse(C.escrow_reason_unknown, repr(reason))
    if amount != balance or payee != (current_holder(ds, claim) or ""):
        return _refuse(C.escrow_holder_not_payable, f"{payee!r} {amount}")
    today = time[:10]
    plan = ds.plans.get(claim.estate_id)
    if plan is None:
        return _refuse(C.plan_missing, repr(claim.estate_id))
    code = _release_reason_code(ds, ctx, claim_id, reason, payee, today)
    if code is not None:
        return _refuse(code, f"{reason} for {claim_id!r}")
    now = classify(ds, ctx.claims, plan, claim, today, today, ctx.kyc_exempt)
    if now.destination != CREDITOR or (claim.status not in plan.paid_statuses):
        return _refuse(C.escrow_holder_not_payable, f"still {now.reason or claim.status}")
    effects = release_effects(claim_id, payee, amount, ds.escrow_moves.get(claim_id, 0))
    return _ledger_refusal(ctx.ledger, effects, time)


def _release_reason_code(
    ds: DistributionState, ctx: Context, claim_id: str, reason: str, payee: str, today: str
) -> C | None:
    claim = ctx.claims.claims[claim_id]
    if reason == "restriction_lifted":
        iso = residence_on(ds, payee, today) or claim.jurisdiction
        entry = treatment(ctx.claims, iso, today)
        return None if entry is None or entry.status == OPEN else C.escrow_still_restricted
    if reason == "residence_moved":
        return None if residence_on(ds, payee, today) is not None else C.escrow_no_residence
    if reason == "objection_upheld":
        objection = ds.objections.get(claim_id)
        upheld = objection is not None and objection.outcome == "upheld"
        return None if upheld else C.escrow_no_upheld_objection
    if reason == "converted_to_notes":
        return None if ctx.role_of(payee) == "holding_entity" else C.escrow_holder_not_payable
    return None  # kyc_approved, dispute_resolved, linked: the payable-now check decides


def _check_forfeited(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"claim_id", "reason", "order_reference", "amount_minor"}))
    claim_id = text(p, "claim_id")
    claim = ctx.claims.claims.get(claim_id)
    if claim is None:
        return _refuse(C.escrow_claim_unknown, repr(claim_id))
    balance = _escrow_balance(ctx.ledger, claim_id)
    if balance <= 0 or integer(p, "amount_minor") != balance:
        return _refuse(C.escrow_empty, f"{claim_id!r} holds {balance}")
    if not is_text(text(p, "reason"), reason_length_max_chars):
        return _refuse(C.escrow_reason_unknown, "the reason must be given")
    if REFERENCE_RE.fullmatch(text(p, "order_reference")) is None:
        return _refuse(C.forfeiture_order_missing, "an order reference (docket entry) is required")
    plan = ds.plans.get(claim.estate_id)
    if plan is None:
        return _refuse(C.plan_missing, repr(claim.estate_id))
    today = time[:10]
    now = classify(ds, ctx.claims, plan, claim, today, today, ctx.kyc_exempt)
    kyc_forfeit = now.reason == "kyc_deadline_missed" and plan.kyc_missed == "forfeit_on_order"
    if not (kyc_forfeit or now.reason in ("restricted", "sanctioned")):
        return _refuse(C.forfeiture_not_ordered_by_plan, f"claim is {now.reason or 'payable'}")
    effects = forfeit_effects(claim_id, claim.estate_id, balance, ds.escrow_moves.get(claim_id, 0))
    return _ledger_refusal(ctx.ledger, effects, time)


# Holders, residence, objections, FX, elections --------------------------------------------------


def _check_assigned(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"claim_id", "from", "to", "filed_date", "evidence_sha256"}))
    claim = ctx.claims.claims.get(text(p, "claim_id"))
    if claim is None:
        return _refuse(C.claim_unknown, repr(p["claim_id"]))
    to, from_holder = text(p, "to"), text(p, "from")
    if ctx.role_of(to) not in _HOLDER_ROLES:
        return _refuse(C.assignee_unknown, repr(to))
    holder = current_holder(ds, claim)
    if not from_holder or from_holder != holder:
        return _refuse(C.assignment_from_not_holder, f"{from_holder!r} != {holder!r}")
    if to == from_holder:
        return _refuse(C.assignment_to_self, repr(to))
    filed = text(p, "filed_date")
    history = ds.holders.get(claim.id, ())
    if not is_date(filed) or filed > time[:10] or (history and filed < history[-1].filed_date):
        return _refuse(C.assignment_date_invalid, repr(filed))
    if HEX64_RE.fullmatch(text(p, "evidence_sha256")) is None:
        return _refuse(C.evidence_malformed, "the SHA-256 of the evidence of transfer")
    return None


def _check_residence(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"creditor", "iso", "effective_date"}))
    if ctx.role_of(text(p, "creditor")) not in _HOLDER_ROLES:
        return _refuse(C.creditor_unknown, repr(p["creditor"]))
    if text(p, "iso") not in ALPHA2:
        return _refuse(C.residence_iso_unknown, repr(p["iso"]))
    if not is_date(text(p, "effective_date")):
        return _refuse(C.residence_date_invalid, repr(p["effective_date"]))
    return None


def _check_objection(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"claim_id", "outcome", "reference"}))
    if text(p, "claim_id") not in ctx.claims.claims:
        return _refuse(C.claim_unknown, repr(p["claim_id"]))
    if text(p, "outcome") not in ("upheld", "overruled"):
        return _refuse(C.objection_outcome_unknown, repr(p["outcome"]))
    if REFERENCE_RE.fullmatch(text(p, "reference")) is None:
        return _refuse(C.reference_malformed, repr(p["reference"]))
    return None


def parse_rate(rate: str) -> Fraction | None:
    """A recorded rate's exact value: decimal text, positive, at most ``rate_decimals_max``
    places and ``rate_max``; ``None`` otherwise (no exponent, sign or padding)."""
    if _RATE_RE.fullmatch(rate) is None:
        return None
    try:
        value = Fraction(Decimal(rate))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None
    return value if 0 < value <= rate_max else None


def minor_ratio(asset: str, rate: Fraction) -> tuple[int, int]:
    """USD cents → ``asset`` minor units: ``rate`` (asset per USD) scaled by the assets'
    decimals, as a reduced (numerator, denominator)."""
    scaled = rate * Fraction(10 ** ASSETS[asset].scale, 10 ** ASSETS[USD].scale)
    return scaled.numerator, scaled.denominator


def _check_fx(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"asset", "rate", "source", "observed_at"}))
    asset = text(p, "asset")
    if asset not in PAYOUT_ASSETS or asset == USD:
        return _refuse(C.fx_asset_unknown, repr(asset))
    if parse_rate(text(p, "rate")) is None:
        return _refuse(C.fx_rate_invalid, repr(p["rate"]))
    if not is_text(text(p, "source"), source_length_max_chars, ascii_only=True):
        return _refuse(C.fx_source_invalid, repr(p["source"]))
    observed = text(p, "observed_at")
    latest = ds.latest_rate(asset)
    if not is_time(observed) or observed > time or (latest and observed < latest.observed_at):
        return _refuse(C.fx_time_invalid, repr(observed))
    return None


def _check_elected(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"creditor", "asset"}))
    creditor, asset = text(p, "creditor"), text(p, "asset")
    if ctx.role_of(creditor) not in _HOLDER_ROLES:
        return _refuse(C.creditor_unknown, repr(creditor))
    if asset not in PAYOUT_ASSETS:
        return _refuse(C.payout_asset_unknown, repr(asset))
    if creditor in ds.elections:  # irrevocable, like FTX's choice of a payout partner
        return _refuse(
            C.payout_elected_already, f"{creditor!r} elected {ds.elections[creditor].asset}"
        )
    return None


_Check = Callable[
    [DistributionState, Context, Mapping[str, JsonValue], str], DistributionRejection | None
]
_CHECKS: Final[dict[str, _Check]] = {
    PLAN_SET: _check_plan,
    ROUND_DECLARED: _check_round,
    ROUND_FUNDED: _check_funded,
    ROUND_APPROVED: _check_approved,
    LINES_EXECUTED: _check_lines,
    ROUND_COMPLETED: _check_completed,
    ESCROW_RELEASED: _check_released,
    ESCROW_FORFEITED: _check_forfeited,
    CLAIM_ASSIGNED: _check_assigned,
    RESIDENCE_PROVED: _check_residence,
    OBJECTION_DECIDED: _check_objection,
    FX_RATE_RECORDED: _check_fx,
    PAYOUT_ELECTED: _check_elected,
}
assert set(_CHECKS) == set(DISTRIBUTION_EVENT_TYPES)


# evolve -----------------------------------------------------------------------------------------


def evolve_distribution(
    ds: DistributionState,
    claims: ClaimsState,
    ledger: LedgerState,
    event_type: str,
    payload: Mapping[str, Any],
    time: str,
    actor: str,
) -> None:
    """Apply a checked distribution event (and its ledger effects) in place."""
    p = payload
    changed = ds.changed
    match event_type:
        case "distribution.plan_set":
            plan = plan_from_payload(p, time)
            ds.plans[plan.estate_id] = plan
            changed.add(f"distribution_plan/{plan.estate_id}")
        case "distribution.round_declared":
            r = round_from_payload(p, time)
            ds.rounds[r.round_id] = RoundProgress(r)
            ds.estate_rounds.setdefault(r.estate_id, []).append(r.round_id)
            changed.add(f"distribution_round/{r.round_id}")
        case "distribution.round_funded":
            progress = ds.rounds[p["round_id"]]
            amount = int(p["amount_minor"])
            apply_effects(ledger, _funding_effects(progress.round, amount), time)
            progress.funded_minor = amount
            changed.add(f"distribution_round/{progress.round.round_id}")
        case "distribution.round_approved":
            progress = ds.rounds[p["round_id"]]
            progress.approval = approval_from_payload(p, time, actor)
            changed.add(f"distribution_round/{progress.round.round_id}")
        case "distribution.lines_executed":
            _evolve_lines(ds, ledger, p, time)
        case "distribution.round_completed":
            progress = ds.rounds[p["round_id"]]
            progress.completed_at = time
            changed.add(f"distribution_round/{progress.round.round_id}")
        case "escrow.released":
            claim_id = p["claim_id"]
            n = ds.escrow_moves.get(claim_id, 0)
            amount = int(p["amount_minor"])
            apply_effects(ledger, release_effects(claim_id, p["payee"], amount, n), time)
            estate_id = claims.claims[claim_id].estate_id
            ds.released[estate_id] = ds.released.get(estate_id, 0) + amount
            ds.escrow_moves[claim_id] = n + 1
            ds.received.setdefault(claim_id, 0)
            changed.add(f"distribution_receipt/{claim_id}")
        case "escrow.forfeited":
            _evolve_forfeit(ds, claims, ledger, p, time)
        case "claim.assigned":
            claim_id = p["claim_id"]
            ds.holders.setdefault(claim_id, []).append(
                Assignment(p["from"], p["to"], p["filed_date"], p["evidence_sha256"], time)
            )
            changed.add(f"claim_holder/{claim_id}")
        case "creditor.residence_proved":
            creditor = p["creditor"]
            ds.residences.setdefault(creditor, []).append(
                Residence(p["iso"], p["effective_date"], time)
            )
            changed.add(f"residence/{creditor}")
        case "objection.decided":
            ds.objections[p["claim_id"]] = Objection(p["outcome"], p["reference"], time)
            changed.add(f"objection/{p['claim_id']}")
        case "fx.rate_recorded":
            rate = parse_rate(p["rate"])
            assert rate is not None, "checked"
            num, den = minor_ratio(p["asset"], rate)
            ds.fx.setdefault(p["asset"], []).append(
                FxRate(p["rate"], num, den, p["source"], p["observed_at"], time)
            )
            changed.add(f"fx_rate/{p['asset']}")
        case "payout.elected":
            ds.elections[p["creditor"]] = Election(p["asset"], time)
            changed.add(f"payout_election/{p['creditor']}")
        case _:  # pragma: no cover - check refuses unknown types first
            raise AssertionError(f"evolve_distribution: unhandled {event_type}")


def _evolve_lines(
    ds: DistributionState, ledger: LedgerState, p: Mapping[str, Any], time: str
) -> None:
    round_id, _, lines = lines_from_payload(p)
    progress = ds.rounds[round_id]
    apply_effects(ledger, line_effects(progress.round, lines), time)
    for line in lines:
        ds.received[line.claim_id] = line.entitlement_minor
        ds.changed.add(f"distribution_receipt/{line.claim_id}")
        progress.hasher.update(line.text().encode())
        progress.executed_usd_minor += line.usd_minor
        if line.destination == ESCROW:
            progress.escrowed_usd_minor += line.usd_minor
    progress.executed_lines += len(lines)
    progress.last_claim = lines[-1].claim_id
    ds.changed.add(f"distribution_round/{round_id}")


def _evolve_forfeit(
    ds: DistributionState,
    claims: ClaimsState,
    ledger: LedgerState,
    p: Mapping[str, Any],
    time: str,
) -> None:
    claim_id = p["claim_id"]
    n = ds.escrow_moves.get(claim_id, 0)
    estate_id = claims.claims[claim_id].estate_id
    amount = int(p["amount_minor"])
    apply_effects(ledger, forfeit_effects(claim_id, estate_id, amount, n), time)
    ds.forfeited[estate_id] = ds.forfeited.get(estate_id, 0) + amount
    ds.escrow_moves[claim_id] = n + 1
    ds.received.setdefault(claim_id, 0)
    ds.changed.add(f"distribution_receipt/{claim_id}")


# Invariants -------------------------------------------------------------------------------------


def assert_distribution_invariants(
    ds: DistributionState, claims: ClaimsState, ledger: LedgerState
) -> None:
    """Every cent of every round is paid, escrowed or in the pool, recomputed from scratch:
    O(claims that received + rounds + escrow accounts). A failure is a bug, never a user error.

    - a round never executed more than it approved, and a completed one all of it;
    - what the claims received is what the rounds executed;
    - each estate's pool holds its fundings, less what its rounds executed, plus forfeitures;
    - its claims' escrows hold what its rounds escrowed, less releases and forfeitures.
    """
    executed: dict[str, int] = {}
    escrowed: dict[str, int] = {}
    funded: dict[str, int] = {}
    for round_id, p in ds.rounds.items():
        estate = p.round.estate_id
        a = p.approval
        assert a is not None or not p.executed_lines, f"round {round_id}: executed unapproved"
        if a is not None:
            assert p.executed_lines <= a.lines, f"round {round_id}: beyond the approval"
            assert p.executed_usd_minor <= a.usd_total_minor, f"round {round_id}: overpaid"
            if p.completed_at:
                assert p.executed_usd_minor == a.usd_total_minor, f"round {round_id}: incomplete"
        executed[estate] = executed.get(estate, 0) + p.executed_usd_minor
        escrowed[estate] = escrowed.get(estate, 0) + p.escrowed_usd_minor
        funded[estate] = funded.get(estate, 0) + p.funded_minor
    received: dict[str, int] = {}
    for claim_id, amount in ds.received.items():
        estate = claims.claims[claim_id].estate_id
        received[estate] = received.get(estate, 0) + amount
    in_escrow: dict[str, int] = {}
    for account in ledger.accounts.values():
        if account.purpose == "claim_escrow" and account.owner.startswith("claim:"):
            estate = claims.claims[account.owner.removeprefix("claim:")].estate_id
            balance = account.credits_posted - account.debits_posted
            in_escrow[estate] = in_escrow.get(estate, 0) + balance
    for estate in sorted(set(funded) | set(received) | set(in_escrow)):
        assert received.get(estate, 0) == executed.get(estate, 0), f"{estate}: received"
        pool = ledger.accounts.get(_pool_id(estate))
        pool_balance = 0 if pool is None else pool.credits_posted - pool.debits_posted
        expected_pool = funded.get(estate, 0) - executed.get(estate, 0)
        expected_pool += ds.forfeited.get(estate, 0)
        assert pool_balance == expected_pool, f"{estate}: pool {pool_balance} != {expected_pool}"
        expected_escrow = escrowed.get(estate, 0) - ds.released.get(estate, 0)
        expected_escrow -= ds.forfeited.get(estate, 0)
        found = in_escrow.get(estate, 0)
        assert found == expected_escrow, f"{estate}: escrows {found} != {expected_escrow}"
