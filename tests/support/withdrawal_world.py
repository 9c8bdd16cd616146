"""A log state with creditors, claims, policy, accounts and rail terms, for the withdrawal tests.

Built through the real shell (``core_harness``: decide, check, evolve), one second per
command from ``T0`` (2025-06-02), every event round-tripped through the canonical encoding and
re-checked before it is applied. The world::

    actors     admin, treasury (treasury), gateway (gateway), kyc (kyc_officer)
    policy     FR open (sepa, usdc) · HK open (hk_wire, usdc) · CN restricted, no rail ·
               IR sanctioned · JP unlisted (no entry)
    creditors  claim  jurisdiction  KYC        accounts funded (creditor_available)
    alice      A1     FR            approved   EUR 1,000,000.00 · USDC 500.000000
    bob        B1     HK            approved   USD 10,000.00
    carol      C1 C2  FR + HK       approved   EUR 100.00 · USD 100.00 · USDC 100.000000
    dave       D1     IR            approved   EUR 100.00
    erin       E1     JP            approved   EUR 100.00
    frank      -      -             approved   EUR 100.00
    gina       G1     FR            pending    EUR 100.00
    mei        M1     CN            approved   EUR 100.00
    hana       H1     FR            approved   none (no account opened)

    rails      sepa: EUR, the FTX EU schedule (€8 ≤ €2,000 < €13 ≤ €50,000 < €13 + 0.1% of the
               excess, cap €353), minimum €1.00, timeout 14 days,
               operator/EUR/rail_settlement, operator/EUR/fees
               hk_wire: USD, $25.00 flat, minimum $100.00, 14 days
               usdc: USDC, 1.000000 flat, minimum 10.000000, 1 day

Every ``creditor_available`` account has ``debits_must_not_exceed_credits``; rail settlement
accounts ``credits_must_not_exceed_debits``; each creditor's money came in by a ``deposit``
from the rail's settlement account, which therefore holds exactly the deposits.

Destinations (issue 9): the world is built ``LEAD`` (two days) before ``start``; then every
creditor adds and confirms (cooling-off ``COOLING_OFF``, a day) each of ``BENEFICIARIES`` on
every rail, at the setup's last instant, and the clock moves on by ``LEAD``: at ``start`` + the
setup's seconds — the time the first test command ran at before destinations existed — every
cooling-off is over. ``World(destinations=False)`` builds the world without them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from reclaim.app.log_service import KeyRing
from reclaim.app.withdrawal_ports import BeneficiaryProblem
from reclaim.app.withdrawals import WithdrawalService, beneficiary_subject
from reclaim.core.actors import Genesis, RegisterActor
from reclaim.core.claims import (
    ClaimClass,
    CreateEstate,
    DecideKyc,
    ImportClaims,
    LinkClaim,
    PolicyEntry,
    ProveEmail,
    RegisterRow,
    SetPolicy,
    SubmitKyc,
)
from reclaim.core.events import Event
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
    assert_ledger_invariants,
)
from reclaim.core.types import JsonValue
from reclaim.core.withdrawals import (
    EXCESS,
    AddDestination,
    ConfirmDestination,
    FeeSchedule,
    FeeTier,
    RailTerms,
    SetFees,
    destination_id_of,
)
from tests.support.core_harness import (
    Command,
    CoreHarness,
    Decided,
    State,
    assert_invariants,
    replay,
)
from tests.support.factories import ORIGIN, key_for

T0: Final = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
D: Final = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
C: Final = frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})
DAY: Final = 24 * 3600
FTX_EU: Final = FeeSchedule(
    (FeeTier(200_000, 800), FeeTier(5_000_000, 1_300)), 1_300, 10, EXCESS, 35_300
)
SEPA: Final = RailTerms(
    "sepa", "EUR", FTX_EU, 100, 14 * DAY, "operator/EUR/rail_settlement", "operator/EUR/fees"
)
HK_WIRE: Final = RailTerms(
    "hk_wire", "USD", FeeSchedule((), 2_500, 0, EXCESS, 2_500), 10_000, 14 * DAY,
    "operator/USD/rail_settlement", "operator/USD/fees",
)  # fmt: skip
USDC: Final = RailTerms(
    "usdc", "USDC", FeeSchedule((), 1_000_000, 0, EXCESS, 1_000_000), 10_000_000, DAY,
    "operator/USDC/rail_settlement", "operator/USDC/fees",
)  # fmt: skip
#: creditor -> (claims with their jurisdiction, KYC approved?, deposits by asset)
CREDITORS: Final[dict[str, tuple[tuple[tuple[str, str], ...], bool, dict[str, int]]]] = {
    "alice": ((("A1", "FR"),), True, {"EUR": 100_000_000, "USDC": 500_000_000}),
    "bob": ((("B1", "HK"),), True, {"USD": 1_000_000}),
    "carol": ((("C1", "FR"), ("C2", "HK")), True, {"EUR": 10_000, "USD": 10_000,
                                                   "USDC": 100_000_000}),
    "dave": ((("D1", "IR"),), True, {"EUR": 10_000}),
    "erin": ((("E1", "JP"),), True, {"EUR": 10_000}),
    "frank": ((), True, {"EUR": 10_000}),
    "gina": ((("G1", "FR"),), False, {"EUR": 10_000}),
    "mei": ((("M1", "CN"),), True, {"EUR": 10_000}),
    "hana": ((("H1", "FR"),), True, {}),
}  # fmt: skip
ASSETS: Final = ("EUR", "USD", "USDC")
OPERATOR_ACTORS: Final = (("treasury", "treasury"), ("gateway", "gateway"), ("kyc", "kyc_officer"))
POLICY: Final = (
    PolicyEntry("FR", "open", "EU member state", "https://example.org/policy", "2025-01-01",
                ("sepa", "usdc")),
    PolicyEntry("HK", "open", "Served through the HK correspondent", "https://example.org/policy",
                "2025-01-01", ("hk_wire", "usdc")),
    PolicyEntry("CN", "restricted", "Restricted Jurisdiction Procedures motion",
                "https://example.org/motion", "2025-01-01", ()),
    PolicyEntry("IR", "sanctioned", "Sanctions", "https://example.org/sanctions", "2025-01-01",
                ()),
)  # fmt: skip


def commit(text: str) -> str:
    """A stand-in for the vault's HMAC commitment."""
    return hashlib.sha256(text.encode()).hexdigest()


