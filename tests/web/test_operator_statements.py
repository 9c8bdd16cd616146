"""The console's statement reconciliation, in process: the withdrawal world of
``tests/api/test_withdrawals_api.py`` (alice's five SEPA withdrawals, exported in one pain.001
batch) served with onboarding's console logins, and the sample camt.053 of ``tests/data``.

- the treasury uploads the statement: every line is shown with what reconciliation made of it,
  the paid withdrawals are confirmed and the returned one failed — the same signed events, in
  the same order, as ``WithdrawalService.reconcile`` (what ``reclaim withdrawals reconcile``
  calls) makes from the same file on a twin world;
- the same statement again settles nothing twice (``already_settled``, the log unchanged);
- a file that is no statement is refused with the reader's language and changes nothing;
- an admin, a KYC officer or an auditor gets ``403`` and changes nothing.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Final

import pytest

from reclaim import bootstrap
from reclaim.adapters.files.statements import read_statement
from reclaim.adapters.keyfiles import init_keys
from reclaim.adapters.passwords import Argon2PasswordHasher
from reclaim.app.web_accounts import WebAccounts
from reclaim.app.withdrawals import Refused, Requested
from reclaim.config import Settings
from reclaim.entrypoints.api.app import create_app
from tests.api.test_withdrawals_api import DATA, IBAN, Setup, build
from tests.support.onboarding_world import CHEAP_ARGON2
from tests.support.withdrawal_world import keyring

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ORIGIN: Final = "http://portal.example"
PASSWORD: Final = "console password for tests"
TOKEN_RE: Final = re.compile(r'name="csrf_token" value="([^"]+)"')
STATEMENT: Final = DATA / "camt053-001-02.xml"
ROW_RE: Final = re.compile(r'<tr data-kind="([a-z_]+)" data-action="([a-z:_]*)">')


def exported(directory: Path) -> Setup:
    """The world with alice's five withdrawals requested and put in one SEPA batch."""
    directory.mkdir(parents=True, exist_ok=True)
    made = build(directory)
    made.log.start()
    for quantity in (250_000, 6_000_000, 200_000, 10_000, 20_000):
        assert isinstance(made.service.request("alice", "sepa", quantity, {"iban": IBAN}),
                          Requested)  # fmt: skip
    assert not isinstance(made.service.export_batch("sepa", date(2026, 11, 26)), Refused)
    return made


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Setup, TestClient]]:
    made = exported(tmp_path / "web")
    settings = Settings.from_env({}, data_dir=tmp_path / "web", origin=ORIGIN)
    init_keys(settings.keys_dir, ORIGIN)
    wiring = bootstrap.build_onboarding(settings, made.store, made.log, keyring(),
                                        made.log.clock,
                                        passwords=Argon2PasswordHasher(CHEAP_ARGON2))  # fmt: skip
    accounts = WebAccounts(wiring.service, made.log)
    for actor, role in (("treasury", "treasury"), ("admin", "admin"),
                        ("kyc", "kyc_officer"), ("auditor", "auditor")):  # fmt: skip
        accounts.set_operator_password(actor, role, PASSWORD)
    try:
        app = create_app(made.log, onboarding=wiring, withdrawals=made.service)
        with TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN}) as client:
            yield made, client
    finally:
        made.log.stop()
        made.store.close()


def token(html: str) -> str:
    found = TOKEN_RE.search(html)
    assert found is not None, "the page has a form"
    return found.group(1)


def login(client: TestClient, actor: str) -> None:
    form = client.get("/operator/login")
    fields = {"csrf_token": token(form.text), "actor": actor, "password": PASSWORD}
    assert client.post("/operator/login", data=fields, follow_redirects=False).status_code == 303


def upload(client: TestClient, data: bytes, language: str = "en") -> tuple[int, str]:
    form = client.get("/operator/statements", headers={"Accept-Language": language})
    assert form.status_code == 200, form.text
    answer = client.post("/operator/statements", data={"csrf_token": token(form.text)},
                         files={"statement": ("statement.xml", data, "application/xml")},
                         headers={"Accept-Language": language})  # fmt: skip
    return answer.status_code, answer.text


def events(client: TestClient, start: int, end: int) -> list[dict[str, object]]:
    text = client.get("/log/entries", params={"start": start, "end": end}).text
    return [json.loads(line) for line in text.splitlines() if line]


def test_the_treasury_reconciles_a_camt053_as_the_cli_does(
    world: tuple[Setup, TestClient], tmp_path: Path
) -> None:
    made, client = world
    login(client, "treasury")
    size = made.log.size
    status, html = upload(client, STATEMENT.read_bytes())
    assert status == 200, html
    assert ROW_RE.findall(html) == [
        ("matched", "confirmed"),
        ("amount_mismatch", ""),
        ("unknown_reference", ""),
        ("returned", "failed"),
        ("matched", "confirmed"),
        ("matched", "confirmed"),
        ("unknown_reference", ""),
        ("duplicate", ""),
    ], "every line, with what was done"
    assert "8 lines read; 4 withdrawals settled now" in html
    web = events(client, size, made.log.size)
    assert [e["type"] for e in web] == ["withdrawal.confirmed", "withdrawal.failed",
                                        "withdrawal.confirmed", "withdrawal.confirmed"]  # fmt: skip
    assert {e["actor"] for e in web} == {"treasury"}, "the treasury's key signs"
    # The CLI's service on a twin world makes the same events from the same file.
    twin = exported(tmp_path / "twin")
    try:
        twin_size = twin.log.size
        twin.service.reconcile(read_statement(STATEMENT))
        with TestClient(create_app(twin.log)) as reader:
            cli = events(reader, twin_size, twin.log.size)
    finally:
        twin.log.stop()
        twin.store.close()
    assert [(e["type"], e["payload"]) for e in web] == [(e["type"], e["payload"]) for e in cli]
    # The same statement again: nothing is settled twice.
    again = made.log.size
    status, html = upload(client, STATEMENT.read_bytes(), "fr")
    assert status == 200
    assert [kind for kind, _ in ROW_RE.findall(html)].count("already_settled") == 4
    assert "Déjà réglé" in html
    assert made.log.size == again


def test_a_file_that_is_no_statement_is_refused_in_the_readers_language(
    world: tuple[Setup, TestClient],
) -> None:
    made, client = world
    login(client, "treasury")
    size = made.log.size
    status, html = upload(client, b"<Document><nothing/></Document>", "zh-CN")
    assert status == 400
    assert 'data-code="statement_unreadable"' in html
    assert "无法读取该对账单" in html
    assert "Traceback" not in html
    assert made.log.size == size


@pytest.mark.parametrize("actor", ["admin", "kyc", "auditor"])
def test_other_roles_cannot_reconcile(world: tuple[Setup, TestClient], actor: str) -> None:
    made, client = world
    login(client, actor)
    size = made.log.size
    assert client.get("/operator/statements").status_code == 403
    home = client.get("/operator/rounds")
    answer = client.post(
        "/operator/statements",
        data={"csrf_token": token(home.text)},
        files={"statement": ("s.xml", STATEMENT.read_bytes(), "text/xml")},
    )
    assert answer.status_code == 403
    assert 'href="/operator/statements"' not in home.text
    assert made.log.size == size
