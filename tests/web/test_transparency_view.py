"""``app.transparency`` over the demo's data: the view's figures add up to what the state holds.

The demo (``conftest.demo_dir``: FTX register, onboarding, four rounds, one escrow release, one
forfeiture, a liabilities snapshot) is read back through the composition root.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reclaim import bootstrap
from reclaim.app.transparency import RELEASABLE, Transparency, TransparencyService
from reclaim.config import Settings
from reclaim.core.distribution.payees import ESCROW_REASONS


@pytest.fixture(scope="module")
def container(demo_dir: Path) -> Iterator[bootstrap.Container]:
    built = bootstrap.build(Settings.from_env({}, data_dir=demo_dir))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module")
def view(container: bootstrap.Container) -> Transparency:
    service = TransparencyService(container.log, container.store.latest_checkpoint,
                                  container.liabilities.latest,
                                  lambda: container.log.clock.now().date())  # fmt: skip
    return service.view()


def test_escrow_is_what_the_rounds_escrowed_less_releases_and_forfeitures(
    view: Transparency, container: bootstrap.Container
) -> None:
    assert view.escrowed_usd_minor > 0
    assert view.released_usd_minor > 0, "the demo releases one escrow"
    assert view.forfeited_usd_minor > 0, "and forfeits one"
    assert view.in_escrow_usd_minor == (
        view.escrowed_usd_minor - view.released_usd_minor - view.forfeited_usd_minor
    )
    accounts = container.log.state.ledger.accounts.values()
    held = [a.credits_posted - a.debits_posted for a in accounts if a.purpose == "claim_escrow"]
    assert view.in_escrow_usd_minor == sum(held)
    assert sum(e.claims for e in view.escrow) == sum(1 for h in held if h > 0)
    assert {e.reason for e in view.escrow} <= {*ESCROW_REASONS, RELEASABLE}
    amounts = [e.amount_minor for e in view.escrow]
    assert amounts == sorted(amounts, reverse=True)


def test_claims_add_up_by_jurisdiction_and_status(
    view: Transparency, container: bootstrap.Container
) -> None:
    (estate,) = view.estates
    claims = list(container.log.state.claims.claims.values())
    assert estate.total.claims == len(claims) == 3000
    assert estate.total.admitted_minor == sum(c.admitted_minor for c in claims)
    assert sum(r.total.claims for r in estate.jurisdictions) == len(claims)
    assert sum(t.admitted_minor for _, t in estate.by_status) == estate.total.admitted_minor
    cn = next(r for r in estate.jurisdictions if r.iso == "CN")
    assert cn.policy_status == "restricted"
    assert cn.total.claims == sum(1 for c in claims if c.jurisdiction == "CN")
    owed = [r.owed.admitted_minor for r in estate.jurisdictions]
    assert owed == sorted(owed, reverse=True)


def test_rounds_and_the_signed_documents(
    view: Transparency, container: bootstrap.Container
) -> None:
    assert [r.round_id for r in view.rounds] == ["ftx-1", "ftx-2", "ftx-3", "ftx-4"]
    assert all(r.state == "completed" and r.executed_lines == r.lines for r in view.rounds)
    progress = container.log.state.distribution.rounds
    for r in view.rounds:
        p = progress[r.round_id]
        assert r.paid_usd_minor + r.escrowed_usd_minor == p.executed_usd_minor
    checkpoint = container.store.latest_checkpoint()
    assert checkpoint is not None
    assert view.checkpoint is not None
    assert (view.checkpoint.size, view.checkpoint.note) == (checkpoint.size, checkpoint.note)
    assert view.liabilities is not None
    assert view.liabilities.checkpoint_size <= checkpoint.size
    assert "USD" in {a.asset for a in view.liabilities.assets}
    assert view.log_key == container.keys.log_signer.verifier.to_text()
