"""Logs exported before issue 9 still verify: the key rule is versioned (v2), v1 replays as is."""

from __future__ import annotations

import collections
import json
import tarfile
from pathlib import Path

from reclaim.adapters.log_sources import DirectorySource
from reclaim.verifier import VerifyReport, verify_log

EXPORTS = Path(__file__).parent.parent / "data" / "exports"


def test_the_demo_export_of_fd0c56d_still_verifies(tmp_path: Path) -> None:
    with tarfile.open(EXPORTS / "demo-fd0c56d.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")
    export = tmp_path / "export"
    keys = json.loads((export / "keys.json").read_text())
    held = collections.Counter(
        text.split("+")[2] for actor in keys["actors"] for text in actor["keys"]
    )
    assert sum(1 for n in held.values() if n > 1) == 95, "the old demo shared keys"
    report = verify_log(DirectorySource(export))
    assert isinstance(report, VerifyReport), report
    assert (report.events, report.actors, report.keys) == (9436, 3111, 4107)
