"""Proof of liabilities: ``reclaim liabilities snapshot``, ``reclaim liabilities proof`` and
``reclaim verify-liabilities`` (a creditor's offline check). Parse, call, render.

Exit codes: 0 done (for ``verify-liabilities``: the proof checks); 1 refused, no proof, or a
check that failed (the report says which); 2 bad usage.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reclaim import bootstrap
from reclaim.app.liabilities import CheckpointSource, NoSnapshotError, verify_liability_proof
from reclaim.core.money import asset_of, format_amount
from reclaim.entrypoints.cli.common import (
    DatabaseUrl,
    DataDir,
    console,
    err,
    open_container,
    proof_of,
)
from reclaim.entrypoints.cli.log import parse_vkey
from reclaim.log.checkpoint import CheckpointError
from reclaim.log.keys import VerifierKey
from reclaim.log.liabilities.errors import (
    LiabilityInputError,
    LiabilityNotFoundError,
    LiabilityProofError,
)
from reclaim.log.liabilities.proof import proof_to_json
from reclaim.verifier import SourceError

liabilities_app = typer.Typer(
    help="Proof of liabilities: signed snapshots and creditors' proofs.", no_args_is_help=True
)


@liabilities_app.command("snapshot")
def liabilities_snapshot(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Publish a checkpoint and sign a liabilities snapshot at it: a root and total per asset."""
    opened = open_container(data_dir, database_url)
    try:
        snapshot = opened.liabilities.snapshot()
    except LiabilityInputError as exc:
        err.print(f"[bold red]refused[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        opened.close()
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
    proof = proof_of(data_dir, database_url, lambda c: c.liabilities.proof(account, asset),
                     (NoSnapshotError, LiabilityNotFoundError))  # fmt: skip
    data = proof_to_json(proof)
    if out is None:
        sys.stdout.write(data.decode() + "\n")
    else:
        out.write_bytes(data)


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
    source = bootstrap.open_checkpoints(checkpoint) if checkpoint else None
    try:
        key = _liabilities_key(log_key, source)
        verified = verify_liability_proof(proof.read_bytes(), key, source)
    except (LiabilityProofError, CheckpointError, SourceError) as exc:
        kind = getattr(exc, "kind", None) or getattr(exc, "reason", None)
        label = f" {kind}:" if kind else ""
        err.print(f"[bold red]FAILED[/]{label} {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        if source is not None:
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


def _liabilities_key(text: str | None, source: CheckpointSource | None) -> VerifierKey:
    if text is not None:
        return parse_vkey(text)
    published = None if source is None else source.log_key()
    if source is not None and published is not None:
        err.print(f"using the log key {escape(source.name)} publishes: {published}", soft_wrap=True)
        return parse_vkey(published)
    err.print("[red]give --log-key (the log's verifier key), or a --checkpoint server URL[/]")
    raise typer.Exit(2)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
