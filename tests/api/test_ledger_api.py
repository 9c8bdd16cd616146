"""The ledger API with real signed requests: every endpoint's exact answer, then every refusal.

The log (built once per module and store, memory and SQLite; every event at ``FIXED_TIME``)::

    seq 0     log.genesis (admin)
    seq 1-2   actor.registered by the admin: treasury-1 (treasury), gateway (gateway)
    seq 3-5   actor.registered by the gateway: alice, bob, carol (creditors), each with a key
              generated here, as a user's client would
    seq 6-7   actor.key_added carol's second key; actor.key_revoked carol's first (by the admin)
    seq 8     ledger.accounts_opened by treasury-1 (the accounts below)
    seq 9     t-dep-1   operator/USD/rail_settlement → alice/USD/creditor_available  100.00
    seq 10    t-dep-2   operator/EUR/rail_settlement → alice/EUR/creditor_available   12.34
    seq 11    t-dep-3   operator/USD/rail_settlement → bob/USD/creditor_available     50.00
    seq 12    t-trade   alice USD → bob USD 7.50 (refs order o-1)
    seq 13    w-1       alice USD → rail, PENDING 25.00, timeout 3600 s (refs withdrawal w-1)
    seq 14    c-1, c-2, c-3: one atomic chain, alice → bob 1.00, bob → alice 0.40,
              alice → bob 0.10
    seq 15    esc-1     rail USD → alice/USD/claim_escrow 5.00 (distribution)

alice/USD/creditor_available: credits 10000 + 40 = 10040, debits 750 + 100 + 10 = 860, pending
debits 2500: available 66.80, locked 25.00. bob/USD: credits 5000 + 750 + 100 + 10 = 5860,
debits 40: available 58.20.
"""

from __future__ import annotations

import base64
import itertools
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import httpx
import pytest
import uvicorn

from reclaim.app.log_service import Accepted, LogService
from reclaim.app.request_signing import Param, sign_request
from reclaim.core import limits
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    PENDING,
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
)
from reclaim.core.machine import AddKey, Command, Genesis, RegisterActor, RevokeKey
from reclaim.entrypoints.api.app import create_app
from reclaim.entrypoints.api.auth import Authenticator, ReplayGuard
from reclaim.entrypoints.api.problems import RequestReplayedError
from reclaim.log.keys import SignerKey
from tests.api.conftest import FIXED_TIME, ClientFactory, FixedClock, StoreFactory, new_keys
from tests.support.factories import ORIGIN

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

PROBLEM_TYPE: Final = "application/problem+json"
FIXED_MS: Final = int(FIXED_TIME.timestamp()) * 1000
TIME: Final = "2026-11-25T12:00:00.000000Z"
D: Final = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
C: Final = frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})
ALICE_USD: Final = "alice/USD/creditor_available"
ALICE_EUR: Final = "alice/EUR/creditor_available"
BOB_USD: Final = "bob/USD/creditor_available"
RAIL_USD: Final = "operator/USD/rail_settlement"
RAIL_EUR: Final = "operator/EUR/rail_settlement"
ESCROW: Final = "alice/USD/claim_escrow"
ORDER: Final = {"order": "o-1"}

#: Every request gets its own timestamp (within the default window of the fixed clock), so no
#: two requests have the same signature and none is taken for a replay.
_ticks = itertools.count(1)


@dataclass(frozen=True, slots=True)
class LedgerLog:
    log: LogService
    keys: dict[str, SignerKey]  # creditors' own keys, and the operators' role keys
    carol_revoked: SignerKey


def transfer(ident: str, debit: str, credit: str, amount: int, code: str, **kw: Any) -> Transfer:
    return Transfer(ident, debit, credit, debit.split("/")[1], amount, code, **kw)


