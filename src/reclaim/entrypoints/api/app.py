"""The HTTP API of the transparency log: checkpoints, entries, proofs and keys, read-only.

``create_app(log)`` is the factory the composition root calls; nothing is built at import time.

Endpoints (all ``GET``; integers in JSON and in query strings are canonical decimal text):

- ``/log/checkpoint``: the latest signed checkpoint note, ``text/plain``, exactly as stored;
- ``/log/checkpoints?start=&limit=``: ``{"checkpoints": [{"size", "note"}]}``, sizes ≥ start,
  oldest first, at most ``limits.checkpoints_page_max`` (the default ``limit``);
- ``/log/entries?start=&end=``: ``application/jsonl``, the leaf bytes of seqs start..end-1,
  each followed by ``\\n``;
- ``/log/proof/inclusion?index=&size=``: ``{"index", "size", "leaf_hash", "proof", "root"}``,
  ``size`` defaulting to the latest checkpoint's;
- ``/log/proof/consistency?first=&second=``: ``{"first", "second", "proof"}``;
- ``/log/keys``: ``LogService.public_keys()``, the log's key set as canonical JSON;
- ``/healthz``: ``{"status": "ok", "size"}``.

With a ``LiabilitiesService`` (``create_app(log, liabilities=...)``), also ``/liabilities/root``
and ``/liabilities/proof`` (``liabilities.py``); with ``onboarding=``
(``bootstrap.OnboardingWiring``) the sign-up, KYC, linking and operator routes (``onboarding.py``).

Paging of ``/log/entries``: an ``end`` beyond the log is clipped to the log's size; a range longer
than ``limits.entries_page_max`` is clipped to ``start + entries_page_max`` and the answer then
carries ``X-Reclaim-Next: <next start>`` and ``Link: <...>; rel="next"``. ``X-Reclaim-End`` always
names the (exclusive) end actually served, so ``end - start`` lines follow. ``start`` at or beyond
the size is ``404 range_not_available``.

Caching: an answer that can never change gets ``Cache-Control: public, max-age=31536000,
immutable`` — entries when the served range was not clipped by the log's size and lies within the
latest checkpoint, proofs for explicitly given sizes; everything that moves (the latest
checkpoint, defaulted sizes, listings, keys, health) gets ``no-cache``; problems ``no-store``.

Errors are problem+json, mapped in one table (``problems.py``). The route functions parse and
render only; the paging, defaults and range checks live in ``LogReader``.

Known limits: ``/log/keys`` reads ``log.state`` without the log's writer lock; a key registered
during the read may make it fail once (500) — ``LogService`` has no locked read yet.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reclaim.app import bounded_json
from reclaim.app.liabilities import LiabilitiesService
from reclaim.app.log_service import LogService
from reclaim.app.ports import EventStore, RangeNotAvailable, StoredCheckpoint
from reclaim.app.withdrawals import WithdrawalService
from reclaim.bootstrap import OnboardingWiring
from reclaim.core import limits
from reclaim.core.limits import query_string_max_bytes, request_body_max_bytes
from reclaim.entrypoints import web
from reclaim.entrypoints.api import auth, backpack, problems
from reclaim.entrypoints.api import claims as claims_api
from reclaim.entrypoints.api import distributions as distributions_api
from reclaim.entrypoints.api import ledger as ledger_api
from reclaim.entrypoints.api import liabilities as liabilities_api
from reclaim.entrypoints.api import onboarding as onboarding_api
from reclaim.entrypoints.api import withdrawals as withdrawals_api
from reclaim.entrypoints.api.deps import NO_CACHE, LogDep
from reclaim.entrypoints.api.problems import InvalidParameterError, NotFoundError
from reclaim.entrypoints.api.schemas import (
    CheckpointItem,
    CheckpointList,
    ConsistencyProof,
    Health,
    InclusionProof,
    QueryInt,
    position,
    problem_answers,
)
from reclaim.log import merkle

CACHE_IMMUTABLE: Final = "public, max-age=31536000, immutable"
CACHE_NO_CACHE: Final = NO_CACHE
JSONL_MEDIA_TYPE: Final = "application/jsonl"


# The read side -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntriesPage:
    start: int
    end: int  # exclusive, as served
    leaves: list[bytes]
    next_start: int | None  # set when clipped by the page size and more entries exist
    immutable: bool


@dataclass(frozen=True, slots=True)
class Inclusion:
    index: int
    size: int
    leaf_hash: bytes
    proof: list[bytes]
    root: bytes


class LogReader:
    """The log's read queries as the API serves them: defaults, range checks, paging, caching.

    Sizes only grow, so reading the size first and the data after it is consistent.
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def size(self) -> int:
        return self._store.size()

    def latest_checkpoint(self) -> StoredCheckpoint:
        latest = self._store.latest_checkpoint()
        if latest is None:
            raise NotFoundError("no checkpoint has been published yet")
        return latest

    def checkpoints(self, start_size: int, limit: int) -> list[StoredCheckpoint]:
        return self._store.checkpoints(start_size, limit)

    def entries(self, start: int, end: int) -> EntriesPage:
        if end <= start:
            raise InvalidParameterError(f"end {end} must be greater than start {start}")
        size = self._store.size()
        if start >= size:
            raise RangeNotAvailable(f"start {start} is not below the log's size {size}")
        wanted_end = min(end, start + limits.entries_page_max)
        served_end = min(wanted_end, size)
        leaves = self._store.leaves(start, served_end)
        assert len(leaves) == served_end - start, "the store returns the whole range"
        latest = self._store.latest_checkpoint()
        checkpointed = latest is not None and served_end <= latest.size
        more = served_end < min(end, size)
        return EntriesPage(
            start, served_end, leaves, served_end if more else None,
            immutable=served_end == wanted_end and checkpointed,
        )  # fmt: skip

    def inclusion(self, index: int, size: int | None) -> Inclusion:
        if size is None:
            size = self.latest_checkpoint().size
        self._check_size(size)
        if index >= size:
            raise InvalidParameterError(f"index {index} is not in a tree of size {size}")
        (leaf,) = self._store.leaves(index, index + 1)
        proof = self._store.inclusion_proof(index, size)
        root = self._store.root(size)
        return Inclusion(index, size, merkle.leaf_hash(leaf), proof, root)

    def consistency(self, first: int, second: int) -> list[bytes]:
        if first > second:
            raise InvalidParameterError(f"first {first} must not be greater than second {second}")
        self._check_size(second)
        return self._store.consistency_proof(first, second)

    def _check_size(self, size: int) -> None:
        have = self._store.size()
        if size > have:
            raise RangeNotAvailable(f"tree size {size} is beyond the log's size {have}")


