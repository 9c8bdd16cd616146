"""The web portal's accounts: sign-up for a person without a key, login, recorded sessions,
the payout election and the KYC document, over the same services the API uses.

Theory of operation
-------------------
- **Sign-up on the web** (``WebAccounts.sign_up``): a person has no Ed25519 key, so the portal
  makes one for the sign-up (``SignerKey.generate``), signs the onboarding challenge with it (the
  proof of possession ``OnboardingService.sign_up`` asks for) and forgets the private half at
  once: the creditor actor is registered with a key nobody holds, and everything the creditor
  does on the web is signed by the **gateway** for them (DESIGN.md §3). The public half travels
  with the code form (it names the pending sign-up; it is not a secret: a code is bound to it
  and to the password's hash, so another key proves nothing). Then ``verify_code`` as the API.
- **Login** (``login``): the address's commitment names the creditor (``creditor_name``); its
  vault record (written by ``verify_code`` once the code came back) holds the argon2 hash. An
  unknown address spends the time of a ``verify`` (``verify_absent``) and gets the same answer
  as a wrong password (``LoginRefused``): nobody learns who has an account. Attempts are
  counted per client and per address (``LOGIN_PER_CLIENT``, ``LOGIN_PER_ADDRESS``) in the same
  shared buckets as the code checks: a password is not guessed faster than a code.
- **Sessions** (``open_session``, ``session``, ``close_session``): a session id is 256 random
  bits; the vault keeps ``websession:<SHA-256 of the id>`` (the creditor, when and from where
  it was opened, its expiry) — the recorded session of DESIGN.md §3, encrypted as PII and
  erasable; the id itself is never stored. ``session`` answers who a live record is, else
  ``None``. A live record, once read, is kept in memory (``SessionCache``: who it is and until
  when, never the id) so a page does not read and decrypt the vault each time; its expiry is
  checked on every use, and ``close_session`` (logout, a new login) drops it once the vault's
  record is erased — a lookup that raced the close keeps nothing. The cache is the serving
  process's: every session of a data directory is closed through the one ``reclaim serve``
  process (the log's only writer) that serves it. Each POST a session makes is logged by the
  portal with the record's name (the last 12 hex of its digest), the path and the answer, so
  an action signed by the gateway traces back to the session that asked for it.
- ``elect_payout``: ``ElectPayout`` signed by the gateway, as ``POST
  /api/v1/distributions/election`` does.
- ``store_kyc_document``: the uploaded document goes to the vault (``kycdoc:<creditor>``,
  encrypted per creditor) and the case is opened with the manual provider
  (``OnboardingService.submit_kyc``): the officer reads it in the queue (``kyc_document``).

The CSRF secret (``csrf_secret``): the portal's form tokens are HMACs under a key derived from
the operator's ``codes.key`` (the key of one-time codes at rest, created once by ``reclaim keys
init`` with mode 0600 and refused when others can read it), under a label of its own, so every
process serving one data directory, and the same one after a restart, accepts the forms the
others rendered, and a form of another data directory is refused. Replacing ``codes.key`` voids
the live codes and the live forms alike; no token or code is valid under the other's key.

Answers are values: ``LoginRefused``, ``RateLimited`` (onboarding's), ``Refused(code, detail)``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from reclaim.app.log_service import LogService
from reclaim.app.onboarding import (
    InputRefused,
    KycOpened,
    OnboardingService,
    RateLimited,
    Refused,
    SignUpAccepted,
    creditor_name,
    sign_up_message,
)
from reclaim.app.ports import PiiValue, RateRule, SubjectErased, SubjectNotFound
from reclaim.app.refusals import PortalCode, refused
from reclaim.core import limits
from reclaim.core.distribution.commands import ElectPayout
from reclaim.core.events import format_time
from reclaim.core.limits import kyc_document_max_bytes
from reclaim.core.rejections import Rejection
from reclaim.log.keys import SignerKey

#: Login attempts: per client address (many people share one behind a carrier's NAT, so it is
#: the looser), and per e-mail address or operator name (any client: what stops guessing).
LOGIN_PER_CLIENT: Final = RateRule("web_login_per_client", 60, 15 * 60)
LOGIN_PER_ADDRESS: Final = RateRule("web_login_per_address", 10, 15 * 60)
#: A session lives this long after login (then the creditor logs in again).
session_lifetime_seconds: Final = 8 * 3600
KYC_MEDIA_TYPES: Final = frozenset({"image/jpeg", "image/png", "application/pdf"})
MANUAL: Final = "manual"
_SESSION_PREFIX: Final = "websession:"
_OPERATOR_PREFIX: Final = "webop:"
CREDITOR: Final = "creditor"
OPERATOR: Final = "operator"
#: The console's roles: the log's operator roles that sign, and the auditor, who only reads.
AUDITOR: Final = "auditor"
OPERATOR_ROLES: Final = frozenset({"admin", "kyc_officer", "treasury", AUDITOR})
_KYC_PREFIX: Final = "kycdoc:"
#: What the CSRF secret is derived under (a key of its own: no code MAC is ever a form token).
CSRF_SECRET_LABEL: Final = b"reclaim web csrf secret v1"


def csrf_secret(codes_secret: bytes) -> bytes:
    """The portal's CSRF secret: ``HMAC-SHA256(codes_secret, CSRF_SECRET_LABEL)`` (see the
    module doc), the same in every process over one key directory."""
    assert len(codes_secret) >= 32, "a root secret of at least 256 bits"
    return hmac.new(codes_secret, CSRF_SECRET_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class LoginRefused:
    """A wrong password and an unknown address: one answer."""


@dataclass(frozen=True, slots=True)
class LoggedIn:
    creditor: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a session is: ``kind`` ``creditor`` (``role`` ``creditor``) or ``operator`` (an
    operator actor of the log and its role, or ``auditor``, who signs nothing)."""

    kind: str
    actor: str
    role: str

    @classmethod
    def creditor(cls, actor: str) -> Principal:
        return cls(CREDITOR, actor, CREDITOR)


