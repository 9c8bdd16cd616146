"""Issue 9, findings 3 and 4: no hostile body makes a 5xx, on any route of the OpenAPI schema.

The app is the one ``reclaim serve`` runs over the demo's data (log, liabilities, onboarding,
withdrawals: every router installed). For every path and method of its OpenAPI document, each
hostile body below is sent; the answer is never a 5xx, and it is exactly the one every route
gives:

- a JSON body the bounded parser refuses (60 kB of nested brackets, deep objects, a 5,000-digit
  integer, NaN, ``1e999``, a string or an array past its bound, invalid UTF-8, a lone surrogate,
  a duplicate key, a truncated body) → ``400 body_malformed`` — with a JSON content type, or
  with none (such bytes are read as JSON by the signed routes and a FastAPI not strict about
  content types);
- a body over ``request_body_max_bytes``, with its ``Content-Length`` or chunked without one
  → ``413 request_too_large`` (at ``fd0c56d`` the routes whose body FastAPI parses answered the
  chunked one ``400 http_error``), in process and against a real ``reclaim serve`` that gets
  the chunks one by one over TCP;
- the same hostile bytes as ``text/plain`` → whatever the route says of such a body, never 5xx.

At ``fd0c56d`` ``POST /wapi/v1/capital/withdrawals`` answered the nested and the long-integer
bodies 500 (``RecursionError``, ``ValueError``), and a lone surrogate 500 until the bounded
parser refused it (``UnicodeEncodeError`` building the signing string).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim import bootstrap
from reclaim.adapters.rails.sepa import SepaDebtor
from reclaim.config import Settings
from reclaim.core import limits
from reclaim.entrypoints.api.app import create_app
from tests.api.conftest import TestClient  # imported there without Starlette's httpx warning

OVER: Final = limits.request_body_max_bytes + 1
HOSTILE_JSON: Final[dict[str, bytes]] = {
    "nested brackets (60 kB)": b"[" * 30_000 + b"]" * 30_000,
    "nested objects": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    "objects 100 deep": b'{"a":' * 100 + b"1" + b"}" * 100,
    "5,000-digit integer": b'{"quantity": ' + b"9" * 5_000 + b"}",
    "bare 5,000-digit integer": b"9" * 5_000,
    "long float": b'{"quantity": 0.' + b"1" * 5_000 + b"}",
    "NaN": b'{"quantity": NaN}',
    "Infinity": b'{"quantity": -Infinity}',
    "1e999": b'{"quantity": 1e999}',
    "string past its bound": b'{"a": "' + b"x" * 60_000 + b'"}',
    "array past its bound": b"[" + b"1," * 20_000 + b"1]",
    "object past its bound": b"{" + b",".join(b'"k%d":1' % n for n in range(2_000)) + b"}",
    "invalid UTF-8": b'{"email": "\xff\xfe\xfd"}',
    "lone surrogate": b'{"email": "\\ud800@example.org", "symbol": "\\udfff"}',
    "lone surrogate as a key": b'{"\\ud800": "x"}',
    "duplicate key": b'{"email": "a@example.org", "email": "b@example.org"}',
    "truncated": b'{"email": "a@b.c", ',
    "not JSON": b"{email=a@b.c}",
}
PARAMETER: Final = re.compile(r"\{[^}]+\}")
#: Routes whose body is read, for the live server (one of each kind of body parsing).
BODY_ROUTES: Final = ("/onboarding/signup", "/onboarding/verify", "/onboarding/challenge",
                      "/wapi/v1/capital/withdrawals", "/webhooks/kyc")  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    done = subprocess.run(
        [sys.executable, "-m", "reclaim", "demo", "--no-serve", "--creditors", "60",
         "--data-dir", "d"],
        cwd=root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return root / "d"


@pytest.fixture(scope="module")
def client(demo: Path) -> Iterator[TestClient]:
    container = bootstrap.build(Settings.from_env({}, data_dir=demo))
    debtor = SepaDebtor("reclaim operator", "DE89370400440532013000", "COBADEFFXXX")
    withdrawals = bootstrap.build_withdrawals(container, sepa_debtor=debtor)
    container.log.start()
    app = create_app(
        container.log,
        liabilities=container.liabilities,
        onboarding=container.onboarding,
        withdrawals=withdrawals,
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        container.close()


def operations(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) of the OpenAPI document, path parameters filled in."""
    schema: dict[str, Any] = client.get("/openapi.json").json()
    found = []
    for path, item in sorted(schema["paths"].items()):
        for method in sorted(item):
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((method.upper(), PARAMETER.sub("x1", path)))
    return found


