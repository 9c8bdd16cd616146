"""The ledger: double-entry accounts and transfers in integer minor units, after TigerBeetle.

Theory of operation
-------------------
Money lives in **accounts**, one per (owner, asset, purpose), with the id
``<owner>/<asset>/<purpose>``. An account has no balance field, only four columns: the posted
ones (``debits_posted``, ``credits_posted``) never decrease, the pending ones
(``debits_pending``, ``credits_pending``) are reservations; and money moves only by
**transfers**: one positive amount of one asset from a debit account to a credit account of that
asset, with a reason ``code`` and typed ``refs`` (claim, distribution, order, withdrawal). Every
transfer adds the same amount to one debit column and one credit column, so per asset the debits
always equal the credits.

The pure functions, as in ``reclaim.core.machine``:

- ``decide_ledger(ledger, command, now) -> Decision | LedgerRejection`` runs the validation
  ladder for every item of a command (``OpenAccounts``, ``CreateTransfers``, ``ExpirePending``)
  against an overlay of the state, and returns the events to append — ``(type, payload)`` — and
  one result per item. It never changes ``ledger``.
- ``check_ledger(ledger, type, payload, time) -> LedgerRejection | None`` re-runs the same
  ladder on a logged event (the verifier's replay); ``evolve_ledger(ledger, type, payload,
  time)`` applies a checked event in place and records the touched entity keys in
  ``ledger.changed`` (``account/<id>``, ``transfer/<id>``) for the state digest.
- ``assert_ledger_invariants(ledger)`` recomputes every balance from the stored transfers.

Events (version 1; payload shapes in ``payloads``): ``ledger.accounts_opened``,
``ledger.transfers_created`` (one per command: a chain, or the accepted transfers of a batch,
in order — an event is applied whole or not at all, so a chain is atomic by construction) and
``ledger.pending_expired``.

Accounts and their suggested flags (credit-normal accounts are what reclaim owes; debit-normal
ones what it holds or has issued):

| purpose            | normal | flag | e.g.                                  |
| ------------------ | ------ | ---- | ------------------------------------- |
| creditor_available | credit | D    | a user's withdrawable cash or notes   |
| claim_escrow       | credit | D    | a restricted claim's distributions    |
| estate_pool        | credit | D    | a distribution round's cash           |
| market_clearing    | credit | D    | fills in flight                       |
| fees               | credit | D    | fee income                            |
| holding_entity     | either | -    | notes issued (debit) / cash received  |
| rail_settlement    | debit  | C    | cash held at SEPA, a bank, a chain    |
| funding            | credit | -    | the operator's own capital (equity)   |
| fx                 | either | -    | a payout converted out of USD         |

(D = ``debits_must_not_exceed_credits``, C = ``credits_must_not_exceed_debits``.)

**Money enters** by a transfer that debits an asset-side account: a deposit of 100 EUR that
arrived at SEPA is ``operator/EUR/rail_settlement`` → ``alice/EUR/creditor_available``
(``deposit``); the estate funding a round is ``rail_settlement`` → ``estate/USD/estate_pool``
(``funding``); the operator's capital is ``rail_settlement`` → ``operator/USD/funding``. **Money
leaves** by the reverse, two-phase: a withdrawal reserves ``alice/EUR/creditor_available`` →
``operator/EUR/rail_settlement`` (pending), then the rail confirms (post) or fails (void). The
rail account can never pay out more than came in.

Transfers and their kinds:

- ``single``: posted at once.
- ``pending``: reserves the amount (pending columns), with an optional ``timeout_seconds``;
  ``expires_at`` = the accepting event's time + timeout.
- ``post_pending``: posts ``amount_minor`` (1 … the pending amount) of pending ``pending_id``;
  the rest is released. ``void_pending``: releases all of it (amount 0 or the pending amount).
  Both may leave accounts and asset empty: they are the pending transfer's.

A pending transfer, as a state machine (h11 style; rows: state, columns: what happens):

| state   | post or void, t < deadline | post or void, t ≥ deadline | sweep, t ≥ deadline |
| ------- | -------------------------- | -------------------------- | ------------------- |
| pending | → posted / → voided        | ``…_expired``              | → expired           |
| posted  | ``…_already_posted``       | ``…_already_posted``       | (not open)          |
| voided  | ``…_already_voided``       | ``…_already_voided``       | (not open)          |
| expired | ``…_expired``              | ``…_expired``              | (not open)          |

(deadline = ``expires_at``; sweep = ``ExpirePending``; the codes are
``pending_transfer_already_posted`` etc.; a pending transfer with timeout 0 never expires).

Chains and batches: ``CreateTransfers(transfers, atomic=True)`` is a chain, all or nothing, in
order: if any transfer is refused, none applies, that one gets its code and the others
``linked_event_failed``. With ``atomic=False`` each transfer stands alone, in order, each seeing
the effect of the ones accepted before it.

Idempotency: the client chooses transfer ids. Once a transfer is accepted its id answers
forever: the same transfer again gets ``exists`` and, in ``TransferResult.first``, the stored
record (its time, status, deadline) — the first answer — and no new event; the same id with
another field gets ``exists_with_different_<field>``. A chain retried whole gets ``exists`` for
every transfer. A refused transfer is not remembered (``codes.transient`` says which refusals
may change on retry).

Rejections are values, in precedence order (``codes``): per item ``TransferCode`` /
``AccountCode``; ``LedgerRejection`` with an ``EventCode`` for a whole command (too many items)
or a logged event that fails ``check_ledger`` (which carries the item's code and position).

Invariants
----------
Asserted after every applied transfer for what it touched (``engine.apply_transfer``), and all
of them by ``assert_ledger_invariants``:

- per asset, total debits posted = total credits posted, and pending likewise; the asset's
  debits (posted + pending) fit BIGINT, so every column and every sum over accounts does;
- no account with ``debits_must_not_exceed_credits`` has ``debits_posted + debits_pending >
  credits_posted`` (and symmetrically for ``credits_must_not_exceed_debits``): reservations count;
- every column is in ``0 … 2**63-1``; each account's columns equal those recomputed from the
  stored transfers (the open pending transfers are exactly its pending columns);
- a pending transfer is posted for at most what it reserved; a posted one names its post.

Known limits
------------
- All state is in memory, about 650 bytes per stored transfer (measured: record, strings, the
  refs dict, the index entry), so ~10 million transfers take ~6.5 GB. Settled transfers are
  never dropped, since their ids answer forever.
- Refused transfers are not remembered, so a transient refusal followed by a retry may
  succeed (TigerBeetle instead answers ``id_already_failed``); the first answer of a refusal is
  the client's to keep.
- ``ExpirePending`` scans open pending transfers with a deadline (O(open pendings)); it is a
  periodic sweep, not a per-transfer cost. Until it runs, an expired pending still holds its
  reservation, but can no longer be posted or voided.
- No balancing transfers, account closing, or history queries (the projections answer those).

Imported by ``core.machine`` (through ``domain``), the other sub-domains (which post to it),
the app and the tests.
"""

