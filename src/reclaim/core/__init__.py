"""The pure core: the state machine of the log, no I/O, no clock, no frameworks.

``machine`` routes every command, event and entity to its sub-domain by table (``DOMAINS``);
``domain`` is the seam each sub-domain exports (``Domain``); ``actors``, ``ledger``, ``claims``,
``distribution``, ``withdrawals``, ``market`` and ``notes`` are the sub-domains; ``rejections``
and ``kinds`` the refusals; ``limits`` every bound. Imports nothing of reclaim outside itself;
imported by every other layer (ARCHITECTURE.md).
"""
