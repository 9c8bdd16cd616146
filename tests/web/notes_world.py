"""Creditors onboarded through the portal's own forms with httpx (sign-up, the mailed code, a
KYC document, the officer's approval in the console, the link), for the note and market
pages' tests: ``onboarded(portal, holder)`` is a logged-in client of a creditor who holds
``holder``'s claim, KYC approved; ``holder_in(portal, iso, classes)`` a free claim of that
jurisdiction in one of the classes that have recovery notes."""

from __future__ import annotations

import re
from typing import Final

import httpx

from tests.web.portal_world import Holder, Portal
from tests.web.test_web_attacks import operator, signed_up, token_of

#: The demo's note series are of these FTX classes.
NOTE_CLASSES: Final = ("5A", "5B", "6A", "6B")
#: A PNG header and padding: the portal stores a document by its declared type and size.
PNG_HEAD: Final = b"\x89PNG\r\n\x1a\n"


def holder_in(portal: Portal, iso: str, classes: tuple[str, ...] = NOTE_CLASSES) -> Holder:
    while True:
        holder = portal.holder(iso)
        if holder.class_code in classes:
            return holder


def upload(web: httpx.Client, name: str, body: bytes) -> httpx.Response:
    token = token_of(web.get("/me").text)
    return web.post("/kyc", data={"csrf_token": token},
                    files={"document": (name, body, "image/png")})  # fmt: skip


def approve(portal: Portal, document_name: str, name: str) -> str:
    """The KYC officer approves the case whose document is ``document_name``; its creditor."""
    officer = operator(portal, "kyc-officer")
    queue = officer.get("/operator/kyc").text
    found = re.search(r'<li data-creditor="([^"]+)">(?:(?!</li>).)*?data-name="'
                      + re.escape(document_name) + '"', queue, re.S)  # fmt: skip
    assert found is not None, "the case is in the queue"
    creditor = found.group(1)
    answer = officer.post("/operator/kyc/decide", data={
        "csrf_token": token_of(queue), "creditor": creditor, "state": "approved",
        "verified_name": name, "reason": "",
    })  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert 'id="notice"' in answer.text, answer.text
    return creditor


def onboarded(portal: Portal, holder: Holder) -> tuple[httpx.Client, str]:
    """A logged-in client of ``holder``'s creditor, KYC approved, the claim linked."""
    web = signed_up(portal, holder)
    document = f"{holder.claim_id}.png"
    assert upload(web, document, PNG_HEAD + b"\0" * 64).status_code == 303
    creditor = approve(portal, document, holder.name)
    linked = web.post("/link", data={"csrf_token": token_of(web.get("/me").text),
                                     "claim_id": holder.claim_id})  # fmt: skip
    assert linked.headers["location"] == "/me?done=linked", linked.headers
    return web, creditor
