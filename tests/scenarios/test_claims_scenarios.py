"""Scenario tables of the claims core: registers, policy, e-mail proofs, KYC, linking.

Every scenario starts from the same two estates (created at 2025-04-01T09:00:00Z):

    estate   classes (code priority)                                convenience   rate
    ftx      5A 1, 5B 1, 6A 2, 7 1 (convenience, up to $50,000.00)  7, 5000000    900 bps
    celsius  cust 1                                                 -             0

and the register versions below (e-mails and names are commitments; here SHA-256 of the text,
in production the vault's HMAC):

    claim  e-mail   holder        jurisdiction  class  admitted (cents)  status
    C1     alice    ZHANG Wei     CN            5A         10,000,000    allowed
    C2     bob      Bob Martin    FR            5A             50,000    scheduled
    C3     carol    CHEN Karol    RU            6A          2,000,000    filed
    C4     alice    ZHANG Wei     CN            7           4,000,000    allowed
    C5     dave     Dave Ivanov   US            5B             70,000    disputed

Each row is one command and the expected answer: a code name (``ok``, ``exists``,
``link_exists``, or a refusal) and, where it matters, the event types it appends. ``Import``
plans a register version and runs its commands; ``BadImport`` expects the plan's problems. Every
event is round-tripped through the canonical encoding, passed through ``check_claims`` and
applied with ``evolve_claims``; after every row the invariants are asserted, a refused row must
leave the state unchanged, and at the end the whole log is replayed into a fresh state that
must be identical.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reclaim.core import limits
from reclaim.core.claims import (
    CLAIMS_AMENDED,
    CLAIMS_EVENT_TYPES,
    CLAIMS_IMPORTED,
    ESTATE_CREATED,
    KYC_DECIDED,
    KYC_STATES,
    KYC_TRANSITIONS,
    LINK_CONFLICT,
    POLICY_SET,
    SUBMIT,
    AmendClaims,
    Amendment,
    ClaimClass,
    ClaimCode,
    ClaimsCommand,
    ClaimsRejection,
    ClaimsState,
    CloseConflict,
    CreateEstate,
    DecideKyc,
    Decision,
    EstateCode,
    EventCode,
    ImportClaims,
    ImportPlan,
    Kyc,
    KycCode,
    LinkClaim,
    LinkCode,
    LinkOnReview,
    PolicyCode,
    PolicyEntry,
    ProofCode,
    ProveEmail,
    RegisterRefusal,
    RegisterRow,
    SetPolicy,
    SubmitKyc,
    UnlinkClaim,
    amendment_payload,
    assert_claims_invariants,
    check_claims,
    claim_payload,
    decide_claims,
    evolve_claims,
    plan_register_import,
    policy_entry_payload,
)
from reclaim.core.events import format_time
from reclaim.core.limits import (
    amendments_per_event_max,
    claims_per_event_max,
    email_proofs_per_creditor_max,
    links_per_creditor_max,
    policy_entries_per_event_max,
    policy_history_max,
    register_rows_max,
)
from reclaim.log import canonical
from tests.support.core_harness import CLAIMS, replay_subcore, run_subcore

T0 = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
BIGINT = limits.integer_max


def commit(text: str) -> str:
    """A stand-in for the vault's HMAC commitment."""
    return hashlib.sha256(text.encode()).hexdigest()


def reg(label: str) -> str:
    """The register id (SHA-256 of the file) of the register version ``label``."""
    return commit("register:" + label)


EA, EB, EC, ED, EE = (
    commit(f"email:{n}@old.example") for n in ("alice", "bob", "carol", "dave", "erin")
)
HA, HB, HC, HD, HE = (
    commit(f"name:{n}")
    for n in ("ZHANG Wei", "Bob Martin", "CHEN Karol", "Dave Ivanov", "Erin Sato")
)
HC_KYC = commit("name:陈卡罗尔")  # carol's verified name: the same person, in her passport's script
HM = commit("name:Mallory Hacker")


def row(cid: str, email: str, holder: str, iso: str, cls: str, amount: int,
        status: str = "allowed", customer: str = "") -> RegisterRow:  # fmt: skip
    return RegisterRow(cid, customer or f"CUST-{cid}", email, holder, iso, cls, amount, status)


C1 = row("C1", EA, HA, "CN", "5A", 10_000_000)
C2 = row("C2", EB, HB, "FR", "5A", 50_000, "scheduled")
C3 = row("C3", EC, HC, "RU", "6A", 2_000_000, "filed")
C4 = row("C4", EA, HA, "CN", "7", 4_000_000)
C5 = row("C5", ED, HD, "US", "5B", 70_000, "disputed")
C6 = row("C6", EE, HE, "JP", "5A", 123_456)
V1 = (C1, C2, C3, C4, C5)
K1 = row("K1", EE, HE, "US", "cust", 1_000)

FTX = CreateEstate(
    "ftx", "FTX Trading Ltd.", "2022-11-11",
    (ClaimClass("5A", "Dotcom customer entitlement", 1),
     ClaimClass("5B", "US customer entitlement", 1),
     ClaimClass("6A", "General unsecured", 2),
     ClaimClass("7", "Convenience", 1)),
    "7", 5_000_000, 900, "simple", "ACT/365",
)  # fmt: skip
CELSIUS = CreateEstate(
    "celsius", "Celsius Network LLC", "2022-07-13", (ClaimClass("cust", "Customer", 1),)
)
#: A valid estate to spoil one field at a time.
MTGOX = CreateEstate("mtgox", "Mt. Gox", "2014-02-28", (ClaimClass("A", "x", 1),))

APPROVED, REJECTED, RESUB = "approved", "rejected", "resubmission_requested"


def mtgox(**changes: Any) -> CreateEstate:
    return dataclasses.replace(MTGOX, **changes)


def amend(*items: tuple[str, str, Any, Any], register: str = "v2") -> AmendClaims:
    return AmendClaims("ftx", reg(register), tuple(Amendment(*item) for item in items))


def kyc(state: str, *, reason: str = "", name: str = "", provider: str = "manual",
        ref: str = "case-1", creditor: str = "alice") -> DecideKyc:  # fmt: skip
    return DecideKyc(creditor, state, provider, ref, reason, name)


