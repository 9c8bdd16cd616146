"""The verifier recomputes the replayed state's invariants and names the first one broken."""

from __future__ import annotations

from datetime import UTC, datetime

from reclaim.core.ledger import Account, CreateTransfers, OpenAccounts, Transfer
from reclaim.core.machine import Decided, Genesis, RegisterActor, State, decide, evolve
from reclaim.log.keys import SignerKey
from reclaim.verifier import invariant_failure

ADMIN = SignerKey.from_seed("admin", b"\x01" * 32)
TREASURY = SignerKey.from_seed("treasury", b"\x02" * 32)
LOG = SignerKey.from_seed("t/log", b"\x03" * 32)
NOW = datetime(2025, 1, 3, tzinfo=UTC)


def apply(state: State, command: object, actor: SignerKey) -> None:
    decided = decide(state, command, actor.name, actor.key_id.hex(), NOW)  # type: ignore[arg-type]
    assert isinstance(decided, Decided), decided
    for event in decided.events:
        evolve(state, event)


def funded_state() -> State:
    state = State()
    apply(state, Genesis("t/log", "admin", ADMIN.verifier.to_text(), LOG.verifier.to_text()), ADMIN)
    apply(state, RegisterActor("treasury", "treasury", TREASURY.verifier.to_text()), ADMIN)
    rail = Account.of(
        "operator", "USD", "rail_settlement", frozenset({"credits_must_not_exceed_debits"})
    )
    alice = Account.of(
        "alice", "USD", "creditor_available", frozenset({"debits_must_not_exceed_credits"})
    )
    apply(state, OpenAccounts((rail, alice)), TREASURY)
    deposit = Transfer("t1", rail.id, alice.id, "USD", 12_345, "deposit")
    apply(state, CreateTransfers((deposit,)), TREASURY)
    return state


def test_an_honest_replay_keeps_every_invariant() -> None:
    assert invariant_failure(funded_state()) is None


def test_a_balance_that_disagrees_with_the_transfers_is_named() -> None:
    state = funded_state()
    alice = state.ledger.accounts["alice/USD/creditor_available"]
    alice.credits_posted += 1  # a projection that drifted from the log
    broken = invariant_failure(state)
    assert broken is not None
    assert "alice/USD/creditor_available" in broken or "USD" in broken
