"""The operator's recovery-note commands: ``reclaim notes ...``. Parse, call, render.

| command                                | what it does                                        |
| -------------------------------------- | --------------------------------------------------- |
| ``series``                             | every series: supply, conversions, passed through,  |
|                                        | next record date, last transfer date, ex-date       |
| ``series NAME --estate E --class C``   | define a series (and register its holding entity)   |
| ``convert CLAIM --series S --creditor``| the creditor assigns the claim: notes minted, the   |
|                                        | transfer recorded, Form 2100A written as a PDF      |
| ``holders SERIES``                     | note holders now, at ``--at SEQ`` or a record date  |
| ``pass-through SERIES --round R``      | what the round paid the series, split over holders  |

Signers (``app.notes``): the admin defines series and records transfers, the gateway converts
for the creditor, the treasury passes through. The holding entity's key file is
``<keys dir>/<name>.key``, made on first use (``bootstrap.holding_entity_key``).

Exit codes: 0 done; 1 refused (the code and sentence); 2 bad usage, settings or keys.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.table import Table

from reclaim import bootstrap
from reclaim.adapters.files import form2100a
from reclaim.app.notes import SIGNATURE_CAPACITIES, NotesService
from reclaim.app.refusals import Refused
from reclaim.core.notes import Series
from reclaim.entrypoints.cli.common import (
    AsJson,
    DatabaseUrl,
    DataDir,
    answered,
    console,
    err,
    money,
    settings,
    started,
    usd,
)

notes_app = typer.Typer(help="Recovery notes: series, conversions, holders, pass-through.",
                        no_args_is_help=True)  # fmt: skip
HOLDING_ENTITY: Final = "programme"
#: The case caption of the Form 2100A of each estate the programme ships.
CAPTIONS: Final = {
    "ftx": form2100a.Caption("United States Bankruptcy Court for the District of Delaware",
                             "FTX Trading Ltd., et al.", "22-11068 (JTD)"),
}  # fmt: skip


def _service(data_dir: DataDir, database_url: DatabaseUrl) -> AbstractContextManager[NotesService]:
    return started(data_dir, database_url, bootstrap.Container.notes)


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


@notes_app.command("series")
def series(
    name: Annotated[str | None, typer.Argument(help="Define this series (e.g. FTX5A).")] = None,
    estate: Annotated[str, typer.Option(help="The estate of the series' claims.")] = "ftx",
    claim_class: Annotated[str | None, typer.Option("--class", help="The claim class.")] = None,
    holding_entity: Annotated[str, typer.Option(help="Holder of record.")] = HOLDING_ENTITY,
    entitlement: Annotated[str | None, typer.Option(help="The holder's entitlement.")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List the series; with NAME and --class, define that series first."""
    if (name is None) != (claim_class is None):
        err.print("[red]give NAME and --class together to define a series[/]")
        raise typer.Exit(2)
    chosen = settings(data_dir, database_url)
    with _service(data_dir, database_url) as service:
        if name is not None and claim_class is not None:
            text = entitlement or (
                f"Every distribution the holding entity receives for a class {claim_class} "
                f"claim of the {estate} estate, pro rata to notes held at its record date"
            )
            terms = Series(name, estate, claim_class, holding_entity, text)
            key = bootstrap.holding_entity_key(chosen, holding_entity)
            answer = service.define(terms, key)
            answer = answered(answer)
            console.print(f"{name}: defined" if answer is not None else f"{name}: defined already")
        views = service.series(_today())
    rows = [
        {"series": v.series.series, "estate": v.series.estate, "class": v.series.claim_class,
         "holding_entity": v.series.holding_entity, "notes": str(v.minted_notes),
         "face": usd(v.minted_notes), "conversions": v.conversions,
         "passed_through": money(v.passed_minor, "USD"),
         "record_date": v.calendar.record_date, "last_transfer_date":
         v.calendar.last_transfer_date, "ex_date": v.calendar.ex_date}
        for v in views
    ]  # fmt: skip
    if as_json:
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print("no series (reclaim notes series NAME --class C)")
        return
    table = Table("series", "class", "holding entity", "face issued", "claims", "passed through",
                  "next record", "last transfer", "ex-date")  # fmt: skip
    for r in rows:
        table.add_row(str(r["series"]), f"{r['estate']} {r['class']}", str(r["holding_entity"]),
                      str(r["face"]), str(r["conversions"]), usd(r["passed_through"]),
                      str(r["record_date"] or ""), str(r["last_transfer_date"] or ""),
                      str(r["ex_date"] or ""))  # fmt: skip
    console.print(table)


