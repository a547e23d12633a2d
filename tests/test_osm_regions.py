"""The countries the product was made for rank out of the box on the embedded OpenStreetMap
grid, and say what is estimated, licensed or missing (issue 27)."""

from __future__ import annotations

import json

import pytest

ATTRIBUTION = "© OpenStreetMap contributors"


@pytest.fixture
def norway(tmp_path, geo_rank):
    config = tmp_path / "cache.toml"
    config.write_text(f'cache_dir = "{tmp_path / "cache"}"\n')
    result = geo_rank("--region", "NO", "--load-mw", "100", "--top", "5",
                      "--data-from", "EU", "--out", str(tmp_path / "out"),
                      "--map", str(tmp_path / "no.html"),
                      "--config", str(config))
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "no_sites.geojson").read_text("utf-8"))
    return result.output, doc, (tmp_path / "no.html").read_text("utf-8")


def test_norway_ranks_on_real_topology_with_hydro_nearby(norway):
    output, doc, _ = norway
    props = [f["properties"] for f in doc["features"]]
    assert len(props) == 5
    assert {p["country_iso3"] for p in props} == {"NOR"}
    assert all(p["poi_sub_id"].startswith("osm-v") for p in props)
    assert all(p["hydro_mw_within_100km"] > 500 for p in props)   # Norway runs on hydro
    assert {p["transfer_from_eu"] for p in props} == {"allowed"}
    assert all("GDPR" in p["data_law"] for p in props)
    assert all(p["hosting_source"].startswith("estimated: DC on OSM 2016") for p in props)
    assert all("capital and months from US tables" in p["reasons"] for p in props)
    head = output.splitlines()[:4]
    assert any(line.startswith("grid: OpenStreetMap 2016 topology") for line in head)
    # Statistics Norway Q4 2019: 31.8 ore/kWh at 8.8001 NOK/USD = 36.14 USD/MWh, said where
    assert {p["energy_price_usd_per_mwh"] for p in props} == {36.14}
    assert all("(36 USD/MWh, Statistics Norway Q4 2019 (energy only" in p["reasons"]
               for p in props)
    assert doc["metadata"]["figures_outside_us"] == {
        "electricity_price": "Statistics Norway Q4 2019 (energy only, no grid rent or taxes)",
        "land_price": "unknown (no embedded land prices outside the US; give --land-prices)",
        "cost_tables": "US tables used as a proxy (NREL reVX 2019 capital, escalated; US "
                       "lead times)"}
    assert ("outside the US: electricity price Statistics Norway Q4 2019 (energy only, no "
            "grid rent or taxes); land price unknown") in head[2]


def test_the_odbl_attribution_travels_with_the_map_and_the_export(norway):
    _, doc, html = norway
    assert doc["metadata"]["grid_source"] == "osm-2016"
    assert ATTRIBUTION in doc["metadata"]["attribution"]
    assert doc["metadata"]["data_sources"]["lines"]["licence"] == "ODbL 1.0"
    assert f"<div>{ATTRIBUTION} (ODbL 1.0)</div>" in html          # in the legend panel


