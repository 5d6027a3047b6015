"""Clear-sky link budgets (solvers.ntn.link_budget) against hand-computed dB sums, and the
world's snr_clear against the same budget (issue 16)."""
import dataclasses
import math

import numpy as np
import pytest

from solvers.ntn.link_budget import budget_table, scenario_config, shell_budget
from solvers.ntn.scenarios import SCENARIOS
from solvers.ntn.world import world_frames

# Hand sums (dB), 2 GHz / 20 GHz, c = 299 792 458 m/s, R_E = 6371 km:
# S spec at 90 deg: EIRP 10 lg 299.9 + 30 = 54.77 dBW over 30 MHz -> 40.00 dBW/MHz;
#   FSPL(1110 km) = 20 lg(4 pi 2e9 1.11e6 / c) = 159.37; noise -197 + 74.77 = -122.23 dBW
#   -> SNR = 54.77 - 159.37 - 0.3 + 0 + 122.23 = 17.33 dB (173.4 Mbit/s on 30 MHz)
# Ka spec at 90 deg: EIRP 10 lg 0.1419 + 38.5 = 30.02 dBW (4.00 dBW/MHz on 400 MHz);
#   FSPL(550 km) = 173.28; noise -202.8 + 86.02 = -116.78 -> SNR = 30.02 - 173.28 - 0.3 + 39.7 + 116.78 = 12.92
# Ka paper at 30 deg: d = 992.8 km, FSPL 178.41, gas 0.55/sin 30 = 1.10, losses 0.3 + 0.3,
#   noise -204.8 + 86.02 = -118.78 -> SNR = 30.02 - 178.41 - 1.10 - 0.60 + 39.7 + 118.78 = 8.39
# S paper at 40 deg: d = 1574.6 km, FSPL 162.41, gas 0.035/sin 40 = 0.05, losses 0.3 + 8.2
#   -> SNR = 54.77 - 162.41 - 0.05 - 8.50 + 122.23 = 6.04
HAND = [("spec", 0, 90.0, dict(eirp_density_dbw_mhz=40.00, fspl_db=159.37, g_over_t_db_k=-31.60, snr_db=17.33)),
        ("spec", 1, 90.0, dict(eirp_density_dbw_mhz=4.00, fspl_db=173.28, g_over_t_db_k=13.90, snr_db=12.92)),
        ("paper", 1, 30.0, dict(fspl_db=178.41, gas_db=1.10, g_over_t_db_k=15.90, snr_db=8.39)),
        ("paper", 0, 40.0, dict(fspl_db=162.41, gas_db=0.05, snr_db=6.04))]


@pytest.mark.parametrize("scen,j,elev,want", HAND)
def test_budget_matches_hand_sums(scen, j, elev, want):
    b = shell_budget(scenario_config(scen), j, elev)
    for k, v in want.items():
        assert abs(b[k] - v) <= 0.015, (k, b[k], v)
    assert math.isclose(b["rate_bps"], scenario_config(scen).shell_bandwidth_mhz[j] * 1e6
                        * math.log2(1 + 10 ** (b["snr_db"] / 10)))


def test_which_shell_is_better_in_clear_sky():
    # spec: S beats Ka everywhere the S shell is usable (the DMRAB pile-up on S);
    # paper (3GPP losses): Ka beats S at both shells' minimum elevations and at zenith
    for scen, s_better in (("spec", True), ("paper", False)):
        cfg = scenario_config(scen)
        for e_s, e_ka in ((40.0, 25.0), (90.0, 90.0), (40.0, 40.0)):
            s, ka = shell_budget(cfg, 0, e_s)["snr_db"], shell_budget(cfg, 1, e_ka)["snr_db"]
            assert (s > ka) == s_better, (scen, e_s, e_ka, s, ka)
    assert set(SCENARIOS) >= {"spec", "paper"} and SCENARIOS["spec"].values == {}
    assert "| S 1110 km | 90 |" in budget_table(scenario_config("paper"))


def test_world_snr_clear_follows_the_budget():
    # the simulator's clear-sky SNR of every in-range pair equals the dB budget evaluated at
    # that pair's worst-case distance and lowest elevation (same config keys)
    cfg = dataclasses.replace(scenario_config("paper"), cell_deg=1.0, lat_max_deg=47.0, lon_max_deg=9.0,
                              sensing_mode="none")
    fr = world_frames(cfg, 3, 1)
    ok = fr["in_range"][0]
    shell = np.broadcast_to(fr["shell"][0][None, :], ok.shape)[ok]
    d = fr["distance"][0][ok]
    el = fr["elevation"][0][ok]
    f = np.array(cfg.shell_freq_ghz)[shell] * 1e9
    eirp = 10 * np.log10(np.array(cfg.shell_power_w)[shell]) + np.array(cfg.shell_sat_gain_dbi)[shell]
    want = (eirp - 20 * np.log10(4 * np.pi * f * d / 299_792_458.0) - np.array(cfg.shell_gas_zenith_db)[shell] / np.sin(el)
            - np.array(cfg.shell_pointing_loss_db)[shell] - np.array(cfg.shell_misc_loss_db)[shell]
            + np.array(cfg.shell_user_gain_dbi)[shell] - (np.array(cfg.shell_noise_psd_dbm_hz)[shell] - 30)
            - 10 * np.log10(np.array(cfg.shell_bandwidth_mhz)[shell] * 1e6))
    assert ok.sum() > 10 and set(np.unique(shell)) == {0, 1}
    np.testing.assert_allclose(10 * np.log10(fr["snr_clear"][0][ok]), want, atol=1e-6)