#: The destinations (commitments) every creditor of the world confirmed on every rail.
BENEFICIARIES: Final = tuple(
    commit(text) for text in ("iban:FR7630006000011234567890189", "iban:other", "dest:1", "dest:2")
)
#: The cooling-off of the world's destinations (the default setting).
COOLING_OFF: Final = DAY
#: How long before ``start`` the world is built, so the destinations' cooling-off is over.
LEAD: Final = timedelta(days=2)


def creditor_account(creditor: str, asset: str) -> str:
    return f"{creditor}/{asset}/creditor_available"


class World(CoreHarness):
    """A ``State`` driven through the shell (``core_harness``); ``log`` keeps every event for
    replays. Each event's ``evolve`` must name what it changed (``track_changes``)."""

    track_changes = True

    def __init__(self, start: datetime = T0, *, destinations: bool = True) -> None:
        super().__init__(start - LEAD if destinations else start)
        #: (type, time, actor, key id, payload, version) of every event.
        self.log: list[tuple[str, str, str, str, dict[str, JsonValue], int]] = []
        self._build()
        if destinations:
            for command, actor in destination_commands():
                self.ok(command, actor, at=self.now)
            self.now += LEAD

    # Driving the shell.

    def accepted(self, command: Command, actor: str, decided: Decided) -> None:
        for event in decided.events:
            self.log.append(
                (event.type, event.time, event.actor, event.key_id, event.payload, event.version)
            )

    def replayed(self) -> State:
        """A fresh state replayed from ``log`` through ``check`` and ``evolve`` (a verifier)."""
        events = (
            Event(kind, version, time, actor, key, payload)
            for kind, time, actor, key, payload, version in self.log
        )
        state = replay(events, round_trip=True)
        assert_ledger_invariants(state.ledger)
        return state

    # Reading.

    def available(self, account: str) -> int:
        return self.state.ledger.accounts[account].available_minor

    def balances(self, account: str) -> tuple[int, int, int, int]:
        return self.state.ledger.accounts[account].balances()

    # The world of the module docstring.

    def _build(self) -> None:
        for command, actor in setup_commands():
            self.ok(command, actor)
        assert_invariants(self.state)


