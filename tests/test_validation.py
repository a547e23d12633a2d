"""Validation of hand-made bad layer files: one error naming the file, column and rows."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon

from layers import read_layer, validate
from layers.errors import DataSourceError, LayerValidationError


def _subs(**cols):
    base = {"sub_id": ["1", "2", "3"], "voltage_kv": [345.0, 230.0, 138.0]}
    base.update(cols)
    return gpd.GeoDataFrame(base, geometry=[Point(-100, 40), Point(-101, 41), Point(-102, 42)],
                            crs="EPSG:4326")


def test_valid_layer_gets_canonical_columns(tiny_substations):
    out = validate(tiny_substations, "substations")
    assert list(out.columns)[:3] == ["sub_id", "name", "voltage_kv"]
    assert out["n_lines"].isna().all()  # optional columns are added as nulls
    assert out["sub_id"].tolist() == ["a", "b", "c"]


def test_missing_required_column_names_file_and_column(tmp_path):
    path = tmp_path / "subs.geojson"
    _subs().drop(columns=["voltage_kv"]).to_file(path)
    with pytest.raises(LayerValidationError) as err:
        read_layer(path, "substations")
    msg = str(err.value)
    assert str(path) in msg and "voltage_kv" in msg and "columns found: sub_id" in msg


def test_sentinel_only_voltages_are_an_error(tmp_path):
    path = tmp_path / "subs.gpkg"
    _subs(voltage_kv=[-999999, -999999, -999999]).to_file(path)
    with pytest.raises(LayerValidationError, match="'voltage_kv' is empty in every row"):
        read_layer(path, "substations")


def test_text_sentinels_become_nulls():
    out = validate(_subs(name=["NOT AVAILABLE", "", "Alpha"]), "substations")
    assert out["name"].isna().tolist() == [True, True, False]


def test_partial_nulls_name_the_rows():
    gdf = _subs(voltage_kv=[345.0, -999999, None])
    with pytest.raises(LayerValidationError, match=r"'voltage_kv' is null in rows 1, 2"):
        validate(gdf, "substations")


def test_no_crs_is_an_error(tmp_path):
    gdf = _subs().set_crs(None, allow_override=True)
    with pytest.raises(LayerValidationError, match="has no CRS"):
        validate(gdf, "substations", source="x.shp")


def test_latitude_out_of_range():
    gdf = _subs()
    gdf.loc[1, "geometry"] = Point(-100, 200)
    with pytest.raises(LayerValidationError, match=r"outside lon .* in rows 1"):
        validate(gdf, "substations")


def test_projected_layer_is_reprojected():
    gdf = _subs().to_crs("EPSG:5070")
    out = validate(gdf, "substations")
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].x == pytest.approx(-100, abs=1e-6)


def test_wrong_geometry_type():
    gdf = _subs()
    gdf["geometry"] = [Polygon([(0, 0), (1, 0), (1, 1)])] * 3
    with pytest.raises(LayerValidationError, match="must be Point but rows 0, 1, 2 are Polygon"):
        validate(gdf, "substations")


def test_duplicate_ids_and_several_problems_in_one_message():
    gdf = _subs(sub_id=["1", "1", "2"], voltage_kv=[1.0, None, 3.0])
    with pytest.raises(LayerValidationError) as err:
        validate(gdf, "substations")
    msg = str(err.value)
    assert "duplicates in rows 0, 1" in msg and "'voltage_kv' is null in rows 1" in msg
    assert "\n" not in msg


def test_self_intersecting_polygon():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    gdf = gpd.GeoDataFrame({"field_id": ["f"], "name": ["F"]}, geometry=[bowtie], crs=4326)
    with pytest.raises(LayerValidationError, match=r"invalid .*polygons in rows 0"):
        validate(gdf, "gas_fields")


def test_lines_need_linestrings():
    gdf = gpd.GeoDataFrame({"line_id": ["l"], "voltage_kv": [230]},
                           geometry=[LineString([(0, 0), (1, 1)])], crs=4326)
    assert validate(gdf, "lines")["voltage_kv"].iloc[0] == 230.0


def test_csv_with_bom_and_semicolons(tmp_path):
    path = tmp_path / "subs.csv"
    path.write_bytes("\ufeffsub_id;Latitude;Longitude;voltage_kv\nx;40.5;-100.25;230\n"
                     .encode())
    out = read_layer(path, "substations")
    assert out.geometry.iloc[0].y == 40.5 and out["voltage_kv"].iloc[0] == 230.0


def test_missing_and_empty_and_garbage_files(tmp_path):
    with pytest.raises(DataSourceError, match="no such file"):
        read_layer(tmp_path / "nope.geojson", "substations")
    empty = tmp_path / "empty.geojson"
    empty.write_text("")
    with pytest.raises(DataSourceError, match="is empty"):
        read_layer(empty, "substations")
    junk = tmp_path / "junk.geojson"
    junk.write_text("this is not json")
    with pytest.raises(DataSourceError, match="not a readable spatial file"):
        read_layer(junk, "substations")


def test_errors_subclass_builtins():
    assert issubclass(LayerValidationError, ValueError)
    assert issubclass(DataSourceError, OSError)
