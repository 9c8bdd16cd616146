"""Withdrawals: two-phase payouts through rails, with the money moving in the ledger.

Theory of operation
-------------------
A creditor withdraws from their ``<creditor>/<asset>/creditor_available`` account through a
**rail**: ``sepa`` (EUR credit transfers), ``hk_wire`` (USD wires through a Hong Kong
correspondent) or ``usdc`` (to an allow-listed address). Each rail pays out exactly one asset
(``model.RAIL_ASSETS``). An operator sets each rail's **terms** (``withdrawal.fees_set``, signed
by an admin): the fee schedule (``fees``), the smallest amount, the reservation timeout, and the
operator's accounts the money goes to — so a verifier re-computes every fee from the log.

A withdrawal is a state machine: requested, then confirmed (the rail paid) or failed (it did
not), or expired when the ledger's sweep voids its reservation after the deadline. Its table is
``model.WITHDRAWAL_TRANSITIONS``, written out in the ``model`` docstring with the code of every
empty cell (``withdrawal_already_confirmed``, ``withdrawal_already_failed``,
``withdrawal_expired``; ``exists`` when an event repeats what was recorded).

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

**Destinations** (issue 9, finding 7: a second factor on the money path). A withdrawal goes only
to a destination of the creditor — (rail, beneficiary commitment), id ``destination_id_of`` the
creditor, rail and commitment — that the creditor's proved e-mail confirmed, and only once its
cooling-off has passed. So an attacker holding the creditor's signing key but not its mailbox
cannot add their own IBAN and withdraw: the confirmation code goes to the owner, who also gets a
day (the default) to react. A destination, as a state machine:

| state     | added             | confirmed (the mailed code came back) | removed       |
| --------- | ----------------- | ------------------------------------- | ------------- |
| –         | → pending         | ``destination_not_found``             | ``..._not_found`` |
| pending   | ``exists``        | → confirmed, usable after cooling-off | → removed     |
| confirmed | ``exists``        | ``exists``                            | → removed     |
| removed   | → pending (again) | ``destination_removed``               | ``exists``    |

Events (version 1, signed by the gateway; an admin may remove): ``destination.added`` (the
beneficiary as its commitment, never the IBAN), ``destination.confirmed`` (with its
``cooling_off_seconds``, 0 … 30 days, so a verifier recomputes ``usable_from``),
``destination.removed``. The code itself is the shell's (``reclaim.app.withdrawals``): the core
cannot check a secret it must publish, so the gateway signs ``destination.confirmed`` only once
the code came back. At most ``destinations_per_creditor_max`` live destinations per creditor.
``withdrawal.requested`` of **version 2** (what ``decide`` writes) requires a confirmed
destination of its creditor, rail and beneficiary (``destination_not_confirmed``) whose
``usable_from`` has passed (``destination_cooling_off``); version 1, decided before the rule,
replays under its old rule in logs that have no destination yet, and is refused after the first
one (``event_version_retired``), so no request written after the rule can skip it. A removed
destination stops new requests; those requested before go on.

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

Imported by ``core.machine`` (through ``domain``), the app's withdrawal service and the tests.
"""

from reclaim.core.limits import destination_cooling_off_max_seconds, destinations_per_creditor_max
from reclaim.core.withdrawals.codes import (
    ACCEPTED,
    DestinationCode,
    EventCode,
    FeesCode,
    RequestCode,
    SettleCode,
    WithdrawalsCode,
    WithdrawalsRejection,
)
from reclaim.core.withdrawals.destinations import destination_refusal, live_destinations
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
    assert_withdrawals_invariants,
    check_withdrawals,
    decide_withdrawals,
    evolve_withdrawals,
)
from reclaim.core.withdrawals.model import (
    CONFIRMED,
    DESTINATION_CONFIRMED,
    DESTINATION_PENDING,
    DESTINATION_REMOVED,
    DESTINATION_STATUSES,
    ENTITY_KINDS,
    EXPIRED,
    FAILED,
    FAILURE_REASONS,
    RAIL_ASSETS,
    REQUESTED,
    SETTLE_REFUSALS,
    STATUSES,
    WITHDRAWAL_TRANSITIONS,
    AddDestination,
    ConfirmDestination,
    ConfirmWithdrawal,
    Decision,
    Destination,
    FailWithdrawal,
    RailTerms,
    RemoveDestination,
    RequestWithdrawal,
    Result,
    SetFees,
    TermsRecord,
    Withdrawal,
    WithdrawalsCommand,
    WithdrawalsState,
    amount_transfer_id,
    destination_cooling_off_default_seconds,
    destination_id_of,
    fee_transfer_id,
    terms_payload,
)
from reclaim.core.withdrawals.payloads import (
    CONFIRMED_EVENT,
    DESTINATION_ADDED_EVENT,
    DESTINATION_CONFIRMED_EVENT,
    DESTINATION_REMOVED_EVENT,
    FAILED_EVENT,
    FEES_SET,
    REQUEST_RULE_VERSION,
    REQUESTED_EVENT,
    WITHDRAWAL_EVENT_TYPES,
    WRITTEN_VERSIONS,
    PayloadError,
)
from reclaim.core.withdrawals.requests import creditor_jurisdictions, rails_allowed
from reclaim.core.withdrawals.settlement import (
    RESERVED_PREFIX,
    open_count,
    reserved_transfer,
    status_of,
)

__all__ = [
    "ACCEPTED",
    "BASES",
    "CONFIRMED",
    "CONFIRMED_EVENT",
    "DESTINATION_ADDED_EVENT",
    "DESTINATION_CONFIRMED",
    "DESTINATION_CONFIRMED_EVENT",
    "DESTINATION_PENDING",
    "DESTINATION_REMOVED",
    "DESTINATION_REMOVED_EVENT",
    "DESTINATION_STATUSES",
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
    "REQUEST_RULE_VERSION",
    "RESERVED_PREFIX",
    "SETTLE_REFUSALS",
    "STATUSES",
    "WHOLE",
    "WITHDRAWAL_EVENT_TYPES",
    "WITHDRAWAL_TRANSITIONS",
    "WRITTEN_VERSIONS",
    "AddDestination",
    "ConfirmDestination",
    "ConfirmWithdrawal",
    "Decision",
    "Destination",
    "DestinationCode",
    "EventCode",
    "FailWithdrawal",
    "FeeSchedule",
    "FeeTier",
    "FeesCode",
    "PayloadError",
    "RailTerms",
    "RemoveDestination",
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
    "destination_cooling_off_default_seconds",
    "destination_cooling_off_max_seconds",
    "destination_id_of",
    "destination_refusal",
    "destinations_per_creditor_max",
    "evolve_withdrawals",
    "fee_minor",
    "fee_transfer_id",
    "live_destinations",
    "open_count",
    "rails_allowed",
    "reserved_transfer",
    "schedule_code",
    "status_of",
    "terms_payload",
]
