"""Static scenario numbers for the ISTN channel generator (jaxcore side of ``IstnConfig``).

``jaxcore`` never imports ``solvers``; ``solvers.istn.config.IstnConfig.channel_params()``
converts the user config into this hashable ``NamedTuple`` of plain numbers and strings,
which is passed as a static argument to ``jax.jit`` (one compile per scenario).
All lengths in metres, angles in radians, gains linear, powers in watts.
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
