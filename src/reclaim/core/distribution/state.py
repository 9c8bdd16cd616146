"""The distribution core's state: plans, rounds and their progress, what each claim received,
holders of record, residences, objections, FX rates and payout elections.

``changed`` collects the entity keys evolve touched, for the state digest, like the other cores.
Entity kinds (``entity_keys`` order): ``distribution_plan/<estate>``, ``distribution_round/<id>``,
``distribution_receipt/<claim>``, ``claim_holder/<claim>``, ``residence/<creditor>``,
``objection/<claim>``, ``fx_rate/<asset>``, ``payout_election/<creditor>``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from reclaim.core.distribution.model import ClassRound, Plan, Round
from reclaim.core.distribution.payloads import LINES_HEADER
from reclaim.core.domain import Entities, entity_fields, keys_of
from reclaim.core.types import JsonValue

ENTITY_KINDS: Final = (
    "distribution_plan",
    "distribution_round",
    "distribution_receipt",
    "claim_holder",
    "residence",
    "objection",
    "fx_rate",
    "payout_election",
)


class Line(NamedTuple):
    """One payment of a round: a row of the lines file (``payloads.LINE_COLUMNS``)."""

    line: int
    claim_id: str
    class_code: str
    jurisdiction: str
    status: str
    destination: str
    reason: str
    payee: str
    account_id: str
    entitlement_minor: int
    received_minor: int
    usd_minor: int
    asset: str
    amount_minor: int

    def text(self) -> str:
        """The line as the lines file writes it (the bytes the approval's digest covers)."""
        return ",".join(str(v) for v in self) + "\n"


class FxUse(NamedTuple):
    """A rate an approval converts with: USD cents → ``asset`` minor units is
    ``floor(usd × numerator / denominator)``; ``rate`` is the recorded decimal text."""

    asset: str
    rate: str
    numerator: int
    denominator: int


class Approval(NamedTuple):
    lines_sha256: str
    lines: int
    usd_total_minor: int
    escrow_total_minor: int
    rates: tuple[FxUse, ...]
    approved_at: str
    approved_by: str


@dataclass(slots=True)
class RoundProgress:
    """A declared round and how far it went. ``hasher`` hashes the header and every executed
    line's text: at completion its digest must be the approved one."""

    round: Round
    funded_minor: int = 0
    approval: Approval | None = None
    executed_lines: int = 0
    executed_usd_minor: int = 0
    escrowed_usd_minor: int = 0
    last_claim: str = ""
    completed_at: str = ""
    hasher: Any = field(default_factory=lambda: hashlib.sha256(LINES_HEADER.encode()))

    @property
    def open(self) -> bool:
        """Approved and not completed: its lines are being executed."""
        return self.approval is not None and not self.completed_at


class Assignment(NamedTuple):
    """A transfer of a claim (Rule 3001(e)(2) evidence filed on ``filed_date``)."""

    from_holder: str
    to_holder: str
    filed_date: str
    evidence_sha256: str
    recorded_at: str


class Residence(NamedTuple):
    iso: str
    effective_date: str
    proved_at: str


class Objection(NamedTuple):
    outcome: str
    reference: str
    decided_at: str


class FxRate(NamedTuple):
    rate: str
    numerator: int
    denominator: int
    source: str
    observed_at: str
    recorded_at: str


class Election(NamedTuple):
    asset: str
    elected_at: str


@dataclass(slots=True)
class DistributionState(Entities):
    plans: dict[str, Plan] = field(default_factory=dict)
    rounds: dict[str, RoundProgress] = field(default_factory=dict)
    #: estate -> its round ids, in declaration order.
    estate_rounds: dict[str, list[str]] = field(default_factory=dict)
    #: claim -> USD cents received from rounds (paid or escrowed).
    received: dict[str, int] = field(default_factory=dict)
    #: claim -> escrow releases and forfeitures so far (numbers their transfer ids).
    escrow_moves: dict[str, int] = field(default_factory=dict)
    #: estate -> USD cents released from its claims' escrows, and forfeited back to its pool.
    released: dict[str, int] = field(default_factory=dict)
    forfeited: dict[str, int] = field(default_factory=dict)
    holders: dict[str, list[Assignment]] = field(default_factory=dict)
    residences: dict[str, list[Residence]] = field(default_factory=dict)
    objections: dict[str, Objection] = field(default_factory=dict)
    fx: dict[str, list[FxRate]] = field(default_factory=dict)
    elections: dict[str, Election] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    # Queries.

    def latest_rate(self, asset: str) -> FxRate | None:
        history = self.fx.get(asset)
        return history[-1] if history else None

    def open_round(self, estate_id: str) -> RoundProgress | None:
        """The estate's round being executed, if one is."""
        for round_id in self.estate_rounds.get(estate_id, ()):
            progress = self.rounds[round_id]
            if progress.open:
                return progress
        return None

    def pool_to_date(self, estate_id: str, class_code: str, round_id: str) -> int:
        """The class's cumulative pool: the pools of ``round_id`` and the rounds before it."""
        total = 0
        for rid in self.estate_rounds.get(estate_id, ()):
            for c in self.rounds[rid].round.classes:
                if c.class_code == class_code:
                    total += c.pool_minor
            if rid == round_id:
                break
        return total

    # The digest's view.

    def entity_keys(self) -> list[str]:
        return keys_of(
            ("distribution_plan", self.plans),
            ("distribution_round", self.rounds),
            ("distribution_receipt", self.received),
            ("claim_holder", self.holders),
            ("residence", self.residences),
            ("objection", self.objections),
            ("fx_rate", self.fx),
            ("payout_election", self.elections),
        )

    def entity(self, key: str) -> JsonValue:
        kind, _, ident = key.partition("/")
        if kind == "distribution_plan" and ident in self.plans:
            return plan_entity(self.plans[ident])
        if kind == "distribution_round" and ident in self.rounds:
            return round_entity(self.rounds[ident])
        if kind == "distribution_receipt" and ident in self.received:
            return {
                "received_minor": str(self.received[ident]),
                "escrow_moves": str(self.escrow_moves.get(ident, 0)),
            }
        if kind == "claim_holder" and ident in self.holders:
            items: list[JsonValue] = [
                {
                    "from": a.from_holder,
                    "to": a.to_holder,
                    "filed_date": a.filed_date,
                    "evidence_sha256": a.evidence_sha256,
                    "recorded_at": a.recorded_at,
                }
                for a in self.holders[ident]
            ]
            return {"assignments": items}
        if kind == "residence" and ident in self.residences:
            history: list[JsonValue] = [
                entity_fields(r, "iso", "effective_date", "proved_at")
                for r in self.residences[ident]
            ]
            return {"history": history}
        if kind == "objection" and ident in self.objections:
            return entity_fields(self.objections[ident], "outcome", "reference", "decided_at")
        if kind == "fx_rate" and ident in self.fx:
            rates: list[JsonValue] = [
                entity_fields(r, "rate", "source", "observed_at", "recorded_at")
                for r in self.fx[ident]
            ]
            return {"history": rates}
        if kind == "payout_election" and ident in self.elections:
            return entity_fields(self.elections[ident], "asset", "elected_at")
        return None


def plan_entity(plan: Plan) -> dict[str, JsonValue]:
    classes: list[JsonValue] = [
        {"class_code": c.class_code, "cap_bps": str(c.cap_bps), "interest": c.interest}
        for c in sorted(plan.classes.values())
    ]
    return {
        "classes": classes,
        "paid_statuses": list(plan.paid_statuses),
        "reserved_statuses": list(plan.reserved_statuses),
        "kyc_start_by": plan.kyc_start_by,
        "kyc_finish_by": plan.kyc_finish_by,
        "kyc_missed": plan.kyc_missed,
        "set_at": plan.set_at,
    }


def class_round_json(c: ClassRound) -> dict[str, JsonValue]:
    """A class's share of a round, as the ``distribution.round_declared`` payload and the
    round's entity write it."""
    return {
        "class_code": c.class_code,
        "target": c.target,
        "cumulative_bps": str(c.cumulative_bps),
        "pool_minor": str(c.pool_minor),
        "interest_to": c.interest_to,
    }


def round_entity(p: RoundProgress) -> dict[str, JsonValue]:
    r = p.round
    classes: list[JsonValue] = [class_round_json(c) for c in r.classes]
    approval: JsonValue = None
    if p.approval is not None:
        a = p.approval
        rates: list[JsonValue] = [{"asset": u.asset, "rate": u.rate} for u in a.rates]
        approval = {
            "lines_sha256": a.lines_sha256,
            "lines": str(a.lines),
            "usd_total_minor": str(a.usd_total_minor),
            "escrow_total_minor": str(a.escrow_total_minor),
            "rates": rates,
            "approved_at": a.approved_at,
            "approved_by": a.approved_by,
        }
    return {
        "estate_id": r.estate_id,
        "record_date": r.record_date,
        "payment_date": r.payment_date,
        "classes": classes,
        "funding_minor": str(r.funding_minor),
        "declared_at": r.declared_at,
        "funded_minor": str(p.funded_minor),
        "approval": approval,
        "executed_lines": str(p.executed_lines),
        "executed_usd_minor": str(p.executed_usd_minor),
        "escrowed_usd_minor": str(p.escrowed_usd_minor),
        "executed_sha256": p.hasher.copy().hexdigest(),
        "completed_at": p.completed_at,
    }
