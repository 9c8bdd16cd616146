"""The KYC hand-off to a hosted provider, end to end: a real ``reclaim serve`` over a small log
(the onboarding world's register), a real SMTP server for the sign-up codes, and a real provider
on loopback (``tests.support.kyc_provider``) that implements the session API and POSTs a signed
webhook back to reclaim when its page is completed.

The creditor presses "verify with TestID" (a form: POST and CSRF), is redirected to the
provider's page (the CSP lets that form's answer go to the provider's origin and nowhere else),
completes it, comes back to the return page ("in progress" until the webhook came, then the
state), and sees the verified status on "My claims". Then the attacks: a decision about another
creditor's session, a replayed webhook, a forged signature, a provider that is down, refuses
or answers a URL elsewhere (a clear page in the creditor's language, nothing recorded).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from reclaim import bootstrap
from reclaim.adapters.clock import SystemClock
from reclaim.adapters.db.store import open_store
from reclaim.adapters.identity import FoldedCommitments
from reclaim.adapters.keyfiles import init_keys, load_keyring, load_pii_keys
from reclaim.adapters.kyc import sign_webhook
from reclaim.adapters.vault import Commitments
from reclaim.app.log_service import LogService
from reclaim.config import Settings
from tests.support import kyc_provider
from tests.support.factories import ORIGIN
from tests.support.kyc_provider import LoopbackProvider, running_provider
from tests.support.onboarding_world import Inbox, import_register, smtp_server
from tests.support.serving import serving
from tests.web.conftest import new_context
from tests.web.portal_world import CREDITOR_PASSWORD, Portal
from tests.web.test_accessibility import LANGUAGES, Audit
from tests.web.test_creditor_browser import shoot

TOKEN_RE: Final = re.compile(r'name="csrf_token" value="([^"]+)"')
PUBLIC_KEY_RE: Final = re.compile(r'name="public_key" value="([^"]+)"')
STATE_RE: Final = re.compile(r'id="kyc-state" data-state="([a-z_]+)"')
RETURN_PATH: Final = "/kyc/hosted/return"
#: What the zh page says when the provider cannot be reached / refuses (the catalogue's).
ZH_UNREACHABLE: Final = "目前无法连接 TestID，您的身份核验尚未开始。"
ZH_REFUSED: Final = "TestID 未能开始您的身份核验。"


class World:
    def __init__(self, base_url: str, inbox: Inbox, data: Path, provider: LoopbackProvider):
        self.base_url = base_url
        self.provider = provider
        self.portal = Portal(base_url, inbox, data)
        self.clients: list[httpx.Client] = []
        self.emails = iter(f"kyc-{n}@example.org" for n in range(1000))

    def client(self, language: str = "zh-CN,zh;q=0.9") -> httpx.Client:
        """A browser-like client: the portal's Origin, cookies kept, no redirects followed."""
        made = httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30,
                            headers={"Origin": self.base_url,
                                     "Accept-Language": language})  # fmt: skip
        self.clients.append(made)
        return made

    def creditor(self) -> tuple[httpx.Client, str]:
        """A new creditor logged in through the sign-up pages (an address of no claim: KYC
        does not need one); the client and the session's KYC page."""
        email = next(self.emails)
        web = self.client()
        form = web.get("/signup")
        before = len(self.portal.inbox.messages)
        answer = web.post("/signup", data={
            "csrf_token": token_of(form.text), "email": email,
            "password": CREDITOR_PASSWORD, "password_again": CREDITOR_PASSWORD,
        })  # fmt: skip
        assert answer.status_code == 200, answer.text
        key = PUBLIC_KEY_RE.search(answer.text)
        assert key is not None
        code = self.portal.code_for(email, before)
        fields = {"csrf_token": token_of(answer.text), "email": email,
                  "public_key": key.group(1), "code": code}  # fmt: skip
        done = web.post("/signup/code", data=fields)
        assert done.status_code == 303, done.text
        me = web.get("/me")
        assert me.status_code == 200
        return web, me.text

    def log_size(self) -> int:
        return int(httpx.get(f"{self.base_url}/healthz", timeout=10).json()["size"])


def token_of(html: str) -> str:
    found = TOKEN_RE.search(html)
    assert found is not None, "the page has a form with its CSRF token"
    return found.group(1)


def state_of(html: str) -> str:
    found = STATE_RE.search(html)
    assert found is not None, "the page shows the KYC state"
    return found.group(1)


