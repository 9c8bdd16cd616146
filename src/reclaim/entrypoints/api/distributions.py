"""The distributions API: rounds (public) and a creditor's own distributions (signed).

``install(app)`` (called by ``create_app``) includes ``router``.

- ``GET /distributions/rounds`` (public): every round — dates, funding, approval digest,
  progress;
- ``GET /distributions/rounds/{round_id}`` (public): one round, with its classes' targets;
- ``GET /api/v1/distributions`` (signed, ``distributionQuery``): the caller's claims — what
  each received, what waits in escrow and why, the payout asset;
- ``POST /api/v1/distributions/election?asset=`` (signed, ``payoutElect``): elect the payout
  asset (USD, EUR, USDC; irrevocable).

Rounds are public in the log already (every field here is in its events); a creditor's claims
are answered only to their holder. The election is recorded by the portal gateway's key for the
authenticated creditor (the signed request is the creditor's authority; the API holds no
creditor key). Problems (problem+json): ``not_found`` 404, ``invalid_parameter`` 400,
``refused`` 409 with the core's code in the detail (e.g. ``payout_elected_already``), and the
signed-request problems of ``auth.py``.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, FastAPI, Path, Query
from pydantic import Field

from reclaim.app.refusals import refused
from reclaim.core.distribution.commands import ElectPayout
from reclaim.core.distribution.payees import PAYOUT_ASSETS, classify, current_holder
from reclaim.core.distribution.state import RoundProgress
from reclaim.core.machine import State
from reclaim.core.rejections import Rejection
from reclaim.entrypoints.api.auth import AuthenticatedActor
from reclaim.entrypoints.api.deps import LogDep, no_cache, no_store, signed
from reclaim.entrypoints.api.problems import NotFoundError, refused_error
from reclaim.entrypoints.api.schemas import DecimalString, Problem, Public, problem_answers
from reclaim.entrypoints.routing import Router

router = Router(tags=["distributions"])
ROUND_ID_PATTERN: Final = "^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
#: The actor that records a creditor's signed API instruction in the log.
GATEWAY: Final = "gateway"


class ClassTarget(Public):
    class_code: str
    target: str = Field(description="percent, cap or pool")
    cumulative_bps: DecimalString
    pool_minor: DecimalString
    interest_to: str = Field(description="the date interest runs to; empty: the payment date")


class RoundPublic(Public):
    round_id: str
    estate_id: str
    record_date: str
    payment_date: str
    funding_minor: DecimalString
    funded_minor: DecimalString
    classes: list[ClassTarget]
    approved: bool
    lines_sha256: str | None = Field(description="SHA-256 of the approved lines file")
    lines: DecimalString | None
    usd_total_minor: DecimalString | None
    escrow_total_minor: DecimalString | None
    executed_lines: DecimalString
    executed_usd_minor: DecimalString
    completed_at: str


class ClaimDistribution(Public):
    claim_id: str
    class_code: str
    admitted_minor: DecimalString
    received_minor: DecimalString = Field(description="USD cents from rounds, paid or escrowed")
    escrow_minor: DecimalString = Field(description="USD cents waiting in the claim's escrow")
    escrow_reason: str = Field(description="why it would be escrowed today; empty: payable")


class MyDistributions(Public):
    creditor: str
    payout_asset: str
    claims: list[ClaimDistribution]


class Election(Public):
    creditor: str
    asset: str
    seq: DecimalString | None = Field(description="the event's seq; null: elected already so")


def _round(p: RoundProgress) -> RoundPublic:
    r, a = p.round, p.approval
    return RoundPublic(
        round_id=r.round_id,
        estate_id=r.estate_id,
        record_date=r.record_date,
        payment_date=r.payment_date,
        funding_minor=str(r.funding_minor),
        funded_minor=str(p.funded_minor),
        classes=[
            ClassTarget(
                class_code=c.class_code,
                target=c.target,
                cumulative_bps=str(c.cumulative_bps),
                pool_minor=str(c.pool_minor),
                interest_to=c.interest_to,
            )
            for c in r.classes
        ],
        approved=a is not None,
        lines_sha256=None if a is None else a.lines_sha256,
        lines=None if a is None else str(a.lines),
        usd_total_minor=None if a is None else str(a.usd_total_minor),
        escrow_total_minor=None if a is None else str(a.escrow_total_minor),
        executed_lines=str(p.executed_lines),
        executed_usd_minor=str(p.executed_usd_minor),
        completed_at=p.completed_at,
    )


def _mine(state: State, creditor: str, today: str) -> MyDistributions:
    ds, claims = state.distribution, state.claims
    exempt = state.holding_entities()
    held = sorted(
        claim
        for claim in (set(claims.links.get(creditor, ())) | {c for c, h in ds.holders.items() if h})
        if claim in claims.claims and current_holder(ds, claims.claims[claim]) == creditor
    )
    out: list[ClaimDistribution] = []
    for claim_id in held:
        claim = claims.claims[claim_id]
        escrow = state.ledger.accounts.get(f"claim:{claim_id}/USD/claim_escrow")
        reason = ""
        plan = ds.plans.get(claim.estate_id)
        if plan is not None:
            reason = classify(ds, claims, plan, claim, today, today, exempt).reason
        out.append(
            ClaimDistribution(
                claim_id=claim_id,
                class_code=claim.class_code,
                admitted_minor=str(claim.admitted_minor),
                received_minor=str(ds.received.get(claim_id, 0)),
                escrow_minor=str(0 if escrow is None else escrow.available_minor),
                escrow_reason=reason,
            )
        )
    election = ds.elections.get(creditor)
    return MyDistributions(
        creditor=creditor,
        payout_asset="USD" if election is None else election.asset,
        claims=out,
    )


_SIGNED: Final = problem_answers(
    {
        401: "not signed, or not by a live key",
        409: "refused (`refused`), or replayed",
    }
)
_NO_STORE: Final = [Depends(no_store)]
_NO_CACHE: Final = [Depends(no_cache)]


@router.get("/distributions/rounds", response_model=list[RoundPublic], dependencies=_NO_CACHE)
def list_rounds(log: LogDep) -> list[RoundPublic]:
    """Every distribution round, in declaration order per estate."""
    return log.read(lambda s: [_round(p) for p in s.distribution.rounds.values()])


@router.get(
    "/distributions/rounds/{round_id}",
    response_model=RoundPublic,
    responses={404: {"model": Problem, "description": "`not_found`"}},
    dependencies=_NO_CACHE,
)
def get_round(log: LogDep, round_id: Annotated[str, Path(pattern=ROUND_ID_PATTERN)]) -> RoundPublic:
    """One round: targets, approval digest and totals, execution progress."""
    found = log.read(lambda s: s.distribution.rounds.get(round_id))
    if found is None:
        raise NotFoundError(f"no round {round_id!r}")
    return _round(found)


@signed(router.get, "/api/v1/distributions", MyDistributions, "distributionQuery", _SIGNED,
        dependencies=_NO_STORE)  # fmt: skip
def get_my_distributions(log: LogDep, actor: AuthenticatedActor) -> MyDistributions:
    """The caller's claims: what each received, what waits in escrow and why."""
    today = log.clock.now().date().isoformat()
    return log.read(lambda s: _mine(s, actor, today))


@signed(router.post, "/api/v1/distributions/election", Election, "payoutElect", _SIGNED,
        dependencies=_NO_STORE)  # fmt: skip
def post_election(
    log: LogDep,
    actor: AuthenticatedActor,
    asset: Annotated[str, Query(pattern="^(USD|EUR|USDC)$", description="the payout asset")],
) -> Election:
    """Elect the asset distributions are paid in (irrevocable, like FTX's payout partners)."""
    assert asset in PAYOUT_ASSETS
    (outcome,) = log.submit_many([(ElectPayout(actor, asset), GATEWAY)])
    if isinstance(outcome, Rejection):
        raise refused_error(refused(outcome))
    seq = str(outcome.seq) if outcome.events else None
    return Election(creditor=actor, asset=asset, seq=seq)


def install(app: FastAPI) -> None:
    app.include_router(router)
