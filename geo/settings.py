"""One settings object: every default documented next to its source.

Flags and TOML files override it (``Settings().replace(**overrides)``); unknown keys and
wrong types raise :class:`~geo.errors.SettingsError`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from geo.errors import SettingsError

#: Fuels whose plants can ramp to serve a new firm load; the participation of a new load's
#: supply is in proportion to the capacity of these plants in the island (wind and solar
#: are left out because their output does not follow load).
DISPATCHABLE_FUELS = ("gas", "coal", "nuclear", "hydro", "oil", "geothermal", "biomass", "other")


@dataclass(frozen=True)
class Settings:
    """Every tunable of geo-rank, with its default and where the default comes from."""

    # --- grid topology -------------------------------------------------------------------
    #: Line ends farther than this from any substation of compatible voltage stay unsnapped.
    #: 5 km as in PyPSA-Earth (``base_network``) and Breakthrough Energy's PreREISE.
    snap_tolerance_km: float = 5.0
    #: Substations at or above this voltage form the backbone (EHV grid), as in reV's
    #: transmission-feature tables where 345 kV marks the bulk system.
    backbone_kv: float = 345.0
    #: Relative tolerance when matching a line's voltage to a substation's voltage range
    #: while snapping (0.1: 220/230 kV, 330/345 kV and 500/525 kV count as one class, but
    #: 115 kV does not match 138 kV). Our choice; PyPSA-Earth matches on voltage too.
    snap_voltage_tolerance: float = 0.1

    # --- load-hosting capacity ----------------------------------------------------------
    #: Hosting is computed at substations at or above this voltage (115 kV: the lowest
    #: transmission class a 100+ MW load connects to).
    hosting_min_kv: float = 115.0
    #: Branches are monitored when the new load's distribution factor on them is at least
    #: this fraction. 0.05 is the 5 % cut-off MISO and PJM use for thermal impacts in
    #: interconnection studies.
    distribution_factor_cutoff: float = 0.05
    #: Where a line's base-case flow is unknown, it is assumed loaded to this fraction of
    #: its rating in the direction of the change (an assumption, not an observation).
    assumed_utilisation: float = 0.5
    #: Fuels that pick up a new load (see DISPATCHABLE_FUELS).
    participation_fuels: tuple[str, ...] = DISPATCHABLE_FUELS
    #: Right-hand sides solved together per sparse LU solve (memory ~ n_bus * batch * 8 B).
    hosting_batch: int = 256

    # --- caching -------------------------------------------------------------------------
    #: Grid metrics are cached on disk keyed by a hash of the inputs and these settings.
    use_cache: bool = True
    cache_dir: Path = field(default_factory=lambda: Path(platformdirs.user_cache_dir("geo-rank")))

    def replace(self, **overrides: Any) -> Settings:
        """Return a copy with ``overrides`` applied, checking names and types."""
        known = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise SettingsError(
                f"unknown setting(s) {', '.join(unknown)}; "
                f"valid settings: {', '.join(sorted(known))}"
            )
        clean = {k: _check(k, v, getattr(self, k)) for k, v in overrides.items()}
        return dataclasses.replace(self, **clean)

    def as_dict(self) -> dict[str, Any]:
        """Settings as plain JSON-serialisable values (for provenance and cache keys)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Path):
                v = str(v)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out


def _check(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingsError(f"setting {name} must be true or false, not {value!r}")
        return value
    if isinstance(default, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"setting {name} must be a number, not {value!r}")
        if not math.isfinite(value) or value < 0:
            raise SettingsError(f"setting {name} must be a finite number >= 0, not {value!r}")
        return type(default)(value) if isinstance(default, float) else int(value)
    if isinstance(default, tuple):
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"setting {name} must be a list of strings, not {value!r}")
        return tuple(value)
    if isinstance(default, Path):
        return Path(value)
    return value
