"""Who serves a site (geo.territories): utility, balancing authority, ISO/RTO, overlaps."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

import layers
from geo import territories
from geo.errors import GeoRankError, SettingsError
from geo.grid import dispatch, serving
from geo.pipeline import rank_sites
from geo.territories import NO_ISO


def _areas() -> gpd.GeoDataFrame:
    rows = [  # kind, name, eia_id, code, ba, iso, customers, polygon
        ("retail_service_territory", "Big IOU", "1", None, "PJM", "PJM", 1_000_000,
         box(0, 0, 10, 10)),
        ("retail_service_territory", "Small Coop", "2", None, None, None, 5_000,
         box(4, 4, 6, 6)),                                       # inside Big IOU
        ("retail_service_territory", "Mountain Muni", "3", None, None, None, 2_000,
         box(20, 0, 30, 10)),
        ("balancing_authority", "Cross-state BA", None, "XBA", None, None, None,
         box(18, -5, 40, 15)),                                   # spans two 'states'
        ("iso_rto", "West (non-ISO)", None, None, None, None, None, box(15, -5, 40, 15)),
    ]
    return gpd.GeoDataFrame(
        {"territory_id": [f"t{i}" for i in range(len(rows))], "kind": [r[0] for r in rows],
         "name": [r[1] for r in rows], "eia_id": [r[2] for r in rows],
         "code": [r[3] for r in rows], "balancing_authority": [r[4] for r in rows],
         "iso_rto": [r[5] for r in rows], "customers": [r[6] for r in rows]},
        geometry=[r[7] for r in rows], crs="EPSG:4326")


def _sites(*xy: tuple[float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[Point(p) for p in xy], crs="EPSG:4326")


def _rows_as_areas(rows: list[tuple]) -> gpd.GeoDataFrame:
    """Territories from (kind, name, eia_id, code, balancing_authority, iso_rto, customers,
    polygon) rows, ids a, b, c, ..."""
    names = ("kind", "name", "eia_id", "code", "balancing_authority", "iso_rto", "customers")
    columns = {"territory_id": [chr(ord("a") + i) for i in range(len(rows))]}
    columns.update({n: [r[i] for r in rows] for i, n in enumerate(names)})
    return gpd.GeoDataFrame(columns, geometry=[r[7] for r in rows], crs="EPSG:4326")


def test_overlaps_the_poi_first_then_customers_and_the_others_named():
    sites = _sites((5, 5), (5, 5), (25, 5), (50, 50))
    poi = np.array([Point(5, 5), Point(1, 1), Point(25, 5), None], dtype=object)
    out = pd.DataFrame(territories.tag(sites, _areas(), poi=poi))
    # site 0: its POI lies in both: more customers first; site 1: its POI only in Big IOU
    assert out["utility"].tolist()[:2] == ["Big IOU", "Big IOU"]
    assert out["utility_overlap"].tolist()[:2] == ["Small Coop", "Small Coop"]
    no_poi = pd.DataFrame(territories.tag(sites.iloc[:1], _areas()))
    assert no_poi["utility"].tolist() == ["Big IOU"]
    poi_in_coop = pd.DataFrame(territories.tag(
        sites.iloc[:1], _areas().assign(customers=[1_000_000, 5_000, 2_000, None, None]),
        poi=np.array([Point(5, 5.5)], dtype=object)))
    assert poi_in_coop["utility"].tolist() == ["Big IOU"]  # both contain it: customers
    assert out.loc[0, "balancing_authority"] == "PJM" and out.loc[0, "iso_rto"] == "PJM"


def test_the_distinct_pois_with_each_sites_code_give_what_each_sites_poi_gives():
    """``poi_codes``: sites sharing a POI name it by its position among the distinct POIs
    (one a substation, not placed again per site); a code of a missing POI finds nothing."""
    sites = _sites((5, 5), (5, 5), (5, 5), (5.2, 5), (5, 5), (25, 5), (50, 50))
    distinct = np.array([Point(1, 1), None, Point(5, 5), Point(25, 5)], dtype=object)
    codes = np.array([0, 1, 0, 1, 2, 3, 1])
    # Small Coop has more customers here: it serves a site in both territories unless the
    # site's POI lies in Big IOU alone (1, 1)
    coop = _areas().assign(customers=[5_000, 1_000_000, 2_000, None, None])
    got = pd.DataFrame(territories.tag(sites, coop, poi=distinct, poi_codes=codes))
    want = pd.DataFrame(territories.tag(sites, coop, poi=distinct[codes]))
    pd.testing.assert_frame_equal(got, want)
    assert got["utility"].tolist()[:6] == ["Big IOU", "Small Coop", "Big IOU", "Small Coop",
                                           "Small Coop", "Mountain Muni"]
    assert got["utility_overlap"].tolist()[:2] == ["Small Coop", "Big IOU"]


def test_the_ba_polygon_and_the_non_iso_area_fill_what_the_utility_does_not_say():
    out = pd.DataFrame(territories.tag(_sites((25, 5), (35, 5)), _areas()))
    assert out.loc[0].tolist() == ["Mountain Muni", "3", "XBA", NO_ISO, None]
    # outside every retail territory, inside the BA and the non-ISO area
    assert pd.isna(out.loc[1, "utility"]) and out.loc[1, "balancing_authority"] == "XBA"
    assert out.loc[1, "iso_rto"] == NO_ISO


def test_the_utility_of_the_control_area_comes_before_more_customers():
    # Houston: inside Entergy Texas's polygon (MISO, many customers) and CenterPoint's (a
    # wires company in ERCOT, no retail customers); the site lies in ERCOT's control area
    rows = [("retail_service_territory", "Entergy Texas", "55937", None, "MISO", "MISO",
             490_000, box(0, 0, 10, 10)),
            ("retail_service_territory", "CenterPoint", "8901", None, "ERCO", "ERCOT", None,
             box(4, 4, 6, 6)),
            ("balancing_authority", "ERCOT", None, "ERCO", None, None, None, box(3, 3, 8, 8)),
            # control areas overlap: SPP's larger polygon reaches over ERCOT's
            ("balancing_authority", "SPP", None, "SWPP", None, None, None, box(-9, -9, 20, 20))]
    areas = _rows_as_areas(rows)
    out = pd.DataFrame(territories.tag(_sites((5, 5), (1, 1)), areas))
    assert out["utility"].tolist() == ["CenterPoint", "Entergy Texas"]
    assert out["iso_rto"].tolist() == ["ERCOT", "MISO"]
    assert out.loc[0, "utility_overlap"] == "Entergy Texas"
    assert pd.isna(out.loc[1, "utility_overlap"])


def test_a_site_shows_the_balancing_authority_its_poi_is_served_from():
    # SPP's BA polygon reaches over MISO's ISO area (MISO has no BA polygon); two utilities
    # overlap there: a MISO one and an SPP one with more customers. The POI's BA (the
    # participation area) counts the ISO polygon as MISO's control area, the smaller one,
    # so the MISO utility serves; the site shows the same (before, the site's rule saw SPP's
    # polygon only and showed the SPP utility). At (9, 9) no utility: the smallest control
    # area, MISO's, not the first polygon found.
    rows = [("retail_service_territory", "Muni of MISO", "1", None, "MISO", "MISO", 1_000,
             box(2, 2, 8, 8)),
            ("retail_service_territory", "IOU of SPP", "2", None, "SWPP", "SPP", 50_000,
             box(2, 2, 8, 8)),
            ("balancing_authority", "SPP", None, "SWPP", "SWPP", "SPP", None,
             box(-10, -10, 20, 20)),
            ("iso_rto", "MISO", None, "MISO", None, "MISO", None, box(0, 0, 10, 10))]
    areas = _rows_as_areas(rows)
    sites = _sites((5, 5), (9, 9), (15, 15))
    out = territories.tag(sites, areas, poi=sites.geometry.to_numpy())
    assert out["utility"].tolist() == ["Muni of MISO", None, None]
    assert out["balancing_authority"].tolist() == ["MISO", "MISO", "SWPP"]
    assert out["balancing_authority"].tolist() == \
        dispatch.balancing_areas(sites, areas).tolist()
    assert out["iso_rto"].tolist() == ["MISO", "MISO", None]  # (15, 15): in no ISO area


def test_a_site_outside_every_territory_is_null():
    out = pd.DataFrame(territories.tag(_sites((50, 50)), _areas()))
    assert out.loc[0].isna().all()


def test_real_spot_checks():
    bundle = layers.load("US-TX")
    sites = _sites((-99.73, 32.45), (-77.49, 39.04), (-90.05, 35.15), (-95.86, 41.26))
    out = pd.DataFrame(territories.tag(sites, bundle.territories))
    assert out["iso_rto"].tolist() == ["ERCOT", "PJM", NO_ISO, "MISO"]
    assert out["balancing_authority"].tolist() == ["ERCO", "PJM", "TVA", "MISO"]
    assert out.loc[1, "utility"] == "VIRGINIA ELECTRIC & POWER CO"      # Dominion
    assert out.loc[3, "utility"] == "MIDAMERICAN ENERGY CO"


# --- --iso and --utility (geo.territories.check_filter) -------------------------------------
def _check(iso=None, utility=None, areas=None, aliases=None):
    return territories.check_filter(_areas() if areas is None else areas, "XX", iso, utility,
                                    aliases)


def test_filters_match_iso_codes_and_utility_names_or_ids_case_insensitively():
    assert _check() is None
    assert _check(iso=["pjm", "NONE"]).isos == ("PJM", NO_ISO)
    assert _check(utility="big iou").eia_ids == ("1",)
    assert _check(utility=["2", "Mountain"]).eia_ids == ("2", "3")  # an id; a unique start
    who = _check(iso="PJM", utility="Small Coop")
    sites = pd.DataFrame({"iso_rto": ["PJM", "PJM", NO_ISO, None],
                          "utility_eia_id": ["1", "2", "2", None]})
    assert who.keep(sites).index.tolist() == [1]                 # both filters must pass
    assert _check(iso="none").keep(sites).index.tolist() == [2]


@pytest.mark.parametrize(("iso", "utility", "message"), [
    ("PJN", None, "--iso 'PJN': unknown ISO/RTO; closest: PJM (known: PJM, none)"),
    (None, "Big IUO", "--utility 'Big IUO': no utility of that name or EIA id; closest: "
                      "Big IOU"),
    (None, "9", "--utility '9': no utility of that name or EIA id"),
])
def test_unknown_names_say_the_flag_and_the_closest(iso, utility, message):
    with pytest.raises(SettingsError) as err:
        _check(iso=iso, utility=utility)
    assert str(err.value) == message


def test_a_holding_company_names_its_utilities_and_a_shared_start_is_refused():
    aliases = pd.DataFrame({"alias": ["Big Holdings", "Big Holdings", "Ghost Holdings"],
                            "eia_id": ["1", "2", "99"]})         # 99: no territory here
    assert _check(utility="big holdings", aliases=aliases).eia_ids == ("1", "2")
    assert _check(utility="Big", aliases=aliases.iloc[:0]).eia_ids == ("1",)  # alone
    with pytest.raises(SettingsError) as err:
        _check(utility="big", aliases=aliases)
    assert str(err.value) == ("--utility 'big': 2 utilities start so: BIG HOLDINGS (holding "
                              "company of Big IOU, Small Coop); BIG IOU; give one whole name "
                              "or an EIA id")
    with pytest.raises(SettingsError, match="no utility of that name"):
        _check(utility="Ghost Holdings", aliases=aliases)


def test_dominion_is_virginia_electric_and_power_or_asked_which():
    # the embedded aliases (CommonGrid's holding companies): "Dominion Energy" is Virginia
    # Electric & Power (EIA 19876); "dominion" alone also starts Dominion Energy South
    # Carolina's name, so it is refused with both instead of picking South Carolina's
    terr = layers.load("US-TX").territories
    assert territories.check_filter(terr, "US", utility="Dominion Energy").eia_ids == \
        ("19876",)
    assert territories.check_filter(terr, "US", utility="Duke Energy").eia_ids == \
        ("15470", "19446", "3046", "5416", "6455")
    with pytest.raises(SettingsError, match=r"^--utility 'dominion': 2 utilities start so: "
                                            r"DOMINION ENERGY \(holding company of VIRGINIA "
                                            r"ELECTRIC & POWER CO\); DOMINION ENERGY SOUTH "
                                            r"CAROLINA, INC; give one"):
        territories.check_filter(terr, "US", utility="dominion")


def test_a_region_without_territories_says_so():
    with pytest.raises(SettingsError, match=r"^--iso and --utility: XX has no utility "
                                            r"territories"):
        _check(iso="PJM", utility="x", areas=_areas().iloc[:0])
    with pytest.raises(GeoRankError, match="no candidate site in XX passes --iso PJM"):
        territories.keep(pd.DataFrame({"iso_rto": [NO_ISO], "utility_eia_id": ["3"]}),
                         _check(iso="PJM"), "XX")


@pytest.mark.slow
def test_the_filter_comes_before_the_top_cut():
    # in Texas the best MISO site ranks 182nd unfiltered: filtered, the top 3 are MISO's
    result = rank_sites("US-TX", load_mw=300, top=3, iso="MISO")
    assert result.sites["iso_rto"].tolist() == ["MISO"] * 3
    assert result.sites["rank"].tolist() == [1, 2, 3]
    assert set(result.ranked["iso_rto"]) == {"MISO"} and len(result.ranked) == 20
    assert result.provenance["who_filter"] == {"iso_rto": ["MISO"], "utility_eia_id": []}


def test_containing_lists_pairs_as_a_tree_of_the_areas_would():
    """`serving.containing` asks the points' tree with each area (fast), but returns the pairs in
    the order a tree of the areas gives each point (the first hit picks a BA or ISO polygon):
    random points over overlapping polygons, some on an edge, some missing."""
    rng = np.random.default_rng(3)
    lo = rng.uniform(0, 80, (60, 2))
    polygons = [box(x, y, x + w, y + h) for (x, y), (w, h)
                in zip(lo, rng.uniform(5, 40, (60, 2)), strict=True)]
    areas = gpd.GeoDataFrame(geometry=polygons, crs="EPSG:4326")
    xy = np.round(rng.uniform(0, 100, (3000, 2)), 0)  # whole numbers: some on an edge
    points = np.array([Point(p) for p in xy] + [None, None], dtype=object)
    points = points[rng.permutation(len(points))]
    ok = np.flatnonzero(pd.notna(points))
    site, area = shapely.STRtree(polygons).query(points[ok],
                                                  predicate="intersects")
    got = serving.containing(points, areas)
    assert got["site"].tolist() == ok[site].tolist()
    assert got["area"].tolist() == area.tolist()
    assert len(got) > len(ok)  # overlaps were tested


def test_overlaps_of_several_utilities_are_named_in_order_for_each_site():
    """Runs of two and more other utilities, shared by some sites and not by others: each
    site names its own, in the serving order (customers here)."""
    rows = [("retail_service_territory", name, str(i), None, None, None, customers, poly)
            for i, (name, customers, poly) in enumerate([
                ("Big", 900, box(0, 0, 10, 10)), ("Mid", 500, box(0, 0, 6, 10)),
                ("Small", 100, box(0, 0, 3, 10)), ("East", 50, box(8, 0, 10, 10))])]
    sites = _sites((1, 5), (4, 5), (2, 2), (9, 5), (7, 5), (50, 50))
    out = pd.DataFrame(territories.tag(sites, _rows_as_areas(rows)))
    assert out["utility"].tolist()[:5] == ["Big"] * 5
    assert out["utility_overlap"].tolist()[:4] == ["Mid; Small", "Mid", "Mid; Small", "East"]
    assert out["utility_overlap"].iloc[4:].isna().all() and pd.isna(out["utility"].iloc[5])


@pytest.mark.parametrize("side", [0.25, 3.0])
def test_containing_by_squares_finds_the_pairs_a_tree_of_the_points_finds(monkeypatch, side):
    """Squares wholly inside an area give their points untested, the others test theirs:
    the same pairs as testing every point (unordered), with points on the squares' edges
    (multiples of the side), on the areas' outlines and at their corners, and areas that
    cover whole squares or none."""
    monkeypatch.setattr(serving, "SQUARE_DEG", side)
    rng = np.random.default_rng(7)
    xy = np.r_[np.round(rng.uniform(-20, 20, (4000, 2)) * 4) / 4,  # on the squares' edges
               rng.uniform(-20, 20, (2000, 2))]
    points = np.array([Point(p) for p in xy] + [None], dtype=object)
    polygons = [box(-10, -10, 10, 10), box(0, 0, 0.75, 0.5), box(-3.3, 1.1, 7.9, 2.6),
                shapely.Polygon([(-15, -15), (15, -12), (0, 18)]), box(30, 30, 31, 31)]
    areas = gpd.GeoDataFrame(geometry=polygons, crs="EPSG:4326")
    area, site = shapely.STRtree(points[:-1]).query(np.array(polygons), predicate="intersects")
    order = np.lexsort((area, site))
    got = serving.containing(points, areas, ordered=False)
    assert got["site"].tolist() == site[order].tolist()
    assert got["area"].tolist() == area[order].tolist()
    anyhow = serving.containing(points, areas, ordered=None)  # the same pairs, unsorted
    assert anyhow.sort_values(["site", "area"], ignore_index=True).equals(got)
    whole = serving.squares(points).tree.query(np.array(polygons), predicate="contains")[0]
    assert len(whole) > 0 and len(got) > 3000  # some squares are taken whole
    # "contains" (outlines.contained): a point on an outline is not contained
    area, site = shapely.STRtree(points[:-1]).query(np.array(polygons), predicate="contains")
    strict = serving.hits(points, np.array(polygons), serving.squares(points), "contains")
    assert strict.tolist() == np.sort(site * len(polygons) + area).tolist()
    loose = serving.hits(points, np.array(polygons), serving.squares(points), "contains",
                         ordered=False)  # the same keys, not sorted
    assert np.sort(loose).tolist() == strict.tolist() and loose.tolist() != strict.tolist()
    assert len(strict) < len(got)  # points on the edges were left out
