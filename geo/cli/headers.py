"""The first lines that say what the grid is (no imports: the fast ``geo-rank grid --json``
path, :mod:`geo.cli.grid_fast`, reads them without loading the tables' dependencies)."""

#: The first line of the table when the grid is the embedded test system (issue 15).
SYNTHETIC_HEADER = ("grid: the embedded USA TAMU synthetic test system (real sites, synthetic "
                    "topology and ratings): months and firm MW show the method, not the real "
                    "grid")
#: The first line of the table on the embedded OpenStreetMap grid (grid_source osm-2016).
OSM_HEADER = ("grid: OpenStreetMap 2016 topology (real lines and substations; voltages partly "
              "inferred, ratings estimated, lines assumed {share:.0%} loaded): hosting and "
              "firm MW are estimates. © OpenStreetMap contributors (ODbL 1.0)")
