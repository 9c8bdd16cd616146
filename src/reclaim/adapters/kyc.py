"""KYC providers: a built-in manual-review queue, a hosted provider's sessions and its webhooks.

Three adapters of the ``KycProvider`` port:

- ``ManualReviewQueue`` (provider ``manual``): the case waits in the operator's queue
  (``OnboardingService.kyc_queue``) until a KYC officer decides it (API or CLI); the decision is
  signed by the officer's key.
- ``WebhookKyc`` (provider ``hosted`` by default): the creditor completes the provider's flow;
  the provider calls ``POST /webhooks/kyc`` with its decision; the decision is signed in the log
  by the ``kyc-provider`` service actor.
- ``HostedSessionApi`` (the same provider, ``HostedKyc``): ``start_session`` asks the
  provider for a verification session of a case, server to server, and gets the session's id
  and the URL the portal redirects the creditor to; the decision comes back as a webhook.

The session API (modelled on Sumsub's app-token signing and Veriff's session answer):
``POST <api url>/v1/sessions`` with a JSON body ``{"reference", "external_user_id",
"return_url", "locale"}`` (the case reference, the creditor's actor name — pseudonymous, never
an e-mail or a name —, where the flow ends, a BCP 47 tag) and the headers ``X-Api-Key`` (the
key id), ``X-Api-Timestamp`` (Unix seconds), ``X-Api-Signature`` (lowercase hex
``HMAC-SHA256(api secret, timestamp || "POST" || path with query || body)``: a request
intercepted cannot be changed or replayed later) and ``Idempotency-Key`` (the reference: a
retried request makes one session). The answer, ``200`` or ``201``, is ``{"session_id", "url"}``
and maybe more fields (ignored). Every call has a connect and a read timeout
(``SESSION_TIMEOUT``); errors, wrapped here: no answer, a timeout, a 5xx or a 429 is
``KycProviderUnavailable``; another status, a body that is not that JSON, a session id that
is not an identifier, or a URL off the configured flow origin is ``KycProviderRefused``
(threat: a provider answer — or anyone who can change it — sending creditors to another site,
an open redirect carrying their trust).

Webhook signatures (Stripe's scheme): the header ``X-Reclaim-Kyc-Signature: t=<unix seconds>,
v1=<hex>`` where ``v1`` is ``HMAC-SHA256(secret, "<t>." || body)`` over the exact body bytes;
several ``v1`` entries may be given (a provider rotating its secret), one must match
(``hmac.compare_digest``), and ``t`` must be within ``limits.kyc_webhook_tolerance_seconds`` of
the server's clock. The body is a JSON object of text fields::

    {"event_id", "creditor", "reference", "state", "reason", "verified_name", "occurred_at"}

and, from a provider with sessions, ``session_id`` too. ``state`` is ``approved``
(``verified_name`` set, ``reason`` empty), ``rejected`` or ``resubmission_requested`` (a
``reason`` code, no name); ``occurred_at`` is RFC 3339 with an offset. Anything else is
``WebhookMalformed``.

Idempotency and order (``SqlKycWebhookLog``): an ``event_id`` seen before is a no-op, whatever
its body; an event that occurred before the newest applied event of its case is recorded as
``stale`` and ignored (a provider retrying an old "pending review" after a newer "approved"
cannot undo it). Errors: ``WebhookSignatureInvalid``, ``WebhookMalformed``; the ``StoreError``
tree for the database.

Known limit: two deliveries of one event racing in two API processes may both pass the "seen"
check; the core then refuses the second decision (``kyc_transition_invalid``: no state moves to
itself), so the log still holds one decision.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, func, select

from reclaim.adapters.db import tables
from reclaim.adapters.db.transactions import insert_ignore, parse_stamp, stamp, transaction
from reclaim.app import bounded_json
from reclaim.app.ports import (
    HostedSession,
    KycProviderRefused,
    KycProviderUnavailable,
    KycWebhookEvent,
    WebhookMalformed,
    WebhookSignatureInvalid,
)
from reclaim.core import limits
from reclaim.core.limits import kyc_webhook_signatures_max

SIGNATURE_HEADER: Final = "X-Reclaim-Kyc-Signature"
MANUAL_PROVIDER: Final = "manual"
HOSTED_PROVIDER: Final = "hosted"
WEBHOOK_FIELDS: Final = frozenset(
    {"event_id", "creditor", "reference", "state", "reason", "verified_name", "occurred_at"}
)
#: The field a provider with sessions adds to ``WEBHOOK_FIELDS``.
SESSION_FIELD: Final = "session_id"
#: The session API's path under the provider's API URL, and its request headers.
SESSIONS_PATH: Final = "/v1/sessions"
API_KEY_HEADER: Final = "X-Api-Key"
API_TIMESTAMP_HEADER: Final = "X-Api-Timestamp"
API_SIGNATURE_HEADER: Final = "X-Api-Signature"
#: Seconds to connect to the provider, and to wait for each read of its answer: a creditor
#: waits on the page meanwhile, and a provider that slow is as good as down.
SESSION_TIMEOUT: Final = httpx.Timeout(10.0, connect=5.0)
_EVENT_ID_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_TIMESTAMP_RE: Final = re.compile(r"[0-9]{1,12}")
_HEX_RE: Final = re.compile(r"[0-9a-f]{64}")


class ManualReviewQueue:
    """The built-in provider: cases wait for a KYC officer (``OnboardingService.decide_kyc``)."""

    name: Final = MANUAL_PROVIDER

    def open_case(self, creditor: str, now: datetime) -> str:
        return f"manual-{secrets.token_hex(8)}"


class WebhookKyc:
    """A hosted provider that answers by HMAC-signed webhooks (the module doc)."""

    def __init__(self, secret: bytes, *, name: str = HOSTED_PROVIDER) -> None:
        assert len(secret) >= 32, "a webhook secret has at least 32 bytes"
        self._secret = secret
        self.name = name
        #: The request header ``verify`` reads the signature from.
        self.signature_header: str = SIGNATURE_HEADER

    def __repr__(self) -> str:
        return f"WebhookKyc(name={self.name!r}, <secret>)"

    def open_case(self, creditor: str, now: datetime) -> str:
        """The case reference the creditor's session with the provider carries (a real
        adapter creates the applicant with the provider's API and returns its id)."""
        return f"hosted-{secrets.token_hex(8)}"

    def verify(self, header: str | None, body: bytes, now: datetime) -> KycWebhookEvent:
        """The decision ``body`` carries, if ``header`` signs it; else an exception."""
        self._check_signature(header, body, now)
        return parse_webhook(body)

    def _check_signature(self, header: str | None, body: bytes, now: datetime) -> None:
        if not header:
            raise WebhookSignatureInvalid(f"no {SIGNATURE_HEADER} header")
        timestamp, candidates = _parse_header(header)
        age_seconds = abs(int(now.timestamp()) - int(timestamp))
        if age_seconds > limits.kyc_webhook_tolerance_seconds:
            raise WebhookSignatureInvalid(
                f"the signature's time is {age_seconds} s from the server's, more than "
                f"{limits.kyc_webhook_tolerance_seconds} s"
            )
        expected = webhook_signature(self._secret, timestamp, body)
        if not any(hmac.compare_digest(expected, c) for c in candidates):
            raise WebhookSignatureInvalid("the webhook signature does not verify")


