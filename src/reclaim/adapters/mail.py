"""E-mail: a durable outbox in SQL, an SMTP sender, the delivery loop and the templates.

Theory of operation
-------------------
Nothing is mailed from a request. A handler ``enqueue``s a message (a template, a locale and the
template's variables) in ``mail_outbox``; a worker calls ``deliver_due`` every few seconds,
which takes the due messages (``Outbox.due``, leased so two workers never send one at once),
renders them and hands each to a ``MailSender``. The result is written back:

    queued ──send ok──────────────────────────────► sent      (the sealed payload is dropped)
      │  └─MailUnavailable, attempts < max──► queued again at now + backoff(attempts)
      └────MailRejected, or attempts = max, or the recipient erased ──► failed

``backoff(n) = min(mail_backoff_base_seconds * 2**(n-1), mail_backoff_max_seconds)``: 30 s,
1 min, 2 min, ... 1 h, 1 h; ``limits.mail_attempts_max`` (12) attempts span about 5 hours of
outage. After ``MailServerDown`` (the server cannot be reached at all) the rest of the batch is
put back untried (``release``) rather than timing out one by one. A failed message is never
deleted: ``failed`` lists it for the operator, ``requeue`` gives it a new round. A mail outage
therefore loses nothing: messages wait in the database. Delivery is at-least-once (a worker that
dies after the server accepted a message but before ``mark_sent`` sends it again after the
lease); a second copy of a code e-mail is harmless.

What is stored: addresses are personal data and codes are secrets, so an outbox row holds
neither in clear. The recipient is a vault reference (``to_subject``, ``to_field``), read when
the message is sent; the template's variables (``payload``) are sealed by the vault under the
recipient's data key (purpose ``mail_outbox/<message token>``), and dropped once sent. Erasing
the recipient makes their queued mail unreadable: it fails with "recipient erased".

Templates: plain text, ``string.Template`` (Jinja2 is not a dependency), in English, Simplified
Chinese (``zh-Hans``) and French. The one-time code e-mail shows the code alone on its line,
grouped for reading (``1234 5678``), says how long it lasts and never to share it, and carries
no link (a link in a code e-mail teaches people to click links in code e-mails: phishing). The
sign-up code e-mail (``sign_up_code``, issue 9) also shows the fingerprint of the API key being
registered (``a1b2 c3d4 e5f6 0718``) and a confirmation key (``ABCDE-FGHIJ-KLMNO-PQRST``) that
works where the code is refused for too many guesses at the address.

The SMTP sender (``SmtpMailSender``) builds an RFC 5322 message (``email.message.EmailMessage``:
UTF-8, a 7bit, quoted-printable or base64 body, an RFC 2047 subject, ``Date``, a ``Message-ID``
that is the same on every retry, ``Content-Language``, ``Auto-Submitted: auto-generated``),
optionally upgrades the session with STARTTLS and logs in. It refuses to be built with
credentials over a clear-text session to anything but loopback. It opens one SMTP session per
message (code e-mails are few; pooling sessions is a later optimisation).

Errors: ``MailServerDown`` (cannot connect, TLS or login failed, the server refuses the sender),
``MailUnavailable`` (a 4xx for this message), ``MailRejected`` (a 5xx for its recipient or
content); error texts kept on the row have the recipient's address redacted.
"""

from __future__ import annotations

import email.policy
import json
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from string import Template
from typing import Final

from sqlalchemy import Engine, func, select, update

from reclaim.adapters.db import tables
from reclaim.adapters.db.transactions import stamp, transaction
from reclaim.app.locales import LOCALES
from reclaim.app.ports import (
    FailedMail,
    MailRejected,
    MailSender,
    MailServerDown,
    MailUnavailable,
    OutboundMail,
    Outbox,
    QueuedMail,
    SubjectErased,
    SubjectNotFound,
    Vault,
)
from reclaim.core import limits

