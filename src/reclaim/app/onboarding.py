"""Onboarding: sign-up, e-mail proof by one-time code, KYC, and linking claims (issue 4).

Theory of operation
-------------------
0. ``sign_up_challenge(email)``: a short-lived server challenge bound to the address's
   commitment (``Challenges``; nothing is written, the same work for every address).
1. ``sign_up(email, password, public_key, locale, client_id, challenge, signature)``:
   **proof of possession** first — ``signature`` must be the new key's Ed25519 signature of
   ``sign_up_message(origin, challenge, email)`` over a live challenge of this address, spent
   once (else ``possession_not_proved``): nobody registers a key they do not hold, such as the
   KYC officer's, public at ``/log/keys`` (issue 9, finding 1). A key another actor holds is
   ``key_in_use`` (the core refuses it again at registration). Then rate limits per client and
   per (address commitment, key); then, **whether or not the address is in the register**, the
   password is hashed (argon2), the pending sign-up (address, hash, key, locale) goes to the vault
   under ``signup:<commitment>:<key tag>``, a code bound to ``sign_up_binding(key, hash)`` and a
   confirmation key are issued and the code e-mail (with the key's fingerprint) enqueued. Each
   (address, key) has its own pending sign-up and code: a second sign-up of an address with
   another key is kept beside the first, never in its place, and voids no code (finding 2).
   The answer is always ``SignUpAccepted`` (or ``RateLimited``, equally blind): the API never
   tells whether an address holds a claim or has a sign-up pending.
2. ``verify_code(email, code, client_id, public_key)``: rate-limited per client, and, for a
   short code, per address (``guesses_per_address``: bounds guesses however many keys strangers
   sign the address up with); a confirmation key is not counted there, so strangers spending
   it never lock the owner out. The pending sign-up of (address, key) is read and the code
   checked with its binding: a wrong, expired, used or exhausted code, or one of another key's
   sign-up, is one answer, ``CodeRefused``. The right code registers the creditor actor
   (``actor.registered`` by the gateway, with that key; the name is ``c-`` and the first 20 hex
   of the e-mail commitment) and, if the address holds claims, proves it
   (``creditor.email_proved`` by the gateway). If the creditor exists already, only a sign-up
   with one of its keys proves the address again (and sets the password); another key is
   ``creditor_exists`` (add it with ``add_key``).
   ``key_challenge(actor)`` and ``add_key(actor, public_key, challenge, signature)``: a creditor
   (authenticated by the API) adds a key whose signature of ``key_add_message`` over a
   challenge bound to the actor proves it (``actor.key_added``, signed by ``rules.key_signer``);
   the core refuses a key another actor holds (``key_in_use``).
3. ``submit_kyc(creditor, provider)``: opens a case with a ``KycProvider`` (``kyc.submitted``).
   A KYC officer decides manual cases (``decide_kyc``); a hosted provider's webhooks are
   verified by the adapter and applied by ``receive_webhook`` (idempotent by event id, stale
   events ignored), signed by the ``kyc-provider`` actor. An approval carries the commitment
   of the verified name, made as the register import makes the holder's.
   ``start_hosted_kyc(creditor, return_url, locale)`` (the portal's "verify with ..."): with a
   ``HostedKyc`` provider, a case reference, then a session at the provider (over HTTP; its
   failure is ``kyc_provider_unavailable`` / ``kyc_provider_refused`` and nothing is written),
   then the binding (session id, reference, URL) in the vault under ``kyc-session:<creditor>``,
   then ``kyc.submitted``; the answer carries the URL to redirect to. A creditor whose hosted
   case is pending gets its session again (a closed tab resumes). A webhook about a case opened
   with a session must name that session, and one opened without a session must name none
   (else ``kyc_session_mismatch``, recorded ``refused``): a decision of another creditor's
   session never lands on this one.
4. ``link(creditor, claim_id)`` (``claim.linked`` by the gateway): the core's ladder answers;
   the conflicts (``claim_already_linked``, ``kyc_name_mismatch``) are recorded in the log for
   the operator's queue (``kyc_queue``), where an officer may ``link_on_review``, ``unlink`` or
   ``close_conflict``, each with a reason.

Answers (values, never exceptions): ``SignUpAccepted``, ``Verified``, ``KycOpened``,
``Linked``, ``Decided``, ``WebhookApplied``, ``KeyAdded``; refusals
``RateLimited(retry_after_seconds)``, ``CodeRefused``, ``InputRefused(code, detail)`` (a malformed
address, password or key, or ``possession_not_proved``) and
``Refused(code, detail)`` (the core's code: ``kyc_transition_invalid``,
``claim_already_linked``, ``kyc_name_mismatch``, ``actor_not_authorised`` ...). Operating errors
(store, vault, mail) are the ports' exceptions.

Known limits: ``actor.key_added`` is signed by ``rules.key_signer`` (the admin) on the creditor's
proved request: the server holds no creditor key, and the log names the creditor and the key but
not who asked (the API request signature is not in the log). Strangers can mail an address more
code e-mails with keys of their own (each names its key's fingerprint and is useless to them):
sends per client bound it, not a per-address count, which they could spend to lock the owner
out. A pending hosted case always resumes its session: one the provider let expire comes back as
its ``resubmission_requested`` webhook, after which the creditor opens a new case and session.
Pending sign-ups written before issue 9 (``signup:<commitment>``) are never read again: their
owners sign up again. The state is read without the log's writer lock (as ``/log/keys`` does),
so a check made just before a concurrent change is decided again by the core, which has the last
word.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from reclaim.app.log_service import Accepted, LogService
from reclaim.app.ports import (
    Challenges,
    ChallengeVerdict,
    Clock,
    CodeStore,
    CodeVerdict,
    HostedKyc,
    IdentityCommitments,
    IssuedChallenge,
    KycProvider,
    KycProviderRefused,
    KycProviderUnavailable,
    KycWebhookEvent,
    KycWebhookLog,
    Outbox,
    PasswordHasher,
    RateLimiter,
    RateRule,
    SubjectNotFound,
    Vault,
    is_confirmation_key,
    normalise_code,
)
from reclaim.app.refusals import OnboardingCode, refused
from reclaim.app.refusals import Refused as Refused
from reclaim.core import limits
from reclaim.core.claims import (
    KYC_TRANSITIONS,
    SUBMIT,
    CloseConflict,
    Conflict,
    DecideKyc,
    Kyc,
    KycCode,
    LinkClaim,
    LinkCode,
    LinkOnReview,
    ProveEmail,
    SubmitKyc,
    UnlinkClaim,
)
from reclaim.core.machine import AddKey, RegisterActor
from reclaim.core.rejections import Code, Rejection
from reclaim.log.keys import VerifierKey

#: The one-time code's purpose in the code store.
EMAIL_PROOF: Final = "email_proof"
#: The outbox template of the code e-mail (``reclaim.adapters.mail.SIGN_UP_CODE``).
CODE_TEMPLATE: Final = "sign_up_code"
#: Challenge purposes: a sign-up's (subject: the e-mail commitment), a key addition's (the actor).
SIGN_UP_CHALLENGE: Final = "sign_up"
KEY_CHALLENGE: Final = "key_add"
#: The refusal of a sign-up or key addition whose new key did not sign the challenge.
POSSESSION_NOT_PROVED: Final = OnboardingCode.possession_not_proved.name
#: A malformed address, password or key, or a possession not proved: a ``Refused`` like the others.
InputRefused = Refused
#: Domain separation of what a new key signs (``sign_up_message``, ``key_add_message``).
SIGN_UP_PROOF_LABEL: Final = b"reclaim/sign-up-possession/v1"
KEY_ADD_PROOF_LABEL: Final = b"reclaim/key-add-possession/v1"
_BINDING_LABEL: Final = b"reclaim/sign-up-binding/v1\x00"
SIGNATURE_BYTES: Final = 64
#: Hex of SHA-256 of the public key that name a pending sign-up's slot (128 bits).
SLOT_KEY_HEX: Final = 32
#: Hex digits of a key fingerprint as the code e-mail shows it: four groups of four.
FINGERPRINT_HEX: Final = 16
#: Actor names: the creditor's is derived from the e-mail commitment.
CREDITOR_PREFIX: Final = "c-"
CREDITOR_COMMITMENT_HEX: Final = 20
_EMAIL_RE: Final = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


# Answers ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignUpAccepted:
    """The only answer to a sign-up that was not rate-limited: no detail, on purpose."""


@dataclass(frozen=True, slots=True)
class RateLimited:
    retry_after_seconds: int
    confirmation_key_works: bool = False  # code checks at the address: the mailed key still works


@dataclass(frozen=True, slots=True)
class KeyAdded:
    actor: str
    key_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class CodeRefused:
    """A code that proves nothing: wrong, expired, used, or burnt (the answer does not say)."""


@dataclass(frozen=True, slots=True)
class Verified:
    creditor: str
    email_proved: bool  # the address holds at least one claim, and is now proved


@dataclass(frozen=True, slots=True)
class KycOpened:
    provider: str
    reference: str


@dataclass(frozen=True, slots=True)
class HostedStarted:
    """A session at the hosted provider to send the creditor to (``resumed``: the one their
    pending case was opened with)."""

    provider: str
    session_id: str
    url: str = field(repr=False)
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class HostedOffer:
    """What the portal offers of the hosted provider: its name; whether the creditor may open a
    case now (none yet, or a resubmission asked for); whether their hosted case is pending."""

    provider: str
    can_start: bool
    in_progress: bool


@dataclass(frozen=True, slots=True)
class Linked:
    claim_id: str
    creditor: str
    seq: int | None  # None: it was linked already


@dataclass(frozen=True, slots=True)
class Decided:
    creditor: str
    state: str
    seq: int


@dataclass(frozen=True, slots=True)
class WebhookApplied:
    """``outcome``: ``applied``, ``duplicate`` (this event id was handled before) or ``stale``
    (older than the newest applied event of its case: ignored)."""

    outcome: str
    event_id: str


@dataclass(frozen=True, slots=True)
class CaseView:
    creditor: str
    state: str
    reason: str
    provider: str
    reference: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Queue:
    """The operator's KYC queue: open manual cases, and link conflicts (name mismatches to
    review, claims proved by two creditors)."""

    pending: tuple[CaseView, ...]
    conflicts: tuple[Conflict, ...]


@dataclass(frozen=True, slots=True)
class CreditorView:
    """What a creditor sees of their own onboarding."""

    creditor: str
    kyc: CaseView | None
    linked_claims: tuple[str, ...]
    proved_emails: int


# The rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OnboardingRules:
    """Rate rules (from ``reclaim.adapters.codes``, built by the composition root) and the
    actors that sign for the service."""

    sends_per_address: RateRule  # counted per (address commitment, key): issue 9, finding 2
    sends_per_client: RateRule
    checks_per_client: RateRule
    guesses_per_address: RateRule  # short-code checks per address commitment
    gateway: str = "gateway"
    key_signer: str = "admin"  # signs ``actor.key_added`` on a creditor's proved request
    kyc_provider_actor: str = "kyc-provider"
    code_lifetime_seconds: int = limits.one_time_code_lifetime_seconds


@dataclass(slots=True)
class OnboardingService:
    log: LogService
    vault: Vault
    identity: IdentityCommitments
    codes: CodeStore
    rate_limiter: RateLimiter
    outbox: Outbox
    passwords: PasswordHasher
    clock: Clock
    rules: OnboardingRules
    providers: Mapping[str, KycProvider]
    webhooks: KycWebhookLog
    challenges: Challenges
    #: The hosted provider's session API, when the settings name one (else not offered).
    hosted: HostedKyc | None = None
    _webhook_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # 1. Sign-up ---------------------------------------------------------------------------------

    def sign_up_challenge(self, email: str) -> IssuedChallenge | InputRefused:
        """A challenge for a sign-up of ``email``, bound to its commitment (not to the register:
        the same work for every address, and nothing is written)."""
        refused = _check_email(email)
        if refused is not None:
            return refused
        commitment = self.identity.email(email)
        return self.challenges.issue(SIGN_UP_CHALLENGE, commitment, self.clock.now())

    def sign_up(
        self, email: str, password: str, public_key_b64: str, locale: str, client_id: str,
        challenge: str = "", signature_b64: str = "",
    ) -> SignUpAccepted | RateLimited | InputRefused | Refused:  # fmt: skip
        refused = _check_sign_up(email, password)
        key = _verifier(public_key_b64)
        if refused is None and key is None:
            refused = InputRefused(
                OnboardingCode.public_key_invalid, "public_key is base64 of 32 bytes"
            )
        if refused is not None:
            return refused
        assert key is not None
        now = self.clock.now()
        commitment = self.identity.email(email)
        message = sign_up_message(self.log.state.origin, challenge, email)
        # Stops key squatting: only the holder of the private key can register it (finding 1).
        proof = self._possession(SIGN_UP_CHALLENGE, commitment, challenge, key, message,
                                 signature_b64, now)  # fmt: skip
        if proof is not None:
            return proof
        creditor = creditor_name(commitment)
        holder = self.log.state.public_key_holder.get(key.public_key)
        if holder is not None and holder != creditor:
            return Refused(Code.key_in_use, "this public key is another actor's: make a new one")
        if not self.challenges.spend(SIGN_UP_CHALLENGE, commitment, challenge, now):
            return InputRefused(
                OnboardingCode.possession_not_proved, "this challenge was used: ask for a new one"
            )
        slot = _slot(commitment, key.public_key)
        for rule, identifier in (
            (self.rules.sends_per_client, client_id),
            # Per (address, key): a stranger's sign-ups spend their own budget (finding 2).
            (self.rules.sends_per_address, slot),
        ):
            decision = self.rate_limiter.acquire(rule, identifier, now)
            if not decision.allowed:
                return RateLimited(decision.retry_after_seconds)
        # The same work for every address: nothing here depends on the register. Each (address,
        # key) has its own pending sign-up and code: a second sign-up of the address with
        # another key is kept beside the first, never in its place (finding 2).
        subject = _signup_subject(slot)
        password_hash = self.passwords.hash(password)
        key_text = key.to_text()
        fields = {
            "email": email.strip(),
            "password_hash": password_hash,
            "public_key": key_text,
            "locale": locale,
        }
        self.vault.put(subject, fields, now)
        binding = sign_up_binding(key_text, password_hash)
        issued = self.codes.issue(EMAIL_PROOF, slot, now, binding, with_token=True)
        payload = {
            "code": issued.code,
            "minutes": str(self.rules.code_lifetime_seconds // 60),
            "fingerprint": key_fingerprint(key.public_key),
            "key": issued.token,
        }
        self.outbox.enqueue(subject, "email", CODE_TEMPLATE, locale, payload, now)
        return SignUpAccepted()

    def _possession(
        self, purpose: str, subject: str, challenge: str, key: VerifierKey, message: bytes,
        signature_b64: str, now: datetime,
    ) -> InputRefused | None:  # fmt: skip
        """``None`` if ``signature_b64`` is ``key``'s signature of ``message`` and ``challenge``
        is a live challenge of this server for (purpose, subject); else the refusal."""
        verdict = self.challenges.check(purpose, subject, challenge, now)
        if verdict is not ChallengeVerdict.accepted:
            what = "expired" if verdict is ChallengeVerdict.challenge_expired else "not valid here"
            return InputRefused(
                OnboardingCode.possession_not_proved, f"the challenge is {what}: ask for a new one"
            )
        signature = _b64(signature_b64)
        if (
            signature is None
            or len(signature) != SIGNATURE_BYTES
            or not key.verify(signature, message)
        ):
            return InputRefused(
                OnboardingCode.possession_not_proved, "the signature is not the new key's"
            )
        return None

    # 2. The code comes back -----------------------------------------------------------------------

    def verify_code(
        self, email: str, code: str, client_id: str, public_key_b64: str = ""
    ) -> Verified | CodeRefused | RateLimited | Refused:
        now = self.clock.now()
        decision = self.rate_limiter.acquire(self.rules.checks_per_client, client_id, now)
        if not decision.allowed:
            return RateLimited(decision.retry_after_seconds)
        key = _verifier(public_key_b64)
        if key is None:  # a code is for the key it was issued with: without it, it proves nothing
            return CodeRefused()
        if not _EMAIL_RE.fullmatch(email.strip()) or len(email) > limits.email_length_max_bytes:
            return CodeRefused()
        commitment = self.identity.email(email)
        if not is_confirmation_key(normalise_code(code)):
            # Bounds guesses at an address across every stranger's key; once spent, the owner
            # still finishes with the confirmation key of their e-mail (finding 2).
            decision = self.rate_limiter.acquire(self.rules.guesses_per_address, commitment, now)
            if not decision.allowed:
                return RateLimited(decision.retry_after_seconds, confirmation_key_works=True)
        slot = _slot(commitment, key.public_key)
        try:
            pending = self.vault.get(_signup_subject(slot))
        except SubjectNotFound:  # no sign-up with this key: the same answer as a wrong code
            return CodeRefused()
        key_text = pending.text("public_key")
        binding = sign_up_binding(key_text, pending.text("password_hash"))
        if key_text != key.to_text():  # another key whose slot tag collides: prove nothing
            return CodeRefused()
        if self.codes.check(EMAIL_PROOF, slot, code, now, binding) is not CodeVerdict.accepted:
            return CodeRefused()
        creditor = creditor_name(commitment)
        if creditor not in self.log.state.actors:
            outcome = self.log.submit(RegisterActor(creditor, "creditor", key_text),
                                      self.rules.gateway)  # fmt: skip
            if isinstance(outcome, Rejection):
                return refused(outcome)
        elif self.log.state.public_key_holder.get(key.public_key) != creditor:
            return Refused(
                OnboardingCode.creditor_exists,
                "this address has an account: add this key from it (POST /onboarding/keys)",
            )
        self.vault.put(
            _creditor_subject(creditor),
            {k: pending.text(k) for k in ("email", "password_hash", "locale")},
            now,
        )
        if not self.log.state.claims.claims_of_email(commitment):
            return Verified(creditor, email_proved=False)
        outcome = self.log.submit(ProveEmail(creditor, commitment), self.rules.gateway)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return Verified(creditor, email_proved=True)

    # Keys -----------------------------------------------------------------------------------------

    def key_challenge(self, actor: str) -> IssuedChallenge:
        """A challenge for ``actor`` (authenticated by the caller) to add a key with."""
        return self.challenges.issue(KEY_CHALLENGE, actor, self.clock.now())

    def add_key(
        self, actor: str, public_key_b64: str, challenge: str, signature_b64: str
    ) -> KeyAdded | InputRefused | Refused:
        """Add a key to ``actor`` (who signed the request with a key they hold) once the new key
        signed ``key_add_message`` over a challenge issued to ``actor``; ``actor.key_added`` is
        signed by ``rules.key_signer`` and the core refuses a key another actor holds."""
        key = _verifier(public_key_b64)
        if key is None:
            return InputRefused(
                OnboardingCode.public_key_invalid, "public_key is base64 of 32 bytes"
            )
        now = self.clock.now()
        message = key_add_message(self.log.state.origin, challenge, actor)
        proof = self._possession(KEY_CHALLENGE, actor, challenge, key, message, signature_b64, now)
        if proof is not None:
            return proof
        if not self.challenges.spend(KEY_CHALLENGE, actor, challenge, now):
            return InputRefused(
                OnboardingCode.possession_not_proved, "this challenge was used: ask for a new one"
            )
        named = VerifierKey.from_public_bytes(actor, key.public_key)
        outcome = self.log.submit(AddKey(actor, named.to_text()), self.rules.key_signer)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return KeyAdded(actor, named.key_id.hex(), outcome.seq)

    # 3. KYC -------------------------------------------------------------------------------------

    def submit_kyc(self, creditor: str, provider: str) -> KycOpened | Refused:
        chosen = self.providers.get(provider)
        if chosen is None:
            return Refused(OnboardingCode.provider_unknown, f"providers: {sorted(self.providers)}")
        reference = chosen.open_case(creditor, self.clock.now())
        outcome = self.log.submit(SubmitKyc(creditor, chosen.name, reference), self.rules.gateway)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return KycOpened(chosen.name, reference)

    def start_hosted_kyc(
        self, creditor: str, return_url: str, locale: str
    ) -> HostedStarted | Refused:
        """A session at the hosted provider for ``creditor`` (the module doc, step 3)."""
        hosted = self.hosted
        if hosted is None:
            return Refused(OnboardingCode.provider_unknown, "no hosted KYC provider is set up")
        record = self.log.state.claims.kyc.get(creditor)
        if record is not None and record.state == "pending" and record.provider == hosted.name:
            bound = self._session_of(creditor)
            if bound is not None and bound[1] == record.reference:
                return HostedStarted(hosted.display_name, bound[0], bound[2], resumed=True)
        if record is not None and not _may_open_case(record.state):
            return Refused(KycCode.kyc_transition_invalid,
                           f"the identity check is {record.state}")  # fmt: skip
        now = self.clock.now()
        reference = hosted.open_case(creditor, now)
        try:
            session = hosted.start_session(creditor, reference, return_url, locale, now)
        except KycProviderUnavailable as exc:  # nothing written: the creditor tries again later
            return Refused(OnboardingCode.kyc_provider_unavailable, str(exc))
        except KycProviderRefused as exc:
            return Refused(OnboardingCode.kyc_provider_refused, str(exc))
        binding = {"session_id": session.session_id, "reference": reference, "url": session.url}
        self.vault.put(_session_subject(creditor), binding, now)  # before any webhook can come
        outcome = self.log.submit(SubmitKyc(creditor, hosted.name, reference), self.rules.gateway)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return HostedStarted(hosted.display_name, session.session_id, session.url)

    def hosted_offer(self, creditor: str) -> HostedOffer | None:
        """The hosted option as ``creditor`` sees it; ``None`` when there is no such provider."""
        hosted = self.hosted
        if hosted is None:
            return None
        record = self.log.state.claims.kyc.get(creditor)
        can_start = record is None or _may_open_case(record.state)
        in_progress = (
            record is not None and record.state == "pending" and record.provider == hosted.name
        )
        return HostedOffer(hosted.display_name, can_start, in_progress)

    def _session_of(self, creditor: str) -> tuple[str, str, str] | None:
        """(session id, reference, URL) of the creditor's last hosted session, if any."""
        try:
            found = self.vault.get(_session_subject(creditor))
        except SubjectNotFound:
            return None
        return found.text("session_id"), found.text("reference"), found.text("url")

    def _session_refusal(self, event: KycWebhookEvent) -> Refused | None:
        """Threat: a provider's decision on one creditor's session applied to another's case
        (a mixed-up or replayed delivery naming the wrong creditor). A case opened with a
        session takes decisions of that session only; a case opened without one (the API's
        ``POST /onboarding/kyc``), decisions that name no session."""
        bound = self._session_of(event.creditor)
        expected = bound[0] if bound is not None and bound[1] == event.reference else ""
        if event.session_id == expected:
            return None
        return Refused(
            OnboardingCode.kyc_session_mismatch,
            f"session {event.session_id!r} is not the one case {event.reference!r} of "
            f"{event.creditor!r} was opened with",
        )

    def decide_kyc(
        self, officer: str, creditor: str, state: str, reason: str = "", verified_name: str = ""
    ) -> Decided | Refused:
        """A KYC officer's decision on ``creditor``'s open case, signed by ``officer``."""
        record = self.log.state.claims.kyc.get(creditor)
        if record is None:
            return Refused(
                OnboardingCode.kyc_case_not_found, f"creditor {creditor!r} has no KYC case"
            )
        return self._decide(officer, creditor, state, reason, verified_name, record.reference)

    def receive_webhook(self, event: KycWebhookEvent) -> WebhookApplied | Refused:
        """Apply a verified webhook once, in order (the adapter verified its signature)."""
        with self._webhook_lock:
            now = self.clock.now()
            if self.webhooks.outcome(event.event_id) is not None:
                return WebhookApplied("duplicate", event.event_id)
            newest = self.webhooks.last_applied(event.reference)
            if newest is not None and event.occurred_at <= newest:
                self.webhooks.record(event, "stale", now)
                return WebhookApplied("stale", event.event_id)
            answer = self._session_refusal(event) or self._decide(
                self.rules.kyc_provider_actor, event.creditor, event.state, event.reason,
                event.verified_name, event.reference,
            )  # fmt: skip
            self.webhooks.record(event, "refused" if isinstance(answer, Refused) else "applied",
                                 now)  # fmt: skip
        if isinstance(answer, Refused):
            return answer
        return WebhookApplied("applied", event.event_id)

    def _decide(
        self, signer: str, creditor: str, state: str, reason: str, verified_name: str,
        reference: str,
    ) -> Decided | Refused:  # fmt: skip
        record = self.log.state.claims.kyc.get(creditor)
        if record is None or record.reference != reference:
            return Refused(
                OnboardingCode.kyc_case_mismatch, f"no open case {reference!r} of {creditor!r}"
            )
        name = " ".join(verified_name.split())
        approved = state == "approved"
        if approved and not 0 < len(name) <= limits.verified_name_length_max_chars:
            return Refused(
                OnboardingCode.verified_name_missing, "an approval names the verified person"
            )
        commitment = self.identity.holder_name(name) if approved else ""
        command = DecideKyc(creditor, state, record.provider, reference, reason, commitment)
        outcome = self.log.submit(command, signer)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        if approved:
            self.vault.put(_creditor_subject(creditor), {"verified_name": name}, self.clock.now())
        return Decided(creditor, state, outcome.seq)

    # 4. Linking ---------------------------------------------------------------------------------

    def link(self, creditor: str, claim_id: str) -> Linked | Refused:
        outcome = self.log.submit(LinkClaim(claim_id, creditor), self.rules.gateway)
        return _link_answer(outcome, claim_id, creditor)

    def link_on_review(
        self, officer: str, claim_id: str, creditor: str, reason: str
    ) -> Linked | Refused:
        outcome = self.log.submit(LinkOnReview(claim_id, creditor, reason), officer)
        return _link_answer(outcome, claim_id, creditor)

    def unlink(self, officer: str, claim_id: str, reason: str) -> Linked | Refused:
        claim = self.log.state.claims.claims.get(claim_id)
        holder = "" if claim is None else claim.linked_creditor or ""
        outcome = self.log.submit(UnlinkClaim(claim_id, reason), officer)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return Linked(claim_id, holder, outcome.seq)

    def close_conflict(
        self, officer: str, claim_id: str, creditor: str, reason: str
    ) -> Linked | Refused:
        outcome = self.log.submit(CloseConflict(claim_id, creditor, reason), officer)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return Linked(claim_id, creditor, outcome.seq)

    # Queries --------------------------------------------------------------------------------------

    def kyc_queue(self, limit: int = limits.kyc_queue_page_max) -> Queue:
        claims = self.log.state.claims
        manual = {p.name for p in self.providers.values() if p.name == "manual"}
        pending = [
            _case(record)
            for _, record in sorted(claims.kyc.items())
            if record.state == "pending" and record.provider in manual
        ]
        conflicts = [c for _, c in sorted(claims.conflicts.items())]
        return Queue(tuple(pending[:limit]), tuple(conflicts[:limit]))

    def creditor_view(self, creditor: str) -> CreditorView:
        claims = self.log.state.claims
        record = claims.kyc.get(creditor)
        return CreditorView(
            creditor,
            None if record is None else _case(record),
            tuple(sorted(claims.links.get(creditor, ()))),
            len(claims.proofs.get(creditor, {})),
        )

    def role_of(self, actor: str) -> str | None:
        found = self.log.state.actors.get(actor)
        return None if found is None else found.role