class HostedSessionApi:
    """The hosted provider's session API over HTTP (the module doc); ``transport`` for tests
    that give ``httpx`` one of their own."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        api_secret: bytes,
        *,
        display_name: str,
        flow_origin: str,
        name: str = HOSTED_PROVIDER,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        assert api_secret, "an API secret"
        self._url = api_url.rstrip("/") + SESSIONS_PATH
        self._api_key = api_key
        self._secret = api_secret
        self._transport = transport
        self.name = name
        self.display_name = display_name
        self.flow_origin = flow_origin

    def __repr__(self) -> str:
        return f"HostedSessionApi(name={self.name!r}, url={self._url!r}, <secret>)"

    def open_case(self, creditor: str, now: datetime) -> str:
        """The case reference the session is asked for (and its idempotency key)."""
        return f"hosted-{secrets.token_hex(8)}"

    def start_session(
        self, creditor: str, reference: str, return_url: str, locale: str, now: datetime
    ) -> HostedSession:
        """A new session of case ``reference`` at the provider, or a ``KycProviderError``."""
        body = json.dumps(
            {"reference": reference, "external_user_id": creditor, "return_url": return_url,
             "locale": locale},
            separators=(",", ":"), sort_keys=True,
        ).encode()  # fmt: skip
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            API_KEY_HEADER: self._api_key,
            API_TIMESTAMP_HEADER: timestamp,
            API_SIGNATURE_HEADER: api_signature(
                self._secret, timestamp, "POST", urlsplit(self._url).path, body
            ),
            "Idempotency-Key": reference,
        }
        try:
            with (
                httpx.Client(timeout=SESSION_TIMEOUT, transport=self._transport,
                             follow_redirects=False) as client,
                client.stream("POST", self._url, content=body, headers=headers) as answer,
            ):  # fmt: skip
                status = answer.status_code
                content = _bounded(answer) if status in (200, 201) else b""
        except httpx.HTTPError as exc:  # refused, reset, timed out: the provider is not there
            raise KycProviderUnavailable(
                f"the KYC provider did not answer: {type(exc).__name__}"
            ) from None
        if status >= 500 or status == 429:
            raise KycProviderUnavailable(f"the KYC provider answered {status}")
        if status not in (200, 201):
            raise KycProviderRefused(f"the KYC provider refused the session: {status}")
        if content is None:
            raise KycProviderRefused("the KYC provider's answer is too large")
        return self._session(content)

    def _session(self, content: bytes) -> HostedSession:
        try:
            data = bounded_json.parse(content)
        except bounded_json.JsonRefused:
            raise KycProviderRefused("the KYC provider's answer is not JSON") from None
        session_id = data.get("session_id") if isinstance(data, dict) else None
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(session_id, str) or not _EVENT_ID_RE.fullmatch(session_id):
            raise KycProviderRefused("the KYC provider's session_id is not an identifier")
        if not isinstance(url, str) or not _within(url, self.flow_origin):
            raise KycProviderRefused(
                f"the KYC provider's session URL is not under {self.flow_origin}"
            )
        return HostedSession(session_id, url)


def _bounded(answer: httpx.Response) -> bytes | None:
    """The answer's body, read no further than ``kyc_webhook_body_max_bytes``: ``None`` past
    it (a provider, or whoever stands in its place, cannot make us hold a huge body)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.iter_bytes():
        size += len(chunk)
        if size > limits.kyc_webhook_body_max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _within(url: str, origin: str) -> bool:
    """``url`` is an absolute URL of exactly ``origin`` (scheme, host and port)."""
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url) or "\\" in url:
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.username or parts.password or not parts.hostname:
        return False
    shown = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{shown}" + ("" if port is None else f":{port}") == origin