def code_of(answer: Any) -> str | None:
    if answer.headers.get("content-type", "").startswith("application/problem+json"):
        return str(answer.json().get("code"))
    return None


def test_the_schema_has_the_routes_that_parse_bodies(client: TestClient) -> None:
    ops = set(operations(client))
    for path in BODY_ROUTES:
        assert ("POST", path) in ops
    assert len(ops) >= 25


def test_hostile_json_bodies_are_400_body_malformed_on_every_route(client: TestClient) -> None:
    failures = []
    for method, path in operations(client):
        for name, body in HOSTILE_JSON.items():
            for headers in ({"Content-Type": "application/json"}, {}):
                answer = client.request(method, path, content=body, headers=headers)
                if (answer.status_code, code_of(answer)) != (400, "body_malformed"):
                    failures.append((method, path, name, headers, answer.status_code,
                                     answer.text[:120]))  # fmt: skip
    assert failures == []


def test_a_refusal_names_what_was_refused(client: TestClient) -> None:
    answers = {
        name: client.post("/onboarding/signup", content=HOSTILE_JSON[name]).json()["detail"]
        for name in ("nested brackets (60 kB)", "5,000-digit integer", "NaN", "1e999",
                     "lone surrogate", "duplicate key", "invalid UTF-8")
    }  # fmt: skip
    assert answers == {
        "nested brackets (60 kB)": f"the body nests deeper than {limits.json_depth_max}",
        "5,000-digit integer": f"a number of more than {limits.json_number_digits_max} digits",
        "NaN": "NaN is not a JSON number",
        "1e999": "1e999 is beyond the range of a number",
        "lone surrogate": "a string holds a lone surrogate (\\ud800-\\udfff): not text",
        "duplicate key": "the key 'email' appears twice in one object",
        "invalid UTF-8": "the body is not UTF-8 text",
    }


def test_over_limit_bodies_are_413_on_every_route_chunked_or_not(client: TestClient) -> None:
    failures = []
    for method, path in operations(client):
        declared = client.request(method, path, content=b"{" + b" " * OVER + b"}")
        chunked = client.request(method, path, content=iter([b"[" * 4096] * (OVER // 4096 + 1)))
        for how, answer in (("content-length", declared), ("chunked", chunked)):
            if (answer.status_code, code_of(answer)) != (413, "request_too_large"):
                failures.append((method, path, how, answer.status_code, answer.text[:120]))
    assert failures == []


def test_hostile_bytes_of_another_type_never_make_a_5xx(client: TestClient) -> None:
    failures = []
    for method, path in operations(client):
        for name, body in HOSTILE_JSON.items():
            for media in ("text/plain", "application/x-www-form-urlencoded"):
                answer = client.request(method, path, content=body, headers={"Content-Type": media})
                if answer.status_code >= 500:
                    failures.append((method, path, name, media, answer.status_code))
    assert failures == []


def test_a_body_within_the_bounds_still_reaches_the_route(client: TestClient) -> None:
    """The limits refuse only what they name: a plain sign-up body is the route's to judge."""
    body = {"email": "someone@example.org", "password": "a long password", "public_key": "x"}
    answer = client.post("/onboarding/signup", json=body)
    assert (answer.status_code, code_of(answer)) == (400, "public_key_invalid")


# The parser itself: only its own typed error, whatever the bytes ------------------------------

#: Bytes that steer a JSON parser: brackets, quotes, escapes, digits, exponents, constants.
JSONISH: Final = st.lists(
    st.sampled_from([b"[", b"]", b"{", b"}", b'"', b"\\", b":", b",", b"-", b"0", b"9", b"e",
                     b"E", b".", b"NaN", b"Infinity", b"true", b"null", b"\\u", b"d800", b" ",
                     b"\xff", b"\x00"]),
    max_size=400,
).map(b"".join)  # fmt: skip
#: JSON values within every bound.
PLAIN: Final = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=5),
    max_leaves=30,
)  # fmt: skip


def parse_or_refuse(raw: bytes) -> object:
    from reclaim.app import bounded_json  # not in fd0c56d

    try:
        return bounded_json.parse(raw)
    except bounded_json.JsonRefused:
        return "refused"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300) | JSONISH)
