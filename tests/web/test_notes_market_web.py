"""The note pages against a real ``reclaim serve`` (``conftest.market_portal``), through the
pages' own forms (httpx): converting a claim into recovery notes and its Form 2100A, orders on
the book, and the attacks on them — each names the attack, shows it fails and changed nothing:

- a forged form (no CSRF token) on every new POST route: ``403``, the log does not grow;
- converting another creditor's claim: ``404`` (as a claim that does not exist), nothing
  signed; another creditor's conversion evidence and its PDF: ``404``;
- another creditor's orders: not on my orders page; cancelling one by its id: refused
  (``order_not_found``), the order still rests;
- a buyer the jurisdiction policy excludes (mainland China) and an order on a halted market:
  refused, with the reason in the reader's language (Chinese);
- the KYC upload's own bound: a 2 MiB photo is accepted; a body over the bound gets the
  portal's 413 page in the reader's language; other routes keep the API's 64 KiB.
"""

from __future__ import annotations

import re

import httpx

from reclaim.core.limits import kyc_upload_body_max_bytes, request_body_max_bytes
from tests.web.conftest import HALTED_MARKET
from tests.web.notes_world import PNG_HEAD, holder_in, onboarded, upload
from tests.web.portal_world import Portal
from tests.web.test_web_attacks import log_size, signed_up, token_of

MIB = 1024 * 1024


def order_id_in(html: str) -> list[str]:
    return re.findall(r'<tr data-order="([0-9]+)"', html)


