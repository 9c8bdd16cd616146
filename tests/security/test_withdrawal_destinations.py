"""Issue 9, finding 7: no second factor on the money path — a stolen signing key withdrew at once.

The attacker holds alice's API signing key (so every request below is validly signed) but not
her mailbox. Before the fix, a withdrawal to an IBAN alice had never used was accepted at once.
Now a new destination must be confirmed with a code mailed to alice's proved address and then
wait its cooling-off (24 h) before the first withdrawal to it.

The world: the creditors of ``tests/withdrawal_world.py`` in a SQLite log behind the real API,
the real withdrawal service (one-time codes and the mail outbox in SQL), and a real SMTP server
on loopback (aiosmtpd) that is alice's and bob's mailbox. The clock is fixed and moved by hand.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Final

import pytest

from reclaim.adapters.codes import SqlCodeStore
from reclaim.adapters.db.store import SqlEventStore, open_store
from reclaim.adapters.mail import SmtpMailSender, SqlOutbox, deliver_due
from reclaim.adapters.rails import VaultBeneficiaryCommitments
from reclaim.adapters.rails.hk_wire import Correspondent, HkWireRail
from reclaim.adapters.rails.sepa import SepaDebtor, SepaRail
from reclaim.adapters.rails.usdc import UsdcRail
from reclaim.adapters.vault import Commitments, FileKeyWrapper, SqlVault
from reclaim.app.log_service import LogService
from reclaim.app.request_signing import Param, sign_request
from reclaim.app.withdrawal_ports import MemoryBatchBook, rails_by_name
from reclaim.app.withdrawals import WithdrawalService
from reclaim.config import Settings, SettingsError
from reclaim.core.rejections import Rejection
from reclaim.entrypoints.api.app import create_app
from tests.api.conftest import FIXED_TIME, TestClient
from tests.support.factories import key_for
from tests.support.onboarding_world import Inbox, smtp_server
from tests.support.withdrawal_world import CREDITORS, SteppedClock, keyring, setup_commands

WITHDRAWALS: Final = "/wapi/v1/capital/withdrawals"
DESTINATIONS: Final = "/wapi/v1/capital/destinations"
CONFIRM: Final = "/wapi/v1/capital/destinations/confirm"
ALICE_IBAN: Final = "FR76 3000 6000 0112 3456 7890 189"
#: The attacker's own account (a valid French test IBAN alice never used).
MALLORY_IBAN: Final = "FR14 2004 1010 0505 0001 3M02 606"
BOB_WIRE: Final = {"address": "012-345-678901", "bankBic": "BKCHHKHH", "blockchain": "hk_wire"}
DAY: Final = timedelta(hours=24)
ALICE_EUR: Final = "alice/EUR/creditor_available"
_ticks = itertools.count(1)


@dataclass
class Bank:
    """The running world: the API client, the clock, the mailbox, and what is behind them."""

    client: TestClient
    clock: SteppedClock
    inbox: Inbox
    log: LogService
    service: WithdrawalService
    sender: SmtpMailSender

    def signed(self, method: str, path: str, instruction: str, body: dict[str, Any] | None = None,
               signer: str = "alice", query: dict[str, Param] | None = None) -> Any:  # fmt: skip
        """A request signed with ``signer``'s API key (Backpack's scheme: body fields too)."""
        params: dict[str, Param] = dict(query or {})
        params |= {k: v for k, v in (body or {}).items() if isinstance(v, str | int | bool)}
        stamp = int(self.clock.now().timestamp() * 1000) + next(_ticks)
        headers = sign_request(key_for(signer), instruction, params, stamp)
        return self.client.request(method, path, json=body, params=query, headers=headers)

    def add(self, address: str, blockchain: str = "sepa", signer: str = "alice",
            **extra: Any) -> Any:  # fmt: skip
        body = {"address": address, "blockchain": blockchain, **extra}
        return self.signed("POST", DESTINATIONS, "destinationAdd", body, signer)

    def confirm(self, destination_id: str, code: str, signer: str = "alice") -> Any:
        body = {"destinationId": destination_id, "code": code}
        return self.signed("POST", CONFIRM, "destinationConfirm", body, signer)

    def withdraw(self, signer: str = "alice", **body: Any) -> Any:
        body = {"blockchain": "sepa", "quantity": "100.00", "symbol": "EUR", **body}
        return self.signed("POST", WITHDRAWALS, "withdraw", body, signer)

    def deliver(self) -> None:
        """The outbox's delivery loop, once: queued mail goes to the SMTP server."""
        deliver_due(self.service.outbox, self.sender, self.clock.now())

    def mail_to(self, address: str) -> list[EmailMessage]:
        self.deliver()
        return self.inbox.to(address)

    def code_for(self, address: str) -> str:
        """The code of the last mail to ``address`` (the owner reading their mailbox)."""
        self.deliver()
        return self.inbox.last_code(address)

    def move(self, by: timedelta) -> None:
        self.clock.at += by

    def available(self, account: str) -> int:
        return self.log.read(lambda s: s.ledger.accounts[account].available_minor)


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[Bank]:
    store: SqlEventStore = open_store(f"sqlite:///{tmp_path / 'bank.db'}")
    clock = SteppedClock(FIXED_TIME)
    log = LogService(store, keyring(), clock)
    for outcome in log.submit_many(setup_commands()):
        assert not isinstance(outcome, Rejection), outcome
    vault = SqlVault(store.engine, FileKeyWrapper({"0" * 16: bytes(range(32))}, "0" * 16))
    for name in CREDITORS:  # as onboarding leaves them: the proved address, the KYC'd name
        fields = {"email": f"{name}@example.org", "locale": "en",
                  "verified_name": f"{name.upper()} Test"}  # fmt: skip
        vault.put(f"creditor:{name}", fields, FIXED_TIME)
    rails = rails_by_name([
        SepaRail(SepaDebtor("Reclaim Operator SAS", "DE89370400440532013000", "COBADEFFXXX")),
        HkWireRail(Correspondent("HSBCHKHHHKH", "848123456838", "Reclaim")), UsdcRail([]),
    ])  # fmt: skip
    service = WithdrawalService(
        log, vault, VaultBeneficiaryCommitments(Commitments(bytes(32))), rails,
        MemoryBatchBook(), clock, codes=SqlCodeStore(store.engine, bytes(range(32, 64))),
        outbox=SqlOutbox(store.engine, vault), cooling_off_seconds=24 * 3600,
    )  # fmt: skip
    log.start()
    try:
        with smtp_server() as (inbox, port):
            sender = SmtpMailSender("127.0.0.1", port, "reclaim <no-reply@reclaim.local>", False)
            with TestClient(create_app(log, withdrawals=service)) as client:
                yield Bank(client, clock, inbox, log, service, sender)
    finally:
        log.stop()
        store.close()


