"""The GeoPackage writer: the sites layer, the provenance table and the column descriptions.

* ``sites``: the features (written by GDAL through pyogrio);
* ``metadata``: the provenance, one row per key with its value as JSON, registered in
  ``gpkg_contents`` as an attributes table so QGIS lists it next to ``sites``;
* ``gpkg_data_columns``: a description (with the unit) of every column of ``sites`` from the
  data dictionary, per the GeoPackage schema extension (registered in ``gpkg_extensions``),
  which GIS software can show as the field's comment.

``gpkg_contents.last_change`` is set from ``generated_at`` (GDAL would write the current
time), so identical sites and provenance give identical bytes.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import geopandas as gpd

from geo.io.output import LAYER, METADATA_TABLE, compact_json

#: The schema extension's tables (GeoPackage 1.3, Annex C), created when GDAL has not.
_SCHEMA_TABLES = (
    "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, "
    "extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, "
    "CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))",
    "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, "
    "column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT, mime_type TEXT, "
    "constraint_name TEXT, CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), "
    "CONSTRAINT gdc_tn UNIQUE (table_name, name))",
    "CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL, "
    "constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, "
    "max NUMERIC, max_is_inclusive BOOLEAN, description TEXT, "
    "CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))",
)
_SCHEMA_EXTENSION = "http://www.geopackage.org/spec/#extension_schema"


def write_gpkg(sites: gpd.GeoDataFrame, tmp: Path, prov: dict[str, Any]) -> None:
    """Write ``sites`` and ``prov`` (with its ``columns`` dictionary) to the GeoPackage ``tmp``."""
    import pyogrio

    tmp.unlink(missing_ok=True)  # GDAL creates the file itself
    pyogrio.write_dataframe(sites, tmp, layer=LAYER, driver="GPKG")
    stamp = _timestamp(prov.get("generated_at"))
    con = sqlite3.connect(tmp)
    try:
        with con:
            con.execute(
                f"CREATE TABLE {METADATA_TABLE} (fid INTEGER PRIMARY KEY AUTOINCREMENT "
                "NOT NULL, key TEXT NOT NULL UNIQUE, value TEXT NOT NULL)"
            )
            con.executemany(
                f"INSERT INTO {METADATA_TABLE} (key, value) VALUES (?, ?)",
                [(k, compact_json(v)) for k, v in prov.items()],
            )
            con.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                "last_change) VALUES (?, 'attributes', ?, ?, ?)",
                (METADATA_TABLE, METADATA_TABLE, "geo-rank provenance (values are JSON)", stamp),
            )
            _describe_columns(con, prov.get("columns") or [])
            con.execute("UPDATE gpkg_contents SET last_change = ?", (stamp,))
    finally:
        con.close()


def _describe_columns(con: sqlite3.Connection, dictionary: list[dict[str, Any]]) -> None:
    """One ``gpkg_data_columns`` row per described column: its description and unit."""
    for ddl in _SCHEMA_TABLES:
        con.execute(ddl)
    con.executemany(
        "INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, "
        "definition, scope) VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')",
        [(table, _SCHEMA_EXTENSION) for table in ("gpkg_data_columns",
                                                   "gpkg_data_column_constraints")],
    )
    rows = []
    for entry in dictionary:
        unit = entry.get("unit")
        text = entry.get("description", "") + (f" [{unit}]" if unit else "")
        rows.append((LAYER, entry["name"], entry["name"], text))
    con.executemany(
        "INSERT INTO gpkg_data_columns (table_name, column_name, name, description) "
        "VALUES (?, ?, ?, ?)", rows)


def _timestamp(generated_at: Any) -> str:
    """``gpkg_contents.last_change`` from ``generated_at`` (fixed, so output is repeatable)."""
    try:
        when = dt.datetime.fromisoformat(str(generated_at)).astimezone(dt.UTC)
    except ValueError:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
