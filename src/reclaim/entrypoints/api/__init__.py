"""The HTTP API (FastAPI): the public log, proofs and checkpoints, signed onboarding, ledger,
distribution and withdrawal routes, and the Backpack-compatible trading API (``backpack``).

Errors are problem+json from one table (``problems``); signed requests follow Backpack's scheme
(``auth``). Imported by the CLI's ``serve`` and by the tests.
"""
