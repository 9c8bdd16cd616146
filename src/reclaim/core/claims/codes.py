"""The claims core's answers: ordered result codes, one enum per validation ladder.

As in ``reclaim.core.ledger.codes``, codes are ordered by **precedence**: when a command is wrong
in several ways, its ladder returns the code that comes first in its enum. The values are that
order; they are published (API answers, verifier reports), so a new code is inserted with a
value between its neighbours' and no value is ever reused. Each code reads as a sentence about
the command (``claim_already_linked``, ``kyc_not_approved``).

| enum          | ladder of                                                           |
| ------------- | ------------------------------------------------------------------- |
| ``EventCode`` | a whole command or logged event (type, shape, batch size)           |
| ``EstateCode``| ``estate.created``                                                  |
| ``ClaimCode`` | each claim of ``claims.imported``, each amendment of                |
|               | ``claims.amended``, each row of a register (``plan_register_import``)|
| ``PolicyCode``| each entry of ``jurisdiction.policy_set``                           |
| ``ProofCode`` | ``creditor.email_proved``                                           |
| ``KycCode``   | ``kyc.submitted`` and ``kyc.decided``                               |
| ``LinkCode``  | ``claim.linked``, ``claim.linked_on_review``, ``claim.link_conflict``,|
|               | ``claim.unlinked``, ``claim.conflict_closed``                       |

Some answers accept a command without an event (``ACCEPTED``): the thing asked for is already
so (``exists``, ``link_exists``), and the answer says it, like the ledger's ``exists``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from reclaim.core.domain import CodedRejection
from reclaim.core.kinds import B, C, Kind, N, kind_table


class EventCode(enum.Enum):
    """Why a whole command or a logged event is refused (not one item of it)."""

    ok = 0
    #: The event type is not a claims event type.
    event_type_unknown = 1
    #: The payload does not have the shape of its type (missing or extra fields, wrong types,
    #: integers that are not canonical decimal text, lists that are not sorted where they must
    #: be, an empty batch).
    payload_malformed = 2
    #: A command or an event with more items than its named bound.
    batch_too_large = 3


class EstateCode(enum.Enum):
    """The answer to creating an estate, in precedence order."""

    ok = 0
    estate_id_malformed = 1
    estate_exists = 2
    #: The name is empty, too long, not printable, padded with spaces or not in Unicode NFC.
    name_invalid = 3
    #: Not a ``YYYY-MM-DD`` calendar date.
    petition_date_invalid = 4
    #: No class, or more than ``classes_per_estate_max``.
    classes_count_out_of_range = 5
    class_code_malformed = 6
    class_code_duplicated = 7
    class_name_invalid = 8
    class_priority_out_of_range = 9
    #: The convenience class is not one of the estate's classes.
    convenience_class_unknown = 10
    #: Negative, beyond BIGINT, or not zero when the estate has no convenience class.
    convenience_threshold_out_of_range = 11
    consensus_rate_out_of_range = 12
    interest_method_unknown = 13
    day_count_unknown = 14


class ClaimCode(enum.Enum):
    """The answer for one claim (import), one amendment, or one row of a register."""

    ok = 0
    # The register (the whole command).
    estate_not_found = 1
    register_id_malformed = 2
    # The item on its own.
    claim_id_malformed = 10
    #: An amendment names a field that cannot be amended.
    amendment_field_unknown = 11
    customer_code_malformed = 12
    email_commitment_malformed = 13
    holder_commitment_malformed = 14
    #: Not an officially assigned ISO 3166-1 alpha-2 code.
    jurisdiction_unknown = 15
    #: Not one of the estate's claim classes.
    class_unknown = 16
    #: Negative, beyond BIGINT, or not an integer.
    amount_out_of_range = 17
    status_unknown = 18
    # The item against its batch and the state.
    #: The claim id appears twice in one register or one event.
    claim_id_duplicated = 20
    #: The same field of the same claim is amended twice in one event.
    amendment_duplicated = 21
    #: An amendment names a claim that is not in the register.
    claim_not_found = 22
    #: The claim id belongs to another estate (claim ids are unique across estates).
    claim_in_other_estate = 23
    #: An import names a claim that is in the register already (amend it instead).
    claim_exists = 24
    #: The amendment's ``old`` is not the claim's current value (a stale amendment).
    amendment_old_value_mismatch = 25
    amendment_changes_nothing = 26
    #: The e-mail or holder commitment of a claim that is linked to a creditor would change:
    #: the operator unlinks it first.
    linked_claim_identity_change = 27
    #: The estate's admitted total would exceed BIGINT (every report sum then fits).
    estate_total_exceeds_bigint = 28


class PolicyCode(enum.Enum):
    """The answer for one jurisdiction policy entry, in precedence order."""

    ok = 0
    iso_unknown = 1
    status_unknown = 2
    reason_invalid = 3
    source_invalid = 4
    effective_date_invalid = 5
    #: A rail name that is not ``[a-z0-9][a-z0-9_-]{0,31}``, or more than ``rails_per_entry_max``.
    rail_malformed = 6
    #: A sanctioned jurisdiction can be served by no payout rail.
    sanctioned_with_rails = 7
    #: Two entries for the same jurisdiction and effective date in one command or event.
    entry_duplicated = 8
    #: The identical entry (every field) is the one set last for its jurisdiction and
    #: effective date: nothing to change.
    exists = 9
    #: The jurisdiction's history holds ``policy_history_max`` entries already.
    history_full = 10


class ProofCode(enum.Enum):
    """The answer to recording that a creditor proved an e-mail address."""

    ok = 0
    creditor_name_invalid = 1
    email_commitment_malformed = 2
    #: No claim of any estate has this e-mail commitment.
    email_matches_no_claim = 3
    #: The creditor proved this e-mail already (the first proof stands).
    exists = 4
    email_proofs_per_creditor_exceeded = 5


class KycCode(enum.Enum):
    """The answer to a KYC submission or decision, in precedence order."""

    ok = 0
    creditor_name_invalid = 1
    #: A decision to a state other than approved, rejected, resubmission_requested.
    kyc_state_unknown = 2
    provider_malformed = 3
    reference_malformed = 4
    #: A rejection or resubmission request without a reason of ``KYC_REASONS``.
    reason_unknown = 5
    #: An approval with a reason.
    reason_not_expected = 6
    #: An approval without a well-formed verified-name commitment.
    name_commitment_malformed = 7
    #: A decision other than approval with a name commitment.
    name_commitment_not_expected = 8
    #: Not a transition of the KYC table (``onboarding.KYC_TRANSITIONS``).
    kyc_transition_invalid = 9
    #: A decision names another case (provider, reference) than the creditor's open one.
    kyc_case_mismatch = 10


class LinkCode(enum.Enum):
    """The answer to linking, unlinking and conflict records, in precedence order."""

    ok = 0
    creditor_name_invalid = 1
    claim_id_malformed = 2
    reason_invalid = 3
    #: A recorded conflict whose code is not one that is recorded (``CONFLICT_CODES``).
    conflict_code_unknown = 4
    claim_not_found = 10
    #: The claim is linked to this creditor already (the first link stands).
    link_exists = 11
    #: Unlinking a claim that is not linked.
    claim_not_linked = 12
    #: The event names a holder other than the creditor the claim is linked to.
    linked_to_other_creditor = 13
    #: Closing a conflict that is not open.
    conflict_not_found = 14
    #: Recording a conflict that is open already.
    conflict_exists = 15
    #: An expunged claim is owed nothing and is linked to no one.
    claim_expunged = 20
    #: The creditor has not proved the e-mail address of the claim's old account.
    email_not_proved = 21
    kyc_not_approved = 22
    #: The claim is linked to another creditor (recorded as a conflict for the operator).
    claim_already_linked = 23
    #: The creditor's verified name is not the claim holder's (recorded as a conflict: the case
    #: goes to manual review, where a KYC officer may link on review).
    kyc_name_mismatch = 24
    links_per_creditor_exceeded = 25
    #: A recorded conflict that the linking ladder does not reproduce on replay.
    conflict_not_reproduced = 26


ClaimsCode = EventCode | EstateCode | ClaimCode | PolicyCode | ProofCode | KycCode | LinkCode

#: Answers that accept a command: ``ok``, or already so with nothing to change.
ACCEPTED: Final[frozenset[ClaimsCode]] = frozenset(
    {
        EventCode.ok,
        EstateCode.ok,
        ClaimCode.ok,
        PolicyCode.ok,
        PolicyCode.exists,
        ProofCode.ok,
        ProofCode.exists,
        KycCode.ok,
        LinkCode.ok,
        LinkCode.link_exists,
    }
)
#: Link refusals the core records as a ``claim.link_conflict`` event for the operator's queue.
CONFLICT_CODES: Final[frozenset[LinkCode]] = frozenset(
    {LinkCode.claim_already_linked, LinkCode.kyc_name_mismatch}
)


class ClaimsRejection(CodedRejection[ClaimsCode]):
    """A refused command or logged event: the code, which item (if one), and why."""

    __slots__ = ()


#: The kind of every refusal (``reclaim.core.kinds``: what the API maps to a status, once).
KINDS: Final[Mapping[ClaimsCode, Kind]] = kind_table(
    (
        EventCode,
        EstateCode,
        ClaimCode,
        PolicyCode,
        ProofCode,
        KycCode,
        LinkCode,
    ),
    {
        EventCode.event_type_unknown: B,
        EventCode.payload_malformed: B,
        EventCode.batch_too_large: B,
        EstateCode.estate_id_malformed: B,
        EstateCode.estate_exists: C,
        EstateCode.name_invalid: B,
        EstateCode.petition_date_invalid: B,
        EstateCode.classes_count_out_of_range: B,
        EstateCode.class_code_malformed: B,
        EstateCode.class_code_duplicated: C,
        EstateCode.class_name_invalid: B,
        EstateCode.class_priority_out_of_range: B,
        EstateCode.convenience_class_unknown: B,
        EstateCode.convenience_threshold_out_of_range: B,
        EstateCode.consensus_rate_out_of_range: B,
        EstateCode.interest_method_unknown: B,
        EstateCode.day_count_unknown: B,
        ClaimCode.estate_not_found: N,
        ClaimCode.register_id_malformed: B,
        ClaimCode.claim_id_malformed: B,
        ClaimCode.amendment_field_unknown: B,
        ClaimCode.customer_code_malformed: B,
        ClaimCode.email_commitment_malformed: B,
        ClaimCode.holder_commitment_malformed: B,
        ClaimCode.jurisdiction_unknown: B,
        ClaimCode.class_unknown: B,
        ClaimCode.amount_out_of_range: B,
        ClaimCode.status_unknown: B,
        ClaimCode.claim_id_duplicated: C,
        ClaimCode.amendment_duplicated: C,
        ClaimCode.claim_not_found: N,
        ClaimCode.claim_in_other_estate: C,
        ClaimCode.claim_exists: C,
        ClaimCode.amendment_old_value_mismatch: C,
        ClaimCode.amendment_changes_nothing: B,
        ClaimCode.linked_claim_identity_change: C,
        ClaimCode.estate_total_exceeds_bigint: C,
        PolicyCode.iso_unknown: B,
        PolicyCode.status_unknown: B,
        PolicyCode.reason_invalid: B,
        PolicyCode.source_invalid: B,
        PolicyCode.effective_date_invalid: B,
        PolicyCode.rail_malformed: B,
        PolicyCode.sanctioned_with_rails: C,
        PolicyCode.entry_duplicated: C,
        PolicyCode.history_full: C,
        ProofCode.creditor_name_invalid: B,
        ProofCode.email_commitment_malformed: B,
        ProofCode.email_matches_no_claim: C,
        ProofCode.email_proofs_per_creditor_exceeded: C,
        KycCode.creditor_name_invalid: B,
        KycCode.kyc_state_unknown: B,
        KycCode.provider_malformed: B,
        KycCode.reference_malformed: B,
        KycCode.reason_unknown: B,
        KycCode.reason_not_expected: B,
        KycCode.name_commitment_malformed: B,
        KycCode.name_commitment_not_expected: B,
        KycCode.kyc_transition_invalid: C,
        KycCode.kyc_case_mismatch: C,
        LinkCode.creditor_name_invalid: B,
        LinkCode.claim_id_malformed: B,
        LinkCode.reason_invalid: B,
        LinkCode.conflict_code_unknown: B,
        LinkCode.claim_not_found: N,
        LinkCode.claim_not_linked: C,
        LinkCode.linked_to_other_creditor: C,
        LinkCode.conflict_not_found: N,
        LinkCode.conflict_exists: C,
        LinkCode.claim_expunged: C,
        LinkCode.email_not_proved: C,
        LinkCode.kyc_not_approved: C,
        LinkCode.claim_already_linked: C,
        LinkCode.kyc_name_mismatch: C,
        LinkCode.links_per_creditor_exceeded: C,
        LinkCode.conflict_not_reproduced: C,
    },
    ACCEPTED,
)
