"""What every command group of the ``reclaim`` CLI shares: consoles, the common options, the
settings and the container (each made once per command, through ``bootstrap``), the progress
bar, and the one money formatter.

Exit code 2 for settings that cannot be used and for a log that cannot be opened (no keys, a
key file that cannot be used, a log of another origin), as Typer answers bad usage.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from reclaim import bootstrap
from reclaim.app.refusals import Refused
from reclaim.config import Settings, SettingsError
from reclaim.core.money import ASSETS, asset_of, format_amount, format_usd, parse_amount
from reclaim.core.rejections import Rejection
from reclaim.core.types import JsonValue

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option(help="Data directory (RECLAIM_DATA_DIR).")]
DatabaseUrl = Annotated[str | None, typer.Option(help="Database URL (RECLAIM_DATABASE_URL).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

T = TypeVar("T")


def settings(
    data_dir: Path | None = None, database_url: str | None = None, **overrides: object
) -> Settings:
    """The settings of the environment with the command's options over them (``Settings``'s
    names: ``sepa_debtor_iban=...``); exit 2 if they cannot be used."""
    try:
        return Settings.from_env(None, data_dir=data_dir, database_url=database_url, **overrides)
    except SettingsError as exc:
        err.print(f"[red]settings:[/] {exc}")
        raise typer.Exit(2) from exc


def container(chosen: Settings, *, hint: bool = True) -> bootstrap.Container:
    """Everything the settings describe (``bootstrap.build``); exit 2 if the log cannot be
    opened, with how to create keys (``hint``)."""
    try:
        return bootstrap.build(chosen)
    except bootstrap.BootstrapError as exc:
        err.print(f"[red]cannot open the log:[/] {escape(str(exc))}")
        if hint:
            err.print("Create keys first with: reclaim keys init")
        raise typer.Exit(2) from exc


def open_container(data_dir: Path | None, database_url: str | None) -> bootstrap.Container:
    """The container of a command's ``--data-dir`` and ``--database-url`` (``settings``, then
    ``container``)."""
    return container(settings(data_dir, database_url))


@contextmanager
def started(
    data_dir: Path | None, database_url: str | None, service: Callable[[bootstrap.Container], T]
) -> Iterator[T]:
    """``service`` of the command's container (``open_container``), its log started; the
    container is closed after."""
    opened = open_container(data_dir, database_url)
    try:
        opened.log.start()
        yield service(opened)
    finally:
        opened.close()


def proof_of(
    data_dir: Path | None,
    database_url: str | None,
    make: Callable[[bootstrap.Container], T],
    refused: type[Exception] | tuple[type[Exception], ...],
) -> T:
    """The proof ``make`` reads from the command's container (closed after); a request it
    ``refused`` is printed ("no proof: why") and exits 1."""
    opened = open_container(data_dir, database_url)
    try:
        return make(opened)
    except refused as exc:
        err.print(f"[red]no proof:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        opened.close()


def exactly_one(path: Path | None, shipped: bool, choices: str) -> None:
    """Exit 2 unless exactly one of a file and a shipped example (``choices`` names both) was
    given."""
    if (path is None) == (not shipped):
        err.print(f"[red]give exactly one of {choices}[/]")
        raise typer.Exit(2)


def chosen_file(
    path: Path | None, shipped: bool, choices: str, example: Callable[[], Path]
) -> Path:
    """``path``, or the shipped ``example`` when ``shipped``: exactly one (``exactly_one``)."""
    exactly_one(path, shipped, choices)
    chosen = example() if shipped else path
    assert chosen is not None
    return chosen


def refused_exit(answer: Refused) -> typer.Exit:
    """Print a service's refusal (its code and sentence); the exit code 1 to raise."""
    err.print(f"[bold red]refused[/] {answer.name}: {escape(answer.detail)}", soft_wrap=True)
    return typer.Exit(1)


def problems_exit(problems: Sequence[str]) -> typer.Exit:
    """Print each problem of a refused file (a fee file, a bank statement); the exit code 1 to
    raise."""
    for problem in problems:
        err.print(f"[bold red]refused[/] {escape(problem)}", soft_wrap=True)
    return typer.Exit(1)


def answered(answer: T | Refused) -> T:
    """``answer``; a service's refusal is printed on standard error and exits 1."""
    if isinstance(answer, Refused):
        raise refused_exit(answer)
    return answer


def accepted(outcome: T | Rejection) -> T:
    """``outcome``; a refusal of the core is printed on standard error and exits 1."""
    if isinstance(outcome, Rejection):
        err.print(f"[bold red]refused[/] {escape(str(outcome))}", soft_wrap=True)
        raise typer.Exit(1)
    return outcome


Row = dict[str, Any]


def print_rows(
    rows: Sequence[Row], as_json: bool, empty: str, table: Callable[[Sequence[Row]], Table]
) -> None:
    """A listing: ``rows`` as JSON (``--json``), else ``empty`` when there are none, else the
    ``table`` of them."""
    if as_json:
        console.print_json(json.dumps(rows))
    elif not rows:
        console.print(empty)
    else:
        console.print(table(rows))


def progress() -> Progress:
    """A progress bar on standard error (standard output stays the command's answer)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def money(amount_minor: int, code: str) -> str:
    """``amount_minor`` of asset ``code`` in major units, exact: 250000 EUR → ``2500.00``."""
    asset = asset_of(code)
    assert asset is not None, f"no asset {code!r}"
    return format_amount(amount_minor, asset)


def usd(amount: int | JsonValue) -> str:
    """US dollars as ``$1,234.56`` (``core.money.format_usd``): minor units (``123456``), or the
    decimal text of a report (``"1234.56"``). Exact: no float."""
    if isinstance(amount, int):
        return format_usd(amount)
    assert isinstance(amount, str), f"{amount!r} is neither minor units nor decimal text"
    return format_usd(parse_amount(amount, ASSETS["USD"], signed=True))
