"""Where the shared test vectors live: ``$RECLAIM_SHARED_DIR``, else ``shared/`` by the repo."""

from __future__ import annotations

import os
from pathlib import Path


def shared_dir() -> Path:
    """The shared directory (``/work/shared`` for the repository at ``/work/main``)."""
    override = os.environ.get("RECLAIM_SHARED_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared"
