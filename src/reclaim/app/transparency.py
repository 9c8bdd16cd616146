"""The public transparency view: what anyone may see about the programme, in one read.

``TransparencyService.view()`` gathers, for the public page (``entrypoints/web``):

- the latest signed checkpoint of the log (size, root, the C2SP note exactly as served by
  ``GET /log/checkpoint``), the log's origin and verifier key;
- the latest signed liabilities statement (as ``GET /liabilities/root``): snapshot id, the
  checkpoint it was computed at, and per asset the total owed, the creditors counted, the root;
- per estate, the register by jurisdiction and claim status (``core.claims.register_report``):
  counts and admitted amounts, each jurisdiction with its policy status on the day;
- every distribution round: dates, state, lines, USD paid and USD escrowed;
- what waits in escrow now, by the reason it waits (``core.distribution.payees.classify`` on
  the day; ``releasable`` when nothing holds the claim back any more and only a release is
  missing), and the totals released from and forfeited back out of escrow.

No personal data: claims appear only as counts and sums per jurisdiction and status, amounts per
reason and round; no claim id, creditor name, e-mail or commitment is in the view. Everything in
it can be recomputed from the public log (the liabilities totals from the signed statement).

Money is integers in minor units (USD cents; a liabilities asset in its own minor units).

Cost: O(claims + escrow accounts + rounds) under the log's read lock, so the view is cached per
(log size, checkpoint, liabilities snapshot, date): a page served many times between two events
reads the state once. The cache key is taken before the read, so a cached view is never older
than its key.

The checkpoint and the statement are read from the store (another process may publish either:
``reclaim checkpoint``, ``reclaim liabilities snapshot``) — except once the cached view is
*settled*: its checkpoint and its statement are both at the log's size. Nothing newer can then
be stored without a new event: a checkpoint or a statement names a tree size, at most the
log's, and one of the same size is the same one (the store keeps the first, and refuses another
under the same size), so until the log grows the view is served without reading anything.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final

from reclaim.app.log_ports import LogReader
from reclaim.app.ports import StoredCheckpoint, StoredLiabilitiesSnapshot
from reclaim.core.claims import UNLISTED, Tally, register_report, treatment
from reclaim.core.claims.model import EXPUNGED, STATUSES
from reclaim.core.distribution.payees import classify
from reclaim.core.distribution.state import RoundProgress
from reclaim.core.machine import State

#: The reason shown for money in a claim's escrow that nothing holds back any more.
RELEASABLE: Final = "releasable"
#: The reason shown for an escrow whose estate has no distribution plan (cannot be classified).
UNCLASSIFIED: Final = "unclassified"
#: Round states, in the order a round goes through them.
ROUND_STATES: Final = ("declared", "approved", "executing", "completed")


@dataclass(frozen=True, slots=True)
class CheckpointView:
    size: int
    root_b64: str
    note: str


@dataclass(frozen=True, slots=True)
class LiabilityAsset:
    asset: str
    total_minor: int
    creditors: int
    root_b64: str


@dataclass(frozen=True, slots=True)
class LiabilitiesView:
    snapshot_id: str
    checkpoint_size: int
    checkpoint_root_b64: str
    statement_note: str
    created_at: str
    assets: tuple[LiabilityAsset, ...]


@dataclass(frozen=True, slots=True)
class JurisdictionRow:
    """One jurisdiction of an estate's register: its policy status on the day, every claim
    (``total``), the claims still owed (not expunged) and the tally of each claim status."""

    iso: str
    policy_status: str
    total: Tally
    owed: Tally
    by_status: tuple[tuple[str, Tally], ...]


@dataclass(frozen=True, slots=True)
class EstateView:
    estate_id: str
    name: str
    total: Tally
    owed: Tally
    #: claim status -> tally, in ``STATUSES`` order (statuses with no claim left out).
    by_status: tuple[tuple[str, Tally], ...]
    #: policy status -> tally of owed claims (open, restricted, sanctioned, unlisted).
    by_policy: tuple[tuple[str, Tally], ...]
    #: largest owed amount first, ties by ISO code.
    jurisdictions: tuple[JurisdictionRow, ...]


@dataclass(frozen=True, slots=True)
class RoundView:
    round_id: str
    estate_id: str
    record_date: str
    payment_date: str
    state: str  # one of ROUND_STATES
    lines: int  # approved lines (0 before approval)
    executed_lines: int
    paid_usd_minor: int
    escrowed_usd_minor: int


@dataclass(frozen=True, slots=True)
class EscrowReason:
    reason: str
    claims: int
    amount_minor: int  # USD cents


@dataclass(frozen=True, slots=True)
class Transparency:
    on_date: str
    origin: str
    log_key: str
    log_size: int
    checkpoint: CheckpointView | None
    liabilities: LiabilitiesView | None
    estates: tuple[EstateView, ...]
    rounds: tuple[RoundView, ...]
    escrow: tuple[EscrowReason, ...]  # largest amount first
    released_usd_minor: int
    forfeited_usd_minor: int

    @property
    def paid_usd_minor(self) -> int:
        return sum(r.paid_usd_minor for r in self.rounds)

    @property
    def escrowed_usd_minor(self) -> int:
        return sum(r.escrowed_usd_minor for r in self.rounds)

    @property
    def in_escrow_usd_minor(self) -> int:
        return sum(e.amount_minor for e in self.escrow)


@dataclass(frozen=True, slots=True)
class _Gathered:
    """What is read under the log's lock (the checkpoint and statement are read outside it)."""

    origin: str
    log_key: str
    estates: tuple[EstateView, ...]
    rounds: tuple[RoundView, ...]
    escrow: tuple[EscrowReason, ...]
    released_usd_minor: int
    forfeited_usd_minor: int


