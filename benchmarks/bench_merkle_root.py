"""Tree root over 1,000,000 leaves vs. a bare loop hashing the same leaves and nodes.

Target: reclaim's root ≤ 1.5 × the bare loop's time (issue 2).
"""

from __future__ import annotations

import hashlib

from _common import report, timed
from reclaim.log import merkle

LEAVES = 1_000_000


def bare_loop(data: list[bytes]) -> bytes:
    """The baseline: the same SHA-256 calls, no structure, power-of-two pairing with carry."""
    sha = hashlib.sha256
    level = [sha(b"\x00" + d).digest() for d in data]
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def reclaim_root(data: list[bytes]) -> bytes:
    return merkle.root_from_leaf_hashes([merkle.leaf_hash(d) for d in data])


def main() -> None:
    data = [i.to_bytes(8, "big") * 4 for i in range(LEAVES)]
    assert bare_loop(data[:1000]) == reclaim_root(data[:1000])
    base = min(timed(lambda: bare_loop(data)) for _ in range(3))
    ours = min(timed(lambda: reclaim_root(data)) for _ in range(3))
    ratio = ours / base
    report(
        "merkle root of 1,000,000 leaves",
        f"{ours:.3f} s vs bare hashing loop {base:.3f} s",
        ratio,
        "target ≤ 1.5",
        ratio <= 1.5,
    )


if __name__ == "__main__":
    main()
