"""The fan-out posting (``core/ledger/split.py``) against the same chain transfer by transfer.

A ``Split`` is one debit to many credits; ``check_split`` accepts it by bulk conditions and
falls back to the generic ladders for the exact refusal. The reference here is the chain as the
market and the notes posted it before: ``settlement.check_moves``/``apply_moves`` over the
split's accounts (opened when missing, first) and single transfers. On random, often broken,
splits both give the same answer (what, position, code, id), and an accepted one leaves the
same ledger — every account, transfer record, total and ``changed`` key.
"""

from __future__ import annotations

import copy
from typing import Final

from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.core.ledger.engine import apply_transfer
from reclaim.core.ledger.model import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    LedgerState,
    Transfer,
)
from reclaim.core.ledger.split import Split, apply_split, check_split
from reclaim.core.limits import integer_max
from reclaim.core.market.settlement import Moves, apply_moves, check_moves

D: Final = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
C: Final = frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})
TIME: Final = "2025-06-02T09:00:00.000000Z"
DEBIT: Final = "holding/USD/creditor_available"
OWNERS: Final = ("alice", "bob", "carol", "holding", "rail", "bad owner", "eur")


def ledger(funds: int, debit_flags: frozenset[str]) -> LedgerState:
    """The debit account funded with ``funds`` from a rail; alice and bob open (bob capped by
    ``credits_must_not_exceed_debits``: nothing paid out, nothing may come in), eur's
    USD-named account of another asset."""
    state = LedgerState()
    rail = Account.of("rail", "USD", "creditor_available", C)
    accounts = [
        Account.of("holding", "USD", "creditor_available", debit_flags),
        rail,
        Account.of("alice", "USD", "creditor_available", D),
        Account.of("bob", "USD", "creditor_available", C),
        Account("eur/USD/creditor_available", "EUR", "eur", "creditor_available", D),
    ]
    for account in accounts:
        state.put_account(account)
    if funds:
        fund = Transfer("fund", rail.id, DEBIT, "USD", funds, "deposit", {})
        apply_transfer(state, fund, TIME, "")
    state.changed.clear()
    return state


def moves_of(split: Split) -> Moves:
    """The split as the chain of accounts and single transfers (fresh objects: checking a
    chain on an overlay writes into the accounts it opens)."""
    return Moves(tuple(split.accounts()), tuple(split.transfers()), {})


splits = st.builds(
    lambda credits, asset, code, flags, dup_id: (credits, asset, code, flags, dup_id),
    st.lists(
        st.tuples(st.sampled_from(OWNERS), st.one_of(st.integers(-2, 400), st.just(integer_max))),
        min_size=1, max_size=8,
    ),
    st.sampled_from(["USD", "USD", "USD", "XXX"]),
    st.sampled_from(["distribution", "distribution", "nonsense"]),
    st.sampled_from([D, D, frozenset(), C, D | C]),
    st.sampled_from(["", "", "", "fund", "pt:1:0", "bad id!"]),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    spec=splits,
    funds=st.sampled_from([0, 500, 10_000]),
    debit_flags=st.sampled_from([D, frozenset()]),
)
def test_a_split_answers_and_posts_as_its_transfers_one_by_one(
    spec: tuple[list[tuple[str, int]], str, str, frozenset[str], str],
    funds: int,
    debit_flags: frozenset[str],
) -> None:
    credits, asset, code, flags, dup_id = spec
    ids = [f"pt:9:{i}" for i in range(len(credits))]
    if dup_id:
        ids[-1] = dup_id
    split = Split(DEBIT, asset, code, {"distribution": "r1"}, "creditor_available", flags, ids,
                  [o for o, _ in credits], [a for _, a in credits])  # fmt: skip
    base = ledger(funds, debit_flags)
    expected = check_moves(base, moves_of(split), TIME)
    got = check_split(base, split, TIME)
    assert (got is None) == (expected is None), (got, expected)
    if got is not None and expected is not None:
        assert tuple(got) == tuple(expected)
        return
    by_split, by_moves = copy.deepcopy(base), copy.deepcopy(base)
    apply_split(by_split, split, TIME)
    apply_moves(by_moves, {}, moves_of(split), TIME)
    assert by_split.snapshot() == by_moves.snapshot()
    assert by_split.totals == by_moves.totals
    assert by_split.changed == by_moves.changed
    assert by_split.transfers == by_moves.transfers


def test_a_split_of_many_is_accepted_and_posts_every_credit() -> None:
    """The fast acceptance, not the fallback: 1,000 holders, 3 already open."""
    base = ledger(10**6, D)
    owners = ["alice", "bob", "carol"] + [f"h{i:04d}" for i in range(997)]
    split = Split(DEBIT, "USD", "distribution", {"distribution": "r1"}, "creditor_available",
                  D, [f"pt:9:{i}" for i in range(1000)], owners, [7] * 1000)  # fmt: skip
    apply_transfer(
        base,
        Transfer(
            "b7",
            "bob/USD/creditor_available",
            "alice/USD/creditor_available",
            "USD",
            7,
            "deposit",
            {},
        ),
        TIME,
        "",
    )  # bob's cap now lets 7 in
    base.changed.clear()
    assert check_split(base, split, TIME) is None
    apply_split(base, split, TIME)
    assert base.accounts[DEBIT].balances() == (7_000, 10**6, 0, 0)
    assert base.accounts["h0996/USD/creditor_available"].balances() == (0, 7, 0, 0)
    record = base.transfers["pt:9:999"]
    assert (record.status, record.transfer.credit_account_id, dict(record.transfer.refs)) == (
        "posted", "h0996/USD/creditor_available", {"distribution": "r1"},
    )  # fmt: skip
    assert len(base.changed) == 1 + 1000 + 1000


def test_a_split_that_overdraws_is_refused_at_the_transfer_that_does() -> None:
    base = ledger(20, D)
    split = Split(DEBIT, "USD", "distribution", {}, "creditor_available", D,
                  ["pt:1:0", "pt:1:1", "pt:1:2"], ["x1", "x2", "x3"], [10, 10, 1])  # fmt: skip
    refused = check_split(base, split, TIME)
    assert refused is not None
    assert (refused.what, refused.position, refused.code.name, refused.ident) == (
        "transfer", 2, "exceeds_credits", "pt:1:2",
    )  # fmt: skip