# Templates ------------------------------------------------------------------------------------

ONE_TIME_CODE: Final = "one_time_code"


@dataclass(frozen=True, slots=True)
class MailTemplate:
    subject: Template
    body: Template


_NBSP: Final = "\u00a0"  # French puts a no-break space before ":" and ";"

#: How every e-mail opens and closes, by locale: the greeting and blank line before the body,
#: and the blank line and signature ("-- " and a line: RFC 3676's signature separator) after it.
_GREETING: Final = {"en": "Hello,\n\n", "zh-Hans": "您好：\n\n", "fr": "Bonjour,\n\n"}
_SIGN_OFF: Final = {
    "en": "\n-- \nreclaim (an automatic message; replies are not read)\n",
    "zh-Hans": "\n-- \nreclaim（系统自动发送的邮件，请勿回复）\n",
    "fr": f"\n-- \nreclaim (message automatique{_NBSP}; les réponses ne sont pas lues)\n",
}


def _localised(mails: Mapping[str, tuple[str, str]]) -> dict[str, MailTemplate]:
    """A template's e-mails by locale, from each locale's subject and body (between the
    locale's greeting and sign-off)."""
    return {
        locale: MailTemplate(
            Template(subject), Template(_GREETING[locale] + body + _SIGN_OFF[locale])
        )
        for locale, (subject, body) in mails.items()
    }


TEMPLATES: Final[dict[str, dict[str, MailTemplate]]] = {
    ONE_TIME_CODE: _localised(
        {
            "en": (
                "Your reclaim verification code",
                "Your verification code is:\n"
                "\n"
                "    $code\n"
                "\n"
                "Enter it on the reclaim sign-up page within $minutes minutes. "
                "It works once.\n"
                "\n"
                "Never share this code. No one from reclaim will ever ask you for it, "
                "by e-mail, telephone or chat.\n"
                "\n"
                "If you did not ask for this code, ignore this message: nothing happens "
                "without it.\n",
            ),
            "zh-Hans": (
                "您的 reclaim 验证码",
                "您的验证码是：\n"
                "\n"
                "    $code\n"
                "\n"
                "请在 $minutes 分钟内在 reclaim 注册页面输入此验证码。验证码只能使用一次。\n"
                "\n"
                "请勿将验证码告诉任何人。reclaim 的工作人员绝不会通过电子邮件、电话或聊天"
                "向您索取验证码。\n"
                "\n"
                "如果您没有申请此验证码，请忽略本邮件：没有验证码，什么都不会发生。\n",
            ),
            "fr": (
                "Votre code de vérification reclaim",
                f"Votre code de vérification est{_NBSP}:\n"
                "\n"
                "    $code\n"
                "\n"
                "Saisissez-le sur la page d’inscription de reclaim dans les $minutes minutes. "
                "Il ne sert qu’une fois.\n"
                "\n"
                "Ne communiquez jamais ce code. Personne chez reclaim ne vous le demandera, "
                "ni par e-mail, ni par téléphone, ni par messagerie.\n"
                "\n"
                "Si vous n’avez pas demandé ce code, ignorez ce message"
                f"{_NBSP}: rien ne se passe sans lui.\n",
            ),
        }
    ),
}
#: The variables each template's payload holds, exactly.
TEMPLATE_VARIABLES: Final = {ONE_TIME_CODE: frozenset({"code", "minutes"})}


#: The sign-up code e-mail (issue 9, finding 2): the code is bound to one pending sign-up — one
#: API key and password — and the e-mail shows that key's fingerprint, so the owner can tell their
#: own sign-up from a stranger's. It carries a confirmation key too, which works where the code
#: would be refused for too many guesses at the address (strangers can spend that budget; they
#: cannot read this mailbox). ``one_time_code`` above stays for messages queued before.
SIGN_UP_CODE: Final = "sign_up_code"

