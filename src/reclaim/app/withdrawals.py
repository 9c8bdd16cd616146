"""The withdrawal service: requests with the destination in the vault, batch files, reconciliation.

Theory of operation
-------------------
1. ``request(creditor, rail, amount_minor, destination)``: the rail checks the destination
   (``Rail.check_beneficiary``: IBAN, account and BIC, or an allow-listed EIP-55 address) and
   normalises it; its commitment (``BeneficiaryCommitments``, an HMAC) is what enters the log;
   the destination itself goes to the PII vault under ``beneficiary:<commitment>`` (with the
   rail and a masked form to show), **before** the request is logged, so no logged withdrawal
   lacks its destination (a refused request leaves a vault record nobody points to — harmless,
   and erasable). Then ``RequestWithdrawal`` is submitted, signed by the portal gateway for the
   creditor; the core decides everything else (KYC, jurisdiction and rail, fee, funds).
   The withdrawal id is ``W`` + 32 hex: derived from ``(creditor, client id)`` when the client
   gives an id (Backpack's ``clientId``), so a retried request is the same request (``exists``),
   else random.
2. ``export_batch(rail, execution_date)``: the rail's requested, unexpired withdrawals that no
   batch holds yet, oldest first, become one batch file (``Rail.batch_file``) with the
   destinations from the vault and the creditors' KYC-verified names (``creditor:<name>`` →
   ``verified_name``, stored by onboarding). The ids are recorded in the ``BatchBook`` before the
   file is returned, so no withdrawal is ever put in two files: a file lost after that is never
   paid, and its withdrawals expire and give the funds back (the safe direction).
3. ``reconcile(lines)``: the statement's lines are matched by reference
   (``core.withdrawals.reconcile``); ``matched`` lines confirm their withdrawals (the rail
   reference is the bank's, else the end-to-end id), ``returned`` lines fail them with the
   return reason; everything else is reported, never acted on.
4. ``confirm``, ``fail`` (treasury), ``sweep`` (the ledger's expiry), ``set_terms`` (admin),
   ``quote`` (the fee a request would pay), ``views`` (what a creditor or operator reads).
5. Destinations (issue 9, finding 7: a second factor on the money path). A withdrawal goes only
   to a destination the creditor's proved e-mail confirmed, after its cooling-off (the core's
   rule, ``reclaim.core.withdrawals``). ``add_destination(creditor, rail, destination)``: the
   rail checks and normalises the destination, the vault keeps it under its commitment, the
   gateway signs ``destination.added`` (the commitment only), then a one-time code
   (``CodeStore``, purpose ``withdrawal_destination``, subject the destination id) is mailed
   to the address in the creditor's vault record (``creditor:<name>`` → ``email``, which
   onboarding stores once the sign-up code came back from it: the proved address), in its
   language, with the masked destination, so the owner sees what is being added. Adding a
   pending destination again mails a new code (the old one is void); a confirmed one is left
   as it is. ``confirm_destination(creditor, id, code)``: the destination must be the
   creditor's — another creditor's id is ``destination_not_found``, checked before the code so
   no one can spend someone else's attempts — then the code store's verdict (``code_invalid``,
   ``code_expired``, ``code_attempts_exhausted``: a code works once, five wrong guesses burn
   it), then the gateway signs ``destination.confirmed`` with ``cooling_off_seconds`` (the
   setting, default 24 h). ``remove_destination``, ``destinations`` (the creditor's, with the
   status a person reads: ``pending``, ``cooling_off``, ``active``, ``removed``).
   This stops an attacker who holds the creditor's signing key but not its mailbox: they can
   add their IBAN, but not confirm it; and a creditor whose mailbox is taken too has the
   cooling-off to notice the mail and have the destination removed (an admin may).

Answers are values: ``Requested``, ``Settled``, ``Reconciliation``, ``Refused(code, detail)``
(``code`` is the core's — ``insufficient_funds``, ``rail_not_allowed``… — or the rail's —
``iban_invalid``, ``address_not_allowed``… — or the service's: ``rail_unknown``,
``verified_name_missing``, ``nothing_to_export``, ``destination_not_found``,
``email_not_on_file``, ``code_invalid``, ``code_expired``, ``code_attempts_exhausted``).
Operating errors are the ports' exceptions (``VaultError``, ``RailFileError``,
``BatchBookError``, the store's).
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from reclaim.app.log_service import Accepted, LogService
from reclaim.app.ports import Clock, CodeStore, CodeVerdict, Outbox, SubjectNotFound, Vault
from reclaim.app.refusals import Refused as Refused
from reclaim.app.refusals import WithdrawalServiceCode, refused
from reclaim.app.withdrawal_ports import (
    BatchBook,
    Beneficiary,
    BeneficiaryCommitments,
    BeneficiaryProblem,
    PayoutInstruction,
    Rail,
    RailFile,
)
from reclaim.core.events import format_time
from reclaim.core.ledger import ExpirePending
from reclaim.core.limits import withdrawal_batch_size_max, withdrawal_views_page_max
from reclaim.core.machine import State
from reclaim.core.rejections import Rejection
from reclaim.core.withdrawals import (
    DESTINATION_CONFIRMED,
    DESTINATION_PENDING,
    RAIL_ASSETS,
    REQUESTED,
    AddDestination,
    ConfirmDestination,
    ConfirmWithdrawal,
    Destination,
    FailWithdrawal,
    RailTerms,
    RemoveDestination,
    RequestWithdrawal,
    SetFees,
    Withdrawal,
    destination_cooling_off_default_seconds,
    destination_id_of,
    fee_minor,
    status_of,
)
from reclaim.core.withdrawals.reconcile import (
    MATCHED,
    RETURNED,
    LineMatch,
    StatementLine,
    WithdrawalView,
    failure_reason,
    reconcile,
)

#: Hex digits of a derived or random withdrawal id: 128 bits, and ``W`` + 32 is within the
#: core's 35.
ID_HEX_DIGITS: Final = 32
#: The code store's purpose of destination codes (the subject is the destination id).
DESTINATION_CODE_PURPOSE: Final = "withdrawal_destination"
#: The outbox template of the destination e-mail (``reclaim.adapters.mail.DESTINATION_CODE``).
DESTINATION_TEMPLATE: Final = "destination_code"
#: How the e-mail names each rail (the same in every language).
RAIL_LABELS: Final = {"sepa": "SEPA", "hk_wire": "HK wire (USD)", "usdc": "USDC"}
#: Statuses of a destination as a person reads them (``DestinationView.status``).
PENDING: Final = "pending"  # added; waiting for the mailed code
COOLING_OFF: Final = "cooling_off"  # confirmed; usable from ``usable_from``
ACTIVE: Final = "active"  # confirmed, cooling-off over: withdrawals may go to it
REMOVED: Final = "removed"


@dataclass(frozen=True, slots=True)
class Requested:
    """An accepted request; ``seq`` is ``None`` when it had been accepted before (a retry)."""

    withdrawal_id: str
    fee_minor: int
    seq: int | None


@dataclass(frozen=True, slots=True)
class Settled:
    withdrawal_id: str
    status: str
    seq: int | None  # None: recorded before (a retry)


@dataclass(frozen=True, slots=True)
class Applied:
    """What reconciliation did for one statement line."""

    match: LineMatch
    outcome: Settled | Refused | None  # None: nothing to do (reported only)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    lines: tuple[Applied, ...]

    def count(self, kind: str) -> int:
        return sum(1 for a in self.lines if a.match.kind == kind)


@dataclass(frozen=True, slots=True)
class View:
    """A withdrawal as people read it (``status`` folds in the ledger's expiry)."""

    id: str
    creditor: str
    rail: str
    asset: str
    amount_minor: int
    fee_minor: int
    status: str
    requested_at: str
    expires_at: str
    settled_at: str
    rail_reference: str
    reason: str
    beneficiary: str  # the commitment, as the log has it
    destination: str = ""  # the masked destination, from the vault (``FR76 **** 0189``)


@dataclass(frozen=True, slots=True)
class DestinationView:
    """A creditor's withdrawal destination as people read it: ``destination`` is the masked
    account from the vault; ``status`` is ``pending``, ``cooling_off``, ``active`` or
    ``removed``."""

    id: str
    creditor: str
    rail: str
    asset: str
    status: str
    added_at: str
    confirmed_at: str
    usable_from: str
    removed_at: str
    beneficiary: str  # the commitment, as the log has it
    destination: str = ""


@dataclass(frozen=True, slots=True)
class DestinationAdded:
    """An added destination; ``mailed``: a confirmation code went to the creditor's address
    (not when it was confirmed already)."""

    view: DestinationView
    mailed: bool


@dataclass(frozen=True, slots=True)
class WithdrawalRules:
    """The actors that sign for the service (their keys are in the process's key ring)."""

    gateway: str = "gateway"
    treasury: str = "treasury"
    admin: str = "admin"


def withdrawal_id_for(creditor: str, client_id: str) -> str:
    """The withdrawal id of a client's own id: the same request retried is the same id."""
    digest = hashlib.sha256(f"reclaim/withdrawal/v1\x00{creditor}\x00{client_id}".encode())
    return "W" + digest.hexdigest()[:ID_HEX_DIGITS]


def new_withdrawal_id(request_key: bytes | None) -> str:
    """The id of a request without a client id: derived from ``request_key`` (the SHA-256 of
    the request's signature), so the same signed bytes are the same withdrawal and never a
    second one (issue 9, finding 6); random when there is no key (an operator's CLI)."""
    if request_key is None:
        return "W" + secrets.token_hex(ID_HEX_DIGITS // 2)
    digest = hashlib.sha256(b"reclaim/withdrawal/signed-request/v1\x00" + request_key)
    return "W" + digest.hexdigest()[:ID_HEX_DIGITS]


def beneficiary_subject(commitment: str) -> str:
    return f"beneficiary:{commitment}"


def creditor_subject(creditor: str) -> str:
    """Where onboarding keeps a creditor's PII (``verified_name``)."""
    return f"creditor:{creditor}"


@dataclass(slots=True)
class WithdrawalService:
    log: LogService
    vault: Vault
    commitments: BeneficiaryCommitments
    rails: Mapping[str, Rail]
    batches: BatchBook
    clock: Clock
    rules: WithdrawalRules = field(default_factory=WithdrawalRules)
    #: The id of a request without a client id, from its request key (``new_withdrawal_id``).
    new_id: Callable[[bytes | None], str] = new_withdrawal_id
    #: Destination codes (issue 9, finding 7) and the outbox that mails them.
    codes: CodeStore = field(kw_only=True)
    outbox: Outbox = field(kw_only=True)
    #: How long a confirmed destination waits before its first use (a setting).
    cooling_off_seconds: int = field(default=destination_cooling_off_default_seconds,
                                     kw_only=True)  # fmt: skip
    _export_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # Terms ----------------------------------------------------------------------------------

    def set_terms(self, terms: Sequence[RailTerms]) -> tuple[str, ...] | Refused:
        """Set rails' terms (signed by the admin); the answer per rail (``ok``, ``exists``)."""
        outcome = self.log.submit(SetFees(tuple(terms)), self.rules.admin)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return tuple(r.code.name for r in outcome.results)

    def quote(self, rail: str, amount_minor: int) -> int | Refused:
        """The fee a request of ``amount_minor`` through ``rail`` pays under the terms now."""
        record = self.log.read(lambda s: s.withdrawals.terms.get(rail))
        if record is None:
            return Refused(WithdrawalServiceCode.rail_not_configured, repr(rail))
        if amount_minor <= 0:
            return Refused(WithdrawalServiceCode.amount_out_of_range, "an amount is positive")
        return fee_minor(record.terms.schedule, amount_minor)

    # Requests -------------------------------------------------------------------------------

    def request(
        self,
        creditor: str,
        rail_name: str,
        amount_minor: int,
        destination: Mapping[str, str],
        *,
        client_id: str | None = None,
        fee_minor: int | None = None,
        request_key: bytes | None = None,
        destination_id: str | None = None,
    ) -> Requested | Refused:
        """``client_id`` (the client's idempotency key) or else ``request_key`` (the digest of
        the signed request) names the withdrawal: a retry is the same withdrawal. The
        destination is given in full (``destination``: the rail's fields) or as the id of one
        of the creditor's destinations (``destination_id``; ``destination`` then empty)."""
        rail = self.rails.get(rail_name)
        if rail is None:
            return Refused(WithdrawalServiceCode.rail_unknown, f"rails: {sorted(self.rails)}")
        if destination_id is not None:
            assert not destination, "a destination id or the destination's fields, not both"
            own = self._own_destination(creditor, destination_id)
            if isinstance(own, Refused):
                return own
            if own.rail != rail.name:
                return Refused(
                    WithdrawalServiceCode.destination_rail_mismatch,
                    f"the destination is {own.rail}'s",
                )
            beneficiary: str | Beneficiary = own.beneficiary
        else:
            checked = rail.check_beneficiary(destination)
            if isinstance(checked, BeneficiaryProblem):
                return Refused(checked.code, checked.detail)
            beneficiary = checked
        try:
            self.vault.get(creditor_subject(creditor), ["verified_name"]).text("verified_name")
        except (SubjectNotFound, KeyError):
            return Refused(
                WithdrawalServiceCode.verified_name_missing, "the creditor has no KYC-verified name"
            )
        ident = withdrawal_id_for(creditor, client_id) if client_id else self.new_id(request_key)
        if isinstance(beneficiary, str):
            commitment = beneficiary
        else:
            commitment = self.commitments.beneficiary(rail.name, beneficiary.canonical)
            fields = {**beneficiary.fields, "rail": rail.name, "masked": beneficiary.masked}
            self.vault.put(beneficiary_subject(commitment), fields, self.clock.now())
        command = RequestWithdrawal(
            ident, creditor, rail.name, rail.asset, amount_minor, commitment, fee_minor
        )
        outcome = self.log.submit(command, self.rules.gateway)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        fee = self.log.read(lambda s: s.withdrawals.withdrawals[ident].fee_minor)
        return Requested(ident, fee, _seq(outcome))

    # Destinations ---------------------------------------------------------------------------

    def add_destination(
        self, creditor: str, rail_name: str, destination: Mapping[str, str]
    ) -> DestinationAdded | Refused:
        """Add a destination (pending) and mail its confirmation code (module doc, 5)."""
        rail = self.rails.get(rail_name)
        if rail is None:
            return Refused(WithdrawalServiceCode.rail_unknown, f"rails: {sorted(self.rails)}")
        checked = rail.check_beneficiary(destination)
        if isinstance(checked, BeneficiaryProblem):
            return Refused(checked.code, checked.detail)
        try:
            contact = self.vault.get(creditor_subject(creditor), ["email", "locale"])
            contact.text("email")
        except (SubjectNotFound, KeyError):
            return Refused(
                WithdrawalServiceCode.email_not_on_file, "the creditor has no proved e-mail address"
            )
        commitment = self.commitments.beneficiary(rail.name, checked.canonical)
        fields = {**checked.fields, "rail": rail.name, "masked": checked.masked}
        self.vault.put(beneficiary_subject(commitment), fields, self.clock.now())
        outcome = self.log.submit(AddDestination(creditor, rail.name, commitment),
                                  self.rules.gateway)  # fmt: skip
        if isinstance(outcome, Rejection):
            return refused(outcome)
        ident = destination_id_of(creditor, rail.name, commitment)
        found = self.log.read(lambda s: s.withdrawals.destinations[ident])
        if found.status != DESTINATION_PENDING:  # confirmed before: nothing to confirm
            return DestinationAdded(self._destination_view(found), mailed=False)
        now = self.clock.now()
        issued = self.codes.issue(DESTINATION_CODE_PURPOSE, ident, now)
        locale = contact.fields.get("locale")
        payload = {
            "code": _readable(issued.code),
            "minutes": str(max(1, int((issued.expires_at - now).total_seconds()) // 60)),
            "destination": checked.masked,
            "rail": RAIL_LABELS.get(rail.name, rail.name),
            "hours": str(self.cooling_off_seconds // 3600),
        }
        self.outbox.enqueue(creditor_subject(creditor), "email", DESTINATION_TEMPLATE,
                            locale if isinstance(locale, str) and locale else "en", payload,
                            now)  # fmt: skip
        return DestinationAdded(self._destination_view(found), mailed=True)

    def confirm_destination(
        self, creditor: str, destination_id: str, code: str
    ) -> DestinationView | Refused:
        """Confirm the creditor's destination with the code mailed to it (module doc, 5)."""
        found = self._own_destination(creditor, destination_id)
        if isinstance(found, Refused):
            return found
        if found.status == DESTINATION_CONFIRMED:
            return self._destination_view(found)  # a retry: nothing to do, no code spent
        if found.status != DESTINATION_PENDING:
            return Refused(
                WithdrawalServiceCode.destination_removed, "add it again: a new code is mailed"
            )
        verdict = self.codes.check(DESTINATION_CODE_PURPOSE, destination_id, code,
                                   self.clock.now())  # fmt: skip
        if verdict is not CodeVerdict.accepted:
            return Refused(
                WithdrawalServiceCode[verdict.name],
                "ask for a new code by adding the destination again",
            )
        command = ConfirmDestination(destination_id, self.cooling_off_seconds)
        outcome = self.log.submit(command, self.rules.gateway)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return self._destination_view(self.log.read(lambda s: s.withdrawals.destinations[
            destination_id]))  # fmt: skip

    def remove_destination(
        self, creditor: str, destination_id: str, *, by: str | None = None
    ) -> DestinationView | Refused:
        """No more withdrawals to the creditor's destination (signed by the gateway, or by
        ``by``: an admin)."""
        found = self._own_destination(creditor, destination_id)
        if isinstance(found, Refused):
            return found
        outcome = self.log.submit(RemoveDestination(destination_id), by or self.rules.gateway)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return self._destination_view(self.log.read(lambda s: s.withdrawals.destinations[
            destination_id]))  # fmt: skip

    def destinations(self, creditor: str) -> list[DestinationView]:
        """The creditor's destinations, oldest first (removed ones too)."""
        found = self.log.read(
            lambda s: [
                s.withdrawals.destinations[i]
                for i in s.withdrawals.destinations_of.get(creditor, ())
            ]
        )
        return [self._destination_view(d) for d in found]  # fmt: skip

    def _own_destination(self, creditor: str, destination_id: str) -> Destination | Refused:
        found = self.log.read(lambda s: s.withdrawals.destinations.get(destination_id))
        if found is None or found.creditor != creditor:  # another's is not found, never shown
            return Refused(
                WithdrawalServiceCode.destination_not_found, "no such destination of yours"
            )
        return found

    def _destination_view(self, d: Destination) -> DestinationView:
        status = {DESTINATION_PENDING: PENDING, DESTINATION_CONFIRMED: ACTIVE}.get(
            d.status, REMOVED
        )
        if status == ACTIVE and format_time(self.clock.now()) < d.usable_from:
            status = COOLING_OFF
        return DestinationView(d.id, d.creditor, d.rail, RAIL_ASSETS[d.rail], status, d.added_at,
                               d.confirmed_at, d.usable_from, d.removed_at, d.beneficiary,
                               self._masked(d.beneficiary))  # fmt: skip

    # Settling -------------------------------------------------------------------------------

    def confirm(self, withdrawal_id: str, rail_reference: str) -> Settled | Refused:
        outcome = self.log.submit(ConfirmWithdrawal(withdrawal_id, rail_reference),
                                  self.rules.treasury)  # fmt: skip
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return Settled(withdrawal_id, "confirmed", _seq(outcome))

    def fail(self, withdrawal_id: str, reason: str) -> Settled | Refused:
        outcome = self.log.submit(FailWithdrawal(withdrawal_id, reason), self.rules.treasury)
        if isinstance(outcome, Rejection):
            return refused(outcome)
        return Settled(withdrawal_id, "failed", _seq(outcome))

    def sweep(self) -> int:
        """Expire the reservations past their deadline (the ledger's sweep); how many."""
        outcome = self.log.submit(ExpirePending(), self.rules.treasury)
        if isinstance(outcome, Rejection):  # pragma: no cover - the treasury may always sweep
            raise AssertionError(f"the sweep was refused: {outcome}")
        return len(outcome.results)

    # Batch files ----------------------------------------------------------------------------

    def export_batch(
        self,
        rail_name: str,
        execution_date: date,
        *,
        batch_id: str | None = None,
        limit: int = withdrawal_batch_size_max,
    ) -> RailFile | Refused:
        """One batch file of the rail's withdrawals waiting to be sent (see the module doc)."""
        assert 0 < limit <= withdrawal_batch_size_max, (
            f"a batch holds 1 … {withdrawal_batch_size_max}"
        )
        rail = self.rails.get(rail_name)
        if rail is None:
            return Refused(WithdrawalServiceCode.rail_unknown, f"rails: {sorted(self.rails)}")
        with self._export_lock:
            now = self.clock.now()
            time = format_time(now)
            due = self.log.read(lambda s: _waiting(s, rail_name, time))
            due = [w for w in due if self.batches.batch_of(w.id) is None][:limit]
            if not due:
                return Refused(
                    WithdrawalServiceCode.nothing_to_export, f"no {rail_name} withdrawal is waiting"
                )
            instructions = [self._instruction(w) for w in due]
            batch = batch_id or f"{rail_name.replace('_', '')}-{now:%Y%m%d%H%M%S}"
            made = rail.batch_file(batch, now, execution_date, instructions)
            self.batches.record(batch, [w.id for w in due], now)
            return made

    def _instruction(self, w: Withdrawal) -> PayoutInstruction:
        destination = self.vault.get(beneficiary_subject(w.beneficiary))
        name = self.vault.get(creditor_subject(w.creditor), ["verified_name"])
        fields = {k: destination.text(k) for k in destination.fields if k not in ("rail", "masked")}
        return PayoutInstruction(w.id, w.amount_minor, w.asset, name.text("verified_name"), fields)

    # Reconciliation -------------------------------------------------------------------------

    def reconcile(self, lines: Sequence[StatementLine]) -> Reconciliation:
        """Match a statement's lines and apply the matches (see the module doc)."""
        views = self.log.read(lambda s: _reconcile_views(s, {ln.reference for ln in lines}))
        applied: list[Applied] = []
        for match in reconcile(lines, views):
            outcome: Settled | Refused | None = None
            line = match.line
            if match.kind == MATCHED:
                outcome = self.confirm(match.withdrawal_id, line.bank_reference or line.reference)
            elif match.kind == RETURNED:
                outcome = self.fail(match.withdrawal_id, failure_reason(line.return_reason))
            applied.append(Applied(match, outcome))
        return Reconciliation(tuple(applied))

    # Reading --------------------------------------------------------------------------------

    def views(
        self, creditor: str | None = None, *, offset: int = 0, limit: int = 100
    ) -> list[View]:
        """Withdrawals, newest first (one creditor's, or everyone's for an operator)."""
        assert 0 < limit <= withdrawal_views_page_max
        assert offset >= 0
        found = self.log.read(lambda s: _views(s, creditor, offset, limit))
        return [dataclasses.replace(v, destination=self._masked(v.beneficiary)) for v in found]

    def view(self, withdrawal_id: str) -> View | None:
        found = self.log.read(lambda s: _view(s, withdrawal_id))
        if found is None:
            return None
        return dataclasses.replace(found, destination=self._masked(found.beneficiary))

    def _masked(self, commitment: str) -> str:
        try:
            return self.vault.get(beneficiary_subject(commitment), ["masked"]).text("masked")
        except (SubjectNotFound, KeyError):
            return ""


# Reading the state (under the log's lock) -------------------------------------------------------


def _waiting(state: State, rail: str, time: str) -> list[Withdrawal]:
    """The rail's requested withdrawals whose reservation is still open at ``time``."""
    ledger = state.ledger
    out = []
    for w in state.withdrawals.withdrawals.values():
        if w.rail != rail or w.status != REQUESTED or w.expires_at <= time:
            continue
        if status_of(state.withdrawals, ledger, w.id) == REQUESTED:
            out.append(w)
    return sorted(out, key=lambda w: (w.requested_at, w.id))


def _reconcile_views(state: State, references: set[str]) -> dict[str, WithdrawalView]:
    found = {}
    for ident in references:
        w = state.withdrawals.withdrawals.get(ident)
        if w is not None:
            status = status_of(state.withdrawals, state.ledger, ident)
            found[ident] = WithdrawalView(ident, status, w.amount_minor, w.asset)
    return found


def _views(state: State, creditor: str | None, offset: int, limit: int) -> list[View]:
    withdrawals = state.withdrawals
    if creditor is not None:
        ids = list(reversed(withdrawals.by_creditor.get(creditor, [])))
    else:
        ids = sorted(withdrawals.withdrawals, key=lambda i: withdrawals.withdrawals[i].requested_at,
                     reverse=True)  # fmt: skip
    return [v for v in (_view(state, i) for i in ids[offset : offset + limit]) if v is not None]


def _view(state: State, withdrawal_id: str) -> View | None:
    w = state.withdrawals.withdrawals.get(withdrawal_id)
    if w is None:
        return None
    status = status_of(state.withdrawals, state.ledger, withdrawal_id)
    return View(w.id, w.creditor, w.rail, w.asset, w.amount_minor, w.fee_minor, status,
                w.requested_at, w.expires_at, w.settled_at, w.rail_reference, w.reason,
                w.beneficiary)  # fmt: skip


def _readable(code: str) -> str:
    """``12345678`` as ``1234 5678`` (the code e-mails' grouping; spaces are ignored when
    the code is typed back)."""
    half = (len(code) + 1) // 2
    return f"{code[:half]} {code[half:]}" if len(code) >= 6 else code


def _seq(outcome: Accepted) -> int | None:
    return outcome.seq if outcome.events else None
