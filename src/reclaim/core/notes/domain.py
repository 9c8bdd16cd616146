"""Recovery notes as a sub-domain of the machine (``reclaim.core.domain``).

- ``notes.series_defined`` (admin) opens the holding entity's issuing account
  ``<holding entity>/NOTE-<series>/holding_entity`` (debit-normal: notes issued).
- ``notes.claim_converted`` (the creditor, "self", or the gateway for it) mints
  ``notes_for_admitted`` note units: ``nc:<position>`` from the issuing account to
  ``<creditor>/NOTE-<series>/creditor_available``. The payload carries the evidence of
  transfer (Form 2100A's fields; ``reclaim.adapters.form2100a`` renders it as a PDF). The
  clerk's record of the transfer is the admin's ``claim.assigned`` (creditor → holding entity,
  with the SHA-256 of that evidence), after which the distribution core pays the holding entity
  as holder of record (its 21-day window included) and the claim's escrow is released to it
  (``escrow.released``, reason ``converted_to_notes``). A claim with a ``claim.assigned`` on
  record is refused (``claim_already_assigned``), as are disputed and expunged ones.
- ``notes.passed_through`` (the holding entity or the treasury) pays ``amount_minor`` of the
  holding entity's cash to the note holders at ``record_sequence`` — ``pt:<position>:<i>`` from
  ``<holding entity>/USD/creditor_available`` to each ``<holder>/USD/creditor_available``, in
  holder order, by ``allocate_pass_through`` (largest remainder, ties by account id). The
  allocation is not in the payload: ``check`` recomputes it from the log.

**Holdings at a record position** (``holdings``): notes move only with conversions and market
fills (the ``guard`` refuses a plain ledger transfer of a ``NOTE-`` asset), so the notes an
account holds once the event at position ``s`` is applied are its conversions and fills at
positions ``≤ s`` — notes locked in resting orders included (a reservation is a pending
transfer: it does not change the posted balance). The full invariant compares that with the
ledger's posted balances.

Imported by ``reclaim.core.machine`` only.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from itertools import compress
from operator import attrgetter
from typing import Final, NamedTuple

from reclaim.core.claims.model import APPROVED
from reclaim.core.domain import Domain, EventType, Payload, World
from reclaim.core.events import Event
from reclaim.core.ledger.effects import LedgerRefused
from reclaim.core.ledger.model import (
    Account,
    CreateTransfers,
    OpenAccounts,
    Transfer,
    account_id,
)
from reclaim.core.ledger.split import Split, apply_split, check_split
from reclaim.core.market.machine import MarketState
from reclaim.core.market.model import Fill
from reclaim.core.market.settlement import (
    AVAILABLE_PURPOSE,
    NO_OVERDRAFT,
    Moves,
    apply_moves,
    available_account,
    available_id,
    check_moves,
)
from reclaim.core.notes.codes import KINDS, GuardCode, NotesRejection, PassCode
from reclaim.core.notes.machine import NotesState, assert_invariants, decide, evolve
from reclaim.core.notes.model import (
    ClaimConverted,
    ClaimView,
    ConvertClaim,
    DefineSeries,
    NotesCommand,
    NotesDecision,
    NotesEvent,
    PassedThrough,
    PassThrough,
    SeriesDefined,
)
from reclaim.core.notes.payloads import (
    CLAIM_CONVERTED,
    NOTES_EVENT_TYPES,
    PASSED_THROUGH,
    SERIES_DEFINED,
    PayloadError,
    from_payload,
    to_payload,
)
from reclaim.core.rejections import Code

USD: Final = "USD"
ISSUING_PURPOSE: Final = "holding_entity"
NOTE_PREFIX: Final = "NOTE-"


class Decided(NamedTuple):
    events: list[tuple[str, Payload]]
    #: A pass-through's allocation ((holder, cents), ascending), a conversion's notes minted.
    results: tuple[object, ...] = ()


def issuing_id(holding_entity: str, series: str) -> str:
    return account_id(holding_entity, NOTE_PREFIX + series, ISSUING_PURPOSE)


_CREDITOR: Final = attrgetter("creditor")
_NOTES: Final = attrgetter("notes")


def _fills(market: MarketState, series: str, upto: int) -> list[Fill]:
    """The fills of ``series``' markets at positions ``≤ upto``, in log order per market."""
    out: list[Fill] = []
    for symbol, m in market.markets.items():
        if m.series != series:
            continue
        for trade in market.trades.get(symbol, ()):
            if trade.sequence > upto:
                break
            out.append(trade.fill)
    return out