TEMPLATES[SIGN_UP_CODE] = _localised(
    {
        "en": (
            "Your reclaim verification code",
            "Someone asked to open a reclaim account with this address, for the API key with "
            "this fingerprint:\n"
            "\n"
            "    $fingerprint\n"
            "\n"
            "If it is the fingerprint your reclaim app shows, your verification code is:\n"
            "\n"
            "    $code\n"
            "\n"
            "Enter it on the reclaim sign-up page within $minutes minutes. It works once.\n"
            "\n"
            "If the page says there were too many attempts, enter this confirmation key "
            "instead:\n"
            "\n"
            "    $key\n"
            "\n"
            "Never share this code or this key. No one from reclaim will ever ask you for "
            "them, by e-mail, telephone or chat.\n"
            "\n"
            "If you did not ask for this, or the fingerprint is not the one your app shows, "
            "ignore this message: nothing happens without the code, and whoever asked cannot "
            "use your address.\n",
        ),
        "zh-Hans": (
            "您的 reclaim 验证码",
            "有人申请用此邮箱地址开立 reclaim 账户，所用 API 密钥的指纹是：\n"
            "\n"
            "    $fingerprint\n"
            "\n"
            "如果这与您的 reclaim 应用显示的指纹一致，您的验证码是：\n"
            "\n"
            "    $code\n"
            "\n"
            "请在 $minutes 分钟内在 reclaim 注册页面输入此验证码。验证码只能使用一次。\n"
            "\n"
            "如果页面提示尝试次数过多，请改为输入以下确认密钥：\n"
            "\n"
            "    $key\n"
            "\n"
            "请勿将验证码或确认密钥告诉任何人。reclaim 的工作人员绝不会通过电子邮件、电话或"
            "聊天向您索取。\n"
            "\n"
            "如果您没有申请，或指纹与您的应用显示的不一致，请忽略本邮件：没有验证码，什么都不会"
            "发生，申请者也无法使用您的邮箱地址。\n",
        ),
        "fr": (
            "Votre code de vérification reclaim",
            "Quelqu’un a demandé à ouvrir un compte reclaim avec cette adresse, pour la clé "
            f"d’API dont l’empreinte est{_NBSP}:\n"
            "\n"
            "    $fingerprint\n"
            "\n"
            "Si c’est l’empreinte qu’affiche votre application reclaim, votre code de "
            f"vérification est{_NBSP}:\n"
            "\n"
            "    $code\n"
            "\n"
            "Saisissez-le sur la page d’inscription de reclaim dans les $minutes minutes. "
            "Il ne sert qu’une fois.\n"
            "\n"
            "Si la page indique qu’il y a eu trop de tentatives, saisissez plutôt cette clé de "
            f"confirmation{_NBSP}:\n"
            "\n"
            "    $key\n"
            "\n"
            "Ne communiquez jamais ce code ni cette clé. Personne chez reclaim ne vous les "
            "demandera, ni par e-mail, ni par téléphone, ni par messagerie.\n"
            "\n"
            "Si vous n’avez rien demandé, ou si l’empreinte n’est pas celle qu’affiche votre "
            f"application, ignorez ce message{_NBSP}: rien ne se passe sans le code, et "
            "l’auteur de la demande ne peut pas utiliser votre adresse.\n",
        ),
    }
)
TEMPLATE_VARIABLES[SIGN_UP_CODE] = frozenset({"code", "minutes", "fingerprint", "key"})


def _group_key(key: str) -> str:
    """A confirmation key in groups of five, joined by hyphens (ignored when typed)."""
    return "-".join(key[i : i + 5] for i in range(0, len(key), 5))


def _group_digits(code: str) -> str:
    """``12345678`` as ``1234 5678`` (two halves: easier to read and to type)."""
    half = (len(code) + 1) // 2
    return f"{code[:half]} {code[half:]}" if len(code) >= 6 else code


