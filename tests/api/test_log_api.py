"""The log API, endpoint by endpoint, with exact answers; then every error as problem+json.

The log under test is described in ``conftest.py``: 1130 events, checkpoints at 1, 400, 1100.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import Request

from reclaim.app.log_service import LogService
from reclaim.app.ports import EventStore, StoreCorrupt, StoreError, StoreUnavailable
from reclaim.core import limits
from reclaim.core.limits import query_string_max_bytes, request_body_max_bytes
from reclaim.entrypoints.api.app import CACHE_IMMUTABLE, create_app
from reclaim.log import merkle, merkle_plan
from reclaim.log.checkpoint import open_checkpoint
from reclaim.log.event import parse_leaf
from reclaim.log.public_keys import keys_document
from tests.api.conftest import (
    CHECKPOINT_SIZES,
    LOG_SIZE,
    ClientFactory,
    FixedClock,
    LogFixture,
    StoreFactory,
    new_keys,
)
from tests.support.factories import ORIGIN

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

PROBLEM_TYPE = "application/problem+json"
LATEST = CHECKPOINT_SIZES[-1]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def checkpoint_root(populated: LogFixture, size: int) -> bytes:
    """The root of ``size`` from its signed checkpoint, as a verifier gets it."""
    note = populated.checkpoint(size).note
    return open_checkpoint(note, populated.log_signer.verifier, origin=ORIGIN).root


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_TYPE
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:reclaim:problem:{code}"
    assert body["title"]
    assert body["detail"]
    return body


# /log/checkpoint -------------------------------------------------------------------------------


def test_checkpoint_is_the_latest_note_exactly(client: TestClient, populated: LogFixture) -> None:
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == populated.checkpoint(LATEST).note.encode()
    opened = open_checkpoint(response.text, populated.log_signer.verifier, origin=ORIGIN)
    assert (opened.size, opened.root) == (LATEST, populated.store.root(LATEST))


def test_checkpoint_of_a_log_without_one_is_not_found(
    store_factory: StoreFactory, make_client: ClientFactory
) -> None:
    empty = LogService(store_factory(), new_keys(), FixedClock())
    body = assert_problem(make_client(empty).get("/log/checkpoint"), 404, "not_found")
    assert body["detail"] == "no checkpoint has been published yet"
    assert body["instance"] == "/log/checkpoint"


# /log/checkpoints ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "sizes"),
    [
        ("", [1, 400, 1100]),
        ("?start=0", [1, 400, 1100]),
        ("?start=2", [400, 1100]),
        ("?start=400", [400, 1100]),
        ("?start=400&limit=1", [400]),
        ("?limit=2", [1, 400]),
        ("?start=1101", []),
        (f"?start={limits.integer_max}", []),
        (f"?limit={limits.checkpoints_page_max}", [1, 400, 1100]),
    ],
)
def test_checkpoints_lists_sizes_from_start_oldest_first(
    client: TestClient, populated: LogFixture, query: str, sizes: list[int]
) -> None:
    response = client.get("/log/checkpoints" + query)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache"
    assert response.json() == {
        "checkpoints": [
            {"size": str(size), "note": populated.checkpoint(size).note} for size in sizes
        ]
    }


# /log/entries ----------------------------------------------------------------------------------


def lines_of(populated: LogFixture, start: int, end: int) -> bytes:
    return b"".join(leaf + b"\n" for leaf in populated.store.leaves(start, end))


@pytest.mark.parametrize(
    ("start", "end", "served_end", "next_start", "cache"),
    [
        (0, 1, 1, None, CACHE_IMMUTABLE),
        (0, 10, 10, None, CACHE_IMMUTABLE),
        (5, 400, 400, None, CACHE_IMMUTABLE),
        (1099, 1100, 1100, None, CACHE_IMMUTABLE),
        # beyond the latest checkpoint: the same range, but not committed to by a signature yet
        (1099, 1101, 1101, None, "no-cache"),
        (1100, 1130, 1130, None, "no-cache"),
        # end beyond the log: clipped to its size, and the answer will grow
        (1100, 5000, 1130, None, "no-cache"),
        (1129, limits.integer_max, 1130, None, "no-cache"),
        # longer than a page: clipped to start + entries_page_max, with a next link
        (0, 1130, 1000, 1000, CACHE_IMMUTABLE),
        (100, 1100, 1100, None, CACHE_IMMUTABLE),
        (100, 1500, 1100, 1100, CACHE_IMMUTABLE),
        (129, 1500, 1129, 1129, "no-cache"),
    ],
)
def test_entries_are_the_exact_leaf_bytes(
    client: TestClient,
    populated: LogFixture,
    start: int,
    end: int,
    served_end: int,
    next_start: int | None,
    cache: str,
) -> None:
    response = client.get("/log/entries", params={"start": start, "end": end})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jsonl"
    assert response.content == lines_of(populated, start, served_end)
    assert response.headers["x-reclaim-end"] == str(served_end)
    assert response.headers["cache-control"] == cache
    if next_start is None:
        assert "x-reclaim-next" not in response.headers
        assert "link" not in response.headers
    else:
        assert response.headers["x-reclaim-next"] == str(next_start)
        assert response.headers["link"] == (
            f'</log/entries?start={next_start}&end={end}>; rel="next"'
        )


def test_entries_paged_by_next_links_are_the_whole_log(
    client: TestClient, populated: LogFixture
) -> None:
    lines: list[bytes] = []
    url: str | None = f"/log/entries?start=0&end={LOG_SIZE}"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        lines.extend(response.content.splitlines())
        url = response.headers.get("link", "").partition(">")[0].removeprefix("<") or None
    assert lines == populated.store.leaves(0, LOG_SIZE)
    assert [parse_leaf(line).seq for line in lines] == list(range(LOG_SIZE))
    leaf_hashes = [merkle.leaf_hash(line) for line in lines[:LATEST]]
    assert merkle.root_from_leaf_hashes(leaf_hashes) == checkpoint_root(populated, LATEST)


@pytest.mark.parametrize("start", [LOG_SIZE, LOG_SIZE + 1, limits.integer_max - 1])
def test_entries_from_the_end_of_the_log_are_not_available(client: TestClient, start: int) -> None:
    response = client.get("/log/entries", params={"start": start, "end": start + 1})
    body = assert_problem(response, 404, "range_not_available")
    assert body["detail"] == f"start {start} is not below the log's size {LOG_SIZE}"


@pytest.mark.parametrize(("start", "end"), [(5, 5), (6, 5)])
def test_entries_of_an_empty_range_are_refused(client: TestClient, start: int, end: int) -> None:
    response = client.get("/log/entries", params={"start": start, "end": end})
    body = assert_problem(response, 400, "invalid_parameter")
    assert body["detail"] == f"end {end} must be greater than start {start}"


# /log/proof/inclusion --------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 3, 399, 400, 777, 1098, 1099])
def test_inclusion_proof_at_the_latest_checkpoint_verifies(
    client: TestClient, populated: LogFixture, index: int
) -> None:
    response = client.get("/log/proof/inclusion", params={"index": index})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"  # "latest" moves
    body = response.json()
    assert set(body) == {"index", "size", "leaf_hash", "proof", "root"}
    assert (body["index"], body["size"]) == (str(index), str(LATEST))
    (leaf,) = populated.store.leaves(index, index + 1)
    assert body["leaf_hash"] == b64(merkle.leaf_hash(leaf))
    root = checkpoint_root(populated, LATEST)
    assert body["root"] == b64(root)
    proof = [unb64(h) for h in body["proof"]]
    assert proof == populated.store.inclusion_proof(index, LATEST)
    merkle.verify_inclusion(merkle.leaf_hash(leaf), index, LATEST, proof, root)


@pytest.mark.parametrize(
    ("index", "size"), [(0, 1), (0, 400), (250, 400), (399, 400), (1, 1100), (1129, 1130)]
)
def test_inclusion_proof_for_a_given_size_verifies_and_is_immutable(
    client: TestClient, populated: LogFixture, index: int, size: int
) -> None:
    response = client.get("/log/proof/inclusion", params={"index": index, "size": size})
    assert response.status_code == 200
    assert response.headers["cache-control"] == CACHE_IMMUTABLE
    body = response.json()
    assert (body["index"], body["size"]) == (str(index), str(size))
    root = populated.store.root(size)
    if size in CHECKPOINT_SIZES:
        assert root == checkpoint_root(populated, size)
    assert body["root"] == b64(root)
    (leaf,) = populated.store.leaves(index, index + 1)
    proof = [unb64(h) for h in body["proof"]]
    merkle.verify_inclusion(merkle.leaf_hash(leaf), index, size, proof, root)


@pytest.mark.parametrize(
    ("query", "status", "code", "detail"),
    [
        ("index=1100", 400, "invalid_parameter", "index 1100 is not in a tree of size 1100"),
        ("index=400&size=400", 400, "invalid_parameter", "index 400 is not in a tree of size 400"),
        ("index=0&size=1131", 404, "range_not_available",
         "tree size 1131 is beyond the log's size 1130"),
        ("index=5000&size=6000", 404, "range_not_available",
         "tree size 6000 is beyond the log's size 1130"),
    ],
)  # fmt: skip
def test_inclusion_proof_out_of_range(
    client: TestClient, query: str, status: int, code: str, detail: str
) -> None:
    body = assert_problem(client.get("/log/proof/inclusion?" + query), status, code)
    assert body["detail"] == detail


def test_inclusion_proof_of_a_log_without_checkpoint_needs_a_size(
    store_factory: StoreFactory, make_client: ClientFactory
) -> None:
    empty = LogService(store_factory(), new_keys(), FixedClock())
    response = make_client(empty).get("/log/proof/inclusion?index=0")
    assert_problem(response, 404, "not_found")


# /log/proof/consistency ------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [(1, 400), (400, 1100), (1, 1100), (400, 400)])
def test_consistency_proof_between_checkpoints_verifies(
    client: TestClient, populated: LogFixture, first: int, second: int
) -> None:
    response = client.get("/log/proof/consistency", params={"first": first, "second": second})
    assert response.status_code == 200
    assert response.headers["cache-control"] == CACHE_IMMUTABLE
    body = response.json()
    assert set(body) == {"first", "second", "proof"}
    assert (body["first"], body["second"]) == (str(first), str(second))
    proof = [unb64(h) for h in body["proof"]]
    assert proof == populated.store.consistency_proof(first, second)
    root1, root2 = checkpoint_root(populated, first), checkpoint_root(populated, second)
    merkle.verify_consistency(first, second, proof, root1, root2)


@pytest.mark.parametrize(("first", "second"), [(0, 0), (0, 1100), (1130, 1130), (7, 1130)])
def test_consistency_proof_for_other_sizes(
    client: TestClient, populated: LogFixture, first: int, second: int
) -> None:
    response = client.get("/log/proof/consistency", params={"first": first, "second": second})
    assert response.status_code == 200
    proof = [unb64(h) for h in response.json()["proof"]]
    root1 = populated.store.root(first) if first else merkle.EMPTY_ROOT
    root2 = populated.store.root(second) if second else merkle.EMPTY_ROOT
    merkle.verify_consistency(first, second, proof, root1, root2)


@pytest.mark.parametrize(
    ("query", "status", "code", "detail"),
    [
        ("first=401&second=400", 400, "invalid_parameter",
         "first 401 must not be greater than second 400"),
        ("first=1&second=1131", 404, "range_not_available",
         "tree size 1131 is beyond the log's size 1130"),
    ],
)  # fmt: skip
def test_consistency_proof_out_of_range(
    client: TestClient, query: str, status: int, code: str, detail: str
) -> None:
    body = assert_problem(client.get("/log/proof/consistency?" + query), status, code)
    assert body["detail"] == detail


# /log/keys, /healthz ---------------------------------------------------------------------------


def test_keys_are_the_keys_document(client: TestClient, populated: LogFixture) -> None:
    response = client.get("/log/keys")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == keys_document(populated.log.state)
    document = response.json()
    assert document["origin"] == ORIGIN
    assert document["log_key"] == populated.log_signer.verifier.to_text()
    assert [a["name"] for a in document["actors"]] == ["admin", "gateway", "kyc-1", "treasury-1"]


def test_health(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.json() == {"status": "ok", "size": str(LOG_SIZE)}


# Parameters ------------------------------------------------------------------------------------

BAD_INTEGERS = ["-1", "+1", "01", " 1", "1 ", "1_0", "1.0", "1e3", "0x1", "abc", "", "１"]


@pytest.mark.parametrize("value", BAD_INTEGERS)
@pytest.mark.parametrize(
    ("path", "name", "others"),
    [
        ("/log/entries", "start", {"end": "10"}),
        ("/log/entries", "end", {"start": "0"}),
        ("/log/checkpoints", "start", {}),
        ("/log/checkpoints", "limit", {}),
        ("/log/proof/inclusion", "index", {}),
        ("/log/proof/inclusion", "size", {"index": "0"}),
        ("/log/proof/consistency", "first", {"second": "10"}),
        ("/log/proof/consistency", "second", {"first": "0"}),
    ],
)
def test_integer_parameters_must_be_canonical_decimals(
    client: TestClient, path: str, name: str, others: dict[str, str], value: str
) -> None:
    response = client.get(path, params={**others, name: value})
    body = assert_problem(response, 400, "invalid_parameter")
    assert [p["name"] for p in body["invalid_params"]] == [name]
    assert body["instance"] == path


@pytest.mark.parametrize(
    ("query", "name", "reason"),
    [
        ("/log/entries?end=10", "start", "Field required"),
        ("/log/entries?start=0", "end", "Field required"),
        ("/log/entries?start=0&end=0", "end", "Input should be greater than or equal to 1"),
        ("/log/checkpoints?limit=0", "limit", "Input should be greater than or equal to 1"),
        ("/log/checkpoints?limit=1001", "limit", "Input should be less than or equal to 1000"),
        ("/log/proof/inclusion", "index", "Field required"),
        ("/log/proof/inclusion?index=0&size=0", "size",
         "Input should be greater than or equal to 1"),
        ("/log/proof/consistency?first=1", "second", "Field required"),
        ("/log/entries?start=9223372036854775808&end=1", "start",
         "Input should be less than or equal to 9223372036854775807"),
        ("/log/entries?start=99999999999999999999&end=1", "start",
         "must be a decimal integer without sign, leading zeros or spaces"),
    ],
)  # fmt: skip
def test_parameters_out_of_bounds(client: TestClient, query: str, name: str, reason: str) -> None:
    body = assert_problem(client.get(query), 400, "invalid_parameter")
    assert body["invalid_params"] == [{"name": name, "reason": reason}]
    assert body["detail"] == f"{name}: {reason}"


# Requests the server refuses before routing ----------------------------------------------------


def test_unknown_path_is_not_found(client: TestClient) -> None:
    body = assert_problem(client.get("/log/nothing"), 404, "not_found")
    assert body["instance"] == "/log/nothing"


def test_wrong_method_is_not_allowed(client: TestClient) -> None:
    response = client.post("/log/checkpoint")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


def test_declared_body_over_the_limit_is_refused(client: TestClient) -> None:
    response = client.request("GET", "/healthz", content=b"x" * (request_body_max_bytes + 1))
    body = assert_problem(response, 413, "request_too_large")
    assert (
        body["detail"]
        == f"body of {request_body_max_bytes + 1} bytes, more than {request_body_max_bytes}"
    )


def test_body_at_the_limit_is_accepted(client: TestClient) -> None:
    assert (
        client.request("GET", "/healthz", content=b"x" * request_body_max_bytes).status_code == 200
    )


def test_streamed_body_over_the_limit_is_refused_as_it_is_read(
    populated: LogFixture, make_client: ClientFactory
) -> None:
    client = make_client(populated.log)
    app: Any = client.app

    async def echo(request: Request) -> dict[str, str]:  # a route that reads its body
        return {"length": str(len(await request.body()))}

    app.add_api_route("/echo", echo, methods=["POST"])

    def chunks(total: int) -> Iterator[bytes]:
        for _ in range(total // 1024):
            yield b"x" * 1024

    small = client.post("/echo", content=chunks(request_body_max_bytes))
    assert small.json() == {"length": str(request_body_max_bytes)}
    assert "content-length" not in small.request.headers
    body = assert_problem(client.post("/echo", content=chunks(request_body_max_bytes + 1024)), 413,
                          "request_too_large")  # fmt: skip
    assert body["detail"] == f"body of more than {request_body_max_bytes} bytes"


def test_query_string_over_the_limit_is_refused(client: TestClient) -> None:
    query = "start=0&end=1&pad=" + "x" * query_string_max_bytes
    body = assert_problem(client.get("/log/entries?" + query), 414, "query_too_long")
    assert body["detail"] == (
        f"query string of {len(query)} bytes, more than {query_string_max_bytes}"
    )
    at_limit = "start=0&end=1&pad=" + "x" * (query_string_max_bytes - 18)
    assert client.get("/log/entries?" + at_limit).status_code == 200


# Store failures --------------------------------------------------------------------------------


class FailingStore:
    """Delegates to a real store until told to fail with ``error``."""

    def __init__(self, inner: EventStore) -> None:
        self.inner = inner
        self.error: BaseException | None = None

    def __getattr__(self, name: str) -> Any:
        if self.error is not None:
            raise self.error
        return getattr(self.inner, name)


@pytest.fixture
def failing(store_factory: StoreFactory) -> tuple[FailingStore, LogService]:
    store = FailingStore(store_factory())
    log = LogService(store, new_keys(), FixedClock())
    return store, log


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (StoreUnavailable("connection to 10.0.0.5 refused"), 503, "store_unavailable"),
        (StoreCorrupt("events table has a gap at seq 17"), 500, "store_corrupt"),
        (merkle_plan.NodeLookupError("node (3, 4) is missing"), 500, "store_corrupt"),
        (StoreError("disk I/O error in /var/lib/reclaim"), 500, "store_error"),
    ],
)
def test_store_errors_are_problems_without_internals(
    failing: tuple[FailingStore, LogService],
    make_client: ClientFactory,
    error: Exception,
    status: int,
    code: str,
) -> None:
    store, log = failing
    client = make_client(log)
    store.error = error
    body = assert_problem(client.get("/healthz"), status, code)
    assert str(error) not in body["detail"]
    assert body["detail"].endswith("; the error is logged")


def test_store_unavailable_says_when_to_retry(
    failing: tuple[FailingStore, LogService], make_client: ClientFactory
) -> None:
    store, log = failing
    client = make_client(log)
    store.error = StoreUnavailable("down")
    assert client.get("/log/checkpoint").headers["retry-after"] == "5"


def test_a_bug_is_an_internal_error_problem_and_is_not_swallowed(
    failing: tuple[FailingStore, LogService], make_client: ClientFactory
) -> None:
    store, log = failing
    store.error = ZeroDivisionError("a bug")
    with pytest.raises(ZeroDivisionError):
        make_client(log).get("/healthz")
    response = make_client(log, raise_server_exceptions=False).get("/healthz")
    body = assert_problem(response, 500, "internal_error")
    assert "a bug" not in body["detail"]


# The OpenAPI document --------------------------------------------------------------------------

ENDPOINTS = {
    "/log/checkpoint": "text/plain",
    "/log/checkpoints": "application/json",
    "/log/entries": "application/jsonl",
    "/log/proof/inclusion": "application/json",
    "/log/proof/consistency": "application/json",
    "/log/keys": "application/json",
    "/healthz": "application/json",
}
#: The ledger's signed routes, in the same app (their answers: ``test_ledger_api.py``).
LEDGER_PATHS = {
    "/api/v1/capital",
    "/ledger/accounts/{account_id}",
    "/ledger/accounts/{account_id}/transfers",
    "/ledger/transfers/{transfer_id}",
}
#: The public claims routes (their answers: ``test_claims_api.py``).
CLAIMS_PATHS = {
    "/estates/{estate_id}",
    "/estates/{estate_id}/report",
    "/jurisdictions",
    "/jurisdictions/{iso}",
}
#: The distributions routes (their answers: ``test_distributions_api.py``).
DISTRIBUTION_PATHS = {
    "/distributions/rounds",
    "/distributions/rounds/{round_id}",
    "/api/v1/distributions",
    "/api/v1/distributions/election",
}


def test_openapi_lists_every_endpoint_with_its_answers(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    expected = set(ENDPOINTS) | LEDGER_PATHS | CLAIMS_PATHS | DISTRIBUTION_PATHS
    assert set(document["paths"]) == expected
    for path, media_type in ENDPOINTS.items():
        assert set(document["paths"][path]) == {"get"}, path
        answers = document["paths"][path]["get"]["responses"]
        assert set(answers) == {"200", "400", "404", "default"}, path
        assert list(answers["200"]["content"]) == [media_type], path
        for status in ("400", "404", "default"):
            assert answers[status]["content"] == {
                PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (path, status)
    schemas = document["components"]["schemas"]
    assert {"Problem", "CheckpointList", "InclusionProof", "ConsistencyProof", "Health"} <= set(
        schemas
    )
    assert schemas["InclusionProof"]["properties"]["size"]["type"] == "string"
    entries = document["paths"]["/log/entries"]["get"]
    assert {p["name"] for p in entries["parameters"]} == {"start", "end"}
    assert set(entries["responses"]["200"]["headers"]) == {
        "X-Reclaim-End", "X-Reclaim-Next", "Link",
    }  # fmt: skip


def test_docs_are_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text


def test_each_app_is_its_own(populated: LogFixture) -> None:
    first, second = create_app(populated.log), create_app(populated.log)
    assert first is not second
    assert first.state.log is populated.log
