"""The operator console, by role: each page and each action names the roles that may use it
(``PERMISSIONS``), and an action is signed by the logged-in operator's own key (the service is
called with the session's actor as the signer), so the log shows who authorised it.

| route | who | what |
| --- | --- | --- |
| ``GET/POST /operator/login`` | operators | a console login (argon2, rate-limited) |
| ``GET /operator`` | every role | what the role may do |
| ``GET /operator/kyc`` | kyc_officer, admin, auditor | the manual queue and link conflicts |
| ``GET /operator/kyc/{creditor}/document`` | kyc_officer, admin | the uploaded document |
| ``POST /operator/kyc/decide`` | kyc_officer, admin | approve, reject, ask again (signed) |
| ``GET /operator/escrow`` | treasury, auditor | escrows the plan would now pay |
| ``POST /operator/escrow/release`` | treasury | ``escrow.released`` (signed) |
| ``GET /operator/rounds`` | every role | each round's report: funding, approval, execution |
| ``POST /operator/rounds/preview`` | treasury | the computed round: totals, escrow, digest |
| ``POST /operator/rounds/approve`` | treasury | ``distribution.round_approved`` of what was seen |
| ``POST /operator/rounds/execute`` | treasury | the approved lines posted, the round completed |
| ``GET /operator/withdrawals`` | treasury, auditor | every withdrawal and its status |
| ``POST /operator/withdrawals/batch`` | treasury | the rail's batch file (pain.001 for SEPA) |

The note series, markets and jurisdiction policy pages are ``operator_market.py``'s (their
permissions are here: ``markets_view``, ``markets_set``, ``policy_view``).

A role outside a page's list gets ``403`` (least privilege: the auditor reads, never signs, and
reads no identity document); a creditor's session is no operator's: ``303`` to the login.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from reclaim.app.onboarding import RateLimited, Refused
from reclaim.app.refusals import PortalCode
from reclaim.app.web_accounts import Principal
from reclaim.app.web_operator import (
    register_names,
    releasable_escrows,
    release_escrow,
    rounds,
)
from reclaim.app.withdrawal_ports import RailFileError
from reclaim.app.withdrawals import Refused as WithdrawalRefused
from reclaim.app.withdrawals import WithdrawalService
from reclaim.core.limits import web_escrow_page_max, web_form_id_max_chars
from reclaim.core.withdrawals import RAIL_ASSETS
from reclaim.entrypoints.routing import Router
from reclaim.entrypoints.web import forms
from reclaim.entrypoints.web.creditor import (
    attachment,
    client_of,
    code_name,
    form_post,
    logged_in,
    page,
    see_other,
    services_of,
)
from reclaim.entrypoints.web.pages import WebRoute
from reclaim.entrypoints.web.services import CreditorServices

log = logging.getLogger(__name__)
router = Router(route_class=WebRoute, include_in_schema=False)
PERMISSIONS: Final = {
    "kyc_view": frozenset({"kyc_officer", "admin", "auditor"}),
    "kyc_document": frozenset({"kyc_officer", "admin"}),
    "kyc_decide": frozenset({"kyc_officer", "admin"}),
    "escrow_view": frozenset({"treasury", "auditor"}),
    "escrow_release": frozenset({"treasury"}),
    "rounds_view": frozenset({"admin", "kyc_officer", "treasury", "auditor"}),
    "rounds_run": frozenset({"treasury"}),
    "withdrawals_view": frozenset({"treasury", "auditor"}),
    "withdrawals_batch": frozenset({"treasury"}),
    # operator_market.py: note series and markets, the jurisdiction policy
    "markets_view": frozenset({"admin", "auditor"}),
    "markets_set": frozenset({"admin"}),
    "policy_view": frozenset({"admin", "kyc_officer", "treasury", "auditor"}),
    # operator_files.py: the register import, statement reconciliation
    "register_import": frozenset({"admin"}),
    "statements_reconcile": frozenset({"treasury"}),
}
BATCH_UNAVAILABLE: Final = PortalCode.batch_file_unavailable
DECISIONS: Final = ("approved", "rejected", "resubmission_requested")


def operator_of(request: Request, permission: str) -> tuple[CreditorServices, Principal]:
    services = services_of(request)
    visitor = forms.visitor_of(request, services.accounts)
    operator = visitor.operator
    if operator is None:
        raise forms.LoginNeeded("/operator/login")
    if operator.role not in PERMISSIONS[permission]:
        raise StarletteHTTPException(403, "role")
    return services, operator


def allowed(operator: Principal) -> dict[str, bool]:
    return {name: operator.role in roles for name, roles in PERMISSIONS.items()}


@dataclass(frozen=True, slots=True)
class Console:
    """A request of a logged-in operator whose role holds the page's permission."""

    request: Request
    services: CreditorServices
    operator: Principal

    def page(self, template: str, context: Mapping[str, object], status: int = 200) -> Response:
        """``template`` with who is logged in and what the role may do (``_operator.html``)."""
        shown = {"operator": self.operator, "can": allowed(self.operator), **context}
        return page(self.request, template, shown, status)


