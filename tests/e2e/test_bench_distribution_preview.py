"""The distribution-preview benchmark runs end to end on a small register (20,000 claims).

The full run (10,000,000 claims, ~20 s) is ``python benchmarks/bench_distribution_preview.py``;
this only checks that the script works: the child computes and writes the round, the bare loop
agrees on the total, and the figures are printed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_distribution_preview.py"


def test_the_preview_benchmark_runs_on_20000_claims() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--claims", "20000"],
        cwd=SCRIPT.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith("distribution preview of 20,000 claims (Enum text columns): ")
    assert re.search(r"× bare numpy loop of the arithmetic \([0-9.]+ s\)", line), line
    assert re.search(r"peak [0-9,]+ MiB", line), line
    assert re.search(r"[0-9,]+ lines, \$[0-9,]+\.[0-9]{2} \(escrowed \$[0-9,]+\.[0-9]{2}\)", line)
    assert line.endswith(("PASS", "FAIL: TARGET MISSED")), line
