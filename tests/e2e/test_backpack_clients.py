"""Real Backpack clients against a real ``reclaim serve`` on loopback (issue 11, acceptance).

The server runs in its own process over a fresh data directory (``reclaim keys init``, then the
world of ``tests/api/backpack_world.py`` submitted through the log service: traders with API
keys, USD, notes converted from claims, ``FTX5A_USD`` open and ``FTX9_USD`` cancel-only). The
PyPI clients ``bpx-py`` and ``backpack-exchange-sdk`` are used unchanged but for their base URL
(bpx-py has no option for it: its class attribute is set on the instance, as its README says);
the SDK's WebSocket client likewise gets the server's ``ws://`` URL instead of Backpack's.

Bad input: each request gets Backpack's error body ``{"code", "message"}`` with its status, and
the log's size (``/healthz``) is the same before and after.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from backpack_exchange_sdk.authenticated import AuthenticationClient
from backpack_exchange_sdk.public import PublicClient
from backpack_exchange_sdk.websocket import WebSocketClient
from bpx.account import Account
from bpx.public import Public
from tests.api import backpack_world as world
from tests.support.serving import serving

from reclaim import bootstrap
from reclaim.config import Settings
from reclaim.core.rejections import Rejection
from reclaim.log.keys import SignerKey

SYMBOL: Final = world.SYMBOL
START_SECONDS: Final = 60
WAIT_SECONDS: Final = 10


def run(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "reclaim", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("backpack")
    run("keys", "init", "--data-dir", "d", cwd=root)
    container = bootstrap.build(Settings.from_env({}, data_dir=root / "d"))
    try:
        for outcome in container.log.submit_many(world.commands()):
            assert not isinstance(outcome, Rejection), outcome
    finally:
        container.close()
    return root / "d"


@pytest.fixture(scope="module")
def base(data_dir: Path) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    with serving(data_dir, data_dir.parent / "serve.log", env, START_SECONDS) as url:
        yield url


def bpx(base: str, name: str) -> Account:
    account = Account(world.api_key(name), world.secret(name))
    account.BPX_API_URL = base + "/"
    return account


def bpx_public(base: str) -> Public:
    public = Public()
    public.BASE_URL = base + "/"
    return public


def sdk(base: str, name: str) -> AuthenticationClient:
    return AuthenticationClient(world.api_key(name), world.secret(name), base_url=base + "/")


def size(base: str) -> int:
    return int(httpx.get(f"{base}/healthz").json()["size"])


def wait_for(found: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not found():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


# Public data -----------------------------------------------------------------------------------


def test_public_data_with_both_clients(base: str) -> None:
    public = bpx_public(base)
    assert public.get_ping() == "pong"
    assert abs(int(public.get_time()) - time.time() * 1000) < 60_000
    assert public.get_status() == {"status": "Ok", "message": None}
    markets = {m["symbol"]: m for m in public.get_markets()}
    assert set(markets) == {world.SYMBOL, world.HALTED}
    m = markets[SYMBOL]
    assert (m["baseSymbol"], m["quoteSymbol"], m["marketType"]) == ("NOTE-FTX5A", "USD", "SPOT")
    assert m["filters"]["price"]["tickSize"] == "0.01"
    assert m["filters"]["quantity"]["stepSize"] == "1.00"
    assert m["orderBookState"] == "Open"
    assert markets[world.HALTED]["orderBookState"] == "CancelOnly"
    client = PublicClient(base_url=base + "/")
    assert client.get_market(SYMBOL) == m
    assert [a["symbol"] for a in client.get_assets()] == ["USD", "NOTE-FTX5A", "NOTE-FTX9"]
    depth = client.get_depth(SYMBOL)
    assert set(depth) == {"asks", "bids", "lastUpdateId", "timestamp"}
    assert isinstance(depth["timestamp"], int)
    assert depth["timestamp"] > 10**15
    ticker = public.get_ticker(SYMBOL)
    assert ticker["symbol"] == SYMBOL
    assert isinstance(ticker["trades"], str)


# Trading with bpx-py ---------------------------------------------------------------------------


def test_trading_with_bpx(base: str) -> None:
    seller, buyer = bpx(base, "seller"), bpx(base, "buyer")
    ask = seller.execute_order(SYMBOL, "Ask", "Limit", quantity="100.00", price="0.72",
                               time_in_force="GTC", client_id=11)  # fmt: skip
    assert ask["status"] == "New"
    assert ask["price"] == "0.72"
    assert ask["quantity"] == "100.00"
    assert ask["clientId"] == 11
    assert isinstance(ask["createdAt"], int)
    assert ask["triggerPrice"] is None
    assert ask["executedQuantity"] == "0.00"
    depth = bpx_public(base).get_depth(SYMBOL)
    assert ["0.72", "100.00"] in depth["asks"]
    bid = buyer.execute_order(SYMBOL, "Bid", "Limit", quantity="40.00", price="0.75")
    assert bid["status"] == "Filled"
    assert (bid["executedQuantity"], bid["executedQuoteQuantity"]) == ("40.00", "28.80")
    trades = bpx_public(base).get_recent_trades(SYMBOL)
    assert trades[0]["price"] == "0.72"
    assert trades[0]["quantity"] == "40.00"
    assert trades[0]["quoteQuantity"] == "28.80"
    assert trades[0]["isBuyerMaker"] is False
    assert isinstance(trades[0]["timestamp"], int)
    ticker = bpx_public(base).get_ticker(SYMBOL)
    assert ticker["lastPrice"] == "0.72"
    assert int(ticker["trades"]) >= 1
    found = seller.get_open_order(SYMBOL, client_id=11)
    assert found["id"] == ask["id"]
    assert found["status"] == "PartiallyFilled"
    assert found["executedQuantity"] == "40.00"
    assert [o["id"] for o in seller.get_open_orders(SYMBOL)] == [ask["id"]]
    cancelled = seller.cancel_order(SYMBOL, order_id=ask["id"])
    assert cancelled["status"] == "Cancelled"
    assert cancelled["id"] == ask["id"]
    assert seller.get_open_orders(SYMBOL) == []
    missing = seller.get_open_order(SYMBOL, order_id=ask["id"])
    assert missing == {"code": "RESOURCE_NOT_FOUND", "message": "Order not found"}
    for price in ("0.70", "0.71"):
        seller.execute_order(SYMBOL, "Ask", "Limit", quantity="5.00", price=price)
    assert len(seller.cancel_all_orders(SYMBOL)) == 2
    fills = buyer.get_fill_history(SYMBOL)
    assert fills[0]["orderId"] == bid["id"]
    assert fills[0]["price"] == "0.72"
    assert fills[0]["isMaker"] is False
    assert fills[0]["feeSymbol"] == "USD"
    assert "T" in fills[0]["timestamp"]
    assert not fills[0]["timestamp"].endswith("Z")
    history = seller.get_order_history(symbol=SYMBOL)
    assert {o["status"] for o in history} == {"Cancelled"}
    assert all(isinstance(o["createdAt"], str) for o in history)
    balances = buyer.get_balances()
    assert balances["NOTE-FTX5A"]["available"] == "4000"  # note units: cents of face
    assert balances["USD"]["available"] == "99971.20"


# Trading with backpack-exchange-sdk ------------------------------------------------------------


def test_trading_with_the_sdk(base: str) -> None:
    maker, buyer = sdk(base, "maker"), sdk(base, "buyer")
    batch = maker.execute_batch_orders([
        {"symbol": SYMBOL, "side": "Ask", "orderType": "Limit", "price": "0.80",
         "quantity": "10.00"},
        {"symbol": SYMBOL, "side": "Ask", "orderType": "Limit", "price": "0.81",
         "quantity": "10.00", "postOnly": True},
        {"symbol": SYMBOL, "side": "Ask", "orderType": "Limit", "price": "0.815",
         "quantity": "10.00"},
    ])  # fmt: skip
    assert [b["operation"] for b in batch] == ["Ok", "Ok", "Err"]
    assert batch[2]["code"] == "INVALID_PRICE"
    assert [b["status"] for b in batch[:2]] == ["New", "New"]
    before = maker.get_balances()
    assert before["NOTE-FTX5A"]["locked"] == "2000"
    order = buyer.execute_order("Limit", "Bid", SYMBOL, price="0.80", quantity="5.00")
    assert order["status"] == "Filled"
    assert order["executedQuoteQuantity"] == "4.00"
    market = buyer.execute_order("Market", "Bid", SYMBOL, quoteQuantity="8.10")
    assert market["status"] in ("Filled", "Expired")
    assert market["orderType"] == "Market"
    open_ids = [o["id"] for o in maker.get_open_orders(symbol=SYMBOL)]
    assert open_ids
    assert set(open_ids) <= {b["id"] for b in batch[:2]}
    one = maker.get_users_open_orders(SYMBOL, orderId=open_ids[0])
    assert one["id"] == open_ids[0]
    assert maker.cancel_open_order(SYMBOL, orderId=open_ids[0])["status"] == "Cancelled"
    rest = maker.cancel_open_orders(SYMBOL)
    assert [o["status"] for o in rest] == ["Cancelled"] * len(rest)
    fills = maker.get_fill_history(symbol=SYMBOL)
    assert fills
    assert all(f["isMaker"] for f in fills)
    history = buyer.get_order_history(symbol=SYMBOL)
    assert history[0]["id"] == market["id"]
    assert maker.get_balances()["NOTE-FTX5A"]["locked"] == "0"
    assert sdk(base, "buyer").get_balances()["USD"]["locked"] == "0.00"


# Streams ---------------------------------------------------------------------------------------


def websocket_client(base: str, name: str | None) -> WebSocketClient:
    """The SDK's WebSocket client, unchanged but for its URL (its constructor connects to
    Backpack's at once, so the attributes it sets are set here and it connects to ours)."""
    client = WebSocketClient.__new__(WebSocketClient)
    client.ws = None
    client.api_key = None if name is None else world.api_key(name)
    client.secret_key = None if name is None else world.secret(name)
    client.base_url = base.replace("http://", "ws://") + "/"
    client.callbacks = {}
    client.connected = threading.Event()
    client.last_pong = time.time()
    client._connect()
    assert client.connected.wait(WAIT_SECONDS), "no connection"
    return client


