"""The portal's pages through the ASGI app (no browser): error pages in the reader's language
that never show a trace, headers on every answer, the language cookie, the transparency view's
cache. The browser tests (``test_transparency_browser.py``) run the same pages in Chromium."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest

from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.log_service import LogService
from reclaim.core.machine import Genesis
from reclaim.entrypoints.api.app import create_app
from reclaim.entrypoints.web.pages import Portal
from tests.api.conftest import FixedClock, document, new_keys
from tests.support.factories import ORIGIN

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def log() -> LogService:
    keys = new_keys()
    log = LogService(MemoryEventStore(), keys, FixedClock())
    genesis = Genesis(ORIGIN, "admin", keys.for_actor("admin").verifier.to_text(),
                      keys.log_signer.verifier.to_text())  # fmt: skip
    log.submit_many([(genesis, "admin"), (document(1), "admin")])
    log.publish_checkpoint()
    return log


@pytest.fixture
def client(log: LogService) -> Iterator[TestClient]:
    with TestClient(create_app(log), raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_empty_programme_says_so_in_french(client: TestClient) -> None:
    page = client.get("/transparency", headers={**HTML, "Accept-Language": "fr"})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="fr"' in page.text
    assert 'data-size="2">2</dd>' in page.text
    assert "Aucun registre des créances n’a encore été importé." in page.text
    assert "Aucun état du passif n’a encore été publié." in page.text
    assert "Aucun tour de distribution n’a encore été déclaré." in page.text
    assert page.headers["vary"] == "Accept-Language, Cookie"


class Broken:
    def view(self) -> None:
        raise RuntimeError("secret detail: /var/lib/reclaim/db password=hunter2")


def test_a_failure_is_a_500_page_in_the_readers_language_without_a_trace(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    portal = client.app.state.portal  # type: ignore[attr-defined]
    assert isinstance(portal, Portal)
    portal.transparency = Broken()  # type: ignore[assignment]
    page = client.get("/transparency", headers={**HTML, "Accept-Language": "zh-CN"})
    assert page.status_code == 500
    assert '<html lang="zh-Hans"' in page.text
    assert "出现了问题" in page.text
    assert "secret" not in page.text
    assert "Traceback" not in page.text
    assert "RuntimeError" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "secret detail" in caplog.text, "the error goes to the server's log"


def test_an_unknown_address_is_html_for_a_browser_and_problem_json_for_the_api(
    client: TestClient,
) -> None:
    page = client.get("/nowhere", headers={**HTML, "Accept-Language": "fr"})
    assert page.status_code == 404
    assert "Page introuvable" in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    api = client.get("/nowhere")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "not_found"


def test_a_wrong_method_is_a_405_page(client: TestClient) -> None:
    page = client.post("/transparency", headers={**HTML, "Accept-Language": "en"})
    assert page.status_code == 405
    assert "This page cannot be used that way" in page.text


@pytest.mark.parametrize("path", ["/static/web/pages.py", "/static/web/..%2Fpages.py",
                                  "/static/web/%2e%2e/i18n.py", "/static/web/"])  # fmt: skip
def test_only_the_listed_static_files_are_served(client: TestClient, path: str) -> None:
    answer = client.get(path, headers=HTML)
    assert answer.status_code == 404
    assert "def " not in answer.text


def test_static_files_have_their_type_and_the_headers(client: TestClient) -> None:
    css = client.get("/static/web/site.css")
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.headers["cache-control"] == "public, max-age=86400"
    assert css.headers["x-content-type-options"] == "nosniff"
    assert "svg.chart" in css.text
    icon = client.get("/static/web/favicon.svg")
    assert icon.headers["content-type"] == "image/svg+xml"


def test_the_switch_sets_a_language_cookie(client: TestClient) -> None:
    page = client.get("/transparency?lang=zh-Hans", headers={"Accept-Language": "fr"})
    assert '<html lang="zh-Hans"' in page.text
    cookie = SimpleCookie(page.headers["set-cookie"])["reclaim_lang"]
    assert cookie.value == "zh_Hans"
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    again = client.get("/transparency", headers={"Accept-Language": "fr"})
    assert '<html lang="zh-Hans"' in again.text, "the cookie beats the browser's preference"
    assert "set-cookie" not in again.headers


def test_an_unknown_lang_sets_nothing(client: TestClient) -> None:
    page = client.get("/transparency?lang=<script>", headers={"Accept-Language": "fr"})
    assert '<html lang="fr"' in page.text
    assert "set-cookie" not in page.headers
    assert "<script>" not in page.text


def test_over_https_hsts_and_secure_cookies(log: LogService) -> None:
    with TestClient(create_app(log), base_url="https://portal.example") as secure:
        page = secure.get("/transparency?lang=fr")
    assert page.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert SimpleCookie(page.headers["set-cookie"])["reclaim_lang"]["secure"] is True


def test_the_root_sends_the_reader_to_the_transparency_page(client: TestClient) -> None:
    answer = client.get("/?lang=fr", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/transparency?lang=fr"
    assert answer.headers["content-security-policy"]
    assert client.get("/", follow_redirects=False).headers["location"] == "/transparency"


def test_the_view_is_read_once_per_log_size(client: TestClient, log: LogService) -> None:
    portal = client.app.state.portal  # type: ignore[attr-defined]
    first = portal.transparency.view()
    assert portal.transparency.view() is first, "nothing changed: the cached view"
    log.submit_many([(document(2), "admin")])
    moved = portal.transparency.view()
    assert moved is not first
    assert (first.log_size, moved.log_size) == (2, 3)
    assert moved.checkpoint is not None
    assert moved.checkpoint.size == 2, "the page shows the latest signed checkpoint"
    log.publish_checkpoint()
    assert portal.transparency.view().checkpoint.size == 3
