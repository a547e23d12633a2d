"""An island's POIs screened in runs of batches (geo.grid.island_runs): worker processes give
the same bits as one process, the runs' LODF store is paged, and a worker's error reaches
the caller."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo import grid
from geo.errors import GridError
from geo.grid import hosting, island_runs
from geo.grid.lodf import Lodf
from geo.settings import Settings
from tests.test_flowshift import meshed_grid


def _hosting(seed: int, workers: int, batch: int = 2):
    subs, lines, plants = meshed_grid(seed)
    settings = Settings(use_cache=False, hosting_batch=batch, grid_workers=workers)
    g = grid.build(subs, lines, settings)
    reuse: dict = {}
    out = hosting.hosting(g, plants, settings, reuse=reuse)
    return out, hosting.self_ptdf(g, reuse)


@pytest.mark.parametrize("seed", [0, 3])
def test_two_worker_processes_give_the_bits_of_one(seed, caplog):
    one, pkk_one = _hosting(seed, workers=1)
    # 40 POIs in batches of 2: runs of 16 POIs, three runs, shared by two workers
    assert len(island_runs.parts(one.attrs["report"]["computed"], 2)) == 3
    with caplog.at_level("INFO", logger="geo.grid.hosting"):
        two, pkk_two = _hosting(seed, workers=2)
    assert "3 runs, 2 worker process(es)" in caplog.text
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert np.array_equal(pkk_one, pkk_two, equal_nan=True)
    assert np.isfinite(pkk_one).all()          # every edge's own PTDF, runs' or solved
    for key in ("n1_lodf_solves", "n1_lodf_from_poi_pairs", "n1_outages_screened",
                "n1_flow_shift_checks", "n1_bridges_not_modelled"):
        assert one.attrs["report"][key] == two.attrs["report"][key], key


def _stored_groups(monkeypatch) -> list[np.ndarray]:
    """The edges of every group of LODF columns a store keeps, as they are kept."""
    groups: list[np.ndarray] = []
    keep = Lodf._keep

    def spy(self, ks, page):
        groups.append(np.array(ks))
        return keep(self, ks, page)

    monkeypatch.setattr(Lodf, "_keep", spy)
    return groups


def _whole_pages(groups: list[np.ndarray], batch: int) -> bool:
    return all(g[0] % batch == 0 and np.array_equal(g, np.arange(g[0], g[0] + len(g)))
               for g in groups)


def test_runs_use_a_paged_store_and_agree_with_one_walk(monkeypatch):
    groups = _stored_groups(monkeypatch)
    runs, _ = _hosting(1, workers=1)
    # every column kept came with its whole page (batch 2: edges 2p and 2p + 1)
    assert groups and _whole_pages(groups, 2)
    groups.clear()
    monkeypatch.setattr(island_runs, "RUN_BATCHES", 10**6)
    walk, _ = _hosting(1, workers=1)
    assert not _whole_pages(groups, 2)      # one walk solves only what it needs
    text = [c for c in walk.columns if walk[c].dtype.kind not in "fi"]
    pd.testing.assert_frame_equal(runs[text], walk[text])
    numbers = [c for c in walk.columns if c not in text]
    pd.testing.assert_frame_equal(runs[numbers], walk[numbers], rtol=1e-9, atol=1e-9)


def test_a_worker_s_error_reaches_the_caller():
    job = island_runs.Job(hosting._island, {"nodes": np.array([0, 1])}, slice(0, 1),
                          True)                                        # arguments missing
    with pytest.raises(TypeError, match="_island"):
        list(island_runs.results([job, job], 2, {}))
    with pytest.raises(TypeError, match="_island"):
        list(island_runs.results([job], 1, {}))


def test_the_worker_count_is_the_setting_or_the_cores_never_above_the_runs():
    assert island_runs.workers(4, 3) == 3
    assert island_runs.workers(1, 10) == 1
    assert 1 <= island_runs.workers(None, 2) <= 2
    assert Settings().grid_workers is None
    with pytest.raises(ValueError, match="grid_workers"):
        Settings(grid_workers=0)


def test_a_worker_that_dies_is_a_grid_error(monkeypatch):
    monkeypatch.setattr(island_runs, "WORKER", "import os; os._exit(3)")
    job = island_runs.Job(hosting._island, {}, slice(0, 1), True)
    with pytest.raises(GridError, match="exit code 3"):
        list(island_runs.results([job, job], 2, {}))


def test_a_page_solved_by_one_process_is_read_by_the_other(tmp_path):
    subs, lines, plants = meshed_grid(2)
    settings = Settings(use_cache=False, hosting_batch=4)
    g = grid.build(subs, lines, settings)
    reuse: dict = {}
    hosting.hosting(g, plants, settings, sub_ids=[str(g.substations["sub_id"].iloc[0])],
                    reuse=reuse)
    key = next(k for k in reuse if isinstance(k, tuple) and k[0] == "island")
    lu, circ, table, _, _ = reuse[key]

    def store(solve) -> Lodf:
        return Lodf(solve=solve, red=table.red, eu=table.eu, ev=table.ev, bl=table.bl,
                    flows=table.flows, circ=circ, settings=settings, paged=True,
                    page_dir=str(tmp_path))

    first = store(lu.solve)
    first.ensure(np.array([5]))                   # page 4..7, solved and written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["4.npz"]

    def no_solve(_):
        raise AssertionError("page 4 is in the folder: no solve")

    second = store(no_solve)
    second.ensure(np.array([6]), pkk_only=True)
    assert second.solves == 0 and first.solves == 4
    for name in ("pkk", "pkk_known", "pmax", "own"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name
    for part in ("cols", "rows"):
        a, b = getattr(first, part), getattr(second, part)
        for edges in (np.arange(4, 8),):
            for x, y in zip(a.gather(edges), b.gather(edges), strict=True):
                assert np.array_equal(x, y), part
    with pytest.raises(AssertionError, match="no solve"):
        second.ensure(np.array([9]))              # page 8..11 is not there
