"""``reclaim market`` and ``reclaim notes`` as an operator runs them, on a fresh data directory.

The world is the bond market story's (``test_bond_market_story.world``: CN creditors mei and
lin, paul in France, an unlinked claim, the buyer jean with cash, a plan for class 5A). Each
command runs through the CLI's Typer app; the exit codes are 0 done, 1 refused (the core's or
the service's code), 2 bad usage. The round ``r1`` (record date 30 days ago, declared today)
pays the holding entity for the claim mei converted with a transfer dated 60 days ago.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import pytest
from tests.support.bond_market_world import run_round, world
from typer.testing import CliRunner, Result

from reclaim import bootstrap
from reclaim.config import Settings
from reclaim.core.distribution.model import ClassRound, Round
from reclaim.core.rejections import Rejection
from reclaim.entrypoints.cli.app import app

pytestmark = pytest.mark.slow
TODAY: Final = datetime.now(UTC).date()
SYMBOL: Final = "FTX5A_USD"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "d"
    assert cli("keys", "init", "--data-dir", str(d)).exit_code == 0
    opened = bootstrap.build(Settings.from_env({}, data_dir=d))
    try:
        for outcome in opened.log.submit_many(world()):
            assert not isinstance(outcome, Rejection), outcome
    finally:
        opened.close()
    return d


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})


def run(data_dir: Path, *args: str, code: int = 0) -> Result:
    done = cli(*args, "--data-dir", str(data_dir))
    assert done.exit_code == code, (done.exit_code, done.output)
    return done


def as_json(done: Result) -> object:
    return json.loads(done.stdout)


def test_market_commands(data_dir: Path) -> None:
    assert "no markets" in run(data_dir, "market", "list").stdout
    bad = run(data_dir, "market", "open", "FTX5A-EUR", code=2)
    assert "a symbol is <series>_USD" in bad.output
    assert "FTX5A_USD: Open" in run(data_dir, "market", "open", SYMBOL).stdout
    assert "Open (already)" in run(data_dir, "market", "open", SYMBOL).stdout
    assert "CancelOnly" in run(data_dir, "market", "halt", SYMBOL).stdout
    (listed,) = as_json(run(data_dir, "market", "list", "--json"))  # type: ignore[misc]
    assert listed == {
        "symbol": SYMBOL, "series": "FTX5A", "status": "CancelOnly", "tick": "0.01",
        "step": "1.00", "best_bid": "", "best_ask": "", "resting_orders": 0, "trades": 0,
        "last_price": "",
    }  # fmt: skip
    book = as_json(run(data_dir, "market", "book", SYMBOL, "--json"))
    assert isinstance(book, dict)
    assert book["levels"] == []
    assert "no trades on FTX5A_USD" in run(data_dir, "market", "trades", SYMBOL).stdout
    missing = run(data_dir, "market", "book", "NOPE_USD", code=1)
    assert "no market 'NOPE_USD'" in missing.output
    odd = run(data_dir, "market", "open", "FTX6_USD", "--step-notes", "1", "--price-decimals",
              "4", code=1)  # fmt: skip
    assert "refused lot_cash_not_whole" in odd.output, "a tick on a step is not whole cents"
    table = run(data_dir, "market", "list").stdout
    assert SYMBOL in table
    assert "FTX6_USD" not in table, "a refused listing changes nothing"


def test_notes_commands_from_series_to_pass_through(data_dir: Path, tmp_path: Path) -> None:
    assert "no series" in run(data_dir, "notes", "series").stdout
    run(data_dir, "notes", "series", "FTX5A", code=2)
    unknown = run(data_dir, "notes", "series", "FTX5A", "--class", "9", code=1)
    assert "refused class_unknown" in unknown.output
    assert "FTX5A: defined" in run(data_dir, "notes", "series", "FTX5A", "--class", "5A").stdout
    assert "defined already" in run(data_dir, "notes", "series", "FTX5A", "--class", "5A").stdout
    key = data_dir / "keys" / "programme.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    convert = ("notes", "convert", "--series", "FTX5A", "--out", str(tmp_path / "forms"))
    unlinked = run(data_dir, *convert, "C-anon", "--creditor", "mei", code=1)
    assert "refused claim_not_linked" in unlinked.output
    other = run(data_dir, *convert, "C-lin", "--creditor", "mei", code=1)
    assert "refused claim_linked_to_other" in other.output
    transfer = (TODAY - timedelta(days=60)).isoformat()
    done = run(data_dir, *convert, "C-mei", "--creditor", "mei", "--date", transfer)
    assert "10,000,000 NOTE-FTX5A ($100,000.00 of face) to mei; holder of record programme" in (
        " ".join(done.stdout.split())
    )
    assert (tmp_path / "forms" / "form-2100a-C-mei.pdf").read_bytes().startswith(b"%PDF-")
    again = run(data_dir, *convert, "C-mei", "--creditor", "mei", code=1)
    assert "refused claim_already_assigned" in again.output
    held = as_json(run(data_dir, "notes", "holders", "FTX5A", "--json"))
    assert isinstance(held, dict)
    assert held["holders"] == [{"holder": "mei", "notes": "10000000", "face": "$100,000.00"}]
    beyond = run(data_dir, "notes", "holders", "FTX5A", "--at", "1000000", code=1)
    assert "refused position_out_of_range" in beyond.output
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    early = run(data_dir, "notes", "holders", "FTX5A", "--record-date", tomorrow, code=1)
    assert "refused record_date_not_passed" in early.output

    record = (TODAY - timedelta(days=30)).isoformat()
    opened = bootstrap.build(Settings.from_env({}, data_dir=data_dir))
    try:
        opened.log.start()
        run_round(opened, Round("r1", "ftx", record, record, (ClassRound("5A", "percent", 2000),),
                                10_000_000))  # fmt: skip
        position = opened.log.size - 1
    finally:
        opened.close()
    nothing = run(data_dir, "notes", "pass-through", "FTX5A", "--round", "r9", code=1)
    assert "refused round_not_found" in nothing.output
    before = run(data_dir, "notes", "pass-through", "FTX5A", "--round", "r1", code=1)
    assert "refused record_date_before_log" in before.output
    passed = as_json(run(data_dir, "notes", "pass-through", "FTX5A", "--round", "r1",
                         "--record-seq", str(position), "--json"))  # fmt: skip
    assert isinstance(passed, dict)
    assert (passed["amount"], passed["record_date"]) == ("20000.00", record)
    assert passed["allocation"] == [{"holder": "mei", "usd": "20000.00"}]
    (series,) = as_json(run(data_dir, "notes", "series", "--json"))  # type: ignore[misc]
    assert (series["passed_through"], series["face"], series["conversions"]) == (
        "20000.00", "$100,000.00", 1,
    )  # fmt: skip
    repeat = run(data_dir, "notes", "pass-through", "FTX5A", "--round", "r1", "--record-seq",
                 str(position))  # fmt: skip
    assert "passed through already" in repeat.stdout


def test_the_demo_runs_a_market_whose_log_verifies(tmp_path: Path) -> None:
    """``reclaim demo``'s bond market: conversions with their Form 2100A, signed orders on both
    sides, trades, a pass-through; ``reclaim verify`` checks every trader's signature."""
    done = subprocess.run(
        [sys.executable, "-m", "reclaim", "demo", "--no-serve", "--creditors", "300",
         "--data-dir", "d"], cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env=os.environ | {"COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    text = " ".join(done.stdout.split())
    found = re.search(r"market: 4 note series, (\d+) claims converted by restricted creditors, "
                      r"(\d+) signed orders, (\d+) trades, (\d+) resting", text)  # fmt: skip
    assert found is not None, text
    conversions, orders, trades, resting = (int(g) for g in found.groups())
    assert conversions > 0
    assert trades > 0
    assert resting > 0
    signatures = re.search(r"OK .* ([0-9,]+) traders' signatures", text)
    assert signatures is not None, text
    assert int(signatures.group(1).replace(",", "")) == orders
    assert len(list((tmp_path / "d" / "forms").glob("form-2100a-*.pdf"))) == conversions
    assert "pass-through ftx-3: $" in text
    d = tmp_path / "d"
    markets = as_json(run(d, "market", "list", "--json"))
    assert isinstance(markets, list)
    assert any(m["best_bid"] for m in markets), "bids rest"
    assert any(m["best_ask"] for m in markets), "asks rest"
    series = as_json(run(d, "notes", "series", "--json"))
    assert isinstance(series, list)
    assert sum(s["conversions"] for s in series) == conversions
    assert any(s["passed_through"] != "0.00" for s in series)
