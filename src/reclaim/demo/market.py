"""The demo's bond market: series for the FTX classes, conversions by restricted creditors,
an order book with resting orders on both sides and trades, and one pass-through.

What ``programme.run_programme`` calls between the shipped FTX rounds (every step a signed
event, through the real services: ``app.notes``, ``app.market_desk``, ``app.market``):

1. ``open_market`` (after round ftx-2): series ``FTX5A``, ``FTX5B``, ``FTX6A``, ``FTX6B`` held
   by the holding entity ``programme``; their markets ``<series>_USD`` listed and opened (ticks
   of one cent on the dollar, steps of one dollar of face). Onboarded creditors of restricted
   jurisdictions (mainland China among them) convert their claims on 2025-07-01 (each with its
   Form 2100A in ``<data dir>/forms/``), the transfers filed that day — more than 21 days
   before round ftx-3's record date (2025-08-15) — so the holding entity is the claims' holder
   of record for ftx-3, and their shares of it are paid to the holding entity instead of waiting
   in escrow as a restricted creditor's;
2. ``trade``: each converter offers part of its notes at 70–78 cents on the dollar; buyers in
   open jurisdictions, paid in USD by rounds ftx-1 and ftx-2, bid: the first buyer of each
   market takes its cheapest asks at 74 (trades), the others rest at 60–65: resting orders on
   both sides of every book. Every order is signed by its trader as a Backpack
   ``orderExecute`` request (``app.request_signing``), which the event keeps and ``reclaim
   verify`` checks;
3. ``pass_through`` (after ftx-3): what ftx-3 paid the holding entity for each series, split
   over the note holders at the record position.

The demo runs on the system clock, so every event carries today's time while the rounds'
record dates are in 2025: the demo compresses time, and its record position is the last event
before round ftx-3 was declared (``reclaim notes pass-through --record-seq``). Deterministic for
a given seed.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from reclaim import bootstrap
from reclaim.adapters.files import form2100a
from reclaim.app.market import (
    MarketService,
    Refusal,
    SignedRequest,
    price_text,
    quantity_text,
)
from reclaim.app.notes import SIGNATURE_CAPACITIES, NotesService, PassedView
from reclaim.app.refusals import Refused
from reclaim.app.request_signing import sign_request, signing_string
from reclaim.core import market as mk
from reclaim.core.claims.policy import treatment
from reclaim.core.limits import request_window_default_ms
from reclaim.core.machine import State
from reclaim.core.notes import Series
from reclaim.log.keys import SignerKey

HOLDING: Final = "programme"
CLASSES: Final = ("5A", "5B", "6A", "6B")
#: The transfer (and filing) date of the demo's conversions: after ftx-2, 21 days and more
#: before ftx-3's record date.
CONVERSION_DATE: Final = "2025-07-01"
#: The date whose policy decides who is a restricted creditor (the motion's).
RESTRICTED_ON: Final = "2025-07-02"
#: The round after which the market opens, and the round passed through.
OPEN_AFTER_ROUND: Final = "ftx-2"
PASSED_ROUND: Final = "ftx-3"
#: How many restricted creditors convert, and how many buyers bid (the demo's cast).
CONVERTERS: Final = 8
BUYERS: Final = 8
CAPTION: Final = form2100a.Caption(
    "United States Bankruptcy Court for the District of Delaware", "FTX Trading Ltd., et al.",
    "22-11068 (JTD)",
)  # fmt: skip


class DemoMarketFailed(RuntimeError):
    """A step of the demo's market was refused (a bug in the demo or in reclaim)."""


class Holder(Protocol):
    """What the demo knows of a register holder (``programme._Holder``)."""

    @property
    def claim_id(self) -> str: ...

    @property
    def iso(self) -> str: ...


@dataclass(frozen=True, slots=True)
class MarketSummary:
    series: int
    conversions: int
    orders: int
    trades: int
    resting: int
    passed_minor: int


@dataclass(slots=True)
class DemoMarket:
    """The demo's market between its steps: services, converters, buyers, counts."""

    notes: NotesService
    market: MarketService
    keys: dict[str, SignerKey]
    sellers: list[tuple[str, str]]  # (creditor, series)
    buyers: list[str]
    orders: int = 0
    passed_minor: int = 0


def _ok(answer: object, what: str) -> None:
    if isinstance(answer, Refused):
        raise DemoMarketFailed(f"{what}: {answer.name}: {answer.detail}")


