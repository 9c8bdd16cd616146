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
from collections.abc import Mapping
from datetime import date
from typing import Final

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from reclaim.app.onboarding import Decided, RateLimited, Refused
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
from reclaim.entrypoints.web import forms
from reclaim.entrypoints.web.creditor import (
    client_of,
    code_name,
    logged_in,
    page,
    post,
    see_other,
    services_of,
)
from reclaim.entrypoints.web.pages import WebRoute
from reclaim.entrypoints.web.services import CreditorServices

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute, include_in_schema=False)
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


def _page(request: Request, operator: Principal, template: str, context: Mapping[str, object],
          status: int = 200) -> Response:  # fmt: skip
    return page(request, template, {"operator": operator, "can": allowed(operator), **context},
                status)  # fmt: skip


@router.get("/operator/login")
def login_page(request: Request) -> Response:
    services_of(request)
    return page(request, "operator_login.html", {"error": "", "actor": ""})


@router.post("/operator/login")
async def login_post(request: Request) -> Response:
    return await post(request, _login)


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
    _, operator = operator_of(request, "rounds_view")
    return _page(request, operator, "operator_home.html", {})


# KYC ----------------------------------------------------------------------------------------


@router.get("/operator/kyc")
def kyc_page(request: Request) -> Response:
    services, operator = operator_of(request, "kyc_view")
    return _kyc(request, services, operator, "", "")


def _kyc(request: Request, services: CreditorServices, operator: Principal, error: str,
         notice: str, status: int = 200) -> Response:  # fmt: skip
    queue = services.onboarding.kyc_queue()
    documents = {c.creditor: services.accounts.kyc_document(c.creditor) for c in queue.pending}
    vault = services.onboarding.vault
    creditors = [c.creditor for c in queue.pending]
    names = services.log.read(lambda s: {c: register_names(s, vault, c) for c in creditors})
    context = {"queue": queue, "documents": documents, "names": names, "decisions": DECISIONS,
               "error": error, "done": notice}  # fmt: skip
    return _page(request, operator, "operator_kyc.html", context, status)


@router.get("/operator/kyc/{creditor}/document")
def kyc_document(request: Request, creditor: str) -> Response:
    services, _ = operator_of(request, "kyc_document")
    found = services.accounts.kyc_document(creditor[:web_form_id_max_chars])
    if found is None:
        raise StarletteHTTPException(404)
    extension = {"image/png": "png", "image/jpeg": "jpg"}.get(found.media_type, "pdf")
    return Response(found.body, media_type=found.media_type, headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="kyc-{creditor}.{extension}"',
    })  # fmt: skip


@router.post("/operator/kyc/decide")
async def decide_post(request: Request) -> Response:
    return await post(request, _decide)


def _decide(request: Request, form: forms.Form) -> Response:
    services, operator = operator_of(request, "kyc_decide")
    state = form.get("state")
    if state not in DECISIONS:
        return _kyc(request, services, operator, "kyc_state_unknown", "", 400)
    answer = services.onboarding.decide_kyc(
        operator.actor, form.get("creditor")[:web_form_id_max_chars], state,
        form.get("reason")[:200], form.get("verified_name")[:200],
    )  # fmt: skip
    if isinstance(answer, Refused):
        return _kyc(request, services, operator, code_name(answer.code), "", 409)
    assert isinstance(answer, Decided)
    return _kyc(request, services, operator, "", answer.state)


# Escrow -------------------------------------------------------------------------------------


@router.get("/operator/escrow")
def escrow_page(request: Request) -> Response:
    services, operator = operator_of(request, "escrow_view")
    return _escrow(request, services, operator, "", "")


def _escrow(request: Request, services: CreditorServices, operator: Principal, error: str,
            notice: str, status: int = 200) -> Response:  # fmt: skip
    today = services.log.clock.now().date().isoformat()
    rows = services.log.read(lambda s: releasable_escrows(s, today, web_escrow_page_max))
    return _page(request, operator, "operator_escrow.html",
                 {"rows": rows, "error": error, "done": notice}, status)  # fmt: skip


@router.post("/operator/escrow/release")
async def release_post(request: Request) -> Response:
    return await post(request, _release)


