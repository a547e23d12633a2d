"""``python -m geo`` runs the ``geo-rank`` command."""

from geo.cli.app import main

main()
