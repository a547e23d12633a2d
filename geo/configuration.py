"""The settings' files and declarations: a ``--config`` TOML file read into
:class:`~geo.settings.Settings` and :class:`~layers.fetch.FetchSettings`
(:func:`load_config`, :func:`from_toml`); :func:`keyed` (the settings a tag declares) is
:mod:`geo.settings`'s, re-exported here.

:mod:`geo.settings` holds the fields (each with its limits and its source) and `keyed`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geo.errors import SettingsError
from geo.settings import FETCH_TABLE, Settings
from geo.settings import keyed as keyed  # re-exported: it lived here
from layers.fetch.settings import FetchSettings
from layers.settings import SettingsBase, read_toml, show_value


def load_config(path: str | Path, base: Settings | None = None,
                fetch_base: FetchSettings | None = None) -> tuple[Settings, FetchSettings]:
    """Engine and fetch settings from a ``--config`` TOML file, checking the whole file.

    Top-level keys are :class:`Settings` names; a ``[fetch]`` table holds
    :class:`~layers.fetch.FetchSettings` names. ``base`` and ``fetch_base`` (default: the
    defaults) are what the file overrides.

    Raises
    ------
    SettingsError
        One line naming the file and every bad or unknown key with its value and the
        allowed range.
    """
    doc = read_toml(path)
    fetch_doc = doc.pop(FETCH_TABLE, {})
    bad: list[str] = []
    if not isinstance(fetch_doc, dict):
        bad.append(f"{FETCH_TABLE} = {fetch_doc!r} (must be a [{FETCH_TABLE}] table of fetch "
                   "settings)")
        fetch_doc = {}
    bad += _misplaced(doc, Settings, FetchSettings,
                      f"a fetch setting: put it in the [{FETCH_TABLE}] table")
    bad += _misplaced(fetch_doc, FetchSettings, Settings,
                      f"an engine setting: put it above the [{FETCH_TABLE}] table",
                      prefix=f"{FETCH_TABLE}.")
    settings, engine_bad = Settings.collect({**dict(base or Settings()), **doc})
    fetch, fetch_bad = FetchSettings.collect({**dict(fetch_base or FetchSettings()),
                                              **fetch_doc}, prefix=f"{FETCH_TABLE}.")
    bad += engine_bad + fetch_bad
    if bad or settings is None or fetch is None:
        raise SettingsError(f"--config {path}: invalid settings: " + "; ".join(bad))
    return settings, fetch


def from_toml(path: str | Path, base: Settings | None = None) -> Settings:
    """The engine settings of a ``--config`` TOML file (see :func:`load_config`)."""
    return load_config(path, base)[0]


def _misplaced(doc: dict[str, Any], own: type[SettingsBase], other: type[SettingsBase],
               where: str, prefix: str = "") -> list[str]:
    """Keys of ``doc`` that belong to the ``other`` settings only (removed from ``doc``)."""
    keys = [k for k in doc if k in other.model_fields and k not in own.model_fields]
    return [f"{prefix}{k} = {show_value(doc.pop(k))} is {where}" for k in keys]