def render(template: str, locale: str, payload: dict[str, str]) -> tuple[str, str]:
    """The subject and body of ``template`` in ``locale`` with ``payload``'s variables."""
    assert set(payload) == TEMPLATE_VARIABLES[template], f"payload of {template}"
    chosen = TEMPLATES[template][locale]
    variables = dict(payload)
    if template in (ONE_TIME_CODE, SIGN_UP_CODE):
        variables["code"] = _group_digits(payload["code"])
    if template == SIGN_UP_CODE:
        variables["key"] = _group_key(payload["key"])
    return chosen.subject.substitute(variables), chosen.body.substitute(variables)


# The outbox -----------------------------------------------------------------------------------


def _seal_purpose(token: str) -> str:
    return f"mail_outbox/{token}"


class SqlOutbox:
    """The ``Outbox`` port on SQLite or PostgreSQL (an engine from
    ``store.create_store_engine``, migrated); recipients and payloads through ``vault``."""

    def __init__(self, engine: Engine, vault: Vault) -> None:
        self._engine = engine
        self._vault = vault

    def enqueue(
        self,
        to_subject: str,
        to_field: str,
        template: str,
        locale: str,
        payload: Mapping[str, str],
        now: datetime,
    ) -> int:
        assert template in TEMPLATES, f"unknown mail template {template!r}"
        assert locale in LOCALES, f"unsupported locale {locale!r} (see locales.supported_locale)"
        assert set(payload) == TEMPLATE_VARIABLES[template], f"the variables of {template}"
        assert all(isinstance(v, str) for v in payload.values()), "payload values are text"
        token = secrets.token_hex(16)
        plaintext = json.dumps(dict(payload), sort_keys=True, ensure_ascii=False).encode()
        sealed = self._vault.seal(to_subject, _seal_purpose(token), plaintext)
        row = {
            "message_token": token,
            "to_subject": to_subject,
            "to_field": to_field,
            "template": template,
            "locale": locale,
            "payload": sealed,
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": stamp(now),
            "last_error": None,
            "created_at": stamp(now),
            "sent_at": None,
            "failed_at": None,
        }
        with transaction(self._engine, write=True) as connection:
            result = connection.execute(tables.mail_outbox.insert().values(**row))
            key = result.inserted_primary_key
        assert key is not None
        mail_id = key[0]
        assert isinstance(mail_id, int)
        return mail_id

    def due(self, now: datetime, limit: int) -> list[QueuedMail]:
        assert 0 < limit <= limits.mail_delivery_batch_max
        outbox = tables.mail_outbox
        query = (
            select(
                outbox.c.id,
                outbox.c.message_token,
                outbox.c.to_subject,
                outbox.c.to_field,
                outbox.c.template,
                outbox.c.locale,
                outbox.c.payload,
                outbox.c.attempts,
            )
            .where(outbox.c.status == "queued", outbox.c.next_attempt_at <= stamp(now))
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        lease_until = stamp(now + timedelta(seconds=limits.mail_claim_lease_seconds))
        with transaction(self._engine, write=True) as connection:
            rows = connection.execute(query).all()
            if rows:
                connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([row.id for row in rows]))
                    .values(next_attempt_at=lease_until)
                )
        handed: list[QueuedMail] = []
        for row in rows:  # outside the transaction: the vault opens its own
            try:
                address = self._vault.get(row.to_subject, [row.to_field]).text(row.to_field)
                plaintext = self._vault.open(
                    row.to_subject, _seal_purpose(row.message_token), bytes(row.payload)
                )
            except (SubjectErased, SubjectNotFound, KeyError) as exc:
                reason = "the recipient was erased" if isinstance(exc, SubjectErased) else None
                self.mark_failed(row.id, now, reason or "the recipient is not in the vault", None)
                continue
            subject, body = render(row.template, row.locale, json.loads(plaintext))
            mail = OutboundMail(row.message_token, address, subject, body, row.locale, now)
            handed.append(QueuedMail(row.id, row.attempts, mail))
        return handed

    def mark_sent(self, mail_id: int, now: datetime) -> None:
        self._update(mail_id, status="sent", sent_at=stamp(now), payload=b"")

    def mark_failed(
        self, mail_id: int, now: datetime, error: str, retry_at: datetime | None
    ) -> None:
        outbox = tables.mail_outbox
        changes: dict[str, object] = {
            "attempts": outbox.c.attempts + 1,
            "last_error": error[: limits.mail_error_length_max_chars],
        }
        if retry_at is None:
            changes |= {"status": "failed", "failed_at": stamp(now)}
        else:
            changes["next_attempt_at"] = stamp(retry_at)
        self._update(mail_id, **changes)

    def release(self, mail_id: int, retry_at: datetime) -> None:
        self._update(mail_id, next_attempt_at=stamp(retry_at))

    def _update(self, mail_id: int, **changes: object) -> None:
        """Change a queued message; one that is no longer queued (its lease ran out and another
        worker finished it) is left as it is."""
        outbox = tables.mail_outbox
        with transaction(self._engine, write=True) as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == mail_id, outbox.c.status == "queued")
                .values(**changes)
            )

    def failed(self, limit: int = limits.mail_failed_page_max) -> list[FailedMail]:
        assert 0 < limit <= limits.mail_failed_page_max
        outbox = tables.mail_outbox
        query = (
            select(
                outbox.c.id,
                outbox.c.template,
                outbox.c.locale,
                outbox.c.attempts,
                outbox.c.last_error,
                outbox.c.created_at,
                outbox.c.failed_at,
            )
            .where(outbox.c.status == "failed")
            .order_by(outbox.c.id)
            .limit(limit)
        )
        with transaction(self._engine) as connection:
            return [
                FailedMail(
                    r.id,
                    r.template,
                    r.locale,
                    r.attempts,
                    r.last_error or "",
                    r.created_at,
                    r.failed_at or "",
                )
                for r in connection.execute(query)
            ]

    def requeue(self, mail_id: int, now: datetime) -> None:
        """Give a failed message a new round of attempts; ``ValueError`` if it has not failed."""
        outbox = tables.mail_outbox
        with transaction(self._engine, write=True) as connection:
            result = connection.execute(
                update(outbox)
                .where(outbox.c.id == mail_id, outbox.c.status == "failed")
                .values(status="queued", attempts=0, next_attempt_at=stamp(now), failed_at=None)
            )
        if result.rowcount != 1:
            raise ValueError(f"outbox message {mail_id} has not failed")

    def counts(self) -> dict[str, int]:
        """Messages by status (``queued``, ``sent``, ``failed``), for health checks."""
        outbox = tables.mail_outbox
        query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        counts = dict.fromkeys(("queued", "sent", "failed"), 0)
        with transaction(self._engine) as connection:
            for status, count in connection.execute(query):
                counts[status] = int(count)
        return counts


