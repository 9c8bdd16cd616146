"""E-mail through a real SMTP server on loopback (aiosmtpd): the one-time code e-mail in each
language, with its headers; an outage keeps messages queued with a backoff and delivers them
when the server is back; nothing is lost, and nothing personal rests in the outbox; STARTTLS
and login against a server that requires them."""

from __future__ import annotations

import email
import email.policy
import hashlib
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, select

from reclaim.adapters.db import migrate, tables
from reclaim.adapters.db.store import create_store_engine
from reclaim.adapters.mail import (
    ONE_TIME_CODE,
    DeliveryReport,
    RecordingMailSender,
    SmtpMailSender,
    SqlOutbox,
    backoff_seconds,
    deliver_due,
    render,
)
from reclaim.adapters.vault import FileKeyWrapper, SqlVault
from reclaim.app.locales import supported_locale
from reclaim.app.ports import MailRejected, MailServerDown, MailUnavailable, OutboundMail
from reclaim.core import limits

NOW = datetime(2026, 1, 25, 10, 0, tzinfo=UTC)
SENDER = "reclaim <no-reply@reclaim.test>"
CODE = "48213907"
ADDRESSES = {
    "en": "alice@example.com",
    "zh-Hans": "zhang.wei@example.cn",
    "fr": "benedicte@example.fr",
}


