"""The embedded power grids a region can rank on (``--grid``), and where their files are.

Two networks are embedded:

``osm-2016`` (the default)
    Real high-voltage topology from OpenStreetMap (early 2016): GridKit for North America
    (US, Canada, Mexico) and Norway, the SciGRID-method extracts for Ethiopia, Bhutan and
    Malaysia (``data/osm/<country>/``, built by :mod:`layers.build.osm_grid`). Voltages are
    partly inferred, ratings and reactances estimated from the voltage class, and the
    base-case flows unknown (the estimated US DC base case ships, unused, in
    ``dc_flow_estimate_mw``): the engine assumes ``assumed_utilisation`` of each rating.
    Open Database License: "© OpenStreetMap contributors" travels with every output.
``tamu-synthetic``
    The USA TAMU synthetic test system (real town-named sites, synthetic lines and ratings),
    the rows of ``layers/kinds.csv``. US regions only.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from layers import catalog
from layers.catalog import Entry
from layers.errors import RegionError

OSM, TAMU = "osm-2016", "tamu-synthetic"
GRIDS: tuple[str, ...] = (OSM, TAMU)
DEFAULT = OSM
#: The layer kinds an embedded grid provides (plants sit at its substations).
KINDS = ("substations", "lines", "plants")
#: ODbL 1.0 section 4.3: the attribution every map and export of OSM-derived data carries.
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"
OSM_LICENCE = "ODbL 1.0"

_GRIDKIT = ("OpenStreetMap, early 2016, via GridKit (Wiegmans 2016), {extract} extract, "
            "Zenodo doi:10.5281/zenodo.47317")
_SCIGRID = ("OpenStreetMap, 2016, via the SciGRID-method extracts of Medjroubi et al. 2017 "
            "(Energy Reports 3), {extract}, Zenodo doi:10.5281/zenodo.250427")
#: Country (ISO 3166-1 alpha-2, lower case) -> the extract its network comes from.
OSM_COUNTRIES: dict[str, str] = {
    "us": _GRIDKIT.format(extract="North America"),
    "ca": _GRIDKIT.format(extract="North America"),
    "mx": _GRIDKIT.format(extract="North America"),
    "no": _GRIDKIT.format(extract="Europe"),
    "et": _SCIGRID.format(extract="Africa"),
    "bt": _SCIGRID.format(extract="Asia"),
    "my": _SCIGRID.format(extract="Asia"),
}
_NOTES = {
    "substations": "real sites and voltages (inferred from their lines where untagged); "
                   "line junctions kept as nodes (status junction) are never offered as a POI",
    "lines": "real topology, straight segments; voltages partly inferred (voltage_source), "
             "ratings and reactances estimated from the voltage class (rating_source), "
             "base-case flows unknown: the estimated DC base case is kept in "
             "dc_flow_estimate_mw, not used (flow_source)",
}
_US_PLANTS = Entry(
    "plants", "osm/us/plants.parquet",
    "EIA-860-based plant sites and capacities of the USA TAMU package (Breakthrough Energy "
    "powersimdata 0.5.5), each moved to the nearest OpenStreetMap substation",
    "MIT", "2020", "observed",
    "base output scaled to the estimated OSM base case (estimated); sub_id is the OSM substation")


#: ``status`` of a substations row that is a line junction (a tap or a voltage change the
#: OSM network needs as a node), not a substation: never a candidate site or a POI.
JUNCTION = "junction"


#: The name shown for a substation its source leaves unnamed (most OpenStreetMap ones): its
#: latitude and longitude (WGS84, 3 decimals: about 100 m), which any map's search finds.
UNNAMED = "unnamed ({lat:.3f}, {lon:.3f})"


def display_names(substations: gpd.GeoDataFrame) -> np.ndarray:
    """The substations' names, :data:`UNNAMED` with its site where the source has none.

    >>> import geopandas as gpd, shapely
    >>> subs = gpd.GeoDataFrame({"name": ["Aurland I", None, " "]},
    ...     geometry=[shapely.Point(7.2, 60.9), shapely.Point(13.78273, 66.05094),
    ...               shapely.Point(-114.07192, 51.04473)], crs="EPSG:4326")
    >>> display_names(subs).tolist()
    ['Aurland I', 'unnamed (66.051, 13.783)', 'unnamed (51.045, -114.072)']
    """
    names = substations["name"].to_numpy(dtype=object) if "name" in substations else \
        np.full(len(substations), None, dtype=object)
    known = np.array([isinstance(n, str) and bool(n.strip()) for n in names], dtype=bool)
    if known.all():
        return names
    out = names.copy()
    geom = substations.geometry
    lat, lon = geom.y.to_numpy(), geom.x.to_numpy()
    for i in np.flatnonzero(~known):
        out[i] = UNNAMED.format(lat=lat[i], lon=lon[i]) if np.isfinite(lat[i]) else None
    return out


def connectable(substations: pd.DataFrame) -> np.ndarray:
    """True for the rows of a substations layer a load may connect to (not junctions)."""
    if "status" not in substations:
        return np.ones(len(substations), dtype=bool)
    status = substations["status"].astype(object)
    # "level": a substation's lower voltage level in a built grid (geo.grid.levels)
    return (~status.isin([JUNCTION, "level"])).to_numpy(dtype=bool)


def check(grid: str | None) -> str:
    """The grid's canonical name (None: the default); a one-line error for an unknown one."""
    if grid is None:
        return DEFAULT
    name = str(grid).strip().lower()
    if name not in GRIDS:
        raise RegionError(f"unknown grid {grid!r}; choose one of: {', '.join(GRIDS)}")
    return name


def entries(grid: str, region: str) -> dict[str, Entry]:
    """The embedded files of ``grid`` for ``region`` (``US``, ``US-TX``, ``NO``...), by kind.

    Raises :class:`RegionError` when the grid does not cover the region (with the regions it
    does cover).
    """
    grid = check(grid)
    country = region.split("-")[0].lower()
    if grid == TAMU:
        if country != "us":
            raise RegionError(f"--grid {TAMU} covers the contiguous US only, not {region}; "
                              f"use --grid {OSM} or your own --substations and --lines")
        return {kind: catalog.entry(kind) for kind in KINDS}
    if country not in OSM_COUNTRIES:
        covered = ", ".join(c.upper() for c in OSM_COUNTRIES)
        raise RegionError(f"region {region!r} has no embedded grid (--grid {OSM} covers "
                          f"{covered} and the US states); pass your own --substations and "
                          "--lines (or --layers-dir), e.g. OpenStreetMap or HIFLD files")
    source = OSM_COUNTRIES[country]
    out = {kind: Entry(kind, f"osm/{country}/{kind}.parquet", source, OSM_LICENCE, "2016",
                       "observed", _NOTES[kind]) for kind in ("substations", "lines")}
    out["plants"] = _US_PLANTS if country == "us" else Entry(
        "plants", f"osm/{country}/plants.parquet",
        "WRI Global Power Plant Database v1.3.0 (World Resources Institute, 2021)",
        "CC BY 4.0 (World Resources Institute)", "2021", "observed",
        "located plants with nameplate capacity; no base output (dispatch unknown)")
    return out


def attribution(sources: dict[str, dict[str, str]]) -> str | None:
    """The attribution the outputs must carry for these sources (None when none is due)."""
    if any(OSM_LICENCE in str(s.get("licence", "")) for s in sources.values()):
        return OSM_ATTRIBUTION
    return None
