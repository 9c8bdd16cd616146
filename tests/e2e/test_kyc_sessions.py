"""The onboarding service's hosted sessions in the onboarding world (SQLite, the vault, the API):
``start_hosted_kyc`` with the session adapter over a mock transport, and the webhook's session
rule for a case the API opened without a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e.test_onboarding_flow import ZHANG, decision, onboard, open_kyc, webhook
from tests.support.onboarding_world import World, onboarding_world

from reclaim.adapters.kyc import HostedSessionApi
from reclaim.app.onboarding import HostedStarted, Refused
from reclaim.app.refusals import OnboardingCode
from reclaim.core.claims import KycCode

FLOW = "https://flow.provider.example"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with onboarding_world(tmp_path) as running:
        yield running


def with_provider(world: World, status: int = 201) -> list[httpx.Request]:
    """The world's service with a hosted provider answering ``status``; its requests."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        n = len(seen)
        return httpx.Response(status, json={"session_id": f"ses-{n}", "url": f"{FLOW}/f/{n}"})

    world.wiring.service.hosted = HostedSessionApi(
        "https://api.provider.example", "app", b"a secret of sixteen+ bytes",
        display_name="Provider", flow_origin=FLOW, transport=httpx.MockTransport(handler),
    )  # fmt: skip
    return seen


def test_a_session_opens_the_case_and_a_pending_case_resumes_it(world: World) -> None:
    creditor = onboard(world, ZHANG, "zhang")
    seen = with_provider(world)
    service = world.wiring.service
    size = world.log.size
    first = service.start_hosted_kyc(creditor, "https://r.example/kyc/hosted/return", "zh-Hans")
    assert first == HostedStarted("Provider", "ses-1", f"{FLOW}/f/1")
    assert world.log.size == size + 1
    record = world.log.state.claims.kyc[creditor]
    assert (record.state, record.provider) == ("pending", "hosted")
    again = service.start_hosted_kyc(creditor, "https://r.example/kyc/hosted/return", "zh-Hans")
    assert again == HostedStarted("Provider", "ses-1", f"{FLOW}/f/1", resumed=True)
    assert len(seen) == 1
    assert world.log.size == size + 1
    offer = service.hosted_offer(creditor)
    assert offer is not None
    assert (offer.can_start, offer.in_progress) == (False, True)


def test_no_session_is_asked_for_a_case_that_cannot_be_opened(world: World) -> None:
    creditor = onboard(world, ZHANG, "zhang")
    service = world.wiring.service
    refused = service.start_hosted_kyc(creditor, "https://r/", "en")
    assert refused == Refused(OnboardingCode.provider_unknown, "no hosted KYC provider is set up")
    assert service.hosted_offer(creditor) is None
    open_kyc(world, creditor, "zhang")  # a case of the API's, without a session
    seen = with_provider(world)
    answer = service.start_hosted_kyc(creditor, "https://r/", "en")
    assert isinstance(answer, Refused)
    assert answer.code is KycCode.kyc_transition_invalid
    assert seen == []


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, OnboardingCode.kyc_provider_unavailable), (403, OnboardingCode.kyc_provider_refused)],
)
def test_a_failing_provider_writes_nothing(world: World, status: int, code: OnboardingCode) -> None:
    creditor = onboard(world, ZHANG, "zhang")
    with_provider(world, status)
    size = world.log.size
    answer = world.wiring.service.start_hosted_kyc(creditor, "https://r/", "en")
    assert isinstance(answer, Refused)
    assert answer.code is code
    assert world.log.size == size
    assert creditor not in world.log.state.claims.kyc


def test_a_case_opened_without_a_session_takes_no_decision_naming_one(world: World) -> None:
    creditor = onboard(world, ZHANG, "zhang")
    reference = open_kyc(world, creditor, "zhang")
    size = world.log.size
    someone_elses = {**decision(creditor, reference, "evt-1", "approved", name="Zhang Wei"),
                     "session_id": "ses-of-someone-else"}  # fmt: skip
    refused = webhook(world, someone_elses)
    assert refused.status_code == 409
    assert refused.json()["code"] == "kyc_session_mismatch"
    assert world.log.size == size
    applied = webhook(world, decision(creditor, reference, "evt-2", "approved", name="Zhang Wei"))
    assert applied.json()["outcome"] == "applied"
    assert world.log.state.claims.kyc_state(creditor) == "approved"


def test_a_resubmission_opens_a_new_session_and_the_old_one_decides_nothing(world: World) -> None:
    creditor = onboard(world, ZHANG, "zhang")
    seen = with_provider(world)
    service = world.wiring.service
    first = service.start_hosted_kyc(creditor, "https://r/", "en")
    assert isinstance(first, HostedStarted)
    reference = world.log.state.claims.kyc[creditor].reference
    again = {**decision(creditor, reference, "evt-1", "resubmission_requested", reason="other"),
             "session_id": first.session_id}  # fmt: skip
    assert webhook(world, again).json()["outcome"] == "applied"
    offer = service.hosted_offer(creditor)
    assert offer is not None
    assert offer.can_start
    second = service.start_hosted_kyc(creditor, "https://r/", "en")
    assert second == HostedStarted("Provider", "ses-2", f"{FLOW}/f/2")
    assert len(seen) == 2
    new_reference = world.log.state.claims.kyc[creditor].reference
    assert new_reference != reference
    late = {
        **decision(creditor, new_reference, "evt-2", "approved", name="Zhang Wei"),
        "session_id": first.session_id,
    }  # the first session, about the new case
    assert webhook(world, late).json()["code"] == "kyc_session_mismatch"
    assert world.log.state.claims.kyc_state(creditor) == "pending"
    done = {**decision(creditor, new_reference, "evt-3", "approved", name="Zhang Wei"),
            "session_id": second.session_id}  # fmt: skip
    assert webhook(world, done).json()["outcome"] == "applied"
    assert world.log.state.claims.kyc_state(creditor) == "approved"