def test_public_and_private_streams(base: str) -> None:
    public, private = websocket_client(base, None), websocket_client(base, "buyer")
    seen: dict[str, list[dict[str, Any]]] = {
        "trade": [],
        "depth": [],
        "order": [],
        "book": [],
        "ticker": [],
    }
    try:
        public.subscribe([f"trade.{SYMBOL}"], seen["trade"].append)
        public.subscribe([f"depth.{SYMBOL}"], seen["depth"].append)
        public.subscribe([f"bookTicker.{SYMBOL}"], seen["book"].append)
        public.subscribe([f"ticker.{SYMBOL}"], seen["ticker"].append)
        private.subscribe(["account.orderUpdate"], seen["order"].append, is_private=True)
        time.sleep(0.5)  # the subscriptions are in
        seller, buyer = bpx(base, "seller"), bpx(base, "buyer")
        ask = seller.execute_order(SYMBOL, "Ask", "Limit", quantity="3.00", price="0.90")
        wait_for(lambda: any(d["a"] == [["0.90", "3.00"]] for d in seen["depth"]))
        bid = buyer.execute_order(SYMBOL, "Bid", "Limit", quantity="3.00", price="0.90")
        wait_for(lambda: len(seen["trade"]) >= 1 and len(seen["order"]) >= 2)
        trade = seen["trade"][-1]
        assert (trade["e"], trade["s"], trade["p"], trade["q"]) == ("trade", SYMBOL, "0.90",
                                                                    "3.00")  # fmt: skip
        assert trade["b"] == bid["id"]
        assert trade["a"] == ask["id"]
        events = [(o["e"], o["i"]) for o in seen["order"]]
        assert ("orderAccepted", bid["id"]) in events
        assert ("orderFill", bid["id"]) in events
        assert all(o["i"] != ask["id"] for o in seen["order"])  # only the buyer's own
        wait_for(lambda: any(d["a"] == [["0.90", "0.00"]] for d in seen["depth"]))
        assert seen["book"]
        assert seen["book"][-1]["e"] == "bookTicker"
        wait_for(lambda: bool(seen["ticker"]))
        ticker = seen["ticker"][-1]
        assert (ticker["e"], ticker["s"], ticker["c"]) == ("ticker", SYMBOL, "0.90")
        assert isinstance(ticker["n"], int)
    finally:
        for client in (public, private):
            client.ws.on_close = None  # no reconnection once the test is done
            client.close()


