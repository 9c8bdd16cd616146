"""The operator's withdrawal commands: ``reclaim withdrawals ...``. Parse, call, render.

| command                                  | what it does                                       |
| ---------------------------------------- | -------------------------------------------------- |
| ``set-fees FILE`` / ``set-fees --ftx-eu``| set rails' terms from a TOML file (signed: admin)  |
| ``request``                              | a withdrawal for a creditor (signed: the gateway)  |
| ``destination-add``                      | a creditor's new destination; mails its code       |
| ``destination-confirm ID CODE``          | confirm it with the code the creditor received     |
| ``destinations``                         | a creditor's destinations and their status         |
| ``destination-remove ID``                | no new withdrawal to it (signed: the admin)        |
| ``list``                                 | withdrawals, newest first                          |
| ``export-sepa --out DIR``                | one pain.001 batch file of the waiting SEPA ones   |
| ``reconcile STATEMENT``                  | match a camt.053 or CSV statement; confirm / fail  |
| ``confirm ID REFERENCE``, ``fail ID REASON`` | settle one by hand (signed: treasury)          |
| ``sweep``                                | expire reservations past their deadline           |

Rail settings come from options or the environment (``reclaim.config.Settings``, which reads
them once; the options override them): the SEPA debtor account (``RECLAIM_SEPA_DEBTOR_NAME``,
``..._IBAN``, ``..._BIC``), the USDC allow-list (a file of EIP-55 addresses, one a line:
``RECLAIM_USDC_ALLOW_LIST``). Exported ids are recorded in
``<data dir>/withdrawal-batches.json`` so no withdrawal is exported twice.

Destinations (issue 9, finding 7): an operator's ``request`` follows the same rule as the API —
the destination must be the creditor's, confirmed with the code mailed to the creditor's proved
address, and past its cooling-off (``RECLAIM_DESTINATION_COOLING_OFF_SECONDS``). The operator
can add one for a creditor, but only the creditor's mailbox has the code: the creditor reads it
to the operator (on a call the operator placed to the number on file), or confirms it in the
API. The code e-mail is sent by ``reclaim serve``'s delivery loop (the outbox is durable).

Exit codes: 0 done; 1 refused (a bad file, a core refusal) or, for ``reconcile``, statement lines
that need a person (an amount mismatch, an unknown reference, a duplicate, an unexpected
state — all listed); 2 bad usage, settings or keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.markup import escape
from rich.table import Table

from reclaim import bootstrap
from reclaim.adapters.files.fee_file import FeeFileError, load_fee_file, shipped_fee_file
from reclaim.adapters.files.statements import StatementError, read_statement
from reclaim.app.withdrawal_ports import RailFileError
from reclaim.app.withdrawals import Refused, Settled, WithdrawalService
from reclaim.config import Settings, SettingsError
from reclaim.core.money import AmountError, asset_of, format_amount, parse_amount
from reclaim.core.withdrawals import RAIL_ASSETS
from reclaim.core.withdrawals.reconcile import ALREADY_SETTLED, MATCHED, RETURNED
from reclaim.entrypoints.cli.common import (
    AsJson,
    DatabaseUrl,
    DataDir,
    Row,
    answered,
    console,
    container,
    err,
    exactly_one,
    money,
    print_rows,
    problems_exit,
    settings,
)

withdrawals_app = typer.Typer(
    help="Withdrawals: fees, requests, SEPA batch files, statements.", no_args_is_help=True
)
BATCH_BOOK: Final = "withdrawal-batches.json"
#: Answers of ``reconcile`` that need nobody.
SETTLED_KINDS: Final = frozenset({MATCHED, RETURNED, ALREADY_SETTLED})

#: The rail options' help names the variables ``Settings`` reads (Typer does not read them).
DebtorName = Annotated[str | None, typer.Option(help=r"\[env var: RECLAIM_SEPA_DEBTOR_NAME]")]
DebtorIban = Annotated[str | None, typer.Option(help=r"\[env var: RECLAIM_SEPA_DEBTOR_IBAN]")]
DebtorBic = Annotated[str | None, typer.Option(help=r"\[env var: RECLAIM_SEPA_DEBTOR_BIC]")]
AllowList = Annotated[
    Path | None,
    typer.Option(exists=True, dir_okay=False,
                 help="EIP-55 addresses USDC may go to, one a line. "
                 r"\[env var: RECLAIM_USDC_ALLOW_LIST]"),
]  # fmt: skip


@contextmanager
def _service(chosen: Settings) -> Iterator[WithdrawalService]:
    """The container's withdrawal service (rails from ``chosen``), its log started; closed
    after. Exit 2 if the log or the vault cannot be opened, or the allow-list read."""
    opened = container(chosen, hint=False)
    try:
        service = opened.withdrawals()
        opened.log.start()
        yield service
    except bootstrap.BootstrapError as exc:
        err.print(f"[red]cannot open the vault:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except SettingsError as exc:
        err.print(f"[red]settings:[/] {exc}")
        raise typer.Exit(2) from exc
    finally:
        opened.close()


@withdrawals_app.command("set-fees")
def set_fees(
    file: Annotated[Path | None, typer.Argument(exists=True, dir_okay=False)] = None,
    ftx_eu: Annotated[bool, typer.Option("--ftx-eu", help="The shipped FTX EU terms.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Set rails' terms (fee schedule, minimum, timeout, accounts) from a TOML file."""
    exactly_one(file, ftx_eu, "FILE and --ftx-eu")
    try:
        terms = shipped_fee_file() if file is None else load_fee_file(file)
    except FeeFileError as exc:
        raise problems_exit(exc.problems) from exc
    with _service(settings(data_dir, database_url)) as service:
        answer = service.set_terms(terms)
    answer = answered(answer)
    for t, code in zip(terms, answer, strict=True):
        console.print(f"{t.rail}: {'set' if code == 'ok' else 'unchanged (the same terms)'}")


