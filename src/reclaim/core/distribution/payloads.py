"""Event types of the distribution core, the roles that sign them, and the shape of a round line.

Shapes (version 1; integers as decimal text, booleans as JSON booleans):

``distribution.plan_set``  ``{"estate_id", "classes": [{"class_code", "cap_bps", "interest"}],
"paid_statuses": [..], "reserved_statuses": [..], "kyc_start_by", "kyc_finish_by",
"kyc_missed"}`` (classes sorted by code, statuses sorted).
``distribution.round_declared``  ``{"round_id", "estate_id", "record_date", "payment_date",
"classes": [{"class_code", "target", "cumulative_bps", "pool_minor", "interest_to"}],
"funding_minor"}`` (classes sorted by code).
``distribution.round_funded``  ``{"round_id", "amount_minor"}``.
``distribution.round_approved``  ``{"round_id", "lines_sha256", "lines", "usd_total_minor",
"escrow_total_minor", "rates": [{"asset", "rate", "numerator", "denominator"}]}``.
``distribution.lines_executed``  ``{"round_id", "first_line", "lines": [LINE, ...]}`` with LINE
an object of ``LINE_COLUMNS`` but ``line`` (implied: ``first_line`` + position).
``distribution.round_completed``  ``{"round_id"}``.
``escrow.released``  ``{"claim_id", "reason", "payee", "amount_minor"}``.
``escrow.forfeited``  ``{"claim_id", "reason", "order_reference", "amount_minor"}``.
``claim.assigned``  ``{"claim_id", "from", "to", "filed_date", "evidence_sha256"}``.
``creditor.residence_proved``  ``{"creditor", "iso", "effective_date"}``.
``objection.decided``  ``{"claim_id", "outcome", "reference"}``.
``fx.rate_recorded``  ``{"asset", "rate", "source", "observed_at"}``.
``payout.elected``  ``{"creditor", "asset"}``.
"""

from __future__ import annotations

from typing import Final

PLAN_SET: Final = "distribution.plan_set"
ROUND_DECLARED: Final = "distribution.round_declared"
ROUND_FUNDED: Final = "distribution.round_funded"
ROUND_APPROVED: Final = "distribution.round_approved"
LINES_EXECUTED: Final = "distribution.lines_executed"
ROUND_COMPLETED: Final = "distribution.round_completed"
ESCROW_RELEASED: Final = "escrow.released"
ESCROW_FORFEITED: Final = "escrow.forfeited"
CLAIM_ASSIGNED: Final = "claim.assigned"
RESIDENCE_PROVED: Final = "creditor.residence_proved"
OBJECTION_DECIDED: Final = "objection.decided"
FX_RATE_RECORDED: Final = "fx.rate_recorded"
PAYOUT_ELECTED: Final = "payout.elected"

_V1: Final = frozenset({1})
#: The shape of ``reclaim.core.events.EVENT_TYPES``: versions and signing roles. Treasury runs
#: rounds and records rates; the admin sets plans, records assignments (the clerk's Form 2100A
#: evidence), decides objections and orders forfeitures; KYC officers record residence; a
#: creditor elects a payout asset for itself ("self") or through the portal gateway.
DISTRIBUTION_EVENT_TYPES: Final[dict[str, tuple[frozenset[int], frozenset[str]]]] = {
    PLAN_SET: (_V1, frozenset({"admin"})),
    ROUND_DECLARED: (_V1, frozenset({"treasury"})),
    ROUND_FUNDED: (_V1, frozenset({"treasury"})),
    ROUND_APPROVED: (_V1, frozenset({"treasury"})),
    LINES_EXECUTED: (_V1, frozenset({"treasury"})),
    ROUND_COMPLETED: (_V1, frozenset({"treasury"})),
    ESCROW_RELEASED: (_V1, frozenset({"treasury", "kyc_officer"})),
    ESCROW_FORFEITED: (_V1, frozenset({"admin"})),
    CLAIM_ASSIGNED: (_V1, frozenset({"admin"})),
    RESIDENCE_PROVED: (_V1, frozenset({"kyc_officer"})),
    OBJECTION_DECIDED: (_V1, frozenset({"admin"})),
    FX_RATE_RECORDED: (_V1, frozenset({"treasury"})),
    PAYOUT_ELECTED: (_V1, frozenset({"self", "gateway"})),
}

#: The columns of a round's lines file (``adapters.files.round_file``), in order. The file is
#: the header line then one line per payment, fields joined by "," and ended by "\n" (no field
#: can hold a comma, a quote or a line break: ids, codes and decimal integers only). Its SHA-256
#: is what the treasury approves; executing the round re-hashes the same bytes, line by line.
LINE_COLUMNS: Final = (
    "line",
    "claim_id",
    "class_code",
    "jurisdiction",
    "status",
    "destination",
    "reason",
    "payee",
    "account_id",
    "entitlement_minor",
    "received_minor",
    "usd_minor",
    "asset",
    "amount_minor",
)
LINES_HEADER: Final = ",".join(LINE_COLUMNS) + "\n"
#: A line's fields in an executed event: every column but ``line`` (implied by its position).
LINE_FIELDS: Final = frozenset(LINE_COLUMNS[1:])
#: Integer columns of a line.
LINE_INTEGERS: Final = frozenset(
    {"line", "entitlement_minor", "received_minor", "usd_minor", "amount_minor"}
)
