"""The ``geo-rank`` command: a thin layer that parses flags and calls the library.

Every :class:`~geo.errors.GeoRankError` becomes a one-line message on stderr and exit code
2 (bad input); ``--debug`` shows the traceback instead.

The subcommands are loaded lazily: a subcommand's module (and geopandas, the pipeline or the
backtest behind it) is imported only when that subcommand runs or when ``--help`` lists it,
so ``geo-rank --version`` imports none of them.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from geo import __version__
from geo.errors import GeoRankError

EXIT_BAD_INPUT = 2


#: Subcommand name -> ``module:attribute`` of its click command.
SUBCOMMANDS = {
    "rank": "geo.cli.rank:rank_command",
    "layers": "geo.cli.layers:layers_command",
    "grid": "geo.cli.grid:grid_command",
    "map": "geo.cli.map:map_command",
    "fetch": "geo.cli.fetch:fetch_command",
    "evaluate": "geo.cli.evaluate:evaluate_command",
}

#: Flags of the group itself, which may stand anywhere on the command line.
_GLOBAL_FLAGS = {"-v", "-vv", "-vvv", "--verbose", "-q", "--quiet", "--debug"}


class _Group(click.Group):
    """A click group with lazy subcommands, a default command (``rank``) and one-line errors.

    ``geo-rank --region US`` means ``geo-rank rank --region US``; global flags (``-v``,
    ``-q``, ``--debug``) are accepted before or after the command's own options. The
    subcommands in :data:`SUBCOMMANDS` are imported on first use (:meth:`get_command`).
    """

    default_command = "rank"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(SUBCOMMANDS) | set(super().list_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in SUBCOMMANDS and cmd_name not in self.commands:
            module, _, attribute = SUBCOMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command) or command.name != cmd_name:
                raise TypeError(f"{SUBCOMMANDS[cmd_name]} is not the {cmd_name!r} command")
            self.add_command(command)
        return super().get_command(ctx, cmd_name)

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        """Print the shipped ``grid --json`` document when it answers the command line
        (:mod:`geo.cli.grid_fast`: no graph built); otherwise run the command."""
        from geo.cli import grid_fast

        if grid_fast.answer(list(sys.argv[1:] if args is None else args)):
            if kwargs.get("standalone_mode", True):
                sys.exit(0)
            return 0
        return super().main(args, *rest, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        flags = [a for a in args if a in _GLOBAL_FLAGS]
        rest = [a for a in args if a not in _GLOBAL_FLAGS]
        if not any(a in ("-h", "--help", "--version") for a in rest[:1]) and (
            not rest or rest[0] not in self.list_commands(ctx)
        ):
            rest.insert(0, self.default_command)
        return super().parse_args(ctx, flags + rest)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (GeoRankError, click.UsageError) as exc:
            if ctx.find_root().params.get("debug"):
                raise
            message = exc.format_message() if isinstance(exc, click.UsageError) else str(exc)
            click.echo(f"geo-rank: error: {message}", err=True)
            ctx.exit(EXIT_BAD_INPUT)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="geo-rank")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(verbose: int, quiet: bool, debug: bool) -> None:
    """Rank AI data-center sites: power first, land follows."""
    levels = (logging.WARNING, logging.INFO, logging.DEBUG)
    level = logging.ERROR if quiet else levels[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)



#: Arrow's allocator for the command's process (and the Dask workers it starts), unless the
#: user set ``ARROW_DEFAULT_MEMORY_POOL``: glibc's ``malloc``, not Arrow's bundled mimalloc.
#: mimalloc hands freed pages back to the kernel and faults them in again; on the US at
#: H3 res 7 (benchmarks/README.md) that was 5 of 12 s of system time, with the same output.
ARROW_POOL = "system"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", ARROW_POOL)  # before pyarrow loads
    cli.main(args=argv, prog_name="geo-rank")
