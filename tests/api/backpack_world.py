"""A market world for the Backpack API tests: traders with API keys, funds, notes, two markets.

Built with the operator's actors (admin, treasury, gateway, the KYC officer), through the log
service (``commands``), over any log whose genesis registered them::

    policy     CN restricted (its residents may sell notes, not buy them)
    traders    residence  KYC       USD          notes of FTX5A
    seller     CN         approved  0.00         50,000 face dollars (5,000,000 note units)
    buyer      HK         approved  100,000.00   0
    maker      HK         approved  100,000.00   50,000 face dollars
    mei        CN         approved  100,000.00   0          (a buyer the policy excludes)
    poor       HK         approved  0.00         0          (buying without funds)
    gina       HK         pending   100,000.00   0

    markets    FTX5A_USD  Open        ticks of 0.01, steps of $1 face (100 note units)
               FTX9_USD   CancelOnly  the same terms

The notes come from converting each holder's class-5A claim of the FTX estate (admitted
amount = its notes, one unit per cent of face). Each trader's key comes from a fixed seed
(``seed``); ``secret(name)`` is the base64 seed a
Backpack client takes, ``api_key(name)`` the base64 public key it sends.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final

from reclaim.core.actors import RegisterActor
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
from reclaim.core.distribution.commands import ProveResidence
from reclaim.core.ledger import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
)
from reclaim.core.machine import Command
from reclaim.core.market import ListMarket, Market, MarketStatus, SetMarketStatus
from reclaim.core.notes import ConvertClaim, DefineSeries, Series
from reclaim.log.keys import SignerKey

SYMBOL: Final = "FTX5A_USD"
HALTED: Final = "FTX9_USD"
NOTES: Final = "NOTE-FTX5A"
#: trader -> (residence, KYC approved?, USD cents, note units)
TRADERS: Final[dict[str, tuple[str, bool, int, int]]] = {
    "seller": ("CN", True, 0, 5_000_000),
    "buyer": ("HK", True, 10_000_000, 0),
    "maker": ("HK", True, 10_000_000, 5_000_000),
    "mei": ("CN", True, 10_000_000, 0),
    "poor": ("HK", True, 0, 0),
    "gina": ("HK", False, 10_000_000, 0),
}
_D: Final = frozenset({DEBITS_MUST_NOT_EXCEED_CREDITS})
_C: Final = frozenset({CREDITS_MUST_NOT_EXCEED_DEBITS})


#: The holding entity of the note series (holder of record of the converted claims).
HOLDER: Final = "operator"


def _commit(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def seed(name: str) -> bytes:
    return hashlib.sha256(f"backpack test trader {name}".encode()).digest()


def key(name: str) -> SignerKey:
    return SignerKey.from_seed(name, seed(name))


def secret(name: str) -> str:
    """The API secret a Backpack client holds: base64 of the 32-byte seed."""
    return base64.b64encode(seed(name)).decode()


def api_key(name: str) -> str:
    return base64.b64encode(key(name).verifier.public_key).decode()


def market(symbol: str) -> Market:
    series = symbol.split("_")[0]
    return Market(symbol, series, price_decimals=2, step_notes=100)


def commands(
    *, admin: str = "admin", treasury: str = "treasury", gateway: str = "gateway",
    kyc: str = "kyc-officer",
) -> list[tuple[Command, str]]:  # fmt: skip
    """The module doc's world, as commands and their signers."""
    out: list[tuple[Command, str]] = []
    policy = PolicyEntry("CN", "restricted", "Restricted Jurisdiction Procedures motion",
                         "https://example.org/motion", "2025-01-01", ())  # fmt: skip
    out.append((SetPolicy((policy,)), admin))
    out.append((CreateEstate("ftx", "FTX Trading Ltd.", "2022-11-11",
                             (ClaimClass("5A", "Dotcom customer entitlement", 1),
                              ClaimClass("9", "General unsecured", 2))), admin))  # fmt: skip
    rows = tuple(
        RegisterRow(f"C-{name}", f"CUST-{name}", _commit(f"email:{name}"),
                    _commit(f"name:{name}"), residence, "5A", notes, "allowed")
        for name, (residence, _, _, notes) in TRADERS.items() if notes
    )  # fmt: skip
    out.append((ImportClaims("ftx", _commit("register:v1"), rows), admin))
    for name, (residence, approved, _, notes) in TRADERS.items():
        out.append((RegisterActor(name, "creditor", key(name).verifier.to_text()), gateway))
        if notes:
            out.append((ProveEmail(name, _commit(f"email:{name}")), gateway))
        out.append((SubmitKyc(name, "manual", f"case-{name}"), gateway))
        if approved:
            decision = DecideKyc(name, "approved", "manual", f"case-{name}", "",
                                 _commit(f"name:{name}"))  # fmt: skip
            out.append((decision, kyc))
            out.append((ProveResidence(name, residence, "2025-01-01"), kyc))
            if notes:
                out.append((LinkClaim(f"C-{name}", name), gateway))
    for series, claim_class in (("FTX5A", "5A"), ("FTX9", "9")):
        terms = Series(series, "ftx", claim_class, HOLDER,
                       f"every distribution for class {claim_class}, pro rata")  # fmt: skip
        out.append((DefineSeries(terms), admin))
    for name, (_, _, _, notes) in TRADERS.items():
        if notes:
            out.append((ConvertClaim("FTX5A", f"C-{name}", name, "2025-06-01"), gateway))
    accounts = [Account.of("operator", "USD", "rail_settlement", _C)]
    accounts += [Account.of(name, "USD", "creditor_available", _D) for name in TRADERS]
    out.append((OpenAccounts(tuple(accounts)), treasury))
    transfers = tuple(
        Transfer(f"dep-{name}-usd", "operator/USD/rail_settlement",
                 f"{name}/USD/creditor_available", "USD", usd, "deposit")
        for name, (_, _, usd, _) in TRADERS.items() if usd
    )  # fmt: skip
    out.append((CreateTransfers(transfers), treasury))
    for symbol, status in ((SYMBOL, MarketStatus.Open), (HALTED, MarketStatus.CancelOnly)):
        out.append((ListMarket(market(symbol)), admin))
        out.append((SetMarketStatus(symbol, status), admin))
    return out
