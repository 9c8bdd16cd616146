"""A fan-out posting: one debit account to many credit accounts, as many single transfers.

A ``Split`` stands for the chain of ``single`` transfers ``ids[i]``: ``amounts_minor[i]`` of
``asset`` from ``debit_account_id`` to ``<owners[i]>/<asset>/<purpose>``, each with the same
``code`` and ``refs``, the credit accounts that are not open yet opened first (``flags``). It
is exactly that chain — the same accounts, the same transfer records, the same balances and
the same ``changed`` keys as ``effects``/``settlement`` posting it transfer by transfer — only
cheaper: a pass-through over a million note holders is one.

**Fast acceptance, exact refusal.** ``check_split`` first tests conditions, mostly in bulk,
that together imply the generic ladders (``account_ladder`` for each account it opens, then
``transfer_ladder`` for each transfer, each seeing the ones before it) accept the whole chain:

- once: the debit account is open, of ``asset``, and can pay the sum (its flag, counting its
  pending debits); the asset's totals stay within BIGINT after the sum; ``asset``, ``code``,
  ``refs`` and ``purpose``/``flags`` of the accounts to open are valid;
- per credit, in tight loops: ids well-formed, distinct and new; credit accounts distinct and
  not the debit one; amounts ``int`` in ``1..BIGINT``; a missing account's owner well-formed;
  an open one of ``asset``, and able to take the credit if it is flagged
  ``credits_must_not_exceed_debits``.

The debit side is monotone (only its debits grow along the chain) and every credit account is
credited once, so these imply each transfer's rungs at its place in the chain. When any of
them fails, the generic ladders run over the chain on an ``Overlay`` and give the first refusal
with its code and position, as the transfer-by-transfer path would. ``tests/property`` checks
the two paths agree on random, tampered splits.

``apply_split`` posts a checked split: one debit, then per credit one addition, one record.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from functools import partial
from itertools import repeat
from typing import NamedTuple

from reclaim.core.ledger.effects import LedgerRefused, first_refusal
from reclaim.core.ledger.engine import assert_account
from reclaim.core.ledger.model import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    FLAGS,
    OWNER_RE,
    POSTED,
    PURPOSES,
    REASONS,
    REF_KINDS,
    REF_RE,
    SINGLE,
    TRANSFER_ID_RE,
    Account,
    LedgerState,
    StoredTransfer,
    Transfer,
    account_id,
)
from reclaim.core.limits import integer_max
from reclaim.core.money import is_asset_code


class Split(NamedTuple):
    """The chain of single transfers ``ids[i]``: ``amounts_minor[i]`` from the debit account to
    ``<owners[i]>/<asset>/<purpose>`` (opened with ``flags`` when missing)."""

    debit_account_id: str
    asset: str
    code: str
    refs: Mapping[str, str]
    purpose: str
    flags: frozenset[str]
    ids: Sequence[str]
    owners: Sequence[str]
    amounts_minor: Sequence[int]

    def credit_ids(self) -> list[str]:
        return list(map(operator.add, self.owners, repeat(f"/{self.asset}/{self.purpose}")))

    def accounts(self) -> list[Account]:
        """The credit accounts as the chain opens them (when missing)."""
        asset, purpose, flags = self.asset, self.purpose, self.flags
        return [Account(account_id(o, asset, purpose), asset, o, purpose, flags)
                for o in self.owners]  # fmt: skip

    def transfers(self) -> list[Transfer]:
        """The chain, transfer by transfer."""
        d, asset, code, refs = self.debit_account_id, self.asset, self.code, self.refs
        return [
            Transfer(ident, d, credit, asset, amount, code, refs)
            for ident, credit, amount in zip(
                self.ids, self.credit_ids(), self.amounts_minor, strict=True
            )
        ]


def check_split(ledger: LedgerState, split: Split, time: str) -> LedgerRefused | None:
    """The first account (its position among the credits) or transfer (its position in the
    chain) of ``split`` the ledger refuses at ``time``, or ``None``: when the fast conditions
    fail, the generic ladders over the chain (``effects.first_refusal``) give it exactly."""
    if _accepted(ledger, split):
        return None
    return first_refusal(ledger, split.accounts(), split.transfers(), time)


def _accepted(ledger: LedgerState, s: Split) -> bool:
    """Conditions that imply the generic ladders accept the whole chain (module docstring)."""
    n = len(s.ids)
    if not (len(s.owners) == len(s.amounts_minor) == n) or n == 0:
        return False
    if not is_asset_code(s.asset) or s.code not in REASONS or not _refs_valid(s.refs):
        return False
    if s.purpose not in PURPOSES or not s.flags <= FLAGS or len(s.flags) > 1:
        return False
    debit = ledger.accounts.get(s.debit_account_id)
    if debit is None or debit.asset != s.asset:
        return False
    amounts = s.amounts_minor  # the bulk checks run in C (map, set), not in generators
    if not set(map(type, amounts)) <= {int} or min(amounts) <= 0 or max(amounts) > integer_max:
        return False
    total = sum(amounts)
    totals = ledger.totals.get(s.asset)
    if totals is not None and totals.debits_posted + totals.debits_pending + total > integer_max:
        return False
    if totals is None and total > integer_max:
        return False
    if (
        DEBITS_MUST_NOT_EXCEED_CREDITS in debit.flags
        and debit.debits_posted + debit.debits_pending + total > debit.credits_posted
    ):
        return False
    ids = s.ids
    if not set(map(type, ids)) <= {str} or not all(map(TRANSFER_ID_RE.fullmatch, ids)):
        return False
    if len(set(ids)) != n or not ledger.transfers.keys().isdisjoint(ids):
        return False
    credits = s.credit_ids()
    opened = set(credits)
    if len(opened) != n or s.debit_account_id in opened:
        return False
    return _credits_acceptable(ledger, s, credits)


def _credits_acceptable(ledger: LedgerState, s: Split, credits: list[str]) -> bool:
    """Each credit account: missing and openable, or open, of the asset, and able to take its
    credit."""
    found = list(map(ledger.accounts.get, credits))
    missing = [owner for owner, account in zip(s.owners, found, strict=True) if account is None]
    if missing and (
        CREDITS_MUST_NOT_EXCEED_DEBITS in s.flags  # a new account could take no credit
        or not set(map(type, missing)) <= {str}
        or not all(map(OWNER_RE.fullmatch, missing))
    ):
        return False
    if len(missing) == len(found):  # a first pass-through: every account is new
        return True
    for account, amount in zip(found, s.amounts_minor, strict=True):
        if account is None:
            continue
        if account.asset != s.asset:
            return False
        if (
            CREDITS_MUST_NOT_EXCEED_DEBITS in account.flags
            and account.credits_posted + account.credits_pending + amount > account.debits_posted
        ):
            return False
    return True


def _refs_valid(refs: Mapping[str, str]) -> bool:
    return all(kind in REF_KINDS and REF_RE.fullmatch(ref) for kind, ref in refs.items())


def apply_split(ledger: LedgerState, s: Split, time: str) -> None:
    """Post a checked ``split`` to ``ledger`` in place: the missing credit accounts opened (in
    order), then the chain — the same state and ``changed`` keys as transfer by transfer.

    The records are built by ``map`` over C constructors (``tuple.__new__`` of the record
    types, every field given), one Python step per credit only for its balance."""
    accounts = ledger.accounts
    asset, purpose, flags = s.asset, s.purpose, s.flags
    # One refs mapping shared by the records (as the payload's would be equal): a dict, as the
    # ledger's events give (states are deep-copied; a mappingproxy is not), never mutated.
    refs = dict(s.refs)
    credits = s.credit_ids()
    if accounts.keys().isdisjoint(credits):  # a first pass-through: every one new, in C
        made = map(Account, credits, repeat(asset), s.owners, repeat(purpose), repeat(flags))
        accounts.update(zip(credits, made, strict=True))
    else:
        for owner, ident in zip(s.owners, credits, strict=True):
            if ident not in accounts:
                accounts[ident] = Account(ident, asset, owner, purpose, flags)
    total = 0
    for account, amount in zip(map(accounts.__getitem__, credits), s.amounts_minor, strict=True):
        account.credits_posted += amount
        total += amount
        if CREDITS_MUST_NOT_EXCEED_DEBITS in account.flags:  # the only flag a credit can break
            assert_account(account)
    debit_id = s.debit_account_id
    chain = map(
        partial(tuple.__new__, Transfer),
        zip(s.ids, repeat(debit_id), credits, repeat(asset), s.amounts_minor, repeat(s.code),
            repeat(refs), repeat(SINGLE), repeat(""), repeat(0), strict=False),
    )  # fmt: skip
    records = map(
        partial(tuple.__new__, StoredTransfer),
        zip(chain, repeat(time), repeat(""), repeat(POSTED), repeat(0), strict=False),
    )
    ledger.transfers.update(zip(s.ids, records, strict=True))
    debit = accounts[debit_id]
    debit.debits_posted += total
    assert_account(debit)
    totals = ledger.writable_totals(asset)
    totals.debits_posted += total
    totals.credits_posted += total
    assert totals.debits_posted == totals.credits_posted <= integer_max, asset
    changed = ledger.changed
    changed.add("account/" + debit_id)
    changed.update(map("account/".__add__, credits))
    changed.update(map("transfer/".__add__, s.ids))
