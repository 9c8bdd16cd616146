"""``reclaim withdrawals`` as an operator runs it: a real process on a fresh data directory.

A fresh log has no accounts, creditors or terms, so this checks the wiring end to end (keys,
store, vault, batch book, the shipped terms file, the statement readers) and the exit codes;
the flows with money are the API and scenario tests'.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

pytestmark = pytest.mark.slow

DATA: Final = Path(__file__).resolve().parents[1] / "data" / "withdrawals"
DEBTOR: Final = ("--debtor-name", "Reclaim SAS", "--debtor-iban", "DE89370400440532013000",
                 "--debtor-bic", "COBADEFFXXX")  # fmt: skip


def reclaim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "reclaim", *args, "--data-dir", "d"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_withdrawals_cli_on_a_fresh_log(tmp_path: Path) -> None:
    keys = subprocess.run(
        [sys.executable, "-m", "reclaim", "keys", "init", "--data-dir", "d"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert keys.returncode == 0, keys.stderr
    terms = reclaim("withdrawals", "set-fees", "--ftx-eu", cwd=tmp_path)
    assert terms.returncode == 1
    assert "refused settlement_account_invalid: terms of rail 'sepa'" in terms.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[rails.sepa]\nasset = "EUR"\n')
    refused = reclaim("withdrawals", "set-fees", str(bad), cwd=tmp_path)
    assert refused.returncode == 1
    assert "sepa: unknown keys [], missing keys" in refused.stderr
    listed = reclaim("withdrawals", "list", cwd=tmp_path)
    assert (listed.returncode, listed.stdout.strip()) == (0, "no withdrawals")
    statement = reclaim("withdrawals", "reconcile", str(DATA / "statement.csv"), "--json",
                        cwd=tmp_path)  # fmt: skip
    assert statement.returncode == 1
    assert statement.stdout.count('"kind": "unknown_reference"') == 8
    assert "8 line(s) need a person" in statement.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text("booking_date,amount,currency,end_to_end_id\n2025-06-04,-1.005,EUR,W1\n")
    unreadable = reclaim("withdrawals", "reconcile", str(broken), cwd=tmp_path)
    assert unreadable.returncode == 1
    assert "line 1: amount: '-1.005' has 3 decimal places; EUR allows 2" in unreadable.stderr
    export = reclaim("withdrawals", "export-sepa", "--out", "out", *DEBTOR, cwd=tmp_path)
    assert (export.returncode, export.stdout.strip()) == (0, "no sepa withdrawal is waiting")
    no_debtor = reclaim("withdrawals", "export-sepa", "--out", "out", cwd=tmp_path)
    assert no_debtor.returncode == 2
    request = reclaim("withdrawals", "request", "--creditor", "alice", "--rail", "sepa",
                      "--amount", "10.001", "--iban", "FR7630006000011234567890189",
                      cwd=tmp_path)  # fmt: skip
    assert request.returncode == 2
    assert "'10.001' has 3 decimal places; EUR allows 2" in request.stderr
    swept = reclaim("withdrawals", "sweep", cwd=tmp_path)
    assert (swept.returncode, swept.stdout.strip()) == (0, "0 reservation(s) expired")


def test_destination_commands_on_a_fresh_log(tmp_path: Path) -> None:
    """Issue 9, finding 7: an operator's withdrawal goes to a confirmed destination too; the
    commands are wired (vault, code store, outbox) and refuse what they must."""
    keys = subprocess.run(
        [sys.executable, "-m", "reclaim", "keys", "init", "--data-dir", "d"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert keys.returncode == 0, keys.stderr
    listed = reclaim("withdrawals", "destinations", "--creditor", "alice", cwd=tmp_path)
    assert (listed.returncode, listed.stdout.strip()) == (0, "no destinations")
    added = reclaim("withdrawals", "destination-add", "--creditor", "alice", "--rail", "sepa",
                    "--iban", "FR7630006000011234567890189", cwd=tmp_path)  # fmt: skip
    assert added.returncode == 1
    assert "refused email_not_on_file" in added.stderr
    bad = reclaim("withdrawals", "destination-add", "--creditor", "alice", "--rail", "sepa",
                  "--iban", "FR7630006000011234567890188", cwd=tmp_path)  # fmt: skip
    assert (bad.returncode, "refused iban_invalid" in bad.stderr) == (1, True)
    confirm = reclaim("withdrawals", "destination-confirm", "D" + "0" * 32, "12345678",
                      "--creditor", "alice", cwd=tmp_path)  # fmt: skip
    assert confirm.returncode == 1
    assert "refused destination_not_found" in confirm.stderr
    both = reclaim("withdrawals", "request", "--creditor", "alice", "--rail", "sepa",
                   "--amount", "10.00", "--iban", "FR7630006000011234567890189",
                   "--destination", "D" + "0" * 32, cwd=tmp_path)  # fmt: skip
    assert both.returncode == 2
    assert "give --destination or the account, not both" in both.stderr
    by_id = reclaim("withdrawals", "request", "--creditor", "alice", "--rail", "sepa",
                    "--amount", "10.00", "--destination", "D" + "0" * 32, cwd=tmp_path)  # fmt: skip
    assert by_id.returncode == 1
    assert "refused destination_not_found" in by_id.stderr
