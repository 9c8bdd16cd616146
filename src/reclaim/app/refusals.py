"""One refusal type for every application service, its code always an enum member.

A service answers a refusal as ``Refused(code, detail)``: ``code`` is the most specific code there
is, and never text — a sub-domain's own ordered code out of the core's ``Rejection``
(``refused``), the shell's ``rejections.Code``, or one of the codes the services themselves
invent (``OnboardingCode``, ``WithdrawalServiceCode``, ``NotesServiceCode``, ``PortalCode``; the
rails' ``BeneficiaryCode`` lives with their port). Every code has exactly one ``Kind``
(``reclaim.core.kinds``), looked up by ``kind_of`` in ``KINDS``: the union of every domain's
table (``Domain.kinds``) and the services' own. The API maps a kind to an HTTP status once
(``entrypoints.api.problems.refused_error``); a code's problem+json ``code`` is its name.

Adding a code: add the member to its enum and its kind to that enum's table (the import fails
otherwise), and ``tests/tidy/test_refusal_kinds.py`` shows its status.

Imported by the services, the API and the web portal.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from reclaim.app.withdrawal_ports import BENEFICIARY_KINDS
from reclaim.core.kinds import B, C, F, Kind, N, U, kind_table
from reclaim.core.machine import DOMAINS
from reclaim.core.rejections import Rejection


class OnboardingCode(enum.Enum):
    """Refusals the onboarding service decides itself (before or beside the core)."""

    email_invalid = 1
    password_invalid = 2
    public_key_invalid = 3
    #: The sign-up or key addition did not prove possession of the new key (issue 9).
    possession_not_proved = 4
    #: The code is wrong, expired, used or burnt (the answer does not say which).
    code_invalid = 5
    #: The address has an account already: add the key from it.
    creditor_exists = 6
    provider_unknown = 7
    kyc_case_not_found = 8
    kyc_case_mismatch = 9
    #: An approval must name the verified person.
    verified_name_missing = 10
    #: The hosted KYC provider's session API did not answer (down, timed out, 5xx, 429).
    kyc_provider_unavailable = 11
    #: It refused reclaim's request (4xx: credentials, configuration) or answered something
    #: else than a session of its own origin.
    kyc_provider_refused = 12
    #: A webhook's session is not the one the named creditor's case was opened with.
    kyc_session_mismatch = 13


class WithdrawalServiceCode(enum.Enum):
    """Refusals the withdrawal service decides itself (rails, destinations, exports)."""

    rail_unknown = 1
    rail_not_configured = 2
    amount_out_of_range = 3
    destination_rail_mismatch = 4
    #: The creditor has no KYC-verified name to pay to.
    verified_name_missing = 5
    #: The creditor has no proved e-mail address to confirm a destination with.
    email_not_on_file = 6
    destination_not_found = 7
    destination_removed = 8
    #: A destination's confirmation code (``ports.CodeVerdict``): wrong, expired, burnt.
    code_invalid = 9
    code_expired = 10
    code_attempts_exhausted = 11
    nothing_to_export = 12


class NotesServiceCode(enum.Enum):
    """Refusals the notes service decides itself (before or beside the core)."""

    #: The series' holding entity is not a registered actor and no key was given for it.
    holding_entity_unknown = 1
    #: The actor named as holding entity has another role.
    holding_entity_role = 2
    series_not_found = 3
    round_not_found = 4
    #: The round's lines are not all executed: what it paid is not final.
    round_not_completed = 5
    #: No event dated after the record date is logged yet: the record position is not known.
    record_date_not_passed = 6
    #: The log's first event is dated after the record date: nothing was held at it.
    record_date_before_log = 7
    #: A log position that is negative or not in the log yet.
    position_out_of_range = 8


_NOTES_SERVICE_KINDS: Final = kind_table(
    (NotesServiceCode,),
    {
        NotesServiceCode.holding_entity_unknown: N,
        NotesServiceCode.holding_entity_role: C,
        NotesServiceCode.series_not_found: N,
        NotesServiceCode.round_not_found: N,
        NotesServiceCode.round_not_completed: C,
        NotesServiceCode.record_date_not_passed: C,
        NotesServiceCode.record_date_before_log: C,
        NotesServiceCode.position_out_of_range: B,
    },
)


class PortalCode(enum.Enum):
    """Refusals the web portal's account service decides itself (``app.web_accounts``)."""

    document_type_unsupported = 1
    document_size_invalid = 2
    #: The console's round desk (``app.web_operator.RoundDesk``): the round changed since the
    #: preview the treasurer approves; the lines to execute are no longer the approved ones;
    #: the round is not approved; the round cannot be computed or executed (no plan, FX rate).
    preview_changed = 3
    lines_changed = 4
    round_not_approved = 5
    round_cannot_be_previewed = 6
    round_cannot_be_executed = 7
    #: The rail cannot write its batch file: its settings (SEPA debtor, wire correspondent) are
    #: missing from the server's configuration.
    batch_file_unavailable = 8


