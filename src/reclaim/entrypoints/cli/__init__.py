"""The ``reclaim`` command line, one module per command group (``app`` mounts them).

``app`` (the Typer app) and ``main`` (the console script ``reclaim`` and ``python -m reclaim``)
are what the rest may import: ``reclaim.__main__``, the packaging entry point and tests that
drive the CLI in process. The group modules import ``common``, ``bootstrap``, the application,
the core and log, and of the adapters only ``reclaim.adapters.files`` (the import-linter
contract in ``pyproject.toml``); nothing imports them but ``app``.
"""

from reclaim.entrypoints.cli.app import app, main

__all__ = ["app", "main"]
