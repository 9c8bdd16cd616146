"""``reclaim demo``'s log: the foundation events, then the programme, on one container.

Deterministic for a given seed, but for the times the system clock stamps on the events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from reclaim import bootstrap
from reclaim.core.money import format_usd as usd
from reclaim.core.rejections import Rejection
from reclaim.demo import foundation
from reclaim.demo.programme import run_programme

#: The seed of every demo run: the creditors, their keys, the register, the programme's choices.
SEED = 2022_11_11


def populate(
    container: bootstrap.Container,
    data_dir: Path,
    console: Console,
    progress: Callable[[], Progress],
    *,
    creditors: int,
    claims: int,
) -> None:
    """Append the demo's events to the container's (empty) log and publish a checkpoint,
    printing what was done; ``progress`` makes the bar of the foundation's events."""
    people = foundation.creditors(creditors, seed=SEED)
    for person in people:
        container.keys.actors[person.name] = person.keys[0]
    commands = list(foundation.commands(people, seed=SEED))
    started = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("append signed events", total=len(commands))
        outcomes = []
        for start in range(0, len(commands), 500):
            outcomes += container.log.submit_many(commands[start : start + 500])
            bar.update(task, completed=start + len(commands[start : start + 500]))
    elapsed = time.perf_counter() - started
    refused = [o for o in outcomes if isinstance(o, Rejection)]
    console.print(
        f"appended {len(outcomes) - len(refused):,} signed events in {elapsed:.2f} s "
        f"({len(refused)} refused by the core); log size {container.log.size:,}"
    )
    started = time.perf_counter()
    programme = run_programme(container, data_dir, console, claims=claims, seed=SEED)
    container.log.publish_checkpoint()
    console.print(
        f"programme: {programme.claims:,} claims, {programme.onboarded:,} holders onboarded, "
        f"{programme.rounds} rounds, {programme.lines:,} lines (paid "
        f"{usd(programme.paid_usd_minor)}, escrowed "
        f"{usd(programme.escrowed_usd_minor)}), {programme.released} escrow released, "
        f"{programme.forfeited} forfeited, {programme.withdrawals} SEPA withdrawals, "
        f"in {time.perf_counter() - started:.1f} s; "
        f"log size {container.log.size:,}"
    )
    m = programme.market
    if m is not None:
        console.print(
            f"market: {m.series} note series, {m.conversions} claims converted by restricted "
            f"creditors, {m.orders} signed orders, {m.trades} trades, {m.resting} resting; "
            f"{usd(m.passed_minor)} passed through to note holders"
        )
