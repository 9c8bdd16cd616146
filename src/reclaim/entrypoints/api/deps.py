"""What the API's routers share (as full-stack-fastapi-template's ``deps.py``): the log service
from ``app.state``, the ``Cache-Control`` of an answer, a JSON answer of stored bytes, and the
decorator of a signed route.

``Depends(no_store)`` (or ``no_cache``) on a route sets the header on the answer the route
returns; a problem carries its own (``problems.py``: ``no-store``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final

from fastapi import Depends, Request, Response
from fastapi.types import DecoratedCallable

from reclaim.app.log_service import LogService
from reclaim.entrypoints.api.auth import instruction

NO_STORE: Final = "no-store"
NO_CACHE: Final = "no-cache"


def get_log(request: Request) -> LogService:
    log = request.app.state.log
    assert isinstance(log, LogService), "create_app stores the LogService in app.state.log"
    return log


LogDep = Annotated[LogService, Depends(get_log)]


def no_store(response: Response) -> None:
    """An answer for one caller only: never kept by a cache."""
    response.headers["Cache-Control"] = NO_STORE


def no_cache(response: Response) -> None:
    """An answer that changes as the log grows: a cache asks again before using it."""
    response.headers["Cache-Control"] = NO_CACHE


def json_answer(body: bytes | str, cache_control: str) -> Response:
    """``body`` (JSON already) as the answer, with its ``Cache-Control``."""
    return Response(body, media_type="application/json", headers={"Cache-Control": cache_control})


def signed(
    route: Callable[..., Callable[[DecoratedCallable], DecoratedCallable]],
    path: str,
    model: Any,
    name: str,
    responses: Mapping[int | str, dict[str, Any]] | None = None,
    **options: Any,
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``route`` (a router's ``get``, ``post``...) of a signed request: its answer's model, its
    problems, and the instruction ``name`` its clients sign (``auth.instruction``)."""
    extra = instruction(name)
    return route(path, response_model=model, responses=responses, openapi_extra=extra, **options)