def api_signature(secret: bytes, timestamp: str, method: str, path: str, body: bytes) -> str:
    """``X-Api-Signature``: hex ``HMAC-SHA256(secret, timestamp method path body)``."""
    message = timestamp.encode("ascii") + method.encode("ascii") + path.encode() + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def webhook_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``v1``: hex ``HMAC-SHA256(secret, timestamp "." body)``."""
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def sign_webhook(secret: bytes, body: bytes, now: datetime) -> str:
    """The signature header a provider sends with ``body`` at ``now`` (tests, simulations)."""
    timestamp = str(int(now.timestamp()))
    return f"t={timestamp},v1={webhook_signature(secret, timestamp, body)}"


def _parse_header(header: str) -> tuple[str, list[str]]:
    timestamp: str | None = None
    candidates: list[str] = []
    for part in header.split(",")[: 2 + kyc_webhook_signatures_max]:
        key, _, value = part.strip().partition("=")
        if key == "t" and timestamp is None and _TIMESTAMP_RE.fullmatch(value):
            timestamp = value
        elif key == "v1" and _HEX_RE.fullmatch(value):
            candidates.append(value)
    if timestamp is None or not candidates:
        raise WebhookSignatureInvalid(f"{SIGNATURE_HEADER} is not t=<unix>,v1=<64 hex>")
    return timestamp, candidates


def parse_webhook(body: bytes) -> KycWebhookEvent:
    """The decision of a verified body; ``WebhookMalformed`` if it is not the promised JSON."""
    if len(body) > limits.kyc_webhook_body_max_bytes:
        raise WebhookMalformed(f"a body of more than {limits.kyc_webhook_body_max_bytes} bytes")
    try:
        data = bounded_json.parse(body)
    except bounded_json.JsonRefused as exc:
        raise WebhookMalformed(str(exc)) from None
    if not isinstance(data, dict) or set(data) - {SESSION_FIELD} != WEBHOOK_FIELDS:
        named = sorted(WEBHOOK_FIELDS)
        raise WebhookMalformed(f"the body is an object of exactly {named} (and {SESSION_FIELD})")
    fields: Mapping[str, object] = data
    if not all(isinstance(v, str) for v in fields.values()):
        raise WebhookMalformed("every field is text")
    text = {k: str(v) for k, v in fields.items()}
    if not _EVENT_ID_RE.fullmatch(text["event_id"]):
        raise WebhookMalformed("event_id is not an identifier")
    session_id = text.get(SESSION_FIELD, "")
    if SESSION_FIELD in text and not _EVENT_ID_RE.fullmatch(session_id):
        raise WebhookMalformed("session_id is not an identifier")
    if len(text["verified_name"]) > limits.verified_name_length_max_chars:
        raise WebhookMalformed("verified_name is too long")
    try:
        occurred_at = datetime.fromisoformat(text["occurred_at"])
    except ValueError:
        raise WebhookMalformed("occurred_at is not an RFC 3339 time") from None
    if occurred_at.utcoffset() is None:
        raise WebhookMalformed("occurred_at has no offset")
    return KycWebhookEvent(
        text["event_id"], text["creditor"], text["reference"], text["state"], text["reason"],
        text["verified_name"], occurred_at, session_id,
    )  # fmt: skip


class SqlKycWebhookLog:
    """The ``KycWebhookLog`` port in ``kyc_webhook_events`` (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def outcome(self, event_id: str) -> str | None:
        events = tables.kyc_webhook_events
        query = select(events.c.outcome).where(events.c.event_id == event_id)
        with transaction(self._engine) as connection:
            found = connection.execute(query).scalar_one_or_none()
        return None if found is None else str(found)

    def last_applied(self, reference: str) -> datetime | None:
        events = tables.kyc_webhook_events
        query = select(func.max(events.c.occurred_at)).where(
            events.c.reference == reference, events.c.outcome == "applied"
        )
        with transaction(self._engine) as connection:
            found = connection.execute(query).scalar_one_or_none()
        return None if found is None else parse_stamp(str(found))

    def record(self, event: KycWebhookEvent, outcome: str, now: datetime) -> bool:
        row = {
            "event_id": event.event_id,
            "reference": event.reference,
            "occurred_at": stamp(event.occurred_at),
            "outcome": outcome,
            "received_at": stamp(now),
        }
        with transaction(self._engine, write=True) as connection:
            return insert_ignore(connection, tables.kyc_webhook_events, row)


class MemoryKycWebhookLog:
    """The same port in memory (tests, simulations)."""

    def __init__(self) -> None:
        self._events: dict[str, tuple[str, datetime, str]] = {}

    def outcome(self, event_id: str) -> str | None:
        found = self._events.get(event_id)
        return None if found is None else found[2]

    def last_applied(self, reference: str) -> datetime | None:
        times = [t for ref, t, o in self._events.values() if ref == reference and o == "applied"]
        return max(times, default=None)

    def record(self, event: KycWebhookEvent, outcome: str, now: datetime) -> bool:
        if event.event_id in self._events:
            return False
        self._events[event.event_id] = (event.reference, event.occurred_at, outcome)
        return True
