"""The operator's distribution commands: ``reclaim distribute …``, ``reclaim fx …``,
``reclaim escrow …``.

A round, as the treasury runs it::

    reclaim distribute plan --ftx                 # the estate's plan (admin)
    reclaim distribute declare r2 --ftx           # the round's dates and percentages
    reclaim distribute fund r2                    # the estate pays the round into its pool
    reclaim distribute preview r2                 # lines.csv + report, nothing changes
    reclaim distribute approve r2                 # recomputed, compared, signed (treasury)
    reclaim distribute execute r2                 # posted in batches; run again to resume

Files of a round live in ``<data dir>/rounds/<round id>/``. ``approve`` recomputes the round
and refuses if the preview on disk is not what the state gives now (run ``preview`` again).
``execute`` reads the approved file (its SHA-256 must be the approved one) and resumes after the
last line the log executed, so a crash never pays a line twice.

Exit codes: 0 done; 1 refused (by the core, or a stale preview); 2 bad usage, settings or keys.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from reclaim import bootstrap
from reclaim.adapters.files.round_file import (
    LINES_FILE,
    RoundFileError,
    file_sha256,
    read_round_lines,
    write_round_preview,
)
from reclaim.adapters.files.round_spec_file import (
    RoundSpec,
    RoundSpecError,
    load_round_spec,
    shipped_round_spec,
)
from reclaim.app import distributions
from reclaim.app.log_service import Accepted
from reclaim.core.distribution.commands import ForfeitEscrow, RecordFxRate, ReleaseEscrow
from reclaim.core.distribution.payees import RELEASE_REASONS
from reclaim.core.rejections import Rejection
from reclaim.entrypoints.cli.common import (
    DatabaseUrl,
    DataDir,
    accepted,
    chosen_file,
    console,
    err,
    open_container,
    usd,
)

distribute_app = typer.Typer(help="Distribution rounds: plan, declare, fund, preview, approve, "
                             "execute.")  # fmt: skip
fx_app = typer.Typer(help="FX rates payouts in EUR or USDC are converted at (signed events).")
escrow_app = typer.Typer(help="Escrows of claims that could not be paid yet: release, forfeit.")

Spec = Annotated[Path | None, typer.Option("--spec", help="A plan/rounds TOML file.", exists=True)]
Ftx = Annotated[bool, typer.Option("--ftx", help="The shipped FTX plan and rounds.")]
#: Where a round's files go, under the data directory.
ROUNDS_DIR: Final = "rounds"


def _spec(spec: Path | None, ftx: bool) -> RoundSpec:
    path = chosen_file(spec, ftx, "--spec FILE and --ftx", lambda: shipped_round_spec("ftx"))
    try:
        return load_round_spec(path)
    except RoundSpecError as exc:
        err.print(f"[bold red]refused[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc


def _done(outcome: Accepted | Rejection, what: str) -> None:
    console.print(f"{what} (event {accepted(outcome).seq})")


def _round_dir(container: bootstrap.Container, round_id: str) -> Path:
    return container.settings.data_dir / ROUNDS_DIR / round_id


@distribute_app.command("plan")
def plan(spec: Spec = None, ftx: Ftx = False, data_dir: DataDir = None,
         database_url: DatabaseUrl = None) -> None:  # fmt: skip
    """Set the estate's distribution plan (classes' caps, interest, statuses, KYC deadlines)."""
    loaded = _spec(spec, ftx)
    with closing(open_container(data_dir, database_url)) as container:
        current = container.log.read(lambda s: s.distribution.plans.get(loaded.plan.estate_id))
        if current is not None and current == replace(loaded.plan, set_at=current.set_at):
            console.print(f"the plan of {loaded.plan.estate_id} is set already")
            return
        _done(distributions.set_plan(container.log, loaded.plan), "plan set")


@distribute_app.command("declare")
def declare(
    round_id: Annotated[str, typer.Argument(help="The round's id in the plan file.")],
    spec: Spec = None,
    ftx: Ftx = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Declare a round of the plan file: record and payment dates, percentages per class."""
    loaded = _spec(spec, ftx)
    found = [r for r in loaded.rounds if r.round_id == round_id]
    if not found:
        err.print(f"[red]no round {escape(round_id)!r} in the file[/]")
        raise typer.Exit(2)
    with closing(open_container(data_dir, database_url)) as container:
        if container.log.read(lambda s: round_id in s.distribution.rounds):
            console.print(f"round {round_id} is declared already")
            return
        _done(distributions.declare(container.log, found[0]), f"declared round {round_id}")


