"""A log state with a note series, converted claims and an open market, for the market and
notes tests.

Built on the withdrawal tests' world (``withdrawal_world``, without destinations: creditors,
claims of 1,000,000 cents each, the policy FR/HK open, CN restricted, IR sanctioned, JP
unlisted), through the real shell (``core_harness``: decide, check, evolve, each event
round-tripped through the canonical encoding), then::

    holding     the holding entity (role holding_entity)
    FTX5A       series of class 5A of the ftx estate, held by ``holding``
    conversions mei (CN, restricted) converts M1 → 1,000,000 NOTE-FTX5A to mei
                alice (FR) converts A1 → 1,000,000 NOTE-FTX5A to alice
    FTX5A_USD   listed and opened: prices in cents on the dollar (2 decimals), steps of one
                dollar of face (100 note units), so one tick on one step is one cent
    cash        bob USD 10,000.00 · carol USD 100.00 (the base world's deposits)

A price of 72 ticks is 72 cents on the dollar: 100 steps ($100.00 of face) cost 7,200 cents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from reclaim.core.actors import RegisterActor
from reclaim.core.market import ListMarket, Market, MarketStatus, SetMarketStatus
from reclaim.core.notes import ConvertClaim, DefineSeries, Series
from tests.support.core_harness import Command
from tests.support.factories import key_for
from tests.support.withdrawal_world import T0
from tests.support.withdrawal_world import World as BaseWorld

HOLDING: Final = "holding"
SERIES: Final = Series(
    "FTX5A", "ftx", "5A", HOLDING,
    "Every distribution the holding entity receives for a class 5A claim of the FTX estate, "
    "pro rata to notes held at its record date",
)  # fmt: skip
NOTE: Final = "NOTE-FTX5A"
SYMBOL: Final = "FTX5A_USD"
MARKET: Final = Market(SYMBOL, "FTX5A", price_decimals=2, step_notes=100)
ESCROW_USD: Final = "market:FTX5A-USD/USD/market_clearing"
ESCROW_NOTE: Final = "market:FTX5A-USD/NOTE-FTX5A/market_clearing"


#: The same market with fees (maker 10 bps, taker 20 bps, to the treasury's account).
FEE_MARKET: Final = Market(SYMBOL, "FTX5A", price_decimals=2, step_notes=100, maker_fee_bps=10,
                           taker_fee_bps=20, fee_owner="treasury")  # fmt: skip


def market_commands(market: Market = MARKET) -> list[tuple[Command, str]]:
    return [
        (RegisterActor(HOLDING, "holding_entity", key_for(HOLDING).verifier.to_text()), "admin"),
        (DefineSeries(SERIES), "admin"),
        (ListMarket(market), "admin"),
        (SetMarketStatus(SYMBOL, MarketStatus.Open), "admin"),
        (ConvertClaim("FTX5A", "M1", "mei", "2025-06-02"), "mei"),
        (ConvertClaim("FTX5A", "A1", "alice", "2025-06-02"), "alice"),
    ]


class MarketWorld(BaseWorld):
    """The base world plus the series, the conversions and the open market."""

    def __init__(self, start: datetime = T0, market: Market = MARKET) -> None:
        super().__init__(start, destinations=False)
        for command, actor in market_commands(market):
            self.ok(command, actor)

    def account(self, owner: str, asset: str) -> tuple[int, int, int, int]:
        """``(debits_posted, credits_posted, debits_pending, credits_pending)``."""
        found = self.state.ledger.accounts.get(f"{owner}/{asset}/creditor_available")
        return (0, 0, 0, 0) if found is None else found.balances()

    def held(self, owner: str, asset: str) -> int:
        """Posted balance (reservations included)."""
        d, c, _, _ = self.account(owner, asset)
        return c - d

    def free(self, owner: str, asset: str) -> int:
        """Available: posted less reservations."""
        d, c, p, _ = self.account(owner, asset)
        return c - d - p
