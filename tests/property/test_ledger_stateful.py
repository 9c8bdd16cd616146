"""A stateful model of the ledger: random commands, checked against a naive reference model.

The reference (``Ref``) is written from the specification in the ledger's module docstring,
not from its code: plain dicts and arithmetic, no ladder, no overlay. It predicts for every item
only the class of its answer — ``ok``, ``exists`` (the first answer) or ``refused`` — and every
balance. After every step the machine checks that the ledger agrees, that its invariants hold,
that every event's payload survives the canonical encoding, passes ``check_ledger`` and names in
``changed`` every entity it changed; at the end the log is replayed into a fresh ledger.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from reclaim.core import limits
from reclaim.core.events import format_time
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    KINDS,
    REASONS,
    REF_KINDS,
    Account,
    AccountCode,
    CreateTransfers,
    Decision,
    ExpirePending,
    LedgerCommand,
    LedgerRejection,
    LedgerState,
    OpenAccounts,
    Transfer,
    TransferCode,
    account_from_payload,
    account_payload,
    assert_ledger_invariants,
    transfer_from_payload,
    transfer_payload,
)
from reclaim.log import canonical
from tests.support.core_harness import LEDGER, replay_subcore, run_subcore

BIGINT = limits.integer_max
T0 = datetime(2025, 1, 3, 15, 0, tzinfo=UTC)
D = DEBITS_MUST_NOT_EXCEED_CREDITS
C = CREDITS_MUST_NOT_EXCEED_DEBITS

#: The accounts the machine may open: (owner, asset, purpose, flags).
CANDIDATES = [
    ("operator", "USD", "rail_settlement", frozenset({C})),
    ("operator", "USD", "funding", frozenset()),
    ("alice", "USD", "creditor_available", frozenset({D})),
    ("bob", "USD", "creditor_available", frozenset({D})),
    ("carol", "USD", "claim_escrow", frozenset({D})),
    ("operator", "EUR", "rail_settlement", frozenset({C})),
    ("alice", "EUR", "creditor_available", frozenset({D})),
    ("bob", "EUR", "creditor_available", frozenset({D})),
]
ACCOUNT_IDS = [f"{o}/{a}/{p}" for o, a, p, _ in CANDIDATES] + ["ghost/USD/fees"]
FLAG_CHOICES = [frozenset(), frozenset({D}), frozenset({C}), frozenset({C, D})]
#: Mostly amounts that fit the balances; one draw in ten an edge (zero, negative, huge).
amounts = st.integers(0, 9).flatmap(
    lambda n: (
        st.sampled_from([0, -1, BIGINT, BIGINT - 7, 2**62, BIGINT + 1])
        if n == 0
        else st.integers(1, 400)
    )
)


# The reference model ----------------------------------------------------------------------------


@dataclass
class RefAccount:
    asset: str
    flags: frozenset[str]
    dp: int = 0
    cp: int = 0
    dq: int = 0
    cq: int = 0


@dataclass
class RefTransfer:
    request: Transfer
    kind: str
    debit: str
    credit: str
    asset: str
    amount: int
    status: str  # pending | posted | voided | expired
    deadline_s: int | None  # seconds after T0


@dataclass
class Ref:
    accounts: dict[str, RefAccount] = field(default_factory=dict)
    transfers: dict[str, RefTransfer] = field(default_factory=dict)

    def clone(self) -> Ref:
        """A copy to try a chain on (transfer requests are immutable and shared)."""
        return Ref(
            {i: copy.copy(a) for i, a in self.accounts.items()},
            {i: copy.copy(t) for i, t in self.transfers.items()},
        )

    def open(self, owner: str, asset: str, purpose: str, flags: frozenset[str]) -> str:
        ident = f"{owner}/{asset}/{purpose}"
        if flags == {C, D}:
            return "refused"
        if ident in self.accounts:
            return "exists" if self.accounts[ident].flags == flags else "refused"
        self.accounts[ident] = RefAccount(asset, flags)
        return "ok"

    def transfer(self, t: Transfer, now_s: int) -> str:
        """Apply ``t`` if the rules allow it; the class of the answer."""
        if not t.id:
            return "refused"
        if t.id in self.transfers:
            return "exists" if self.transfers[t.id].request == t else "refused"
        if t.kind in ("single", "pending"):
            return self._move(t, now_s)
        return self._settle(t, now_s)

    def _move(self, t: Transfer, now_s: int) -> str:
        dr, cr = self.accounts.get(t.debit_account_id), self.accounts.get(t.credit_account_id)
        if dr is None or cr is None or t.debit_account_id == t.credit_account_id:
            return "refused"
        if not (dr.asset == cr.asset == t.asset and 0 < t.amount_minor <= BIGINT):
            return "refused"
        if t.kind == "single" and t.timeout_seconds:
            return "refused"
        same_asset = [a for a in self.accounts.values() if a.asset == t.asset]
        if sum(a.dp + a.dq for a in same_asset) + t.amount_minor > BIGINT:
            return "refused"
        if D in dr.flags and dr.dp + dr.dq + t.amount_minor > dr.cp:
            return "refused"
        if C in cr.flags and cr.cp + cr.cq + t.amount_minor > cr.dp:
            return "refused"
        if t.kind == "single":
            dr.dp += t.amount_minor
            cr.cp += t.amount_minor
            status, deadline = "posted", None
        else:
            dr.dq += t.amount_minor
            cr.cq += t.amount_minor
            status = "pending"
            deadline = now_s + t.timeout_seconds if t.timeout_seconds else None
        self.transfers[t.id] = RefTransfer(
            t, t.kind, t.debit_account_id, t.credit_account_id, t.asset, t.amount_minor,
            status, deadline,
        )  # fmt: skip
        return "ok"

    def _settle(self, t: Transfer, now_s: int) -> str:
        p = self.transfers.get(t.pending_id)
        if p is None or p.kind != "pending" or p.status != "pending":
            return "refused"
        if p.deadline_s is not None and now_s >= p.deadline_s:
            return "refused"
        if t.debit_account_id not in ("", p.debit) or t.credit_account_id not in ("", p.credit):
            return "refused"
        if t.asset not in ("", p.asset):
            return "refused"
        if t.kind == "post_pending" and not 0 < t.amount_minor <= p.amount:
            return "refused"
        if t.kind == "void_pending" and t.amount_minor not in (0, p.amount):
            return "refused"
        self.accounts[p.debit].dq -= p.amount
        self.accounts[p.credit].cq -= p.amount
        if t.kind == "post_pending":
            self.accounts[p.debit].dp += t.amount_minor
            self.accounts[p.credit].cp += t.amount_minor
            p.status = "posted"
        else:
            p.status = "voided"
        self.transfers[t.id] = RefTransfer(
            t, t.kind, p.debit, p.credit, p.asset, t.amount_minor or p.amount, p.status, None
        )
        return "ok"

    def expire(self, now_s: int) -> set[str]:
        due = {
            i for i, p in self.transfers.items()
            if p.status == "pending" and p.deadline_s is not None and p.deadline_s <= now_s
        }  # fmt: skip
        for ident in due:
            p = self.transfers[ident]
            self.accounts[p.debit].dq -= p.amount
            self.accounts[p.credit].cq -= p.amount
            p.status = "expired"
        return due


def chain_classes(raw: list[str], size: int) -> list[str]:
    """The chain rule of the spec: all ok, all exists, or the first non-ok keeps its class and
    the rest are refused (``raw`` stops at the first refused item)."""
    if len(raw) == size and all(c == "ok" for c in raw):
        return raw
    if len(raw) == size and all(c == "exists" for c in raw):
        return raw
    first = next(i for i, c in enumerate(raw) if c != "ok")
    return [raw[first] if i == first else "refused" for i in range(size)]


def answer_class(code: TransferCode | AccountCode) -> str:
    return {"ok": "ok", "exists": "exists"}.get(code.name, "refused")


# The machine ------------------------------------------------------------------------------------


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = LedgerState()
        self.ref = Ref()
        self.now_s = 0
        self.next_id = 0
        self.submitted: list[Transfer] = []
        self.log: list[tuple[str, dict[str, Any], str]] = []

    @property
    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.now_s)

    def fresh_id(self) -> str:
        self.next_id += 1
        return f"t{self.next_id}"

    def run(self, command: LedgerCommand) -> Decision:
        decision = run_subcore(LEDGER, self.ledger, command, self.now, format_time(self.now),
                               self.log)  # fmt: skip
        assert not isinstance(decision, LedgerRejection), decision
        return decision

    @initialize(funds=st.lists(st.integers(1, 1000), min_size=5, max_size=5))
    def open_and_fund_the_chart(self, funds: list[int]) -> None:
        self.open(tuple(Account.of(*candidate) for candidate in CANDIDATES), atomic=True)
        users = [f"{o}/{a}/{p}" for o, a, p, f in CANDIDATES if D in f][: len(funds)]
        deposits = [
            Transfer(self.fresh_id(), f"operator/{user.split('/')[1]}/rail_settlement", user,
                     user.split("/")[1], amount, "deposit")
            for user, amount in zip(users, funds, strict=True)
        ]  # fmt: skip
        self.submit(deposits, atomic=True)

    # Transfers ----------------------------------------------------------------------------------

    def draw_transfer(self, data: st.DataObject) -> Transfer:
        kind = data.draw(st.sampled_from(["single", "single", "pending", "post", "void"]))
        if kind in ("post", "void"):
            return self.draw_settlement(data, kind)
        asset = data.draw(st.sampled_from(["USD", "EUR"]))
        mine = [i for i in ACCOUNT_IDS if f"/{asset}/" in i]
        rail = f"operator/{asset}/rail_settlement"
        debit = data.draw(st.sampled_from([*mine, rail, rail, rail, "ghost/USD/fees"]))
        credit = data.draw(st.sampled_from([*mine, rail, *ACCOUNT_IDS[:1]]))
        if data.draw(st.integers(0, 9)) == 0:
            asset = "EUR" if asset == "USD" else "USD"
        timeout = data.draw(st.sampled_from([0, 0, 1, 30, 3600])) if kind == "pending" else 0
        return Transfer(
            self.fresh_id(), debit, credit, asset, self.draw_amount(data, debit, credit),
            data.draw(st.sampled_from(["deposit", "trade", "withdrawal"])),
            kind=kind, timeout_seconds=timeout,
        )  # fmt: skip

    def draw_amount(self, data: st.DataObject, debit: str, credit: str) -> int:
        """Half the time an amount at the edge of what the accounts' flags allow."""
        if data.draw(st.booleans()):
            return data.draw(amounts)
        dr, cr = self.ref.accounts.get(debit), self.ref.accounts.get(credit)
        room = [
            a.cp - a.dp - a.dq if D in a.flags else a.dp - a.cp - a.cq
            for a, flag in ((dr, D), (cr, C))
            if a is not None and flag in a.flags
        ]
        edge = min(room) if room else 100
        return max(1, edge + data.draw(st.integers(-2, 1)))

    def draw_settlement(self, data: st.DataObject, kind: str) -> Transfer:
        """A post or void, mostly of an open pending transfer, sometimes of anything."""
        open_ids = sorted(i for i, t in self.ref.transfers.items() if t.status == "pending")
        other_ids = [t.id for t in self.submitted] + ["none"]
        pick_open = open_ids and data.draw(st.integers(0, 4)) > 0
        pending_id = data.draw(st.sampled_from(open_ids if pick_open else other_ids))
        p = self.ref.transfers.get(pending_id)
        full = p.amount if p is not None else 100
        filled = p is not None and data.draw(st.booleans())
        accounts = (p.debit, p.credit, p.asset) if filled and p is not None else ("", "", "")
        if kind == "post":
            amount = data.draw(st.one_of(st.integers(1, max(1, full)), st.just(full + 1)))
        else:
            amount = data.draw(st.sampled_from([0, 0, full, max(0, full - 1)]))
        return Transfer(
            self.fresh_id(), *accounts, amount, "withdrawal",
            kind=f"{kind}_pending", pending_id=pending_id,
        )  # fmt: skip

    def submit(self, transfers: list[Transfer], atomic: bool) -> None:
        decision = self.run(CreateTransfers(tuple(transfers), atomic))
        got = [answer_class(r.code) for r in decision.results]
        if atomic:
            scratch = self.ref.clone()
            raw: list[str] = []
            for t in transfers:
                raw.append(scratch.transfer(t, self.now_s))
                if raw[-1] == "refused":
                    break
            expected = chain_classes(raw, len(transfers))
            if expected[0] == "ok":
                self.ref = scratch
        else:
            expected = [self.ref.transfer(t, self.now_s) for t in transfers]
        assert got == expected, (transfers, [r.code.name for r in decision.results], expected)
        self.submitted.extend(transfers)

    @rule(data=st.data())
    def one_transfer(self, data: st.DataObject) -> None:
        self.submit([self.draw_transfer(data)], atomic=False)

    @rule(data=st.data(), size=st.integers(2, 4), atomic=st.booleans())
    def several_transfers(self, data: st.DataObject, size: int, atomic: bool) -> None:
        self.submit([self.draw_transfer(data) for _ in range(size)], atomic)

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        if not self.submitted:
            return
        accepted = [t.request for t in self.ref.transfers.values()]
        pool = accepted if accepted and data.draw(st.integers(0, 3)) > 0 else self.submitted
        t = data.draw(st.sampled_from(pool))
        change = data.draw(st.sampled_from(["none", "none", "code", "amount"]))
        if change == "code":
            t = t._replace(code="correction")
        elif change == "amount" and t.kind != "void_pending":
            t = t._replace(amount_minor=t.amount_minor + 1)
        self.submit([t], atomic=False)

    # Accounts, time, expiry ---------------------------------------------------------------------

    @rule(
        picks=st.lists(st.integers(0, len(CANDIDATES) - 1), min_size=1, max_size=3),
        flags=st.one_of(st.none(), st.sampled_from(FLAG_CHOICES)),
        atomic=st.booleans(),
    )
    def open_accounts(self, picks: list[int], flags: frozenset[str] | None, atomic: bool) -> None:
        chosen = [CANDIDATES[i] for i in picks]
        accounts = tuple(
            Account.of(o, a, p, flags if flags is not None else f) for o, a, p, f in chosen
        )
        self.open(accounts, atomic)

    def open(self, accounts: tuple[Account, ...], atomic: bool) -> None:
        decision = self.run(OpenAccounts(accounts, atomic))
        got = [answer_class(r.code) for r in decision.results]
        scratch = self.ref.clone() if atomic else self.ref
        raw = [scratch.open(a.owner, a.asset, a.purpose, a.flags) for a in accounts]
        expected = raw
        if atomic:
            cut = raw[: raw.index("refused") + 1] if "refused" in raw else raw
            expected = chain_classes(cut, len(raw))
            if all(c == "ok" for c in raw):
                self.ref = scratch
        assert got == expected, (accounts, [r.code.name for r in decision.results], expected)

    @rule(seconds=st.sampled_from([1, 29, 30, 600, 3600]))
    def wait(self, seconds: int) -> None:
        self.now_s += seconds

    @rule()
    def expire(self) -> None:
        decision = self.run(ExpirePending())
        assert {r.id for r in decision.results} == self.ref.expire(self.now_s)

    # After every step ---------------------------------------------------------------------------

    @invariant()
    def agrees_with_the_reference(self) -> None:
        assert_ledger_invariants(self.ledger)
        assert set(self.ledger.accounts) == set(self.ref.accounts)
        for ident, ref in self.ref.accounts.items():
            balances = (ref.dp, ref.cp, ref.dq, ref.cq)
            assert self.ledger.accounts[ident].balances() == balances, ident
        assert set(self.ledger.transfers) == set(self.ref.transfers)
        for ident, ref_t in self.ref.transfers.items():
            assert self.ledger.transfers[ident].status == ref_t.status, ident

    def teardown(self) -> None:
        replayed = replay_subcore(LEDGER, LedgerState(), self.log)
        assert replayed.snapshot() == self.ledger.snapshot()


LedgerMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=50, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase


# Payload round trips ----------------------------------------------------------------------------

texts = st.text(alphabet="abcXYZ019._:-/", max_size=12)
transfers = st.builds(
    Transfer,
    id=texts,
    debit_account_id=texts,
    credit_account_id=texts,
    asset=st.sampled_from(["USD", "EUR", "USDC", "NOTE-A1", ""]),
    amount_minor=st.integers(limits.integer_min, limits.integer_max),
    code=st.sampled_from(sorted(REASONS)),
    refs=st.dictionaries(st.sampled_from(sorted(REF_KINDS)), texts, max_size=4),
    kind=st.sampled_from(sorted(KINDS)),
    pending_id=texts,
    timeout_seconds=st.integers(0, limits.integer_max),
)


@given(transfers, st.sampled_from(["", "2025-01-03T15:01:00.000000Z"]))
def test_a_transfer_payload_survives_the_canonical_encoding(t: Transfer, expires_at: str) -> None:
    payload = transfer_payload(t, expires_at)
    decoded = canonical.decode(canonical.encode({"transfers": [payload]}))["transfers"]
    assert isinstance(decoded, list)
    assert decoded == [payload]
    assert transfer_from_payload(decoded[0]) == (t, expires_at)


@given(st.sampled_from(CANDIDATES), st.sampled_from(FLAG_CHOICES))
def test_an_account_payload_survives_the_canonical_encoding(
    candidate: tuple[str, str, str, frozenset[str]], flags: frozenset[str]
) -> None:
    account = Account.of(*candidate[:3], flags)
    decoded = canonical.decode(canonical.encode({"accounts": [account_payload(account)]}))
    assert decoded == {"accounts": [account_payload(account)]}
    accounts = decoded["accounts"]
    assert isinstance(accounts, list)
    assert account_from_payload(accounts[0]) == account
