"""``python -m reclaim`` runs the command line."""

from reclaim.entrypoints.cli import main

main()
