"""``python -m geo`` runs the ``geo-rank`` command."""

from geo.cli import main

main()
