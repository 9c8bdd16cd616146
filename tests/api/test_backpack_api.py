"""The Backpack API in process: the signing strings of BACKPACK.md, answers' shapes, refusals.

The world of ``backpack_world`` over SQLite, served by ``create_app`` through Starlette's test
client; requests are signed here as the Python clients sign them (raw values, booleans
lower-case, one ``instruction=orderExecute`` block per order of a batch). The real clients
against a real server are ``tests/e2e/test_backpack_clients.py``.
"""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

import pytest

from reclaim.adapters.db.store import open_store
from reclaim.adapters.keyfiles import OPERATOR_ACTORS
from reclaim.app.log_service import KeyRing, LogService
from reclaim.bootstrap import ensure_genesis
from reclaim.core.rejections import Rejection
from reclaim.entrypoints.api.app import create_app
from reclaim.entrypoints.api.backpack.signing import signing_strings
from reclaim.log.event import parse_leaf
from reclaim.log.keys import SignerKey
from tests.api import backpack_world as world
from tests.support.factories import ORIGIN

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

SYMBOL: Final = world.SYMBOL


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LogService]:
    path = tmp_path_factory.mktemp("backpack") / "log.db"
    store = open_store(f"sqlite:///{path}")
    keys = KeyRing(SignerKey.generate(ORIGIN), {n: SignerKey.generate(n) for n in OPERATOR_ACTORS})
    service = LogService(store, keys, Clock())
    ensure_genesis(service, keys, ORIGIN)
    for outcome in service.submit_many(world.commands()):
        assert not isinstance(outcome, Rejection), outcome
    service.start()
    yield service
    service.stop()
    store.close()


@pytest.fixture(scope="module")
def client(log: LogService) -> Iterator[TestClient]:
    with TestClient(create_app(log)) as test_client:
        yield test_client


def headers(name: str, instruction: str, params: dict[str, Any] | list[dict[str, Any]],
            window: int = 5000) -> dict[str, str]:  # fmt: skip
    ts = int(time.time() * 1000)

    def pairs(p: dict[str, Any]) -> list[str]:
        return [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in sorted(p.items())]

    parts: list[str] = []
    if isinstance(params, dict):
        parts = [f"instruction={instruction}", *pairs(params)]
    else:
        for item in params:
            parts += [f"instruction={instruction}", *pairs(item)]
    text = "&".join([*parts, f"timestamp={ts}", f"window={window}"])
    signature = base64.b64encode(world.key(name).sign(text.encode())).decode()
    return {"X-API-Key": world.api_key(name), "X-Signature": signature,
            "X-Timestamp": str(ts), "X-Window": str(window)}  # fmt: skip


def send(client: TestClient, method: str, path: str, name: str, instruction: str,
         body: Any = None, **query: Any) -> Any:  # fmt: skip
    params = body if body is not None else query
    answer = client.request(method, path, params=query or None, headers=headers(
        name, instruction, params), content=None if body is None else json.dumps(body))  # fmt: skip
    return answer