def open_market(
    container: bootstrap.Container, data_dir: Path, people: Sequence[Holder], rng: random.Random
) -> DemoMarket:
    """Series, markets and conversions (module docstring, step 1)."""
    container.log.start()  # the services submit one command at a time, through the writer
    notes = container.notes()
    desk = container.market_desk()
    key = bootstrap.holding_entity_key(container.settings, HOLDING)
    for claim_class in CLASSES:
        series = f"FTX{claim_class}"
        entitlement = (
            f"Every distribution the holding entity receives for a class {claim_class} claim "
            "of the FTX estate, pro rata to notes held at its record date"
        )
        terms = Series(series, "ftx", claim_class, HOLDING, entitlement)
        _ok(notes.define(terms, key), series)
        _ok(desk.open(mk.Market(f"{series}_USD", series, 2, 100)), series)
    state = container.log.state
    sellers: list[tuple[str, str]] = []
    buyers: list[str] = []
    forms = data_dir / "forms"
    forms.mkdir(exist_ok=True)
    for person in people:
        claim = state.claims.claims[person.claim_id]
        creditor = claim.linked_creditor
        if not creditor or state.claims.kyc_state(creditor) != "approved":
            continue
        entry = treatment(state.claims, person.iso, RESTRICTED_ON)
        restricted = entry is not None and entry.status == "restricted"
        if restricted and claim.class_code in CLASSES and claim.status == "allowed":
            if len(sellers) < CONVERTERS:
                series = f"FTX{claim.class_code}"
                done = notes.convert(series, claim.id, creditor, CONVERSION_DATE)
                if isinstance(done, Refused):
                    raise DemoMarketFailed(f"convert {claim.id}: {done.name}: {done.detail}")
                signatures = [
                    form2100a.signature_of(done.signatures[0], SIGNATURE_CAPACITIES[0]),
                    form2100a.signature_of(done.signatures[1], SIGNATURE_CAPACITIES[1]),
                ]
                pdf = form2100a.render(done.evidence, CAPTION, signatures)
                (forms / f"form-2100a-{claim.id}.pdf").write_bytes(pdf)
                sellers.append((creditor, series))
        elif entry is None and len(buyers) < BUYERS:
            cash = state.ledger.accounts.get(f"{creditor}/USD/creditor_available")
            if cash is not None and cash.available_minor >= 500_000:
                buyers.append(creditor)
    rng.shuffle(buyers)
    return DemoMarket(notes, desk.service, container.keys.actors, sellers, buyers)


def _place(demo: DemoMarket, trader: str, order: mk.OrderRequest) -> None:
    """Place ``order`` as ``trader`` signed it: Backpack's ``orderExecute`` request."""
    m = demo.market.market(order.symbol)
    assert m is not None, order.symbol
    market = m[0]
    assert order.price_ticks is not None
    assert order.quantity_steps is not None
    params: dict[str, str | int | bool] = {
        "orderType": order.order_type.value, "price": price_text(market, order.price_ticks),
        "quantity": quantity_text(market, order.quantity_steps), "side": order.side.value,
        "symbol": order.symbol, "timeInForce": order.time_in_force.value,
    }  # fmt: skip
    key = demo.keys[trader]
    now = demo.market.log.clock.now()
    timestamp_ms = int(now.timestamp() * 1000)
    message = signing_string("orderExecute", params, timestamp_ms, request_window_default_ms)
    headers = sign_request(key, "orderExecute", params, timestamp_ms)
    signed = SignedRequest(base64.b64encode(key.verifier.public_key).decode(),
                           message.decode(), headers["X-Signature"])  # fmt: skip
    placed = demo.market.place(trader, [order], signed)
    if isinstance(placed, Refusal) or any(isinstance(i, Refusal) for i in placed.items):
        raise DemoMarketFailed(f"order by {trader}: {placed}")
    demo.orders += 1


def trade(demo: DemoMarket, rng: random.Random) -> None:
    """Asks by the converters, bids by the buyers: trades and resting orders (step 2)."""
    for index, (seller, series) in enumerate(demo.sellers):
        symbol = f"{series}_USD"
        held = demo.market.balances(seller).get(f"NOTE-{series}")
        steps = 0 if held is None else held.available_minor // 100
        for price in (70 + index % 3, 76 + index % 3):
            lot = min(steps // 4, 5_000)
            if lot:
                ask = mk.OrderRequest(symbol, mk.Side.Ask, mk.OrderType.Limit,
                                      quantity_steps=lot, price_ticks=price)  # fmt: skip
                _place(demo, seller, ask)
                steps -= lot
    symbols = sorted({f"{s}_USD" for _, s in demo.sellers})
    for index, buyer in enumerate(demo.buyers):
        if not symbols:
            break
        symbol = symbols[index % len(symbols)]
        cash = demo.market.balances(buyer).get("USD")
        budget = 0 if cash is None else cash.available_minor // 3
        # The first buyer of each market takes its cheapest asks; the others bid below them.
        price = 74 if index < len(symbols) else 60 + rng.randrange(6)
        steps = min(budget // price, 2_000)
        if steps:
            bid = mk.OrderRequest(symbol, mk.Side.Bid, mk.OrderType.Limit,
                                  quantity_steps=steps, price_ticks=price)  # fmt: skip
            _place(demo, buyer, bid)


def pass_through(demo: DemoMarket, round_id: str, record_sequence: int) -> list[PassedView]:
    """What ``round_id`` paid the holding entity for each series, passed through (step 3)."""
    done: list[PassedView] = []
    for series in sorted({s for _, s in demo.sellers}):
        received = demo.notes.received(series, round_id)
        if isinstance(received, Refused) or received == 0:
            continue
        passed = demo.notes.pass_through(series, round_id, record_sequence)
        if isinstance(passed, Refused):
            raise DemoMarketFailed(f"pass-through {series}: {passed.name}: {passed.detail}")
        demo.passed_minor += passed.amount_minor
        done.append(passed)
    return done


def summary(demo: DemoMarket) -> MarketSummary:
    def q(s: State) -> tuple[int, int]:
        return sum(len(t) for t in s.market.trades.values()), len(s.market.orders)

    trades, resting = demo.market.log.read(q)
    series = len(demo.notes.series("2025-01-01"))
    return MarketSummary(series, len(demo.sellers), demo.orders, trades, resting,
                         demo.passed_minor)  # fmt: skip
