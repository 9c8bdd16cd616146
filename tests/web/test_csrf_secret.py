"""The portal's CSRF secret is the data directory's, not the process's
(``web_accounts.csrf_secret``, derived from ``keys/codes.key``): a form one process rendered
posts to another process over the same data directory, and to the same directory's server after
a restart; a form of another data directory is refused (403), as a forged one is.

Each "process" is an app as ``reclaim serve`` builds it (``bootstrap.build`` and ``create_app``)
over its own container; the POST is a login with a wrong password, so a token that is accepted
gives the login page's own refusal (400), a refused one the CSRF refusal (403).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from reclaim import bootstrap
from reclaim.app.web_accounts import csrf_secret
from reclaim.config import Settings
from reclaim.entrypoints.api.app import create_app
from reclaim.entrypoints.web.pages import Portal

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ORIGIN: Final = "http://portal.example"
TOKEN_RE: Final = re.compile(r'name="csrf_token" value="([^"]+)"')


def settings(data_dir: Path) -> Settings:
    return Settings.from_env({}, data_dir=data_dir, origin="portal.example/log")


def init(data_dir: Path) -> Path:
    bootstrap.init_keys(settings(data_dir))
    return data_dir


@contextmanager
def serving(data_dir: Path) -> Iterator[TestClient]:
    """One process's app over ``data_dir`` (a new container each time: a restart)."""
    container = bootstrap.build(settings(data_dir))
    try:
        assert container.onboarding is not None, "keys init makes the PII keys"
        app = create_app(container.log, liabilities=container.liabilities,
                         onboarding=container.onboarding)  # fmt: skip
        with TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN}) as client:
            yield client
    finally:
        container.close()


def login_form(client: TestClient) -> tuple[str, str]:
    """The login form's token and the (new) form cookie it is bound to."""
    client.cookies.clear()
    page = client.get("/login")
    assert page.status_code == 200
    found = TOKEN_RE.search(page.text)
    assert found is not None, "the login page has a form"
    form_id = client.cookies.get("reclaim_form")
    assert form_id, "the form's cookie"
    return found.group(1), form_id


def post_login(client: TestClient, token: str, form_id: str) -> int:
    client.cookies.clear()
    client.cookies.set("reclaim_form", form_id)
    fields = {"csrf_token": token, "email": "nobody@example.org", "password": "not a password"}
    return client.post("/login", data=fields, follow_redirects=False).status_code


def test_a_form_rendered_by_one_process_posts_to_another_over_the_same_data_directory(
    tmp_path: Path,
) -> None:
    data = init(tmp_path / "d")
    with serving(data) as first, serving(data) as second:
        token, form_id = login_form(first)
        assert post_login(second, token, form_id) == 400, "accepted: the login's own refusal"
        token, form_id = login_form(second)
        assert post_login(first, token, form_id) == 400


def test_a_form_survives_a_restart(tmp_path: Path) -> None:
    data = init(tmp_path / "d")
    with serving(data) as before:
        token, form_id = login_form(before)
    with serving(data) as after:
        assert post_login(after, token, form_id) == 400


def test_a_form_of_another_data_directory_is_refused(tmp_path: Path) -> None:
    mine, theirs = init(tmp_path / "mine"), init(tmp_path / "theirs")
    with serving(theirs) as other, serving(mine) as server:
        token, form_id = login_form(other)
        assert post_login(server, token, form_id) == 403, "another directory's secret"
        own_token, own_form = login_form(server)
        assert post_login(server, own_token, own_form) == 400, "its own form is accepted"
        assert own_form != form_id
        assert post_login(server, own_token, form_id) == 403, "a token of another form id"


def test_the_secret_is_derived_from_codes_key_and_is_no_code_key(tmp_path: Path) -> None:
    data = init(tmp_path / "d")
    codes_key = (data / "keys" / "codes.key").read_bytes()
    with serving(data) as client:
        portal = client.app.state.portal  # type: ignore[attr-defined]
        assert isinstance(portal, Portal)
        assert portal.csrf.token("f:form") == type(portal.csrf)(csrf_secret(codes_key)).token(
            "f:form"
        )
        assert csrf_secret(codes_key) != codes_key, "a key of its own"
        assert type(portal.csrf)(codes_key).token("f:form") != portal.csrf.token("f:form")