def refused(answer: Any, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == code
    return str(body["message"])


# The signing strings of BACKPACK.md -------------------------------------------------------------


def test_the_verified_vector_of_backpack_md_section_3_7() -> None:
    signer = SignerKey.from_seed("vector", bytes(range(32)))
    public = base64.b64encode(signer.verifier.public_key).decode()
    assert public == "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
    body = {
        "clientId": 1001,
        "orderType": "Limit",
        "postOnly": True,
        "price": "180.5",
        "quantity": "1.5",
        "side": "Bid",
        "symbol": "SOL_USDC",
        "timeInForce": "GTC",
    }
    plain = signing_strings("orderExecute", body, 1700000000000, 5000)[0]
    assert plain == (
        "instruction=orderExecute&clientId=1001&orderType=Limit&postOnly=true&price=180.5"
        "&quantity=1.5&side=Bid&symbol=SOL_USDC&timeInForce=GTC&timestamp=1700000000000"
        "&window=5000"
    )
    signature = base64.b64encode(signer.sign(plain.encode())).decode()
    assert signature == (
        "8vKkxXE1NAs+5h+3dFRS++zpVdMjxw4e1vsLwrt+cLL0DbIFkZuBRQco72i9GMXTMaBEe1DEiVS5vwmID/ncBA=="
    )


def test_the_batch_string_of_the_spec() -> None:
    orders = [
        {"orderType": "Limit", "price": "141", "quantity": "12", "side": "Bid",
         "symbol": "SOL_USDC_PERP"},
        {"symbol": "SOL_USDC_PERP", "side": "Bid", "orderType": "Limit", "price": "140",
         "quantity": "11"},
    ]  # fmt: skip
    assert signing_strings("orderExecute", orders, 1750793021519, 5000)[0] == (
        "instruction=orderExecute&orderType=Limit&price=141&quantity=12&side=Bid"
        "&symbol=SOL_USDC_PERP&instruction=orderExecute&orderType=Limit&price=140&quantity=11"
        "&side=Bid&symbol=SOL_USDC_PERP&timestamp=1750793021519&window=5000"
    )


def test_no_parameters_and_the_clients_renderings() -> None:
    assert signing_strings("balanceQuery", {}, 1614550000000, 5000) == [
        "instruction=balanceQuery&timestamp=1614550000000&window=5000"
    ]
    found = signing_strings("orderExecute", {"price": None, "symbol": "A:B"}, 1, 5000)
    assert found == [
        "instruction=orderExecute&symbol=A:B&timestamp=1&window=5000",  # null left out
        "instruction=orderExecute&price=None&symbol=A:B&timestamp=1&window=5000",  # the SDK's
        "instruction=orderExecute&symbol=A%3AB&timestamp=1&window=5000",  # ccxt's encoding
    ]


# Answers ----------------------------------------------------------------------------------------


def test_system_routes(client: TestClient) -> None:
    assert client.get("/api/v1/ping").text == "pong"
    assert abs(int(client.get("/api/v1/time").text) - time.time() * 1000) < 60_000
    assert client.get("/api/v1/status").json() == {"status": "Ok", "message": None}
    assert client.get("/api/v1/securities").json() == []
    by_path = client.get(f"/api/v1/markets/{SYMBOL}").json()
    assert by_path == client.get("/api/v1/market", params={"symbol": SYMBOL}).json()
    assert by_path["createdAt"].count(":") == 2
    assert not by_path["createdAt"].endswith("Z")


def test_a_trade_in_every_public_view(client: TestClient) -> None:
    ask = {"symbol": SYMBOL, "side": "Ask", "orderType": "Limit", "price": "0.60",
           "quantity": "10.00"}  # fmt: skip
    placed = send(client, "POST", "/api/v1/order", "seller", "orderExecute", ask)
    assert placed.status_code == 200, placed.text
    bid = {**ask, "side": "Bid", "quantity": "4.00", "timeInForce": "IOC"}
    taken = send(client, "POST", "/api/v1/order", "buyer", "orderExecute", bid).json()
    assert (taken["status"], taken["executedQuoteQuantity"]) == ("Filled", "2.40")
    depth = client.get("/api/v1/depth", params={"symbol": SYMBOL, "limit": 5}).json()
    assert depth["asks"][0] == ["0.60", "6.00"]
    assert isinstance(depth["lastUpdateId"], str)
    ticker = client.get("/api/v1/ticker", params={"symbol": SYMBOL}).json()
    assert ticker["lastPrice"] == "0.60"
    assert ticker["volume"] == "4.00"
    assert all(isinstance(v, str) for v in ticker.values())
    assert [t["symbol"] for t in client.get("/api/v1/tickers").json()] == [SYMBOL, world.HALTED]
    now = int(time.time())
    klines = client.get("/api/v1/klines", params={"symbol": SYMBOL, "interval": "1m",
                                                  "startTime": now - 3600}).json()  # fmt: skip
    assert klines[-1]["close"] == "0.60"
    assert len(klines[-1]["start"]) == 19
    assert klines[-1]["start"][10] == " "
    history = client.get("/api/v1/trades/history",
                         params={"symbol": SYMBOL, "limit": 1, "offset": 0}).json()  # fmt: skip
    assert history[0]["quoteQuantity"] == "2.40"
    assert isinstance(history[0]["id"], int)
    cancelled = send(client, "DELETE", "/api/v1/orders", "seller", "orderCancelAll",
                     {"symbol": SYMBOL}).json()  # fmt: skip
    assert [o["status"] for o in cancelled] == ["Cancelled"]
    none_left = send(client, "DELETE", "/api/v1/orders", "seller", "orderCancelAll",
                     {"symbol": SYMBOL})  # fmt: skip
    assert none_left.json() == []


def test_account_and_deposits(client: TestClient) -> None:
    account = send(client, "GET", "/api/v1/account", "buyer", "accountQuery").json()
    assert account["limitOrders"] == 500
    assert account["spotTakerFee"] == "0"
    deposits = send(client, "GET", "/wapi/v1/capital/deposits", "buyer", "depositQueryAll").json()
    assert [(d["symbol"], d["quantity"], d["status"]) for d in deposits] == [
        ("USD", "100000.00", "confirmed")
    ]


def test_headers_are_case_insensitive(client: TestClient) -> None:
    signed = {k.lower(): v for k, v in headers("buyer", "orderQueryAll", {}).items()}
    answer = client.get("/api/v1/orders", headers=signed)
    assert answer.status_code == 200, answer.text
    upper = {k.upper(): v for k, v in headers("buyer", "orderQueryAll", {}).items()}
    assert client.get("/api/v1/orders", headers=upper).status_code == 200


def test_the_sdks_explicit_false_and_a_string_client_id(client: TestClient) -> None:
    body = {"orderType": "Limit", "symbol": SYMBOL, "side": "Bid", "price": "0.10",
            "quantity": "1.00", "postOnly": False, "clientId": 77}  # fmt: skip
    placed = send(client, "POST", "/api/v1/order", "buyer", "orderExecute", body).json()
    assert placed["postOnly"] is False
    found = send(client, "GET", "/api/v1/order", "buyer", "orderQuery",
                 symbol=SYMBOL, clientId="77").json()  # fmt: skip
    assert found["id"] == placed["id"]
    gone = send(client, "DELETE", "/api/v1/order", "buyer", "orderCancel",
                {"symbol": SYMBOL, "clientId": "77"}).json()  # fmt: skip
    assert gone["status"] == "Cancelled"


# Refusals ---------------------------------------------------------------------------------------


def test_refusals_of_the_order_routes(client: TestClient, log: LogService) -> None:
    before = log.size
    order = {"symbol": SYMBOL, "side": "Bid", "orderType": "Limit", "price": "0.10",
             "quantity": "1.00"}  # fmt: skip
    message = refused(send(client, "POST", "/api/v1/order", "buyer", "orderExecute", [order]),
                      400, "INVALID_CLIENT_REQUEST")  # fmt: skip
    assert "OrderExecutePayload" in message
    refused(send(client, "DELETE", "/api/v1/order", "buyer", "orderCancel",
                 {"symbol": SYMBOL, "orderId": "1"}), 404, "RESOURCE_NOT_FOUND")  # fmt: skip
    refused(send(client, "GET", "/api/v1/order", "buyer", "orderQuery", symbol=SYMBOL,
                 orderId="1", clientId="2"), 400, "INVALID_CLIENT_REQUEST")  # fmt: skip
    refused(send(client, "POST", "/api/v1/order", "buyer", "orderExecute",
                 {**order, "reduceOnly": True}), 400, "INVALID_ORDER")  # fmt: skip
    refused(send(client, "POST", "/api/v1/order", "buyer", "orderExecute",
                 {**order, "price": 0.1}), 400, "INVALID_CLIENT_REQUEST")  # fmt: skip
    refused(send(client, "POST", "/api/v1/order", "buyer", "orderExecute",
                 {**order, "side": "Buy"}), 400, "INVALID_CLIENT_REQUEST")  # fmt: skip
    refused(client.get("/api/v1/depth", params={"symbol": SYMBOL, "limit": 7}), 400,
            "INVALID_CLIENT_REQUEST")  # fmt: skip
    refused(client.get("/api/v1/ticker", params={"symbol": "NOPE_USD"}), 400, "INVALID_SYMBOL")
    refused(client.put("/api/v1/order"), 400, "INVALID_CLIENT_REQUEST")
    assert log.size == before


def test_other_routes_keep_their_problems(client: TestClient) -> None:
    answer = client.get("/api/v1/capital")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


# Streams ----------------------------------------------------------------------------------------


def test_a_stream_that_is_not_there_and_an_unsigned_private_one(client: TestClient) -> None:
    with client.websocket_connect("/ws") as socket:
        socket.send_text(json.dumps({"method": "SUBSCRIBE", "params": ["depth.NOPE_USD"]}))
        assert json.loads(socket.receive_text())["error"]["code"] == "INVALID_CLIENT_REQUEST"
        socket.send_text(json.dumps({"method": "SUBSCRIBE", "params": ["account.orderUpdate"]}))
        assert json.loads(socket.receive_text())["error"]["code"] == "UNAUTHORIZED"
        bad = ["x", "y", "1", "5000"]
        socket.send_text(json.dumps({"method": "SUBSCRIBE", "params": ["account.orderUpdate"],
                                     "signature": bad}))  # fmt: skip
        assert json.loads(socket.receive_text())["error"]["code"] == "INVALID_SIGNATURE"


# The trader's authorisation in the log ----------------------------------------------------------


def test_the_order_event_keeps_the_traders_signed_request(
    client: TestClient, log: LogService
) -> None:
    body = {"symbol": SYMBOL, "side": "Bid", "orderType": "Limit", "price": "0.11",
            "quantity": "2.00", "clientId": 5150}  # fmt: skip
    sent = headers("buyer", "orderExecute", body)
    answer = client.post("/api/v1/order", headers=sent, content=json.dumps(body))
    assert answer.status_code == 200, answer.text
    (leaf,) = log.store.leaves(log.size - 1, log.size)
    event = parse_leaf(leaf).event
    assert event.type == "market.orders_placed"
    assert event.actor == "gateway"
    authorisation = event.payload["authorisation"]
    assert isinstance(authorisation, dict)
    assert authorisation["api_key"] == world.api_key("buyer")
    assert authorisation["signature"] == sent["X-Signature"]
    signed = str(authorisation["signed"])
    assert signed == (
        "instruction=orderExecute&clientId=5150&orderType=Limit&price=0.11&quantity=2.00"
        f"&side=Bid&symbol={SYMBOL}&timestamp={sent['X-Timestamp']}&window=5000"
    )
    signature = base64.b64decode(str(authorisation["signature"]))
    assert world.key("buyer").verifier.verify(signature, signed.encode())
    cancel = {"symbol": SYMBOL, "clientId": 5150}
    gone = send(client, "DELETE", "/api/v1/order", "buyer", "orderCancel", cancel)
    assert gone.status_code == 200, gone.text
    (leaf,) = log.store.leaves(log.size - 1, log.size)
    cancelled = parse_leaf(leaf).event.payload["authorisation"]
    assert isinstance(cancelled, dict)
    assert str(cancelled["signed"]).startswith("instruction=orderCancel&clientId=5150&symbol=")
