"""Adapters: the implementations of the application's ports (``reclaim.app.ports``).

The SQLite/PostgreSQL log store (``db``), mail over SMTP and the outbox, the PII vault, payout
rails (``rails``), KYC providers, signing-key files, clocks, and the operator's files
(``files``). Imported by ``reclaim.bootstrap`` (which builds them) and by the tests; entry points
import only ``adapters.files`` (import-linter).
"""
