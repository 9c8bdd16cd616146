"""The log's commands: ``reclaim keys init``, ``checkpoint``, ``export-log``, ``verify``,
``prove``, ``check-proof``, ``serve`` and ``reclaim mail deliver``. Parse, call, render.

Exit codes: 0 success; 1 a verification or proof check failed (the report says which); 2 bad
usage or settings (Typer's own, and ours).
"""

from __future__ import annotations

import json
import sys
from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from reclaim import bootstrap
from reclaim.app.export import ExportSummary, export_log
from reclaim.app.prove import (
    ProofCheckError,
    ProofRequestError,
    check_inclusion_document,
    inclusion_proof_document,
)
from reclaim.entrypoints.cli.common import (
    DatabaseUrl,
    DataDir,
    console,
    err,
    open_container,
    progress,
    proof_of,
    settings,
)
from reclaim.log.keys import KeyFormatError, VerifierKey
from reclaim.verifier import VerifyFailure, verify_log

keys_app = typer.Typer(help="Operator key files.", no_args_is_help=True)
mail_app = typer.Typer(help="Code e-mails: the outbox and its delivery.", no_args_is_help=True)


@keys_app.command("init")
def keys_init(
    data_dir: DataDir = None,
    origin: Annotated[str | None, typer.Option(help="The log's origin (RECLAIM_ORIGIN).")] = None,
) -> None:
    """Create the operator's key files (log signer, admin, KYC officer, treasury, gateway)."""
    chosen = settings(data_dir, origin=origin)
    try:
        published = bootstrap.init_keys(chosen)
    except bootstrap.BootstrapError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    table = Table("key", "verifier key (public)")
    for stem, vkey in published.items():
        table.add_row(stem, vkey)
    console.print(table)
    console.print(f"Private keys in {chosen.keys_dir} (mode 0600); never share them.")


def checkpoint(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Publish a signed checkpoint of the log now."""
    with closing(open_container(data_dir, database_url)) as opened:
        stored = opened.log.publish_checkpoint()
        console.print(stored.note, end="")


def export_log_command(
    directory: Annotated[Path, typer.Argument(help="Where to write the public log.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Write the public log (events, checkpoints, public keys) as files."""
    with closing(open_container(data_dir, database_url)) as opened:
        opened.log.publish_checkpoint()
        summary = export_with_progress(opened, directory)
    console.print(f"exported {summary.events:,} events and {summary.checkpoints:,} checkpoints")


def export_with_progress(opened: bootstrap.Container, directory: Path) -> ExportSummary:
    """``export_log`` of the container's log into ``directory``, with a progress bar."""
    with progress() as bar:
        task = bar.add_task("export", total=opened.log.size)
        return export_log(
            opened.store,
            opened.log.state,
            directory,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def verify(
    location: Annotated[str, typer.Argument(help="An exported log directory or a server URL.")],
    log_key: Annotated[
        str | None, typer.Option(help="The log's verifier key you trust (else keys.json's).")
    ] = None,
) -> None:
    """Verify a public log offline: signatures, sequence, checkpoints, Merkle roots, replay."""
    trusted = parse_vkey(log_key) if log_key else None
    with progress() as bar:
        task = bar.add_task("verify", total=None)
        outcome = verify_log(
            bootstrap.open_log_source(location),
            trusted_log_key=trusted,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if isinstance(outcome, VerifyFailure):
        err.print(f"[bold red]FAILED[/] {outcome}")
        raise typer.Exit(1)
    console.print(f"[bold green]OK[/] {outcome}")


def prove(
    seq: Annotated[int, typer.Option(help="The event's sequence number.", min=0)],
    out: Annotated[Path | None, typer.Option(help="Write the proof here (else stdout).")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Print an inclusion proof of event SEQ that anyone can check with `reclaim check-proof`."""
    document = proof_of(data_dir, database_url, lambda c: inclusion_proof_document(c.store, seq),
                        ProofRequestError)  # fmt: skip
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)


def check_proof(
    proof: Annotated[Path, typer.Argument(help="A proof written by `reclaim prove`.")],
    log_key: Annotated[str, typer.Option(help="The log's verifier key you trust.")],
) -> None:
    """Check an inclusion proof offline against the log's verifier key."""
    key = parse_vkey(log_key)
    try:
        check_inclusion_document(json.loads(proof.read_text()), key)
    except (ProofCheckError, ValueError) as exc:
        err.print(f"[bold red]FAILED[/] {exc}")
        raise typer.Exit(1) from exc
    console.print("[bold green]OK[/] the event is included in the signed checkpoint")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API (the log, its proofs, OpenAPI at /docs).

    Proxy headers only from RECLAIM_TRUSTED_PROXIES (none by default; README: reverse proxy).
    """
    serve_container(open_container(data_dir, database_url), host, port)


def serve_container(opened: bootstrap.Container, host: str, port: int) -> None:
    """Serve the API over ``opened`` until interrupted, then close it. The withdrawal routes
    are served when the log has a vault (rails from the settings, as ``reclaim withdrawals``
    reads them)."""
    import uvicorn

    from reclaim.entrypoints.api.app import create_app

    opened.log.start()
    opened.start_mail_delivery()
    try:
        withdrawals = None if opened.onboarding is None else opened.withdrawals()
        app = create_app(
            opened.log,
            liabilities=opened.liabilities,
            onboarding=opened.onboarding,
            withdrawals=withdrawals,
        )
        # Proxy headers only from the proxies named in settings (none by default): uvicorn's
        # own default believes X-Forwarded-For from 127.0.0.1, which let any local client pick
        # the address the rate limits count by (issue 9, finding 5).
        trusted = list(opened.settings.trusted_proxies)
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=bool(trusted),
                    forwarded_allow_ips=trusted or [], server_header=False)  # fmt: skip
    finally:
        opened.close()


@mail_app.command("deliver")
def mail_deliver(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Send the code e-mails that are due now (``reclaim serve`` does it every few seconds)."""
    with closing(open_container(data_dir, database_url)) as opened:
        if opened.onboarding is None:
            err.print("[red]no onboarding here:[/] a SQL store and the PII keys are needed")
            raise typer.Exit(2)
        report = opened.onboarding.deliver_mail()
    console.print(
        f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}, "
        f"deferred {report.deferred}"
    )


def parse_vkey(text: str) -> VerifierKey:
    """A verifier key given on the command line; exit 2 if it is not one."""
    try:
        return VerifierKey.parse(text)
    except KeyFormatError as exc:
        err.print(f"[red]not a verifier key:[/] {exc}")
        raise typer.Exit(2) from exc
