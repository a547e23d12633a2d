"""The exception tree of geo-rank.

Every error the package raises on purpose derives from :class:`GeoRankError`, and each
also subclasses the builtin it resembles, so ``except ValueError`` still works for callers
that do not know geo-rank. The CLI turns these into one-line messages and exit code 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class GeoRankError(Exception):
    """Root of every error geo-rank raises on purpose."""


class LayerValidationError(GeoRankError, ValueError):
    """A layer does not follow its schema (missing column, nulls, wrong geometry, bad CRS)."""


class DataSourceError(GeoRankError, OSError):
    """A file or data source cannot be found, read or written."""


class RegionError(GeoRankError, ValueError):
    """An unknown or empty region."""


class SettingsError(GeoRankError, ValueError):
    """A setting, flag or configuration value is invalid."""


class SettingsValidationError(SettingsError):
    """Settings that fail their types or limits (:mod:`layers.settings`); ``errors`` keeps
    pydantic's error list (plain values) behind the one-line message."""

    def __init__(self, message: str, errors: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class GridError(GeoRankError, ValueError):
    """The grid cannot be built or analysed (no lines, no generation, singular network)."""


class DependencyError(GeoRankError, ImportError):
    """An optional dependency is missing; the message gives the install line."""