# Delivery -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0  # failed this time, queued again with a backoff
    failed: int = 0  # given up: listed by ``Outbox.failed``
    deferred: int = 0  # not tried: the server was down


def backoff_seconds(attempts: int) -> int:
    """The delay before the next try after ``attempts`` failed ones (≥ 1)."""
    assert attempts >= 1
    doubled = limits.mail_backoff_base_seconds << min(attempts - 1, 32)
    return min(doubled, limits.mail_backoff_max_seconds)


def deliver_due(
    outbox: Outbox,
    sender: MailSender,
    now: datetime,
    limit: int = limits.mail_delivery_batch_max,
) -> DeliveryReport:
    """Send the messages due at ``now`` (at most ``limit``) and record each outcome."""
    queue = outbox.due(now, limit)
    sent = retrying = failed = deferred = 0
    for index, queued in enumerate(queue):
        try:
            sender.send(queued.mail)
        except MailRejected as exc:
            outbox.mark_failed(queued.id, now, f"rejected: {exc}", None)
            failed += 1
        except MailUnavailable as exc:
            attempts = queued.attempts + 1
            delay = timedelta(seconds=backoff_seconds(attempts))
            if attempts >= limits.mail_attempts_max:
                outbox.mark_failed(queued.id, now, f"gave up after {attempts}: {exc}", None)
                failed += 1
            else:
                outbox.mark_failed(queued.id, now, f"attempt {attempts}: {exc}", now + delay)
                retrying += 1
            if isinstance(exc, MailServerDown):
                for rest in queue[index + 1 :]:
                    outbox.release(rest.id, now + delay)
                    deferred += 1
                break
        else:
            outbox.mark_sent(queued.id, now)
            sent += 1
    return DeliveryReport(sent, retrying, failed, deferred)


