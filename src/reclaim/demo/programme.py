"""The demo's recovery programme: an FTX-like estate from register to distributions and escrow.

What ``reclaim demo`` runs after the foundation events (``foundation``), on the same SQLite
log, with the operator keys of the demo's key directory (every step a signed event):

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
   missed KYC deadline is forfeited by an order;
6. withdrawals: the FTX EU fee schedule set as signed terms, the operator's EUR bank account
   funds its FX position, EUR holders in France and Germany withdraw by SEPA (two-phase: funds
   reserved with the fee), one pain.001 batch file is exported to ``<data dir>/withdrawals/``,
   the bank confirms all but one, which is returned and voided (funds back). Each holder first
   adds the IBAN as a destination and confirms it with the code mailed to the holder's proved
   address (the demo's mailbox is a ``RecordingMailSender``: the demo's addresses are not
   real). The demo runs on the system clock, so it cannot wait out a day: its withdrawal
   service confirms with a cooling-off of 0 (recorded as such in each ``destination.confirmed``);
   ``reclaim serve`` uses the setting (default 24 h);
7. the bond market (``market``): after ftx-2, series for the FTX classes, conversions by
   restricted creditors, resting orders on both sides and trades; after ftx-3, its
   pass-through to the note holders.

Deterministic for a given seed.
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl
from rich.console import Console
from schwifty import IBAN

from reclaim import bootstrap
from reclaim.adapters.files.estate_file import load_estate_file, shipped_estate
from reclaim.adapters.files.fee_file import shipped_fee_file
from reclaim.adapters.files.policy_file import PolicyReport, load_policy_csv, shipped_policy
from reclaim.adapters.files.register_file import read_register
from reclaim.adapters.files.register_synthetic import write_register_csv
from reclaim.adapters.files.round_file import read_round_lines, write_round_preview
from reclaim.adapters.files.round_spec_file import load_round_spec, shipped_round_spec
from reclaim.adapters.identity import FoldedCommitments
from reclaim.adapters.mail import RecordingMailSender, deliver_due
from reclaim.adapters.rails.sepa import SepaDebtor
from reclaim.app import distributions
from reclaim.app.claims_import import ImportReport, create_estate, import_register, set_policy
from reclaim.app.log_service import Accepted
from reclaim.app.withdrawals import Refused, WithdrawalService
from reclaim.core.claims import (
    DecideKyc,
    LinkClaim,
    PolicyEntry,
    ProveEmail,
    SetPolicy,
    SubmitKyc,
)
from reclaim.core.distribution.commands import (
    ElectPayout,
    ForfeitEscrow,
    ProveResidence,
    RecordFxRate,
    ReleaseEscrow,
)
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
)
from reclaim.core.machine import Command, RegisterActor
from reclaim.core.money import format_usd as usd
from reclaim.core.rejections import Rejection
from reclaim.demo import foundation, market
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
    withdrawals: int
    market: market.MarketSummary | None = None


class DemoFailed(RuntimeError):
    """A step of the demo programme was refused (a bug in the demo or in reclaim)."""


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

    onboarded = _onboard(container, people, identity, rng, seed)
    _submit(container, [
        (RecordFxRate("EUR", "0.9234", ECB, "2025-01-02T15:00:00.000000Z"), "treasury"),
        (RecordFxRate("USDC", "1", "https://www.circle.com/usdc", "2025-01-02T15:00:00.000000Z"),
         "treasury"),
    ])  # fmt: skip

    spec = load_round_spec(shipped_round_spec("ftx"))
    _ok(distributions.set_plan(container.log, spec.plan), "plan")
    lines = paid = escrowed = 0
    bonds: market.DemoMarket | None = None
    record = 0
    for round_ in spec.rounds:
        if round_.round_id == market.PASSED_ROUND:
            record = container.log.size - 1  # the demo compresses time (``market``)
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
        if round_.round_id == market.OPEN_AFTER_ROUND:
            bonds = market.open_market(container, data_dir, people, rng)
            market.trade(bonds, rng)
        elif bonds is not None and round_.round_id == market.PASSED_ROUND:
            for passed in market.pass_through(bonds, round_.round_id, record):
                console.print(
                    f"pass-through {round_.round_id}: {usd(passed.amount_minor)} to "
                    f"{len(passed.allocation)} note holders at record position {record:,}"
                )
    released, forfeited = _escrow_events(container, people)
    withdrawn = _withdrawals(container, data_dir, people, rng)
    bond_market = None if bonds is None else market.summary(bonds)
    return ProgrammeSummary(claims, onboarded, len(spec.rounds), lines, paid, escrowed,
                            released, forfeited, withdrawn, bond_market)  # fmt: skip


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
    seed: int,
) -> int:
    commands: list[tuple[Command, str]] = []
    onboarded = 0
    for index, person in enumerate(people):
        if not person.onboard:
            continue
        name = f"holder-{index:06d}"
        key = SignerKey.from_seed(name, foundation.key_seed(seed, name))
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


#: Open jurisdictions of the demo and the rails that serve them (the shipped policy lists only
#: the restricted ones; an unlisted jurisdiction has no rail).
OPEN_RAILS: Final = {
    "FR": ("sepa", "usdc"), "DE": ("sepa", "usdc"), "HK": ("hk_wire", "usdc"),
    "GB": ("usdc",), "SG": ("usdc",), "JP": ("usdc",), "KR": ("usdc",), "US": ("usdc",),
    "BR": ("usdc",),
}  # fmt: skip
#: The operator's paying account in the demo (a valid test IBAN).
DEBTOR: Final = SepaDebtor("reclaim demo operator", "DE89370400440532013000", "COBADEFFXXX")


#: The code line of the destination e-mail (``reclaim.adapters.mail.DESTINATION_CODE``).
_CODE_LINE: Final = re.compile(r"^    ([0-9]{4} [0-9]{4})$", re.MULTILINE)


def _confirm_destination(
    service: WithdrawalService, creditor: str, destination: dict[str, str]
) -> None:
    """Add the destination, read the code from the holder's mailbox, confirm it."""
    added = service.add_destination(creditor, "sepa", destination)
    if isinstance(added, Refused):
        raise DemoFailed(f"destination: {added}")
    mailbox = RecordingMailSender()
    deliver_due(service.outbox, mailbox, service.clock.now())
    codes = [m for mail in mailbox.sent for m in _CODE_LINE.findall(mail.body)]
    if len(codes) != 1:
        raise DemoFailed(f"destination: {len(codes)} codes in the holder's mailbox")
    confirmed = service.confirm_destination(creditor, added.view.id, codes[0])
    if isinstance(confirmed, Refused):
        raise DemoFailed(f"destination: {confirmed}")