def problem(response: Any) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, response.json()["code"]


def added(response: Any) -> str:
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "pending", answer
    assert answer["codeMailed"] is True, answer
    ident = answer["id"]
    assert isinstance(ident, str)
    return ident


# The attack of the finding ------------------------------------------------------------------------


def test_a_stolen_key_adding_its_own_iban_cannot_withdraw_to_it_at_once(bank: Bank) -> None:
    """The finding's repro: with alice's key, withdraw to the attacker's never-used IBAN — at
    once, and after adding it as a destination. Both refused; nothing is reserved."""
    before_size, before = bank.log.size, bank.available(ALICE_EUR)
    refused = bank.withdraw(address=MALLORY_IBAN)
    assert problem(refused) == (403, "destination_not_confirmed"), refused.text
    ident = added(bank.add(MALLORY_IBAN))
    for attempt in (bank.withdraw(address=MALLORY_IBAN), bank.withdraw(destinationId=ident)):
        assert problem(attempt) == (403, "destination_not_confirmed"), attempt.text
    bank.move(2 * DAY)  # waiting does not help an unconfirmed destination
    assert problem(bank.withdraw(address=MALLORY_IBAN)) == (403, "destination_not_confirmed")
    assert bank.available(ALICE_EUR) == before, "not a cent reserved"
    assert bank.log.size == before_size + 1, "only destination.added was logged"
    (event,) = bank.log.read(lambda s: [s.withdrawals.destinations[ident]])
    assert (event.creditor, event.rail, event.status) == ("alice", "sepa", "pending")
    logged = repr(bank.log.state.withdrawals.destinations)
    assert MALLORY_IBAN.replace(" ", "") not in logged, "the IBAN never enters the log"


