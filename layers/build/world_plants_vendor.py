"""Regenerate ``layers/build/world_plants_table.csv`` from the WRI repository (maintainers only).

The Global Power Plant Database v1.3.0 CSV (~12 MB) is not reachable from the build machines:
its repository keeps it in ``output_database/`` but a repository snapshot leaves out files of
4 MiB or more. The same repository holds every input of the v1.3.0 build, so this script
re-runs, for six countries, the steps of WRI's ``build_global_power_plant_database.py`` that
decide which plants are in the database, where and how large:

- Canada and Mexico (``automated`` countries): ``source_databases_csv/database_{CAN,MEX}.csv``
  rows of at least 1 MW with a non-zero latitude and longitude (step 1);
- Norway, Ethiopia and Malaysia: ``raw_source_files/WRI/<Country>.csv`` as
  ``build_database_WRI.py`` reads it (operational rows, units summed per ``Power Plant ID``,
  primary fuel = the fuel with most capacity via ``resources/fuel_type_thesaurus``, last unit
  location wins), at least 1 MW, located from the file or else through
  ``resources/master_plant_concordance.csv`` from GEODB, then CARMA (step 2);
- Bhutan (``use_geo`` country): ``source_databases_csv/database_GEODB.csv`` (step 3);
- Wiki-Solar additions of these countries not in ``resources/wiki-solar-exclusion.csv``
  (step 3.1).

The result matches ``output_database/global_power_plant_database_country_summary.csv`` of the
same commit country by country: plant counts and capacity by fuel (checked below; the script
stops if they differ). Commissioning years given as a range ("2011-2012") are left empty:
GPPD's own rule for them averages truncated three-digit numbers.

Usage: ``python -m layers.build.world_plants_vendor GIT_DIR`` where ``GIT_DIR`` is a clone or
mirror of https://github.com/wri/global-power-plant-database at commit ``COMMIT``.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

COMMIT = "7a91cfbb2a4e272597acbc00506d61fc1ec73b3d"
COUNTRIES = {"CAN": "Canada", "MEX": "Mexico", "NOR": "Norway", "ETH": "Ethiopia",
             "BTN": "Bhutan", "MYS": "Malaysia"}
TABLE = Path(__file__).with_name("world_plants_table.csv")
HEADER = f"""\
# Global Power Plant Database v1.3.0 (World Resources Institute, released 2021-06-02), the
# plants of Canada, Mexico, Norway, Ethiopia, Bhutan and Malaysia.
# Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
# Attribution: Global Energy Observatory, Google, KTH Royal Institute of Technology in
# Stockholm, Enipedia, World Resources Institute. 2019. Global Power Plant Database.
# Published on Resource Watch and Google Earth Engine. https://datasets.wri.org/dataset/globalpowerplantdatabase
# Taken from the repository https://github.com/wri/global-power-plant-database at commit
# {COMMIT} by layers/build/world_plants_vendor.py, which re-runs the
# v1.3.0 build steps for these countries from the build inputs in that repository (the full
# CSV is not in a snapshot); counts and capacity by fuel equal the repository's
# output_database/global_power_plant_database_country_summary.csv. Coordinates rounded to
# 4 decimals as in the published CSV. Columns: GPPD names; source = GPPD's source column.
"""
FIELDS = ("country", "gppd_idnr", "name", "capacity_mw", "latitude", "longitude",
          "primary_fuel", "commissioning_year", "source")


def _show(git_dir: str, path: str) -> str:
    out = subprocess.run(["git", "--git-dir", git_dir, "show", f"{COMMIT}:{path}"],
                         capture_output=True, check=True).stdout
    return out.decode("utf-8", errors="replace")


def _rows(git_dir: str, path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_show(git_dir, path))))


def _fuel_thesaurus(git_dir: str) -> dict[str, str]:
    names = subprocess.run(
        ["git", "--git-dir", git_dir, "ls-tree", "--name-only", COMMIT,
         "resources/fuel_type_thesaurus/"], capture_output=True, text=True, check=True,
    ).stdout.split()
    thesaurus: dict[str, str] = {}
    for name in names:
        lines = [line.strip() for line in _show(git_dir, name).splitlines()]
        for alias in filter(None, lines):
            thesaurus.setdefault(alias, lines[0])
    return thesaurus


def _year(text: str) -> str:
    text = text.replace('"', "").strip()
    if not text or "-" in text or "," in text:
        return ""
    try:
        year = float(text)
    except ValueError:
        return ""
    return "" if year < 1900 or year > 2020 else f"{year:g}"


def extract(git_dir: str) -> list[dict[str, object]]:
    """The rows of the six countries, as GPPD v1.3.0 has them."""
    out: list[dict[str, object]] = []
    for cc in ("CAN", "MEX"):
        for r in _rows(git_dir, f"source_databases_csv/database_{cc}.csv"):
            cap = float(r["capacity_mw"] or 0)
            lat, lon = float(r["latitude"] or 0), float(r["longitude"] or 0)
            if cap >= 1 and lat and lon:
                out.append({"country": cc, "gppd_idnr": r["gppd_idnr"], "name": r["name"],
                            "capacity_mw": cap, "latitude": lat, "longitude": lon,
                            "primary_fuel": r["primary_fuel"],
                            "commissioning_year": _year(r["commissioning_year"]),
                            "source": r["source"]})
    geodb = {r["gppd_idnr"]: r for r in _rows(git_dir, "source_databases_csv/database_GEODB.csv")}
    carma = {f"CARMA{int(r['plant.id']):07d}": r for r in _rows(
        git_dir, "raw_source_files/CARMA/Full_CARMA_2009_Dataset_Power_Watch.csv")}
    concordance = {
        f"WRI{int(r['f']):07d}": (f"GEODB{int(r['geo_id']):07d}" if r["geo_id"] else "",
                                  f"CARMA{int(r['carma_id']):07d}" if r["carma_id"] else "")
        for r in _rows(git_dir, "resources/master_plant_concordance.csv")
    }
    thesaurus = _fuel_thesaurus(git_dir)

    def fuel(text: str) -> str:
        for part in re.split("/| y |,| and ", text):
            if part.strip() in thesaurus:
                return thesaurus[part.strip()]
        return ""

    for cc in ("NOR", "ETH", "MYS"):
        plants: dict[str, dict[str, object]] = {}
        by_fuel: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for r in _rows(git_dir, f"raw_source_files/WRI/{COUNTRIES[cc]}.csv"):
            name = r["Name"].strip()
            if r["Operational Status"] not in ("Operational", "Operating", "") or not name \
                    or not r["Power Plant ID"]:
                continue
            try:
                mw: float | None = float(r["Capacity (MW)"].replace(",", "").strip())
            except ValueError:
                mw = None
            try:
                lat, lon = float(r["Latitude"]), float(r["Longitude"])
            except ValueError:
                lat = lon = 0.0
            idnr = f"WRI{int(r['Power Plant ID']):07d}"
            by_fuel[idnr][fuel(r["Fuel"])] += mw or 0.0
            if r["Secondary Fuel"]:
                by_fuel[idnr].setdefault(fuel(r["Secondary Fuel"]), 0.0)
            if idnr in plants:
                plant = plants[idnr]
                plant["capacity_mw"] = float(plant["capacity_mw"] or 0) + (mw or 0)  # type: ignore[arg-type]
                if lat and lon:
                    plant["latitude"], plant["longitude"] = lat, lon
            else:
                plants[idnr] = {"country": cc, "gppd_idnr": idnr, "name": name,
                                "capacity_mw": mw, "latitude": lat, "longitude": lon,
                                "primary_fuel": "",
                                "commissioning_year": _year(r["Commissioning Date"]),
                                "source": r["Source"].strip()}
        for idnr, plant in plants.items():
            fuels = by_fuel[idnr]
            plant["primary_fuel"] = max(fuels, key=lambda k: fuels[k]) if fuels else ""
            if plant["capacity_mw"] is None or float(plant["capacity_mw"]) < 1:  # type: ignore[arg-type]
                continue
            if not (plant["latitude"] and plant["longitude"]):
                geo_id, carma_id = concordance.get(idnr, ("", ""))
                src = geodb.get(geo_id) if geo_id else None
                if geo_id and src and src["latitude"]:
                    plant["latitude"], plant["longitude"] = (float(src["latitude"]),
                                                             float(src["longitude"]))
                elif not geo_id and carma_id in carma and carma[carma_id]["lat"]:
                    plant["latitude"], plant["longitude"] = (float(carma[carma_id]["lat"]),
                                                             float(carma[carma_id]["lon"]))
                else:
                    continue
            out.append(plant)
    for r in geodb.values():
        if r["country"] == "BTN":
            cap, lat, lon = (float(r["capacity_mw"] or 0), float(r["latitude"] or 0),
                             float(r["longitude"] or 0))
            if cap >= 1 and lat and lon:
                out.append({"country": "BTN", "gppd_idnr": r["gppd_idnr"], "name": r["name"],
                            "capacity_mw": cap, "latitude": lat, "longitude": lon,
                            "primary_fuel": r["primary_fuel"],
                            "commissioning_year": _year(r["commissioning_year"]),
                            "source": r["source"]})
    excluded = {r["id"] for r in _rows(git_dir, "resources/wiki-solar-exclusion.csv")}
    for r in _rows(git_dir, "raw_source_files/Wiki-Solar/wiki-solar-plant-additions-2019.csv"):
        if r["country"] in COUNTRIES and r["id"] not in excluded:
            out.append({"country": r["country"], "gppd_idnr": f"WKS{int(r['id']):07d}",
                        "name": r["name"], "capacity_mw": float(r["capacity"]),
                        "latitude": float(r["lat"]), "longitude": float(r["lon"]),
                        "primary_fuel": "Solar", "commissioning_year": "",
                        "source": "Wiki-Solar"})
    _check(git_dir, out)
    return sorted(out, key=lambda p: (str(p["country"]), str(p["gppd_idnr"])))


def _check(git_dir: str, out: list[dict[str, object]]) -> None:
    """Stop unless counts and capacity by fuel equal the published country summary."""
    summary = {r["iso_code"]: r for r in _rows(
        git_dir, "output_database/global_power_plant_database_country_summary.csv")}
    for cc in COUNTRIES:
        rows = [p for p in out if p["country"] == cc]
        want = summary[cc]
        if len(rows) != int(want["count"]):
            raise SystemExit(f"{cc}: {len(rows)} plants, the summary says {want['count']}")
        gw: dict[str, float] = defaultdict(float)
        for p in rows:
            gw[str(p["primary_fuel"]).lower().replace(" ", "_")] += float(p["capacity_mw"]) / 1e3  # type: ignore[arg-type]
        for key, value in want.items():
            if key.startswith("capacity_gw_fuel_"):
                fuel = key.removeprefix("capacity_gw_fuel_")
                if abs(gw.get(fuel, 0.0) - float(value or 0)) > 1e-6:
                    raise SystemExit(f"{cc} {fuel}: {gw.get(fuel, 0.0)} GW, summary {value}")


def write(rows: list[dict[str, object]], path: Path = TABLE) -> Path:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(HEADER)
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for p in rows:
            writer.writerow({**p, "capacity_mw": f"{float(p['capacity_mw']):g}",  # type: ignore[arg-type]
                             "latitude": f"{float(p['latitude']):.4f}",  # type: ignore[arg-type]
                             "longitude": f"{float(p['longitude']):.4f}"})  # type: ignore[arg-type]
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(write(extract(sys.argv[1])))
