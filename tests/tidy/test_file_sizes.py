"""No source file over 800 lines: a module that long does several things; split it by what it does
(issue 10, part 4: the verifier, ``log/liabilities``, ``log/merkle``, ``core/distribution``)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

SRC: Final = Path(__file__).resolve().parents[2] / "src" / "reclaim"
LINES_MAX: Final = 800

#: Files over the limit that another change is splitting right now, each with that change. An
#: entry is removed when its file is split: the second test fails while one is under the limit.
KNOWN_EXCEPTIONS: Final[dict[str, str]] = {}


def _line_counts() -> dict[str, int]:
    files = sorted(SRC.rglob("*.py"))
    assert files, f"no source files under {SRC}"
    return {
        path.relative_to(SRC).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in files
    }


def test_no_source_file_is_over_800_lines() -> None:
    counts = _line_counts()
    offenders = {
        name: lines
        for name, lines in counts.items()
        if lines > LINES_MAX and name not in KNOWN_EXCEPTIONS
    }
    listing = ", ".join(f"{name} ({lines} lines)" for name, lines in sorted(offenders.items()))
    if offenders:
        print(f"source files over {LINES_MAX} lines: {listing}")
    assert offenders == {}, f"split these by what they do: {listing}"


def test_known_exceptions_are_still_over_the_limit() -> None:
    counts = _line_counts()
    stale = {
        name: counts.get(name)
        for name in KNOWN_EXCEPTIONS
        if counts.get(name) is None or counts[name] <= LINES_MAX
    }
    assert stale == {}, f"remove from KNOWN_EXCEPTIONS (gone or now short enough): {stale}"


def test_the_split_files_stay_split() -> None:
    counts = _line_counts()
    for gone in ("app/verify.py", "log/liabilities.py", "core/distribution/reference.py",
                 "core/state.py"):  # fmt: skip
        assert gone not in counts, f"{gone} was split or moved (issue 10, part 4)"
    for part in ("verifier/verify.py", "log/liabilities/verify.py", "log/merkle_plan.py",
                 "core/distribution/rounds.py", "core/withdrawals/settlement.py",
                 "core/withdrawals/requests.py", "core/withdrawals/destinations.py"):  # fmt: skip
        assert part in counts, f"{part} is missing"
