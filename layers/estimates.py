"""Estimates for line ratings and reactances where a source gives none.

Every estimate is marked ``estimated`` in the layer's ``*_source`` column by its caller.

Ratings follow NREL reVX's transmission capacity classes (reVX ``least_cost_xmission``
defaults: 69 kV 102 MW, 138 kV 205 MW, 230 kV 400 MW, 345 kV 750 MW, 500 kV 1,500 MW),
interpolated linearly in voltage between classes and extended at the ends (765 kV:
3,000 MW, twice the 500 kV class, close to its surge-impedance loading of about 2,200 MW
times the ~1.3 short-line factor). Reactances use typical overhead-line values in ohms per
km by voltage class (single circuit, 60 Hz; e.g. Glover, Sarma & Overbye, *Power System
Analysis and Design*, Table A.4 and common utility data): 0.48 up to 161 kV, 0.42 at
230 kV, 0.37 at 345 kV, 0.33 at 500 kV, 0.31 at 765 kV.
"""

from __future__ import annotations

import numpy as np

#: (voltage kV, rating MW per circuit): reVX capacity classes, plus 765 kV (see above).
RATING_CLASSES_MW: tuple[tuple[float, float], ...] = (
    (69.0, 102.0),
    (138.0, 205.0),
    (230.0, 400.0),
    (345.0, 750.0),
    (500.0, 1500.0),
    (765.0, 3000.0),
)

#: (voltage kV, series reactance ohm/km) for overhead lines.
REACTANCE_OHM_PER_KM: tuple[tuple[float, float], ...] = (
    (69.0, 0.48),
    (161.0, 0.48),
    (230.0, 0.42),
    (345.0, 0.37),
    (500.0, 0.33),
    (765.0, 0.31),
)

BASE_MVA = 100.0


def _interp(voltage_kv: np.ndarray, table: tuple[tuple[float, float], ...]) -> np.ndarray:
    kv, val = (np.array(c, dtype=float) for c in zip(*table, strict=True))
    v = np.asarray(voltage_kv, dtype=float)
    out = np.interp(v, kv, val)
    # below the lowest class: scale with voltage (same current), never above the class value
    low = v < kv[0]
    out[low] = val[0] * v[low] / kv[0]
    return out


def rating_mw(voltage_kv: np.ndarray, circuits: np.ndarray | float = 1.0) -> np.ndarray:
    """Estimated thermal rating in MW from voltage class and number of circuits.

    >>> rating_mw(np.array([69.0, 230.0, 345.0, 500.0])).tolist()
    [102.0, 400.0, 750.0, 1500.0]
    """
    return _interp(voltage_kv, RATING_CLASSES_MW) * np.asarray(circuits, dtype=float)


def reactance_pu(voltage_kv: np.ndarray, length_km: np.ndarray,
                 circuits: np.ndarray | float = 1.0) -> np.ndarray:
    """Estimated series reactance in per unit on a 100 MVA base.

    x_pu = x_ohm_per_km * length_km / (V_kV^2 / S_base), parallel circuits divide it.

    >>> round(float(reactance_pu(np.array([345.0]), np.array([100.0]))[0]), 5)
    0.03109
    """
    v = np.asarray(voltage_kv, dtype=float)
    z_base = v**2 / BASE_MVA
    x_ohm = _interp(v, REACTANCE_OHM_PER_KM) * np.asarray(length_km, dtype=float)
    return x_ohm / z_base / np.asarray(circuits, dtype=float)
