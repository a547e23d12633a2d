"""EIA-860, EIA Power Plants, EIA shale plays and generic adapters on their fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from layers import adapters
from layers.errors import DataSourceError, LayerValidationError

DATA = Path(__file__).parent / "data"
PLANT_XLSX = DATA / "eia" / "2___Plant_Y2023.xlsx"
GEN_XLSX = DATA / "eia" / "3_1_Generator_Y2023.xlsx"
SHALE = DATA / "shale" / "ShalePlays_US_EIA_Dec2021.shp"


@pytest.mark.parametrize("path", [PLANT_XLSX, GEN_XLSX], ids=["plant", "generator"])
def test_eia860_pair(path):
    plants = adapters.read(path, "plants")
    assert plants.attrs["source_format"] == "eia860"
    by_id = plants.set_index("plant_id")
    assert by_id.loc["154-hydro", "capacity_mw"] == pytest.approx(328.5)  # 3 generators
    assert by_id.loc["154-hydro", "grid_voltage_kv"] == 230.0
    assert by_id.loc["55077-gas", "capacity_mw"] == pytest.approx(1102.0)
    assert by_id.loc["55077-solar", "fuel"] == "solar"
    assert by_id.loc["8224-pumped_storage", "fuel"] == "pumped_storage"  # WAT, but storage
    assert plants.attrs["report"]["plants_without_location"] == 1  # footnote row not a plant
    assert len(plants) == 4


def test_eia860_needs_both_workbooks(tmp_path):
    shutil.copy(PLANT_XLSX, tmp_path)
    with pytest.raises(DataSourceError, match="both the plant and the generator"):
        adapters.read(tmp_path / PLANT_XLSX.name, "plants")


def test_eia_power_plants_layer():
    path = DATA / "eia" / "Power_Plants.csv"
    assert adapters.detect_file(path) == "eia_plants"
    plants = adapters.read(path, "plants").set_index("plant_id")
    assert plants.loc["154-hydro", "capacity_mw"] == pytest.approx(1039.4)
    assert plants.loc["56150-gas", "capacity_mw"] == 599.0
    assert plants.loc["56150-solar", "capacity_mw"] == 0.5
    assert len(plants) == 5


def test_shale_plays_as_gas_fields():
    assert adapters.detect_file(SHALE) == "eia_shale"
    fields = adapters.read(SHALE, "gas_fields")
    assert fields.crs.to_epsg() == 4326  # from NAD83
    assert fields["field_id"].tolist() == ["Permian/Wolfcamp", "Appalachian/Marcellus",
                                           "Denver-Julesburg/Niobrara"]
    assert (fields["kind"] == "play").all() and fields.is_valid.all()
    assert fields.attrs["report"]["repaired_geometries"] == 1  # the bow tie


def test_generic_csv_with_column_map():
    path = DATA / "generic" / "substations.csv"
    assert adapters.detect_file(path) == "generic"
    subs = adapters.read(path, "substations",
                         column_map={"sub_id": "SUB", "name": "Station", "voltage_kv": "KV_MAX"})
    assert subs["sub_id"].tolist() == ["g1", "g2"]  # g3 has no voltage: left out, reported
    assert subs.attrs["report"]["left_out_without_voltage"] == ["g3"]
    with pytest.raises(LayerValidationError, match="KV_MIN"):
        adapters.read(path, "substations", column_map={"voltage_kv": "KV_MIN"})


def test_generic_land_prices_per_hectare():
    prices = adapters.read(DATA / "generic" / "land_values.geojson", "land_prices", "generic",
                           {"price_usd_per_hectare": "usd_per_ha", "name": "zone"})
    assert prices["price_usd_per_acre"].round().tolist() == [5000.0, 1000.0]


def test_unknown_format_and_wrong_kind():
    with pytest.raises(LayerValidationError, match="use one of"):
        adapters.read(SHALE, "gas_fields", source_format="arcgis")
    with pytest.raises(LayerValidationError, match="not lines"):
        adapters.read(SHALE, "lines")
