"""ISTN scenario configuration (spec istn.md §5), a frozen validated dataclass.

Every parameter of the spec's default table is a field with its default and provenance
tag (``paper``, ``3GPP``, ``derived``, ``assumption``); the alternatives the spec names are
config values (``sat_path_gain``, ``tbs_channel_mode``, ``elevation_draw``,
``sut_placement``, ``sensing_geometry``, ``radar_orientation``).  Load with
``solvers.configio.load_config(IstnConfig, path, overrides)``.

Algorithm settings (WMMSE iteration caps, tolerances, prox) belong to the solver configs,
and the number of Monte-Carlo drops is the ``--drops`` argument; they are not here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

from jaxcore.istn.params import ChannelParams
from solvers.configio import ConfigError, param, validate

C_LIGHT = 299792458.0
BOLTZMANN_DBM_HZ = -174.0


@dataclass(frozen=True)
class IstnConfig:
    # carrier and noise
    carrier_ghz: float = param(15.0, "carrier frequency f_c, GHz", source="paper", lo=0.5, hi=100.0)
    bandwidth_hz: float = param(100e6, "bandwidth, Hz", source="paper", lo=0, lo_open=True)
    noise_psd_dbm_hz: float = param(BOLTZMANN_DBM_HZ, "thermal noise PSD, dBm/Hz", source="paper", lo=-200, hi=-100)
    noise_figure_db: float = param(8.0, "receiver noise figure, dB (applied to TUT, SUT and radar)",
                                   source="paper (all receivers: assumption)", lo=0, hi=30)
    # LEO satellite
    leo_altitude_km: float = param(500.0, "LEO altitude, km", source="paper", lo=150, hi=2000)
    earth_radius_km: float = param(6371.0, "earth radius, km", source="derived", lo=6000, hi=7000)
    elevation_draw: str = param("30-90", "per-beam elevation: U[30,90] deg (zenith <= 60) or U[0,60] deg",
                                source="assumption (paper: 'within 60 deg')", choices=("30-90", "0-60"))
    p_leo_w: float = param(200.0, "total satellite power P_LEO, W (per-beam cap in P1)", source="paper", lo=0, lo_open=True)
    g_sat_dbi: float = param(38.0, "satellite antenna gain G_s, dBi", source="paper", lo=-10, hi=80)
    phi_3db_deg: float = param(1.0, "satellite beam 3-dB angle phi_3dB (half-angle), deg", source="paper eq. (2)",
                               lo=0, lo_open=True, hi=90)
    footprint_radius_km: float = param(10.0, "spot-beam footprint radius, km (documentation; cell lies inside)",
                                       source="paper", lo=0, lo_open=True)
    sat_shadow_std_db: float = param(4.0, "satellite-link log-normal shadowing sigma_xi, dB", source="paper", lo=0, hi=20)
    sat_path_gain: str = param("friis", "eq. (1) constant: Friis (lambda/4 pi)^2 or the literal (c/2 pi f_c)^2",
                               source="assumption (spec §1.6-1)", choices=("friis", "paper_literal"))
    # SUT
    sut_g_main_dbi: float = param(34.2, "SUT main-lobe gain, dBi", source="paper", lo=-10, hi=80)
    sut_g_side_dbi: float = param(21.2, "SUT side-lobe gain, dBi", source="paper", lo=-30, hi=80)
    sut_phi_th_deg: float = param(1.75, "SUT main-lobe half-width phi_th, deg", source="assumption", lo=0, lo_open=True, hi=90)
    sut_placement: str = param("uniform", "SUT uniform in the cell (d_2D >= min_d2d) or at sut_distance_m",
                               source="assumption", choices=("uniform", "fixed"))
    sut_distance_m: float = param(100.0, "TBS-SUT 2-D distance for sut_placement='fixed', m", source="assumption",
                                  lo=1, hi=5000)
    # terrestrial cells
    n_cells: int = param(1, "cells / spot beams M (one cell per beam)", source="paper", lo=1, hi=64)
    cell_radius_m: float = param(200.0, "cell radius, m", source="paper", lo=10, hi=5000)
    min_d2d_m: float = param(10.0, "minimum TBS-UT 2-D distance, m (38.901 validity)", source="assumption", lo=0)
    h_bs_m: float = param(10.0, "TBS height, m", source="paper", lo=1.5, hi=100)
    h_ut_m: float = param(1.5, "UT (TUT/SUT) height, m", source="paper", lo=1.0, hi=22.5)
    n_tut: int = param(5, "TUTs per cell K (single antenna)", source="paper", lo=1, hi=256)
    n_tx: int = param(30, "TBS ULA antennas N_TX", source="paper", lo=1, hi=1024)
    p_bs_dbm: float = param(35.0, "TBS power budget P_BS,m, dBm (sweep 20-40)", source="assumption / paper (Fig. 10)",
                            lo=-30, hi=70)
    tbs_channel_mode: str = param("3gpp", "eq. (4): Bernoulli LOS state (3gpp) or the literal P_LOS-weighted sum",
                                  source="assumption (spec §1.6-5)", choices=("3gpp", "paper_literal"))
    g_tut_dbi: float = param(0.0, "TUT receive gain toward the satellite, dBi", source="assumption", lo=-30, hi=40)
    g_rad_dbi: float = param(0.0, "radar element gain toward the satellite, dBi", source="assumption", lo=-30, hi=40)
    # sensing
    n_targets: int = param(4, "targets per cell N_tar (T)", source="paper", lo=1, hi=64)
    n_radar: int = param(4, "radar receivers per cell N_rad (R)", source="paper", lo=1, hi=64)
    n_rx: int = param(4, "antennas per radar receiver N_RX", source="paper", lo=1, hi=256)
    r_sens_m: float = param(50.0, "sensing radius r_sens (targets uniform in this disk), m", source="paper", lo=1, hi=5000)
    clutter_per_target: int = param(3, "clutter scatterers per target N_cl", source="paper", lo=0, hi=64)
    clutter_radius_m: float = param(5.0, "clutter within this distance of its target, m", source="assumption", lo=0)
    rcs_tar_m2: float = param(1.0, "target RCS sigma_tar, m^2", source="assumption", lo=0)
    rcs_cl_m2: float = param(1.0, "clutter RCS sigma_cl, m^2", source="assumption", lo=0)
    sens_min_dist_m: float = param(1.0, "distances in eq. (9) are clipped below at this value, m", source="assumption",
                                   lo=0, lo_open=True)
    sensing_geometry: str = param("2d", "sensing distances/angles with all nodes at z=0 (2d) or TBS at h_bs and "
                                  "targets/receivers at h_ut (3d)", source="assumption", choices=("2d", "3d"))
    radar_orientation: str = param("toward_centre", "radar ULA broadside toward the cell centre, or all along x",
                                   source="assumption", choices=("toward_centre", "x_axis"))
    delta_sat: Union[float, str] = param("auto", "association threshold on |du| for the satellite; 'auto' = 2/N_RX",
                                         source="assumption")
    delta_tar: Union[float, str] = param("auto", "association threshold on |du| between targets; 'auto' = 2/N_RX",
                                         source="assumption")
    # QoS
    r_min_sut: float = param(3.0, "SUT rate floor R_min^(S), bit/s/Hz (3, 7 Figs. 4-7; 5 Figs. 9-10)", source="paper", lo=0)
    scnr_min_db: float = param(-10.0, "SCNR floor, dB", source="paper", lo=-60, hi=60)
    # channel aging
    aging_corr: float = param(1.0, "channel-aging correlation of the terrestrial small-scale fading between the "
                              "P1 CSI (tau0 - dtau) and tau0; 1 = no aging (no *_pre fields written)",
                              source="assumption (paper assumption (ii))", lo=0, hi=1)

    def __post_init__(self):
        validate(self)
        for name in ("delta_sat", "delta_tar"):
            v = getattr(self, name)
            if isinstance(v, str) and v != "auto":
                raise ConfigError(f"{name}: expected 'auto' or a number >= 0, got {v!r}")
            if not isinstance(v, str) and not (math.isfinite(v) and v >= 0):
                raise ConfigError(f"{name}: expected 'auto' or a number >= 0, got {v!r}")
        if self.sut_g_side_dbi > self.sut_g_main_dbi:
            raise ConfigError(f"sut_g_side_dbi: expected <= sut_g_main_dbi ({self.sut_g_main_dbi}), "
                              f"got {self.sut_g_side_dbi}")
        if self.min_d2d_m >= self.cell_radius_m:
            raise ConfigError(f"min_d2d_m: expected < cell_radius_m ({self.cell_radius_m}), got {self.min_d2d_m}")

    # ---------------------------------------------------------------- derived values
    @property
    def wavelength_m(self) -> float:
        return C_LIGHT / (self.carrier_ghz * 1e9)

    @property
    def noise_w(self) -> float:
        """sigma^2 = PSD + 10 lg B + NF, in W (-86.0 dBm = 2.512e-12 W by default)."""
        dbm = self.noise_psd_dbm_hz + 10 * math.log10(self.bandwidth_hz) + self.noise_figure_db
        return 10 ** ((dbm - 30) / 10)

    @property
    def p_bs_w(self) -> float:
        return 10 ** ((self.p_bs_dbm - 30) / 10)

    @property
    def scnr_min_lin(self) -> float:
        return 10 ** (self.scnr_min_db / 10)

    @property
    def delta_sat_u(self) -> float:
        return 2.0 / self.n_rx if self.delta_sat == "auto" else float(self.delta_sat)

    @property
    def delta_tar_u(self) -> float:
        return 2.0 / self.n_rx if self.delta_tar == "auto" else float(self.delta_tar)

    @property
    def n_clutter(self) -> int:
        return self.clutter_per_target * self.n_targets

    def channel_params(self, precision: str = "float64"):
        """The static :class:`jaxcore.istn.params.ChannelParams` of the generator."""
        el = {"30-90": (30.0, 90.0), "0-60": (0.0, 60.0)}[self.elevation_draw]
        db = lambda x: 10 ** (x / 10)  # noqa: E731
        return ChannelParams(
            n_tut=self.n_tut, n_tx=self.n_tx, n_targets=self.n_targets, n_radar=self.n_radar, n_rx=self.n_rx,
            clutter_per_target=self.clutter_per_target, fc_hz=self.carrier_ghz * 1e9, wavelength_m=self.wavelength_m,
            cell_radius_m=self.cell_radius_m, min_d2d_m=self.min_d2d_m, h_bs_m=self.h_bs_m, h_ut_m=self.h_ut_m,
            sut_placement=self.sut_placement, sut_distance_m=self.sut_distance_m,
            earth_radius_m=self.earth_radius_km * 1e3, leo_altitude_m=self.leo_altitude_km * 1e3,
            el_min_rad=math.radians(el[0]), el_max_rad=math.radians(el[1]), sat_path_gain=self.sat_path_gain,
            g_sat=db(self.g_sat_dbi), phi_3db_rad=math.radians(self.phi_3db_deg),
            sat_shadow_std_db=self.sat_shadow_std_db, g_sut_main=db(self.sut_g_main_dbi),
            g_sut_side=db(self.sut_g_side_dbi), sut_phi_th_rad=math.radians(self.sut_phi_th_deg),
            g_tut_rx=db(self.g_tut_dbi), g_rad_rx=db(self.g_rad_dbi), tbs_channel_mode=self.tbs_channel_mode,
            r_sens_m=self.r_sens_m, clutter_radius_m=self.clutter_radius_m, rcs_tar_m2=self.rcs_tar_m2,
            rcs_cl_m2=self.rcs_cl_m2, sens_min_dist_m=self.sens_min_dist_m, sensing_geometry=self.sensing_geometry,
            radar_orientation=self.radar_orientation, aging_corr=self.aging_corr, precision=precision)
