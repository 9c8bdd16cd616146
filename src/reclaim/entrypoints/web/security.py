"""The portal's browser-facing controls, each with the attack it stops, built in one place.

Response headers (``security_headers``), on every page, static file and error page of the portal:

- ``Content-Security-Policy`` (``CSP``): nothing but the portal's own files — no inline script or
  style, no ``eval``, no plug-ins, no other origin: an injected ``<script>`` or ``style=`` does not
  run (stored or reflected XSS); ``frame-ancestors 'none'``: no site can frame a page to trick a
  click (clickjacking); ``form-action 'self'``: an injected form cannot post elsewhere (with a
  hosted KYC provider, its flow origin too, fixed by the settings: the "verify with" form's
  answer redirects there — ``form_origins``);
  ``base-uri 'none'``: an injected ``<base>`` cannot redirect relative links;
- ``X-Frame-Options: DENY`` (clickjacking, for browsers without CSP 2);
- ``X-Content-Type-Options: nosniff``: an upload or JSON answer is never run as script or page;
- ``Referrer-Policy: same-origin``: a page's URL (with its query) never leaks to another site
  (not ``no-referrer``: under it a browser sends ``Origin: null`` with every form POST — the
  Fetch standard's origin serialisation — and the origin check below could tell nothing);
- ``Cross-Origin-Opener-Policy`` and ``-Resource-Policy: same-origin``: no other site keeps a
  handle on the window or embeds the portal's files (cross-window and side-channel leaks);
- ``Permissions-Policy``: camera, microphone, geolocation, payment off;
- ``Strict-Transport-Security`` when the request came over HTTPS (``is_https``): a later visit
  never goes out in clear text to be downgraded (SSL stripping).

Cookies (``set_cookie``): ``HttpOnly`` (script cannot read a session: XSS does not steal it),
``SameSite=Strict`` (another site's link or form does not carry it: CSRF), ``Path=/``, and over
HTTPS ``Secure`` with the ``__Host-`` prefix (a network attacker or a sibling sub-domain cannot
plant or overwrite it: session fixation).

CSRF (``CsrfTokens``): a form carries ``HMAC-SHA256(secret, "csrf" ‖ session id)`` under the
data directory's secret (``web_accounts.csrf_secret``: every process serving it, and the next
one after a restart, checks the forms the others rendered); the POST
handler checks it in constant time, so a forged cross-site form, which cannot read the token,
is refused even if a browser sent the cookie; ``same_origin`` additionally checks the
``Origin`` (else ``Referer``) of a state-changing request against the portal's own origin.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from reclaim.core.limits import web_token_max_chars as token_max_chars

#: The one Content-Security-Policy of the portal.
CSP: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    )
)
#: Two years, with sub-domains (the HSTS preload list's minimum is one).
HSTS: Final = "max-age=63072000; includeSubDomains"
PERMISSIONS: Final = "camera=(), microphone=(), geolocation=(), payment=()"
#: The session cookie's name (``__Host-`` prefixed over HTTPS).
SESSION_COOKIE: Final = "reclaim_session"
CSRF_FIELD: Final = "csrf_token"
#: Shortest secret the CSRF tokens accept (256 bits).
csrf_secret_min_bytes: Final = 32
#: Bytes of randomness in a session id.
session_id_bytes: Final = 32


def security_headers(*, https: bool, form_origins: tuple[str, ...] = ()) -> dict[str, str]:
    """The headers; ``form_origins``: origins besides the portal's a form's answer may
    redirect to (browsers check ``form-action`` on every redirect of a form's navigation)."""
    policy = CSP.replace("form-action 'self'", " ".join(("form-action 'self'", *form_origins)))
    headers = {
        "Content-Security-Policy": policy + ("; upgrade-insecure-requests" if https else ""),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS,
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def is_https(request: Request) -> bool:
    """The request came over HTTPS (as uvicorn saw it: behind a proxy, only when the proxy is
    trusted, ``RECLAIM_TRUSTED_PROXIES``)."""
    return request.url.scheme == "https"


def apply_headers(response: Response, *, https: bool, form_origins: tuple[str, ...] = ()) -> None:
    for name, value in security_headers(https=https, form_origins=form_origins).items():
        response.headers[name] = value


def cookie_name(base: str, *, https: bool) -> str:
    """``__Host-<base>`` over HTTPS: the browser then refuses it unless Secure, Path=/ and host
    only, so no sub-domain or plain-HTTP answer can set it."""
    return f"__Host-{base}" if https else base


def set_cookie(
    response: Response, base: str, value: str, *, https: bool, max_age_seconds: int | None
) -> None:
    """Set cookie ``base`` (see ``cookie_name``): HttpOnly, SameSite=Strict, Path=/, Secure over
    HTTPS; a session cookie when ``max_age_seconds`` is ``None``."""
    response.set_cookie(
        cookie_name(base, https=https),
        value,
        max_age=max_age_seconds,
        path="/",
        secure=https,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, base: str, *, https: bool) -> None:
    response.delete_cookie(
        cookie_name(base, https=https), path="/", secure=https, httponly=True, samesite="strict"
    )


def read_cookie(request: Request, base: str) -> str | None:
    """The cookie as this request's scheme names it (over HTTPS only the ``__Host-`` one, so a
    cookie planted without the prefix is never believed)."""
    return request.cookies.get(cookie_name(base, https=is_https(request)))


def new_session_id() -> str:
    return secrets.token_urlsafe(session_id_bytes)


class CsrfTokens:
    """Tokens bound to a session id by an HMAC under the portal's secret."""

    def __init__(self, secret: bytes) -> None:
        assert len(secret) >= csrf_secret_min_bytes, "a CSRF secret has at least 256 bits"
        self._secret = secret

    def token(self, session_id: str) -> str:
        assert session_id, "a token is bound to a session"
        mac = hmac.new(self._secret, b"csrf\n" + session_id.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def valid(self, session_id: str | None, token: str | None) -> bool:
        """The token is the one of this session (constant time; no session, no token: no)."""
        if not session_id or not token or len(token) > token_max_chars:
            return False
        if len(session_id) > token_max_chars or not token.isascii():
            return False
        return hmac.compare_digest(self.token(session_id).encode(), token.encode())


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, lower-cased; else ``None``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(headers: Mapping[str, str], expected_origin: str) -> bool:
    """A state-changing request comes from the portal's own pages: its ``Origin`` (or, when a
    browser sends none, its ``Referer``) is ``expected_origin``. Neither header: refused."""
    expected = origin_of(expected_origin)
    assert expected is not None, f"{expected_origin!r} is not an origin"
    origin = headers.get("origin")
    if origin is not None:
        return origin != "null" and origin_of(origin) == expected
    referer = headers.get("referer")
    return referer is not None and origin_of(referer) == expected