def prepare(data: Path) -> bytes:
    """A log with its genesis and the onboarding world's register; the webhook secret."""
    data.mkdir(parents=True)
    settings = Settings.from_env({}, data_dir=data, origin=ORIGIN)
    init_keys(settings.keys_dir, ORIGIN)
    keys = load_keyring(settings.keys_dir)
    store = open_store(settings.database_url)
    try:
        log = LogService(store, keys, SystemClock())
        bootstrap.ensure_genesis(log, keys, ORIGIN)
        pii = load_pii_keys(settings.keys_dir)
        import_register(log, FoldedCommitments(Commitments(pii.commitment_secret)))
    finally:
        store.close()
    return (settings.keys_dir / "kyc-webhook.secret").read_bytes()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("kyc-hosted")
    data = root / "d"
    webhook_secret = prepare(data)
    secret_file = root / "provider-api.secret"
    secret_file.write_bytes(kyc_provider.API_SECRET + b"\n")
    with smtp_server() as (inbox, smtp_port), running_provider(webhook_secret) as provider:
        env = {
            "RECLAIM_ORIGIN": ORIGIN, "RECLAIM_SMTP_HOST": "127.0.0.1",
            "RECLAIM_SMTP_PORT": str(smtp_port),
            "RECLAIM_KYC_HOSTED_URL": provider.base_url,
            "RECLAIM_KYC_HOSTED_NAME": kyc_provider.PROVIDER_NAME,
            "RECLAIM_KYC_HOSTED_API_KEY": kyc_provider.API_KEY,
            "RECLAIM_KYC_HOSTED_API_SECRET_FILE": str(secret_file),
        }  # fmt: skip
        with serving(data, root / "serve.log", {**os.environ, **env}) as base_url:
            provider.reclaim_url = base_url
            made = World(base_url, inbox, data, provider)
            try:
                yield made
            finally:
                for client in made.clients:
                    client.close()


@pytest.fixture
def provider(world: World) -> Iterator[LoopbackProvider]:
    """The world's provider, behaving again after the test (mode, held webhooks)."""
    yield world.provider
    world.provider.mode = "ok"
    world.provider.hold_webhooks = False
    world.provider.held.clear()


def started(world: World, web: httpx.Client, me: str) -> kyc_provider.Session:
    """Press "verify with TestID": the redirect to the provider's page of a new session."""
    answer = web.post("/kyc/hosted", data={"csrf_token": token_of(me)})
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"{world.provider.base_url}/flow/ses-"), location
    return world.provider.sessions[location.rsplit("/", 1)[1]]


# The hand-off ---------------------------------------------------------------------------------


def test_a_creditor_is_sent_to_the_provider_and_sees_the_verified_status(
    world: World, provider: LoopbackProvider
) -> None:
    web, me = world.creditor()
    assert state_of(me) == "not_started"
    assert 'action="/kyc/hosted"' in me
    assert "通过 TestID 核验身份" in me
    policy = web.get("/me").headers["content-security-policy"]
    assert f"form-action 'self' {provider.base_url};" in policy  # the redirect may go there only
    before = world.log_size()

    session = started(world, web, me)
    assert world.log_size() == before + 1  # kyc.submitted, once the provider gave a session
    request = provider.requests[-1]
    assert request == {"reference": session.reference, "external_user_id": session.creditor,
                       "return_url": world.base_url + RETURN_PATH,
                       "locale": "zh-Hans"}  # fmt: skip
    assert session.creditor.startswith("c-")
    assert "@" not in json.dumps(request)

    pending = web.get("/me").text
    assert state_of(pending) == "pending"
    assert 'id="kyc-hosted-progress"' in pending
    again = web.post("/kyc/hosted", data={"csrf_token": token_of(pending)})  # a closed tab
    assert again.status_code == 303
    assert again.headers["location"] == f"{provider.base_url}/flow/{session.session_id}"
    assert len([s for s in provider.sessions.values() if s.creditor == session.creditor]) == 1
    assert world.log_size() == before + 1

    provider.hold_webhooks = True  # the provider decides a while after the creditor is back
    flow = httpx.get(f"{provider.base_url}/flow/{session.session_id}", timeout=10)
    assert flow.status_code == 200
    done = httpx.post(f"{provider.base_url}/flow/{session.session_id}/complete",
                      data={"name": "Li Na"}, timeout=30)  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == world.base_url + RETURN_PATH
    back = web.get(RETURN_PATH)
    assert back.status_code == 200
    assert back.headers["cache-control"] == "no-store"
    assert state_of(back.text) == "pending"
    assert 'id="kyc-hosted-return"' in back.text

    (delivery,) = provider.deliver_held()
    assert delivery.status == 200, delivery
    verified = web.get(RETURN_PATH).text
    assert state_of(verified) == "approved"
    assert 'id="kyc-verified"' in verified
    mine = web.get("/me").text
    assert state_of(mine) == "approved"
    assert 'action="/kyc/hosted"' not in mine
    assert world.log_size() == before + 2  # kyc.decided, signed by the kyc-provider actor


