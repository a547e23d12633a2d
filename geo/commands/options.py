"""Options shared by several subcommands."""

from __future__ import annotations

import click

region_option = click.option(
    "--region",
    default="US",
    show_default=True,
    help="US (48 contiguous states and DC) or a state code such as US-TX.",
)