# Dependencies (as full-stack-fastapi-template's deps.py) ----------------------------------------


def get_reader(log: LogDep) -> LogReader:
    return LogReader(log.store)


ReaderDep = Annotated[LogReader, Depends(get_reader)]


# Routes: parse, call, render -----------------------------------------------------------------


class JsonLinesResponse(Response):
    media_type = JSONL_MEDIA_TYPE


def get_checkpoint(reader: ReaderDep) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint note), exactly as published."""
    note = reader.latest_checkpoint().note
    return PlainTextResponse(note, headers={"Cache-Control": CACHE_NO_CACHE})


def list_checkpoints(
    reader: ReaderDep,
    response: Response,
    start: Annotated[QueryInt, position("smallest tree size to list")] = 0,
    limit: Annotated[
        QueryInt,
        Query(ge=1, le=limits.checkpoints_page_max, description="most checkpoints to list"),
    ] = limits.checkpoints_page_max,
) -> CheckpointList:
    """Every published checkpoint with tree size ≥ ``start``, oldest first."""
    found = reader.checkpoints(start, limit)
    response.headers["Cache-Control"] = CACHE_NO_CACHE
    return CheckpointList(
        checkpoints=[CheckpointItem(size=str(c.size), note=c.note) for c in found]
    )


def get_entries(
    reader: ReaderDep,
    request: Request,
    start: Annotated[QueryInt, position("first seq (inclusive)")],
    end: Annotated[QueryInt, position("last seq (exclusive)", ge=1)],
) -> JsonLinesResponse:
    """The leaves of seqs ``start`` .. ``end - 1``, one per line (JSON Lines).

    Each line is a leaf's exact bytes followed by ``\\n``. At most ``entries_page_max`` per
    request: a longer range is clipped and ``X-Reclaim-Next`` / ``Link rel=next`` say where to
    go on; an ``end`` beyond the log is clipped to its size. ``X-Reclaim-End`` is the end served.
    """
    page = reader.entries(start, end)
    headers = {
        "X-Reclaim-End": str(page.end),
        "Cache-Control": CACHE_IMMUTABLE if page.immutable else CACHE_NO_CACHE,
    }
    if page.next_start is not None:
        url = request.url.include_query_params(start=page.next_start, end=end)
        headers["X-Reclaim-Next"] = str(page.next_start)
        headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    body = b"".join(leaf + b"\n" for leaf in page.leaves)
    return JsonLinesResponse(body, headers=headers)


def get_inclusion_proof(
    reader: ReaderDep,
    response: Response,
    index: Annotated[QueryInt, position("the leaf's seq")],
    size: Annotated[
        QueryInt | None, position("tree size; the latest checkpoint's when left out", ge=1)
    ] = None,
) -> InclusionProof:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    found = reader.inclusion(index, size)
    response.headers["Cache-Control"] = CACHE_IMMUTABLE if size is not None else CACHE_NO_CACHE
    return InclusionProof(
        index=str(found.index),
        size=str(found.size),
        leaf_hash=_b64(found.leaf_hash),
        proof=[_b64(h) for h in found.proof],
        root=_b64(found.root),
    )


def get_consistency_proof(
    reader: ReaderDep,
    response: Response,
    first: Annotated[QueryInt, position("the older tree size")],
    second: Annotated[QueryInt, position("the newer tree size")],
) -> ConsistencyProof:
    """RFC 9162 consistency proof that the tree of ``first`` leaves is a prefix of ``second``."""
    proof = reader.consistency(first, second)
    response.headers["Cache-Control"] = CACHE_IMMUTABLE
    return ConsistencyProof(first=str(first), second=str(second), proof=[_b64(h) for h in proof])


def get_keys(log: LogDep) -> Response:
    """The log's key set: origin, log key, every actor's keys (revoked ones too)."""
    return Response(
        log.public_keys(),
        media_type="application/json",
        headers={"Cache-Control": CACHE_NO_CACHE},
    )


def get_health(reader: ReaderDep, response: Response) -> Health:
    """The server is up and its store answers."""
    response.headers["Cache-Control"] = CACHE_NO_CACHE
    return Health(status="ok", size=str(reader.size()))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# The application -------------------------------------------------------------------------------

_PROBLEM_RESPONSES: Final = problem_answers(
    {
        400: "a bad parameter (`invalid_parameter`)",
        404: "beyond the log (`range_not_available`) or nothing yet (`not_found`)",
    }
)

_ENTRIES_HEADERS: Final = {
    "X-Reclaim-End": {"description": "the exclusive end seq served", "schema": {"type": "string"}},
    "X-Reclaim-Next": {
        "description": "the next start, when the range was clipped to entries_page_max",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'the next page, rel="next", when clipped',
        "schema": {"type": "string"},
    },
}


def _answer(
    description: str, media_type: str, schema: str = "string", **more: Any
) -> dict[int | str, dict[str, Any]]:
    """A route's answers: its 200 (``description``, a ``schema`` in ``media_type``) and the
    problems."""
    content = {media_type: {"schema": {"type": schema}}}
    return {200: {"description": description, "content": content, **more}, **_PROBLEM_RESPONSES}


#: The log's read routes (all ``GET``): path, endpoint, tag, and how FastAPI documents and
#: renders the answer.
_ROUTES: Final[tuple[tuple[str, Callable[..., Any], str, dict[str, Any]], ...]] = (
    ("/log/checkpoint", get_checkpoint, "log", {
        "response_class": PlainTextResponse,
        "responses": _answer("a C2SP signed note", "text/plain"),
    }),
    ("/log/checkpoints", list_checkpoints, "log", {"response_model": CheckpointList}),
    ("/log/entries", get_entries, "log", {
        "response_class": JsonLinesResponse,
        "responses": _answer("leaf bytes, one per line", JSONL_MEDIA_TYPE,
                             headers=_ENTRIES_HEADERS),
    }),
    ("/log/proof/inclusion", get_inclusion_proof, "log", {"response_model": InclusionProof}),
    ("/log/proof/consistency", get_consistency_proof, "log", {"response_model": ConsistencyProof}),
    ("/log/keys", get_keys, "log", {
        "response_class": Response,
        "responses": _answer("canonical JSON key set", "application/json", "object"),
    }),
    ("/healthz", get_health, "ops", {"response_model": Health}),
)  # fmt: skip


def _add_routes(app: FastAPI) -> None:
    for path, endpoint, tag, answer in _ROUTES:
        options = {"responses": _PROBLEM_RESPONSES, **answer}
        app.add_api_route(path, endpoint, methods=["GET"], tags=[tag], **options)


class _LogApi(FastAPI):
    """FastAPI with problem responses documented as ``application/problem+json``."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = super().openapi()
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    for status, answer in operation.get("responses", {}).items():
                        content = answer.get("content")
                        if content and not str(status).startswith("2"):
                            # FastAPI files the model under the route's own media type.
                            (problem,) = [c for c in content.values() if "schema" in c]
                            answer["content"] = {problems.PROBLEM_MEDIA_TYPE: problem}
            self.openapi_schema = schema
        return self.openapi_schema


