"""The distribution core's commands, what its ladders read besides their own state, and the
refusal every ladder writes.

``EVENT_OF`` names the event each command is authorised as; ``Context`` is the read-only view of
the claims, the ledger and the actors' roles; ``Decision`` the events a command implies.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Final, NamedTuple

from reclaim.core.claims.model import (
    ClaimsState,
)
from reclaim.core.distribution.codes import DistributionCode as C
from reclaim.core.distribution.codes import DistributionRejection
from reclaim.core.distribution.model import (
    Plan,
    Round,
)
from reclaim.core.distribution.payload_codec import Payload
from reclaim.core.distribution.payloads import (
    CLAIM_ASSIGNED,
    ESCROW_FORFEITED,
    ESCROW_RELEASED,
    FX_RATE_RECORDED,
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
from reclaim.core.distribution.state import (
    FxUse,
    Line,
)
from reclaim.core.ledger.effects import Effects, check_effects
from reclaim.core.ledger.model import (
    LedgerState,
)

HOLDER_ROLES: Final = frozenset({"creditor", "trader", "holding_entity"})


class Context(NamedTuple):
    """What the distribution ladders read besides their own state."""

    claims: ClaimsState
    ledger: LedgerState
    #: The role of a registered actor, or ``None``.
    role_of: Callable[[str], str | None]
    #: Holders that pass no KYC (the programme's holding entities).
    kyc_exempt: Collection[str] = ()


class Decision(NamedTuple):
    events: list[tuple[str, Payload]]


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


def refuse(code: C, detail: str, position: int | None = None) -> DistributionRejection:
    return DistributionRejection(code, position, detail)


def ledger_refusal(
    ledger: LedgerState, effects: Effects, time: str
) -> DistributionRejection | None:
    refused = check_effects(ledger, effects, time)
    if refused is None:
        return None
    return refuse(C.ledger_refused, str(refused), refused.position)