def holdings(notes: NotesState, market: MarketState, series: str, upto: int) -> dict[str, int]:
    """Note units of ``series`` each owner holds once the event at position ``upto`` is applied
    (module docstring), owners ascending, none at zero: O(conversions + the series' trades)."""
    picked = [c for c in notes.conversions.values() if c.sequence <= upto and c.series == series]
    fills = _fills(market, series, upto)
    if not fills:  # conversions only: sorted by creditor, no dict to sort afterwards
        picked.sort(key=_CREDITOR)
        owners = list(map(_CREDITOR, picked))
        if all(map(operator.lt, owners, owners[1:])):  # one conversion each (notes > 0)
            return dict(zip(owners, map(_NOTES, picked), strict=True))
    held: dict[str, int] = {}
    for c in picked:
        held[c.creditor] = held.get(c.creditor, 0) + c.notes
    for f in fills:
        held[f.buyer] = held.get(f.buyer, 0) + f.notes
        held[f.seller] = held.get(f.seller, 0) - f.notes
    assert min(held.values(), default=0) >= 0, held
    return {owner: held[owner] for owner in sorted(held) if held[owner]}


class Context:
    """``model.NotesContext`` over the root state."""

    __slots__ = ("world",)

    def __init__(self, world: World) -> None:
        self.world = world

    def estate_classes(self, estate: str) -> frozenset[str] | None:
        found = self.world.claims.estates.get(estate)
        return None if found is None else frozenset(found.classes)

    def claim(self, claim_id: str) -> ClaimView | None:
        claims = self.world.claims
        c = claims.claims.get(claim_id)
        if c is None:
            return None
        status = "assigned" if self.world.distribution.holders.get(claim_id) else c.status
        filed = claims.estates[c.estate_id].petition_date  # a scheduled claim: deemed filed
        return ClaimView(c.id, c.estate_id, c.class_code, status, c.admitted_minor,
                         c.linked_creditor, filed)  # fmt: skip

    def kyc_verified(self, creditor: str) -> bool:
        return self.world.claims.kyc_state(creditor) == APPROVED

    def holdings_at(self, series: str, sequence: int) -> Mapping[str, int]:
        return holdings(self.world.notes, self.world.market, series, sequence)


def _moves(ns: NotesState, event: SeriesDefined | ClaimConverted) -> Moves:
    if isinstance(event, SeriesDefined):
        s = event.series
        return Moves((Account.of(s.holding_entity, s.asset, ISSUING_PURPOSE),), (), {})
    series = ns.series[event.series]
    target = available_account(event.creditor, series.asset)
    mint = Transfer(
        f"nc:{event.sequence}", issuing_id(series.holding_entity, series.series), target.id,
        series.asset, event.notes, "note_issuance", {"claim": event.evidence.claim_id},
    )  # fmt: skip
    return Moves((target,), (mint,), {})


def _split(ns: NotesState, event: PassedThrough, decision: NotesDecision) -> Split:
    """``pt:<position>:<i>`` from the holding entity's cash to the ``i``-th holder's, for each
    holder whose part is not zero, the accounts missing opened (one fan-out posting)."""
    holder = ns.series[event.series].holding_entity
    owners, amounts = decision.holders, decision.parts
    assert len(owners) == len(amounts) == len(decision.allocation), "an aligned allocation"
    paid = list(compress(range(len(amounts)), amounts))
    if len(paid) < len(amounts):  # a holder whose part is zero gets no transfer
        owners, amounts = [owners[i] for i in paid], [amounts[i] for i in paid]
    ids = list(map(f"pt:{event.sequence}:".__add__, map(str, paid)))
    return Split(
        available_id(holder, USD), USD, "distribution",
        {"distribution": event.round_id}, AVAILABLE_PURPOSE, NO_OVERDRAFT,
        ids, owners, amounts,
    )  # fmt: skip


def _check_ledger(ns: NotesState, world: World, decision: NotesDecision, time: str
                  ) -> LedgerRefused | None:  # fmt: skip
    event = decision.event
    if isinstance(event, PassedThrough):
        split = _split(ns, event, decision)
        return check_split(world.ledger, split, time) if split.ids else None  # else: no move
    assert event is not None
    return check_moves(world.ledger, _moves(ns, event), time)


def _ledger_code(event: NotesEvent) -> PassCode | GuardCode:
    return PassCode.funds_insufficient if isinstance(event, PassedThrough) else (
        GuardCode.ledger_refused
    )  # fmt: skip


def _decided(ns: NotesState, world: World, command: NotesCommand, time: str
             ) -> NotesDecision | NotesRejection:  # fmt: skip
    decision = decide(ns, Context(world), command, world.events, time)
    if isinstance(decision, NotesRejection) or decision.event is None:
        return decision
    refused = _check_ledger(ns, world, decision, time)
    if refused is not None:
        return NotesRejection(_ledger_code(decision.event), None, str(refused))
    return decision


def _decide(ns: NotesState, world: World, command: NotesCommand, time: str
            ) -> Decided | NotesRejection:  # fmt: skip
    decision = _decided(ns, world, command, time)
    if isinstance(decision, NotesRejection):
        return decision
    if decision.event is None:
        return Decided([])
    results: tuple[object, ...] = ()
    if isinstance(decision.event, ClaimConverted):
        results = (decision.notes_minted,)
    elif isinstance(decision.event, PassedThrough):
        results = decision.allocation
    return Decided([to_payload(decision.event)], results)