def test_the_code_goes_only_to_the_owners_mailbox_never_to_the_caller(bank: Bank) -> None:
    answer = bank.add(MALLORY_IBAN)
    added(answer)
    (mail,) = bank.mail_to("alice@example.org")
    assert [m["To"] for m in bank.inbox.messages] == ["alice@example.org"]
    assert mail["Subject"] == "Confirm a new reclaim withdrawal destination"
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "FR14 **** 2606 (SEPA)" in text, "the owner sees which account is being added"
    assert "If you did not add it, do not enter the code" in text
    code = bank.inbox.last_code("alice@example.org")
    assert code not in answer.text, "the answer has no code"
    listed = bank.signed("GET", DESTINATIONS, "destinationQueryAll")
    assert code not in listed.text


def test_the_key_alone_cannot_confirm_guesses_burn_the_code(bank: Bank) -> None:
    """Without the mailbox the attacker can only guess: five wrong codes burn the code, after
    which even the right one is refused; the destination stays unusable."""
    ident = added(bank.add(MALLORY_IBAN))
    right = bank.code_for("alice@example.org")
    wrong = "00000000" if right != "00000000" else "11111111"
    for _ in range(5):
        assert problem(bank.confirm(ident, wrong)) == (403, "code_invalid")
    assert problem(bank.confirm(ident, right)) == (403, "code_attempts_exhausted")
    assert problem(bank.withdraw(destinationId=ident)) == (403, "destination_not_confirmed")
    listed = bank.signed("GET", DESTINATIONS, "destinationQueryAll").json()
    assert [(d["id"], d["status"]) for d in listed] == [(ident, "pending")]


def test_wrong_and_replayed_codes_are_refused(bank: Bank) -> None:
    first = added(bank.add(ALICE_IBAN))
    first_code = bank.code_for("alice@example.org")
    wrong = "1234 5678" if first_code != "12345678" else "8765 4321"
    assert problem(bank.confirm(first, wrong)) == (403, "code_invalid")
    second = added(bank.add(MALLORY_IBAN))
    # Codes are per destination: the owner's code for one does not confirm another.
    assert problem(bank.confirm(second, first_code)) == (403, "code_invalid")
    confirmed = bank.confirm(first, first_code)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "cooling_off"
    # The same signed bytes again: the replay guard answers before anything else.
    body = {"destinationId": first, "code": first_code}
    stamp = int(bank.clock.now().timestamp() * 1000) + next(_ticks)
    headers = sign_request(key_for("alice"), "destinationConfirm", body, stamp)
    assert bank.client.post(CONFIRM, json=body, headers=headers).status_code == 200
    assert problem(bank.client.post(CONFIRM, json=body, headers=headers)) == (
        409, "request_replayed")  # fmt: skip
    # A used code does not come back to life: remove the destination, add it again.
    removed = bank.signed("DELETE", DESTINATIONS, "destinationRemove",
                          query={"destinationId": first})  # fmt: skip
    assert removed.json()["status"] == "removed"
    assert added(bank.add(ALICE_IBAN)) == first, "the same account is the same destination"
    assert problem(bank.confirm(first, first_code)) == (403, "code_invalid")
    assert problem(bank.withdraw(address=ALICE_IBAN)) == (403, "destination_not_confirmed")


