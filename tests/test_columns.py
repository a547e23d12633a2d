"""geo.columns: the ranked-site columns declared once, and everything derived from them."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo import columns, costs, pipeline, score, web
from geo.cli import tables as rank_command
from geo.errors import LayerValidationError
from geo.io import export
from geo.web import markers
from tests.test_score import LOAD, _site

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "data" / "golden"
PROV = {"tool": "geo-rank", "version": "9.9.9", "region": "US-TX",
        "generated_at": "2025-05-01T12:00:00Z"}
TOY_ROW = {"column": "toy_mw", "type": "float", "unit": "MW", "stage": "sovereignty",
           "read_by": "", "minimum": "0", "nullable": "false", "export": "true",
           "popup": "85", "terminal": "65", "terminal_label": "toy MW",
           "terminal_format": "{:>6,.1f}", "description": "A toy column: half the hosting"}


def test_docs_columns_md_is_current():
    """docs/columns.md is generated from the table: run `python -m geo.columns` after an edit."""
    assert (ROOT / "docs" / "columns.md").read_text(encoding="utf-8") == columns.markdown()


def test_main_check_and_write(tmp_path):
    out = tmp_path / "columns.md"
    assert columns.main(["--check", str(out)]) == 1
    assert columns.main([str(out)]) == 0
    assert columns.main(["--check", str(out)]) == 0


def test_table_matches_the_recorded_outputs():
    """The table's order is the export order; every column the pipeline writes has a row."""
    for name in ("us-tx_sites.csv", "us-ri_sites.csv"):
        header = (GOLDEN / name).read_text(encoding="utf-8").splitlines()[0].split(",")
        # transfer_from_<origin> and transfer_note are written only with --data-from,
        # existing_mw only for a sites file that has the column, the portfolio_* columns
        # only in the --portfolio export
        always = [n for n in columns.names()
                  if not n.startswith(("transfer_", "portfolio_")) and n != "existing_mw"]
        assert header == [*always, "lat", "lon"]


def test_derived_lists():
    assert costs.COST_COLUMNS == (
        "interconnection_cost_musd", "time_to_power_months", "power_path", "power_binding",
        "network_upgrades", "first_power_mw", "first_power_months", "grid_months",
        "grid_study_months", "grid_study_basis", "energized_months", "gas_months",
        "gas_capex_musd", "tie_circuits", "poi_works",
        "path_capex_musd", "delay_cost_musd", "energy_price_usd_per_mwh", "energy_price_note",
        "energy_cost_musd_per_year", "cost_of_power_musd", "cost_region", "tie_cost_musd",
        "substation_cost_musd", "transformer_cost_musd", "acres_needed", "land_cost_musd")
    assert score.RANK_COLUMNS == ("rank", "tier", "score", "power_score", "land_score",
                                  "reasons")
    assert columns.popup()[:5] == ("rank", "tier", "score", "site_name", "poi_name")
    assert [col for _, col, _ in columns.terminal()][-5:] == [
        "time_to_power_months", "cost_of_power_musd", "land_price_usd_per_acre",
        "subdivision", "iso_rto"]
    assert columns.minimums()["tie_distance_km"] == 0.0
    assert columns.missing(["site_id"], "score").endswith(
        "time_to_power_months, power_path, network_upgrades, cost_of_power_musd (run "
        "geo.costs.estimate first)")


def _write_table(path: Path, extra: list[dict[str, str]] | None = None,
                 change: dict[str, dict[str, str]] | None = None) -> Path:
    with columns.TABLE.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row.update((change or {}).get(row["column"], {}))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows + (extra or []))
    return path


def test_bad_table_reports_every_problem_once(tmp_path):
    bad = dict(TOY_ROW, type="double", stage="later", popup="x", description="")
    path = _write_table(tmp_path / "sites.csv", [bad, dict(TOY_ROW)])
    with pytest.raises(LayerValidationError) as err, columns.use_table(path):
        pass
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    for part in ("type must be one of", "unknown stage 'later'", "invalid literal",
                 "column names must be unique"):
        assert part in message, part


