"""The joint screen's upper bound (geo.grid.joint_bound.bound_each), which lets the portfolio walk
pass a candidate over without its complete joint screen: on the hand-built grid of
tests/test_portfolio_joint.py (three POIs behind H; a load at any of them puts 0.5 / 20.5
of itself on the weak branch MH N-0 and 1 / 21 after the outage of AHa).

The bound is the lowest load ratio over entries the complete screen provably checks, so it
is never below the screen's answer: a candidate it puts below 1 fails the screen too.
"""

from __future__ import annotations

import pandas as pd
import pytest

from geo import portfolio
from geo.grid import joint, joint_bound
from tests.test_portfolio_joint import POIS, _network

AHA = {"base": {"AHa"}}


def _frame(pois: list[str], mw: float) -> pd.DataFrame:
    return pd.DataFrame({"sub_id": pois, "mw": mw})


def test_the_bound_at_the_binding_outage_is_the_screens_answer():
    g, plants, st, *_ = _network(30.0)
    # P1 and P2 kept, P3 the candidate: 900 / 21 = 42.86 MW on MH (rated 30) after AHa's
    # outage, so 30 / 42.86 = 70 % of every load fits
    bound = joint_bound.bound_each(g, plants, st, _frame(POIS[:2], 300.0), _frame(POIS[2:], 300.0),
                             AHA)[0]
    assert bound.bound and bound.fits == pytest.approx(30.0 / (900 / 21))
    assert (bound.kind, bound.limiting_line_id, bound.outage_line_id) == ("outage", "MH", "AHa")
    assert bound.describe().startswith("the loads fit together to at most 70.0 % of their MW")
    # the complete screen of the three fails there too
    full = joint.screen(g, plants, st, _frame(POIS, 300.0))
    assert not full.firm and full.fits == pytest.approx(bound.fits)


def test_a_candidate_the_bound_lets_through_is_screened_in_full():
    g, plants, st, *_ = _network(30.0)
    # 200 MW each: 600 / 21 = 28.57 MW on MH after AHa's outage: 105 % fits
    bound = joint_bound.bound_each(g, plants, st, _frame(POIS[:2], 200.0), _frame(POIS[2:], 200.0),
                             AHA)[0]
    assert bound.fits == pytest.approx(30.0 / (600 / 21))
    assert joint.screen(g, plants, st, _frame(POIS, 200.0)).firm


def test_the_bound_counts_only_branches_the_screen_monitors():
    # MH rated 10 MW: one 300 MW load puts 300 / 21 = 14.29 MW on it after AHa's outage,
    # over its rating but below the 15 MW cut-off, so the screen does not monitor it (one
    # load's joint screen is its own screen) and the load fits; the bound must say so too
    g, plants, st, *_ = _network(10.0)
    full = joint.screen(g, plants, st, _frame(POIS[:1], 300.0))
    assert full.firm
    bound = joint_bound.bound_each(g, plants, st, _frame([], 300.0), _frame(POIS[:1], 300.0),
                             AHA)[0]
    assert bound.fits >= full.fits * (1 - 1e-9) and bound.fits >= 1.0


def test_the_walk_passes_the_candidate_over_on_the_bound(monkeypatch):
    g, plants, st, _, ranked = _network(30.0)
    # s2's joint screen (with s1) binds on MH after AHa's outage: that outage bounds s3's
    chosen = portfolio.choose(ranked, 3, 300.0, g, plants, st)
    assert chosen.sites["site_id"].tolist() == ["s1", "s2"] and chosen.verified
    assert chosen.bounded == 1
    reason = chosen.passed_over.set_index("site_id").loc["s3", "portfolio_reason"]
    assert ("the loads fit together to at most 70.0 % of their MW (line MH after the "
            "outage of line AHa; base case)") in reason
    # without the bound: the complete screen, the same choice, its own answer
    monkeypatch.setattr(portfolio, "BOUND_MARGIN", None)
    chosen = portfolio.choose(ranked, 3, 300.0, g, plants, st)
    assert chosen.sites["site_id"].tolist() == ["s1", "s2"] and chosen.bounded == 0
    reason = chosen.passed_over.set_index("site_id").loc["s3", "portfolio_reason"]
    assert "the loads fit together to 70.0 % of their MW (line MH after" in reason


def test_screening_several_sets_in_one_pass_gives_each_sets_screen():
    g, plants, st, *_ = _network(30.0)
    each = joint.screen_each(g, plants, st, _frame(POIS[:1], 300.0),
                             pd.DataFrame({"sub_id": POIS[1:], "mw": [300.0, 100.0]}))
    alone = [joint.screen(g, plants, st, pd.DataFrame({"sub_id": [POIS[0], p], "mw": [300.0, mw]}))
             for p, mw in zip(POIS[1:], [300.0, 100.0], strict=True)]
    assert each == alone
    # hand: 600 / 21 MW on MH after AHa's outage, and 400 / 21 MW (M = 300 MW both times)
    assert [j.fits for j in each] == pytest.approx([30 / (600 / 21), 30 / (400 / 21)])