@pytest.mark.parametrize(("region", "n_min"), [("CA", 100), ("ET", 10), ("BT", 1), ("MY", 20)])
def test_each_country_ranks_its_own_substations(region, n_min, tmp_path, geo_rank):
    result = geo_rank("--region", region, "--load-mw", "100", "--no-map",
                      "--all-candidates", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    doc = json.loads(next(tmp_path.glob("*.geojson")).read_text("utf-8"))
    props = [f["properties"] for f in doc["features"]]
    assert len(props) >= n_min
    iso3 = {"CA": "CAN", "ET": "ETH", "BT": "BTN", "MY": "MYS"}[region]
    assert {p["country_iso3"] for p in props} == {iso3}
    # no neighbour's state: Canada's own provinces, elsewhere none
    if region == "CA":
        assert all(str(p["subdivision"]).startswith("CA-") for p in props)
    else:
        assert all(p["subdivision"] is None for p in props)
    # a price only where a published one is in reach (Canada: BC, MB, ON, QC), else unknown
    # and said so in the provenance
    priced = {p["subdivision"] for p in props if p["energy_price_usd_per_mwh"] is not None}
    assert priced <= {"CA-BC", "CA-MB", "CA-ON", "CA-QC"}
    assert (len(priced) == 4) == (region == "CA")
    figures = doc["metadata"]["figures_outside_us"]
    assert figures["cost_tables"].startswith("US tables used as a proxy")
    assert figures["land_price"].startswith("unknown")
    assert "unknown" in figures["electricity_price"]


def test_a_country_with_too_little_network_says_so_and_ranks_what_there_is(caplog, tmp_path):
    from geo.pipeline import rank_sites
    from geo.settings import Settings

    result = rank_sites("BT", load_mw=100, settings=Settings(cache_dir=tmp_path))
    assert len(result.ranked) == 3
    said = ("BT: the embedded OpenStreetMap grid (2016) has only 3 substations here; it ranks "
            "what was mapped, not the whole network")
    assert [r.getMessage() for r in caplog.records if "only 3" in r.getMessage()] == [said]
    assert result.provenance["thin_grid"] == said                  # and in every export
    assert "thin_grid" not in rank_sites("NO", load_mw=100,
                                         settings=Settings(cache_dir=tmp_path)).provenance


# --- Canadian provinces (ISO 3166-2), outlined by data/ca/subdivisions.parquet -------------

CALGARY = (-114.0719, 51.0447)     # lon, lat of Calgary city hall
VANCOUVER = (-123.1207, 49.2827)


def test_a_point_in_calgary_is_alberta_and_one_in_vancouver_is_not():
    import shapely

    import layers

    bundle = layers.load("CA-AB")
    subs = bundle.subdivisions
    assert sorted(subs["code"]) == sorted(layers.regions.CANADA)   # the 13, nothing else
    calgary, vancouver = shapely.Point(*CALGARY), shapely.Point(*VANCOUVER)
    assert subs.loc[subs.contains(calgary), "code"].tolist() == ["CA-AB"]
    assert subs.loc[subs.contains(vancouver), "code"].tolist() == ["CA-BC"]
    assert bundle.boundary.contains(calgary) and not bundle.boundary.contains(vancouver)
    assert bundle.sources["subdivisions"]["path"] == "ca/subdivisions.parquet"


@pytest.mark.parametrize(("text", "message"), [
    ("CA-XB", "unknown region 'CA-XB'; did you mean CA-NB?; the Canadian provinces and "
              "territories are CA-AB, CA-BC,"),
    ("CA-ALB", "unknown region 'CA-ALB'; did you mean CA-AB?"),
])
def test_an_unknown_province_is_refused_in_one_line_with_a_suggestion(text, message):
    from layers.errors import RegionError
    from layers.regions import parse

    assert parse("ca-ab") == ("CA-AB", ("CA-AB",))
    with pytest.raises(RegionError) as err:
        parse(text)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_alberta_ranks_alberta_substations_only(tmp_path, geo_rank):
    result = geo_rank("--region", "CA-AB", "--load-mw", "100", "--no-map",
                      "--all-candidates", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "ca-ab_sites.geojson").read_text("utf-8"))
    props = [f["properties"] for f in doc["features"]]
    assert len(props) >= 50
    assert {p["subdivision"] for p in props} == {"CA-AB"}
    # Alberta: 49 to 60 N, between 120 W (its border with British Columbia north of 53.8 N)
    # and 110 W (Saskatchewan)
    assert all(49.0 <= p["poi_lat"] <= 60.0 and -120.1 <= p["poi_lon"] <= -109.9
               for p in props)
    assert doc["metadata"]["data_sources"]["subdivisions"]["source"].startswith("Natural Earth")


def test_an_unnamed_osm_substation_is_shown_by_its_site_in_table_export_and_reasons(norway):
    output, doc, html = norway
    props = [f["properties"] for f in doc["features"]]
    # osm-v12775 (66.0509 N, 13.7827 E) has no name in the 2016 extract and ranks first
    first = props[0]
    assert first["poi_sub_id"] == "osm-v12775"
    assert first["poi_name"] == "unnamed (66.051, 13.783)"
    assert first["site_name"] == "unnamed (66.051, 13.783)"
    assert "at 420 kV unnamed (66.051, 13.783) (0.0 km" in first["reasons"]
    assert all(p["poi_name"] for p in props)                     # no site without a label
    table = [line for line in output.splitlines() if line.strip().startswith("1 ")]
    assert "unnamed (66.051, 13.783)" in table[0]
    assert "unnamed (66.051, 13.783)" in html