# SMTP -------------------------------------------------------------------------------------------

_LOOPBACK: Final = ("127.0.0.1", "::1", "localhost")


@dataclass(slots=True)
class SmtpMailSender:
    """The ``MailSender`` port over SMTP (``smtplib``); one session per message.

    ``sender`` is the ``From`` header (``reclaim <no-reply@example.org>``); its domain names
    the ``Message-ID``. ``ssl_context`` (for STARTTLS) defaults to the system's trust store.
    """

    host: str
    port: int
    sender: str
    starttls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = limits.smtp_timeout_seconds
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    _domain: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        address = parseaddr(self.sender)[1]
        local, at, domain = address.rpartition("@")
        if not (local and at and domain):
            raise ValueError(f"the mail sender {self.sender!r} has no address")
        if self.username is not None and not self.starttls and self.host not in _LOOPBACK:
            raise ValueError("SMTP credentials are sent only over STARTTLS (or to loopback)")
        self._domain = domain

    def build(self, mail: OutboundMail) -> EmailMessage:
        """The RFC 5322 message for ``mail``; ``MailRejected`` if its address cannot be a
        header (a line break in it)."""
        message = EmailMessage(policy=email.policy.SMTP)
        try:
            message["From"] = self.sender
            message["To"] = mail.to_address
            message["Subject"] = mail.subject
        except (ValueError, IndexError) as exc:
            raise MailRejected(f"the message cannot be built: {type(exc).__name__}") from None
        message["Date"] = format_datetime(mail.date.astimezone(UTC), usegmt=True)
        message["Message-ID"] = f"<{mail.message_key}@{self._domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(mail.body, charset="utf-8", cte=_transfer_encoding(mail.body))
        message["Content-Language"] = mail.locale  # after set_content, which resets Content-*
        return message

    def send(self, mail: OutboundMail) -> None:
        message = self.build(mail)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as session:
                if self.starttls:
                    session.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username is not None:
                    session.login(self.username, self.password or "")
                session.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            answers = list(exc.recipients.values())
            text = "; ".join(f"{code} {_text(reply)}" for code, reply in answers)
            text = _redact(text, mail.to_address)
            if any(400 <= code < 500 for code, _ in answers):
                raise MailUnavailable(f"recipient refused for now: {text}") from None
            raise MailRejected(f"recipient refused: {text}") from None
        except smtplib.SMTPDataError as exc:
            text = _redact(f"{exc.smtp_code} {_text(exc.smtp_error)}", mail.to_address)
            if exc.smtp_code >= 500:
                raise MailRejected(f"message refused: {text}") from None
            raise MailUnavailable(f"message refused for now: {text}") from None
        except smtplib.SMTPResponseException as exc:  # sender refused, HELO, login, connect
            text = _redact(f"{exc.smtp_code} {_text(exc.smtp_error)}", mail.to_address)
            raise MailServerDown(f"the mail server refused the session: {text}") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused, timeout, TLS, disconnect
            text = _redact(str(exc), mail.to_address)
            raise MailServerDown(
                f"the mail server is unreachable: {type(exc).__name__}: {text}"
            ) from None


