"""A stateful model of the claims core: random registers, policies, proofs, KYC and links.

The reference (``Ref``) is written from the specification in the claims package's docstrings,
not from its code: plain dicts, no ladder. It predicts the answer to every command — for a
register, the bad rows and their codes, or the counts of new, amended, expunged and unchanged
claims; for every other command its code — and the whole state after it. After every step the
machine checks that the core agrees, that its invariants hold, and (in ``run``) that every
event's payload survives the canonical encoding, passes ``check_claims`` and names in
``changed`` every entity it changed; re-importing a register version just imported plans
nothing; at the end the log is replayed into a fresh state that must be identical.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from reclaim.core import limits
from reclaim.core.claims import (
    AMENDABLE_FIELDS,
    KYC_REASONS,
    STATUSES,
    Amendment,
    ClaimClass,
    ClaimsCommand,
    ClaimsRejection,
    ClaimsState,
    CloseConflict,
    CreateEstate,
    DecideKyc,
    Decision,
    ImportPlan,
    LinkClaim,
    LinkOnReview,
    PolicyEntry,
    ProveEmail,
    RegisterRefusal,
    RegisterRow,
    SetPolicy,
    SubmitKyc,
    UnlinkClaim,
    amendment_from_payload,
    amendment_payload,
    assert_claims_invariants,
    claim_from_payload,
    claim_payload,
    entry_from_payload,
    plan_register_import,
    policy_entry_payload,
    treatment,
)
from reclaim.core.events import format_time
from reclaim.log import canonical
from tests.support.core_harness import CLAIMS, replay_subcore, run_subcore

T0 = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)


def h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


CLAIM_IDS = [f"C{i}" for i in range(8)]
EMAILS = [h(f"email:{i}") for i in range(4)]
HOLDERS = [h(f"name:{i}") for i in range(3)]
ISOS = ["CN", "FR", "US", "RU"]
CLASSES = ["5A", "7"]
CREDITORS = ["alice", "bob", "carol"]
DATES = ["2025-01-01", "2025-07-02", "2025-11-03"]
PROBE_DATES = ["2024-12-31", "2025-01-01", "2025-03-01", "2025-07-02", "2025-11-03", "2026-01-01"]
OTHER = RegisterRow("K0", "K0", EMAILS[0], HOLDERS[0], "US", "X", 5, "allowed")
#: Faults a row may carry (one at most), with the code the ladder names.
FAULTS = {
    "claim_id": ("C 1", "claim_id_malformed"),
    "jurisdiction": ("XX", "jurisdiction_unknown"),
    "class_code": ("ZZ", "class_unknown"),
    "admitted_minor": (-1, "amount_out_of_range"),
    "status": ("paid", "status_unknown"),
}
ROW_FIELDS = RegisterRow._fields
#: Link refusals the core records for the operator.
CONFLICTS = ("claim_already_linked", "kyc_name_mismatch")
APPROVED, REJECTED, RESUB, PENDING = "approved", "rejected", "resubmission_requested", "pending"
#: The KYC table, written out again from the onboarding docstring.
TABLE = {
    "not_started": {"submit": PENDING},
    PENDING: {APPROVED: APPROVED, REJECTED: REJECTED, RESUB: RESUB},
    APPROVED: {REJECTED: REJECTED, RESUB: RESUB},
    REJECTED: {RESUB: RESUB},
    RESUB: {"submit": PENDING},
}


# The reference model ----------------------------------------------------------------------------


@dataclass
class Ref:
    #: claim id -> the register row's fields, plus "estate" and "linked".
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    proofs: dict[str, set[str]] = field(default_factory=dict)
    #: creditor -> [state, name, (provider, reference)]
    kyc: dict[str, list[Any]] = field(default_factory=dict)
    conflicts: dict[tuple[str, str], str] = field(default_factory=dict)
    #: iso -> entries in the order they were set
    policy: dict[str, list[PolicyEntry]] = field(default_factory=dict)

    def kyc_state(self, creditor: str) -> str:
        return self.kyc[creditor][0] if creditor in self.kyc else "not_started"

    def link_answer(self, claim_id: str, creditor: str, review: bool) -> str:
        claim = self.claims.get(claim_id)
        if claim is None:
            return "claim_not_found"
        if claim["linked"] == creditor:
            return "link_exists"
        if claim["status"] == "expunged":
            return "claim_expunged"
        if claim["email_commitment"] not in self.proofs.get(creditor, set()):
            return "email_not_proved"
        if self.kyc_state(creditor) != APPROVED:
            return "kyc_not_approved"
        if claim["linked"] is not None:
            return "claim_already_linked"
        if not review and self.kyc[creditor][1] != claim["holder_commitment"]:
            return "kyc_name_mismatch"
        return "ok"

    def in_force(self, iso: str, date: str) -> PolicyEntry | None:
        found = None
        for e in self.policy.get(iso, []):
            if e.effective_date <= date and (
                found is None or e.effective_date >= found.effective_date
            ):
                found = e
        return found


# The machine ------------------------------------------------------------------------------------


class ClaimsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = ClaimsState()
        self.ref = Ref()
        self.now = T0
        self.registers = 0
        self.first = True
        self.log: list[tuple[str, dict[str, Any], str]] = []

    def run(self, command: ClaimsCommand) -> Decision | ClaimsRejection:
        self.now += timedelta(seconds=1)
        decision: Decision | ClaimsRejection = run_subcore(
            CLAIMS, self.state, command, self.now, format_time(self.now), self.log
        )
        return decision

    def answer(self, command: ClaimsCommand) -> tuple[str, int]:
        """The code of the answer and how many events it appended."""
        logged = len(self.log)
        decision = self.run(command)
        if isinstance(decision, ClaimsRejection):
            return decision.code.name, 0
        code = decision.results[0].code.name if decision.results else "ok"
        return code, len(self.log) - logged

    @initialize(data=st.data())
    def estates(self, data: st.DataObject) -> None:
        classes = (ClaimClass("5A", "Dotcom", 1), ClaimClass("7", "Convenience", 1))
        for estate in (
            CreateEstate("ftx", "FTX", "2022-11-11", classes, "7", 5_000_000, 900),
            CreateEstate("other", "Other", "2023-01-01", (ClaimClass("X", "All", 1),)),
        ):
            assert self.answer(estate) == ("ok", 1)
        plan = plan_register_import(self.state, "other", h("other"), [OTHER])
        assert isinstance(plan, ImportPlan)
        for command in plan.commands:
            self.run(command)
        self.ref.claims["K0"] = dict(zip(ROW_FIELDS, OTHER, strict=True)) | {
            "estate": "other", "linked": None
        }  # fmt: skip
        # A first register version with every claim, so that onboarding has claims to find.
        self.import_rows(data, [self.draw_row(data, claim_id) for claim_id in CLAIM_IDS], True)
        self.first = False

    # Registers ----------------------------------------------------------------------------------

    def draw_row(self, data: st.DataObject, claim_id: str) -> tuple[RegisterRow, str | None]:
        """A row of ``claim_id``, and the code of its one fault (or None)."""
        current = self.ref.claims.get(claim_id)
        # Often a claim's row exactly as it is (so a version changes some claims, not all).
        keep = claim_id != "K0" and current is not None and data.draw(st.integers(0, 2)) == 0
        values: dict[str, Any] = (
            {f: current[f] for f in ROW_FIELDS}
            if keep and current is not None
            else {
                "claim_id": claim_id,
                "customer_code": data.draw(st.sampled_from(["A1", "B2"])),
                "email_commitment": data.draw(st.sampled_from(EMAILS)),
                "holder_commitment": data.draw(st.sampled_from(HOLDERS)),
                "jurisdiction": data.draw(st.sampled_from(ISOS)),
                "class_code": data.draw(st.sampled_from(CLASSES)),
                "admitted_minor": data.draw(st.integers(0, 1000)),
                "status": data.draw(st.sampled_from(STATUSES[:-1] if self.first else STATUSES)),
            }
        )
        fault = None
        if data.draw(st.integers(0, 19)) == 0:
            name = data.draw(st.sampled_from(sorted(FAULTS)))
            values[name], fault = FAULTS[name]
        return RegisterRow(**values), fault

    @rule(data=st.data(), size=st.integers(0, 6), full=st.integers(0, 3))
    def import_register(self, data: st.DataObject, size: int, full: int) -> None:
        """A register version: mostly distinct claims, sometimes one listed twice or the other
        estate's claim; one version in four is a full schedule, the others supplements."""
        claim_ids = data.draw(st.lists(st.sampled_from(CLAIM_IDS), unique=True, max_size=size))
        if data.draw(st.integers(0, 7)) == 0:
            claim_ids.append(data.draw(st.sampled_from([*claim_ids, "K0"])))
        self.import_rows(data, [self.draw_row(data, claim_id) for claim_id in claim_ids], not full)

    def import_rows(
        self, data: st.DataObject, drawn: list[tuple[RegisterRow, str | None]], full: bool
    ) -> None:
        rows = [r for r, _ in drawn]
        self.registers += 1
        register_id = h(f"register:{self.registers}")
        problems, new, amended, expunged, unchanged, changes = self.predict(drawn, full)
        plan = plan_register_import(self.state, "ftx", register_id, rows, full_schedule=full)
        if problems:
            assert isinstance(plan, RegisterRefusal), plan
            assert [(p.row, p.code.name) for p in plan.problems] == problems
            return
        assert isinstance(plan, ImportPlan), plan
        got = (plan.new_claims, plan.amended_claims, plan.expunged_claims, plan.unchanged_claims)
        assert got == (new, amended, expunged, unchanged)
        planned = {
            (a.claim_id, a.field, a.old, a.new)
            for c in plan.commands for a in getattr(c, "amendments", ())
        }  # fmt: skip
        assert planned == changes
        for command in plan.commands:
            decision = self.run(command)
            assert isinstance(decision, Decision), decision
            assert len(decision.events) == 1
        for claim_id, name, _, value in changes:
            self.ref.claims[claim_id][name] = value
        for r in rows:
            if r.claim_id not in self.ref.claims:
                fields = dict(zip(ROW_FIELDS, r, strict=True))
                self.ref.claims[r.claim_id] = fields | {"estate": "ftx", "linked": None}
        again = plan_register_import(self.state, "ftx", register_id, rows, full_schedule=full)
        assert isinstance(again, ImportPlan)
        assert again.commands == (), "re-importing a version must plan nothing"

    def predict(self, drawn: list[tuple[RegisterRow, str | None]], full: bool) -> tuple[Any, ...]:
        problems: list[tuple[int, str]] = []
        seen: set[str] = set()
        new = amended = unchanged = 0
        changes: set[tuple[str, str, Any, Any]] = set()
        for index, (r, fault) in enumerate(drawn):
            if fault is not None:
                problems.append((index, fault))
                continue
            if r.claim_id in seen:
                problems.append((index, "claim_id_duplicated"))
                continue
            seen.add(r.claim_id)
            current = self.ref.claims.get(r.claim_id)
            if current is None:
                new += 1
                continue
            if current["estate"] != "ftx":
                problems.append((index, "claim_in_other_estate"))
                continue
            diff = {
                (r.claim_id, f, current[f], getattr(r, f))
                for f in AMENDABLE_FIELDS if current[f] != getattr(r, f)
            }  # fmt: skip
            identity = {d for d in diff if d[1] in ("email_commitment", "holder_commitment")}
            if identity and current["linked"] is not None:
                problems.append((index, "linked_claim_identity_change"))
            elif diff:
                amended += 1
                changes |= diff
            else:
                unchanged += 1
        expunged = 0
        if full:
            for claim_id, c in self.ref.claims.items():
                if c["estate"] == "ftx" and claim_id not in seen and c["status"] != "expunged":
                    changes.add((claim_id, "status", c["status"], "expunged"))
                    expunged += 1
        return problems, new, amended, expunged, unchanged, changes

    # Policy -------------------------------------------------------------------------------------

    @rule(data=st.data(), size=st.integers(1, 3))
    def set_policy(self, data: st.DataObject, size: int) -> None:
        entries = []
        for _ in range(size):
            status = data.draw(st.sampled_from(["open", "restricted", "sanctioned"]))
            rails = () if status == "sanctioned" else tuple(
                data.draw(st.lists(st.sampled_from(["usdc", "sepa_eur"]), unique=True))
            )  # fmt: skip
            iso = data.draw(st.sampled_from(["CN", "FR", "RU"]))
            reason = data.draw(st.sampled_from(["listed", "counsel opinion"]))
            date = data.draw(st.sampled_from(DATES))
            entries.append(PolicyEntry(iso, status, reason, "https://example.org/m", date, rails))
        expected: list[str] = []
        batch: set[tuple[str, str]] = set()
        for e in entries:
            e = e._replace(rails=tuple(sorted(e.rails)))
            same = [
                x for x in self.ref.policy.get(e.iso, []) if x.effective_date == e.effective_date
            ]
            if (e.iso, e.effective_date) in batch:
                expected.append("entry_duplicated")
            elif same and same[-1] == e:
                expected.append("exists")
            else:
                expected.append("ok")
                batch.add((e.iso, e.effective_date))
        decision = self.run(SetPolicy(tuple(entries)))
        if "entry_duplicated" in expected:
            assert isinstance(decision, ClaimsRejection)
            assert decision.code.name == "entry_duplicated"
            return
        assert isinstance(decision, Decision)
        assert [r.code.name for r in decision.results] == expected
        for e, code in zip(entries, expected, strict=True):
            if code == "ok":
                self.ref.policy.setdefault(e.iso, []).append(
                    e._replace(rails=tuple(sorted(e.rails)))
                )

    # Onboarding ---------------------------------------------------------------------------------

    @rule(creditor=st.sampled_from(CREDITORS), email=st.sampled_from([*EMAILS, h("nobody")]))
    def prove_email(self, creditor: str, email: str) -> None:
        if not any(c["email_commitment"] == email for c in self.ref.claims.values()):
            expected = "email_matches_no_claim"
        elif email in self.ref.proofs.get(creditor, set()):
            expected = "exists"
        else:
            expected = "ok"
            self.ref.proofs.setdefault(creditor, set()).add(email)
        assert self.answer(ProveEmail(creditor, email)) == (expected, int(expected == "ok"))

    @rule(creditor=st.sampled_from(CREDITORS), provider=st.sampled_from(["manual", "sumsub"]))
    def submit_kyc(self, creditor: str, provider: str) -> None:
        reference = f"case-{len(self.log)}"
        expected = (
            "ok" if "submit" in TABLE[self.ref.kyc_state(creditor)] else "kyc_transition_invalid"
        )
        assert self.answer(SubmitKyc(creditor, provider, reference)) == (
            expected,
            int(expected == "ok"),
        )
        if expected == "ok":
            self.ref.kyc[creditor] = [PENDING, "", (provider, reference)]

    @rule(
        creditor=st.sampled_from(CREDITORS),
        to=st.sampled_from([APPROVED, REJECTED, RESUB]),
        name=st.sampled_from(HOLDERS),
        same_case=st.integers(0, 5),
    )
    def decide_kyc(self, creditor: str, to: str, name: str, same_case: int) -> None:
        case: tuple[str, str] = (
            self.ref.kyc[creditor][2] if creditor in self.ref.kyc else ("manual", "none")
        )
        if not same_case:
            case = ("manual", "other-case")
        approved = to == APPROVED
        command = DecideKyc(
            creditor,
            to,
            case[0],
            case[1],
            "" if approved else sorted(KYC_REASONS)[0],
            name if approved else "",
        )
        if to not in TABLE[self.ref.kyc_state(creditor)]:
            expected = "kyc_transition_invalid"
        elif case != self.ref.kyc[creditor][2]:
            expected = "kyc_case_mismatch"
        else:
            expected = "ok"
            self.ref.kyc[creditor] = [to, name if approved else "", case]
        assert self.answer(command) == (expected, int(expected == "ok"))

    @rule(creditor=st.sampled_from(CREDITORS), claim_id=st.sampled_from([*CLAIM_IDS, "K0"]))
    def link(self, creditor: str, claim_id: str) -> None:
        expected = self.ref.link_answer(claim_id, creditor, review=False)
        events = 0
        if expected == "ok":
            self.linked(claim_id, creditor)
            events = 1
        elif expected in CONFLICTS and (claim_id, creditor) not in self.ref.conflicts:
            self.ref.conflicts[(claim_id, creditor)] = expected  # recorded once while open
            events = 1
        assert self.answer(LinkClaim(claim_id, creditor)) == (expected, events)

    @rule(creditor=st.sampled_from(CREDITORS), claim_id=st.sampled_from(CLAIM_IDS))
    def link_on_review(self, creditor: str, claim_id: str) -> None:
        expected = self.ref.link_answer(claim_id, creditor, review=True)
        if expected == "ok":
            self.linked(claim_id, creditor)
        command = LinkOnReview(claim_id, creditor, "names match on review")
        assert self.answer(command) == (expected, int(expected == "ok"))

    @rule(
        creditor=st.sampled_from(CREDITORS),
        claim_id=st.sampled_from(CLAIM_IDS),
        name=st.sampled_from([None, *HOLDERS]),
    )
    def onboard(self, creditor: str, claim_id: str, name: str | None) -> None:
        """The whole flow for one claim, each step checked like the single rules: prove its
        e-mail, open and approve KYC (under the holder's name, or ``name``), link."""
        claim = self.ref.claims.get(claim_id)
        if claim is None:
            return
        self.prove_email(creditor, claim["email_commitment"])
        if self.ref.kyc_state(creditor) in ("not_started", RESUB):
            self.submit_kyc(creditor, "manual")
        if self.ref.kyc_state(creditor) == PENDING:
            self.decide_kyc(creditor, APPROVED, name or claim["holder_commitment"], 1)
        self.link(creditor, claim_id)

    def linked(self, claim_id: str, creditor: str) -> None:
        self.ref.claims[claim_id]["linked"] = creditor
        self.ref.conflicts.pop((claim_id, creditor), None)

    @rule(data=st.data())
    def unlink(self, data: st.DataObject) -> None:
        linked = sorted(i for i, c in self.ref.claims.items() if c["linked"] is not None)
        claim_id = data.draw(st.sampled_from(linked or CLAIM_IDS))
        claim = self.ref.claims.get(claim_id)
        if claim is None:
            expected = "claim_not_found"
        elif claim["linked"] is None:
            expected = "claim_not_linked"
        else:
            expected = "ok"
            claim["linked"] = None
        assert self.answer(UnlinkClaim(claim_id, "operator review")) == (
            expected,
            int(expected == "ok"),
        )

    @rule(data=st.data())
    def close_conflict(self, data: st.DataObject) -> None:
        pairs = [*sorted(self.ref.conflicts), ("C0", "bob")]
        claim_id, creditor = data.draw(st.sampled_from(pairs))
        expected = "ok" if (claim_id, creditor) in self.ref.conflicts else "conflict_not_found"
        self.ref.conflicts.pop((claim_id, creditor), None)
        command = CloseConflict(claim_id, creditor, "resolved")
        assert self.answer(command) == (expected, int(expected == "ok"))

    # After every step ---------------------------------------------------------------------------

    @invariant()
    def agrees_with_the_reference(self) -> None:
        assert_claims_invariants(self.state)
        assert set(self.state.claims) == set(self.ref.claims)
        for claim_id, c in self.ref.claims.items():
            claim = self.state.claims[claim_id]
            assert claim[:8] == tuple(c[f] for f in ROW_FIELDS), claim_id  # the register row
            assert (claim.estate_id, claim.linked_creditor) == (c["estate"], c["linked"])
        for email in EMAILS:
            assert set(self.state.claims_of_email(email)) == {
                i for i, c in self.ref.claims.items() if c["email_commitment"] == email
            }
        assert {k: c.code for k, c in self.state.conflicts.items()} == self.ref.conflicts
        assert {c: set(p) for c, p in self.state.proofs.items()} == self.ref.proofs
        for creditor in CREDITORS:
            assert self.state.kyc_state(creditor) == self.ref.kyc_state(creditor)
        for iso in ("CN", "FR", "RU"):
            for date in PROBE_DATES:
                assert treatment(self.state, iso, date) == self.ref.in_force(iso, date)

    def teardown(self) -> None:
        replayed = replay_subcore(CLAIMS, ClaimsState(), self.log)
        assert_claims_invariants(replayed)
        assert replayed.snapshot() == self.state.snapshot()


ClaimsMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestClaimsMachine = ClaimsMachine.TestCase


# Payload round trips ----------------------------------------------------------------------------

ids = st.text(alphabet="abcXYZ019._:-", min_size=1, max_size=64)
hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
rows = st.builds(
    RegisterRow,
    claim_id=ids,
    customer_code=ids,
    email_commitment=hex64,
    holder_commitment=hex64,
    jurisdiction=st.sampled_from(["CN", "FR", "US"]),
    class_code=st.sampled_from(["5A", "7"]),
    admitted_minor=st.integers(0, limits.integer_max),
    status=st.sampled_from(STATUSES),
)


@given(rows)
def test_a_claim_payload_survives_the_canonical_encoding(row: RegisterRow) -> None:
    payload = claim_payload(row)
    decoded = canonical.decode(canonical.encode({"claims": [payload]}))["claims"]
    assert isinstance(decoded, list)
    assert decoded == [payload]
    assert claim_from_payload(decoded[0]) == row


@given(ids, st.sampled_from(AMENDABLE_FIELDS), st.data())
def test_an_amendment_payload_survives_the_canonical_encoding(
    claim_id: str, name: str, data: st.DataObject
) -> None:
    value: st.SearchStrategy[str | int] = (
        st.integers(0, limits.integer_max) if name == "admitted_minor" else ids
    )
    amendment = Amendment(claim_id, name, data.draw(value), data.draw(value))
    decoded = canonical.decode(canonical.encode({"a": [amendment_payload(amendment)]}))["a"]
    assert isinstance(decoded, list)
    assert amendment_from_payload(decoded[0]) == amendment


@given(
    st.builds(
        PolicyEntry,
        iso=st.sampled_from(["CN", "KP"]),
        status=st.sampled_from(["open", "restricted", "sanctioned"]),
        reason=st.text(min_size=1, max_size=20),
        source=st.text(alphabet="abc:/.", min_size=1, max_size=20),
        effective_date=st.sampled_from(DATES),
        rails=st.lists(st.sampled_from(["sepa_eur", "usdc", "usd_wire_hk"]), unique=True).map(
            lambda r: tuple(sorted(r))
        ),
    )
)
def test_a_policy_entry_survives_the_canonical_encoding(entry: PolicyEntry) -> None:
    payload = policy_entry_payload(entry)
    decoded = canonical.decode(canonical.encode({"entries": [payload]}))["entries"]
    assert isinstance(decoded, list)
    parsed = entry_from_payload(decoded[0])
    assert parsed._replace(reason=entry.reason) == entry  # text comes back in NFC
