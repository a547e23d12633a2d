"""Who serves a site: its electric utility, balancing authority and ISO/RTO.

From the territories layer (``data/us/territories.parquet``: HIFLD retail service
territories, control areas and ISO/RTO areas with EIA-861 2024 attributes), by the rule of
:mod:`geo.grid.serving`, which also gives the POIs their balancing authority: a site's
utility is the retail service territory that contains it; where several do (territories
overlap, e.g. a co-op inside an investor-owned utility's area), the one that also contains
the site's POI comes first, then one whose balancing authority (EIA-861) is that of the
site's control area (the smallest BA or ISO/RTO polygon containing it), then the one with
more customers, then the territory id, and ``utility_overlap`` names the others. The
balancing authority is the utility's own (EIA-861), else the control area's; the ISO/RTO
is the utility's, else that of the ISO polygon containing the site; a site in a non-ISO
area (a vertically integrated utility's) is ``none``. Outside every territory (or outside
the US) the columns are null.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import GeoRankError, SettingsError
from geo.grid import serving
from layers.build.territories import ALIASES_PATH
from layers.paths import data_dir

#: ``iso_rto`` of a site whose utility belongs to no ISO/RTO.
NO_ISO = "none"
COLUMNS = ("utility", "utility_eia_id", "balancing_authority", "iso_rto", "utility_overlap")
#: Closest names offered for an unknown --iso or --utility (difflib similarity at least this).
NEAREST_CUTOFF = 0.6


def tag(sites: gpd.GeoDataFrame, territories: gpd.GeoDataFrame,
        poi: np.ndarray | None = None, poi_codes: np.ndarray | None = None
        ) -> dict[str, np.ndarray]:
    """The :data:`COLUMNS` for each site (EPSG:4326 points), in the sites' order.

    ``poi``: the POI point of each site (None where it has none), which ranks overlapping
    utilities; or, with ``poi_codes`` (each site's position in ``poi``), the distinct POIs.
    The utility and the balancing authority follow :func:`geo.grid.serving.serve`, the
    rule that gives the POIs their participation area.
    """
    n = len(sites)
    out = {c: np.full(n, None, dtype=object) for c in COLUMNS}
    if n == 0 or len(territories) == 0:
        return out
    points = sites.geometry.to_numpy()
    served = serving.serve(points, territories, poi, poi_codes)
    retail, pairs = served.retail, served.pairs
    out["balancing_authority"] = served.balancing_authority
    first = pairs.drop_duplicates("site")
    rows, at = first["site"].to_numpy(), first["area"].to_numpy()
    names = retail["name"].astype(object).to_numpy()
    out["utility"][rows] = names[at]
    out["utility_eia_id"][rows] = retail["eia_id"].astype(object).to_numpy()[at]
    iso_text = serving.text(retail, "iso_rto")
    out["iso_rto"][rows] = iso_text[at]
    # which rows hold a utility and an ISO, from the areas' (not row by row over objects)
    has_utility, has_iso = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    has_utility[rows] = pd.notna(names)[at]
    has_iso[rows] = pd.notna(iso_text)[at]
    others = pairs[pairs.duplicated("site")]
    if len(others):  # sorted by site: one "; "-joined run of names per site
        site = others["site"].to_numpy()
        starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
        length = np.diff(np.r_[starts, len(site)])
        # each site's run of areas as a row (-1 after its end): each distinct run is
        # joined once, not once per site (neighbouring sites share their overlaps)
        runs = np.full((len(starts), int(length.max())), -1, dtype=np.int64)
        runs[np.repeat(np.arange(len(starts)), length),
             np.arange(len(site)) - np.repeat(starts, length)] = others["area"].to_numpy()
        which = np.zeros(len(starts), dtype=np.int64)  # the run's code, one column at a time
        for column in runs.T:
            which = pd.factorize(which * (len(names) + 1) + column + 1)[0]
        first = np.unique(which, return_index=True)[1]
        joined = np.array(["; ".join(names[run[run >= 0]].tolist()) for run in runs[first]]
                          + [None], dtype=object)[:-1]
        out["utility_overlap"][site[starts]] = joined[which]

    # the ISO polygons where the utility's own EIA-861 record says nothing: the first
    # containing one; a non-ISO area (no code) is an answer: no ISO
    hits = served.iso_pairs.drop_duplicates("site")
    iso_code = serving.text(served.isos, "code")
    area, hit_site = hits["area"].to_numpy(), hits["site"].to_numpy()
    missing = ~has_iso[hit_site]
    codes, no_code = iso_code[area[missing]], pd.isna(iso_code)[area[missing]]
    out["iso_rto"][hit_site[missing]] = np.where(no_code, NO_ISO, codes)
    has_iso[hit_site[missing]] = True
    out["iso_rto"][has_utility & ~has_iso] = NO_ISO
    return out


@dataclass(frozen=True)
class Filter:
    """Who may serve the kept sites (``--iso``, ``--utility``): ISO/RTO codes as the
    territories spell them and EIA utility ids; an empty tuple does not filter."""

    isos: tuple[str, ...] = ()
    eia_ids: tuple[str, ...] = ()
    #: The filter as given, for messages and the provenance.
    asked: str = ""

    def keep(self, sites: pd.DataFrame) -> pd.DataFrame:
        """The sites whose ``iso_rto`` and ``utility_eia_id`` pass (both filters, if given)."""
        mask = np.ones(len(sites), dtype=bool)
        if self.isos:
            mask &= sites["iso_rto"].isin(self.isos).to_numpy()
        if self.eia_ids:
            ids = sites["utility_eia_id"].astype(object).map(
                lambda v: "" if v is None or v != v else str(v)).to_numpy()
            mask &= np.isin(ids, self.eia_ids)
        return sites[mask]


def _many(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _closest(word: str, names: Sequence[str], show: int = 3) -> str:
    """"; closest: A, B" by difflib similarity to the whole name or to its start of the
    same length (so "dominon" finds "DOMINION ENERGY ..."); "" when none is close."""
    key = word.strip().upper()
    scored = []
    for name in names:
        upper = name.upper()
        score = max(difflib.SequenceMatcher(None, key, upper).ratio(),
                    difflib.SequenceMatcher(None, key, upper[:len(key)]).ratio())
        if score >= NEAREST_CUTOFF:
            scored.append((-score, name))
    near = [name for _, name in sorted(scored)[:show]]
    return f"; closest: {', '.join(near)}" if near else ""


def utility_aliases() -> pd.DataFrame:
    """The embedded other names of utilities (``data/us/utility_aliases.csv``: holding
    companies and the EIA ids of their utilities, built from CommonGrid's ``utilities.json``
    by ``layers/build/territories.py``); empty when the file is absent."""
    path = data_dir() / ALIASES_PATH
    if not path.is_file():
        return pd.DataFrame({"alias": [], "eia_id": []}, dtype=object)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def check_filter(territories: gpd.GeoDataFrame, region: str,
                 iso: str | Sequence[str] | None = None,
                 utility: str | Sequence[str] | None = None,
                 aliases: pd.DataFrame | None = None) -> Filter | None:
    """The :class:`Filter` for ``--iso`` and ``--utility`` (None when neither is given).

    ISO/RTO codes are matched case-insensitively against the territories' (``none``: no
    ISO, a vertically integrated utility); a utility by its name (case-insensitive, every
    territory of that name) or its EIA id, else by a holding company's name (``aliases``:
    columns ``alias``, ``eia_id``; default :func:`utility_aliases`: "Dominion Energy" is
    Virginia Electric & Power), else by the start of one name or holding company ("Georgia
    Power": GEORGIA POWER CO).

    Raises
    ------
    SettingsError
        One line naming the flag: an unknown name with the closest ones, a start shared by
        several utilities with their names, or a region with no territories.
    """
    isos, names = _many(iso), _many(utility)
    if not isos and not names:
        return None
    flags = " and ".join(f for f, v in (("--iso", isos), ("--utility", names)) if v)
    if len(territories) == 0:
        raise SettingsError(f"{flags}: {region} has no utility territories (the embedded "
                            "ones cover the US); drop the filter or give --territories")
    kind = territories["kind"].astype(str).to_numpy()
    codes = {str(c) for c in territories.loc[kind == "iso_rto", "code"].dropna()}
    codes |= {str(c) for c in territories["iso_rto"].dropna()} | {NO_ISO}
    by_upper = {c.upper(): c for c in codes}
    chosen_isos = []
    for name in isos:
        if name.strip().upper() not in by_upper:
            raise SettingsError(f"--iso {name!r}: unknown ISO/RTO{_closest(name, sorted(codes))}"
                                f" (known: {', '.join(sorted(codes))})")
        chosen_isos.append(by_upper[name.strip().upper()])
    retail = territories[kind == "retail_service_territory"]
    ids = retail["eia_id"].astype(object).map(lambda v: "" if v is None or v != v else str(v))
    upper = retail["name"].astype(str).str.strip().str.upper()
    # every name a utility answers to -> its EIA ids: its own, then its holding company's
    known: dict[str, list[str]] = {}
    for n, i in zip(upper, ids, strict=True):
        known.setdefault(n, []).append(i)
    names_of = dict(zip(ids, retail["name"].astype(str), strict=True))
    held: dict[str, list[str]] = {}
    table = utility_aliases() if aliases is None and names else aliases
    if table is not None:
        for a, i in zip(table["alias"].astype(str), table["eia_id"].astype(str), strict=True):
            if i in names_of and a.strip().upper() not in known:
                held.setdefault(a.strip().upper(), []).append(i)
    chosen_ids: list[str] = []
    for name in names:
        key = name.strip().upper()
        hit = list(ids[(upper == key) | (ids == name.strip())]) or held.get(key, [])
        starts = sorted(n for n in [*known, *held] if n.startswith(key) and len(n) > len(key)
                        and not n[len(key)].isalnum()) if key else []  # whole words
        if not hit and len(starts) == 1:  # "Georgia Power": GEORGIA POWER CO, alone
            hit = known.get(starts[0]) or held[starts[0]]
        if not hit and len(starts) > 1:
            shown = [n if n in known else
                     f"{n} (holding company of {', '.join(names_of[i] for i in held[n])})"
                     for n in starts[:6]]
            raise SettingsError(f"--utility {name!r}: {len(starts)} utilities start so: "
                                f"{'; '.join(shown)}{'; ...' if len(starts) > 6 else ''}; "
                                "give one whole name or an EIA id")
        if not hit or not key:
            raise SettingsError(f"--utility {name!r}: no utility of that name or EIA id"
                                f"{_closest(key, sorted(set(retail['name'].astype(str))))}")
        chosen_ids += [i for i in hit if i and i not in chosen_ids]
    asked = "; ".join([*(f"--iso {i}" for i in isos), *(f"--utility {u}" for u in names)])
    return Filter(tuple(dict.fromkeys(chosen_isos)), tuple(chosen_ids), asked)


def keep(sites: pd.DataFrame, who: Filter | None, region: str) -> pd.DataFrame:
    """``who.keep(sites)``; an empty result is refused in one line naming the filter."""
    if who is None:
        return sites
    kept = who.keep(sites)
    if len(kept) == 0:
        raise GeoRankError(f"no candidate site in {region} passes {who.asked}")
    return kept