# Bad input -------------------------------------------------------------------------------------


def signed(name: str, instruction: str, params: dict[str, Any] | list[dict[str, Any]], *,
           timestamp: int | None = None, window: int | None = 5000,
           key: SignerKey | None = None) -> dict[str, str]:  # fmt: skip
    """Backpack's headers, signed as bpx-py signs (raw values, booleans lower-case)."""
    ts = int(time.time() * 1000) if timestamp is None else timestamp

    def pairs(p: dict[str, Any]) -> list[str]:
        return [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in sorted(p.items())]

    parts: list[str] = []
    if isinstance(params, dict):
        parts = [f"instruction={instruction}", *pairs(params)]
    else:
        for item in params:
            parts += [f"instruction={instruction}", *pairs(item)]
    parts += [f"timestamp={ts}", f"window={5000 if window is None else window}"]
    signer = key or world.key(name)
    headers = {
        "X-API-Key": world.api_key(name),
        "X-Signature": base64.b64encode(signer.sign("&".join(parts).encode())).decode(),
        "X-Timestamp": str(ts),
        "Content-Type": "application/json; charset=utf-8",
    }
    if window is not None:
        headers["X-Window"] = str(window)
    return headers


def order(**fields: Any) -> dict[str, Any]:
    return {"symbol": SYMBOL, "side": "Bid", "orderType": "Limit", "price": "0.50",
            "quantity": "1.00", **fields}  # fmt: skip


