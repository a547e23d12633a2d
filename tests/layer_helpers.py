"""Build a :class:`layers.Layers` by hand in a test: give the layers the test is about; every
other kind of ``layers/kinds.csv`` is an empty layer with its canonical columns."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from layers import Layers, kinds, schema


def make_layers(region: str = "US-T", subdivision_codes: tuple[str, ...] | None = None,
                sovereignty: pd.DataFrame | None = None, **frames: gpd.GeoDataFrame) -> Layers:
    """A bundle of ``frames`` (keyed by kind), empty layers for the other kinds."""
    full = {k: frames[k] if k in frames else schema.empty(k) for k in kinds.names()}
    unknown = sorted(set(frames) - set(full))
    assert not unknown, f"no layer kind {unknown}"
    return Layers(region, (region,) if subdivision_codes is None else subdivision_codes, full,
                  pd.DataFrame() if sovereignty is None else sovereignty)
