"""Liabilities snapshot of 1,000,000 accounts vs. a bare loop hashing as many leaves and nodes.

Targets (issue 3): the snapshot in ≤ 8 s and ≤ 1 GiB peak memory; a proof ≤ 2 KB, verified in
≤ 5 ms. The baseline is the bare cost of the SHA-256 calls alone: 1,000,000 leaf messages and
999,999 node messages of the same sizes, hashed in a plain list loop, level by level.

The snapshot is built in a child process (``--child``), so that its peak memory is its own: the
figure is the child's maximum resident set size (``getrusage(RUSAGE_CHILDREN).ru_maxrss``), and
it includes the interpreter, numpy and the 1,000,000 input rows. The child also serves 1,000
proofs of random accounts and times their verification.
"""

from __future__ import annotations

import hashlib
import json
import random
import resource
import subprocess
import sys
import time

from _common import median_seconds, timed
from reclaim.log.checkpoint import Checkpoint
from reclaim.log.keys import SignerKey
from reclaim.log.liabilities.build import build_snapshot, proof_for
from reclaim.log.liabilities.proof import proof_to_json
from reclaim.log.liabilities.verify import verify_proof

ACCOUNTS = 1_000_000
SEED = 2026
PROOFS = 1_000
BUILD_TARGET_SECONDS = 8.0
PEAK_TARGET_MIB = 1024
PROOF_TARGET_BYTES = 2048
VERIFY_TARGET_MS = 5.0
ORIGIN = "reclaim.example/log"


def synthetic_rows() -> list[tuple[str, str, int]]:
    """One USD liability per account, 1 to 10**10 minor units, from a seeded RNG."""
    rng = random.Random(SEED)
    return [(f"acct-{n:07d}", "USD", rng.randrange(1, 10**10)) for n in range(ACCOUNTS)]


def child() -> None:
    """Build, serve and verify proofs; print the figures as JSON."""
    rows = synthetic_rows()
    key = SignerKey.from_seed(ORIGIN, hashlib.sha256(b"bench log key").digest())
    checkpoint = Checkpoint(ORIGIN, 1_234_567, hashlib.sha256(b"bench root").digest())
    secret = hashlib.sha256(b"bench snapshot secret").digest()
    started = time.perf_counter()
    snapshot = build_snapshot(rows, secret, "bench-1", checkpoint, key)
    build_seconds = time.perf_counter() - started
    rng = random.Random(SEED + 1)
    sizes, verify_seconds = [], []
    for account, asset, _ in rng.sample(rows, PROOFS):
        proof = proof_for(snapshot, account, asset)
        sizes.append(len(proof_to_json(proof)))
        started = time.perf_counter()
        verify_proof(proof, key.verifier, checkpoint)
        verify_seconds.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "build_seconds": build_seconds,
                "proof_bytes_max": max(sizes),
                "verify_seconds_median": median_seconds(verify_seconds),
            }
        )
    )


def bare_loop() -> bytes:
    """The baseline: the same number of SHA-256 calls over messages of the same sizes."""
    sha = hashlib.sha256
    filler = bytes(47)  # prefix 20 + salt 32 + lp(account) 14 + lp(asset) 5 + balance 8 = 79
    level = [sha(b"%032d" % n + filler).digest() for n in range(ACCOUNTS)]
    prefix, sums = bytes(20), bytes(8)  # a node message: 20 + 2 * (32 + 8) = 100 bytes
    while len(level) > 1:
        pairs = [
            sha(prefix + level[i] + sums + level[i + 1] + sums).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            pairs.append(level[-1])
        level = pairs
    return level[0]


def main() -> None:
    if sys.argv[1:] == ["--child"]:
        child()
        return
    base = min(timed(bare_loop) for _ in range(2))
    done = subprocess.run(
        [sys.executable, __file__, "--child"], capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    build = figures["build_seconds"]
    met = build <= BUILD_TARGET_SECONDS and peak_mib <= PEAK_TARGET_MIB
    print(
        f"liabilities snapshot of {ACCOUNTS:,} accounts: {build:.1f} s "
        f"(target ≤ {BUILD_TARGET_SECONDS:.0f} s) = {build / base:.1f} × bare hashing loop "
        f"({base:.1f} s); peak {peak_mib:,.0f} MiB (target ≤ 1 GiB; max RSS of the child "
        f"process, input rows included) — {'ok' if met else 'TARGET MISSED'}",
        flush=True,
    )
    size, verify_ms = figures["proof_bytes_max"], figures["verify_seconds_median"] * 1000
    met = size <= PROOF_TARGET_BYTES and verify_ms <= VERIFY_TARGET_MS
    print(
        f"proof: {size:,} bytes, largest of {PROOFS:,} (≤ 2 KB), verify median "
        f"{verify_ms:.2f} ms (≤ {VERIFY_TARGET_MS:.0f} ms) — {'ok' if met else 'TARGET MISSED'}",
        flush=True,
    )


if __name__ == "__main__":
    main()