def _withdrawals(
    container: bootstrap.Container, data_dir: Path, people: list[_Holder], rng: random.Random
) -> int:
    entries = tuple(
        PolicyEntry(iso, "open", "Served by the programme", "https://example.org/demo-policy",
                    "2025-01-01", rails)
        for iso, rails in OPEN_RAILS.items()
    )  # fmt: skip
    accounts = (
        Account.of(
            "operator", "EUR", "rail_settlement", frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})
        ),
        Account.of("operator", "EUR", "fees", frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})),
    )
    _submit(container, [(SetPolicy(entries), "admin"), (OpenAccounts(accounts), "treasury")])
    state = container.log.state
    fx_eur = state.ledger.accounts.get("fx/EUR/fx")
    bought = 0 if fx_eur is None else fx_eur.debits_posted - fx_eur.credits_posted
    if bought > 0:  # the bank bought the euros the EUR payouts were converted into
        funding = Transfer("demo-eur-funding", "operator/EUR/rail_settlement", "fx/EUR/fx", "EUR",
                           bought, "funding")  # fmt: skip
        _submit(container, [(CreateTransfers((funding,)), "treasury")])
    service = bootstrap.build_withdrawals(container, sepa_debtor=DEBTOR)
    service = dataclasses.replace(service, cooling_off_seconds=0)  # the system clock: see above
    container.log.start()
    _ok(service.set_terms(shipped_fee_file()), "fees")
    requested: list[str] = []
    for index, person in enumerate(people):
        claim = state.claims.claims[person.claim_id]
        creditor = claim.linked_creditor
        account = state.ledger.accounts.get(f"{creditor}/EUR/creditor_available")
        if creditor is None or person.iso not in ("FR", "DE") or account is None:
            continue
        available = account.available_minor
        if available < 10_000 or state.claims.kyc_state(creditor) != "approved":
            continue
        contact = {"verified_name": person.name, "email": person.email, "locale": "en"}
        service.vault.put(f"creditor:{creditor}", contact, container.log.clock.now())
        iban = IBAN.generate(person.iso, bank_code="37040044" if person.iso == "DE" else
                             "2004101005", account_code=f"{index:010d}")  # fmt: skip
        _confirm_destination(service, creditor, {"iban": str(iban.compact)})
        amount = available // 2
        answer = service.request(creditor, "sepa", amount, {"iban": str(iban.compact)})
        _ok(answer, "withdrawal")
        if isinstance(answer, Refused):
            raise DemoFailed(f"withdrawal: {answer}")
        requested.append(answer.withdrawal_id)
        if len(requested) == 12:
            break
    if not requested:
        return 0
    made = service.export_batch("sepa", date(2025, 6, 2))
    if isinstance(made, Refused):
        raise DemoFailed(f"export: {made}")
    out = data_dir / "withdrawals"
    out.mkdir(exist_ok=True)
    (out / made.filename).write_bytes(made.content)
    for ident in requested[:-1]:
        _ok(service.confirm(ident, f"BANKREF-{ident[:12]}"), "confirm")
    _ok(service.fail(requested[-1], "account_closed"), "fail")
    return len(requested)
