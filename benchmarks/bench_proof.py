"""Inclusion proof for a random leaf of a 10,000,000-leaf SQLite log, served from stored nodes.

The log's Merkle nodes are bulk-loaded once (synthetic leaf hashes, no events: signing ten
million events is not what this measures) into ``$RECLAIM_BENCH_DIR`` (default /tmp) and reused
by later runs. Baseline, measured in the same run: fetching the same number of nodes by primary
key with bare ``sqlite3`` and no Merkle logic. Target (issue 2): median under 5 ms.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import statistics
import time
from pathlib import Path

from _common import report
from reclaim.adapters.db.store import bulk_load_leaf_hashes, open_store
from reclaim.log import merkle, merkle_plan

LEAVES = 10_000_000
SAMPLES = 1_000


def synthetic_leaves(count: int) -> object:
    return (merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(count))


def main() -> None:
    path = Path(os.environ.get("RECLAIM_BENCH_DIR", "/tmp")) / "reclaim-bench-proof-10m.db"
    store = open_store(f"sqlite:///{path}")
    if store.size() != LEAVES:
        store.close()
        path.unlink(missing_ok=True)
        store = open_store(f"sqlite:///{path}")
        started = time.perf_counter()
        bulk_load_leaf_hashes(store, synthetic_leaves(LEAVES))  # type: ignore[arg-type]
        print(f"(bulk-loaded {LEAVES:,} leaves in {time.perf_counter() - started:.0f} s)")
    rng = random.Random(7)
    root = store.root(LEAVES)
    indices = [rng.randrange(LEAVES) for _ in range(SAMPLES)]
    timings, node_counts = [], []
    for index in indices:
        started = time.perf_counter()
        proof = store.inclusion_proof(index, LEAVES)
        timings.append(time.perf_counter() - started)
        node_counts.append(len(merkle_plan.inclusion_plan(index, LEAVES).node_keys()))
        leaf = merkle.leaf_hash(index.to_bytes(8, "big"))
        merkle.verify_inclusion(leaf, index, LEAVES, proof, root)
    store.close()

    raw = sqlite3.connect(path)
    keys = [merkle_plan.node_key(0, rng.randrange(LEAVES)) for _ in range(max(node_counts))]
    baseline = []
    for count in node_counts:
        started = time.perf_counter()
        marks = ",".join("?" * count)
        sql = f"SELECT node_key, hash FROM merkle_nodes WHERE node_key IN ({marks})"
        raw.execute(sql, keys[:count]).fetchall()
        baseline.append(time.perf_counter() - started)
    raw.close()
    median_ms = statistics.median(timings) * 1000
    base_ms = statistics.median(baseline) * 1000
    p99_ms = sorted(timings)[int(0.99 * SAMPLES)] * 1000
    digest = hashlib.sha256(root).hexdigest()[:16]
    report(
        f"inclusion proof, random leaf of a {LEAVES:,}-leaf SQLite log",
        f"median {median_ms:.3f} ms, p99 {p99_ms:.3f} ms (target median < 5 ms); "
        f"bare SQLite fetch of the same node count {base_ms:.3f} ms; root {digest}…",
        median_ms / base_ms,
        "ratio to the bare fetch, informative",
        median_ms < 5,
    )


if __name__ == "__main__":
    main()
