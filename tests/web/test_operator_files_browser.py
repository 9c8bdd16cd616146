"""The console's uploads and the demo's creditor login in Debian's Chromium (JavaScript on,
for axe), against the real ``reclaim serve`` (``conftest.portal``, a copy of the demo):

- the admin follows the console's link, uploads a register with bad rows and reads the report
  (every fault, its line and reason; nothing appended), then a good supplement: the page shows
  what it would change, the confirmation imports it as one ``claims.imported`` signed by the
  admin, and the new claims are in the log;
- the treasury uploads a camt.053 of the demo's own SEPA batch (built from the pain.001 the demo
  sent the bank): every line is listed with what reconciliation made of it; the demo's bank had
  settled them all, so nothing is settled twice and the log does not grow;
- the creditor login ``make demo`` prints logs in and sees the linked claim and the approved
  identity check.

axe finds no serious or critical violation on the new pages, in Chinese and English, at both
widths; screenshots go to the screenshots folder (``operator-register-*``,
``operator-statements-*``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.sync_api import Browser
from playwright.sync_api import FilePayload as Payload

from reclaim import bootstrap
from reclaim.app.claims_import import CLAIM_SUBJECT_PREFIX, EMAIL_FIELD
from reclaim.config import Settings
from reclaim.demo.logins import CREDITOR_PASSWORD
from tests.web.conftest import PRISTINE, new_context
from tests.web.portal_world import Portal
from tests.web.test_accessibility import Audit
from tests.web.test_creditor_browser import operator_login, shoot
from tests.web.test_operator_browser import round_events
from tests.web.test_web_attacks import log_size

HEADER = "claim_id,customer_code,email,holder_name,jurisdiction,class,admitted_usd,status\n"
BAD = (HEADER + "WEB-1,CUST-W1,nobody,Web Holder,FR,5A,10,allowed\n"
       "WEB-2,CUST-W2,w2@example.org,Web Holder,XX,5A,10,allowed\n").encode()  # fmt: skip
GOOD = (HEADER + "WEB-1,CUST-W1,web.one@example.org,Web One,FR,5A,1000.00,allowed\n"
        "WEB-2,CUST-W2,web.two@example.org,Web Two,DE,7,20.50,allowed\n").encode()  # fmt: skip
_E2E_RE = re.compile(
    r"<EndToEndId>([^<]+)</EndToEndId>.*?<InstdAmt Ccy=\"([A-Z]+)\">([0-9.]+)</InstdAmt>", re.S
)


def csv_file(name: str, data: bytes) -> Payload:
    return Payload(name=name, mimeType="text/csv", buffer=data)


def test_the_admin_reads_the_report_then_imports_a_register(
    chromium_app: Browser, portal: Portal, shots: Path
) -> None:
    for language, tag in (("en", "en"), ("zh-CN", "zh")):
        context = new_context(chromium_app, javascript=True, accept_language=language)
        audit = Audit(language)
        try:
            page = operator_login(context, portal, "admin")
            page.click("a[href='/operator/register']")
            audit.check(page, "register form")
            size = log_size(portal)
            page.set_input_files("#register-file", files=[csv_file("bad.csv", BAD)])
            page.check("#register-supplement")
            page.click("form[action='/operator/register'] button")
            rows = page.locator("#faults tbody tr")
            cells = [rows.nth(i) for i in range(rows.count())]
            faults = [(row.get_attribute("data-code"), row.locator("th").inner_text())
                      for row in cells]  # fmt: skip
            assert faults == [("invalid_email", "2"), ("unknown_jurisdiction", "3")], faults
            assert log_size(portal) == size, "a refused register appends nothing"
            shoot(page, shots, "operator-register-report", tag)
            audit.check(page, "register report")
            if tag != "en":
                assert audit.found == [], "\n".join(audit.found)
                continue
            page.set_input_files("#register-file", files=[csv_file("good.csv", GOOD)])
            page.check("#register-supplement")
            page.click("form[action='/operator/register'] button")
            assert page.inner_text("#plan-new") == "2"
            assert log_size(portal) == size, "validating appends nothing"
            shoot(page, shots, "operator-register-confirm", tag)
            audit.check(page, "register confirmation")
            page.click("#confirm-import")
            assert page.locator("#notice").count() == 1, page.locator("main").inner_html()
            assert page.inner_text("#summary-new") == "2"
            (event,) = round_events(portal, size)
            assert (event["type"], event["actor"]) == ("claims.imported", "admin")
            assert "WEB-1" in str(event["payload"])
            assert "WEB-2" in str(event["payload"])
            assert "web.one@example.org" not in str(event), "no personal data in the log"
            assert audit.found == [], "\n".join(audit.found)
        finally:
            context.close()


def camt_of_batch(pain: str) -> bytes:
    """A camt.053 that books every payment of a pain.001 as paid (version 02)."""
    entries = "".join(
        f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>2025-06-03</Dt></BookgDt><AcctSvcrRef>BK-{ident[:12]}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>{ident}</EndToEndId></Refs></TxDtls></NtryDtls>"
        "</Ntry>"
        for ident, ccy, amount in _E2E_RE.findall(pain)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>WEB-TEST</MsgId><CreDtTm>2025-06-03T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>WEB-TEST</Id><CreDtTm>2025-06-03T18:00:00</CreDtTm>{entries}</Stmt>"
        "</BkToCstmrStmt></Document>"
    ).encode()


def test_the_treasury_reconciles_the_demos_statement(
    chromium_app: Browser, portal: Portal, shots: Path
) -> None:
    (pain,) = sorted((portal.data_dir / "withdrawals").glob("*.pain.001.xml"))
    statement = camt_of_batch(pain.read_text())
    paid = len(_E2E_RE.findall(pain.read_text()))
    assert paid >= 2, "the demo's batch pays several withdrawals"
    for language, tag in (("en", "en"), ("zh-CN", "zh")):
        context = new_context(chromium_app, javascript=True, accept_language=language)
        audit = Audit(language)
        try:
            page = operator_login(context, portal, "treasury")
            page.click("a[href='/operator/statements']")
            audit.check(page, "statement form")
            size = log_size(portal)
            upload = Payload(name="statement.xml", mimeType="application/xml", buffer=statement)
            page.set_input_files("#statement-file", files=[upload])
            page.click("form[action='/operator/statements'] button")
            rows = page.locator("#statement-lines tbody tr")
            kinds = [rows.nth(i).get_attribute("data-kind") for i in range(rows.count())]
            # The demo's bank confirmed all but one and returned the last: each paid line is
            # settled already, the returned one is unexpected once paid.
            assert kinds == ["already_settled"] * (paid - 1) + ["unexpected_state"], kinds
            assert log_size(portal) == size, "nothing is settled twice"
            shoot(page, shots, "operator-statements", tag)
            audit.check(page, "statement result")
            assert audit.found == [], "\n".join(audit.found)
        finally:
            context.close()


def demo_creditor_email(demo_dir: Path, tmp_path: Path) -> str:
    """The e-mail of the creditor ``reclaim demo`` signed up on the web (read from a copy)."""
    copy = tmp_path / "demo"
    shutil.copytree(demo_dir.parent / PRISTINE, copy)
    settings = Settings.from_env(data_dir=copy, database_url=None).with_data_dir(copy)
    container = bootstrap.build(settings)
    try:
        assert container.onboarding is not None
        (claim_id,) = [c.id for c in container.log.state.claims.claims.values()
                       if (c.linked_creditor or "").startswith("c-")]  # fmt: skip
        vault = container.onboarding.service.vault
        return vault.get(CLAIM_SUBJECT_PREFIX + claim_id, [EMAIL_FIELD]).text(EMAIL_FIELD)
    finally:
        container.close()


def test_the_demos_creditor_login_works(
    chromium_app: Browser, portal: Portal, demo_dir: Path, tmp_path: Path
) -> None:
    email = demo_creditor_email(demo_dir, tmp_path)
    context = new_context(chromium_app, javascript=False, accept_language="en")
    try:
        page = context.new_page()
        page.goto(f"{portal.base_url}/login")
        page.fill("#email", email)
        page.fill("#password", CREDITOR_PASSWORD)
        page.click("form.stack button[type=submit]")
        assert page.url == f"{portal.base_url}/me", page.url
        assert page.get_attribute("#kyc-state", "data-state") == "approved"
        assert page.locator("a[href^='/claims/']").count() >= 1, "the linked claim"
        page.goto(f"{portal.base_url}/operator")
        assert page.url == f"{portal.base_url}/operator/login", "a creditor is no operator"
    finally:
        context.close()
