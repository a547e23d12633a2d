"""Outputs as files: GeoJSON, GeoParquet, GeoPackage, CSV, GeoTIFF and the partitioned dataset."""
