"""The ledger API: balances, an account's history, a transfer — signed requests only.

``install(app)`` includes ``router`` and the request authenticator (``auth.py``). Every route
takes a signed request (Backpack's scheme; the instruction in the table) and answers from the
store's ledger projections (``ports.LedgerQueries``), which the log service writes with the
events in one transaction.

| route                                               | instruction            |
| --------------------------------------------------- | ---------------------- |
| ``GET /api/v1/capital``                             | ``balanceQuery``       |
| ``GET /ledger/accounts/{account_id}``               | ``ledgerAccountQuery`` |
| ``GET /ledger/accounts/{account_id}/transfers``     | ``ledgerHistoryQuery`` |
| ``GET /ledger/transfers/{transfer_id}``             | ``transferQuery``      |

- ``/api/v1/capital`` is Backpack's balance query: ``{asset: {"available", "locked",
  "staked"}}`` over the caller's ``creditor_available`` accounts, amounts in major units with
  the asset's scale (``available`` = credits posted − debits posted − debits pending, ``locked``
  = debits pending, ``staked`` always ``"0"``), so Backpack clients read it unchanged.
- An account: its four balance columns in minor units as decimal strings, the same formatted
  with the asset's scale, its flags and the seqs of the events that opened and last changed it.
- A history: the account's transfers newest first (by the seq of the event that created each,
  then by id), at most ``limit`` (default 100, at most ``limits.history_page_max``); ``next``
  is the cursor of the following page (``before`` and ``before_id`` query parameters) or
  ``null`` on the last page. Keyset pagination: pages stay correct while transfers are added.
- A transfer: the ledger's record (status, deadline, what a post took), with its amounts
  formatted too.

Authorisation: a creditor or trader reads only accounts it owns (an account's owner is the
actor's name) and transfers that touch one; operators (``admin``, ``treasury``) read any. An
id that does not exist and one the caller may not read get the same ``404 not_found``, so
nothing leaks whether it exists. Every answer is ``Cache-Control: no-store``; integers in JSON
are decimal strings.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, FastAPI, Query
from pydantic import Field

from reclaim.app.log_service import LogService
from reclaim.app.ports import ProjectedAccount, ProjectedTransfer
from reclaim.core import limits
from reclaim.core.money import asset_of, format_amount
from reclaim.entrypoints.api import auth
from reclaim.entrypoints.api.auth import AuthenticatedActor
from reclaim.entrypoints.api.deps import LogDep, no_store, signed
from reclaim.entrypoints.api.problems import InvalidParameterError, NotFoundError
from reclaim.entrypoints.api.schemas import (
    DecimalString,
    Public,
    QueryInt,
    position,
    problem_answers,
)
from reclaim.entrypoints.routing import Router

#: Roles that may read every account (the operator's); every other actor reads its own.
OPERATOR_ROLES: Final = frozenset({"admin", "treasury"})
#: The purpose of the accounts ``/api/v1/capital`` reports (a user's withdrawable money).
CAPITAL_PURPOSE: Final = "creditor_available"
HISTORY_PAGE_DEFAULT: Final = 100
TRANSFER_ID_PATTERN: Final = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"

router = Router(tags=["ledger"], dependencies=[Depends(no_store)])


# Public shapes ------------------------------------------------------------------------------------


class CapitalBalance(Public):
    """One asset of Backpack's balance answer, in major units with the asset's scale."""

    available: str = Field(examples=["100.00"])
    locked: str = Field(examples=["25.00"], description="reserved by pending transfers")
    staked: str = Field(examples=["0"], description="always 0: reclaim does not stake")


class Balances(Public):
    debits_posted: str
    credits_posted: str
    debits_pending: str
    credits_pending: str


class LedgerAccount(Public):
    """An account: balances in minor units (decimal strings) and formatted (major units)."""

    id: str = Field(examples=["alice/USD/creditor_available"])
    owner: str
    asset: str
    purpose: str
    flags: list[str]
    debits_posted: DecimalString
    credits_posted: DecimalString
    debits_pending: DecimalString
    credits_pending: DecimalString
    formatted: Balances = Field(description="the four columns in major units")
    opened_seq: DecimalString = Field(description="the event that opened the account")
    updated_seq: DecimalString = Field(description="the event that last changed it")


class LedgerTransfer(Public):
    """A transfer as the ledger keeps it."""

    id: str
    seq: DecimalString = Field(description="the event that created the transfer")
    kind: str = Field(examples=["single", "pending", "post_pending", "void_pending"])
    debit_account_id: str
    credit_account_id: str
    asset: str
    amount_minor: DecimalString
    amount: str = Field(description="amount_minor in major units", examples=["25.00"])
    code: str = Field(examples=["deposit"])
    refs: dict[str, str]
    pending_id: str
    timeout_seconds: DecimalString
    created_at: str
    expires_at: str
    status: str = Field(examples=["posted", "pending", "voided", "expired"])
    posted_minor: DecimalString = Field(description="what a post took of a pending transfer")
    posted: str = Field(description="posted_minor in major units")
    updated_seq: DecimalString = Field(description="the event that last changed it")


class HistoryCursor(Public):
    before: DecimalString
    before_id: str


class LedgerHistory(Public):
    """A page of an account's transfers, newest first."""

    account_id: str
    transfers: list[LedgerTransfer]
    next: HistoryCursor | None = Field(description="the next page's query, or null at the end")


