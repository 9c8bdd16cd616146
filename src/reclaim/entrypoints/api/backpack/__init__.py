"""A Backpack Exchange compatible trading API over the market (``../shared/api/BACKPACK.md``).

Backpack's clients (``bpx-py``, ``backpack-exchange-sdk``, ccxt) work unchanged against a
reclaim server but for their base URL. ``install(app)`` mounts the routes on ``app`` (whose
``state.log`` is the log service), with a ``MarketService`` over it, Backpack's error bodies on
these paths (``errors``) and the streams (``streams``). The routes are left out of reclaim's
OpenAPI document: Backpack's own specification describes them.

| route                                   | auth   | instruction            |
| --------------------------------------- | ------ | ---------------------- |
| ``GET /api/v1/{ping,time,status}``      | public |                        |
| ``GET /api/v1/{assets,markets,market}`` | public | (``/markets/{symbol}`` for bpx-py) |
| ``GET /api/v1/{ticker,tickers,depth}``  | public |                        |
| ``GET /api/v1/{trades,trades/history,klines}`` | public |                 |
| ``GET /api/v1/capital``                 | signed | ``balanceQuery`` (``ledger.py``'s) |
| ``GET /api/v1/account``                 | signed | ``accountQuery``       |
| ``GET /api/v1/order``                   | signed | ``orderQuery``         |
| ``POST /api/v1/order``                  | signed | ``orderExecute``       |
| ``DELETE /api/v1/order``                | signed | ``orderCancel``        |
| ``GET /api/v1/orders``                  | signed | ``orderQueryAll``      |
| ``POST /api/v1/orders`` (batch)         | signed | ``orderExecute`` per order |
| ``DELETE /api/v1/orders``               | signed | ``orderCancelAll``     |
| ``GET /wapi/v1/history/fills``          | signed | ``fillHistoryQueryAll`` |
| ``GET /wapi/v1/history/orders``         | signed | ``orderHistoryQueryAll`` |
| ``GET /wapi/v1/capital/deposits``       | signed | ``depositQueryAll``    |
| ``/wapi/v1/capital/withdrawals``        | signed | the withdrawal API's (``withdrawals.py``) |
| WebSocket ``/`` and ``/ws``             | public; ``account.orderUpdate`` signed | ``subscribe`` |

Units: a price is a fraction of face value (``0.72``); a quantity of notes is in **dollars of
face value** (``"100.00"`` is 10,000 note units), so price × quantity is the cash in USD;
cash is USD with cents. ``GET /api/v1/capital`` is the ledger's: notes there are note units
(cents of face), keyed ``NOTE-<series>`` like the market's ``baseSymbol``.

Known limits: ``/api/v1/capital`` and ``/wapi/v1/capital/withdrawals`` answer errors as the
ledger and withdrawal APIs do (problem+json), not in Backpack's shape; signed writes share the
per-actor rate of ``auth.SIGNED_WRITES`` (a burst of 120, then one every 5 s), which a market
maker quoting by the second reaches; trades, fills and order history are the process's replica
of the log, rebuilt on start.
"""

from __future__ import annotations

from fastapi import FastAPI

from reclaim.app.log_service import LogService
from reclaim.app.market import MarketService
from reclaim.entrypoints.api import auth
from reclaim.entrypoints.api.backpack import errors, routes, streams
from reclaim.entrypoints.api.backpack.signing import Verifier


def install(app: FastAPI) -> None:
    """Serve the Backpack routes and streams on ``app``; call it after the app's other
    middleware is added, so that Backpack's error bodies wrap every answer on these paths."""
    log = app.state.log
    assert isinstance(log, LogService), "create_app stores the LogService in app.state.log"
    auth.install(app)
    service = MarketService(log)
    app.state.market = service
    authenticator = app.state.authenticator
    # the signed-write buckets of the app's other signed routes, gathered (auth.WriteTokens)
    app.state.backpack_verifier = Verifier(log, getattr(authenticator, "limiter", None))
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(streams.router)