@withdrawals_app.command("request")
def request(
    creditor: Annotated[str, typer.Option(help="The creditor actor.")],
    rail: Annotated[str, typer.Option(help=f"One of {', '.join(sorted(RAIL_ASSETS))}.")],
    amount: Annotated[str, typer.Option(help="In the rail's asset, e.g. 2500.00.")],
    iban: Annotated[str | None, typer.Option(help="sepa: the IBAN.")] = None,
    account: Annotated[str | None, typer.Option(help="hk_wire: the account number.")] = None,
    address: Annotated[str | None, typer.Option(help="usdc: the EIP-55 address.")] = None,
    bic: Annotated[str | None, typer.Option(help="The beneficiary bank's BIC.")] = None,
    client_id: Annotated[str | None, typer.Option(help="An idempotency key.")] = None,
    destination_id: Annotated[
        str | None,
        typer.Option(
            "--destination", help="One of the creditor's destinations, instead of the account."
        ),
    ] = None,
    allow_list: AllowList = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Request a withdrawal for a creditor (signed by the portal gateway) to one of its
    confirmed destinations past their cooling-off."""
    asset = asset_of(RAIL_ASSETS.get(rail, ""))
    if asset is None:
        err.print(f"[red]--rail must be one of {sorted(RAIL_ASSETS)}[/]")
        raise typer.Exit(2)
    try:
        amount_minor = parse_amount(amount, asset)
    except AmountError as exc:
        err.print(f"[red]--amount:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    destination = _destination(iban, account, address, bic)
    if destination_id is not None and destination:
        err.print("[red]give --destination or the account, not both[/]")
        raise typer.Exit(2)
    with _service(settings(data_dir, database_url, usdc_allow_list=allow_list)) as service:
        answer = service.request(creditor, rail, amount_minor, destination, client_id=client_id,
                                 destination_id=destination_id)  # fmt: skip
    answer = answered(answer)
    fee = format_amount(answer.fee_minor, asset)
    state = "requested" if answer.seq is not None else "requested already"
    console.print(f"{answer.withdrawal_id}: {state}, {amount} + fee {fee} {asset.code} reserved")


def _destination(
    iban: str | None, account: str | None, address: str | None, bic: str | None
) -> dict[str, str]:
    given = {"iban": iban, "account": account, "address": address, "bic": bic}
    return {k: v for k, v in given.items() if v is not None}


Creditor = Annotated[str, typer.Option(help="The creditor actor.")]


@withdrawals_app.command("destination-add")
def destination_add(
    creditor: Creditor,
    rail: Annotated[str, typer.Option(help=f"One of {', '.join(sorted(RAIL_ASSETS))}.")],
    iban: Annotated[str | None, typer.Option(help="sepa: the IBAN.")] = None,
    account: Annotated[str | None, typer.Option(help="hk_wire: the account number.")] = None,
    address: Annotated[str | None, typer.Option(help="usdc: the EIP-55 address.")] = None,
    bic: Annotated[str | None, typer.Option(help="The beneficiary bank's BIC.")] = None,
    allow_list: AllowList = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a withdrawal destination for a creditor; its code is mailed to the creditor."""
    fields = _destination(iban, account, address, bic)
    with _service(settings(data_dir, database_url, usdc_allow_list=allow_list)) as service:
        answer = service.add_destination(creditor, rail, fields)
    answer = answered(answer)
    v = answer.view
    mailed = "a code is mailed to the creditor" if answer.mailed else "confirmed already"
    console.print(f"{v.id}: {v.status} ({escape(v.destination)}); {mailed}")


@withdrawals_app.command("destination-confirm")
def destination_confirm(
    destination_id: str,
    code: Annotated[str, typer.Argument(help="The code from the creditor's e-mail.")],
    creditor: Creditor,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Confirm a creditor's destination with the code the creditor received."""
    with _service(settings(data_dir, database_url)) as service:
        answer = service.confirm_destination(creditor, destination_id, code)
    answer = answered(answer)
    console.print(f"{answer.id}: {answer.status}, usable from {answer.usable_from}")


@withdrawals_app.command("destinations")
def list_destinations(
    creditor: Creditor, as_json: AsJson = False, data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:  # fmt: skip
    """A creditor's withdrawal destinations, oldest first."""
    with _service(settings(data_dir, database_url)) as service:
        views = service.destinations(creditor)
    rows = [
        {"id": v.id, "rail": v.rail, "to": v.destination, "status": v.status,
         "added_at": v.added_at, "usable_from": v.usable_from, "removed_at": v.removed_at}
        for v in views
    ]  # fmt: skip

    def table(rows: Sequence[Row]) -> Table:
        grid = Table("id", "rail", "to", "status", "added", "usable from")
        for r in rows:
            grid.add_row(r["id"], r["rail"], escape(r["to"]), r["status"], r["added_at"][:19],
                          r["usable_from"][:19])  # fmt: skip
        return grid

    print_rows(rows, as_json, "no destinations", table)


@withdrawals_app.command("destination-remove")
def destination_remove(
    destination_id: str, creditor: Creditor, data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:  # fmt: skip
    """Remove a creditor's destination (signed by the admin): no new withdrawal goes to it."""
    with _service(settings(data_dir, database_url)) as service:
        answer = service.remove_destination(creditor, destination_id, by=service.rules.admin)
    answer = answered(answer)
    console.print(f"{answer.id}: {answer.status}")


@withdrawals_app.command("list")
def list_withdrawals(
    creditor: Annotated[str | None, typer.Option(help="Only this creditor's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Withdrawals, newest first, with their status (expiry read from the ledger)."""
    with _service(settings(data_dir, database_url)) as service:
        views = service.views(creditor, limit=limit)
    rows = [
        {
            "id": v.id, "creditor": v.creditor, "rail": v.rail, "asset": v.asset,
            "amount": money(v.amount_minor, v.asset), "fee": money(v.fee_minor, v.asset),
            "status": v.status, "requested_at": v.requested_at, "expires_at": v.expires_at,
            "rail_reference": v.rail_reference, "reason": v.reason, "to": v.destination,
        }
        for v in views
    ]  # fmt: skip

    def table(rows: Sequence[Row]) -> Table:
        grid = Table("id", "creditor", "rail", "amount", "fee", "status", "requested", "to")
        for r in rows:
            grid.add_row(r["id"], r["creditor"], r["rail"], f"{r['amount']} {r['asset']}",
                          r["fee"], r["status"], r["requested_at"][:19],
                          escape(r["to"]))  # fmt: skip
        return grid

    print_rows(rows, as_json, "no withdrawals", table)


@withdrawals_app.command("export-sepa")
def export_sepa(
    out: Annotated[Path, typer.Option(help="Directory to write the pain.001 file to.")],
    debtor_name: DebtorName = None,
    debtor_iban: DebtorIban = None,
    debtor_bic: DebtorBic = None,
    execution_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD; tomorrow.")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Write one ISO 20022 pain.001 file of the SEPA withdrawals waiting to be sent."""
    chosen = settings(data_dir, database_url, sepa_debtor_name=debtor_name,
                      sepa_debtor_iban=debtor_iban, sepa_debtor_bic=debtor_bic)  # fmt: skip
    if not (chosen.sepa_debtor_name and chosen.sepa_debtor_iban and chosen.sepa_debtor_bic):
        err.print("[red]the SEPA debtor account is needed: --debtor-name --debtor-iban "
                  "--debtor-bic (or RECLAIM_SEPA_DEBTOR_*)[/]")  # fmt: skip
        raise typer.Exit(2)
    try:
        when = date.fromisoformat(execution_date) if execution_date else _tomorrow()
        with _service(chosen) as service:
            made = service.export_batch("sepa", when)
    except ValueError as exc:  # schwifty's errors and fromisoformat's are ValueErrors
        err.print(f"[red]bad debtor account or date:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except RailFileError as exc:
        err.print(f"[bold red]refused[/] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    if isinstance(made, Refused):
        console.print(made.detail)
        return
    out.mkdir(parents=True, exist_ok=True)
    path = out / made.filename
    path.write_bytes(made.content)
    total = money(made.total_minor, "EUR")
    console.print(f"wrote {path}: {made.count} payments, {total} EUR, execution {when}")


@withdrawals_app.command("reconcile")
def reconcile_statement(
    statement: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Match a bank statement (camt.053 or CSV) to withdrawals by reference; confirm the paid,
    fail the returned, list every other line for a person."""
    try:
        lines = read_statement(statement)
    except StatementError as exc:
        raise problems_exit(exc.problems) from exc
    with _service(settings(data_dir, database_url)) as service:
        done = service.reconcile(lines)
    rows: list[dict[str, str]] = []
    for applied in done.lines:
        m = applied.match
        outcome = applied.outcome
        action = "" if outcome is None else (
            f"refused {outcome.name}" if isinstance(outcome, Refused) else outcome.status
        )  # fmt: skip
        rows.append({
            "line": str(m.line.line), "kind": m.kind, "withdrawal": m.withdrawal_id,
            "reference": m.line.reference, "amount": money(m.line.amount_minor, m.line.currency),
            "currency": m.line.currency, "direction": m.line.direction, "action": action,
            "detail": m.detail,
        })  # fmt: skip
    if as_json:
        console.print_json(json.dumps(rows))
    else:
        table = Table("line", "kind", "withdrawal", "reference", "amount", "action", "detail")
        for r in rows:
            sign = "-" if r["direction"] == "debit" else "+"
            table.add_row(r["line"], r["kind"], r["withdrawal"], escape(r["reference"]),
                          f"{sign}{r['amount']} {r['currency']}", r["action"],
                          escape(r["detail"]))  # fmt: skip
        console.print(table)
    attention = [r for r in rows if r["kind"] not in SETTLED_KINDS]
    refusals = [a for a in done.lines if isinstance(a.outcome, Refused)]
    if attention or refusals:
        err.print(f"{len(attention) + len(refusals)} line(s) need a person")
        raise typer.Exit(1)


@withdrawals_app.command("confirm")
def confirm(
    withdrawal_id: str, rail_reference: str, data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:  # fmt: skip
    """Record that the rail paid a withdrawal (posts the reservation)."""
    _settled(withdrawal_id, "confirmed",
             lambda service: service.confirm(withdrawal_id, rail_reference),
             data_dir, database_url)  # fmt: skip


@withdrawals_app.command("fail")
def fail(
    withdrawal_id: str, reason: str, data_dir: DataDir = None, database_url: DatabaseUrl = None
) -> None:
    """Record that the rail did not pay (voids the reservation: the funds are back)."""
    _settled(withdrawal_id, "failed", lambda service: service.fail(withdrawal_id, reason),
             data_dir, database_url)  # fmt: skip


def _settled(
    withdrawal_id: str, outcome: str, settle: Callable[[WithdrawalService], Settled | Refused],
    data_dir: Path | None, database_url: str | None,
) -> None:  # fmt: skip
    """Record what the rail did with a withdrawal; print it (`` already``: recorded before)."""
    with _service(settings(data_dir, database_url)) as service:
        answer = answered(settle(service))
    console.print(f"{withdrawal_id}: {outcome}{'' if answer.seq is not None else ' already'}")


@withdrawals_app.command("sweep")
def sweep(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Expire the reservations whose deadline has passed (the funds go back)."""
    with _service(settings(data_dir, database_url)) as service:
        expired = service.sweep()
    console.print(f"{expired} reservation(s) expired")


def _tomorrow() -> date:
    return date.fromordinal(datetime.now(UTC).date().toordinal() + 1)
