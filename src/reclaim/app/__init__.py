"""The application: services over ports, the only place the core meets time and storage.

The log service (decide → append → publish, group commit, request marks), onboarding,
withdrawals, distributions, claims import, the market, queries and views, and ``refusals`` (one
``Refused`` for every service). Imports ``core`` and ``log``; imported by ``adapters`` (to
implement ports), ``bootstrap`` and the entry points — never by the ``verifier``.
"""
