"""The whole story of the bond market in one scenario (issue 11, acceptance), end to end.

A creditor in mainland China (mei, class-5A claim C-mei of $100,000.00 — restricted, so the
estate would escrow her distributions) converts it with ``reclaim notes convert`` and sells
notes on the book; a buyer in France (jean) buys them with the PyPI client ``bpx-py``
(unchanged but for its base URL) against a real ``reclaim serve`` on loopback; a distribution
round pays the holding entity as holder of record; ``reclaim notes pass-through`` splits it by
the record date's holdings; every cent reconciles; the exported log verifies with ``reclaim
verify``, which reports the traders' signatures it checked::

    today       the operator: policy (CN restricted, FR open), estate ftx (5A), register
                C-mei (CN, mei)  $100,000.00   converted              → the holding entity
                C-lin (CN, lin)   $20,000.00   not converted          → escrow (restricted)
                C-paul (FR, paul) $30,000.00                          → paul
                C-anon (JP)        $5,000.00   never linked           → escrow (unlinked)
                jean deposits $50,000.00; reclaim notes series FTX5A; reclaim market open
                reclaim notes convert C-mei (Form 2100A PDF; claim.assigned filed today)
                bpx-py: mei asks 30,000.00 face at 0.72; jean bids 30,000.00 at 0.75 → filled
                at 0.72 ($21,600.00); mei asks 1,000.00 more at 0.90 (rests: locked notes
                still count at the record date)
    today + 21  round r1's record date (the holding entity is holder of record: filed 21 days
                before); the round runs after it (the operator's clock is 22 days later)
    today + 22  round r1: 5A at 20% (cumulative), funded $100,000.00; pass-through of what
                r1 paid the holding entity for FTX5A at the last event of the record date
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import pytest
from bpx.account import Account as BpxAccount
from tests.support.bond_market_world import DEPOSIT_MINOR, key, run_round, seed, world
from tests.support.serving import serving

from reclaim import bootstrap
from reclaim.app.notes import PassedView
from reclaim.app.refusals import Refused
from reclaim.config import Settings
from reclaim.core.distribution.model import ClassRound, Round
from reclaim.core.distribution.rounds import pool_id
from reclaim.core.rejections import Rejection

pytestmark = pytest.mark.slow
SYMBOL: Final = "FTX5A_USD"
SERIES: Final = "FTX5A"
NOTE: Final = "NOTE-FTX5A"
HOLDING: Final = "programme"
START_SECONDS: Final = 60
FUNDING_MINOR: Final = 10_000_000
TODAY: Final = datetime.now(UTC).date()
RECORD: Final = (TODAY + timedelta(days=21)).isoformat()
PAYMENT: Final = (TODAY + timedelta(days=21)).isoformat()


def bpx(base: str, name: str) -> BpxAccount:
    public = base64.b64encode(key(name).verifier.public_key).decode()
    account = BpxAccount(public, base64.b64encode(seed(name)).decode())
    account.BPX_API_URL = base + "/"
    return account


def reclaim(*args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "reclaim", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env=os.environ | {"COLUMNS": "200"})  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


@dataclass(frozen=True, slots=True)
class Later:
    """The operator's clock ``days`` after the system clock (the round runs after its record
    date; event times only move forward)."""

    days: int

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(days=self.days)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    reclaim("keys", "init", "--data-dir", "d", cwd=tmp_path)
    opened = bootstrap.build(Settings.from_env({}, data_dir=tmp_path / "d"))
    try:
        for outcome in opened.log.submit_many(world()):
            assert not isinstance(outcome, Rejection), outcome
    finally:
        opened.close()
    return tmp_path


@contextmanager
def serve(data_dir: Path) -> Iterator[str]:
    """A real ``reclaim serve`` on a free loopback port; its base URL once it answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    with serving(data_dir, data_dir.parent / "serve.log", env, START_SECONDS) as url:
        yield url


def usd_of(opened: bootstrap.Container, owner: str) -> int:
    found = opened.log.state.ledger.accounts.get(f"{owner}/USD/creditor_available")
    return 0 if found is None else found.available_minor


