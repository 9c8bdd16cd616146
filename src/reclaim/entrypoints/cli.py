"""The ``reclaim`` command line: parse, call the application, render. No logic of its own.

Exit codes: 0 success; 1 a verification or proof check failed (the report says which); 2 bad
usage or settings (Typer's own, and ours).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from reclaim import bootstrap
from reclaim.adapters.keyfiles import KeyFileError, init_keys
from reclaim.adapters.log_sources import open_source
from reclaim.adapters.published_checkpoints import (
    CheckpointFile,
    ExportedCheckpoints,
    ServerCheckpoints,
    open_checkpoints,
)
from reclaim.adapters.rails.sepa import SepaDebtor
from reclaim.app import demo as demo_data
from reclaim.app.export import export_log
from reclaim.app.liabilities import NoSnapshotError, verify_liability_proof
from reclaim.app.prove import (
    ProofCheckError,
    ProofRequestError,
    check_inclusion_document,
    inclusion_proof_document,
)
from reclaim.app.withdrawals import WithdrawalService
from reclaim.config import Settings, SettingsError
from reclaim.core.money import asset_of, format_amount
from reclaim.core.rejections import Rejection
from reclaim.entrypoints import claims_cli, distribute_cli, withdrawals_cli
from reclaim.entrypoints.demo_programme import run_programme
from reclaim.entrypoints.distribute_cli import usd
from reclaim.log.checkpoint import CheckpointError
from reclaim.log.keys import KeyFormatError, VerifierKey
from reclaim.log.liabilities.errors import (
    LiabilityInputError,
    LiabilityNotFoundError,
    LiabilityProofError,
)
from reclaim.log.liabilities.proof import proof_to_json
from reclaim.verifier import SourceError, VerifyFailure, verify_log

app = typer.Typer(
    name="reclaim",
    help="A verifiable recovery programme for the creditors of a failed crypto exchange.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="Operator key files.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
liabilities_app = typer.Typer(
    help="Proof of liabilities: signed snapshots and creditors' proofs.", no_args_is_help=True
)
app.add_typer(liabilities_app, name="liabilities")
mail_app = typer.Typer(help="Code e-mails: the outbox and its delivery.", no_args_is_help=True)
app.add_typer(mail_app, name="mail")
app.add_typer(claims_cli.estate_app, name="estate", no_args_is_help=True)
app.add_typer(claims_cli.policy_app, name="policy", no_args_is_help=True)
app.command("import-claims")(claims_cli.import_claims)
app.command("report")(claims_cli.report)
app.add_typer(distribute_cli.distribute_app, name="distribute", no_args_is_help=True)
app.add_typer(distribute_cli.fx_app, name="fx", no_args_is_help=True)
app.add_typer(distribute_cli.escrow_app, name="escrow", no_args_is_help=True)
app.add_typer(withdrawals_cli.withdrawals_app, name="withdrawals")

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
    except ProofRequestError as exc:
        err.print(f"[red]no proof:[/] {exc}")
        raise typer.Exit(1) from exc
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
    """Serve the HTTP API (the log, its proofs, OpenAPI at /docs).

    Proxy headers only from RECLAIM_TRUSTED_PROXIES (none by default; README: reverse proxy).
    """
    _serve(_container(_settings(data_dir, database_url)), host, port)


def _withdrawals_for_serving(container: bootstrap.Container) -> WithdrawalService | None:
    """The withdrawal API's service when the log has a vault (rail settings from the
    environment, as ``reclaim withdrawals`` reads them), else ``None`` (no withdrawal routes)."""
    if container.onboarding is None:
        return None
    env = os.environ
    debtor = None
    if env.get("RECLAIM_SEPA_DEBTOR_IBAN"):
        debtor = SepaDebtor(
            env.get("RECLAIM_SEPA_DEBTOR_NAME", "reclaim operator"),
            env["RECLAIM_SEPA_DEBTOR_IBAN"],
            env.get("RECLAIM_SEPA_DEBTOR_BIC", ""),
        )
    allow = env.get("RECLAIM_USDC_ALLOW_LIST")
    addresses = Path(allow).read_text().split() if allow else []
    return bootstrap.build_withdrawals(container, sepa_debtor=debtor, usdc_allow_list=addresses)


def _serve(container: bootstrap.Container, host: str, port: int) -> None:
    import uvicorn

    from reclaim.entrypoints.api.app import create_app

    container.log.start()
    container.start_mail_delivery()
    try:
        withdrawals = _withdrawals_for_serving(container)
        app = create_app(
            container.log,
            liabilities=container.liabilities,
            onboarding=container.onboarding,
            withdrawals=withdrawals,
        )
        # Proxy headers only from the proxies named in settings (none by default): uvicorn's
        # own default believes X-Forwarded-For from 127.0.0.1, which let any local client pick
        # the address the rate limits count by (issue 9, finding 5).
        trusted = list(container.settings.trusted_proxies)
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=bool(trusted),
                    forwarded_allow_ips=trusted or [], server_header=False)  # fmt: skip
    finally:
        container.close()


@mail_app.command("deliver")
def mail_deliver(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Send the code e-mails that are due now (``reclaim serve`` does it every few seconds)."""
    container = _container(_settings(data_dir, database_url))
    try:
        if container.onboarding is None:
            err.print("[red]no onboarding here:[/] a SQL store and the PII keys are needed")
            raise typer.Exit(2)
        report = container.onboarding.deliver_mail()
    finally:
        container.close()
    console.print(
        f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}, "
        f"deferred {report.deferred}"
    )


