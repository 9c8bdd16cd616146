"""The demo's web logins: one per console role (admin, KYC officer, treasury, auditor) and one
onboarded creditor.

Demo passwords only: they are printed by ``reclaim demo`` and live in the demo's own vault; a real
programme gives each operator a login with ``WebAccounts.set_operator_password`` from a password
the operator chose. A creditor gets one by signing up at ``/signup`` with the e-mail of a claim
and the code mailed to it; the demo's creditor (``give_creditor_login``) goes through exactly
that — ``WebAccounts.sign_up``, the code e-mail (delivered to the demo's recording mailbox: the
demo's addresses are not real), ``verify_code`` — then the KYC officer approves the identity
check with the register's holder name and the claim is linked, as on the portal. The claim is
the first one (by id) that is allowed, unlinked, alone on its address and in an open
jurisdiction (France): the creditor sees the escrow its missed rounds left and what lifts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from reclaim import bootstrap
from reclaim.adapters.mail import RecordingMailSender, deliver_due
from reclaim.app.claims_import import CLAIM_SUBJECT_PREFIX, EMAIL_FIELD, HOLDER_NAME_FIELD
from reclaim.app.onboarding import Decided, KycOpened, Linked, Verified
from reclaim.app.web_accounts import AUDITOR, WebAccounts, WebSignUp

#: Console logins: (actor, role, demo password). The auditor reads and signs nothing.
OPERATORS: Final = (
    ("admin", "admin", "demo-admin-password"),
    ("kyc-officer", "kyc_officer", "demo-kyc-officer-password"),
    ("treasury", "treasury", "demo-treasury-password"),
    ("auditor", AUDITOR, "demo-auditor-password"),
)
CREDITOR_PASSWORD: Final = "demo-creditor-password"  # noqa: S105 - printed by the demo
#: The jurisdiction of the demo creditor's claim (open: paid, not escrowed, once linked).
CREDITOR_JURISDICTION: Final = "FR"
_CLIENT: Final = "demo"
_CODE_RE: Final = re.compile(r"^\s*([0-9]{4}) ([0-9]{4})\s*$", re.MULTILINE)


class DemoLoginFailed(Exception):
    """The demo creditor could not be onboarded (a bug of the demo or of onboarding)."""


@dataclass(frozen=True, slots=True)
class Login:
    role: str
    login: str  # the actor's name, or the creditor's e-mail
    password: str
    path: str  # where to log in


def give_logins(container: bootstrap.Container) -> list[Login]:
    """Give each console role a web login, and one creditor; the logins, to print."""
    wiring = container.onboarding
    if wiring is None:
        return []
    accounts = WebAccounts(wiring.service, container.log)
    logins = []
    for actor, role, password in OPERATORS:
        accounts.set_operator_password(actor, role, password)
        logins.append(Login(role, actor, password, "/operator/login"))
    creditor = give_creditor_login(container, accounts)
    if creditor is not None:
        logins.append(creditor)
    return logins


def give_creditor_login(container: bootstrap.Container, accounts: WebAccounts) -> Login | None:
    """Sign a register holder up on the web, prove the address with the mailed code, approve
    the identity check and link the claim (see the module doc); ``None`` without such a claim."""
    wiring = container.onboarding
    assert wiring is not None, "give_logins checks"
    service = wiring.service
    state = container.log.state
    claims = state.claims
    found = next(
        (c for _, c in sorted(claims.claims.items())
         if c.status == "allowed" and not c.linked_creditor
         and c.jurisdiction == CREDITOR_JURISDICTION
         and claims.claims_of_email(c.email_commitment) == (c.id,)),
        None,
    )  # fmt: skip
    if found is None:
        return None
    pii = service.vault.get(CLAIM_SUBJECT_PREFIX + found.id, [EMAIL_FIELD, HOLDER_NAME_FIELD])
    email, name = pii.text(EMAIL_FIELD), pii.text(HOLDER_NAME_FIELD)
    signed = accounts.sign_up(email, CREDITOR_PASSWORD, "en", _CLIENT)
    if not isinstance(signed, WebSignUp):
        raise DemoLoginFailed(f"sign-up: {signed}")
    mailbox = RecordingMailSender()
    deliver_due(service.outbox, mailbox, service.clock.now())
    code = next((m.group(1) + m.group(2) for mail in mailbox.sent if mail.to_address == email
                 for m in [_CODE_RE.search(mail.body)] if m), None)  # fmt: skip
    if code is None:
        raise DemoLoginFailed("no code e-mail")
    verified = service.verify_code(email, code, _CLIENT, signed.public_key)
    if not isinstance(verified, Verified) or not verified.email_proved:
        raise DemoLoginFailed(f"code: {verified}")
    creditor = verified.creditor
    for step in (
        lambda: service.submit_kyc(creditor, "manual"),
        lambda: service.decide_kyc("kyc-officer", creditor, "approved", "", name),
        lambda: service.link(creditor, found.id),
    ):
        done = step()
        if not isinstance(done, (KycOpened, Decided, Linked)):
            raise DemoLoginFailed(f"onboarding: {done}")
    return Login("creditor", email, CREDITOR_PASSWORD, "/login")
