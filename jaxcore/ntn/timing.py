"""ISAC frame timing, NTN spec ``ntn.md`` §2 IV, eqs. (11)-(16).

Plain scalar arithmetic (works on Python floats and on JAX arrays).  Units: seconds,
metres, hertz, symbols.  Ceilings subtract a 1e-9 relative guard so an exact multiple of
T_O (e.g. 20 ms / 10 ms) is not pushed to the next integer by rounding.
"""
from __future__ import annotations

import math

from jaxcore.ntn.orbits import C_LIGHT

_GUARD = 1e-9


def _ceil(x):
    return math.ceil(x - _GUARD * max(1.0, abs(x)))


def tau_max(d_max_m) -> float:
    """Max one-way propagation delay tau_max = max_s d_max,s / c [s], eq. (11)."""
    return max(float(d) for d in d_max_m) / C_LIGHT


def t_downlink_pilots(n_cells_max: int, n_beams_sens: int, pilot_len: int, bw_sens_hz: float, tau: float) -> float:
    """T_DL = ceil(bar N_c / N_b^sens) L / B^sens + tau_max [s], eq. (12)."""
    return _ceil(n_cells_max / n_beams_sens) * pilot_len / bw_sens_hz + tau


def t_uplink_feedback(n_cells_max: int, n_beams_sens: int, feedback_len: int, bw_sens_hz: float, tau: float) -> float:
    """T_UL = ceil(bar N_c / N_b^sens) L_fb / B^sens + tau_max [s], eq. (13)."""
    return _ceil(n_cells_max / n_beams_sens) * feedback_len / bw_sens_hz + tau


def n_sensing_frames(t_dl: float, t_ul: float, t_ofdma: float) -> int:
    """N_sens = ceil((T_DL + T_UL) / T_O), eq. (14); T_sens = N_sens T_O."""
    return _ceil((t_dl + t_ul) / t_ofdma)


def n_sensing_frames_for(n_cells_max: int, n_beams_sens: int, pilot_len: int, feedback_len: int,
                         bw_sens_hz: float, tau: float, t_ofdma: float) -> int:
    """(12)-(14) in one call."""
    return n_sensing_frames(t_downlink_pilots(n_cells_max, n_beams_sens, pilot_len, bw_sens_hz, tau),
                            t_uplink_feedback(n_cells_max, n_beams_sens, feedback_len, bw_sens_hz, tau), t_ofdma)


def handover_time(kappa: float, tau: float, t_ofdma: float) -> float:
    """T_HO = ceil(kappa 2 tau_max / T_O) T_O [s], eq. (16)."""
    return _ceil(kappa * 2.0 * tau / t_ofdma) * t_ofdma


def ra_budget(t_frame: float, t_sens: float, t_ho: float) -> float:
    """Time left for the RA sub-frame, T_f - T_sens - T_HO [s] (right side of (15))."""
    return t_frame - t_sens - t_ho


def real_time_ok(t_solve: float, t_frame: float, t_sens: float, t_ho: float, t_in: float = 0.0, t_out: float = 0.0) -> bool:
    """Real-time condition (15): T_in + T_solve + T_out <= T_f - T_sens - T_HO."""
    return t_in + t_solve + t_out <= ra_budget(t_frame, t_sens, t_ho)


def n_com(t_frame: float, t_ofdma: float, n_sens: int) -> int:
    """OFDMA frames left for communication N_com = N_F - N_sens (spec §1)."""
    return int(math.floor(t_frame / t_ofdma + _GUARD)) - int(n_sens)
