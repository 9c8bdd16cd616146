"""A real uvicorn server on loopback and a real HTTP client, verifying what it is served.

The client does what an auditor's verifier does: it trusts only the log's public key, opens the
signed checkpoint, fetches the entries page by page, recomputes the root, and checks an
inclusion proof and a consistency proof against roots from signed checkpoints.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from reclaim.entrypoints.api.app import create_app
from reclaim.log import merkle
from reclaim.log.checkpoint import open_checkpoint
from reclaim.log.event import parse_leaf
from tests.api.conftest import CHECKPOINT_SIZES, LOG_SIZE, LogFixture
from tests.support.factories import ORIGIN

STARTUP_TIMEOUT_SECONDS = 10.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0


@pytest.fixture
def base_url(populated: LogFixture) -> Iterator[str]:
    """Serve ``create_app(log)`` with uvicorn on a free loopback port, in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(populated.log), log_level="warning", lifespan="off", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        assert thread.is_alive(), "the server thread died while starting"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT_SECONDS)
        sock.close()
    assert not thread.is_alive(), "the server did not shut down"


def fetch_entries(http: httpx.Client, size: int) -> list[bytes]:
    """Every leaf of ``[0, size)``, following the server's paging."""
    leaves: list[bytes] = []
    while len(leaves) < size:
        response = http.get("/log/entries", params={"start": len(leaves), "end": size})
        response.raise_for_status()
        assert response.headers["content-type"] == "application/jsonl"
        page = response.content.split(b"\n")
        assert page.pop() == b"", "every line ends in a newline"
        assert response.headers["x-reclaim-end"] == str(len(leaves) + len(page))
        leaves.extend(page)
    return leaves


def test_a_verifier_over_the_network(base_url: str, populated: LogFixture) -> None:
    log_key = populated.log_signer.verifier
    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        assert http.get("/healthz").json() == {"status": "ok", "size": str(LOG_SIZE)}

        note = http.get("/log/checkpoint")
        assert note.status_code == 200
        checkpoint = open_checkpoint(note.text, log_key, origin=ORIGIN)
        assert checkpoint.size == CHECKPOINT_SIZES[-1]

        leaves = fetch_entries(http, checkpoint.size)
        assert [parse_leaf(leaf).seq for leaf in leaves] == list(range(checkpoint.size))
        leaf_hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
        assert merkle.root_from_leaf_hashes(leaf_hashes) == checkpoint.root

        index = 777
        answer = http.get("/log/proof/inclusion", params={"index": index})
        assert answer.status_code == 200
        body = answer.json()
        assert body["size"] == str(checkpoint.size)
        proof = [base64.b64decode(h, validate=True) for h in body["proof"]]
        merkle.verify_inclusion(leaf_hashes[index], index, checkpoint.size, proof, checkpoint.root)

        listed = http.get("/log/checkpoints").json()["checkpoints"]
        older = open_checkpoint(listed[1]["note"], log_key, origin=ORIGIN)
        consistency = http.get(
            "/log/proof/consistency", params={"first": older.size, "second": checkpoint.size}
        ).json()
        merkle.verify_consistency(
            older.size,
            checkpoint.size,
            [base64.b64decode(h, validate=True) for h in consistency["proof"]],
            older.root,
            checkpoint.root,
        )

        missing = http.get("/log/entries", params={"start": LOG_SIZE, "end": LOG_SIZE + 1})
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["code"] == "range_not_available"
