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
    # no neighbour's state, price or land: unknown and said so
    assert all(p["subdivision"] is None for p in props)
    assert all(p["energy_price_usd_per_mwh"] is None for p in props)


def test_a_country_with_too_little_network_says_so_and_ranks_what_there_is(caplog, tmp_path):
    from geo.pipeline import rank_sites
    from geo.settings import Settings

    result = rank_sites("BT", load_mw=100, settings=Settings(cache_dir=tmp_path))
    assert len(result.ranked) == 3
    assert "BT: the embedded OpenStreetMap grid (2016) has only 3 substations" in caplog.text