def test_the_parser_raises_only_its_own_error(raw: bytes) -> None:
    parse_or_refuse(raw)  # any other exception fails the test


@settings(max_examples=200, deadline=None)
@given(PLAIN)
def test_the_parser_reads_json_within_its_bounds_as_json_does(value: object) -> None:
    raw = json.dumps(value).encode()
    assert parse_or_refuse(raw) == json.loads(raw)


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    raw = b'{"a": "' + b"[{" * 1_000 + b'\\"]}", "b": ["\\\\", [1]]}'
    assert parse_or_refuse(raw) == {"a": "[{" * 1_000 + '"]}', "b": ["\\", [1]]}


def test_the_depth_bound_is_exact() -> None:
    depth = limits.json_depth_max
    assert parse_or_refuse(b"[" * depth + b"]" * depth) == json.loads(b"[" * depth + b"]" * depth)
    assert parse_or_refuse(b"[" * (depth + 1) + b"]" * (depth + 1)) == "refused"


# A real reclaim serve: uvicorn hands the app a chunked body one chunk at a time --------------


@pytest.fixture(scope="module")
def server(demo: Path) -> Iterator[tuple[str, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "reclaim", "serve", "--port", str(port), "--data-dir", str(demo)],
        env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the server exited while starting"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        _, log = process.communicate(timeout=30)
    assert b"Traceback" not in log, log.decode(errors="replace")[-3000:]


def raw_post(address: tuple[str, int], path: str, chunks: list[bytes]) -> tuple[int, Any]:
    """POST ``chunks`` as ``Transfer-Encoding: chunked`` (no ``Content-Length``), each chunk
    its own write; the status and JSON body of the answer (which may come before the last)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: {address[0]}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")  # fmt: skip
    with socket.create_connection(address, timeout=30) as sock:
        try:
            sock.sendall(head.encode())
            for chunk in chunks:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before it read everything: the answer is what counts
        received = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    status_line, _, rest = received.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" not in headers.lower(), "problems carry a length"
    return int(status_line.split()[1]), json.loads(body)


def test_a_real_server_answers_chunked_bodies_over_the_limit_413(server: tuple[str, int]) -> None:
    chunks = [b"[" * 4096] * (OVER // 4096 + 1)
    answers = {path: raw_post(server, path, chunks) for path in BODY_ROUTES}
    assert {path: (status, body["code"]) for path, (status, body) in answers.items()} == {
        path: (413, "request_too_large") for path in BODY_ROUTES
    }


def test_a_real_server_answers_chunked_hostile_json_400(server: tuple[str, int]) -> None:
    failures = []
    for path in BODY_ROUTES:
        for name, body in HOSTILE_JSON.items():
            chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
            status, problem = raw_post(server, path, chunks)
            if (status, problem.get("code")) != (400, "body_malformed"):
                failures.append((path, name, status, problem))
    assert failures == []
