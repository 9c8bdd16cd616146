"""Issue 9, finding 7: the signing string of reclaim's own instructions is injective.

Backpack's signing string (``instruction=...&k=v&...&timestamp=..&window=..``) writes parameters
raw, so one value ``a=1&b=2`` and the two values ``a=1``, ``b=2`` sign the same bytes: a signature
made for one request verifies for another. At ``fd0c56d`` the attack below worked on a real
app: alice's signed ``GET /ledger/accounts/alice/USD/creditor_available/transfers?limit=5``
(parameters ``account_id`` and ``limit``) verified for the path
``/ledger/accounts/alice/USD/creditor_available&limit=5/transfers`` (one parameter
``account_id``), which got past authentication to the route (404). Now reclaim's instructions
percent-encode keys and values (RFC 3986 unreserved set), so that request is
``signature_invalid``; Backpack's instructions keep Backpack's exact bytes: the verified vector
of ``/work/shared/api/BACKPACK.md`` section 3.7 (ccxt, bpx-py and Backpack's SDK agree on it)
still comes out.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Final
from urllib.parse import quote

import pytest

from reclaim.adapters.memory_store import MemoryEventStore
from reclaim.app.log_service import Accepted, LogService
from reclaim.app.request_signing import Param, sign_request, signing_string
from reclaim.core.ledger import DEBITS_MUST_NOT_EXCEED_CREDITS, Account, OpenAccounts
from reclaim.core.machine import Command, Genesis, RegisterActor
from reclaim.entrypoints.api.app import create_app
from reclaim.log.keys import SignerKey
from tests.api.conftest import FIXED_TIME, FixedClock, new_keys
from tests.support.factories import ORIGIN

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

FIXED_MS: Final = int(FIXED_TIME.timestamp()) * 1000
ACCOUNT: Final = "alice/USD/creditor_available"
D: Final = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})

# The signing string ------------------------------------------------------------------------------


@pytest.mark.parametrize("instruction", ["ledgerHistoryQuery", "payoutElect", "kycDecide"])
def test_one_value_and_two_values_sign_different_bytes(instruction: str) -> None:
    one: dict[str, Param] = {"a": "1&b=2"}
    two: dict[str, Param] = {"a": "1", "b": "2"}
    assert signing_string(instruction, one, 1, 5000) != signing_string(instruction, two, 1, 5000)
    assert signing_string(instruction, one, 1, 5000) == (
        f"instruction={instruction}&a=1%26b%3D2&timestamp=1&window=5000".encode()
    )
    assert signing_string(instruction, two, 1, 5000) == (
        f"instruction={instruction}&a=1&b=2&timestamp=1&window=5000".encode()
    )


def test_a_key_holding_an_equals_sign_is_not_a_value() -> None:
    """``{"a=b": "c"}`` and ``{"a": "b=c"}`` were both ``a=b=c``."""
    assert signing_string("payoutElect", {"a=b": "c"}, 1, 5000) != (
        signing_string("payoutElect", {"a": "b=c"}, 1, 5000)
    )


def test_a_parameter_cannot_pose_as_the_timestamp() -> None:
    """A value ending ``&timestamp=2&window=9`` was the string of another timestamp and window."""
    forged = signing_string("payoutElect", {"a": "1&timestamp=2&window=9"}, 3, 4)
    assert forged != signing_string("payoutElect", {"a": "1"}, 2, 9)
    assert forged.endswith(b"&timestamp=3&window=4")
    assert forged.count(b"&") == 3


def test_reclaims_values_are_utf8_percent_encoded_but_the_unreserved_set() -> None:
    value = "Zoë Ünal / 10:00 ~a.b_c-d 中"
    assert signing_string("kycSubmit", {"name": value}, 1, 5000) == (
        b"instruction=kycSubmit&name=Zo%C3%AB%20%C3%9Cnal%20%2F%2010%3A00%20~a.b_c-d%20%E4%B8%AD"
        b"&timestamp=1&window=5000"
    )
    assert quote(value, safe="") in signing_string("kycSubmit", {"name": value}, 1, 5000).decode()


def test_plain_values_sign_the_same_bytes_under_both_rules() -> None:
    params: dict[str, Param] = {"limit": 5, "asset": "USD", "id": "t-dep_1.2", "all": True}
    raw = b"asset=USD&id=t-dep_1.2&limit=5&all=true"
    for instruction in ("balanceQuery", "ledgerHistoryQuery"):
        message = signing_string(instruction, params, 1, 5000)
        assert (
            message
            == b"instruction="
            + instruction.encode()
            + b"&all=true&asset=USD&id=t-dep_1.2&limit=5&timestamp=1&window=5000"
        )
        assert sorted(raw.split(b"&")) == sorted(message.split(b"&")[1:-2])


def test_backpack_instructions_keep_backpacks_raw_rendering() -> None:
    assert signing_string("withdraw", {"address": "a/b c"}, 1, 5000) == (
        b"instruction=withdraw&address=a/b c&timestamp=1&window=5000"
    )
    assert signing_string(
        "orderCancel", {"symbol": "BTC_USDT", "orderId": 28}, 1614550000000, 5000
    ) == (b"instruction=orderCancel&orderId=28&symbol=BTC_USDT&timestamp=1614550000000&window=5000")


#: BACKPACK.md section 3.7: seed 00 01 ... 1f, timestamp 1700000000000, window 5000.
BACKPACK_VECTOR_STRING: Final = (
    b"instruction=orderExecute&clientId=1001&orderType=Limit&postOnly=true&price=180.5"
    b"&quantity=1.5&side=Bid&symbol=SOL_USDC&timeInForce=GTC&timestamp=1700000000000&window=5000"
)
BACKPACK_VECTOR_KEY: Final = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
BACKPACK_VECTOR_SIGNATURE: Final = (
    "8vKkxXE1NAs+5h+3dFRS++zpVdMjxw4e1vsLwrt+cLL0DbIFkZuBRQco72i9GMXTMaBEe1DEiVS5vwmID/ncBA=="
)


def test_backpacks_verified_vector_is_unchanged() -> None:
    key = SignerKey.from_seed("backpack", bytes(range(32)))
    params: dict[str, Param] = {
        "clientId": 1001,
        "orderType": "Limit",
        "postOnly": True,
        "price": "180.5",
        "quantity": "1.5",
        "side": "Bid",
        "symbol": "SOL_USDC",
        "timeInForce": "GTC",
    }
    assert signing_string("orderExecute", params, 1700000000000, 5000) == BACKPACK_VECTOR_STRING
    headers = sign_request(key, "orderExecute", params, 1700000000000, 5000)
    assert headers == {
        "X-API-Key": BACKPACK_VECTOR_KEY,
        "X-Signature": BACKPACK_VECTOR_SIGNATURE,
        "X-Timestamp": "1700000000000",
        "X-Window": "5000",
    }


# The attack on a real app ------------------------------------------------------------------------


@pytest.fixture
def app_and_alice() -> Iterator[tuple[TestClient, SignerKey]]:
    ring = new_keys()
    log = LogService(MemoryEventStore(), ring, FixedClock())
    alice = SignerKey.generate("alice")
    admin, log_key = ring.for_actor("admin").verifier, ring.log_signer.verifier

    def key(name: str) -> str:
        return ring.for_actor(name).verifier.to_text()

    account = Account.of("alice", "USD", "creditor_available", D)
    commands: list[tuple[Command, str]] = [
        (Genesis(ORIGIN, "admin", admin.to_text(), log_key.to_text()), "admin"),
        (RegisterActor("gateway", "gateway", key("gateway")), "admin"),
        (RegisterActor("treasury-1", "treasury", key("treasury-1")), "admin"),
        (RegisterActor("alice", "creditor", alice.verifier.to_text()), "gateway"),
        (OpenAccounts((account,)), "treasury-1"),
    ]
    outcomes = log.submit_many(commands)
    assert all(isinstance(o, Accepted) for o in outcomes), outcomes
    with TestClient(create_app(log)) as client:
        yield client, alice


def test_a_signature_for_two_parameters_does_not_verify_for_one(
    app_and_alice: tuple[TestClient, SignerKey],
) -> None:
    client, alice = app_and_alice
    signed = sign_request(
        alice, "ledgerHistoryQuery", {"account_id": ACCOUNT, "limit": 5}, FIXED_MS
    )
    # The attacker's request: the same headers, one parameter holding "...&limit=5".
    forged = client.get(f"/ledger/accounts/{ACCOUNT}&limit=5/transfers", headers=signed)
    assert (forged.status_code, forged.json()["code"]) == (401, "signature_invalid"), forged.text
    honest = client.get(
        f"/ledger/accounts/{ACCOUNT}/transfers", params={"limit": 5}, headers=signed
    )
    assert honest.status_code == 200, honest.text
    assert honest.json() == {"account_id": ACCOUNT, "transfers": [], "next": None}