def command_of(event: NotesEvent) -> NotesCommand:
    if isinstance(event, SeriesDefined):
        return DefineSeries(event.series)
    if isinstance(event, ClaimConverted):
        e = event.evidence
        return ConvertClaim(event.series, e.claim_id, event.creditor, e.transfer_date)
    return PassThrough(event.series, event.round_id, event.amount_minor, event.record_sequence,
                       event.record_date)  # fmt: skip


def _check(ns: NotesState, world: World, event: Event) -> NotesRejection | None:
    try:
        logged = from_payload(event.type, event.payload, world.events, event.time)
    except PayloadError as exc:
        return NotesRejection(GuardCode.payload_malformed, None, str(exc))
    decision = _decided(ns, world, command_of(logged), event.time)
    if isinstance(decision, NotesRejection):
        return decision
    if decision.event != logged:
        return NotesRejection(GuardCode.payload_malformed, None, "not what its command decides")
    return None


def _evolve(ns: NotesState, world: World, event: Event) -> None:
    logged = from_payload(event.type, event.payload, world.events, event.time)
    if isinstance(logged, PassedThrough):  # the allocation memoised by its decide or check
        decision = decide(ns, Context(world), command_of(logged), world.events, event.time)
        assert isinstance(decision, NotesDecision), decision
        split = _split(ns, logged, decision)
        ns.allocated.clear()  # used: a million holders' split is not kept in memory
        evolve(ns, logged)
        if split.ids:
            apply_split(world.ledger, split, event.time)
        return
    moves = _moves(ns, logged)  # before ``evolve``: it reads the state before
    evolve(ns, logged)
    apply_moves(world.ledger, {}, moves, event.time)


def _invariants(ns: NotesState, world: World, full: bool) -> None:
    """Cheap: each series' supply is what its issuing account issued. Full: the notes core's
    own (``machine.assert_invariants``) and every holding recomputed from conversions and fills
    equal to the ledger's posted balance."""
    for name, series in ns.series.items():
        issuing = world.ledger.accounts.get(issuing_id(series.holding_entity, name))
        assert issuing is not None, f"{name}: no issuing account"
        assert issuing.debits_posted - issuing.credits_posted == ns.minted[name], name
    if not full:
        return
    assert_invariants(ns)
    for name, series in ns.series.items():
        expected = holdings(ns, world.market, name, world.events)
        posted = {
            a.owner: a.credit_balance_minor
            for a in world.ledger.accounts.values()
            if a.asset == series.asset and a.purpose == AVAILABLE_PURPOSE
            and a.credit_balance_minor
        }  # fmt: skip
        assert posted == expected, (name, posted, expected)


def _names_notes(items: object) -> str | None:
    """The id of the first transfer or account of ``items`` (records or payload objects) of a
    ``NOTE-`` asset, or ``None``."""
    if not isinstance(items, list | tuple):
        return None
    for item in items:
        fields: tuple[str, ...]
        if isinstance(item, Transfer):
            fields, ident = (item.asset, item.debit_account_id, item.credit_account_id), item.id
        elif isinstance(item, Account):
            fields, ident = (item.asset,), item.id
        elif isinstance(item, dict):
            keys = ("asset", "debit_account_id", "credit_account_id", "id")
            fields, ident = tuple(str(item.get(k, "")) for k in keys), str(item.get("id", ""))
        else:
            continue
        if any(f.startswith(NOTE_PREFIX) or f"/{NOTE_PREFIX}" in f for f in fields):
            return ident
    return None


def _guard(item: object) -> NotesRejection | None:
    """A plain ledger command or event that opens a note account or moves notes (module
    docstring): note accounts are opened, and notes moved, by notes and market events only, so
    their flags are the programme's and the holdings at a record position are the log's."""
    found: str | None = None
    if isinstance(item, CreateTransfers):
        found = _names_notes(item.transfers)
    elif isinstance(item, OpenAccounts):
        found = _names_notes(item.accounts)
    elif isinstance(item, Event) and item.type == "ledger.transfers_created":
        found = _names_notes(item.payload.get("transfers"))
    elif isinstance(item, Event) and item.type == "ledger.accounts_opened":
        found = _names_notes(item.payload.get("accounts"))
    if found is None:
        return None
    detail = f"{found!r}: note accounts and notes move only with notes and market events"
    return NotesRejection(GuardCode.note_transfer_reserved, None, detail)


DOMAIN: Final[Domain[NotesState]] = Domain(
    name="notes",
    state=lambda root: root.notes,
    commands={
        DefineSeries: SERIES_DEFINED,
        ConvertClaim: CLAIM_CONVERTED,
        PassThrough: PASSED_THROUGH,
    },
    event_types={name: EventType(*entry) for name, entry in NOTES_EVENT_TYPES.items()},
    entity_kinds=frozenset({"note_series", "note_conversion", "pass_through"}),
    refused=Code.notes_refused,
    decide=_decide,
    check=_check,
    evolve=_evolve,
    assert_invariants=_invariants,
    names_creditor=True,
    guard=_guard,
    kinds=KINDS,
)