def test_a_2_mib_photo_is_accepted_and_a_larger_upload_gets_a_page_in_chinese(
    market_portal: Portal,
) -> None:
    web = signed_up(market_portal, market_portal.holder("FR"))
    web.headers["Accept-Language"] = "zh-CN,zh;q=0.9"
    size = log_size(market_portal)
    too_big = upload(web, "id.png", PNG_HEAD + b"\0" * (kyc_upload_body_max_bytes + MIB))
    assert too_big.status_code == 413
    assert too_big.headers["content-type"].startswith("text/html")
    assert too_big.headers["content-language"] == "zh-Hans"
    assert '<html lang="zh-Hans"' in too_big.text
    assert "文件太大" in too_big.text
    assert "Traceback" not in too_big.text
    assert log_size(market_portal) == size, "nothing was stored or signed"
    assert 'data-state="not_started"' in web.get("/me").text

    accepted = upload(web, "id.png", PNG_HEAD + b"\0" * (2 * MIB))
    assert accepted.status_code == 303, accepted.text[:400]
    assert accepted.headers["location"] == "/me?done=kyc"
    assert 'data-state="pending"' in web.get("/me").text

    # Every other route keeps the API's bound (and its problem+json).
    login = web.post("/login", content=b"x" * (request_body_max_bytes + 1),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert login.status_code == 413
    assert login.headers["content-type"].startswith("application/problem+json")


def test_a_creditor_converts_a_claim_and_downloads_the_form_2100a(market_portal: Portal) -> None:
    holder = holder_in(market_portal, "GB")
    web, creditor = onboarded(market_portal, holder)
    other_holder = holder_in(market_portal, "DE")
    other, _ = onboarded(market_portal, other_holder)

    confirm = web.get(f"/claims/{holder.claim_id}/convert")
    assert confirm.status_code == 200
    notes = holder.admitted_minor  # one note unit per cent of face
    assert f'data-notes="{notes}"' in confirm.text
    assert 'id="convert-form"' in confirm.text

    # Attacks: a forged form, another creditor converting my claim.
    size = log_size(market_portal)
    forged = web.post(f"/claims/{holder.claim_id}/convert", data={"csrf_token": ""})
    assert forged.status_code == 403
    theirs = other.post(f"/claims/{holder.claim_id}/convert",
                        data={"csrf_token": token_of(other.get("/me").text)})  # fmt: skip
    assert theirs.status_code == 404
    assert other.get(f"/claims/{holder.claim_id}/convert").status_code == 404
    assert log_size(market_portal) == size, "nothing was signed"

    done = web.post(f"/claims/{holder.claim_id}/convert",
                    data={"csrf_token": token_of(confirm.text)})  # fmt: skip
    assert done.status_code == 303, done.text[:400]
    assert done.headers["location"] == f"/notes/{holder.claim_id}"
    assert log_size(market_portal) == size + 2, "the conversion and the clerk's assignment"
    entries = httpx.get(f"{market_portal.base_url}/log/entries",
                        params={"start": size, "end": size + 2}).text.splitlines()  # fmt: skip
    assert '"notes.claim_converted"' in entries[0]
    assert '"actor":"gateway"' in entries[0]
    assert creditor in entries[0]
    assert '"claim.assigned"' in entries[1]
    assert '"actor":"admin"' in entries[1]

    page = web.get(f"/notes/{holder.claim_id}")
    assert page.status_code == 200
    assert f'data-converted="{size}"' in page.text
    pdf = web.get(f"/notes/{holder.claim_id}/form2100a.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert other.get(f"/notes/{holder.claim_id}").status_code == 404
    assert other.get(f"/notes/{holder.claim_id}/form2100a.pdf").status_code == 404
    again = web.post(f"/claims/{holder.claim_id}/convert",
                     data={"csrf_token": token_of(page.text)})  # fmt: skip
    assert again.status_code == 404, "the claim is the holding entity's now"

    # The notes rest on the book as an offer; only their owner sees and cancels the order.
    symbol = f"FTX{holder.class_code}_USD"
    market = web.get(f"/market/{symbol}")
    quote = web.post(f"/market/{symbol}/quote", data={
        "csrf_token": token_of(market.text), "side": "Ask", "price": "99", "quantity": "10",
    })  # fmt: skip
    assert quote.status_code == 200, quote.text[:600]
    assert 'data-cash="990"' in quote.text, "$10 of face at 99 cents on the dollar"
    assert 'data-fee="0"' in quote.text
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">',
                             quote.text))  # fmt: skip
    assert log_size(market_portal) == size + 2, "a quote signs nothing"
    forged_order = web.post(f"/market/{symbol}/orders", data={**fields, "csrf_token": ""})
    assert forged_order.status_code == 403
    placed = web.post(f"/market/{symbol}/orders", data=fields)
    assert placed.status_code == 303
    assert placed.headers["location"] == "/market/orders?done=placed"
    twice = web.post(f"/market/{symbol}/orders", data=fields)
    assert twice.status_code == 409
    assert 'data-code="client_id_in_use"' in twice.text
    mine = web.get("/market/orders").text
    (order_id,) = order_id_in(mine)
    assert order_id not in other.get("/market/orders").text, "not on another's page"

    refused = other.post("/market/orders/cancel", data={
        "csrf_token": token_of(other.get("/market/orders").text), "symbol": symbol,
        "order_id": order_id,
    })  # fmt: skip
    assert refused.status_code == 409
    assert 'data-code="order_not_found"' in refused.text
    assert order_id_in(web.get("/market/orders").text) == [order_id], "it still rests"
    unsigned = web.post("/market/orders/cancel", data={"symbol": symbol, "order_id": order_id})
    assert unsigned.status_code == 403
    cancelled = web.post("/market/orders/cancel", data={
        "csrf_token": token_of(mine), "symbol": symbol, "order_id": order_id,
    })  # fmt: skip
    assert cancelled.headers["location"] == "/market/orders?done=cancelled"
    assert order_id_in(web.get("/market/orders").text) == []


def test_an_excluded_buyer_and_a_halted_market_are_told_why_in_chinese(
    market_portal: Portal,
) -> None:
    web, _ = onboarded(market_portal, holder_in(market_portal, "CN"))
    web.headers["Accept-Language"] = "zh-CN"
    symbol = "FTX5A_USD"
    market = web.get(f"/market/{symbol}").text
    assert '<html lang="zh-Hans"' in market
    quote = web.post(f"/market/{symbol}/quote", data={
        "csrf_token": token_of(market), "side": "Bid", "price": "50", "quantity": "1",
    })  # fmt: skip
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">',
                             quote.text))  # fmt: skip
    size = log_size(market_portal)
    bought = web.post(f"/market/{symbol}/orders", data=fields)
    assert bought.status_code == 409
    assert 'data-code="buyer_not_allowed"' in bought.text
    assert "不允许您购买" in bought.text
    assert log_size(market_portal) == size

    halted = web.get(f"/market/{HALTED_MARKET}").text
    assert 'data-status="CancelOnly"' in halted
    assert 'id="market-halted"' in halted
    assert 'id="order-form"' not in halted
    refused = web.post(f"/market/{HALTED_MARKET}/quote", data={
        "csrf_token": token_of(halted), "side": "Ask", "price": "50", "quantity": "1",
    })  # fmt: skip
    assert refused.status_code == 409
    assert 'data-code="market_cancel_only"' in refused.text
    assert "暂停" in refused.text