@dataclass(frozen=True, slots=True)
class WebSignUp:
    """A sign-up accepted: the code form carries ``public_key`` (base64) back."""

    public_key: str


@dataclass(frozen=True, slots=True)
class Elected:
    asset: str
    seq: int | None  # None: elected so already


@dataclass(frozen=True, slots=True)
class KycDocument:
    creditor: str
    media_type: str
    name: str
    body: bytes


def session_subject(session_id: str) -> str:
    return _SESSION_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


class SessionCache:
    """Live sessions already read from the vault: subject -> (principal, expiry as RFC 3339).

    Threat: a session served after its logout. ``drop`` runs after the vault's record is
    erased and bumps ``closes``; ``keep`` stores a lookup only if no close happened since it
    began (``closes`` read before the vault was), so a lookup that read the record before the
    erasure cannot put it back. At ``entries_max`` it starts over (a made-up id is never kept:
    only records the vault had).
    """

    def __init__(self, entries_max: int = limits.web_sessions_cached_max) -> None:
        self._lock = threading.Lock()
        self._live: dict[str, tuple[Principal, str]] = {}
        self._entries_max = entries_max
        #: Closes so far (a lookup begun before one keeps nothing).
        self.closes = 0
        #: Vault reads so far.
        self.reads = 0

    def __len__(self) -> int:
        return len(self._live)

    def get(self, subject: str) -> tuple[tuple[Principal, str] | None, int]:
        """The kept record (or ``None``) and the close count to hand back to ``keep``."""
        with self._lock:
            return self._live.get(subject), self.closes

    def keep(self, subject: str, record: tuple[Principal, str], closes: int) -> None:
        with self._lock:
            if closes != self.closes:
                return
            if subject not in self._live and len(self._live) >= self._entries_max:
                self._live.clear()
            self._live[subject] = record

    def drop(self, subject: str) -> None:
        with self._lock:
            self.closes += 1
            self._live.pop(subject, None)


