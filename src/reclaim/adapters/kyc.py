"""KYC providers: a built-in manual-review queue and a hosted provider's signed webhooks.

Two adapters of the ``KycProvider`` port:

- ``ManualReviewQueue`` (provider ``manual``): the case waits in the operator's queue
  (``OnboardingService.kyc_queue``) until a KYC officer decides it (API or CLI); the decision is
  signed by the officer's key.
- ``WebhookKyc`` (provider ``hosted`` by default): the creditor completes the provider's flow;
  the provider calls ``POST /webhooks/kyc`` with its decision; the decision is signed in the log
  by the ``kyc-provider`` service actor.

Webhook signatures (Stripe's scheme): the header ``X-Reclaim-Kyc-Signature: t=<unix seconds>,
v1=<hex>`` where ``v1`` is ``HMAC-SHA256(secret, "<t>." || body)`` over the exact body bytes;
several ``v1`` entries may be given (a provider rotating its secret), one must match
(``hmac.compare_digest``), and ``t`` must be within ``limits.kyc_webhook_tolerance_seconds`` of
the server's clock. The body is a JSON object of text fields::

    {"event_id", "creditor", "reference", "state", "reason", "verified_name", "occurred_at"}

``state`` is ``approved`` (``verified_name`` set, ``reason`` empty), ``rejected`` or
``resubmission_requested`` (a ``reason`` code, no name); ``occurred_at`` is RFC 3339 with an
offset. Anything else is ``WebhookMalformed``.

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
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from sqlalchemy import Engine, func, select

from reclaim.adapters.db import tables
from reclaim.adapters.db.transactions import insert_ignore, parse_stamp, stamp, transaction
from reclaim.app import bounded_json
from reclaim.app.ports import KycWebhookEvent, WebhookMalformed, WebhookSignatureInvalid
from reclaim.core import limits
from reclaim.core.limits import kyc_webhook_signatures_max

SIGNATURE_HEADER: Final = "X-Reclaim-Kyc-Signature"
MANUAL_PROVIDER: Final = "manual"
HOSTED_PROVIDER: Final = "hosted"
WEBHOOK_FIELDS: Final = frozenset(
    {"event_id", "creditor", "reference", "state", "reason", "verified_name", "occurred_at"}
)
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
    if not isinstance(data, dict) or set(data) != WEBHOOK_FIELDS:
        raise WebhookMalformed(f"the body is an object of exactly {sorted(WEBHOOK_FIELDS)}")
    fields: Mapping[str, object] = data
    if not all(isinstance(v, str) for v in fields.values()):
        raise WebhookMalformed("every field is text")
    text = {k: str(v) for k, v in fields.items()}
    if not _EVENT_ID_RE.fullmatch(text["event_id"]):
        raise WebhookMalformed("event_id is not an identifier")
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
        text["verified_name"], occurred_at,
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
