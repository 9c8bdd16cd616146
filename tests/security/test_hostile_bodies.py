"""Issue 9, findings 3 and 4: no hostile body makes a 5xx, on any route of the OpenAPI schema.

The app is the one ``reclaim serve`` runs over the demo's data (log, liabilities, onboarding,
withdrawals: every router installed). For every path and method of its OpenAPI document, each
hostile body below is sent; the answer is never a 5xx, and it is exactly the one every route
gives:

- a JSON body the bounded parser refuses (60 kB of nested brackets, a 5,000-digit integer, NaN,
  a string or an array past its bound, invalid UTF-8) → ``400 invalid_parameter``;
- a body over ``request_body_max_bytes``, with its ``Content-Length`` or chunked without one
  → ``413 request_too_large`` (at ``fd0c56d`` the routes whose body FastAPI parses answered the
  chunked one ``400 http_error``);
- the same hostile bytes as ``text/plain`` → whatever the route says of such a body, never 5xx.

At ``fd0c56d`` ``POST /wapi/v1/capital/withdrawals`` answered the nested and the long-integer
bodies 500 (``RecursionError``, ``ValueError``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any, Final

import pytest

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
    "5,000-digit integer": b'{"quantity": ' + b"9" * 5_000 + b"}",
    "long float": b'{"quantity": 0.' + b"1" * 5_000 + b"}",
    "NaN": b'{"quantity": NaN}',
    "Infinity": b'{"quantity": -Infinity}',
    "string past its bound": b'{"a": "' + b"x" * 60_000 + b'"}',
    "array past its bound": b"[" + b"1," * 20_000 + b"1]",
    "invalid UTF-8": b'{"email": "\xff\xfe\xfd"}',
    "truncated": b'{"email": "a@b.c", ',
}
PARAMETER: Final = re.compile(r"\{[^}]+\}")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("hostile")
    done = subprocess.run(
        [sys.executable, "-m", "reclaim", "demo", "--no-serve", "--creditors", "120",
         "--data-dir", "d"],
        cwd=root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    container = bootstrap.build(Settings.from_env({}, data_dir=root / "d"))
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
    for op in [("POST", "/onboarding/signup"), ("POST", "/onboarding/verify"),
               ("POST", "/wapi/v1/capital/withdrawals"), ("POST", "/webhooks/kyc")]:  # fmt: skip
        assert op in ops
    assert len(ops) >= 25


def test_hostile_json_bodies_are_400_on_every_route(client: TestClient) -> None:
    failures = []
    for method, path in operations(client):
        for name, body in HOSTILE_JSON.items():
            answer = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
            if (answer.status_code, code_of(answer)) != (400, "invalid_parameter"):
                failures.append((method, path, name, answer.status_code, answer.text[:120]))
    assert failures == []


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
            for media in ("text/plain", None):
                headers = {} if media is None else {"Content-Type": media}
                answer = client.request(method, path, content=body, headers=headers)
                if answer.status_code >= 500:
                    failures.append((method, path, name, media, answer.status_code))
    assert failures == []
