"""Ports: what the application needs from the world, as Protocols.

Adapters implement them (``reclaim.adapters``); tests wire in-memory or SQLite ones. Error tree
of every port (an adapter wraps its library's exceptions into these at its boundary):

    StoreError                       the store could not do what was asked
    ├── StoreUnavailable             cannot reach or open the database (retry later)
    ├── RangeNotAvailable            a seq / tree size beyond what the log holds
    ├── StoreCorrupt                 stored data contradicts itself (a bug or tampering)
    └── RequestAlreadyAccepted       a signed request's signature is stored already (a replay
                                     that another process accepted first): nothing was appended
    VaultError                       the PII vault could not do what was asked
    ├── SubjectNotFound              no such subject in the vault
    ├── SubjectErased                the subject was erased: its key and fields are gone for good
    ├── VaultKeyUnavailable          the key-encryption key that wrapped a data key is not loaded,
    │                                or does not open it (a wrong ``vault.key``, or tampering)
    └── VaultCorrupt                 a ciphertext failed authentication (swapped or tampered)
    MailError                        a message could not be handed to the mail server
    ├── MailUnavailable              not now (timeout, 4xx): keep it queued, retry with backoff
    │   └── MailServerDown           the server cannot be reached at all: nothing else will go
    └── MailRejected                 refused for good (5xx for this recipient or message)
    PasswordHashInvalid              a stored password hash that argon2 cannot read (corrupt data)

The SQL adapters of the vault, the outbox, the code store and the rate limiter raise the
``StoreError`` tree for database failures too. Refusals of one-time codes and rate limits are
values (``CodeVerdict``, ``RateDecision``), never exceptions.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from reclaim.core.limits import typed_code_length_max_chars
from reclaim.core.types import JsonValue
from reclaim.log.event import SignedEvent


class StoreError(Exception):
    """The event store could not do what was asked."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""


class RangeNotAvailable(StoreError):
    """A position or tree size beyond what the log holds."""


class StoreCorrupt(StoreError):
    """Stored data contradicts itself."""


class RequestAlreadyAccepted(StoreError):
    """An append carried the mark of a signed request whose signature is stored already: the
    whole batch was refused (another process accepted the same request first)."""


