"""The pieces of a Dask H3 surface that the client and the workers share (geo.partitions):
the parent cells cover exactly the single-process cells, the outline centres add up exactly
over partitions, and the outside-US figures add up over partitions."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import shapely

from geo import candidates, outlines, partitions, prices

#: A lopsided quadrilateral over Rhode Island's latitude (lon, lat): coast-like edges.
OUTLINE = shapely.Polygon([(-71.9, 41.3), (-71.1, 41.45), (-71.2, 42.0), (-71.8, 41.95)])


#: A box over the Great Plains: at resolution 3 (the parents are the cells) about 200 cells.
PLAINS = shapely.box(-110, 30, -90, 45)


@pytest.mark.parametrize(("outline", "res"), [(OUTLINE, 7), (PLAINS, 3)])
def test_the_parents_of_a_plan_give_exactly_the_cells_of_cells_in(outline: shapely.Polygon,
                                                                   res: int) -> None:
    whole, centres = candidates.cells_in(outline, res)
    parts = partitions.plan(outline, res, partition_sites=max(1, len(whole) // 10))
    assert all(p.test == (res > 3) for p in parts)
    assert len(parts) >= 8
    pieces = [p.sites(outline) for p in parts]
    ids = np.concatenate([s["site_id"].to_numpy() for s in pieces]).astype(str)
    assert len(ids) == len(set(ids)) == len(whole)        # no cell twice, none missing
    assert sorted(ids) == sorted(candidates.h3_sites(whole, centres)["site_id"].astype(str))
    # the same centres, bit for bit
    got = pd.concat(pieces).set_index("site_id").sort_index()
    want = candidates.h3_sites(whole, centres).set_index("site_id").sort_index()
    assert (got.geometry.x.to_numpy() == want.geometry.x.to_numpy()).all()
    assert (got.geometry.y.to_numpy() == want.geometry.y.to_numpy()).all()
    # the plan is the same every time (the parents in Hilbert order)
    again = partitions.plan(outline, res, partition_sites=max(1, len(whole) // 10))
    assert all((a.parents == b.parents).all() for a, b in zip(parts, again, strict=True))


def test_a_plan_cuts_about_partition_sites_cells_a_part() -> None:
    # resolution 7 from parents of resolution 4: 343 cells a parent
    parents, test = candidates.h3_parents(OUTLINE, 7)
    assert test
    parts = partitions.plan(OUTLINE, 7, partition_sites=343 * 5)
    assert len(parts) == -(-len(parents) // 5)
    assert sum(len(p.parents) for p in parts) == len(parents)
    assert max(len(p.parents) for p in parts) - min(len(p.parents) for p in parts) <= 1


def test_exact_sums_give_the_fsum_centre_over_any_split() -> None:
    assert partitions.exact_sum(np.array([1e16, 1.0, -1e16])) == 1
    assert partitions.exact_sum(np.array([0.1, 0.2])) == Fraction(0.1) + Fraction(0.2)
    assert float(partitions.exact_sum(np.array([0.1, 0.2]))) == 0.30000000000000004
    assert partitions.exact_sum(np.array([])) == 0
    rng = np.random.default_rng(7)
    lonlat = np.column_stack([rng.uniform(-125, -66, 5000), rng.uniform(24, 50, 5000)])
    lonlat[::7] *= 1e-9  # values of very different size
    want = outlines.centre_of(lonlat)
    assert want is not None
    for cuts in ([2500], [1, 2, 3, 4999], list(range(100, 5000, 377))):
        chunks = np.split(lonlat, cuts)
        lat = sum((partitions.exact_sum(c[:, 1]) for c in chunks), Fraction(0))
        lon = sum((partitions.exact_sum(c[:, 0]) for c in chunks), Fraction(0))
        assert (float(lat) / len(lonlat), float(lon) / len(lonlat)) == want


def test_outside_us_figures_add_over_partitions() -> None:
    sites = pd.DataFrame({"country_iso3": ["NOR", "NOR", "USA", "SWE", "NOR"],
                          "energy_price_usd_per_mwh": [36.1, np.nan, 71.1, 40.0, 36.1],
                          "energy_price_note": ["SSB 2019", None, "EIA 2023", "SCB", "SSB 2019"],
                          "land_price_usd_per_acre": [np.nan, 900.0, 5000.0, np.nan, np.nan]})
    whole = prices.figures_outside_us(sites)
    assert whole is not None
    assert whole["electricity_price"] == ("SCB; SSB 2019 at 3 of 4 sites, unknown at 1 (no "
                                          "published price in reach for their area)")
    assert whole["land_price"] == "given at 1 of 4 sites"
    counts = None
    for part in (sites.iloc[:2], sites.iloc[2:3], sites.iloc[3:]):
        counts = prices.add_counts(counts, prices.outside_us_counts(part))
    assert prices.figures_of(counts) == whole
    assert prices.outside_us_counts(sites.iloc[2:3]) is None  # a US partition adds nothing
