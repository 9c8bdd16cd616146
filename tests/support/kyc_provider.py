"""A hosted KYC provider on loopback, for the hand-off tests: the session API reclaim calls
(``adapters.kyc.HostedSessionApi``), the verification page a creditor is sent to, and the
signed webhook it POSTs back to reclaim when that page is completed.

- ``POST /v1/sessions``: checks ``X-Api-Key`` and ``X-Api-Signature`` (HMAC-SHA256 of
  timestamp, method, path and body under the API secret; a stale timestamp or a wrong
  signature is ``401``, as a real provider answers), keeps the session (reference, creditor,
  return URL, locale) and answers ``201 {"session_id", "url"}``. ``mode`` makes it misbehave:
  ``down`` (``503``), ``hang_up`` (closes the connection without an answer), ``refuse``
  (``401``), ``elsewhere`` (a session URL on another origin: an open redirect).
- ``GET /flow/<session id>``: a page with the name to verify and a "Complete" button (a plain
  form: no script). ``POST /flow/<session id>/complete``: builds the decision webhook
  (``approved`` with the name), signs it with reclaim's webhook secret
  (``adapters.kyc.sign_webhook``), POSTs it to ``reclaim_url/webhooks/kyc`` — at once, or, with
  ``hold_webhooks``, when the test calls ``deliver_held`` — and answers ``303`` to the
  session's return URL.

Every webhook it sent is in ``sent`` (body, header, reclaim's status), so a test can replay one.
"""

from __future__ import annotations

import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final
from urllib.parse import parse_qs

import httpx

from reclaim.adapters.kyc import (
    API_KEY_HEADER,
    API_SIGNATURE_HEADER,
    API_TIMESTAMP_HEADER,
    SESSIONS_PATH,
    SIGNATURE_HEADER,
    api_signature,
    sign_webhook,
)

API_KEY: Final = "reclaim-test-app"
API_SECRET: Final = b"the test provider's API secret, 32+ bytes"
PROVIDER_NAME: Final = "TestID"
#: How far the provider lets a request's timestamp be from its clock (Sumsub: a minute or so).
REQUEST_TOLERANCE_SECONDS: Final = 60


@dataclass(slots=True)
class Session:
    session_id: str
    reference: str
    creditor: str
    return_url: str
    locale: str


@dataclass(slots=True)
class Delivery:
    body: bytes
    header: str
    status: int


