"""``reclaim verify`` checks each order's and cancel's trader signature (issue 11, point 5).

Orders and cancels signed by traders reach the log through the Backpack API (the gateway signs
the events, which keep the traders' signed requests); the exported log verifies and the report
counts the traders' signatures it checked. Then an operator who logs an order with a request
the trader never signed — another key's signature, a signature of something else, a request
spent twice, a request for another instruction or market, an old request — makes the log fail
with ``authorisation_invalid`` at that event.
"""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import pytest

from reclaim.adapters.db.store import open_store
from reclaim.adapters.keyfiles import OPERATOR_ACTORS
from reclaim.adapters.log_sources import DirectorySource
from reclaim.app.export import export_log
from reclaim.app.log_service import KeyRing, LogService
from reclaim.bootstrap import ensure_genesis
from reclaim.core import market as mk
from reclaim.core.rejections import Rejection
from reclaim.entrypoints.api.app import create_app
from reclaim.log.keys import SignerKey
from reclaim.verifier import VerifyFailure, VerifyReport, verify_log
from reclaim.verifier.outcome import FailureKind
from tests.api import backpack_world as world
from tests.support.factories import ORIGIN

if TYPE_CHECKING:
    from reclaim.core.machine import Command

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

SYMBOL: Final = world.SYMBOL


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def build(path: Path) -> LogService:
    store = open_store(f"sqlite:///{path / 'log.db'}")
    keys = KeyRing(SignerKey.generate(ORIGIN), {n: SignerKey.generate(n) for n in OPERATOR_ACTORS})
    log = LogService(store, keys, Clock())
    ensure_genesis(log, keys, ORIGIN)
    for outcome in log.submit_many(world.commands()):
        assert not isinstance(outcome, Rejection), outcome
    log.start()
    return log


def submit(log: LogService, command: object) -> object:
    """A market command signed by the gateway, as the market service submits it."""
    return log.submit(cast("Command", command), "gateway")


def signed(name: str, instruction: str, body: dict[str, Any]) -> dict[str, str]:
    ts = int(time.time() * 1000)
    pairs = [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in sorted(body.items())]
    text = "&".join([f"instruction={instruction}", *pairs, f"timestamp={ts}", "window=5000"])
    signature = base64.b64encode(world.key(name).sign(text.encode())).decode()
    return {"X-API-Key": world.api_key(name), "X-Signature": signature, "X-Timestamp": str(ts),
            "X-Window": "5000"}  # fmt: skip


def verify(log: LogService, directory: Path) -> VerifyReport | VerifyFailure:
    log.publish_checkpoint()
    export_log(log.store, log.state, directory)
    return verify_log(DirectorySource(directory), workers=0)


def test_the_verifier_checks_every_traders_signature(tmp_path: Path) -> None:
    log = build(tmp_path)
    try:
        with TestClient(create_app(log)) as client:
            orders = [
                ("seller", {"symbol": SYMBOL, "side": "Ask", "orderType": "Limit",
                            "price": "0.70", "quantity": "10.00"}),
                ("buyer", {"symbol": SYMBOL, "side": "Bid", "orderType": "Limit",
                           "price": "0.70", "quantity": "4.00", "postOnly": False}),
            ]  # fmt: skip
            for name, body in orders:
                answer = client.post("/api/v1/order", headers=signed(name, "orderExecute", body),
                                     content=json.dumps(body))  # fmt: skip
                assert answer.status_code == 200, answer.text
            cancel = {"symbol": SYMBOL}
            answer = client.request("DELETE", "/api/v1/orders", content=json.dumps(cancel),
                                    headers=signed("seller", "orderCancelAll", cancel))  # fmt: skip
            assert answer.status_code == 200, answer.text
        report = verify(log, tmp_path / "public")
        assert isinstance(report, VerifyReport), report
        assert report.authorisations == 3
        assert report.events == log.size
        assert str(report).endswith("; 3 traders' signatures")
    finally:
        log.stop()


def _authorisation(text: str, key: SignerKey, api_key: str | None = None) -> mk.Authorisation:
    signature = base64.b64encode(key.sign(text.encode())).decode()
    return mk.Authorisation(api_key or world.api_key("buyer"), text, signature)


def _request(instruction: str = "orderExecute", symbol: str = SYMBOL, ts: int | None = None
             ) -> str:  # fmt: skip
    stamp = int(time.time() * 1000) if ts is None else ts
    return (f"instruction={instruction}&orderType=Limit&price=0.10&quantity=1.00&side=Bid"
            f"&symbol={symbol}&timestamp={stamp}&window=5000")  # fmt: skip


FORGED: Final[dict[str, Callable[[], mk.Authorisation]]] = {
    "another key's signature": lambda: _authorisation(_request(), world.key("mei")),
    "another trader's key": lambda: _authorisation(_request(), world.key("mei"),
                                                   world.api_key("mei")),
    "a signature of another request": lambda: mk.Authorisation(
        world.api_key("buyer"), _request(symbol=world.HALTED),
        _authorisation(_request(), world.key("buyer")).signature,
    ),
    "another instruction": lambda: _authorisation(_request("orderCancel"), world.key("buyer")),
    "another market": lambda: _authorisation(_request(symbol=world.HALTED), world.key("buyer")),
    "an old request": lambda: _authorisation(_request(ts=1_600_000_000_000), world.key("buyer")),
}  # fmt: skip


@pytest.mark.parametrize("case", [*FORGED, "a request spent twice"])
def test_an_order_its_trader_did_not_sign_fails(tmp_path: Path, case: str) -> None:
    log = build(tmp_path)
    try:
        order = mk.OrderRequest(SYMBOL, mk.Side.Bid, mk.OrderType.Limit, quantity_steps=1,
                                price_ticks=10)  # fmt: skip
        if case == "a request spent twice":
            once = _authorisation(_request(), world.key("buyer"))
            first = submit(log, mk.PlaceOrders("buyer", (order,), once))
            assert not isinstance(first, Rejection), first
            authorisation = once
        else:
            authorisation = FORGED[case]()
        outcome = submit(log, mk.PlaceOrders("buyer", (order,), authorisation))
        assert not isinstance(outcome, Rejection), outcome  # the core keeps it as data
        found = verify(log, tmp_path / "public")
        assert isinstance(found, VerifyFailure), found
        assert found.kind is FailureKind.authorisation_invalid
        assert found.seq == log.size - 1
    finally:
        log.stop()
