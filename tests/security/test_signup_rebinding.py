"""Issue 9, finding 2 — a second sign-up of an address must not rebind it, nor lock its owner out.

A real onboarding world: the HTTP API, the SQL code store, vault, rate limiter and outbox, and a
real SMTP server on loopback (aiosmtpd) standing for the owner's mailbox. At ``fd0c56d`` a
sign-up overwrote the address's pending sign-up (password hash and key) and issued a new code:
the owner, entering the newest code they received, registered the attacker's key and password;
five attacker sign-ups an hour spent the address's budget (the owner got 429). Now each
(address, key) has its own pending sign-up and code, bound to SHA-256 of the key and the
password hash and checked at verify with the key; the send budget is per (address, key); short
code checks are bounded per address, and the confirmation key mailed with each code still
finishes the owner's sign-up once strangers have spent that bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reclaim.app.onboarding import creditor_name
from reclaim.core import limits
from reclaim.log.keys import SignerKey
from tests.support.onboarding_world import PASSWORD, World, b64, fingerprint, onboarding_world

OWNER = "zhang.wei@example.cn"  # in the register: FTX-1 and FTX-2
ATTACKER_PASSWORD = "attacker's own password"
PROBLEM = "application/problem+json"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with onboarding_world(tmp_path) as running:
        yield running


def creditor(world: World) -> str:
    return creditor_name(world.identity.email(OWNER))


def assert_the_owner_holds_the_account(world: World) -> None:
    owner, attacker = world.creditor_keys["owner"], world.creditor_keys["attacker"]
    name = creditor(world)
    assert world.log.actor_for_public_key(owner.verifier.public_key) == name
    assert world.log.actor_for_public_key(attacker.verifier.public_key) is None
    stored = world.wiring.service.vault.get(f"creditor:{name}").text("password_hash")
    assert world.wiring.service.passwords.verify(stored, PASSWORD)
    assert not world.wiring.service.passwords.verify(stored, ATTACKER_PASSWORD)
    assert world.signed("GET", "/onboarding/me", owner, "onboardingQuery").status_code == 200
    refused = world.signed("GET", "/onboarding/me", attacker, "onboardingQuery")
    assert refused.status_code == 401
    assert world.log.state.claims.proofs.get(name), "the owner's address is proved"


def codes_by_fingerprint(world: World) -> dict[str, tuple[str, str]]:
    """Every code e-mail the owner received, by the key fingerprint it shows: (code, key)."""
    found: dict[str, tuple[str, str]] = {}
    messages = list(world.inbox.messages)
    for count in range(1, len(messages) + 1):
        world.inbox.messages = messages[:count]
        found[world.inbox.last_fingerprint(OWNER)] = (
            world.inbox.last_code(OWNER), world.inbox.last_confirmation_key(OWNER),
        )  # fmt: skip
    world.inbox.messages = messages
    return found


@pytest.mark.parametrize("attacker_first", [False, True])
def test_a_second_sign_up_does_not_rebind_the_owner_s_address(
    world: World, attacker_first: bool
) -> None:
    """The owner and an attacker sign the same address up, in either order; each code e-mail
    names its key. The owner enters the code of their own e-mail: the owner's key and password
    are registered, the attacker gets nothing. The attacker's sign-up voided nothing."""
    world.creditor_keys["attacker"] = SignerKey.generate("attacker")
    order = ["attacker", "owner"] if attacker_first else ["owner", "attacker"]
    answers = []
    for who in order:
        password = ATTACKER_PASSWORD if who == "attacker" else PASSWORD
        answers.append(world.sign_up(OWNER, who, password=password))
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].content == answers[1].content, "the second sign-up is not told apart"
    assert world.wiring.deliver_mail().sent == 2
    mails = codes_by_fingerprint(world)
    owner_fp = fingerprint(world.creditor_keys["owner"])
    attacker_fp = fingerprint(world.creditor_keys["attacker"])
    assert set(mails) == {owner_fp, attacker_fp}
    owner_code, _ = mails[owner_fp]
    attacker_code, _ = mails[attacker_fp]
    # The attacker cannot use the owner's code; the owner's client cannot use the attacker's.
    assert world.verify(OWNER, owner_code, "attacker").json()["code"] == "code_invalid"
    assert world.verify(OWNER, attacker_code, "owner").json()["code"] == "code_invalid"
    done = world.verify(OWNER, owner_code, "owner")
    assert done.status_code == 200, done.text
    assert done.json() == {"creditor": creditor(world), "email_proved": True}
    assert_the_owner_holds_the_account(world)
    # Even the attacker's own code, read from the owner's mailbox, adds nothing afterwards.
    late = world.verify(OWNER, attacker_code, "attacker")
    assert (late.status_code, late.json()["code"]) == (409, "creditor_exists")
    assert_the_owner_holds_the_account(world)


def test_the_newest_code_the_owner_received_does_not_register_the_attacker(world: World) -> None:
    """The exact repro: the owner signs up, the attacker signs the address up after, and the
    owner enters the newest code of the mailbox (the attacker's) in the owner's client."""
    world.creditor_keys["attacker"] = SignerKey.generate("attacker")
    assert world.sign_up(OWNER, "owner").status_code == 202
    assert world.sign_up(OWNER, "attacker", password=ATTACKER_PASSWORD).status_code == 202
    world.wiring.deliver_mail()
    newest = world.inbox.last_code(OWNER)
    assert world.inbox.last_fingerprint(OWNER) == fingerprint(world.creditor_keys["attacker"])
    answer = world.verify(OWNER, newest, "owner")
    assert (answer.status_code, answer.json()["code"]) == (400, "code_invalid")
    assert creditor(world) not in world.log.state.actors
    # The owner's own code (the first e-mail) is still live.
    world.inbox.messages = world.inbox.messages[:1]
    assert world.verify(OWNER, world.inbox.last_code(OWNER), "owner").status_code == 200
    assert_the_owner_holds_the_account(world)