def setup_commands() -> list[tuple[Command, str]]:
    """The commands that build the world of the module docstring, with their signers."""
    out: list[tuple[Command, str]] = []

    def ok(command: Command, actor: str) -> None:
        out.append((command, actor))

    admin = key_for("admin")
    log_key = key_for(f"{ORIGIN}-signer")
    ok(Genesis(ORIGIN, "admin", admin.verifier.to_text(), log_key.verifier.to_text()), "admin")
    for name, role in OPERATOR_ACTORS:
        ok(RegisterActor(name, role, key_for(name).verifier.to_text()), "admin")
    for name in CREDITORS:
        ok(RegisterActor(name, "creditor", key_for(name).verifier.to_text()), "gateway")
    ok(SetPolicy(POLICY), "admin")
    estate_class = ClaimClass("5A", "Dotcom customer entitlement", 1)
    ok(CreateEstate("ftx", "FTX Trading Ltd.", "2022-11-11", (estate_class,)), "admin")
    rows = tuple(
        RegisterRow(claim, f"CUST-{claim}", commit(f"email:{name}"), commit(f"name:{name}"),
                    iso, "5A", 1_000_000, "allowed")
        for name, (claims, _, _) in CREDITORS.items()
        for claim, iso in claims
    )  # fmt: skip
    ok(ImportClaims("ftx", commit("register:v1"), rows), "admin")
    for name, (claims, approved, _) in CREDITORS.items():
        if claims:
            ok(ProveEmail(name, commit(f"email:{name}")), "gateway")
        ok(SubmitKyc(name, "manual", f"case-{name}"), "gateway")
        if approved:
            decision = DecideKyc(name, "approved", "manual", f"case-{name}", "",
                                 commit(f"name:{name}"))  # fmt: skip
            ok(decision, "kyc")
            for claim, _ in claims:
                ok(LinkClaim(claim, name), "gateway")
    accounts = [Account.of("operator", a, "rail_settlement", C) for a in ASSETS]
    accounts += [Account.of("operator", a, "fees", D) for a in ASSETS]
    accounts += [
        Account.of(name, a, "creditor_available", D)
        for name, (_, _, funded) in CREDITORS.items()
        if funded
        for a in ASSETS
    ]
    for start in range(0, len(accounts), 32):
        ok(OpenAccounts(tuple(accounts[start : start + 32])), "treasury")
    deposits = [
        Transfer(f"dep-{name}-{asset}", f"operator/{asset}/rail_settlement",
                 creditor_account(name, asset), asset, amount, "deposit")
        for name, (_, _, funded) in CREDITORS.items()
        for asset, amount in funded.items()
    ]  # fmt: skip
    ok(CreateTransfers(tuple(deposits)), "treasury")
    ok(SetFees((SEPA, HK_WIRE, USDC)), "admin")
    return out


def destination_commands(
    creditors: tuple[str, ...] = tuple(CREDITORS), beneficiaries: tuple[str, ...] = BENEFICIARIES
) -> list[tuple[Command, str]]:
    """Each creditor adds each beneficiary on every rail, and its mailbox confirms it (the
    gateway signs both, as the withdrawal service does once the mailed code came back)."""
    out: list[tuple[Command, str]] = []
    for name in creditors:
        for rail in ("sepa", "hk_wire", "usdc"):
            for beneficiary in beneficiaries:
                ident = destination_id_of(name, rail, beneficiary)
                out.append((AddDestination(name, rail, beneficiary), "gateway"))
                out.append((ConfirmDestination(ident, COOLING_OFF), "gateway"))
    return out


def service_destinations(
    service: WithdrawalService, wanted: Sequence[tuple[str, str, Mapping[str, str]]]
) -> list[tuple[Command, str]]:
    """The commands that add and confirm each ``(creditor, rail, fields)`` as ``service`` does
    once the mailed code came back (the mail and the code are the security tests'), with the
    destination stored in the service's vault under its commitment, as ``add_destination``
    stores it. Submit them ``COOLING_OFF`` or more before the withdrawals."""
    out: list[tuple[Command, str]] = []
    for creditor, rail_name, fields in wanted:
        rail = service.rails[rail_name]
        checked = rail.check_beneficiary(fields)
        assert not isinstance(checked, BeneficiaryProblem), checked
        commitment = service.commitments.beneficiary(rail.name, checked.canonical)
        record = {**checked.fields, "rail": rail.name, "masked": checked.masked}
        service.vault.put(beneficiary_subject(commitment), record, service.clock.now())
        ident = destination_id_of(creditor, rail.name, commitment)
        out.append((AddDestination(creditor, rail.name, commitment), "gateway"))
        out.append((ConfirmDestination(ident, COOLING_OFF), "gateway"))
    return out


@dataclass(slots=True)
class SteppedClock:
    """A clock that shows ``at`` until a test moves it (past a cooling-off, say)."""

    at: datetime

    def now(self) -> datetime:
        return self.at


def keyring() -> KeyRing:
    """The private keys of every actor of the world (for a ``LogService`` over it)."""
    names = ["admin", *(n for n, _ in OPERATOR_ACTORS), *CREDITORS]
    return KeyRing(key_for(f"{ORIGIN}-signer"), {n: key_for(n) for n in names})
