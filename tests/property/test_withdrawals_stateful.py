"""A stateful model of withdrawals: random requests, retries, confirmations, failures, sweeps,
and fee changes, through the real shell, checked against a naive reference model.

The reference (``Ref``) is written from the specification (the package docstring of
``reclaim.core.withdrawals`` and the FACTS.md schedule), not from the code: the fee by rational
arithmetic rounded up, the rails each creditor may use as a table, balances as plain sums. It
predicts every answer's code and every balance. After every step the machine checks that the
state agrees, that the state's invariants (the ledger's and the withdrawals') hold, and that
money is conserved: per asset, what the creditors were debited (posted and reserved) is exactly
what the rail and the fees received (posted and reserved). At the end the log is replayed into a
fresh state that must be identical.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Final

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from reclaim.core.events import format_time
from reclaim.core.ledger import ExpirePending, assert_ledger_invariants
from reclaim.core.rejections import Code, Rejection
from reclaim.core.withdrawals import (
    EXCESS,
    WHOLE,
    ConfirmWithdrawal,
    FailWithdrawal,
    RequestWithdrawal,
    SetFees,
    status_of,
)
from tests.support.core_harness import Decided
from tests.support.withdrawal_world import CREDITORS, HK_WIRE, SEPA, USDC, World, commit

_BUILT: list[World] = []
#: rail -> (asset, minimum, timeout)
RAILS: Final = {"sepa": ("EUR", 100, 14 * 86_400), "hk_wire": ("USD", 10_000, 14 * 86_400),
                "usdc": ("USDC", 10_000_000, 86_400)}  # fmt: skip
#: What the policy lets each creditor use (FR: sepa usdc; HK: hk_wire usdc; FR+HK: usdc).
ALLOWED: Final = {"alice": {"sepa", "usdc"}, "bob": {"hk_wire", "usdc"}, "carol": {"usdc"}}
IDS: Final = [f"p-{n}" for n in range(24)]
BENEFICIARIES: Final = [commit("dest:1"), commit("dest:2")]


def ref_fee(rail: str, amount: int, base: str) -> int:
    """The schedule, from FACTS.md, in rationals."""
    if rail == "hk_wire":
        return 2_500
    if rail == "usdc":
        return 1_000_000
    if amount <= 200_000:
        return 800
    if amount <= 5_000_000:
        return 1_300
    portion = amount if base == WHOLE else amount - 5_000_000
    percent = Fraction(portion, 1000)  # 0.1%
    rounded_up = -(-percent.numerator // percent.denominator)
    return min(1_300 + rounded_up, 35_300)


@dataclass
class RefWithdrawal:
    creditor: str
    rail: str
    amount: int
    fee: int
    beneficiary: str
    expires_at: str
    status: str = "requested"
    reference: str = ""
    reason: str = ""


class Ref:
    def __init__(self) -> None:
        self.withdrawals: dict[str, RefWithdrawal] = {}
        self.deposits = {
            (name, asset): amount for name, (_, _, funded) in CREDITORS.items()
            for asset, amount in funded.items()
        }  # fmt: skip
        self.base = EXCESS

    def reserved(self, creditor: str, asset: str) -> int:
        return sum(w.amount + w.fee for w in self._of(creditor, asset, "requested"))

    def posted(self, creditor: str, asset: str) -> int:
        return sum(w.amount + w.fee for w in self._of(creditor, asset, "confirmed"))

    def available(self, creditor: str, asset: str) -> int:
        deposited = self.deposits.get((creditor, asset), 0)
        return deposited - self.posted(creditor, asset) - self.reserved(creditor, asset)

    def _of(self, creditor: str, asset: str, status: str) -> list[RefWithdrawal]:
        return [
            w for w in self.withdrawals.values()
            if w.creditor == creditor and RAILS[w.rail][0] == asset and w.status == status
        ]  # fmt: skip

    def open_count(self, creditor: str) -> int:
        return sum(
            1 for w in self.withdrawals.values()
            if w.creditor == creditor and w.status == "requested"
        )  # fmt: skip


def code_of(outcome: Decided | Rejection) -> str:
    if isinstance(outcome, Rejection):
        assert outcome.code is Code.withdrawal_refused, outcome
        return outcome.detail.split(":")[0].split(" ")[0]
    return outcome.results[0].code.name if outcome.results else "ok"


class WithdrawalMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        if not _BUILT:
            _BUILT.append(World())
        self.world = copy.deepcopy(_BUILT[0])
        self.ref = Ref()
        self.now: datetime = self.world.now

    def _at(self, seconds: int = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    @rule(
        ident=st.sampled_from(IDS),
        creditor=st.sampled_from(sorted(ALLOWED)),
        rail=st.sampled_from(sorted(RAILS)),
        amount=st.one_of(
            st.integers(1, 300_000), st.integers(4_999_990, 5_000_010),
            st.integers(30_000_000, 100_000_000), st.integers(9_000_000, 30_000_000),
        ),
        beneficiary=st.sampled_from(BENEFICIARIES),
        signer=st.sampled_from(["self", "gateway"]),
    )  # fmt: skip
    def request(
        self, ident: str, creditor: str, rail: str, amount: int, beneficiary: str, signer: str
    ) -> None:
        asset, minimum, timeout = RAILS[rail]
        command = RequestWithdrawal(ident, creditor, rail, asset, amount, beneficiary)
        outcome = self.world.run(command, creditor if signer == "self" else "gateway",
                                 at=self._at())  # fmt: skip
        fee = ref_fee(rail, amount, self.ref.base)
        known = self.ref.withdrawals.get(ident)
        if known is not None:
            same = (known.creditor, known.rail, known.amount, known.beneficiary) == (
                creditor, rail, amount, beneficiary
            )  # fmt: skip
            expected = "exists" if same else "exists_with_different_fields"
        elif rail not in ALLOWED[creditor]:
            expected = "rail_not_allowed"
        elif amount < minimum:
            expected = "amount_below_minimum"
        elif self.ref.open_count(creditor) >= 16:
            expected = "open_withdrawals_exceeded"
        elif self.ref.available(creditor, asset) < amount + fee:
            expected = "insufficient_funds"
        else:
            expected = "ok"
            expires = format_time(self.now + timedelta(seconds=timeout))
            self.ref.withdrawals[ident] = RefWithdrawal(creditor, rail, amount, fee, beneficiary,
                                                        expires)  # fmt: skip
        assert code_of(outcome) == expected, (command, outcome)

    def _settle(self, ident: str, confirm: bool, value: str) -> str:
        w = self.ref.withdrawals.get(ident)
        time = format_time(self.now)
        if w is None:
            return "withdrawal_not_found"
        if w.status == "confirmed":
            same = confirm and w.reference == value
            return "exists" if same else "withdrawal_already_confirmed"
        if w.status == "failed":
            same = not confirm and w.reason == value
            return "exists" if same else "withdrawal_already_failed"
        if w.status == "expired" or time >= w.expires_at:
            return "withdrawal_expired"
        if confirm:
            w.status, w.reference = "confirmed", value
        else:
            w.status, w.reason = "failed", value
        return "ok"

    def _pick(self, data: st.DataObject) -> str:
        """Mostly a withdrawal that exists (so settling is exercised), sometimes any id."""
        known = sorted(self.ref.withdrawals)
        if known and data.draw(st.integers(0, 4)):
            return data.draw(st.sampled_from(known))
        return data.draw(st.sampled_from(IDS))

    @rule(data=st.data(), reference=st.sampled_from(["BK-1", "BK-2"]))
    def confirm(self, data: st.DataObject, reference: str) -> None:
        ident = self._pick(data)
        outcome = self.world.run(ConfirmWithdrawal(ident, reference), "treasury", at=self._at())
        assert code_of(outcome) == self._settle(ident, True, reference), outcome

    @rule(data=st.data(), reason=st.sampled_from(["account_closed", "other"]))
    def fail(self, data: st.DataObject, reason: str) -> None:
        ident = self._pick(data)
        outcome = self.world.run(FailWithdrawal(ident, reason), "treasury", at=self._at())
        assert code_of(outcome) == self._settle(ident, False, reason), outcome

    @rule(hours=st.sampled_from([1, 23, 24, 25, 24 * 13, 24 * 14, 24 * 15]))
    def wait_and_sweep(self, hours: int) -> None:
        outcome = self.world.run(ExpirePending(), "treasury", at=self._at(hours * 3600))
        assert isinstance(outcome, Decided)
        time = format_time(self.now)
        for w in self.ref.withdrawals.values():
            if w.status == "requested" and w.expires_at <= time:
                w.status = "expired"

    @rule(base=st.sampled_from([EXCESS, WHOLE]))
    def change_fees(self, base: str) -> None:
        sepa = SEPA._replace(schedule=SEPA.schedule._replace(above_base=base))
        outcome = self.world.run(SetFees((sepa, HK_WIRE, USDC)), "admin", at=self._at())
        assert isinstance(outcome, Decided)
        self.ref.base = base

    @invariant()
    def agrees_with_the_reference(self) -> None:
        if not hasattr(self, "ref"):
            return
        state = self.world.state
        ledger = state.ledger
        for ident, w in self.ref.withdrawals.items():
            assert status_of(state.withdrawals, ledger, ident) == w.status, ident
            assert state.withdrawals.withdrawals[ident].fee_minor == w.fee, ident
        for creditor in ALLOWED:
            for asset in ("EUR", "USD", "USDC"):
                account = ledger.accounts[f"{creditor}/{asset}/creditor_available"]
                deposited = self.ref.deposits.get((creditor, asset), 0)
                assert account.balances() == (
                    self.ref.posted(creditor, asset), deposited,
                    self.ref.reserved(creditor, asset), 0,
                ), (creditor, asset)  # fmt: skip

    @invariant()
    def money_is_conserved(self) -> None:
        if not hasattr(self, "ref"):
            return
        ledger = self.world.state.ledger
        for asset in ("EUR", "USD", "USDC"):
            creditors = [a for a in ledger.accounts.values()
                         if a.asset == asset and a.purpose == "creditor_available"]  # fmt: skip
            rail = ledger.accounts[f"operator/{asset}/rail_settlement"]
            fees = ledger.accounts[f"operator/{asset}/fees"]
            out_posted = sum(a.debits_posted for a in creditors)
            out_pending = sum(a.debits_pending for a in creditors)
            assert out_posted == rail.credits_posted + fees.credits_posted, asset
            assert out_pending == rail.credits_pending + fees.credits_pending, asset
            assert rail.debits_posted == sum(a.credits_posted for a in creditors), asset

    def teardown(self) -> None:
        if hasattr(self, "world"):
            assert_ledger_invariants(self.world.state.ledger)
            assert self.world.replayed().snapshot() == self.world.state.snapshot()


WithdrawalMachine.TestCase.settings = settings(
    max_examples=120, stateful_step_count=50, deadline=None
)
TestWithdrawalMachine = WithdrawalMachine.TestCase
