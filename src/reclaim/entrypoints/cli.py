"""The ``reclaim`` command line: parse, call the application, render. No logic of its own.

Exit codes: 0 success; 1 a verification or proof check failed (the report says which); 2 bad
usage or settings (Typer's own, and ours).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from reclaim import bootstrap
from reclaim.adapters.keyfiles import KeyFileError, init_keys
from reclaim.adapters.log_sources import open_source
from reclaim.app import demo as demo_data
from reclaim.app.export import export_log
from reclaim.app.prove import ProofCheckError, check_inclusion_document, inclusion_proof_document
from reclaim.app.verify import VerifyFailure, verify_log
from reclaim.config import Settings, SettingsError
from reclaim.core.rejections import Rejection
from reclaim.log.keys import KeyFormatError, VerifierKey

app = typer.Typer(
    name="reclaim",
    help="A verifiable recovery programme for the creditors of a failed crypto exchange.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="Operator key files.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option(help="Data directory (RECLAIM_DATA_DIR).")]
DatabaseUrl = Annotated[str | None, typer.Option(help="Database URL (RECLAIM_DATABASE_URL).")]


def _settings(data_dir: Path | None = None, database_url: str | None = None) -> Settings:
    try:
        return Settings.from_env(data_dir=data_dir, database_url=database_url)
    except SettingsError as exc:
        err.print(f"[red]settings:[/] {exc}")
        raise typer.Exit(2) from exc


def _container(settings: Settings) -> bootstrap.Container:
    try:
        return bootstrap.build(settings)
    except (KeyFileError, bootstrap.BootstrapError) as exc:
        err.print(f"[red]cannot open the log:[/] {exc}")
        err.print("Create keys first with: reclaim keys init")
        raise typer.Exit(2) from exc


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


@keys_app.command("init")
def keys_init(
    data_dir: DataDir = None,
    origin: Annotated[str | None, typer.Option(help="The log's origin (RECLAIM_ORIGIN).")] = None,
) -> None:
    """Create the operator's key files (log signer, admin, KYC officer, treasury, gateway)."""
    settings = Settings.from_env(data_dir=data_dir, origin=origin)
    try:
        published = init_keys(settings.keys_dir, settings.origin)
    except KeyFileError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    table = Table("key", "verifier key (public)")
    for stem, vkey in published.items():
        table.add_row(stem, vkey)
    console.print(table)
    console.print(f"Private keys in {settings.keys_dir} (mode 0600); never share them.")