@dataclass
class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        self.arrived.set()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1:port that can be stopped and started again."""

    def __init__(self, inbox: Inbox, port: int) -> None:
        self.inbox, self.port = inbox, port
        self.controller: Controller | None = None

    def start(self) -> None:
        assert self.controller is None
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def server(inbox: Inbox, port: int) -> Iterator[SmtpServer]:
    smtp = SmtpServer(inbox, port)
    smtp.start()
    try:
        yield smtp
    finally:
        smtp.stop()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'mail.db'}")
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def vault(engine: Engine) -> SqlVault:
    vault = SqlVault(engine, FileKeyWrapper({"0" * 16: bytes(range(32))}, "0" * 16))
    for locale, address in ADDRESSES.items():
        vault.put(f"signup:{locale}", {"email": address}, NOW)
    return vault


@pytest.fixture
def outbox(engine: Engine, vault: SqlVault) -> SqlOutbox:
    return SqlOutbox(engine, vault)


def sender_for(port: int) -> SmtpMailSender:
    return SmtpMailSender("127.0.0.1", port, SENDER, starttls=False, timeout_seconds=5)


def enqueue_code(outbox: SqlOutbox, locale: str, now: datetime = NOW) -> int:
    payload = {"code": CODE, "minutes": "15"}
    return outbox.enqueue(f"signup:{locale}", "email", ONE_TIME_CODE, locale, payload, now)


EXPECTED = {
    "en": (
        "Your reclaim verification code",
        [
            "Your verification code is:",
            "    4821 3907",
            "within 15 minutes",
            "Never share this code.",
        ],
    ),
    "zh-Hans": (
        "您的 reclaim 验证码",
        ["您的验证码是：", "    4821 3907", "请在 15 分钟内", "请勿将验证码告诉任何人。"],
    ),
    "fr": (
        "Votre code de vérification reclaim",
        [
            "Votre code de vérification est\u00a0:",
            "    4821 3907",
            "dans les 15 minutes",
            "Ne communiquez jamais ce code.",
        ],
    ),
}


TRANSFER_ENCODING = {"en": "7bit", "zh-Hans": "base64", "fr": "quoted-printable"}


@pytest.mark.parametrize("locale", ["en", "zh-Hans", "fr"])
def test_the_code_email_arrives_with_its_headers_in_each_language(
    server: SmtpServer, inbox: Inbox, outbox: SqlOutbox, port: int, locale: str
) -> None:
    mail_id = enqueue_code(outbox, locale)
    report = deliver_due(outbox, sender_for(port), NOW)
    assert report == DeliveryReport(sent=1)
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == [ADDRESSES[locale]]
    subject, lines = EXPECTED[locale]
    assert message["Subject"] == subject
    assert message["From"] == SENDER
    assert message["To"] == ADDRESSES[locale]
    assert parsedate_to_datetime(message["Date"]) == NOW
    message_id = message["Message-ID"]
    assert message_id.startswith("<")
    assert message_id.endswith("@reclaim.test>")
    assert message["Content-Language"] == locale
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message["Content-Transfer-Encoding"] == TRANSFER_ENCODING[locale]
    assert message["MIME-Version"] == "1.0"
    body = message.get_content()
    for line in lines:
        assert line in body
    assert "http" not in body.lower()
    assert "www" not in body.lower()
    assert "4821 3907" in body.splitlines()[4]  # alone on its line
    assert outbox.counts() == {"queued": 0, "sent": 1, "failed": 0}
    assert deliver_due(outbox, sender_for(port), NOW + timedelta(hours=1)) == DeliveryReport()
    assert outbox_row(outbox, mail_id)["payload"] == b""  # the code is gone once sent


def outbox_row(outbox: SqlOutbox, mail_id: int) -> dict[str, Any]:
    engine: Engine = outbox._engine
    with engine.connect() as connection:
        row = connection.execute(
            select(*tables.mail_outbox.c).where(tables.mail_outbox.c.id == mail_id)
        ).one()
    return dict(row._mapping)


def test_an_outage_keeps_the_message_queued_with_a_backoff_until_the_server_is_back(
    inbox: Inbox, outbox: SqlOutbox, port: int
) -> None:
    smtp = SmtpServer(inbox, port)  # not started: the server is down
    first, second = enqueue_code(outbox, "en"), enqueue_code(outbox, "fr")
    sender = sender_for(port)
    report = deliver_due(outbox, sender, NOW)
    assert report == DeliveryReport(retrying=1, deferred=1)
    row = outbox_row(outbox, first)
    assert (row["status"], row["attempts"]) == ("queued", 1)
    assert row["next_attempt_at"] == "2026-01-25T10:00:30.000000Z"  # 30 s later
    assert row["last_error"].startswith("attempt 1: the mail server is unreachable")
    assert outbox_row(outbox, second)["attempts"] == 0  # deferred untried, not counted
    # Nothing is due before the backoff ends; the next failure doubles it.
    assert deliver_due(outbox, sender, NOW + timedelta(seconds=29)) == DeliveryReport()
    at = NOW + timedelta(seconds=30)
    assert deliver_due(outbox, sender, at) == DeliveryReport(retrying=1, deferred=1)
    assert outbox_row(outbox, first)["next_attempt_at"] == "2026-01-25T10:01:30.000000Z"
    assert inbox.messages == []
    smtp.start()  # the server is back
    try:
        report = deliver_due(outbox, sender, NOW + timedelta(seconds=90))
    finally:
        smtp.stop()
    assert report == DeliveryReport(sent=2)
    assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == sorted(
        [ADDRESSES["en"], ADDRESSES["fr"]]
    )
    assert outbox.counts() == {"queued": 0, "sent": 2, "failed": 0}


def test_after_the_last_attempt_a_message_is_failed_listed_and_can_be_requeued(
    outbox: SqlOutbox,
) -> None:
    mail_id = enqueue_code(outbox, "zh-Hans")
    down = RecordingMailSender(failure=MailUnavailable("451 try later"))
    now = NOW
    delays = []
    for _ in range(limits.mail_attempts_max):
        report = deliver_due(outbox, down, now)
        assert report.sent == 0
        row = outbox_row(outbox, mail_id)
        if row["status"] == "queued":
            retry_at = datetime.strptime(row["next_attempt_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
            delays.append(int((retry_at.replace(tzinfo=UTC) - now).total_seconds()))
            now = retry_at.replace(tzinfo=UTC)
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]
    assert sum(delays) == 18_210  # about 5 hours of outage
    row = outbox_row(outbox, mail_id)
    assert (row["status"], row["attempts"]) == ("failed", limits.mail_attempts_max)
    (failed,) = outbox.failed()
    assert failed.id == mail_id
    assert failed.last_error == "gave up after 12: 451 try later"
    assert (failed.template, failed.locale) == (ONE_TIME_CODE, "zh-Hans")
    with pytest.raises(ValueError, match="has not failed"):
        outbox.requeue(mail_id + 1, now)
    outbox.requeue(mail_id, now)
    working = RecordingMailSender()
    assert deliver_due(outbox, working, now) == DeliveryReport(sent=1)
    assert working.sent[0].to_address == ADDRESSES["zh-Hans"]
    assert outbox.failed() == []


def test_a_rejected_message_fails_at_once(outbox: SqlOutbox) -> None:
    mail_id = enqueue_code(outbox, "en")
    refused = RecordingMailSender(failure=MailRejected("550 no such user"))
    assert deliver_due(outbox, refused, NOW) == DeliveryReport(failed=1)
    row = outbox_row(outbox, mail_id)
    assert (row["status"], row["last_error"]) == ("failed", "rejected: 550 no such user")


def test_mail_to_an_erased_recipient_fails_and_is_listed(
    outbox: SqlOutbox, vault: SqlVault
) -> None:
    mail_id = enqueue_code(outbox, "fr")
    vault.erase("signup:fr", NOW)
    sender = RecordingMailSender()
    assert deliver_due(outbox, sender, NOW) == DeliveryReport()
    assert sender.sent == []
    (failed,) = outbox.failed()
    assert (failed.id, failed.last_error) == (mail_id, "the recipient was erased")


def test_a_message_handed_out_is_leased_to_one_worker(outbox: SqlOutbox) -> None:
    enqueue_code(outbox, "en")
    assert len(outbox.due(NOW, 10)) == 1
    assert outbox.due(NOW, 10) == []  # another worker gets nothing
    lease_end = NOW + timedelta(seconds=limits.mail_claim_lease_seconds)
    assert len(outbox.due(lease_end, 10)) == 1  # the first worker died: it comes back


def test_no_address_or_code_rests_in_the_outbox(engine: Engine, outbox: SqlOutbox) -> None:
    mail_id = enqueue_code(outbox, "en")
    row = outbox_row(outbox, mail_id)
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row.values())
    assert CODE.encode() not in stored
    assert b"alice" not in stored
    assert (row["to_subject"], row["to_field"]) == ("signup:en", "email")


def test_the_smtp_sender_names_each_failure(server: SmtpServer, inbox: Inbox, port: int) -> None:
    mail = OutboundMail("t1", "alice@example.com", "s", "body", "en", NOW)
    sender_for(port).send(mail)
    assert inbox.messages[0][1]["Message-ID"] == "<t1@reclaim.test>"
    with pytest.raises(MailRejected, match="cannot be built"):
        sender_for(port).send(OutboundMail("t2", "a@b.c\r\nBcc: x@y.z", "s", "b", "en", NOW))
    server.stop()
    with pytest.raises(MailServerDown, match="unreachable: ConnectionRefusedError"):
        sender_for(port).send(mail)


def test_credentials_travel_only_over_tls() -> None:
    with pytest.raises(ValueError, match="only over STARTTLS"):
        SmtpMailSender("smtp.example.org", 587, SENDER, starttls=False, username="u", password="p")
    with pytest.raises(ValueError, match="has no address"):
        SmtpMailSender("smtp.example.org", 587, "reclaim", starttls=True)
    sender = SmtpMailSender(
        "smtp.example.org", 587, SENDER, starttls=True, username="u", password="secret"
    )
    assert "secret" not in repr(sender)


def test_locales_backoff_and_rendering() -> None:
    assert [supported_locale(t) for t in ("zh-CN", "zh", "zh_Hans_CN", "fr-BE", "de", None)] == [
        "zh-Hans",
        "zh-Hans",
        "zh-Hans",
        "fr",
        "en",
        "en",
    ]
    assert [backoff_seconds(n) for n in (1, 2, 3, 8, 50)] == [30, 60, 120, 3600, 3600]
    subject, body = render(ONE_TIME_CODE, "en", {"code": "12345678", "minutes": "15"})
    assert subject == "Your reclaim verification code"
    assert "\n    1234 5678\n" in body
    assert hashlib.sha256(body.encode()).hexdigest()  # renders without a missing variable


def self_signed_loopback() -> tuple[bytes, bytes]:
    """A certificate for 127.0.0.1 and its key, PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(minutes=5))
        .not_valid_after(datetime.now(UTC) + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def test_starttls_and_login_on_a_server_that_requires_them(
    inbox: Inbox, port: int, tmp_path: Path
) -> None:
    certificate, key = self_signed_loopback()
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret", handled=False)  # 535 if not

    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    try:
        client_context = ssl.create_default_context(cadata=certificate.decode())
        mail = OutboundMail("t1", "alice@example.com", "s", "body", "en", NOW)

        def sender(password: str, context: ssl.SSLContext | None) -> SmtpMailSender:
            return SmtpMailSender(
                "127.0.0.1",
                port,
                SENDER,
                starttls=True,
                username="reclaim",
                password=password,
                timeout_seconds=5,
                ssl_context=context,
            )

        sender("s3cret", client_context).send(mail)
        assert [rcpt for rcpt, _ in inbox.messages] == [["alice@example.com"]]
        assert logins == [(b"reclaim", b"s3cret")]
        with pytest.raises(MailServerDown, match="refused the session: 535"):
            sender("wrong", client_context).send(mail)
        with pytest.raises(MailServerDown, match="SSLCertVerificationError"):
            sender("s3cret", None).send(mail)  # the system's trust store does not know it
        plain = SmtpMailSender("127.0.0.1", port, SENDER, starttls=False, timeout_seconds=5)
        with pytest.raises(MailServerDown, match="530"):
            plain.send(mail)  # the server wants STARTTLS first
        assert len(inbox.messages) == 1
    finally:
        controller.stop()
