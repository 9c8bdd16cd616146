"""The operator's claims commands of the ``reclaim`` CLI: estates, register import, policy, report.

Installed by ``cli/app.py`` (``reclaim estate ...``, ``reclaim import-claims``,
``reclaim policy ...``, ``reclaim report``). Parse, call ``app.claims_import`` /
``app.claims_queries``, render; no logic of its own.

Exit codes: 0 done (also when there was nothing to do: an estate or a policy already as given, a
register imported already); 1 refused (a bad file, with every fault listed; a command the core
refused); 2 bad usage, settings or keys.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final, Literal

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from reclaim import bootstrap
from reclaim.adapters.files.estate_file import EstateFileError, load_estate_file, shipped_estate
from reclaim.adapters.files.policy_file import (
    PolicyReport,
    load_policy_csv,
    shipped_policy,
)
from reclaim.adapters.files.register_file import read_register
from reclaim.app.claims_import import (
    ImportReport,
    ImportSummary,
    create_estate,
    import_register,
    set_policy,
)
from reclaim.app.claims_queries import (
    format_bps,
    policy_in_force,
    report_document,
)
from reclaim.core.claims.model import is_date
from reclaim.core.types import JsonValue
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

estate_app = typer.Typer(help="Estates: their classes, convenience class and interest.")
policy_app = typer.Typer(help="Jurisdiction policy: dated, sourced entries per ISO code.")

OnDate = Annotated[
    str | None, typer.Option("--on", help="The date (YYYY-MM-DD) the policy is read at; today.")
]
#: The policy shipped as an example (``reclaim policy set --ftx-2025``).
FTX_POLICY: Final = "ftx_restricted_jurisdictions_2025"


def _on(on: str | None) -> str:
    if on is None:
        return datetime.now(UTC).date().isoformat()
    if not is_date(on):
        err.print(f"[red]--on {escape(on)!r}:[/] not a date (YYYY-MM-DD)")
        raise typer.Exit(2)
    return on


# Estates ----------------------------------------------------------------------------------------


@estate_app.command("create")
def estate_create(
    config: Annotated[
        Path | None,
        typer.Option(help="The estate's TOML (or JSON) file.", exists=True, dir_okay=False),
    ] = None,
    ftx: Annotated[bool, typer.Option("--ftx", help="The shipped FTX example estate.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an estate (name, petition date, classes, convenience threshold, interest rate)."""
    path = chosen_file(config, ftx, "--config FILE and --ftx", lambda: shipped_estate("ftx"))
    try:
        command = load_estate_file(path)
    except EstateFileError as exc:
        err.print(f"[bold red]refused[/] {escape(str(exc.path))}:")
        for fault in exc.faults:
            err.print(f"  {escape(fault)}", soft_wrap=True)
        raise typer.Exit(1) from exc
    with closing(open_container(data_dir, database_url)) as container:
        outcome = create_estate(container.log, command)
    outcome = accepted(outcome)
    if outcome.seq is None:
        console.print(f"estate {command.estate_id} exists already on the same terms")
    else:
        console.print(f"created estate {command.estate_id} (event {outcome.seq})")
    classes = ", ".join(f"{c.code} (priority {c.priority})" for c in command.classes)
    console.print(f"  {escape(command.name)}; petition date {command.petition_date}; {classes}")


# Register import --------------------------------------------------------------------------------


