"""The fast ``geo-rank grid --region US --json`` (issue 31): the shipped document
(:mod:`geo.grid.summary`, :mod:`geo.cli.grid_fast`) is the full path's, and anything that
changes the answer takes the full path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

import layers
from geo.cli import grid_fast
from geo.grid import summary
from geo.settings import Settings


def _doc(text: str) -> dict:
    doc = json.loads(text)
    doc["hosting"]["seconds"] = None       # the one timing in the document
    return doc


@pytest.mark.parametrize("grid_source", ["osm-2016",
                                         pytest.param("tamu-synthetic", marks=pytest.mark.slow)])
def test_the_shipped_document_is_the_full_paths(grid_source, geo_rank, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))       # no disk-cache entry
    args = ("grid", "--region", "US", "--json", "--grid", grid_source)
    with monkeypatch.context() as fast:
        fast.setattr(layers, "load", lambda *a, **k: pytest.fail("the fast path loaded layers"))
        quick = geo_rank(*args)
    assert quick.exit_code == 0, quick.output
    monkeypatch.setattr(grid_fast, "answer", lambda argv: False)
    full = geo_rank(*args)
    assert full.exit_code == 0, full.output
    assert json.loads(full.stdout)["hosting"]["cache"] == "shipped"
    # the same text, key order included, once the timing is set aside
    assert json.dumps(_doc(quick.stdout)) == json.dumps(_doc(full.stdout))
    note = json.loads(full.stdout)["grid_note"]      # the header's template filled in
    assert "{" not in note and ("assumed 50% loaded" in note) == (grid_source == "osm-2016")


def test_the_fast_path_imports_neither_pandas_nor_the_engine():
    code = ("import sys\nfrom geo.cli.app import main\ntry:\n    main(['grid', '--json'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pandas', 'geopandas', 'geo.grid.network', 'layers.bundle')"
            " if m in sys.modules), file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(run.stdout)["region"] == "US"
    assert run.stderr.strip() == "[]"


@pytest.mark.parametrize(("args", "expected"), [
    (["grid", "--json"], ""),
    (["-q", "grid", "--region", "US", "--json"], ""),
    (["grid", "--region=US", "--json", "--debug"], ""),
    (["grid", "--json", "--grid", "tamu-synthetic"], "tamu-synthetic"),
    (["grid", "--json", "--grid=osm-2016"], "osm-2016"),
    (["grid", "--region", "US"], None),                       # the printout, not --json
    (["grid", "--region", "US-RI", "--json"], None),          # a state
    (["grid", "--json", "--substations", "subs.csv"], None),  # a user layer file
    (["grid", "--json", "--layers-dir", "mine"], None),
    (["grid", "--json", "--hosting-min-kv", "230"], None),    # a grid setting
    (["grid", "--json", "--config", "my.toml"], None),
    (["grid", "--json", "--no-cache"], None),
    (["grid", "--json", "--queued-loads", "q.csv"], None),
    (["grid", "--json", "--export", "subs.csv"], None),
    (["-v", "grid", "--json"], None),                         # its log lines are the full path's
    (["grid", "--json", "--json"], None),
    (["rank", "--json"], None),
])
def test_only_the_default_us_json_is_answered(args, expected):
    assert grid_fast._request(args) == expected


def test_a_user_layer_file_or_setting_takes_the_full_path(geo_rank, monkeypatch):
    def full(*args, **kwargs):
        raise RuntimeError("full path")

    monkeypatch.setattr(layers, "load", full)   # stop the full path where it starts
    for flags in (["--substations", "subs.csv"], ["--hosting-min-kv", "230"], ["--no-cache"]):
        res = geo_rank("grid", "--region", "US", "--json", *flags)
        assert isinstance(res.exception, RuntimeError), flags


def test_another_grid_setting_model_or_file_is_a_miss(monkeypatch, tmp_path):
    settings = Settings()
    assert summary.read("osm-2016", settings) is not None
    assert summary.read("osm-2016", settings.replace(hosting_min_kv=230.0)) is None
    assert summary.read("osm-2016", settings.replace(n1_max_outages=3)) is None
    # scoring settings do not key grid results
    assert summary.read("osm-2016", settings.replace(land_weight=0.5)) is not None
    monkeypatch.setattr(summary, "MODEL_VERSION", summary.MODEL_VERSION + 1)
    assert summary.read("osm-2016", settings) is None
    monkeypatch.undo()
    # a copy of the data folder with one byte of the lines changed
    data = tmp_path / "data"
    folder = data / summary.FOLDERS["osm-2016"]
    folder.mkdir(parents=True)
    for name in (*summary.INPUT_NAMES, summary.SUMMARY_NAME):
        source = summary.path("osm-2016").with_name(name)
        if source.is_file():
            shutil.copy(source, folder / name)
    monkeypatch.setattr(summary, "data_dir", lambda: data)
    assert summary.read("osm-2016", settings) is not None
    with open(folder / "lines.parquet", "ab") as f:
        f.write(b"\0")
    assert summary.read("osm-2016", settings) is None
    (folder / summary.SUMMARY_NAME).write_text("{not json")
    assert summary.read("osm-2016", settings) is None


def test_counts_order_ties_by_value_whatever_the_pandas_version():
    import pandas as pd

    from geo.grid.report import counts

    tally = counts(pd.Series(["b", "c", "a", "b", "a", "d", "d", "d"]))
    assert list(tally.items()) == [("d", 3), ("a", 2), ("b", 2), ("c", 1)]
