"""``geo-rank fetch`` against recorded responses: no test touches the network.

A :class:`~tests.http_replay.Replay` transport checks every request (method, URL, query
parameters or form fields) against the expected sequence and answers with the recorded bodies
in ``tests/data/fetch/``, below urllib3's retry loop (so urllib3 decides the retries); a
:class:`FakeTime` stands in for ``time.sleep`` and the clock.
"""

from __future__ import annotations

import io
import json
import urllib.parse
import zipfile
from pathlib import Path

import pytest

from layers import fetch as fetching
from layers.errors import DataSourceError, RegionError
from layers.fetch import FetchSettings, HttpClient, Request, overpass
from layers.fetch.hifld import query_params
from tests.http_replay import Exchange, Replay

DATA = Path(__file__).parent / "data" / "fetch"
OVERPASS = FetchSettings().overpass_url
LINES_URL = FetchSettings().hifld_lines_url
SUBS_URL = FetchSettings().hifld_substations_url
EIA = "https://www.eia.gov/electricity/data/eia860/xls/eia8602023.zip"
EIA_ARCHIVE = "https://www.eia.gov/electricity/data/eia860/archive/xls/eia8602023.zip"


def recorded(name: str) -> bytes:
    return (DATA / name).read_bytes()


class FakeTime:
    """``sleep`` records and advances a fake clock; nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture()
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture()
def settings(tmp_path: Path) -> FetchSettings:
    return FetchSettings().replace(cache_dir=tmp_path / "cache")


def client_for(settings: FetchSettings, replay: Replay, fake_time: FakeTime) -> HttpClient:
    return HttpClient(settings, replay, sleep=fake_time.sleep, clock=fake_time.clock)


def run_cli(geo_rank, args: list[str], replay: Replay, fake_time: FakeTime):
    obj = {"transport": replay, "sleep": fake_time.sleep, "clock": fake_time.clock}
    return geo_rank("fetch", *args, obj=obj)


def overpass_post(bbox: tuple[float, float, float, float], answer: str) -> Exchange:
    return Exchange("POST", OVERPASS, {"data": overpass.query(bbox)}, answer=recorded(answer))


def lines_get(offset: int, answer: str, size: int = 3) -> Exchange:
    return Exchange("GET", LINES_URL, query_params(BOX, offset, size), answer=recorded(answer))


#: The box of the OSM and HIFLD tests: two 1-degree tiles, the second cut at -96.5.
BOX = (-98.0, 30.0, -96.5, 31.0)
WEST, EAST = (-98.0, 30.0, -97.0, 31.0), (-97.0, 30.0, -96.5, 31.0)
EAST_QUARTERS = [(-97.0, 30.0, -96.75, 30.5), (-96.75, 30.0, -96.5, 30.5),
                 (-97.0, 30.5, -96.75, 31.0), (-96.75, 30.5, -96.5, 31.0)]


# --- tiles ----------------------------------------------------------------------------------

def test_tiles_cover_the_box_row_by_row_and_quarters_in_fixed_order():
    assert overpass.tiles(BOX, 1.0) == [WEST, EAST]
    grid = overpass.tiles((-98.0, 30.0, -96.0, 31.5), 1.0)
    assert grid == [(-98.0, 30.0, -97.0, 31.0), (-97.0, 30.0, -96.0, 31.0),
                    (-98.0, 31.0, -97.0, 31.5), (-97.0, 31.0, -96.0, 31.5)]
    assert overpass.split(EAST) == EAST_QUARTERS
    # Floating-point steps do not leave slivers: 0.1-degree tiles over 1 degree are 10.
    assert len(overpass.tiles((10.0, 59.0, 11.0, 59.1), 0.1)) == 10


def test_query_is_the_power_query_with_south_west_north_east():
    q = overpass.query(WEST)
    assert q == ('[out:json][timeout:180];'
                 '(nwr["power"~"^(substation|sub_station|line|cable|plant)$"](30,-98,31,-97););'
                 'out geom;')


# --- OSM through Overpass -----------------------------------------------------------------

def test_osm_splits_a_timed_out_tile_and_dedupes_across_tiles(tmp_path, fake_time, geo_rank):
    replay = Replay(
        overpass_post(WEST, "overpass_west.json"),
        overpass_post(EAST, "overpass_east_timeout.json"),
        overpass_post(EAST_QUARTERS[0], "overpass_east_sw.json"),
        *(overpass_post(q, "overpass_empty.json") for q in EAST_QUARTERS[1:]),
    )
    result = run_cli(geo_rank, ["osm", "--bbox", "-98,30,-96.5,31", "--out", str(tmp_path / "out"),
                                "--cache-dir", str(tmp_path / "cache")], replay, fake_time)
    assert result.exit_code == 0, result.output
    assert replay.done()
    out = tmp_path / "out" / "osm_bbox_-98_30_-96.5_31.json"
    assert result.stdout.strip() == str(out)
    doc = json.loads(out.read_text())
    keys = [(e["type"], e["id"]) for e in doc["elements"]]
    assert keys == [("node", 2210987654), ("node", 4410023311), ("way", 187212339),
                    ("way", 301556781), ("way", 512000777), ("relation", 6181234)]
    line = next(e for e in doc["elements"] if e["id"] == 187212339)
    assert line["geometry"][0] == {"lat": 30.4518, "lon": -97.2511}
    assert line["tags"]["voltage"] == "345000"
    assert doc["version"] == 0.6 and "ODbL" in doc["osm3s"]["copyright"]
    prov = doc["geo_rank"]
    assert prov["tool"] == "geo-rank" and prov["endpoint"] == OVERPASS
    assert prov["bbox"] == list(BOX) and prov["tiles_queried"] == 5
    assert prov["region"] == "bbox_-98_30_-96.5_31"
    # Every request says who is asking, and waits politely for the one before it.
    assert all(h["User-Agent"].startswith("geo-rank/") for _, h in replay.seen)
    assert fake_time.sleeps == [1.0] * 5


def test_osm_output_reads_with_the_overpass_json_layout(tmp_path, settings, fake_time):
    """The merged file keeps the Overpass layout (``elements`` near the top, as readers sniff)."""
    replay = Replay(overpass_post((-98.0, 30.0, -97.0, 31.0), "overpass_west.json"))
    paths = fetching.fetch("osm", tmp_path, bbox=WEST, client=client_for(settings, replay,
                                                                           fake_time))
    head = paths[0].read_text()[:400]
    assert '"elements"' in head and '"type"' in head


def test_a_tile_that_keeps_timing_out_stops_at_the_split_depth(tmp_path, fake_time):
    settings = FetchSettings().replace(cache_dir=tmp_path / "cache", max_split_depth=1)
    replay = Replay(overpass_post(EAST, "overpass_east_timeout.json"),
                    overpass_post(EAST_QUARTERS[0], "overpass_east_timeout.json"))
    with pytest.raises(DataSourceError, match=r"could not finish tile -97,30,-96.75,30.5 even "
                                              r"after splitting it 1 time.*--tile-deg"):
        fetching.fetch("osm", tmp_path, bbox=EAST, client=client_for(settings, replay, fake_time))
    assert replay.done()
    # A timeout is not cached: the next run asks again.
    assert not list((tmp_path / "cache").rglob("*.body"))


def test_region_bbox_comes_from_the_embedded_boundary(tmp_path, settings, fake_time):
    w, s, e, n = fetching.region_bbox("US-TX")
    assert (w, s, e, n) == pytest.approx((-106.65, 25.84, -93.52, 36.50), abs=0.01)
    big = settings.replace(tile_deg=20.0)  # one tile: one request for all of Texas
    replay = Replay(Exchange("POST", OVERPASS, {"data": overpass.query((w, s, e, n))},
                             answer=recorded("overpass_empty.json")))
    paths = fetching.fetch("osm", tmp_path, region="us-tx",
                           client=client_for(big, replay, fake_time))
    assert [p.name for p in paths] == ["osm_US-TX.json"]
    assert replay.done()


def test_tiles_away_from_the_region_outline_are_not_asked_for(tmp_path, settings, fake_time):
    from shapely.geometry import box

    outline = box(-97.9, 30.1, -97.3, 30.9)  # inside the west tile, 0.3 degrees from the east
    replay = Replay(overpass_post(WEST, "overpass_west.json"))
    doc = overpass.fetch_osm(BOX, client_for(settings, replay, fake_time), within=outline)
    assert replay.done() and doc["geo_rank"]["tiles_outside_region_skipped"] == 1


def test_a_country_code_has_a_bounding_box_without_any_grid_data():
    w, s, e, n = fetching.region_bbox("ET")  # Ethiopia
    assert (w, s, e, n) == pytest.approx((33.0, 3.4, 48.0, 14.9), abs=0.1)


# --- HIFLD through ArcGIS -------------------------------------------------------------------

def test_hifld_lines_page_by_result_offset_until_a_short_page(tmp_path, settings, fake_time):
    # The server caps pages at 2 although 3 are asked for, and says exceededTransferLimit.
    small = settings.replace(page_size=3)
    replay = Replay(lines_get(0, "hifld_lines_page0.json"), lines_get(2, "hifld_lines_page1.json"),
                    lines_get(4, "hifld_lines_page2.json"))
    paths = fetching.fetch("hifld-lines", tmp_path, bbox=BOX,
                           client=client_for(small, replay, fake_time))
    assert replay.done()
    request = replay.seen[0][0]
    params = dict(urllib.parse.parse_qsl(request.url.partition("?")[2]))
    assert params["where"] == "1=1" and params["outSR"] == "4326" and params["f"] == "geojson"
    assert params["geometry"] == "-98,30,-96.5,31"
    assert params["geometryType"] == "esriGeometryEnvelope" and params["inSR"] == "4326"
    assert params["spatialRel"] == "esriSpatialRelIntersects"
    doc = json.loads(paths[0].read_text())
    assert paths[0].name == "hifld-lines_bbox_-98_30_-96.5_31.geojson"
    assert doc["type"] == "FeatureCollection"
    assert [f["id"] for f in doc["features"]] == [101, 102, 103, 104, 105]
    assert doc["features"][2]["properties"]["VOLTAGE"] == -999999  # sentinels left to loaders
    assert doc["geo_rank"]["pages"] == 3 and doc["geo_rank"]["layer_url"] == LINES_URL
    assert "crs" not in doc


def test_hifld_substations_one_short_page_through_the_cli(tmp_path, fake_time, geo_rank):
    replay = Replay(Exchange("GET", SUBS_URL, query_params(BOX, 0, 2000),
                             answer=recorded("hifld_substations_page0.json")))
    result = run_cli(geo_rank,
                     ["hifld-substations", "--bbox", "-98,30,-96.5,31", "--out", str(tmp_path),
                      "--no-cache"], replay, fake_time)
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "hifld-substations_bbox_-98_30_-96.5_31.geojson").read_text())
    assert [f["properties"]["NAME"] for f in doc["features"]] == ["AUSTROP", "DECKER"]
    assert replay.done() and not (tmp_path / "cache").exists()


def test_url_overrides_the_endpoint_of_the_source(tmp_path, fake_time, geo_rank):
    mirror = "https://hifld-mirror.example/arcgis/rest/services/Lines/FeatureServer/0/query"
    replay = Replay(Exchange("GET", mirror, query_params(BOX, 0, 2000),
                             answer=recorded("hifld_lines_page2.json")))
    result = run_cli(geo_rank, ["hifld-lines", "--bbox", "-98,30,-96.5,31", "--out", str(tmp_path),
                                "--no-cache", "--url", mirror], replay, fake_time)
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "hifld-lines_bbox_-98_30_-96.5_31.geojson").read_text())
    assert doc["geo_rank"]["layer_url"] == mirror and replay.done()


def test_an_arcgis_error_answered_with_200_is_a_one_line_error_and_not_cached(
        tmp_path, settings, fake_time):
    replay = Replay(Exchange("GET", LINES_URL, answer=recorded("arcgis_error.json")))
    with pytest.raises(DataSourceError, match=r"ArcGIS error 400: Cannot perform query.*"
                                              r"'geometry' parameter is invalid") as info:
        fetching.fetch("hifld-lines", tmp_path, bbox=BOX,
                       client=client_for(settings, replay, fake_time))
    assert "\n" not in str(info.value)
    assert not list((tmp_path / "cache").rglob("*.body"))
    assert not list(tmp_path.glob("*.geojson"))


# --- the HTTP client ------------------------------------------------------------------------

def test_retry_on_429_waits_as_retry_after_asks(settings, fake_time):
    url = "https://example.test/q"
    replay = Replay(Exchange("GET", url, status=429, headers={"Retry-After": "7"}),
                    Exchange("GET", url, status=503),
                    Exchange("GET", url, answer=b"done"))
    client = client_for(settings, replay, fake_time)
    assert client.fetch(Request.get(url)) == b"done"
    # Retry-After (7 s) beats the first backoff (5 s); then the doubled backoff (10 s).
    assert fake_time.sleeps == [7.0, 10.0]
    assert client.network_requests == 3 and replay.done()


def test_retry_after_as_an_http_date_waits_at_most_max_backoff(settings, fake_time):
    url = "https://example.test/q"
    replay = Replay(Exchange("GET", url, status=503,
                             headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}),
                    Exchange("GET", url, status=429, headers={"Retry-After": "soon"}),
                    Exchange("GET", url, answer=b"done"))
    assert client_for(settings, replay, fake_time).fetch(Request.get(url)) == b"done"
    # A date 70 years ahead is capped at max_backoff_s; an unreadable one falls back to 10 s.
    assert fake_time.sleeps == [300.0, 10.0]


def test_a_body_cut_off_mid_read_is_retried_and_never_cached(settings, fake_time):
    url = "https://example.test/big"
    replay = Replay(Exchange("GET", url, answer=b"0123456789" * 10, cut_after=40),
                    Exchange("GET", url, answer=b"0123456789" * 10))
    client = client_for(settings, replay, fake_time)
    assert client.fetch(Request.get(url)) == b"0123456789" * 10
    assert replay.done() and fake_time.sleeps == [5.0] and client.network_requests == 2
    assert [p.read_bytes() for p in settings.cache_dir.rglob("*.body")] == [b"0123456789" * 10]


def test_a_body_that_keeps_breaking_gives_up_in_one_line(settings, fake_time):
    url = "https://example.test/big"
    replay = Replay(*(Exchange("GET", url, answer=b"x" * 100, cut_after=10) for _ in range(5)))
    with pytest.raises(DataSourceError, match=r"failed: connection broke while reading: .*"
                                              r"Connection reset by peer.* \(after 5 attempts\)"):
        client_for(settings, replay, fake_time).fetch(Request.get(url))
    assert replay.done() and fake_time.sleeps == [5.0, 10.0, 20.0, 40.0]
    assert not [p for p in settings.cache_dir.rglob("*") if p.is_file()]  # no .part left


def test_connection_failures_are_retried(settings, fake_time):
    url = "https://example.test/q"
    replay = Replay(Exchange("GET", url, answer=ConnectionResetError("reset by peer")),
                    Exchange("GET", url, answer=b"ok"))
    assert client_for(settings, replay, fake_time).fetch(Request.get(url)) == b"ok"
    assert fake_time.sleeps == [5.0]


def test_giving_up_names_the_url_the_status_and_delay_s(settings, fake_time):
    url = "https://example.test/q"
    replay = Replay(*(Exchange("GET", url, status=503) for _ in range(5)))
    with pytest.raises(DataSourceError) as info:
        client_for(settings, replay, fake_time).fetch(Request.get(url, {"a": 1}))
    message = str(info.value)
    assert message.startswith("GET https://example.test/q?a=1 failed: HTTP 503 Service "
                              "Unavailable (after 5 attempts)")
    assert "--delay-s" in message and "\n" not in message
    assert fake_time.sleeps == [5.0, 10.0, 20.0, 40.0]


def test_a_404_is_not_retried(settings, fake_time):
    url = "https://example.test/missing"
    replay = Replay(Exchange("GET", url, status=404))
    with pytest.raises(DataSourceError, match="HTTP 404 Not Found"):
        client_for(settings, replay, fake_time).fetch(Request.get(url))
    assert fake_time.sleeps == []


def test_cache_keys_on_url_and_body(settings, fake_time):
    a = Request.post_form("https://example.test/i", {"data": "one"})
    b = Request.post_form("https://example.test/i", {"data": "two"})
    assert a.key != b.key and a.key == Request.post_form(a.url, {"data": "one"}).key
    replay = Replay(Exchange("POST", a.url, {"data": "one"}, answer=b"1"),
                    Exchange("POST", b.url, {"data": "two"}, answer=b"2"))
    client = client_for(settings, replay, fake_time)
    assert [client.fetch(r) for r in (a, b, a, b)] == [b"1", b"2", b"1", b"2"]
    assert client.network_requests == 2


def test_a_second_run_is_served_from_the_cache(tmp_path, fake_time, geo_rank):
    args = ["hifld-lines", "--bbox", "-98,30,-96.5,31", "--out", str(tmp_path / "out"),
            "--cache-dir", str(tmp_path / "cache"), "--overwrite"]
    first = Replay(Exchange("GET", LINES_URL, query_params(BOX, 0, 2000),
                            answer=recorded("hifld_lines_page2.json")))
    assert run_cli(geo_rank, args, first, fake_time).exit_code == 0 and first.done()
    out = tmp_path / "out" / "hifld-lines_bbox_-98_30_-96.5_31.geojson"
    before = json.loads(out.read_text())
    second = Replay()  # any request would fail the test
    result = run_cli(geo_rank, args, second, fake_time)
    assert result.exit_code == 0, result.output
    assert "all from cache" in result.stderr and second.seen == []
    assert json.loads(out.read_text())["features"] == before["features"]


# --- outputs and the CLI --------------------------------------------------------------------

def test_an_existing_output_is_kept_without_overwrite(tmp_path, fake_time, geo_rank):
    out = tmp_path / "hifld-lines_bbox_-98_30_-96.5_31.geojson"
    out.write_text("old")
    replay = Replay()
    result = run_cli(geo_rank, ["hifld-lines", "--bbox", "-98,30,-96.5,31", "--out", str(tmp_path)],
                     replay, fake_time)
    assert result.exit_code == 2
    assert "already exist" in result.stderr and "--overwrite" in result.stderr
    assert out.read_text() == "old" and replay.seen == []


def test_outputs_are_atomic_a_failed_fetch_leaves_the_old_file(tmp_path, settings, fake_time):
    out = tmp_path / "osm_bbox_-98_30_-96.5_31.json"
    out.write_text("old")
    replay = Replay(overpass_post(WEST, "overpass_west.json"),
                    *(Exchange("POST", OVERPASS, status=503) for _ in range(5)))
    with pytest.raises(DataSourceError, match="HTTP 503"):
        fetching.fetch("osm", tmp_path, bbox=BOX, overwrite=True,
                       client=client_for(settings, replay, fake_time))
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", out.name]  # no .part left


def test_atomic_open_removes_the_temporary_file_on_error(tmp_path):
    from layers.fetch._common import atomic_open

    target = tmp_path / "x.json"
    with pytest.raises(ZeroDivisionError), atomic_open(target, "w") as fh:
        fh.write("half")
        1 / 0  # noqa: B018
    assert list(tmp_path.iterdir()) == []


def test_cli_network_failure_is_one_line_exit_2(tmp_path, fake_time, geo_rank):
    replay = Replay(*(Exchange("POST", OVERPASS, status=503) for _ in range(5)))
    result = run_cli(geo_rank, ["osm", "--bbox", "-97,30,-96.5,31", "--out", str(tmp_path),
                                "--no-cache"], replay, fake_time)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"geo-rank: error: POST {OVERPASS} failed: HTTP 503")
    assert "--delay-s" in lines[0] and "Traceback" not in result.output


def test_cli_connection_refused_is_one_line(tmp_path, fake_time, geo_rank):
    replay = Replay(*(Exchange("GET", SUBS_URL, answer=ConnectionRefusedError(
        111, "Connection refused")) for _ in range(5)))
    result = run_cli(geo_rank, ["hifld-substations", "--bbox", "-98,30,-96.5,31", "--out",
                                str(tmp_path), "--no-cache"], replay, fake_time)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert f"GET {SUBS_URL}?" in result.stderr and "Connection refused" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["osm", "--bbox", "-96,30,-97,31"], "minlon,minlat,maxlon,maxlat"),
    (["osm", "--bbox", "a,b,c,d"], "four numbers"),
    (["osm", "--bbox", "-98,30,-97,31", "--region", "US-TX"], "not both"),
    (["osm"], "needs a region"),
    (["osm", "--region", "XX-YY"], "unknown region"),
    (["osm", "--bbox", "-98,30,-97,31", "--tile-deg", "0"],
         "--tile-deg 0.0: tile_deg = 0.0 (must be a number in (0, 360])"),
    (["eia860", "--year", "1990"], "between 2001"),
])
def test_cli_bad_input_is_one_line(tmp_path, fake_time, args, message, geo_rank):
    replay = Replay()
    result = run_cli(geo_rank, [*args, "--out", str(tmp_path)], replay, fake_time)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert replay.seen == []


def test_region_and_bbox_errors_are_region_errors(tmp_path):
    with pytest.raises(RegionError):
        fetching.fetch("osm", tmp_path, bbox=(-96.0, 30.0, -97.0, 31.0))


# --- EIA-860 --------------------------------------------------------------------------------

def _workbook(title: str) -> bytes:
    """A tiny real workbook (openpyxl), or stand-in bytes: fetch only extracts, never parses."""
    try:
        import openpyxl
    except ImportError:
        return f"stand-in for {title}".encode()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([f"Form EIA-860 Data - Schedule {title}"])
    ws.append(["Utility ID", "Plant Code", "Plant Name", "State"])
    ws.append([14328, 3456, "Sim Gideon", "TX"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture()
def eia_zip() -> tuple[bytes, dict[str, bytes]]:
    members = {"2___Plant_Y2023.xlsx": _workbook("2, Plant"),
               "3_1_Generator_Y2023.xlsx": _workbook("3, Generator"),
               "LayoutY2023.xlsx": b"not needed"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue(), members


def test_eia860_downloads_the_zip_and_extracts_two_workbooks(tmp_path, fake_time, eia_zip,
                                                             geo_rank):
    blob, members = eia_zip
    replay = Replay(Exchange("GET", EIA, answer=blob))
    result = run_cli(geo_rank, ["eia860", "--out", str(tmp_path / "out"), "--cache-dir",
                                str(tmp_path / "cache")], replay, fake_time)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "2___Plant_Y2023.xlsx", "3_1_Generator_Y2023.xlsx", "eia8602023.zip"]
    assert (out / "eia8602023.zip").read_bytes() == blob
    for name in ("2___Plant_Y2023.xlsx", "3_1_Generator_Y2023.xlsx"):
        assert (out / name).read_bytes() == members[name]


def test_eia860_falls_back_to_the_archive_when_missing_or_not_a_zip(tmp_path, settings,
                                                                    fake_time, eia_zip):
    blob, _ = eia_zip
    for first in (Exchange("GET", EIA, status=404),
                  Exchange("GET", EIA, answer=b"<!DOCTYPE html><title>Page not found</title>")):
        replay = Replay(first, Exchange("GET", EIA_ARCHIVE, answer=blob))
        out = tmp_path / str(first.status) / ("html" if first.answer else "404")
        paths = fetching.fetch("eia860", out, year=2023, settings=settings.replace(
            use_cache=False), client=client_for(settings.replace(use_cache=False), replay,
                                                fake_time))
        assert replay.done()
        assert [p.name for p in paths] == ["eia8602023.zip", "2___Plant_Y2023.xlsx",
                                           "3_1_Generator_Y2023.xlsx"]
        assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)


def test_eia860_missing_everywhere_names_both_urls(tmp_path, settings, fake_time):
    replay = Replay(Exchange("GET", EIA, status=404), Exchange("GET", EIA_ARCHIVE, status=404))
    with pytest.raises(DataSourceError, match=r"no EIA-860 zip for 2023: .*xls/eia8602023.zip "
                                              r"\(not found\); .*archive.*\(not found\)"):
        fetching.fetch("eia860", tmp_path, year=2023,
                       client=client_for(settings, replay, fake_time))
    assert not list(tmp_path.glob("eia*"))


def test_eia860_zip_without_the_workbooks_is_an_error(tmp_path, settings, fake_time):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("Readme.txt", "nothing here")
    replay = Replay(Exchange("GET", EIA, answer=buf.getvalue()))
    with pytest.raises(DataSourceError, match=r"has no 2___Plant_Y2023.xlsx, "
                                              r"3_1_Generator_Y2023.xlsx \(it holds readme.txt"):
        fetching.fetch("eia860", tmp_path / "out", year=2023,
                       client=client_for(settings, replay, fake_time))
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
