"""What each embedded file is: its kind, path, source, licence, vintage and status.

``status`` tells a user how far to trust a layer: ``observed`` (measured or surveyed),
``estimated`` (derived by a stated rule), ``approximate`` (drawn by hand from a public
map) or ``synthetic`` (geographically realistic but partly made up). ``data/SOURCES.md``
gives the full account.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Entry:
    """One embedded layer."""

    kind: str
    path: str  # relative to the data folder
    source: str
    licence: str
    vintage: str
    status: str
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


_TAMU = "USA TAMU test system (Breakthrough Energy powersimdata 0.5.5; Xu et al. 2020)"

US: tuple[Entry, ...] = (
    Entry("substations", "us/substations.parquet", _TAMU, "MIT", "2020",
          "synthetic", "real town-named sites, synthetic topology and voltages"),
    Entry("lines", "us/lines.parquet", _TAMU, "MIT", "2020",
          "synthetic", "synthetic topology; ratings, reactances and base-case flows from the "
          "TAMU model; one unrated line estimated from its voltage class"),
    Entry("plants", "us/plants.parquet", _TAMU, "MIT", "2020",
          "observed", "real plant sites and capacities (EIA-860 based), aggregated per "
          "substation and fuel, located at their substation"),
    Entry("gas_fields", "us/gas_fields.parquet",
          "EIA Drilling Productivity Report (April 2024) production; basin extents drawn by hand",
          "public domain (EIA)", "2024", "approximate",
          "rectangular approximate extents; production observed where given"),
    Entry("land_prices", "us/land_prices.parquet",
          "USDA NASS Land Values 2025 Summary (August 2025)", "public domain (USDA)", "2025",
          "observed", "state averages of farm real estate; DC estimated from MD and VA"),
    Entry("land_raster", "us/land_prices.tif",
          "USDA NASS Land Values 2025 Summary, rasterized on state boundaries (0.05 degree)",
          "public domain (USDA)", "2025", "observed", "same values as the vector layer"),
    Entry("countries", "world/countries.parquet",
          "Natural Earth 1:50m via world-atlas 2.0.2", "public domain / ISC", "2019",
          "observed"),
    Entry("subdivisions", "us/subdivisions.parquet",
          "US Census cartographic boundaries 1:10m via us-atlas 3.0.1", "public domain / ISC",
          "2017", "observed"),
    Entry("sovereignty", "world/sovereignty.csv",
          "geo-rank table of data-protection laws: UNCTAD worldwide table, European Commission "
          "adequacy decisions, national laws and DPAs (see data/SOURCES.md)", "MIT", "2026",
          "observed", "places without a published rule are 'unknown'; localization and "
          "transfer readings are judgement, not legal advice"),
)


def entry(kind: str) -> Entry:
    """Return the catalog entry of an embedded layer kind."""
    for e in US:
        if e.kind == kind:
            return e
    raise KeyError(kind)
