"""geo.web (first version): markers, escaping, legend, provenance, stable bytes."""

from __future__ import annotations

import builtins
import re
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from geo import web
from geo.errors import DataSourceError, DependencyError
from geo.web import markers
from tests.map_helpers import site_rows

HOSTILE = "<img src=x onerror=alert(1)>"
TEMPLATE_BREAK = "`${alert(2)}`\\"
PROV = {"tool": "geo-rank", "version": "9.9.9", "region": "US-TX",
        "generated_at": "2025-05-01T12:00:00Z"}


def make_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": ["s1", "s2", "s3", "s4"],
            "rank": [1, 2, 3, 4],
            "tier": ["A", "B", "D", None],
            "score": [0.91, 0.5, np.nan, 0.1],
            "poi_name": ["Zürich Nord", HOSTILE, TEMPLATE_BREAK, None],
            "hosting_mw": [350.0, 120.5, np.nan, 0.0],
            "serves_load": [True, False, False, False],
            "reasons": ["hosts the load", "<script>alert(3)</script>", "{{ 7*7 }}", ""],
        },
        geometry=[Point(8.55, 47.41), Point(-97.74, 30.27), Point(-100.0, 40.0),
                  Point(-90.0, 35.0)],
        crs="EPSG:4326",
    )


@pytest.fixture()
def page(tmp_path) -> str:
    out = web.render(make_sites(), tmp_path / "maps" / "m.html", PROV)
    return out.read_text("utf-8")


def test_one_marker_per_site(page):
    rows = site_rows(page)
    assert len(rows) == 4
    assert sorted(r[2] for r in rows) == ["1", "2", "3", "4"]


def test_hostile_strings_escaped(page):
    assert HOSTILE not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert(3)</script>" not in page
    assert "${alert(2)}" not in page and "&#96;&#36;&#123;alert(2)&#125;&#96;&#92;" in page
    # folium runs rendered scripts through Jinja again: data must not be evaluated
    assert "<td>49</td>" not in page
    assert "&#123;&#123; 7*7 &#125;&#125;" in page


def test_colours_tooltips_and_panel(page):
    for tier, colour in (("A", "#1a9850"), ("B", "#4575b4"), ("D", "#d73027"),
                         ("none", web.UNKNOWN_COLOUR)):
        assert f".geo-rank-tier-{tier}{{background:{colour}}}" in page
    assert sorted(r[3] for r in site_rows(page)) == ["A", "B", "D", "none"]
    assert "#1 Zürich Nord" in page
    assert "#4 s4" in page  # no poi_name: the site id
    assert "geo-rank 9.9.9 · US-TX · 2025-05-01T12:00:00Z" in page
    assert "fitBounds" in page
    assert "hosting_mw" in page and "350" in page


def test_legend_says_what_each_tier_is_from_the_one_definition(tmp_path):
    """The tier lines of the legend are geo.tiers' words for the run's tier_months; the
    data dictionary and the reasons use the same words."""
    from geo import columns, tiers

    for months in (None, [18.0, 30.0, 48.0]):
        prov = {**PROV, "settings": {"tier_months": months}} if months else PROV
        html = web.render(make_sites(), tmp_path / "t.html", prov, overwrite=True)
        text = html.read_text("utf-8")
        for t, words in tiers.definitions(months or tiers.DEFAULT_MONTHS).items():
            assert f"</span>{t}: {words}</div>" in text
    assert "half the load" not in text and "short tie" not in text
    described = columns.by_name()["tier"].description
    assert all(f"{t} {w}" in described for t, w in tiers.definitions().items())


def test_popup_labels_carry_units_and_the_map_opens_on_the_sites(us_layers, tmp_path):
    """Issue 30: the popup showed raw column names, and a map opened on the whole region
    (Norway's reach Svalbard) instead of the sites."""
    sites = make_sites().iloc[[1]]                       # one site in Texas
    text = web.render(sites, tmp_path / "t.html", PROV, layers=us_layers).read_text("utf-8")
    assert "hosting N-0 (MW)" in text and "<th" in text and ">hosting_mw<" not in text
    bounds = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]",
                       text)
    assert bounds is not None
    south, west, north, east = map(float, bounds.groups())
    assert (south, west, north, east) == (30.27, -97.74, 30.27, -97.74)  # not the US


def test_radius_by_rank():
    assert markers.radius(1, 10) == markers.RADIUS_MAX
    assert markers.radius(10, 10) == markers.RADIUS_MIN
    assert markers.RADIUS_MIN < markers.radius(5, 10) < markers.RADIUS_MAX


def test_identical_bytes(tmp_path):
    a = web.render(make_sites(), tmp_path / "a.html", PROV).read_bytes()
    b = web.render(make_sites(), tmp_path / "b.html", PROV).read_bytes()
    assert a == b
    ids = set(re.findall(rb"[0-9a-f]{32}", a))
    assert ids and all(int(i, 16) <= len(ids) for i in ids)  # counters, not random ids


def test_projected_input_and_title(tmp_path):
    out = web.render(make_sites().to_crs(3857), tmp_path / "m.html", PROV, title="T <x>")
    text = out.read_text("utf-8")
    assert "<title>T &lt;x&gt;</title>" in text
    assert "47.41" in text


def test_missing_folium(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "folium":
            raise ImportError("no folium")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DependencyError, match="pip install folium"):
        web.render(make_sites(), tmp_path / "m.html", PROV)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_scripts_parse_as_javascript(page, tmp_path):
    script = "\n".join(re.findall(r"<script>(.*?)</script>", page, re.S))
    js = tmp_path / "m.js"
    js.write_text(script, encoding="utf-8")
    result = subprocess.run(["node", "--check", str(js)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_overwrite_guard(tmp_path):
    user = tmp_path / "m.html"
    user.write_text("<html>my own page</html>", encoding="utf-8")
    with pytest.raises(DataSourceError, match="not written by geo-rank; pass --overwrite"):
        web.render(make_sites(), user, PROV)
    assert user.read_text("utf-8") == "<html>my own page</html>"
    web.render(make_sites(), user, PROV, overwrite=True)
    web.render(make_sites().iloc[:1], user, PROV)  # ours now: replaced
    assert len(site_rows(user.read_text("utf-8"))) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.html"]