@app.command("demo")
def demo_command(
    data_dir: Annotated[Path, typer.Option(help="Demo data (recreated).")] = Path(".reclaim-demo"),
    creditors: Annotated[int, typer.Option(help="Demo creditors.", min=1)] = 2000,
    claims: Annotated[int, typer.Option(help="Claims of the demo register.", min=10)] = 3000,
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
    console.print(
        f"appended {len(outcomes) - len(refused):,} signed events in {elapsed:.2f} s "
        f"({len(refused)} refused by the core); log size {container.log.size:,}"
    )
    started = time.perf_counter()
    programme = run_programme(container, data_dir, console, claims=claims, seed=2022_11_11)
    container.log.publish_checkpoint()
    console.print(
        f"programme: {programme.claims:,} claims, {programme.onboarded:,} holders onboarded, "
        f"{programme.rounds} rounds, {programme.lines:,} lines (paid "
        f"{usd(programme.paid_usd_minor)}, escrowed "
        f"{usd(programme.escrowed_usd_minor)}), {programme.released} escrow released, "
        f"{programme.forfeited} forfeited, {programme.withdrawals} SEPA withdrawals, "
        f"in {time.perf_counter() - started:.1f} s; "
        f"log size {container.log.size:,}"
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
        f"  .venv/bin/reclaim distribute status --data-dir {data_dir}   the FTX rounds\n"
        f"  cat {data_dir}/rounds/ftx-4/report.md   a round's report (lines.csv beside it)\n"
        f"  ls {data_dir}/withdrawals/   the SEPA batch (ISO 20022 pain.001) the bank was sent\n"
    )
    if serve_api:
        _serve(container, "127.0.0.1", port)
    else:
        container.close()


# Proof of liabilities ------------------------------------------------------------------------


@liabilities_app.command("snapshot")
def liabilities_snapshot(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Publish a checkpoint and sign a liabilities snapshot at it: a root and total per asset."""
    container = _container(_settings(data_dir, database_url))
    try:
        snapshot = container.liabilities.snapshot()
    except LiabilityInputError as exc:
        err.print(f"[bold red]refused[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        container.close()
    statement = snapshot.statement
    sys.stdout.write(snapshot.statement_note)
    table = Table("asset", "total owed", "minor units", "creditors")
    for line in statement.assets:
        known = asset_of(line.asset)
        total = format_amount(line.total, known) if known is not None else str(line.total)
        table.add_row(line.asset, total, str(line.total), str(line.leaf_count))
    console.print(table)
    console.print(
        f"snapshot {statement.snapshot_id} at checkpoint {statement.checkpoint_size}: "
        f"{len(statement.assets)} asset(s); serve proofs with `reclaim serve`",
        soft_wrap=True,
    )


@liabilities_app.command("proof")
def liabilities_proof(
    account: Annotated[str, typer.Option(help="The creditor: the owner of the accounts.")],
    asset: Annotated[str, typer.Option(help="The asset, e.g. USD.")],
    out: Annotated[Path | None, typer.Option(help="Write the proof here (else stdout).")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export one creditor's proof from the latest snapshot (for `reclaim verify-liabilities`)."""
    container = _container(_settings(data_dir, database_url))
    try:
        proof = container.liabilities.proof(account, asset)
    except (NoSnapshotError, LiabilityNotFoundError) as exc:
        err.print(f"[red]no proof:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        container.close()
    data = proof_to_json(proof)
    if out is None:
        sys.stdout.write(data.decode() + "\n")
    else:
        out.write_bytes(data)


@app.command("verify-liabilities")
def verify_liabilities(
    proof: Annotated[
        Path,
        typer.Argument(
            help="A proof file (GET /liabilities/proof, or `reclaim liabilities proof`).",
            exists=True,
            dir_okay=False,
        ),
    ],
    log_key: Annotated[
        str | None,
        typer.Option(help="The log's verifier key you trust (else the --checkpoint server's)."),
    ] = None,
    checkpoint: Annotated[
        str | None,
        typer.Option(
            help="The published checkpoint: a note file, an exported log, or a server URL."
        ),
    ] = None,
) -> None:
    """Check a proof of liabilities offline: the signature, the path, the sums, and that the
    statement names a checkpoint the log published."""
    source = open_checkpoints(checkpoint) if checkpoint else None
    try:
        key = _liabilities_key(log_key, source)
        verified = verify_liability_proof(proof.read_bytes(), key, source)
    except (LiabilityProofError, CheckpointError, SourceError) as exc:
        kind = getattr(exc, "kind", None) or getattr(exc, "reason", None)
        label = f" {kind}:" if kind else ""
        err.print(f"[bold red]FAILED[/]{label} {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        if isinstance(source, ServerCheckpoints):
            source.close()
    v = verified
    console.print(
        f"[bold green]OK[/] {escape(v.account_id)}: {v.balance} {v.asset} (minor units) is "
        f"leaf {v.leaf_index} of {v.leaf_count} in the signed {v.asset} total {v.total} of "
        f"snapshot {v.snapshot_id}",
        soft_wrap=True,
    )
    named = f"checkpoint {v.origin} {v.checkpoint_size} {_b64(v.checkpoint_root)}"
    if v.checkpoint_checked:
        assert source is not None
        console.print(
            f"[green]checked[/] the statement names {named}, as published by {escape(source.name)}",
            soft_wrap=True,
        )
    else:
        console.print(
            f"[bold yellow]NOT CHECKED[/] the statement names {named}; the checkpoint link "
            "was not checked: give --checkpoint FILE|URL to check it was published",
            soft_wrap=True,
        )


def _liabilities_key(
    text: str | None, source: CheckpointFile | ExportedCheckpoints | ServerCheckpoints | None
) -> VerifierKey:
    if text is not None:
        return _parse_vkey(text)
    if isinstance(source, ServerCheckpoints):
        published = source.log_key()
        err.print(f"using the log key {escape(source.name)} publishes: {published}", soft_wrap=True)
        return _parse_vkey(published)
    err.print("[red]give --log-key (the log's verifier key), or a --checkpoint server URL[/]")
    raise typer.Exit(2)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _parse_vkey(text: str) -> VerifierKey:
    try:
        return VerifierKey.parse(text)
    except KeyFormatError as exc:
        err.print(f"[red]not a verifier key:[/] {exc}")
        raise typer.Exit(2) from exc


def main() -> None:
    bootstrap.tune_garbage_collector()
    app()
