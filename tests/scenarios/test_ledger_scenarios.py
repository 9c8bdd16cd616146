"""Scenario tables of the ledger: every result code, two-phase transfers, chains, retries.

Every scenario starts from the same chart of accounts (opened at 2025-01-03T15:00:00Z):

    account                         flag                              side
    operator/USD/rail_settlement    credits_must_not_exceed_debits    BANK   (cash held)
    operator/USD/funding            -                                 CAP    (operator equity)
    alice/USD/creditor_available    debits_must_not_exceed_credits    ALICE
    bob/USD/creditor_available      debits_must_not_exceed_credits    BOB
    alice/USD/claim_escrow          debits_must_not_exceed_credits    ESCROW
    alice/EUR/creditor_available    debits_must_not_exceed_credits    ALICE_EUR
    operator/EUR/rail_settlement    credits_must_not_exceed_debits    BANK_EUR

then runs its rows in order. A row is one command and the expected code of each item; ``after``
lists balances after the row as (debits_posted, credits_posted, debits_pending,
credits_pending). Every event a row produces is round-tripped through the canonical encoding,
passed through ``check_ledger`` and applied with ``evolve_ledger``; after every row the
invariants are asserted, a refused row must leave the state unchanged, and at the end the whole
log is replayed into a fresh ledger that must be identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reclaim.core import limits
from reclaim.core.events import format_time
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    PENDING_EXPIRED,
    TRANSFERS_CREATED,
    Account,
    AccountCode,
    CreateTransfers,
    Decision,
    EventCode,
    ExpirePending,
    LedgerCommand,
    LedgerRejection,
    LedgerState,
    OpenAccounts,
    StoredTransfer,
    Transfer,
    TransferCode,
    assert_ledger_invariants,
    check_ledger,
    decide_ledger,
    transfer_payload,
    transient,
)
from reclaim.core.limits import pending_timeout_max_seconds, transfers_per_command_max
from tests.support.core_harness import LEDGER, replay_subcore, run_subcore

T0 = datetime(2025, 1, 3, 15, 0, tzinfo=UTC)
D = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
C = frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})
BIGINT = limits.integer_max
TIMEOUT_MAX = pending_timeout_max_seconds

BANK = "operator/USD/rail_settlement"
CAP = "operator/USD/funding"
ALICE = "alice/USD/creditor_available"
BOB = "bob/USD/creditor_available"
ESCROW = "alice/USD/claim_escrow"
ALICE_EUR = "alice/EUR/creditor_available"
BANK_EUR = "operator/EUR/rail_settlement"
CHART = [
    Account.of("operator", "USD", "rail_settlement", C),
    Account.of("operator", "USD", "funding"),
    Account.of("alice", "USD", "creditor_available", D),
    Account.of("bob", "USD", "creditor_available", D),
    Account.of("alice", "USD", "claim_escrow", D),
    Account.of("alice", "EUR", "creditor_available", D),
    Account.of("operator", "EUR", "rail_settlement", C),
]


# Transfer builders ------------------------------------------------------------------------------


def single(
    ident: str, debit: str, credit: str, amount: int, code: str = "deposit", **kw: Any
) -> Transfer:
    return Transfer(ident, debit, credit, str(kw.pop("asset", "USD")), amount, code)._replace(**kw)


def pending(
    ident: str, debit: str, credit: str, amount: int, timeout: int = 0, **kw: Any
) -> Transfer:
    return single(ident, debit, credit, amount, "withdrawal", kind="pending",
                  timeout_seconds=timeout, **kw)  # fmt: skip


def post(ident: str, pending_id: str, amount: int, **kw: Any) -> Transfer:
    return Transfer(ident, "", "", "", amount, "withdrawal", kind="post_pending",
                    pending_id=pending_id)._replace(**kw)  # fmt: skip


def void(ident: str, pending_id: str, amount: int = 0, **kw: Any) -> Transfer:
    return Transfer(ident, "", "", "", amount, "withdrawal", kind="void_pending",
                    pending_id=pending_id)._replace(**kw)  # fmt: skip


# Steps ------------------------------------------------------------------------------------------

Balances = dict[str, tuple[int, int, int, int]]


@dataclass(frozen=True)
class Do:
    """One transfer on its own."""

    transfer: Transfer
    expect: str
    after: Balances = field(default_factory=dict)


@dataclass(frozen=True)
class Chain:
    """Several transfers in one command: atomic (a chain) or not (a batch)."""

    transfers: tuple[Transfer, ...]
    expect: tuple[str, ...]
    after: Balances = field(default_factory=dict)
    atomic: bool = True


@dataclass(frozen=True)
class Wait:
    seconds: int


@dataclass(frozen=True)
class Sweep:
    """``ExpirePending`` at the current time: the ids it expires."""

    expired: tuple[str, ...]
    after: Balances = field(default_factory=dict)


@dataclass(frozen=True)
class Open:
    accounts: tuple[Account, ...]
    expect: tuple[str, ...]
    atomic: bool = False


Step = Do | Chain | Wait | Sweep | Open


# The harness ------------------------------------------------------------------------------------


class Harness:
    def __init__(self) -> None:
        self.state = LedgerState()
        self.now = T0
        self.log: list[tuple[str, dict[str, Any], str]] = []
        self.first_answers: dict[str, StoredTransfer | None] = {}
        decision = self.run(OpenAccounts(tuple(CHART)))
        assert all(r.code is AccountCode.ok for r in decision.results)

    def run(self, command: LedgerCommand) -> Decision:
        before = self.state.snapshot()
        decision = run_subcore(LEDGER, self.state, command, self.now, format_time(self.now),
                               self.log, track_changes=False)  # fmt: skip
        assert not isinstance(decision, LedgerRejection), decision
        assert_ledger_invariants(self.state)
        if not decision.events:
            assert self.state.snapshot() == before, "a refused command changed the state"
        return decision

    def step(self, step: Step) -> None:
        match step:
            case Do(transfer, expect, after):
                self._transfers((transfer,), (expect,), after, atomic=False)
            case Chain(transfers, expect, after, atomic):
                self._transfers(transfers, expect, after, atomic=atomic)
            case Wait(seconds):
                self.now += timedelta(seconds=seconds)
            case Sweep(expired, after):
                decision = self.run(ExpirePending())
                assert tuple(r.id for r in decision.results) == expired
                self._balances(after)
            case Open(accounts, expect, atomic):
                decision = self.run(OpenAccounts(accounts, atomic))
                assert tuple(r.code.name for r in decision.results) == expect

    def _transfers(
        self, transfers: tuple[Transfer, ...], expect: tuple[str, ...], after: Balances,
        *, atomic: bool,
    ) -> None:  # fmt: skip
        decision = self.run(CreateTransfers(transfers, atomic))
        codes = tuple(r.code.name for r in decision.results)
        assert codes == expect, f"{[t.id for t in transfers]}: {codes} != {expect}"
        for result in decision.results:
            if result.code is TransferCode.ok:
                assert isinstance(result.first, StoredTransfer)
                self.first_answers[result.id] = result.first
            elif result.code is TransferCode.exists and result.first is None:
                # An id used twice in a failed chain: its first use was rolled back with it.
                assert result.id not in self.state.transfers
            elif result.code is TransferCode.exists:
                # A retry gets the first answer: the record as accepted, with its first time.
                first = self.first_answers[result.id]
                assert isinstance(result.first, StoredTransfer)
                assert first is not None
                assert result.first.transfer == first.transfer
                assert result.first.created_at == first.created_at
        self._balances(after)

    def _balances(self, after: Balances) -> None:
        for ident, expected in after.items():
            assert self.state.accounts[ident].balances() == expected, ident

    def assert_replay(self) -> None:
        replayed = replay_subcore(LEDGER, LedgerState(), self.log)
        assert_ledger_invariants(replayed)
        assert replayed.snapshot() == self.state.snapshot()


# The scenarios ----------------------------------------------------------------------------------

d0 = single("d0", BANK, ALICE, 1000)
p1 = pending("p1", ALICE, BANK, 100, refs={"withdrawal": "w-1"})
NOBODY = "nobody/USD/creditor_available"
NOTE = "carol/NOTE-FTX-2025/creditor_available"

# fmt: off
SCENARIOS: dict[str, list[Step]] = {
    "money enters from the rail, moves between users, leaves in two phases": [
        # transfer                                  expect             after (dp, cp, dq, cq)
        Do(d0,                                      "ok",              {ALICE: (0, 1000, 0, 0),
                                                                        BANK: (1000, 0, 0, 0)}),
        Do(single("t1", ALICE, BOB, 250, "trade"),  "ok",              {ALICE: (250, 1000, 0, 0),
                                                                        BOB: (0, 250, 0, 0)}),
        Do(pending("w1", BOB, BANK, 200, 3600),     "ok",              {BOB: (0, 250, 200, 0),
                                                                        BANK: (1000, 0, 0, 200)}),
        Do(single("t2", BOB, ALICE, 51, "trade"),   "exceeds_credits", {BOB: (0, 250, 200, 0)}),
        Do(single("t3", BOB, ALICE, 50, "trade"),   "ok",              {BOB: (50, 250, 200, 0)}),
        Do(post("w1p", "w1", 200),                  "ok",              {BOB: (250, 250, 0, 0),
                                                                        BANK: (1000, 200, 0, 0)}),
        Do(single("f1", CAP, BANK, 801),            "exceeds_debits",  {BANK: (1000, 200, 0, 0)}),
        Do(single("f2", BANK, CAP, 5000, "funding"), "ok",             {BANK: (6000, 200, 0, 0),
                                                                        CAP: (0, 5000, 0, 0)}),
    ],
    "two-phase: a partial post releases the rest; a void releases all": [
        Do(d0,                                      "ok",              {ALICE: (0, 1000, 0, 0)}),
        Do(pending("w1", ALICE, BANK, 600, 60),     "ok",              {ALICE: (0, 1000, 600, 0),
                                                                        BANK: (1000, 0, 0, 600)}),
        Do(single("x", ALICE, BOB, 401, "trade"),   "exceeds_credits", {ALICE: (0, 1000, 600, 0)}),
        Do(post("w1p", "w1", 450),                  "ok",              {ALICE: (450, 1000, 0, 0),
                                                                        BANK: (1000, 450, 0, 0)}),
        Do(post("w1q", "w1", 150),                  "pending_transfer_already_posted"),
        Do(void("w1v", "w1"),                       "pending_transfer_already_posted"),
        Do(pending("w2", ALICE, BANK, 550),         "ok",             {ALICE: (450, 1000, 550, 0)}),
        Do(post("w2p", "w2", 551),                  "exceeds_pending_transfer_amount"),
        Do(void("w2v", "w2", 549),                  "pending_transfer_has_different_amount"),
        Do(void("w2v", "w2", 550),                  "ok",              {ALICE: (450, 1000, 0, 0),
                                                                        BANK: (1000, 450, 0, 0)}),
        Do(post("w2p", "w2", 1),                    "pending_transfer_already_voided"),
        Do(void("w2w", "w2"),                       "pending_transfer_already_voided"),
        # A post may name the pending transfer's accounts and asset, or leave them empty.
        Do(pending("w3", ALICE, BANK, 10),          "ok",              {ALICE: (450, 1000, 10, 0)}),
        Do(post("w3p", "w3", 10, debit_account_id=ALICE, credit_account_id=BANK, asset="USD"),
                                                    "ok",              {ALICE: (460, 1000, 0, 0)}),
    ],
    "two-phase: expiry": [
        Do(d0,                                      "ok"),
        Do(pending("w1", ALICE, BANK, 300, 60),     "ok",              {ALICE: (0, 1000, 300, 0)}),
        Do(pending("w2", ALICE, BANK, 200, 120),    "ok",              {ALICE: (0, 1000, 500, 0)}),
        Do(pending("w3", ALICE, BANK, 100),         "ok",              {ALICE: (0, 1000, 600, 0)}),
        Wait(59),
        Sweep(()),
        Do(post("w1p", "w1", 1),                    "ok",              {ALICE: (1, 1000, 300, 0)}),
        Wait(61),  # t0 + 120 s, w2's deadline: it holds its reservation until the sweep
        Do(post("w2p", "w2", 1),                    "pending_transfer_expired",
                                                                       {ALICE: (1, 1000, 300, 0)}),
        Do(void("w2v", "w2"),                       "pending_transfer_expired"),
        Sweep(("w2",),                                                 {ALICE: (1, 1000, 100, 0),
                                                                        BANK: (1000, 1, 0, 100)}),
        Do(void("w2v", "w2"),                       "pending_transfer_expired"),
        Sweep(()),
        Wait(10**6),  # w3 has no timeout: it never expires
        Sweep(()),
        Do(void("w3v", "w3"),                       "ok",              {ALICE: (1, 1000, 0, 0)}),
    ],
    "chains: all or nothing": [
        Do(d0,                                      "ok"),
        # Fund and spend in one chain: the second sees the first.
        Chain((single("c1", BANK, BOB, 300),
               single("c2", BOB, ESCROW, 300, "trade")),
              ("ok", "ok"),                                            {BOB: (300, 300, 0, 0),
                                                                        ESCROW: (0, 300, 0, 0)}),
        # The middle one fails: nothing applies, the others are linked_event_failed.
        Chain((single("c3", ALICE, BOB, 100, "trade"),
               single("c4", BOB, ALICE, 101, "trade"),
               single("c5", ALICE, ESCROW, 1, "trade")),
              ("linked_event_failed", "exceeds_credits", "linked_event_failed"),
                                                                       {ALICE: (0, 1000, 0, 0),
                                                                        BOB: (300, 300, 0, 0)}),
        # The same ids are free again: a refused chain leaves no trace.
        Chain((single("c3", ALICE, BOB, 100, "trade"),
               single("c4", BOB, ALICE, 100, "trade")),
              ("ok", "ok"),                                            {ALICE: (100, 1100, 0, 0),
                                                                        BOB: (400, 400, 0, 0)}),
        # The first one fails.
        Chain((single("c6", ALICE, NOBODY, 1),
               single("c7", ALICE, BOB, 1)),
              ("credit_account_not_found", "linked_event_failed")),
        # The last one fails, after a pending transfer and its post in the same chain.
        Chain((pending("c8", ALICE, BANK, 5),
               post("c9", "c8", 5),
               single("c10", BOB, ALICE, 10**6)),
              ("linked_event_failed", "linked_event_failed", "exceeds_credits"),
                                                                       {ALICE: (100, 1100, 0, 0)}),
        # A chain that uses one id twice fails on the second.
        Chain((single("c11", ALICE, BOB, 1),
               single("c11", ALICE, BOB, 1)),
              ("linked_event_failed", "exists")),
        # A batch (not atomic): each on its own, in order.
        Chain((single("b1", ALICE, BOB, 1),
               single("b2", BOB, ALICE, 10**6),
               single("b3", ALICE, BOB, 2)),
              ("ok", "exceeds_credits", "ok"),                         {ALICE: (103, 1100, 0, 0),
                                                                        BOB: (400, 403, 0, 0)},
              atomic=False),
    ],
    "retries: the first answer, or what differs": [
        Do(d0,                                      "ok"),
        Do(p1,                                      "ok",              {ALICE: (0, 1000, 100, 0)}),
        Wait(5),
        Do(d0,                                      "exists",          {ALICE: (0, 1000, 100, 0)}),
        Do(p1,                                      "exists"),
        Do(d0._replace(kind="pending"),             "exists_with_different_kind"),
        Do(p1._replace(timeout_seconds=30),         "exists_with_different_timeout"),
        Do(d0._replace(debit_account_id=CAP),       "exists_with_different_debit_account_id"),
        Do(d0._replace(credit_account_id=BOB),      "exists_with_different_credit_account_id"),
        Do(d0._replace(amount_minor=1001),          "exists_with_different_amount"),
        Do(d0._replace(asset="EUR"),                "exists_with_different_asset"),
        Do(d0._replace(code="correction"),          "exists_with_different_code"),
        Do(p1._replace(refs={"withdrawal": "w-2"}), "exists_with_different_refs"),
        Do(post("q1", "p1", 40),                    "ok",              {ALICE: (40, 1000, 0, 0)}),
        Do(post("q1", "p1", 40),                    "exists"),
        Do(post("q1", "p1", 40, debit_account_id=ALICE), "exists"),  # the filled-in field
        Do(post("q1", "p1", 41),                    "exists_with_different_amount"),
        Do(post("q1", "d0", 40),                    "exists_with_different_pending_id"),
        Do(post("q1", "p1", 40, credit_account_id=BOB),
                                                    "exists_with_different_credit_account_id"),
        # An existing id wins over the request's own faults (the ladder's order).
        Do(d0._replace(amount_minor=0),             "exists_with_different_amount"),
        # A whole chain retried gets every first answer.
        Chain((single("c1", BANK, BOB, 10),
               single("c2", BOB, ALICE, 10, "trade")),
              ("ok", "ok")),
        Chain((single("c1", BANK, BOB, 10),
               single("c2", BOB, ALICE, 10, "trade")),
              ("exists", "exists"),                                    {BOB: (10, 10, 0, 0)}),
        # A retry mixed with a new transfer is not a retry: the chain fails on the first non-ok.
        Chain((single("c1", BANK, BOB, 10),
               single("c3", BOB, ALICE, 1, "trade")),
              ("exists", "linked_event_failed")),
        # A transient refusal is not remembered: the same transfer succeeds once it can.
        Do(single("r1", BOB, ALICE, 5, "trade"),    "exceeds_credits"),
        Do(single("r0", BANK, BOB, 5),              "ok"),
        Do(single("r1", BOB, ALICE, 5, "trade"),    "ok",              {BOB: (15, 15, 0, 0)}),
    ],
    "refusals of a transfer on its own, in ladder order": [
        Do(d0,                                      "ok"),
        Do(p1,                                      "ok",              {ALICE: (0, 1000, 100, 0)}),
        Do(single("", ALICE, BOB, 1),               "id_must_not_be_empty"),
        Do(single("bad id", ALICE, BOB, 1),         "id_malformed"),
        Do(single("x" * 65, ALICE, BOB, 1),         "id_malformed"),
        Do(single("k", ALICE, BOB, 1, kind="refund"), "kind_unknown"),
        Do(single("bad id", ALICE, BOB, 0, kind="refund"), "id_malformed"),  # first failure wins
        Do(single("a", "", BOB, 1),                 "debit_account_id_must_not_be_empty"),
        Do(single("a", ALICE, "", 1),               "credit_account_id_must_not_be_empty"),
        Do(single("a", ALICE, ALICE, 1),            "accounts_must_be_different"),
        Do(single("a", ALICE, BOB, 1, pending_id="p1"), "pending_id_must_be_empty"),
        Do(post("a", "", 1),                        "pending_id_must_not_be_empty"),
        Do(post("a", "a", 1),                       "pending_id_must_be_different"),
        Do(single("a", ALICE, BOB, 1, timeout_seconds=60),
                                                    "timeout_reserved_for_pending_transfer"),
        Do(pending("a", ALICE, BANK, 1, -1),        "timeout_out_of_range"),
        Do(pending("a", ALICE, BANK, 1, TIMEOUT_MAX + 1), "timeout_out_of_range"),
        Do(single("a", ALICE, BOB, 1, asset="GBP"), "asset_unknown"),
        Do(single("a", ALICE, BOB, 1, asset=""),    "asset_unknown"),
        Do(single("a", ALICE, BOB, 1, "gift"),      "code_unknown"),
        Do(single("a", ALICE, BOB, 1, refs={"invoice": "i-1"}), "ref_kind_unknown"),
        Do(single("a", ALICE, BOB, 1, refs={"claim": "no spaces"}), "ref_malformed"),
        Do(single("a", ALICE, BOB, -1),             "amount_must_not_be_negative"),
        Do(single("a", ALICE, BOB, 0),              "amount_must_not_be_zero"),
        Do(post("a", "p1", 0),                      "amount_must_not_be_zero"),
        Do(single("a", ALICE, BOB, BIGINT + 1),     "amount_exceeds_bigint"),
        Do(single("a", NOBODY, BOB, 1),             "debit_account_not_found"),
        Do(single("a", ALICE, NOBODY, 1),           "credit_account_not_found"),
        Do(single("a", ALICE, ALICE_EUR, 1),        "accounts_must_have_the_same_asset"),
        Do(single("a", ALICE, BOB, 1, asset="EUR"),
                                                    "transfer_must_have_the_same_asset_as_accounts"),
        Do(post("a", "nope", 1),                    "pending_transfer_not_found"),
        Do(post("a", "d0", 1),                      "pending_transfer_not_pending"),
        Do(post("a", "p1", 1, debit_account_id=BOB),
                                                    "pending_transfer_has_different_debit_account_id"),
        Do(post("a", "p1", 1, credit_account_id=CAP),
                                                    "pending_transfer_has_different_credit_account_id"),
        Do(post("a", "p1", 1, asset="EUR"),         "pending_transfer_has_different_asset"),
        Do(post("a", "p1", 101),                    "exceeds_pending_transfer_amount"),
        Do(void("a", "p1", 99),                     "pending_transfer_has_different_amount"),
        Do(single("a", ALICE, BOB, 901),            "exceeds_credits"),
        Do(single("a", CAP, BANK, 1001),            "exceeds_debits"),
        Do(single("a", ALICE, BOB, 900),            "ok",              {ALICE: (900, 1000, 100, 0),
                                                                        BOB: (0, 900, 0, 0)}),
    ],
    "no sum overflows BIGINT": [
        Do(single("big", BANK_EUR, ALICE_EUR, BIGINT, asset="EUR"),
           "ok",                                    {ALICE_EUR: (0, BIGINT, 0, 0)}),
        Do(single("one", BANK_EUR, ALICE_EUR, 1, asset="EUR"),   "overflows_asset_total"),
        Do(pending("p", ALICE_EUR, BANK_EUR, 1, asset="EUR"),    "overflows_asset_total"),
        Do(single("back", ALICE_EUR, BANK_EUR, 5, asset="EUR"),  "overflows_asset_total"),
        Do(single("usd", BANK, ALICE, BIGINT),      "ok",              {ALICE: (0, BIGINT, 0, 0)}),
    ],
    "opening accounts": [
        Open((Account.of("carol", "USD", "creditor_available", D),),     ("ok",)),
        Open((Account.of("carol", "USD", "creditor_available", D),),     ("exists",)),
        Open((Account.of("carol", "USD", "creditor_available", C),),
             ("exists_with_different_flags",)),
        Open((Account("carol/USD/fees", "USD", "carol", "claim_escrow"),), ("id_malformed",)),
        Open((Account.of("Carol Smith", "USD", "fees"),),                ("owner_malformed",)),
        Open((Account.of("carol", "GBP", "fees"),),                      ("asset_unknown",)),
        Open((Account.of("carol", "USD", "savings"),),                   ("purpose_unknown",)),
        Open((Account.of("carol", "USD", "fees", frozenset({"x"})),),    ("flag_unknown",)),
        Open((Account.of("carol", "USD", "fees", C | D),),
             ("flags_are_mutually_exclusive",)),
        Open((Account("carol/USD/fees", "USD", "carol", "fees", D, 0, 5),),
             ("balances_must_be_zero",)),
        Open((Account.of("carol", "NOTE-FTX-2025", "creditor_available", D),
              Account.of("carol", "NOTE-x", "creditor_available", D)),  ("ok", "asset_unknown")),
        Open((Account.of("dave", "USD", "creditor_available", D),
              Account.of("dave", "USDC", "savings")),                   ("linked_event_failed",
                                                                          "purpose_unknown"),
             atomic=True),
        Open((Account.of("dave", "USD", "creditor_available", D),
              Account.of("dave", "USD", "creditor_available", D)),      ("ok", "exists")),
        Open((Account.of("dave", "USD", "creditor_available", D),),     ("exists",), atomic=True),
        Do(single("n1", NOTE, "carol/USD/creditor_available", 1),
           "accounts_must_have_the_same_asset"),
    ],
}
# fmt: on


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name: str) -> None:
    harness = Harness()
    for step in SCENARIOS[name]:
        harness.step(step)
    harness.assert_replay()


# Every code has a row -------------------------------------------------------------------------


def _expected_codes() -> tuple[set[str], set[str]]:
    transfer_codes: set[str] = set()
    account_codes: set[str] = set()
    for steps in SCENARIOS.values():
        for step in steps:
            match step:
                case Do(_, expect):
                    transfer_codes.add(expect)
                case Chain(_, expect):
                    transfer_codes.update(expect)
                case Open(_, expect):
                    account_codes.update(expect)
    return transfer_codes, account_codes


def test_every_transfer_code_has_a_scenario_row() -> None:
    assert _expected_codes()[0] == {code.name for code in TransferCode}


def test_every_account_code_has_a_scenario_row() -> None:
    assert _expected_codes()[1] == {code.name for code in AccountCode}


def test_every_event_code_has_a_row() -> None:
    assert {c.name for c in EventCode} <= {row[3] for row in EVENT_ROWS}


def test_transient_is_exhaustive_and_matches_the_state_dependent_codes() -> None:
    refusals = [c for c in TransferCode if c is not TransferCode.ok]
    assert {c.name for c in refusals if transient(c)} == {
        "linked_event_failed",
        "debit_account_not_found",
        "credit_account_not_found",
        "pending_transfer_not_found",
        "overflows_asset_total",
        "exceeds_credits",
        "exceeds_debits",
    }
    assert not any(transient(c) for c in AccountCode if c is not AccountCode.ok)
    with pytest.raises(AssertionError):
        transient(TransferCode.ok)


def test_codes_are_ordered_by_precedence_and_never_share_a_value() -> None:
    for enum in (TransferCode, AccountCode, EventCode):
        values = [c.value for c in enum]
        assert values == sorted(values)
        assert len(set(values)) == len(values)


# A batch larger than its bound ------------------------------------------------------------------


def test_a_command_with_too_many_transfers_is_refused_whole() -> None:
    harness = Harness()
    transfers = tuple(single(f"t{i}", BANK, ALICE, 1) for i in range(transfers_per_command_max + 1))
    decision = decide_ledger(harness.state, CreateTransfers(transfers), T0)
    assert isinstance(decision, LedgerRejection)
    assert decision.code is EventCode.batch_too_large
    accepted = harness.run(CreateTransfers(transfers[:-1]))
    assert len(accepted.events) == 1
    assert all(r.code is TransferCode.ok for r in accepted.results)


def test_nothing_to_do_means_no_event() -> None:
    harness = Harness()
    assert harness.run(CreateTransfers(())) == Decision([], ())
    assert harness.run(ExpirePending()) == Decision([], ())
    assert harness.run(OpenAccounts(())).events == []


# The verifier's side: logged events the ladder refuses ------------------------------------------

TIME = format_time(T0)
LATER = format_time(T0 + timedelta(seconds=30))
DUE = format_time(T0 + timedelta(seconds=60))


def _base() -> Harness:
    harness = Harness()
    harness.step(Do(d0, "ok"))
    harness.step(Do(pending("w1", ALICE, BANK, 100, 60), "ok"))
    harness.step(Do(p1, "ok"))
    return harness


def _transfers(*items: dict[str, Any], atomic: bool = True) -> dict[str, Any]:
    return {"atomic": atomic, "transfers": list(items)}


OK_ITEM = transfer_payload(single("n1", BANK, BOB, 5), "")
FILLED: dict[str, Any] = {"debit_account_id": ALICE, "credit_account_id": BANK, "asset": "USD"}
POST_P1 = transfer_payload(post("q", "p1", 5, **FILLED), "")
POST_P1_AGAIN = transfer_payload(post("q2", "p1", 5, **FILLED), "")
ALICE_ITEM = {"id": ALICE, "owner": "alice", "asset": "USD", "purpose": "creditor_available",
              "flags": [DEBITS_MUST_NOT_EXCEED_CREDITS]}  # fmt: skip
UNSORTED_ITEM = {"id": "z/USD/fees", "owner": "z", "asset": "USD", "purpose": "fees",
                 "flags": ["b", "a"]}  # fmt: skip
OPENED = "ledger.accounts_opened"

# fmt: off
EVENT_ROWS: list[tuple[Any, ...]] = [
    # what, event type, payload, expected code[, event time if not LATER]
    ("an unknown event type", "ledger.burned", {"transfers": ["w1"]}, "event_type_unknown"),
    ("a missing field", TRANSFERS_CREATED, {"transfers": [OK_ITEM]}, "payload_malformed"),
    ("atomic is not a boolean", TRANSFERS_CREATED, _transfers(OK_ITEM) | {"atomic": "yes"},
     "payload_malformed"),
    ("no transfers", TRANSFERS_CREATED, _transfers(), "payload_malformed"),
    ("an amount that is not canonical", TRANSFERS_CREATED,
     _transfers(OK_ITEM | {"amount_minor": "05"}), "payload_malformed"),
    ("an amount that is a float", TRANSFERS_CREATED,
     _transfers(OK_ITEM | {"amount_minor": 5.0}), "payload_malformed"),
    ("an amount beyond BIGINT", TRANSFERS_CREATED,
     _transfers(OK_ITEM | {"amount_minor": str(2**63)}), "payload_malformed"),
    ("refs that are not text", TRANSFERS_CREATED,
     _transfers(OK_ITEM | {"refs": {"claim": ["c"]}}), "payload_malformed"),
    ("an extra field", TRANSFERS_CREATED, _transfers(OK_ITEM | {"memo": "hi"}),
     "payload_malformed"),
    ("a post whose fields are not filled in", TRANSFERS_CREATED,
     _transfers(transfer_payload(post("q", "p1", 5), "")), "payload_malformed"),
    ("a void whose amount is not filled in", TRANSFERS_CREATED,
     _transfers(transfer_payload(void("q", "p1", **FILLED), "")), "payload_malformed"),
    ("too many transfers", TRANSFERS_CREATED,
     _transfers(*[OK_ITEM] * (transfers_per_command_max + 1)), "batch_too_large"),
    ("a pending without its deadline", TRANSFERS_CREATED,
     _transfers(transfer_payload(pending("n2", ALICE, BANK, 5, 60), "")), "expires_at_mismatch"),
    ("a pending with a later deadline", TRANSFERS_CREATED,
     _transfers(transfer_payload(pending("n2", ALICE, BANK, 5, 60), "2025-01-03T15:02:00.000000Z")),
     "expires_at_mismatch"),
    ("a deadline on a single transfer", TRANSFERS_CREATED,
     _transfers(transfer_payload(single("n2", BANK, BOB, 5), TIME)), "expires_at_mismatch"),
    ("an overdraft", TRANSFERS_CREATED,
     _transfers(transfer_payload(single("n2", ALICE, BOB, 901), "")), "exceeds_credits"),
    ("an overdraft in a batch", TRANSFERS_CREATED,
     _transfers(OK_ITEM, transfer_payload(single("n2", BOB, ALICE, 6), ""), atomic=False),
     "exceeds_credits"),
    ("a reused id", TRANSFERS_CREATED, _transfers(transfer_payload(d0, "")), "exists"),
    ("an id twice in one event", TRANSFERS_CREATED, _transfers(OK_ITEM, OK_ITEM), "exists"),
    ("an unknown account", TRANSFERS_CREATED,
     _transfers(OK_ITEM | {"credit_account_id": "x/USD/fees"}), "credit_account_not_found"),
    ("a post of a posted pending transfer", TRANSFERS_CREATED,
     _transfers(POST_P1, POST_P1_AGAIN), "pending_transfer_already_posted"),
    ("an account opened twice", OPENED, {"accounts": [ALICE_ITEM]}, "exists"),
    ("account flags not sorted", OPENED, {"accounts": [UNSORTED_ITEM]}, "payload_malformed"),
    ("an expiry of a single transfer", PENDING_EXPIRED, {"transfers": ["d0"]},
     "expiry_not_pending"),
    ("an expiry of an unknown transfer", PENDING_EXPIRED, {"transfers": ["zz"]},
     "expiry_not_pending"),
    ("an id expired twice", PENDING_EXPIRED, {"transfers": ["w1", "w1"]}, "expiry_not_pending",
     DUE),
    ("an expiry that is not text", PENDING_EXPIRED, {"transfers": [7]}, "payload_malformed"),
    ("an expiry before the deadline", PENDING_EXPIRED, {"transfers": ["w1"]}, "expiry_not_due"),
    ("an expiry of one that never expires", PENDING_EXPIRED, {"transfers": ["p1"]},
     "expiry_not_due"),
]
# fmt: on


@pytest.mark.parametrize("row", EVENT_ROWS, ids=[r[0] for r in EVENT_ROWS])
def test_check_refuses_a_logged_event(row: tuple[Any, ...]) -> None:
    what, event_type, payload, code, *at = row
    harness = _base()
    before = harness.state.snapshot()
    rejection = check_ledger(harness.state, event_type, payload, at[0] if at else LATER)
    assert rejection is not None, what
    assert rejection.code.name == code, f"{what}: {rejection}"
    assert harness.state.snapshot() == before, "check must not change the state"


def test_check_accepts_a_due_expiry_and_a_logged_pending_with_its_deadline() -> None:
    harness = _base()
    assert check_ledger(harness.state, PENDING_EXPIRED, {"transfers": ["w1"]}, DUE) is None
    item = transfer_payload(pending("n2", ALICE, BANK, 5, 60), "2025-01-03T15:01:30.000000Z")
    assert check_ledger(harness.state, TRANSFERS_CREATED, _transfers(item), LATER) is None


def test_a_retry_answers_with_the_first_record_even_after_settlement() -> None:
    harness = _base()
    harness.now += timedelta(seconds=10)
    harness.step(Do(post("w1p", "w1", 60), "ok"))
    again = harness.run(CreateTransfers((pending("w1", ALICE, BANK, 100, 60),)))
    (result,) = again.results
    assert result.code is TransferCode.exists
    assert result.first is not None
    assert result.first.created_at == TIME
    assert result.first.expires_at == "2025-01-03T15:01:00.000000Z"
    assert (result.first.status, result.first.posted_minor) == ("posted", 60)
    assert again.events == []
