"""What the portal keeps in memory is never served stale: a revoked session, a new event, a new
checkpoint or statement.

- ``WebAccounts.sessions``: a live session is read from the vault once; after a logout, a new
  login's close of the old id, or its expiry it is refused at once, though it was kept; a lookup
  that raced a close keeps nothing;
- ``CreditorReads`` and ``Portal.private``: a claim page is read and rendered once per log
  position and session; a new event (the creditor's payout election) is shown on the next
  request; another session, even of the same creditor, gets its own rendering;
- ``TransparencyService``: once its checkpoint and statement are at the log's size the view
  reads nothing until the log grows; behind it, it reads them each time, so a statement another
  process stored is shown without a new event.

In process, over a copy of the demo (``conftest.demo_dir``), built as ``reclaim serve`` builds
its app.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

import pytest

from reclaim import bootstrap
from reclaim.app.ports import StoredCheckpoint, StoredLiabilitiesSnapshot
from reclaim.app.transparency import TransparencyService
from reclaim.app.web_accounts import Principal, SessionCache, WebAccounts, session_lifetime_seconds
from reclaim.app.web_queries import claim_distributions, my_claims
from reclaim.config import Settings
from reclaim.core.machine import State
from reclaim.entrypoints.api.app import create_app
from reclaim.entrypoints.web.pages import Portal
from tests.web.conftest import PRISTINE

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

TOKEN_RE: Final = re.compile(r'name="csrf_token" value="([^"]+)"')
TREATMENT_RE: Final = re.compile(r'<p id="treatment" data-treatment="paid">([^<]*)</p>')


@dataclasses.dataclass
class World:
    container: bootstrap.Container
    client: TestClient
    accounts: WebAccounts
    creditor: str
    claim_id: str

    @property
    def portal(self) -> Portal:
        portal = self.client.app.state.portal  # type: ignore[attr-defined]
        assert isinstance(portal, Portal)
        return portal

    def login(self, session_id: str) -> None:
        self.accounts.open_session(session_id, Principal.creditor(self.creditor), "t", "t")
        self.client.cookies.set("reclaim_session", session_id)

    def claim_page(self) -> tuple[int, str]:
        answer = self.client.get(f"/claims/{self.claim_id}", follow_redirects=False)
        return answer.status_code, answer.text


def paid_claim(container: bootstrap.Container) -> tuple[str, str]:
    """A creditor who holds a claim the next round pays (no escrow), with a distribution
    already, and has made no payout election."""
    state, today = container.log.state, container.log.clock.now().date().isoformat()
    for claim in sorted(state.claims.claims.values(), key=lambda c: c.id):
        creditor = claim.linked_creditor
        if not creditor or creditor in state.distribution.elections:
            continue
        views = {v.claim_id: v for v in my_claims(state, creditor, today).claims}
        view = views.get(claim.id)
        paid = view is not None and not view.escrow_reason
        if paid and claim_distributions(container.store, creditor, claim.id):
            return creditor, claim.id
    raise AssertionError("the demo pays an onboarded creditor who made no election")


@pytest.fixture
def world(demo_dir: Path, tmp_path: Path) -> Iterator[World]:
    data = tmp_path / "d"
    shutil.copytree(demo_dir.parent / PRISTINE, data)
    container = bootstrap.build(Settings.from_env({}, data_dir=data).with_data_dir(data))
    try:
        wiring = container.onboarding
        assert wiring is not None
        container.log.start()
        app = create_app(container.log, liabilities=container.liabilities, onboarding=wiring)
        origin = "http://portal.example"
        with TestClient(app, base_url=origin, headers={"Origin": origin}) as client:
            portal = client.app.state.portal  # type: ignore[attr-defined]
            assert isinstance(portal, Portal)
            assert portal.services is not None
            creditor, claim_id = paid_claim(container)
            yield World(container, client, portal.services.accounts, creditor, claim_id)
    finally:
        container.close()


# Sessions ----------------------------------------------------------------------------------------


def test_a_session_is_read_from_the_vault_once_and_the_page_rendered_once(world: World) -> None:
    world.login("session-one")
    status, first = world.claim_page()
    assert status == 200
    assert world.claim_id in first
    reads, renders = world.accounts.sessions.reads, world.portal.private.renders
    status, again = world.claim_page()
    assert (status, again) == (200, first)
    assert world.accounts.sessions.reads == reads, "the session from memory"
    assert world.portal.private.renders == renders, "the page from its rendering"


def test_after_logout_the_kept_session_and_page_are_never_served(world: World) -> None:
    world.login("session-out")
    status, html = world.claim_page()
    assert status == 200
    assert len(world.accounts.sessions) == 1
    token = TOKEN_RE.search(html)
    assert token is not None, "the page's logout form"
    answer = world.client.post("/logout", data={"csrf_token": token.group(1)},
                               follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303
    world.client.cookies.set("reclaim_session", "session-out")  # the old cookie, replayed
    status, _ = world.claim_page()
    assert status == 303, "sent to the login, though the page was kept"
    assert len(world.accounts.sessions) == 0


def test_a_session_closed_elsewhere_in_the_process_is_refused_at_once(world: World) -> None:
    world.login("session-closed")
    assert world.claim_page()[0] == 200
    world.accounts.close_session("session-closed")  # what a new login does to the old id
    assert world.claim_page()[0] == 303


def test_an_expired_session_is_refused_though_it_was_kept(world: World) -> None:
    now = [datetime(2026, 12, 1, 12, 0, tzinfo=UTC)]
    clock = type("Clock", (), {"now": lambda self: now[0]})()
    onboarding = dataclasses.replace(world.accounts.onboarding, clock=clock)
    accounts = WebAccounts(onboarding, world.container.log)
    accounts.open_session("session-old", Principal.creditor(world.creditor), "t", "t")
    assert accounts.session("session-old") == Principal.creditor(world.creditor)
    assert len(accounts.sessions) == 1
    now[0] += timedelta(seconds=session_lifetime_seconds - 1)
    assert accounts.session("session-old") is not None
    now[0] += timedelta(seconds=1)
    assert accounts.session("session-old") is None, "expired: kept, and refused"
    assert accounts.sessions.reads == 1


def test_a_lookup_that_raced_a_close_keeps_nothing() -> None:
    cache = SessionCache()
    record = (Principal.creditor("alice"), "2099-01-01T00:00:00.000000Z")
    found, closes = cache.get("websession:aa")  # a lookup begins, reads the vault ...
    assert found is None
    cache.drop("websession:aa")  # ... meanwhile the session is closed
    cache.keep("websession:aa", record, closes)
    assert len(cache) == 0
    assert cache.get("websession:aa")[0] is None
    found, closes = cache.get("websession:aa")
    cache.keep("websession:aa", record, closes)
    assert cache.get("websession:aa")[0] == record


def test_the_cache_starts_over_at_its_bound() -> None:
    cache = SessionCache(entries_max=2)
    record = (Principal.creditor("alice"), "2099-01-01T00:00:00.000000Z")
    for subject in ("a", "b", "c"):
        cache.keep(subject, record, cache.closes)
    assert len(cache) == 1
    assert cache.get("c")[0] == record


# Claim pages -------------------------------------------------------------------------------------


def test_a_new_event_is_shown_on_the_next_request(world: World) -> None:
    world.login("session-event")
    status, before = world.claim_page()
    assert status == 200
    paid = TREATMENT_RE.search(before)
    assert paid is not None
    assert "USD." in paid.group(1)
    services = world.portal.services
    assert services is not None
    reads, renders = services.reads.reads, world.portal.private.renders
    assert world.claim_page()[1] == before
    assert services.reads.reads == reads
    elected = world.accounts.elect_payout(world.creditor, "USDC")  # one new event
    assert getattr(elected, "seq", None) is not None, elected
    status, after = world.claim_page()
    assert status == 200
    now_paid = TREATMENT_RE.search(after)
    assert now_paid is not None
    assert "USDC." in now_paid.group(1), "the election, at once"
    assert services.reads.reads == reads + 1
    assert world.portal.private.renders == renders + 1


def test_each_session_has_its_own_rendering(world: World) -> None:
    world.login("session-a")
    status, first = world.claim_page()
    world.login("session-b")  # the same creditor, another browser
    status_b, second = world.claim_page()
    assert status == status_b == 200
    tokens = [m.group(1) for m in map(TOKEN_RE.search, (first, second)) if m]
    assert len(tokens) == 2
    assert tokens[0] != tokens[1], "each page has its own session's token"


def test_another_creditors_claim_is_404_and_keeps_nothing(world: World) -> None:
    world.login("session-other")
    services = world.portal.services
    assert services is not None
    state = world.container.log.state
    others = ("", world.creditor)
    other = next(c for c in sorted(state.claims.claims) if c != world.claim_id
                 and state.claims.claims[c].linked_creditor not in others)  # fmt: skip
    assert world.client.get(f"/claims/{other}").status_code == 404
    assert services.reads.claim_page(world.creditor, other, "2026-12-01") is None


# The transparency view ---------------------------------------------------------------------------


class FakeLog:
    """A log of a given size whose state is empty (the view's figures are not the point)."""

    def __init__(self) -> None:
        self.size = 10

    def read(self, query: Callable[[State], object]) -> object:
        return query(State())


def stored_statement(size: int) -> StoredLiabilitiesSnapshot:
    public = '{"assets": [], "checkpoint": {"root": "AA=="}}'
    return StoredLiabilitiesSnapshot(str(size), size, "note", public, "2026-12-01T00:00:00Z")


def counting(value: list[object]) -> tuple[Callable[[], object], list[int]]:
    calls = [0]

    def read() -> object:
        calls[0] += 1
        return value[0]

    return read, calls


def test_a_settled_view_reads_nothing_until_the_log_grows() -> None:
    log = FakeLog()
    checkpoint: list[object] = [StoredCheckpoint(10, b"\x00" * 32, "note")]
    statement: list[object] = [stored_statement(10)]
    read_checkpoint, checkpoint_reads = counting(checkpoint)
    read_statement, statement_reads = counting(statement)
    service = TransparencyService(log, read_checkpoint, read_statement,  # type: ignore[arg-type]
                                  lambda: date(2026, 12, 1))  # fmt: skip
    first = service.view()
    assert service.view() is first
    assert service.view() is first
    assert (checkpoint_reads[0], statement_reads[0], service.builds) == (1, 1, 1)
    log.size = 11  # a new event
    moved = service.view()
    assert moved is not first
    assert moved.log_size == 11
    assert (checkpoint_reads[0], statement_reads[0]) == (2, 2)
    service.view()
    assert checkpoint_reads[0] == 3, "behind the log: read each time"
    checkpoint[0] = StoredCheckpoint(11, b"\x01" * 32, "note 11")
    statement[0] = stored_statement(11)  # another process took a snapshot: no new event
    shown = service.view()
    assert shown.checkpoint is not None
    assert shown.checkpoint.size == 11
    assert shown.liabilities is not None
    assert shown.liabilities.snapshot_id == "11"
    assert service.view() is shown
    assert checkpoint_reads[0] == 4, "settled again"


def test_a_new_day_is_a_new_view() -> None:
    log, today = FakeLog(), [date(2026, 12, 1)]
    checkpoint = StoredCheckpoint(10, b"\x00" * 32, "note")
    service = TransparencyService(log, lambda: checkpoint, lambda: stored_statement(10),
                                  lambda: today[0])  # fmt: skip
    first = service.view()
    today[0] = date(2026, 12, 2)
    assert service.view() is not first
    assert service.view().on_date == "2026-12-02"
