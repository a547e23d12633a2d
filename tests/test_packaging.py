"""What a user installs: the built wheel, with no extras, in a fresh virtual environment.

The wheel is built from this checkout and installed with its dependencies (the newest
releases the package index offers, as ``pip install geo-rank`` would give) into a venv of
its own, so the test works from any interpreter the README is followed in: a venv, a
conda env or the system Python. Nothing of the running environment is reused. Then the
installed ``geo-rank`` runs from another folder: the embedded layers, and the
bring-your-own path on the HIFLD-format and OSM-format fixtures.

Those tests are marked ``network`` (they install from the package index): deselected by
default, run by ``.ci/run`` and by ``python -m pytest -m network``. The lower bounds CI's
"oldest" environment pins are checked against pyproject.toml without the network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
OSM = str(DATA / "osm" / "norway_overpass.json")

CONSTRAINTS = ROOT / ".ci" / "constraints-oldest.txt"


def test_oldest_constraints_pin_every_lower_bound_of_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for extra in ("test", "crosscheck")
             for r in project["optional-dependencies"][extra] if not r.startswith("geo-rank")]
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", CONSTRAINTS.read_text("utf-8"),
                           re.MULTILINE))
    for req in reqs:
        (low,) = [s.version for s in req.specifier if s.operator == ">="]
        assert req.name in pins, f"{CONSTRAINTS.name} does not pin {req.name}"
        assert Version(pins[req.name]) == Version(low), \
            f"{req.name}: pyproject.toml says >={low}, {CONSTRAINTS.name} pins {pins[req.name]}"


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{args[:3]}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """A fresh venv holding the wheel and its dependencies; where to run it, and how."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    # --no-build-isolation: the build backend (hatchling, in the test extra) is already here
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", dist, ROOT])
    wheel = next(dist.glob("geo_rank-*.whl"))
    env_dir = root / "venv"
    venv.create(env_dir, system_site_packages=False, with_pip=True, clear=True)
    py = env_dir / "bin" / "python"
    _run([py, "-m", "pip", "install", "-q", wheel])  # no extras, dependencies from the index
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["XDG_CACHE_HOME"] = str(root / "cache")  # the grid cache of this install only
    return {"env_dir": env_dir, "py": py, "exe": env_dir / "bin" / "geo-rank",
            "cwd": elsewhere, "env": env}


def _geo_rank(installed: dict, *args: str) -> subprocess.CompletedProcess:
    return _run([installed["exe"], *args], cwd=installed["cwd"], env=installed["env"])


@pytest.mark.network
@pytest.mark.slow
def test_the_wheel_brings_its_dependencies_and_nothing_of_this_environment(installed):
    probe = _run([installed["py"], "-c",
                  "import sys, pandas, layers.paths as p; "
                  "print(p.data_dir()); print(pandas.__version__); print(sys.path)"],
                 cwd=installed["cwd"], env=installed["env"])
    data, pandas_version, path = probe.stdout.strip().splitlines()
    assert installed["env_dir"] in Path(data).parents, f"data read from {data}"
    assert (Path(data) / "SOURCES.md").is_file()
    assert str(ROOT) not in path  # the checkout is not on the path
    print(f"fresh install: pandas {pandas_version}")  # shown in CI's log (-rA / -s)


@pytest.mark.network
@pytest.mark.slow
def test_installed_wheel_finds_every_embedded_layer(installed, us_substation_count):
    doc = json.loads(_geo_rank(installed, "layers", "--region", "US", "--json",
                               "--grid", "tamu-synthetic").stdout)
    assert doc["substations"]["count"] == us_substation_count
    assert doc["countries"]["count"] > 200
    assert doc["land_prices"]["raster"] == "us/land_prices.tif"
    for region, path in (("US", "osm/us/substations.parquet"),
                         ("NO", "osm/no/substations.parquet")):
        doc = json.loads(_geo_rank(installed, "layers", "--region", region, "--json").stdout)
        assert doc["substations"]["file"] == path and doc["substations"]["count"] > 100
        assert doc["plants"]["count"] > 100


@pytest.mark.network
@pytest.mark.slow
def test_installed_wheel_snaps_hifld_line_ends(installed):
    doc = json.loads(_geo_rank(
        installed, "grid", "--region", "US-NV",
        "--substations", str(DATA / "hifld" / "substations.geojson"),
        "--lines", str(DATA / "hifld" / "lines.geojson"), "--json").stdout)
    assert doc["inputs"]["lines"]["format"] == "hifld"
    assert doc["snapped_line_ends"] == 19 and doc["unsnapped_line_ends"] == 1
    assert doc["unsnapped_line_ids"] == ["200011"]
    # 7 substations, 2 lower voltage levels, 10 lines and 2 estimated banks (geo.grid.levels)
    assert (doc["nodes"], doc["lines"], doc["edges"]) == (9, 12, 10)


@pytest.mark.network
@pytest.mark.slow
def test_installed_wheel_ranks_norway_from_osm_as_eu_eea(installed):
    out = installed["cwd"] / "no"
    _geo_rank(installed, "-q", "--region", "NO", "--substations", OSM, "--lines", OSM,
              "--plants", OSM, "--out", str(out), "--no-map")
    doc = json.loads(next(out.glob("*.geojson")).read_text("utf-8"))
    props = [f["properties"] for f in doc["features"]]
    assert len(props) == 5
    assert {p["sovereignty_bloc"] for p in props} == {"EU/EEA"}
    assert {p["country_iso3"] for p in props} == {"NOR"}
    assert all(p["data_regime"].startswith("GDPR") for p in props)
    # tier B: no greenfield site is within 24 months once the campus transformers' lead
    # (campus_transformer_lead_months, 34.6) is counted
    assert props[0]["tier"] == "B" and props[0]["hosting_mw"] > 300
    assert props[0]["power_binding"] == "campus transformers"