def _ranked_with_toy() -> gpd.GeoDataFrame:
    """Two ranked sites, the toy column computed by its (test) stage function."""
    rows = [_site("a"), _site("b", hosting_mw=100.0, serves_load=False)]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows),
                             geometry=[Point(-93.6, 41.6), Point(-93.0, 42.0)], crs=4326)
    for name in columns.names(stage="sovereignty"):
        frame[name] = "unknown"
    frame["toy_mw"] = frame["hosting_mw"] / 2  # the function that computes the column
    ranked = score.rank(costs.estimate(frame, LOAD), LOAD)
    return pipeline._order(ranked)


def test_a_new_site_column_is_one_row(tmp_path):
    """With its row, a column goes to its place in the export, the popup, the terminal table,
    the data dictionary and the docs; without it, it is only carried along at the end."""
    path = _write_table(tmp_path / "sites.csv", [TOY_ROW])
    with columns.use_table(path):
        ranked = _ranked_with_toy()
        out = export.write(ranked, tmp_path / "s.geojson", PROV)
        html = web.render(ranked, tmp_path / "m.html", PROV).read_text(encoding="utf-8")
        popup = markers.popup(ranked.iloc[0])
        text = rank_command.table(SimpleNamespace(sites=ranked), 5)
        doc = columns.markdown()
    names = list(ranked.columns)
    assert names[-2:] == ["toy_mw", "geometry"]  # its row is the table's last
    meta = json.loads(out.read_text(encoding="utf-8"))["metadata"]
    entry = meta["columns"][names.index("toy_mw")]
    assert entry == {"name": "toy_mw", "type": "float", "unit": "MW", "nullable": False,
                     "written_by": "geo.sovereignty.tag",
                     "description": "A toy column: half the hosting"}
    assert "toy_mw" in html
    # each popup row is labelled with its words and unit, its name in the title
    rows = re.findall(r"<th[^>]*title='(\w+)'>([^<]*)</th><td>([^<]*)</td>", popup)
    at = rows.index(("firm_mw", "firm N-1 (MW)", "600"))
    assert rows[at + 1] == ("toy_mw", "toy (MW)", "300")  # popup 85, after 82
    header, first = text.splitlines()[:2]
    assert "firm MW toy MW supply" in header  # terminal position 65: after 62, before 70
    assert "  300.0 N-1 secure" in first
    assert "| `toy_mw` | float | MW | no | `geo.sovereignty.tag` |" in doc

    plain = _ranked_with_toy()  # the real table has no row for it
    assert list(plain.columns)[-2:] == ["toy_mw", "geometry"]
    assert "toy_mw" not in rank_command.table(SimpleNamespace(sites=plain), 5)
    assert columns.dictionary(["toy_mw"])[0]["description"].startswith("not a geo-rank")


def test_minimum_from_the_table_is_checked(tmp_path):
    path = _write_table(tmp_path / "sites.csv", change={"hosting_mw": {"minimum": "50"}})
    frame = pd.DataFrame([_site("a", hosting_mw=20.0)])
    costs.estimate(frame, LOAD)  # the real table: any hosting >= 0
    with columns.use_table(path), pytest.raises(LayerValidationError,
                                                match="hosting_mw is below 50 or infinite"):
        costs.estimate(frame, LOAD)


def test_stage_inputs_come_from_the_table(tmp_path):
    path = _write_table(tmp_path / "sites.csv", change={"backbone_km": {"read_by": "costs"}})
    frame = pd.DataFrame([_site("a")]).drop(columns=["backbone_km"])
    assert np.isfinite(costs.estimate(frame, LOAD)["interconnection_cost_musd"]).all()
    with columns.use_table(path), pytest.raises(
            LayerValidationError, match=r"backbone_km \(run geo.join.enrich first\)"):
        costs.estimate(frame, LOAD)


def test_the_table_is_read_once_per_file_version(tmp_path, monkeypatch):
    """The map asks for a column's label about a thousand times a run: the table file is
    read once, and again only when it changed."""
    reads = []
    real = columns._read
    monkeypatch.setattr(columns, "_read", lambda path: reads.append(path) or real(path))
    path = _write_table(tmp_path / "sites.csv", [TOY_ROW])
    with columns.use_table(path):
        labels = {columns.label("toy_mw") for _ in range(5)}
        assert labels == {"toy (MW)"} and len(reads) == 1
        _write_table(path, [TOY_ROW], change={"hosting_mw": {"description": "changed"}})
        assert columns.by_name()["hosting_mw"].description == "changed"
        assert len(reads) == 2
