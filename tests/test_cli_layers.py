"""``geo-rank layers`` through click's CliRunner and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys


def test_layers_json_reports_counts_and_sources(geo_rank, us_substation_count):
    result = geo_rank("layers", "--region", "US", "--json", "--grid", "tamu-synthetic")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) >= {"substations", "lines", "plants", "gas_fields", "land_prices",
                        "countries", "subdivisions"}
    assert doc["substations"]["count"] == us_substation_count
    assert "TAMU" in doc["substations"]["source"]
    assert doc["substations"]["status"] == "synthetic"
    assert doc["plants"]["by_fuel"]["hydro"] == 857
    assert doc["plants"]["by_fuel"]["gas"] == 1_541
    assert doc["land_prices"]["count"] == 49
    assert doc["gas_fields"]["count"] == 15
    assert all("count" in v and "source" in v for v in doc.values())


def test_layers_text_says_what_is_synthetic(geo_rank, us_substation_count):
    result = geo_rank("layers", "--grid", "tamu-synthetic")
    assert result.exit_code == 0
    assert "synthetic topology" in result.output
    assert f"{us_substation_count:,}" in result.output


def test_layers_default_to_the_openstreetmap_grid_with_its_attribution(geo_rank):
    result = geo_rank("layers", "--region", "NO", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["substations"]["count"] == 317              # 108 substations, 209 junctions
    assert doc["lines"]["licence"] == "ODbL 1.0" and "GridKit" in doc["lines"]["source"]
    assert doc["plants"]["by_fuel"]["hydro"] > 250          # WRI GPPD, Norway
    text = geo_rank("layers", "--region", "NO").output
    assert "© OpenStreetMap contributors" in text and "synthetic" not in text


def test_unknown_region_is_one_line_exit_2(geo_rank):
    result = geo_rank("layers", "--region", "Atlantis")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("geo-rank: error: unknown region 'Atlantis'; valid regions: US,")
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback():
    proc = subprocess.run([sys.executable, "-m", "geo", "--debug", "layers", "--region", "XX"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "RegionError" in proc.stderr
