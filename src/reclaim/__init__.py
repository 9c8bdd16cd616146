"""reclaim: a verifiable recovery programme for the creditors of a failed crypto exchange.

The packages, their layers and the seams between them are described in ARCHITECTURE.md:
``core`` (the pure state machine) ← ``log`` ← ``app`` | ``verifier`` ← ``adapters`` ←
``bootstrap`` ← ``demo`` ← ``entrypoints``; import-linter enforces the arrows.
"""

if not __debug__:  # pragma: no cover - assertions are part of the safety net (TIGER_STYLE)
    raise RuntimeError("reclaim refuses to run under `python -O`: its assertions must stay on")

__version__ = "0.1.0"