def test_a_confirmed_destination_waits_its_cooling_off(bank: Bank) -> None:
    ident = added(bank.add(ALICE_IBAN))
    confirmed_at: datetime = bank.clock.now()
    assert bank.confirm(ident, bank.code_for("alice@example.org")).status_code == 200
    early = bank.withdraw(address=ALICE_IBAN)
    assert problem(early) == (403, "destination_cooling_off")
    assert "usable from 2026-11-26T12:00:00.000000Z" in early.json()["detail"]
    bank.move(DAY - timedelta(seconds=1))
    assert problem(bank.withdraw(destinationId=ident)) == (403, "destination_cooling_off")
    bank.move(timedelta(seconds=1))
    assert bank.clock.now() == confirmed_at + DAY
    listed = bank.signed("GET", DESTINATIONS, "destinationQueryAll").json()
    assert [(d["id"], d["status"], d["usableFrom"]) for d in listed] == [
        (ident, "active", "2026-11-26T12:00:00.000000Z")]  # fmt: skip
    paid = bank.withdraw(address=ALICE_IBAN)
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["toAddress"]) == ("pending", "FR76 **** 0189")
    by_id = bank.withdraw(destinationId=ident, quantity="50.00")
    assert by_id.status_code == 200, by_id.text
    assert bank.available(ALICE_EUR) == 100_000_000 - (10_000 + 800) - (5_000 + 800)


def test_another_creditors_destination_cannot_be_read_used_confirmed_or_removed(bank: Bank) -> None:
    bobs = added(bank.add(BOB_WIRE["address"], "hk_wire", "bob", bankBic=BOB_WIRE["bankBic"]))
    bob_code = bank.code_for("bob@example.org")
    # Alice's key, bob's destination id: never found (the same answer as an unknown id).
    assert bank.signed("GET", DESTINATIONS, "destinationQueryAll").json() == []
    assert problem(bank.confirm(bobs, bob_code)) == (404, "destination_not_found")
    assert problem(bank.confirm(bobs, "00000000")) == (404, "destination_not_found")
    gone = bank.signed("DELETE", DESTINATIONS, "destinationRemove", query={"destinationId": bobs})
    assert problem(gone) == (404, "destination_not_found")
    # Bob's code attempts were not spent by alice: bob confirms with his code.
    assert bank.confirm(bobs, bob_code, signer="bob").json()["status"] == "cooling_off"
    bank.move(DAY)
    usd = {"blockchain": "hk_wire", "symbol": "USD", "quantity": "500.00"}
    assert problem(bank.withdraw(destinationId=bobs, **usd)) == (404, "destination_not_found")
    # Bob's account by its number: for alice it is a destination she never confirmed.
    wire = {**usd, "address": BOB_WIRE["address"], "bankBic": BOB_WIRE["bankBic"]}
    assert problem(bank.withdraw(**wire)) == (403, "destination_not_confirmed")
    assert [m["To"] for m in bank.inbox.messages] == ["bob@example.org"], "alice got no mail"
    assert bank.withdraw("bob", destinationId=bobs, **usd).status_code == 200
    (mine,) = bank.signed("GET", DESTINATIONS, "destinationQueryAll", signer="bob").json()
    assert (mine["id"], mine["toAddress"], mine["status"]) == (bobs, "BKCHHKHH ****8901", "active")


# The setting --------------------------------------------------------------------------------------


def test_the_cooling_off_is_a_setting_of_whole_seconds_up_to_30_days(tmp_path: Path) -> None:
    def cooling_off(value: str | None) -> int:
        env = {} if value is None else {"RECLAIM_DESTINATION_COOLING_OFF_SECONDS": value}
        return Settings.from_env(env, data_dir=tmp_path).destination_cooling_off_seconds

    assert cooling_off(None) == 86_400, "a day by default"
    assert cooling_off("3600") == 3_600
    assert cooling_off("0") == 0
    assert cooling_off(str(30 * 86_400)) == 2_592_000
    for bad in (str(30 * 86_400 + 1), "-1", "1.5", "24h", "١٢"):
        with pytest.raises(SettingsError, match="destination cooling-off"):
            cooling_off(bad)
