"""The creditor pages over HTTPS (the app in process, over the onboarding world's SQL stores
and SMTP server): the session cookie is ``__Host-`` prefixed, ``Secure``, ``HttpOnly`` and
``SameSite=Strict``, HSTS is sent, and a cookie without the prefix — what a plain-HTTP answer or a
sibling sub-domain could plant — is never believed."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Final

import pytest

from tests.support.onboarding_world import World, onboarding_world

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ORIGIN: Final = "https://portal.example"
EMAIL: Final = "zhang.wei@example.cn"
PASSWORD: Final = "a long password of mine"
TOKEN_RE: Final = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY_RE: Final = re.compile(r'name="public_key" value="([^"]+)"')


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with onboarding_world(tmp_path) as running:
        yield running


def token(html: str) -> str:
    found = TOKEN_RE.search(html)
    assert found is not None
    return found.group(1)


def test_over_https_the_session_cookie_is_host_prefixed_and_secure(world: World) -> None:
    with TestClient(world.client.app, base_url=ORIGIN, headers={"Origin": ORIGIN}) as web:
        form = web.get("/signup", headers={"Accept-Language": "zh-CN"})
        assert form.headers["strict-transport-security"].startswith("max-age=")
        assert "__Host-reclaim_form=" in form.headers["set-cookie"]
        fields = {"email": EMAIL, "password": PASSWORD, "password_again": PASSWORD}
        sent = web.post("/signup", data={"csrf_token": token(form.text), **fields})
        assert sent.status_code == 200, sent.text
        assert world.wiring.deliver_mail().sent == 1
        key = KEY_RE.search(sent.text)
        assert key is not None
        code = world.inbox.last_code(EMAIL)
        done = web.post("/signup/code", data={"csrf_token": token(sent.text), "email": EMAIL,
                                              "public_key": key.group(1), "code": code},
                        follow_redirects=False)  # fmt: skip
        assert done.status_code == 303, done.text
        cookies: SimpleCookie = SimpleCookie()
        for header in done.headers.get_list("set-cookie"):
            cookies.load(header)
        session = cookies["__Host-reclaim_session"]
        assert session["secure"] is True
        assert session["httponly"] is True
        assert session["samesite"].lower() == "strict"
        assert session["path"] == "/"
        assert not session["domain"], "host only"
        value = session.value
        assert web.get("/me", follow_redirects=False).status_code == 200
    for name, status in (("reclaim_session", 303), ("__Host-reclaim_session", 200)):
        with TestClient(world.client.app, base_url=ORIGIN, cookies={name: value}) as other:
            answer = other.get("/me", follow_redirects=False)
            assert answer.status_code == status, "over HTTPS only the __Host- cookie is believed"