@pytest.fixture(scope="module")
def ledger_log(store_factory: StoreFactory) -> LedgerLog:
    ring = new_keys()
    log = LogService(store_factory(), ring, FixedClock())
    users = {name: SignerKey.generate(name) for name in ("alice", "bob", "carol")}
    carol_first, carol_next = users["carol"], SignerKey.generate("carol")
    admin, log_key = ring.for_actor("admin").verifier, ring.log_signer.verifier

    def text(key: SignerKey) -> str:
        return key.verifier.to_text()

    commands: list[tuple[Command, str]] = [
        (Genesis(ORIGIN, "admin", admin.to_text(), log_key.to_text()), "admin"),
        (RegisterActor("treasury-1", "treasury", text(ring.for_actor("treasury-1"))), "admin"),
        (RegisterActor("gateway", "gateway", text(ring.for_actor("gateway"))), "admin"),
        *((RegisterActor(n, "creditor", text(k)), "gateway") for n, k in users.items()),
        (AddKey("carol", text(carol_next)), "admin"),
        (RevokeKey("carol", carol_first.key_id.hex()), "admin"),
    ]
    accounts = (
        Account.of("operator", "USD", "rail_settlement", C),
        Account.of("operator", "EUR", "rail_settlement", C),
        Account.of("alice", "USD", "creditor_available", D),
        Account.of("alice", "EUR", "creditor_available", D),
        Account.of("alice", "USD", "claim_escrow", D),
        Account.of("bob", "USD", "creditor_available", D),
        Account.of("carol", "USD", "creditor_available", D),
    )
    withdrawal = transfer(
        "w-1", ALICE_USD, RAIL_USD, 2_500, "withdrawal",
        refs={"withdrawal": "w-1"}, kind=PENDING, timeout_seconds=3600,
    )  # fmt: skip
    chain = (
        transfer("c-1", ALICE_USD, BOB_USD, 100, "trade"),
        transfer("c-2", BOB_USD, ALICE_USD, 40, "trade"),
        transfer("c-3", ALICE_USD, BOB_USD, 10, "trade"),
    )
    moves: list[Command] = [
        OpenAccounts(accounts),
        CreateTransfers((transfer("t-dep-1", RAIL_USD, ALICE_USD, 10_000, "deposit"),)),
        CreateTransfers((transfer("t-dep-2", RAIL_EUR, ALICE_EUR, 1_234, "deposit"),)),
        CreateTransfers((transfer("t-dep-3", RAIL_USD, BOB_USD, 5_000, "deposit"),)),
        CreateTransfers((transfer("t-trade", ALICE_USD, BOB_USD, 750, "trade", refs=ORDER),)),
        CreateTransfers((withdrawal,)),
        CreateTransfers(chain, atomic=True),
        CreateTransfers((transfer("esc-1", RAIL_USD, ESCROW, 500, "distribution"),)),
    ]
    commands += [(m, "treasury-1") for m in moves]
    outcomes = log.submit_many(commands)
    assert all(isinstance(o, Accepted) for o in outcomes), outcomes
    assert log.size == 16
    keys = {**users, "carol": carol_next}
    keys |= {name: ring.for_actor(name) for name in ("treasury-1", "gateway", "admin")}
    return LedgerLog(log, keys, carol_first)


@pytest.fixture
def client(ledger_log: LedgerLog, make_client: ClientFactory) -> TestClient:
    return make_client(ledger_log.log)


def headers(
    key: SignerKey,
    instruction: str,
    params: Mapping[str, Param] | None = None,
    *,
    timestamp_ms: int | None = None,
    window_ms: int = limits.request_window_default_ms,
) -> dict[str, str]:
    stamp = FIXED_MS - next(_ticks) if timestamp_ms is None else timestamp_ms
    return sign_request(key, instruction, params or {}, stamp, window_ms)


def get(
    client: TestClient | httpx.Client,
    key: SignerKey,
    instruction: str,
    path: str,
    signed: Mapping[str, Param] | None = None,
    query: Mapping[str, str] | None = None,
) -> httpx.Response:
    """GET ``path`` signed by ``key``: ``signed`` are the path and query parameters."""
    return client.get(path, params=query, headers=headers(key, instruction, signed))