@dataclass(slots=True)
class WebAccounts:
    onboarding: OnboardingService
    log: LogService
    sessions: SessionCache = field(default_factory=SessionCache, repr=False, compare=False)

    # Sign-up ------------------------------------------------------------------------------

    def sign_up(
        self, email: str, password: str, locale: str, client_id: str
    ) -> WebSignUp | RateLimited | InputRefused | Refused:
        issued = self.onboarding.sign_up_challenge(email)
        if isinstance(issued, InputRefused):
            return issued
        key = SignerKey.generate("creditor")  # its private half is dropped with this frame
        message = sign_up_message(self.log.state.origin, issued.challenge, email)
        public = base64.b64encode(key.verifier.public_key).decode()
        signature = base64.b64encode(key.sign(message)).decode()
        answer = self.onboarding.sign_up(email, password, public, locale, client_id,
                                         issued.challenge, signature)  # fmt: skip
        if isinstance(answer, SignUpAccepted):
            return WebSignUp(public)
        return answer

    # Login --------------------------------------------------------------------------------

    def login(
        self, email: str, password: str, client_id: str
    ) -> LoggedIn | LoginRefused | RateLimited:
        service = self.onboarding
        now = service.clock.now()
        address = email.strip()
        if not address or len(address.encode()) > limits.email_length_max_bytes:
            return LoginRefused()
        if len(password) > limits.password_length_max_chars:
            return LoginRefused()
        commitment = service.identity.email(address)
        for rule, identifier in ((LOGIN_PER_CLIENT, client_id), (LOGIN_PER_ADDRESS, commitment)):
            decision = service.rate_limiter.acquire(rule, identifier, now)
            if not decision.allowed:
                return RateLimited(decision.retry_after_seconds)
        creditor = creditor_name(commitment)
        try:
            stored = service.vault.get(f"creditor:{creditor}", ["password_hash"])
            encoded = stored.text("password_hash")
        except (SubjectNotFound, SubjectErased, KeyError):
            service.passwords.verify_absent(password)
            return LoginRefused()
        if not service.passwords.verify(encoded, password):
            return LoginRefused()
        if creditor not in self.log.state.actors:  # pragma: no cover - verify_code registers
            return LoginRefused()
        if service.passwords.needs_rehash(encoded):
            service.vault.put(f"creditor:{creditor}",
                              {"password_hash": service.passwords.hash(password)}, now)  # fmt: skip
        return LoggedIn(creditor)

    def set_operator_password(self, actor: str, role: str, password: str) -> None:
        """Give an operator a console login (``role`` must be the actor's role in the log,
        or ``auditor`` for a reader who is no actor)."""
        assert role in OPERATOR_ROLES, f"no console role {role!r}"
        if role != AUDITOR:
            found = self.log.state.actors.get(actor)
            assert found is not None, f"no actor {actor!r}"
            assert found.role == role, f"{actor!r} is not a {role}"
        assert limits.password_length_min_chars <= len(password), "a longer password"
        record = {"role": role, "password_hash": self.onboarding.passwords.hash(password)}
        self.onboarding.vault.put(_OPERATOR_PREFIX + actor, record, self.onboarding.clock.now())

    def operator_login(
        self, actor: str, password: str, client_id: str
    ) -> Principal | LoginRefused | RateLimited:
        """An operator's console login: the same buckets and blind answers as a creditor's;
        a signing role must still be the actor's role in the log."""
        service = self.onboarding
        now = service.clock.now()
        if not 0 < len(actor) <= 64 or len(password) > limits.password_length_max_chars:
            return LoginRefused()
        for rule, identifier in ((LOGIN_PER_CLIENT, client_id),
                                 (LOGIN_PER_ADDRESS, "operator:" + actor)):  # fmt: skip
            decision = service.rate_limiter.acquire(rule, identifier, now)
            if not decision.allowed:
                return RateLimited(decision.retry_after_seconds)
        try:
            stored = service.vault.get(_OPERATOR_PREFIX + actor, ["role", "password_hash"])
            role, encoded = stored.text("role"), stored.text("password_hash")
        except (SubjectNotFound, SubjectErased, KeyError, AssertionError):
            service.passwords.verify_absent(password)
            return LoginRefused()
        if not service.passwords.verify(encoded, password) or role not in OPERATOR_ROLES:
            return LoginRefused()
        found = self.log.state.actors.get(actor)
        if role != AUDITOR and (found is None or found.role != role):
            return LoginRefused()
        return Principal(OPERATOR, actor, role)

    # Sessions -----------------------------------------------------------------------------

    def open_session(
        self, session_id: str, principal: Principal, client_id: str, agent: str
    ) -> None:
        now = self.onboarding.clock.now()
        expires = now + timedelta(seconds=session_lifetime_seconds)
        record = {
            "kind": principal.kind,
            "actor": principal.actor,
            "role": principal.role,
            "opened_at": format_time(now),
            "expires_at": format_time(expires),
            "client": client_id[:64],
            "agent": agent[:256],
        }
        self.onboarding.vault.put(session_subject(session_id), record, now)

    def session(self, session_id: str) -> Principal | None:
        """Who a live session is (a creditor, or an operator in a role), else ``None``: from
        ``sessions`` when kept, else from the vault (then kept)."""
        subject = session_subject(session_id)
        now = format_time(self.onboarding.clock.now())
        kept, closes = self.sessions.get(subject)
        if kept is None:
            kept = self._read_session(subject)
            if kept is None:
                return None
            self.sessions.keep(subject, kept, closes)
        principal, expires = kept
        return None if now >= expires else principal

    def _read_session(self, subject: str) -> tuple[Principal, str] | None:
        self.sessions.reads += 1
        try:
            found = self.onboarding.vault.get(subject, ["kind", "actor", "role", "expires_at"])
            principal = Principal(found.text("kind"), found.text("actor"), found.text("role"))
            return principal, found.text("expires_at")
        except (SubjectNotFound, SubjectErased, KeyError):
            return None

    def close_session(self, session_id: str) -> None:
        subject = session_subject(session_id)
        try:
            with contextlib.suppress(SubjectNotFound):
                self.onboarding.vault.erase(subject, self.onboarding.clock.now())
        finally:  # erased, or the erasure failed: either way no kept record answers for it
            self.sessions.drop(subject)

    # Actions ------------------------------------------------------------------------------

    def elect_payout(self, creditor: str, asset: str) -> Elected | Refused:
        (outcome,) = self.log.submit_many([(ElectPayout(creditor, asset),
                                            self.onboarding.rules.gateway)])  # fmt: skip
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return Elected(asset, outcome.seq if outcome.events else None)

    def store_kyc_document(
        self, creditor: str, media_type: str, name: str, body: bytes
    ) -> KycOpened | Refused:
        if media_type not in KYC_MEDIA_TYPES:
            return Refused(PortalCode.document_type_unsupported, "a JPEG, PNG or PDF file")
        if not 0 < len(body) <= kyc_document_max_bytes:
            return Refused(PortalCode.document_size_invalid, f"1 to {kyc_document_max_bytes} bytes")
        now = self.onboarding.clock.now()
        fields: dict[str, PiiValue] = {"media_type": media_type, "name": name[:120],
                                       "body": body, "uploaded_at": format_time(now)}  # fmt: skip
        self.onboarding.vault.put(_KYC_PREFIX + creditor, fields, now)
        return self.onboarding.submit_kyc(creditor, MANUAL)

    def kyc_document(self, creditor: str) -> KycDocument | None:
        try:
            found = self.onboarding.vault.get(_KYC_PREFIX + creditor)
            return KycDocument(creditor, found.text("media_type"), found.text("name"),
                               found.data("body"))  # fmt: skip
        except (SubjectNotFound, SubjectErased, KeyError):
            return None
