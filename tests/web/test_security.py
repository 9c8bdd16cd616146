"""The portal's security helpers: headers, cookies, CSRF tokens, origin checks — each test
performs the attack the control stops, or checks the flag that stops it."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from starlette.requests import Request
from starlette.responses import Response

from reclaim.entrypoints.web import security
from reclaim.entrypoints.web.security import CsrfTokens

SECRET = bytes(range(32))


def request(scheme: str = "http", cookie: str = "") -> Request:
    headers = [(b"host", b"portal.example")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    port = 443 if scheme == "https" else 80
    scope = {"type": "http", "method": "GET", "scheme": scheme, "path": "/", "query_string": b"",
             "headers": headers, "server": ("portal.example", port)}  # fmt: skip
    return Request(scope)


def set_cookie_header(response: Response) -> str:
    (header,) = [v.decode() for k, v in response.raw_headers if k == b"set-cookie"]
    return header


# Headers --------------------------------------------------------------------------------------


def test_the_policy_allows_only_the_portals_own_files() -> None:
    directives = dict(d.split(" ", 1) for d in security.CSP.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in security.CSP
    assert "*" not in security.CSP
    assert "data:" not in security.CSP


def test_headers_over_http_have_no_hsts() -> None:
    headers = security.security_headers(https=False)
    assert headers["Content-Security-Policy"] == security.CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Permissions-Policy"].startswith("camera=()")
    assert "Strict-Transport-Security" not in headers


def test_headers_over_https_pin_https() -> None:
    headers = security.security_headers(https=True)
    assert headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    assert headers["Content-Security-Policy"].endswith("; upgrade-insecure-requests")


def test_is_https_reads_the_scheme_uvicorn_saw() -> None:
    assert security.is_https(request("https"))
    assert not security.is_https(request("http"))


# Cookies --------------------------------------------------------------------------------------


def test_a_session_cookie_over_http_is_httponly_and_strict() -> None:
    response = Response()
    security.set_cookie(response, "reclaim_session", "abc", https=False, max_age_seconds=600)
    header = set_cookie_header(response)
    cookie = SimpleCookie(header)["reclaim_session"]
    assert cookie.value == "abc"
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == "600"
    assert not cookie["secure"]
    assert "Domain" not in header


def test_a_session_cookie_over_https_is_secure_and_host_prefixed() -> None:
    response = Response()
    security.set_cookie(response, "reclaim_session", "abc", https=True, max_age_seconds=None)
    header = set_cookie_header(response)
    cookie = SimpleCookie(header)["__Host-reclaim_session"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/"
    assert not cookie["max-age"], "a browser-session cookie"
    assert "Domain" not in header, "__Host- cookies are host-only"


def test_clearing_a_cookie_expires_it_with_the_same_flags() -> None:
    response = Response()
    security.clear_cookie(response, "reclaim_session", https=True)
    cookie = SimpleCookie(set_cookie_header(response))["__Host-reclaim_session"]
    assert cookie.value == ""
    assert cookie["max-age"] == "0"
    assert cookie["secure"] is True


def test_over_https_a_cookie_planted_without_the_prefix_is_not_believed() -> None:
    planted = request("https", cookie="reclaim_session=attacker")
    assert security.read_cookie(planted, "reclaim_session") is None
    genuine = request("https", cookie="__Host-reclaim_session=mine; reclaim_session=attacker")
    assert security.read_cookie(genuine, "reclaim_session") == "mine"
    assert (
        security.read_cookie(request("http", cookie="reclaim_session=x"), "reclaim_session") == "x"
    )


def test_session_ids_are_random_and_long() -> None:
    ids = {security.new_session_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 43 for i in ids), "32 random bytes, base64url"


# CSRF -----------------------------------------------------------------------------------------


def test_a_token_is_valid_for_its_session_only() -> None:
    tokens = CsrfTokens(SECRET)
    token = tokens.token("session-a")
    assert tokens.valid("session-a", token)
    assert tokens.token("session-a") == token, "stable for the session"
    assert not tokens.valid("session-b", token), "another session's token (a stolen form)"


def test_a_forged_token_is_refused() -> None:
    tokens = CsrfTokens(SECRET)
    token = tokens.token("session-a")
    flipped = ("B" if token[0] == "A" else "A") + token[1:]
    assert not tokens.valid("session-a", flipped)
    assert not tokens.valid("session-a", token[:-1])
    assert not tokens.valid("session-a", token + "A")
    assert not tokens.valid("session-a", CsrfTokens(bytes(32)).token("session-a")), "other key"
    assert not tokens.valid("session-a", "")
    assert not tokens.valid("session-a", None), "a cross-site form carries no token"
    assert not tokens.valid(None, token), "no session, no token"
    assert not tokens.valid("session-a", "é" * 43)
    assert not tokens.valid("session-a", "A" * 10_000), "bounded work"
    assert not tokens.valid("s" * 10_000, token)


def test_a_short_secret_is_a_bug() -> None:
    with pytest.raises(AssertionError, match="256 bits"):
        CsrfTokens(b"short")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"origin": "https://portal.example"}, True),
        ({"origin": "HTTPS://Portal.Example"}, True),
        ({"origin": "https://evil.example"}, False),
        ({"origin": "http://portal.example"}, False),
        ({"origin": "https://portal.example:8443"}, False),
        ({"origin": "https://portal.example.evil.example"}, False),
        ({"origin": "null"}, False),
        ({"referer": "https://portal.example/claims?x=1"}, True),
        ({"referer": "https://evil.example/https://portal.example"}, False),
        ({"origin": "https://evil.example", "referer": "https://portal.example/"}, False),
        ({}, False),
    ],
)
def test_same_origin(headers: dict[str, str], expected: bool) -> None:
    assert security.same_origin(headers, "https://portal.example") is expected