def post(base: str, headers: dict[str, str], body: Any) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/order", headers=headers, content=json.dumps(body))


def _unsigned(base: str) -> httpx.Response:
    return post(base, {"Content-Type": "application/json"}, order())


def _badly_signed(base: str) -> httpx.Response:
    headers = signed("buyer", "orderExecute", order(price="0.51"))
    return post(base, headers, order())


def _wrong_key(base: str) -> httpx.Response:
    stranger = SignerKey.generate("stranger")
    headers = signed("buyer", "orderExecute", order(), key=stranger)
    headers["X-API-Key"] = base64.b64encode(stranger.verifier.public_key).decode()
    return post(base, headers, order())


def _expired(base: str) -> httpx.Response:
    stale = int(time.time() * 1000) - 10_000
    return post(base, signed("buyer", "orderExecute", order(), timestamp=stale), order())


def _window_over(base: str) -> httpx.Response:
    return post(base, signed("buyer", "orderExecute", order(), window=60_001), order())


def _as(name: str, **fields: Any) -> Callable[[str], httpx.Response]:
    def send(base: str) -> httpx.Response:
        body = order(**fields)
        return post(base, signed(name, "orderExecute", body), body)

    return send


def _oversized(base: str) -> httpx.Response:
    body = order(clientId=1, padding="x" * 70_000)
    return post(base, signed("buyer", "orderExecute", body), body)


