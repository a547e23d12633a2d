"""The committed data-sovereignty table, checked against the sources named in each test."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from layers.build import sovereignty as build
from layers.errors import DataSourceError
from layers.paths import data_dir

UNCTAD = "https://unctad.org/page/data-protection-and-privacy-legislation-worldwide"
#: The rows left ``unknown`` (uninhabited places, territories and states with no published
#: rule found); the issue allows at most 30.
UNKNOWN = {"ATA", "ATF", "BLM", "COK", "ESH", "FLK", "HMD", "IOT", "IRN", "MMR", "MSR", "NCL",
           "NIU", "PCN", "PRK", "PYF", "SGS", "SHN", "SPM", "VAT", "WLF"}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(data_dir() / "world" / "sovereignty.csv", dtype=str,
                       keep_default_na=False).set_index("iso_a3", drop=False)


def test_one_row_per_country(table):
    countries = gpd.read_parquet(data_dir() / "world" / "countries.parquet")
    assert list(table["iso_a3"]) == sorted(countries["iso_a3"])
    assert list(table.columns) == list(build.COLUMNS)
    assert list(table.columns[:7]) == ["iso_a3", "name", "bloc", "data_regime", "localization",
                                       "eu_adequacy", "notes"]  # what existing code reads
    assert set(table["localization"]) == {"none", "conditional", "strict", "unknown"}
    assert set(table["eu_adequacy"]) == {"member", "yes", "partial", "no"}


def test_every_row_has_a_source_or_is_counted_unknown(table):
    unknown = (table["data_law"] == "unknown") | (table["localization"] == "unknown")
    assert set(table.index[unknown]) == UNKNOWN
    assert len(UNKNOWN) <= 30
    assert table.loc[~unknown, "source_url"].str.startswith("http").all()
    assert (table.loc[unknown, "notes"] != "").all()  # each says why
    assert (table.loc[table["data_law"] == "unknown", "data_regime"] == "unknown").all()


def test_eu_adequacy_is_the_commissions_list(table):
    # European Commission, adequacy decisions (GDPR Art. 45), as of 2026, and
    # Commission Implementing Decision (EU) 2026/179 of 26 January 2026 (Brazil).
    adequate = table.index[table["eu_adequacy"] == "yes"]
    assert set(adequate) == {"AND", "ARG", "BRA", "FRO", "GGY", "ISR", "IMN", "JPN", "JEY",
                             "NZL", "KOR", "CHE", "GBR", "URY"}
    assert set(table.index[table["eu_adequacy"] == "partial"]) == {"CAN", "USA"}


def test_eu_and_eea(table):
    # GDPR (EUR-Lex 2016/679) in the 27 states, the EEA three, Åland and Saint-Martin
    assert (table["bloc"] == "EU/EEA").sum() == 32
    assert table.loc["FRA", "eu_adequacy"] == "member"
    nor = table.loc["NOR"]
    assert nor["bloc"] == "EU/EEA"
    assert "EEA Agreement" in nor["data_regime"]
    assert nor["localization"] == "none"


@pytest.mark.parametrize(
    ("iso", "law", "year", "localization", "adequacy", "source"),
    [
        # PPC Japan: Act No. 57 of 2003
        ("JPN", "APPI", "2003", "none", "yes", "ppc.go.jp"),
        # PIPC Korea: Act No. 10465 of 2011
        ("KOR", "PIPA", "2011", "conditional", "yes", "pipc.go.kr"),
        # Fedlex: FADP of 25 September 2020, in force 1 September 2023
        ("CHE", "FADP", "2020", "none", "yes", "fedlex.admin.ch"),
        # EUR-Lex: Decision (EU) 2026/179 on Brazil's LGPD (Lei 13.709/2018)
        ("BRA", "LGPD", "2018", "none", "yes", "eur-lex.europa.eu"),
        # MeitY: Digital Personal Data Protection Act 2023; RBI payment data storage
        ("IND", "Digital Personal Data Protection Act 2023", "2023", "conditional", "no",
         "meity.gov.in"),
        # CAC: Personal Information Protection Law 2021
        ("CHN", "PIPL", "2021", "strict", "no", "cac.gov.cn"),
        # Adilet: Law No. 94-V of 21 May 2013, art. 12 localization
        ("KAZ", "Law No. 94-V on Personal Data", "2013", "strict", "no", "adilet.zan.kz"),
        # Roskomnadzor: 152-FZ (2006) with the 242-FZ localization rule
        ("RUS", "152-FZ", "2006", "strict", "no", "rkn.gov.ru"),
        # Federal Register of Legislation: Privacy Act 1988
        ("AUS", "Privacy Act 1988", "1988", "conditional", "no", "legislation.gov.au"),
        # Information Regulator: POPIA, Act 4 of 2013
        ("ZAF", "POPIA", "2013", "none", "no", "inforegulator.org.za"),
        # UNCTAD: Kenya Data Protection Act 2019
        ("KEN", "Data Protection Act 2019", "2019", "conditional", "no", "odpc.go.ke"),
        # UNCTAD: Paraguay Ley 7593/2025 (promulgated 27 November 2025)
        ("PRY", "7593/2025", "2025", "none", "no", "iapp.org"),
    ],
)
def test_named_countries_against_their_sources(table, iso, law, year, localization,
                                               adequacy, source):
    row = table.loc[iso]
    assert law in row["data_law"]
    assert (row["law_year"], row["localization"], row["eu_adequacy"]) == (year, localization,
                                                                          adequacy)
    assert source in row["source_url"]


def test_no_comprehensive_law_is_a_fact_not_unknown(table):
    usa = table.loc["USA"]
    assert usa["data_law"] == "no comprehensive law" and usa["law_year"] == ""
    assert "CLOUD Act 2018" in usa["data_regime"] and "PADFA 2024" in usa["data_regime"]
    assert table.loc["VEN", "data_law"] == "no comprehensive law"
    assert table.loc["VEN", "source_url"] == UNCTAD
    assert "242-FZ" in table.loc["RUS", "data_regime"]
    assert table.loc["IND", "localized_data"].startswith("financial")
    assert table.loc["GBR", "bloc"] == "UK" and table.loc["QAT", "bloc"] == "GCC"


def _laws() -> list[dict[str, str]]:
    return build.read_csv(build.LAWS, build.LAW_COLUMNS)


def _countries() -> gpd.GeoDataFrame:
    return gpd.read_parquet(data_dir() / "world" / "countries.parquet",
                            columns=["iso_a3", "name", "geometry"])


def test_build_reproduces_the_committed_table(table):
    rows = build.sovereignty_table(_countries(), _laws())
    assert build.to_csv(rows) == (data_dir() / "world" / "sovereignty.csv").read_text()
    rules = build.read_csv(build.RULES, build.RULE_COLUMNS)
    build.check_rules(rules, rows)
    committed = (data_dir() / "world" / "transfer_rules.csv").read_text()
    assert build.to_csv(rules, build.RULE_COLUMNS) == committed


@pytest.mark.parametrize(("iso", "change", "message"), [
    ("JPN", {"source_url": ""}, "JPN: a known row needs a source_url"),
    ("JPN", {"localization": "partly"}, "JPN: localization 'partly'"),
    ("JPN", {"eu_adequacy": "no"}, "the Commission's list says 'yes'"),
    ("KAZ", {"eu_adequacy": "yes"}, "KAZ: eu_adequacy 'yes'"),
    ("KOR", {"transfer_mechanism": "vibes"}, "KOR: transfer_mechanism 'vibes'"),
    ("CHE", {"law_year": ""}, "CHE: a named law needs its law_year"),
])
def test_build_refuses_an_unsourced_or_mistyped_row(iso, change, message):
    laws = [dict(r, **change) if r["iso_a3"] == iso else r for r in _laws()]
    with pytest.raises(DataSourceError, match=message):
        build.sovereignty_table(_countries(), laws)


def test_build_refuses_a_missing_country():
    laws = [r for r in _laws() if r["iso_a3"] != "NOR"]
    with pytest.raises(DataSourceError, match="no row for: NOR"):
        build.sovereignty_table(_countries(), laws)


def test_build_refuses_a_rule_without_catch_all():
    rows = build.sovereignty_table(_countries(), _laws())
    rules = [r for r in build.read_csv(build.RULES, build.RULE_COLUMNS)
             if not (r["origin"] == "UK" and r["destination"] == "*")]
    with pytest.raises(DataSourceError, match="origin UK has no catch-all"):
        build.check_rules(rules, rows)