def test_the_return_page_without_the_session_cookie_says_the_check_is_in_progress(
    world: World,
) -> None:
    """Coming back from the provider's site, a browser may not send the SameSite=Strict
    cookie: the page still answers, in the visitor's language, and sends to My claims."""
    answer = httpx.get(world.base_url + RETURN_PATH, headers={"Accept-Language": "fr"}, timeout=10)
    assert answer.status_code == 200
    assert 'id="kyc-hosted-return"' in answer.text
    assert 'href="/me"' in answer.text
    assert "TestID vérifie votre identité" in answer.text


def test_the_button_needs_the_session_and_its_csrf_token(
    world: World, provider: LoopbackProvider
) -> None:
    web, me = world.creditor()
    count = len(provider.sessions)
    assert web.post("/kyc/hosted", data={"csrf_token": "x" * 43}).status_code == 403
    stranger = world.client()
    assert stranger.post("/kyc/hosted", data={"csrf_token": token_of(me)}).status_code == 403
    assert len(provider.sessions) == count  # the provider was never asked
    assert state_of(web.get("/me").text) == "not_started"


# The attacks ----------------------------------------------------------------------------------


def test_a_decision_about_another_creditors_session_is_refused(
    world: World, provider: LoopbackProvider
) -> None:
    alice_web, alice_me = world.creditor()
    bob_web, bob_me = world.creditor()
    alice, bob = started(world, alice_web, alice_me), started(world, bob_web, bob_me)
    size = world.log_size()
    # Bob's session decided, but naming Alice and her case: her case took another session.
    crossed = provider.deliver(provider.decision(bob, "Bob Brown", creditor=alice.creditor,
                                                 reference=alice.reference))  # fmt: skip
    assert crossed.status == 409
    # Naming Alice with Bob's case reference: not her open case.
    mixed = provider.deliver(provider.decision(bob, "Bob Brown", creditor=alice.creditor))
    assert mixed.status == 409
    assert world.log_size() == size
    assert state_of(alice_web.get("/me").text) == "pending"
    assert provider.deliver(provider.decision(alice, "Alice Ames")).status == 200
    assert state_of(alice_web.get("/me").text) == "approved"
    assert state_of(bob_web.get("/me").text) == "pending"


def test_the_refusals_name_their_codes(world: World, provider: LoopbackProvider) -> None:
    web, me = world.creditor()
    other_web, other_me = world.creditor()
    mine, theirs = started(world, web, me), started(world, other_web, other_me)
    body = provider.decision(theirs, "Someone", creditor=mine.creditor, reference=mine.reference)
    answer = httpx.post(f"{world.base_url}/webhooks/kyc", content=body, timeout=10, headers={
        "X-Reclaim-Kyc-Signature": sign_webhook(provider.webhook_secret, body, datetime.now(UTC)),
        "Content-Type": "application/json",
    })  # fmt: skip
    assert answer.status_code == 409
    assert answer.json()["code"] == "kyc_session_mismatch"


def test_a_replayed_webhook_changes_nothing(world: World, provider: LoopbackProvider) -> None:
    web, me = world.creditor()
    session = started(world, web, me)
    first = provider.deliver(provider.decision(session, "Chen Jie"))
    assert first.status == 200
    size = world.log_size()
    again = provider.deliver(first.body, first.header)  # the same delivery, byte for byte
    assert again.status == 200  # acknowledged (the provider stops retrying), nothing applied
    assert world.log_size() == size
    late = datetime.now(UTC) - timedelta(minutes=10)  # a captured delivery, replayed later
    assert provider.deliver(first.body, sign_webhook(provider.webhook_secret, first.body,
                                                     late)).status == 401  # fmt: skip
    assert world.log_size() == size
    assert state_of(web.get("/me").text) == "approved"


def test_a_forged_signature_is_refused(world: World, provider: LoopbackProvider) -> None:
    web, me = world.creditor()
    session = started(world, web, me)
    size = world.log_size()
    body = provider.decision(session, "Mallory")
    forged = sign_webhook(b"not the provider's secret, 32 bytes long", body, datetime.now(UTC))
    assert provider.deliver(body, forged).status == 401
    signed = sign_webhook(provider.webhook_secret, body, datetime.now(UTC))
    tampered = body.replace(b"Mallory", b"Someone Else")
    assert provider.deliver(tampered, signed).status == 401
    assert world.log_size() == size
    assert state_of(web.get("/me").text) == "pending"


