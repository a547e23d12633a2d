"""geo-rank's exception tree (defined in :mod:`layers.errors`, re-exported here)."""

from layers.errors import (
    DataSourceError,
    DependencyError,
    GeoRankError,
    GridError,
    LayerValidationError,
    RegionError,
    SettingsError,
)

__all__ = [
    "DataSourceError",
    "DependencyError",
    "GeoRankError",
    "GridError",
    "LayerValidationError",
    "RegionError",
    "SettingsError",
]
