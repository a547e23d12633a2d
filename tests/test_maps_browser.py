"""The maps in a real browser: headless Chromium (Debian's) driven by Playwright.

No network: every request other than ``file:``/``data:`` is aborted and every host name is
unresolvable. The offline map must make no such request at all; the default map may only
ask for its base tiles (Leaflet and the plugins are inlined, see geo/web/assets.py).
Skipped only outside CI when Chromium or Playwright is missing; in CI (``CI`` set) a missing
browser fails every test here with the install line.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import pytest

from geo import web
from tests.map_helpers import CHROMIUM, open_in_chromium

pytestmark = pytest.mark.slow

_missing = [what for what, ok in (
    (CHROMIUM, shutil.which(CHROMIUM) is not None),
    ("playwright", importlib.util.find_spec("playwright") is not None),
) if not ok]
_NEED = (f"browser tests need {' and '.join(_missing)} (apt-get install chromium; "
         "pip install '.[test]')")
if _missing and not os.environ.get("CI"):
    pytest.skip(f"{_NEED}; they always run in CI", allow_module_level=True)


@pytest.fixture(autouse=True)
def _browser_present() -> None:
    """In CI (``CI`` set) a missing browser is a failure, not a skip."""
    if _missing:
        pytest.fail(f"CI: {_NEED}", pytrace=False)

LAYERS = ("Ranked sites", "Transmission lines", "Substations", "Hydro plants",
          "Land price", "Region boundary")


@pytest.fixture(scope="module")
def ri_maps(tmp_path_factory, geo_rank) -> dict[str, Path]:
    """geo-rank --region US-RI, once online (default) and once --offline, via the CLI."""
    root = tmp_path_factory.mktemp("ri")
    out = {}
    for kind, flags in (("default", []), ("offline", ["--offline"])):
        html = root / f"ri_{kind}.html"
        run = geo_rank("-q", "--region", "US-RI", "--load-mw", "100",
                       "--out", str(root / kind), "--map", str(html), *flags)
        assert run.exit_code == 0, run.output
        out[kind] = html
        out[f"{kind}_export"] = root / kind / "us-ri_sites.geojson"
    return out


def _features(path: Path) -> int:
    return len(json.loads(path.read_text("utf-8"))["features"])


@pytest.mark.parametrize("kind", ["offline", "default"])
def test_ri_map_in_chromium(ri_maps, kind, tmp_path):
    shot = tmp_path / f"ri_{kind}.png"
    report = open_in_chromium(ri_maps[kind], screenshot=shot)
    assert report.js_errors == []
    assert report.has_map
    assert report.site_markers == _features(ri_maps[f"{kind}_export"]) > 0
    for layer in LAYERS:
        assert any(label.startswith(layer) for label in report.layers), (layer, report.layers)
    assert shot.stat().st_size > 10_000
    if kind == "offline":
        assert report.blocked == []  # not one request left the file
        assert "States (offline basemap)" in report.layers
    else:  # only base tiles were asked for (and blocked); Leaflet itself came inline
        assert report.blocked and all("/tile/" in u or "{" not in u for u in report.blocked)
        assert not [u for u in report.blocked if u.endswith((".js", ".css"))]


def test_hostile_names_stay_text_in_chromium(tmp_path):
    """A site named like an XSS payload shows as text: no <img> element, no alert."""
    from shapely.geometry import Point

    hostile = "<img src=x onerror=alert(1)>"
    sites = gpd.GeoDataFrame({"site_id": ["a"], "rank": [1], "tier": ["A"],
                              "poi_name": [hostile]}, geometry=[Point(-71.4, 41.8)],
                             crs="EPSG:4326")
    html = web.render(sites, tmp_path / "x.html", {"version": "t", "region": hostile},
                       offline=True)
    report = open_in_chromium(html)
    assert report.js_errors == [] and report.site_markers == 1 and report.blocked == []


def test_the_legend_in_chromium_reads_the_tier_definition(tmp_path):
    """The legend a browser shows says what a tier is, in the words of geo.tiers, for the
    run's own tier_months (issue 30: it once described tiers that no longer existed)."""
    from shapely.geometry import Point

    from geo import tiers

    sites = gpd.GeoDataFrame({"site_id": ["a", "b"], "rank": [1, 2], "tier": ["A", "C"]},
                             geometry=[Point(-71.4, 41.8), Point(-71.5, 41.7)],
                             crs="EPSG:4326")
    for months in ((24.0, 36.0, 60.0), (18.0, 30.0, 48.0)):
        html = web.render(sites, tmp_path / f"t{months[0]:g}.html",
                          {"version": "t", "region": "US-RI",
                           "settings": {"tier_months": list(months)}}, offline=True)
        report = open_in_chromium(html)
        shown = [line for line in report.legend if line[:3] in ("A: ", "B: ", "C: ", "D: ")]
        assert shown == [f"{t}: {text}" for t, text in tiers.definitions(months).items()]
        assert "Tiers by months to the full load" in report.legend