def creditor_name(email_commitment: str) -> str:
    """The creditor actor of an e-mail commitment: ``c-`` and its first 20 hex (80 bits)."""
    return CREDITOR_PREFIX + email_commitment[:CREDITOR_COMMITMENT_HEX]


def _slot(commitment: str, public_key: bytes) -> str:
    """A pending sign-up's slot: the address commitment and its key's tag."""
    return f"{commitment}:{hashlib.sha256(public_key).hexdigest()[:SLOT_KEY_HEX]}"


def _signup_subject(slot: str) -> str:
    return f"signup:{slot}"


def sign_up_message(origin: str, challenge: str, email: str) -> bytes:
    """What the new key signs at sign-up: ``SIGN_UP_PROOF_LABEL`` 0x00 the log's origin 0x00
    the challenge 0x00 the e-mail exactly as sent. The challenge is bound to the address's
    commitment by the server; the commitment itself is never handed out (the register's
    commitments are public: it would tell who holds a claim)."""
    return b"\x00".join((SIGN_UP_PROOF_LABEL, origin.encode(), challenge.encode(), email.encode()))


def key_add_message(origin: str, challenge: str, actor: str) -> bytes:
    """What a new key signs to be added: ``KEY_ADD_PROOF_LABEL`` 0x00 origin 0x00 challenge
    0x00 the actor's name."""
    return b"\x00".join((KEY_ADD_PROOF_LABEL, origin.encode(), challenge.encode(), actor.encode()))


