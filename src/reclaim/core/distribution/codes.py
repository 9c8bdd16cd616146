"""The distribution core's answers: one ordered enum of codes, first failure wins.

As in ``reclaim.core.ledger.codes``: codes are ordered by precedence within each group; values
are published (API answers, verifier reports), so a new code takes a free value between its
neighbours and no value is ever reused. Each code reads as a sentence about the command.

| group | ladder of                                                                          |
| ----- | ---------------------------------------------------------------------------------- |
| 1–9   | any command or logged event (shape, batch size)                                     |
| 10–29 | ``distribution.plan_set``, ``distribution.round_declared``, ``…_funded``            |
| 30–49 | ``distribution.round_approved``, ``…lines_executed``, ``…round_completed``          |
| 50–69 | ``escrow.released``, ``escrow.forfeited``                                           |
| 70–89 | ``claim.assigned``, ``creditor.residence_proved``, ``objection.decided``            |
| 90–99 | ``fx.rate_recorded``, ``payout.elected``                                            |
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from reclaim.core.domain import CodedRejection
from reclaim.core.kinds import B, C, F, Kind, N, kind_table


class DistributionCode(enum.Enum):
    ok = 0
    #: Missing or extra fields, wrong types, integers that are not canonical decimal text.
    payload_malformed = 1
    #: More items than the event's named bound.
    batch_too_large = 2

    # Plans and rounds.
    estate_unknown = 10
    plan_class_unknown = 11
    plan_cap_out_of_range = 12
    plan_status_unknown = 13
    plan_date_invalid = 14
    plan_kyc_missed_unknown = 15
    plan_missing = 16
    round_id_malformed = 17
    round_exists = 18
    round_dates_invalid = 19
    round_class_unknown = 20
    round_class_duplicated = 21
    round_target_unknown = 22
    round_target_invalid = 23
    round_too_many = 24
    round_unknown = 25
    funding_amount_invalid = 26
    round_funded_already = 27
    #: The approved digest or totals are not those of the round recomputed from the state
    #: the approval is decided at (the preview is stale, or the file is not the rules').
    approval_not_as_computed = 29

    # Approval and execution.
    round_not_funded = 30
    round_approved_already = 31
    approval_digest_malformed = 32
    approval_totals_invalid = 33
    approval_rate_not_latest = 34
    pool_insufficient = 35
    round_not_approved = 36
    round_completed_already = 37
    line_out_of_order = 38
    line_beyond_approved = 39
    line_claim_unknown = 40
    line_amount_invalid = 41
    line_account_mismatch = 42
    line_conversion_mismatch = 43
    line_exceeds_entitlement = 44
    #: The ledger refused the money the event moves (``codes.TransferCode`` in the detail).
    ledger_refused = 45
    round_incomplete = 46
    round_digest_mismatch = 47
    line_payee_unknown = 48
    #: Another round of the estate is approved and not completed: one executes at a time.
    another_round_executing = 49

    # Escrow.
    escrow_claim_unknown = 50
    escrow_empty = 51
    escrow_reason_unknown = 52
    escrow_still_restricted = 53
    escrow_no_residence = 54
    escrow_no_upheld_objection = 55
    escrow_holder_not_payable = 56
    forfeiture_order_missing = 57
    forfeiture_not_ordered_by_plan = 58

    # Holders, residence, objections.
    claim_unknown = 70
    assignee_unknown = 71
    assignment_from_not_holder = 72
    assignment_to_self = 73
    assignment_date_invalid = 74
    evidence_malformed = 75
    residence_iso_unknown = 76
    residence_date_invalid = 77
    objection_outcome_unknown = 78
    reference_malformed = 79
    creditor_unknown = 80

    # FX and elections.
    fx_asset_unknown = 90
    fx_rate_invalid = 91
    fx_source_invalid = 92
    fx_time_invalid = 93
    payout_asset_unknown = 94
    payout_elected_already = 95


class DistributionRejection(CodedRejection[DistributionCode]):
    """A refused command or logged event: the code, which item (if one), and why."""

    __slots__ = ()


#: Answers that accept a command (they have no kind).
ACCEPTED: Final[frozenset[DistributionCode]] = frozenset({DistributionCode.ok})


#: The kind of every refusal (``reclaim.core.kinds``: what the API maps to a status, once).
KINDS: Final[Mapping[DistributionCode, Kind]] = kind_table(
    (DistributionCode,),
    {
        DistributionCode.payload_malformed: B,
        DistributionCode.batch_too_large: B,
        DistributionCode.estate_unknown: N,
        DistributionCode.plan_class_unknown: B,
        DistributionCode.plan_cap_out_of_range: B,
        DistributionCode.plan_status_unknown: B,
        DistributionCode.plan_date_invalid: B,
        DistributionCode.plan_kyc_missed_unknown: B,
        DistributionCode.plan_missing: B,
        DistributionCode.round_id_malformed: B,
        DistributionCode.round_exists: C,
        DistributionCode.round_dates_invalid: B,
        DistributionCode.round_class_unknown: B,
        DistributionCode.round_class_duplicated: C,
        DistributionCode.round_target_unknown: B,
        DistributionCode.round_target_invalid: B,
        DistributionCode.round_too_many: C,
        DistributionCode.round_unknown: N,
        DistributionCode.funding_amount_invalid: B,
        DistributionCode.round_funded_already: C,
        DistributionCode.approval_not_as_computed: C,
        DistributionCode.round_not_funded: C,
        DistributionCode.round_approved_already: C,
        DistributionCode.approval_digest_malformed: B,
        DistributionCode.approval_totals_invalid: B,
        DistributionCode.approval_rate_not_latest: C,
        DistributionCode.pool_insufficient: C,
        DistributionCode.round_not_approved: C,
        DistributionCode.round_completed_already: C,
        DistributionCode.line_out_of_order: C,
        DistributionCode.line_beyond_approved: C,
        DistributionCode.line_claim_unknown: N,
        DistributionCode.line_amount_invalid: B,
        DistributionCode.line_account_mismatch: C,
        DistributionCode.line_conversion_mismatch: C,
        DistributionCode.line_exceeds_entitlement: C,
        DistributionCode.ledger_refused: C,
        DistributionCode.round_incomplete: C,
        DistributionCode.round_digest_mismatch: C,
        DistributionCode.line_payee_unknown: N,
        DistributionCode.another_round_executing: C,
        DistributionCode.escrow_claim_unknown: N,
        DistributionCode.escrow_empty: C,
        DistributionCode.escrow_reason_unknown: B,
        DistributionCode.escrow_still_restricted: F,
        DistributionCode.escrow_no_residence: C,
        DistributionCode.escrow_no_upheld_objection: C,
        DistributionCode.escrow_holder_not_payable: C,
        DistributionCode.forfeiture_order_missing: B,
        DistributionCode.forfeiture_not_ordered_by_plan: C,
        DistributionCode.claim_unknown: N,
        DistributionCode.assignee_unknown: N,
        DistributionCode.assignment_from_not_holder: C,
        DistributionCode.assignment_to_self: B,
        DistributionCode.assignment_date_invalid: B,
        DistributionCode.evidence_malformed: B,
        DistributionCode.residence_iso_unknown: B,
        DistributionCode.residence_date_invalid: B,
        DistributionCode.objection_outcome_unknown: B,
        DistributionCode.reference_malformed: B,
        DistributionCode.creditor_unknown: N,
        DistributionCode.fx_asset_unknown: B,
        DistributionCode.fx_rate_invalid: B,
        DistributionCode.fx_source_invalid: B,
        DistributionCode.fx_time_invalid: B,
        DistributionCode.payout_asset_unknown: B,
        DistributionCode.payout_elected_already: C,
    },
    ACCEPTED,
)
