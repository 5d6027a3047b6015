"""Static scenario numbers for the ISTN channel generator (jaxcore side of ``IstnConfig``).

``jaxcore`` never imports ``solvers``; ``solvers.istn.config.IstnConfig.channel_params()``
converts the user config into this hashable ``NamedTuple`` of plain numbers and strings.
All lengths in metres, angles in radians, gains linear, powers in watts.

Compile once per sweep: the generator's jitted programs take the structure of the scenario
(sizes, modes, precision and the numbers that enter Python branches) as a static argument and
the scenario's other numbers (:data:`TRACED_FIELDS`: gains, radii, RCS, elevation range, ...)
as traced float64 scalars (:func:`split_params`, :func:`join_params`), so a sweep over any of
them (Fig. 8's r_sens, the sensitivity study's gains, RCS and radii) reuses one compiled
program.  Drops are bit-identical to those of a build with every number static (tested:
``tests/jaxcore/istn/test_traced_params.py``).
"""
from __future__ import annotations

from typing import NamedTuple


class ChannelParams(NamedTuple):
    # sizes
    n_tut: int = 5              # K
    n_tx: int = 30              # Nt (TBS ULA)
    n_targets: int = 4          # T
    n_radar: int = 4            # R
    n_rx: int = 4               # Nr
    clutter_per_target: int = 3  # L = clutter_per_target * T
    # carrier
    fc_hz: float = 15e9
    wavelength_m: float = 299792458.0 / 15e9
    # cell geometry
    cell_radius_m: float = 200.0
    min_d2d_m: float = 10.0
    h_bs_m: float = 10.0
    h_ut_m: float = 1.5
    sut_placement: str = "uniform"   # "uniform" | "fixed"
    sut_distance_m: float = 100.0
    # satellite, eqs. (1)-(3)
    earth_radius_m: float = 6371e3
    leo_altitude_m: float = 500e3
    el_min_rad: float = 0.5235987755982988   # 30 deg
    el_max_rad: float = 1.5707963267948966   # 90 deg
    sat_path_gain: str = "friis"     # "friis" (lambda/4 pi d)^2 | "paper_literal" (lambda/2 pi d)^2
    g_sat: float = 10 ** 3.8         # G_s
    phi_3db_rad: float = 0.017453292519943295
    sat_shadow_std_db: float = 4.0
    g_sut_main: float = 10 ** 3.42
    g_sut_side: float = 10 ** 2.12
    sut_phi_th_rad: float = 0.030543261909900768  # 1.75 deg
    g_tut_rx: float = 1.0
    g_rad_rx: float = 1.0
    # terrestrial channel
    tbs_channel_mode: str = "3gpp"   # "3gpp" | "paper_literal"
    # sensing, eqs. (8)-(10)
    r_sens_m: float = 50.0
    clutter_radius_m: float = 5.0
    rcs_tar_m2: float = 1.0
    rcs_cl_m2: float = 1.0
    sens_min_dist_m: float = 1.0
    sensing_geometry: str = "2d"     # "2d" (all z = 0) | "3d" (TBS at h_bs, targets/receivers at h_ut)
    radar_orientation: str = "toward_centre"  # | "x_axis"
    # channel aging (assumption (ii) of the paper)
    aging_corr: float = 1.0
    # precision of the small-scale synthesis (geometry and random draws are always float64)
    precision: str = "float64"

    @property
    def n_clutter(self) -> int:
        return self.clutter_per_target * self.n_targets


#: Numbers that stay static (compile-time constants) although they are floats: the carrier and
#: the heights enter Python branches of the 38.901 formulas, ``aging_corr`` selects the
#: aging branch, and the shadowing spread is folded by XLA into the ``10 ** (.)`` chain (traced,
#: it moves the satellite gains by 1 ulp: measured), so it stays a constant to keep drops
#: bit-identical.
STATIC_FLOATS = ("fc_hz", "wavelength_m", "h_bs_m", "h_ut_m", "aging_corr", "sat_shadow_std_db")
#: The numbers passed as traced float64 scalars (every other float field).
TRACED_FIELDS = tuple(k for k, v in ChannelParams._field_defaults.items()
                      if isinstance(v, float) and k not in STATIC_FLOATS)


def split_params(p: ChannelParams) -> tuple[ChannelParams, dict[str, float]]:
    """``(static, values)``: ``p`` with every :data:`TRACED_FIELDS` entry set to None (the
    hashable static argument; equal for every value of a sweep) and those values as a dict
    of Python floats (to be passed traced, as float64 scalars)."""
    return p._replace(**{k: None for k in TRACED_FIELDS}), {k: float(getattr(p, k)) for k in TRACED_FIELDS}


def join_params(static: ChannelParams, values: dict) -> ChannelParams:
    """Inverse of :func:`split_params` inside a traced function: the static fields with the
    traced values put back."""
    return static._replace(**values)