class _Bars:
    """One progress bar per phase, made as the phase starts (on standard error)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        task = self._tasks.get(phase)
        if task is None:
            task = self._tasks[phase] = self._progress.add_task(phase, total=total or 1)
        self._progress.update(task, completed=done if total else 1, total=total or 1)


def import_claims(
    file: Annotated[
        Path, typer.Argument(help="The register (CSV or Parquet).", exists=True, dir_okay=False)
    ],
    estate: Annotated[str, typer.Option(help="The estate's id, e.g. ftx.")],
    supplement: Annotated[
        bool,
        typer.Option(help="The file adds to the register; claims it does not list are kept."),
    ] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Import an estate's claims register: validated whole, then appended as signed events.

    A file with any bad row imports nothing and is answered with every bad row. Importing the
    same file again changes nothing; a changed file appends explicit amendments, and claims it
    no longer lists are expunged (unless --supplement). An interrupted import is resumed by
    running it again.
    """
    with closing(open_container(data_dir, database_url)) as container:
        try:
            vault, commitments = bootstrap.open_claims_vault(container)
        except bootstrap.BootstrapError as exc:
            err.print(f"[red]cannot open the PII vault:[/] {escape(str(exc))}")
            raise typer.Exit(2) from exc
        with Progress(
            TextColumn("{task.description:>9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            refresh_per_second=2,  # each refresh takes the interpreter from the import
        ) as progress:
            outcome = import_register(
                container.log, vault, commitments, estate, file, _Bars(progress),
                read=read_register, full_schedule=not supplement,
            )  # fmt: skip
    if isinstance(outcome, ImportReport):
        _print_import_report(outcome, file)
        raise typer.Exit(1)
    _print_summary(outcome)


def _print_import_report(report: ImportReport, file: Path) -> None:
    written = {
        "append": f"{report.events_appended:,} events were appended before the refusal; "
        "run the import again to resume",
    }.get(report.stage, "nothing was imported")
    table = Table("row", "column", "code", "problem", title=f"{escape(str(file))}: refused")
    for fault in report.faults:
        table.add_row(
            "file" if fault.row is None else str(fault.row),
            escape(fault.column or ""),
            fault.code,
            escape(fault.message),
        )
    console.print(table)
    rest = report.faults_total - len(report.faults)
    if rest:
        console.print(f"... and {rest:,} more faults not listed")
    err.print(
        f"[bold red]refused[/] ({report.stage}): {report.faults_total:,} fault(s); {written}",
        soft_wrap=True,
    )


def _print_summary(s: ImportSummary) -> None:
    table = Table("register", s.register_id[:16] + "…", title=f"estate {escape(s.estate_id)}")
    for label, value in (
        ("rows", s.rows),
        ("new claims", s.new_claims),
        ("amended claims", s.amended_claims),
        ("expunged claims", s.expunged_claims),
        ("unchanged claims", s.unchanged_claims),
        ("vault subjects written", s.vault_subjects),
        ("events appended", s.events_appended),
        ("log size", s.log_size),
    ):
        table.add_row(label, f"{value:,}")
    table.add_row("seconds", f"{s.seconds:.1f}")
    console.print(table)
    if s.events_appended == 0:
        console.print("nothing to do: the register is as the file says")


# Policy -----------------------------------------------------------------------------------------


@policy_app.command("set")
def policy_set(
    file: Annotated[
        Path | None,
        typer.Argument(help="A policy CSV (iso,name,status,reason,source,effective_date,rails)."),
    ] = None,
    ftx_2025: Annotated[
        bool, typer.Option("--ftx-2025", help="The shipped FTX restricted jurisdictions (2025).")
    ] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a policy file's dated entries to the jurisdiction policy (entries set already are
    left as they are)."""
    path = chosen_file(file, ftx_2025, "FILE and --ftx-2025", lambda: shipped_policy(FTX_POLICY))
    if not path.is_file():
        err.print(f"[red]no file {escape(str(path))}[/]")
        raise typer.Exit(2)
    entries = load_policy_csv(path)
    if isinstance(entries, PolicyReport):
        table = Table("row", "column", "code", "problem", title=f"{escape(str(path))}: refused")
        for e in entries.errors:
            row = "file" if e.row is None else str(e.row)
            table.add_row(row, escape(e.column or ""), e.code, escape(e.message))
        console.print(table)
        err.print(f"[bold red]refused[/]: {entries.errors_total:,} fault(s); nothing was set")
        raise typer.Exit(1)
    with closing(open_container(data_dir, database_url)) as container:
        outcome = set_policy(container.log, entries)
    outcome = accepted(outcome)
    console.print(
        f"set {outcome.entries_set:,} entries ({outcome.events_appended} events); "
        f"{outcome.entries_unchanged:,} were set already"
    )


@policy_app.command("show")
def policy_show(
    on: OnDate = None,
    output: Annotated[
        Literal["table", "json"], typer.Option("--format", help="table or json")
    ] = "table",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The jurisdiction policy in force on a date (every jurisdiction with an entry)."""
    on_date = _on(on)
    with closing(open_container(data_dir, database_url)) as container:
        entries = container.log.read(lambda state: policy_in_force(state, on_date))
    if output == "json":
        items = [e._asdict() | {"rails": list(e.rails)} for e in entries]
        sys.stdout.write(json.dumps({"on": on_date, "jurisdictions": items}, indent=2) + "\n")
        return
    title = f"policy on {on_date}"
    table = Table("iso", "status", "since", "rails", "reason", "source", title=title)
    for e in entries:
        rails = " ".join(e.rails) or "none"
        table.add_row(e.iso, e.status, e.effective_date, rails, escape(e.reason), escape(e.source))
    console.print(table)
    console.print(f"{len(entries)} jurisdiction(s) listed; the policy says nothing of the others")


# Report -----------------------------------------------------------------------------------------


def report(
    estate: Annotated[str, typer.Option(help="The estate's id, e.g. ftx.")],
    on: OnDate = None,
    output: Annotated[
        Literal["table", "json", "csv"], typer.Option("--format", help="table, json or csv")
    ] = "table",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Claims and admitted amounts by jurisdiction and status under the policy in force on a
    date: how much sits in restricted jurisdictions, and each one's share of it."""
    on_date = _on(on)
    with closing(open_container(data_dir, database_url)) as container:
        document = container.log.read(lambda state: report_document(state, estate, on_date))
    if document is None:
        err.print(f"[red]no estate {escape(estate)!r}[/]")
        raise typer.Exit(1)
    if output == "json":
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    elif output == "csv":
        sys.stdout.write(report_csv(document))
    else:
        _print_report(document)


def report_csv(document: dict[str, JsonValue]) -> str:
    """The report's cells, one row per (jurisdiction, claim status)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    fields = ("jurisdiction", "status", "policy_status", "claims", "admitted_minor", "admitted")
    writer.writerow(fields)
    for cell in _items(document["by_jurisdiction_status"]):
        writer.writerow([cell[f] for f in fields])
    return out.getvalue()


def _items(value: JsonValue) -> list[dict[str, JsonValue]]:
    assert isinstance(value, list)
    return [item for item in value if isinstance(item, dict)]


def _field(value: JsonValue, name: str) -> JsonValue:
    assert isinstance(value, dict)
    return value[name]


def _print_report(d: dict[str, JsonValue]) -> None:
    title = f"estate {escape(str(d['estate_id']))} on {d['on']}: claims by jurisdiction and status"
    cells = Table("jurisdiction", "status", "policy", "claims", "admitted (USD)", title=title)
    for c in _items(d["by_jurisdiction_status"]):
        cells.add_row(
            str(c["jurisdiction"]), str(c["status"]), str(c["policy_status"]),
            f"{int(str(c['claims'])):,}", usd(c["admitted"]),
        )  # fmt: skip
    console.print(cells)
    console.print(_shares(d["by_policy_status"], "policy_status", "policy status", "owed"))
    console.print(_shares(d["restricted_by_jurisdiction"], "jurisdiction", "jurisdiction",
                          "restricted"))  # fmt: skip
    restricted = d["restricted"]
    console.print(
        f"total {usd(_field(d['total'], 'admitted'))} in "
        f"{int(str(_field(d['total'], 'claims'))):,} claims; owed (not expunged) "
        f"{usd(_field(d['owed'], 'admitted'))}; in restricted jurisdictions "
        f"{usd(_field(restricted, 'admitted'))} = "
        f"{format_bps(_text_or_none(_field(restricted, 'share_of_owed_bps')))} of owed"
    )
    china = [r for r in _items(d["restricted_by_jurisdiction"]) if r["jurisdiction"] == "CN"]
    if china:
        share = format_bps(_text_or_none(china[0]["share_of_restricted_bps"]))
        console.print(f"mainland China (CN): {usd(china[0]['admitted'])} = {share} of restricted")


def _shares(items: JsonValue, key: str, heading: str, of: str) -> Table:
    """The claims and admitted dollars of each of ``items`` (named by ``key``, the column
    ``heading``) with its share of ``of`` (``share_of_<of>_bps``), titled ``of``."""
    table = Table(heading, "claims", "admitted (USD)", f"share of {of}", title=of)
    for item in _items(items):
        table.add_row(
            str(item[key]), f"{int(str(item['claims'])):,}", usd(item["admitted"]),
            format_bps(_text_or_none(item[f"share_of_{of}_bps"])),
        )  # fmt: skip
    return table


def _text_or_none(value: JsonValue) -> str | None:
    assert value is None or isinstance(value, str)
    return value
