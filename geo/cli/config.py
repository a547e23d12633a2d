"""``--config`` and the flags that set a setting, shared by the commands.

One meaning per flag name: every flag in :data:`SETTING_FLAGS` sets exactly one setting,
the same one in every command that offers it (``--min-kv`` is the candidate and POI floor,
``candidate_min_kv``; ``--hosting-min-kv`` is the floor of the hosting computation,
``hosting_min_kv``). Settings are applied in this order: defaults, the ``--config`` file,
then the flags given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from geo.configuration import load_config
from geo.errors import SettingsError
from geo.settings import FETCH_TABLE, Settings
from layers.fetch import FetchSettings
from layers.settings import SettingsBase, show_value

F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S", bound=SettingsBase)

config_option = click.option(
    "--config", "config", type=click.Path(dir_okay=False), default=None,
    help="TOML file of settings: engine settings as top-level keys (geo/settings.py), "
         f"downloader settings in a [{FETCH_TABLE}] table (layers/fetch/settings.py). "
         "Flags override it.",
)

#: Flags that set one engine setting: flag -> (setting, help). The value reaches the command
#: under the setting's name.
SETTING_FLAGS: dict[str, tuple[str, str]] = {
    "--min-kv": ("candidate_min_kv", "Lowest substation voltage for candidates and POIs"),
    "--max-tie-km": ("max_tie_km", "Longest tie line from a site to its POI"),
    "--hosting-min-kv": ("hosting_min_kv", "Compute hosting at substations at or above this "
                                           "voltage"),
    "--backbone-kv": ("backbone_kv", "Backbone (bulk system) voltage"),
    "--snap-km": ("snap_tolerance_km", "Line-end snapping tolerance"),
}


def setting_options(*flags: str) -> Callable[[F], F]:
    """The click options for ``flags`` (keys of :data:`SETTING_FLAGS`), defaults in the help."""
    def decorate(f: F) -> F:
        for flag in reversed(flags):
            name, text = SETTING_FLAGS[flag]
            default = Settings.default_of(name)
            f = click.option(flag, name, type=float, default=None,
                             help=f"{text} [default: {default:g}].")(f)
        return f
    return decorate


def pop_setting_flags(params: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Remove the setting flags from a command's ``params``; ``{flag: (setting, value)}`` of
    the ones given."""
    given: dict[str, tuple[str, Any]] = {}
    if params.get("grid_source") is not None:
        given["--grid"] = ("grid_source", params.pop("grid_source"))
    params.pop("grid_source", None)
    for flag, (name, _) in SETTING_FLAGS.items():
        value = params.pop(name, None)
        if value is not None:
            given[flag] = (name, value)
    return given


flexible_option = click.option(
    "--flexible", "flexible", is_flag=True,
    help="The load accepts curtailment after an outage until network upgrades make it firm "
         "(Texas SB 6; Duke 2025): months judged on N-0 hosting, not N-1 firm "
         "(flexible_load).",
)


def engine_settings(config: str | None, flags: dict[str, tuple[str, Any]],
                    no_cache: bool = False, flexible: bool = False) -> Settings:
    """Engine settings: the defaults, then the ``--config`` file, then ``flags``."""
    settings = load_config(config)[0] if config else Settings()
    if no_cache:
        flags = {**flags, "--no-cache": ("use_cache", False)}
    if flexible:
        flags = {**flags, "--flexible": ("flexible_load", True)}
    return apply_flags(settings, flags)


def fetch_settings(config: str | None, flags: dict[str, tuple[str, Any]]) -> FetchSettings:
    """Downloader settings: the defaults, then the ``[fetch]`` table of ``--config`` (the
    whole file is checked), then ``flags``."""
    settings = load_config(config)[1] if config else FetchSettings()
    return apply_flags(settings, flags)


def apply_flags(settings: S, flags: dict[str, tuple[str, Any]]) -> S:
    """``settings`` with each flag's setting replaced.

    Raises
    ------
    SettingsError
        One line naming every bad flag, its value and the allowed range.
    """
    bad: list[str] = []
    for flag, (name, value) in flags.items():
        _, problems = type(settings).collect({**dict(settings), name: value})
        bad += [f"{flag} {show_value(value)}: {p}" for p in problems]
    if bad:
        raise SettingsError("; ".join(bad))
    return settings.replace(**dict(flags.values()))
