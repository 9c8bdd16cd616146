"""The whole story of a converted claim, through the real machine and the distribution service:
a restricted creditor converts, sells notes on the book, the holding entity is paid as holder
of record (an escrow released "converted_to_notes", then a round), and every payment passes
through to the note holders at its record position; every cent reconciles and the log replays.

The world is ``tests/support/distribution_world.py`` (estate ftx, plan, alice's C1: class 5A,
$100,000.00 admitted, jurisdiction CN — restricted; ``programme`` is the holding entity)::

    2025-01-02  round r0 (5A at 10%, record 2025-01-03): C1's share waits in escrow (restricted)
    2025-02-01  alice converts C1: 10,000,000 NOTE-FTX5A; the admin files the transfer
                (claim.assigned alice → programme, with the evidence's SHA-256)
    2025-02-02  alice sells 25,000 steps ($25,000.00 of face) to bob at 0.72
    2025-02-25  the 21-day window has run: C1's escrow is released to programme
                (converted_to_notes) and passed through at that position (alice 3/4, bob 1/4)
    2025-03-10  alice sells 5,000 steps more to bob (before r2's record date)
    2025-04-12  after the record date bob buys 5,000 steps more: not counted for r2
    round r2 (5A at 72% cumulative, record 2025-04-11) pays programme; passed through at the
    record position (alice 7/10, bob 3/10)
"""

from __future__ import annotations

import hashlib
from typing import Final

from reclaim.app import distributions as app
from reclaim.app.log_service import Accepted
from reclaim.core.distribution.commands import AssignClaim, ReleaseEscrow
from reclaim.core.distribution.model import ClassRound, Round
from reclaim.core.distribution.payloads import LINES_HEADER
from reclaim.core.distribution.state import Line
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
)
from reclaim.core.market import (
    ListMarket,
    MarketStatus,
    OrderRequest,
    OrderType,
    PlaceOrders,
    SetMarketStatus,
    Side,
)
from reclaim.core.notes import ConvertClaim, DefineSeries, PassThrough, Series
from reclaim.log import canonical
from tests.support.core_harness import assert_invariants, replay
from tests.support.distribution_world import World
from tests.support.market_world import MARKET, SYMBOL

HOLDING: Final = "programme"
SERIES: Final = Series("FTX5A", "ftx", "5A", HOLDING, "Every distribution for a class 5A claim")
NOTE: Final = "NOTE-FTX5A"
R0: Final = Round("r0", "ftx", "2025-01-03", "2025-01-20", (ClassRound("5A", "percent", 1000),),
                  2_000_000)  # fmt: skip
R2: Final = Round("r2", "ftx", "2025-04-11", "2025-05-30", (ClassRound("5A", "percent", 7200),),
                  12_000_000)  # fmt: skip
D: Final = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
C: Final = frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})


def run_round(world: World, round_: Round) -> list[Line]:
    assert isinstance(app.declare(world, round_), Accepted)
    assert isinstance(app.fund(world, round_.round_id), Accepted)
    computed = app.preview(world, round_.round_id)
    lines = [Line(*row) for row in computed.lines.frame.iter_rows()]
    body = LINES_HEADER + "".join(line.text() for line in lines)
    sha = hashlib.sha256(body.encode()).hexdigest()
    assert isinstance(app.approve(world, round_.round_id, sha, computed), Accepted)
    assert app.execute(world, round_.round_id, lines) == app.Executed(len(lines), 0, True)
    return lines


def usd(world: World, owner: str) -> int:
    return world.available(f"{owner}/USD/creditor_available")


def notes(world: World, owner: str) -> int:
    found = world.state.ledger.accounts.get(f"{owner}/{NOTE}/creditor_available")
    return 0 if found is None else found.credit_balance_minor


