"""Page-render throughput of the portal, against a static file served by the same server.

The estate: ``reclaim demo --no-serve`` (its defaults: 2,000 creditors, 3,000 claims, four FTX
rounds executed, escrow, a note market) and ``reclaim liabilities snapshot``, built once and
cached under ``CACHE`` (rebuilt when a source file changes), copied for each run (the server
writes its sessions). Before the server starts, a session is opened for one of the demo's
onboarded creditors whose claim was paid (``WebAccounts.open_session``, what a login does after
argon2), so the claim page is the one that creditor sees.

Then ``reclaim serve`` (uvicorn, one process) on a free loopback port, and ``CLIENTS`` concurrent
keep-alive connections (``_http_load``: raw HTTP/1.1 on asyncio streams) asking for one URL as
fast as answers come, ``WARMUP_SECONDS`` unmeasured and then ``RUN_SECONDS`` measured, for each of:

- static: ``/static/web/site.css`` — the baseline: the same server, routing, security headers
  and client, with no rendering;
- claim: ``/claims/<id>`` with the creditor's session cookie (session lookup, the creditor's
  claims, the claim's distributions from the ledger, the template);
- transparency: ``/transparency`` without a session, as the public asks for it (the view,
  cached per log size, and two SVG charts).

Every answer is checked (status 200; the pages' length must not change during a run). Figures:
requests/s, p50 and p99 latency per URL, and each page's rate as a ratio of the static rate.
The client and the server share this machine's cores (the client's cost is in the baseline),
so the benchmark also prints the CPU time per request of each (the server's from ``/proc``, the
client's from ``getrusage``) and the rate the server's CPU time alone bounds one core at. (The
client was ``httpx`` until 2026-12-08: at ~3 ms of CPU a request it was the bottleneck.)

``python benchmarks/bench_pages.py --profile`` instead profiles each page in this process: the
app as ``reclaim serve`` builds it, called through ``httpx.ASGITransport`` with its sync handlers
run inline (cProfile sees only its own thread), ``PROFILE_REQUESTS`` times; it prints the time
per request and the functions of reclaim with the most cumulative time.

Target (issue 12, acceptance): each page ≥ 500 requests/s with p99 ≤ 100 ms on 2 cores.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from resource import RUSAGE_SELF, getrusage
from typing import Any, Final

import httpx

import _common
import _http_load

REPO: Final = Path(__file__).resolve().parents[1]
_SOURCES: Final = sorted((REPO / "src" / "reclaim").rglob("*.py"))
CACHE: Final = (
    Path("/tmp/reclaim-bench-pages")
    / (hashlib.sha256(b"".join(p.read_bytes() for p in _SOURCES)).hexdigest()[:12])
)
CLIENTS: Final = 16
WARMUP_SECONDS: Final = 1.0
RUN_SECONDS: Final = 5.0
TARGET_RPS: Final = 500.0
TARGET_P99_SECONDS: Final = 0.100
STATIC_PATH: Final = "/static/web/site.css"
REQUEST_TIMEOUT_SECONDS: Final = 30.0
PROFILE_REQUESTS: Final = 200
PROFILE_LINES: Final = 25


def reclaim(*args: str, cwd: Path) -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "reclaim", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout


def estate() -> Path:
    """The cached demo's data directory (built first if missing)."""
    data, done = CACHE / "d", CACHE / "complete"
    if not done.exists():
        shutil.rmtree(CACHE, ignore_errors=True)
        CACHE.mkdir(parents=True)
        started = time.perf_counter()
        reclaim("demo", "--no-serve", "--data-dir", str(data), cwd=CACHE)
        reclaim("liabilities", "snapshot", "--data-dir", str(data), cwd=CACHE)
        done.touch()
        print(f"built the demo estate in {time.perf_counter() - started:.0f} s", flush=True)
    return data


def open_session(data_dir: Path) -> tuple[str, str]:
    """A session of a demo creditor whose claim was paid: (session id, claim id)."""
    from reclaim import bootstrap
    from reclaim.app.web_accounts import Principal, WebAccounts
    from reclaim.app.web_queries import claim_distributions
    from reclaim.config import Settings

    settings = Settings.from_env(data_dir=data_dir, database_url=None).with_data_dir(data_dir)
    container = bootstrap.build(settings)
    try:
        assert container.onboarding is not None, "the demo has a PII vault"
        accounts = WebAccounts(container.onboarding.service, container.log)
        claims = container.log.state.claims.claims
        for claim in sorted(claims.values(), key=lambda c: c.id):
            creditor = claim.linked_creditor
            if creditor and claim_distributions(container.store, creditor, claim.id):
                session_id = "bench-session-" + hashlib.sha256(claim.id.encode()).hexdigest()
                accounts.open_session(session_id, Principal.creditor(creditor), "bench", "bench")
                return session_id, claim.id
        raise AssertionError("the demo paid no onboarded creditor")
    finally:
        container.close()


def server_cpu_seconds() -> float:
    """CPU time (user + system) of this process's ``reclaim serve`` child, from ``/proc``."""
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"serve" in command:
            return (int(fields[11]) + int(fields[12])) / ticks
    raise AssertionError("no reclaim serve child")