def console_of(request: Request, permission: str) -> Console:
    return Console(request, *operator_of(request, permission))


#: A page of the console shown again after an action: (console, error, notice, status).
Section = Callable[[Console, str, str, int], Response]


def shown_after(section: Section, console: Console, answer: object, notice: str) -> Response:
    """``section`` again after an action: with the refusal's code (``409``), or with the
    ``notice`` of what was done."""
    if isinstance(answer, Refused):
        return section(console, code_name(answer.code), "", 409)
    return section(console, "", notice, 200)


@router.get("/operator/login")
def login_page(request: Request) -> Response:
    services_of(request)
    return page(request, "operator_login.html", {"error": "", "actor": ""})


@form_post(router, "/operator/login")
def _login(request: Request, form: forms.Form) -> Response:
    services = services_of(request)
    actor = form.get("actor").strip()[:64]
    answer = services.accounts.operator_login(actor, form.get("password"), client_of(request))
    if isinstance(answer, RateLimited):
        raise forms.TooManyAttempts(answer.retry_after_seconds)
    if not isinstance(answer, Principal):
        return page(request, "operator_login.html", {"error": "login_refused", "actor": actor},
                    400)  # fmt: skip
    return logged_in(request, services, answer, "/operator")


@router.get("/operator")
def home(request: Request) -> Response:
    return console_of(request, "rounds_view").page("operator_home.html", {})


# KYC ----------------------------------------------------------------------------------------


@router.get("/operator/kyc")
def kyc_page(request: Request) -> Response:
    return _kyc(console_of(request, "kyc_view"))


def _kyc(console: Console, error: str = "", notice: str = "", status: int = 200) -> Response:
    services = console.services
    queue = services.onboarding.kyc_queue()
    documents = {c.creditor: services.accounts.kyc_document(c.creditor) for c in queue.pending}
    vault = services.onboarding.vault
    creditors = [c.creditor for c in queue.pending]
    names = services.log.read(lambda s: {c: register_names(s, vault, c) for c in creditors})
    context = {"queue": queue, "documents": documents, "names": names, "decisions": DECISIONS,
               "error": error, "done": notice}  # fmt: skip
    return console.page("operator_kyc.html", context, status)


@router.get("/operator/kyc/{creditor}/document")
def kyc_document(request: Request, creditor: str) -> Response:
    services, _ = operator_of(request, "kyc_document")
    found = services.accounts.kyc_document(creditor[:web_form_id_max_chars])
    if found is None:
        raise StarletteHTTPException(404)
    extension = {"image/png": "png", "image/jpeg": "jpg"}.get(found.media_type, "pdf")
    return attachment(found.body, found.media_type, f"kyc-{creditor}.{extension}")


@form_post(router, "/operator/kyc/decide")
def _decide(request: Request, form: forms.Form) -> Response:
    console = console_of(request, "kyc_decide")
    state = form.get("state")
    if state not in DECISIONS:
        return _kyc(console, "kyc_state_unknown", "", 400)
    answer = console.services.onboarding.decide_kyc(
        console.operator.actor, form.get("creditor")[:web_form_id_max_chars], state,
        form.get("reason")[:200], form.get("verified_name")[:200],
    )  # fmt: skip
    return shown_after(_kyc, console, answer, state)


