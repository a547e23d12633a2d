"""Write the tiny EIA-860 fixture pair with openpyxl, in the layout EIA publishes.

``eia/2___Plant_Y2023.xlsx`` (sheet ``Plant``) and ``eia/3_1_Generator_Y2023.xlsx`` (sheet
``Operable``): a title row above the header (the header is on the second row), and the
generator sheet ends with a footnote row. Run ``python tests/data/make_eia.py`` to rewrite.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent / "eia"

PLANT = (
    ["Utility ID", "Utility Name", "Plant Code", "Plant Name", "Street Address", "City",
     "State", "Zip", "County", "Latitude", "Longitude", "NERC Region", "Balancing Authority Code",
     "Grid Voltage (kV)", "Grid Voltage 2 (kV)"],
    [17166, "U S Bureau of Reclamation", 154, "Hoover Dam (NV)", "", "Boulder City", "NV",
     89005, "Clark", 36.0155, -114.7377, "WECC", "WALC", 230, 69],
    [13407, "Nevada Power Co", 55077, "Chuck Lenzie Generating Station", "", "Las Vegas", "NV",
     89165, "Clark", 36.3853, -114.9207, "WECC", "NEVP", 500, None],
    [13407, "Nevada Power Co", 8224, "Example Pumped Storage", "", "Boulder City", "NV",
     89005, "Clark", 35.99, -114.95, "WECC", "NEVP", 230, None],
    [99999, "Nowhere LLC", 99001, "Plant Without Location", "", "", "NV", None, "Nye",
     None, None, "WECC", "NEVP", None, None],
)

GENERATOR = (
    ["Utility ID", "Utility Name", "Plant Code", "Plant Name", "State", "County",
     "Generator ID", "Technology", "Prime Mover", "Unit Code", "Ownership",
     "Nameplate Capacity (MW)", "Summer Capacity (MW)", "Status", "Energy Source 1"],
    [17166, "U S Bureau of Reclamation", 154, "Hoover Dam (NV)", "NV", "Clark", "N1",
     "Conventional Hydroelectric", "HY", None, "S", 130.0, 127.0, "OP", "WAT"],
    [17166, "U S Bureau of Reclamation", 154, "Hoover Dam (NV)", "NV", "Clark", "N2",
     "Conventional Hydroelectric", "HY", None, "S", 130.0, 127.0, "OP", "WAT"],
    [17166, "U S Bureau of Reclamation", 154, "Hoover Dam (NV)", "NV", "Clark", "N8",
     "Conventional Hydroelectric", "HY", None, "S", 68.5, 61.0, "OP", "WAT"],
    [13407, "Nevada Power Co", 55077, "Chuck Lenzie Generating Station", "NV", "Clark", "CT1",
     "Natural Gas Fired Combined Cycle", "CT", "1", "S", 551.0, 500.0, "OP", "NG"],
    [13407, "Nevada Power Co", 55077, "Chuck Lenzie Generating Station", "NV", "Clark", "ST1",
     "Natural Gas Fired Combined Cycle", "CA", "1", "S", 551.0, 500.0, "OP", "NG"],
    [13407, "Nevada Power Co", 55077, "Chuck Lenzie Generating Station", "NV", "Clark", "PV1",
     "Solar Photovoltaic", "PV", None, "S", 1.5, 1.2, "OP", "SUN"],
    [13407, "Nevada Power Co", 8224, "Example Pumped Storage", "NV", "Clark", "PS1",
     "Hydroelectric Pumped Storage", "PS", None, "S", 200.0, 200.0, "OP", "WAT"],
    [99999, "Nowhere LLC", 99001, "Plant Without Location", "NV", "Nye", "G1",
     "Natural Gas Fired Combustion Turbine", "GT", None, "S", 20.0, 18.0, "OP", "NG"],
)


def _write(path: Path, sheet: str, title: str, rows: tuple[list, ...],
           footnote: str | None = None) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([title])
    for row in rows:
        ws.append(row)
    if footnote:
        ws.append([footnote])
    wb.save(path)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    _write(HERE / "2___Plant_Y2023.xlsx", "Plant",
           "Plant Level Data (tiny geo-rank fixture in the EIA-860 2023 layout)", PLANT)
    _write(HERE / "3_1_Generator_Y2023.xlsx", "Operable",
           "Generator Level Data: Operable Units Only (tiny geo-rank fixture)", GENERATOR,
           footnote="NOTE: Data for the capacity fields are rounded to the nearest tenth of MW.")


if __name__ == "__main__":
    main()