def sign_up_binding(key_text: str, password_hash: str) -> bytes:
    """The digest a sign-up code is bound to: SHA-256 of the label, the key and the hash."""
    message = _BINDING_LABEL + key_text.encode() + b"\x00" + password_hash.encode()
    return hashlib.sha256(message).digest()


def key_fingerprint(public_key: bytes) -> str:
    """The key's fingerprint the code e-mail shows: the first 16 hex of SHA-256 of its 32
    bytes, in four groups (``a1b2 c3d4 e5f6 0718``); a client shows the same."""
    digest = hashlib.sha256(public_key).hexdigest()[:FINGERPRINT_HEX]
    return " ".join(digest[i : i + 4] for i in range(0, FINGERPRINT_HEX, 4))


def _creditor_subject(creditor: str) -> str:
    return f"creditor:{creditor}"


def _may_open_case(kyc_state: str) -> bool:
    """Whether a creditor in ``kyc_state`` may open a KYC case (the core's table)."""
    return SUBMIT in KYC_TRANSITIONS[kyc_state]


def _session_subject(creditor: str) -> str:
    return f"kyc-session:{creditor}"


def _check_email(email: str) -> InputRefused | None:
    address = email.strip()
    if len(address.encode()) > limits.email_length_max_bytes or not _EMAIL_RE.fullmatch(address):
        return InputRefused(OnboardingCode.email_invalid, "not an e-mail address")
    return None


