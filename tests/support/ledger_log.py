"""A log with a ledger, for the proof-of-liabilities tests.

The treasury opens the accounts and moves money with transfers; creditors are registered actors
(with their own keys, from ``tests.support.factories.key_for``, to sign API requests)::

    account                          flags   what happens                         owed (USD)
    operator/USD/rail_settlement     C       deposits in, withdrawals out         -
    operator/USD/funding             -       the operator's capital (equity)      not a liability
    operator/USD/fees                D       a fee from alice (income)            not a liability
    estate/USD/estate_pool           D       500000 in, 50000 distributed         450000
    alice/USD/creditor_available     D       deposit 100000, fee 500,             99500
                                             withdrawal 10000 PENDING (still owed)
    alice/USD/claim_escrow           D       distribution 20000                   20000
                                                                        (alice: 119500)
    bob/USD/creditor_available       D       distribution 30000, withdrawal 5000  24000
                                             POSTED, order cash 2000 PENDING to
                                             market (still bob's), fill 1000 to market
    market/USD/market_clearing       D       fill 1000                            1000
    carol/USD/creditor_available     D       deposit 4000, withdrawn 4000 POSTED  0 (no leaf)
    dave/USD/creditor_available      D       deposit 3000 PENDING (not yet owed)  0 (no leaf)
    alice/EUR/creditor_available     D       deposit 7777                         7777 (EUR)
    operator/EUR/rail_settlement     C

USD owed: 119500 + 24000 + 450000 + 1000 = 594500 (4 creditors); EUR: 7777 (1).
"""

from __future__ import annotations

from typing import Final

from reclaim.app.log_service import Accepted, KeyRing, LogService
from reclaim.core.actors import Genesis, RegisterActor
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    PENDING,
    POST_PENDING,
    SINGLE,
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
)
from reclaim.log.keys import SignerKey
from tests.support.core_harness import Command
from tests.support.factories import ORIGIN, key_for

CREDITORS: Final = ("alice", "bob", "carol", "dave")
EXPECTED_USD: Final = {"alice": 119_500, "bob": 24_000, "estate": 450_000, "market": 1_000}
EXPECTED_EUR: Final = {"alice": 7_777}

D = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
C = frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})

ACCOUNTS: Final = (
    Account.of("operator", "USD", "rail_settlement", C),
    Account.of("operator", "EUR", "rail_settlement", C),
    Account.of("operator", "USD", "funding"),
    Account.of("operator", "USD", "fees", D),
    Account.of("estate", "USD", "estate_pool", D),
    Account.of("alice", "USD", "creditor_available", D),
    Account.of("alice", "USD", "claim_escrow", D),
    Account.of("alice", "EUR", "creditor_available", D),
    Account.of("bob", "USD", "creditor_available", D),
    Account.of("carol", "USD", "creditor_available", D),
    Account.of("dave", "USD", "creditor_available", D),
    Account.of("market", "USD", "market_clearing", D),
)

RAIL, EUR_RAIL = "operator/USD/rail_settlement", "operator/EUR/rail_settlement"
POOL = "estate/USD/estate_pool"


def _t(
    ident: str,
    debit: str,
    credit: str,
    amount: int,
    code: str,
    *,
    refs: dict[str, str] | None = None,
    kind: str = SINGLE,
    pending_id: str = "",
) -> Transfer:
    asset = "" if not debit else "EUR" if "/EUR/" in debit else "USD"
    return Transfer(
        ident, debit, credit, asset, amount, code, refs or {}, kind=kind, pending_id=pending_id
    )


TRANSFERS: Final = (
    _t("t-fund", RAIL, "operator/USD/funding", 1_000_000, "funding"),
    _t("t-pool", RAIL, POOL, 500_000, "funding"),
    _t("t-dep-alice", RAIL, "alice/USD/creditor_available", 100_000, "deposit"),
    _t("t-dep-alice-eur", EUR_RAIL, "alice/EUR/creditor_available", 7_777, "deposit"),
    _t("t-dist-alice", POOL, "alice/USD/claim_escrow", 20_000, "distribution"),
    _t("t-dist-bob", POOL, "bob/USD/creditor_available", 30_000, "distribution"),
    _t("t-fee-alice", "alice/USD/creditor_available", "operator/USD/fees", 500, "fee"),
    _t(
        "t-wd-alice", "alice/USD/creditor_available", RAIL, 10_000, "withdrawal",
        refs={"withdrawal": "w-alice"}, kind=PENDING,
    ),
    _t(
        "t-wd-bob", "bob/USD/creditor_available", RAIL, 5_000, "withdrawal",
        refs={"withdrawal": "w-bob"}, kind=PENDING,
    ),
    _t("t-wd-bob-post", "", "", 5_000, "withdrawal", kind=POST_PENDING, pending_id="t-wd-bob"),
    _t(
        "t-order-bob", "bob/USD/creditor_available", "market/USD/market_clearing", 2_000,
        "trade", refs={"order": "o-1"}, kind=PENDING,
    ),
    _t("t-fill-bob", "bob/USD/creditor_available", "market/USD/market_clearing", 1_000, "trade"),
    _t("t-dep-carol", RAIL, "carol/USD/creditor_available", 4_000, "deposit"),
    _t(
        "t-wd-carol", "carol/USD/creditor_available", RAIL, 4_000, "withdrawal",
        refs={"withdrawal": "w-carol"}, kind=PENDING,
    ),
    _t("t-wd-carol-post", "", "", 4_000, "withdrawal", kind=POST_PENDING, pending_id="t-wd-carol"),
    _t("t-dep-dave", RAIL, "dave/USD/creditor_available", 3_000, "deposit", kind=PENDING),
)  # fmt: skip


def new_keys() -> KeyRing:
    """The log signer, the admin and the treasury (the actors that submit commands here)."""
    return KeyRing(
        key_for(f"{ORIGIN}-signer"), {"admin": key_for("admin"), "treasury": key_for("treasury")}
    )


def creditor_key(name: str) -> SignerKey:
    """The key a creditor registered (and signs requests with)."""
    return key_for(name)


def foundation(keys: KeyRing) -> list[tuple[Command, str]]:
    """Genesis, the treasury, then the creditors."""
    admin = keys.for_actor("admin").verifier.to_text()
    treasury = keys.for_actor("treasury").verifier.to_text()
    return [
        (Genesis(ORIGIN, "admin", admin, keys.log_signer.verifier.to_text()), "admin"),
        (RegisterActor("treasury", "treasury", treasury), "admin"),
        *creditors(),
    ]


def creditors() -> list[tuple[Command, str]]:
    """The creditors, registered by the admin with their own keys."""
    return [
        (RegisterActor(name, "creditor", creditor_key(name).verifier.to_text()), "admin")
        for name in CREDITORS
    ]


def ledger() -> list[tuple[Command, str]]:
    """The accounts, then each transfer in its own command (in the order of the table)."""
    commands: list[tuple[Command, str]] = [(OpenAccounts(ACCOUNTS, atomic=True), "treasury")]
    commands += [(CreateTransfers((t,)), "treasury") for t in TRANSFERS]
    return commands


def submit_all(log: LogService, commands: list[tuple[Command, str]]) -> None:
    """Submit ``commands``: every one accepted, every item of every one ``ok``."""
    for outcome in log.submit_many(commands):
        assert isinstance(outcome, Accepted), outcome
        assert all(r.accepted for r in outcome.results), outcome.results
