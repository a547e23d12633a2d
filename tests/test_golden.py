"""Golden outputs: the main job, an H3 surface and the grid export do not change by accident.

The files in ``tests/data/golden`` were recorded before a refactor (see its README); a change
meant to alter results re-records them in the same commit.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.cli import cli

GOLDEN = Path(__file__).parent / "data" / "golden"
#: Provenance keys that legitimately differ between two runs.
VOLATILE = {"generated_at", "version", "python"}
#: The data dictionary (geo/schemas/sites.csv), added to the metadata after the recording;
#: checked against the features instead.
DICTIONARY = "columns"


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("golden")
    path = root / "geo-rank.toml"
    path.write_text(f'cache_dir = "{root / "cache"}"\n')
    return path


def _invoke(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["-q", *args])
    assert result.exit_code == 0, result.output


def _rank(config: Path, out: Path, region: str, extra: list[str]) -> None:
    for fmt in ("geojson", "csv"):
        _invoke(["rank", "--region", region, "--load-mw", "300", "--no-map", "--format", fmt,
                 "--out", str(out), "--overwrite", "--config", str(config), *extra])


def _same_geojson(path: Path, golden: Path) -> None:
    got, want = (json.loads(p.read_text()) for p in (path, golden))
    assert got["features"] == want["features"], f"{path.name}: features differ from golden"
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
def test_ranking_matches_golden(config, tmp_path, region, extra, stem):
    _rank(config, tmp_path, region, extra)
    assert (tmp_path / f"{stem}.csv").read_bytes() == (GOLDEN / f"{stem}.csv").read_bytes()
    _same_geojson(tmp_path / f"{stem}.geojson", GOLDEN / f"{stem}.geojson")


@pytest.mark.slow
def test_grid_export_matches_golden(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "us_grid.csv"
    _invoke(["grid", "--region", "US", "--export", str(out)])
    want = gzip.decompress((GOLDEN / "us_grid.csv.gz").read_bytes())
    assert out.read_bytes() == want
