"""Helpers shared by the tests and used by no source module: reference models, worlds, factories.

``reference``: a plain per-claim reference for a distribution round (the differential property
runs it against ``reclaim.core.distribution.compute``).
"""