def assert_problem(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_TYPE
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"] == f"urn:reclaim:problem:{code}"
    detail: str = body["detail"]
    return detail


def assert_ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    return response.json()


# GET /api/v1/capital (Backpack's balanceQuery) ------------------------------------------------


def test_capital_is_the_callers_available_and_locked_balances(
    client: TestClient, ledger_log: LedgerLog
) -> None:
    keys = ledger_log.keys
    alice = assert_ok(get(client, keys["alice"], "balanceQuery", "/api/v1/capital"))
    assert alice == {
        "USD": {"available": "66.80", "locked": "25.00", "staked": "0"},
        "EUR": {"available": "12.34", "locked": "0.00", "staked": "0"},
    }
    bob = assert_ok(get(client, keys["bob"], "balanceQuery", "/api/v1/capital"))
    assert bob == {"USD": {"available": "58.20", "locked": "0.00", "staked": "0"}}
    carol = assert_ok(get(client, keys["carol"], "balanceQuery", "/api/v1/capital"))
    assert carol == {"USD": {"available": "0.00", "locked": "0.00", "staked": "0"}}
    treasury = assert_ok(get(client, keys["treasury-1"], "balanceQuery", "/api/v1/capital"))
    assert treasury == {}  # an operator owns no accounts under its own name


# GET /ledger/accounts/{id} --------------------------------------------------------------------


ALICE_USD_ANSWER: Final = {
    "id": ALICE_USD,
    "owner": "alice",
    "asset": "USD",
    "purpose": "creditor_available",
    "flags": ["debits_must_not_exceed_credits"],
    "debits_posted": "860",
    "credits_posted": "10040",
    "debits_pending": "2500",
    "credits_pending": "0",
    "formatted": {
        "debits_posted": "8.60",
        "credits_posted": "100.40",
        "debits_pending": "25.00",
        "credits_pending": "0.00",
    },
    "opened_seq": "8",
    "updated_seq": "14",
}


def test_an_account_has_its_four_columns_raw_and_formatted(
    client: TestClient, ledger_log: LedgerLog
) -> None:
    path = f"/ledger/accounts/{ALICE_USD}"
    signed = {"account_id": ALICE_USD}
    answer = get(client, ledger_log.keys["alice"], "ledgerAccountQuery", path, signed)
    assert assert_ok(answer) == ALICE_USD_ANSWER

    rail = get(client, ledger_log.keys["treasury-1"], "ledgerAccountQuery",
               f"/ledger/accounts/{RAIL_USD}", {"account_id": RAIL_USD})  # fmt: skip
    assert assert_ok(rail) == {
        "id": RAIL_USD, "owner": "operator", "asset": "USD", "purpose": "rail_settlement",
        "flags": ["credits_must_not_exceed_debits"], "debits_posted": "15500",
        "credits_posted": "0", "debits_pending": "0", "credits_pending": "2500",
        "formatted": {"debits_posted": "155.00", "credits_posted": "0.00",
                      "debits_pending": "0.00", "credits_pending": "25.00"},
        "opened_seq": "8", "updated_seq": "15",
    }  # fmt: skip


def test_an_operator_reads_any_account(client: TestClient, ledger_log: LedgerLog) -> None:
    for operator in ("treasury-1", "admin"):
        answer = get(client, ledger_log.keys[operator], "ledgerAccountQuery",
                     f"/ledger/accounts/{ALICE_USD}", {"account_id": ALICE_USD})  # fmt: skip
        assert assert_ok(answer) == ALICE_USD_ANSWER


# GET /ledger/transfers/{id} -------------------------------------------------------------------


def test_a_transfer_by_id(client: TestClient, ledger_log: LedgerLog) -> None:
    answer = get(client, ledger_log.keys["alice"], "transferQuery", "/ledger/transfers/w-1",
                 {"transfer_id": "w-1"})  # fmt: skip
    assert assert_ok(answer) == {
        "id": "w-1", "seq": "13", "kind": "pending", "debit_account_id": ALICE_USD,
        "credit_account_id": RAIL_USD, "asset": "USD", "amount_minor": "2500",
        "amount": "25.00", "code": "withdrawal", "refs": {"withdrawal": "w-1"},
        "pending_id": "", "timeout_seconds": "3600", "created_at": TIME,
        "expires_at": "2026-11-25T13:00:00.000000Z", "status": "pending",
        "posted_minor": "0", "posted": "0.00", "updated_seq": "13",
    }  # fmt: skip
    # bob is the credit side of c-1: he reads it too.
    by_bob = get(client, ledger_log.keys["bob"], "transferQuery", "/ledger/transfers/c-1",
                 {"transfer_id": "c-1"})  # fmt: skip
    assert assert_ok(by_bob)["amount"] == "1.00"


# GET /ledger/accounts/{id}/transfers ----------------------------------------------------------


def render(ident: str, seq: int, debit: str, credit: str, amount: str, code: str,
           refs: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    minor = str(int(amount.replace(".", "")))
    return {
        "id": ident, "seq": str(seq), "kind": "single", "debit_account_id": debit,
        "credit_account_id": credit, "asset": "USD", "amount_minor": minor, "amount": amount,
        "code": code, "refs": refs or {}, "pending_id": "", "timeout_seconds": "0",
        "created_at": TIME, "expires_at": "", "status": "posted", "posted_minor": "0",
        "posted": "0.00", "updated_seq": str(seq),
    }  # fmt: skip


ALICE_HISTORY: Final = [
    render("c-3", 14, ALICE_USD, BOB_USD, "0.10", "trade"),
    render("c-2", 14, BOB_USD, ALICE_USD, "0.40", "trade"),
    render("c-1", 14, ALICE_USD, BOB_USD, "1.00", "trade"),
    {
        **render("w-1", 13, ALICE_USD, RAIL_USD, "25.00", "withdrawal", {"withdrawal": "w-1"}),
        "kind": "pending",
        "timeout_seconds": "3600",
        "status": "pending",
        "expires_at": "2026-11-25T13:00:00.000000Z",
    },
    render("t-trade", 12, ALICE_USD, BOB_USD, "7.50", "trade", {"order": "o-1"}),
    render("t-dep-1", 9, RAIL_USD, ALICE_USD, "100.00", "deposit"),
]


def history_page(
    client: TestClient, key: SignerKey, account: str, query: dict[str, str]
) -> httpx.Response:
    return get(client, key, "ledgerHistoryQuery", f"/ledger/accounts/{account}/transfers",
               {"account_id": account, **query}, query)  # fmt: skip


def test_the_history_is_newest_first_and_pages_by_the_cursor(
    client: TestClient, ledger_log: LedgerLog
) -> None:
    alice = ledger_log.keys["alice"]
    whole = assert_ok(history_page(client, alice, ALICE_USD, {}))
    assert whole == {"account_id": ALICE_USD, "transfers": ALICE_HISTORY, "next": None}

    pages, query = [], {"limit": "2"}
    while True:
        page = assert_ok(history_page(client, alice, ALICE_USD, query))
        pages.append([t["id"] for t in page["transfers"]])
        if page["next"] is None:
            break
        query = {"limit": "2", **page["next"]}
    assert pages == [["c-3", "c-2"], ["c-1", "w-1"], ["t-trade", "t-dep-1"]]

    first = assert_ok(history_page(client, alice, ALICE_USD, {"limit": "2"}))
    assert first["next"] == {"before": "14", "before_id": "c-2"}
    older = assert_ok(history_page(client, alice, ALICE_USD, {"before": "13"}))
    assert [t["id"] for t in older["transfers"]] == ["t-trade", "t-dep-1"]
    assert older["next"] is None


def test_before_id_needs_before(client: TestClient, ledger_log: LedgerLog) -> None:
    answer = history_page(client, ledger_log.keys["alice"], ALICE_USD, {"before_id": "c-2"})
    assert assert_problem(answer, 400, "invalid_parameter") == "before_id needs before"


# Refusals: whose data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "instruction", "path", "signed"),
    [
        ("bob", "ledgerAccountQuery", f"/ledger/accounts/{ALICE_USD}", {"account_id": ALICE_USD}),
        ("alice", "ledgerAccountQuery", f"/ledger/accounts/{BOB_USD}", {"account_id": BOB_USD}),
        ("gateway", "ledgerAccountQuery", f"/ledger/accounts/{BOB_USD}", {"account_id": BOB_USD}),
        ("alice", "ledgerAccountQuery", "/ledger/accounts/ghost/USD/fees",
         {"account_id": "ghost/USD/fees"}),
        ("bob", "ledgerHistoryQuery", f"/ledger/accounts/{ALICE_USD}/transfers",
         {"account_id": ALICE_USD}),
        ("alice", "transferQuery", "/ledger/transfers/t-dep-3", {"transfer_id": "t-dep-3"}),
        ("carol", "transferQuery", "/ledger/transfers/c-1", {"transfer_id": "c-1"}),
        ("alice", "transferQuery", "/ledger/transfers/nope", {"transfer_id": "nope"}),
    ],
)  # fmt: skip
def test_another_users_data_is_not_found_like_a_missing_id(
    client: TestClient,
    ledger_log: LedgerLog,
    who: str,
    instruction: str,
    path: str,
    signed: dict[str, str],
) -> None:
    answer = get(client, ledger_log.keys[who], instruction, path, signed)
    ident = next(iter(signed.values()))
    kind = "transfer" if "transfer_id" in signed else "account"
    assert assert_problem(answer, 404, "not_found") == f"no {kind} {ident!r}"


# Refusals: the signature ------------------------------------------------------------------------


def capital(client: TestClient, request_headers: dict[str, str]) -> httpx.Response:
    response: httpx.Response = client.get("/api/v1/capital", headers=request_headers)
    return response


def test_an_unsigned_request_is_refused(client: TestClient, ledger_log: LedgerLog) -> None:
    assert_problem(capital(client, {}), 401, "signature_missing")
    signed = headers(ledger_log.keys["alice"], "balanceQuery")
    del signed["X-Signature"]
    detail = assert_problem(capital(client, signed), 401, "signature_missing")
    assert detail == "missing X-Signature"


def test_a_wrong_signature_is_refused(client: TestClient, ledger_log: LedgerLog) -> None:
    alice, bob = ledger_log.keys["alice"], ledger_log.keys["bob"]
    forged = headers(bob, "balanceQuery") | {"X-API-Key": headers(alice, "x")["X-API-Key"]}
    detail = assert_problem(capital(client, forged), 401, "signature_invalid")
    assert detail == "X-Signature does not verify"
    other_instruction = headers(alice, "orderExecute")
    assert_problem(capital(client, other_instruction), 401, "signature_invalid")


def test_a_signature_names_its_resource(client: TestClient, ledger_log: LedgerLog) -> None:
    """Signed for alice's account, sent for bob's: refused before anyone's data is read."""
    signed = headers(ledger_log.keys["bob"], "ledgerAccountQuery", {"account_id": ALICE_USD})
    answer = client.get(f"/ledger/accounts/{BOB_USD}", headers=signed)
    assert_problem(answer, 401, "signature_invalid")
    history = headers(ledger_log.keys["alice"], "ledgerHistoryQuery",
                      {"account_id": ALICE_USD, "limit": "2"})  # fmt: skip
    tampered = client.get(f"/ledger/accounts/{ALICE_USD}/transfers?limit=3", headers=history)
    assert_problem(tampered, 401, "signature_invalid")


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"X-API-Key": "not base64!"}, "X-API-Key is not base64"),
        ({"X-API-Key": base64.b64encode(b"short").decode()}, "X-API-Key is 5 bytes, not 32"),
        ({"X-Signature": base64.b64encode(bytes(63)).decode()}, "X-Signature is 63 bytes, not 64"),
        ({"X-Timestamp": "+1764072000000"}, "X-Timestamp is not a decimal integer of milliseconds"),
        ({"X-Window": "60001"}, "X-Window must be 1 to 60000 ms"),
        ({"X-Window": "0"}, "X-Window must be 1 to 60000 ms"),
    ],
)
def test_malformed_headers_are_an_invalid_signature(
    client: TestClient, ledger_log: LedgerLog, change: dict[str, str], detail: str
) -> None:
    signed = headers(ledger_log.keys["alice"], "balanceQuery") | change
    assert assert_problem(capital(client, signed), 401, "signature_invalid") == detail


