"""A distribution round run through the ``reclaim`` CLI, killed in the middle of ``execute``.

The log (SQLite, real keys) holds the shipped FTX estate and a synthetic register of 6,000
claims in every class, 400 of them linked to KYC-approved creditors, claims in mainland China
(restricted) and unlinked ones. Rounds ``ftx-1`` and ``ftx-2`` of the shipped plan are
declared, funded, previewed and approved through the CLI. ``execute ftx-2`` runs one batch per
group commit and is SIGKILLed once some of its lines are in the log; running it again resumes
and completes the round. Then: every line was paid exactly once (one transfer per line id, the
round's totals are the approved ones), every cent of the funding is paid, escrowed or in the
pool, and ``reclaim verify`` of the exported log passes (it replays every check).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reclaim import bootstrap
from reclaim.adapters.files.estate_file import load_estate_file, shipped_estate
from reclaim.adapters.keyfiles import init_keys
from reclaim.config import Settings
from reclaim.core.claims import (
    DecideKyc,
    ImportClaims,
    LinkClaim,
    PolicyEntry,
    ProveEmail,
    RegisterRow,
    SetPolicy,
    SubmitKyc,
)
from reclaim.core.machine import Command, RegisterActor
from reclaim.core.rejections import Rejection
from reclaim.log.keys import SignerKey

pytestmark = pytest.mark.slow

CLASSES = ("5A", "5A", "5B", "6A", "6B", "7")
ISOS = ("CN", "FR", "US", "JP", "HK")
CLAIMS = 6_000
LINKED = 400


def reclaim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "reclaim", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done


def commit(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def build_log(root: Path) -> Path:
    data = root / "d"
    settings = Settings.from_env(data_dir=data, database_url=None).with_data_dir(data)
    init_keys(settings.keys_dir, settings.origin)
    container = bootstrap.build(settings)
    commands: list[tuple[Command, str]] = [(load_estate_file(shipped_estate("ftx")), "admin")]
    commands.append((SetPolicy((
        PolicyEntry("CN", "restricted", "Restricted Jurisdiction Procedures motion",
                    "https://example.org/motion", "2025-01-01", ()),
        PolicyEntry("FR", "open", "EU", "https://example.org/policy", "2025-01-01", ("sepa",)),
    )), "admin"))  # fmt: skip
    rows = []
    for n in range(CLAIMS):
        holder = f"c{n:05d}"
        amount = (
            1 + (n * 7_919) % 4_999_999 if CLASSES[n % 6] == "7" else 1 + (n * 104_729) % 90_000_000
        )
        rows.append(RegisterRow(f"FTX-{n:05d}", f"CUST-{n}", commit(f"email:{holder}"),
                                commit(f"name:{holder}"), ISOS[n % 5], CLASSES[n % 6], amount,
                                "disputed" if n % 97 == 0 else "allowed"))  # fmt: skip
    for start in range(0, CLAIMS, 128):
        chunk = tuple(rows[start : start + 128])
        commands.append((ImportClaims("ftx", commit("register:v1"), chunk), "admin"))
    for n in range(LINKED):
        name = f"c{n:05d}"
        key = SignerKey.from_seed(name, n.to_bytes(32, "big"))
        commands += [
            (RegisterActor(name, "creditor", key.verifier.to_text()), "gateway"),
            (ProveEmail(name, commit(f"email:{name}")), "gateway"),
            (SubmitKyc(name, "manual", f"case-{n}"), "gateway"),
            (DecideKyc(name, "approved", "manual", f"case-{n}", "", commit(f"name:{name}")),
             "kyc-officer"),
            (LinkClaim(f"FTX-{n:05d}", name), "gateway"),
        ]  # fmt: skip
    outcomes = container.log.submit_many(commands)
    refused = [o for o in outcomes if isinstance(o, Rejection)]
    assert not refused, refused[:3]
    container.close()
    return data


def executed_lines(data: Path, round_id: str) -> int:
    with sqlite3.connect(f"file:{data / 'reclaim.db'}?mode=ro", uri=True, timeout=5) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM ledger_transfers WHERE id LIKE ? AND id NOT LIKE ?",
            (f"d:{round_id}:%", "%:fx"),
        ).fetchone()
    return int(count)


def test_a_killed_execution_resumes_and_pays_every_line_once(tmp_path: Path) -> None:
    data = build_log(tmp_path)
    flags = ("--data-dir", "d")
    reclaim("distribute", "plan", "--ftx", *flags, cwd=tmp_path)
    for round_id in ("ftx-1", "ftx-2"):
        reclaim("distribute", "declare", round_id, "--ftx", *flags, cwd=tmp_path)
        reclaim("distribute", "fund", round_id, *flags, cwd=tmp_path)
        shown = reclaim("distribute", "preview", round_id, *flags, cwd=tmp_path).stdout
        assert "escrowed" in shown
        reclaim("distribute", "approve", round_id, *flags, cwd=tmp_path)
        if round_id == "ftx-1":
            reclaim("distribute", "execute", round_id, *flags, cwd=tmp_path)
    approved = (data / "rounds" / "ftx-2" / "lines.csv").read_text().count("\n") - 1
    assert approved > 3_000

    env = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "reclaim", "distribute", "execute", "ftx-2", "--group", "1",
         *flags],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while executed_lines(data, "ftx-2") < 640 and time.monotonic() < deadline:
        assert process.poll() is None, "execute finished before it could be killed"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    interrupted = executed_lines(data, "ftx-2")
    assert 0 < interrupted < approved, (interrupted, approved)

    resumed = reclaim("distribute", "execute", "ftx-2", *flags, cwd=tmp_path).stdout
    assert f"{interrupted:,} before" in resumed
    assert executed_lines(data, "ftx-2") == approved
    again = reclaim("distribute", "execute", "ftx-2", *flags, cwd=tmp_path).stdout
    assert "0 lines posted now" in again

    settings = Settings.from_env(data_dir=data, database_url=None).with_data_dir(data)
    container = bootstrap.build(settings)
    try:
        state = container.log.read(lambda s: s)
        progress = state.distribution.rounds["ftx-2"]
        assert progress.approval is not None
        assert progress.completed_at
        assert progress.executed_lines == progress.approval.lines == approved
        assert progress.executed_usd_minor == progress.approval.usd_total_minor
        funding = sum(r.funded_minor for r in state.distribution.rounds.values())
        pool = state.ledger.accounts["estate.ftx/USD/estate_pool"].available_minor
        assert sum(state.distribution.received.values()) + pool == funding
    finally:
        container.close()
    reclaim("export-log", "public", "--data-dir", "d", cwd=tmp_path)
    verified = reclaim("verify", "public", cwd=tmp_path).stdout
    assert "OK" in verified
