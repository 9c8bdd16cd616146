"""Scenario tables of withdrawal destinations (issue 9, finding 7): added → confirmed → usable
after the cooling-off, removed; every refusal; the version rule of ``withdrawal.requested``.

Every scenario starts from the world of ``tests/withdrawal_world.py`` driven through the real
shell (each event round-tripped through the canonical encoding, re-checked, applied; the
invariants hold after every command). ``NEW`` is a beneficiary no creditor has added; the world
has every creditor's ``BENEFICIARIES`` confirmed on every rail, cooled off at ``world.now``::

    alice adds NEW on sepa   → destination.added    (pending)
    the gateway confirms it  → destination.confirmed (usable from now + 24 h)
    alice withdraws to NEW   → destination_cooling_off until then, ok after
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any, Final

import pytest

from reclaim.core.events import Event
from reclaim.core.rejections import Code, Rejection
from reclaim.core.withdrawals import (
    AddDestination,
    ConfirmDestination,
    DestinationCode,
    RemoveDestination,
    RequestWithdrawal,
    WithdrawalsRejection,
    decide_withdrawals,
    destination_cooling_off_max_seconds,
    destination_id_of,
    destinations_per_creditor_max,
)
from tests.support.core_harness import Decided, check
from tests.support.withdrawal_world import BENEFICIARIES, COOLING_OFF, World, commit

NEW: Final = commit("iban:FR1420041010050500013M02606")
NEW_ID: Final = destination_id_of("alice", "sepa", NEW)
DAY: Final = timedelta(seconds=COOLING_OFF)


@pytest.fixture(scope="module")
def built() -> World:
    return World()


@pytest.fixture
def world(built: World) -> World:
    return copy.deepcopy(built)


def code_of(outcome: Decided | Rejection) -> str:
    if isinstance(outcome, Rejection):
        if outcome.code is Code.withdrawal_refused:
            return outcome.detail.split(":")[0].split(" ")[0]
        return outcome.code.name
    return outcome.results[0].code.name if outcome.results else "ok"


def withdraw(ident: str, beneficiary: str = NEW, creditor: str = "alice") -> RequestWithdrawal:
    return RequestWithdrawal(ident, creditor, "sepa", "EUR", 10_000, beneficiary)


def types(world: World, since: int) -> list[str]:
    return [kind for kind, *_ in world.log[since:]]


# The life of a destination ----------------------------------------------------------------------


def test_add_confirm_cool_off_then_withdraw(world: World) -> None:
    since = len(world.log)
    assert code_of(world.run(AddDestination("alice", "sepa", NEW), "gateway")) == "ok"
    assert world.state.entity(f"destination/{NEW_ID}") == {
        "creditor": "alice", "rail": "sepa", "beneficiary": NEW, "status": "pending",
        "added_at": "2025-06-02T09:00:53.000000Z", "confirmed_at": "", "usable_from": "",
        "removed_at": "",
    }  # fmt: skip
    assert code_of(world.run(withdraw("n-1"), "alice")) == "destination_not_confirmed"
    assert code_of(world.run(ConfirmDestination(NEW_ID, COOLING_OFF), "gateway")) == "ok"
    confirmed = world.state.withdrawals.destinations[NEW_ID]
    assert (confirmed.confirmed_at, confirmed.usable_from) == (
        "2025-06-02T09:00:55.000000Z", "2025-06-03T09:00:55.000000Z")  # fmt: skip
    assert code_of(world.run(withdraw("n-2"), "alice")) == "destination_cooling_off"
    usable = world.now - timedelta(seconds=1) + DAY  # the last refusal ran at confirmed + 1 s
    early = world.run(withdraw("n-3"), "alice", at=usable - timedelta(microseconds=1))
    assert code_of(early) == "destination_cooling_off"
    assert code_of(world.run(withdraw("n-4"), "alice", at=usable)) == "ok"
    assert types(world, since) == [
        "destination.added", "destination.confirmed", "withdrawal.requested"]  # fmt: skip
    assert world.log[-1][5] == 2, "decide writes withdrawal.requested v2"
    assert world.replayed().snapshot() == world.state.snapshot()


def test_the_log_holds_the_commitment_never_the_account(world: World) -> None:
    world.ok(AddDestination("alice", "sepa", NEW), "gateway")
    kind, _, actor, _, payload, version = world.log[-1]
    assert (kind, actor, version) == ("destination.added", "gateway", 1)
    assert payload == {"destination_id": NEW_ID, "creditor": "alice", "rail": "sepa",
                       "beneficiary": NEW}  # fmt: skip
    assert "FR14" not in repr(payload)


def test_a_removed_destination_stops_new_withdrawals_and_may_be_added_again(world: World) -> None:
    mine = BENEFICIARIES[0]
    ident = destination_id_of("alice", "sepa", mine)
    assert code_of(world.run(withdraw("r-1", mine), "alice")) == "ok"
    assert code_of(world.run(RemoveDestination(ident), "gateway")) == "ok"
    assert code_of(world.run(withdraw("r-2", mine), "alice")) == "destination_not_confirmed"
    assert code_of(world.run(withdraw("r-1", mine), "alice")) == "exists", "a retry is a retry"
    assert world.state.withdrawals.withdrawals["r-1"].status == "requested", "it goes on"
    assert code_of(world.run(AddDestination("alice", "sepa", mine), "gateway")) == "ok"
    again = world.state.withdrawals.destinations[ident]
    assert (again.status, again.confirmed_at, again.usable_from) == ("pending", "", "")
    assert code_of(world.run(ConfirmDestination(ident, COOLING_OFF), "gateway")) == "ok"
    assert code_of(world.run(withdraw("r-3", mine), "alice")) == "destination_cooling_off"
    assert world.state.withdrawals.destinations_of["alice"].count(ident) == 1
    assert world.replayed().snapshot() == world.state.snapshot()


def test_an_admin_may_remove_a_destination(world: World) -> None:
    ident = destination_id_of("bob", "hk_wire", BENEFICIARIES[1])
    assert code_of(world.run(RemoveDestination(ident), "admin")) == "ok"
    assert world.state.withdrawals.destinations[ident].status == "removed"


def test_destinations_are_per_creditor(world: World) -> None:
    """Bob's confirmed destination is nothing to alice: the same account, another id."""
    theirs = commit("iban:bob-only")
    world.ok(AddDestination("bob", "sepa", theirs), "gateway")
    world.ok(ConfirmDestination(destination_id_of("bob", "sepa", theirs), 0), "gateway")
    assert code_of(world.run(withdraw("p-1", theirs), "alice")) == "destination_not_confirmed"
    assert destination_id_of("bob", "sepa", theirs) != destination_id_of("alice", "sepa", theirs)