@notes_app.command("convert")
def convert(
    claim_id: Annotated[str, typer.Argument(help="The claim to assign.")],
    series_name: Annotated[str, typer.Option("--series", help="e.g. FTX5A.")],
    creditor: Annotated[str, typer.Option(help="The claim's linked creditor.")],
    date: Annotated[str | None, typer.Option(help="Transfer date, YYYY-MM-DD; today.")] = None,
    out: Annotated[Path, typer.Option(help="Directory of the Form 2100A PDF.")] = Path("."),
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """A creditor assigns a claim to the holding entity: notes minted, the transfer recorded,
    the evidence written as Form 2100A (PDF)."""
    with _service(data_dir, database_url) as service:
        answer = service.convert(series_name, claim_id, creditor, date or _today())
    answer = answered(answer)
    e = answer.evidence
    caption = CAPTIONS.get(e.estate, form2100a.Caption("United States Bankruptcy Court",
                                                        e.estate, ""))  # fmt: skip
    signatures = [
        form2100a.signature_of(answer.signatures[0], SIGNATURE_CAPACITIES[0]),
        form2100a.signature_of(answer.signatures[1], SIGNATURE_CAPACITIES[1]),
    ]
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"form-2100a-{e.claim_id}.pdf"
    path.write_bytes(form2100a.render(e, caption, signatures))
    console.print(
        f"{e.claim_id}: {answer.notes:,} NOTE-{series_name} ({usd(e.amount_minor)} of face) to "
        f"{e.transferor}; holder of record {e.transferee} (event {answer.seq:,}, recorded "
        f"{answer.assigned_seq:,}); evidence {answer.evidence_sha256[:16]}… → {path}"
    )


@notes_app.command("holders")
def holders(
    series_name: Annotated[str, typer.Argument(help="The series, e.g. FTX5A.")],
    at: Annotated[int | None, typer.Option(help="At this log position.")] = None,
    record_date: Annotated[str | None, typer.Option(help="At the last event of this date.")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Note holders of a series (notes locked in resting orders included): now, at a log
    position, or at a record date."""
    if at is not None and record_date is not None:
        err.print("[red]give --at or --record-date, not both[/]")
        raise typer.Exit(2)
    with _service(data_dir, database_url) as service:
        position: int | Refused = service.log.size - 1 if at is None else at
        if record_date is not None:
            position = service.record_position(record_date)
        position = answered(position)
        found = service.holders(series_name, position)
    found = answered(found)
    total = sum(found.values())
    rows = [{"holder": h, "notes": str(n), "face": usd(n)} for h, n in found.items()]
    if as_json:
        console.print_json(json.dumps({"series": series_name, "at": position, "holders": rows}))
        return
    table = Table("holder", "notes", "face", title=f"{series_name} at log position {position:,}")
    for r in rows:
        table.add_row(r["holder"], f"{int(r['notes']):,}", r["face"])
    table.add_row("total", f"{total:,}", usd(total), style="bold")
    console.print(table)


@notes_app.command("pass-through")
def pass_through(
    series_name: Annotated[str, typer.Argument(help="The series, e.g. FTX5A.")],
    round_id: Annotated[str, typer.Option("--round", help="The completed round.")],
    record_seq: Annotated[int | None, typer.Option(help="Record position (default: the last "
                                                  "event of the round's record date).")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:  # fmt: skip
    """Pass what a round paid the holding entity for a series through to the note holders at
    its record date (signed by the treasury)."""
    with _service(data_dir, database_url) as service:
        answer = service.pass_through(series_name, round_id, record_seq)
    answer = answered(answer)
    rows = [{"holder": h, "usd": money(c, "USD")} for h, c in answer.allocation]
    if as_json:
        console.print_json(json.dumps({
            "series": series_name, "round": round_id, "seq": answer.seq,
            "record_sequence": answer.record_sequence, "record_date": answer.record_date,
            "amount": money(answer.amount_minor, "USD"), "allocation": rows,
        }))  # fmt: skip
        return
    state = "passed through" if answer.seq is not None else "passed through already"
    console.print(f"{series_name} {round_id}: {usd(answer.amount_minor)} {state} at record "
                  f"position {answer.record_sequence:,} ({answer.record_date})")  # fmt: skip
    table = Table("holder", "USD")
    for r in rows:
        table.add_row(r["holder"], r["usd"])
    console.print(table)
