"""One router class for every route table of the API and the portal: a router that says "not
mine" in one string test.

FastAPI (0.16x) matches a request against the app's included routers one after the other, and an
included router answers by trying each of its routes in turn (a regex and some bookkeeping per
route, ~2 µs each) — twice for the router that matches (once to choose it, once to handle). With
the portal's and the API's sixteen routers, a Backpack order paid ~170-400 µs of routing before
its handler ran, more than a whole hello-world request (``benchmarks/bench_orders_http.py``).

``Router`` knows its routes' paths: the paths without parameters exactly, and of the others the
literal head (the text before the first ``{``). A request whose path is none of the former and
starts with none of the latter cannot match any route of the router, so ``matches`` answers
``Match.NONE`` without trying them. A path that may match is matched exactly
as before (``APIRouter.matches``); the guard only ever skips routers that would have said no.
It holds for a router included without a prefix, as every router here is
(``tests/api/test_routing.py`` checks both).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.routing import Match, Mount
from starlette.types import Scope


class Router(APIRouter):
    """An ``APIRouter`` that refuses, cheaply, a path none of its routes can match."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._paths: frozenset[str] = frozenset()
        self._heads: tuple[str, ...] = ()
        self._read_of = -1  # the number of routes the paths were read from

    def guard(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """``(paths without parameters, heads of the others)`` of the routes (routes are only
        ever added, at start-up: a new count reads them again)."""
        if self._read_of != len(self.routes):
            paths: set[str] = set()
            heads: set[str] = set()
            for route in self.routes:
                path = getattr(route, "path", None)
                if not isinstance(path, str) or not path:  # a router included in this one...
                    heads.add("")  # ... or any route of no path: every path may be its
                elif isinstance(route, Mount):
                    heads.add(path)  # everything under it
                elif "{" in path:
                    heads.add(path.split("{", 1)[0])
                else:
                    paths.add(path)
            self._paths, self._heads = frozenset(paths), tuple(sorted(heads))
            self._read_of = len(self.routes)
        return self._paths, self._heads

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        paths, heads = self.guard()
        if path not in paths and not path.startswith(heads):
            return Match.NONE, {}
        return super().matches(scope)