def _release(request: Request, form: forms.Form) -> Response:
    services, operator = operator_of(request, "escrow_release")
    claim_id = form.get("claim_id")[:web_form_id_max_chars]
    answer = release_escrow(services.log, operator.actor, claim_id, form.get("reason")[:40])
    if isinstance(answer, Refused):
        return _escrow(request, services, operator, code_name(answer.code), "", 409)
    return _escrow(request, services, operator, "", answer.claim_id)


# Rounds and withdrawals ----------------------------------------------------------------------


@router.get("/operator/rounds")
def rounds_page(request: Request) -> Response:
    services, operator = operator_of(request, "rounds_view")
    return _rounds(request, services, operator, "", "")


def _rounds(request: Request, services: CreditorServices, operator: Principal, error: str,
            notice: str, status: int = 200) -> Response:  # fmt: skip
    context = {"rounds": services.log.read(rounds), "error": error, "done": notice}
    return _page(request, operator, "operator_rounds.html", context, status)


@router.post("/operator/rounds/preview")
async def round_preview_post(request: Request) -> Response:
    return await post(request, _round_preview)


def _round_preview(request: Request, form: forms.Form) -> Response:
    services, operator = operator_of(request, "rounds_run")
    round_id = form.get("round_id")[:web_form_id_max_chars]
    answer = services.rounds.preview(round_id)
    if isinstance(answer, Refused):
        return _rounds(request, services, operator, code_name(answer.code), "", 409)
    return _page(request, operator, "operator_round_preview.html",
                 {"round_id": round_id, "preview": answer})  # fmt: skip


@router.post("/operator/rounds/approve")
async def round_approve_post(request: Request) -> Response:
    return await post(request, _round_approve)


def _round_approve(request: Request, form: forms.Form) -> Response:
    services, operator = operator_of(request, "rounds_run")
    round_id = form.get("round_id")[:web_form_id_max_chars]
    answer = services.rounds.approve(operator.actor, round_id, form.get("digest")[:64])
    if isinstance(answer, Refused):
        return _rounds(request, services, operator, code_name(answer.code), "", 409)
    return _rounds(request, services, operator, "", "approved")


@router.post("/operator/rounds/execute")
async def round_execute_post(request: Request) -> Response:
    return await post(request, _round_execute)


def _round_execute(request: Request, form: forms.Form) -> Response:
    services, operator = operator_of(request, "rounds_run")
    answer = services.rounds.execute(operator.actor, form.get("round_id")[:web_form_id_max_chars])
    if isinstance(answer, Refused):
        return _rounds(request, services, operator, code_name(answer.code), "", 409)
    return _rounds(request, services, operator, "", "executed")


def _withdrawals(request: Request, permission: str) -> tuple[WithdrawalService, Principal]:
    services, operator = operator_of(request, permission)
    if services.withdrawals is None:
        raise StarletteHTTPException(404)
    return services.withdrawals, operator


@router.get("/operator/withdrawals")
def withdrawals_page(request: Request) -> Response:
    service, operator = _withdrawals(request, "withdrawals_view")
    return _page(request, operator, "operator_withdrawals.html",
                 {"withdrawals": service.views(limit=200), "rails": sorted(RAIL_ASSETS),
                  "error": ""})  # fmt: skip


@router.post("/operator/withdrawals/batch")
async def batch_post(request: Request) -> Response:
    return await post(request, _batch)


def _batch(request: Request, form: forms.Form) -> Response:
    service, operator = _withdrawals(request, "withdrawals_batch")
    rail = form.get("rail")
    if rail not in RAIL_ASSETS:
        return see_other("/operator/withdrawals")
    try:
        made = service.export_batch(rail, date.today())
    except RailFileError:  # the rail's file settings are missing (no debtor, no correspondent)
        log.exception("the %s batch file could not be made", rail)
        made = WithdrawalRefused(BATCH_UNAVAILABLE, "the rail's file settings are missing")
    if isinstance(made, WithdrawalRefused):
        return _page(request, operator, "operator_withdrawals.html",
                     {"withdrawals": service.views(limit=200), "rails": sorted(RAIL_ASSETS),
                      "error": code_name(made.code)}, 409)  # fmt: skip
    return Response(made.content, media_type=made.media_type, headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{made.filename}"',
    })  # fmt: skip
