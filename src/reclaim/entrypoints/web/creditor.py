"""The creditor's pages: find my claim (sign up), the code, login, my claims, KYC, proofs.

Every route is a ``WebRoute`` (``pages.py``): the locale, the error pages, the headers. Every
POST goes through ``post`` (``form_post`` makes a work function the POST route of a path): the
form is read, then ``forms.check_post`` refuses (403) another origin or a missing or wrong CSRF
token before anything else; the work runs in a thread (the services block: argon2, the
database). Pages that show a creditor's data need a live session (``creditor_of``, else
``303 /login``) and show that creditor's data only: a claim the session's creditor does not
hold is ``404``, as if it did not exist, and so is its proof.

| route | what |
| --- | --- |
| ``GET/POST /signup`` | find my claim: the old exchange e-mail and a new password → the code form |
| ``POST /signup/code`` | the code from the e-mail → logged in |
| ``GET/POST /login``, ``POST /logout`` | argon2 login (rate-limited), a new session id each time |
| ``GET /me`` | KYC, my claims, claims to link, balances, the payout election, proofs |
| ``POST /kyc`` | upload an identity document to the manual review queue |
| ``POST /kyc/hosted`` | verify with the hosted provider: a session there, ``303`` to its page |
| ``GET /kyc/hosted/return`` | where the provider sends the creditor back: the check's status |
| ``POST /link`` | link a claim of my proved address (KYC approved) |
| ``POST /payout`` | elect the payout currency (once) |
| ``GET /claims/{id}`` | class, amount, status, jurisdiction treatment, distributions and proofs |
| ``GET /claims/{id}/proofs/{seq}.json`` | an inclusion proof (``reclaim check-proof``) |
| ``GET /me/liabilities/{asset}.json`` | a liability proof (``reclaim verify-liabilities``) |

Refusal codes of the services are compared through ``code_name`` only (they may become enums).

The hosted KYC hand-off (with a provider in the settings: ``OnboardingService.hosted``): the
"verify with ..." form posts to ``/kyc/hosted``, which asks the provider for a session and
answers ``303`` to its page (the CSP's ``form-action`` names the provider's flow origin, so the
browser follows); a provider that does not answer is a ``503`` page in the creditor's language,
and nothing was recorded. The provider sends the creditor back to ``/kyc/hosted/return``: from
its site the ``SameSite=Strict`` session cookie may not come along, so the page says the check
is in progress without a session, and with one shows the state (the webhook's decision once
it came). No script anywhere: every step is a form, a redirect or a link.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from reclaim.app.liabilities import NoSnapshotError
from reclaim.app.onboarding import (
    CodeRefused,
    HostedStarted,
    InputRefused,
    RateLimited,
    Refused,
    Verified,
)
from reclaim.app.prove import ProofRequestError, inclusion_proof_document
from reclaim.app.refusals import OnboardingCode
from reclaim.app.web_accounts import LoggedIn, Principal, WebSignUp, session_subject
from reclaim.app.web_queries import balances, claim_distributions, holds, my_claims
from reclaim.core.distribution.payees import PAYOUT_ASSETS
from reclaim.core.limits import claim_id_length_max_chars, web_token_max_chars
from reclaim.entrypoints.routing import Router
from reclaim.entrypoints.web import forms, i18n, security
from reclaim.entrypoints.web.pages import WebRoute, locale_of, portal_of
from reclaim.entrypoints.web.services import CreditorServices
from reclaim.log.liabilities.proof import proof_to_json

log = logging.getLogger(__name__)

router = Router(route_class=WebRoute, include_in_schema=False)
CACHE_PRIVATE: Final = "no-store"
_ASSET_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def code_name(code: object) -> str:
    """A refusal code as text, whether a service gives it as ``str`` or as an enum member."""
    if isinstance(code, str):
        return code
    name = getattr(code, "name", None)
    return name if isinstance(name, str) else str(code)


def services_of(request: Request) -> CreditorServices:
    services = portal_of(request).services
    if services is None:
        raise StarletteHTTPException(404)
    return services


def creditor_of(request: Request) -> tuple[CreditorServices, str]:
    services = services_of(request)
    visitor = forms.visitor_of(request, services.accounts)
    if visitor.creditor is None:
        raise forms.LoginNeeded()
    return services, visitor.creditor


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def page(
    request: Request, template: str, context: Mapping[str, Any], status: int = 200
) -> Response:
    return portal_of(request).render(request, template, context, status=status,
                                     cache=CACHE_PRIVATE)  # fmt: skip


def see_other(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


Work = Callable[[Request, forms.Form], Response]


async def post(request: Request, work: Work) -> Response:
    """Read the form, check origin and CSRF, then do ``work`` in a thread."""
    portal = portal_of(request)
    accounts = None if portal.services is None else portal.services.accounts
    form = await forms.read_form(request)
    visitor = await run_in_threadpool(forms.visitor_of, request, accounts)
    forms.check_post(request, visitor, form, portal.csrf)
    response = await run_in_threadpool(work, request, form)
    if visitor.principal is not None and visitor.session_id:  # the session behind the action
        log.info("web %s %s by %s %s in session %s: %s", request.method, request.url.path,
                 visitor.principal.kind, visitor.principal.actor,
                 session_subject(visitor.session_id)[-12:], response.status_code)  # fmt: skip
    return response


def form_post(router: APIRouter, path: str) -> Callable[[Work], Work]:
    """Make ``work`` the POST route of ``path`` on ``router``, through ``post``; the path's
    parameters are in ``request.path_params``."""

    def route(work: Work) -> Work:
        async def endpoint(request: Request) -> Response:
            return await post(request, work)

        router.add_api_route(path, endpoint, methods=["POST"], name=work.__name__)
        return work

    return route


def attachment(body: bytes, media_type: str, filename: str) -> Response:
    """A download: never cached, saved under ``filename``."""
    return Response(body, media_type=media_type, headers={
        "Cache-Control": CACHE_PRIVATE,
        "Content-Disposition": f'attachment; filename="{filename}"',
    })  # fmt: skip


# Sign-up and the code ---------------------------------------------------------------------------


def _blank(request: Request, template: str) -> Response:
    """The e-mail form of ``template``, not yet filled in."""
    services_of(request)
    return page(request, template, {"error": "", "email": ""})


@router.get("/signup")
def signup_page(request: Request) -> Response:
    return _blank(request, "signup.html")


@form_post(router, "/signup")
def _signup(request: Request, form: forms.Form) -> Response:
    services = services_of(request)
    email, password = form.get("email").strip(), form.get("password")
    if password != form.get("password_again"):
        return page(request, "signup.html", {"error": "passwords_differ", "email": email}, 400)
    tag = i18n.LANG_TAGS[locale_of(request)]  # the mail templates take BCP 47 tags
    answer = services.accounts.sign_up(email, password, tag, client_of(request))
    if isinstance(answer, RateLimited):
        raise forms.TooManyAttempts(answer.retry_after_seconds)
    if isinstance(answer, (InputRefused, Refused)):
        return page(request, "signup.html", {"error": code_name(answer.code), "email": email}, 400)
    assert isinstance(answer, WebSignUp)
    context = {"email": email, "public_key": answer.public_key, "error": ""}
    return page(request, "code.html", context)


@router.get("/signup/code")
def code_page(request: Request) -> Response:
    """The code form is the answer to a sign-up (it carries the sign-up's key): asked for on
    its own (the language switch, a bookmark), it is the sign-up page."""
    return see_other("/signup")


@form_post(router, "/signup/code")
def _code(request: Request, form: forms.Form) -> Response:
    services = services_of(request)
    email, key = form.get("email").strip(), form.get("public_key")
    context = {"email": email, "public_key": key}
    answer = services.onboarding.verify_code(email, form.get("code"), client_of(request), key)
    if isinstance(answer, RateLimited):
        error = "rate_limited_key_works" if answer.confirmation_key_works else "rate_limited"
        return page(request, "code.html", {**context, "error": error}, 429)
    if isinstance(answer, CodeRefused):
        return page(request, "code.html", {**context, "error": "code_refused"}, 400)
    if isinstance(answer, Refused):
        return page(request, "code.html", {**context, "error": code_name(answer.code)}, 409)
    assert isinstance(answer, Verified)
    return logged_in(request, services, Principal.creditor(answer.creditor), "/me")


# Login ------------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request) -> Response:
    return _blank(request, "login.html")


@form_post(router, "/login")
def _login(request: Request, form: forms.Form) -> Response:
    services = services_of(request)
    email = form.get("email").strip()
    answer = services.accounts.login(email, form.get("password"), client_of(request))
    if isinstance(answer, RateLimited):
        raise forms.TooManyAttempts(answer.retry_after_seconds)
    if not isinstance(answer, LoggedIn):
        return page(request, "login.html", {"error": "login_refused", "email": email}, 400)
    return logged_in(request, services, Principal.creditor(answer.creditor), "/me")


def logged_in(
    request: Request, services: CreditorServices, principal: Principal, home: str
) -> Response:
    """A new session (never the id the browser came with: session fixation), recorded."""
    old = security.read_cookie(request, security.SESSION_COOKIE)
    if old:
        services.accounts.close_session(old[:web_token_max_chars])
    session_id = security.new_session_id()
    agent = request.headers.get("user-agent", "")
    services.accounts.open_session(session_id, principal, client_of(request), agent)
    log.info("web session opened for %s %s", principal.kind, principal.actor)
    response = see_other(home)
    https = security.is_https(request)
    security.set_cookie(response, security.SESSION_COOKIE, session_id, https=https,
                        max_age_seconds=None)  # fmt: skip
    security.clear_cookie(response, forms.FORM_COOKIE, https=https)
    request.state.visitor = forms.Visitor(session_id, principal, None)
    return response


@form_post(router, "/logout")
def _logout(request: Request, form: forms.Form) -> Response:
    services = services_of(request)
    visitor = forms.visitor_of(request, services.accounts)
    if visitor.session_id:
        services.accounts.close_session(visitor.session_id)
    response = see_other("/operator/login" if visitor.operator else "/login")
    security.clear_cookie(response, security.SESSION_COOKIE, https=security.is_https(request))
    return response


# My claims --------------------------------------------------------------------------------------


def _today(services: CreditorServices) -> str:
    return services.log.clock.now().date().isoformat()


@router.get("/me")
def me_page(request: Request) -> Response:
    services, creditor = creditor_of(request)
    today = _today(services)
    mine = services.log.read(lambda s: my_claims(s, creditor, today))
    context = {
        "mine": mine,
        "balances": balances(services.log.store, creditor),
        "assets": PAYOUT_ASSETS,
        "notice": request.query_params.get("done", "")[:32],
        "error": request.query_params.get("error", "")[:48],
        "withdrawals_open": services.withdrawals is not None,
        "log_key": services.log.read(lambda s: s.log_key),
        "hosted": services.onboarding.hosted_offer(creditor),
    }
    return page(request, "me.html", context)


@form_post(router, "/kyc")
def _kyc(request: Request, form: forms.Form) -> Response:
    services, creditor = creditor_of(request)
    upload = form.files.get("document")
    if upload is None or not upload.body:
        return see_other("/me?error=document_missing")
    answer = services.accounts.store_kyc_document(creditor, upload.media_type, upload.name,
                                                  upload.body)  # fmt: skip
    return _to_me(answer, "kyc")


#: The refusals of the hosted provider's session API: the page that says so (503).
PROVIDER_DOWN: Final = frozenset(
    {OnboardingCode.kyc_provider_unavailable, OnboardingCode.kyc_provider_refused}
)
HOSTED_RETURN_PATH: Final = "/kyc/hosted/return"


@form_post(router, "/kyc/hosted")
def _kyc_hosted(request: Request, form: forms.Form) -> Response:
    services, creditor = creditor_of(request)
    return_url = str(request.base_url).rstrip("/") + HOSTED_RETURN_PATH
    tag = i18n.LANG_TAGS[locale_of(request)]
    answer = services.onboarding.start_hosted_kyc(creditor, return_url, tag)
    if isinstance(answer, HostedStarted):
        log.info("web KYC hand-off of %s to %s session %s (resumed: %s)", creditor,
                 answer.provider, answer.session_id, answer.resumed)  # fmt: skip
        return see_other(answer.url)
    if answer.code in PROVIDER_DOWN:
        log.warning("web KYC hand-off of %s refused: %s", creditor, answer.detail)
        context = {"provider": _provider_name(services), "state": None,
                   "unavailable": code_name(answer.code)}  # fmt: skip
        return page(request, "kyc_hosted.html", context, 503)
    return _to_me(answer, "kyc")


@router.get(HOSTED_RETURN_PATH)
def kyc_hosted_return(request: Request) -> Response:
    """Back from the provider: no session needed (the cookie may stay behind, see the doc)."""
    services = services_of(request)
    if services.onboarding.hosted is None:
        raise StarletteHTTPException(404)
    creditor = forms.visitor_of(request, services.accounts).creditor
    state = None
    if creditor is not None:
        state = services.log.read(lambda s: s.claims.kyc_state(creditor))
    context = {"provider": _provider_name(services), "state": state, "unavailable": ""}
    return page(request, "kyc_hosted.html", context)


def _provider_name(services: CreditorServices) -> str:
    hosted = services.onboarding.hosted
    return "" if hosted is None else hosted.display_name


@form_post(router, "/link")
def _link(request: Request, form: forms.Form) -> Response:
    services, creditor = creditor_of(request)
    claim_id = form.get("claim_id")[:claim_id_length_max_chars]
    answer = services.onboarding.link(creditor, claim_id)
    return _to_me(answer, "linked")


@form_post(router, "/payout")
def _payout(request: Request, form: forms.Form) -> Response:
    services, creditor = creditor_of(request)
    asset = form.get("asset")
    if asset not in PAYOUT_ASSETS:
        return see_other("/me?error=asset_unknown")
    answer = services.accounts.elect_payout(creditor, asset)
    return _to_me(answer, "elected")


def _to_me(answer: object, done: str) -> Response:
    """Back to my claims: with the refusal's code, or with the notice of what was ``done``."""
    if isinstance(answer, Refused):
        return see_other(f"/me?error={_safe(code_name(answer.code))}")
    return see_other(f"/me?done={done}")


def _safe(code: str) -> str:
    return "".join(c for c in code if c.isascii() and (c.isalnum() or c == "_"))[:48]


@router.get("/claims/{claim_id}")
def claim_page(request: Request, claim_id: str) -> Response:
    services, creditor = creditor_of(request)
    found = services.reads.claim_page(creditor, claim_id, _today(services))  # per log position
    if found is None:  # another's claim, or none: the same answer
        raise StarletteHTTPException(404)
    context = {"claim": found.claim, "mine": found.mine, "received": found.received,
               "log_key": found.log_key}  # fmt: skip
    return portal_of(request).render(request, "claim.html", context, cache=CACHE_PRIVATE,
                                     reuse=found)  # fmt: skip


@router.get("/claims/{claim_id}/proofs/{seq}.json")
def claim_proof(request: Request, claim_id: str, seq: int) -> Response:
    services, creditor = creditor_of(request)
    if not services.log.read(lambda s: holds(s, creditor, claim_id)):
        raise StarletteHTTPException(404)
    seqs = {r.seq for r in claim_distributions(services.log.store, creditor, claim_id)}
    if seq not in seqs:
        raise StarletteHTTPException(404)
    try:
        document = inclusion_proof_document(services.log.store, seq)
    except ProofRequestError as exc:
        raise StarletteHTTPException(404) from exc
    body = json.dumps(document, indent=2, sort_keys=True) + "\n"
    return attachment(body.encode(), "application/json", f"inclusion-{claim_id}-{seq}.json")


@router.get("/me/liabilities/{asset}.json")
def liability_proof(request: Request, asset: str) -> Response:
    services, creditor = creditor_of(request)
    if services.liabilities is None or not asset or not set(asset) <= _ASSET_CHARS:
        raise StarletteHTTPException(404)
    try:
        proof = services.liabilities.proof(creditor, asset)
    except (NoSnapshotError, LookupError):  # the balance is newer than the signed statement
        return see_other("/me?error=liability_not_in_statement")
    return attachment(proof_to_json(proof), "application/json", f"liability-{asset}.json")
