"""One module per ``geo-rank`` subcommand."""
