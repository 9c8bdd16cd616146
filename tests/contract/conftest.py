"""Fixtures of the EventStore contract suite: every store, each test on a fresh database.

- ``store``: parametrised over ``memory``, ``sqlite`` (a file in a temporary directory) and
  ``postgresql``; ``db_url``: the URL of a fresh SQL database (``sqlite``, ``postgresql``), for
  tests that open several stores or processes on one database.
- PostgreSQL: ``RECLAIM_PG_URL`` (e.g. ``postgresql+psycopg://reclaim@127.0.0.1:5432/reclaim``)
  if set; else a throwaway cluster is started once per session from the PostgreSQL binaries
  found on the machine (``initdb`` + ``pg_ctl``, run as ``postgres`` when we are root, on a free
  loopback port, torn down at the end). Each test gets its own schema, named in the URL's
  ``search_path``, dropped afterwards. With no server reachable the PostgreSQL cases skip — and
  fail when ``CI=true``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from reclaim.adapters.db.store import SqlEventStore, open_store
from reclaim.adapters.memory_store import MemoryEventStore

PG_BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


def _reachable(url: str) -> str | None:
    """``None`` if ``url`` answers, else why not."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()
    return None


def _pg_bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory (no fsync: tests only)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="reclaim-test-pg-"))
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        data = self.root / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off -c max_connections=100"
        )
        log = str(self.root / "log")
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(data), "-l", log, "-w", "start", "-o", options
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "stop",
            )
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str | None]:
    """A reachable PostgreSQL URL, or ``None`` (with the reason printed in the skip)."""
    url = os.environ.get("RECLAIM_PG_URL")
    if url:
        yield url
        return
    bindir = _pg_bindir()
    if bindir is None:
        yield None
        return
    cluster = _Cluster(bindir)
    try:
        url = cluster.start()
    except (subprocess.SubprocessError, OSError, KeyError):
        cluster.stop()
        yield None
        return
    try:
        yield url
    finally:
        cluster.stop()


def _pg_unavailable(reason: str) -> None:
    message = f"PostgreSQL is not reachable: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def pg_url(pg_server: str | None) -> Iterator[str]:
    """The URL of a fresh schema of the PostgreSQL server, dropped after the test."""
    if pg_server is None:
        _pg_unavailable("RECLAIM_PG_URL is not set and no cluster could be started")
    assert pg_server is not None
    problem = _reachable(pg_server)
    if problem is not None:
        _pg_unavailable(problem)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(pg_server, poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg_server).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=PG_BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty SQL database (not yet migrated)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(params=["memory", *PG_BACKENDS])
def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[MemoryEventStore | SqlEventStore]:
    """A fresh, empty store of each kind."""
    opened: MemoryEventStore | SqlEventStore
    if request.param == "memory":
        opened = MemoryEventStore()
    elif request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    else:
        opened = open_store(request.getfixturevalue("pg_url"))
    try:
        yield opened
    finally:
        opened.close()