class TransparencyService:
    """The public view over a log, its latest checkpoint and its latest liabilities statement.

    ``checkpoint`` and ``liabilities`` are the store's ``latest_checkpoint`` and the liabilities
    service's ``latest`` (passed as callables so the view needs neither whole service);
    ``today`` gives the date the policy and escrow reasons are read on (the log's clock).
    """

    def __init__(
        self,
        log: LogReader,
        checkpoint: Callable[[], StoredCheckpoint | None],
        liabilities: Callable[[], StoredLiabilitiesSnapshot | None],
        today: Callable[[], date],
    ) -> None:
        self._log = log
        self._checkpoint = checkpoint
        self._liabilities = liabilities
        self._today = today
        self._lock = threading.Lock()
        self._cached: tuple[tuple[int, int, str, str], Transparency] | None = None
        #: Views built so far (each read the state once).
        self.builds = 0

    def view(self) -> Transparency:
        on_date = self._today().isoformat()
        size = self._log.size
        with self._lock:
            cached = self._cached
        if cached is not None and _settled(cached[1], size, on_date):
            return cached[1]
        checkpoint = self._checkpoint()
        statement = self._liabilities()
        key = (size, -1 if checkpoint is None else checkpoint.size,
               "" if statement is None else statement.id, on_date)  # fmt: skip
        with self._lock:
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1]
        gathered = self._log.read(lambda state: gather(state, on_date))
        view = Transparency(
            on_date=on_date,
            origin=gathered.origin,
            log_key=gathered.log_key,
            log_size=size,
            checkpoint=None if checkpoint is None else checkpoint_view(checkpoint),
            liabilities=None if statement is None else liabilities_view(statement),
            estates=gathered.estates,
            rounds=gathered.rounds,
            escrow=gathered.escrow,
            released_usd_minor=gathered.released_usd_minor,
            forfeited_usd_minor=gathered.forfeited_usd_minor,
        )
        with self._lock:
            self._cached = (key, view)
            self.builds += 1
        return view


def _settled(view: Transparency, size: int, on_date: str) -> bool:
    """Nothing but a new event (or a new day) can change ``view`` (see the module doc)."""
    checkpoint, statement = view.checkpoint, view.liabilities
    return (
        view.log_size == size
        and view.on_date == on_date
        and checkpoint is not None
        and checkpoint.size == size
        and statement is not None
        and statement.checkpoint_size == size
    )


def checkpoint_view(stored: StoredCheckpoint) -> CheckpointView:
    return CheckpointView(stored.size, _b64(stored.root), stored.note)


def liabilities_view(stored: StoredLiabilitiesSnapshot) -> LiabilitiesView:
    """The public statement's fields (``Snapshot.to_json``: integers as decimal strings)."""
    public = json.loads(stored.public_json)
    assets = tuple(
        LiabilityAsset(line["asset"], int(line["total"]), int(line["leaf_count"]), line["root"])
        for line in public["assets"]
    )
    return LiabilitiesView(
        snapshot_id=stored.id,
        checkpoint_size=stored.checkpoint_size,
        checkpoint_root_b64=public["checkpoint"]["root"],
        statement_note=stored.statement_note,
        created_at=stored.created_at,
        assets=assets,
    )


