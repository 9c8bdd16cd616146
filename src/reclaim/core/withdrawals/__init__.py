"""Withdrawals: two-phase payouts through rails, with the money moving in the ledger.

Theory of operation
-------------------
A creditor withdraws from their ``<creditor>/<asset>/creditor_available`` account through a
**rail**: ``sepa`` (EUR credit transfers), ``hk_wire`` (USD wires through a Hong Kong
correspondent) or ``usdc`` (to an allow-listed address). Each rail pays out exactly one asset
(``model.RAIL_ASSETS``). An operator sets each rail's **terms** (``withdrawal.fees_set``, signed
by an admin): the fee schedule (``fees``), the smallest amount, the reservation timeout, and the
operator's accounts the money goes to — so a verifier re-computes every fee from the log.

A withdrawal, as a state machine (h11 style; rows: state, columns: what happens):

| state     | confirmed (rail paid) | failed (rail did not) | sweep after the deadline |
| --------- | --------------------- | --------------------- | ------------------------ |
| requested | → confirmed           | → failed              | → expired (ledger)       |
| confirmed | ``exists`` / ``withdrawal_already_confirmed`` | ``withdrawal_already_confirmed`` | – |
| failed    | ``withdrawal_already_failed`` | ``exists`` / ``withdrawal_already_failed`` | – |
| expired   | ``withdrawal_expired``| ``withdrawal_expired``| –                        |

Events (version 1; shapes and signing roles in ``payloads``):

- ``withdrawal.requested`` (the creditor itself with its API key — role "self", ``creditor`` in
  the payload — or the portal gateway): **reserves** amount + fee. The ledger transfers are
  derived from the event, deterministically, and checked by the ledger's own ladder
  (``check_ledger(ledger, "ledger.transfers_created", {"atomic": True, ...})``) then applied by
  ``evolve_ledger``, in the same event — the withdrawal and its money move together or not at
  all. The chain: pending ``wd:<id>`` of the amount, creditor → the rail's settlement account
  (code ``withdrawal``), and pending ``wd:<id>:fee`` of the fee (when positive), creditor →
  the fee account (code ``fee``); refs ``{"withdrawal": id}``; the rail's timeout.
- ``withdrawal.confirmed`` (treasury: the rail adapter's service key, with the rail's
  reference): **posts** both, as ``wd:<id>:post`` and ``wd:<id>:fee:post``.
- ``withdrawal.failed`` (treasury, with a reason code): **voids** both (``...:void``): the
  funds are available again.
- Expiry is the ledger's: ``ledger.pending_expired`` (the periodic sweep) releases reservations
  past their deadline. The withdrawal's recorded status stays ``requested`` (its entity changes
  only with its own events, which keeps the state digest incremental); ``status_of`` reads it as
  ``expired`` from its transfer. After the deadline neither a confirmation nor a failure is
  accepted (``withdrawal_expired``).

Ledger transfer ids starting with ``wd:`` are reserved: the shell refuses a plain ledger
command or event that creates or settles one (``reserved_transfer``), so a withdrawal's status
and its transfers never disagree.

Accounts are **required open**, not opened on the fly: the operator's settlement and fee
accounts are checked when the terms are set (``fees_set``: an open ``rail_settlement`` and an
open ``fees`` account of the rail's asset; accounts are never closed), and the creditor's
available account exists wherever the creditor has money (refused ``account_not_found``
otherwise). So a withdrawal event never opens an account behind the operator's back.

The request ladder (``codes.RequestCode`` order): the request's own fields (id, creditor name,
rail, the rail's asset, amount, fee, the beneficiary as a 64-hex commitment — the IBAN, account
number or address itself stays in the PII vault); idempotency (the same id with the same fields
is ``exists``, accepted with no event; with other fields ``exists_with_different_fields``); KYC
approved (``claims.kyc_state``); the rail's terms set; the jurisdiction (below) and the rail
allowed for it; the rail's minimum; the fee equal to the schedule's (a client that was shown
another fee gets ``fee_mismatch``, never a higher charge); at most
``open_withdrawals_per_creditor_max`` in flight; the creditor's account exists and has amount +
fee available (reservations count); then the ledger's ladder (the rail's settlement account may
not send out more than came in: ``rail_funds_insufficient``). That the creditor is a registered
creditor actor is the shell's rung (``core.state``), as for claims.

**Jurisdiction**: the jurisdictions of the creditor's linked claims (``ClaimsState.links``), and
the policy entry in force for each on the request's date (``claims.policy.treatment``). When the
claims name several, the **strictest** reading wins: any sanctioned jurisdiction refuses the
withdrawal (``jurisdiction_sanctioned``), any jurisdiction without an entry refuses it
(``jurisdiction_unlisted``: a policy that says nothing allows no rail), and the allowed rails are
those **every** entry lists. A creditor with no linked claim has no known jurisdiction
(``jurisdiction_unknown``). There is no residence record in the core yet; when the proven move
of residence of issue 5 arrives, it will take precedence over the claims' jurisdictions (it is
the newer, proven fact) — a change to this ladder, with its own test.

The pure functions, as in ``reclaim.core.ledger`` and ``reclaim.core.claims``:

- ``decide_withdrawals(state, ledger, claims, command, now) -> Decision | WithdrawalsRejection``;
- ``check_withdrawals(state, ledger, claims, type, payload, time)`` (the verifier's replay);
- ``evolve_withdrawals(state, ledger, claims, type, payload, time)`` applies a checked event in
  place (the ledger too) and records touched entities in ``state.changed``
  (``fee_schedule/<rail>``, ``withdrawal/<id>``; the ledger records its own);
- ``assert_withdrawals_invariants(state, ledger)``;
- ``reconcile`` (``reconcile.py``): statement lines to withdrawals, by reference only.

Invariants
----------
Asserted by ``assert_withdrawals_invariants`` (from ``core.state.assert_invariants``): each
withdrawal's reservations exist in the ledger exactly as derived, and their state is the
withdrawal's (requested ⇔ pending or expired; confirmed ⇔ posted whole; failed ⇔ voided); the
indexes ``by_creditor`` and ``open`` are exact; each rail's terms name open accounts of its
asset. With the ledger's own invariants this gives conservation: every cent debited from a
creditor is at the rail, in the fees, or back with the creditor.

Known limits
------------
- All state is in memory: a withdrawal costs about 700 bytes here plus its two or four ledger
  transfers (~650 bytes each), so a million withdrawals take ~3.3 GB.
- A confirmation posts the whole reservation: rails pay all or nothing; a partial payment is an
  ``amount_mismatch`` for reconciliation and a person.
- The fee is reserved and posted with the amount; a failed withdrawal costs nothing.
- ``open_count`` walks the creditor's open set, which keeps expired ids for good (nothing
  settles them): O(``open_withdrawals_per_creditor_max`` + the creditor's expired ones).
"""