@dataclass(slots=True)
class LoopbackProvider:
    webhook_secret: bytes
    base_url: str = ""
    reclaim_url: str = ""
    mode: str = "ok"
    hold_webhooks: bool = False
    sessions: dict[str, Session] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    sent: list[Delivery] = field(default_factory=list)
    held: list[tuple[bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def session_of(self, creditor: str) -> Session:
        """The newest session reclaim opened for ``creditor``."""
        with self.lock:
            found = [s for s in self.sessions.values() if s.creditor == creditor]
        assert found, f"no session of {creditor}"
        return found[-1]

    def decision(self, session: Session, name: str, *, state: str = "approved",
                 creditor: str | None = None, reference: str | None = None) -> bytes:  # fmt: skip
        """A webhook body about ``session`` (its creditor and reference unless told others)."""
        body = {
            "event_id": f"evt-{secrets.token_hex(8)}",
            "creditor": creditor or session.creditor,
            "reference": reference or session.reference,
            "session_id": session.session_id,
            "state": state,
            "reason": "" if state == "approved" else "document_unreadable",
            "verified_name": name if state == "approved" else "",
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        return json.dumps(body).encode()

    def deliver(self, body: bytes, header: str | None = None) -> Delivery:
        """POST a webhook to reclaim, signed now with the webhook secret unless ``header``."""
        header = header or sign_webhook(self.webhook_secret, body, datetime.now(UTC))
        answer = httpx.post(f"{self.reclaim_url}/webhooks/kyc", content=body, timeout=30,
                            headers={SIGNATURE_HEADER: header,
                                     "Content-Type": "application/json"})  # fmt: skip
        delivery = Delivery(body, header, answer.status_code)
        with self.lock:
            self.sent.append(delivery)
        return delivery

    def deliver_held(self) -> list[Delivery]:
        with self.lock:
            held, self.held = self.held, []
        return [self.deliver(body, header) for body, header in held]

    # The HTTP side -------------------------------------------------------------------------

    def create_session(self, headers: dict[str, str], path: str, body: bytes) -> tuple[int, bytes]:
        stamp = headers.get(API_TIMESTAMP_HEADER.lower(), "")
        expected = api_signature(API_SECRET, stamp, "POST", path, body)
        fresh = stamp.isdigit() and abs(time.time() - int(stamp)) <= REQUEST_TOLERANCE_SECONDS
        signed = hmac.compare_digest(expected, headers.get(API_SIGNATURE_HEADER.lower(), ""))
        if headers.get(API_KEY_HEADER.lower()) != API_KEY or not fresh or not signed:
            return 401, b'{"error":"unauthorized"}'
        data = json.loads(body)
        with self.lock:
            self.requests.append(data)
            session = Session(
                f"ses-{secrets.token_hex(8)}",
                data["reference"],
                data["external_user_id"],
                data["return_url"],
                data["locale"],
            )
            self.sessions[session.session_id] = session  # fmt: skip
        origin = "https://elsewhere.example" if self.mode == "elsewhere" else self.base_url
        answer = {"session_id": session.session_id, "url": f"{origin}/flow/{session.session_id}",
                  "status": "created"}  # fmt: skip
        return 201, json.dumps(answer).encode()

    def flow_page(self, session_id: str) -> tuple[int, bytes]:
        session = self.sessions.get(session_id)
        if session is None:
            return 404, b"no such session"
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{PROVIDER_NAME} verification</title></head><body><main>
<h1>{PROVIDER_NAME}: verify your identity</h1>
<p id="session">{html.escape(session_id)}</p>
<form method="post" action="/flow/{html.escape(session_id)}/complete">
<label for="name">Name on the document</label>
<input id="name" name="name" required>
<button type="submit" id="complete">Complete</button>
</form></main></body></html>"""
        return 200, page.encode()

    def complete(self, session_id: str, form: bytes) -> tuple[int, bytes, str]:
        session = self.sessions.get(session_id)
        if session is None:
            return 404, b"no such session", ""
        name = parse_qs(form.decode()).get("name", [""])[0]
        body = self.decision(session, name)
        if self.hold_webhooks:
            header = sign_webhook(self.webhook_secret, body, datetime.now(UTC))
            with self.lock:
                self.held.append((body, header))
        else:
            self.deliver(body)
        return 303, b"", session.return_url


def _handler(provider: LoopbackProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, body: bytes, kind: str, location: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if location:
                self.send_header("Location", location)
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def do_GET(self) -> None:
            if self.path == "/favicon.ico":  # a browser asks; nothing to show
                self._answer(204, b"", "image/x-icon")
            elif self.path.startswith("/flow/"):
                status, page = provider.flow_page(self.path.removeprefix("/flow/"))
                self._answer(status, page, "text/html; charset=utf-8")
            else:
                self._answer(404, b"", "text/plain")

        def do_POST(self) -> None:
            body = self._body()
            if self.path == SESSIONS_PATH:
                if provider.mode == "hang_up":
                    self.close_connection = True
                    self.connection.close()
                    return
                if provider.mode == "down":
                    self._answer(503, b'{"error":"maintenance"}', "application/json")
                    return
                if provider.mode == "refuse":
                    self._answer(401, b'{"error":"unknown app"}', "application/json")
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = provider.create_session(headers, self.path, body)
                self._answer(status, answer, "application/json")
            elif self.path.startswith("/flow/") and self.path.endswith("/complete"):
                session_id = self.path.removeprefix("/flow/").removesuffix("/complete")
                status, page, location = provider.complete(session_id, body)
                self._answer(status, page, "text/plain", location)
            else:
                self._answer(404, b"", "text/plain")

    return Handler


@contextmanager
def running_provider(webhook_secret: bytes) -> Iterator[LoopbackProvider]:
    """The provider on a free loopback port until the block ends."""
    provider = LoopbackProvider(webhook_secret)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    server.daemon_threads = True
    provider.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="test-kyc-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