def client_cpu_seconds() -> float:
    usage = getrusage(RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    requests: int
    seconds: float
    p50_seconds: float
    p99_seconds: float
    server_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def text(self) -> str:
        return (f"{self.rps:,.0f} requests/s, p50 {self.p50_seconds * 1000:.1f} ms, "
                f"p99 {self.p99_seconds * 1000:.1f} ms ({self.requests:,} requests; CPU per "
                f"request: server {self.server_cpu_seconds / self.requests * 1000:.2f} ms, "
                f"client {self.client_cpu_seconds / self.requests * 1000:.2f} ms)")  # fmt: skip


async def load(base_url: str, name: str, path: str, cookies: dict[str, str]) -> Figure:
    """``CLIENTS`` keep-alive connections asking for ``path`` until the run ends."""
    jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
    raw = _http_load.request_bytes("GET", _http_load.host_of(base_url), path,
                                   {"Cookie": jar} if jar else {})  # fmt: skip
    connections = [await _http_load.Connection.open(base_url) for _ in range(CLIENTS)]
    try:
        first = await connections[0].send(raw)
        assert first.status == 200, (path, first.status, first.body[:300])
        size = len(first.body)
        latencies: list[float] = []
        loop = asyncio.get_running_loop()
        started = loop.time()
        measure_from, stop_at = started + WARMUP_SECONDS, started + WARMUP_SECONDS + RUN_SECONDS

        async def worker(connection: _http_load.Connection) -> None:
            while (sent := loop.time()) < stop_at:
                answer = await asyncio.wait_for(connection.send(raw), REQUEST_TIMEOUT_SECONDS)
                done = loop.time()
                assert answer.status == 200, (path, answer.status)
                assert len(answer.body) == size, (path, "the page changed during the run")
                if sent >= measure_from:
                    latencies.append(done - sent)

        async def measured() -> tuple[float, float]:
            await asyncio.sleep(WARMUP_SECONDS)
            return server_cpu_seconds(), client_cpu_seconds()

        marking = asyncio.create_task(measured())
        await asyncio.gather(*(worker(c) for c in connections))
        marks = await marking
        seconds = max(loop.time(), stop_at) - measure_from
        server, client_cpu = server_cpu_seconds() - marks[0], client_cpu_seconds() - marks[1]
    finally:
        for connection in connections:
            await connection.close()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Figure(name, len(latencies), seconds, cuts[49], cuts[98], server, client_cpu)


async def profile(app: object, name: str, path: str, cookies: dict[str, str]) -> None:
    import cProfile
    import pstats

    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                 cookies=cookies) as client:  # fmt: skip
        assert (await client.get(path)).status_code == 200, path
        started = time.perf_counter()
        for _ in range(PROFILE_REQUESTS):
            await client.get(path)
        per_request = (time.perf_counter() - started) / PROFILE_REQUESTS
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(PROFILE_REQUESTS):
            await client.get(path)
        profiler.disable()
    print(f"== {name} {path}: {per_request * 1000:.2f} ms per request in-process", flush=True)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(r"reclaim/|jinja2/runtime|babel/numbers",
                                               PROFILE_LINES)  # fmt: skip


def profile_pages(data: Path, session_id: str, claim_id: str) -> None:
    import fastapi.routing

    from reclaim import bootstrap
    from reclaim.config import Settings
    from reclaim.entrypoints.api.app import create_app

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    setattr(fastapi.routing, "run_in_threadpool", inline)  # noqa: B010 - it is no export
    settings = Settings.from_env(data_dir=data, database_url=None).with_data_dir(data)
    opened = bootstrap.build(settings)
    try:
        opened.log.start()
        withdrawals = None if opened.onboarding is None else opened.withdrawals()
        app = create_app(opened.log, liabilities=opened.liabilities,
                         onboarding=opened.onboarding, withdrawals=withdrawals)  # fmt: skip
        for name, path, cookies in pages(session_id, claim_id)[1:]:
            asyncio.run(profile(app, name, path, cookies))
    finally:
        opened.close()


def pages(session_id: str, claim_id: str) -> list[tuple[str, str, dict[str, str]]]:
    """(name, path, cookies): the baseline first; the public page as the public asks for it."""
    creditor = {"reclaim_session": session_id}
    return [("static", STATIC_PATH, {}), ("claim", f"/claims/{claim_id}", creditor),
            ("transparency", "/transparency", {})]  # fmt: skip


def main() -> None:
    import tempfile

    from tests.web.conftest import serving

    pristine = estate()
    with tempfile.TemporaryDirectory(prefix="reclaim-bench-pages-") as tmp:
        data = Path(tmp) / "d"
        shutil.copytree(pristine, data)
        session_id, claim_id = open_session(data)
        if "--profile" in sys.argv[1:]:
            profile_pages(data, session_id, claim_id)
            return
        cookies = {"reclaim_session": session_id}
        with serving(data, Path(tmp) / "serve.log") as base_url:
            with httpx.Client(base_url=base_url, cookies=cookies) as probe:
                page = probe.get(f"/claims/{claim_id}")
                assert page.status_code == 200, page.status_code
                assert claim_id in page.text, "the creditor's claim page, logged in"
            figures = [
                asyncio.run(load(base_url, name, path, jar))
                for name, path, jar in pages(session_id, claim_id)
            ]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {CLIENTS} keep-alive "
          f"clients, {RUN_SECONDS:.0f} s per URL after {WARMUP_SECONDS:.0f} s warm-up")  # fmt: skip
    static = figures[0]
    print(f"static {STATIC_PATH}: {static.text()}", flush=True)
    for figure in figures:  # what one uvicorn process could answer were the client elsewhere
        bound = figure.requests / figure.server_cpu_seconds
        print(f"  {figure.name}: the server's CPU bounds it at {bound:,.0f} requests/s per core")
    for figure in figures[1:]:
        met = figure.rps >= TARGET_RPS and figure.p99_seconds <= TARGET_P99_SECONDS
        _common.report(f"page {figure.name}", figure.text(), figure.rps / static.rps,
                       f"page/static; target ≥ {TARGET_RPS:.0f}/s, p99 ≤ "
                       f"{TARGET_P99_SECONDS * 1000:.0f} ms", met)  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))  # tests.web.conftest: the same ``serving`` the browser tests use
    main()
