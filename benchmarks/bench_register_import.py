"""Register import (read + validate) of 1,000,000 rows vs. the raw Polars CSV read of the file.

The register is a synthetic CSV (``synthetic_register``, seed 0, ~81 MB), generated once and
cached under ``/tmp/reclaim-bench/`` (the file name carries a digest of the generator, so a
changed generator makes a new file). Each measurement runs in a fresh child process, so that
its peak memory is its own: the figure is the child's peak resident set (``VmHWM``), which
includes the interpreter and Polars themselves (tracemalloc would not see Polars' native
allocations). The baseline is ``polars.read_csv(path, infer_schema=False)``: the same read,
every column as text, that ``read_register`` does before it validates.

Target (issue 4): the whole import of 1,000,000 rows, through the log, in under 60 s; this is
its first part (file to validated columns), which must leave room for the rest.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _common import report

ROWS = 1_000_000
RUNS = 3
TARGET_SECONDS = 60.0
CACHE = Path("/tmp/reclaim-bench")


def register_path() -> Path:
    """The cached synthetic register, made now if missing."""
    from reclaim.adapters.files import register_synthetic

    source = inspect.getsource(register_synthetic.synthetic_register) + inspect.getsource(
        register_synthetic.write_register_csv
    )
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    path = CACHE / f"register-{ROWS}-seed0-{digest}.csv"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        register_synthetic.write_register_csv(
            partial, register_synthetic.synthetic_register(ROWS, seed=0)
        )
        partial.replace(path)
    return path


def child(kind: str, path: Path) -> None:
    """One measurement, in this (fresh) process: prints seconds, rows and peak RSS as JSON."""
    import polars as pl

    from reclaim.adapters.files.register_file import read_register
    from reclaim.adapters.files.register_format import RegisterFile

    started = time.perf_counter()
    if kind == "raw":
        rows = pl.read_csv(path, infer_schema=False).height
    else:
        result = read_register(path, progress=_progress_bar())
        assert isinstance(result, RegisterFile), result.lines()[:5]
        rows = result.row_count
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_mib": _peak_rss_mib()}))


def _peak_rss_mib() -> float:
    """This process's peak resident set: ``VmHWM``, which starts afresh at ``exec`` (unlike
    ``ru_maxrss``, which keeps the high-water mark of the forked parent's image on Linux)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _progress_bar() -> Callable[[str, int, int], None]:
    """A progress bar on standard error, as the CLI shows it (silent when not a terminal)."""
    from rich.console import Console
    from rich.progress import Progress, TaskID

    bar = Progress(console=Console(stderr=True), transient=True)
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            if not tasks:
                bar.start()
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)
        if stage == "normalise" and done == total:
            bar.stop()

    return update


def measure(kind: str, path: Path) -> tuple[float, float]:
    """Best time and largest peak of ``RUNS`` child processes."""
    times: list[float] = []
    peaks: list[float] = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        assert figures["rows"] == ROWS, figures
        times.append(figures["seconds"])
        peaks.append(figures["peak_mib"])
    return min(times), max(peaks)


def main() -> None:
    path = register_path()
    size_mb = path.stat().st_size / 1e6
    raw_seconds, raw_peak = measure("raw", path)
    ours_seconds, ours_peak = measure("import", path)
    ratio = ours_seconds / raw_seconds
    report(
        f"register import (read+validate) {ROWS:,} rows ({size_mb:.0f} MB CSV)",
        f"{ours_seconds:.2f} s = {ratio:.1f} × raw Polars read ({raw_seconds:.2f} s); "
        f"peak RSS {ours_peak:,.0f} MiB (raw read {raw_peak:,.0f} MiB)",
        ratio,
        f"target: whole import < {TARGET_SECONDS:.0f} s",
        ours_seconds < TARGET_SECONDS,
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