def trade(world: World, steps: int, price: int) -> None:
    ask = OrderRequest(SYMBOL, Side.Ask, OrderType.Limit, quantity_steps=steps, price_ticks=price)
    bid = OrderRequest(SYMBOL, Side.Bid, OrderType.Limit, quantity_steps=steps, price_ticks=price)
    world.ok(PlaceOrders("alice", (ask,)), "alice")
    world.ok(PlaceOrders("bob", (bid,)), "bob")


def test_a_restricted_creditors_claim_from_conversion_to_pass_through() -> None:
    world = World()
    run_round(world, R0)
    escrowed = world.available("claim:C1/USD/claim_escrow")
    assert escrowed == 1_000_000, "10% of $100,000.00 waits in C1's escrow"
    world.ok(DefineSeries(SERIES), "admin")
    world.ok(ListMarket(MARKET), "admin")
    world.ok(SetMarketStatus(SYMBOL, MarketStatus.Open), "admin")
    rail = Account.of("operator", "USD", "rail_settlement", C)
    world.ok(OpenAccounts((rail, Account.of("bob", "USD", "creditor_available", D))), "treasury")
    world.ok(CreateTransfers((Transfer("dep-bob", "operator/USD/rail_settlement",
                                       "bob/USD/creditor_available", "USD", 5_000_000,
                                       "deposit"),)), "treasury")  # fmt: skip

    world.at("2025-02-01")
    converted = world.ok(ConvertClaim("FTX5A", "C1", "alice", "2025-02-01"), "alice")
    (event,) = converted.events
    evidence = event.payload["evidence"]
    assert notes(world, "alice") == 10_000_000
    digest = hashlib.sha256(canonical.encode(evidence)).hexdigest()  # type: ignore[arg-type]
    world.ok(AssignClaim("C1", HOLDING, "2025-02-01", digest), "admin")

    world.at("2025-02-02")
    bob_before = usd(world, "bob")  # his deposit and r0's share of his own claim C2
    trade(world, 25_000, 72)
    assert notes(world, "bob") == 2_500_000
    assert usd(world, "alice") == 25_000 * 72 == 1_800_000

    world.at("2025-02-25")
    world.ok(ReleaseEscrow("C1", "converted_to_notes"), "treasury")
    assert world.available("claim:C1/USD/claim_escrow") == 0
    assert usd(world, HOLDING) == escrowed
    world.ok(PassThrough("FTX5A", "r0", escrowed, world.state.events - 1, "2025-01-03"), HOLDING)
    assert usd(world, "alice") == 1_800_000 + 750_000
    assert usd(world, "bob") == bob_before - 1_800_000 + 250_000

    world.at("2025-03-10")
    trade(world, 5_000, 80)
    record = world.state.events - 1  # the last event on or before r2's record date
    world.at("2025-04-12")
    trade(world, 5_000, 90)  # bought ex: after the record date
    assert notes(world, "bob") == 3_500_000

    lines = run_round(world, R2)
    (c1,) = [line for line in lines if line.claim_id == "C1"]
    assert (c1.destination, c1.payee) == ("creditor", HOLDING), "the holding entity is paid"
    paid = usd(world, HOLDING)
    assert paid == 6_200_000, "72% cumulative less the 10% of r0"
    alice, bob = usd(world, "alice"), usd(world, "bob")
    world.ok(PassThrough("FTX5A", "r2", paid, record, "2025-04-11"), HOLDING)
    assert usd(world, "alice") - alice == 4_340_000, "7,000,000 of 10,000,000 notes"
    assert usd(world, "bob") - bob == 1_860_000, "3,000,000: not the 500,000 bought ex"

    # Every cent: what the holding entity received for the series passed through whole.
    assert usd(world, HOLDING) == 0
    assert world.state.notes.passed_minor["FTX5A"] == escrowed + paid
    assert_invariants(world.state, full=True)
    replayed = replay(world.events, round_trip=True)
    assert_invariants(replayed, full=True)
    assert replayed.snapshot() == world.state.snapshot()
