"""The console's register upload, in process (the onboarding world: a SQLite log with the FTX
estate and three claims, its vault, the app over them), with the attacks on it.

- the admin uploads a register: a bad one is refused whole — every fault listed with its line,
  column and reason in the reader's language — and the log and the vault stay as they were; a
  good one shows what it would change, and only the confirmation imports it, signed by the
  admin's key, with the commitments the CLI's import makes (importing the same file through
  ``app.claims_import`` afterwards plans nothing);
- a replayed confirmation is refused and changes nothing; so is a confirmation from another
  session (the file waits under the session that validated it);
- a KYC officer, an auditor or a treasurer gets ``403``, a creditor's session and a visitor are
  sent to the console login, a form without its CSRF token is ``403``: none changes the log;
- an upload over the bound gets the 413 page in the reader's language, before any route reads it.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from reclaim.adapters.files.register_file import read_register
from reclaim.adapters.vault import Commitments
from reclaim.app.claims_import import ImportSummary, import_register
from reclaim.app.web_accounts import WebAccounts
from reclaim.core.limits import kyc_upload_body_max_bytes
from tests.support.onboarding_world import World, onboarding_world

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ORIGIN: Final = "http://portal.example"
TOKEN_RE: Final = re.compile(r'name="csrf_token" value="([^"]+)"')
REGISTER_ID_RE: Final = re.compile(r'name="register_id" value="([0-9a-f]{64})"')
PASSWORD: Final = "console password for tests"
HEADER: Final = "claim_id,customer_code,email,holder_name,jurisdiction,class,admitted_usd,status\n"
#: A supplement of two new claims (the world's three stay as they are).
GOOD: Final = (
    HEADER + "FTX-10,CUST-10,li.na@example.cn,LI Na,CN,5A,1234.56,allowed\n"
    "FTX-11,CUST-11,jean.dupont@example.fr,Jean Dupont,FR,7,99.5,filed\n"
).encode()
#: Three bad rows: an e-mail, a jurisdiction in lower case, fractional cents.
BAD: Final = (
    HEADER + "FTX-20,CUST-20,not-an-address,A B,CN,5A,10,allowed\n"
    "FTX-21,CUST-21,a@example.org,C D,cn,5A,10,allowed\n"
    "FTX-22,CUST-22,b@example.org,E F,FR,5A,10.001,allowed\n"
).encode()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with onboarding_world(tmp_path) as running:
        accounts = WebAccounts(running.wiring.service, running.log)
        for actor, role in (("admin", "admin"), ("kyc-officer", "kyc_officer"),
                            ("treasury", "treasury"), ("auditor", "auditor")):  # fmt: skip
            accounts.set_operator_password(actor, role, PASSWORD)
        yield running


def token(html: str) -> str:
    found = TOKEN_RE.search(html)
    assert found is not None, "the page has a form"
    return found.group(1)


def console(world: World, actor: str, language: str = "en") -> TestClient:
    web = TestClient(world.client.app, base_url=ORIGIN,
                     headers={"Origin": ORIGIN, "Accept-Language": language})  # fmt: skip
    form = web.get("/operator/login")
    fields = {"csrf_token": token(form.text), "actor": actor, "password": PASSWORD}
    done = web.post("/operator/login", data=fields, follow_redirects=False)
    assert done.status_code == 303, done.text
    return web


def upload(web: TestClient, data: bytes, *, supplement: bool = True, name: str = "r.csv") -> str:
    form = web.get("/operator/register")
    assert form.status_code == 200, form.text
    fields = {"csrf_token": token(form.text), "estate": "ftx"}
    if supplement:
        fields["supplement"] = "1"
    answer = web.post("/operator/register", data=fields,
                      files={"register": (name, data, "text/csv")})  # fmt: skip
    return f"{answer.status_code}\n{answer.text}"


def log_size(world: World) -> int:
    return world.log.read(lambda s: s.events)


def test_a_bad_register_is_refused_whole_with_every_fault_in_the_readers_language(
    world: World,
) -> None:
    web = console(world, "admin", "fr")
    size = log_size(world)
    answer = upload(web, BAD)
    status, html = answer.split("\n", 1)
    assert status == "400"
    assert 'id="register-report" data-stage="file"' in html
    assert "Rien n’a été importé" in html, "the report in the reader’s language"
    rows = re.findall(r'<tr data-code="([a-z_]+)" data-row="(\d*)"><th scope="row" class="num">'
                      r"([^<]*)</th><td>([^<]*)</td><td>([^<]*)</td>", html)  # fmt: skip
    assert [(code, row, line, column) for code, row, line, column, _ in rows] == [
        ("invalid_email", "1", "2", "email"),
        ("jurisdiction_not_upper_case", "2", "3", "jurisdiction"),
        ("fractional_cents", "3", "4", "admitted_usd"),
    ], "each bad row: its code, data row, file line (the header is line 1) and column"
    reasons = [reason for *_, reason in rows]
    assert reasons == [
        "Ce n’est pas une adresse e-mail.",
        "Le code du pays doit être en majuscules.",
        "Le montant comporte des fractions de cent.",
    ]
    assert log_size(world) == size, "nothing was appended"
    assert 'name="register_id"' not in html, "nothing waits for a confirmation"


def test_a_good_register_is_imported_only_when_confirmed_signed_by_the_admin(
    world: World,
) -> None:
    web = console(world, "admin")
    size = log_size(world)
    status, html = upload(web, GOOD).split("\n", 1)
    assert status == "200", html
    assert '<dd id="plan-new">2</dd>' in html
    assert '<dd id="plan-expunged">0</dd>' in html
    assert log_size(world) == size, "validating appends nothing"
    found = REGISTER_ID_RE.search(html)
    assert found is not None
    register_id = found.group(1)
    done = web.post("/operator/register/confirm",
                    data={"csrf_token": token(html), "register_id": register_id})  # fmt: skip
    assert done.status_code == 200, done.text
    assert '<dd id="summary-new">2</dd>' in done.text
    assert log_size(world) == size + 1, "one claims.imported event"
    entries = world.client.get("/log/entries", params={"start": size, "end": size + 1})
    (event,) = [json.loads(line) for line in entries.text.splitlines() if line]
    assert event["type"] == "claims.imported"
    assert event["actor"] == "admin", "the admin's own key signs the import"
    state = world.log.state
    identity = world.identity
    assert state.claims.claims["FTX-10"].email_commitment == identity.email("li.na@example.cn")
    assert state.claims.claims["FTX-11"].admitted_minor == 9950
    # The CLI's import of the same file, with the vault's own commitments, has nothing to do.
    path = world.directory / "same.csv"
    path.write_bytes(GOOD)
    secret = (world.settings.keys_dir / "commitment.key").read_bytes()
    again = import_register(world.log, world.wiring.service.vault, Commitments(secret), "ftx",
                            path, read=read_register, full_schedule=False)  # fmt: skip
    assert isinstance(again, ImportSummary)
    assert again.events_appended == 0, "the web import made what the CLI's makes"
    # A replayed confirmation finds nothing to confirm and changes nothing.
    replay = web.post("/operator/register/confirm",
                      data={"csrf_token": token(html), "register_id": register_id})  # fmt: skip
    assert replay.status_code == 409
    assert 'data-code="register_not_pending"' in replay.text
    assert log_size(world) == size + 1


def test_a_validated_register_waits_for_its_own_session_only(world: World) -> None:
    web = console(world, "admin")
    _, html = upload(web, GOOD).split("\n", 1)
    found = REGISTER_ID_RE.search(html)
    assert found is not None
    other = console(world, "admin")
    size = log_size(world)
    form = other.get("/operator/register")
    fields = {"csrf_token": token(form.text), "register_id": found.group(1)}
    answer = other.post("/operator/register/confirm", data=fields)
    assert answer.status_code == 409
    assert log_size(world) == size


@pytest.mark.parametrize("actor", ["kyc-officer", "auditor", "treasury"])
def test_other_roles_cannot_import(world: World, actor: str) -> None:
    web = console(world, actor)
    size = log_size(world)
    assert web.get("/operator/register").status_code == 403
    home = web.get("/operator/kyc" if actor != "treasury" else "/operator/rounds")
    answer = web.post("/operator/register", data={"csrf_token": token(home.text), "estate": "ftx"},
                      files={"register": ("r.csv", GOOD, "text/csv")})  # fmt: skip
    assert answer.status_code == 403
    assert 'href="/operator/register"' not in home.text, "no link to a page the role cannot use"
    assert log_size(world) == size


def test_a_visitor_and_a_forged_form_cannot_import(world: World) -> None:
    size = log_size(world)
    with TestClient(world.client.app, base_url=ORIGIN, headers={"Origin": ORIGIN}) as visitor:
        page = visitor.get("/operator/register", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == "/operator/login"
    web = console(world, "admin")
    forged = web.post("/operator/register", data={"csrf_token": "x" * 43, "estate": "ftx",
                                                  "supplement": "1"},
                      files={"register": ("r.csv", GOOD, "text/csv")})  # fmt: skip
    assert forged.status_code == 403
    assert log_size(world) == size


def test_an_oversized_upload_gets_the_page_in_the_readers_language(world: World) -> None:
    web = console(world, "admin", "zh-CN")
    form = web.get("/operator/register")
    size = log_size(world)
    big = HEADER.encode() + b"x" * (kyc_upload_body_max_bytes + 1)
    answer = web.post("/operator/register", data={"csrf_token": token(form.text), "estate": "ftx"},
                      files={"register": ("big.csv", big, "text/csv")})  # fmt: skip
    assert answer.status_code == 413
    assert 'lang="zh-Hans"' in answer.text
    assert 'id="too-large" data-kind="register"' in answer.text
    assert "Traceback" not in answer.text
    assert log_size(world) == size
