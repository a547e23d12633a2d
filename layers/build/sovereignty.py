"""Build the data-sovereignty table and the cross-border transfer rules.

Inputs (curated, cited row by row, in this folder):

* ``sovereignty_laws.csv``: one row per ISO 3166-1 alpha-3 code of
  ``world/countries.parquet`` with the data-protection law and year (or
  ``no comprehensive law``, which is a fact), localization, the transfer mechanism, the bloc,
  EU adequacy, a source URL and notes. ``unknown`` only where no source was found.
* ``transfer_rules.csv``: for each data origin (EU, UK, CN, IN, US), which destinations may
  receive its personal data (``allowed`` / ``conditional`` / ``not allowed``), first match
  wins, each rule with its source.

Outputs: ``world/sovereignty.csv`` (the columns existing code reads, then the new ones) and
``world/transfer_rules.csv``. The build refuses a table that misses a country, names one the
boundaries do not have, uses a word outside the vocabularies, or has a known row without a
source; it logs how many rows remain ``unknown``. See ``data/SOURCES.md``.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import geopandas as gpd

from layers.build._write import write_text
from layers.errors import DataSourceError

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
LAWS = HERE / "sovereignty_laws.csv"
RULES = HERE / "transfer_rules.csv"

#: Columns of ``world/sovereignty.csv``: the first seven are read by existing code.
COLUMNS = ("iso_a3", "name", "bloc", "data_regime", "localization", "eu_adequacy", "notes",
           "data_law", "law_year", "localized_data", "transfer_mechanism", "source_url")
LAW_COLUMNS = ("iso_a3", "bloc", "data_law", "law_year", "other_rules", "localization",
               "localized_data", "transfer_mechanism", "eu_adequacy", "source_url", "notes")
RULE_COLUMNS = ("origin", "destination", "result", "conditions", "source_url")
LOCALIZATION = ("none", "conditional", "strict", "unknown")
EU_ADEQUACY = ("member", "yes", "partial", "no")
MECHANISMS = ("adequacy", "safeguards", "consent", "approval", "assessment", "certification",
              "negative-list", "derogations", "none", "unknown")
RESULTS = ("allowed", "conditional", "not allowed")
UNKNOWN = "unknown"
NO_LAW = "no comprehensive law"

#: The European Commission's adequacy decisions (GDPR Art. 45), checked against the table:
#: https://commission.europa.eu/law/law-topic/data-protection/international-dimension-data-
#: protection/adequacy-decisions_en and Decision (EU) 2026/179 (Brazil, 26 January 2026).
EU_ADEQUACY_DECISIONS = {
    "AND": "yes", "ARG": "yes", "BRA": "yes", "CAN": "partial", "FRO": "yes", "GGY": "yes",
    "ISR": "yes", "IMN": "yes", "JPN": "yes", "JEY": "yes", "NZL": "yes", "KOR": "yes",
    "CHE": "yes", "GBR": "yes", "URY": "yes", "USA": "partial",
}


def read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a curated input table, refusing a header that is not ``columns``."""
    if not path.is_file():
        raise DataSourceError(f"{path}: no such file (a curated input of the data build)")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != columns:
            raise DataSourceError(f"{path}: header must be {','.join(columns)}")
        return [dict(row) for row in reader]


def _problems(row: dict[str, str]) -> list[str]:
    iso, bad = row["iso_a3"], []
    if row["localization"] not in LOCALIZATION:
        bad.append(f"{iso}: localization {row['localization']!r}")
    if row["eu_adequacy"] not in EU_ADEQUACY:
        bad.append(f"{iso}: eu_adequacy {row['eu_adequacy']!r}")
    mechanisms = [m.strip() for m in row["transfer_mechanism"].split(";")]
    if any(m not in MECHANISMS for m in mechanisms):
        bad.append(f"{iso}: transfer_mechanism {row['transfer_mechanism']!r}")
    known = row["data_law"] != UNKNOWN
    if known and not row["source_url"].startswith("http"):
        bad.append(f"{iso}: a known row needs a source_url")
    if row["law_year"] and not (row["law_year"].isdigit() and len(row["law_year"]) == 4):
        bad.append(f"{iso}: law_year {row['law_year']!r}")
    if row["data_law"] not in (UNKNOWN, NO_LAW) and not row["law_year"]:
        bad.append(f"{iso}: a named law needs its law_year")
    if row["localization"] == "unknown" and not row["notes"]:
        bad.append(f"{iso}: an unknown row needs a note saying why")
    expected = EU_ADEQUACY_DECISIONS.get(iso, "member" if row["bloc"] == "EU/EEA" else "no")
    if row["eu_adequacy"] != expected:
        bad.append(f"{iso}: eu_adequacy {row['eu_adequacy']!r}, the Commission's list says "
                   f"{expected!r}")
    return bad