@pytest.mark.parametrize(
    ("mode", "says"),
    [("down", ZH_UNREACHABLE), ("hang_up", ZH_UNREACHABLE), ("refuse", ZH_REFUSED),
     ("elsewhere", ZH_REFUSED)],
)  # fmt: skip
def test_a_provider_that_fails_is_a_clear_page_and_nothing_is_recorded(
    world: World, provider: LoopbackProvider, mode: str, says: str
) -> None:
    web, me = world.creditor()
    size = world.log_size()
    provider.mode = mode
    answer = web.post("/kyc/hosted", data={"csrf_token": token_of(me)})
    assert answer.status_code == 503
    assert answer.headers["content-language"] == "zh-Hans"
    assert says in answer.text
    assert 'id="kyc-hosted-error"' in answer.text
    assert "Traceback" not in answer.text
    assert "elsewhere.example" not in answer.text
    assert world.log_size() == size
    provider.mode = "ok"
    after = web.get("/me").text
    assert state_of(after) == "not_started"
    assert 'action="/kyc/hosted"' in after
    started(world, web, after)  # once it is back, the same creditor goes on
    assert world.log_size() == size + 1


# In a real browser ------------------------------------------------------------------------------


def browser_sign_up(page: Page, world: World) -> None:
    """A new creditor signs up in the browser with the mailed code: the page is then /me."""
    email = next(world.emails)
    page.goto(f"{world.base_url}/signup")
    page.fill("#email", email)
    page.fill("#password", CREDITOR_PASSWORD)
    page.fill("#password_again", CREDITOR_PASSWORD)
    before = len(world.portal.inbox.messages)
    page.click("form.stack button[type=submit]")
    page.fill("#code", world.portal.code_for(email, before))
    page.click("form.stack button[type=submit]")
    assert page.url == f"{world.base_url}/me", page.url


@pytest.fixture
def nojs_en(chromium_app: Browser) -> Iterator[BrowserContext]:
    context = new_context(chromium_app, javascript=False, accept_language="en")
    try:
        yield context
    finally:
        context.close()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_in_a_browser_without_javascript_the_creditor_verifies_with_the_provider(
    world: World, provider: LoopbackProvider, nojs: BrowserContext, nojs_en: BrowserContext,
    shots: Path, language: str,
) -> None:  # fmt: skip
    context = nojs if language == "zh" else nojs_en
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_sign_up(page, world)
    assert page.url == f"{world.base_url}/me", page.url
    shoot(page, shots, "kyc-hosted-me", language)

    provider.hold_webhooks = True
    page.click("#kyc-hosted button[type=submit]")  # POST + CSRF, 303 to the provider
    assert page.url.startswith(f"{provider.base_url}/flow/ses-"), page.url
    page.fill("#name", "Wang Fang")
    page.click("#complete")  # the provider's page sends the creditor back
    assert page.url == world.base_url + RETURN_PATH, page.url
    assert page.locator("#kyc-hosted-return").count() == 1
    assert page.locator("#kyc-state").get_attribute("data-state") == "pending"
    shoot(page, shots, "kyc-hosted-return", language)

    (delivery,) = provider.deliver_held()  # the provider's decision arrives
    assert delivery.status == 200
    page.click("#kyc-check-again")
    assert page.locator("#kyc-state").get_attribute("data-state") == "approved"
    assert page.locator("#kyc-verified").count() == 1
    page.click("main a[href='/me']")
    assert page.locator("#kyc-state").get_attribute("data-state") == "approved"
    assert page.locator("#kyc-hosted").count() == 0
    assert errors == []  # no CSP violation on the way (the form's redirect was allowed)
    page.close()


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_hand_off_pages_have_no_serious_or_critical_violation(
    world: World, provider: LoopbackProvider, chromium_app: Browser, language: str
) -> None:
    context = new_context(chromium_app, javascript=True, accept_language=language)
    try:
        audit = Audit(language)
        page = context.new_page()
        browser_sign_up(page, world)
        audit.check(page, "/me with the hosted option")
        provider.mode = "down"
        page.click("#kyc-hosted button[type=submit]")
        assert page.locator("#kyc-hosted-error").count() == 1
        audit.check(page, "the provider is down (503)")
        provider.mode = "ok"
        provider.hold_webhooks = True
        page.goto(f"{world.base_url}/me")
        page.click("#kyc-hosted button[type=submit]")
        page.fill("#name", "Zhao Lei")
        page.click("#complete")
        audit.check(page, "return page (in progress)")
        page.goto(f"{world.base_url}/me")
        audit.check(page, "/me in progress")
        provider.deliver_held()
        page.goto(world.base_url + RETURN_PATH)
        assert page.locator("#kyc-verified").count() == 1
        audit.check(page, "return page (verified)")
        assert audit.found == [], "\n".join(audit.found)
    finally:
        context.close()
