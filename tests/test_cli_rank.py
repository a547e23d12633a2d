"""``geo-rank --region ...``: the main job through the CLI, with RFC 7946 checks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    """A TOML config pointing the grid cache at a folder of this test module."""
    root = tmp_path_factory.mktemp("rank")
    path = root / "geo-rank.toml"
    path.write_text(f'cache_dir = "{root / "cache"}"\n')
    return path


def _run(geo_rank, args, config, out):
    return geo_rank(*args, "--config", str(config), "--out", str(out / "exports"),
                    "--map", str(out / "map.html"))


@pytest.fixture(scope="module")
def ri_run(config, tmp_path_factory, geo_rank):
    out = tmp_path_factory.mktemp("ri")
    result = _run(geo_rank, ["--region", "US-RI", "--load-mw", "100", "--top", "5"], config, out)
    return result, out


def _reject_constant(name):
    raise ValueError(f"non-JSON number {name}")


def test_main_job_prints_table_and_writes_files(ri_run):
    result, out = ri_run
    assert result.exit_code == 0, result.output
    assert "rank tier point of interconnection" in result.stdout
    assert (out / "exports" / "us-ri_sites.geojson").is_file()
    assert (out / "map.html").is_file()
    assert "wrote 5 sites to" in result.stdout


def test_geojson_follows_rfc7946(ri_run):
    _, out = ri_run
    text = (out / "exports" / "us-ri_sites.geojson").read_text(encoding="utf-8")
    doc = json.loads(text, parse_constant=_reject_constant)  # no NaN / Infinity tokens
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    assert doc["metadata"]["tool"] == "geo-rank" and doc["metadata"]["region"] == "US-RI"
    assert "substations" in doc["metadata"]["data_sources"]
    assert doc["metadata"]["generated_at"].endswith("Z")
    feats = doc["features"]
    assert len(feats) == 5
    ranks = [f["properties"]["rank"] for f in feats]
    assert ranks == sorted(ranks)
    for f in feats:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
        lon, lat = f["geometry"]["coordinates"]
        assert -72.0 < lon < -71.0 and 41.0 < lat < 42.1  # Rhode Island, lon first
        props = f["properties"]
        assert props["country_iso3"] == "USA" and props["sovereignty_bloc"] == "US"
        assert props["subdivision"] == "US-RI"
        assert props["land_price_usd_per_acre"] == 22_500
        assert props["reasons"].startswith(f"Tier {props['tier']} (")
        for v in props.values():
            assert not (isinstance(v, float) and math.isnan(v))


def test_same_inputs_give_identical_files_apart_from_generated_at(ri_run, config, tmp_path,
                                                                  geo_rank):
    _, first = ri_run
    again = _run(geo_rank,
                 ["--region", "US-RI", "--load-mw", "100", "--top", "5"], config, tmp_path)
    assert again.exit_code == 0, again.output

    def strip(p: Path) -> str:
        doc = json.loads(p.read_text())
        doc["metadata"].pop("generated_at")
        return json.dumps(doc, sort_keys=True)

    name = "exports/us-ri_sites.geojson"
    assert strip(first / name) == strip(tmp_path / name)


def test_h3_candidates_and_user_sites(config, tmp_path, geo_rank):
    h3 = _run(geo_rank,
              ["--region", "US-RI", "--load-mw", "100", "--candidates", "h3:6", "--no-map",
               "--format", "csv"], config, tmp_path)
    assert h3.exit_code == 0, h3.output
    assert (tmp_path / "exports" / "us-ri_sites.csv").is_file()
    sites = tmp_path / "farms.csv"
    sites.write_text("id,name,lat,lon\nf1,Old farm,41.7,-71.5\nf2,Far away,38.0,-60.0\n")
    own = _run(geo_rank, ["--region", "US-RI", "--load-mw", "100", "--candidates", str(sites),
                          "--all-candidates", "--no-map"], config, tmp_path / "own")
    assert own.exit_code == 2 and "1 of 2 sites outside US-RI (row 3; Far away" in own.output
    own = _run(geo_rank, ["--region", "US-RI", "--load-mw", "100", "--candidates", str(sites),
                          "--all-candidates", "--no-map", "--allow-outside"], config,
               tmp_path / "own")
    assert own.exit_code == 0, own.output
    doc = json.loads((tmp_path / "own" / "exports" / "us-ri_sites.geojson").read_text())
    props = {f["properties"]["site_id"]: f["properties"] for f in doc["features"]}
    assert set(props) == {"f1", "f2"}
    assert props["f1"]["poi_sub_id"] is not None and props["f1"]["tie_distance_km"] < 50
    assert props["f2"]["poi_sub_id"] is None and props["f2"]["tier"] == "D"
    assert props["f2"]["country_iso3"] is None  # at sea: no country, sovereignty unknown
    assert props["f2"]["sovereignty_bloc"] == "unknown"
    assert props["f1"]["rank"] == 1


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--load-mw", "-5"], "--load-mw"),
        (["--load-mw", "nan"], "--load-mw"),
        (["--region", "XX"], "unknown region 'XX'"),
        (["--candidates", "h3:99"], "--candidates h3:99"),
        (["--candidates", "missing.geojson"], "missing.geojson: no such file"),
        (["--top", "0"], "--top"),
        (["--format", "shp"], "--format"),
        (["--sovereignty", "Mars"], "--sovereignty"),
        (["--iso", "ERCOTT"], "--iso 'ERCOTT': unknown ISO/RTO; closest: ERCOT"),
        (["--utility", "Narragansett"], "--utility 'Narragansett': no utility of that name"),
    ],
)
def test_bad_flags_are_one_line_exit_2_and_write_nothing(args, flag, config, tmp_path, geo_rank):
    result = _run(geo_rank,
                  ["--region", "US-RI", *args] if "--region" not in args else args, config,
                  tmp_path)
    assert result.exit_code == 2, result.output
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("geo-rank: error:") and flag in err[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "exports").exists() and not (tmp_path / "map.html").exists()


def test_config_with_unknown_key(tmp_path, geo_rank):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("max_tie_kms = 10\n")
    result = geo_rank("--region", "US-RI", "--config", str(cfg))
    assert result.exit_code == 2
    assert "unknown setting max_tie_kms = 10 (did you mean max_tie_km" in result.stderr


def test_flexible_flag_judges_months_on_n0_and_says_so(config, tmp_path, geo_rank):
    firm = _run(geo_rank,
                ["--region", "US-RI", "--load-mw", "300", "--top", "3", "--no-map"], config,
                tmp_path / "firm")
    flexible = _run(geo_rank, ["--region", "US-RI", "--load-mw", "300", "--top", "3", "--no-map",
                               "--flexible", "--portfolio", "2"], config, tmp_path / "flexible")
    assert firm.exit_code == 0 and flexible.exit_code == 0, flexible.output
    assert "load: flexible (--flexible)" in flexible.stdout
    # the portfolio is checked as the ranking judged the sites: on N-0
    assert "sites hosted together (N-0: flexible loads)" in flexible.stdout
    assert "load: flexible" not in firm.stdout
    docs = [json.loads((tmp_path / run / "exports" / "us-ri_sites.geojson").read_text())
            for run in ("firm", "flexible")]
    assert [d["metadata"]["settings"]["flexible_load"] for d in docs] == [False, True]
    # Rhode Island's POIs carry 300 MW with every circuit in service but few after an
    # outage: judged on N-0, more of them reach a tier of at most 36 months (A or B; the
    # campus's own transformers, 34.6 months, keep a grid site out of A)
    tiers = [d["metadata"]["tiers"] for d in docs]
    fast = [t.get("A", 0) + t.get("B", 0) for t in tiers]
    assert fast[1] > fast[0]


def test_user_sites_keep_their_names_in_table_portfolio_map_and_reasons(config, tmp_path, geo_rank):
    """Issue 30: with --candidates my_sites.csv the user's `name` column (else the id) names
    the sites in the terminal table, the portfolio listing (with its POI by name), the map
    markers and the reasons."""
    sites = tmp_path / "farms.csv"
    sites.write_text("id,name,lat,lon\nf1,Old farm,41.7,-71.5\nf2,Mill site,41.85,-71.4\n"
                     "f3,,41.6,-71.6\n")
    run = _run(geo_rank, ["--region", "US-RI", "--load-mw", "100", "--candidates", str(sites),
                          "--portfolio", "2"], config, tmp_path)
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    header = next(line for line in lines if line.startswith("rank tier"))
    assert header.startswith("rank tier site ")
    body = lines[lines.index(header) + 1:]
    assert "Mill site" in body[0] and "sub-" not in body[0]
    assert any(" f3 " in line for line in body[:3])       # no name: the id
    listing = next(line for line in lines if line.strip().startswith("1. #1 "))
    assert "Mill site (POI " in listing
    poi = listing.split("(POI ", 1)[1].split(")", 1)[0]
    assert not poi.isdigit() and not poi.startswith("sub-")
    doc = json.loads((tmp_path / "exports" / "us-ri_sites.geojson").read_text())
    first = doc["features"][0]["properties"]
    assert first["site_name"] == "Mill site"
    assert first["reasons"].startswith("Mill site: Tier ")
    assert "#1 Mill site" in (tmp_path / "map.html").read_text("utf-8")


def test_n1_secure_with_a_set_aside_overload_is_starred_counted_and_explained(config,
                                                                              tmp_path, geo_rank):
    """Issue 30: "N-1 secure" hid a pre-existing overload that was set aside
    (firm_preexisting): such sites say "N-1 secure*", the terminal counts them in its first
    lines and the map legend says what the star means."""
    from geo import secure

    run = _run(geo_rank, ["--region", "US-VA", "--load-mw", "100", "--grid", "tamu-synthetic",
                          "--top", "25"], config, tmp_path)
    assert run.exit_code == 0, run.output
    doc = json.loads((tmp_path / "exports" / "us-va_sites.geojson").read_text())
    props = [f["properties"] for f in doc["features"]]
    starred = [p for p in props if p["redundancy"] == "N-1 secure*"]
    assert starred and all(p["firm_preexisting"] is True for p in starred)
    assert all(p["firm_preexisting"] is not True for p in props
               if p["redundancy"] == "N-1 secure")
    head = run.stdout.splitlines()[:4]
    line = next(x for x in head if "N-1 secure*" in x)
    assert line.startswith(f"{len(starred)} of the top {len(props)} (")
    table = run.stdout.split("rank tier", 1)[1]
    assert table.count("N-1 secure*") == len(starred)
    from geo.web.style import escape

    assert escape(secure.STAR_NOTE) in (tmp_path / "map.html").read_text("utf-8")


def test_the_map_goes_under_out_unless_map_is_given(config, tmp_path, monkeypatch, geo_rank):
    """Issue 30: --out DIR left the map in ./maps/."""
    monkeypatch.chdir(tmp_path)
    args = ["--region", "US-RI", "--load-mw", "100", "--top", "3", "--config", str(config)]
    run = geo_rank(*args, "--out", "mine")
    assert run.exit_code == 0, run.output
    assert (tmp_path / "mine" / "us-ri.html").is_file() and not (tmp_path / "maps").exists()
    run = geo_rank(*args, "--out", "mine", "--map", "elsewhere/m.html",
                   "--overwrite")
    assert run.exit_code == 0, run.output
    assert (tmp_path / "elsewhere" / "m.html").is_file()
    run = geo_rank(*args)                   # no --out: maps/<region>.html
    assert run.exit_code == 0, run.output
    assert (tmp_path / "maps" / "us-ri.html").is_file()
    helptext = " ".join(geo_rank("rank", "--help").output.split())
    assert "<region>.html in the --out folder when --out is given" in helptext


def test_data_from_adds_its_answer_to_the_terminal_table(config, tmp_path, geo_rank):
    run = _run(geo_rank,
               ["--region", "US-RI", "--load-mw", "100", "--top", "3", "--data-from", "EU",
                "--data-from", "CN", "--no-map"], config, tmp_path)
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    header = next(line for line in lines if line.startswith("rank tier"))
    assert header.split()[-4:] == ["EU", "data", "CN", "data"]
    doc = json.loads((tmp_path / "exports" / "us-ri_sites.geojson").read_text())
    first = doc["features"][0]["properties"]
    row = lines[lines.index(header) + 1]
    assert row.split()[-2:] == [first["transfer_from_eu"], first["transfer_from_cn"]]
    # each answer starts under its header (text columns are left-aligned)
    assert row[header.index("EU data"):].startswith(first["transfer_from_eu"])
    assert row[header.index("CN data"):].startswith(first["transfer_from_cn"])


def test_rank_options_hold_every_option_but_the_layer_files_and_the_setting_flags():
    """RankOptions is the command's record: an option added to `geo-rank rank` without a
    field (or a field without its option) fails here instead of being silently ignored."""
    from dataclasses import fields

    from geo.cli import rank
    from geo.cli.config import SETTING_FLAGS, setting_options
    from geo.cli.options import layer_options

    def shared() -> None:
        """The options rank shares with other commands (its remaining **params)."""

    layer_options(setting_options(*SETTING_FLAGS)(shared))
    common = {p.name for p in shared.__click_params__}  # type: ignore[attr-defined]
    own = {p.name for p in rank.rank_command.params} - common
    assert own == {f.name for f in fields(rank.RankOptions)}
    params = {f.name: None for f in fields(rank.RankOptions)} | {"lines": "l.csv"}
    opts = rank.RankOptions.pop(params)
    assert params == {"lines": "l.csv"} and opts.region is None
