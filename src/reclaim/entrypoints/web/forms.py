"""Reading what a browser posts, and who is asking: forms, the visitor, CSRF, the session.

- ``read_form``: an ``application/x-www-form-urlencoded`` body (the app's body limit bounds it),
  or a ``multipart/form-data`` one (read with the standard library's MIME parser; a file field
  keeps its bytes, content type and name). No other body is a form: ``FormRefused`` (400).
- ``Visitor``: the request's session id (``reclaim_session``: set only at login, a new id
  every time, so an id planted before login is never the one that logs in — session fixation)
  and its creditor (``WebAccounts.session``: a recorded, live session, else nobody), and the
  anonymous form id (``reclaim_form``: what the CSRF token of the login and sign-up forms is
  bound to before there is a session).
- ``check_post``: every POST of the portal must come from the portal's own origin
  (``security.same_origin``) and carry the CSRF token of the visitor's session (or form id):
  a forged cross-site form, which can neither read the token nor set ``Origin``, is refused
  with ``403`` before anything is read or changed.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from reclaim.app.web_accounts import CREDITOR, OPERATOR, Principal, WebAccounts
from reclaim.core.limits import form_field_text_max_chars as field_text_max_chars
from reclaim.core.limits import form_fields_max, web_token_max_chars
from reclaim.entrypoints.web import security

FORM_COOKIE: Final = "reclaim_form"


class FormRefused(Exception):
    """A POST whose body is not a form the portal reads (400)."""


class LoginNeeded(Exception):
    """A page asked for without a live session of the right kind: ``303`` to its login."""

    def __init__(self, login: str = "/login") -> None:
        super().__init__(login)
        self.login = login


class TooManyAttempts(Exception):
    """A rate limit said no: the 429 page, with ``Retry-After``."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True, slots=True)
class Upload:
    name: str
    media_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Form:
    text: dict[str, str]
    files: dict[str, Upload] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.text.get(name, default)


async def read_form(request: Request) -> Form:
    media = request.headers.get("content-type", "")
    body = await request.body()
    kind = media.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=False,
                              max_num_fields=form_fields_max)  # fmt: skip
        except (UnicodeDecodeError, ValueError) as exc:
            raise FormRefused(str(exc)) from exc
        return Form(_texts(pairs))
    if kind == "multipart/form-data":
        return _multipart(media, body)
    raise FormRefused(f"not a form: {kind!r}")


def _texts(pairs: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in found or len(value) > field_text_max_chars:
            raise FormRefused(f"field {name!r} twice or too long")
        found[name] = value
    return found


def _multipart(media: str, body: bytes) -> Form:
    head = f"Content-Type: {media}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise FormRefused("a multipart form without parts")
    texts: list[tuple[str, str]] = []
    files: dict[str, Upload] = {}
    parts = list(message.iter_parts())
    if len(parts) > form_fields_max:
        raise FormRefused("too many fields")
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise FormRefused("a part without a name")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = Upload(filename, part.get_content_type(), data)
        else:
            try:
                texts.append((name, data.decode("utf-8")))
            except UnicodeDecodeError as exc:
                raise FormRefused("a text field that is not UTF-8") from exc
    return Form(_texts(texts), files)


@dataclass(slots=True)
class Visitor:
    """Who sent the request: the session (and who it is), the anonymous form id."""

    session_id: str | None
    principal: Principal | None
    form_id: str | None
    new_form_id: str | None = None  # made for this answer: set as the form cookie

    @property
    def creditor(self) -> str | None:
        p = self.principal
        return p.actor if p is not None and p.kind == CREDITOR else None

    @property
    def operator(self) -> Principal | None:
        p = self.principal
        return p if p is not None and p.kind == OPERATOR else None

    @property
    def binding(self) -> str:
        """What this visitor's CSRF tokens are bound to."""
        if self.session_id and self.principal:
            return "s:" + self.session_id
        form = self.form_id or self.new_form_id
        assert form, "a visitor without a session has a form id (visitor_of makes one)"
        return "f:" + form


def visitor_of(request: Request, accounts: WebAccounts | None) -> Visitor:
    cached = getattr(request.state, "visitor", None)
    if isinstance(cached, Visitor):
        return cached
    session = _token(security.read_cookie(request, security.SESSION_COOKIE))
    principal = None if session is None or accounts is None else accounts.session(session)
    form = _token(security.read_cookie(request, FORM_COOKIE))
    visitor = Visitor(session if principal else None, principal, form)
    request.state.visitor = visitor
    return visitor


class CsrfToken:
    """The CSRF token of a page's forms, made when a template first prints it: a visitor with
    neither session nor form id then gets a new form id (set as a cookie by the answer), so a
    page without a form (the public transparency page) sets no cookie."""

    def __init__(self, tokens: security.CsrfTokens, visitor: Visitor) -> None:
        self._tokens = tokens
        self._visitor = visitor
        #: Whether a template printed it (then the page is this visitor's own).
        self.printed = False

    def __str__(self) -> str:
        self.printed = True
        visitor = self._visitor
        if not (visitor.session_id and visitor.principal) and not visitor.form_id:
            visitor.new_form_id = visitor.new_form_id or security.new_session_id()
        return self._tokens.token(visitor.binding)

    def __html__(self) -> str:
        return str(self)


def _token(value: str | None) -> str | None:
    if not value or len(value) > web_token_max_chars or not value.isascii():
        return None
    return value


def expected_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def check_post(request: Request, visitor: Visitor, form: Form, csrf: security.CsrfTokens) -> None:
    """Refuse (403) a POST from another origin or without this visitor's CSRF token."""
    if not security.same_origin(request.headers, expected_origin(request)):
        raise StarletteHTTPException(403, "cross-origin")
    token = form.get(security.CSRF_FIELD)
    bound = visitor.session_id if visitor.principal else visitor.form_id
    if bound is None:
        raise StarletteHTTPException(403, "no session")
    if not csrf.valid(visitor.binding, token):
        raise StarletteHTTPException(403, "csrf")