# Escrow -------------------------------------------------------------------------------------


@router.get("/operator/escrow")
def escrow_page(request: Request) -> Response:
    return _escrow(console_of(request, "escrow_view"))


def _escrow(console: Console, error: str = "", notice: str = "", status: int = 200) -> Response:
    log = console.services.log
    today = log.clock.now().date().isoformat()
    rows = log.read(lambda s: releasable_escrows(s, today, web_escrow_page_max))
    return console.page("operator_escrow.html", {"rows": rows, "error": error, "done": notice},
                        status)  # fmt: skip


@form_post(router, "/operator/escrow/release")
def _release(request: Request, form: forms.Form) -> Response:
    console = console_of(request, "escrow_release")
    claim_id = form.get("claim_id")[:web_form_id_max_chars]
    answer = release_escrow(console.services.log, console.operator.actor, claim_id,
                            form.get("reason")[:40])  # fmt: skip
    return shown_after(_escrow, console, answer, claim_id)


# Rounds and withdrawals ----------------------------------------------------------------------


@router.get("/operator/rounds")
def rounds_page(request: Request) -> Response:
    return _rounds(console_of(request, "rounds_view"))


def _rounds(console: Console, error: str = "", notice: str = "", status: int = 200) -> Response:
    context = {"rounds": console.services.log.read(rounds), "error": error, "done": notice}
    return console.page("operator_rounds.html", context, status)


@form_post(router, "/operator/rounds/preview")
def _round_preview(request: Request, form: forms.Form) -> Response:
    console = console_of(request, "rounds_run")
    round_id = form.get("round_id")[:web_form_id_max_chars]
    answer = console.services.rounds.preview(round_id)
    if isinstance(answer, Refused):
        return _rounds(console, code_name(answer.code), "", 409)
    return console.page("operator_round_preview.html", {"round_id": round_id, "preview": answer})


@form_post(router, "/operator/rounds/approve")
def _round_approve(request: Request, form: forms.Form) -> Response:
    console = console_of(request, "rounds_run")
    round_id = form.get("round_id")[:web_form_id_max_chars]
    answer = console.services.rounds.approve(console.operator.actor, round_id,
                                             form.get("digest")[:64])  # fmt: skip
    return shown_after(_rounds, console, answer, "approved")


@form_post(router, "/operator/rounds/execute")
def _round_execute(request: Request, form: forms.Form) -> Response:
    console = console_of(request, "rounds_run")
    round_id = form.get("round_id")[:web_form_id_max_chars]
    answer = console.services.rounds.execute(console.operator.actor, round_id)
    return shown_after(_rounds, console, answer, "executed")


def _withdrawals(request: Request, permission: str) -> tuple[WithdrawalService, Console]:
    console = console_of(request, permission)
    if console.services.withdrawals is None:
        raise StarletteHTTPException(404)
    return console.services.withdrawals, console


def _withdrawals_page(
    console: Console, service: WithdrawalService, error: str = "", status: int = 200
) -> Response:
    context = {"withdrawals": service.views(limit=200), "rails": sorted(RAIL_ASSETS),
               "error": error}  # fmt: skip
    return console.page("operator_withdrawals.html", context, status)


@router.get("/operator/withdrawals")
def withdrawals_page(request: Request) -> Response:
    service, console = _withdrawals(request, "withdrawals_view")
    return _withdrawals_page(console, service)


@form_post(router, "/operator/withdrawals/batch")
def _batch(request: Request, form: forms.Form) -> Response:
    service, console = _withdrawals(request, "withdrawals_batch")
    rail = form.get("rail")
    if rail not in RAIL_ASSETS:
        return see_other("/operator/withdrawals")
    try:
        made = service.export_batch(rail, date.today())
    except RailFileError:  # the rail's file settings are missing (no debtor, no correspondent)
        log.exception("the %s batch file could not be made", rail)
        made = WithdrawalRefused(BATCH_UNAVAILABLE, "the rail's file settings are missing")
    if isinstance(made, WithdrawalRefused):
        return _withdrawals_page(console, service, code_name(made.code), 409)
    return attachment(made.content, made.media_type, made.filename)