# The read side ------------------------------------------------------------------------------------


class LedgerReader:
    """The ledger's queries as the API serves them: authorisation, paging, rendering."""

    def __init__(self, log: LogService) -> None:
        self._log = log
        self._store = log.store

    def may_read(self, actor: str, owner: str) -> bool:
        if actor == owner:
            return True
        # Roles never change once registered, and ``actor`` authenticated against the stored
        # state, so this one read needs no lock.
        found = self._log.state.actors.get(actor)
        return found is not None and found.role in OPERATOR_ROLES

    def capital(self, actor: str) -> dict[str, CapitalBalance]:
        balances: dict[str, CapitalBalance] = {}
        for a in self._store.accounts_of(actor):
            if a.purpose == CAPITAL_PURPOSE:
                balances[a.asset] = CapitalBalance(
                    available=_format(a.credits_posted - a.debits_posted - a.debits_pending,
                                      a.asset),
                    locked=_format(a.debits_pending, a.asset),
                    staked="0",
                )  # fmt: skip
        return balances

    def account(self, actor: str, account_id: str) -> ProjectedAccount:
        found = self._store.account(account_id)
        if found is None or not self.may_read(actor, found.owner):
            raise NotFoundError(f"no account {account_id!r}")
        return found

    def history(
        self, actor: str, account_id: str, before: int | None, before_id: str | None, limit: int
    ) -> LedgerHistory:
        if before_id is not None and before is None:
            raise InvalidParameterError("before_id needs before")
        self.account(actor, account_id)
        page = self._store.account_history(account_id, before, limit + 1, before_id)
        more, page = len(page) > limit, page[:limit]  # one more tells whether a next page exists
        cursor = None
        if more:
            cursor = HistoryCursor(before=str(page[-1].seq), before_id=page[-1].id)
        return LedgerHistory(
            account_id=account_id, transfers=[render_transfer(t) for t in page], next=cursor
        )

    def transfer(self, actor: str, transfer_id: str) -> ProjectedTransfer:
        found = self._store.transfer(transfer_id)
        if found is None or not any(
            self.may_read(actor, _owner(side))
            for side in (found.debit_account_id, found.credit_account_id)
        ):
            raise NotFoundError(f"no transfer {transfer_id!r}")
        return found


def _owner(account_id: str) -> str:
    """The owner named by an account id ``<owner>/<asset>/<purpose>`` (the ledger's ladder
    refuses an account whose id is not that of its own fields)."""
    return account_id.partition("/")[0]


def _format(amount_minor: int, code: str) -> str:
    asset = asset_of(code)
    assert asset is not None, f"the ledger holds only known assets, not {code!r}"
    return format_amount(amount_minor, asset)


def render_account(a: ProjectedAccount) -> LedgerAccount:
    dp, cp, dpend, cpend = a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending
    return LedgerAccount(
        id=a.id,
        owner=a.owner,
        asset=a.asset,
        purpose=a.purpose,
        flags=list(a.flags),
        debits_posted=str(dp),
        credits_posted=str(cp),
        debits_pending=str(dpend),
        credits_pending=str(cpend),
        formatted=Balances(
            debits_posted=_format(dp, a.asset),
            credits_posted=_format(cp, a.asset),
            debits_pending=_format(dpend, a.asset),
            credits_pending=_format(cpend, a.asset),
        ),
        opened_seq=str(a.opened_seq),
        updated_seq=str(a.updated_seq),
    )


