"""The shipped grid results (geo.grid.shipped): the first run reads them, and they are what
today's code computes (a sample of substations recomputed from scratch)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo import grid
from geo.grid import hosting, shipped
from geo.settings import Settings

#: Columns a recompute must reproduce: numbers to 1e-7 (batching changes the last bits),
#: the rest exactly.
NUMBERS = ("hosting_mw", "firm_mw", "area_headroom_mw")
LABELS = ("limiting_line_id", "limit_kind", "hosting_status", "firm_limiting_line_id",
          "firm_outage_line_id", "firm_kind", "firm_source", "firm_preexisting",
          "participation_area")


class SolvedError(Exception):
    """Raised by a stand-in for geo.grid.hosting.hosting: the grid was about to be solved."""


@pytest.fixture(scope="module")
def us_graph(us_layers):
    return grid.build(us_layers["substations"], us_layers["lines"], Settings(),
                      us_layers.territories)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_parquet(shipped.path())


def _no_solve(*args, **kwargs):
    raise SolvedError


def test_the_embedded_data_with_default_settings_has_shipped_results(us_graph, us_layers):
    run_key = shipped.key(us_graph, grid.plants_hash(us_layers["plants"]), Settings())
    assert shipped.available(run_key), "stale: rebuild with `python -m geo.grid.shipped_build`"


def test_default_metrics_read_the_shipped_results_without_solving(
        us_graph, us_layers, table, monkeypatch, tmp_path):
    monkeypatch.setattr(hosting, "hosting", _no_solve)
    settings = Settings(cache_dir=tmp_path)
    whole = grid.metrics(us_graph, us_layers["plants"], settings)
    assert whole.attrs["cache"] == "shipped"
    subs = us_graph.substations[us_graph.substations["level_of"].isna()]  # not the levels
    assert (whole["hosting_status"] == "computed").sum() == (
        subs["voltage_kv"] >= settings.hosting_min_kv).sum()
    assert whole.attrs["hosting"]["computed"] == len(whole.loc[whole["firm_mw"].notna()])
    # a region's points of interconnection (a subset) are served by the same table
    some = table.index[table["hosting_status"] == "computed"][:50].tolist()
    part = grid.metrics(us_graph, us_layers["plants"], settings, sub_ids=some)
    assert part.attrs["cache"] == "shipped"
    assert not list(tmp_path.iterdir())        # nothing computed, nothing cached


@pytest.mark.parametrize("override", [{"use_cache": False}, {"emergency_rating_factor": 1.2},
                                      {"distribution_factor_cutoff": 0.03}])
def test_no_cache_or_other_grid_settings_compute(us_graph, us_layers, monkeypatch, tmp_path,
                                                  override):
    monkeypatch.setattr(hosting, "hosting", _no_solve)
    with pytest.raises(SolvedError):
        grid.metrics(us_graph, us_layers["plants"], Settings(cache_dir=tmp_path, **override))


def test_other_plants_compute(us_graph, us_layers, monkeypatch, tmp_path):
    monkeypatch.setattr(hosting, "hosting", _no_solve)
    plants = us_layers["plants"].iloc[1:]
    with pytest.raises(SolvedError):
        grid.metrics(us_graph, plants, Settings(cache_dir=tmp_path))


def test_a_recomputed_sample_equals_the_shipped_rows(us_graph, us_layers, table):
    done = table[table["hosting_status"] == "computed"]
    rng = np.random.default_rng(13)
    # a seeded sample, plus the first POIs of every kind of N-1 result
    sample = set(rng.choice(done.index.to_numpy(), 12, replace=False).tolist())
    for _, rows in done.groupby("firm_kind"):
        sample.update(rows.index[:2].tolist())
    sample = sorted(sample)
    reuse: dict = {}
    fresh = hosting.hosting(us_graph, us_layers["plants"], Settings(), sub_ids=sample,
                            reuse=reuse)
    _assert_same_rows(fresh.loc[sample], done.loc[sample])
    # the shipped edges' own PTDFs: those this recompute solved are equal
    known = hosting.self_ptdf(us_graph, reuse, edges=np.zeros(0, np.int64))
    solved = np.isfinite(known)
    assert solved.sum() > 1000
    run_key = shipped.key(us_graph, grid.plants_hash(us_layers["plants"]), Settings())
    ship = shipped.read_self_ptdf(us_graph, run_key)
    assert np.isfinite(ship).mean() > 0.99
    np.testing.assert_allclose(ship[solved], known[solved], rtol=0, atol=1e-9)
    # seeded with them, a run gives the same rows and solves fewer
    few = sample[:4]
    seeded = hosting.hosting(us_graph, us_layers["plants"], Settings(), sub_ids=few,
                             reuse={hosting.SELF_PTDF: ship})
    _assert_same_rows(seeded.loc[few], done.loc[few])
    unseeded = hosting.hosting(us_graph, us_layers["plants"], Settings(), sub_ids=few)
    assert (seeded.attrs["report"]["n1_lodf_solves"]
            < unseeded.attrs["report"]["n1_lodf_solves"])


def _assert_same_rows(got: pd.DataFrame, want: pd.DataFrame) -> None:
    for col in NUMBERS:
        np.testing.assert_allclose(got[col].to_numpy(float), want[col].to_numpy(float),
                                   rtol=1e-7, atol=1e-6, err_msg=col)
    for col in LABELS:
        a = got[col].astype(object).where(got[col].notna(), None).tolist()
        b = want[col].astype(object).where(want[col].notna(), None).tolist()
        assert a == b, col


@pytest.fixture(scope="module")
def osm_graph(osm_us_layers):
    return grid.build(osm_us_layers["substations"], osm_us_layers["lines"], Settings(),
                      osm_us_layers.territories)


def test_the_osm_grid_with_default_settings_has_shipped_results(osm_graph, osm_us_layers):
    run_key = shipped.key(osm_graph, grid.plants_hash(osm_us_layers["plants"]), Settings())
    assert shipped.available(run_key), "stale: rebuild with `python -m geo.grid.shipped_build`"
    table = shipped.read(run_key)
    # one row per substation, none per voltage level (geo.grid.levels)
    subs = osm_graph.substations
    assert table is not None and len(table) == int(subs["level_of"].isna().sum()) < len(subs)


@pytest.mark.slow
@pytest.mark.us_grid
def test_the_whole_shipped_osm_table_equals_a_full_recompute(osm_graph, osm_us_layers):
    run_key = shipped.key(osm_graph, grid.plants_hash(osm_us_layers["plants"]), Settings())
    table = shipped.read(run_key)
    fresh = grid.metrics(osm_graph, osm_us_layers["plants"], Settings(use_cache=False))
    _same_table(fresh, table)


@pytest.mark.slow
@pytest.mark.us_grid
def test_the_whole_shipped_table_equals_a_full_recompute(us_graph, us_layers, table):
    fresh = grid.metrics(us_graph, us_layers["plants"], Settings(use_cache=False))
    _same_table(fresh, table)


def _same_table(fresh: pd.DataFrame, table: pd.DataFrame) -> None:
    assert fresh.index.tolist() == table.index.tolist()
    for col in (*NUMBERS, "backbone_km", "voltage_kv"):
        np.testing.assert_allclose(fresh[col].to_numpy(float), table[col].to_numpy(float),
                                   rtol=1e-7, atol=1e-6, err_msg=col)
    for col in (*LABELS, "redundancy", "name"):
        a = fresh[col].astype(object).where(fresh[col].notna(), None).tolist()
        b = table[col].astype(object).where(table[col].notna(), None).tolist()
        assert a == b, col
    assert {k: v for k, v in fresh.attrs["hosting"].items() if k != "seconds"} == \
        table.attrs["hosting"]