@dataclass(frozen=True, slots=True)
class RequestMark:
    """A signed API request that asked for a state change: the SHA-256 of its signature, the
    actor that signed it and the end of its window (ms since the epoch). Stored in the same
    transaction as the events it produced, and kept until its window closes, so the same
    signed bytes are never accepted twice — after a restart, or by a second process."""

    digest: bytes
    actor: str
    until_ms: int

    def __post_init__(self) -> None:
        assert len(self.digest) == 32, "a SHA-256 digest"
        assert self.until_ms >= 0


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where an appended batch landed: seqs ``first_seq .. size-1``, and the new root."""

    first_seq: int
    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class EntityChange:
    """A state entity as the core left it after the event at ``position`` of a batch; the store
    projects it (``account/<id>``, ``transfer/<id>``: the ledger's tables). ``value`` is the
    core's canonical-JSON-ready entity (``State.entity``), ``None`` if it no longer exists.

    A batch's changes of one key come in position order; a store keeps the seq of the first
    (a new row's ``opened_seq`` / ``seq``) and the value of the last. The log service sends
    exactly those two per key and batch (one, when the key changed once)."""

    position: int
    key: str
    value: JsonValue


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str  # the signed C2SP checkpoint note, exactly as published


@dataclass(frozen=True, slots=True)
class StoredLiabilitiesSnapshot:
    """A liabilities snapshot as stored: its public part only (the trees and the salt secret
    never leave the process; see ``reclaim.app.liabilities``)."""

    id: str  # the snapshot id of the statement (its checkpoint's tree size, in decimal)
    checkpoint_size: int  # the log checkpoint the liabilities were computed at
    statement_note: str  # the signed statement note, exactly as published
    public_json: str  # ``Snapshot.to_json()``: canonical JSON, what GET /liabilities/root serves
    created_at: str  # RFC 3339 UTC, when it was taken (not signed: information only)


class LiabilitiesStore(Protocol):
    """Where liabilities snapshots are kept (both event stores implement it).

    Contract: ``add_liabilities_snapshot`` stores a snapshot durably and returns what is stored
    under its id: the snapshot itself, or the one stored before if it has the same statement
    note (a retry; its ``created_at`` is kept); another statement under a stored id is
    ``StoreCorrupt``. ``latest_liabilities_snapshot`` is the one with the largest checkpoint
    size, or ``None``.
    """

    def add_liabilities_snapshot(
        self, snapshot: StoredLiabilitiesSnapshot
    ) -> StoredLiabilitiesSnapshot: ...

    def latest_liabilities_snapshot(self) -> StoredLiabilitiesSnapshot | None: ...


@dataclass(frozen=True, slots=True)
class ProjectedAccount:
    """A ledger account as projected: the core's entity, with the seqs of the events that
    opened it and last changed it. Balances are minor units of ``asset``."""

    id: str
    owner: str
    asset: str
    purpose: str
    flags: tuple[str, ...]  # sorted
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    opened_seq: int
    updated_seq: int


@dataclass(frozen=True, slots=True)
class ProjectedTransfer:
    """A ledger transfer as projected: the core's entity, with ``seq`` the event that created
    it (its place in an account's history) and ``updated_seq`` the last that changed it (a post,
    void or expiry of a pending transfer)."""

    id: str
    seq: int
    kind: str
    debit_account_id: str
    credit_account_id: str
    asset: str
    amount_minor: int
    code: str
    refs: dict[str, str]
    pending_id: str
    timeout_seconds: int
    created_at: str
    expires_at: str
    status: str
    posted_minor: int
    updated_seq: int


class LedgerQueries(Protocol):
    """Reads of the ledger's projections (the ``account/`` and ``transfer/`` entity changes).

    ``account_history`` lists an account's transfers (as debit or credit account) newest first:
    by ``seq`` descending, then by id descending (one event may create many transfers), at most
    ``limit``, strictly after the keyset cursor ``(before_seq, before_id)`` in that order when
    it is given; ``before_id`` ``None`` means "before every transfer of ``before_seq``".
    """

    def account(self, account_id: str) -> ProjectedAccount | None: ...

    def accounts_of(self, owner: str) -> list[ProjectedAccount]:
        """The accounts of ``owner``, by id."""
        ...

    def transfer(self, transfer_id: str) -> ProjectedTransfer | None: ...

    def account_history(
        self, account_id: str, before_seq: int | None, limit: int, before_id: str | None = None
    ) -> list[ProjectedTransfer]: ...


class EventStore(LiabilitiesStore, LedgerQueries, Protocol):
    """The append-only log with its Merkle nodes, checkpoints and projections.

    Contract (tested against every adapter by ``tests/contract``):
    - ``append`` is one transaction: the batch's leaves get the next gapless seqs, their Merkle
      nodes are stored, the projections they change are updated (from the events themselves,
      and from ``entities``: the ledger's accounts and transfers as the core computed them,
      upserted, each with the seq of the event at its ``position``) — all or nothing; concurrent
      appenders (threads or processes) never produce a gap or a duplicate seq; once ``append``
      returns, the batch survives a crash of the process.
    - proofs and roots are served from stored nodes, never by rebuilding the tree.
    - it keeps the liabilities snapshots too (``LiabilitiesStore``).
    - it answers the ledger's queries from its projections (``LedgerQueries``).
    """

    def size(self) -> int: ...

    def append(
        self,
        batch: Sequence[SignedEvent],
        entities: Sequence[EntityChange] = (),
        marks: Sequence[RequestMark] = (),
    ) -> AppendResult:
        """``marks`` (signed requests the batch answers, accepted or refused) are stored in
        the same transaction; one already stored refuses the whole batch
        (``RequestAlreadyAccepted``). A batch may be empty and carry marks only."""
        ...

    def request_seen(self, digest: bytes) -> bool:
        """Whether a signed request with this signature digest is stored (its window open)."""
        ...

    def prune_request_marks(self, before_ms: int) -> int:
        """Forget marks whose window closed before ``before_ms``; how many were forgotten."""
        ...

    def leaves(self, start: int, end: int) -> list[bytes]:
        """Leaf bytes of seqs ``start`` (inclusive) to ``end`` (exclusive)."""
        ...

    def root(self, size: int) -> bytes: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None: ...

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    def checkpoints(self, start_size: int, limit: int) -> list[StoredCheckpoint]:
        """Checkpoints with size ≥ ``start_size``, oldest first, at most ``limit``."""
        ...

    def close(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


#: A batch of signing requests: (actor name, message) pairs.
SigningRequests = Sequence[tuple[str, bytes]]


class PendingSignatures(Protocol):
    def wait(self) -> list[bytes]:
        """The signatures, in request order (blocks until they are ready)."""
        ...


class Signer(Protocol):
    """Signs messages with the private keys of named actors; may do so on another core.

    ``submit`` returns at once; ``wait`` on its answer blocks. An unknown actor raises
    ``KeyError`` (from ``submit`` or ``wait``). The messages are exactly what gets signed.
    """

    def submit(self, requests: SigningRequests) -> PendingSignatures: ...

    def close(self) -> None: ...


# The PII vault (issue 4) -----------------------------------------------------------------------


class VaultError(Exception):
    """The PII vault could not do what was asked."""


class SubjectNotFound(VaultError):
    """No such subject in the vault."""


class SubjectErased(VaultError):
    """The subject was erased: its data key and fields are destroyed, only a tombstone is left."""


class VaultKeyUnavailable(VaultError):
    """The key-encryption key that wrapped a data key is not loaded, or it does not open it."""


class VaultCorrupt(VaultError):
    """A stored ciphertext failed authentication: moved to another subject or field, or altered."""


#: A field's value: text (an e-mail, a name, an address) or bytes (a document); ``get`` returns
#: the type that was ``put``.
PiiValue = str | bytes


@dataclass(frozen=True, slots=True)
class PiiRecord:
    """The decrypted fields of one vault subject. Its ``repr`` never shows the values."""

    subject: str
    fields: Mapping[str, PiiValue] = field(repr=False)

    def text(self, name: str) -> str:
        """The text field ``name``; ``KeyError`` if absent, ``TypeError`` if it holds bytes."""
        value = self.fields[name]
        if not isinstance(value, str):
            raise TypeError(f"field {name!r} of {self.subject!r} holds bytes, not text")
        return value

    def data(self, name: str) -> bytes:
        """The bytes field ``name``; ``KeyError`` if absent, ``TypeError`` if it holds text."""
        value = self.fields[name]
        if not isinstance(value, bytes):
            raise TypeError(f"field {name!r} of {self.subject!r} holds text, not bytes")
        return value


class Vault(Protocol):
    """Personal data, apart from the public log, encrypted per subject (a creditor, or a claim
    before its creditor signs up).

    Contract (``tests/contract/test_vault.py``):
    - ``put`` creates the subject on first use (with its own data key) and replaces the named
      fields; other fields are kept. ``put_many`` does the same for many subjects in one
      transaction (all or nothing) and returns how many it stored.
    - ``get`` returns the named fields that exist (every field when ``names`` is ``None``).
    - ``erase`` destroys the subject's data key and fields and leaves a tombstone; afterwards
      ``get``, ``put``, ``seal`` and ``open`` raise ``SubjectErased``. It returns ``False`` if the
      subject was already erased. Other subjects are untouched.
    - ``seal``/``open`` encrypt a blob kept elsewhere (an outbox message) under the subject's data
      key, bound to ``purpose``; erasing the subject makes it unreadable too.
    - A ciphertext moved to another subject, field or purpose fails with ``VaultCorrupt``.
    Subject ids and field names are identifiers (``[A-Za-z0-9._:-]``, ``[a-z0-9_]``); passing
    anything else is a bug of the caller (an assertion).
    """

    def put(self, subject: str, fields: Mapping[str, PiiValue], now: datetime) -> None: ...

    def put_many(
        self, items: Iterable[tuple[str, Mapping[str, PiiValue]]], now: datetime
    ) -> int: ...

    def get(self, subject: str, names: Iterable[str] | None = None) -> PiiRecord: ...

    def erase(self, subject: str, now: datetime) -> bool: ...

    def seal(self, subject: str, purpose: str, plaintext: bytes) -> bytes: ...

    def open(self, subject: str, purpose: str, sealed: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key encrypted by a key-encryption key (KEK), and the id of that KEK."""

    kek_id: str
    blob: bytes


class KeyWrapper(Protocol):
    """The KMS port: wraps and unwraps data keys with a key-encryption key it never reveals.

    ``wrap`` uses the active KEK; ``unwrap`` the KEK named in the wrapped key (older KEKs stay
    loaded after a rotation so old data keys still open). ``context`` is authenticated with the
    key (the subject id): a wrapped key moved to another subject does not unwrap. ``unwrap``
    raises ``VaultKeyUnavailable`` for an unknown KEK or a blob the KEK does not open.
    """

    @property
    def active_kek_id(self) -> str: ...

    def wrap(self, data_key: bytes, context: bytes) -> WrappedKey: ...

    def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes: ...


# Mail (issue 4) -----------------------------------------------------------------------------------


class MailError(Exception):
    """A message could not be handed to the mail server."""


class MailUnavailable(MailError):
    """Not now (a timeout, a 4xx answer): the message stays queued and is retried later."""


class MailServerDown(MailUnavailable):
    """The mail server cannot be reached or refuses the session: no other message will go."""


class MailRejected(MailError):
    """The server refused this message for good (a 5xx for its recipient or its content)."""


@dataclass(frozen=True, slots=True)
class OutboundMail:
    """A rendered plain-text message, ready for a ``MailSender``. Its ``repr`` hides the address
    and the body (they hold personal data and codes)."""

    message_key: str  # unique per outbox message, the same on every retry (the Message-ID)
    to_address: str = field(repr=False)
    subject: str
    body: str = field(repr=False)
    locale: str  # a BCP 47 tag: en, zh-Hans, fr
    date: datetime  # the Date header


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """A message the outbox handed out for delivery; ``attempts`` counts the failed ones."""

    id: int
    attempts: int
    mail: OutboundMail


@dataclass(frozen=True, slots=True)
class FailedMail:
    """A message the outbox gave up on, for the operator: nothing personal, the error kept."""

    id: int
    template: str
    locale: str
    attempts: int
    last_error: str
    created_at: str
    failed_at: str


class Outbox(Protocol):
    """Durable queue of mail: a message enqueued is delivered, or given up and listed by
    ``failed`` for the operator; never silently dropped.

    - ``enqueue`` stores a message to the address in field ``to_field`` of vault subject
      ``to_subject``; the template's variables (``payload``) are stored sealed by the vault.
    - ``due`` hands out at most ``limit`` queued messages whose time has come, rendered, and
      leases them (``limits.mail_claim_lease_seconds``) so two workers do not send one twice;
      delivery is at-least-once (a worker that dies mid-send leaves the message to be retried).
    - ``mark_sent``; ``mark_failed`` counts an attempt and queues it again at ``retry_at``, or
      gives it up (``retry_at`` ``None``); ``release`` puts it back untried (not counted).
    - ``requeue`` gives a failed message a new round of attempts (an operator's decision).
    """

    def enqueue(
        self,
        to_subject: str,
        to_field: str,
        template: str,
        locale: str,
        payload: Mapping[str, str],
        now: datetime,
    ) -> int: ...

    def due(self, now: datetime, limit: int) -> list[QueuedMail]: ...

    def mark_sent(self, mail_id: int, now: datetime) -> None: ...

    def mark_failed(
        self, mail_id: int, now: datetime, error: str, retry_at: datetime | None
    ) -> None: ...

    def release(self, mail_id: int, retry_at: datetime) -> None: ...

    def failed(self, limit: int) -> list[FailedMail]: ...

    def requeue(self, mail_id: int, now: datetime) -> None: ...


class MailSender(Protocol):
    """Hands one message to a mail server. Raises ``MailUnavailable`` (or ``MailServerDown``)
    when it may work later, ``MailRejected`` when it never will."""

    def send(self, mail: OutboundMail) -> None: ...


# One-time codes, rate limits and passwords (issue 4) ----------------------------------------


class CodeVerdict(enum.Enum):
    """What checking a one-time code found, in precedence order. Only ``accepted`` proves
    anything; an API shows the others without saying whether the address is known."""

    accepted = 0
    code_invalid = 1  # no live code for this purpose and subject, a used one, or a wrong guess
    code_expired = 2  # the code's lifetime is over: ask for a new one
    code_attempts_exhausted = 3  # too many wrong guesses: the code is burnt, ask for a new one


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A fresh one-time code, to be mailed; its ``repr`` hides it. ``token``: the long
    confirmation key issued with it (``with_token``), or ``""``."""

    code: str = field(repr=False)
    expires_at: datetime
    token: str = field(default="", repr=False)


#: A confirmation key: 20 characters of the RFC 4648 base32 alphabet (100 bits), mailed with a
#: sign-up code. Unguessable, so it is not counted against the per-address guess budget: the
#: owner's mailbox can finish a sign-up however many wrong guesses strangers made (issue 9).
CONFIRMATION_KEY_LENGTH = 20
CONFIRMATION_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def normalise_code(typed: str) -> str:
    """A typed code or confirmation key as it is compared: NFKC (full-width digits and letters
    become ASCII), upper case, without spaces or hyphens."""
    folded = unicodedata.normalize("NFKC", typed[: typed_code_length_max_chars * 4]).upper()
    return "".join(ch for ch in folded if not ch.isspace() and ch != "-")[
        :typed_code_length_max_chars
    ]


def is_confirmation_key(normalised: str) -> bool:
    """Whether a normalised typed value has the shape of a confirmation key (not a short code)."""
    return len(normalised) == CONFIRMATION_KEY_LENGTH and all(
        ch in CONFIRMATION_KEY_ALPHABET for ch in normalised
    )


class CodeStore(Protocol):
    """One-time codes: one live code per (purpose, subject), hashed at rest.

    ``issue`` replaces any earlier code of the pair (its attempts start again at zero: bound how
    often it is called with a ``RateLimiter``). ``binding`` is a digest of what the code is for
    (a sign-up's key and password hash); ``check`` accepts the code only with the same binding,
    so a code cannot prove something else than what it was mailed for. ``with_token`` issues a
    confirmation key too, accepted by ``check`` in place of the code. ``check`` counts an attempt
    and returns a ``CodeVerdict``; a code is accepted once. ``subject`` is an opaque identifier
    (an address commitment), never the address itself.
    """

    def issue(
        self, purpose: str, subject: str, now: datetime, binding: bytes = b"",
        *, with_token: bool = False,
    ) -> IssuedCode: ...  # fmt: skip

    def check(
        self, purpose: str, subject: str, code: str, now: datetime, binding: bytes = b""
    ) -> CodeVerdict: ...


class ChallengeVerdict(enum.Enum):
    """What checking a proof-of-possession challenge found. Only ``accepted`` proves anything."""

    accepted = 0
    challenge_invalid = 1  # not a challenge of this server for this purpose and subject
    challenge_expired = 2


@dataclass(frozen=True, slots=True)
class IssuedChallenge:
    challenge: str
    expires_at: datetime


class Challenges(Protocol):
    """Short-lived server challenges for proofs of possession of a new key (issue 9, finding 1):
    ``issue`` one bound to (purpose, subject) — an e-mail commitment, an actor —, ``check`` that a
    presented one is this server's, for that pair, and live; ``spend`` it once (``False``: it was
    spent already, a replay)."""

    def issue(self, purpose: str, subject: str, now: datetime) -> IssuedChallenge: ...

    def check(
        self, purpose: str, subject: str, challenge: str, now: datetime
    ) -> ChallengeVerdict: ...

    def spend(self, purpose: str, subject: str, challenge: str, now: datetime) -> bool: ...


@dataclass(frozen=True, slots=True)
class RateRule:
    """At most ``count`` actions per ``period_seconds`` per identifier, ``count`` at once."""

    name: str
    count: int
    period_seconds: int

    def __post_init__(self) -> None:
        assert self.count >= 1, f"rate rule {self.name}: a count"
        assert self.period_seconds >= 1, f"rate rule {self.name}: a period"


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int  # 0 when allowed


class RateLimiter(Protocol):
    """Token buckets shared by every API process: ``acquire`` takes one token of ``rule`` for
    ``identifier`` (an address commitment, a client address) if there is one; a refusal takes
    nothing and says when to come back."""

    def acquire(self, rule: RateRule, identifier: str, now: datetime) -> RateDecision: ...


class PasswordHashInvalid(Exception):
    """A stored password hash that cannot be read (corrupt data, not a wrong password)."""


class PasswordHasher(Protocol):
    """Password hashing (argon2id). ``verify`` is ``False`` for a wrong password;
    ``needs_rehash`` says a hash was made with other parameters (rehash it at the next login)."""

    def hash(self, password: str) -> str: ...

    def verify(self, encoded: str, password: str) -> bool: ...

    def needs_rehash(self, encoded: str) -> bool: ...

    def verify_absent(self, password: str) -> bool:
        """Spend the time of a ``verify`` and return ``False``: a login to an unknown account
        takes as long as a wrong password, so timing does not tell which accounts exist."""
        ...


# KYC providers and identity commitments (issue 4) ----------------------------------------------


class KycWebhookError(Exception):
    """A KYC provider's webhook that is not taken (the API answers a problem, nothing changes)."""


class WebhookSignatureInvalid(KycWebhookError):
    """The signature header is missing, malformed, outside its time tolerance, or wrong."""


class WebhookMalformed(KycWebhookError):
    """A correctly signed body that is not the JSON object the provider promised."""


@dataclass(frozen=True, slots=True)
class KycWebhookEvent:
    """A hosted provider's verified decision on a case. ``verified_name`` is personal data:
    it goes to the vault and, as a commitment, to the log; its ``repr`` hides it."""

    event_id: str
    creditor: str
    reference: str
    state: str
    reason: str
    verified_name: str = field(repr=False)
    occurred_at: datetime
    #: The provider's session the decision is about (``HostedKyc.start_session``); empty from
    #: a provider that sends none. A case opened with a session takes only its own.
    session_id: str = ""


class KycProviderError(Exception):
    """The hosted provider's session API gave no session (an operating error, wrapped at the
    adapter; the service answers ``kyc_provider_unavailable`` or ``kyc_provider_refused``)."""


class KycProviderUnavailable(KycProviderError):
    """No answer in time, a connection refused, a 5xx or a 429: try again later."""


class KycProviderRefused(KycProviderError):
    """A 4xx (reclaim's credentials or request), or an answer that is not a session: a
    malformed body, or a redirect URL outside the provider's flow origin."""


@dataclass(frozen=True, slots=True)
class HostedSession:
    """A verification session at the hosted provider: its id (the webhooks name it) and the
    URL to send the creditor to (a bearer link to their flow: never logged, ``repr`` hides it)."""

    session_id: str
    url: str = field(repr=False)


class KycProvider(Protocol):
    """Where a creditor's KYC case is opened. ``name`` is the provider's id in the log
    (``kyc.submitted``'s ``provider``); ``open_case`` returns the case reference."""

    @property
    def name(self) -> str: ...

    def open_case(self, creditor: str, now: datetime) -> str: ...


class HostedKyc(KycProvider, Protocol):
    """A hosted provider with a session API: ``start_session`` asks it, server to server, for a
    session of case ``reference`` (from ``open_case``) of ``creditor``, whose flow ends at
    ``return_url`` and speaks ``locale`` (a BCP 47 tag); it raises a ``KycProviderError``.
    ``display_name`` is what the creditor reads ("Verify with ..."); ``flow_origin`` the one
    origin its session URLs have (the portal's forms may be redirected there)."""

    @property
    def display_name(self) -> str: ...

    @property
    def flow_origin(self) -> str: ...

    def start_session(
        self, creditor: str, reference: str, return_url: str, locale: str, now: datetime
    ) -> HostedSession: ...


class KycWebhook(Protocol):
    """A hosted provider's signed webhooks, as the API receives them: ``verify`` returns the
    decision ``body`` carries if ``header`` (the request's ``signature_header``) signs it at
    ``now``, else raises ``WebhookSignatureInvalid`` or ``WebhookMalformed``."""

    @property
    def signature_header(self) -> str: ...

    def verify(self, header: str | None, body: bytes, now: datetime) -> KycWebhookEvent: ...


class KycWebhookLog(Protocol):
    """The webhooks a provider delivered, by event id: idempotency and ordering.

    ``outcome`` of an event seen before (``applied``, ``stale``, ``refused``) or ``None``;
    ``last_applied`` is the ``occurred_at`` of the newest applied event of a case; ``record``
    keeps an event's outcome and returns ``False`` if it was recorded already.
    """

    def outcome(self, event_id: str) -> str | None: ...

    def last_applied(self, reference: str) -> datetime | None: ...

    def record(self, event: KycWebhookEvent, outcome: str, now: datetime) -> bool: ...


class IdentityCommitments(Protocol):
    """Commitments of personal data, normalised exactly as the register import does, so a
    sign-up finds its claim by the e-mail typed and a verified name meets the holder's."""

    def email(self, address: str) -> str: ...

    def holder_name(self, name: str) -> str: ...
