"""layers/build/world_plants.py: GPPD rows -> data/osm/<cc>/plants.parquet."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pytest

from layers.build import world_plants
from layers.errors import DataSourceError, LayerValidationError
from layers.paths import data_dir

HEADER = ("country,gppd_idnr,name,capacity_mw,latitude,longitude,primary_fuel,"
          "commissioning_year,source\n")
ROWS = """\
NOR,WRI1003000,Tonstad,960,58.66,6.72,Hydro,1968,ENTSOE
NOR,WRI1002991,Abjora,86,61.37,5.86,Hydro,,ENTSOE
CAN,CAN0000001,Bruce,6232,44.33,-81.60,Nuclear,1977,NRCan
CAN,WKS0000009,Sun farm,10,43.0,-80.0,Solar,,Wiki-Solar
MEX,MEX0000001,Tuxpan,2100,21.0,-97.3,Oil,,CFE
MEX,MEX0000002,Cerro Prieto,570,32.4,-115.2,Geothermal,,CFE
ETH,WRI1000066,Ashegoda,120,13.4,39.6,Wind,,World Bank
BTN,GEODB0040472,Chhukha,336,27.11,89.53,Hydro,,GEODB
MYS,WRI1000272,Patau-Patau,112,5.9,116.0,Gas,,ST
MYS,WRI1000300,Kapar,2420,3.1,101.4,Coal,,ST
MYS,WRI1000301,Mill,12,3.0,101.0,Biomass,,ST
MYS,WRI1000302,Refinery,50,3.0,101.0,Petcoke,,ST
"""


def _write(tmp_path, text, comment=True):
    path = tmp_path / "table.csv"
    path.write_text(("# GPPD v1.3.0 test rows, CC BY 4.0\n" if comment else "") + text)
    return path


def test_fixture_builds_one_file_per_country_with_fuels_and_ids(tmp_path):
    out = tmp_path / "data"
    written = world_plants.build(tmp_path, out, table=_write(tmp_path, HEADER + ROWS))
    assert [p.relative_to(out).as_posix() for p in written] == [
        f"osm/{cc}/plants.parquet" for cc in ("bt", "ca", "et", "mx", "my", "no")]
    no = gpd.read_parquet(out / "osm/no/plants.parquet")
    assert list(no.plant_id) == ["WRI1002991", "WRI1003000"]  # sorted by id
    assert list(no.columns[:8]) == ["plant_id", "name", "fuel", "capacity_mw", "base_output_mw",
                                    "online_capacity_mw", "sub_id", "geometry"]
    assert no.crs.to_epsg() == 4326
    assert (no.geometry.x.round(2).tolist(), no.geometry.y.round(2).tolist()) == (
        [5.86, 6.72], [61.37, 58.66])
    assert no.base_output_mw.isna().all() and no.online_capacity_mw.isna().all()
    assert no.sub_id.isna().all()
    fuels = {cc: dict(zip(g.plant_id, g.fuel, strict=True)) for cc, g in (
        (cc, gpd.read_parquet(out / f"osm/{cc}/plants.parquet")) for cc in ("ca", "mx", "my"))}
    assert fuels["ca"] == {"CAN0000001": "nuclear", "WKS0000009": "solar"}
    assert fuels["mx"] == {"MEX0000001": "oil", "MEX0000002": "geothermal"}
    assert fuels["my"] == {"WRI1000272": "gas", "WRI1000300": "coal", "WRI1000301": "other",
                           "WRI1000302": "oil"}
    assert gpd.read_parquet(out / "osm/bt/plants.parquet").capacity_mw.tolist() == [336.0]


def test_same_input_same_bytes(tmp_path):
    table = _write(tmp_path, HEADER + ROWS)
    a = world_plants.build(tmp_path, tmp_path / "a", table=table)
    b = world_plants.build(tmp_path, tmp_path / "b", table=table)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_missing_column_is_a_one_line_error(tmp_path):
    table = _write(tmp_path, (HEADER + ROWS).replace("capacity_mw", "mw", 1))
    with pytest.raises(LayerValidationError, match=r"missing column\(s\) capacity_mw$"):
        world_plants.build(tmp_path, tmp_path / "out", table=table)


def test_missing_column_through_the_build_cli_exits_2_with_one_line(tmp_path):
    table = _write(tmp_path, (HEADER + ROWS).replace("latitude", "lat", 1))
    code = (f"import sys; from pathlib import Path; from layers.build import world_plants as w;"
            f"w.TABLE = Path({str(table)!r});"
            f"sys.exit(w.main(['--out', {str(tmp_path / 'out')!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"layers.build.world_plants: error: {table}: missing column(s) latitude"]


@pytest.mark.parametrize(("edit", "error", "message"), [
    (lambda t: t.replace(",Hydro,1968,", ",Peat,1968,"), DataSourceError, "unmapped GPPD fuels"),
    (lambda t: t.replace("ETH,WRI1000066", "SWE,WRI1000066"), DataSourceError, "not built here"),
    (lambda t: t.replace("BTN,GEODB0040472,Chhukha,336,27.11,89.53,Hydro,,GEODB\n", ""),
     DataSourceError, r"no plants for \['BTN'\]"),
    (lambda t: t.replace("WRI1000301", "WRI1000300"), DataSourceError, "repeated gppd_idnr"),
    (lambda t: t.replace(",960,58.66,", ",960,,"), LayerValidationError, "rows 2"),
])
def test_bad_rows_are_refused(tmp_path, edit, error, message):
    table = _write(tmp_path, HEADER + edit(ROWS))
    with pytest.raises(error, match=message):
        world_plants.build(tmp_path, tmp_path / "out", table=table)


def test_vendored_table_gives_the_committed_files(tmp_path):
    written = world_plants.build(tmp_path, tmp_path)
    counts = {p.parent.name: len(gpd.read_parquet(p)) for p in written}
    assert counts == {"bt": 5, "ca": 1159, "et": 13, "mx": 277, "my": 55, "no": 306}
    for path in written:
        rel = path.relative_to(tmp_path)
        assert gpd.read_parquet(path).to_wkb().equals(
            gpd.read_parquet(data_dir() / rel).to_wkb()), rel
    hydro = gpd.read_parquet(tmp_path / "osm/no/plants.parquet").query("fuel == 'hydro'")
    assert round(hydro.capacity_mw.sum(), 1) == 30474.0