class RequestLimits:
    """ASGI middleware: refuse query strings and bodies over the limits, and JSON bodies that
    the bounded parser refuses, as problem+json — before any route or FastAPI parses them.

    A declared ``Content-Length`` over the limit is refused before the body is read; a body
    without one (chunked) is read up to the limit, and one byte more is a 413 too — on every
    route, also those whose body FastAPI parses (it would turn a read error into a 400). A JSON
    body (``application/json``, ``+json``, or no content type and bytes that start like JSON:
    ``_is_json``) must pass ``app.bounded_json.parse``, else ``400 body_malformed``:
    nesting, huge numbers, NaN, lone surrogates, duplicate keys and invalid UTF-8 never reach
    ``json.loads`` or a route (issue 9, findings 3 and 4). The body, read once, is handed to
    the app as it came; bodies of other types are the route's to judge.

    ``routes`` gives a few POST paths a bound of their own (the portal's KYC upload,
    ``web.UPLOAD_ROUTES``): a body over it is read up to ``limits.upload_drain_max_bytes`` and
    thrown away, then the route's own ``refuse`` answers (the portal's 413 page in the reader's
    language), so a browser that sends the whole file first still sees a page.
    """

    def __init__(
        self, app: ASGIApp, *, body_max_bytes: int, query_max_bytes: int,
        routes: Mapping[str, web.UploadRoute] | None = None,
    ) -> None:  # fmt: skip
        self.app = app
        self.body_max_bytes = body_max_bytes
        self.query_max_bytes = query_max_bytes
        self.routes = dict(routes or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        query = scope.get("query_string", b"")
        if len(query) > self.query_max_bytes:
            detail = f"query string of {len(query)} bytes, more than {self.query_max_bytes}"
            await _refuse(problems.QUERY_TOO_LONG, detail, path, scope, receive, send)
            return
        declared = _content_length(scope)
        own = self.routes.get(path) if scope.get("method") == "POST" else None
        if own is not None:
            limit = own.body_max_bytes
            if declared is not None and declared > limits.upload_drain_max_bytes:
                await own.refuse(scope, receive, send)  # cut off: never read
                return
            if declared is not None and declared > limit:
                await _drain(receive)
                await own.refuse(scope, receive, send)
                return
            body, more = await self._read(receive, limit)
            if body is None:
                if more:
                    await _drain(receive)
                await own.refuse(scope, receive, send)
                return
            await self.app(scope, _replay(body, more, receive), send)
            return
        if declared is not None and declared > self.body_max_bytes:
            detail = f"body of {declared} bytes, more than {self.body_max_bytes}"
            await _refuse(problems.REQUEST_TOO_LARGE, detail, path, scope, receive, send)
            return
        body, more = await self._read(receive)
        if body is None:
            detail = f"body of more than {self.body_max_bytes} bytes"
            await _refuse(problems.REQUEST_TOO_LARGE, detail, path, scope, receive, send)
            return
        if body and _is_json(scope, body):
            try:
                bounded_json.parse(body)
            except bounded_json.JsonRefused as exc:
                await _refuse(problems.BODY_MALFORMED, str(exc), path, scope, receive, send)
                return
        await self.app(scope, _replay(body, more, receive), send)

    async def _read(self, receive: Receive, limit: int | None = None) -> tuple[bytes | None, bool]:
        """The whole body and whether the client disconnected; past the limit ``None`` and
        whether more of the body is still to come."""
        limit = self.body_max_bytes if limit is None else limit
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks), True
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:  # with whether more of the body is still to come
                return None, bool(message.get("more_body", False))
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), False