def render_transfer(t: ProjectedTransfer) -> LedgerTransfer:
    return LedgerTransfer(
        id=t.id,
        seq=str(t.seq),
        kind=t.kind,
        debit_account_id=t.debit_account_id,
        credit_account_id=t.credit_account_id,
        asset=t.asset,
        amount_minor=str(t.amount_minor),
        amount=_format(t.amount_minor, t.asset),
        code=t.code,
        refs=t.refs,
        pending_id=t.pending_id,
        timeout_seconds=str(t.timeout_seconds),
        created_at=t.created_at,
        expires_at=t.expires_at,
        status=t.status,
        posted_minor=str(t.posted_minor),
        posted=_format(t.posted_minor, t.asset),
        updated_seq=str(t.updated_seq),
    )


# Dependencies and routes: parse, call, render -----------------------------------------------------


def get_reader(log: LogDep) -> LedgerReader:
    return LedgerReader(log)


ReaderDep = Annotated[LedgerReader, Depends(get_reader)]

_SIGNED_PROBLEMS: Final = {
    401: "not signed, or not by a live key (`signature_missing`, "
    "`signature_invalid`, `timestamp_outside_window`, `key_unknown`)",
    409: "a replayed request (`request_replayed`)",
    429: "the replay cache is full (`too_many_requests`)",
}
_NOT_FOUND_PROBLEMS: Final = {
    404: "no such id, or not the caller's (`not_found`)",
    **_SIGNED_PROBLEMS,
}
_SIGNED: Final = problem_answers(_SIGNED_PROBLEMS)
_NOT_FOUND: Final = problem_answers(_NOT_FOUND_PROBLEMS)


@signed(router.get, "/api/v1/capital", dict[str, CapitalBalance], "balanceQuery", _SIGNED)
def get_capital(reader: ReaderDep, actor: AuthenticatedActor) -> dict[str, CapitalBalance]:
    """The caller's balances by asset (Backpack's ``GET /api/v1/capital``)."""
    return reader.capital(actor)


@signed(router.get, "/ledger/accounts/{account_id:path}/transfers", LedgerHistory,
        "ledgerHistoryQuery",
        problem_answers({400: "`invalid_parameter`", **_NOT_FOUND_PROBLEMS}))  # fmt: skip
def get_account_history(
    reader: ReaderDep,
    actor: AuthenticatedActor,
    account_id: str,
    before: Annotated[QueryInt | None, position("only transfers of events before this seq")] = None,
    before_id: Annotated[
        str | None,
        Query(pattern=TRANSFER_ID_PATTERN, description="and, of seq `before`, ids before this"),
    ] = None,
    limit: Annotated[
        QueryInt, Query(ge=1, le=limits.history_page_max, description="most transfers to list")
    ] = HISTORY_PAGE_DEFAULT,
) -> LedgerHistory:
    """The account's transfers, newest first; follow ``next`` for older ones."""
    return reader.history(actor, account_id, before, before_id, limit)


@signed(router.get, "/ledger/accounts/{account_id:path}", LedgerAccount, "ledgerAccountQuery",
        _NOT_FOUND)  # fmt: skip
def get_account(reader: ReaderDep, actor: AuthenticatedActor, account_id: str) -> LedgerAccount:
    """One account's balances (``account_id`` is ``<owner>/<asset>/<purpose>``)."""
    return render_account(reader.account(actor, account_id))


@signed(router.get, "/ledger/transfers/{transfer_id}", LedgerTransfer, "transferQuery", _NOT_FOUND)
def get_transfer(reader: ReaderDep, actor: AuthenticatedActor, transfer_id: str) -> LedgerTransfer:
    """One transfer, by the id its client chose."""
    return render_transfer(reader.transfer(actor, transfer_id))


def install(app: FastAPI) -> None:
    """Serve the ledger routes on ``app``, with request authentication."""
    auth.install(app)
    app.include_router(router)