@distribute_app.command("fund")
def fund(round_id: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Pay the round's funding into the estate's pool (a signed ledger transfer)."""
    with closing(open_container(data_dir, database_url)) as container:
        funded = container.log.read(
            lambda s: (
                s.distribution.rounds[round_id].funded_minor
                if round_id in s.distribution.rounds
                else None
            )
        )
        if funded:
            console.print(f"round {round_id} is funded already ({usd(funded)})")
            return
        try:
            outcome = distributions.fund(container.log, round_id)
        except distributions.DistributionError as exc:
            err.print(f"[red]{escape(str(exc))}[/]")
            raise typer.Exit(2) from exc
        _done(outcome, f"funded round {round_id}")


@distribute_app.command("preview")
def preview(round_id: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Compute the round from the log now and write its lines and report; changes nothing."""
    with closing(open_container(data_dir, database_url)) as container:
        computed = _compute(container, round_id)
        files = write_round_preview(_round_dir(container, round_id), computed.lines)
    summary = computed.lines.summary()
    table = Table(title=f"round {round_id}: {summary.lines:,} lines, {usd(summary.usd_minor)}")
    for name in ("class", "claims", "entitled", "received before", "lines", "this round"):
        table.add_column(name, justify="right")
    for c in summary.classes:
        table.add_row(c.class_code, f"{c.claims:,}", usd(c.entitled_minor),
                      usd(c.received_minor), f"{c.lines:,}", usd(c.usd_minor))  # fmt: skip
    console.print(table)
    console.print(f"paid {usd(summary.paid_usd_minor)}, escrowed "
                  f"{usd(summary.escrowed_usd_minor)}")  # fmt: skip
    for bucket in summary.escrowed_by_reason:
        console.print(f"  escrowed ({bucket.key}): {bucket.lines:,} lines, {usd(bucket.usd_minor)}")
    console.print(f"lines: {files.lines_path}\nsha256: {files.lines_sha256}")
    console.print(f"report: {files.report_md_path}")
    console.print(f"next: reclaim distribute approve {round_id}")


def _compute(container: bootstrap.Container, round_id: str) -> distributions.Preview:
    try:
        return distributions.preview(container.log, round_id)
    except distributions.DistributionError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(2) from exc


@distribute_app.command("approve")
def approve(round_id: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Sign the previewed round (treasury key), after checking the preview is still current."""
    with closing(open_container(data_dir, database_url)) as container:
        directory = _round_dir(container, round_id)
        lines_path = directory / LINES_FILE
        if not lines_path.exists():
            err.print(f"[red]no preview of {round_id}: run reclaim distribute preview first[/]")
            raise typer.Exit(2)
        on_disk = file_sha256(lines_path)
        computed = _compute(container, round_id)
        check_dir = directory / ".approve-check"
        now = write_round_preview(check_dir, computed.lines).lines_sha256
        if now != on_disk:
            err.print("[bold red]refused[/] the log changed since the preview (new links, KYC, "
                      f"rates…): run reclaim distribute preview {round_id} again")  # fmt: skip
            raise typer.Exit(1)
        outcome = distributions.approve(container.log, round_id, on_disk, computed)
        _done(outcome, f"approved round {round_id}: sha256 {on_disk}")


@distribute_app.command("execute")
def execute(
    round_id: str,
    group: Annotated[
        int, typer.Option(help="Batches of 64 lines per group commit (1-16).", min=1, max=16)
    ] = 16,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Post the approved lines in batches; run again after a crash to resume (never twice)."""
    with closing(open_container(data_dir, database_url)) as container:
        approval = container.log.read(
            lambda s: (
                s.distribution.rounds[round_id].approval
                if round_id in s.distribution.rounds
                else None
            )
        )
        if approval is None:
            err.print(f"[red]round {escape(round_id)} is not approved[/]")
            raise typer.Exit(2)
        path = _round_dir(container, round_id) / LINES_FILE
        with Progress(TextColumn("execute"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err) as bar:  # fmt: skip
            task = bar.add_task("execute", total=approval.lines or 1)

            def report(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total or 1)

            try:
                lines = read_round_lines(path, approval.lines_sha256)
                outcome = distributions.execute(
                    container.log, round_id, lines, report, batches_per_submit=group
                )
            except (OSError, RoundFileError) as exc:
                err.print(f"[bold red]cannot read the approved lines:[/] {escape(str(exc))}")
                raise typer.Exit(1) from exc
        outcome = accepted(outcome)
        console.print(f"round {round_id} complete: {outcome.posted:,} lines posted now, "
                      f"{outcome.already:,} before")  # fmt: skip


@distribute_app.command("status")
def status(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Every round: funded, approved, executed, completed."""
    with closing(open_container(data_dir, database_url)) as container:
        rounds = container.log.read(lambda s: list(s.distribution.rounds.values()))
    table = Table()
    for name in ("round", "estate", "record", "payment", "funded", "approved", "executed",
                 "completed"):  # fmt: skip
        table.add_column(name)
    for p in rounds:
        r = p.round
        approved = "-" if p.approval is None else f"{p.approval.lines:,} lines"
        table.add_row(r.round_id, r.estate_id, r.record_date, r.payment_date,
                      usd(p.funded_minor), approved, f"{p.executed_lines:,}",
                      p.completed_at or "-")  # fmt: skip
    console.print(table)


@fx_app.command("record")
def fx_record(
    asset: Annotated[str, typer.Argument(help="EUR or USDC.")],
    rate: Annotated[str, typer.Argument(help="Units of the asset per USD, e.g. 0.9234.")],
    source: Annotated[str, typer.Option(help="Where the rate comes from (URL or feed).")],
    observed_at: Annotated[str, typer.Option(help="RFC 3339 UTC time of the rate.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Record an FX rate as a signed event (treasury)."""
    with closing(open_container(data_dir, database_url)) as container:
        (outcome,) = container.log.submit_many(
            [(RecordFxRate(asset, rate, source, observed_at), "treasury")]
        )
        _done(outcome, f"recorded {asset} at {rate} per USD")


@escrow_app.command("release")
def escrow_release(
    claim_id: str,
    reason: Annotated[str, typer.Option(help=f"One of: {', '.join(RELEASE_REASONS)}.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Release a claim's escrow to its holder, for the reason that cleared it."""
    with closing(open_container(data_dir, database_url)) as container:
        (outcome,) = container.log.submit_many([(ReleaseEscrow(claim_id, reason), "treasury")])
        _done(outcome, f"released the escrow of {claim_id}")


@escrow_app.command("forfeit")
def escrow_forfeit(
    claim_id: str,
    reason: Annotated[str, typer.Option(help="Why (the order's finding).")],
    order: Annotated[str, typer.Option(help="The court order's docket reference.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Forfeit a claim's escrow back to the estate's pool, as a court order directs (admin)."""
    with closing(open_container(data_dir, database_url)) as container:
        command = ForfeitEscrow(claim_id, reason, order)
        (outcome,) = container.log.submit_many([(command, "admin")])
        _done(outcome, f"forfeited the escrow of {claim_id}")