BAD: Final[dict[str, tuple[Callable[[str], httpx.Response], int, str]]] = {
    "unsigned": (_unsigned, 401, "UNAUTHORIZED"),
    "badly signed": (_badly_signed, 401, "INVALID_SIGNATURE"),
    "wrong key": (_wrong_key, 401, "UNAUTHORIZED"),
    "expired window": (_expired, 401, "UNAUTHORIZED"),
    "window over the maximum": (_window_over, 400, "INVALID_CLIENT_REQUEST"),
    "replayed": (_unsigned, 401, "UNAUTHORIZED"),  # sent by the test itself
    "malformed decimal": (_as("buyer", price="0.5.1"), 400, "INVALID_CLIENT_REQUEST"),
    "exponent decimal": (_as("buyer", quantity="1e2"), 400, "INVALID_CLIENT_REQUEST"),
    "price off the tick": (_as("buyer", price="0.505"), 400, "INVALID_PRICE"),
    "quantity off the step": (_as("buyer", quantity="1.50"), 400, "INVALID_QUANTITY"),
    "oversized body": (_oversized, 400, "INVALID_CLIENT_REQUEST"),
    "unknown symbol": (_as("buyer", symbol="NOPE_USD"), 400, "INVALID_SYMBOL"),
    "trading while CancelOnly": (_as("buyer", symbol=world.HALTED), 400, "TRADING_PAUSED"),
    "buying without funds": (_as("poor"), 400, "INSUFFICIENT_FUNDS"),
    "a buyer the policy excludes": (_as("mei"), 400, "FORBIDDEN"),
    "trading before KYC": (_as("gina"), 400, "FORBIDDEN"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_changes_nothing(base: str, case: str) -> None:
    send, status, code = BAD[case]
    if case == "replayed":  # the first request grows the log; its replay must not
        body = order(price="0.02", clientId=4343)
        headers = signed("buyer", "orderExecute", body)
        assert post(base, headers, body).status_code == 200
        before = size(base)
        answer = post(base, headers, body)
    else:
        before = size(base)
        answer = send(base)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code, body
    assert size(base) == before


def test_the_clients_see_refusals_as_backpack_errors(base: str) -> None:
    before = size(base)
    answer = bpx(base, "poor").execute_order(SYMBOL, "Bid", "Limit", quantity="1.00",
                                             price="0.50")  # fmt: skip
    assert answer["code"] == "INSUFFICIENT_FUNDS"
    from backpack_exchange_sdk._base.errors import BackpackAPIError

    with pytest.raises(BackpackAPIError) as raised:
        sdk(base, "mei").execute_order("Limit", "Bid", SYMBOL, price="0.50", quantity="1.00")
    assert (raised.value.code, raised.value.status_code) == ("FORBIDDEN", 400)
    assert size(base) == before


# The public log --------------------------------------------------------------------------------


def test_reclaim_verify_checks_the_traders_signatures(base: str, data_dir: Path) -> None:
    """Once the server's checkpoint covers every event (it publishes one within
    ``limits.checkpoint_interval_seconds`` of new events), ``reclaim verify`` over the server's
    URL replays the log and reports the traders' signatures of every order and cancel above."""
    deadline = time.monotonic() + 30
    while True:
        note = httpx.get(f"{base}/log/checkpoint").text
        if int(note.splitlines()[1]) == size(base):
            break
        assert time.monotonic() < deadline, "no checkpoint of the whole log"
        time.sleep(0.5)
    done = subprocess.run([sys.executable, "-m", "reclaim", "verify", base], cwd=data_dir.parent,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    signatures = re.search(r"; ([0-9,]+) traders' signatures", done.stdout)
    assert signatures is not None, done.stdout
    entries = httpx.get(f"{base}/log/entries", params={"start": 0, "end": size(base)})
    authorised = [
        event for event in map(json.loads, entries.text.splitlines())
        if event["type"] in ("market.orders_placed", "market.orders_cancelled")
        and "authorisation" in event["payload"]
    ]  # fmt: skip
    assert len(authorised) >= 10  # every order and cancel of the tests above
    assert int(signatures.group(1).replace(",", "")) == len(authorised)