def test_a_cooling_off_of_zero_is_usable_at_once(world: World) -> None:
    world.ok(AddDestination("alice", "sepa", NEW), "gateway")
    world.ok(ConfirmDestination(NEW_ID, 0), "gateway")
    assert code_of(world.run(withdraw("z-1"), "alice", at=world.now)) == "ok"


# Every refusal ----------------------------------------------------------------------------------

#: (label, command, signer, code): each from the world, one command.
REFUSALS: Final[tuple[tuple[str, Any, str, str], ...]] = (
    ("added twice", AddDestination("alice", "sepa", BENEFICIARIES[0]), "gateway", "exists"),
    ("creditor name", AddDestination("Alice!", "sepa", NEW), "gateway", "actor_unknown"),
    ("no such rail", AddDestination("alice", "swift", NEW), "gateway", "rail_unknown"),
    ("IBAN in clear", AddDestination("alice", "sepa", "FR7630006000011234567890189"), "gateway",
     "beneficiary_malformed"),
    ("not the gateway", AddDestination("alice", "sepa", NEW), "alice", "actor_not_authorised"),
    ("the treasury", AddDestination("alice", "sepa", NEW), "treasury", "actor_not_authorised"),
    ("unknown id", ConfirmDestination("D" + "0" * 32, COOLING_OFF), "gateway",
     "destination_not_found"),
    ("malformed id", ConfirmDestination("IBAN", COOLING_OFF), "gateway",
     "destination_id_malformed"),
    ("confirmed twice", ConfirmDestination(destination_id_of("alice", "sepa", BENEFICIARIES[0]),
     COOLING_OFF), "gateway", "exists"),
    ("negative cooling-off", ConfirmDestination(destination_id_of("alice", "sepa",
     BENEFICIARIES[0]), -1), "gateway", "cooling_off_out_of_range"),
    ("cooling-off beyond 30 days", ConfirmDestination(destination_id_of("alice", "sepa",
     BENEFICIARIES[0]), destination_cooling_off_max_seconds + 1), "gateway",
     "cooling_off_out_of_range"),
    ("cooling-off as text", ConfirmDestination(destination_id_of("alice", "sepa",
     BENEFICIARIES[0]), "86400"), "gateway", "cooling_off_out_of_range"),
    ("the creditor confirms itself", ConfirmDestination(destination_id_of("alice", "sepa",
     BENEFICIARIES[0]), COOLING_OFF), "alice", "actor_not_authorised"),
    ("remove unknown", RemoveDestination("D" + "f" * 32), "gateway", "destination_not_found"),
    ("remove, as the creditor", RemoveDestination(destination_id_of("alice", "sepa",
     BENEFICIARIES[0])), "alice", "actor_not_authorised"),
)  # fmt: skip


