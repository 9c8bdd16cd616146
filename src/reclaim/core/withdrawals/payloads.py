"""Event payloads of the withdrawals core, the roles that may sign them, and their strict readers.

Payloads hold only canonical JSON values; integers are decimal text (``"100"``), which is also
what ``reclaim.log.canonical.decode`` gives back, so ``decode(encode(payload)) == payload``. The
readers accept a Python ``int`` too (a payload built in-process) but never a ``bool``, a float,
or text that is not the canonical form of an integer. They check shape only; the ladders check
meaning.

Shapes (version 1):

``withdrawal.fees_set``  ``{"terms": [TERMS, ...]}`` sorted by rail; TERMS = ``{"rail",
"asset", "tiers": [{"up_to_minor", "fee_minor"}, ...], "above_fixed_minor", "above_bps",
"above_base", "cap_minor", "minimum_minor", "timeout_seconds", "settlement_account",
"fee_account"}`` (written by ``model.terms_payload``, which the entity view shares).
``withdrawal.requested``  ``{"withdrawal_id", "creditor", "rail", "asset", "amount_minor",
"fee_minor", "beneficiary"}``.
``withdrawal.confirmed``  ``{"withdrawal_id", "rail_reference"}``.
``withdrawal.failed``  ``{"withdrawal_id", "reason"}``.

Version 2 of ``withdrawal.requested`` (what ``decide`` writes since issue 9) has the same shape;
its ladder also requires a confirmed destination past its cooling-off. Version 1 replays under
its old rule, in logs that have no destination yet (``event_version_retired`` after).

``destination.added``  ``{"destination_id", "creditor", "rail", "beneficiary"}`` (the
beneficiary is the commitment; never the IBAN, account or address).
``destination.confirmed``  ``{"destination_id", "cooling_off_seconds"}``.
``destination.removed``  ``{"destination_id"}``.

The ledger transfers a withdrawal event implies are not in its payload: they are derived from it
and the state, deterministically, by ``machine`` (so the log cannot carry a withdrawal whose
money moved otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from reclaim.core.payload_fields import PayloadError as PayloadError
from reclaim.core.payload_fields import integer, record, text
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals.fees import FeeSchedule, FeeTier
from reclaim.core.withdrawals.model import RailTerms

FEES_SET: Final = "withdrawal.fees_set"
REQUESTED_EVENT: Final = "withdrawal.requested"
CONFIRMED_EVENT: Final = "withdrawal.confirmed"
FAILED_EVENT: Final = "withdrawal.failed"
DESTINATION_ADDED_EVENT: Final = "destination.added"
DESTINATION_CONFIRMED_EVENT: Final = "destination.confirmed"
DESTINATION_REMOVED_EVENT: Final = "destination.removed"
#: The version of ``withdrawal.requested`` that ``decide`` writes: the first with the
#: destination rule (``destination_not_confirmed``, ``destination_cooling_off``).
REQUEST_RULE_VERSION: Final = 2
#: The version ``decide`` writes, per event type (1 when not named).
WRITTEN_VERSIONS: Final[Mapping[str, int]] = {REQUESTED_EVENT: REQUEST_RULE_VERSION}

#: Withdrawal event types, with the schema versions this code reads and the roles that may sign
#: each — the shape of ``reclaim.core.events.EVENT_TYPES``, to merge into it. "self": the
#: creditor named in the payload signs its own request with its API key; the portal gateway
#: signs for creditors on the web. ``treasury`` is the rail adapter's service key: it confirms
#: and fails what the rail reports. Destinations are the gateway's: it adds one for a signed
#: request of the creditor and confirms it only after the code mailed to the creditor's proved
#: address came back; an admin may also remove one (a compromised account).
WITHDRAWAL_EVENT_TYPES: Final[dict[str, tuple[frozenset[int], frozenset[str]]]] = {
    FEES_SET: (frozenset({1}), frozenset({"admin"})),
    REQUESTED_EVENT: (frozenset({1, REQUEST_RULE_VERSION}), frozenset({"self", "gateway"})),
    CONFIRMED_EVENT: (frozenset({1}), frozenset({"treasury"})),
    FAILED_EVENT: (frozenset({1}), frozenset({"treasury"})),
    DESTINATION_ADDED_EVENT: (frozenset({1}), frozenset({"gateway"})),
    DESTINATION_CONFIRMED_EVENT: (frozenset({1}), frozenset({"gateway"})),
    DESTINATION_REMOVED_EVENT: (frozenset({1}), frozenset({"gateway", "admin"})),
}

TERMS_FIELDS: Final = frozenset(
    {
        "rail",
        "asset",
        "tiers",
        "above_fixed_minor",
        "above_bps",
        "above_base",
        "cap_minor",
        "minimum_minor",
        "timeout_seconds",
        "settlement_account",
        "fee_account",
    }
)
_TIER_FIELDS: Final = frozenset({"up_to_minor", "fee_minor"})
REQUEST_FIELDS: Final = frozenset(
    {"withdrawal_id", "creditor", "rail", "asset", "amount_minor", "fee_minor", "beneficiary"}
)
CONFIRM_FIELDS: Final = frozenset({"withdrawal_id", "rail_reference"})
FAIL_FIELDS: Final = frozenset({"withdrawal_id", "reason"})
DESTINATION_FIELDS: Final = frozenset({"destination_id", "creditor", "rail", "beneficiary"})
DESTINATION_CONFIRM_FIELDS: Final = frozenset({"destination_id", "cooling_off_seconds"})
DESTINATION_REMOVE_FIELDS: Final = frozenset({"destination_id"})


# Strict readers (the verifier's) ----------------------------------------------------------------


def terms_from_payload(item: JsonValue) -> RailTerms:
    """The rail terms an item of ``withdrawal.fees_set`` names; ``PayloadError`` if none."""
    p = record(item, TERMS_FIELDS)
    raw_tiers = p["tiers"]
    if not isinstance(raw_tiers, list):
        raise PayloadError("tiers is not a list")
    tiers = []
    for raw in raw_tiers:
        t = record(raw, _TIER_FIELDS)
        tiers.append(FeeTier(integer(t, "up_to_minor"), integer(t, "fee_minor")))
    schedule = FeeSchedule(
        tuple(tiers), integer(p, "above_fixed_minor"), integer(p, "above_bps"),
        text(p, "above_base"), integer(p, "cap_minor"),
    )  # fmt: skip
    return RailTerms(
        text(p, "rail"), text(p, "asset"), schedule, integer(p, "minimum_minor"),
        integer(p, "timeout_seconds"), text(p, "settlement_account"), text(p, "fee_account"),
    )  # fmt: skip


def request_fields(payload: Mapping[str, JsonValue]) -> tuple[str, str, str, str, int, int, str]:
    """``(withdrawal_id, creditor, rail, asset, amount_minor, fee_minor, beneficiary)``."""
    p = record(dict(payload), REQUEST_FIELDS)
    return (
        text(p, "withdrawal_id"), text(p, "creditor"), text(p, "rail"), text(p, "asset"),
        integer(p, "amount_minor"), integer(p, "fee_minor"), text(p, "beneficiary"),
    )  # fmt: skip


def settle_fields(payload: Mapping[str, JsonValue], second: str) -> tuple[str, str]:
    """``(withdrawal_id, <second>)`` of a confirmation (``rail_reference``) or failure
    (``reason``)."""
    p = record(dict(payload), frozenset({"withdrawal_id", second}))
    return text(p, "withdrawal_id"), text(p, second)


def destination_fields(payload: Mapping[str, JsonValue]) -> tuple[str, str, str, str]:
    """``(destination_id, creditor, rail, beneficiary)`` of ``destination.added``."""
    p = record(dict(payload), DESTINATION_FIELDS)
    return (text(p, "destination_id"), text(p, "creditor"), text(p, "rail"), text(p, "beneficiary"))


def destination_confirm_fields(payload: Mapping[str, JsonValue]) -> tuple[str, int]:
    """``(destination_id, cooling_off_seconds)`` of ``destination.confirmed``."""
    p = record(dict(payload), DESTINATION_CONFIRM_FIELDS)
    return text(p, "destination_id"), integer(p, "cooling_off_seconds")


def destination_remove_fields(payload: Mapping[str, JsonValue]) -> str:
    """``destination_id`` of ``destination.removed``."""
    return text(record(dict(payload), DESTINATION_REMOVE_FIELDS), "destination_id")