# Steps ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Do:
    """One command; ``expect`` the answer's code name (a tuple: one per result); ``events``
    the event types it appends (``None``: one event if accepted and ``ok``, else none)."""

    command: ClaimsCommand
    expect: str | tuple[str, ...]
    events: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Import:
    """Plan a register version and run its commands; ``counts`` = (new, amended, expunged,
    unchanged); ``amendments``, if given, the plan's amendments in order."""

    rows: tuple[RegisterRow, ...]
    register: str
    counts: tuple[int, int, int, int]
    amendments: tuple[tuple[str, str, object, object], ...] | None = None
    full: bool = True
    estate: str = "ftx"


@dataclass(frozen=True)
class BadImport:
    """A register version that imports nothing: the expected (row, code name) problems."""

    rows: Sequence[RegisterRow]
    register_id: str
    problems: tuple[tuple[int | None, str], ...]
    estate: str = "ftx"


@dataclass(frozen=True)
class Has:
    """Fields of claims after the step before."""

    claims: dict[str, dict[str, object]]


@dataclass(frozen=True)
class Conflicts:
    """The open conflicts: (claim, creditor) -> (code, holder)."""

    open: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)


Step = Do | Import | BadImport | Has | Conflicts


# The harness ------------------------------------------------------------------------------------


class Harness:
    def __init__(self) -> None:
        self.state = ClaimsState()
        self.now = T0
        self.log: list[tuple[str, dict[str, Any], str]] = []
        for estate in (FTX, CELSIUS):
            assert not isinstance(self.run(estate), ClaimsRejection)

    def run(self, command: ClaimsCommand) -> Decision | ClaimsRejection:
        self.now += timedelta(seconds=1)
        decision: Decision | ClaimsRejection = run_subcore(
            CLAIMS, self.state, command, self.now, format_time(self.now), self.log
        )
        if not isinstance(decision, ClaimsRejection):
            assert_claims_invariants(self.state)
        return decision

    def step(self, step: Step) -> None:
        match step:
            case Do(command, expect, events):
                self.do(command, expect, events)
            case Import():
                self.import_(step)
            case BadImport(rows, register_id, problems, estate):
                before = self.state.snapshot()
                plan = plan_register_import(self.state, estate, register_id, rows)
                assert isinstance(plan, RegisterRefusal), plan
                listed = tuple((p.row, p.code.name) for p in plan.problems)
                assert listed == problems, listed
                assert plan.problem_count == len(problems)
                assert self.state.snapshot() == before
            case Has(claims):
                for claim_id, fields in claims.items():
                    claim = self.state.claims[claim_id]
                    for name, value in fields.items():
                        assert getattr(claim, name) == value, (claim_id, name, getattr(claim, name))
            case Conflicts(expected):
                found = {k: (c.code, c.holder) for k, c in self.state.conflicts.items()}
                assert found == expected

    def do(self, command: ClaimsCommand, expect: str | tuple[str, ...],
           events: tuple[str, ...] | None) -> None:  # fmt: skip
        before = self.state.snapshot()
        logged = len(self.log)
        decision = self.run(command)
        if isinstance(decision, ClaimsRejection):
            got: str | tuple[str, ...] = decision.code.name
            assert self.state.snapshot() == before, "a refused command changed the state"
        elif isinstance(expect, tuple):
            got = tuple(r.code.name for r in decision.results)
        else:
            got = decision.results[0].code.name if decision.results else "ok"
        assert got == expect, f"{command}: {got} != {expect}"
        appended = tuple(t for t, _, _ in self.log[logged:])
        if events is None:  # by default, an ok appends one event and anything else none
            ok = not isinstance(decision, ClaimsRejection) and expect in ("ok", ("ok",))
            assert len(appended) == (1 if ok else 0), appended
        else:
            assert appended == events, appended

    def import_(self, step: Import) -> None:
        plan = plan_register_import(
            self.state, step.estate, reg(step.register), step.rows, full_schedule=step.full
        )
        assert isinstance(plan, ImportPlan), plan
        counts = (plan.new_claims, plan.amended_claims, plan.expunged_claims, plan.unchanged_claims)
        assert counts == step.counts, counts
        if step.amendments is not None:
            got = [
                (a.claim_id, a.field, a.old, a.new)
                for c in plan.commands if isinstance(c, AmendClaims) for a in c.amendments
            ]  # fmt: skip
            assert tuple(got) == step.amendments, got
        for command in plan.commands:
            decision = self.run(command)
            assert isinstance(decision, Decision), decision
            assert len(decision.events) == 1
        again = plan_register_import(
            self.state, step.estate, reg(step.register), step.rows, full_schedule=step.full
        )
        assert isinstance(again, ImportPlan)
        assert again.commands == (), "re-importing the same version must be a no-op"

    def assert_replay(self) -> None:
        replayed = replay_subcore(CLAIMS, ClaimsState(), self.log)
        assert_claims_invariants(replayed)
        assert replayed.snapshot() == self.state.snapshot()


def kyc_approved(creditor: str, email: str, name: str) -> list[Step]:
    """A creditor proves an e-mail and passes manual KYC under ``name``."""
    return [
        Do(ProveEmail(creditor, email), "ok"),
        Do(SubmitKyc(creditor, "manual", f"case-{creditor}"), "ok"),
        Do(DecideKyc(creditor, APPROVED, "manual", f"case-{creditor}", name_commitment=name), "ok"),
    ]


def entry(iso: str, status: str = "restricted", date: str = "2025-07-02",
          rails: tuple[str, ...] = (), reason: str = "local counsel opinion pending",
          source: str = "https://example.org/motion") -> PolicyEntry:  # fmt: skip
    return PolicyEntry(iso, status, reason, source, date, rails)


# The scenarios ----------------------------------------------------------------------------------

ZED_E, ZED_H = commit("email:zed"), commit("name:Zed")
MANY = [row(f"Z{i}", ZED_E, ZED_H, "DE", "5A", 100) for i in range(links_per_creditor_max + 1)]
PROOFS = [
    row(f"P{i}", commit(f"email:p{i}"), HA, "FR", "5A", 1)
    for i in range(email_proofs_per_creditor_max + 1)
]
V2 = (C1._replace(admitted_minor=9_000_000), C2._replace(jurisdiction="DE", status="allowed"),
      C4, C5, C6)  # fmt: skip
