"""The withdrawal API with real Backpack-signed requests, and the service behind it: export of a
SEPA batch, then reconciliation of the sample camt.053 against the log.

The log is the world of ``tests/withdrawal_world.py`` built through a ``LogService`` over SQLite
(the PII vault in the same database) two days before ``FIXED_TIME``, with every creditor's
destinations (``DESTINATIONS``) added and confirmed then; the clock then moves to
``FIXED_TIME``, past their cooling-off, and stays. Creditors' KYC-verified names are in the
vault as onboarding leaves them. Signed bodies: Backpack signs a POST body's
fields like query parameters (``instruction=withdraw&address=...&blockchain=...``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import pytest

from reclaim.adapters.codes import SqlCodeStore
from reclaim.adapters.db.store import SqlEventStore, open_store
from reclaim.adapters.files.statements import read_statement
from reclaim.adapters.log_sources import DirectorySource
from reclaim.adapters.mail import SqlOutbox
from reclaim.adapters.rails import VaultBeneficiaryCommitments
from reclaim.adapters.rails.hk_wire import Correspondent, HkWireRail
from reclaim.adapters.rails.sepa import SepaDebtor, SepaRail
from reclaim.adapters.rails.usdc import UsdcRail
from reclaim.adapters.vault import Commitments, FileKeyWrapper, SqlVault
from reclaim.app.export import export_log
from reclaim.app.log_service import LogService
from reclaim.app.refusals import WithdrawalServiceCode
from reclaim.app.request_signing import Param, sign_request
from reclaim.app.withdrawal_ports import MemoryBatchBook, rails_by_name
from reclaim.app.withdrawals import (
    Refused,
    Requested,
    Settled,
    WithdrawalService,
    withdrawal_id_for,
)
from reclaim.core import limits
from reclaim.core.rejections import Rejection
from reclaim.core.withdrawals.reconcile import (
    ALREADY_SETTLED,
    AMOUNT_MISMATCH,
    DUPLICATE,
    MATCHED,
    RETURNED,
    UNKNOWN_REFERENCE,
)
from reclaim.entrypoints.api.app import create_app
from reclaim.verifier import VerifyReport, verify_log
from tests.api.conftest import FIXED_TIME, TestClient
from tests.support.factories import key_for
from tests.support.withdrawal_world import (
    CREDITORS,
    LEAD,
    SteppedClock,
    keyring,
    service_destinations,
    setup_commands,
)

PATH: Final = "/wapi/v1/capital/withdrawals"
PROBLEM: Final = "application/problem+json"
FIXED_MS: Final = int(FIXED_TIME.timestamp()) * 1000
CREATED: Final = "2026-11-25T12:00:00.000000Z"
EXPIRES: Final = "2026-12-09T12:00:00.000000Z"
IBAN: Final = "FR76 3000 6000 0112 3456 7890 189"
ALLOWED: Final = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
DEBTOR: Final = SepaDebtor("Reclaim Operator SAS", "DE89370400440532013000", "COBADEFFXXX")
DATA: Final = Path(__file__).resolve().parents[1] / "data" / "withdrawals"
_ticks = itertools.count(1)


@dataclass
class Setup:
    log: LogService
    service: WithdrawalService
    store: SqlEventStore


#: The destinations every creditor confirmed, by rail (the fields a withdrawal gives).
DESTINATIONS: Final = (
    ("sepa", {"iban": IBAN}),
    ("hk_wire", {"account": "012-345-678901", "bic": "BKCHHKHH"}),
    ("usdc", {"address": ALLOWED}),
)


def build(directory: Path) -> Setup:
    store = open_store(f"sqlite:///{directory / 'withdrawals.db'}")
    clock = SteppedClock(FIXED_TIME - LEAD)
    log = LogService(store, keyring(), clock)
    for outcome in log.submit_many(setup_commands()):
        assert not isinstance(outcome, Rejection), outcome
    vault = SqlVault(store.engine, FileKeyWrapper({"0" * 16: bytes(range(32))}, "0" * 16))
    for name in CREDITORS:
        vault.put(f"creditor:{name}", {"verified_name": f"{name.upper()} Test"}, FIXED_TIME)
    numbers = itertools.count(1)
    rails = rails_by_name(
        [SepaRail(DEBTOR), HkWireRail(Correspondent("HSBCHKHHHKH", "848123456838", "Reclaim")),
         UsdcRail([ALLOWED])]
    )  # fmt: skip
    service = WithdrawalService(
        log, vault, VaultBeneficiaryCommitments(Commitments(bytes(32))), rails,
        MemoryBatchBook(), clock, new_id=lambda _key: f"W{next(numbers):04d}",
        codes=SqlCodeStore(store.engine, bytes(32)), outbox=SqlOutbox(store.engine, vault),
    )  # fmt: skip
    wanted = [(name, rail, fields) for name in CREDITORS for rail, fields in DESTINATIONS]
    for outcome in log.submit_many(service_destinations(service, wanted)):
        assert not isinstance(outcome, Rejection), outcome
    clock.at = FIXED_TIME  # past the destinations' cooling-off
    return Setup(log, service, store)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    made = build(tmp_path)
    made.log.start()
    yield made
    made.log.stop()
    made.store.close()


@pytest.fixture
def client(setup: Setup) -> Iterator[TestClient]:
    with TestClient(create_app(setup.log, withdrawals=setup.service)) as test_client:
        yield test_client


def signed_post(client: TestClient, body: dict[str, Any], signer: str = "alice",
                timestamp: int | None = None) -> Any:  # fmt: skip
    params: dict[str, Param] = {k: v for k, v in body.items() if isinstance(v, str | int | bool)}
    stamp = FIXED_MS + next(_ticks) if timestamp is None else timestamp
    headers = sign_request(key_for(signer), "withdraw", params, stamp)
    return client.post(PATH, json=body, headers=headers)


def signed_get(client: TestClient, signer: str = "alice", **params: Param) -> Any:
    headers = sign_request(key_for(signer), "withdrawalQueryAll", params, FIXED_MS + next(_ticks))
    return client.get(PATH, params=params, headers=headers)


def sepa(quantity: str = "2500.00", **extra: Any) -> dict[str, Any]:
    return {"address": IBAN, "blockchain": "sepa", "quantity": quantity, "symbol": "EUR", **extra}


def problem(response: Any) -> tuple[int, str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return response.status_code, response.json()["code"]


# Requests ---------------------------------------------------------------------------------------


def test_request_a_sepa_withdrawal(client: TestClient, setup: Setup) -> None:
    answer = signed_post(client, sepa(clientId=42))
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    ident = withdrawal_id_for("alice", "42")
    assert answer.json() == {
        "id": ident, "blockchain": "sepa", "clientId": "42", "identifier": None,
        "quantity": "2500.00", "fee": "13.00", "symbol": "EUR", "status": "pending",
        "toAddress": "FR76 **** 0189", "transactionHash": None, "createdAt": CREATED,
        "expiresAt": EXPIRES, "reason": None,
    }  # fmt: skip
    alice = setup.log.state.ledger.accounts["alice/EUR/creditor_available"]
    assert alice.balances() == (0, 100_000_000, 251_300, 0)
    logged = setup.log.state.withdrawals.withdrawals[ident]
    assert IBAN.replace(" ", "") not in repr(logged), "the IBAN never enters the log"
    assert len(logged.beneficiary) == 64

    size = setup.log.size
    again = signed_post(client, sepa(clientId=42))  # a retry: a new signature, the same request
    assert again.status_code == 200
    assert again.json()["id"] == ident
    assert setup.log.size == size, "a retry appends nothing"
    other = signed_post(client, sepa("2500.01", clientId=42))
    assert problem(other) == (409, "exists_with_different_fields")


def test_list_withdrawals(client: TestClient, setup: Setup) -> None:
    assert signed_post(client, sepa("100.00")).status_code == 200
    assert signed_post(client, sepa("200.00")).status_code == 200
    next_seq = setup.log.size
    assert setup.service.confirm("W0001", "BK-1") == Settled("W0001", "confirmed", next_seq)
    listed = signed_get(client)
    assert listed.status_code == 200, listed.text
    assert [(w["id"], w["quantity"], w["fee"], w["status"], w["transactionHash"])
            for w in listed.json()] == [
        ("W0002", "200.00", "8.00", "pending", None),
        ("W0001", "100.00", "8.00", "confirmed", "BK-1"),
    ]  # fmt: skip
    assert [w["id"] for w in signed_get(client, limit=1, offset=1).json()] == ["W0001"]
    assert signed_get(client, to=FIXED_MS).json() == []
    assert len(signed_get(client, **{"from": FIXED_MS}).json()) == 2
    assert signed_get(client, signer="bob").json() == []


#: (label, body, signer, status, code)
REFUSALS: Final[tuple[tuple[str, dict[str, Any], str, int, str], ...]] = (
    ("bad IBAN", sepa(address="FR76 3000 6000 0112 3456 7890 188"), "alice", 400, "iban_invalid"),
    ("IBAN outside SEPA", sepa(address="BR1800360305000010009795493C1"), "alice", 400,
     "not_in_sepa_zone"),
    ("bad BIC", sepa(bankBic="BNPAXXPP"), "alice", 400, "bic_invalid"),
    ("HK by sepa", sepa(), "bob", 403, "rail_not_allowed"),
    ("sanctioned", sepa("1.00"), "dave", 403, "jurisdiction_sanctioned"),
    ("KYC pending", sepa("1.00"), "gina", 403, "kyc_not_approved"),
    ("more than alice has", sepa("1000000.00"), "alice", 409, "insufficient_funds"),
    ("below the minimum", sepa("0.99"), "alice", 400, "amount_below_minimum"),
    ("fee shown wrong", sepa(fee="8.00"), "alice", 400, "fee_mismatch"),
    ("three decimals", sepa("1.005"), "alice", 400, "invalid_parameter"),
    ("a float", sepa(quantity=2500.0), "alice", 400, "invalid_parameter"),
    ("unknown field", sepa(twoFactorToken="123456"), "alice", 400, "invalid_parameter"),
    ("no such asset", sepa(symbol="GBP"), "alice", 400, "invalid_parameter"),
    ("sepa in USD", sepa(symbol="USD"), "alice", 400, "asset_not_served_by_rail"),
    ("no such rail", sepa(blockchain="swift"), "alice", 400, "rail_unknown"),
    ("clientId beyond u32", sepa(clientId=2**32), "alice", 400, "invalid_parameter"),
    ("clientId as a boolean", sepa(clientId=True), "alice", 400, "invalid_parameter"),
    ("usdc not allow-listed", {"address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
     "blockchain": "usdc", "quantity": "20", "symbol": "USDC"}, "alice", 403,
     "address_not_allowed"),
    ("usdc without checksum", {"address": ALLOWED.lower(), "blockchain": "usdc",
     "quantity": "20", "symbol": "USDC"}, "alice", 400, "address_not_checksummed"),
    ("wire without BIC", {"address": "012345678901", "blockchain": "hk_wire",
     "quantity": "500.00", "symbol": "USD"}, "bob", 400, "beneficiary_field_missing"),
    ("treasury is no creditor", sepa(), "treasury", 403, "forbidden"),
)  # fmt: skip


@pytest.mark.parametrize(
    ("body", "signer", "status", "code"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refusals(client: TestClient, setup: Setup, body: dict[str, Any], signer: str,
                  status: int, code: str) -> None:  # fmt: skip
    size = setup.log.size
    answer = signed_post(client, body, signer)
    assert problem(answer) == (status, code), answer.text
    assert setup.log.size == size


def test_a_wire_and_usdc(client: TestClient) -> None:
    wire = {"address": "012-345-678901", "bankBic": "BKCHHKHH", "blockchain": "hk_wire",
            "quantity": "500.00", "symbol": "USD"}  # fmt: skip
    answer = signed_post(client, wire, "bob")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["fee"], answer.json()["toAddress"]) == ("25.00", "BKCHHKHH ****8901")
    usdc = {"address": ALLOWED, "blockchain": "usdc", "quantity": "20", "symbol": "USDC"}
    answer = signed_post(client, usdc, "alice")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["quantity"], answer.json()["fee"]) == ("20.000000", "1.000000")


def test_signatures(client: TestClient) -> None:
    assert problem(client.post(PATH, json=sepa())) == (401, "signature_missing")
    body = sepa()
    headers = sign_request(key_for("alice"), "withdraw", body, FIXED_MS + next(_ticks))
    tampered = {**body, "quantity": "2600.00"}
    assert problem(client.post(PATH, json=tampered, headers=headers)) == (401, "signature_invalid")
    wrong_instruction = sign_request(key_for("alice"), "withdrawalQueryAll", body, FIXED_MS + 7)
    assert problem(client.post(PATH, json=body, headers=wrong_instruction))[1] == (
        "signature_invalid"
    )
    first = client.post(PATH, json=body, headers=headers)
    assert first.status_code == 200
    assert problem(client.post(PATH, json=body, headers=headers)) == (409, "request_replayed")
    twice = sign_request(key_for("alice"), "withdraw", body, FIXED_MS + next(_ticks))
    clash = client.post(PATH + "?symbol=EUR", json=body, headers=twice)
    assert problem(clash) == (401, "signature_invalid")
    assert problem(client.post(PATH, content=b"[1]", headers=twice)) == (400, "invalid_parameter")


def test_oversized_request(client: TestClient) -> None:
    body = sepa(address="X" * (limits.request_body_max_bytes + 1))
    headers = sign_request(key_for("alice"), "withdraw", {}, FIXED_MS)
    assert problem(client.post(PATH, json=body, headers=headers)) == (413, "request_too_large")


def test_openapi_names_the_instructions(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert paths[PATH]["post"]["x-instruction"] == "withdraw"
    assert paths[PATH]["get"]["x-instruction"] == "withdrawalQueryAll"


# The service: a SEPA batch, then the bank's statement --------------------------------------------


def test_export_then_reconcile_the_sample_statement(setup: Setup) -> None:
    """W0001 … W0005 as in ``tests/data/withdrawals``: the pain.001 pays all five; the camt.053
    confirms W0001, W0004, W0005, fails W0003 (AC04: account closed), leaves W0002 (booked for
    €600.00 instead of €60,000.00) requested and reports the rest. Re-importing changes
    nothing."""
    service, log = setup.service, setup.log
    for quantity in (250_000, 6_000_000, 200_000, 10_000, 20_000):
        made = service.request("alice", "sepa", quantity, {"iban": IBAN})
        assert isinstance(made, Requested), made
    batch = service.export_batch("sepa", date(2026, 11, 26))
    assert not isinstance(batch, Refused)
    assert (batch.filename, batch.count, batch.total_minor) == (
        "sepa-20261125120000.pain.001.xml", 5, 6_480_000
    )  # fmt: skip
    assert b"<Nm>ALICE Test</Nm>" in batch.content
    assert b"<EndToEndId>W0003</EndToEndId>" in batch.content
    again = service.export_batch("sepa", date(2026, 11, 26))
    waiting = "no sepa withdrawal is waiting"
    assert again == Refused(WithdrawalServiceCode.nothing_to_export, waiting)

    lines = read_statement(DATA / "camt053-001-02.xml")
    size_before = log.size - 1
    done = service.reconcile(lines)
    first = size_before + 1  # the confirmations and the failure, one event each, in order
    assert [(a.match.kind, a.match.withdrawal_id, a.outcome) for a in done.lines] == [
        (MATCHED, "W0001", Settled("W0001", "confirmed", first)),
        (AMOUNT_MISMATCH, "W0002", None),
        (UNKNOWN_REFERENCE, "", None),
        (RETURNED, "W0003", Settled("W0003", "failed", first + 1)),
        (MATCHED, "W0004", Settled("W0004", "confirmed", first + 2)),
        (MATCHED, "W0005", Settled("W0005", "confirmed", first + 3)),
        (UNKNOWN_REFERENCE, "", None),
        (DUPLICATE, "W0001", None),
    ]  # fmt: skip
    assert (done.count(MATCHED), done.count(RETURNED), done.count(UNKNOWN_REFERENCE)) == (3, 1, 2)
    statuses = {v.id: (v.status, v.rail_reference, v.reason) for v in service.views("alice")}
    assert statuses == {
        "W0001": ("confirmed", "BK-20250604-0001", ""),
        "W0002": ("requested", "", ""),
        "W0003": ("failed", "", "account_closed"),
        "W0004": ("confirmed", "BK-20250604-0005-1", ""),
        "W0005": ("confirmed", "BK-20250604-0005-2", ""),
    }
    # alice: €2,500 + €13, €100 + €8, €200 + €8 posted; €60,000 + €23 still reserved.
    alice = log.state.ledger.accounts["alice/EUR/creditor_available"]
    assert alice.balances() == (282_900, 100_000_000, 6_002_300, 0)
    size = log.size
    replay = service.reconcile(lines)
    assert [a.match.kind for a in replay.lines].count(ALREADY_SETTLED) == 4
    assert log.size == size, "a statement imported twice changes nothing"


def test_a_verifier_replays_the_withdrawals(setup: Setup, tmp_path: Path) -> None:
    """Requests, a confirmation and a failure, exported as the public log: the offline
    verifier replays them through the same core (fees, jurisdiction, the ledger's ladder, the
    withdrawals' invariants) and gets the signed state digest."""
    service, log = setup.service, setup.log
    for n, quantity in enumerate((250_000, 6_000_000, 200_000)):
        made = service.request("alice", "sepa", quantity, {"iban": IBAN}, client_id=str(n))
        assert isinstance(made, Requested), made
    ids = [withdrawal_id_for("alice", str(n)) for n in range(3)]
    assert isinstance(service.confirm(ids[0], "BK-1"), Settled)
    assert isinstance(service.fail(ids[1], "account_closed"), Settled)
    log.publish_checkpoint()
    summary = export_log(setup.store, log.state, tmp_path / "public")
    report = verify_log(DirectorySource(tmp_path / "public"), workers=0)
    assert isinstance(report, VerifyReport), report
    assert report.events == summary.events == log.size