def test_popups_scroll_and_the_legend_clears_the_scale_bar_in_chromium(tmp_path):
    """Issue 30: the popup (raw column names) was taller than a 900 px window, cutting off
    the reasons, and the legend covered the km half of the scale bar."""
    from shapely.geometry import Point

    from geo.web.markers import POPUP_MAX_HEIGHT_PX

    reasons = "; ".join(["Tier A (≤ 24 months, no network upgrades): grid, 24 months"] * 12)
    sites = gpd.GeoDataFrame(
        {"site_id": ["a", "b"], "rank": [1, 2], "tier": ["A", "B"], "hosting_mw": [900.0, 1.0],
         "firm_mw": [450.0, 0.0], "time_to_power_months": [24.0, 36.0],
         "cost_of_power_musd": [1700.0, 1800.0], "reasons": [reasons, reasons]},
        geometry=[Point(-71.4, 41.8), Point(-71.5, 41.7)], crs="EPSG:4326")
    html = web.render(sites, tmp_path / "p.html", {"version": "t", "region": "US-RI"},
                      offline=True)
    report = open_in_chromium(html, size=(1280, 900), open_popups=True)
    assert report.js_errors == [] and report.popups_opened == 2
    assert max(report.popup_heights) <= POPUP_MAX_HEIGHT_PX + 40   # padding and border
    assert report.popups_scrolled == 2
    legend, scale = report.boxes["legend"], report.boxes["scale"]
    assert legend["y"] + legend["height"] <= scale["y"]       # the legend sits above it


def test_us_map_in_chromium(us_layers, tmp_path):
    """The national map (every layer, offline) opens in a few seconds with no errors."""
    subs = us_layers.substations.nlargest(25, "voltage_kv")
    sites = gpd.GeoDataFrame({"site_id": subs["sub_id"].to_numpy(), "rank": range(1, 26),
                              "tier": ["A", "B", "C", "D", "A"] * 5,
                              "poi_name": subs["name"].to_numpy()},
                             geometry=subs.geometry.to_numpy(), crs="EPSG:4326")
    html = web.render(sites, tmp_path / "us.html", {"version": "t", "region": "US"},
                       layers=us_layers, offline=True)
    report = open_in_chromium(html, screenshot=tmp_path / "us.png")
    assert report.js_errors == [] and report.has_map and report.blocked == []
    assert report.site_markers == 25
    assert any(label.startswith("Substations") for label in report.layers)
    assert report.seconds < 60  # a few seconds on a desktop; generous for a busy CI box


def test_hostile_names_in_every_layer_fire_no_dialog(tmp_path, geo_rank):
    """Hostile names in every layer, popups opened, also through ``geo-rank map``."""
    from geo.io import export
    from tests.test_maps import PROV, hostile_bundle, make_sites

    html = web.render(make_sites(), tmp_path / "direct.html", PROV, layers=hostile_bundle(),
                       offline=True)
    report = open_in_chromium(html, open_popups=True)
    assert report.dialogs == [] and report.js_errors == []
    assert report.site_markers == 3 and report.popups_opened >= 3

    result = export.write(make_sites(), tmp_path / "result.geojson",
                          {"tool": "geo-rank", "version": "t", "region": "US-T"})
    rerender = tmp_path / "again.html"
    run = geo_rank("map", str(result), "--out", str(rerender), "--offline")
    assert run.exit_code == 0, run.output
    assert "<img src=x" not in rerender.read_text("utf-8")
    again = open_in_chromium(rerender, open_popups=True)
    assert again.dialogs == [] and again.js_errors == [] and again.site_markers == 3


def test_the_dialog_detector_would_catch_injected_markup(tmp_path):
    """Control for the test above: raw markup in the page does fire a dialog."""
    from tests.test_maps import PROV, make_sites

    html = web.render(make_sites(), tmp_path / "m.html", PROV, offline=True)
    page = html.read_text("utf-8").replace("<body>", "<body><img src=x onerror=alert(1)>", 1)
    html.write_text(page, "utf-8")
    assert open_in_chromium(html).dialogs == ["1"]


def test_national_surface_map_in_chromium(us_layers, tmp_path):
    """The national res-6 surface (every H3 cell over the US, 209,646 of them) as one map:
    at most 20 MB, opens with no errors, hexagons and the best 25 sites drawn.

    The cells are the real ones (``candidates.from_h3``); their tiers, scores and months are
    synthetic (a smooth field), so the test needs no national grid computation."""
    import numpy as np

    from geo import candidates

    sites = candidates.from_h3(us_layers, 6)
    n = len(sites)
    x, y = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    score = (np.sin(x / 3) + np.cos(y / 2)) / 4 + 0.5
    order = np.lexsort((sites["site_id"].to_numpy(), -score))
    sites["tier"] = np.array(list("ABCD"))[np.clip((3 - score * 4).astype(int), 0, 3)]
    sites["score"] = score
    sites["time_to_power_months"] = np.round(18 + (1 - score) * 30, 1)
    sites["poi_sub_id"] = (np.arange(n) // 40).astype(str)  # ~40 cells per POI
    sites["rank"] = np.empty(n, dtype=int)
    sites.loc[order, "rank"] = np.arange(1, n + 1)
    html = web.render(sites, tmp_path / "us6.html", {"version": "t", "region": "US"},
                       layers=us_layers, offline=True, top=25)
    assert html.stat().st_size <= 20e6
    report = open_in_chromium(html, screenshot=tmp_path / "us6.png")
    assert report.js_errors == [] and report.has_map and report.blocked == []
    assert report.site_markers == 25
    assert f"Surface: best tier of {n:,} sites in 4,554 H3 res-4 cells" in report.layers
    assert report.seconds < 30  # about 6 s here (2 cores, browser start included)


def test_portfolio_map_draws_the_sites_and_their_limiting_lines(tmp_path, geo_rank):
    html = tmp_path / "tx.html"
    run = geo_rank("-q", "--region", "US-TX", "--load-mw", "300",
                   "--portfolio", "3", "--offline", "--out", str(tmp_path),
                   "--map", str(html))
    assert run.exit_code == 0, run.output
    page = tmp_path / "tx_portfolio.html"
    report = open_in_chromium(page)
    assert report.js_errors == [] and report.has_map
    assert report.site_markers == _features(tmp_path / "us-tx_portfolio.geojson") == 3
    assert "Limiting lines (portfolio)" in report.layers
    assert "limits #1" in page.read_text("utf-8")
