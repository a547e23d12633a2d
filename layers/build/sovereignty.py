"""Build the data-sovereignty table: one row per country of ``world/countries.parquet``.

Columns: ``iso_a3, name, bloc, data_regime, localization, eu_adequacy, notes``.

* ``localization``: ``none`` (transfer rules only), ``conditional`` (some data or sectors
  must stay onshore, or transfers need approval), ``strict`` (personal data stored
  onshore), ``unknown`` (not researched: never guessed).
* ``eu_adequacy``: ``member`` (GDPR applies: EU/EEA), ``yes`` (EU adequacy decision),
  ``partial`` (adequacy for part of the economy only), ``no``.

The facts are tabulated below with the law and year; a country not in the table gets its
own ISO code as bloc and ``unknown`` regime and localization. See ``data/SOURCES.md``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd

from layers.build._write import write_text
from layers.errors import DataSourceError

COLUMNS = ("iso_a3", "name", "bloc", "data_regime", "localization", "eu_adequacy", "notes")
LOCALIZATION = ("none", "conditional", "strict", "unknown")
EU_ADEQUACY = ("member", "yes", "partial", "no")
UNKNOWN = "unknown"

GDPR = "GDPR (Regulation (EU) 2016/679)"
EU_MEMBERS = (
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC",
    "HUN", "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK",
    "SVN", "ESP", "SWE",
)
EEA_ONLY = ("ISL", "LIE", "NOR")
GCC = ("SAU", "ARE", "QAT", "KWT", "BHR", "OMN")

#: EU adequacy decisions (European Commission): iso_a3 -> yes | partial.
EU_ADEQUACY_DECISIONS = {
    "AND": "yes", "ARG": "yes", "CAN": "partial", "FRO": "yes", "GGY": "yes", "ISR": "yes",
    "IMN": "yes", "JPN": "yes", "JEY": "yes", "NZL": "yes", "KOR": "yes", "CHE": "yes",
    "GBR": "yes", "URY": "yes", "USA": "partial",
}

#: iso_a3 -> (bloc or None for the default, data regime, localization, notes).
REGIMES: dict[str, tuple[str | None, str, str, str]] = {
    "GBR": ("UK", "UK GDPR and Data Protection Act 2018", "none", ""),
    "USA": ("US", "CLOUD Act 2018", "none",
            "CLOUD Act reaches data held abroad by US providers; EU adequacy only for "
            "companies certified under the EU-US Data Privacy Framework (10 July 2023)"),
    "CAN": ("CA", "PIPEDA 2000", "none",
            "EU adequacy covers commercial organisations subject to PIPEDA"),
    "CHN": ("CN", "Cybersecurity Law 2017; Data Security Law 2021; PIPL 2021", "strict", ""),
    "RUS": ("RU", "Federal Law 242-FZ (2015)", "strict", ""),
    "VNM": (None, "Cybersecurity Law 2019; Decree 13/2023", "strict", ""),
    "IND": (None, "DPDP Act 2023; RBI payment-data storage rule", "conditional",
            "payment data must be stored in India (RBI)"),
    "SAU": ("GCC", "PDPL 2021 (amended 2023); transfer regulations 2024", "conditional", ""),
    "ARE": ("GCC", "Federal Decree-Law 45/2021", "conditional", ""),
    "IDN": (None, "PDP Law 27/2022", "conditional", "public-sector data kept onshore"),
    "NGA": (None, "NDPA 2023", "conditional", ""),
    "TUR": (None, "Law 6698 (amended 2024)", "conditional", ""),
    "ETH": (None, "Proclamation 1321/2024", "conditional", ""),
    "MYS": (None, "PDPA 2010", "none", "transfer rules only"),
    "SGP": (None, "PDPA 2012", "none", "transfer rules only"),
    "BTN": (None, "no comprehensive law; sectoral rules", "none", ""),
}


def _row(iso_a3: str, name: str) -> dict[str, str]:
    adequacy = EU_ADEQUACY_DECISIONS.get(iso_a3, "no")
    if iso_a3 in EU_MEMBERS:
        return {"iso_a3": iso_a3, "name": name, "bloc": "EU/EEA", "data_regime": GDPR,
                "localization": "none", "eu_adequacy": "member",
                "notes": "EU member; transfers outside the EEA governed by GDPR Chapter V"}
    if iso_a3 in EEA_ONLY:
        return {"iso_a3": iso_a3, "name": name, "bloc": "EU/EEA",
                "data_regime": f"{GDPR} via the EEA Agreement (since 20 July 2018)",
                "localization": "none", "eu_adequacy": "member",
                "notes": "EEA member; transfers outside the EEA governed by GDPR Chapter V"}
    default_bloc = "GCC" if iso_a3 in GCC else iso_a3
    if iso_a3 in REGIMES:
        bloc, regime, localization, notes = REGIMES[iso_a3]
        bloc = bloc or default_bloc
    else:
        bloc, regime, localization = default_bloc, UNKNOWN, UNKNOWN
        notes = "EU adequacy decision" if adequacy == "yes" else ""
    return {"iso_a3": iso_a3, "name": name, "bloc": bloc, "data_regime": regime,
            "localization": localization, "eu_adequacy": adequacy, "notes": notes}


def sovereignty_table(countries: gpd.GeoDataFrame) -> list[dict[str, str]]:
    """Return the sovereignty rows for every country, sorted by ``iso_a3``."""
    present = set(countries["iso_a3"])
    listed = set(EU_MEMBERS) | set(EEA_ONLY) | set(GCC) | set(EU_ADEQUACY_DECISIONS) | set(REGIMES)
    absent = sorted(listed - present)
    if absent:
        raise DataSourceError(f"countries.parquet lacks {', '.join(absent)} named in the table")
    names = dict(zip(countries["iso_a3"], countries["name"], strict=True))
    rows = [_row(iso, names[iso] or "") for iso in sorted(present)]
    for r in rows:
        if r["localization"] not in LOCALIZATION or r["eu_adequacy"] not in EU_ADEQUACY:
            raise DataSourceError(f"sovereignty row {r['iso_a3']} uses an unknown value: {r}")
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    """Render rows as CSV text with Unix newlines."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def build(cache: Path, out: Path) -> list[Path]:
    """Write ``world/sovereignty.csv`` under ``out``.

    Parameters
    ----------
    cache
        Folder of the fetched package archives (unused: the facts are tabulated here and
        the countries come from ``out/world/countries.parquet``).
    out
        The data folder (the repository's ``data/``).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    source = out / "world" / "countries.parquet"
    if not source.is_file():
        raise DataSourceError(f"{source} is missing; build layers.build.boundaries first")
    rows = sovereignty_table(gpd.read_parquet(source, columns=["iso_a3", "name", "geometry"]))
    return [write_text(to_csv(rows), out / "world" / "sovereignty.csv")]
