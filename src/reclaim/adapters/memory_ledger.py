"""The ledger's projections in memory, for ``MemoryEventStore``: the same rows as the SQL store.

Rows come from ``ledger_projections.stage`` (the last value of each key in a batch, with its
seqs) exactly as the SQL store gets them; ``apply`` upserts them with the SQL store's rule (an
update keeps the stored ``opened_seq`` / ``seq``). An account's history is a list of
``(seq, transfer id)`` kept sorted, so a page is one binary search and a slice; ids compare in
code-point order, as the SQL store's (binary / ``"C"``) collations do.

Not thread-safe by itself: the memory store calls it under its lock, after the batch has been
checked (``apply`` cannot fail, so an append stays all or nothing).
"""

from __future__ import annotations

import bisect
import dataclasses

from reclaim.adapters.db.ledger_projections import StagedLedger, account_of_row, transfer_of_row
from reclaim.app.ports import ProjectedAccount, ProjectedTransfer


class MemoryLedger:
    """Accounts and transfers by id, and each account's history sorted by ``(seq, id)``."""

    def __init__(self) -> None:
        self._accounts: dict[str, ProjectedAccount] = {}
        self._transfers: dict[str, ProjectedTransfer] = {}
        self._history: dict[str, list[tuple[int, str]]] = {}

    def apply(self, staged: StagedLedger) -> None:
        for row in staged.accounts:
            account = account_of_row(row)
            old = self._accounts.get(account.id)
            if old is not None:
                account = dataclasses.replace(account, opened_seq=old.opened_seq)
            self._accounts[account.id] = account
        for row in staged.transfers:
            transfer = transfer_of_row(row)
            stored = self._transfers.get(transfer.id)
            if stored is not None:
                transfer = dataclasses.replace(transfer, seq=stored.seq)
                self._unindex(stored)
            self._index(transfer)
            self._transfers[transfer.id] = transfer

    def _index(self, t: ProjectedTransfer) -> None:
        for side in (t.debit_account_id, t.credit_account_id):
            bisect.insort(self._history.setdefault(side, []), (t.seq, t.id))

    def _unindex(self, t: ProjectedTransfer) -> None:
        for side in (t.debit_account_id, t.credit_account_id):
            entries = self._history[side]
            del entries[bisect.bisect_left(entries, (t.seq, t.id))]

    # Queries (``ports.LedgerQueries``) -----------------------------------------------------------

    def account(self, account_id: str) -> ProjectedAccount | None:
        return self._accounts.get(account_id)

    def accounts_of(self, owner: str) -> list[ProjectedAccount]:
        return sorted((a for a in self._accounts.values() if a.owner == owner), key=lambda a: a.id)

    def transfer(self, transfer_id: str) -> ProjectedTransfer | None:
        return self._transfers.get(transfer_id)

    def account_history(
        self, account_id: str, before_seq: int | None, limit: int, before_id: str | None = None
    ) -> list[ProjectedTransfer]:
        entries = self._history.get(account_id, [])
        end = len(entries)
        if before_seq is not None:
            # Ids are never empty, so ``(seq, "")`` sorts before every transfer of ``seq``.
            end = bisect.bisect_left(entries, (before_seq, before_id or ""))
        page = entries[max(0, end - max(0, limit)) : end]
        return [self._transfers[ident] for _, ident in reversed(page)]
