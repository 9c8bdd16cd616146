"""Issue 9, finding 1 — key squatting through sign-up and key addition, end to end.

A real onboarding world: the HTTP API, the SQL code store, outbox and challenges, and a real SMTP
server on loopback (aiosmtpd). Every key is public at ``/log/keys``. At ``fd0c56d`` a sign-up
carried any 32-byte ``public_key`` with no proof: an attacker signed ``squatter@...`` up with the
KYC officer's public key, entered the code mailed to their own address, and every request the
officer signed was ``401 key_unknown`` from then on. Now a sign-up (and a key addition) carries
a signature by the new key over a server challenge bound to the address (or the actor), and the
core refuses a key another actor holds (``key_in_use``) whoever asks.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reclaim.log.keys import SignerKey
from tests.support.factories import ORIGIN
from tests.support.onboarding_world import (
    PASSWORD,
    World,
    b64,
    key_add_message,
    onboarding_world,
    sign_up_message,
)

SQUATTER = "squatter@example.org"
ZHANG = "zhang.wei@example.cn"
MARIE = "marie.curie@example.fr"
PROBLEM = "application/problem+json"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with onboarding_world(tmp_path) as running:
        yield running


def officer_signs(world: World) -> int:
    answer = world.signed("GET", "/operator/kyc/queue", world.officer, "kycQueueQuery")
    return int(answer.status_code)


def refused_code(answer: Any) -> tuple[int, str, str]:
    return answer.status_code, answer.headers["content-type"], answer.json().get("code", "")


def creditors(world: World) -> list[str]:
    return sorted(n for n, a in world.log.state.actors.items() if a.role == "creditor")


def onboard(world: World, email: str, name: str) -> str:
    assert world.sign_up(email, name).status_code == 202
    world.wiring.deliver_mail()
    answer = world.verify(email, world.inbox.last_code(email), name)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["creditor"])


def test_sign_up_with_the_kyc_officer_s_key_is_refused_and_the_officer_still_signs(
    world: World,
) -> None:
    """The repro of the issue, as the attacker would send it (the body fd0c56d accepted), then
    with a real challenge signed by the attacker's own key: refused, nothing mailed, nothing
    registered, and the officer's requests still work."""
    assert officer_signs(world) == 200
    officer_public = b64(world.officer.verifier.public_key)
    old_shape = {"email": SQUATTER, "password": PASSWORD, "public_key": officer_public}
    answer = world.client.post("/onboarding/signup", json=old_shape)
    assert refused_code(answer) == (400, PROBLEM, "possession_not_proved")
    attacker = SignerKey.generate("attacker")
    answer = world.sign_up(SQUATTER, "squat", key=world.officer, prover=attacker)
    assert refused_code(answer) == (400, PROBLEM, "possession_not_proved")
    assert world.wiring.deliver_mail().sent == 0
    assert world.inbox.to(SQUATTER) == []
    for guess in ("00000000", "12345678"):
        body = {"email": SQUATTER, "code": guess, "public_key": officer_public}
        assert world.client.post("/onboarding/verify", json=body).status_code == 400
    assert creditors(world) == []
    assert world.log.actor_for_public_key(world.officer.verifier.public_key) == "kyc-officer"
    assert officer_signs(world) == 200


@pytest.mark.parametrize(
    "attack",
    ["no_signature", "another_key_signs", "another_address_challenge", "replayed_challenge",
     "forged_challenge", "garbage_challenge", "signature_over_another_address"],
)  # fmt: skip
def test_every_way_around_the_proof_is_refused(world: World, attack: str) -> None:
    key = world.creditor_keys.setdefault("me", SignerKey.generate("me"))
    challenge = world.challenge(SQUATTER)
    if attack == "no_signature":
        body = {"email": SQUATTER, "password": PASSWORD, "public_key": b64(key.verifier.public_key),
                "challenge": challenge}  # fmt: skip
        answer = world.client.post("/onboarding/signup", json=body)
    elif attack == "another_key_signs":
        answer = world.sign_up(SQUATTER, "me", challenge=challenge, prover=world.officer)
    elif attack == "another_address_challenge":
        answer = world.sign_up(SQUATTER, "me", challenge=world.challenge(ZHANG))
    elif attack == "replayed_challenge":
        assert world.sign_up(SQUATTER, "me", challenge=challenge).status_code == 202
        answer = world.sign_up(SQUATTER, "me", challenge=challenge)
    elif attack == "forged_challenge":
        raw = bytearray(base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4)))
        raw[7] ^= 0x01  # a later expiry, the same MAC
        forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
        answer = world.sign_up(SQUATTER, "me", challenge=forged)
    elif attack == "garbage_challenge":
        answer = world.sign_up(SQUATTER, "me", challenge="not-a-challenge")
    else:  # the key signed the message of another address, sent with this one
        signature = key.sign(sign_up_message(ORIGIN, challenge, ZHANG))
        body = {"email": SQUATTER, "password": PASSWORD, "public_key": b64(key.verifier.public_key),
                "challenge": challenge, "signature": b64(signature)}  # fmt: skip
        answer = world.client.post("/onboarding/signup", json=body)
    assert refused_code(answer) == (400, PROBLEM, "possession_not_proved")
    world.wiring.deliver_mail()
    assert len(world.inbox.to(SQUATTER)) == (1 if attack == "replayed_challenge" else 0)


