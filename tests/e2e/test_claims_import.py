"""The register import end to end: the operator's CLI on real files, the log, the PII vault.

The acceptance cases of issue 4 (items 1-3):

- a register with faults of every kind imports nothing, and the CLI's report names each fault
  (row, column, what is wrong); the log does not grow;
- a clean import, then the same file again: no new event; an amended file: explicit
  ``claims.amended`` events naming old and new values (and the claims it no longer lists
  expunged);
- a crash in the middle of the appends, then the same import again: it completes, with no claim
  imported twice;
- the exported log verifies; the vault holds the e-mails and names encrypted, and no leaf of the
  log holds any of them in plain text;
- the shipped FTX policy: a CN claim is unlisted before 2025-07-02 and restricted from then on;
  the report's numbers are exact on a small register.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pytest
from sqlalchemy import select

from reclaim import bootstrap
from reclaim.adapters.db import tables
from reclaim.adapters.db.store import SqlEventStore, open_store
from reclaim.adapters.files.estate_file import load_estate_file, shipped_estate
from reclaim.adapters.files.policy_file import load_policy_csv, shipped_policy
from reclaim.adapters.files.register_file import read_register
from reclaim.adapters.files.register_synthetic import synthetic_register, write_register_csv
from reclaim.adapters.keyfiles import init_keys
from reclaim.adapters.log_sources import open_source
from reclaim.adapters.vault import Commitments, SqlVault
from reclaim.app.claims_import import (
    EstateCreated,
    ImportReport,
    ImportSummary,
    PolicySet,
    create_estate,
    import_register,
    set_policy,
)
from reclaim.app.export import export_log
from reclaim.app.log_service import LogService, Outcome
from reclaim.app.ports import Clock
from reclaim.config import Settings
from reclaim.core.claims import claim_treatment, treatment
from reclaim.core.machine import Command, State
from reclaim.log.event import parse_leaf
from reclaim.verifier import VerifyReport, verify_log

pytestmark = pytest.mark.slow

_T = TypeVar("_T")
FTX_POLICY = "ftx_restricted_jurisdictions_2025"


# The CLI, as the operator runs it ---------------------------------------------------------------


def reclaim(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "250", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "reclaim", *args, "--data-dir", "d"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if check:
        assert done.returncode == 0, done.stderr + done.stdout
    return done


def log_size(root: Path) -> int:
    store = open_store(f"sqlite:///{root / 'd' / 'reclaim.db'}")
    try:
        return store.size()
    finally:
        store.close()


def events(root: Path, kind: str) -> list[dict[str, Any]]:
    """The payloads of every ``kind`` event in the log of ``root``."""
    store = open_store(f"sqlite:///{root / 'd' / 'reclaim.db'}")
    try:
        leaves = store.leaves(0, store.size())
    finally:
        store.close()
    found = [parse_leaf(leaf).event for leaf in leaves]
    return [dict(e.payload) for e in found if e.type == kind]


@pytest.fixture
def operator(tmp_path: Path) -> Path:
    """A data directory with keys and the FTX estate, made with the CLI."""
    reclaim("keys", "init", cwd=tmp_path)
    done = reclaim("estate", "create", "--ftx", cwd=tmp_path)
    assert "created estate ftx" in done.stdout
    return tmp_path


FAULTS_CSV = (
    # customer_code is missing from the header; each data row has one fault
    b"claim_id,email,holder_name,jurisdiction,class,admitted_usd,status\n"
    b"C-1,alice@example.com,Alice Smith,FR,5A,-5.00,allowed\n"  # row 1: negative amount
    b"C-2,bob@example.com,Bob Martin,XX,5A,10.00,allowed\n"  # row 2: unknown country
    b"C-3,carol@example.com,Carol Chen,DE,5A,10.00,allowed\n"
    b"C-3,dave@example.com,Dave Ivanov,DE,5A,10.00,allowed\n"  # row 4: duplicate claim id
    b"C-5,not-an-email,Erin Sato,JP,5A,10.00,allowed\n"  # row 5: bad e-mail
    b"C-6,frank@example.com,Frank Roy,GB,5A,12.345,allowed\n"  # row 6: fractional cents
    b"C-7,gus@example.com,Gus M\xfcller,CH,5A,10.00,allowed\n"  # row 7: Latin-1, not UTF-8
)


def test_a_register_with_faults_imports_nothing_and_the_report_names_each(
    operator: Path,
) -> None:
    (operator / "faults.csv").write_bytes(FAULTS_CSV)
    before = log_size(operator)
    done = reclaim("import-claims", "--estate", "ftx", "faults.csv", cwd=operator, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()

    def reported(row: str, column: str, code: str) -> bool:
        return any(
            [cell.strip() for cell in line.split("│")[1:4]] == [row, column, code] for line in lines
        )

    assert reported("file", "customer_code", "missing_column")
    assert reported("1", "admitted_usd", "negative_amount")
    assert reported("2", "jurisdiction", "unknown_jurisdiction")
    assert reported("4", "claim_id", "duplicate_claim_id")
    assert reported("5", "email", "invalid_email")
    assert reported("6", "admitted_usd", "fractional_cents")
    assert reported("file", "", "not_utf8")
    assert reported("7", "holder_name", "not_utf8")
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in done.stdout
    assert "repeats the claim id of row 3" in done.stdout
    assert "nothing was imported" in done.stderr
    assert "Traceback" not in done.stderr
    assert log_size(operator) == before


def test_same_file_twice_is_a_no_op_and_an_amended_file_makes_amendments(
    operator: Path,
) -> None:
    frame = synthetic_register(600, seed=7)
    write_register_csv(operator / "v1.csv", frame)
    first = reclaim("import-claims", "--estate", "ftx", "v1.csv", cwd=operator)
    assert "│ new claims             │ 600 " in first.stdout
    size = log_size(operator)
    assert len(events(operator, "claims.imported")) == 5  # 600 claims, 128 a event

    again = reclaim("import-claims", "--estate", "ftx", "v1.csv", cwd=operator)
    assert "nothing to do" in again.stdout
    assert "│ unchanged claims       │ 600 " in again.stdout
    assert log_size(operator) == size

    live = frame.filter(pl.col("status") != "expunged").head(3)
    ids, olds = live["claim_id"].to_list(), live["status"].to_list()
    old_cents = str(int(live["admitted_usd"][0].replace(".", "")))
    new_status = "disputed" if olds[1] != "disputed" else "allowed"
    amended = frame.with_columns(
        pl.when(pl.col("claim_id") == ids[0]).then(pl.lit("123.45"))
        .otherwise(pl.col("admitted_usd")).alias("admitted_usd"),
        pl.when(pl.col("claim_id") == ids[1]).then(pl.lit(new_status))
        .otherwise(pl.col("status")).alias("status"),
    ).filter(pl.col("claim_id") != ids[2])  # fmt: skip
    write_register_csv(operator / "v2.csv", amended)
    second = reclaim("import-claims", "--estate", "ftx", "v2.csv", cwd=operator)
    assert "│ amended claims         │ 2 " in second.stdout
    assert "│ expunged claims        │ 1 " in second.stdout
    assert log_size(operator) == size + 1
    (payload,) = events(operator, "claims.amended")
    by_claim = {(a["claim_id"], a["field"]): (a["old"], a["new"]) for a in payload["amendments"]}
    assert by_claim == {
        (ids[0], "admitted_minor"): (old_cents, "12345"),
        (ids[1], "status"): (olds[1], new_status),
        (ids[2], "status"): (olds[2], "expunged"),
    }
    assert len(payload["amendments"]) == 3
    assert len(events(operator, "claims.imported")) == 5  # nothing imported anew


def test_report_of_a_small_register_is_exact(operator: Path) -> None:
    (operator / "small.csv").write_text(
        "claim_id,customer_code,email,holder_name,jurisdiction,class,admitted_usd,status\n"
        "S-1,K1,wei@qq.com,王伟,CN,5A,100.00,allowed\n"
        "S-2,K1,wei@qq.com,王伟,CN,7,50.00,disputed\n"
        "S-3,K2,ivan@mail.ru,Ivan Petrov,RU,6A,25.00,filed\n"
        "S-4,K3,marie@example.fr,Marie Curie,FR,5A,1000.00,allowed\n"
        "S-5,K4,joe@example.com,Joe Bloggs,US,5B,10.00,scheduled\n"
        "S-6,K5,li@163.com,李娜,CN,5A,0,expunged\n",
        encoding="utf-8",
    )
    reclaim("import-claims", "--estate", "ftx", "small.csv", cwd=operator)
    assert "set 27 entries" in reclaim("policy", "set", "--ftx-2025", cwd=operator).stdout

    def report(on: str) -> dict[str, Any]:
        args = ("report", "--estate", "ftx", "--on", on, "--format", "json")
        parsed: dict[str, Any] = json.loads(reclaim(*args, cwd=operator).stdout)
        return parsed

    after = report("2025-07-02")
    assert after["total"] == {"claims": "6", "admitted_minor": "118500", "admitted": "1185.00"}
    assert after["owed"] == {"claims": "5", "admitted_minor": "118500", "admitted": "1185.00"}
    assert after["restricted"] == {
        "claims": "3", "admitted_minor": "17500", "admitted": "175.00",
        "share_of_owed_bps": "1477",  # 175 / 1185 = 14.768%
    }  # fmt: skip
    assert after["restricted_by_jurisdiction"] == [
        {"jurisdiction": "CN", "claims": "2", "admitted_minor": "15000", "admitted": "150.00",
         "share_of_restricted_bps": "8571"},  # 150 / 175 = 85.714%
        {"jurisdiction": "RU", "claims": "1", "admitted_minor": "2500", "admitted": "25.00",
         "share_of_restricted_bps": "1429"},
    ]  # fmt: skip
    assert [(c["jurisdiction"], c["status"], c["policy_status"], c["claims"],
             c["admitted_minor"]) for c in after["by_jurisdiction_status"]] == [
        ("CN", "allowed", "restricted", "1", "10000"),
        ("CN", "disputed", "restricted", "1", "5000"),
        ("CN", "expunged", "restricted", "1", "0"),
        ("FR", "allowed", "unlisted", "1", "100000"),
        ("RU", "filed", "restricted", "1", "2500"),
        ("US", "scheduled", "unlisted", "1", "1000"),
    ]  # fmt: skip
    before = report("2025-07-01")
    assert before["restricted"]["admitted_minor"] == "0"
    assert before["restricted"]["share_of_owed_bps"] == "0"
    assert before["restricted_by_jurisdiction"] == []

    table = reclaim("report", "--estate", "ftx", "--on", "2025-07-02", cwd=operator).stdout
    assert "in restricted jurisdictions $175.00 = 14.77% of owed" in table
    assert "mainland China (CN): $150.00 = 85.71% of restricted" in table
    csv_text = reclaim(
        "report", "--estate", "ftx", "--on", "2025-07-02", "--format", "csv", cwd=operator
    ).stdout
    assert csv_text.splitlines()[:2] == [
        "jurisdiction,status,policy_status,claims,admitted_minor,admitted",
        "CN,allowed,restricted,1,10000,100.00",
    ]
    shown = reclaim("policy", "show", "--on", "2025-07-02", cwd=operator).stdout
    assert "27 jurisdiction(s) listed" in shown
    none_yet = reclaim("policy", "show", "--on", "2025-07-01", cwd=operator).stdout
    assert "0 jurisdiction(s) listed" in none_yet


# In process: crash and resume, the vault, verification -------------------------------------------


@dataclass
class Wired:
    container: bootstrap.Container
    vault: SqlVault
    commitments: Commitments
    root: Path

    @property
    def log(self) -> LogService:
        return self.container.log

    def import_file(self, path: Path, log: Any = None, **options: Any) -> Any:
        return import_register(
            log or self.log, self.vault, self.commitments, "ftx", path, read=read_register,
            **options,
        )  # fmt: skip


@contextmanager
def wired(root: Path) -> Iterator[Wired]:
    settings = Settings.from_env({}, data_dir=root / "d")
    init_keys(settings.keys_dir, settings.origin)
    container = bootstrap.build(settings)
    try:
        vault, commitments = bootstrap.open_claims_vault(container)
        created = create_estate(container.log, load_estate_file(shipped_estate("ftx")))
        assert isinstance(created, EstateCreated), created
        yield Wired(container, vault, commitments, root)
    finally:
        container.close()


class SimulatedCrash(Exception):
    pass


class CrashingLog:
    """The log service, but the process "dies" after ``appends`` more commands are stored."""

    def __init__(self, log: LogService, appends: int) -> None:
        self._log = log
        self._left = appends

    @property
    def clock(self) -> Clock:
        return self._log.clock

    def read(self, query: Callable[[State], _T]) -> _T:
        return self._log.read(query)

    def submit_many(self, commands: Iterable[tuple[Command, str]]) -> list[Outcome]:
        batch = list(commands)
        if len(batch) <= self._left:
            self._left -= len(batch)
            return self._log.submit_many(batch)
        self._log.submit_many(batch[: self._left])
        raise SimulatedCrash(f"after {self._left} of {len(batch)} commands")


def imported_ids(log: LogService) -> list[str]:
    """Every claim id of every ``claims.imported`` event, in log order."""
    leaves = log.store.leaves(0, log.size)
    found = [parse_leaf(leaf).event for leaf in leaves]
    return [
        str(claim["claim_id"])  # type: ignore[index, call-overload]
        for e in found if e.type == "claims.imported"
        for claim in e.payload["claims"]  # type: ignore[union-attr]
    ]  # fmt: skip


def test_a_crashed_import_resumes_and_imports_each_claim_once(tmp_path: Path) -> None:
    write_register_csv(tmp_path / "r.csv", synthetic_register(1000, seed=3))
    with wired(tmp_path) as w:
        # chunks of 256 claims = 2 commands each; the crash comes after 5 commands (640 claims)
        crashing = CrashingLog(w.log, appends=5)
        with pytest.raises(SimulatedCrash):
            w.import_file(tmp_path / "r.csv", log=crashing, chunk_claims=256)
        assert len(imported_ids(w.log)) == 640
        # the chunk being written had its PII put in the vault first: at worst unused entries
        assert w.vault.get("claim:FTX-000000767").text("email")

        resumed = w.import_file(tmp_path / "r.csv", chunk_claims=256)
        assert isinstance(resumed, ImportSummary), resumed
        assert (resumed.new_claims, resumed.unchanged_claims) == (360, 640)
        assert resumed.events_appended == 3  # 128 + 128 + 104
        ids = imported_ids(w.log)
        assert len(ids) == len(set(ids)) == 1000
        assert w.log.read(lambda s: len(s.claims.claims)) == 1000

        again = w.import_file(tmp_path / "r.csv")
        assert isinstance(again, ImportSummary)
        assert (again.events_appended, again.unchanged_claims) == (0, 1000)


def test_the_log_verifies_and_holds_no_personal_data_in_plain_text(tmp_path: Path) -> None:
    frame = synthetic_register(400, seed=11)
    write_register_csv(tmp_path / "r.csv", frame)
    with wired(tmp_path) as w:
        summary = w.import_file(tmp_path / "r.csv")
        assert isinstance(summary, ImportSummary), summary
        assert summary.vault_subjects == 400
        policy = load_policy_csv(shipped_policy(FTX_POLICY))
        assert isinstance(policy, list)
        assert isinstance(set_policy(w.log, policy), PolicySet)
        w.log.publish_checkpoint()
        exported = tmp_path / "public"
        export_log(w.log.store, w.log.state, exported)
        verified = verify_log(open_source(str(exported)), workers=0)
        assert isinstance(verified, VerifyReport), verified

        # the vault: the e-mail and the name as given, encrypted at rest
        first = frame.row(0, named=True)
        record = w.vault.get("claim:" + first["claim_id"])
        assert record.text("email") == first["email"]
        assert record.text("holder_name") == first["holder_name"]
        store = w.container.store
        assert isinstance(store, SqlEventStore)
        with store.engine.connect() as connection:
            stored = connection.execute(select(tables.pii_fields.c.ciphertext)).scalars().all()
        assert len(stored) == 800
        assert not any(first["email"].encode() in bytes(c) for c in stored)

        # the log: commitments only
        public_bytes = b"".join(p.read_bytes() for p in exported.rglob("*") if p.is_file())
        texts = set(frame["email"].to_list()) | set(frame["holder_name"].to_list())
        for text in texts:
            for form in (text, text.lower(), json.dumps(text)[1:-1]):
                assert form.encode() not in public_bytes, f"{text!r} is in the public log"
        email_commitment = w.commitments.commit("email", first["email"].lower())
        assert email_commitment.encode() in public_bytes


def test_the_shipped_policy_restricts_mainland_china_from_2025_07_02(tmp_path: Path) -> None:
    entries = load_policy_csv(shipped_policy(FTX_POLICY))
    assert isinstance(entries, list)
    assert len(entries) == 27
    assert {e.status for e in entries} == {"restricted"}
    assert {e.effective_date for e in entries} == {"2025-07-02"}
    assert all(e.rails == () and e.source.startswith("https://") for e in entries)
    (tmp_path / "cn.csv").write_text(
        "claim_id,customer_code,email,holder_name,jurisdiction,class,admitted_cents,status\n"
        "CN-1,K1,wei@qq.com,王伟,CN,5A,1000000,allowed\n",
        encoding="utf-8",
    )
    with wired(tmp_path) as w:
        assert isinstance(w.import_file(tmp_path / "cn.csv"), ImportSummary)
        outcome = set_policy(w.log, entries)
        assert isinstance(outcome, PolicySet), outcome
        assert (outcome.entries_set, outcome.events_appended) == (27, 1)
        repeat = set_policy(w.log, entries)
        assert isinstance(repeat, PolicySet), repeat
        assert (repeat.entries_set, repeat.entries_unchanged, repeat.events_appended) == (0, 27, 0)

        def on(day: str) -> Any:
            return w.log.read(lambda s: claim_treatment(s.claims, "CN-1", day))

        assert on("2025-07-01") is None  # unlisted: no entry in force yet
        in_force = on("2025-07-02")
        assert in_force is not None
        assert (in_force.iso, in_force.status, in_force.rails) == ("CN", "restricted", ())
        assert on("2026-01-01") == in_force
        assert w.log.read(lambda s: treatment(s.claims, "FR", "2026-01-01")) is None


def test_an_unknown_estate_or_a_class_the_estate_lacks_is_refused(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(
        "claim_id,customer_code,email,holder_name,jurisdiction,class,admitted_cents,status\n"
        "X-1,K1,a@example.com,A B,FR,9Z,100,allowed\n",
        encoding="utf-8",
    )
    with wired(tmp_path) as w:
        size = w.log.size
        unknown = import_register(
            w.log, w.vault, w.commitments, "nope", tmp_path / "r.csv", read=read_register
        )
        assert isinstance(unknown, ImportReport)
        assert (unknown.stage, unknown.faults[0].code) == ("estate", "estate_not_found")
        refused = w.import_file(tmp_path / "r.csv")
        assert isinstance(refused, ImportReport)
        assert refused.stage == "file"
        faults = [(f.row, f.column, f.code) for f in refused.faults]
        assert faults == [(1, "class", "unknown_class")]
        assert w.log.size == size


def test_a_changed_email_is_amended_by_commitment_and_put_in_the_vault(tmp_path: Path) -> None:
    header = "claim_id,customer_code,email,holder_name,jurisdiction,class,admitted_cents,status\n"
    (tmp_path / "v1.csv").write_text(
        header + "E-1,K1,old@example.com,Ann Lee,FR,5A,100,allowed\n"
        "E-2,K2,two@example.com,Bo Chen,DE,5A,200,allowed\n",
        encoding="utf-8",
    )
    (tmp_path / "v2.csv").write_text(
        header + "E-1,K1,New@Example.com,Ann Lee,FR,5A,100,allowed\n", encoding="utf-8"
    )
    (tmp_path / "v3.csv").write_text(
        header + "E-3,K3,three@example.com,Cy Dee,JP,5B,300,filed\n", encoding="utf-8"
    )
    with wired(tmp_path) as w:
        assert isinstance(w.import_file(tmp_path / "v1.csv"), ImportSummary)
        changed = w.import_file(tmp_path / "v2.csv")
        assert isinstance(changed, ImportSummary), changed
        assert (changed.amended_claims, changed.expunged_claims) == (1, 1)
        assert changed.vault_subjects == 1
        assert w.vault.get("claim:E-1").text("email") == "New@Example.com"
        leaves = [parse_leaf(leaf).event for leaf in w.log.store.leaves(0, w.log.size)]
        (amended,) = [e.payload for e in leaves if e.type == "claims.amended"]
        assert amended["amendments"] == [
            {
                "claim_id": "E-1", "field": "email_commitment",
                "old": w.commitments.commit("email", "old@example.com"),
                "new": w.commitments.commit("email", "new@example.com"),
            },
            {"claim_id": "E-2", "field": "status", "old": "allowed", "new": "expunged"},
        ]  # fmt: skip
        supplement = w.import_file(tmp_path / "v3.csv", full_schedule=False)
        assert isinstance(supplement, ImportSummary), supplement
        assert (supplement.new_claims, supplement.expunged_claims) == (1, 0)
        assert w.log.read(lambda s: s.claims.claims["E-1"].status) == "allowed"


def test_a_claim_of_another_estate_refuses_the_plan(tmp_path: Path) -> None:
    header = "claim_id,customer_code,email,holder_name,jurisdiction,class,admitted_cents,status\n"
    (tmp_path / "ftx.csv").write_text(
        header + "X-1,K1,a@example.com,A B,FR,5A,100,allowed\n", encoding="utf-8"
    )
    (tmp_path / "other.csv").write_text(
        header + "Y-1,K1,b@example.com,B C,FR,cust,100,allowed\n"
        "X-1,K1,a@example.com,A B,FR,cust,100,allowed\n",
        encoding="utf-8",
    )
    (tmp_path / "other.json").write_text(
        json.dumps(
            {
                "estate_id": "other",
                "name": "Other Estate",
                "petition_date": "2022-07-13",
                "classes": [{"code": "cust", "name": "Customers", "priority": 1}],
            }
        )
    )
    with wired(tmp_path) as w:
        assert isinstance(w.import_file(tmp_path / "ftx.csv"), ImportSummary)
        other = create_estate(w.log, load_estate_file(tmp_path / "other.json"))
        assert isinstance(other, EstateCreated)
        size = w.log.size
        refused = import_register(
            w.log, w.vault, w.commitments, "other", tmp_path / "other.csv", read=read_register
        )
        assert isinstance(refused, ImportReport), refused
        assert refused.stage == "plan"
        assert [(f.row, f.column, f.code) for f in refused.faults] == [
            (2, "claim_id", "claim_in_other_estate")
        ]
        assert refused.lines() == [
            "row 2, claim_id: claim 'X-1': claim in other estate (ftx)",
        ]
        assert w.log.size == size