from reclaim.core.withdrawals.codes import (
    ACCEPTED,
    EventCode,
    FeesCode,
    RequestCode,
    SettleCode,
    WithdrawalsCode,
    WithdrawalsRejection,
)
from reclaim.core.withdrawals.fees import (
    BASES,
    EXCESS,
    WHOLE,
    FeeSchedule,
    FeeTier,
    fee_minor,
    schedule_code,
)
from reclaim.core.withdrawals.machine import (
    RESERVED_PREFIX,
    assert_withdrawals_invariants,
    check_withdrawals,
    creditor_jurisdictions,
    decide_withdrawals,
    evolve_withdrawals,
    open_count,
    rails_allowed,
    reserved_transfer,
    status_of,
)
from reclaim.core.withdrawals.model import (
    CONFIRMED,
    ENTITY_KINDS,
    EXPIRED,
    FAILED,
    FAILURE_REASONS,
    RAIL_ASSETS,
    REQUESTED,
    STATUSES,
    ConfirmWithdrawal,
    Decision,
    FailWithdrawal,
    RailTerms,
    RequestWithdrawal,
    Result,
    SetFees,
    TermsRecord,
    Withdrawal,
    WithdrawalsCommand,
    WithdrawalsState,
    amount_transfer_id,
    fee_transfer_id,
    terms_payload,
)
from reclaim.core.withdrawals.payloads import (
    CONFIRMED_EVENT,
    FAILED_EVENT,
    FEES_SET,
    REQUESTED_EVENT,
    WITHDRAWAL_EVENT_TYPES,
    PayloadError,
)

__all__ = [
    "ACCEPTED",
    "BASES",
    "CONFIRMED",
    "CONFIRMED_EVENT",
    "ENTITY_KINDS",
    "EXCESS",
    "EXPIRED",
    "FAILED",
    "FAILED_EVENT",
    "FAILURE_REASONS",
    "FEES_SET",
    "RAIL_ASSETS",
    "REQUESTED",
    "REQUESTED_EVENT",
    "RESERVED_PREFIX",
    "STATUSES",
    "WHOLE",
    "WITHDRAWAL_EVENT_TYPES",
    "ConfirmWithdrawal",
    "Decision",
    "EventCode",
    "FailWithdrawal",
    "FeeSchedule",
    "FeeTier",
    "FeesCode",
    "PayloadError",
    "RailTerms",
    "RequestCode",
    "RequestWithdrawal",
    "Result",
    "SetFees",
    "SettleCode",
    "TermsRecord",
    "Withdrawal",
    "WithdrawalsCode",
    "WithdrawalsCommand",
    "WithdrawalsRejection",
    "WithdrawalsState",
    "amount_transfer_id",
    "assert_withdrawals_invariants",
    "check_withdrawals",
    "creditor_jurisdictions",
    "decide_withdrawals",
    "evolve_withdrawals",
    "fee_minor",
    "fee_transfer_id",
    "open_count",
    "rails_allowed",
    "reserved_transfer",
    "schedule_code",
    "status_of",
    "terms_payload",
]
