"""The routers' guard (``entrypoints/routing.Router``) never hides a route, and spares the order
path the portal's routers.

For every router the served app includes: built from every route's own path (parameters filled
in, with and without a trailing slash, with each method and for WebSockets), and from paths no
route has, the guarded router's match is the match FastAPI makes without the guard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Match

from reclaim import bootstrap
from reclaim.config import Settings
from reclaim.entrypoints.api.app import create_app
from reclaim.entrypoints.routing import Router

PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
OTHER_PATHS = ("/", "/nope", "/api/v1/nope", "/api/v2/order", "/wapi/v1/history/x", "/apix",
               "/claims", "/static/web", "/market/x/y/z", "//", "/api/v1/order/",
               "/ws/")  # fmt: skip


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    settings = Settings.from_env({}, data_dir=tmp_path_factory.mktemp("routing") / "d")
    bootstrap.init_keys(settings)
    container = bootstrap.build(settings)
    try:
        yield create_app(container.log, liabilities=container.liabilities,
                         onboarding=container.onboarding,
                         withdrawals=container.withdrawals())  # fmt: skip
    finally:
        container.close()


def included(app: Any) -> list[Any]:
    """The app's included routers (FastAPI's ``_IncludedRouter`` wrappers)."""
    return [r for r in app.router.routes if hasattr(r, "original_router")]


def paths_of(app: Any) -> set[str]:
    out = set(OTHER_PATHS)
    for wrapper in included(app):
        for route in wrapper.original_router.routes:
            path = PARAM.sub("x1", str(getattr(route, "path", "")))
            out |= {path, path.rstrip("/") or "/", path + "/"}
    return out


def scope(path: str, method: str | None) -> dict[str, Any]:
    if method is None:
        return {"type": "websocket", "path": path, "root_path": "", "headers": [],
                "query_string": b""}  # fmt: skip
    return {"type": "http", "path": path, "method": method, "root_path": "", "headers": [],
            "query_string": b""}  # fmt: skip


def test_every_router_is_guarded_and_included_without_a_prefix(app: Any) -> None:
    wrappers = included(app)
    assert len(wrappers) >= 16, "the API's and the portal's routers"
    for wrapper in wrappers:
        assert isinstance(wrapper.original_router, Router), wrapper.original_router
        assert getattr(wrapper.include_context, "prefix", "") == "", wrapper


def test_the_guard_answers_as_fastapi_does_without_it(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [(p, m) for p in sorted(paths_of(app)) for m in ("GET", "POST", "DELETE", None)]
    assert len(cases) > 400
    guarded = {(id(w), p, m): w.matches(scope(p, m))[0] for w in included(app) for p, m in cases}
    # the same question with every guard open (admits every path): FastAPI's own matching
    monkeypatch.setattr(Router, "guard", lambda self: (frozenset(), ("",)))
    for wrapper in included(app):
        for path, method in cases:
            unguarded = wrapper.matches(scope(path, method))[0]
            assert guarded[id(wrapper), path, method] == unguarded, (path, method, wrapper)
    assert Match.FULL in guarded.values()
    assert Match.PARTIAL in guarded.values()  # a known path with another method


def test_an_order_is_tried_against_the_trading_routes_only(app: Any) -> None:
    """The point of the guard: POST /api/v1/order passes one router's guard, Backpack's."""
    admitting = []
    for wrapper in included(app):
        router: Router = wrapper.original_router
        paths, heads = router.guard()
        if "/api/v1/order" in paths or "/api/v1/order".startswith(heads):
            admitting.append(router)
    (only,) = admitting
    assert any(getattr(r, "path", "") == "/api/v1/order" for r in only.routes)


def test_routes_added_after_the_first_request_are_guarded_too() -> None:
    router = Router()

    @router.get("/a")
    def a() -> dict[str, bool]:
        return {"a": True}

    assert router.guard() == (frozenset({"/a"}), ())

    @router.get("/b/{item}")
    def b(item: str) -> dict[str, str]:
        return {"b": item}

    assert router.guard() == (frozenset({"/a"}), ("/b/",))


def test_a_mount_and_a_router_included_in_a_router_stay_reachable() -> None:
    """The guard admits whatever may lie under a mount or an included router (no path of its
    own to judge by): both answer, through the app, as they do without the guard."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("mounted")

    inner = Router()

    @inner.get("/inner/{item}")
    def item(item: str) -> dict[str, str]:
        return {"inner": item}

    outer = Router()
    outer.routes.append(Mount("/m", routes=[Route("/x", hello)]))
    outer.include_router(inner)
    app = FastAPI()
    app.include_router(outer)
    assert outer.guard() == (frozenset(), ("", "/m"))
    with TestClient(app) as client:
        assert client.get("/m/x").text == "mounted"
        assert client.get("/inner/7").json() == {"inner": "7"}
        assert client.get("/elsewhere").status_code == 404