def gather(state: State, on_date: str) -> _Gathered:
    """Everything of the view that is read from the state (O(claims + escrows + rounds))."""
    ds = state.distribution
    return _Gathered(
        origin=state.origin,
        log_key=state.log_key,
        estates=tuple(estate_view(state, e, on_date) for e in sorted(state.claims.estates)),
        rounds=tuple(round_view(p) for p in ds.rounds.values()),
        escrow=escrow_by_reason(state, on_date),
        released_usd_minor=sum(ds.released.values()),
        forfeited_usd_minor=sum(ds.forfeited.values()),
    )


def estate_view(state: State, estate_id: str, on_date: str) -> EstateView:
    report = register_report(state.claims, estate_id, on_date)
    cells: dict[str, list[tuple[str, Tally]]] = {}
    for iso, status, tally in report.by_jurisdiction_status:
        cells.setdefault(iso, []).append((status, tally))
    rows: list[JurisdictionRow] = []
    for iso, statuses in cells.items():
        entry = treatment(state.claims, iso, on_date)
        rows.append(
            JurisdictionRow(
                iso=iso,
                policy_status=UNLISTED if entry is None else entry.status,
                total=_sum(t for _, t in statuses),
                owed=_sum(t for s, t in statuses if s != EXPUNGED),
                by_status=tuple(statuses),
            )
        )
    rows.sort(key=lambda r: (-r.owed.admitted_minor, -r.total.admitted_minor, r.iso))
    by_status = tuple(
        (status, tally)
        for status in STATUSES
        if (tally := _sum(t for r in rows for s, t in r.by_status if s == status)).claims
    )
    return EstateView(
        estate_id=estate_id,
        name=state.claims.estates[estate_id].name,
        total=report.total,
        owed=report.owed,
        by_status=by_status,
        by_policy=report.by_policy_status,
        jurisdictions=tuple(rows),
    )


def round_view(progress: RoundProgress) -> RoundView:
    r, approval = progress.round, progress.approval
    if progress.completed_at:
        state = "completed"
    elif approval is not None and progress.executed_lines:
        state = "executing"
    elif approval is not None:
        state = "approved"
    else:
        state = "declared"
    return RoundView(
        round_id=r.round_id,
        estate_id=r.estate_id,
        record_date=r.record_date,
        payment_date=r.payment_date,
        state=state,
        lines=0 if approval is None else approval.lines,
        executed_lines=progress.executed_lines,
        paid_usd_minor=progress.executed_usd_minor - progress.escrowed_usd_minor,
        escrowed_usd_minor=progress.escrowed_usd_minor,
    )


def escrow_by_reason(state: State, on_date: str) -> tuple[EscrowReason, ...]:
    """What every claim's escrow holds now (USD cents), by the reason it is held on
    ``on_date``: the reason the claim would be escrowed in a round paid that day."""
    ds, claims = state.distribution, state.claims
    exempt = state.holding_entities()
    totals: dict[str, list[int]] = {}
    for account in state.ledger.accounts.values():
        if account.purpose != "claim_escrow" or not account.owner.startswith("claim:"):
            continue
        held = account.credits_posted - account.debits_posted
        if held <= 0:
            continue
        claim = claims.claims[account.owner.removeprefix("claim:")]
        plan = ds.plans.get(claim.estate_id)
        if plan is None:
            reason = UNCLASSIFIED
        else:
            payee = classify(ds, claims, plan, claim, on_date, on_date, exempt)
            reason = payee.reason or RELEASABLE
        total = totals.setdefault(reason, [0, 0])
        total[0] += 1
        total[1] += held
    found = [EscrowReason(reason, n, amount) for reason, (n, amount) in totals.items()]
    found.sort(key=lambda e: (-e.amount_minor, e.reason))
    return tuple(found)


def _sum(tallies: Iterable[Tally]) -> Tally:
    claims = admitted = 0
    for tally in tallies:
        claims += tally.claims
        admitted += tally.admitted_minor
    return Tally(claims, admitted)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
