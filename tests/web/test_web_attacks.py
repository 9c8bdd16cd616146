"""Attacks on the creditor pages, performed against the real ``reclaim serve`` (``portal``):
each test names the attack and shows it fails, and that it changed nothing.

- a forged cross-site form (no CSRF token, a wrong one, another visitor's, or another
  ``Origin``): ``403``, the log does not grow;
- another creditor's claim page and its inclusion proof: ``404``, as a claim that does not
  exist; the operator's KYC document with a creditor's session: sent to the operator login;
- session fixation: an id planted before login is never the one that logs in, nor does it
  open a session; logout ends the session on the server;
- least privilege: each console role reads its own pages only, the auditor signs nothing, a
  forbidden or refused action signs nothing; a creditor's name with the console password, or
  a wrong password, logs nobody in;
- password guessing: the login is rate-limited per address (``429`` with ``Retry-After``), also
  for the right password once the budget is spent;
- code guessing: five wrong codes burn the code (the right one, and the mailed confirmation key
  that shares its attempts, are then refused too); the owner signs up again for a new one.

Runs after ``test_creditor_browser.py`` (file order): the login budget it spends is per address,
and the per-client one (all tests come from 127.0.0.1) is far from spent by then.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

import httpx
import pytest
from playwright.sync_api import BrowserContext

from tests.web.portal_world import CREDITOR_PASSWORD, OPERATOR_PASSWORD, Holder, Portal

TOKEN_RE: Final = re.compile(r'name="csrf_token" value="([^"]+)"')
PUBLIC_KEY_RE: Final = re.compile(r'name="public_key" value="([^"]+)"')


def token_of(html: str) -> str:
    found = TOKEN_RE.search(html)
    assert found is not None, "the page has a form with its CSRF token"
    return found.group(1)


_open: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def client(portal: Portal) -> httpx.Client:
    """A browser-like client: the portal's own Origin on every request, cookies kept (closed
    at the end of the test)."""
    made = httpx.Client(base_url=portal.base_url, headers={"Origin": portal.base_url},
                        follow_redirects=False, timeout=30)  # fmt: skip
    _open.append(made)
    return made


def log_size(portal: Portal) -> int:
    return int(httpx.get(f"{portal.base_url}/healthz", timeout=10).json()["size"])


def signed_up(portal: Portal, holder: Holder) -> httpx.Client:
    """A creditor logged in through sign-up and code (the pages' own forms)."""
    web = client(portal)
    form = web.get("/signup")
    before = len(portal.inbox.messages)
    answer = web.post("/signup", data={
        "csrf_token": token_of(form.text), "email": holder.email,
        "password": CREDITOR_PASSWORD, "password_again": CREDITOR_PASSWORD,
    })  # fmt: skip
    assert answer.status_code == 200, answer.text
    key = PUBLIC_KEY_RE.search(answer.text)
    assert key is not None
    code = portal.code_for(holder.email, before)
    done = web.post("/signup/code", data={"csrf_token": token_of(answer.text),
                                          "email": holder.email, "public_key": key.group(1),
                                          "code": code})  # fmt: skip
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/me"
    return web


def test_a_forged_form_is_refused_and_changes_nothing(portal: Portal) -> None:
    web = signed_up(portal, portal.holder("FR"))
    other = signed_up(portal, portal.holder("DE"))
    mine = token_of(web.get("/me").text)
    theirs = token_of(other.get("/me").text)
    size = log_size(portal)
    for data, headers in (
        ({"asset": "EUR"}, {}),  # no token
        ({"asset": "EUR", "csrf_token": "x" * 43}, {}),  # a wrong one
        ({"asset": "EUR", "csrf_token": theirs}, {}),  # another visitor's
        ({"asset": "EUR", "csrf_token": mine}, {"Origin": "https://evil.example"}),
        ({"asset": "EUR", "csrf_token": mine}, {"Origin": "null"}),
    ):
        answer = web.post("/payout", data=data, headers=headers)
        assert answer.status_code == 403, (data, headers, answer.status_code)
        assert "Traceback" not in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    no_origin = httpx.post(f"{portal.base_url}/payout", data={"asset": "EUR", "csrf_token": mine},
                           cookies=web.cookies)  # fmt: skip
    assert no_origin.status_code == 403, "neither Origin nor Referer: refused"
    assert log_size(portal) == size, "nothing was signed"
    assert 'data-asset="EUR"' not in web.get("/me").text
    accepted = web.post("/payout", data={"asset": "EUR", "csrf_token": mine})
    assert accepted.status_code == 303, "the real form works"
    assert log_size(portal) == size + 1


def test_another_creditors_claim_and_proof_are_not_found(portal: Portal) -> None:
    web = signed_up(portal, portal.holder("JP"))
    for taken in portal.taken:
        page = web.get(f"/claims/{taken.claim_id}")
        assert page.status_code == 404
        assert taken.holder not in page.text
        proof = web.get(f"/claims/{taken.claim_id}/proofs/{taken.seq}.json")
        assert proof.status_code == 404
        assert "leaf_hash" not in proof.text
    unknown = web.get("/claims/FTX-999999")
    assert unknown.status_code == 404, "the same answer as a claim that does not exist"
    document = web.get(f"/operator/kyc/{portal.taken[0].holder}/document")
    assert document.status_code == 303, "a creditor's session is no operator's"
    assert document.headers["location"] == "/operator/login"
    anonymous = httpx.get(f"{portal.base_url}/claims/{portal.taken[0].claim_id}")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login"


def test_a_planted_session_id_never_logs_in(nojs: BrowserContext, portal: Portal) -> None:
    holder = portal.holder("KR")
    signed_up(portal, holder)  # the account exists; now log in from a browser
    planted = "attacker-knows-this-id-" + "a" * 20
    nojs.add_cookies([{"name": "reclaim_session", "value": planted, "url": portal.base_url}])
    page = nojs.new_page()
    page.goto(f"{portal.base_url}/me")
    assert page.url == f"{portal.base_url}/login", "a planted id opens no session"
    page.fill("#email", holder.email)
    page.fill("#password", CREDITOR_PASSWORD)
    page.click("form.stack button[type=submit]")
    assert page.url == f"{portal.base_url}/me"
    (cookie,) = [c for c in nojs.cookies() if c["name"] == "reclaim_session"]
    assert cookie["value"] != planted, "the session id changes at login"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert len(cookie["value"]) >= 43, "256 random bits"
    stolen = httpx.get(f"{portal.base_url}/me", cookies={"reclaim_session": planted})
    assert stolen.status_code == 303
    live = httpx.get(f"{portal.base_url}/me", cookies={"reclaim_session": cookie["value"]})
    assert live.status_code == 200
    page.click("nav.account button")  # log out
    assert page.url == f"{portal.base_url}/login"
    after = httpx.get(f"{portal.base_url}/me", cookies={"reclaim_session": cookie["value"]})
    assert after.status_code == 303, "logout ends the session on the server, not just the cookie"


def test_code_guessing_burns_the_code_and_the_owner_signs_up_again(
    portal: Portal,
) -> None:
    holder = portal.holder("SG")
    web = client(portal)
    form = web.get("/signup")
    before = len(portal.inbox.messages)
    answer = web.post("/signup", data={
        "csrf_token": token_of(form.text), "email": holder.email,
        "password": CREDITOR_PASSWORD, "password_again": CREDITOR_PASSWORD,
    })  # fmt: skip
    key = PUBLIC_KEY_RE.search(answer.text)
    assert key is not None
    token = token_of(answer.text)
    code = portal.code_for(holder.email, before)
    wrong = f"{(int(code) + 1) % 100_000_000:08d}"
    fields = {"csrf_token": token, "email": holder.email, "public_key": key.group(1)}
    for _ in range(5):
        guess = web.post("/signup/code", data={**fields, "code": wrong})
        assert guess.status_code == 400
        assert 'data-code="code_refused"' in guess.text
    right = web.post("/signup/code", data={**fields, "code": code})
    assert right.status_code == 400, "five wrong guesses burnt the short code"
    assert "reclaim_session" not in right.headers.get("set-cookie", "")
    confirmation = portal.confirmation_key_for(holder.email, before)
    key_too = web.post("/signup/code", data={**fields, "code": confirmation})
    assert key_too.status_code == 400, "the mailed key shares the code's attempts"
    again = signed_up(portal, holder)  # the owner signs up again: a new code, which works
    assert again.get("/me").status_code == 200


@pytest.mark.parametrize("guesses", [10])
def test_password_guessing_is_rate_limited(portal: Portal, guesses: int) -> None:
    holder = portal.holder("BR")
    signed_up(portal, holder)
    web = client(portal)
    token = token_of(web.get("/login").text)
    for _ in range(guesses):
        wrong = web.post("/login", data={"csrf_token": token, "email": holder.email,
                                         "password": "not my password at all"})  # fmt: skip
        assert wrong.status_code == 400
        assert 'data-code="login_refused"' in wrong.text
    limited = web.post("/login", data={"csrf_token": token, "email": holder.email,
                                       "password": CREDITOR_PASSWORD})  # fmt: skip
    assert limited.status_code == 429, "the budget is spent: the right password waits too"
    assert int(limited.headers["retry-after"]) > 0
    assert "reclaim_session" not in limited.headers.get("set-cookie", "")


def operator(portal: Portal, actor: str) -> httpx.Client:
    web = client(portal)
    token = token_of(web.get("/operator/login").text)
    answer = web.post("/operator/login", data={"csrf_token": token, "actor": actor,
                                               "password": OPERATOR_PASSWORD})  # fmt: skip
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/operator"
    return web


@pytest.mark.parametrize(
    ("actor", "allowed", "refused"),
    [
        ("auditor", ["/operator/kyc", "/operator/escrow", "/operator/rounds",
                     "/operator/withdrawals"], []),
        ("kyc-officer", ["/operator/kyc", "/operator/rounds"],
         ["/operator/escrow", "/operator/withdrawals"]),
        ("treasury", ["/operator/escrow", "/operator/rounds", "/operator/withdrawals"],
         ["/operator/kyc"]),
    ],
)  # fmt: skip
def test_each_role_reads_only_its_pages_and_the_auditor_signs_nothing(
    portal: Portal, actor: str, allowed: list[str], refused: list[str]
) -> None:
    web = operator(portal, actor)
    for path in allowed:
        assert web.get(path).status_code == 200, path
    for path in refused:
        assert web.get(path).status_code == 403, path
    token = token_of(web.get("/operator/rounds").text)
    size = log_size(portal)
    actions = {
        "/operator/kyc/decide": ({"kyc_officer", "admin"},
                                 {"creditor": "c-0", "state": "approved", "verified_name": "X"}),
        "/operator/escrow/release": ({"treasury"}, {"claim_id": "FTX-000001", "reason": "linked"}),
        "/operator/withdrawals/batch": ({"treasury"}, {"rail": "usdc"}),
    }  # fmt: skip
    role = {"auditor": "auditor", "kyc-officer": "kyc_officer", "treasury": "treasury"}[actor]
    for path, (roles, data) in actions.items():
        answer = web.post(path, data={"csrf_token": token, **data})
        if role in roles:
            assert answer.status_code in (303, 409), (path, answer.status_code)
        else:
            assert answer.status_code == 403, (path, answer.status_code)
    assert log_size(portal) == size, "no refused or forbidden action was signed"
    assert web.get("/me").status_code == 303, "an operator's session is no creditor's"


def test_a_wrong_operator_password_and_a_creditor_name_do_not_log_in(portal: Portal) -> None:
    web = client(portal)
    token = token_of(web.get("/operator/login").text)
    for actor, password in (
        ("treasury", "wrong password!!"),
        (portal.taken[0].holder, OPERATOR_PASSWORD),
    ):
        answer = web.post("/operator/login", data={"csrf_token": token, "actor": actor,
                                                   "password": password})  # fmt: skip
        assert answer.status_code == 400
        assert 'data-code="login_refused"' in answer.text