def test_a_restricted_creditor_sells_notes_and_the_buyer_is_paid_through(root: Path) -> None:
    d = str(root / "d")
    # The operator: a series, a market, the conversion with its Form 2100A.
    assert "FTX5A: defined" in reclaim("notes", "series", SERIES, "--class", "5A",
                                       "--data-dir", d, cwd=root)  # fmt: skip
    assert "FTX5A_USD: Open" in reclaim("market", "open", SYMBOL, "--data-dir", d, cwd=root)
    said = reclaim("notes", "convert", "C-mei", "--series", SERIES, "--creditor", "mei",
                   "--out", str(root / "forms"), "--data-dir", d, cwd=root)  # fmt: skip
    assert "10,000,000 NOTE-FTX5A ($100,000.00 of face) to mei" in said
    pdf = (root / "forms" / "form-2100a-C-mei.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")

    # The market, through the real server: mei sells with bpx-py, jean buys with bpx-py.
    with serve(root / "d") as base:
        trade(base)
    book = reclaim("market", "book", SYMBOL, "--json", "--data-dir", d, cwd=root)
    assert '"price": "0.90"' in book
    trades = reclaim("market", "trades", SYMBOL, "--data-dir", d, cwd=root)
    assert "21600.00" in trades
    pass_through(root)
    # What the operator's command line shows of it afterwards (reads only).
    holders = json.loads(reclaim("notes", "holders", SERIES, "--record-date", RECORD, "--json",
                                 "--data-dir", d, cwd=root))  # fmt: skip
    assert holders["holders"] == [
        {"holder": "jean", "notes": "3000000", "face": "$30,000.00"},
        {"holder": "mei", "notes": "7000000", "face": "$70,000.00"},
    ]
    (series,) = json.loads(reclaim("notes", "series", "--json", "--data-dir", d, cwd=root))
    assert (series["passed_through"], series["conversions"]) == ("20000.00", 1)
    public = root / "public-log"
    reclaim("export-log", str(public), "--data-dir", d, cwd=root)
    verified = reclaim("verify", str(public), cwd=root)
    found = re.search(r"([0-9,]+) traders' signatures", verified)
    assert found is not None, verified
    assert int(found.group(1).replace(",", "")) == 3, "mei's two asks and jean's bid"


def trade(base: str) -> None:
    mei, jean = bpx(base, "mei"), bpx(base, "jean")
    ask = mei.execute_order(SYMBOL, "Ask", "Limit", quantity="30000.00", price="0.72",
                            time_in_force="GTC")  # fmt: skip
    assert ask["status"] == "New", ask
    bid = jean.execute_order(SYMBOL, "Bid", "Limit", quantity="30000.00", price="0.75")
    assert bid["status"] == "Filled", bid
    assert (bid["executedQuantity"], bid["executedQuoteQuantity"]) == ("30000.00", "21600.00")
    resting = mei.execute_order(SYMBOL, "Ask", "Limit", quantity="1000.00", price="0.90")
    assert resting["status"] == "New", resting
    balances = jean.get_balances()
    assert balances[NOTE]["available"] == "3000000"  # note units: cents of face
    assert balances["USD"]["available"] == "28400.00"
    assert mei.get_balances()[NOTE]["locked"] == "100000"


def pass_through(root: Path) -> None:
    """The operator's clock past the record date: the round, then its pass-through."""
    opened = bootstrap.build(Settings.from_env({}, data_dir=root / "d"), clock=Later(22))
    try:
        opened.log.start()
        r1 = Round("r1", "ftx", RECORD, PAYMENT, (ClassRound("5A", "percent", 2000),),
                   FUNDING_MINOR)  # fmt: skip
        mei_before, jean_before = usd_of(opened, "mei"), usd_of(opened, "jean")
        assert (mei_before, jean_before) == (2_160_000, DEPOSIT_MINOR - 2_160_000)
        run_round(opened, r1)
        state = opened.log.state
        # The round: 20% of every allowed claim; the holding entity is C-mei's holder of record.
        paid_to = {
            t.transfer.credit_account_id: t.transfer.amount_minor
            for t in state.ledger.transfers.values() if t.transfer.id.startswith("d:r1:")
        }  # fmt: skip
        assert paid_to == {
            f"{HOLDING}/USD/creditor_available": 2_000_000,
            "paul/USD/creditor_available": 600_000,
            "claim:C-lin/USD/claim_escrow": 400_000,
            "claim:C-anon/USD/claim_escrow": 100_000,
        }
        paid = sum(v for k, v in paid_to.items() if k.endswith("creditor_available"))
        escrowed = sum(v for k, v in paid_to.items() if k.endswith("claim_escrow"))
        pool = state.ledger.accounts[pool_id("ftx")].available_minor
        assert FUNDING_MINOR == paid + escrowed + pool == 2_600_000 + 500_000 + 6_900_000

        notes = opened.notes()
        record = notes.record_position(RECORD)
        assert isinstance(record, int)
        assert state.distribution.rounds["r1"].round.declared_at > RECORD
        held = notes.holders(SERIES, record)
        assert held == {"jean": 3_000_000, "mei": 7_000_000}, "locked notes count"
        assert notes.received(SERIES, "r1") == 2_000_000
        passed = notes.pass_through(SERIES, "r1")
        assert isinstance(passed, PassedView), passed
        assert passed.record_sequence == record
        assert passed.allocation == (("jean", 600_000), ("mei", 1_400_000))
        assert usd_of(opened, "jean") - jean_before == 600_000
        assert usd_of(opened, "mei") - mei_before == 1_400_000
        again = notes.pass_through(SERIES, "r1")
        assert isinstance(again, PassedView)
        assert again.seq is None, "recorded once"
        # Series received = passed through; the holding entity keeps nothing.
        assert opened.log.state.notes.passed_minor[SERIES] == 2_000_000
        assert usd_of(opened, HOLDING) == 0
        not_yet = notes.record_position((TODAY + timedelta(days=40)).isoformat())
        assert isinstance(not_yet, Refused)
        assert not_yet.name == "record_date_not_passed"
        opened.log.publish_checkpoint()
    finally:
        opened.close()
