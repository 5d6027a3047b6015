"""Scenario configuration of the NTN world, ``../shared/spec/ntn.md`` §4 (Table II).

Per-shell quantities are tuples with one entry per orbital shell (default: shell 0 = the
S-band 1110-km shell, shell 1 = the Ka-band 550-km shell).  Every default carries the
provenance tag of spec §4 (``REC-H``/``REC-M``/``REC-L``/``SRC``/``TXT``).  Solver parameters
of JMRA/DMRAB live in the allocator's own config.

Decisions recorded here (spec inconsistencies / open choices):
* Transmit power is per beam (spec §4 REC-M) and derived from the TR 38.821 Set-1 EIRP
  densities: S 40 dBW/MHz at 30 MHz with 30 dBi -> 299.9 W; Ka 4 dBW/MHz at 400 MHz with
  38.5 dBi -> 0.1419 W.
* Bands: ``L``, ``S``, ``C`` links are rain-free (A = 1, spec (6) note: at 2 GHz the P.838
  coefficient is ~1000x smaller); ``X``, ``Ku``, ``K``, ``Ka`` links get rain attenuation (6)
  and are the ones sensed with pilots.  Any other band name is a ConfigError.
* ``rain_height_mode = "fixed"`` uses ``rain_height_km`` (spec §4: 3 km); ``"itu-p839"`` uses
  the ITU-R P.839 rain height of each cell centre (2.1-3.5 km over the default box).
* ``handover_mode = "fixed"`` uses ``t_ho_s``; ``"kappa"`` uses (16) with ``ho_kappa``.
* tau_max (11) is the maximum over ALL shells (as (11) is written); ``tau_sensed_only``
  restricts it to the sensed shells (spec §8 shows both readings: 10 vs 20 ms floor).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from solvers.configio import ConfigError, param, validate

BANDS = ("L", "S", "C", "X", "Ku", "K", "Ka")
RAIN_BANDS = ("X", "Ku", "K", "Ka")

SHELL_FIELDS = ("shell_band", "shell_altitude_km", "shell_inclination_deg", "shell_planes",
                "shell_sats_per_plane", "shell_phasing", "shell_freq_ghz", "shell_bandwidth_mhz",
                "shell_sat_gain_dbi", "shell_power_w", "shell_pointing_loss_db", "shell_min_elev_deg",
                "shell_beams", "shell_user_gain_dbi", "shell_noise_psd_dbm_hz", "shell_misc_loss_db",
                "shell_gas_zenith_db")


@dataclass(frozen=True)
class NtnConfig:
    """NTN world parameters (spec §4 Table II); tuples are per shell."""

    # ---- constellation (Walker-delta circular shells) ----
    shell_band: tuple[str, ...] = param(("S", "Ka"), "radio band of each shell", source="TXT")
    shell_altitude_km: tuple[float, ...] = param((1110.0, 550.0), "orbit altitude h_s [km]", source="REC-L", lo=150, hi=40000)
    shell_inclination_deg: tuple[float, ...] = param((53.8, 53.0), "inclination [deg]", source="REC-L", lo=0, hi=180)
    shell_planes: tuple[int, ...] = param((32, 72), "orbital planes P", source="REC-L", lo=1)
    shell_sats_per_plane: tuple[int, ...] = param((50, 22), "satellites per plane", source="REC-L", lo=1)
    shell_phasing: tuple[int, ...] = param((1, 1), "Walker phasing factor F (0..P-1)", source="REC-L", lo=0)
    # ---- radio (per shell) ----
    shell_freq_ghz: tuple[float, ...] = param((2.0, 20.0), "carrier frequency f_s [GHz]", source="REC-H", lo=0.1, hi=100)
    shell_bandwidth_mhz: tuple[float, ...] = param((30.0, 400.0), "bandwidth per beam B_s [MHz]", source="REC-H", lo=0, lo_open=True)
    shell_sat_gain_dbi: tuple[float, ...] = param((30.0, 38.5), "satellite antenna gain G_s [dBi]", source="REC-H")
    shell_power_w: tuple[float, ...] = param((299.9, 0.1419), "transmit power per beam P_s [W] (from EIRP density)", source="REC-L", lo=0, lo_open=True)
    shell_pointing_loss_db: tuple[float, ...] = param((0.3, 0.3), "pointing loss eta_pt [dB]", source="REC-L", lo=0)
    shell_min_elev_deg: tuple[float, ...] = param((40.0, 25.0), "minimum elevation alpha_min [deg], in (0, 90)", source="REC-L",
                                                  lo=0, hi=90, lo_open=True, hi_open=True)
    shell_beams: tuple[int, ...] = param((16, 16), "beams per satellite N_b", source="REC-L", lo=1)
    shell_user_gain_dbi: tuple[float, ...] = param((0.0, 39.7), "user/anchor antenna gain G_{c,s} [dBi]", source="REC-M")
    shell_noise_psd_dbm_hz: tuple[float, ...] = param((-167.0, -172.8), "noise PSD N_0 [dBm/Hz] (spec: -174 + NF; "
                                                      "TR 38.821 VSAT G/T 15.9 dB/K = 39.7 dBi over 150 K antenna + "
                                                      "NF 1.2 dB -> T_sys 242 K -> -174.8 dBm/Hz for Ka)", source="REC-M")
    shell_misc_loss_db: tuple[float, ...] = param((0.0, 0.0), "fixed link losses beyond (4) [dB]: shadowing margin + "
                                                  "scintillation + polarisation (TR 38.821 Set-1 link budgets: S-band "
                                                  "handheld 3 + 2.2 + 3 = 8.2 dB; Ka VSAT 0 + 0.3 + 0 = 0.3 dB); "
                                                  "0 in the literal spec", source="SRC (3GPP TR 38.821 Table 6.1.3.3-1)", lo=0)
    shell_gas_zenith_db: tuple[float, ...] = param((0.0, 0.0), "atmospheric (gas) absorption at zenith [dB], applied "
                                                   "as zenith / sin(elevation) (TR 38.811 6.6.4 / ITU-R P.676; "
                                                   "TR 38.821 quotes 0.07 dB (S) and 1.1 dB (Ka) at 30 deg: 0.035 and "
                                                   "0.55 at zenith); 0 in the literal spec", source="SRC (3GPP TR 38.811)", lo=0)
    # ---- ground area ----
    lat_min_deg: float = param(45.0, "southern edge of the area [deg]", source="REC-L", lo=-90, hi=90)
    lat_max_deg: float = param(55.0, "northern edge of the area [deg]", source="REC-L", lo=-90, hi=90)
    lon_min_deg: float = param(5.0, "western edge of the area [deg]", source="REC-L", lo=-180, hi=180)
    lon_max_deg: float = param(20.0, "eastern edge of the area [deg]", source="REC-L", lo=-180, hi=180)
    cell_deg: float = param(0.5, "square cell size [deg]", source="REC-L", lo=0, lo_open=True)
    active_ratio: float = param(0.1, "fraction of active users beta", source="REC-L", lo=0, hi=1)
    population_source: str = param("geonames", "per-cell population: geonames city proxy for GPWv4, a user file, or uniform",
                                   choices=("geonames", "file", "uniform"))
    population_file: str = param("", "population grid file (CSV/.npy/.npz with lat, lon, pop) for population_source=file")
    population_kernel_cells: float = param(0.5, "std of the Gaussian kernel spreading each city [cells]; 0 = none", lo=0)
    uniform_population: float = param(100000.0, "people per cell for population_source=uniform", lo=0)
    # ---- rain (Cowpertwait-style cells + DTMC, eqs. (6)-(10)) ----
    rain_density_per_km2: float = param(1e-3, "rain-cell PPP density lambda_R [1/km^2]", source="REC-L", lo=0)
    rain_mean_intensity_mmh: float = param(10.0, "mean rain intensity mu_R [mm/h]", source="REC-L", lo=0)
    rain_mean_radius_km: float = param(10.0, "mean rain-cell radius mu_r [km]", source="REC-L", lo=0, lo_open=True)
    rain_mean_duration_h: float = param(1.0, "mean rain-episode duration mu_D [h]", source="REC-L", lo=0, lo_open=True)
    rain_mean_gap_h: float = param(9.0, "mean time between episodes mu_I [h]", source="REC-L", lo=0, lo_open=True)
    rain_margin_km: float = param(30.0, "margin around the area where rain cells are placed [km]", source="REC-M", lo=0)
    rain_height_mode: str = param("fixed", "rain height: fixed value or ITU-R P.839 per cell", choices=("fixed", "itu-p839"))
    rain_height_km: float = param(3.0, "rain height h_R [km] (rain_height_mode=fixed)", source="REC-M", lo=0, lo_open=True)
    rain_tilt_deg: float = param(45.0, "polarisation tilt tau for P.838 (45 = circular; other tilts use the coefficients at 45 deg elevation)", source="SRC", lo=0, hi=90)
    rain_redraw: str = param("episode", "draw R_i at each on-period start or every frame", source="REC-M",
                             choices=("episode", "frame"))
    # ---- frame timing (11)-(16) ----
    t_frame_s: float = param(10.0, "system frame T_f [s]", source="REC-M", lo=0, lo_open=True)
    t_ofdma_s: float = param(0.01, "OFDMA frame T_O [s]", source="REC-H", lo=0, lo_open=True)
    handover_mode: str = param("fixed", "T_HO from t_ho_s or from (16) with ho_kappa", choices=("fixed", "kappa"))
    t_ho_s: float = param(0.02, "handover interruption T_HO [s] (handover_mode=fixed)", source="REC-L", lo=0)
    ho_kappa: float = param(2.0, "round trips of the handover signalling kappa in (16)", source="REC-L", lo=0)
    # ---- sensing (17)-(22) ----
    sensing_mode: str = param("pilots", "SNR the allocator sees: perfect CSI, pilot estimates, or clear-sky (none)",
                              source="TXT", choices=("perfect", "pilots", "none"))
    pilot_len: int = param(1024, "pilot length L [symbols]", source="REC-L", lo=4)
    feedback_len: int = param(16, "UL feedback length L_fb [symbols]", source="REC-L", lo=1)
    sensing_max_cells: int = param(0, "bar N_c: max cells sensed per satellite; 0 = all cells C", source="REC-M", lo=0)
    tau_sensed_only: bool = param(False, "tau_max over the sensed shells only (else all shells, as (11))")
    eps_bits: float = param(1.0, "epsilon inside the log of (25) [bit/s]", source="REC-L", lo=0, lo_open=True)
    # ---- implementation ----
    max_sats_in_view: int = param(0, "static S of the per-frame arrays; 0 = max over the generated frames", lo=0)
    epoch_offset_s: float = param(0.0, "time of frame 0 start after the constellation epoch [s]")

    def __post_init__(self):
        validate(self)
        n = len(self.shell_band)
        if n == 0:
            raise ConfigError("shell_band: expected at least one shell, got an empty list")
        for name in SHELL_FIELDS:
            if len(getattr(self, name)) != n:
                raise ConfigError(f"{name}: expected {n} entries (one per shell, as shell_band), "
                                  f"got {len(getattr(self, name))}")
        for b in self.shell_band:
            if b not in BANDS:
                raise ConfigError(f"shell_band: unknown band {b!r}; expected one of {list(BANDS)}")
        for j, (f, p) in enumerate(zip(self.shell_phasing, self.shell_planes)):
            if f >= p:
                raise ConfigError(f"shell_phasing: expected F in [0, planes-1] = [0, {p - 1}] for shell {j}, got {f}")
        if not self.lat_max_deg > self.lat_min_deg:
            raise ConfigError(f"lat_max_deg: empty area box, expected lat_max_deg > lat_min_deg = "
                              f"{self.lat_min_deg}, got {self.lat_max_deg}")
        if not self.lon_max_deg > self.lon_min_deg:
            raise ConfigError(f"lon_max_deg: empty area box, expected lon_max_deg > lon_min_deg = "
                              f"{self.lon_min_deg}, got {self.lon_max_deg}")
        span = min(self.lat_max_deg - self.lat_min_deg, self.lon_max_deg - self.lon_min_deg)
        if self.cell_deg > span + 1e-9:
            raise ConfigError(f"cell_deg: cell size {self.cell_deg} deg is larger than the area box "
                              f"(smallest side {span} deg)")
        if self.t_ofdma_s > self.t_frame_s:
            raise ConfigError(f"t_ofdma_s: expected <= t_frame_s = {self.t_frame_s}, got {self.t_ofdma_s}")
        if self.population_source == "file" and not self.population_file:
            raise ConfigError("population_file: expected a file path when population_source = 'file'")

    # ---- derived quantities ----
    @property
    def n_shells(self) -> int:
        return len(self.shell_band)

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(n_lat, n_lon) cells; a partial last row/column is dropped."""
        n_lat = int(math.floor((self.lat_max_deg - self.lat_min_deg) / self.cell_deg + 1e-9))
        n_lon = int(math.floor((self.lon_max_deg - self.lon_min_deg) / self.cell_deg + 1e-9))
        return n_lat, n_lon

    @property
    def n_cells(self) -> int:
        a, b = self.grid_shape
        return a * b

    @property
    def shell_rain(self) -> tuple[bool, ...]:
        """Whether each shell's links see rain attenuation (and are sensed with pilots)."""
        return tuple(b in RAIN_BANDS for b in self.shell_band)

    @property
    def n_frames_per_frame(self) -> int:
        """N_F = T_f / T_O (OFDMA frames per system frame)."""
        return int(math.floor(self.t_frame_s / self.t_ofdma_s + 1e-9))
