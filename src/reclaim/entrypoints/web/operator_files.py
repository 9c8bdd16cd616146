"""The console's file uploads: a claims register (admin) and a bank statement (treasury).

| route | who | what |
| --- | --- | --- |
| ``GET /operator/register`` | admin | the upload form |
| ``POST /operator/register`` | admin | validate a register: the report, or what it would change |
| ``POST /operator/register/confirm`` | admin | import the register just validated (signed) |
| ``GET /operator/statements`` | treasury | the upload form |
| ``POST /operator/statements`` | treasury | reconcile a camt.053 or CSV statement (signed) |

Both go through the services the CLI calls, so a web upload and ``reclaim import-claims`` /
``reclaim withdrawals reconcile`` append the same signed events:

- **Register.** ``app.claims_import.import_register`` with ``register_file.read_register`` — once
  as a *dry run* (``_DryLog`` and ``_DryVault``: every read goes to the log, the first write
  stops the run, so the file is read, validated whole and planned against the state, and
  nothing is written), then, when the admin confirms, for real, signed by the admin's own actor.
  A file with one bad row imports nothing: the page lists every fault (its line, column and
  reason in the reader's language; the reader's own detail beside it). Between the two steps the
  file waits in the PII vault (it holds e-mails and names), under a subject of the session and
  the file's SHA-256; the confirmation erases it first, so a replayed confirmation finds nothing
  and changes nothing (and importing the same file twice is a no-op anyway). Commitments are
  ``OnboardingService.identity``'s, the register's own fold (``_Committer`` refuses a value the
  fold would change, which would commit differently from the CLI).
- **Statement.** ``statements.parse_statement`` then ``WithdrawalService.reconcile``: matched
  lines confirm, returned lines fail, every other line is listed for a person. Uploading the
  same statement again settles nothing twice (``already_settled``).

Threats: each POST is CSRF- and origin-checked (``creditor.post``); the roles are checked on
every request (``operator.PERMISSIONS``: a KYC officer, an auditor or a creditor's session is
refused); an upload over ``limits.kyc_upload_body_max_bytes`` (the portal's upload bound; larger
registers are imported with the CLI) is refused by the request-limits middleware before any
route reads it (``UPLOAD_ROUTES``, ``too_large``: a page in the reader's language).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from reclaim.adapters.files.register_file import fold, fold_name, read_register
from reclaim.adapters.files.statements import StatementError, parse_statement
from reclaim.app.claims_import import (
    EMAIL_KIND,
    Fault,
    ImportReport,
    ImportSummary,
    import_register,
)
from reclaim.app.log_service import Outcome
from reclaim.app.ports import (
    Clock,
    IdentityCommitments,
    PiiRecord,
    PiiValue,
    SubjectErased,
    SubjectNotFound,
)
from reclaim.app.web_accounts import Principal, session_subject
from reclaim.app.withdrawals import Refused as WithdrawalRefused
from reclaim.core.claims import ImportPlan
from reclaim.core.limits import kyc_upload_body_max_bytes as upload_body_max_bytes
from reclaim.core.machine import Command, State
from reclaim.core.withdrawals.reconcile import KINDS, MATCHED, RETURNED
from reclaim.entrypoints.routing import Router
from reclaim.entrypoints.web import forms
from reclaim.entrypoints.web.creditor import code_name, page, post
from reclaim.entrypoints.web.labels import N_
from reclaim.entrypoints.web.operator import allowed, operator_of
from reclaim.entrypoints.web.pages import WebRoute, finish, locale_of, portal_of
from reclaim.entrypoints.web.services import CreditorServices
from reclaim.entrypoints.web.uploads import UploadRoute

_T = TypeVar("_T")
router = Router(route_class=WebRoute, include_in_schema=False)
REGISTER_PATH: Final = "/operator/register"
STATEMENTS_PATH: Final = "/operator/statements"
#: The vault subject of a register waiting for its confirmation.
_PENDING_PREFIX: Final = "webregister:"
_SHA256_HEX_CHARS: Final = 64
_HEX: Final = frozenset("0123456789abcdef")
#: The page's status for an oversized upload: Content Too Large (RFC 9110 §15.5.14).
TOO_LARGE: Final = 413

#: Why a register row or file is refused, by the reader's or the plan's code.
FAULT: Final[Mapping[str, str]] = {
    "missing_value": N_("The value is empty."),
    "too_long": N_("The value is too long."),
    "bad_characters": N_("The value holds characters that are not allowed."),
    "duplicate_claim_id": N_("This claim id is already used on an earlier row."),
    "email_space": N_("The e-mail address holds a space or an invisible character."),
    "invalid_email": N_("This is not an e-mail address."),
    "email_local_part_too_long": N_("The part of the e-mail address before @ is too long."),
    "control_characters": N_("The name holds a control character or a line break."),
    "jurisdiction_not_upper_case": N_("The country code must be in capital letters."),
    "unknown_jurisdiction": N_("This is not an ISO 3166-1 country code."),
    "unknown_class": N_("This is not a claim class of the estate."),
    "unknown_status": N_("This is not a claim status."),
    "negative_amount": N_("The amount is negative."),
    "fractional_cents": N_("The amount has fractions of a cent."),
    "not_an_amount": N_("This is not an amount."),
    "amount_too_large": N_("The amount is too large."),
    "not_utf8": N_("The value holds bytes that are not UTF-8 text."),
    "blank_row": N_("The row is blank."),
    "no_rows": N_("The file holds no claims."),
    "unreadable": N_("The file cannot be read as a CSV or Parquet register."),
    "damaged": N_("The file is damaged."),
    "wrong_separator": N_("The columns are not separated by commas."),
    "duplicate_column": N_("This column appears twice."),
    "unknown_column": N_("This column is not part of the register format."),
    "missing_column": N_("This column is missing."),
    "both_amount_columns": N_("Give the amount in one column only (dollars or cents)."),
    "wrong_column_type": N_("This column has the wrong type."),
    "too_many_rows": N_("The file has too many rows."),
    "too_many_fields": N_("A row has more fields than the header."),
    "estate_not_found": N_("There is no such estate."),
    "claim_in_other_estate": N_("This claim belongs to another estate."),
    "linked_claim_identity_change": N_(
        "The claim is linked to a creditor: its e-mail or holder name cannot change."
    ),
    "estate_total_exceeds_bigint": N_("The estate's total would be too large."),
    "not_folded": N_("A value changes when normalised again: import this file with the CLI."),
}
FAULT_OTHER: Final = N_("Refused (%(code)s).")
#: What a console upload page says when it refuses or has nothing to do, by its code.
MESSAGE: Final[Mapping[str, str]] = {
    "register_missing": N_("Choose a register file to upload."),
    "estate_unknown": N_("Choose one of the estates."),
    "register_unchanged": N_("The register is already as this file says: nothing to import."),
    "register_not_pending": N_(
        "There is no validated register to confirm: it was imported already, or the page is "
        "old. Nothing was changed. Upload the file again."
    ),
    "statement_missing": N_("Choose a statement file to upload."),
    "statement_unreadable": N_("The statement cannot be read. Nothing was reconciled."),
    "withdrawals_unavailable": N_("Withdrawals are not served here."),
}
#: What reconciliation said of a statement line, by its kind.
LINE_KIND: Final[Mapping[str, str]] = {
    "matched": N_("Paid: withdrawal confirmed"),
    "returned": N_("Returned: withdrawal failed, funds back"),
    "already_settled": N_("Settled already"),
    "duplicate": N_("Duplicate line"),
    "amount_mismatch": N_("Amount or currency does not match"),
    "unknown_reference": N_("Unknown reference"),
    "unexpected_state": N_("Unexpected for this withdrawal"),
}
assert set(LINE_KIND) == set(KINDS), "every kind of line has its words"


# Uploads over the bound ---------------------------------------------------------------------


async def too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """The console's 413 page in the request's language (no route saw the body)."""
    request = Request(scope, receive)
    locale_of(request)
    kind = "register" if request.url.path == REGISTER_PATH else "statement"
    context = {"kind": kind, "limit_bytes": upload_body_max_bytes}
    answer = await run_in_threadpool(
        portal_of(request).render, request, "operator_register_too_large.html", context,
        status=TOO_LARGE, cache="no-store",
    )  # fmt: skip
    answer.headers["Connection"] = "close"
    await finish(request, answer)(scope, receive, send)


UPLOAD_ROUTES: Final = {
    REGISTER_PATH: UploadRoute(upload_body_max_bytes, too_large),
    STATEMENTS_PATH: UploadRoute(upload_body_max_bytes, too_large),
}


def _page(request: Request, operator: Principal, template: str, context: Mapping[str, object],
          status: int = 200) -> Response:  # fmt: skip
    return page(request, template, {"operator": operator, "can": allowed(operator),
                                    "FAULT": FAULT, "FAULT_OTHER": FAULT_OTHER, "MESSAGE": MESSAGE,
                                    "LINE_KIND": LINE_KIND, **context}, status)  # fmt: skip


# The register: validate, then confirm -------------------------------------------------------


class _Stop(Exception):
    """The dry run reached its first write."""


class _DryLog:
    """The log as the import sees it in a dry run: reads go through (the plan is kept), the
    first append stops the run."""

    def __init__(self, log: CreditorServices) -> None:
        self._log = log.log
        self.plan: ImportPlan | None = None

    @property
    def clock(self) -> Clock:
        return self._log.clock

    def read(self, query: Callable[[State], _T]) -> _T:
        found = self._log.read(query)
        if isinstance(found, ImportPlan):
            self.plan = found
        return found

    def submit_many(self, commands: Iterable[tuple[Command, str]]) -> list[Outcome]:
        raise _Stop


class _DryVault:
    """A vault that is never written: the dry run stops at its first write."""

    def put(self, subject: str, fields: Mapping[str, PiiValue], now: datetime) -> None:
        raise _Stop

    def put_many(self, items: Iterable[tuple[str, Mapping[str, PiiValue]]], now: datetime) -> int:
        raise _Stop

    def get(self, subject: str, names: Iterable[str] | None = None) -> PiiRecord:
        raise AssertionError("the import only writes the vault")

    def erase(self, subject: str, now: datetime) -> bool:
        raise AssertionError("the import only writes the vault")

    def seal(self, subject: str, purpose: str, plaintext: bytes) -> bytes:
        raise AssertionError("the import only writes the vault")

    def open(self, subject: str, purpose: str, sealed: bytes) -> bytes:
        raise AssertionError("the import only writes the vault")


class _NotFolded(Exception):
    """A normalised value that the fold changes again (``_Committer``)."""


@dataclass(frozen=True, slots=True)
class _Committer:
    """The import's ``Committer`` over onboarding's identity commitments, which fold before they
    commit: a value the reader normalised is committed as the CLI commits it only if folding it
    again changes nothing, which ``commit`` checks."""

    identity: IdentityCommitments

    def commit(self, kind: str, normalised_value: str) -> str:
        if kind == EMAIL_KIND:
            if fold(normalised_value) != normalised_value:
                raise _NotFolded
            return self.identity.email(normalised_value)
        if fold_name(normalised_value) != normalised_value:
            raise _NotFolded
        return self.identity.holder_name(normalised_value)


@dataclass(frozen=True, slots=True)
class _Validated:
    report: ImportReport | None
    plan: ImportPlan | None  # None with no report: the register is as the file says already
    register_id: str


def _run(services: CreditorServices, estate_id: str, data: bytes, actor: str, *,
         full_schedule: bool, dry: bool) -> ImportSummary | ImportReport | _Validated:  # fmt: skip
    """``import_register`` over ``data`` (in a private temporary file): for real, or dry."""
    dry_log = _DryLog(services)
    onboarding = services.onboarding
    with tempfile.TemporaryDirectory(prefix="reclaim-register-") as folder:
        path = Path(folder) / "register"
        path.write_bytes(data)
        try:
            answer = import_register(
                dry_log if dry else services.log, _DryVault() if dry else onboarding.vault,
                _Committer(onboarding.identity), estate_id, path, read=read_register,
                actor=actor, full_schedule=full_schedule,
            )  # fmt: skip
        except _NotFolded:
            fault = Fault(None, None, "not_folded", "a value is not stable under the fold")
            return ImportReport("file", None, (fault,), 1, 0)
        except _Stop:
            assert dry, "only a dry run stops"
            assert dry_log.plan is not None, "a dry run writes only after its plan"
            return _Validated(None, dry_log.plan, hashlib.sha256(data).hexdigest())
    if dry and isinstance(answer, ImportSummary):  # nothing to write: a no-op
        return _Validated(None, None, answer.register_id)
    return answer


def _estates(services: CreditorServices) -> list[str]:
    return services.log.read(lambda s: sorted(s.claims.estates))


def _register_page(request: Request, services: CreditorServices, operator: Principal,
                   status: int = 200, **context: object) -> Response:  # fmt: skip
    base: dict[str, object] = {"estates": _estates(services), "report": None, "done": None,
                               "error": "", "is_csv": True}  # fmt: skip
    return _page(request, operator, "operator_register.html", {**base, **context}, status)


@router.get(REGISTER_PATH)
def register_page(request: Request) -> Response:
    services, operator = operator_of(request, "register_import")
    return _register_page(request, services, operator)


@router.post(REGISTER_PATH)
async def register_post(request: Request) -> Response:
    return await post(request, _validate)


def _validate(request: Request, form: forms.Form) -> Response:
    services, operator = operator_of(request, "register_import")
    upload = form.files.get("register")
    estate_id = form.get("estate")
    if upload is None or not upload.body:
        return _register_page(request, services, operator, error="register_missing", status=400)
    if estate_id not in _estates(services):
        return _register_page(request, services, operator, error="estate_unknown", status=400)
    full = form.get("supplement") != "1"
    data = upload.body
    found = _run(services, estate_id, data, operator.actor, full_schedule=full, dry=True)
    is_csv = not (data[:4] == b"PAR1" and data[-4:] == b"PAR1")
    if isinstance(found, ImportReport):
        return _register_page(request, services, operator, report=found, is_csv=is_csv,
                              name=upload.name, status=400)  # fmt: skip
    assert isinstance(found, _Validated)
    if found.plan is None:
        return _register_page(request, services, operator, error="register_unchanged")
    subject = _pending_subject(request, services, found.register_id)
    onboarding = services.onboarding
    fields: dict[str, PiiValue] = {"body": data, "estate": estate_id, "name": upload.name[:120],
                                   "full": "1" if full else "0"}  # fmt: skip
    onboarding.vault.put(subject, fields, onboarding.clock.now())
    context = {"plan": found.plan, "register_id": found.register_id, "estate": estate_id,
               "name": upload.name, "full": full}  # fmt: skip
    return _page(request, operator, "operator_register_preview.html", context)


def _pending_subject(request: Request, services: CreditorServices, register_id: str) -> str:
    visitor = forms.visitor_of(request, services.accounts)
    assert visitor.session_id, "an operator page has a session"
    return f"{_PENDING_PREFIX}{session_subject(visitor.session_id)[-32:]}:{register_id}"


@router.post(REGISTER_PATH + "/confirm")
async def register_confirm_post(request: Request) -> Response:
    return await post(request, _confirm)


def _confirm(request: Request, form: forms.Form) -> Response:
    services, operator = operator_of(request, "register_import")
    register_id = form.get("register_id")
    if len(register_id) != _SHA256_HEX_CHARS or not set(register_id) <= _HEX:
        return _register_page(request, services, operator, error="register_not_pending", status=409)
    vault = services.onboarding.vault
    subject = _pending_subject(request, services, register_id)
    try:
        pending = vault.get(subject)
        taken = vault.erase(subject, services.onboarding.clock.now())  # a replay finds it erased
    except (SubjectNotFound, SubjectErased):
        taken = False
    if not taken:
        return _register_page(request, services, operator, error="register_not_pending", status=409)
    data, estate_id = pending.data("body"), pending.text("estate")
    full = pending.text("full") == "1"
    done = _run(services, estate_id, data, operator.actor, full_schedule=full, dry=False)
    if isinstance(done, ImportReport):
        return _register_page(request, services, operator, report=done, name=pending.text("name"),
                              status=409)  # fmt: skip
    assert isinstance(done, ImportSummary)
    return _register_page(request, services, operator, done=done)


# Statements ---------------------------------------------------------------------------------


def _statements_page(request: Request, operator: Principal, status: int = 200,
                     **context: object) -> Response:  # fmt: skip
    base: dict[str, object] = {"problems": [], "lines": None, "error": "", "counts": {}}
    return _page(request, operator, "operator_statements.html", {**base, **context}, status)


@router.get(STATEMENTS_PATH)
def statements_page(request: Request) -> Response:
    services, operator = operator_of(request, "statements_reconcile")
    if services.withdrawals is None:
        return _statements_page(request, operator, 503, error="withdrawals_unavailable")
    return _statements_page(request, operator)


@router.post(STATEMENTS_PATH)
async def statements_post(request: Request) -> Response:
    return await post(request, _reconcile)


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    kind: str
    withdrawal_id: str
    reference: str
    amount_minor: int
    currency: str
    direction: str
    booking_date: str
    action: str  # "confirmed", "failed", "refused:<code>" or ""
    detail: str


def _reconcile(request: Request, form: forms.Form) -> Response:
    services, operator = operator_of(request, "statements_reconcile")
    service = services.withdrawals
    if service is None:
        return _statements_page(request, operator, 503, error="withdrawals_unavailable")
    upload = form.files.get("statement")
    if upload is None or not upload.body:
        return _statements_page(request, operator, 400, error="statement_missing")
    try:
        lines = parse_statement(upload.body)
    except StatementError as exc:
        return _statements_page(request, operator, 400, error="statement_unreadable",
                                problems=exc.problems, name=upload.name)  # fmt: skip
    done = service.reconcile(lines)
    rows = []
    for applied in done.lines:
        m, outcome = applied.match, applied.outcome
        if outcome is None:
            action = ""
        elif isinstance(outcome, WithdrawalRefused):
            action = "refused:" + code_name(outcome.code)
        else:
            action = outcome.status
        rows.append(_Row(m.line.line, m.kind, m.withdrawal_id, m.line.reference,
                         m.line.amount_minor, m.line.currency, m.line.direction,
                         m.line.booking_date, action, m.detail))  # fmt: skip
    counts = {kind: done.count(kind) for kind in KINDS if done.count(kind)}
    settled = sum(1 for r in rows if r.kind in (MATCHED, RETURNED) and r.action in
                  ("confirmed", "failed"))  # fmt: skip
    return _statements_page(request, operator, lines=rows, counts=counts, settled=settled,
                            name=upload.name)  # fmt: skip