@app.command()
def checkpoint(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Publish a signed checkpoint of the log now."""
    container = _container(_settings(data_dir, database_url))
    try:
        stored = container.log.publish_checkpoint()
        console.print(stored.note, end="")
    finally:
        container.close()


@app.command("export-log")
def export_log_command(
    directory: Annotated[Path, typer.Argument(help="Where to write the public log.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Write the public log (events, checkpoints, public keys) as files."""
    container = _container(_settings(data_dir, database_url))
    try:
        container.log.publish_checkpoint()
        summary = _export(container, directory)
    finally:
        container.close()
    console.print(f"exported {summary.events:,} events and {summary.checkpoints:,} checkpoints")


def _export(container: bootstrap.Container, directory: Path):  # type: ignore[no-untyped-def]
    with _progress() as progress:
        task = progress.add_task("export", total=container.log.size)
        return export_log(
            container.store,
            container.log.state,
            directory,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )


@app.command()
def verify(
    location: Annotated[str, typer.Argument(help="An exported log directory or a server URL.")],
    log_key: Annotated[
        str | None, typer.Option(help="The log's verifier key you trust (else keys.json's).")
    ] = None,
) -> None:
    """Verify a public log offline: signatures, sequence, checkpoints, Merkle roots, replay."""
    trusted = _parse_vkey(log_key) if log_key else None
    with _progress() as progress:
        task = progress.add_task("verify", total=None)
        outcome = verify_log(
            open_source(location),
            trusted_log_key=trusted,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if isinstance(outcome, VerifyFailure):
        err.print(f"[bold red]FAILED[/] {outcome}")
        raise typer.Exit(1)
    console.print(f"[bold green]OK[/] {outcome}")


@app.command()
def prove(
    seq: Annotated[int, typer.Option(help="The event's sequence number.", min=0)],
    out: Annotated[Path | None, typer.Option(help="Write the proof here (else stdout).")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Print an inclusion proof of event SEQ that anyone can check with `reclaim check-proof`."""
    container = _container(_settings(data_dir, database_url))
    try:
        document = inclusion_proof_document(container.store, seq)
    finally:
        container.close()
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)


@app.command("check-proof")
def check_proof(
    proof: Annotated[Path, typer.Argument(help="A proof written by `reclaim prove`.")],
    log_key: Annotated[str, typer.Option(help="The log's verifier key you trust.")],
) -> None:
    """Check an inclusion proof offline against the log's verifier key."""
    key = _parse_vkey(log_key)
    try:
        check_inclusion_document(json.loads(proof.read_text()), key)
    except (ProofCheckError, ValueError) as exc:
        err.print(f"[bold red]FAILED[/] {exc}")
        raise typer.Exit(1) from exc
    console.print("[bold green]OK[/] the event is included in the signed checkpoint")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API (the log, its proofs, OpenAPI at /docs)."""
    _serve(_container(_settings(data_dir, database_url)), host, port)


def _serve(container: bootstrap.Container, host: str, port: int) -> None:
    import uvicorn

    from reclaim.entrypoints.api.app import create_app

    container.log.start()
    try:
        uvicorn.run(create_app(container.log), host=host, port=port, log_level="info")
    finally:
        container.close()


@app.command("demo")
def demo_command(
    data_dir: Annotated[Path, typer.Option(help="Demo data (recreated).")] = Path(".reclaim-demo"),
    creditors: Annotated[int, typer.Option(help="Demo creditors.", min=1)] = 2000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve afterwards.")] = True,
    port: Annotated[int, typer.Option(help="Port for the API.")] = 8000,
) -> None:
    """Run the demo: keys, a SQLite log of signed events, checkpoints, export, verify, serve."""
    if data_dir.exists():
        shutil.rmtree(data_dir)
    settings = Settings.from_env(data_dir=data_dir, database_url=None).with_data_dir(data_dir)
    init_keys(settings.keys_dir, settings.origin)
    container = bootstrap.build(settings)
    people = demo_data.creditors(creditors, seed=2022_11_11)
    for person in people:
        container.keys.actors[person.name] = person.keys[0]
    commands = list(demo_data.commands(people, seed=2022_11_11))
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("append signed events", total=len(commands))
        outcomes = []
        for start in range(0, len(commands), 500):
            outcomes += container.log.submit_many(commands[start : start + 500])
            progress.update(task, completed=start + len(commands[start : start + 500]))
    elapsed = time.perf_counter() - started
    refused = [o for o in outcomes if isinstance(o, Rejection)]
    container.log.publish_checkpoint()
    console.print(
        f"appended {len(outcomes) - len(refused):,} signed events in {elapsed:.2f} s "
        f"({len(refused)} refused by the core); log size {container.log.size:,}"
    )
    public = data_dir / "public-log"
    summary = _export(container, public)
    console.print(
        f"exported {summary.events:,} events, {summary.checkpoints} checkpoints → {public}"
    )
    outcome = verify_log(open_source(str(public)))
    if isinstance(outcome, VerifyFailure):
        err.print(f"[bold red]verify FAILED[/] {outcome}")
        raise typer.Exit(1)
    console.print(f"[bold green]reclaim verify {public}: OK[/] {outcome}")
    base = f"http://127.0.0.1:{port}"
    console.print(
        "\nNext:\n"
        f"  open {base}/docs                 the API (OpenAPI)\n"
        f"  curl {base}/log/checkpoint       the latest signed checkpoint\n"
        f"  .venv/bin/reclaim verify {base}  verify the live log over HTTP\n"
        f"  .venv/bin/reclaim prove --seq 42 --data-dir {data_dir}   an inclusion proof\n"
    )
    if serve_api:
        _serve(container, "127.0.0.1", port)
    else:
        container.close()


def _parse_vkey(text: str) -> VerifierKey:
    try:
        return VerifierKey.parse(text)
    except KeyFormatError as exc:
        err.print(f"[red]not a verifier key:[/] {exc}")
        raise typer.Exit(2) from exc


def main() -> None:
    app()