from reclaim.core.ledger.codes import (
    AccountCode,
    EventCode,
    LedgerCode,
    LedgerRejection,
    TransferCode,
    transient,
)
from reclaim.core.ledger.machine import (
    Decision,
    Result,
    assert_ledger_invariants,
    check_ledger,
    decide_ledger,
    evolve_ledger,
)
from reclaim.core.ledger.model import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    EXPIRED,
    FLAGS,
    KINDS,
    PENDING,
    POST_PENDING,
    POSTED,
    PURPOSES,
    REASONS,
    REF_KINDS,
    SINGLE,
    VOID_PENDING,
    VOIDED,
    Account,
    AccountResult,
    AssetTotals,
    CreateTransfers,
    ExpirePending,
    LedgerCommand,
    LedgerState,
    OpenAccounts,
    StoredTransfer,
    Transfer,
    TransferResult,
    account_id,
)
from reclaim.core.ledger.payloads import (
    ACCOUNTS_OPENED,
    LEDGER_EVENT_TYPES,
    PENDING_EXPIRED,
    TRANSFERS_CREATED,
    PayloadError,
    account_from_payload,
    account_payload,
    transfer_from_payload,
    transfer_payload,
)

__all__ = [
    "ACCOUNTS_OPENED",
    "CREDITS_MUST_NOT_EXCEED_DEBITS",
    "DEBITS_MUST_NOT_EXCEED_CREDITS",
    "EXPIRED",
    "FLAGS",
    "KINDS",
    "LEDGER_EVENT_TYPES",
    "PENDING",
    "PENDING_EXPIRED",
    "POSTED",
    "POST_PENDING",
    "PURPOSES",
    "REASONS",
    "REF_KINDS",
    "SINGLE",
    "TRANSFERS_CREATED",
    "VOIDED",
    "VOID_PENDING",
    "Account",
    "AccountCode",
    "AccountResult",
    "AssetTotals",
    "CreateTransfers",
    "Decision",
    "EventCode",
    "ExpirePending",
    "LedgerCode",
    "LedgerCommand",
    "LedgerRejection",
    "LedgerState",
    "OpenAccounts",
    "PayloadError",
    "Result",
    "StoredTransfer",
    "Transfer",
    "TransferCode",
    "TransferResult",
    "account_from_payload",
    "account_id",
    "account_payload",
    "assert_ledger_invariants",
    "check_ledger",
    "decide_ledger",
    "evolve_ledger",
    "transfer_from_payload",
    "transfer_payload",
    "transient",
]
