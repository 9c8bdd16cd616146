"""Where the external test vectors live.

The project keeps a copy of ``shared/vectors/`` (with its READMEs, which say where each vector
comes from) in ``tests/vectors/data/``, so the tests run from any clone; ``$RECLAIM_SHARED_DIR``
points them at another ``shared/`` directory instead (its ``vectors/`` subdirectory).
"""

from __future__ import annotations

import os
from pathlib import Path

_COPY = Path(__file__).resolve().parent / "data"


def shared_dir() -> Path:
    """A directory whose ``vectors/`` holds ``merkle/`` and ``signed-note/``."""
    override = os.environ.get("RECLAIM_SHARED_DIR")
    if override:
        return Path(override)
    return _COPY.parent


def vectors_dir() -> Path:
    return shared_dir() / "vectors" if os.environ.get("RECLAIM_SHARED_DIR") else _COPY
