"""The demo's recovery programme: an FTX-like estate from register to distributions and escrow.

What ``reclaim demo`` runs after the foundation events, on the same SQLite log, with the
operator keys of the demo's key directory (every step a signed event):

1. the shipped FTX estate and restricted-jurisdiction policy (CN restricted from 2025-07-02);
2. a synthetic register of ``claims`` claims (classes 5A/5B/6A/6B, convenience class 7 for
   claims up to $50,000, a few disputed), written as CSV and imported through the real import
   (validation, PII vault, commitments);
3. a third of the holders onboarded: registered by the gateway, e-mail proved, KYC approved by
   the KYC officer, claim linked; some elect EUR or USDC; EUR and USDC rates recorded;
4. the shipped FTX plan and its four rounds, each declared, funded, previewed (files in
   ``<data dir>/rounds/<round>/``), approved and executed: CN holders are escrowed from round 3
   (the restriction), holders without KYC by the deadline and unlinked claims are escrowed;
5. one CN creditor proves a move to Hong Kong and her escrow is released; one escrow of a
   missed KYC deadline is forfeited by an order.

Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl
from rich.console import Console

from reclaim import bootstrap
from reclaim.adapters.estate_file import load_estate_file, shipped_estate
from reclaim.adapters.identity import FoldedCommitments
from reclaim.adapters.policy_file import PolicyReport, load_policy_csv, shipped_policy
from reclaim.adapters.register_file import read_register, write_register_csv
from reclaim.adapters.round_file import read_round_lines, write_round_preview
from reclaim.adapters.round_spec_file import load_round_spec, shipped_round_spec
from reclaim.app import distributions
from reclaim.app.claims_import import ImportReport, create_estate, import_register, set_policy
from reclaim.app.log_service import Accepted
from reclaim.core.claims import DecideKyc, LinkClaim, ProveEmail, SubmitKyc
from reclaim.core.distribution.machine import (
    ElectPayout,
    ForfeitEscrow,
    ProveResidence,
    RecordFxRate,
    ReleaseEscrow,
)
from reclaim.core.money import ASSETS, format_amount
from reclaim.core.rejections import Rejection
from reclaim.core.state import Command, RegisterActor
from reclaim.log.keys import SignerKey

CLASSES: Final = ("5A", "5A", "5A", "5B", "6A", "6B")
#: Jurisdictions of the demo register, weighted roughly like FTX's creditors.
ISOS: Final = ("CN", "CN", "KR", "JP", "FR", "DE", "GB", "SG", "HK", "US", "BR", "RU")
ECB: Final = (
    "https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates"
)


@dataclass(frozen=True, slots=True)
class ProgrammeSummary:
    claims: int
    onboarded: int
    rounds: int
    lines: int
    paid_usd_minor: int
    escrowed_usd_minor: int
    released: int
    forfeited: int


class DemoFailed(RuntimeError):
    """A step of the demo programme was refused (a bug in the demo or in reclaim)."""


def usd(minor: int) -> str:
    """``123456`` as ``$1,234.56`` (exact: no float)."""
    whole, _, cents = format_amount(minor, ASSETS["USD"]).partition(".")
    return f"${int(whole):,}.{cents}"


def _ok(outcome: Accepted | Rejection | object, what: str) -> None:
    if isinstance(outcome, Rejection):
        raise DemoFailed(f"{what}: {outcome}")


def _submit(container: bootstrap.Container, commands: list[tuple[Command, str]]) -> None:
    for start in range(0, len(commands), 500):
        for outcome in container.log.submit_many(commands[start : start + 500]):
            _ok(outcome, "demo command")


def run_programme(
    container: bootstrap.Container, data_dir: Path, console: Console, *, claims: int, seed: int
) -> ProgrammeSummary:
    rng = random.Random(seed)
    vault, commitments = bootstrap.open_claims_vault(container)
    identity = FoldedCommitments(commitments)
    estate = load_estate_file(shipped_estate("ftx"))
    _ok(create_estate(container.log, estate), "estate")
    policy = load_policy_csv(shipped_policy("ftx_restricted_jurisdictions_2025"))
    assert not isinstance(policy, PolicyReport), "the shipped policy is valid"
    _ok(set_policy(container.log, policy), "policy")

    register = data_dir / "register.csv"
    people = _register(register, claims, rng)
    imported = import_register(
        container.log, vault, commitments, "ftx", register, read=read_register
    )
    if isinstance(imported, ImportReport):
        raise DemoFailed(f"register: {imported.lines()[:3]}")
    console.print(f"imported {imported.new_claims:,} claims from {register}")

    onboarded = _onboard(container, people, identity, rng)
    _submit(container, [
        (RecordFxRate("EUR", "0.9234", ECB, "2025-01-02T15:00:00.000000Z"), "treasury"),
        (RecordFxRate("USDC", "1", "https://www.circle.com/usdc", "2025-01-02T15:00:00.000000Z"),
         "treasury"),
    ])  # fmt: skip

    spec = load_round_spec(shipped_round_spec("ftx"))
    _ok(distributions.set_plan(container.log, spec.plan), "plan")
    lines = paid = escrowed = 0
    for round_ in spec.rounds:
        _ok(distributions.declare(container.log, round_), round_.round_id)
        _ok(distributions.fund(container.log, round_.round_id), round_.round_id)
        computed = distributions.preview(container.log, round_.round_id)
        files = write_round_preview(data_dir / "rounds" / round_.round_id, computed.lines)
        _ok(distributions.approve(container.log, round_.round_id, files.lines_sha256, computed),
            round_.round_id)  # fmt: skip
        done = distributions.execute(
            container.log, round_.round_id, read_round_lines(files.lines_path, files.lines_sha256)
        )
        _ok(done, round_.round_id)
        summary = computed.lines.summary()
        lines += summary.lines
        paid += summary.paid_usd_minor
        escrowed += summary.escrowed_usd_minor
        console.print(
            f"round {round_.round_id}: {summary.lines:,} lines, paid "
            f"{usd(summary.paid_usd_minor)}, escrowed {usd(summary.escrowed_usd_minor)}"
        )
    released, forfeited = _escrow_events(container, people)
    return ProgrammeSummary(claims, onboarded, len(spec.rounds), lines, paid, escrowed,
                            released, forfeited)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Holder:
    claim_id: str
    email: str
    name: str
    iso: str
    onboard: bool


def _register(path: Path, count: int, rng: random.Random) -> list[_Holder]:
    rows: dict[str, list[str]] = {
        c: []
        for c in ("claim_id", "customer_code", "email", "holder_name", "jurisdiction", "class",
                  "admitted_cents", "status")
    }  # fmt: skip
    people: list[_Holder] = []
    for n in range(count):
        small = rng.random() < 0.55
        cents = rng.randint(100, 5_000_000) if small else int(rng.paretovariate(1.2) * 5_000_000)
        cents = min(cents, 500_000_000_000)
        cls = "7" if cents <= 5_000_000 else CLASSES[n % len(CLASSES)]
        iso = ISOS[rng.randrange(len(ISOS))]
        status = "disputed" if rng.random() < 0.02 else "allowed"
        holder = _Holder(f"FTX-{n:06d}", f"holder{n:06d}@example.org", f"Holder {n:06d}", iso,
                         rng.random() < 0.35)  # fmt: skip
        people.append(holder)
        for column, value in (
            ("claim_id", holder.claim_id), ("customer_code", f"CUST-{n:06d}"),
            ("email", holder.email), ("holder_name", holder.name), ("jurisdiction", iso),
            ("class", cls), ("admitted_cents", str(cents)), ("status", status),
        ):  # fmt: skip
            rows[column].append(value)
    write_register_csv(path, pl.DataFrame(rows))
    return people


def _onboard(
    container: bootstrap.Container,
    people: list[_Holder],
    identity: FoldedCommitments,
    rng: random.Random,
) -> int:
    commands: list[tuple[Command, str]] = []
    onboarded = 0
    for index, person in enumerate(people):
        if not person.onboard:
            continue
        name = f"holder-{index:06d}"
        key = SignerKey.from_seed(name, rng.randbytes(32))
        container.keys.actors[name] = key
        case = f"case-{index:06d}"
        commands += [
            (RegisterActor(name, "creditor", key.verifier.to_text()), "gateway"),
            (ProveEmail(name, identity.email(person.email)), "gateway"),
            (SubmitKyc(name, "manual", case), "gateway"),
        ]
        approved = identity.holder_name(person.name)
        commands.append((DecideKyc(name, "approved", "manual", case, "", approved), "kyc-officer"))
        commands.append((LinkClaim(person.claim_id, name), "gateway"))
        if rng.random() < 0.1:  # a document expired; never redone before the deadline
            commands.append(
                (DecideKyc(name, "resubmission_requested", "manual", case, "document_expired", ""),
                 "kyc-officer")
            )  # fmt: skip
        else:
            choice = rng.random()
            if choice < 0.2:
                commands.append((ElectPayout(name, "EUR"), name))
            elif choice < 0.3:
                commands.append((ElectPayout(name, "USDC"), name))
            onboarded += 1
    _submit(container, commands)
    return onboarded


def _escrow_events(container: bootstrap.Container, people: list[_Holder]) -> tuple[int, int]:
    """A CN creditor moves to Hong Kong: her escrow is released. The escrow of a claim whose
    holder missed the KYC deadline is forfeited, as an order directs."""
    state = container.log.state
    released = forfeited = 0
    for person in people:
        claim = state.claims.claims[person.claim_id]
        escrow = state.ledger.accounts.get(f"claim:{person.claim_id}/USD/claim_escrow")
        if escrow is None or escrow.available_minor <= 0 or claim.linked_creditor is None:
            continue
        creditor = claim.linked_creditor
        if person.iso == "CN" and state.claims.kyc_state(creditor) == "approved":
            _submit(container, [
                (ProveResidence(creditor, "HK", "2025-10-01"), "kyc-officer"),
                (ReleaseEscrow(person.claim_id, "residence_moved"), "treasury"),
            ])  # fmt: skip
            released += 1
            break
    for person in people:
        claim = state.claims.claims[person.claim_id]
        escrow = state.ledger.accounts.get(f"claim:{person.claim_id}/USD/claim_escrow")
        if escrow is None or escrow.available_minor <= 0 or claim.status != "allowed":
            continue
        holder = claim.linked_creditor
        if holder is not None and state.claims.kyc_state(holder) != "approved":
            order = ForfeitEscrow(person.claim_id, "KYC not completed by the plan's deadline",
                                  "D.I.-30931")  # fmt: skip
            _submit(container, [(order, "admin")])
            forfeited += 1
            break
    return released, forfeited