def test_an_expired_challenge_is_refused(world: World) -> None:
    from reclaim.adapters.codes import CHALLENGE_LIFETIME_SECONDS

    service = world.wiring.service
    past = service.clock.now() - timedelta(seconds=CHALLENGE_LIFETIME_SECONDS + 1)
    expired = service.challenges.issue("sign_up", world.identity.email(SQUATTER), past)
    answer = world.sign_up(SQUATTER, "me", challenge=expired.challenge)
    assert refused_code(answer) == (400, PROBLEM, "possession_not_proved")
    assert "expired" in answer.json()["detail"]


def test_the_challenge_and_its_refusals_do_not_tell_who_is_in_the_register(world: World) -> None:
    found = [
        world.client.post("/onboarding/challenge", json={"email": e}) for e in (ZHANG, SQUATTER)
    ]
    assert [a.status_code for a in found] == [200, 200]
    assert [sorted(a.json()) for a in found] == [["challenge", "expires_at"]] * 2
    assert found[0].headers["cache-control"] == found[1].headers["cache-control"] == "no-store"
    assert len({a.json()["challenge"] for a in found}) == 2
    refusals = [world.sign_up(e, "me", prover=world.officer) for e in (ZHANG, SQUATTER)]
    assert refusals[0].content == refusals[1].content


def test_a_key_another_actor_holds_is_refused_even_to_its_holder(world: World) -> None:
    """The holder of creditor 1's key proves it, but a key names one actor: ``key_in_use``."""
    onboard(world, ZHANG, "zhang")
    answer = world.sign_up(MARIE, "marie", key=world.creditor_keys["zhang"])
    assert refused_code(answer) == (409, PROBLEM, "key_in_use")
    assert len(creditors(world)) == 1


def add_key(world: World, actor_key: SignerKey, actor: str, new: SignerKey,
            prover: SignerKey | None = None, challenge: str | None = None) -> Any:  # fmt: skip
    if challenge is None:
        got = world.signed("GET", "/onboarding/keys/challenge", actor_key, "keyChallengeQuery")
        assert got.status_code == 200, got.text
        challenge = str(got.json()["challenge"])
    signature = (prover or new).sign(key_add_message(ORIGIN, challenge, actor))
    params = {"public_key": b64(new.verifier.public_key), "challenge": challenge,
              "signature": b64(signature)}  # fmt: skip
    return world.signed("POST", "/onboarding/keys", actor_key, "keyAdd", params)


def test_a_creditor_adds_a_key_it_proves_and_no_key_of_another(world: World) -> None:
    zhang = onboard(world, ZHANG, "zhang")
    marie = onboard(world, MARIE, "marie")
    zhang_key, marie_key = world.creditor_keys["zhang"], world.creditor_keys["marie"]
    second = SignerKey.generate("zhang-2")
    added = add_key(world, zhang_key, zhang, second)
    assert added.status_code == 200, added.text
    assert added.json()["outcome"] == "added"
    assert world.signed("GET", "/onboarding/me", second, "onboardingQuery").status_code == 200
    # The officer's key, without its private half: refused before the log.
    squat = add_key(world, zhang_key, zhang, world.officer, prover=SignerKey.generate("x"))
    assert refused_code(squat) == (400, PROBLEM, "possession_not_proved")
    # Marie's key, with its private half (one person, two accounts): the core refuses it.
    taken = add_key(world, zhang_key, zhang, marie_key)
    assert refused_code(taken) == (409, PROBLEM, "key_in_use")
    # A challenge issued to Marie does not add a key to Zhang, and one is spent once.
    got = world.signed("GET", "/onboarding/keys/challenge", marie_key, "keyChallengeQuery")
    marie_challenge = str(got.json()["challenge"])
    third = SignerKey.generate("zhang-3")
    other = add_key(world, zhang_key, zhang, third, challenge=marie_challenge)
    assert refused_code(other) == (400, PROBLEM, "possession_not_proved")
    assert add_key(world, marie_key, marie, third, challenge=marie_challenge).status_code == 200
    replay = add_key(world, marie_key, marie, SignerKey.generate("m-4"), challenge=marie_challenge)
    assert refused_code(replay) == (400, PROBLEM, "possession_not_proved")
    for key in (zhang_key, marie_key, third):
        assert world.signed("GET", "/onboarding/me", key, "onboardingQuery").status_code == 200
    assert officer_signs(world) == 200