def test_a_parameter_given_twice_is_refused(client: TestClient, ledger_log: LedgerLog) -> None:
    signed = headers(ledger_log.keys["alice"], "ledgerHistoryQuery",
                     {"account_id": ALICE_USD, "limit": "2"})  # fmt: skip
    answer = client.get(f"/ledger/accounts/{ALICE_USD}/transfers?limit=2&limit=2", headers=signed)
    assert assert_problem(answer, 401, "signature_invalid") == "parameter 'limit' is given twice"


@pytest.mark.parametrize(
    ("offset_ms", "window_ms", "accepted"),
    [
        (-5_000, 5_000, True),
        (-5_001, 5_000, False),
        (5_000, 5_000, True),
        (5_001, 5_000, False),
        (-60_000, 60_000, True),
        (-60_001, 60_000, False),
        (-2, 1, False),
    ],
)
def test_the_timestamp_must_be_within_its_window(
    client: TestClient, ledger_log: LedgerLog, offset_ms: int, window_ms: int, accepted: bool
) -> None:
    signed = headers(ledger_log.keys["alice"], "balanceQuery",
                     timestamp_ms=FIXED_MS + offset_ms, window_ms=window_ms)  # fmt: skip
    answer = capital(client, signed)
    if accepted:
        assert_ok(answer)
    else:
        detail = assert_problem(answer, 401, "timestamp_outside_window")
        assert detail == (
            f"X-Timestamp {FIXED_MS + offset_ms} is {-offset_ms} ms from the server's time, "
            f"more than the window of {window_ms} ms"
        )


