"""The words of the portal that come from data (status codes, reasons), marked for extraction.

A template shows ``_(CLAIM_STATUS[code])``: the English label is the message id, translated at
render time. ``N_`` only marks a string for Babel (``make catalogues`` extracts with ``-k N_``);
a code without a label is shown as the code itself (``label``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final


def N_(message: str) -> str:  # noqa: N802 - the conventional name of gettext_noop
    return message


CLAIM_STATUS: Final[Mapping[str, str]] = {
    "scheduled": N_("Scheduled"),
    "filed": N_("Filed"),
    "allowed": N_("Allowed"),
    "disputed": N_("Disputed"),
    "expunged": N_("Expunged"),
}
POLICY_STATUS: Final[Mapping[str, str]] = {
    "open": N_("Open"),
    "restricted": N_("Restricted"),
    "sanctioned": N_("Sanctioned"),
    "unlisted": N_("Not listed"),
}
ESCROW_REASON: Final[Mapping[str, str]] = {
    "disputed": N_("Claim disputed"),
    "unlinked": N_("Claim not yet linked to a verified creditor"),
    "kyc_deadline_missed": N_("Identity check not completed by the deadline"),
    "kyc_pending": N_("Identity check pending"),
    "restricted": N_("Restricted jurisdiction"),
    "sanctioned": N_("Sanctioned jurisdiction"),
    "releasable": N_("Cleared, waiting for release"),
    "unclassified": N_("Estate without a distribution plan"),
}
ROUND_STATE: Final[Mapping[str, str]] = {
    "declared": N_("Declared"),
    "approved": N_("Approved"),
    "executing": N_("Being paid"),
    "completed": N_("Completed"),
}
#: Chart rows beyond the largest few are summed into one.
OTHERS: Final = N_("Other jurisdictions")


def label(labels: Mapping[str, str], code: str) -> str:
    return labels.get(code, code)
