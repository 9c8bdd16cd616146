"""The public transparency page is rendered once per view, language and address for visitors
without a session, and served from that rendering until the view changes
(``pages.SharedPages``); a logged-in visitor's page is rendered for them, and what it shows
(their menu, their CSRF token) never reaches anyone else.

In-process (``TestClient`` over the in-memory log of ``test_pages``) for the cache's keys and
bound; against the real ``reclaim serve`` of ``conftest.portal`` for the logged-in creditor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from reclaim.app.log_service import LogService
from reclaim.core.limits import shared_pages_max
from reclaim.entrypoints.api.app import create_app
from reclaim.entrypoints.web.pages import Portal
from tests.api.conftest import document
from tests.web.portal_world import Portal as LivePortal
from tests.web.test_pages import HTML
from tests.web.test_pages import log as log
from tests.web.test_web_attacks import signed_up

SIZE_RE = re.compile(r'data-size="([0-9]+)"')


@pytest.fixture
def app_client(log: LogService) -> Iterator[TestClient]:
    with TestClient(create_app(log), raise_server_exceptions=False) as test_client:
        yield test_client


def portal_of(client: TestClient) -> Portal:
    portal = client.app.state.portal  # type: ignore[attr-defined]
    assert isinstance(portal, Portal)
    return portal


def sizes(html: str) -> list[str]:
    return SIZE_RE.findall(html)


def test_the_page_is_rendered_once_per_view_and_served_again_until_the_log_grows(
    app_client: TestClient, log: LogService
) -> None:
    first = app_client.get("/transparency", headers={**HTML, "Accept-Language": "en"})
    assert first.status_code == 200
    shared = portal_of(app_client).shared
    assert shared.renders == 1
    again = app_client.get("/transparency", headers={**HTML, "Accept-Language": "en"})
    assert again.text == first.text
    assert shared.renders == 1, "served from the rendering"
    assert again.headers["cache-control"] == first.headers["cache-control"] == "no-cache"
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
    assert again.headers["content-language"] == "en"
    assert "set-cookie" not in again.headers, "no form: no cookie"

    log.submit_many([(document(2), "admin")])
    log.publish_checkpoint()
    grown = app_client.get("/transparency", headers={**HTML, "Accept-Language": "en"})
    assert shared.renders == 2, "a new view is rendered"
    assert sizes(first.text)[0] == "2"
    assert sizes(grown.text)[0] == "3", "the new checkpoint is on the page"


def test_each_language_and_address_has_its_own_rendering(app_client: TestClient) -> None:
    english = app_client.get("/transparency", headers={**HTML, "Accept-Language": "en"})
    french = app_client.get("/transparency", headers={**HTML, "Accept-Language": "fr"})
    chosen = app_client.get("/transparency?lang=zh-Hans", headers=HTML)
    assert '<html lang="en"' in english.text
    assert '<html lang="fr"' in french.text
    assert '<html lang="zh-Hans"' in chosen.text
    assert "reclaim_lang=zh_Hans;" in chosen.headers["set-cookie"], "the switch still sets it"
    other = app_client.get("/transparency", headers={**HTML, "Accept-Language": "en",
                                                     "Host": "mirror.example"})  # fmt: skip
    assert "reclaim verify http://mirror.example " in other.text
    assert "reclaim verify http://testserver " in english.text
    assert portal_of(app_client).shared.renders == 4


def test_the_renderings_kept_are_bounded(app_client: TestClient) -> None:
    for i in range(shared_pages_max + 5):
        host = f"host-{i}.example"
        page = app_client.get("/transparency", headers={**HTML, "Host": host})
        assert f"reclaim verify http://{host} " in page.text
    shared = portal_of(app_client).shared
    assert len(shared) <= shared_pages_max
    assert shared.renders == shared_pages_max + 5


def test_a_creditor_sees_their_own_menu_and_nobody_else_does(portal: LivePortal) -> None:
    anonymous = httpx.get(f"{portal.base_url}/transparency", headers=HTML, timeout=30)
    assert anonymous.status_code == 200
    creditor = signed_up(portal, portal.holder("FR"))
    mine = creditor.get("/transparency", headers=HTML)
    assert 'action="/logout"' in mine.text, "the creditor's own menu"
    assert "csrf_token" in mine.text
    again = httpx.get(f"{portal.base_url}/transparency", headers=HTML, timeout=30)
    assert 'action="/logout"' not in again.text
    assert "csrf_token" not in again.text, "no token of anyone's in the shared page"
    assert 'href="/login"' in again.text, "the visitor's menu"
