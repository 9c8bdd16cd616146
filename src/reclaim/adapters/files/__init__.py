"""The operator's files: readers (and the few writers) of what an operator hands reclaim on disk.

One module per kind of file, each validating the whole file and answering with every fault:

- ``register_file``: an estate's claims register (CSV or Parquet), with ``register_format``
  (its columns and values), ``register_cells`` (the rule ladder of each column) and
  ``register_synthetic`` (synthetic registers for tests and benchmarks, and the writers);
- ``round_file``: a distribution round's lines and report (written by ``preview``, read back by
  ``execute`` under the approved SHA-256);
- ``round_spec_file``: an estate's distribution plan and its rounds (TOML);
- ``fee_file``: the rails' withdrawal terms (TOML);
- ``policy_file``: the jurisdiction policy (CSV);
- ``estate_file``: an estate's classes and terms (TOML or JSON);
- ``statements``: bank statements (camt.053 XML or CSV) for reconciliation.

They import only the core (and each other): no database, network or key. So they are the one
part of ``reclaim.adapters`` the entry points may import directly (an import-linter contract in
``pyproject.toml``); the rest of ``adapters`` is reached through ``reclaim.bootstrap``.
"""

from __future__ import annotations

from pathlib import Path


class FileFaultsError(ValueError):
    """A file whose content was refused, with every fault found (``faults``); its message names
    the file and joins the faults with ``; ``. The estate and round-spec readers raise one."""

    def __init__(self, path: Path, faults: list[str]) -> None:
        assert faults, "an error names at least one fault"
        super().__init__(f"{path}: " + "; ".join(faults))
        self.path = path
        self.faults = tuple(faults)
