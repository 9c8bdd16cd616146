"""``reclaim demo``: keys, a SQLite log of signed events (``reclaim.demo``), checkpoints, export,
verify, then serve. Exit code 1 if the exported log does not verify."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from reclaim import bootstrap
from reclaim.demo import run
from reclaim.demo.logins import give_logins
from reclaim.entrypoints.cli.common import console, err, progress, settings
from reclaim.entrypoints.cli.log import export_with_progress, serve_container
from reclaim.verifier import VerifyFailure, verify_log


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
    chosen = settings(data_dir, None).with_data_dir(data_dir)
    bootstrap.init_keys(chosen)
    container = bootstrap.build(chosen)
    run.populate(container, data_dir, console, progress, creditors=creditors, claims=claims)
    public = data_dir / "public-log"
    summary = export_with_progress(container, public)
    console.print(
        f"exported {summary.events:,} events, {summary.checkpoints} checkpoints → {public}"
    )
    outcome = verify_log(bootstrap.open_log_source(str(public)))
    if isinstance(outcome, VerifyFailure):
        err.print(f"[bold red]verify FAILED[/] {outcome}")
        raise typer.Exit(1)
    console.print(f"[bold green]reclaim verify {public}: OK[/] {outcome}")
    base = f"http://127.0.0.1:{port}"
    logins = give_logins(container)
    console.print(
        "\nNext:\n"
        f"  open {base}/docs                 the API (OpenAPI)\n"
        f"  curl {base}/log/checkpoint       the latest signed checkpoint\n"
        f"  .venv/bin/reclaim verify {base}  verify the live log over HTTP\n"
        f"  .venv/bin/reclaim prove --seq 42 --data-dir {data_dir}   an inclusion proof\n"
        f"  .venv/bin/reclaim distribute status --data-dir {data_dir}   the FTX rounds\n"
        f"  cat {data_dir}/rounds/ftx-4/report.md   a round's report (lines.csv beside it)\n"
        f"  ls {data_dir}/withdrawals/   the SEPA batch (ISO 20022 pain.001) the bank was sent\n"
        f"  curl {base}/api/v1/markets   the bond market (Backpack API; bpx-py and the SDK work)\n"
        f"  curl '{base}/api/v1/depth?symbol=FTX5A_USD'   its book; /api/v1/trades, /ticker\n"
        f"  .venv/bin/reclaim market book FTX5A_USD --data-dir {data_dir}   the operator's view\n"
        f"  .venv/bin/reclaim notes series --data-dir {data_dir}   series, record and ex-dates\n"
        f"  .venv/bin/reclaim notes holders FTX5A --data-dir {data_dir}   who holds the notes\n"
        f"  ls {data_dir}/forms/   each conversion's Form 2100A (evidence of transfer)\n"
        f"  open {base}/   the web portal (中文 / English / Français) and its transparency page\n"
    )
    if logins:
        console.print("Demo web logins (demo passwords; the portal at " + base + "):")
        for login in logins:
            where = f"{base}{login.path}"
            line = f"  {login.role:<12} {where:<38} {login.login}  {login.password}"
            console.print(line, soft_wrap=True)
        console.print(
            f"  creditors sign up at {base}/signup with a claim's e-mail; the code is mailed "
            "(reclaim mail deliver, RECLAIM_SMTP_HOST)",
            soft_wrap=True,
        )
    if serve_api:
        serve_container(container, "127.0.0.1", port)
    else:
        container.close()