def is_unknown(row: dict[str, str]) -> bool:
    """A row whose law or localization could not be sourced."""
    return row["data_law"] == UNKNOWN or row["localization"] == UNKNOWN


def _regime(row: dict[str, str]) -> str:
    law, other = row["data_law"], row["other_rules"]
    if law == UNKNOWN:
        return UNKNOWN
    return f"{law}; {other}" if other else law


def sovereignty_table(countries: gpd.GeoDataFrame,
                      laws: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows of ``world/sovereignty.csv``, one per country, sorted by ``iso_a3``."""
    present = dict(zip(countries["iso_a3"], countries["name"], strict=True))
    listed = [r["iso_a3"] for r in laws]
    repeated = sorted({i for i in listed if listed.count(i) > 1})
    missing, extra = sorted(set(present) - set(listed)), sorted(set(listed) - set(present))
    bad = [p for r in laws for p in _problems(r)]
    if repeated:
        bad.append(f"repeated: {', '.join(repeated)}")
    if missing:
        bad.append(f"no row for: {', '.join(missing)}")
    if extra:
        bad.append(f"not in countries.parquet: {', '.join(extra)}")
    if bad:
        raise DataSourceError(f"{LAWS.name}: " + "; ".join(bad))
    rows = []
    for r in sorted(laws, key=lambda r: r["iso_a3"]):
        rows.append({"iso_a3": r["iso_a3"], "name": present[r["iso_a3"]] or "",
                     "bloc": r["bloc"], "data_regime": _regime(r),
                     "localization": r["localization"], "eu_adequacy": r["eu_adequacy"],
                     "notes": r["notes"], "data_law": r["data_law"], "law_year": r["law_year"],
                     "localized_data": r["localized_data"],
                     "transfer_mechanism": r["transfer_mechanism"],
                     "source_url": r["source_url"]})
    return rows


def check_rules(rules: list[dict[str, str]], table: list[dict[str, str]]) -> None:
    """Refuse rules with an unknown result, destination form, bloc or country code."""
    isos = {r["iso_a3"] for r in table}
    blocs = {r["bloc"] for r in table}
    bad = []
    for n, rule in enumerate(rules, start=2):
        kind, _, value = rule["destination"].partition(":")
        if rule["result"] not in RESULTS:
            bad.append(f"line {n}: result {rule['result']!r}")
        if not rule["source_url"].startswith("http"):
            bad.append(f"line {n}: no source_url")
        if ";" in rule["conditions"]:
            bad.append(f"line {n}: conditions may not contain ';' (the reasons separator)")
        if rule["destination"] == "*":
            continue
        values = [v.strip() for v in value.split(";")]
        if kind == "iso" and not set(values) <= isos:
            bad.append(f"line {n}: unknown iso_a3 {sorted(set(values) - isos)}")
        elif kind == "bloc" and not set(values) <= blocs:
            bad.append(f"line {n}: unknown bloc {sorted(set(values) - blocs)}")
        elif kind == "eu_adequacy" and not set(values) <= set(EU_ADEQUACY):
            bad.append(f"line {n}: unknown eu_adequacy {values}")
        elif kind not in ("iso", "bloc", "eu_adequacy"):
            bad.append(f"line {n}: destination {rule['destination']!r} (use iso:, bloc:, "
                       "eu_adequacy: or *)")
    origins = {r["origin"] for r in rules}
    for origin in sorted(origins):
        if not any(r["origin"] == origin and r["destination"] == "*" for r in rules):
            bad.append(f"origin {origin} has no catch-all '*' rule")
    if bad:
        raise DataSourceError(f"{RULES.name}: " + "; ".join(bad))


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    """Render rows as CSV text with Unix newlines."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def build(cache: Path, out: Path) -> list[Path]:
    """Write ``world/sovereignty.csv`` and ``world/transfer_rules.csv`` under ``out``.

    Parameters
    ----------
    cache
        Folder of the fetched package archives (unused: the facts are the curated tables
        next to this module and the countries come from ``out/world/countries.parquet``).
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
    countries = gpd.read_parquet(source, columns=["iso_a3", "name", "geometry"])
    rows = sovereignty_table(countries, read_csv(LAWS, LAW_COLUMNS))
    rules = read_csv(RULES, RULE_COLUMNS)
    check_rules(rules, rows)
    unknown = [r["iso_a3"] for r in rows if is_unknown(r)]
    log.info("sovereignty: %d of %d rows unknown: %s", len(unknown), len(rows),
                ", ".join(unknown))
    return [write_text(to_csv(rows), out / "world" / "sovereignty.csv"),
            write_text(to_csv(rules, RULE_COLUMNS), out / "world" / "transfer_rules.csv")]
