"""Onboarding: e-mail proofs, KYC as a state machine, and linking claims to creditors.

KYC, as a table (h11 style; rows: the creditor's state, columns: what happens; an empty cell is
``kyc_transition_invalid``). ``submit`` is ``kyc.submitted`` (the creditor opens a case with a
provider: the gateway or the creditor signs); the other columns are ``kyc.decided`` on the open
case (a KYC officer, or a hosted provider's webhook, signs):

| state                  | submit  | approved | rejected | resubmission_requested |
| ---------------------- | ------- | -------- | -------- | ---------------------- |
| not_started            | pending |          |          |                        |
| pending                |         | approved | rejected | resubmission_requested |
| approved               |         |          | rejected | resubmission_requested |
| rejected               |         |          |          | resubmission_requested |
| resubmission_requested | pending |          |          |                        |

An approval carries the commitment of the verified name and no reason; a rejection or a
resubmission request carries a reason code (``KYC_REASONS``, which the portal translates for the
creditor) and no name. ``rejected`` is final unless an officer asks for a resubmission;
``approved`` may be revoked (``rejected``) or sent back (``resubmission_requested``) — links
made while approved stay, and what they allow (withdrawals, notes) checks KYC again.

Linking ladder (``LinkCode`` order): the claim exists; it is not linked to this creditor already
(``link_exists``: accepted, nothing to do); it is not expunged; the creditor proved the claim's
e-mail; the creditor's KYC is approved; the claim is not linked to someone else
(``claim_already_linked``); the verified name's commitment is the holder's
(``kyc_name_mismatch``); the creditor holds fewer than ``links_per_creditor_max`` claims. The
two conflicts are recorded (``claim.link_conflict``) for the operator's queue, once per (claim,
creditor) while open: two creditors who proved the same e-mail both pass the proof, and the
second to link is refused and recorded; a name mismatch goes to manual review, where a KYC officer
may link on review (``claim.linked_on_review``: every rung but the name). A successful link
closes the creditor's conflict on that claim; the operator closes others with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar

from reclaim.core.claims.codes import (
    CONFLICT_CODES,
    ClaimsRejection,
    KycCode,
    LinkCode,
    ProofCode,
)
from reclaim.core.claims.model import (
    APPROVED,
    CLAIM_ID_RE,
    CREDITOR_RE,
    EXPUNGED,
    HEX64_RE,
    KYC_REASONS,
    NOT_STARTED,
    PENDING,
    PROVIDER_RE,
    REFERENCE_RE,
    REJECTED,
    RESUBMISSION_REQUESTED,
    ClaimsState,
    CloseConflict,
    Conflict,
    DecideKyc,
    Decision,
    Kyc,
    LinkClaim,
    LinkOnReview,
    ProveEmail,
    Result,
    SubmitKyc,
    UnlinkClaim,
    is_text,
)
from reclaim.core.claims.payloads import (
    CLAIM_LINKED,
    CLAIM_LINKED_ON_REVIEW,
    CLAIM_UNLINKED,
    CONFLICT_CLOSED,
    EMAIL_PROVED,
    KYC_DECIDED,
    KYC_SUBMITTED,
    LINK_CONFLICT,
    texts,
)
from reclaim.core.limits import claims_name_length_max_chars as name_length_max_chars
from reclaim.core.limits import email_proofs_per_creditor_max, links_per_creditor_max
from reclaim.core.payload_fields import field_names, fields_payload
from reclaim.core.types import JsonValue

_L = LinkCode
_K = KycCode
#: The ``submit`` column of the KYC table.
SUBMIT: Final = "submit"
#: The KYC table: state -> {what happens -> next state}.
KYC_TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    NOT_STARTED: {SUBMIT: PENDING},
    PENDING: {
        APPROVED: APPROVED,
        REJECTED: REJECTED,
        RESUBMISSION_REQUESTED: RESUBMISSION_REQUESTED,
    },
    APPROVED: {REJECTED: REJECTED, RESUBMISSION_REQUESTED: RESUBMISSION_REQUESTED},
    REJECTED: {RESUBMISSION_REQUESTED: RESUBMISSION_REQUESTED},
    RESUBMISSION_REQUESTED: {SUBMIT: PENDING},
}
#: States a decision may move to.
DECISIONS: Final = frozenset({APPROVED, REJECTED, RESUBMISSION_REQUESTED})
_CONFLICT_NAMES: Final = frozenset(c.name for c in CONFLICT_CODES)


# creditor.email_proved --------------------------------------------------------------------------


def decide_proof(state: ClaimsState, command: ProveEmail) -> Decision | ClaimsRejection:
    code = proof_code(state, command.creditor, command.email_commitment)
    result = (Result(0, command.email_commitment, code),)
    if code is ProofCode.exists:
        return Decision([], result)
    if code is not ProofCode.ok:
        return ClaimsRejection(code, None, f"creditor {command.creditor!r}")
    payload: dict[str, JsonValue] = {
        "creditor": command.creditor,
        "email_commitment": command.email_commitment,
    }
    return Decision([(EMAIL_PROVED, payload)], result)


def check_proof(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    creditor, email = texts(payload, ("creditor", "email_commitment"))
    code = proof_code(state, creditor, email)
    return None if code is ProofCode.ok else ClaimsRejection(code, None, f"creditor {creditor!r}")


def proof_code(state: ClaimsState, creditor: str, email: str) -> ProofCode:
    if CREDITOR_RE.fullmatch(creditor) is None:
        return ProofCode.creditor_name_invalid
    if HEX64_RE.fullmatch(email) is None:
        return ProofCode.email_commitment_malformed
    if email not in state.by_email:
        return ProofCode.email_matches_no_claim
    proved = state.proofs.get(creditor, {})
    if email in proved:
        return ProofCode.exists
    if len(proved) >= email_proofs_per_creditor_max:
        return ProofCode.email_proofs_per_creditor_exceeded
    return ProofCode.ok


def evolve_proof(state: ClaimsState, payload: Mapping[str, Any], time: str) -> None:
    creditor = payload["creditor"]
    state.proofs.setdefault(creditor, {})[payload["email_commitment"]] = time
    state.changed.add("email_proof/" + creditor)


# kyc.submitted and kyc.decided ------------------------------------------------------------------


def decide_submit(state: ClaimsState, command: SubmitKyc) -> Decision | ClaimsRejection:
    c = command
    code = submit_code(state, c.creditor, c.provider, c.reference)
    return _decided(code, KYC_SUBMITTED, c, f"creditor {c.creditor!r}")


def check_submit(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    c = _command_of(SubmitKyc, payload)
    code = submit_code(state, c.creditor, c.provider, c.reference)
    return _kyc_refused(code, c.creditor)


def submit_code(state: ClaimsState, creditor: str, provider: str, reference: str) -> KycCode:
    if CREDITOR_RE.fullmatch(creditor) is None:
        return _K.creditor_name_invalid
    if PROVIDER_RE.fullmatch(provider) is None:
        return _K.provider_malformed
    if REFERENCE_RE.fullmatch(reference) is None:
        return _K.reference_malformed
    if SUBMIT not in KYC_TRANSITIONS[state.kyc_state(creditor)]:
        return _K.kyc_transition_invalid
    return _K.ok


def decide_decision(state: ClaimsState, command: DecideKyc) -> Decision | ClaimsRejection:
    code = decision_code(state, command)
    return _decided(code, KYC_DECIDED, command, f"creditor {command.creditor!r}")


def check_decision(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    command = _command_of(DecideKyc, payload)
    return _kyc_refused(decision_code(state, command), command.creditor)


def decision_code(state: ClaimsState, d: DecideKyc) -> KycCode:
    if CREDITOR_RE.fullmatch(d.creditor) is None:
        return _K.creditor_name_invalid
    if d.state not in DECISIONS:
        return _K.kyc_state_unknown
    if PROVIDER_RE.fullmatch(d.provider) is None:
        return _K.provider_malformed
    if REFERENCE_RE.fullmatch(d.reference) is None:
        return _K.reference_malformed
    approval = d.state == APPROVED
    if not approval and d.reason not in KYC_REASONS:
        return _K.reason_unknown
    if approval and d.reason:
        return _K.reason_not_expected
    if approval and HEX64_RE.fullmatch(d.name_commitment) is None:
        return _K.name_commitment_malformed
    if not approval and d.name_commitment:
        return _K.name_commitment_not_expected
    record = state.kyc.get(d.creditor)
    if d.state not in KYC_TRANSITIONS[state.kyc_state(d.creditor)]:
        return _K.kyc_transition_invalid
    assert record is not None, "only not_started has no record, and it has no decision"
    if (d.provider, d.reference) != (record.provider, record.reference):
        return _K.kyc_case_mismatch
    return _K.ok


def _kyc_refused(code: KycCode, creditor: str) -> ClaimsRejection | None:
    return None if code is _K.ok else ClaimsRejection(code, None, f"creditor {creditor!r}")


def evolve_kyc(state: ClaimsState, event_type: str, payload: Mapping[str, Any], time: str) -> None:
    p = payload
    creditor = p["creditor"]
    if event_type == KYC_SUBMITTED:
        record = Kyc(creditor, PENDING, "", "", p["provider"], p["reference"], time)
    else:
        record = Kyc(
            creditor, p["state"], p["reason"], p["name_commitment"], p["provider"],
            p["reference"], time,
        )  # fmt: skip
    state.kyc[creditor] = record
    state.changed.add("kyc/" + creditor)


# Linking ----------------------------------------------------------------------------------------


def link_code(state: ClaimsState, claim_id: str, creditor: str, *, review: bool) -> LinkCode:
    """The linking ladder (the module docstring); ``review`` skips the name rung."""
    code = _names(claim_id, creditor)
    if code is not _L.ok:
        return code
    claim = state.claims.get(claim_id)
    if claim is None:
        return _L.claim_not_found
    if claim.linked_creditor == creditor:
        return _L.link_exists
    if claim.status == EXPUNGED:
        return _L.claim_expunged
    if claim.email_commitment not in state.proofs.get(creditor, {}):
        return _L.email_not_proved
    kyc = state.kyc.get(creditor)
    if kyc is None or kyc.state != APPROVED:
        return _L.kyc_not_approved
    if claim.linked_creditor is not None:
        return _L.claim_already_linked
    if not review and kyc.name_commitment != claim.holder_commitment:
        return _L.kyc_name_mismatch
    if len(state.links.get(creditor, ())) >= links_per_creditor_max:
        return _L.links_per_creditor_exceeded
    return _L.ok


def decide_link(state: ClaimsState, command: LinkClaim) -> Decision | ClaimsRejection:
    claim_id, creditor = command.claim_id, command.creditor
    code = link_code(state, claim_id, creditor, review=False)
    result = (Result(0, claim_id, code),)
    if code is _L.ok:
        return Decision([(CLAIM_LINKED, {"claim_id": claim_id, "creditor": creditor})], result)
    if code is _L.link_exists:
        return Decision([], result)
    detail = f"claim {claim_id!r}, creditor {creditor!r}"
    if code not in CONFLICT_CODES:
        return ClaimsRejection(code, None, detail)
    if (claim_id, creditor) in state.conflicts:
        return ClaimsRejection(code, None, detail + " (conflict open already)")
    holder = state.claims[claim_id].linked_creditor or ""
    payload: dict[str, JsonValue] = {
        "claim_id": claim_id,
        "creditor": creditor,
        "code": code.name,
        "holder": holder,
    }
    return Decision([(LINK_CONFLICT, payload)], result)


def decide_review_link(state: ClaimsState, command: LinkOnReview) -> Decision | ClaimsRejection:
    c = command
    code = review_link_code(state, c.claim_id, c.creditor, c.reason)
    result = (Result(0, c.claim_id, code),)
    if code is _L.link_exists:
        return Decision([], result)
    return _decided(code, CLAIM_LINKED_ON_REVIEW, c, _claim_creditor(c), result)


def review_link_code(state: ClaimsState, claim_id: str, creditor: str, reason: str) -> LinkCode:
    code = _forms(claim_id, creditor, reason)
    return code if code is not _L.ok else link_code(state, claim_id, creditor, review=True)


def check_link(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    claim_id, creditor = texts(payload, ("claim_id", "creditor"))
    return _refused(link_code(state, claim_id, creditor, review=False), claim_id)


def check_review_link(
    state: ClaimsState, payload: Mapping[str, JsonValue]
) -> ClaimsRejection | None:
    c = _command_of(LinkOnReview, payload)
    return _refused(review_link_code(state, c.claim_id, c.creditor, c.reason), c.claim_id)


def check_conflict(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    claim_id, creditor, code, holder = texts(payload, ("claim_id", "creditor", "code", "holder"))
    found = _names(claim_id, creditor)
    if found is _L.ok and code not in _CONFLICT_NAMES:
        found = _L.conflict_code_unknown
    claim = state.claims.get(claim_id)
    if found is _L.ok and claim is None:
        found = _L.claim_not_found
    if found is not _L.ok:
        return ClaimsRejection(found, None, f"claim {claim_id!r}")
    assert claim is not None
    if holder != (claim.linked_creditor or ""):
        return ClaimsRejection(_L.linked_to_other_creditor, None, f"holder {holder!r}")
    if (claim_id, creditor) in state.conflicts:
        return ClaimsRejection(_L.conflict_exists, None, f"claim {claim_id!r}, {creditor!r}")
    answer = link_code(state, claim_id, creditor, review=False)
    if answer.name != code:
        return ClaimsRejection(_L.conflict_not_reproduced, None, f"the ladder says {answer.name}")
    return None


def evolve_link(state: ClaimsState, payload: Mapping[str, Any], time: str) -> None:
    claim_id, creditor = payload["claim_id"], payload["creditor"]
    claim = state.claims[claim_id]
    state.claims[claim_id] = claim._replace(linked_creditor=creditor, linked_at=time)
    state.links.setdefault(creditor, set()).add(claim_id)
    state.changed.add("claim/" + claim_id)
    if state.conflicts.pop((claim_id, creditor), None) is not None:
        state.changed.add(f"link_conflict/{claim_id}/{creditor}")


def evolve_conflict(state: ClaimsState, payload: Mapping[str, Any], time: str) -> None:
    claim_id, creditor = payload["claim_id"], payload["creditor"]
    state.conflicts[(claim_id, creditor)] = Conflict(
        claim_id, creditor, payload["code"], payload["holder"], time
    )
    state.changed.add(f"link_conflict/{claim_id}/{creditor}")


# claim.unlinked and claim.conflict_closed -------------------------------------------------------


def decide_unlink(state: ClaimsState, command: UnlinkClaim) -> Decision | ClaimsRejection:
    claim = state.claims.get(command.claim_id)
    holder = "" if claim is None or claim.linked_creditor is None else claim.linked_creditor
    code = unlink_code(state, command.claim_id, holder, command.reason, expected=None)
    if code is not _L.ok:
        return ClaimsRejection(code, None, f"claim {command.claim_id!r}")
    payload: dict[str, JsonValue] = {
        "claim_id": command.claim_id,
        "creditor": holder,
        "reason": command.reason,
    }
    return Decision([(CLAIM_UNLINKED, payload)])


def check_unlink(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    claim_id, creditor, reason = texts(payload, ("claim_id", "creditor", "reason"))
    return _refused(unlink_code(state, claim_id, creditor, reason, expected=creditor), claim_id)


def unlink_code(
    state: ClaimsState, claim_id: str, creditor: str, reason: str, *, expected: str | None
) -> LinkCode:
    """``expected``: the creditor a logged event says it unlinks (``None`` when deciding)."""
    if expected is not None and CREDITOR_RE.fullmatch(expected) is None:
        return _L.creditor_name_invalid
    if CLAIM_ID_RE.fullmatch(claim_id) is None:
        return _L.claim_id_malformed
    if not is_text(reason, name_length_max_chars):
        return _L.reason_invalid
    claim = state.claims.get(claim_id)
    if claim is None:
        return _L.claim_not_found
    if claim.linked_creditor is None:
        return _L.claim_not_linked
    if expected is not None and claim.linked_creditor != expected:
        return _L.linked_to_other_creditor
    return _L.ok


def evolve_unlink(state: ClaimsState, payload: Mapping[str, Any]) -> None:
    claim_id, creditor = payload["claim_id"], payload["creditor"]
    claim = state.claims[claim_id]
    state.claims[claim_id] = claim._replace(linked_creditor=None, linked_at="")
    held = state.links[creditor]
    held.discard(claim_id)
    if not held:
        del state.links[creditor]
    state.changed.add("claim/" + claim_id)


def decide_close(state: ClaimsState, command: CloseConflict) -> Decision | ClaimsRejection:
    c = command
    code = close_code(state, c.claim_id, c.creditor, c.reason)
    return _decided(code, CONFLICT_CLOSED, c, _claim_creditor(c))


def check_close(state: ClaimsState, payload: Mapping[str, JsonValue]) -> ClaimsRejection | None:
    c = _command_of(CloseConflict, payload)
    return _refused(close_code(state, c.claim_id, c.creditor, c.reason), c.claim_id)


def close_code(state: ClaimsState, claim_id: str, creditor: str, reason: str) -> LinkCode:
    code = _forms(claim_id, creditor, reason)
    if code is _L.ok and (claim_id, creditor) not in state.conflicts:
        return _L.conflict_not_found
    return code


def evolve_close(state: ClaimsState, payload: Mapping[str, Any]) -> None:
    claim_id, creditor = payload["claim_id"], payload["creditor"]
    del state.conflicts[(claim_id, creditor)]
    state.changed.add(f"link_conflict/{claim_id}/{creditor}")


def _names(claim_id: str, creditor: str) -> LinkCode:
    if CREDITOR_RE.fullmatch(creditor) is None:
        return _L.creditor_name_invalid
    if CLAIM_ID_RE.fullmatch(claim_id) is None:
        return _L.claim_id_malformed
    return _L.ok


def _forms(claim_id: str, creditor: str, reason: str) -> LinkCode:
    code = _names(claim_id, creditor)
    if code is _L.ok and not is_text(reason, name_length_max_chars):
        return _L.reason_invalid
    return code


def _refused(code: LinkCode, claim_id: str) -> ClaimsRejection | None:
    """A logged event must change something: ``link_exists`` is a refusal on replay."""
    return None if code is _L.ok else ClaimsRejection(code, None, f"claim {claim_id!r}")


# One event of text fields -----------------------------------------------------------------------

#: A command whose fields, all text, are its event's payload (``SubmitKyc``, ``DecideKyc``,
#: ``LinkOnReview``, ``CloseConflict``).
_TextCommand = TypeVar("_TextCommand", SubmitKyc, DecideKyc, LinkOnReview, CloseConflict)


def _decided(
    code: KycCode | LinkCode,
    event_type: str,
    command: SubmitKyc | DecideKyc | LinkOnReview | CloseConflict,
    subject: str,
    results: tuple[Result, ...] = (),
) -> Decision | ClaimsRejection:
    """``command`` as the payload of one ``event_type`` event if ``code`` is ``ok``, else its
    refusal about ``subject``."""
    if code is not _K.ok and code is not _L.ok:
        return ClaimsRejection(code, None, subject)
    return Decision([(event_type, fields_payload(command))], results)


def _command_of(kind: type[_TextCommand], payload: Mapping[str, JsonValue]) -> _TextCommand:
    """The command a logged event's payload records (exactly the command's fields, each text)."""
    return kind(*texts(payload, field_names(kind)))


def _claim_creditor(c: LinkOnReview | CloseConflict) -> str:
    return f"claim {c.claim_id!r}, creditor {c.creditor!r}"
