"""The distribution core's ladders: decide, check and evolve its events.

Theory of operation
-------------------
A round goes ``declared → funded → approved → executing → completed``, as a table (h11 style;
rows: the round's phase, ``rounds.phase_of``; columns: the events ``distribution.round_funded``,
``…round_approved``, ``…lines_executed``, ``…round_completed``; ``rounds.ROUND_TRANSITIONS``). A
cell is the phase the event moves the round to (subject to the rest of its ladder: an approved
round takes more lines until all are executed, then completes), or the code it is refused with
(``DistributionCode.round_<cell>``):

| phase     | funded            | approved          | lines_executed    | completed         |
| --------- | ----------------- | ----------------- | ----------------- | ----------------- |
| declared  | funded            | not_funded        | not_approved      | not_approved      |
| funded    | funded_already    | approved          | not_approved      | not_approved      |
| approved  | funded_already    | approved_already  | approved          | completed         |
| completed | funded_already    | approved_already  | completed_already | completed_already |

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

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Final

from reclaim.core.claims.model import (
    ClaimsState,
)
from reclaim.core.distribution.codes import DistributionCode as C
from reclaim.core.distribution.codes import DistributionRejection
from reclaim.core.distribution.commands import (
    EVENT_OF,
    ApproveRound,
    AssignClaim,
    CompleteRound,
    Context,
    DecideObjection,
    Decision,
    DeclareRound,
    DistributionCommand,
    ElectPayout,
    ExecuteLines,
    ForfeitEscrow,
    FundRound,
    ProveResidence,
    RecordFxRate,
    ReleaseEscrow,
    SetPlan,
)
from reclaim.core.distribution.escrow import (
    check_forfeited,
    check_released,
    escrow_balance,
    forfeit_effects,
    release_effects,
)
from reclaim.core.distribution.holders import (
    check_assigned,
    check_elected,
    check_fx,
    check_objection,
    check_residence,
    minor_ratio,
    parse_rate,
)
from reclaim.core.distribution.payees import (
    ESCROW,
    current_holder,
)
from reclaim.core.distribution.payload_codec import (
    Payload,
    approval_from_payload,
    line_payload,
    lines_from_payload,
    plan_from_payload,
    plan_payload,
    round_from_payload,
    round_payload,
)
from reclaim.core.distribution.payloads import (
    CLAIM_ASSIGNED,
    DISTRIBUTION_EVENT_TYPES,
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
from reclaim.core.distribution.rounds import (
    check_approved,
    check_completed,
    check_funded,
    check_lines,
    check_plan,
    check_round,
    funding_effects,
    line_effects,
    pool_id,
)
from reclaim.core.distribution.state import (
    Assignment,
    DistributionState,
    Election,
    FxRate,
    Objection,
    Residence,
    RoundProgress,
)
from reclaim.core.ledger.effects import apply_effects
from reclaim.core.ledger.model import (
    LedgerState,
)
from reclaim.core.limits import lines_per_event_max
from reclaim.core.payload_fields import malformed_as
from reclaim.core.types import JsonValue


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
                "amount_minor": str(escrow_balance(ctx.ledger, command.claim_id)),
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
        "amount_minor": str(escrow_balance(ctx.ledger, command.claim_id)),
    }


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


@malformed_as(partial(DistributionRejection, C.payload_malformed, None))
def check_distribution(
    ds: DistributionState,
    ctx: Context,
    event_type: str,
    payload: Mapping[str, JsonValue],
    time: str,
) -> DistributionRejection | None:
    """The first reason a distribution event may not follow the state at ``time``, or None."""
    return _CHECKS[event_type](ds, ctx, payload, time)


_Check = Callable[
    [DistributionState, Context, Mapping[str, JsonValue], str], DistributionRejection | None
]


_CHECKS: Final[dict[str, _Check]] = {
    PLAN_SET: check_plan,
    ROUND_DECLARED: check_round,
    ROUND_FUNDED: check_funded,
    ROUND_APPROVED: check_approved,
    LINES_EXECUTED: check_lines,
    ROUND_COMPLETED: check_completed,
    ESCROW_RELEASED: check_released,
    ESCROW_FORFEITED: check_forfeited,
    CLAIM_ASSIGNED: check_assigned,
    RESIDENCE_PROVED: check_residence,
    OBJECTION_DECIDED: check_objection,
    FX_RATE_RECORDED: check_fx,
    PAYOUT_ELECTED: check_elected,
}


assert set(_CHECKS) == set(DISTRIBUTION_EVENT_TYPES)


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
            apply_effects(ledger, funding_effects(progress.round, amount), time)
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
        pool = ledger.accounts.get(pool_id(estate))
        pool_balance = 0 if pool is None else pool.credits_posted - pool.debits_posted
        expected_pool = funded.get(estate, 0) - executed.get(estate, 0)
        expected_pool += ds.forfeited.get(estate, 0)
        assert pool_balance == expected_pool, f"{estate}: pool {pool_balance} != {expected_pool}"
        expected_escrow = escrowed.get(estate, 0) - ds.released.get(estate, 0)
        expected_escrow -= ds.forfeited.get(estate, 0)
        found = in_escrow.get(estate, 0)
        assert found == expected_escrow, f"{estate}: escrows {found} != {expected_escrow}"