def _check_sign_up(email: str, password: str) -> InputRefused | None:
    refused = _check_email(email)
    if refused is not None:
        return refused
    if not limits.password_length_min_chars <= len(password) <= limits.password_length_max_chars:
        return InputRefused(
            OnboardingCode.password_invalid,
            f"a password has {limits.password_length_min_chars} to "
            f"{limits.password_length_max_chars} characters",
        )
    return None


def _verifier(public_key_b64: str) -> VerifierKey | None:
    """The verifier key of a base64 Ed25519 public key (the creditor's API key)."""
    raw = _b64(public_key_b64)
    if raw is None:
        return None
    try:
        return VerifierKey.from_public_bytes("creditor", raw)
    except ValueError:
        return None


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _case(record: Kyc) -> CaseView:
    return CaseView(
        record.creditor, record.state, record.reason, record.provider, record.reference,
        record.updated_at,
    )  # fmt: skip


def _link_answer(outcome: Accepted | Rejection, claim_id: str, creditor: str) -> Linked | Refused:
    if isinstance(outcome, Rejection):
        return refused(outcome)
    (result,) = outcome.results
    if not result.accepted:
        return Refused(result.code, "recorded for the operator's review")
    if result.code is LinkCode.link_exists:
        return Linked(claim_id, creditor, None)
    return Linked(claim_id, creditor, outcome.seq)