def _transfer_encoding(body: str) -> str:
    """7bit for ASCII; base64 when most characters are not Latin (Chinese: a third of the size
    of quoted-printable); quoted-printable otherwise (French stays readable in the raw mail)."""
    wide = sum(1 for ch in body if ord(ch) > 0x7F)
    if wide == 0:
        return "7bit"
    return "base64" if 3 * wide > len(body) else "quoted-printable"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _redact(text: str, address: str) -> str:
    return text.replace(address, "<recipient>") if address else text


# A sender for tests and simulations ------------------------------------------------------------


@dataclass(slots=True)
class RecordingMailSender:
    """A ``MailSender`` that keeps what it is given; ``failure`` (an exception) is raised
    instead while it is set, to simulate an outage or a rejection."""

    sent: list[OutboundMail] = field(default_factory=list)
    failure: Exception | None = None

    def send(self, mail: OutboundMail) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(mail)


# The destination e-mail (issue 9, finding 7) ------------------------------------------------------

#: A new withdrawal destination's confirmation code (``reclaim.app.withdrawals``). It shows the
#: masked destination, so the owner sees what is being added; says what not entering the code
#: does (nothing: the destination cannot be used); and carries no link, like the code e-mail.
DESTINATION_CODE: Final = "destination_code"

TEMPLATES[DESTINATION_CODE] = _localised(
    {
        "en": (
            "Confirm a new reclaim withdrawal destination",
            "A new withdrawal destination was added to your reclaim account:\n"
            "\n"
            "    $destination ($rail)\n"
            "\n"
            "If you added it, confirm it with this code within $minutes minutes:\n"
            "\n"
            "    $code\n"
            "\n"
            "Money can be sent to it $hours hours after you confirm it.\n"
            "\n"
            "If you did not add it, do not enter the code and do not give it to anyone: "
            "someone may be using your API key. Without this code the destination cannot be "
            "used. Revoke the key in your account and contact reclaim support.\n",
        ),
        "zh-Hans": (
            "请确认新的 reclaim 提现目的账户",
            "您的 reclaim 账户新添加了一个提现目的账户：\n"
            "\n"
            "    $destination（$rail）\n"
            "\n"
            "如果是您本人添加的，请在 $minutes 分钟内用以下验证码确认：\n"
            "\n"
            "    $code\n"
            "\n"
            "确认后 $hours 小时，资金才能转入该账户。\n"
            "\n"
            "如果不是您添加的，请不要输入此验证码，也不要告诉任何人：可能有人在使用您的 API "
            "密钥。没有此验证码，该目的账户无法使用。请在您的账户中撤销该密钥，并联系 reclaim "
            "客服。\n",
        ),
        "fr": (
            "Confirmez une nouvelle destination de retrait reclaim",
            f"Une nouvelle destination de retrait a été ajoutée à votre compte reclaim{_NBSP}:\n"
            "\n"
            "    $destination ($rail)\n"
            "\n"
            "Si c’est vous qui l’avez ajoutée, confirmez-la avec ce code dans les $minutes "
            f"minutes{_NBSP}:\n"
            "\n"
            "    $code\n"
            "\n"
            "Elle pourra recevoir de l’argent $hours heures après votre confirmation.\n"
            "\n"
            "Si vous ne l’avez pas ajoutée, ne saisissez pas ce code et ne le communiquez à "
            f"personne{_NBSP}: quelqu’un utilise peut-être votre clé d’API. Sans ce code, la "
            "destination ne peut pas servir. Révoquez la clé dans votre compte et contactez "
            "l’assistance de reclaim.\n",
        ),
    }
)
TEMPLATE_VARIABLES[DESTINATION_CODE] = frozenset(
    {"code", "minutes", "destination", "rail", "hours"}
)
