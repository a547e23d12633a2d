"""The study months follow the process that governs a site's connection (geo.power).

The utility's own published figure first, else its ISO/RTO's, else the national default
(issue 29, item 4). Hand-made sites on the defaults of geo/settings.py (study_months 12, no
ISO or utility figure shipped) with the figures a qualifying user would set: ERCOT 9 (Batch
Zero), SPP 3 (HILL); the rest as in tests/test_power.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo import costs, power, score
from geo.settings import Settings

LOAD = 300.0
DEFAULTS = Settings()
# the campus transformers (34.6 months from month 0) would bind every grid path: left out
S = DEFAULTS.replace(study_months_by_iso={"ERCOT": 9.0, "SPP": 3.0},
                     campus_transformer_lead_months=0.0)


def test_no_process_figure_ships_so_every_site_says_national_default() -> None:
    # the published ERCOT and SPP lengths do not apply to a new firm request (settings.py)
    assert DEFAULTS.study_months_by_iso == {} and DEFAULTS.study_months_by_utility == {}
    out = costs.estimate(_sites(("ERCOT", "44372", "ONCOR"), ("SPP", None, "x")), LOAD,
                         DEFAULTS)
    assert out["grid_study_months"].tolist() == [12.0, 12.0]
    assert out["grid_study_basis"].tolist() == ["national default", "national default"]


def _sites(*who: tuple[object, object, object]) -> pd.DataFrame:
    """One site per (iso_rto, utility_eia_id, utility), the rest as tests/test_power.py."""
    return pd.DataFrame([{
        "site_id": f"s{i}", "poi_sub_id": "p", "poi_voltage_kv": 345.0,
        "tie_distance_km": 1.0, "interconnect": "Eastern", "subdivision": "US-IA",
        "hosting_mw": 900.0, "firm_mw": 600.0, "redundancy": "N-1 secure",
        "land_price_usd_per_acre": 5_000.0, "gas_field": None, "gas_field_km": None,
        "iso_rto": iso, "utility_eia_id": eia, "utility": name,
        "balancing_authority": None} for i, (iso, eia, name) in enumerate(who)])


def test_the_iso_then_the_utility_then_the_national_default() -> None:
    with_utility = S.replace(study_months_by_utility={"7140": 20.0})
    out = costs.estimate(_sites(("ERCOT", "44372", "ONCOR"),          # ERCOT: 9
                                ("none", "7140", "GEORGIA POWER CO"),  # utility figure: 20
                                ("none", "18642", "TVA"),              # neither: 12
                                (None, None, None),                   # outside the US: 12
                                ("ERCOT", "7140", "x")),              # utility before ISO
                         LOAD, with_utility)
    assert out["grid_study_months"].tolist() == [9.0, 20.0, 12.0, 12.0, 20.0]
    assert out["grid_study_basis"].tolist() == [
        "ERCOT process", "utility 7140", "national default", "national default",
        "utility 7140"]
    # the grid path: max(campus 18, study + max(bay 12, tie 11.6 + 0.39 x 1 km = 11.99))
    assert out["grid_months"].tolist() == pytest.approx([21.0, 32.0, 24.0, 24.0, 32.0])


def test_spp_and_a_number_read_eia_id() -> None:
    # SPP 3: 3 + 12 = 15 < campus 18, so the campus binds; an id read as 7140.0 still keys
    months, basis = power.study_months(
        {"iso_rto": np.array(["SPP", "MISO"], dtype=object),
         "utility_eia_id": np.array([np.nan, 7140.0], dtype=object)},
        2, S.replace(study_months_by_utility={"7140": 20.0}))
    assert months.tolist() == [3.0, 20.0] and basis.tolist() == ["SPP process", "utility 7140"]
    out = costs.estimate(_sites(("SPP", None, "x")), LOAD, S).iloc[0]
    assert out["grid_months"] == 18.0 and out["power_binding"] == "campus build"


def test_the_reasons_name_the_utility_the_iso_and_the_study() -> None:
    sites = _sites(("ERCOT", "44372", "ONCOR"), ("none", "18642", "TVA"))
    sites["balancing_authority"] = ["ERCO", "TVA"]
    sites["tier"] = "A"
    ranked = score.rank(costs.estimate(sites, LOAD, S), LOAD, S).set_index("site_id")
    ercot, tva = ranked.loc["s0", "reasons"], ranked.loc["s1", "reasons"]
    assert "; utility ONCOR, BA ERCO, ISO ERCOT; study 9 months (ERCOT process);" in ercot
    assert ("; utility TVA, BA TVA, no ISO (vertically integrated); study months: national "
            "default (12);") in tva
