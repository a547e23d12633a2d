"""Golden outputs: the main job, an H3 surface and the grid export do not change by accident.

The files in ``tests/data/golden`` were recorded before a refactor (see its README); a change
meant to alter results re-records them in the same commit.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).parent / "data" / "golden"
#: Provenance keys that legitimately differ between two runs.
VOLATILE = {"generated_at", "version", "python"}
#: The data dictionary (geo/schemas/sites.csv), added to the metadata after the recording;
#: checked against the features instead.
DICTIONARY = "columns"
#: Hosting capacities come out of a sparse LU solve; SciPy/BLAS builds (CI's oldest and
#: newest environments) round the last bits differently (seen: 1.3e-14 relative). Every
#: other value, all text and the row order must match exactly.
FLOAT_RTOL = 1e-9


def _same(got: Any, want: Any) -> bool:
    """Equal, with floats (and numbers written as text) equal to FLOAT_RTOL."""
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(
            _same(got[k], want[k]) for k in want)
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            _same(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, float) and isinstance(got, float):
        return math.isclose(got, want, rel_tol=FLOAT_RTOL, abs_tol=FLOAT_RTOL)
    if isinstance(want, str) and isinstance(got, str) and got != want:
        try:
            return "." in want and _same(float(got), float(want))
        except ValueError:
            return False
    return got == want


def _same_csv(got: bytes, want: bytes, name: str) -> None:
    if got == want:
        return
    rows = [list(csv.reader(io.StringIO(b.decode("utf-8")))) for b in (got, want)]
    assert _same(rows[0], rows[1]), f"{name}: differs from golden"


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("golden")
    path = root / "geo-rank.toml"
    path.write_text(f'cache_dir = "{root / "cache"}"\n')
    return path


def _invoke(geo_rank, args: list[str]) -> None:
    result = geo_rank("-q", *args)
    assert result.exit_code == 0, result.output


def _rank(geo_rank, config: Path, out: Path, region: str, extra: list[str]) -> None:
    for fmt in ("geojson", "csv"):
        _invoke(geo_rank,
                ["rank", "--region", region, "--load-mw", "300", "--no-map", "--format", fmt,
                 "--out", str(out), "--overwrite", "--config", str(config), *extra])


def _same_geojson(path: Path, golden: Path) -> None:
    got, want = (json.loads(p.read_text()) for p in (path, golden))
    assert _same(got["features"], want["features"]), f"{path.name}: features differ from golden"
    described = [entry["name"] for entry in got["metadata"][DICTIONARY]]
    assert described == list(got["features"][0]["properties"])
    got_meta = {k: v for k, v in got["metadata"].items() if k not in VOLATILE | {DICTIONARY}}
    want_meta = {k: v for k, v in want["metadata"].items() if k not in VOLATILE | {DICTIONARY}}
    assert got_meta == want_meta, f"{path.name}: metadata differs from golden"


@pytest.mark.slow
@pytest.mark.parametrize(("region", "extra", "stem"), [
    ("US-TX", [], "us-tx_sites"),
    ("US-RI", ["--candidates", "h3:5", "--all-candidates"], "us-ri_sites"),
])
def test_ranking_matches_golden(config, tmp_path, region, extra, stem, geo_rank):
    _rank(geo_rank, config, tmp_path, region, extra)
    _same_csv((tmp_path / f"{stem}.csv").read_bytes(), (GOLDEN / f"{stem}.csv").read_bytes(),
              f"{stem}.csv")
    _same_geojson(tmp_path / f"{stem}.geojson", GOLDEN / f"{stem}.geojson")


@pytest.mark.slow
def test_grid_export_matches_golden(monkeypatch, tmp_path, geo_rank):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "us_grid.csv"
    _invoke(geo_rank, ["grid", "--region", "US", "--export", str(out)])
    want = gzip.decompress((GOLDEN / "us_grid.csv.gz").read_bytes())
    _same_csv(out.read_bytes(), want, "us_grid.csv")
