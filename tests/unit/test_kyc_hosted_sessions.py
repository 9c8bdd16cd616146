"""The hosted KYC provider's settings and session adapter, without a network: the settings
(optional; the secret from a file or the environment, never in ``repr``; https, or http on
loopback), the request the adapter signs, each provider answer mapped to its error (through
``httpx.MockTransport``), the webhook's optional ``session_id``, and the service's refusals
(``start_hosted_kyc``: nothing written when the provider fails)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import httpx
import pytest

from reclaim import bootstrap
from reclaim.adapters.kyc import (
    API_KEY_HEADER,
    API_SIGNATURE_HEADER,
    API_TIMESTAMP_HEADER,
    HostedSessionApi,
    WebhookKyc,
    api_signature,
    parse_webhook,
)
from reclaim.app.ports import KycProviderRefused, KycProviderUnavailable, WebhookMalformed
from reclaim.config import Settings, SettingsError
from reclaim.core import limits

NOW: Final = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
SECRET: Final = b"an API secret of the provider!!"
FLOW: Final = "https://flow.provider.example"
HOSTED_ENV: Final = {
    "RECLAIM_KYC_HOSTED_URL": "https://api.provider.example/",
    "RECLAIM_KYC_HOSTED_API_KEY": "app-123",
    "RECLAIM_KYC_HOSTED_API_SECRET": SECRET.decode(),
}


def settings(env: dict[str, str], tmp_path: Path) -> Settings:
    return Settings.from_env(env, data_dir=tmp_path)


# Settings ---------------------------------------------------------------------------------------


def test_without_a_url_the_hosted_provider_is_not_offered(tmp_path: Path) -> None:
    assert settings({}, tmp_path).kyc_hosted is None


def test_the_settings_of_a_provider_and_a_secret_that_never_shows(tmp_path: Path) -> None:
    hosted = settings({**HOSTED_ENV, "RECLAIM_KYC_HOSTED_NAME": " Sum  sub "}, tmp_path).kyc_hosted
    assert hosted is not None
    assert (hosted.api_url, hosted.display_name, hosted.flow_origin, hosted.api_key) == (
        "https://api.provider.example", "Sum sub", "https://api.provider.example", "app-123"
    )  # fmt: skip
    assert hosted.api_secret == SECRET
    assert SECRET.decode() not in repr(settings(HOSTED_ENV, tmp_path))


def test_the_secret_comes_from_its_file_first(tmp_path: Path) -> None:
    path = tmp_path / "api.secret"
    path.write_bytes(b"the secret in the file, long enough\n")
    env = {**HOSTED_ENV, "RECLAIM_KYC_HOSTED_API_SECRET_FILE": str(path),
           "RECLAIM_KYC_HOSTED_FLOW_ORIGIN": "https://flow.provider.example:8443"}  # fmt: skip
    hosted = settings(env, tmp_path).kyc_hosted
    assert hosted is not None
    assert hosted.api_secret == b"the secret in the file, long enough"
    assert hosted.flow_origin == "https://flow.provider.example:8443"
    assert hosted.display_name == "api.provider.example"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"RECLAIM_KYC_HOSTED_URL": "http://api.provider.example"}, "https URL"),
        ({"RECLAIM_KYC_HOSTED_URL": "ftp://127.0.0.1"}, "https URL"),
        ({"RECLAIM_KYC_HOSTED_URL": "https://user:pw@api.provider.example"}, "https URL"),
        ({"RECLAIM_KYC_HOSTED_FLOW_ORIGIN": "http://flow.example"}, "https URL"),
        ({"RECLAIM_KYC_HOSTED_API_KEY": ""}, "API key id"),
        ({"RECLAIM_KYC_HOSTED_API_SECRET": "short"}, "at least 16 bytes"),
        ({"RECLAIM_KYC_HOSTED_API_SECRET_FILE": "/nonexistent/secret"}, "SECRET_FILE"),
    ],
)
def test_a_provider_that_cannot_be_used_is_refused_at_start(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        settings({**HOSTED_ENV, **change}, tmp_path)


def test_http_is_taken_on_loopback_only(tmp_path: Path) -> None:
    hosted = settings({**HOSTED_ENV, "RECLAIM_KYC_HOSTED_URL": "http://127.0.0.1:8123"},
                      tmp_path).kyc_hosted  # fmt: skip
    assert hosted is not None
    assert hosted.flow_origin == "http://127.0.0.1:8123"


# The adapter ------------------------------------------------------------------------------------


def adapter(handler: httpx.MockTransport) -> HostedSessionApi:
    return HostedSessionApi("https://api.provider.example/kyc", "app-123", SECRET,
                            display_name="Provider", flow_origin=FLOW,
                            transport=handler)  # fmt: skip


def answering(status: int, body: object) -> httpx.MockTransport:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.MockTransport(lambda request: httpx.Response(status, content=content))


def test_the_session_request_is_signed_and_names_the_case() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"session_id": "s-1", "url": f"{FLOW}/s/1", "x": 1})

    session = adapter(httpx.MockTransport(handler)).start_session(
        "c-0123", "hosted-ab", "https://reclaim.example/kyc/hosted/return", "fr", NOW
    )
    assert (session.session_id, session.url) == ("s-1", f"{FLOW}/s/1")
    assert f"{FLOW}/s/1" not in repr(session)
    (request,) = seen
    assert str(request.url) == "https://api.provider.example/kyc/v1/sessions"
    assert request.headers[API_KEY_HEADER] == "app-123"
    assert request.headers[API_TIMESTAMP_HEADER] == str(int(NOW.timestamp()))
    assert request.headers["Idempotency-Key"] == "hosted-ab"
    expected = api_signature(SECRET, str(int(NOW.timestamp())), "POST", "/kyc/v1/sessions",
                             request.content)  # fmt: skip
    assert request.headers[API_SIGNATURE_HEADER] == expected
    assert json.loads(request.content) == {
        "reference": "hosted-ab", "external_user_id": "c-0123",
        "return_url": "https://reclaim.example/kyc/hosted/return", "locale": "fr",
    }  # fmt: skip
    assert SECRET.decode() not in repr(adapter(httpx.MockTransport(handler)))


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_provider_that_is_down_or_busy_is_unavailable(status: int) -> None:
    with pytest.raises(KycProviderUnavailable, match=str(status)):
        adapter(answering(status, {})).start_session("c-1", "hosted-1", "https://r/", "en", NOW)


def test_a_provider_that_does_not_answer_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with pytest.raises(KycProviderUnavailable, match="ConnectTimeout"):
        adapter(httpx.MockTransport(handler)).start_session("c-1", "h-1", "https://r/", "en", NOW)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"error": "unknown app"}),
        (302, b""),  # a redirect is not followed
        (201, b"<html>"),
        (201, []),
        (201, {"session_id": "s 1", "url": f"{FLOW}/s"}),
        (201, {"session_id": "s-1"}),
        (201, {"session_id": "s-1", "url": "https://evil.example/s"}),
        (201, {"session_id": "s-1", "url": "https://flow.provider.example.evil.example/s"}),
        (201, {"session_id": "s-1", "url": "http://flow.provider.example/s"}),
        (201, {"session_id": "s-1", "url": "https://x@flow.provider.example/s"}),
        (201, {"session_id": "s-1", "url": "https://flow.provider.example:444/s"}),
        (201, {"session_id": "s-1", "url": "/s/1"}),
    ],
)
def test_an_answer_that_is_not_a_session_of_the_flow_origin_is_refused(
    status: int, body: object
) -> None:
    with pytest.raises(KycProviderRefused):
        adapter(answering(status, body)).start_session("c-1", "h-1", "https://r/", "en", NOW)


def test_an_endless_answer_is_read_no_further_than_the_bound() -> None:
    """A body streamed past ``kyc_webhook_body_max_bytes`` is refused before it is all read."""
    sent: list[int] = []

    def endless() -> Iterator[bytes]:
        for _ in range(10_000):  # 640 MB, were it all read
            sent.append(1)
            yield b" " * 65_536

    transport = httpx.MockTransport(lambda request: httpx.Response(201, content=endless()))
    with pytest.raises(KycProviderRefused, match="too large"):
        adapter(transport).start_session("c-1", "h-1", "https://r/", "en", NOW)
    assert len(sent) * 65_536 <= limits.kyc_webhook_body_max_bytes + 65_536


# The webhook's session ----------------------------------------------------------------------------


def _webhook(**extra: str) -> bytes:
    body = {"event_id": "e-1", "creditor": "c-1", "reference": "hosted-1", "state": "rejected",
            "reason": "document_unreadable", "verified_name": "",
            "occurred_at": NOW.isoformat(), **extra}  # fmt: skip
    return json.dumps(body).encode()


def test_a_webhook_may_name_its_session() -> None:
    assert parse_webhook(_webhook()).session_id == ""
    assert parse_webhook(_webhook(session_id="ses-1")).session_id == "ses-1"
    with pytest.raises(WebhookMalformed, match="session_id"):
        parse_webhook(_webhook(session_id="not an id"))
    with pytest.raises(WebhookMalformed, match="exactly"):
        parse_webhook(_webhook(other="x"))


# Wiring -----------------------------------------------------------------------------------------


def test_the_hosted_provider_needs_the_webhook_secret(tmp_path: Path) -> None:
    configured = settings(HOSTED_ENV, tmp_path)
    assert bootstrap.hosted_kyc(settings({}, tmp_path), None) is None
    with pytest.raises(bootstrap.BootstrapError, match=r"kyc-webhook\.secret"):
        bootstrap.hosted_kyc(configured, None)
    hosted = bootstrap.hosted_kyc(configured, WebhookKyc(b"w" * 32))
    assert hosted is not None
    assert (hosted.name, hosted.display_name, hosted.flow_origin) == (
        "hosted", "api.provider.example", "https://api.provider.example"
    )  # fmt: skip