@pytest.mark.parametrize(
    ("command", "signer", "code"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refusals(world: World, command: Any, signer: str, code: str) -> None:
    since = len(world.log)
    assert code_of(world.run(command, signer)) == code
    assert len(world.log) == since


def test_a_removed_destination_cannot_be_confirmed_and_removing_twice_is_exists(
    world: World,
) -> None:
    world.ok(AddDestination("alice", "sepa", NEW), "gateway")
    world.ok(RemoveDestination(NEW_ID), "gateway")
    assert code_of(world.run(ConfirmDestination(NEW_ID, COOLING_OFF), "gateway")) == (
        "destination_removed")  # fmt: skip
    assert code_of(world.run(RemoveDestination(NEW_ID), "gateway")) == "exists"


def test_at_most_sixteen_live_destinations(world: World) -> None:
    """The world gave alice 4 per rail (12); four more fill her bound; a removal frees one."""
    live = destinations_per_creditor_max - len(BENEFICIARIES) * 3
    extra = [commit(f"iban:extra-{n}") for n in range(live + 1)]
    for beneficiary in extra[:-1]:
        world.ok(AddDestination("alice", "usdc", beneficiary), "gateway")
    assert code_of(world.run(AddDestination("alice", "usdc", extra[-1]), "gateway")) == (
        "destinations_exceeded")  # fmt: skip
    world.ok(RemoveDestination(destination_id_of("alice", "usdc", extra[0])), "gateway")
    assert code_of(world.run(AddDestination("alice", "usdc", extra[-1]), "gateway")) == "ok"


# The verifier's side ----------------------------------------------------------------------------


def logged(world: World, kind: str, payload: dict[str, Any], actor: str,
           version: int = 1) -> Rejection | None:  # fmt: skip
    event = Event(kind, version, format_after(world), actor,
                  world.state.actors[actor].live_keys()[0], payload)  # fmt: skip
    return check(world.state, event)


def format_after(world: World) -> str:
    return (world.now + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


REQUEST: Final = {"withdrawal_id": "v-1", "creditor": "alice", "rail": "sepa", "asset": "EUR",
                  "amount_minor": "10000", "fee_minor": "800", "beneficiary": NEW}  # fmt: skip


def test_a_forged_request_to_an_unconfirmed_destination_fails_verification(world: World) -> None:
    refused = logged(world, "withdrawal.requested", REQUEST, "gateway", version=2)
    assert refused is not None
    assert code_of(refused) == "destination_not_confirmed"
    cooled = {**REQUEST, "beneficiary": BENEFICIARIES[0]}
    assert logged(world, "withdrawal.requested", cooled, "gateway", version=2) is None


def test_a_v1_request_after_the_first_destination_is_refused(world: World) -> None:
    """No downgrade: v1 (no destination rule) replays only in logs without destinations."""
    refused = logged(world, "withdrawal.requested", REQUEST, "gateway", version=1)
    assert refused is not None
    assert code_of(refused) == "event_version_retired"
    fresh = World(destinations=False)
    assert logged(fresh, "withdrawal.requested", REQUEST, "gateway", version=1) is None
    strict = logged(fresh, "withdrawal.requested", REQUEST, "gateway", version=2)
    assert strict is not None
    assert code_of(strict) == "destination_not_confirmed"
    fresh.ok(AddDestination("carol", "usdc", NEW), "gateway")
    again = logged(fresh, "withdrawal.requested", REQUEST, "gateway", version=1)
    assert again is not None
    assert code_of(again) == "event_version_retired"


def test_forged_destination_events_fail_verification(world: World) -> None:
    wrong_id = {"destination_id": "D" + "1" * 32, "creditor": "alice", "rail": "sepa",
                "beneficiary": NEW}  # fmt: skip
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        ("destination.added", wrong_id, "gateway", "destination_id_mismatch"),
        ("destination.added", {**wrong_id, "extra": "x"}, "gateway", "payload_malformed"),
        ("destination.confirmed", {"destination_id": NEW_ID, "cooling_off_seconds": "086400"},
         "gateway", "payload_malformed"),
        ("destination.confirmed", {"destination_id": NEW_ID, "cooling_off_seconds": "0"},
         "gateway", "destination_not_found"),
        ("destination.confirmed", {"destination_id": NEW_ID, "cooling_off_seconds": "0"},
         "alice", "actor_not_authorised"),
        ("destination.removed", {"destination_id": NEW_ID}, "treasury", "actor_not_authorised"),
    ]  # fmt: skip
    for kind, payload, actor, expected in cases:
        refused = logged(world, kind, payload, actor)
        assert refused is not None, (kind, payload)
        assert code_of(refused) == expected, (payload, refused)


def test_the_core_alone_refuses_a_malformed_creditor(world: World) -> None:
    """The shell answers ``actor_unknown`` first; the core's own rung still holds."""
    s = world.state
    refused = decide_withdrawals(s.withdrawals, s.ledger, s.claims,
                                 AddDestination("Alice!", "sepa", NEW), world.now)  # fmt: skip
    assert isinstance(refused, WithdrawalsRejection)
    assert refused.code is DestinationCode.creditor_name_invalid


def test_every_destination_code_is_exercised() -> None:
    seen = {r[3] for r in REFUSALS} | {
        "ok", "destination_removed", "destinations_exceeded", "destination_id_mismatch",
        "creditor_name_invalid",
    }  # fmt: skip
    assert {c.name for c in DestinationCode} <= seen