_PORTAL_KINDS: Final = kind_table(
    (PortalCode,),
    {
        PortalCode.document_type_unsupported: B,
        PortalCode.document_size_invalid: B,
        PortalCode.preview_changed: C,
        PortalCode.lines_changed: C,
        PortalCode.round_not_approved: C,
        PortalCode.round_cannot_be_previewed: C,
        PortalCode.round_cannot_be_executed: C,
        PortalCode.batch_file_unavailable: U,
    },
)
_ONBOARDING_KINDS: Final = kind_table(
    (OnboardingCode,),
    {
        OnboardingCode.email_invalid: B,
        OnboardingCode.password_invalid: B,
        OnboardingCode.public_key_invalid: B,
        OnboardingCode.possession_not_proved: B,
        OnboardingCode.code_invalid: B,
        OnboardingCode.creditor_exists: C,
        OnboardingCode.provider_unknown: B,
        OnboardingCode.kyc_case_not_found: N,
        OnboardingCode.kyc_case_mismatch: C,
        OnboardingCode.verified_name_missing: B,
        OnboardingCode.kyc_provider_unavailable: U,
        OnboardingCode.kyc_provider_refused: U,
        OnboardingCode.kyc_session_mismatch: C,
    },
)
_WITHDRAWAL_SERVICE_KINDS: Final = kind_table(
    (WithdrawalServiceCode,),
    {
        WithdrawalServiceCode.rail_unknown: B,
        WithdrawalServiceCode.rail_not_configured: U,
        WithdrawalServiceCode.amount_out_of_range: B,
        WithdrawalServiceCode.destination_rail_mismatch: B,
        WithdrawalServiceCode.verified_name_missing: F,
        WithdrawalServiceCode.email_not_on_file: F,
        WithdrawalServiceCode.destination_not_found: N,
        WithdrawalServiceCode.destination_removed: C,
        WithdrawalServiceCode.code_invalid: F,
        WithdrawalServiceCode.code_expired: F,
        WithdrawalServiceCode.code_attempts_exhausted: F,
        WithdrawalServiceCode.nothing_to_export: C,
    },
)


def _joined(*tables: Mapping[Any, Kind]) -> dict[enum.Enum, Kind]:
    joined: dict[enum.Enum, Kind] = {}
    for table in tables:
        joined.update(table)
    return joined


#: Every code enum's kind table, joined: code member → kind.
KINDS: Final[Mapping[enum.Enum, Kind]] = _joined(
    *(domain.kinds for domain in DOMAINS),
    BENEFICIARY_KINDS,
    _ONBOARDING_KINDS,
    _WITHDRAWAL_SERVICE_KINDS,
    _PORTAL_KINDS,
    _NOTES_SERVICE_KINDS,
)


def kind_of(code: enum.Enum) -> Kind:
    """The kind of a refusal's code (``KeyError`` for an accepting answer: a bug)."""
    return KINDS[code]


@dataclass(frozen=True, slots=True)
class Refused:
    """A service's refusal: the most specific code (an enum member) and a sentence."""

    code: enum.Enum
    detail: str

    @property
    def kind(self) -> Kind:
        return kind_of(self.code)

    @property
    def name(self) -> str:
        """The code's stable name (the API's problem ``code``)."""
        return self.code.name


def refused(rejection: Rejection) -> Refused:
    """The core's refusal as a service's: its most specific code, and its own sentence."""
    return Refused(rejection.specific, rejection.reason_detail or rejection.detail)
