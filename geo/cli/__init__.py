"""The ``geo-rank`` command line: :mod:`geo.cli.app` (the group), one module per subcommand."""
