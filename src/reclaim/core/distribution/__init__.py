"""Distributions: plans, rounds, exact entitlements, escrow for claims that cannot be paid yet.

``model`` holds the plan and round values and the rules of a round; ``interest`` the exact
post-petition interest; ``compute`` the vectorised round (the preview); ``payees`` who is paid
(holder of record, escrow reasons); ``state`` what the events keep. The events' ladders:
``commands`` (the commands and what deciding reads), ``payloads`` (event types and shapes) and
``payload_codec`` (their reading and writing), ``rounds``, ``escrow`` and ``holders`` (the checks
and ledger effects of each kind of event), and ``machine``, which dispatches: decide, check and
evolve by event type, and the invariants. See each module's docstring.

Imported by ``core.machine`` (through ``domain``), the app's distribution service and the tests.
"""
