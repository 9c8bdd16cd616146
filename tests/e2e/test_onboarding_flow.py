"""End to end: a register imported, a creditor signs up over HTTP, the code comes back through a
real SMTP server on loopback, KYC passes through the hosted provider's signed webhook, the claim
is linked, and the exported log verifies. Then the ways it must not go: a forged webhook, a
replayed and an out-of-order one, a name mismatch (to the operator's queue) and a claim another
creditor holds (a conflict)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.onboarding_world import World, onboarding_world

from reclaim.adapters.kyc import SIGNATURE_HEADER, sign_webhook
from reclaim.adapters.log_sources import open_source
from reclaim.app.export import export_log
from reclaim.app.onboarding import creditor_name
from reclaim.core.claims import ProveEmail
from reclaim.core.machine import RegisterActor
from reclaim.log.keys import SignerKey
from reclaim.verifier import VerifyReport, verify_log

ZHANG = "Zhang.Wei@Example.CN"  # the register has zhang.wei@example.cn: case-folded, it matches
PROBLEM = "application/problem+json"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with onboarding_world(tmp_path) as running:
        yield running


def onboard(world: World, email: str, name: str) -> str:
    """Sign up, read the code from the SMTP server, enter it: the creditor's actor name."""
    assert world.sign_up(email, name).status_code == 202
    report = world.wiring.deliver_mail()
    assert report.sent >= 1
    code = world.inbox.last_code(email.strip())
    answer = world.verify(email, code, name)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["creditor"])


def webhook(world: World, body: dict[str, str], *, secret: bytes | None = None) -> Any:
    raw = json.dumps(body).encode()
    header = sign_webhook(secret or world.webhook_secret, raw, datetime.now(UTC))
    return world.client.post(
        "/webhooks/kyc", content=raw,
        headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"},
    )  # fmt: skip


def decision(creditor: str, reference: str, event_id: str, state: str, *, name: str = "",
             reason: str = "", at: datetime | None = None) -> dict[str, str]:  # fmt: skip
    return {
        "event_id": event_id,
        "creditor": creditor,
        "reference": reference,
        "state": state,
        "reason": reason,
        "verified_name": name,
        "occurred_at": (at or datetime.now(UTC)).isoformat(),
    }


def holder_of(world: World, claim_id: str) -> str | None:
    return world.log.state.claims.claims[claim_id].linked_creditor


