"""The hosted KYC provider's webhook signatures: Stripe's scheme, its tolerance, its body."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from reclaim.adapters.kyc import WebhookKyc, sign_webhook, webhook_signature
from reclaim.app.ports import WebhookMalformed, WebhookSignatureInvalid
from reclaim.core import limits

SECRET = b"\x07" * 32
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BODY = json.dumps(
    {"event_id": "evt-1", "creditor": "c-1", "reference": "hosted-1", "state": "approved",
     "reason": "", "verified_name": "Zhang Wei", "occurred_at": "2026-11-25T11:59:00Z"}
).encode()  # fmt: skip


def test_a_signed_body_is_read() -> None:
    event = WebhookKyc(SECRET).verify(sign_webhook(SECRET, BODY, NOW), BODY, NOW)
    assert (event.event_id, event.state, event.verified_name) == ("evt-1", "approved", "Zhang Wei")
    assert "Zhang" not in repr(event)


def test_a_rotated_secret_may_sign_alongside() -> None:
    t = str(int(NOW.timestamp()))
    header = (
        f"t={t},v1={webhook_signature(b'x' * 32, t, BODY)},v1={webhook_signature(SECRET, t, BODY)}"
    )
    assert WebhookKyc(SECRET).verify(header, BODY, NOW).event_id == "evt-1"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "v1=" + "0" * 64,
        "t=abc,v1=" + "0" * 64,
        sign_webhook(SECRET, BODY + b" ", NOW),  # signs another body
        sign_webhook(b"\x08" * 32, BODY, NOW),  # another secret
        sign_webhook(
            SECRET, BODY, NOW - timedelta(seconds=limits.kyc_webhook_tolerance_seconds + 1)
        ),
    ],
)
def test_signatures_that_do_not_hold(header: str | None) -> None:
    with pytest.raises(WebhookSignatureInvalid):
        WebhookKyc(SECRET).verify(header, BODY, NOW)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"event_id": "evt-1"}',
        BODY.replace(b'"2026-11-25T11:59:00Z"', b'"2026-11-25T11:59:00"'),
    ],
)
def test_signed_bodies_that_are_not_decisions(body: bytes) -> None:
    with pytest.raises(WebhookMalformed):
        WebhookKyc(SECRET).verify(sign_webhook(SECRET, body, NOW), body, NOW)
