"""The operator's market desk: list a market, open, halt or close it (signed by the admin), and
the market data the operator's console reads (from ``app.market.MarketService``).

| call          | command (signer)                               | event                 |
| ------------- | ---------------------------------------------- | --------------------- |
| ``list_market``| ``ListMarket(Market)`` (admin)                 | ``market.listed``     |
| ``set_status``| ``SetMarketStatus(symbol, status)`` (admin)    | ``market.status_set`` |

``open`` lists the market first when it is not listed (a market is listed ``Closed``), so one
call makes a series tradable. Refusals are ``Refused`` with the market core's own code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from reclaim.app.log_service import Accepted
from reclaim.app.market import MarketService, TradeRecord
from reclaim.app.refusals import Refused, refused
from reclaim.core import market as mk
from reclaim.core.rejections import Rejection

if TYPE_CHECKING:
    from reclaim.core.machine import Command


@dataclass(frozen=True, slots=True)
class MarketView:
    """A market as the operator lists it: terms, status, best prices (ticks, ``None``: empty
    side), resting orders and the last trade."""

    market: mk.Market
    status: mk.MarketStatus
    best_bid_ticks: int | None
    best_ask_ticks: int | None
    resting_orders: int
    trades: int
    last: TradeRecord | None


class MarketDesk:
    """Operator writes and reads over the market service (module docstring)."""

    def __init__(self, service: MarketService, *, admin: str = "admin") -> None:
        self.service = service
        self.admin = admin

    def _submit(self, command: object) -> int | Refused | None:
        """The event's position, ``None`` when accepted with nothing to change."""
        outcome = self.service.log.submit(cast("Command", command), self.admin)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        assert isinstance(outcome, Accepted)
        return outcome.seq if outcome.events else None

    def list_market(self, market: mk.Market) -> int | Refused | None:
        return self._submit(mk.ListMarket(market))

    def set_status(self, symbol: str, status: mk.MarketStatus) -> int | Refused | None:
        return self._submit(mk.SetMarketStatus(symbol, status))

    def open(self, market: mk.Market) -> int | Refused | None:
        """List ``market`` if it is not listed, then open it."""
        if self.service.market(market.symbol) is None:
            listed = self.list_market(market)
            if isinstance(listed, Refused):
                return listed
        return self.set_status(market.symbol, mk.MarketStatus.Open)

    def views(self) -> list[MarketView]:
        """Every market, by symbol (the trade counts are the log state's: every fill)."""

        def q(
            s: mk.MarketState, h: object
        ) -> list[tuple[mk.Market, mk.MarketStatus, int | None, int | None, int]]:
            return [
                (s.markets[k], s.status[k], s.books[k].bids.best_price(),
                 s.books[k].asks.best_price(), sum(1 for o in s.orders.values() if o.symbol == k))
                for k in sorted(s.markets)
            ]  # fmt: skip

        rows = self.service.read(q)
        counts = self.service.log.read(
            lambda state: {k: len(v) for k, v in state.market.trades.items()}
        )
        return [
            MarketView(m, status, bid, ask, resting, counts.get(m.symbol, 0),
                       next(iter(self.service.trades(m.symbol, 1)), None))
            for m, status, bid, ask, resting in rows
        ]  # fmt: skip
