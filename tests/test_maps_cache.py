"""The map's context layers drawn once (geo.web.layer_cache): the same bytes from the cache
as without it, and a new drawing whenever what a layer reads changes."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from geo.settings import Settings
from geo.web import layer_cache
from geo.web import layers as ml
from geo.web import territories as who
from geo.web.layer_cache import LayerCache, content_hash


def _lines() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"line_id": ["a", "b"], "voltage_kv": [345.0, 230.0], "capacity_mw": [900.0, None],
         "kind": ["line", "line"], "circuits": [1, 2]},
        geometry=[LineString([(-100.0, 40.0), (-99.0, 40.5)]),
                  LineString([(-98.0, 41.0), (-97.5, 41.25), (-97.0, 41.0)])],
        crs="EPSG:4326")


class Counting:
    """A LayerCache ``compute`` wrapper that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, value: object) -> object:
        self.calls += 1
        return value


def test_content_hash_tells_apart_what_a_looser_hash_would_merge():
    frame = pd.DataFrame({"id": [1, 2], "big": [2**53, 7]})
    same = pd.DataFrame({"id": [1, 2], "big": [2**53, 7]})
    assert content_hash(frame, ["id", "big"]) == content_hash(same, ["id", "big"])
    # the number 1 and the text "1"; two ids that are one float64; row order; an absent column
    assert content_hash(frame, ["id"]) != content_hash(frame.astype({"id": str}), ["id"])
    mixed = [pd.DataFrame({"id": pd.Series(v, dtype=object)})
             for v in ([1, "x"], ["1", "x"], [None, "x"], [float("nan"), "x"])]
    assert len({content_hash(f, ["id"]) for f in mixed}) == 4
    assert (content_hash(frame, ["big"])
            != content_hash(frame.assign(big=[2**53 + 1, 7]), ["big"]))
    assert content_hash(frame, ["id"]) != content_hash(frame.iloc[::-1], ["id"])
    assert content_hash(frame, ["id", "name"]) != content_hash(frame, ["id"])
    # a column the layer does not read does not key it
    assert content_hash(frame, ["id"]) == content_hash(frame.assign(big=0), ["id"])


def test_a_hit_is_the_miss_byte_for_byte_and_computes_nothing(tmp_path):
    cache = LayerCache(tmp_path)
    lines = _lines()
    plain = ml.lines(lines, 0.001, 4)
    first = ml.lines(lines, 0.001, 4, cache)
    assert len(list(tmp_path.glob("map-lines-*.json"))) == 1
    count = Counting()
    hit = cache.get("lines", [0.001, 4], lines, ml.LINE_COLUMNS, lambda: count(None))
    second = ml.lines(lines, 0.001, 4, cache)
    assert count.calls == 0 and hit is not None
    assert plain is not None and first is not None and second is not None
    var = plain.get_name()
    assert (first.code.replace(first.get_name(), var)
            == second.code.replace(second.get_name(), var) == plain.code)
    assert first.layer_name == second.layer_name == plain.layer_name == (
        "Transmission lines (2)")


@pytest.mark.parametrize("change", [
    lambda f: f.assign(voltage_kv=[345.0, 500.0]),              # a value it draws
    lambda f: f.assign(line_id=["a", "c"]),                     # a tooltip's text
    lambda f: f.set_geometry([f.geometry[0], LineString([(-98.0, 41.0), (-97.0, 41.1)])]),
    lambda f: f.iloc[::-1],                                     # the drawing order
])
def test_a_changed_input_is_drawn_again(tmp_path, change):
    cache = LayerCache(tmp_path)
    ml.lines(_lines(), 0.001, 4, cache)
    changed = change(_lines())
    layer = ml.lines(changed, 0.001, 4, cache)
    plain = ml.lines(changed, 0.001, 4)
    assert layer is not None and plain is not None
    assert layer.code.replace(layer.get_name(), plain.get_name()) == plain.code
    assert len(list(tmp_path.glob("map-lines-*.json"))) == 2


def test_params_code_and_versions_key_the_entry(tmp_path, monkeypatch):
    """Another tolerance, another formatter source (an edited module, same version) or
    another GEOS never reads the old entry."""
    cache, lines = LayerCache(tmp_path), _lines()
    count = Counting()
    cache.get("lines", [0.001, 4], lines, ml.LINE_COLUMNS, lambda: count(1))
    cache.get("lines", [0.002, 4], lines, ml.LINE_COLUMNS, lambda: count(2))
    assert count.calls == 2
    monkeypatch.setattr(layer_cache, "code_hash", lambda: "an edited formatter")
    assert cache.get("lines", [0.001, 4], lines, ml.LINE_COLUMNS, lambda: count(3)) == 3
    monkeypatch.setattr(layer_cache, "_versions", lambda: ["another GEOS"])
    assert cache.get("lines", [0.001, 4], lines, ml.LINE_COLUMNS, lambda: count(4)) == 4
    assert count.calls == 4


def test_corrupt_or_foreign_entries_are_misses(tmp_path):
    cache, lines = LayerCache(tmp_path), _lines()
    cache.get("lines", [0.001, 4], lines, ml.LINE_COLUMNS, lambda: 1)
    (entry,) = tmp_path.glob("map-lines-*.json")
    entry.write_text("{not json", encoding="utf-8")
    assert cache.get("lines", [0.001, 4], lines, ml.LINE_COLUMNS, lambda: 2) == 2
    entry.write_text(json.dumps({"key": "another key", "value": 3}), encoding="utf-8")
    assert cache.get("lines", [0.001, 4], lines, ml.LINE_COLUMNS, lambda: 4) == 4
    run_key = layer_cache.key("lines", [0.001, 4], lines, ml.LINE_COLUMNS)
    entry.write_text(json.dumps({"key": run_key}), encoding="utf-8")       # no value
    assert cache.get("lines", [0.001, 4], lines, ml.LINE_COLUMNS, lambda: 5) == 5


def test_no_cache_setting_reads_and_writes_nothing(tmp_path):
    off = LayerCache.of(Settings(cache_dir=tmp_path, use_cache=False))
    assert off.folder is None
    assert off.get("lines", [1], _lines(), ml.LINE_COLUMNS, lambda: 5) == 5
    assert not list(tmp_path.iterdir())
    assert LayerCache.of(Settings(cache_dir=tmp_path)).folder == tmp_path


def test_territory_outlines_come_from_the_cache_and_tooltips_from_the_sites(tmp_path):
    """The outlines' drawing is cached; the tooltips name this map's sites."""
    areas = gpd.GeoDataFrame(
        {"kind": ["iso_rto", "iso_rto"], "name": ["West", "East"], "code": ["W", "E"]},
        geometry=[box(-101, 39, -99, 41), box(-99, 39, -97, 41)], crs="EPSG:4326")

    def sites(utility: str) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"utility": [utility], "rank": [1]},
                                geometry=[Point(-100, 40)], crs="EPSG:4326")

    cache = LayerCache(tmp_path)
    (first,) = who.overlays(areas, sites("ALPHA POWER"), 0.01, 4, None, cache)
    (second,) = who.overlays(areas, sites("BETA POWER"), 0.01, 4, None, cache)
    (plain,) = who.overlays(areas, sites("BETA POWER"), 0.01, 4, None)
    assert len(list(tmp_path.glob("map-territories-*.json"))) == 1
    assert "ALPHA POWER (#1)" in first.code and "ALPHA POWER" not in second.code
    assert second.code.replace(second.get_name(), plain.get_name()) == plain.code
