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
#: What can lift an escrow, by its reason.
ESCROW_LIFT: Final[Mapping[str, str]] = {
    "disputed": N_("The estate resolves the dispute; the amount is then paid to you."),
    "unlinked": N_("Pass the identity check and link the claim on this page."),
    "kyc_deadline_missed": N_(
        "The identity check was not completed in time: contact the operator about your escrow."
    ),
    "kyc_pending": N_("Finish the identity check: once it is approved, the next round pays you."),
    "restricted": N_(
        "Prove that you now live in an open jurisdiction, object successfully, or convert "
        "the claim into recovery notes."
    ),
    "sanctioned": N_(
        "Payments are not allowed while the sanctions apply; the escrow is kept for you."
    ),
    "releasable": N_("Nothing more is needed: the escrow will be released to you."),
    "unclassified": N_("The estate has no distribution plan yet."),
}
KYC_STATE: Final[Mapping[str, str]] = {
    "not_started": N_("Not started"),
    "pending": N_("Waiting for review"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "resubmission_requested": N_("A new document is needed"),
}
WITHDRAWAL_STATUS: Final[Mapping[str, str]] = {
    "requested": N_("Being sent"),
    "confirmed": N_("Paid"),
    "failed": N_("Failed (funds returned)"),
    "expired": N_("Expired (funds returned)"),
}
DESTINATION_STATUS: Final[Mapping[str, str]] = {
    "pending": N_("Waiting for the code from your e-mail"),
    "cooling_off": N_("Confirmed, usable soon"),
    "active": N_("Ready"),
    "removed": N_("Removed"),
}
RAIL: Final[Mapping[str, str]] = {
    "sepa": N_("SEPA bank transfer (EUR)"),
    "hk_wire": N_("Hong Kong USD wire"),
    "usdc": N_("USDC address"),
}
NOTICE: Final[Mapping[str, str]] = {
    "kyc": N_("Your document was received. An officer will review it."),
    "linked": N_("The claim is linked to you."),
    "elected": N_("Your payout currency is recorded."),
    "confirmed": N_("The destination is confirmed."),
    "requested": N_("Your withdrawal was requested."),
}
#: Refusals a creditor may meet, by code; any other shows ``REFUSED_OTHER`` with its code.
REFUSAL: Final[Mapping[str, str]] = {
    "passwords_differ": N_("The two passwords are not the same."),
    "email_invalid": N_("This is not an e-mail address."),
    "password_invalid": N_("A password has at least 8 characters."),
    "code_refused": N_(
        "This code is not right, has expired or was already used. Check the e-mail, or "
        "sign up again for a new code."
    ),
    "rate_limited": N_("Too many attempts. Wait a few minutes and try again."),
    "rate_limited_key_works": N_(
        "Too many attempts with short codes. The long confirmation key from the e-mail still works."
    ),
    "creditor_exists": N_("This address already has an account. Log in instead."),
    "key_in_use": N_("This sign-up cannot be used. Please start again."),
    "login_refused": N_("The e-mail address or the password is not right."),
    "liability_not_in_statement": N_(
        "Your balance is not in a signed statement yet. The next statement will include it."
    ),
    "nothing_to_export": N_("No withdrawal is waiting on this rail."),
    "batch_file_unavailable": N_(
        "This rail cannot write its file: its settings are missing on the server."
    ),
    "document_missing": N_("Choose a file to upload."),
    "document_type_unsupported": N_("The document must be a JPEG, PNG or PDF file."),
    "document_size_invalid": N_("The document is too large: at most 5 MB."),
    "kyc_transition_invalid": N_("Your identity check is already open or decided."),
    "kyc_not_approved": N_("Your identity check must be approved before you link a claim."),
    "email_not_proved": N_("This claim belongs to another e-mail address."),
    "claim_already_linked": N_(
        "This claim is linked to someone else. The operator will review it."
    ),
    "kyc_name_mismatch": N_(
        "The name on your document does not match the claim. The operator will review it."
    ),
    "payout_elected_already": N_("Your payout currency was already chosen; it cannot change."),
    "asset_unknown": N_("Choose one of the currencies offered."),
    "rail_unknown": N_("Choose one of the ways to be paid."),
    "iban_invalid": N_("This IBAN is not valid."),
    "not_in_sepa_zone": N_("This account is not in the SEPA zone."),
    "bic_invalid": N_("This BIC is not valid."),
    "account_invalid": N_("This account number is not valid."),
    "address_invalid": N_("This address is not valid."),
    "address_not_checksummed": N_("Write the address with its checksum (mixed case)."),
    "address_not_allowed": N_("This address is not on the allowed list."),
    "beneficiary_field_missing": N_("Fill in the account."),
    "email_not_on_file": N_("We have no proved e-mail address for you."),
    "code_invalid": N_("This code is not right."),
    "code_expired": N_("This code has expired. Add the destination again for a new code."),
    "code_attempts_exhausted": N_(
        "Too many wrong codes. Add the destination again for a new code."
    ),
    "destination_not_found": N_("Choose one of your destinations."),
    "destination_removed": N_("This destination was removed."),
    "destination_not_confirmed": N_(
        "Confirm the destination with the code from your e-mail first."
    ),
    "destination_cooling_off": N_("A new destination can be used after its waiting time."),
    "amount_invalid": N_("Write the amount as a plain number, for example 250.00."),
    "amount_out_of_range": N_("The amount must be more than zero."),
    "amount_below_minimum": N_("The amount is below the minimum of this way of payment."),
    "insufficient_funds": N_("Your balance is not enough for this amount and its fee."),
    "fee_mismatch": N_("The fee changed since it was shown. Ask for the fee again."),
    "rail_not_allowed": N_("This way of payment is not allowed for your jurisdiction."),
    "rail_not_configured": N_("This way of payment is not open yet."),
    "verified_name_missing": N_("Your identity check must be approved first."),
    "rail_funds_insufficient": N_(
        "This way of payment cannot pay out right now. Please try again later."
    ),
    "open_withdrawals_exceeded": N_("Wait until your open withdrawals are paid."),
    "destinations_exceeded": N_("You have too many destinations. Remove one first."),
}
REFUSED_OTHER: Final = N_("The request was refused (%(code)s).")
#: Chart rows beyond the largest few are summed into one.
OTHERS: Final = N_("Other jurisdictions")


def label(labels: Mapping[str, str], code: str) -> str:
    return labels.get(code, code)
