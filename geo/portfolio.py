"""Portfolios: N sites that are firm *together*, and which top sites exclude each other.

Each site's ``hosting_mw`` / ``firm_mw`` is computed as if its load were the only new one.
:func:`choose` walks the ranked sites (one per point of interconnection) in rank order and
keeps a site only when its POI still hosts the load, N-0 and N-1, with the loads of the
sites already kept added to the base case (:func:`geo.grid.hosting.hosting` ``queued=``, on top
of any ``--queued-loads``); a site that no longer does is passed over, with the element
that now binds and the kept sites whose own limit is that element. Candidates are checked
in batches (one set of solves per batch; each island's factorisation and LODF columns are
solved once and kept across the runs); after a site is kept, the rest of the batch is
checked again, in a run of :data:`FIRST_AFTER_KEEP` candidates, then twice as many per run
up to :data:`BATCH`. A site that fits is kept only when it does not take a kept site below
its own load (the kept POIs re-checked with every load in: loads whose share of a kept
site's limit is below the cut-off are not in the candidate's own screen), and only when the
*joint screen* (:mod:`geo.grid.joint`) of every kept load and its own together passes: one
N-0 and N-1 screen of the loads' combined flow change, monitoring every branch whose
combined MW change (pre- and post-outage, by the LODFs) reaches the cut-off times the
largest load, so branches that no single site loads by the cut-off but all of them
together overload are seen. The set before the candidate passed it, so a failure needs
the candidate's load: the candidate, the lowest-ranked of the set, is passed over (not
shrunk) with the joint screen's binding branch and outage in its reason, and the walk
goes on to the next site. Once a site is kept, the next candidates first get the joint
screen's cheap upper bound (:func:`geo.grid.joint_bound.bound_each`, from the outages that
bound the walk's earlier joint screens): one it puts below 1 fails the complete screen
too, and is passed over without its hosting run or complete screen, with the bound ("at
most") in its reason; the choice is the same, as a site must pass every check. The
complete screens of a batch's candidates run in one pass per chunk
(:func:`geo.grid.joint.screen_each`). The chosen set is then verified jointly: each chosen POI, with
every other chosen load in the base case, must still host its load at N-0 and N-1 (no
monitored branch above its rating, N-0 or after a screened outage), and the joint screen
of the whole set must pass (:attr:`Portfolio.joint`).

:func:`shares_limit_with` is the cheap view for the one-site-at-a-time table: for each
site, the better-ranked sites whose binding element (N-1 limiting line, else N-0) is the
same, so a reader sees which top sites cannot all be built.

With ``flexible_load`` (``--flexible``: loads curtailed after an outage until upgrades make
them firm) every check above is on N-0 alone: the candidates are the sites whose POI hosts
the load (``serves_load``), a site is kept while its POI still hosts it N-0 with the kept
loads in, the binding element is the N-0 limiting line, and ``portfolio_remaining_mw`` is
N-0 MW, as the ranking judged those sites.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import secure
from geo._memory import reused_heap
from geo.grid import contingency, hosting, joint, joint_bound, shipped
from geo.grid.joint import Joint
from geo.grid.model import GridGraph
from geo.grid.network import plants_hash
from geo.settings import Settings

LOG = logging.getLogger(__name__)

#: Candidates checked per hosting run, at most.
BATCH = 24
#: Candidates in the first hosting run after a site is kept (then twice as many in each
#: next run, up to ``BATCH``): a site is often kept from the first few candidates after
#: the last one, and a kept site makes the rest of its run's figures stale.
FIRST_AFTER_KEEP = 2
#: The joint screen's bound (:func:`_settled`) is taken over the next ``WINDOW × BATCH``
#: candidates at once; the hosting run takes the first of them it does not settle.
WINDOW = 4
#: Relative slack of "hosts the load" (a load that exactly uses up a limit fits, whatever
#: the last bits of the solver say).
TOLERANCE = 1e-9
#: The reason of a site passed over by the joint screen starts with this (after the count).
JOINT_FAILS = "the joint screen of all their loads fails"
#: Relative amount by which kept loads are lowered when checking whether a new site takes a
#: kept one below its load (so that a load that exactly uses up a limit still shows > 0).
HAIR = 1e-6
#: A candidate is passed over on the joint screen's upper bound (:class:`_Screens`) only
#: when the bound is below 1 by this much (relative): far above the last bits by which its
#: solves may differ from the screen's. None: every candidate gets the complete screen.
BOUND_MARGIN: float | None = 1e-6


def _binding(sites: pd.DataFrame, flexible: bool = False) -> pd.Series:
    """The element each site's load binds: the N-1 limiting line, else the N-0 one (the N-0
    one only for a flexible load)."""
    firm = sites.get("firm_limiting_line_id", pd.Series(None, index=sites.index))
    n0 = sites.get("limiting_line_id", pd.Series(None, index=sites.index))
    if flexible:
        return n0.astype(object)
    # as objects: either may be held as categories (geo._compact), each its own
    return firm.astype(object).where(firm.notna(), n0.astype(object))


def _room(result: pd.DataFrame, poi: str, flexible: bool) -> float:
    """MW the POI can still take in a hosting run: N-0 and N-1 (firm), N-0 alone for a
    flexible load."""
    n0 = float(result.loc[poi, "hosting_mw"])
    return n0 if flexible else min(float(result.loc[poi, "firm_mw"]), n0)


def _limit(result: pd.DataFrame, poi: str, flexible: bool) -> object:
    """The line that binds the POI in a hosting run (N-0 alone for a flexible load)."""
    if flexible:
        return result.loc[poi, "limiting_line_id"]
    return result.loc[poi, "firm_limiting_line_id"] or result.loc[poi, "limiting_line_id"]


def shares_limit_with(sites: pd.DataFrame, shown: int = 5,
                      flexible: bool = False) -> np.ndarray:
    """Per site, the better-ranked sites at *other* POIs whose binding element (the N-1
    limiting line, else the N-0 one; the N-0 one for a ``flexible`` load) is the same as its
    own, as ``"#rank site_id"`` joined by ``; `` (at most ``shown``, then `` ...``); None
    when there is none.

    Vectorised: each POI is represented by its best-ranked site, and a site inherits the
    list of its POI's representative.
    """
    out = np.full(len(sites), None, dtype=object)
    if not len(sites):
        return out
    # the POIs as codes (-1: none) and each POI's best-ranked site with a binding element
    # found on arrays: only those representatives' ids become Python strings
    poi, _ = pd.factorize(sites["poi_sub_id"], use_na_sentinel=True)
    rank = sites["rank"].to_numpy()
    key = _binding(sites, flexible)
    usable = np.flatnonzero((poi >= 0) & key.notna().to_numpy())
    by_rank = usable[np.argsort(rank[usable], kind="stable")]
    _, first = np.unique(poi[by_rank], return_index=True)
    rows = by_rank[np.sort(first)]                   # the representatives, in rank order
    reps = pd.DataFrame({"rank": rank[rows],
                         "site": sites["site_id"].iloc[rows].astype(str).to_numpy(),
                         "poi": poi[rows], "key": key.to_numpy()[rows]})
    reps = reps.assign(label="#" + reps["rank"].astype(str) + " " + reps["site"])
    reps["pos"] = reps.groupby("key", sort=False).cumcount()
    firsts = reps[reps["pos"] < shown].groupby("key", sort=False)["label"].agg(list)
    lists = firsts.reindex(reps["key"]).to_numpy()
    text = [None if p == 0 else "; ".join(first[:p]) + (" ..." if p > shown else "")
            for first, p in zip(lists, reps["pos"].to_numpy(), strict=True)]
    # a POI without a representative (no binding element) reads NaN, as a reindex gave
    by_poi = np.full(int(poi.max()) + 1, np.nan, dtype=object)
    by_poi[reps["poi"].to_numpy()] = np.asarray(text, dtype=object)
    has = poi >= 0
    out[has] = by_poi[poi[has]]
    return out


def _loads(base: tuple[np.ndarray, np.ndarray], pois: np.ndarray, mw: np.ndarray
           ) -> pd.DataFrame:
    """The queue plus ``mw[i]`` at each of ``pois`` (``sub_id``, ``mw``)."""
    return pd.DataFrame({"sub_id": np.r_[base[0], np.asarray(pois, dtype=object)],
                         "mw": np.r_[base[1], np.asarray(mw, dtype=float)]})


@dataclass
class Portfolio:
    """What :func:`choose` returns: the chosen sites (in pick order) with
    ``portfolio_rank``, ``portfolio_remaining_mw`` (firm MW the POI still has with every
    other chosen load in: at least the load when the set is firm) and ``portfolio_shares``;
    the passed-over sites with ``portfolio_reason``; whether the joint screen found the set
    firm (``verified``: every POI's own screen with the others in, and the joint screen of
    all the loads, :attr:`joint`); and how many hosting runs and joint screens it took.

    ``provenance`` is filled by :func:`geo.pipeline.rank_portfolio`: the ranking's
    provenance with a ``portfolio`` entry (what the portfolio export carries)."""

    sites: gpd.GeoDataFrame
    passed_over: pd.DataFrame
    verified: bool
    checks: int
    provenance: dict[str, Any] = field(default_factory=dict)
    joint: Joint | None = None
    #: Of ``checks``, the joint screens settled by their upper bound (:class:`_Screens`).
    bounded: int = 0


def choose(ranked: gpd.GeoDataFrame, n: int, load_mw: float, grid: GridGraph,
           plants: gpd.GeoDataFrame | None, settings: Settings,
           queued: pd.DataFrame | None = None) -> Portfolio:
    """Pick ``n`` sites in rank order that are firm together (see the module docstring).

    ``ranked`` is :attr:`geo.pipeline.RankResult.ranked` (every candidate, ranked); only
    N-1 secure sites (``redundancy``; for a flexible load, sites whose POI hosts the load,
    ``serves_load``) with a POI are candidates, one per POI. Each site's
    load is its ``load_mw`` column when the sites carry one (a sites file), else
    ``load_mw``.
    """
    base = (np.zeros(0, dtype=object), np.zeros(0)) if queued is None else (
        queued["sub_id"].astype(str).to_numpy(dtype=object), queued["mw"].to_numpy(float))
    cand = ranked.sort_values("rank", kind="mergesort")
    flexible = settings.flexible_load
    fits = (cand["serves_load"].astype(bool) if flexible
            else cand["redundancy"].isin(secure.SECURE_LABELS))
    cand = cand[cand["poi_sub_id"].notna() & fits]
    cand = cand.drop_duplicates("poi_sub_id", keep="first")
    binding = _binding(cand, flexible)
    if "load_mw" in cand.columns:
        site_mw = pd.to_numeric(cand["load_mw"], errors="coerce").fillna(float(load_mw))
    else:
        site_mw = pd.Series(float(load_mw), index=cand.index)
    # every hosting run and joint screen of the walk reuses the heap's freed blocks (not
    # handed back between runs: fresh pages fault in again at each run)
    with reused_heap():
        return _walk(cand, n, site_mw, binding, base, flexible, grid, plants, settings, queued)


def _walk(cand, n, site_mw, binding, base, flexible, grid, plants, settings, queued
          ) -> Portfolio:
    """The walk of :func:`choose` over its candidates ``cand`` (one per POI, in rank order)."""
    kept: list[int] = []
    passed: list[tuple[int, str]] = []
    margin: dict[int, float] = {}   # MW a kept POI has beyond its load, all loads in
    checks, pos, rows = 0, 0, cand.index.to_numpy()
    size = BATCH                         # candidates in the next hosting run
    outages: dict[str, set[str]] = {}   # the outages that bound the joint screens so far
    bounded = 0                          # candidates passed over on the joint screen's bound
    reuse = _reuse(grid, plants, settings)    # shared by every hosting run
    while len(kept) < n and pos < len(rows):
        window = rows[pos:pos + WINDOW * BATCH]
        # the joint screen's bound first: a candidate it fails needs no hosting run
        settled = _settled(window, kept, cand, site_mw, queued, grid, plants, settings,
                           reuse, outages)
        batch = [row for row in window if row not in settled][:size]
        if batch:
            window = window[:list(window).index(batch[-1]) + 1]
        loads = _loads(base, cand.loc[kept, "poi_sub_id"].astype(str).to_numpy(),
                       site_mw.loc[kept].to_numpy())
        pois = dict(zip(batch, cand.loc[batch, "poi_sub_id"].astype(str), strict=True))
        rooms: dict = {}
        if batch:
            now = hosting.hosting(grid, plants, settings, sub_ids=sorted(set(pois.values())),
                                  queued=loads if len(loads) else None, reuse=reuse)
            checks += 1
            rooms = {row: _room(now, poi, flexible) for row, poi in pois.items()}
        fit = [row for row, room in rooms.items()
               if room >= float(site_mw.loc[row]) * (1 - TOLERANCE)]
        screens = _Screens(fit, kept, cand, site_mw, queued, grid, plants, settings, reuse,
                           outages)
        before = len(kept)
        for row in window:
            pos += 1
            need = float(site_mw.loc[row])
            if row in settled:
                checks += 1
                bounded += 1
                passed.append((row, f"with the {len(kept)} site(s) before it in, "
                                    f"{JOINT_FAILS}: {settled[row].describe()}"))
                continue
            room = rooms[row]
            if room >= need * (1 - TOLERANCE):
                # the joint screen first: it costs one solve per island, and _hurts updates
                # the kept sites' margins only for a site that is then kept
                together = screens.get(row)
                checks += 1
                hurt = (None if together.firm else
                        f"with the {len(kept)} site(s) before it in, {JOINT_FAILS}: "
                        f"{together.describe()}")
                if hurt is None:
                    hurt, checks = _hurts(row, need, kept, margin, cand, site_mw, base, grid,
                                          plants, settings, reuse, checks)
                if hurt is None:
                    margin[row] = room - need
                    kept.append(row)
                    break
                passed.append((row, hurt))
                continue
            line = _limit(now, pois[row], flexible)
            sharing = [f"#{cand.loc[k, 'rank']} {cand.loc[k, 'site_id']}" for k in kept
                       if line is not None and str(line) in str(binding.loc[k]).split(";")]
            what = "N-0 hosting" if flexible else "firm"
            passed.append((row, f"with the {len(kept)} site(s) before it in, {what} "
                                f"{room:,.0f} MW < {need:,.0f} MW (binds on line {line}"
                                + (f", the limit of {', '.join(sharing)}" if sharing else "")
                                + ")"))
        size = FIRST_AFTER_KEEP if len(kept) > before else min(2 * size, BATCH)
    chosen = cand.loc[kept].copy()
    verified = True
    final: Joint | None = None
    if len(chosen):
        # the joint screen: each chosen POI with every other chosen load (and the queue) in
        pois = chosen["poi_sub_id"].astype(str).to_numpy()
        need_mw = site_mw.loc[kept].to_numpy()
        left = np.empty(len(chosen))
        for i, poi in enumerate(pois):
            others = _loads(base, np.delete(pois, i), np.delete(need_mw, i))
            run = hosting.hosting(grid, plants, settings, sub_ids=[poi],
                                  queued=others if len(others) else None, reuse=reuse)
            checks += 1
            left[i] = _room(run, poi, flexible)
        final = _joint(kept, cand, site_mw, queued, grid, plants, settings, reuse)
        checks += 1
        verified = bool((left >= need_mw * (1 - TOLERANCE)).all()) and final.firm
        chosen["portfolio_rank"] = np.arange(1, len(chosen) + 1)
        chosen["portfolio_remaining_mw"] = np.round(left, 3)
        chosen["portfolio_shares"] = shares_limit_with(chosen.assign(
            rank=chosen["portfolio_rank"]), flexible=flexible)
    # the columns the terminal names a site by (geo.cli.tables.site_label), where present
    label = [c for c in ("candidate_kind", "site_name", "poi_name") if c in cand]
    passed_df = cand.loc[[r for r, _ in passed],
                         ["site_id", "rank", "poi_sub_id", *label]].copy()
    passed_df["portfolio_reason"] = [why for _, why in passed]
    LOG.info("portfolio: %d of %d chosen, %d passed over, %d hosting runs and joint screens "
             "(%d of them settled by the joint screen's bound), joint screen %s", len(chosen),
             n, len(passed_df), checks, bounded, joint_label(verified, flexible))
    return Portfolio(sites=chosen, passed_over=passed_df, verified=verified, checks=checks,
                     joint=final, bounded=bounded)


def _joint(rows, cand, site_mw, queued, grid, plants, settings, reuse) -> Joint:
    """The joint screen (:func:`geo.grid.joint.screen`) of the loads of ``rows`` together,
    with the queue in the base case."""
    return joint.screen(grid, plants, settings, _frame(rows, cand, site_mw), queued=queued,
                        reuse=reuse, n1=not settings.flexible_load)


class _Screens:
    """The complete joint screens (:func:`geo.grid.joint.screen_each`) of the candidates
    ``fit`` of one batch (those whose own POI hosts the load), each with the ``kept``
    loads, on demand and in chunks: the first asked for alone, then the next two, four, ...
    (while the walk keeps none of them every later one is needed; once it keeps one, the
    batch's rest is checked again with that load in). The outage that binds each screen is
    added to ``outages`` for the bound (:func:`_settled`)."""

    def __init__(self, fit, kept, cand, site_mw, queued, grid, plants, settings, reuse,
                 outages):
        self.args = (cand, site_mw, queued, grid, plants, settings, reuse)
        self.kept, self.outages = _frame(list(kept), cand, site_mw), outages
        self.done: dict = {}
        self.fit = list(fit)
        self.at = {row: i for i, row in enumerate(self.fit)}
        self.chunk = 1

    def get(self, row) -> Joint:
        if row not in self.done:
            cand, site_mw, queued, grid, plants, settings, reuse = self.args
            rows = self.fit[self.at[row]:self.at[row] + self.chunk]
            self.chunk *= 2
            found = joint.screen_each(grid, plants, settings, self.kept,
                                      _frame(rows, cand, site_mw), queued=queued, reuse=reuse,
                                      n1=not settings.flexible_load)
            for j in found:
                _witness(self.outages, j)
            self.done.update(zip(rows, found, strict=True))
        return self.done[row]


def _settled(window, kept, cand, site_mw, queued, grid, plants, settings, reuse,
             outages) -> dict:
    """The candidates of ``window`` that the joint screen's upper bound
    (:func:`geo.grid.joint_bound.bound_each`, from the ``outages`` that bound the walk's earlier
    joint screens) puts below 1 by more than :data:`BOUND_MARGIN`, with that bound: each
    fails the complete joint screen with the ``kept`` loads too, so it is passed over
    without a hosting run or the complete screen. None with no kept site."""
    if not len(kept) or BOUND_MARGIN is None:
        return {}
    bounds = joint_bound.bound_each(grid, plants, settings, _frame(list(kept), cand, site_mw),
                              _frame(list(window), cand, site_mw), outages, queued=queued,
                              reuse=reuse, n1=not settings.flexible_load)
    return {row: bound for row, bound in zip(window, bounds, strict=True)
            if bound.fits < 1.0 - BOUND_MARGIN}


def _witness(outages: dict[str, set[str]], found: Joint) -> None:
    """Add the outage that binds a joint screen to ``outages`` (by dispatch case)."""
    if found.kind == contingency.OUTAGE and found.outage_line_id is not None:
        outages.setdefault(found.case or hosting.BASE_CASE, set()).add(
            str(found.outage_line_id))


def _frame(rows, cand, site_mw) -> pd.DataFrame:
    """The loads of ``rows`` (``sub_id``, ``mw``)."""
    return pd.DataFrame({"sub_id": cand.loc[rows, "poi_sub_id"].astype(str).to_numpy(),
                         "mw": site_mw.loc[rows].to_numpy(float)})


def _reuse(grid: GridGraph, plants: gpd.GeoDataFrame | None, settings: Settings) -> dict:
    """What the hosting runs share (factorisations, LODF columns), seeded with the edges'
    own PTDFs from the shipped results when those were computed from this grid, plants and
    settings: the flow-shift screens around the chosen sites then solve none of them."""
    reuse: dict = {}
    if settings.use_cache:
        run_key = shipped.key(grid, plants_hash(plants), settings)
        values = shipped.read_self_ptdf(grid, run_key)
        if values is not None:
            reuse[hosting.SELF_PTDF] = values
    return reuse


def _hurts(row, need, kept, margin, cand, site_mw, base, grid, plants, settings, reuse,
           checks) -> tuple[str | None, int]:
    """Whether adding the site ``row`` (its own POI hosts it) takes a kept site below its
    load: the kept POIs are re-checked with every load in, their own included, so a POI
    whose firm MW beyond its load was positive and is now 0 no longer fits. This catches
    the loads whose share of a kept site's limit is below the distribution-factor cut-off
    (the candidate's own screen does not watch that element). Returns the reason (None
    when no kept site is hurt) and the hosting-run count."""
    if not kept:
        return None, checks
    pois = cand.loc[kept, "poi_sub_id"].astype(str).to_numpy()
    # the kept loads a hair below their MW: one that exactly fits keeps a margin above 0
    loads = _loads(base, np.append(pois, str(cand.loc[row, "poi_sub_id"])),
                   np.append(site_mw.loc[kept].to_numpy() * (1 - HAIR), need))
    after = hosting.hosting(grid, plants, settings, sub_ids=sorted(set(pois)), queued=loads,
                            reuse=reuse)
    for k, poi in zip(kept, pois, strict=True):
        left = _room(after, poi, settings.flexible_load)
        if margin[k] > 0 and left <= 0:
            line = _limit(after, poi, settings.flexible_load)
            return (f"its load would take #{cand.loc[k, 'rank']} {cand.loc[k, 'site_id']} "
                    f"below its own load (binds on line {line})"), checks + 1
    for k, poi in zip(kept, pois, strict=True):
        margin[k] = _room(after, poi, settings.flexible_load)
    return None, checks + 1


def passed_by_joint(chosen: Portfolio) -> int:
    """How many sites the joint screen passed over."""
    return int(chosen.passed_over["portfolio_reason"].astype(str)
               .str.contains(JOINT_FAILS, regex=False).sum())


def joint_label(verified: bool, flexible: bool = False) -> str:
    """What the joint screen found: "firm" / "NOT firm" ("N-0 hosted" / "NOT N-0 hosted" for
    a flexible load)."""
    word = "N-0 hosted" if flexible else "firm"
    return word if verified else f"NOT {word}"


def limiting_lines(chosen: Portfolio, lines: gpd.GeoDataFrame,
                   flexible: bool = False) -> gpd.GeoDataFrame:
    """The lines that bind the kept sites (each labelled with the sites it limits), for
    the map."""
    binding = _binding(chosen.sites, flexible)
    who: dict[str, list[str]] = {}
    for key, rank, site in zip(binding, chosen.sites["portfolio_rank"],
                               chosen.sites["site_id"].astype(str), strict=True):
        if key is None or (isinstance(key, float) and np.isnan(key)):
            continue
        for element in str(key).split(";"):
            who.setdefault(element, []).append(f"#{rank} {site}")
    picked = lines[lines["line_id"].astype(str).isin(list(who))]
    picked = picked.drop_duplicates("line_id")
    labels = [f"line {lid}: limits " + ", ".join(who[str(lid)]) for lid in picked["line_id"]]
    return gpd.GeoDataFrame({"line_id": picked["line_id"].astype(str).to_numpy(),
                             "label": labels}, geometry=picked.geometry.to_numpy(),
                            crs=lines.crs)