async def _drain(receive: Receive) -> None:
    """Read the rest of a body and throw it away, up to ``limits.upload_drain_max_bytes``."""
    seen = 0
    while seen <= limits.upload_drain_max_bytes:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return
        seen += len(message.get("body", b""))


async def _refuse(
    kind: problems.ProblemKind, detail: str, path: str, scope: Scope, receive: Receive,
    send: Send,
) -> None:  # fmt: skip
    answer = problems.problem_response(kind, detail, instance=path)
    await answer(scope, receive, send)


def _replay(body: bytes, disconnected: bool, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then waits on the client again."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if disconnected:
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _is_json(scope: Scope, body: bytes) -> bool:
    """A JSON content type (``application/json``, ``application/*+json``); or none, and a body
    that starts like a JSON value (a FastAPI that is not strict about content types, and the
    signed routes, read such a body as JSON). Other bodies are the route's to judge."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.decode("latin-1").split(";", 1)[0].strip().lower()
            return bool(media == "application/json" or (
                media.startswith("application/") and media.endswith("+json")
            ))  # fmt: skip
    return body.lstrip(b" \t\r\n")[:1] in _JSON_STARTS


#: The bytes a JSON text can start with (and ``NaN``, ``Infinity``, which Python's parser takes).
_JSON_STARTS: Final = frozenset(bytes([c]) for c in b'{["-0123456789tfnNI')


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1")
            return int(text) if text.isascii() and text.isdigit() else None
    return None


def create_app(
    log: LogService,
    *,
    liabilities: LiabilitiesService | None = None,
    onboarding: OnboardingWiring | None = None,
    withdrawals: WithdrawalService | None = None,
) -> FastAPI:
    """The API of ``log``: routes, problem handlers, request limits. Called by the root."""
    app = _LogApi(
        title="reclaim transparency log",
        summary="Signed checkpoints, entries and RFC 9162 proofs of the public log.",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.log = log
    problems.install(app)
    _add_routes(app)
    ledger_api.install(app)
    claims_api.install(app)
    distributions_api.install(app)
    liabilities_api.install(app, liabilities)
    if onboarding is not None:
        onboarding_api.install(app, onboarding.service, onboarding.webhook, onboarding.operators)
        auth.limit_signed_writes(app, onboarding.signed_writes)  # issue 9, finding 7
    if withdrawals is not None:
        withdrawals_api.install(app, withdrawals)
    secret = None if onboarding is None else onboarding.csrf_secret
    web.install(app, log, liabilities, secret)  # the portal's pages (entrypoints/web)
    app.add_middleware(
        RequestLimits,
        body_max_bytes=request_body_max_bytes,
        query_max_bytes=query_string_max_bytes,
        routes=web.UPLOAD_ROUTES,
    )
    backpack.install(app)  # Backpack's trading API; last: its error bodies wrap the limits'
    return app