C1_V4 = C1._replace(admitted_minor=9_000_000, customer_code="X-1", email_commitment=EE,
                    holder_commitment=HE, class_code="6A", status="disputed")  # fmt: skip


def big(cid: str, amount: int) -> RegisterRow:
    return row(cid, EA, HA, "CN", "5A", amount)


# fmt: off
SCENARIOS: dict[str, list[Step]] = {
    "a register is imported, re-imported (a no-op), amended and superseded": [
        Import(V1, "v1", (5, 0, 0, 0)),
        Has({"C1": {"status": "allowed", "register_id": reg("v1"), "estate_id": "ftx"}}),
        Import(V1, "v1", (0, 0, 0, 5)),                     # the same file: nothing to do
        Import(V1[::-1], "v1-sorted", (0, 0, 0, 5)),        # another file, the same claims
        # v2: C1's amount and C2's jurisdiction and status change, C3 is gone, C6 is new.
        Import(V2, "v2", (1, 2, 1, 2),
               amendments=(("C1", "admitted_minor", 10_000_000, 9_000_000),
                           ("C2", "jurisdiction", "FR", "DE"),
                           ("C2", "status", "scheduled", "allowed"),
                           ("C3", "status", "filed", "expunged"))),
        Has({"C1": {"admitted_minor": 9_000_000, "register_id": reg("v2")},
             "C3": {"status": "expunged", "register_id": reg("v2")},
             "C4": {"register_id": reg("v1")}, "C6": {"register_id": reg("v2")}}),
        Import(V2, "v2", (0, 0, 0, 5)),                     # C3 stays expunged, silently
        # A supplement relists C3 and changes nothing else.
        Import((C3,), "v3-supplement", (0, 1, 0, 0),
               amendments=(("C3", "status", "expunged", "filed"),), full=False),
        # Every field of a claim but its id may change, while it is not linked.
        Import((C1_V4,), "v4-supplement", (0, 1, 0, 0),
               amendments=(("C1", "customer_code", "CUST-C1", "X-1"),
                           ("C1", "email_commitment", EA, EE),
                           ("C1", "holder_commitment", HA, HE),
                           ("C1", "class_code", "5A", "6A"),
                           ("C1", "status", "allowed", "disputed")), full=False),
        # An empty full schedule expunges every claim, explicitly.
        Import((), "v5-empty", (0, 0, 6, 0)),
        Has({"C6": {"status": "expunged"}}),
    ],
    "a register with bad rows imports nothing and lists every one": [
        Import((K1,), "celsius-1", (1, 0, 0, 0), estate="celsius"),
        BadImport([
            C1,
            C2._replace(claim_id="C 2"),
            C3._replace(customer_code=""),
            C4._replace(email_commitment="alice@old.example"),
            C5._replace(holder_commitment=HD.upper()),
            C6._replace(jurisdiction="UK"),                 # GB is the code; UK is reserved
            row("C7", EA, HA, "CN", "9Z", 1),
            row("C8", EA, HA, "CN", "5A", -1),
            row("C9", EA, HA, "CN", "5A", 1, "paid"),
            C1._replace(admitted_minor=1),
            K1._replace(class_code="5A"),
            row("C 10", EA, HA, "XX", "9Z", -5, "paid"),    # several faults: the first is named
        ], reg("bad"), ((1, "claim_id_malformed"), (2, "customer_code_malformed"),
                        (3, "email_commitment_malformed"), (4, "holder_commitment_malformed"),
                        (5, "jurisdiction_unknown"), (6, "class_unknown"),
                        (7, "amount_out_of_range"), (8, "status_unknown"),
                        (9, "claim_id_duplicated"), (10, "claim_in_other_estate"),
                        (11, "claim_id_malformed"))),
        BadImport(V1, reg("v1"), ((None, "estate_not_found"),), estate="mtgox"),
        BadImport(V1, "v1.csv", ((None, "register_id_malformed"),)),
        BadImport((big("B1", BIGINT), big("B2", 1)), reg("big"),
                  ((None, "estate_total_exceeds_bigint"),)),
        Import((big("B1", BIGINT),), "big", (1, 0, 0, 0)),
        BadImport((big("B1", BIGINT), C1), reg("big+1"), ((None, "estate_total_exceeds_bigint"),)),
        # Lowered amounts are amended first, so the total fits after every command.
        Import((big("B1", BIGINT - 5), big("B2", 5)), "big-2", (1, 1, 0, 0)),
        Import((big("B0", 3), big("B1", BIGINT - 8), big("B2", 5)), "big-3", (1, 1, 0, 1),
               amendments=(("B1", "admitted_minor", BIGINT - 5, BIGINT - 8),)),
    ],
    "the import and amendment commands on their own": [
        Import(V1, "v1", (5, 0, 0, 0)),
        Import((K1,), "celsius-1", (1, 0, 0, 0), estate="celsius"),
        Do(ImportClaims("ftx", reg("v1"), (C1,)), "claim_exists"),
        Do(ImportClaims("ftx", reg("v1"), (C6, C6)), "claim_id_duplicated"),
        Do(ImportClaims("ftx", reg("v1"), (K1._replace(class_code="5A"),)),
           "claim_in_other_estate"),
        Do(ImportClaims("nope", reg("v1"), (C6,)), "estate_not_found"),
        Do(ImportClaims("ftx", "", (C6,)), "register_id_malformed"),
        Do(ImportClaims("ftx", reg("v1"), ()), "ok", ()),
        Do(ImportClaims("ftx", reg("v2"), (C6,)), "ok", (CLAIMS_IMPORTED,)),
        Do(amend(("C 1", "status", "allowed", "disputed")), "claim_id_malformed"),
        Do(amend(("C1", "claim_id", "C1", "C01")), "amendment_field_unknown"),
        Do(amend(("C1", "linked_creditor", "", "mallory")), "amendment_field_unknown"),
        Do(amend(("C1", "customer_code", "CUST-C1", "a b")), "customer_code_malformed"),
        Do(amend(("C1", "email_commitment", EA, "x")), "email_commitment_malformed"),
        Do(amend(("C1", "holder_commitment", HA, 7)), "holder_commitment_malformed"),
        Do(amend(("C1", "jurisdiction", "CN", "EU")), "jurisdiction_unknown"),
        Do(amend(("C1", "class_code", "5A", "cust")), "class_unknown"),
        Do(amend(("C1", "admitted_minor", 10_000_000, "5")), "amount_out_of_range"),
        Do(amend(("C1", "status", "allowed", "withdrawn")), "status_unknown"),
        Do(amend(("C1", "status", "allowed", "disputed"), ("C1", "status", "disputed", "allowed")),
           "amendment_duplicated"),
        Do(amend(("C99", "status", "allowed", "disputed")), "claim_not_found"),
        Do(amend(("K1", "status", "allowed", "disputed")), "claim_in_other_estate"),
        Do(amend(("C1", "status", "filed", "disputed")), "amendment_old_value_mismatch"),
        Do(amend(("C1", "admitted_minor", "10000000", 5)),     # the old amount is an int
           "amendment_old_value_mismatch"),
        Do(amend(("C1", "status", "allowed", "allowed")), "amendment_changes_nothing"),
        Do(amend(("C1", "admitted_minor", 10_000_000, BIGINT)), "estate_total_exceeds_bigint"),
        Do(amend(), "ok", ()),
        # Several fields of one claim in one event; the e-mail index follows.
        Do(amend(("C1", "admitted_minor", 10_000_000, 1), ("C1", "email_commitment", EA, EB)),
           "ok", (CLAIMS_AMENDED,)),
        Has({"C1": {"admitted_minor": 1, "email_commitment": EB, "register_id": reg("v2")}}),
    ],
    "estates": [
        Do(FTX, "estate_exists"),
        Do(mtgox(estate_id="MtGox"), "estate_id_malformed"),
        Do(mtgox(name=""), "name_invalid"),
        Do(mtgox(name="Mt. Gox\n"), "name_invalid"),
        Do(mtgox(petition_date="2014-02-30"), "petition_date_invalid"),
        Do(mtgox(petition_date="28/02/2014"), "petition_date_invalid"),
        Do(mtgox(classes=()), "classes_count_out_of_range"),
        Do(mtgox(classes=(ClaimClass("a b", "x", 1),)), "class_code_malformed"),
        Do(mtgox(classes=(ClaimClass("A", "x", 1), ClaimClass("A", "y", 2))),
           "class_code_duplicated"),
        Do(mtgox(classes=(ClaimClass("A", "", 1),)), "class_name_invalid"),
        Do(mtgox(classes=(ClaimClass("A", "x", 0),)), "class_priority_out_of_range"),
        Do(mtgox(convenience_class="B", convenience_threshold_minor=1),
           "convenience_class_unknown"),
        Do(mtgox(convenience_threshold_minor=1), "convenience_threshold_out_of_range"),
        Do(mtgox(convenience_class="A", convenience_threshold_minor=-1),
           "convenience_threshold_out_of_range"),
        Do(mtgox(consensus_rate_bps=10_001), "consensus_rate_out_of_range"),
        Do(mtgox(interest="daily"), "interest_method_unknown"),
        Do(mtgox(day_count="30/360"), "day_count_unknown"),
        Do(mtgox(name="Mt. Gox 株式会社", interest="compound", day_count="ACT/360",
                 classes=(ClaimClass("B", "Bitcoin", 2), ClaimClass("A", "Cash", 1))),
           "ok", (ESTATE_CREATED,)),
    ],
    "jurisdiction policy": [
        Do(SetPolicy((entry("CN"), entry("RU"), entry("IR", "sanctioned"))), ("ok", "ok", "ok"),
           (POLICY_SET,)),
        Do(SetPolicy((entry("CN"),)), ("exists",), ()),
        Do(SetPolicy((entry("CN", "open", "2025-11-03", ("usd_wire_hk", "usdc")), entry("RU"))),
           ("ok", "exists"), (POLICY_SET,)),
        # A correction of the same date is a new entry (the history keeps both).
        Do(SetPolicy((entry("CN", "open", "2025-11-03", ("usdc", "usd_wire_hk", "usdc"),
                            "motion withdrawn without prejudice"),)), ("ok",), (POLICY_SET,)),
        Do(SetPolicy((entry("CN", "restricted"),)), ("exists",), ()),
        Do(SetPolicy((entry("XX"),)), "iso_unknown"),
        Do(SetPolicy((entry("CN", "blocked"),)), "status_unknown"),
        Do(SetPolicy((entry("CN", reason=""),)), "reason_invalid"),
        Do(SetPolicy((entry("CN", reason="x" * 201),)), "reason_invalid"),
        Do(SetPolicy((entry("CN", source="動議"),)), "source_invalid"),
        Do(SetPolicy((entry("CN", date="2025-07-32"),)), "effective_date_invalid"),
        Do(SetPolicy((entry("CN", rails=("SEPA",)),)), "rail_malformed"),
        Do(SetPolicy((entry("CN", rails=tuple(f"r{i}" for i in range(9))),)), "rail_malformed"),
        Do(SetPolicy((entry("KP", "sanctioned", rails=("usdc",)),)), "sanctioned_with_rails"),
        Do(SetPolicy((entry("FR", "open"), entry("FR", "restricted"))), "entry_duplicated"),
        Do(SetPolicy((entry("FR", "open"), entry("XX"))), "iso_unknown"),   # all or none
        Do(SetPolicy(tuple(entry("FR", date=f"2025-01-{d:02d}") for d in range(1, 34))),
           "batch_too_large"),
        Do(SetPolicy(()), "ok", ()),
        *[Do(SetPolicy(tuple(entry("AD", date=f"{2025 + b}-{m:02d}-{d:02d}")
                             for m in range(1, 3) for d in range(1, 17))),
             ("ok",) * policy_entries_per_event_max, (POLICY_SET,))
          for b in range(policy_history_max // policy_entries_per_event_max)],
        Do(SetPolicy((entry("AD", date="2099-01-01"),)), "history_full"),
    ],
    "e-mail proofs": [
        Import(V1 + tuple(PROOFS), "v1", (5 + len(PROOFS), 0, 0, 0)),
        Do(ProveEmail("Alice", EA), "creditor_name_invalid"),
        Do(ProveEmail("alice", "alice@old.example"), "email_commitment_malformed"),
        Do(ProveEmail("alice", commit("email:nobody")), "email_matches_no_claim"),
        Do(ProveEmail("alice", EA), "ok", ("creditor.email_proved",)),
        Do(ProveEmail("alice", EA), "exists", ()),
        Do(ProveEmail("mallory", EA), "ok"),          # two creditors may prove one address
        *[Do(ProveEmail("paula", r.email_commitment), "ok") for r in PROOFS[:-1]],
        Do(ProveEmail("paula", PROOFS[-1].email_commitment), "email_proofs_per_creditor_exceeded"),
    ],
    "KYC, every transition of the table": [
        Do(SubmitKyc("Alice", "manual", "case-1"), "creditor_name_invalid"),
        Do(SubmitKyc("alice", "Sumsub", "case-1"), "provider_malformed"),
        Do(SubmitKyc("alice", "manual", ""), "reference_malformed"),
        Do(kyc(APPROVED, name=HA), "kyc_transition_invalid"),
        Do(SubmitKyc("alice", "manual", "case-1"), "ok", ("kyc.submitted",)),  # -> pending
        Do(SubmitKyc("alice", "manual", "case-2"), "kyc_transition_invalid"),
        Do(kyc("verified"), "kyc_state_unknown"),
        Do(kyc(REJECTED, reason="other", ref="case 1"), "reference_malformed"),
        Do(kyc(REJECTED), "reason_unknown"),
        Do(kyc(REJECTED, reason="your passport photo is blurry"), "reason_unknown"),
        Do(kyc(APPROVED, reason="other", name=HA), "reason_not_expected"),
        Do(kyc(APPROVED), "name_commitment_malformed"),
        Do(kyc(REJECTED, reason="document_expired", name=HA), "name_commitment_not_expected"),
        Do(kyc(APPROVED, name=HA, provider="sumsub"), "kyc_case_mismatch"),
        Do(kyc(RESUB, reason="document_expired"), "ok", (KYC_DECIDED,)),     # pending -> resub
        Do(kyc(APPROVED, name=HA), "kyc_transition_invalid"),
        Do(SubmitKyc("alice", "sumsub", "applicant-7"), "ok"),                 # resub -> pending
        Do(kyc(APPROVED, name=HA), "kyc_case_mismatch"),
        Do(kyc(APPROVED, name=HA, provider="sumsub", ref="applicant-7"), "ok"),  # -> approved
        Do(kyc(APPROVED, name=HA, provider="sumsub", ref="applicant-7"), "kyc_transition_invalid"),
        Do(SubmitKyc("alice", "manual", "case-3"), "kyc_transition_invalid"),
        Do(kyc(REJECTED, reason="fraud_suspected", provider="sumsub", ref="applicant-7"),
           "ok"),                                                              # -> rejected
        Do(SubmitKyc("alice", "manual", "case-3"), "kyc_transition_invalid"),
        Do(kyc(REJECTED, reason="other", provider="sumsub", ref="applicant-7"),
           "kyc_transition_invalid"),
        Do(kyc(RESUB, reason="other", provider="sumsub", ref="applicant-7"), "ok"),  # -> resub
        *kyc_approved("bob", EB, HB)[1:],
        Do(kyc(RESUB, reason="document_expired", creditor="bob", ref="case-bob"),
           "ok"),                                                              # approved -> resub
        Do(SubmitKyc("carol", "manual", "case-carol"), "ok"),
        Do(kyc(REJECTED, reason="selfie_mismatch", creditor="carol", ref="case-carol"),
           "ok"),                                                              # pending -> rejected
    ],
    "linking: the ladder, conflicts for the operator, review, unlinking": [
        Import(V1, "v1", (5, 0, 0, 0)),
        Do(ProveEmail("alice", EA), "ok"),
        Do(SubmitKyc("alice", "manual", "case-alice"), "ok"),
        Do(LinkClaim("C1", "alice"), "kyc_not_approved"),
        Do(kyc(APPROVED, name=HA, ref="case-alice"), "ok"),
        Do(LinkClaim("C1", "alice"), "ok", ("claim.linked",)),
        Do(LinkClaim("C1", "alice"), "link_exists", ()),
        Do(LinkClaim("C4", "alice"), "ok"),                       # one e-mail, two claims
        Has({"C1": {"linked_creditor": "alice"}, "C4": {"linked_creditor": "alice"}}),
        Do(LinkClaim("C1", "Alice!"), "creditor_name_invalid"),
        Do(LinkClaim("C 1", "alice"), "claim_id_malformed"),
        Do(LinkClaim("C99", "alice"), "claim_not_found"),
        Do(LinkClaim("C2", "alice"), "email_not_proved"),
        Do(LinkClaim("C1", "bob"), "email_not_proved"),           # not a conflict: no proof
        # mallory proves alice's old address too (she had access to it) and passes KYC under her
        # own name: her attempt on alice's claim is refused and recorded, once while open.
        *kyc_approved("mallory", EA, HM),
        Do(LinkClaim("C1", "mallory"), "claim_already_linked", (LINK_CONFLICT,)),
        Do(LinkClaim("C1", "mallory"), "claim_already_linked", ()),
        Conflicts({("C1", "mallory"): ("claim_already_linked", "alice")}),
        # carol's verified name is in her passport's script: a mismatch, reviewed by an officer.
        *kyc_approved("carol", EC, HC_KYC),
        Do(LinkClaim("C3", "carol"), "kyc_name_mismatch", (LINK_CONFLICT,)),
        Do(LinkClaim("C3", "carol"), "kyc_name_mismatch", ()),
        Conflicts({("C1", "mallory"): ("claim_already_linked", "alice"),
                   ("C3", "carol"): ("kyc_name_mismatch", "")}),
        Do(LinkOnReview("C3", "carol", ""), "reason_invalid"),
        Do(LinkOnReview("C1", "mallory", "reviewed"), "claim_already_linked", ()),
        Do(LinkOnReview("C3", "carol", "passport name 陈卡罗尔 read as CHEN Karol"), "ok",
           ("claim.linked_on_review",)),
        Do(LinkOnReview("C3", "carol", "again"), "link_exists", ()),
        Conflicts({("C1", "mallory"): ("claim_already_linked", "alice")}),  # carol's closed
        # An expunged claim is linked to no one; a linked claim may still be expunged.
        Do(amend(("C5", "status", "disputed", "expunged"), register="v1"), "ok"),
        Do(LinkClaim("C5", "alice"), "claim_expunged"),
        *kyc_approved("bob", EB, HB),
        Do(LinkClaim("C2", "bob"), "ok"),
        BadImport((C1, C2._replace(email_commitment=EE), C3, C4, C5), reg("v2"),
                  ((1, "linked_claim_identity_change"),)),
        Do(amend(("C2", "holder_commitment", HB, HE)), "linked_claim_identity_change"),
        Do(amend(("C2", "status", "scheduled", "expunged")), "ok"),
        Has({"C2": {"status": "expunged", "linked_creditor": "bob"}}),
        # Unlinking and closing conflicts are operator actions with a reason.
        Do(UnlinkClaim("C6", "duplicate"), "claim_not_found"),
        Do(UnlinkClaim("C5", "duplicate"), "claim_not_linked"),
        Do(UnlinkClaim("C1", " padded"), "reason_invalid"),
        Do(CloseConflict("C1", "bob", "none"), "conflict_not_found"),
        Do(UnlinkClaim("C1", "ownership disputed"), "ok", ("claim.unlinked",)),
        Has({"C1": {"linked_creditor": None, "linked_at": ""}}),
        Do(LinkClaim("C1", "mallory"), "kyc_name_mismatch", ()),  # her open conflict stands
        Do(CloseConflict("C1", "mallory", "the holder's ID is alice's"), "ok",
           ("claim.conflict_closed",)),
        Conflicts({}),
        Do(LinkClaim("C1", "alice"), "ok"),
    ],
    "a creditor's links are bounded": [
        Import(tuple(MANY), "many", (len(MANY), 0, 0, 0)),
        *kyc_approved("zed", ZED_E, ZED_H),
        *[Do(LinkClaim(r.claim_id, "zed"), "ok") for r in MANY[:-1]],
        Do(LinkClaim(MANY[-1].claim_id, "zed"), "links_per_creditor_exceeded"),
    ],
}
# fmt: on


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name: str) -> None:
    harness = Harness()
    for step in SCENARIOS[name]:
        harness.step(step)
    harness.assert_replay()


# The verifier's side: logged events the ladders refuse -----------------------------------------


def _base() -> Harness:
    harness = Harness()
    linking = SCENARIOS["linking: the ladder, conflicts for the operator, review, unlinking"]
    for step in linking[:20]:
        harness.step(step)
    assert harness.state.claims["C1"].linked_creditor == "alice"
    assert ("C1", "mallory") in harness.state.conflicts
    harness.step(Do(SetPolicy((entry("CN"),)), ("ok",)))
    return harness


LATER = format_time(T0 + timedelta(hours=1))
C6_ITEM = claim_payload(C6)
CN_ITEM = policy_entry_payload(entry("CN"))
ESTATE = {
    "estate_id": "mtgox", "name": "Mt. Gox", "petition_date": "2014-02-28",
    "classes": [{"code": "B", "name": "b", "priority": "2"},
                {"code": "A", "name": "a", "priority": "1"}],
    "convenience_class": "", "convenience_threshold_minor": "0", "consensus_rate_bps": "0",
    "interest": "simple", "day_count": "ACT/365",
}  # fmt: skip


def imported(*items: dict[str, Any]) -> dict[str, Any]:
    return {"estate_id": "ftx", "register_id": reg("v2"), "claims": list(items)}


def amended(*items: dict[str, Any]) -> dict[str, Any]:
    return {"estate_id": "ftx", "register_id": reg("v2"), "amendments": list(items)}


def conflict(claim: str, creditor: str, code: str, holder: str) -> dict[str, Any]:
    return {"claim_id": claim, "creditor": creditor, "code": code, "holder": holder}


def decided(state: str, reason: str, name: str, provider: str, ref: str) -> dict[str, Any]:
    return {"creditor": "alice", "state": state, "reason": reason, "name_commitment": name,
            "provider": provider, "reference": ref}  # fmt: skip


def link(claim: str, creditor: str, **extra: str) -> dict[str, Any]:
    return {"claim_id": claim, "creditor": creditor, **extra}


STALE = amendment_payload(Amendment("C2", "status", "allowed", "disputed"))
OK_AMENDMENT = amendment_payload(Amendment("C2", "status", "scheduled", "allowed"))
FR_ITEMS = [policy_entry_payload(entry("FR", date=f"2025-01-{d:02d}")) for d in range(1, 34)]
LINKED, CONFLICT, UNLINKED = "claim.linked", LINK_CONFLICT, "claim.unlinked"

# fmt: off
EVENT_ROWS: list[tuple[str, str, dict[str, Any], str]] = [
    # what, event type, payload, expected code
    ("an unknown event type", "claims.burned", imported(C6_ITEM), "event_type_unknown"),
    ("a claim imported twice", CLAIMS_IMPORTED, imported(claim_payload(C1)), "claim_exists"),
    ("a claim twice in one event", CLAIMS_IMPORTED, imported(C6_ITEM, C6_ITEM),
     "claim_id_duplicated"),
    ("no claims", CLAIMS_IMPORTED, imported(), "payload_malformed"),
    ("a missing field", CLAIMS_IMPORTED, {"estate_id": "ftx", "claims": [C6_ITEM]},
     "payload_malformed"),
    ("an extra field", CLAIMS_IMPORTED, imported(C6_ITEM | {"name": "Erin Sato"}),
     "payload_malformed"),
    ("an amount that is not canonical", CLAIMS_IMPORTED,
     imported(C6_ITEM | {"admitted_minor": "0123"}), "payload_malformed"),
    ("an amount that is a float", CLAIMS_IMPORTED, imported(C6_ITEM | {"admitted_minor": 1.5}),
     "payload_malformed"),
    ("a jurisdiction that is not text", CLAIMS_IMPORTED,
     imported(C6_ITEM | {"jurisdiction": None}), "payload_malformed"),
    ("a negative amount", CLAIMS_IMPORTED, imported(C6_ITEM | {"admitted_minor": "-1"}),
     "amount_out_of_range"),
    ("too many claims", CLAIMS_IMPORTED, imported(*[C6_ITEM] * (claims_per_event_max + 1)),
     "batch_too_large"),
    ("a stale amendment", CLAIMS_AMENDED, amended(STALE), "amendment_old_value_mismatch"),
    ("an amount amended to a float's text", CLAIMS_AMENDED,
     amended({"claim_id": "C2", "field": "admitted_minor", "old": "50000", "new": "1e3"}),
     "payload_malformed"),
    ("too many amendments", CLAIMS_AMENDED,
     amended(*[OK_AMENDMENT] * (amendments_per_event_max + 1)), "batch_too_large"),
    ("an estate whose classes are not sorted", ESTATE_CREATED, ESTATE, "payload_malformed"),
    ("a policy entry set already", POLICY_SET, {"entries": [CN_ITEM]}, "exists"),
    ("rails not sorted", POLICY_SET, {"entries": [CN_ITEM | {"rails": ["usdc", "sepa_eur"]}]},
     "payload_malformed"),
    ("too many policy entries", POLICY_SET, {"entries": FR_ITEMS}, "batch_too_large"),
    ("a proof of an address no claim has", "creditor.email_proved",
     {"creditor": "bob", "email_commitment": commit("email:nobody")}, "email_matches_no_claim"),
    ("a KYC decision on another case", KYC_DECIDED,
     decided("rejected", "other", "", "sumsub", "x"), "kyc_case_mismatch"),
    ("a KYC approval twice", KYC_DECIDED,
     decided("approved", "", HA, "manual", "case-alice"), "kyc_transition_invalid"),
    ("a KYC decision with an extra field", KYC_DECIDED,
     decided("rejected", "other", "", "manual", "case-alice") | {"note": "x"}, "payload_malformed"),
    ("a link without an e-mail proof", LINKED, link("C2", "mallory"), "email_not_proved"),
    ("a link that exists", LINKED, link("C1", "alice"), "link_exists"),
    ("a link of a claim linked to another", LINKED, link("C1", "mallory"), "claim_already_linked"),
    ("a link with an extra field", LINKED, link("C4", "alice", by="x"), "payload_malformed"),
    ("a review link without a reason", "claim.linked_on_review", link("C4", "alice", reason=""),
     "reason_invalid"),
    ("a conflict with a code that is not recorded", CONFLICT,
     conflict("C1", "mallory", "email_not_proved", "alice"), "conflict_code_unknown"),
    ("a conflict on no claim", CONFLICT, conflict("C9", "mallory", "claim_already_linked", ""),
     "claim_not_found"),
    ("a conflict naming another holder", CONFLICT,
     conflict("C4", "mallory", "claim_already_linked", "bob"), "linked_to_other_creditor"),
    ("a conflict recorded twice", CONFLICT,
     conflict("C1", "mallory", "claim_already_linked", "alice"), "conflict_exists"),
    ("a conflict the ladder does not reproduce", CONFLICT,
     conflict("C2", "mallory", "claim_already_linked", ""), "conflict_not_reproduced"),
    ("a conflict with the wrong code", CONFLICT,
     conflict("C4", "mallory", "kyc_name_mismatch", "alice"), "conflict_not_reproduced"),
    ("an unlink naming another creditor", UNLINKED, link("C1", "bob", reason="x"),
     "linked_to_other_creditor"),
    ("an unlink naming no creditor", UNLINKED, link("C1", "", reason="x"),
     "creditor_name_invalid"),
    ("a conflict closed that is not open", "claim.conflict_closed", link("C1", "bob", reason="x"),
     "conflict_not_found"),
]
# fmt: on


@pytest.mark.parametrize("row", EVENT_ROWS, ids=[r[0] for r in EVENT_ROWS])
def test_check_refuses_a_logged_event(row: tuple[str, str, dict[str, Any], str]) -> None:
    what, event_type, payload, code = row
    harness = _base()
    before = harness.state.snapshot()
    rejection = check_claims(harness.state, event_type, payload, LATER)
    assert rejection is not None, what
    assert rejection.code.name == code, f"{what}: {rejection}"
    assert harness.state.snapshot() == before, "check must not change the state"


def test_check_accepts_the_conflict_the_ladder_reproduces() -> None:
    harness = _base()
    payload = conflict("C4", "mallory", "claim_already_linked", "alice")
    assert check_claims(harness.state, LINK_CONFLICT, payload, LATER) is None


# Every code has a row -------------------------------------------------------------------------


def _covered() -> set[str]:
    names: set[str] = set()
    for steps in SCENARIOS.values():
        for step in steps:
            match step:
                case Do(_, expect):
                    names.update(expect if isinstance(expect, tuple) else (expect,))
                case BadImport(_, _, problems):
                    names.update(code for _, code in problems)
    names.update(code for *_, code in EVENT_ROWS)
    return names


@pytest.mark.parametrize(
    "enum", [EventCode, EstateCode, ClaimCode, PolicyCode, ProofCode, KycCode, LinkCode]
)
def test_every_code_has_a_row(enum: Any) -> None:
    assert {c.name for c in enum} - _covered() == set()


@pytest.mark.parametrize(
    "enum", [EventCode, EstateCode, ClaimCode, PolicyCode, ProofCode, KycCode, LinkCode]
)
def test_codes_are_ordered_and_never_share_a_value(enum: Any) -> None:
    values = [c.value for c in enum]
    assert values == sorted(values)
    assert len(set(values)) == len(values)
    assert next(iter(enum)).name == "ok"


# Bounds -----------------------------------------------------------------------------------------


def test_commands_larger_than_their_bound_are_refused_whole() -> None:
    harness = Harness()
    rows = tuple(row(f"N{i}", EA, HA, "CN", "5A", 1) for i in range(claims_per_event_max + 1))
    refused = decide_claims(harness.state, ImportClaims("ftx", reg("n"), rows), T0)
    assert isinstance(refused, ClaimsRejection)
    assert refused.code is EventCode.batch_too_large
    accepted = harness.run(ImportClaims("ftx", reg("n"), rows[:-1]))
    assert isinstance(accepted, Decision)
    amendments = tuple(
        Amendment(r.claim_id, name, old, new)
        for name, old, new in (("status", "allowed", "disputed"), ("admitted_minor", 1, 2))
        for r in rows[:-1]
    )[: amendments_per_event_max + 1]
    refused = decide_claims(harness.state, AmendClaims("ftx", reg("n"), amendments), T0)
    assert isinstance(refused, ClaimsRejection)
    assert refused.code is EventCode.batch_too_large
    accepted = harness.run(AmendClaims("ftx", reg("n"), amendments[:-1]))
    assert isinstance(accepted, Decision)
    assert len(accepted.events) == 1


def test_a_register_larger_than_its_bound_is_refused_before_it_is_read() -> None:
    class Huge(Sequence[RegisterRow]):
        def __len__(self) -> int:
            return register_rows_max + 1

        def __getitem__(self, index: Any) -> Any:
            raise AssertionError("a register over the bound must not be read")

    plan = plan_register_import(Harness().state, "ftx", reg("huge"), Huge())
    assert isinstance(plan, RegisterRefusal)
    assert [(p.row, p.code) for p in plan.problems] == [(None, EventCode.batch_too_large)]


def test_a_register_lists_its_first_problems_and_counts_them_all() -> None:
    count = limits.register_report_errors_max + 7
    rows = [row(f"C{i}", EA, HA, "XX", "5A", 1) for i in range(count)]
    plan = plan_register_import(Harness().state, "ftx", reg("bad"), rows)
    assert isinstance(plan, RegisterRefusal)
    assert len(plan.problems) == limits.register_report_errors_max
    assert plan.problem_count == len(rows)
    assert plan.problems[0].detail == "not an ISO 3166-1 alpha-2 code"


def _event_bytes(event_type: str, payload: dict[str, Any]) -> int:
    """Size of the event as the log stores it: the payload plus a generous envelope (type, time,
    actor, key id, version, sequence number and a base64 signature)."""
    envelope = {"actor": "a" * 63, "key": "0" * 8, "payload": payload, "seq": str(2**62),
                "sig": "s" * 88, "time": format_time(T0), "tv": "1", "type": event_type,
                "v": "1"}  # fmt: skip
    return len(canonical.encode(envelope))


def test_the_largest_events_fit_the_event_size_limit() -> None:
    longest = "W" * 64
    item = claim_payload(RegisterRow(longest, longest, EA, HA, "CN", "Z" * 16, BIGINT, "disputed"))
    head = {"estate_id": "e" * 63, "register_id": reg("x")}
    claims = head | {"claims": [item] * claims_per_event_max}
    assert _event_bytes(CLAIMS_IMPORTED, claims) <= limits.event_size_max_bytes
    amendment = amendment_payload(Amendment(longest, "holder_commitment", HA, HB))
    amendments = head | {"amendments": [amendment] * amendments_per_event_max}
    assert _event_bytes(CLAIMS_AMENDED, amendments) <= limits.event_size_max_bytes
    widest = entry("CN", "restricted", "2025-07-02", tuple(f"{i}" + "r" * 31 for i in range(8)),
                   "\U0001f600" * 200, "s" * 256)  # fmt: skip
    policy = {"entries": [policy_entry_payload(widest)] * policy_entries_per_event_max}
    assert _event_bytes(POLICY_SET, policy) <= limits.event_size_max_bytes


def test_every_event_type_has_roles_and_a_version() -> None:
    assert set(CLAIMS_EVENT_TYPES) == {
        "estate.created", "claims.imported", "claims.amended", "jurisdiction.policy_set",
        "creditor.email_proved", "kyc.submitted", "kyc.decided", "claim.linked",
        "claim.linked_on_review", "claim.link_conflict", "claim.unlinked", "claim.conflict_closed",
    }  # fmt: skip
    for versions, roles in CLAIMS_EVENT_TYPES.values():
        assert versions == frozenset({1})
        assert roles
    assert CLAIMS_EVENT_TYPES["kyc.decided"][1] == {"kyc_officer", "kyc_provider"}
    assert "gateway" not in CLAIMS_EVENT_TYPES["claim.unlinked"][1]


# The KYC table, cell by cell --------------------------------------------------------------------


@pytest.mark.parametrize("kyc_state", KYC_STATES)
@pytest.mark.parametrize("column", [SUBMIT, APPROVED, REJECTED, RESUB])
def test_the_kyc_table_is_the_ladder(kyc_state: str, column: str) -> None:
    """Every cell of ``KYC_TRANSITIONS`` is accepted and moves to its state; every empty cell
    is ``kyc_transition_invalid``."""
    state = ClaimsState()
    if kyc_state != "not_started":
        name = HA if kyc_state == APPROVED else ""
        reason = "other" if kyc_state in (REJECTED, RESUB) else ""
        record = Kyc("alice", kyc_state, reason, name, "manual", "case-1", format_time(T0))
        state.kyc["alice"] = record
    command: ClaimsCommand
    if column == SUBMIT:
        command = SubmitKyc("alice", "manual", "case-1")
    elif column == APPROVED:
        command = DecideKyc("alice", APPROVED, "manual", "case-1", name_commitment=HB)
    else:
        command = DecideKyc("alice", column, "manual", "case-1", "document_expired")
    decision = decide_claims(state, command, T0)
    following = KYC_TRANSITIONS[kyc_state].get(column)
    if following is None:
        assert isinstance(decision, ClaimsRejection)
        assert decision.code is KycCode.kyc_transition_invalid
        return
    assert isinstance(decision, Decision)
    ((event_type, payload),) = decision.events
    assert check_claims(state, event_type, payload, format_time(T0)) is None
    evolve_claims(state, event_type, payload, format_time(T0))
    assert state.kyc_state("alice") == following
    assert_claims_invariants(state)
