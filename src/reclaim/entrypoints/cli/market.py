"""The operator's market commands: ``reclaim market ...``. Parse, call, render.

| command                      | what it does                                              |
| ---------------------------- | --------------------------------------------------------- |
| ``list``                     | every market: status, best bid and ask, last trade        |
| ``open SYMBOL``              | list the market (its terms) if it is not, then open it    |
| ``halt SYMBOL``              | ``CancelOnly``: resting orders may be cancelled, no more  |
| ``book SYMBOL``              | the order book's depth, asks over bids                    |
| ``trades SYMBOL``            | the latest trades, newest first                           |

Writes are signed by the admin (``app.market_desk``). A symbol is ``<series>_USD``; prices read
as the fraction of face value (``0.72`` = 72 cents on the dollar), quantities as dollars of
face. Traders place their orders themselves, through the Backpack-compatible API.

Exit codes: 0 done; 1 refused (the core's code and sentence); 2 bad usage, settings or keys.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Annotated, Final

import typer
from rich.table import Table

from reclaim import bootstrap
from reclaim.app.market import price_text, quantity_text
from reclaim.app.market_desk import MarketDesk
from reclaim.core import market as mk
from reclaim.entrypoints.cli.common import (
    AsJson,
    DatabaseUrl,
    DataDir,
    answered,
    console,
    err,
    money,
    started,
)

market_app = typer.Typer(help="The notes market: list, open, halt, book, trades.",
                         no_args_is_help=True)  # fmt: skip
QUOTE: Final = "USD"
Symbol = Annotated[str, typer.Argument(help="The market, e.g. FTX5A_USD.")]


def _desk(data_dir: DataDir, database_url: DatabaseUrl) -> AbstractContextManager[MarketDesk]:
    return started(data_dir, database_url, bootstrap.Container.market_desk)


def _market(desk: MarketDesk, symbol: str) -> mk.Market:
    found = desk.service.market(symbol)
    if found is None:
        err.print(f"[red]no market {symbol!r}[/] (reclaim market list)")
        raise typer.Exit(1)
    return found[0]


@market_app.command("list")
def list_markets(as_json: AsJson = False, data_dir: DataDir = None,
                 database_url: DatabaseUrl = None) -> None:  # fmt: skip
    """Every market with its status, best prices, resting orders and last trade."""
    with _desk(data_dir, database_url) as desk:
        views = desk.views()
    rows = []
    for v in views:
        m = v.market

        def price(ticks: int | None, m: mk.Market = m) -> str:
            return "" if ticks is None else price_text(m, ticks)

        rows.append({
            "symbol": m.symbol, "series": m.series, "status": v.status.value,
            "tick": price_text(m, 1), "step": quantity_text(m, 1),
            "best_bid": price(v.best_bid_ticks), "best_ask": price(v.best_ask_ticks),
            "resting_orders": v.resting_orders, "trades": v.trades,
            "last_price": "" if v.last is None else price_text(m, v.last.price_ticks),
        })  # fmt: skip
    if as_json:
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print("no markets (reclaim market open SYMBOL)")
        return
    table = Table("symbol", "status", "tick", "step (face $)", "best bid", "best ask",
                  "resting", "trades", "last")  # fmt: skip
    for r in rows:
        table.add_row(str(r["symbol"]), str(r["status"]), str(r["tick"]), str(r["step"]),
                      str(r["best_bid"]), str(r["best_ask"]), str(r["resting_orders"]),
                      str(r["trades"]), str(r["last_price"]))  # fmt: skip
    console.print(table)


@market_app.command("open")
def open_market(
    symbol: Symbol,
    price_decimals: Annotated[int, typer.Option(help="Price ticks of 10^-d of face.")] = 2,
    step_notes: Annotated[int, typer.Option(help="Note units (cents of face) a step.")] = 100,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Open a market (listing it first, with these terms, if it is not listed)."""
    series, _, quote = symbol.partition("_")
    if quote != QUOTE or not series:
        err.print(f"[red]a symbol is <series>_{QUOTE}, not {symbol!r}[/]")
        raise typer.Exit(2)
    with _desk(data_dir, database_url) as desk:
        answer = desk.open(mk.Market(symbol, series, price_decimals, step_notes))
    answer = answered(answer)
    console.print(f"{symbol}: Open" + ("" if answer is not None else " (already)"))


@market_app.command("halt")
def halt_market(symbol: Symbol, data_dir: DataDir = None,
                database_url: DatabaseUrl = None) -> None:  # fmt: skip
    """Halt a market: CancelOnly (orders may be cancelled, none placed)."""
    with _desk(data_dir, database_url) as desk:
        answer = desk.set_status(symbol, mk.MarketStatus.CancelOnly)
    answer = answered(answer)
    console.print(f"{symbol}: CancelOnly" + ("" if answer is not None else " (already)"))


@market_app.command("book")
def book(
    symbol: Symbol,
    levels: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The book's depth: asks (lowest last) over bids (highest first), with each level's cash."""
    with _desk(data_dir, database_url) as desk:
        m = _market(desk, symbol)
        asks, bids, position = desk.service.depth(symbol, levels)

    def level(side: str, ticks: int, steps: int) -> dict[str, str]:
        cash = ticks * steps * m.lot_cash_minor
        return {"side": side, "price": price_text(m, ticks), "quantity": quantity_text(m, steps),
                "cash": money(cash, QUOTE)}  # fmt: skip

    rows = [level("ask", p, q) for p, q in reversed(asks)] + [level("bid", p, q) for p, q in bids]
    if as_json:
        console.print_json(json.dumps({"symbol": symbol, "log_size": position, "levels": rows}))
        return
    table = Table("side", "price", "quantity (face $)", "cash (USD)",
                  title=f"{symbol} at log size {position:,}")  # fmt: skip
    for r in rows:
        style = "red" if r["side"] == "ask" else "green"
        table.add_row(r["side"], r["price"], r["quantity"], r["cash"], style=style)
    console.print(table)


@market_app.command("trades")
def trades(
    symbol: Symbol,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The market's latest trades, newest first."""
    with _desk(data_dir, database_url) as desk:
        m = _market(desk, symbol)
        found = desk.service.trades(symbol, limit)
    rows = [
        {"id": t.trade_id, "time": t.time, "price": price_text(m, t.price_ticks),
         "quantity": quantity_text(m, t.quantity_steps), "cash": money(t.cash_minor, QUOTE),
         "taker": "sell" if t.buyer_is_maker else "buy"}
        for t in found
    ]  # fmt: skip
    if as_json:
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print(f"no trades on {symbol}")
        return
    table = Table("trade", "time", "price", "quantity (face $)", "cash (USD)", "taker")
    for r in rows:
        table.add_row(str(r["id"]), str(r["time"])[:19], str(r["price"]), str(r["quantity"]),
                      str(r["cash"]), str(r["taker"]))  # fmt: skip
    console.print(table)
