"""geo.web with its context layers: layers present, escaping everywhere, offline, size,
re-rendering from an export (``geo-rank map``)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from geo import web
from geo.errors import SettingsError
from geo.io import export
from geo.web import assets as _map_assets
from geo.web import layers as _map_layers
from geo.web._assets import fetch
from layers import Layers
from tests.layer_helpers import make_layers
from tests.map_helpers import external_urls, site_rows

HOSTILE = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
#: A Jinja expression whose value (273439) appears nowhere else: evaluated, it would show up.
JINJA = "{{ 271*1009 }}"
PROV = {"tool": "geo-rank", "version": "9.9.9", "region": "US-T",
        "generated_at": "2025-05-01T12:00:00Z",
        "data_sources": {"lines": {"source": f"utility {HOSTILE}", "vintage": "2020"}},
        "settings": {"max_tie_km": 50.0, HOSTILE: JINJA}}
DATA_TIF = Path(__file__).resolve().parents[1] / "data" / "us" / "land_prices.tif"


def crs(gdf: dict, geometry: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(gdf, geometry=geometry, crs="EPSG:4326")


@pytest.fixture()
def bundle() -> Layers:
    """A hand-made region with a hostile name in every layer that has names."""
    return hostile_bundle()


def hostile_bundle() -> Layers:
    """A hand-made region with a hostile name in every layer that has names."""
    subs = crs({"sub_id": ["s1", HOSTILE, "s3"], "name": [HOSTILE, "B`${x}`", JINJA],
                "voltage_kv": [345.0, 230.0, 115.0]},
               [Point(-100.0, 40.0), Point(-100.0, 40.5), Point(-99.5, 40.2)])
    lines = crs({"line_id": [HOSTILE, "l2"], "voltage_kv": [345.0, 138.0],
                 "capacity_mw": [900.0, np.nan]},
                [LineString([(-100, 40), (-100, 40.5)]), LineString([(-100, 40), (-99.5, 40.2)])])
    plants = crs({"plant_id": ["p1", "p2"], "name": [HOSTILE, "Gas CC"],
                  "fuel": ["hydro", "gas"], "capacity_mw": [420.0, 800.0]},
                 [Point(-99.8, 40.3), Point(-99.7, 40.1)])
    gas = crs({"field_id": ["g1"], "name": [HOSTILE], "kind": ["basin"],
               "production_bcf_per_day": [1.5]}, [box(-100.5, 39.5, -99.8, 40.1)])
    land = crs({"region_id": ["US-T"], "name": [HOSTILE], "price_usd_per_acre": [3100.0],
                "year": [2025]}, [box(-101, 39, -99, 41)])
    subdivisions = crs({"code": ["US-T"], "name": [HOSTILE]}, [box(-101, 39, -99, 41)])
    countries = crs({"iso_a3": ["USA"], "name": ["United States"]}, [box(-101, 39, -99, 41)])
    return make_layers("US-T", substations=subs, lines=lines, plants=plants, gas_fields=gas,
                       land_prices=land, countries=countries, subdivisions=subdivisions)


def make_sites(n: int = 3) -> gpd.GeoDataFrame:
    return crs({"site_id": [f"x{i}" for i in range(n)], "rank": list(range(1, n + 1)),
                "tier": (["A", "B", "C", "D"] * n)[:n],
                "poi_name": [HOSTILE] + [f"POI {i}" for i in range(1, n)],
                "limiting_line_id": [HOSTILE] * n, "reasons": [JINJA] * n},
               [Point(-100 + 0.1 * i, 40.1) for i in range(n)])


def render(tmp_path: Path, bundle: Layers | None, name: str = "m.html", **kw) -> str:
    path = web.render(make_sites(), tmp_path / name, PROV, layers=bundle, **kw)
    return path.read_text("utf-8")


def test_every_layer_is_drawn(tmp_path, bundle):
    page = render(tmp_path, bundle)
    for label in ("Ranked sites (3)", "Transmission lines (2)", "Substations ≥ 230 kV (2)",
                  "Hydro plants (1)", "Gas basins (1)", "Land price (USD per acre)",
                  "Region boundary (US-T)", "Base map"):
        assert json.dumps(label)[1:-1].replace("≥", "\\u2265") in page or label in page, label
    assert "L.control.layers(" in page and "L.control.scale()" in page
    assert "L.control.fullscreen(" in page and "L.markerClusterGroup(" in page
    for _, label, colour in _map_layers.VOLTAGE_CLASSES:  # legend of voltage classes
        assert label in page and colour in page
    assert len(site_rows(page)) == 3


def test_hostile_strings_are_text_in_every_layer(tmp_path, bundle):
    page = render(tmp_path, bundle)
    assert "<img" not in page
    assert HOSTILE.replace("<", "\\u003c").replace(">", "\\u003e") not in page
    # substation name and id, line id, hydro name, gas name, land name, site popup/tooltip
    # (twice: POI name and limiting line), provenance source and setting name
    assert page.count(ESCAPED) >= 9
    for tooltip_of in ("line ", "hydro · 420 MW", "basin · 1.5 bcf/d", "3,100 USD/acre"):
        assert tooltip_of in page
    assert "&#96;&#36;&#123;x&#125;&#96;" in page and "${x}" not in page
    # Jinja did not evaluate the names: the rendered page shows the expression, never its value
    assert "273439" not in page
    assert "&#123;&#123; 271*1009 &#125;&#125;" in page


def test_offline_has_no_external_url(tmp_path, bundle):
    page = render(tmp_path, bundle, offline=True)
    assert external_urls(page) == []
    assert "L.tileLayer(" not in page and "sourceMappingURL" not in page
    assert "States (offline basemap)" in page
    assert "Leaflet 1.9.4" in page and "leaflet.markercluster 1.5.3" in page
    assert "jquery" not in page.lower().replace("jquery-free", "")


def test_default_map_inlines_assets_and_only_tiles_are_remote(tmp_path, bundle):
    page = render(tmp_path, bundle)
    assert external_urls(page) == []  # no <script src=https://...>, no CSS url(https://...)
    assert "L.tileLayer(" in page and "server.arcgisonline.com" in page
    assert "Leaflet 1.9.4" in page


def test_tiles_choices(tmp_path, bundle):
    assert "tile.openstreetmap.org" in render(tmp_path, None, tiles="OpenStreetMap")
    page = render(tmp_path, None, tiles="https://tiles.example/{z}/{x}/{y}.png",
                  tiles_attribution="© Example <b>")
    assert "https://tiles.example/{z}/{x}/{y}.png" in page
    assert "Example \\u0026lt;b\\u0026gt;" in page and "Example <b>" not in page
    with pytest.raises(SettingsError, match="needs --tiles-attribution"):
        render(tmp_path, None, tiles="https://tiles.example/{z}/{x}/{y}.png")
    with pytest.raises(SettingsError, match="not a known tile provider"):
        render(tmp_path, None, tiles="Nowhere.Tiles")


def test_raster_land_price_is_an_image_overlay(tmp_path, bundle):
    page = render(tmp_path, bundle, land_prices=DATA_TIF, offline=True)
    assert "L.imageOverlay(" in page and "data:image/png;base64," in page
    assert "Land price (USD per acre, raster)" in page
    assert external_urls(page) == []


def test_identical_bytes_with_layers(tmp_path, bundle):
    assert render(tmp_path, bundle, "a.html") == render(tmp_path, bundle, "b.html")


def test_assets_are_pinned_and_intact():
    assert fetch.check() == []
    css = _map_assets.asset_text("leaflet_css")
    assert "url(images/" not in css and "data:image/png;base64," in css


def test_simplify_tolerance_fits_the_zoom():
    assert 0.015 < _map_layers.tolerance_for((-125, 24, -66.5, 49.5)) < 0.025
    assert _map_layers.tolerance_for((-71.9, 41.1, -71.1, 42.0)) < 0.001
    assert [_map_layers.voltage_class(v) for v in (69, 230, 345, 500, 765, None)] == \
        [0, 1, 2, 3, 3, 0]


def test_us_map_size(tmp_path, us_layers):
    """The national map with every layer stays far below 15 MB."""
    subs = us_layers.substations.nlargest(25, "voltage_kv")
    sites = gpd.GeoDataFrame({"site_id": subs["sub_id"].to_numpy(), "rank": range(1, 26),
                              "tier": ["A"] * 25, "poi_name": subs["name"].to_numpy()},
                             geometry=subs.geometry.to_numpy(), crs="EPSG:4326")
    prov = {**PROV, "region": "US"}
    for offline in (False, True):
        out = web.render(sites, tmp_path / f"us{offline}.html", prov, layers=us_layers,
                          offline=offline)
        size = out.stat().st_size
        assert size < 15e6, f"{size / 1e6:.1f} MB"
        page = out.read_text("utf-8")
        assert "Transmission lines" in page and len(site_rows(page)) == 25


def test_map_command_rerenders_an_export(tmp_path, geo_rank):
    sites = make_sites(4).set_geometry([Point(-71.5 + 0.05 * i, 41.7) for i in range(4)])
    prov = {"tool": "geo-rank", "version": "0.1.0", "region": "US-RI", "load_mw": 300}
    result = export.write(sites, tmp_path / "ri.geojson", prov)
    out = tmp_path / "ri.html"
    run = geo_rank("map", str(result), "--out", str(out), "--offline")
    assert run.exit_code == 0, run.output
    page = out.read_text("utf-8")
    assert len(site_rows(page)) == 4 and "Region boundary (US-RI)" in page
    assert "Transmission lines" in page and "<img" not in page and ESCAPED in page
    assert external_urls(page) == []
    run = geo_rank("map", str(result), "--out", str(out), "--no-layers")
    assert run.exit_code == 0 and "Transmission lines" not in out.read_text("utf-8")


def test_map_command_refuses_bad_tiles(tmp_path, geo_rank):
    result = export.write(make_sites(), tmp_path / "s.geojson", PROV)
    run = geo_rank("map", str(result), "--out", str(tmp_path / "m.html"),
                   "--no-layers", "--tiles", "Nowhere.Tiles")
    assert run.exit_code == 2 and "not a known tile provider" in run.output