def test_an_unknown_or_revoked_key_is_refused(client: TestClient, ledger_log: LedgerLog) -> None:
    stranger = SignerKey.generate("alice")  # the right name does not make it alice's key
    detail = assert_problem(capital(client, headers(stranger, "balanceQuery")), 401, "key_unknown")
    assert detail == "X-API-Key is not a live key of an actor"
    revoked = headers(ledger_log.carol_revoked, "balanceQuery")
    assert_problem(capital(client, revoked), 401, "key_unknown")
    assert_ok(capital(client, headers(ledger_log.keys["carol"], "balanceQuery")))


def test_a_replayed_request_is_refused(client: TestClient, ledger_log: LedgerLog) -> None:
    signed = headers(ledger_log.keys["alice"], "balanceQuery")
    assert_ok(capital(client, signed))
    detail = assert_problem(capital(client, signed), 409, "request_replayed")
    assert detail == "this signed request was received before"
    assert_ok(capital(client, headers(ledger_log.keys["alice"], "balanceQuery")))


def test_a_full_replay_cache_refuses_new_requests(
    client: TestClient, ledger_log: LedgerLog
) -> None:
    client.app.state.authenticator = Authenticator(ledger_log.log, ReplayGuard(capacity=2))  # type: ignore[attr-defined]
    for _ in range(2):
        assert_ok(capital(client, headers(ledger_log.keys["bob"], "balanceQuery")))
    answer = capital(client, headers(ledger_log.keys["bob"], "balanceQuery"))
    assert_problem(answer, 429, "too_many_requests")
    assert answer.headers["retry-after"] == "1"