def open_kyc(world: World, creditor: str, key_name: str) -> str:
    key = world.creditor_keys[key_name]
    answer = world.signed("POST", "/onboarding/kyc", key, "kycSubmit", {"provider": "hosted"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "pending"
    return str(answer.json()["reference"])


def test_sign_up_code_kyc_link_and_the_log_verifies(world: World) -> None:
    # Sign up; the code arrives by SMTP in the creditor's language (zh-CN -> zh-Hans).
    creditor = onboard(world, ZHANG, "zhang")
    assert creditor == creditor_name(world.identity.email("zhang.wei@example.cn"))
    (mail,) = world.inbox.to("Zhang.Wei@Example.CN")
    assert mail["Content-Language"] == "zh-Hans"
    assert world.log.state.actors[creditor].role == "creditor"
    assert world.identity.email("zhang.wei@example.cn") in world.log.state.claims.proofs[creditor]
    key = world.creditor_keys["zhang"]

    # Before KYC, linking is refused with the core's code.
    refused = world.signed("POST", "/onboarding/link", key, "claimLink", {"claim_id": "FTX-1"})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "kyc_not_approved"

    reference = open_kyc(world, creditor, "zhang")
    size = world.log.size

    # A webhook signed with the wrong secret: 401 problem, nothing changes.
    approved = decision(creditor, reference, "evt-1", "approved", name="Zhang  WEI")
    forged = webhook(world, approved, secret=b"\x01" * 32)
    assert forged.status_code == 401
    assert forged.headers["content-type"] == PROBLEM
    assert forged.json()["code"] == "webhook_signature_invalid"
    no_header = world.client.post("/webhooks/kyc", content=json.dumps(approved).encode())
    assert no_header.json()["code"] == "webhook_signature_invalid"
    assert world.log.size == size
    assert world.log.state.claims.kyc_state(creditor) == "pending"

    # Correctly signed: approved, with a verified name that folds to the holder's.
    applied = webhook(world, approved)
    assert applied.status_code == 200, applied.text
    assert applied.json()["outcome"] == "applied"
    assert world.log.size == size + 1
    (event,) = world.store.leaves(size, size + 1)
    assert b'"kyc.decided"' in event
    assert b'"kyc-provider"' in event

    # The same event again: a no-op.
    again = webhook(world, approved)
    assert again.json()["outcome"] == "duplicate"
    # An older event of the case, arriving late ("resubmission requested" an hour ago): ignored.
    old = decision(creditor, reference, "evt-0", "resubmission_requested", reason="other",
                   at=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
    assert webhook(world, old).json()["outcome"] == "stale"
    assert world.log.size == size + 1
    assert world.log.state.claims.kyc_state(creditor) == "approved"

    # Link both claims of the address; a second link is a no-op.
    for claim_id in ("FTX-1", "FTX-2"):
        linked = world.signed("POST", "/onboarding/link", key, "claimLink", {"claim_id": claim_id})
        assert linked.status_code == 200, linked.text
        assert linked.json()["outcome"] == "linked"
    same = world.signed("POST", "/onboarding/link", key, "claimLink", {"claim_id": "FTX-1"})
    assert same.json()["outcome"] == "unchanged"
    me = world.signed("GET", "/onboarding/me", key, "onboardingQuery")
    assert me.status_code == 200
    assert me.json()["kyc_state"] == "approved"
    assert me.json()["linked_claims"] == ["FTX-1", "FTX-2"]

    # Someone else's claim: the e-mail was not proved by this creditor.
    other = world.signed("POST", "/onboarding/link", key, "claimLink", {"claim_id": "FTX-3"})
    assert other.json()["code"] == "email_not_proved"

    # The whole log verifies offline, replaying every event through the core.
    world.log.publish_checkpoint()
    export = world.directory / "public-log"
    export_log(world.store, world.log.state, export)
    report = verify_log(open_source(str(export)), workers=0)
    assert isinstance(report, VerifyReport), report
    assert report.events == world.log.size


def test_a_name_mismatch_goes_to_the_operator_who_may_link_on_review(world: World) -> None:
    creditor = onboard(world, "marie.curie@example.fr", "marie")
    key = world.creditor_keys["marie"]
    reference = open_kyc(world, creditor, "marie")
    body = decision(creditor, reference, "evt-m1", "approved", name="Maria Skłodowska")
    assert webhook(world, body).json()["outcome"] == "applied"

    refused = world.signed("POST", "/onboarding/link", key, "claimLink", {"claim_id": "FTX-3"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "kyc_name_mismatch"

    queue = world.signed("GET", "/operator/kyc/queue", world.officer, "kycQueueQuery")
    assert queue.status_code == 200, queue.text
    assert queue.json()["conflicts"] == [
        {
            "claim_id": "FTX-3",
            "creditor": creditor,
            "code": "kyc_name_mismatch",
            "holder": "",
            "opened_at": queue.json()["conflicts"][0]["opened_at"],
        }
    ]
    # A creditor may not read the operator's queue.
    assert world.signed("GET", "/operator/kyc/queue", key, "kycQueueQuery").status_code == 403

    reviewed = world.signed(
        "POST", "/operator/claims/FTX-3/link", world.officer, "claimLinkOnReview",
        {"creditor": creditor, "reason": "maiden name on the passport"},
        path_params={"claim_id": "FTX-3"},
    )  # fmt: skip
    assert reviewed.status_code == 200, reviewed.text
    assert holder_of(world, "FTX-3") == creditor

    unlinked = world.signed(
        "POST", "/operator/claims/FTX-3/unlink", world.officer, "claimUnlink",
        {"reason": "linked in error"}, path_params={"claim_id": "FTX-3"},
    )  # fmt: skip
    assert unlinked.status_code == 200, unlinked.text
    assert holder_of(world, "FTX-3") is None
    again = world.signed(
        "POST", "/operator/claims/FTX-3/unlink", world.officer, "claimUnlink",
        {"reason": "again"}, path_params={"claim_id": "FTX-3"},
    )  # fmt: skip
    assert again.status_code == 409
    assert again.json()["code"] == "claim_not_linked"


def test_manual_review_queue_and_a_readable_rejection(world: World) -> None:
    creditor = onboard(world, "marie.curie@example.fr", "marie")
    key = world.creditor_keys["marie"]
    opened = world.signed("POST", "/onboarding/kyc", key, "kycSubmit", {"provider": "manual"})
    assert opened.status_code == 200, opened.text
    queue = world.signed("GET", "/operator/kyc/queue", world.officer, "kycQueueQuery").json()
    assert [c["creditor"] for c in queue["pending"]] == [creditor]

    rejected = world.signed(
        "POST", "/operator/kyc/decisions", world.officer, "kycDecide",
        {"creditor": creditor, "state": "rejected", "reason": "document_expired"},
    )  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    me = world.signed("GET", "/onboarding/me", key, "onboardingQuery").json()
    assert (me["kyc_state"], me["kyc_reason"]) == ("rejected", "document_expired")

    # Rejected is final unless an officer asks for a resubmission.
    again = world.signed("POST", "/onboarding/kyc", key, "kycSubmit", {"provider": "manual"})
    assert again.status_code == 409
    assert again.json()["code"] == "kyc_transition_invalid"


def test_a_claim_held_by_another_creditor_is_a_conflict(world: World) -> None:
    holder = onboard(world, ZHANG, "zhang")
    reference = open_kyc(world, holder, "zhang")
    body = decision(holder, reference, "evt-z", "approved", name="Zhang Wei")
    assert webhook(world, body).json()["outcome"] == "applied"
    key = world.creditor_keys["zhang"]
    assert world.signed("POST", "/onboarding/link", key, "claimLink",
                        {"claim_id": "FTX-1"}).status_code == 200  # fmt: skip

    # A second creditor who proved the same address (the gateway attested it for another
    # account): it passes KYC under the holder's name, but the claim is taken.
    second = SignerKey.generate("rival")
    email = world.identity.email("zhang.wei@example.cn")
    for command in (
        RegisterActor("rival", "creditor", second.verifier.to_text()),
        ProveEmail("rival", email),
    ):
        assert world.log.submit(command, "gateway").__class__.__name__ == "Accepted"
    world.creditor_keys["rival"] = second
    rival_ref = open_kyc(world, "rival", "rival")
    body = decision("rival", rival_ref, "evt-r", "approved", name="ZHANG Wei")
    assert webhook(world, body).json()["outcome"] == "applied"

    refused = world.signed("POST", "/onboarding/link", second, "claimLink", {"claim_id": "FTX-1"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "claim_already_linked"
    again = world.signed("POST", "/onboarding/link", second, "claimLink", {"claim_id": "FTX-1"})
    assert again.json()["code"] == "claim_already_linked"

    queue = world.signed("GET", "/operator/kyc/queue", world.officer, "kycQueueQuery").json()
    assert [(c["claim_id"], c["creditor"], c["code"], c["holder"]) for c in queue["conflicts"]] == [
        ("FTX-1", "rival", "claim_already_linked", holder)
    ]
