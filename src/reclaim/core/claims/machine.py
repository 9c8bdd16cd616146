"""decide, check, evolve and the invariants of the claims core (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any, Final, get_args

from reclaim.core import limits
from reclaim.core.claims import onboarding, policy, register
from reclaim.core.claims.codes import CONFLICT_CODES, ClaimCode, ClaimsRejection, EventCode
from reclaim.core.claims.model import (
    APPROVED,
    HEX64_RE,
    KYC_REASONS,
    KYC_STATES,
    AmendClaims,
    ClaimsCommand,
    ClaimsState,
    CloseConflict,
    CreateEstate,
    DecideKyc,
    Decision,
    ImportClaims,
    LinkClaim,
    LinkOnReview,
    ProveEmail,
    RegisterRow,
    SetPolicy,
    SubmitKyc,
    UnlinkClaim,
)
from reclaim.core.claims.payloads import (
    CLAIM_LINKED,
    CLAIM_LINKED_ON_REVIEW,
    CLAIM_UNLINKED,
    CLAIMS_AMENDED,
    CLAIMS_EVENT_TYPES,
    CLAIMS_IMPORTED,
    CONFLICT_CLOSED,
    EMAIL_PROVED,
    ESTATE_CREATED,
    KYC_DECIDED,
    KYC_SUBMITTED,
    LINK_CONFLICT,
    POLICY_SET,
)
from reclaim.core.limits import (
    email_proofs_per_creditor_max,
    links_per_creditor_max,
    policy_history_max,
)
from reclaim.core.payload_fields import malformed_as
from reclaim.core.times import event_time, is_time
from reclaim.core.types import JsonValue

# decide -----------------------------------------------------------------------------------------

_Decide = Callable[[ClaimsState, Any], Decision | ClaimsRejection]
#: Command type → the event type its signer is authorised as, and the rungs that decide it.
_DECIDES: Final[dict[type, tuple[str, _Decide]]] = {
    CreateEstate: (ESTATE_CREATED, register.decide_estate),
    ImportClaims: (CLAIMS_IMPORTED, register.decide_import),
    AmendClaims: (CLAIMS_AMENDED, register.decide_amend),
    SetPolicy: (POLICY_SET, policy.decide_policy),
    ProveEmail: (EMAIL_PROVED, onboarding.decide_proof),
    SubmitKyc: (KYC_SUBMITTED, onboarding.decide_submit),
    DecideKyc: (KYC_DECIDED, onboarding.decide_decision),
    LinkClaim: (CLAIM_LINKED, onboarding.decide_link),  # a link may instead record a conflict
    LinkOnReview: (CLAIM_LINKED_ON_REVIEW, onboarding.decide_review_link),
    UnlinkClaim: (CLAIM_UNLINKED, onboarding.decide_unlink),
    CloseConflict: (CONFLICT_CLOSED, onboarding.decide_close),
}
assert set(_DECIDES) == set(get_args(ClaimsCommand)), "every claims command has its rungs"
#: Command type → the event type its signer is authorised as (the machine's probe).
EVENT_OF: Final[dict[type, str]] = {kind: event for kind, (event, _) in _DECIDES.items()}


def decide_claims(
    state: ClaimsState, command: ClaimsCommand, now: datetime | str
) -> Decision | ClaimsRejection:
    """The events ``command`` implies at ``now`` (a time, or its event-time text), or why not.

    Does not change ``state``: apply the events with ``evolve_claims`` at the same time. Every
    event it returns passes ``check_claims`` against ``state`` (the tests assert it). A
    ``Decision`` whose result is not ``accepted`` is a refusal recorded by its event (a link
    conflict); a ``Decision`` without events is a command already satisfied (``exists``).
    """
    event_time(now)  # asserted well-formed; no claims rung reads it
    _, decide = _DECIDES[type(command)]
    return decide(state, command)


# check ------------------------------------------------------------------------------------------

_Check = Callable[[ClaimsState, Mapping[str, JsonValue]], ClaimsRejection | None]
_CHECKS: Final[dict[str, _Check]] = {
    ESTATE_CREATED: register.check_estate,
    CLAIMS_IMPORTED: register.check_import,
    CLAIMS_AMENDED: register.check_amend,
    POLICY_SET: policy.check_policy,
    EMAIL_PROVED: onboarding.check_proof,
    KYC_SUBMITTED: onboarding.check_submit,
    KYC_DECIDED: onboarding.check_decision,
    CLAIM_LINKED: onboarding.check_link,
    CLAIM_LINKED_ON_REVIEW: onboarding.check_review_link,
    LINK_CONFLICT: onboarding.check_conflict,
    CLAIM_UNLINKED: onboarding.check_unlink,
    CONFLICT_CLOSED: onboarding.check_close,
}
assert set(_CHECKS) == set(CLAIMS_EVENT_TYPES), "every claims event type has a check"


@malformed_as(partial(ClaimsRejection, EventCode.payload_malformed, None))
def check_claims(
    state: ClaimsState, event_type: str, payload: Mapping[str, JsonValue], time: str
) -> ClaimsRejection | None:
    """The first reason a logged claims event may not follow ``state`` at ``time``, or None.

    The verifier runs this on replay, so an event the ladder would refuse — a claim imported
    twice, a stale amendment, a KYC approval out of turn, a link without an e-mail proof, a
    conflict the ladder does not reproduce, a malformed payload — is detected before
    ``evolve_claims``. (Event time is not read by any rung; it is an argument for symmetry with
    the ledger and for rungs to come.)
    """
    assert is_time(time), f"{time!r} is not an event time"
    check = _CHECKS.get(event_type)
    if check is None:
        return ClaimsRejection(EventCode.event_type_unknown, None, repr(event_type))
    return check(state, payload)


# evolve -----------------------------------------------------------------------------------------


def evolve_claims(
    state: ClaimsState, event_type: str, payload: Mapping[str, JsonValue], time: str
) -> None:
    """Apply a checked claims event (logged at ``time``) to ``state`` in place."""
    p: Mapping[str, object] = payload
    match event_type:
        case "claims.imported":
            register.evolve_import(state, p)
        case "claims.amended":
            register.evolve_amend(state, p)
        case "estate.created":
            register.evolve_estate(state, p, time)
        case "jurisdiction.policy_set":
            policy.evolve_policy(state, p, time)
        case "creditor.email_proved":
            onboarding.evolve_proof(state, p, time)
        case "kyc.submitted" | "kyc.decided":
            onboarding.evolve_kyc(state, event_type, p, time)
        case "claim.linked" | "claim.linked_on_review":
            onboarding.evolve_link(state, p, time)
        case "claim.link_conflict":
            onboarding.evolve_conflict(state, p, time)
        case "claim.unlinked":
            onboarding.evolve_unlink(state, p)
        case "claim.conflict_closed":
            onboarding.evolve_close(state, p)
        case _:  # pragma: no cover - check_claims refuses unknown types first
            raise AssertionError(f"evolve_claims: unhandled event type {event_type}")


# invariants -------------------------------------------------------------------------------------


def assert_claims_invariants(state: ClaimsState) -> None:
    """Every invariant, recomputed from scratch: O(claims + creditors + policy entries).

    A failure is a bug in reclaim, never a user error.
    """
    index: dict[str, list[str]] = {}
    links: dict[str, set[str]] = {}
    totals = dict.fromkeys(state.estates, 0)
    for ident, c in state.claims.items():
        assert ident == c.id, ident
        estate = state.estates.get(c.estate_id)
        assert estate is not None, f"{ident}: estate {c.estate_id}"
        assert register.row_code(RegisterRow(*c[:8]), estate.classes) is ClaimCode.ok, c
        assert c.register_id in estate.registers, f"{ident}: register {c.register_id}"
        index.setdefault(c.email_commitment, []).append(ident)
        totals[c.estate_id] += c.admitted_minor
        if c.linked_creditor is not None:
            links.setdefault(c.linked_creditor, set()).add(ident)
            assert is_time(c.linked_at), f"{ident}: linked_at {c.linked_at!r}"
        else:
            assert c.linked_at == "", ident
    kept_index = {e: sorted(state.claims_of_email(e)) for e in state.by_email}
    assert kept_index == {e: sorted(ids) for e, ids in index.items()}, "e-mail index out of step"
    assert all(len(ids) == len(set(ids)) for ids in kept_index.values()), "an id twice in the index"
    assert links == state.links, "the links index is out of step with the claims"
    assert all(len(held) <= links_per_creditor_max for held in links.values()), "too many links"
    assert totals == state.totals, "estate totals are out of step with the claims"
    assert all(0 <= t <= limits.integer_max for t in totals.values()), "a total beyond BIGINT"
    for iso, history in state.policy.items():
        assert 0 < len(history) <= policy_history_max, iso
        assert all(r.entry.iso == iso and is_time(r.set_at) for r in history), iso
    for creditor, record in state.kyc.items():
        _assert_kyc(creditor, record.state, record.reason, record.name_commitment)
        assert record.creditor == creditor, creditor
    for creditor, proofs in state.proofs.items():
        assert 0 < len(proofs) <= email_proofs_per_creditor_max, creditor
        # A proof stays when an amendment later moves its claim to another address.
        assert all(HEX64_RE.fullmatch(e) and is_time(t) for e, t in proofs.items()), creditor
    for (claim_id, creditor), conflict in state.conflicts.items():
        assert (conflict.claim_id, conflict.creditor) == (claim_id, creditor), claim_id
        assert claim_id in state.claims, f"conflict on unknown claim {claim_id}"
        assert conflict.code in {c.name for c in CONFLICT_CODES}, conflict.code
        linked = state.claims[claim_id].linked_creditor
        assert linked != creditor, f"conflict of {creditor} on a claim linked to it"


def _assert_kyc(creditor: str, kyc_state: str, reason: str, name_commitment: str) -> None:
    assert kyc_state in KYC_STATES, creditor
    assert kyc_state != "not_started", creditor
    if kyc_state == APPROVED:
        assert not reason, creditor
        assert HEX64_RE.fullmatch(name_commitment), creditor
    else:
        assert not name_commitment, creditor
        assert (reason in KYC_REASONS) == (kyc_state != "pending"), creditor