def test_the_replay_guard_forgets_a_signature_once_its_window_closed() -> None:
    guard = ReplayGuard(capacity=2)
    guard.admit(b"a" * 64, until_ms=1_000, now_ms=0)
    guard.admit(b"b" * 64, until_ms=2_000, now_ms=0)
    with pytest.raises(RequestReplayedError):
        guard.admit(b"a" * 64, until_ms=1_000, now_ms=1_000)  # still open at its last ms
    guard.admit(b"c" * 64, until_ms=3_000, now_ms=1_001)  # "a" is forgotten: room for "c"
    assert len(guard) == 2
    guard.admit(b"a" * 64, until_ms=9_000, now_ms=2_001)  # closed windows are forgotten
    assert len(guard) == 2


def test_the_openapi_document_names_each_instruction(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    instructions = {
        path: paths[path]["get"]["x-instruction"]
        for path in paths
        if "x-instruction" in paths[path].get("get", {})
    }
    assert {
        "/api/v1/capital": "balanceQuery",
        "/ledger/accounts/{account_id}": "ledgerAccountQuery",
        "/ledger/accounts/{account_id}/transfers": "ledgerHistoryQuery",
        "/ledger/transfers/{transfer_id}": "transferQuery",
    }.items() <= instructions.items()


# A real client over the network ------------------------------------------------------------------


@pytest.fixture
def base_url(ledger_log: LedgerLog) -> Iterator[str]:
    """``create_app(log)`` served by uvicorn on a free loopback port, in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(ledger_log.log), log_level="warning", lifespan="off", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the server thread died while starting"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_capital_over_the_network_with_a_third_party_client(
    base_url: str, ledger_log: LedgerLog
) -> None:
    """httpx as a Backpack client would use it: sign, send over TCP, read the balances."""
    alice = ledger_log.keys["alice"]
    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        signed = headers(alice, "balanceQuery")
        answer = http.get("/api/v1/capital", headers=signed)
        assert answer.status_code == 200
        assert answer.json() == {
            "USD": {"available": "66.80", "locked": "25.00", "staked": "0"},
            "EUR": {"available": "12.34", "locked": "0.00", "staked": "0"},
        }
        again = http.get("/api/v1/capital", headers=signed)
        assert again.status_code == 409
        assert again.json()["code"] == "request_replayed"
