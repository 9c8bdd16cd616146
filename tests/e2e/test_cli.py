"""The ``reclaim`` command line, run as a user runs it: a real process, real files, real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def reclaim(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "reclaim", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert done.returncode == 0, done.stderr + done.stdout
    return done


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    done = reclaim("demo", "--no-serve", "--creditors", "300", "--data-dir", "d", cwd=root)
    (root / "demo.out").write_text(done.stdout)
    assert "reclaim verify" in done.stdout
    assert ": OK" in done.stdout
    assert "4 rounds" in done.stdout
    assert "12 SEPA withdrawals" in done.stdout
    return root


def test_demo_runs_the_four_ftx_rounds_and_a_sepa_batch(demo: Path) -> None:
    for round_id in ("ftx-1", "ftx-2", "ftx-3", "ftx-4"):
        report = (demo / "d" / "rounds" / round_id / "report.md").read_text()
        assert f"# Round {round_id}" in report
        assert (demo / "d" / "rounds" / round_id / "lines.csv").read_text().startswith("line,")
    (batch,) = (demo / "d" / "withdrawals").iterdir()
    assert batch.name.endswith(".pain.001.xml")
    assert "<CstmrCdtTrfInitn>" in batch.read_text()


def test_demo_builds_exports_and_verifies_a_log(demo: Path) -> None:
    public = demo / "d" / "public-log"
    assert (public / "keys.json").is_file()
    assert (public / "checkpoint").read_text().startswith("reclaim.local/log\n")
    private = {p.name for p in (demo / "d" / "keys").iterdir() if p.is_file()}
    operators = {"admin.key", "gateway.key", "kyc-officer.key", "log.key", "treasury.key"}
    assert operators <= private
    for path in public.rglob("*"):
        if path.is_file():
            assert "PRIVATE+KEY" not in path.read_text(), f"a private key leaked into {path}"


def test_keys_init_never_overwrites(demo: Path) -> None:
    done = reclaim("keys", "init", "--data-dir", "d", cwd=demo, check=False)
    assert done.returncode == 2
    assert "refusing to overwrite existing keys" in done.stderr


def test_verify_names_a_tampered_event(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    reclaim("export-log", str(out), "--data-dir", "d", cwd=demo)
    assert "OK" in reclaim("verify", str(out), cwd=demo).stdout
    bundle = sorted((out / "entries").iterdir())[0]
    lines = bundle.read_bytes().split(b"\n")
    target = next(i for i, line in enumerate(lines) if b'"role":"creditor"' in line)
    lines[target] = lines[target].replace(b'"role":"creditor"', b'"role":"treasury"', 1)
    bundle.write_bytes(b"\n".join(lines))
    done = reclaim("verify", str(out), cwd=demo, check=False)
    assert done.returncode == 1
    assert "FAILED" in done.stderr
    assert f"seq {target}" in done.stderr


def test_prove_and_check_proof(demo: Path, tmp_path: Path) -> None:
    proof = tmp_path / "proof.json"
    reclaim("prove", "--seq", "42", "--out", str(proof), "--data-dir", "d", cwd=demo)
    assert json.loads(proof.read_text())["index"] == "42"
    log_key = (demo / "d" / "keys" / "public" / "log.pub").read_text().strip()
    assert "OK" in reclaim("check-proof", str(proof), "--log-key", log_key, cwd=demo).stdout
    other = (demo / "d" / "keys" / "public" / "admin.pub").read_text().strip()
    done = reclaim("check-proof", str(proof), "--log-key", other, cwd=demo, check=False)
    assert done.returncode == 1


def test_serve_then_verify_over_http(demo: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "reclaim", "serve", "--port", str(port), "--data-dir", "d"],
        cwd=demo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        done = reclaim("verify", base, cwd=demo)
        assert "OK" in done.stdout
        assert "consistency proofs" in done.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_prove_beyond_the_log_is_a_clear_error(demo: Path) -> None:
    done = reclaim("prove", "--seq", "99999999", "--data-dir", "d", cwd=demo, check=False)
    assert done.returncode == 1
    assert "no proof:" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_prints_a_web_login_per_console_role_and_each_logs_in(demo: Path) -> None:
    """The demo's printed console logins are real: each one logs in with its role."""
    from reclaim import bootstrap
    from reclaim.app.web_accounts import Principal, WebAccounts
    from reclaim.config import Settings
    from reclaim.demo.logins import OPERATORS

    out = demo / "demo.out"
    printed = out.read_text() if out.exists() else ""
    settings = Settings.from_env(data_dir=demo / "d", database_url=None).with_data_dir(demo / "d")
    container = bootstrap.build(settings)
    try:
        assert container.onboarding is not None
        accounts = WebAccounts(container.onboarding.service, container.log)
        for actor, role, password in OPERATORS:
            assert f"{actor}  {password}" in printed
            answer = accounts.operator_login(actor, password, "test-client")
            assert isinstance(answer, Principal), answer
            assert answer.role == role
            refused = accounts.operator_login(actor, password + "x", "test-client")
            assert not isinstance(refused, Principal)
    finally:
        container.close()