def test_an_attacker_spending_the_budgets_does_not_lock_the_owner_out(world: World) -> None:
    """The attacker signs the owner's address up until refused, then spends every short-code
    check the address has on guesses. The owner still gets a code, and finishes with the
    confirmation key of their e-mail; the attacker's guesses won nothing."""
    world.creditor_keys["attacker"] = SignerKey.generate("attacker")
    budget = limits.code_sends_per_address_max
    sends = [
        world.sign_up(OWNER, "attacker", password=ATTACKER_PASSWORD) for _ in range(budget + 1)
    ]
    assert [a.status_code for a in sends] == [202] * budget + [429]
    guesses = limits.code_sends_per_address_max * limits.one_time_code_attempts_max
    statuses = [world.verify(OWNER, f"{n:08d}", "attacker").status_code for n in range(guesses)]
    assert statuses == [400] * guesses
    assert world.verify(OWNER, "99999999", "attacker").status_code == 429
    # The owner: a sign-up of their own key is not refused, and its e-mail arrives.
    assert world.sign_up(OWNER, "owner").status_code == 202
    world.wiring.deliver_mail()
    assert world.inbox.last_fingerprint(OWNER) == fingerprint(world.creditor_keys["owner"])
    code = world.inbox.last_code(OWNER)
    key = world.inbox.last_confirmation_key(OWNER)
    limited = world.verify(OWNER, code, "owner")
    assert limited.status_code == 429
    assert limited.headers["content-type"] == PROBLEM
    assert "confirmation key" in limited.json()["detail"]
    assert world.verify(OWNER, key, "attacker").json()["code"] == "code_invalid"
    done = world.verify(OWNER, key.lower().replace("-", " "), "owner")
    assert done.status_code == 200, done.text
    assert_the_owner_holds_the_account(world)


def test_the_confirmation_key_and_the_code_each_work_once(world: World) -> None:
    assert world.sign_up(OWNER, "owner").status_code == 202
    world.wiring.deliver_mail()
    code, key = world.inbox.last_code(OWNER), world.inbox.last_confirmation_key(OWNER)
    assert world.verify(OWNER, key, "owner").status_code == 200
    assert world.verify(OWNER, code, "owner").json()["code"] == "code_invalid"
    assert world.verify(OWNER, key, "owner").json()["code"] == "code_invalid"


def test_a_new_sign_up_with_the_same_key_replaces_only_that_key_s_code(world: World) -> None:
    """Only the holder of a key can sign a sign-up with it (finding 1): their newer sign-up (a
    new password) replaces their own older code, and the newer code registers the newer
    password."""
    assert world.sign_up(OWNER, "owner", password="first password here").status_code == 202
    world.wiring.deliver_mail()
    first = world.inbox.last_code(OWNER)
    assert world.sign_up(OWNER, "owner").status_code == 202
    world.wiring.deliver_mail()
    assert world.verify(OWNER, first, "owner").json()["code"] == "code_invalid"
    assert world.verify(OWNER, world.inbox.last_code(OWNER), "owner").status_code == 200
    stored = world.wiring.service.vault.get(f"creditor:{creditor(world)}").text("password_hash")
    assert world.wiring.service.passwords.verify(stored, PASSWORD)


def test_the_code_e_mail_names_the_key_in_the_creditor_s_language(world: World) -> None:
    from reclaim.adapters.mail import SIGN_UP_CODE, render

    assert world.sign_up(OWNER, "owner").status_code == 202  # locale zh-CN
    world.wiring.deliver_mail()
    (message,) = world.inbox.to(OWNER)
    assert message["Content-Language"] == "zh-Hans"
    body = world.inbox.last_body(OWNER)
    assert "API 密钥的指纹是" in body
    assert world.inbox.last_fingerprint(OWNER) == fingerprint(world.creditor_keys["owner"])
    payload = {"code": "12345678", "minutes": "15", "fingerprint": "a1b2 c3d4 e5f6 0718",
               "key": "ABCDEFGHIJKLMNOPQRST"}  # fmt: skip
    said = {"en": "fingerprint", "fr": "empreinte", "zh-Hans": "指纹"}
    for locale, word in said.items():
        _, text = render(SIGN_UP_CODE, locale, payload)
        assert word in text
        assert "\n    a1b2 c3d4 e5f6 0718\n" in text
        assert "\n    1234 5678\n" in text
        assert "\n    ABCDE-FGHIJ-KLMNO-PQRST\n" in text


def test_a_verify_without_the_key_proves_nothing(world: World) -> None:
    assert world.sign_up(OWNER, "owner").status_code == 202
    world.wiring.deliver_mail()
    code = world.inbox.last_code(OWNER)
    for public_key in ("", b64(SignerKey.generate("x").verifier.public_key)):
        body = {"email": OWNER, "code": code, "public_key": public_key}
        answer = world.client.post("/onboarding/verify", json=body)
        assert (answer.status_code, answer.json()["code"]) == (400, "code_invalid")
    assert world.verify(OWNER, code, "owner").status_code == 200
