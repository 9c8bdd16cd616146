"""The onboarding API: sign-up, the e-mail code, KYC, linking, the operator's queue, webhooks.

``install(app, service, webhook, operators)`` includes ``router``; the logic is in
``reclaim.app.onboarding.OnboardingService`` (routes parse, call and render only).

| route                                     | auth                         | instruction        |
| ----------------------------------------- | ---------------------------- | ------------------ |
| ``POST /onboarding/challenge``            | none                         |                    |
| ``POST /onboarding/signup``               | none (rate-limited), the new key's proof |        |
| ``POST /onboarding/verify``               | none (rate-limited)          |                    |
| ``GET /onboarding/keys/challenge``        | signed, creditor             | ``keyChallengeQuery`` |
| ``POST /onboarding/keys?public_key=&challenge=&signature=`` | signed, creditor | ``keyAdd`` |
| ``POST /onboarding/kyc?provider=``        | signed, creditor             | ``kycSubmit``      |
| ``POST /onboarding/link?claim_id=``       | signed, creditor             | ``claimLink``      |
| ``GET /onboarding/me``                    | signed, creditor             | ``onboardingQuery``|
| ``POST /webhooks/kyc``                    | HMAC (``X-Reclaim-Kyc-Signature``) |              |
| ``GET /operator/kyc/queue``               | signed, kyc_officer or admin | ``kycQueueQuery``  |
| ``POST /operator/kyc/decisions?creditor=&state=&reason=&verified_name=`` | same | ``kycDecide`` |
| ``POST /operator/claims/{claim_id}/link?creditor=&reason=`` | same       | ``claimLinkOnReview`` |
| ``POST /operator/claims/{claim_id}/unlink?reason=`` | same               | ``claimUnlink``    |
| ``POST /operator/claims/{claim_id}/conflicts/close?creditor=&reason=`` | same | ``conflictClose``|

Bodies of the two unsigned routes are JSON objects (unknown fields refused, lengths bounded);
signed routes take their parameters in the query (signed requests do not sign bodies yet).

Proof of possession (issue 9, finding 1): ``/onboarding/challenge`` gives a challenge bound to
the address (``{"challenge", "expires_at"}``, ten minutes, once); the sign-up carries it and
``signature``, base64 of the new key's Ed25519 signature of ``"reclaim/sign-up-possession/v1"
0x00 origin 0x00 challenge 0x00 email`` (the e-mail exactly as in the body, the log's origin as
in its checkpoints). A key addition signs ``"reclaim/key-add-possession/v1" 0x00 origin 0x00
challenge 0x00 actor`` over a challenge from ``/onboarding/keys/challenge``. ``/onboarding/verify``
carries the ``public_key`` of the sign-up the code is for (finding 2); the code e-mail shows that
key's fingerprint (the first 16 hex of SHA-256 of its 32 bytes, ``a1b2 c3d4 e5f6 0718``), which
a client shows too, and a confirmation key that is accepted as ``code``.

No enumeration: ``/onboarding/challenge`` answers ``200`` with a fresh challenge and
``/onboarding/signup`` ``202`` with the same bytes for every address that is well formed, in the
register or not, with a sign-up pending or not; their refusals (``possession_not_proved``,
``rate_limited``) are the same for both too. ``/onboarding/verify`` answers one ``code_invalid``
for every wrong, expired, used or burnt code, and for a code of another key's sign-up.

Problems (problem+json; ``code`` is stable): ``invalid_parameter`` 400 (a body or query that does
not parse), ``email_invalid`` / ``password_invalid`` / ``public_key_invalid`` 400,
``possession_not_proved`` 400 (no signature, another key's, a challenge of another address or
actor, expired, forged or spent), ``key_in_use`` 409 (another actor holds the key),
``creditor_exists`` 409 (the address has an account with another key: add the key from it),
``code_invalid`` 400, ``rate_limited`` 429 with ``Retry-After`` (for code checks at an address,
the detail says the confirmation key still works), ``forbidden`` 403 (a signed
request by an actor of the wrong role), ``operator_key_not_held`` 403 (the server holds no key
to sign for this operator), ``webhook_signature_invalid`` 401, ``webhook_malformed`` 400,
``webhook_not_configured`` 404, ``kyc_session_mismatch`` 409 (the webhook's ``session_id`` is
not the one the named creditor's case was opened with, or the case had none),
``claim_not_found`` 404, and the core's refusals of a link or a
KYC step 409 (``claim_already_linked``, ``kyc_name_mismatch``, ``kyc_not_approved``,
``email_not_proved``, ``kyc_transition_invalid``, ``kyc_case_mismatch`` ...) or 400 when the
input was malformed (``reason_invalid``, ``reason_unknown``, ``kyc_state_unknown`` ...).

Known limit: ``verified_name`` of a manual decision travels in the signed query string, so a
reverse proxy's access log may record it; sign bodies before operators use it in production.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Annotated, Final, NoReturn

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.types import DecoratedCallable
from pydantic import BaseModel, ConfigDict, Field

from reclaim.app.locales import supported_locale
from reclaim.app.onboarding import (
    CaseView,
    CodeRefused,
    InputRefused,
    Linked,
    OnboardingService,
    RateLimited,
    Refused,
)
from reclaim.app.ports import KycWebhook, WebhookMalformed, WebhookSignatureInvalid
from reclaim.app.refusals import OnboardingCode
from reclaim.core import limits
from reclaim.entrypoints.api import auth
from reclaim.entrypoints.api.auth import AuthenticatedActor, instruction
from reclaim.entrypoints.api.deps import signed
from reclaim.entrypoints.api.problems import (
    FORBIDDEN,
    OPERATOR_KEY_NOT_HELD,
    RATE_LIMITED,
    WEBHOOK_MALFORMED,
    WEBHOOK_NOT_CONFIGURED,
    WEBHOOK_SIGNATURE_INVALID,
    BodyTooLargeError,
    RefusedError,
    refused_error,
)
from reclaim.entrypoints.routing import Router

OPERATOR_ROLES: Final = frozenset({"kyc_officer", "admin"})
NO_STORE: Final = {"Cache-Control": "no-store"}
SIGN_UP_ANSWER: Final = (
    b'{"status":"accepted","detail":"If this address can be used, a code is on its way to it."}'
)

router = Router(tags=["onboarding"])
#: Query parameters the operator routes share: an operator's reason, recorded in the log, and
#: a creditor actor's name.
Reason = Annotated[str, Query(min_length=1, max_length=200)]
CreditorName = Annotated[str, Query(max_length=63)]


# Bodies ----------------------------------------------------------------------------------------


class ChallengeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=limits.email_length_max_bytes)


class Challenge(BaseModel):
    challenge: str
    expires_at: str


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=limits.email_length_max_bytes)
    password: str = Field(min_length=1, max_length=limits.password_length_max_chars)
    public_key: str = Field(description="base64 of the 32-byte Ed25519 API key", max_length=64)
    locale: str = Field(default="en", max_length=35)
    challenge: str = Field(default="", description="from POST /onboarding/challenge",
                           max_length=128)  # fmt: skip
    signature: str = Field(
        default="", max_length=128,
        description="base64 of the new key's Ed25519 signature of sign_up_message",
    )  # fmt: skip


class VerifyCode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=limits.email_length_max_bytes)
    code: str = Field(min_length=1, max_length=64)
    public_key: str = Field(
        default="", max_length=64, description="the API key of the sign-up the code is for"
    )


class VerifiedCreditor(BaseModel):
    creditor: str
    email_proved: bool


class KycCase(BaseModel):
    creditor: str
    state: str
    reason: str
    provider: str
    reference: str
    updated_at: str


class Me(BaseModel):
    creditor: str
    kyc_state: str
    kyc_reason: str
    kyc: KycCase | None
    linked_claims: list[str]
    proved_emails: str


class Conflict(BaseModel):
    claim_id: str
    creditor: str
    code: str
    holder: str
    opened_at: str


class KycQueue(BaseModel):
    pending: list[KycCase]
    conflicts: list[Conflict]


class Outcome(BaseModel):
    outcome: str
    seq: str | None = None
    claim_id: str | None = None
    creditor: str | None = None
    reference: str | None = None
    state: str | None = None


# Wiring ----------------------------------------------------------------------------------------


def install(
    app: FastAPI,
    service: OnboardingService,
    webhook: KycWebhook | None,
    operators: Collection[str],
) -> None:
    """Serve the onboarding routes; ``operators``: the operator actors whose keys this server
    holds (it signs their decisions with them)."""
    auth.install(app)
    app.state.onboarding = service
    app.state.kyc_webhook = webhook
    app.state.operator_signers = frozenset(operators)
    app.include_router(router)


def _service(request: Request) -> OnboardingService:
    service = request.app.state.onboarding
    assert isinstance(service, OnboardingService), "install() stores the service"
    return service


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _raise_refusal(answer: Refused | InputRefused | RateLimited | CodeRefused) -> NoReturn:
    if isinstance(answer, RateLimited):
        retry = str(max(1, answer.retry_after_seconds))
        detail = f"too many attempts; retry in {retry} s"
        if answer.confirmation_key_works:
            detail += ", or enter the confirmation key from the e-mail instead of the code"
        raise RefusedError(RATE_LIMITED, detail, {"Retry-After": retry})
    if isinstance(answer, CodeRefused):
        wrong = "the code is wrong, expired or used: ask for a new one"
        raise refused_error(Refused(OnboardingCode.code_invalid, wrong))
    raise refused_error(answer)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _creditor(request: Request, actor: str) -> str:
    if _service(request).role_of(actor) != "creditor":
        raise RefusedError(FORBIDDEN, f"{actor!r} is not a creditor")
    return actor


def _operator(request: Request, actor: str) -> str:
    if _service(request).role_of(actor) not in OPERATOR_ROLES:
        raise RefusedError(FORBIDDEN, f"{actor!r} is not a KYC officer or an admin")
    if actor not in request.app.state.operator_signers:
        raise RefusedError(OPERATOR_KEY_NOT_HELD, f"this server holds no key of {actor!r}")
    return actor


def _case(view: CaseView) -> KycCase:
    return KycCase(
        creditor=view.creditor, state=view.state, reason=view.reason, provider=view.provider,
        reference=view.reference, updated_at=view.updated_at,
    )  # fmt: skip


def _linked(answer: Linked | Refused, outcome: str) -> Outcome:
    if isinstance(answer, Refused):
        _raise_refusal(answer)
    assert isinstance(answer, Linked)
    seq = None if answer.seq is None else str(answer.seq)
    return Outcome(
        outcome=outcome if answer.seq is not None else "unchanged",
        seq=seq, claim_id=answer.claim_id, creditor=answer.creditor,
    )  # fmt: skip


# Routes: sign-up and the code ---------------------------------------------------------------------


@router.post("/onboarding/challenge", response_model=Challenge)
def sign_up_challenge(body: ChallengeRequest, request: Request, response: Response) -> Challenge:
    """A challenge for a sign-up of this address: sign ``sign_up_message`` with the new key and
    send the signature with the sign-up. The same answer for every address."""
    answer = _service(request).sign_up_challenge(body.email)
    if isinstance(answer, InputRefused):
        _raise_refusal(answer)
    response.headers.update(NO_STORE)
    return Challenge(challenge=answer.challenge, expires_at=_utc(answer.expires_at))


@router.post("/onboarding/signup", status_code=202, response_class=Response)
def sign_up(body: SignUp, request: Request) -> Response:
    """Sign up with the e-mail of the old account, proving you hold the new key; a one-time code
    is mailed to the address. The answer is the same whether or not the address is in the
    register, and whether or not a sign-up of it with another key is pending."""
    answer = _service(request).sign_up(
        body.email, body.password, body.public_key, supported_locale(body.locale),
        _client(request), body.challenge, body.signature,
    )  # fmt: skip
    if not isinstance(answer, InputRefused | RateLimited | Refused):
        return Response(SIGN_UP_ANSWER, 202, NO_STORE, media_type="application/json")
    _raise_refusal(answer)


@router.post("/onboarding/verify", response_model=VerifiedCreditor)
def verify(body: VerifyCode, request: Request, response: Response) -> VerifiedCreditor:
    """Enter the code (or the confirmation key) with the API key you signed up with: registers
    the creditor with that key and proves the address."""
    answer = _service(request).verify_code(body.email, body.code, _client(request),
                                           body.public_key)  # fmt: skip
    if isinstance(answer, CodeRefused | RateLimited | Refused):
        _raise_refusal(answer)
    response.headers.update(NO_STORE)
    return VerifiedCreditor(creditor=answer.creditor, email_proved=answer.email_proved)


# Routes: the creditor's signed requests ----------------------------------------------------------


@router.get(
    "/onboarding/keys/challenge",
    response_model=Challenge,
    openapi_extra=instruction("keyChallengeQuery"),
)
def key_challenge(request: Request, response: Response, actor: AuthenticatedActor) -> Challenge:
    """A challenge for adding a key: the new key signs ``key_add_message`` over it."""
    answer = _service(request).key_challenge(_creditor(request, actor))
    response.headers.update(NO_STORE)
    return Challenge(challenge=answer.challenge, expires_at=_utc(answer.expires_at))


@router.post("/onboarding/keys", response_model=Outcome, openapi_extra=instruction("keyAdd"))
def add_key(
    request: Request,
    actor: AuthenticatedActor,
    public_key: Annotated[str, Query(max_length=64)],
    challenge: Annotated[str, Query(max_length=128)],
    signature: Annotated[str, Query(max_length=128)],
) -> Outcome:
    """Add an API key (signed with a key you hold; the new key signs the challenge). A key any
    actor holds is refused (``key_in_use``, 409)."""
    answer = _service(request).add_key(_creditor(request, actor), public_key, challenge,
                                       signature)  # fmt: skip
    if isinstance(answer, InputRefused | Refused):
        _raise_refusal(answer)
    return Outcome(outcome="added", seq=str(answer.seq), creditor=actor, reference=answer.key_id)


@router.post("/onboarding/kyc", response_model=Outcome, openapi_extra=instruction("kycSubmit"))
def submit_kyc(
    request: Request,
    actor: AuthenticatedActor,
    provider: Annotated[str, Query(max_length=32)] = "hosted",
) -> Outcome:
    """Open a KYC case with a provider (``manual``: the operator's review queue; ``hosted``)."""
    answer = _service(request).submit_kyc(_creditor(request, actor), provider)
    if isinstance(answer, Refused):
        _raise_refusal(answer)
    return Outcome(outcome="pending", creditor=actor, reference=answer.reference, state="pending")


@router.post("/onboarding/link", response_model=Outcome, openapi_extra=instruction("claimLink"))
def link(
    request: Request,
    actor: AuthenticatedActor,
    claim_id: Annotated[str, Query(max_length=limits.claim_id_length_max_chars)],
) -> Outcome:
    """Link a claim whose e-mail you proved, once your KYC is approved under its holder's name."""
    return _linked(_service(request).link(_creditor(request, actor), claim_id), "linked")


@router.get("/onboarding/me", response_model=Me, openapi_extra=instruction("onboardingQuery"))
def me(request: Request, response: Response, actor: AuthenticatedActor) -> Me:
    """Your KYC state (with the reason of a refusal) and your linked claims."""
    view = _service(request).creditor_view(_creditor(request, actor))
    response.headers.update(NO_STORE)
    return Me(
        creditor=view.creditor,
        kyc_state="not_started" if view.kyc is None else view.kyc.state,
        kyc_reason="" if view.kyc is None else view.kyc.reason,
        kyc=None if view.kyc is None else _case(view.kyc),
        linked_claims=list(view.linked_claims),
        proved_emails=str(view.proved_emails),
    )


# Routes: the hosted provider's webhook ---------------------------------------------------------


@router.post("/webhooks/kyc", response_model=Outcome, tags=["kyc"])
async def kyc_webhook(request: Request) -> Outcome:
    """A hosted KYC provider's decision, HMAC-signed (``X-Reclaim-Kyc-Signature``)."""
    webhook: KycWebhook | None = request.app.state.kyc_webhook
    if webhook is None:
        raise RefusedError(WEBHOOK_NOT_CONFIGURED, "this server has no hosted KYC provider")
    assert webhook is not None
    body = await request.body()
    if len(body) > limits.kyc_webhook_body_max_bytes:
        raise BodyTooLargeError("a KYC webhook is small")
    service = _service(request)
    try:
        header = request.headers.get(webhook.signature_header)
        event = webhook.verify(header, body, service.clock.now())
    except WebhookSignatureInvalid as exc:
        raise RefusedError(WEBHOOK_SIGNATURE_INVALID, str(exc)) from None
    except WebhookMalformed as exc:
        raise RefusedError(WEBHOOK_MALFORMED, str(exc)) from None
    answer = service.receive_webhook(event)
    if isinstance(answer, Refused):
        _raise_refusal(answer)
    return Outcome(outcome=answer.outcome, reference=event.reference, creditor=event.creditor)


# Routes: the operator ---------------------------------------------------------------------------


@router.get(
    "/operator/kyc/queue",
    response_model=KycQueue,
    tags=["operator"],
    openapi_extra=instruction("kycQueueQuery"),
)
def kyc_queue(request: Request, response: Response, actor: AuthenticatedActor) -> KycQueue:
    """Manual KYC cases waiting for a decision, and link conflicts to review."""
    _operator(request, actor)
    queue = _service(request).kyc_queue()
    response.headers.update(NO_STORE)
    return KycQueue(
        pending=[_case(c) for c in queue.pending],
        conflicts=[
            Conflict(
                claim_id=c.claim_id,
                creditor=c.creditor,
                code=c.code,
                holder=c.holder,
                opened_at=c.opened_at,
            )
            for c in queue.conflicts
        ],
    )


def _operator_route(path: str, name: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """An operator's signed ``POST``: its instruction ``name``, an ``Outcome``."""
    return signed(router.post, path, Outcome, name, tags=["operator"])


def _review(claim_id: str, creditor: CreditorName, reason: Reason) -> tuple[str, str, str]:
    """The parameters of an operator's review of a claim: the claim, the creditor, why."""
    return claim_id, creditor, reason


#: ``(claim_id, creditor, reason)`` of a review (a link on review, a conflict closed).
Review = Annotated[tuple[str, str, str], Depends(_review)]


@_operator_route("/operator/kyc/decisions", "kycDecide")
def decide_kyc(
    request: Request,
    actor: AuthenticatedActor,
    creditor: CreditorName,
    state: Annotated[str, Query(max_length=32)],
    reason: Annotated[str, Query(max_length=64)] = "",
    verified_name: Annotated[str, Query(max_length=limits.verified_name_length_max_chars)] = "",
) -> Outcome:
    """Decide a creditor's open KYC case (approve with the verified name, reject with a reason
    code, or ask for a resubmission)."""
    officer = _operator(request, actor)
    answer = _service(request).decide_kyc(officer, creditor, state, reason, verified_name)
    if isinstance(answer, Refused):
        _raise_refusal(answer)
    return Outcome(outcome="decided", seq=str(answer.seq), creditor=creditor, state=state)


@_operator_route("/operator/claims/{claim_id}/link", "claimLinkOnReview")
def link_on_review(request: Request, actor: AuthenticatedActor, review: Review) -> Outcome:
    """Link after manual review of a name mismatch."""
    officer = _operator(request, actor)
    return _linked(_service(request).link_on_review(officer, *review), "linked")


@_operator_route("/operator/claims/{claim_id}/unlink", "claimUnlink")
def unlink(request: Request, actor: AuthenticatedActor, claim_id: str, reason: Reason) -> Outcome:
    """Unlink a claim from its creditor, with a reason (recorded in the log)."""
    officer = _operator(request, actor)
    return _linked(_service(request).unlink(officer, claim_id, reason), "unlinked")


@_operator_route("/operator/claims/{claim_id}/conflicts/close", "conflictClose")
def close_conflict(request: Request, actor: AuthenticatedActor, review: Review) -> Outcome:
    """Close a link conflict with a reason."""
    officer = _operator(request, actor)
    return _linked(_service(request).close_conflict(officer, *review), "closed")
