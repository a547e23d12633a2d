"""The table of layer kinds (``layers/kinds.csv``): adding a kind is one row plus its schema.

A toy kind in a temporary table must reach :func:`layers.load`, ``--layers-dir`` detection,
its own CLI flag and ``geo-rank layers`` with no other edit.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

import layers
from layers import byo, catalog, kinds, schema
from layers.errors import GeoRankError

ROOT = Path(__file__).resolve().parents[1]

WELLS_SCHEMA = """attribute,type,unit,required,minimum,description
well_id,str,,true,,Well identifier
depth_m,float,m,false,0,Depth of the well
geometry,geometry:Point,,true,,Location in EPSG:4326
"""
#: Two wells in Rhode Island, one in Texas.
WELLS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"well_id": "w1", "depth_m": 120.0},
     "geometry": {"type": "Point", "coordinates": [-71.45, 41.75]}},
    {"type": "Feature", "properties": {"well_id": "w2", "depth_m": 80.0},
     "geometry": {"type": "Point", "coordinates": [-71.55, 41.60]}},
    {"type": "Feature", "properties": {"well_id": "w3", "depth_m": 300.0},
     "geometry": {"type": "Point", "coordinates": [-97.70, 30.30]}},
]}


def toy_table(folder: Path) -> Path:
    """The real table plus one row, ``water_wells``, with its schema; absolute schema paths."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(kinds.TABLE, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    for r in rows:
        r["schema"] = str(kinds.TABLE.parent / r["schema"])
    (folder / "wells.csv").write_text(WELLS_SCHEMA)
    rows.append({**dict.fromkeys(fields, ""), "kind": "water_wells", "schema": "wells.csv",
                 "title": "water wells", "flag": "--water-wells", "file_words": "well"})
    path = folder / "kinds.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture()
def toy(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(kinds, "TABLE", toy_table(tmp_path / "table"))
    data = tmp_path / "byod"
    data.mkdir()
    (data / "wells.geojson").write_text(json.dumps(WELLS))
    return data


def test_the_table_names_every_schema_and_the_embedded_files():
    names = kinds.names()
    assert set(names) >= {"substations", "lines", "plants", "gas_fields", "land_prices",
                          "countries", "subdivisions"}
    assert {k.schema_path.name for k in kinds.table()} == {
        p.name for p in (ROOT / "layers" / "schemas").glob("*.csv")}
    assert {k.flag for k in kinds.user_kinds()} >= {
        "--substations", "--lines", "--plants", "--gas-fields"}
    assert kinds.with_role("grid") == ("substations", "lines")
    assert [e.kind for e in catalog.entries()][-3:] == ["land_raster", "sovereignty",
                                                         "electricity_prices"]
    assert catalog.entry("lines").status == "synthetic"


def test_a_toy_kind_flows_to_load_and_layers_dir(toy):
    assert kinds.names()[-1] == "water_wells"
    assert kinds.kind_of_file("Water_Wells_2024.gpkg") == "water_wells"
    assert byo.scan_dir(toy) == {"water_wells": toy / "wells.geojson"}
    bundle = layers.load("US-RI", layers_dir=toy)
    assert list(bundle)[-1] == "water_wells"
    assert list(bundle.water_wells["well_id"]) == ["w1", "w2", "w3"]
    assert list(bundle.in_region("water_wells")["well_id"]) == ["w1", "w2"]
    assert bundle.sources["water_wells"]["status"] == "user"
    plain = layers.load("US-RI")  # nothing embedded: an empty layer that says so
    assert len(plain["water_wells"]) == 0
    assert list(plain["water_wells"].columns) == schema.columns("water_wells")
    assert plain.sources["water_wells"]["source"] == "none (no embedded layer of this kind)"


def test_a_toy_kind_gets_its_cli_flag_and_a_line_in_geo_rank_layers(toy, tmp_path):
    """In a fresh interpreter (click options are built when the commands are imported)."""
    script = f"""
import json, sys
from pathlib import Path
from click.testing import CliRunner
import layers.kinds
layers.kinds.TABLE = Path({str(kinds.TABLE)!r})
from geo.cli.app import cli
out = {{}}
for name, args in (("flag", ["layers", "--region", "US-RI", "--water-wells",
                             {str(toy / "wells.geojson")!r}, "--json"]),
                   ("dir", ["layers", "--region", "US-RI", "--layers-dir", {str(toy)!r},
                            "--json"]),
                   ("help", ["layers", "--help"])):
    r = CliRunner().invoke(cli, args)
    out[name] = [r.exit_code, r.output]
print(json.dumps(out))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    out = json.loads(proc.stdout)
    assert all(code == 0 for code, _ in out.values()), out
    for name in ("flag", "dir"):
        doc = json.loads(out[name][1])
        assert doc["water_wells"]["count"] == 3 and doc["water_wells"]["status"] == "user"
        assert doc["quality"]["water_wells"]["format"] == "generic"
    assert "--water-wells" in out["help"][1] and "Your water wells file" in out["help"][1]


def test_layers_needs_a_frame_for_every_kind():
    frames = {k: schema.empty(k) for k in kinds.names() if k != "lines"}
    with pytest.raises(GeoRankError, match="missing lines"):
        layers.Layers("US-T", ("US-T",), frames, None)


@pytest.mark.parametrize(("change", "message"), [
    ({"flag": "--lines"}, "duplicate flag --lines"),
    ({"kind": "lines"}, "duplicate kind lines"),
    ({"embedded": "eu"}, "embedded 'eu'"),
    ({"schema": "nowhere.csv"}, "no schema file"),
    ({"role": "boundary"}, "a boundary kind takes no user file"),
])
def test_a_broken_table_is_one_error_naming_the_row(tmp_path, monkeypatch, change, message):
    path = toy_table(tmp_path)
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    rows[-1].update(change)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setattr(kinds, "TABLE", path)
    with pytest.raises(GeoRankError, match=message):
        kinds.table()
