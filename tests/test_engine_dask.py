"""The Dask engine gives the same ranking as the single-process engine; without the extra,
``--engine dask`` is a one-line install hint."""

from __future__ import annotations

import builtins
import importlib.util
import logging
import os
import re

import numpy as np
import pandas as pd
import pytest

from geo import engine
from geo.errors import DependencyError
from geo.pipeline import rank_sites
from geo.settings import Settings

HAVE_DASK = all(importlib.util.find_spec(m) is not None
                for m in ("dask", "distributed", "dask_geopandas"))
# CI installs the dask extra: there a missing dask is a failure, not a skip.
needs_dask = pytest.mark.skipif(not HAVE_DASK and not os.environ.get("CI"),
                                reason="the dask extra is not installed")


def partitions_used(caplog: pytest.LogCaptureFixture) -> list[int]:
    """Partition counts of the Dask runs logged by :mod:`geo.engine`."""
    return [int(m.group(1)) for r in caplog.records if r.name == "geo.engine"
            for m in [re.search(r" in (\d+) partitions", r.getMessage())] if m]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.slow
@needs_dask
def test_dask_engine_equals_local_on_rhode_island_h3_7(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="geo.engine")
    local = rank_sites("US-RI", candidates="h3:7", load_mw=100, settings=settings,
                       all_candidates=True)
    # small partitions so that the 500-odd cells really are split across both workers
    dask = rank_sites("US-RI", candidates="h3:7", load_mw=100, settings=settings,
                      all_candidates=True, engine="dask", partition_sites=60)
    assert len(local.ranked) > 400
    assert partitions_used(caplog) == [-(-len(local.ranked) // 60)]  # 9 or so, not 1
    assert partitions_used(caplog)[0] > 1
    pd.testing.assert_frame_equal(dask.ranked, local.ranked, check_exact=True)
    pd.testing.assert_frame_equal(dask.sites, local.sites, check_exact=True)


@needs_dask
def test_partitions_are_spatially_sorted_and_restored() -> None:
    import geopandas as gpd

    pts = gpd.GeoSeries(gpd.points_from_xy([10, -80, 10.001, -80.001], [50, 30, 50, 30]),
                        crs=4326)
    order = engine.spatial_order(pts)
    assert sorted(order.tolist()) == [0, 1, 2, 3]
    # the two points near each other sit next to each other in the order
    pos = np.argsort(order)
    assert abs(pos[0] - pos[2]) == 1 and abs(pos[1] - pos[3]) == 1


def test_missing_dask_gives_one_line_install_hint(monkeypatch: pytest.MonkeyPatch,
                                                  geo_rank) -> None:
    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.split(".")[0] in ("dask", "distributed", "dask_geopandas"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(DependencyError, match=r"pip install 'geo-rank\[dask\]'"):
        engine.import_dask()
    result = geo_rank("--region", "US-RI", "--engine", "dask", "--no-map")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == ["geo-rank: error: --engine dask needs the dask extra: "
                     "pip install 'geo-rank[dask]'"]


def test_scheduler_needs_the_dask_engine() -> None:
    with pytest.raises(Exception, match="--scheduler needs --engine dask"):
        engine.run_candidate_stage(None, None, Settings(), engine="local",  # type: ignore[arg-type]
                                   scheduler="tcp://127.0.0.1:8786")


@pytest.mark.slow
@needs_dask
def test_dask_exports_are_identical_across_runs_and_to_local(
        tmp_path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        geo_rank) -> None:
    """Byte-identical GeoJSON apart from ``generated_at`` and the engine named in it."""
    import json

    # the module default is read at call time: small partitions split the ~100 h3:6 cells
    monkeypatch.setattr(engine, "PARTITION_SITES", 25)
    caplog.set_level(logging.INFO, logger="geo.engine")
    cfg = tmp_path / "cache.toml"
    cfg.write_text(f'cache_dir = "{tmp_path / "cache"}"\n')
    docs = []
    for n, eng in enumerate(("dask", "dask", "local")):
        out = tmp_path / f"run{n}"
        result = geo_rank("-q", "--region", "US-RI", "--candidates", "h3:6",
                          "--load-mw", "100", "--engine", eng, "--no-map",
                          "--out", str(out), "--config", str(cfg))
        assert result.exit_code == 0, result.output
        doc = json.loads((out / "us-ri_sites.geojson").read_text("utf-8"))
        doc["metadata"].pop("generated_at")
        doc["metadata"].pop("engine", None)
        docs.append(json.dumps(doc, sort_keys=True))
    assert docs[0] == docs[1] == docs[2]
    parts = partitions_used(caplog)
    assert len(parts) == 2 and min(parts) > 1, parts


@pytest.mark.slow
@needs_dask
def test_partitioned_dataset_equals_local_on_delaware_h3_8(
        settings: Settings, tmp_path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell of the single-process ranking, bit for bit, in the partitioned GeoParquet
    of the Dask engine (global ranks 1..N across the files), and the same top sites. The
    workers generate the cells from coarse parents; the client generates none."""
    import geopandas as gpd
    import pyarrow.parquet as pq

    from geo import candidates, portfolio, score
    from geo.io import export
    from geo.io import read as export_read
    from geo.pipeline import _order

    caplog.set_level(logging.INFO, logger="geo.engine")
    local = rank_sites("US-DE", candidates="h3:8", load_mw=100, settings=settings,
                       all_candidates=True)
    n = len(local.ranked)
    target = tmp_path / "us-de_sites.parquet"

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("the client generated H3 cells")

    # the workers are processes of their own: this only stops the client
    for name in ("cells_in", "cells_of_parents", "from_h3", "h3_sites"):
        monkeypatch.setattr(candidates, name, not_here)
    # parts of about n/12 cells (fewer on the coast): the tiers and the best sites are
    # spread over every file
    dask = rank_sites("US-DE", candidates="h3:8", load_mw=100, settings=settings,
                      all_candidates=True, engine="dask", partition_sites=-(-n // 12),
                      dataset=target)
    assert n > 5000
    assert dask.dataset is not None and dask.dataset.count == n
    parts = dask.dataset.partitions
    assert parts >= 8
    files = {p.name for p in target.iterdir()}
    assert files == {f"part.{i:05d}.parquet" for i in range(parts)} | {"_metadata",
                                                                        "_provenance.json"}
    assert not list(tmp_path.glob(".*"))  # the work folder is gone
    back = gpd.read_parquet(target)
    assert len(back) == n and back.crs.to_epsg() == 4326
    assert sorted(back["rank"].tolist()) == list(range(1, n + 1))
    # each file is sorted by the global rank; the files interleave (spatial partitions)
    for f in target.glob("part.*.parquet"):
        ranks = pq.read_table(f, columns=["rank"])["rank"].to_numpy()
        assert (np.diff(ranks) > 0).all()
        prov = export_read.read_provenance(f)
        assert prov["candidate_count"] == n and prov["engine"] == "dask"
    assert export_read.read_provenance(target) == prov
    # the same table as the single-process GeoParquet export (one file) read back
    single = tmp_path / "single.parquet"
    export.write(local.ranked, single, local.provenance)
    expected = gpd.read_parquet(single)
    # a partitioned run leaves out the "what separated it from the site above" clause
    expected["reasons"] = _without_separation(expected["reasons"], back["reasons"].dtype)
    back = back.sort_values("rank").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected, check_exact=True)
    top = score.one_per_poi(local.ranked).head(25)
    top = _order(top.assign(shares_limit_with=portfolio.shares_limit_with(top)))
    top["reasons"] = _without_separation(top["reasons"], dask.sites["reasons"].dtype)
    # text may be object or pandas 3's string dtype depending on the path: compare values
    pd.testing.assert_frame_equal(_text_as_object(dask.sites), _text_as_object(top),
                                  check_exact=True)
    assert dask.provenance["tiers"] == local.provenance["tiers"]


def _text_as_object(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text column (text, or text held as categories) as object dtype
    (None for missing)."""
    out = frame.copy()
    for col in out.columns:
        dtype = out[col].dtype
        text = pd.api.types.is_string_dtype(dtype) or (
            isinstance(dtype, pd.CategoricalDtype)
            and pd.api.types.is_string_dtype(dtype.categories.dtype))
        if text and col != out.geometry.name:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def _without_separation(reasons: pd.Series, dtype) -> pd.Series:
    """The reasons without the "; below #k: ..." clause, in ``dtype`` (pandas 3 reads text
    back as its string dtype)."""
    return pd.Series([t.split("; below #", 1)[0] for t in reasons], index=reasons.index,
                     dtype=dtype)


def _keys(tier, months, cost, firm, ids):
    """Raw order keys (geo.score.raw_order_keys) of a few sites: path, grid and land equal."""
    n = len(ids)
    cost = np.asarray(cost, dtype=float)
    return (np.asarray(tier), np.asarray(months, dtype=float), cost, -np.asarray(firm, float),
            cost, np.zeros(n, np.int64), np.zeros(n), np.zeros(n), np.asarray(ids, dtype="S"))


def test_global_ranks_from_keys_and_their_check() -> None:
    keys = [_keys([0, 1], [24, 24], [100, 100], [5, 5], ["c", "d"]),
            _keys([0, 0, 2], [24, 30, 24], [100, 100, 100], [5, 5, 5], ["a", "z", "b"])]
    ranks = engine.global_ranks(keys)
    assert [r.tolist() for r in ranks] == [[2, 4], [1, 3, 5]]
    # a partition whose own order is not the keys' order is refused, not silently mixed
    keys[1] = _keys([0, 0, 2], [30, 24, 24], [100, 100, 100], [5, 5, 5], ["a", "z", "b"])
    with pytest.raises(AssertionError, match="order_keys"):
        engine.global_ranks(keys)


def test_global_ranks_group_costs_over_every_partition() -> None:
    # alone, partition 1 groups 101.5 and 103 (within 2 %) and orders them by firm; with
    # partition 0's 100 (the cheapest of all) 103 is more than 2 % above: its own group
    keys = [_keys([0], [24], [100.0], [10], ["a"]),
            _keys([0, 0], [24, 24], [103.0, 101.5], [900, 500], ["b", "c"])]
    ranks = engine.global_ranks(keys, cost_tie_share=0.02)
    assert [r.tolist() for r in ranks] == [[2], [3, 1]]
    # partition 1's own order is the 2 % one: read with a share of 0 it is refused
    with pytest.raises(AssertionError, match="order_keys"):
        engine.global_ranks(keys, cost_tie_share=0.0)


@pytest.mark.slow
@needs_dask
def test_cli_writes_a_partitioned_dataset_and_replaces_only_its_own(
        tmp_path, monkeypatch: pytest.MonkeyPatch, geo_rank) -> None:
    import geopandas as gpd

    # 74 h3:6 cells; a part is a few coarse parents (343 cells each, counted in full):
    # one parent a part, those on land give a file each
    monkeypatch.setattr(engine, "PARTITION_SITES", 30)
    cfg = tmp_path / "cache.toml"
    cfg.write_text(f'cache_dir = "{tmp_path / "cache"}"\n')
    out = tmp_path / "out"
    args = ["--region", "US-RI", "--candidates", "h3:6", "--load-mw", "100", "--engine",
            "dask", "--all-candidates", "--format", "parquet", "--no-map", "--out", str(out),
            "--config", str(cfg)]
    first = geo_rank(*args)
    assert first.exit_code == 0, first.output
    target = out / "us-ri_sites.parquet"
    assert target.is_dir()
    back = gpd.read_parquet(target)
    parts = len(list(target.glob("part.*.parquet")))
    assert parts > 1
    assert f"US-RI: {len(back):,} candidates for 100 MW" in first.output
    assert f"wrote {len(back):,} sites in {parts} partitions to {target}" in first.output
    assert sorted(back["rank"]) == list(range(1, len(back) + 1))
    again = geo_rank(*args)  # its own dataset: replaced without --overwrite
    assert again.exit_code == 0, again.output
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no work folder left
    # a folder geo-rank did not write is refused before any work
    foreign = tmp_path / "foreign"
    (foreign / "us-ri_sites.parquet").mkdir(parents=True)
    refused = geo_rank(*args[:-4], "--out", str(foreign), *args[-2:])
    assert refused.exit_code != 0
    assert "not written by geo-rank" in refused.output


@pytest.mark.slow
@needs_dask
def test_every_file_of_a_dataset_outside_the_us_says_where_its_figures_come_from(
        settings: Settings, tmp_path) -> None:
    """``figures_outside_us`` over every cell, in each part's provenance (Bhutan, h3:6)."""
    from geo.io import read as export_read

    local = rank_sites("BT", candidates="h3:6", load_mw=100, settings=settings,
                       all_candidates=True)
    target = tmp_path / "bt_sites.parquet"
    dask = rank_sites("BT", candidates="h3:6", load_mw=100, settings=settings,
                      all_candidates=True, engine="dask", dataset=target,
                      partition_sites=-(-len(local.ranked) // 4))
    assert dask.dataset is not None and dask.dataset.partitions > 1
    figures = local.provenance["figures_outside_us"]
    assert figures["land_price"].startswith("unknown")
    assert dask.provenance["figures_outside_us"] == figures
    for f in target.glob("part.*.parquet"):
        assert export_read.read_provenance(f)["figures_outside_us"] == figures
    assert export_read.read_provenance(target)["figures_outside_us"] == figures
