"""Distribution rounds as the operator runs them: plan, declare, fund, preview, approve, execute.

Theory of operation
-------------------
- ``preview(log, round_id)`` reads the state once (``log.read``), classifies every claim of the
  estate (``core.distribution.payees.classify``: holder of record at the record date, escrow
  reasons, payout asset), and computes the round (``core.distribution.compute``) with the
  latest recorded FX rates. It changes nothing; the caller writes the lines file and report
  (``adapters.files.round_file``) and shows the summary.
- ``approve(log, round_id, lines_sha256, summary, rates)``: the treasury signs the digest of the
  lines file and its totals (``distribution.round_approved``).
- ``execute(log, round_id, lines, progress)`` posts the approved lines in batches of
  ``lines_per_event_max``, ``batches_per_submit_max`` batches per group commit, starting at the
  first line the log has not executed yet: after a crash, running it again with the same file
  resumes where the log stopped, and the core refuses any line twice (its ``received`` must be
  what the claim received so far, its number the next one). Then ``distribution.round_completed``
  checks that every approved line was executed and that their digest is the approved one.

Errors: a refusal of the core comes back as its ``Rejection``; operating problems (no plan, an
unknown round, no FX rate for an elected asset) raise ``DistributionError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from reclaim.app.log_ports import LogWriter
from reclaim.app.log_service import Accepted
from reclaim.core.distribution.commands import (
    ApproveRound,
    CompleteRound,
    DeclareRound,
    ExecuteLines,
    FundRound,
    SetPlan,
)
from reclaim.core.distribution.compute import RoundLines
from reclaim.core.distribution.model import Plan, Round
from reclaim.core.distribution.payees import USD
from reclaim.core.distribution.preview import claims_frame, round_lines
from reclaim.core.distribution.state import FxUse, Line
from reclaim.core.limits import distribution_batches_per_submit_max as batches_per_submit_max
from reclaim.core.limits import lines_per_event_max
from reclaim.core.machine import Command, State
from reclaim.core.rejections import Rejection

Outcome = Accepted | Rejection
Progress = Callable[[int, int], None]


class DistributionError(Exception):
    """A round that cannot be previewed or executed as asked (not a refusal of the core)."""


@dataclass(frozen=True, slots=True)
class Preview:
    """A computed round and the FX rates it converted with."""

    lines: RoundLines
    rates: tuple[FxUse, ...]


def _one(log: LogWriter, command: Command, actor: str) -> Accepted | Rejection:
    (outcome,) = log.submit_many([(command, actor)])
    return outcome


def set_plan(log: LogWriter, plan: Plan, *, actor: str = "admin") -> Accepted | Rejection:
    return _one(log, SetPlan(plan), actor)


def declare(log: LogWriter, round_: Round, *, actor: str = "treasury") -> Outcome:
    return _one(log, DeclareRound(round_), actor)


def fund(log: LogWriter, round_id: str, *, actor: str = "treasury") -> Outcome:
    progress = log.read(lambda s: s.distribution.rounds.get(round_id))
    if progress is None:
        raise DistributionError(f"no round {round_id!r}")
    return _one(log, FundRound(round_id, progress.round.funding_minor), actor)


def preview(log: LogWriter, round_id: str) -> Preview:
    """Compute ``round_id`` from the state now; changes nothing."""

    def compute(state: State) -> Preview:
        ds = state.distribution
        progress = ds.rounds.get(round_id)
        if progress is None:
            raise DistributionError(f"no round {round_id!r}")
        round_ = progress.round
        plan = ds.plans.get(round_.estate_id)
        if plan is None:
            raise DistributionError(f"estate {round_.estate_id!r} has no distribution plan")
        frame = claims_frame(ds, state.claims, plan, round_, state.holding_entities())
        assets = sorted(set(frame["asset"].unique().to_list()) - {USD})
        rates: list[FxUse] = []
        for asset in assets:
            latest = ds.latest_rate(asset)
            if latest is None:
                raise DistributionError(f"no FX rate recorded for {asset}: record one first")
            rates.append(FxUse(asset, latest.rate, latest.numerator, latest.denominator))
        return Preview(round_lines(ds, state.claims, round_, frame, rates), tuple(rates))

    return log.read(compute)


def approve(
    log: LogWriter,
    round_id: str,
    lines_sha256: str,
    computed: Preview,
    *,
    actor: str = "treasury",
) -> Outcome:
    summary = computed.lines.summary()
    command = ApproveRound(
        round_id,
        lines_sha256,
        summary.lines,
        summary.usd_minor,
        summary.escrowed_usd_minor,
        computed.rates,
    )
    return _one(log, command, actor)


@dataclass(frozen=True, slots=True)
class Executed:
    """What ``execute`` did: lines posted now, lines the log had already, and whether the round
    is complete."""

    posted: int
    already: int
    completed: bool


def execute(
    log: LogWriter,
    round_id: str,
    lines: Iterable[Line],
    progress: Progress | None = None,
    *,
    actor: str = "treasury",
    batches_per_submit: int = batches_per_submit_max,
) -> Executed | Rejection:
    """Post the approved lines the log has not executed yet, then complete the round.
    ``batches_per_submit`` events of ``lines_per_event_max`` lines go in each group commit."""
    assert 0 < batches_per_submit <= batches_per_submit_max, "1…16 batches per commit"
    state_now = log.read(lambda s: _progress_of(s, round_id))
    executed, approved, completed = state_now
    if completed:
        return Executed(0, executed, True)
    report = progress or (lambda done, total: None)
    posted = 0
    report(executed, approved)
    for commands in _submits(round_id, _from(lines, executed), actor, batches_per_submit):
        for outcome in log.submit_many(commands):
            if isinstance(outcome, Rejection):
                return outcome
        posted += sum(len(c.lines) for c, _ in commands if isinstance(c, ExecuteLines))
        report(executed + posted, approved)
    outcome = _one(log, CompleteRound(round_id), actor)
    if isinstance(outcome, Rejection):
        return outcome
    return Executed(posted, executed, True)


def _progress_of(state: State, round_id: str) -> tuple[int, int, bool]:
    progress = state.distribution.rounds.get(round_id)
    if progress is None:
        raise DistributionError(f"no round {round_id!r}")
    if progress.approval is None:
        raise DistributionError(f"round {round_id!r} is not approved")
    return progress.executed_lines, progress.approval.lines, bool(progress.completed_at)


def _from(lines: Iterable[Line], first: int) -> Iterator[Line]:
    for line in lines:
        if line.line >= first:
            yield line


def _submits(
    round_id: str, lines: Iterator[Line], actor: str, per_submit: int
) -> Iterator[list[tuple[Command, str]]]:
    commands: list[tuple[Command, str]] = []
    batch: list[Line] = []
    for line in lines:
        batch.append(line)
        if len(batch) == lines_per_event_max:
            commands.append((ExecuteLines(round_id, tuple(batch)), actor))
            batch = []
            if len(commands) == per_submit:
                yield commands
                commands = []
    if batch:
        commands.append((ExecuteLines(round_id, tuple(batch)), actor))
    if commands:
        yield commands
