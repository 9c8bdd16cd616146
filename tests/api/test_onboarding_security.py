"""Sign-up and codes against an attacker: no e-mail enumeration, no brute force, rate limits per
address and per client — shown on the HTTP API of a running onboarding world."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reclaim.core import limits
from tests.support.onboarding_world import World, onboarding_world

REGISTERED = "zhang.wei@example.cn"
UNREGISTERED = "nobody.here@example.org"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with onboarding_world(tmp_path) as running:
        yield running


def shape(answer: Any) -> tuple[int, dict[str, str], bytes]:
    """Status, headers but the date, and the exact body bytes."""
    headers = {k: v for k, v in answer.headers.items() if k.lower() != "date"}
    return answer.status_code, headers, answer.content


def test_sign_up_answers_the_same_bytes_for_registered_and_unregistered_addresses(
    world: World,
) -> None:
    registered = world.sign_up(REGISTERED, "a")
    unregistered = world.sign_up(UNREGISTERED, "b")
    assert registered.status_code == 202
    assert shape(registered) == shape(unregistered)
    # Both got a code (the same work was done): buyers sign up too.
    assert world.wiring.deliver_mail().sent == 2
    assert len(world.inbox.to(REGISTERED)) == len(world.inbox.to(UNREGISTERED)) == 1
    # A wrong code is the same answer for both (and for an address never signed up).
    wrong = [
        world.verify(e, "00000000", name)
        for e, name in ((REGISTERED, "a"), (UNREGISTERED, "b"), ("never@example.com", "a"))
    ]
    assert wrong[0].status_code == 400
    assert wrong[0].json()["code"] == "code_invalid"
    assert {shape(w)[2] for w in wrong} == {wrong[0].content}


def test_the_per_address_limit_refuses_alike_registered_or_not(world: World) -> None:
    answers: dict[str, list[Any]] = {REGISTERED: [], UNREGISTERED: []}
    for _ in range(limits.code_sends_per_address_max + 1):
        for email, found in answers.items():
            found.append(world.sign_up(email, email))
    for found in answers.values():
        assert [a.status_code for a in found] == [202] * limits.code_sends_per_address_max + [429]
    refused_registered, refused_unregistered = answers[REGISTERED][-1], answers[UNREGISTERED][-1]
    assert refused_registered.headers["content-type"] == "application/problem+json"
    assert refused_registered.json()["code"] == "rate_limited"
    assert int(refused_registered.headers["Retry-After"]) > 0
    assert shape(refused_registered) == shape(refused_unregistered)


def test_the_per_client_limit_stops_a_sweep_of_addresses(world: World) -> None:
    statuses = [
        world.sign_up(f"sweep.{n}@example.org", f"s{n}").status_code
        for n in range(limits.code_sends_per_client_max + 1)
    ]
    assert statuses == [202] * limits.code_sends_per_client_max + [429]


def test_brute_force_burns_the_code(world: World) -> None:
    world.sign_up(REGISTERED, "zhang")
    world.wiring.deliver_mail()
    right = world.inbox.last_code(REGISTERED)
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    for _ in range(limits.one_time_code_attempts_max):
        answer = world.verify(REGISTERED, wrong, "zhang")
        assert answer.json()["code"] == "code_invalid"
    late = world.verify(REGISTERED, right, "zhang")
    assert late.status_code == 400
    assert late.json()["code"] == "code_invalid"  # burnt: the right code no longer proves it
    assert not [a for a, actor in world.log.state.actors.items() if actor.role == "creditor"]


def test_code_checks_are_limited_per_client(world: World) -> None:
    statuses = [
        world.client.post(
            "/onboarding/verify", json={"email": f"x{n}@example.org", "code": "12345678"}
        ).status_code
        for n in range(limits.code_checks_per_client_max + 1)
    ]
    assert statuses == [400] * limits.code_checks_per_client_max + [429]


def test_the_right_code_works_once_and_spaces_are_fine(world: World) -> None:
    world.sign_up(REGISTERED, "zhang")
    world.wiring.deliver_mail()
    code = world.inbox.last_code(REGISTERED)
    typed = f"{code[:4]} {code[4:]}"
    first = world.verify(REGISTERED, typed, "zhang")
    assert first.status_code == 200, first.text
    assert first.json()["email_proved"] is True
    second = world.verify(REGISTERED, typed, "zhang")
    assert second.json()["code"] == "code_invalid"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "not-an-address", "password": "long enough", "public_key": "AA=="},
         "email_invalid"),
        ({"email": "a@example.org", "password": "short", "public_key": "AA=="},
         "password_invalid"),
        ({"email": "a@example.org", "password": "long enough", "public_key": "AA=="},
         "public_key_invalid"),
        ({"email": "a@example.org", "password": "long enough", "public_key": "AA==",
          "admin": True}, "invalid_parameter"),
    ],
)  # fmt: skip
def test_malformed_sign_ups_are_problems(world: World, body: dict[str, Any], code: str) -> None:
    answer = world.client.post("/onboarding/signup", json=body)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code
