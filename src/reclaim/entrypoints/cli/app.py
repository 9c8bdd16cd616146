"""The ``reclaim`` command line: the root Typer app, with every command group mounted.

One module per group, each parsing, calling the application (through ``bootstrap``'s
container) and rendering, with no logic of its own: ``log`` (keys, checkpoints, export, verify,
proofs, serve, mail), ``liabilities``, ``claims`` (estates, import, policy, report),
``distribute`` (rounds, FX, escrow), ``withdrawals``, ``notes`` (series, conversions,
pass-through), ``market`` (list, open, halt, book, trades) and ``demo``; ``common`` holds what
they share. The order below is the order ``reclaim --help`` lists them in.

Exit codes: 0 success; 1 a verification or proof check failed, or a refusal (the report says
which); 2 bad usage or settings (Typer's own, and ours).
"""

from __future__ import annotations

import typer

from reclaim import bootstrap
from reclaim.entrypoints.cli import (
    claims,
    demo,
    distribute,
    liabilities,
    log,
    market,
    notes,
    withdrawals,
)

app = typer.Typer(
    name="reclaim",
    help="A verifiable recovery programme for the creditors of a failed crypto exchange.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(log.keys_app, name="keys")
app.add_typer(liabilities.liabilities_app, name="liabilities")
app.add_typer(log.mail_app, name="mail")
app.add_typer(claims.estate_app, name="estate", no_args_is_help=True)
app.add_typer(claims.policy_app, name="policy", no_args_is_help=True)
app.command("import-claims")(claims.import_claims)
app.command("report")(claims.report)
app.add_typer(distribute.distribute_app, name="distribute", no_args_is_help=True)
app.add_typer(distribute.fx_app, name="fx", no_args_is_help=True)
app.add_typer(distribute.escrow_app, name="escrow", no_args_is_help=True)
app.add_typer(withdrawals.withdrawals_app, name="withdrawals")
app.add_typer(notes.notes_app, name="notes")
app.add_typer(market.market_app, name="market")
app.command()(log.checkpoint)
app.command("export-log")(log.export_log_command)
app.command()(log.verify)
app.command()(log.prove)
app.command("check-proof")(log.check_proof)
app.command()(log.serve)
app.command("demo")(demo.demo_command)
app.command("verify-liabilities")(liabilities.verify_liabilities)


def main() -> None:
    """The console script ``reclaim`` and ``python -m reclaim``."""
    bootstrap.tune_garbage_collector()
    app()
