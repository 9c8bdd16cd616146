"""The demo: a whole recovery programme on a fresh SQLite log, for ``reclaim demo``.

- ``foundation``: the demo's creditors (seeded keys) and their first signed events — pure data
  over the core and the log;
- ``programme``: the FTX-like programme after them — estate, register import, onboarding,
  rounds, escrow, withdrawals — through the real services;
- ``run``: both, on a container ``bootstrap`` built, with progress and a summary.

Layering: beside the entry points and above ``bootstrap``, whose container (and, being no entry
point, whichever adapters) it uses; only the CLI's ``demo`` command imports it, and nothing
here imports ``reclaim.entrypoints`` (the layers contract in ``pyproject.toml``). Tests may
import ``foundation`` for its seeded keys.
"""
