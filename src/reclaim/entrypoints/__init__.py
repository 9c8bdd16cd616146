"""Entry points: the HTTP API (``api``), the web portal (``web``) and the CLI (``cli``).

Each gets its services from ``reclaim.bootstrap``; of the adapters they import only
``adapters.files``. Nothing imports the entry points but ``reclaim.__main__`` and the tests.
"""
