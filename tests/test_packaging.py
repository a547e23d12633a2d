"""The wheel carries its data: install it into a fresh venv and run it from elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_installed_wheel_finds_every_embedded_layer(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(dist.glob("geo_rank-*.whl"))
    env_dir = tmp_path / "venv"
    # system site packages provide the dependencies; the wheel itself is installed fresh
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    py = env_dir / "bin" / "python"
    # --ignore-installed: a geo-rank already in the system site-packages (CI installs one)
    # must not satisfy the requirement; the wheel goes into this venv
    subprocess.run([py, "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q",
                    str(wheel)], check=True,
                   capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = subprocess.run(
        [py, "-c", "import layers._paths as p; print(p.data_dir())"],
        cwd=elsewhere, capture_output=True, text=True, check=True, env=env,
    )
    data = Path(probe.stdout.strip())
    assert env_dir in data.parents, f"data read from {data}, not from the installed wheel"
    out = subprocess.run(
        [env_dir / "bin" / "geo-rank", "layers", "--region", "US", "--json"],
        cwd=elsewhere, capture_output=True, text=True, check=True, env=env,
    )
    doc = json.loads(out.stdout)
    assert doc["substations"]["count"] == 41_083
    assert doc["countries"]["count"] > 200
    assert doc["land_prices"]["raster"] == "us/land_prices.tif"
    assert (data / "SOURCES.md").is_file()
