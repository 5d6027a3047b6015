"""Clear-sky link budget of each NTN shell, the spec's eq. (4)-(5) in dB form (issue 16).

``python -m solvers.ntn.link_budget [--scenario spec|paper|all]`` prints one markdown table
per scenario and shell: EIRP density, G/T, free-space path loss (3) plus atmospheric
absorption at 30 deg, 90 deg and the shell's minimum elevation, the clear-sky SNR and the
rate per beam ``B log2(1 + SNR)``.  It uses exactly the constants of
:func:`solvers.ntn.world.make_world` (same config keys), so the table is what the
simulator computes at those elevations (the simulator takes the worst-case distance (3)
over the cell and frame instead of the centre distance used here).

dB form of (4):  SNR = EIRP_beam - FSPL(d) - L_gas(elev) - eta_pt - L_misc + G/T - k - 10 log10 B
with EIRP_beam = P_s G_s, G/T = G_cs - 10 log10(T_sys), k T_sys = N_0 (so ``G/T - k`` is
``G_cs - N_0``), L_gas = zenith / sin(elev).
"""
from __future__ import annotations

import argparse
import dataclasses
import math

from solvers.ntn.config import NtnConfig
from solvers.ntn.scenarios import SCENARIOS

C_LIGHT = 299_792_458.0
R_E = 6_371_000.0
K_BOLTZMANN_DB = 10 * math.log10(1.380649e-23)  # -228.6 dBW/K/Hz


def slant_range_m(alt_m: float, elev_deg: float) -> float:
    """Distance to a satellite at altitude ``alt_m`` seen at elevation ``elev_deg`` (eq. (2) form)."""
    s = math.sin(math.radians(elev_deg))
    return math.sqrt((R_E * s) ** 2 + 2 * R_E * alt_m + alt_m ** 2) - R_E * s


def shell_budget(cfg: NtnConfig, j: int, elev_deg: float) -> dict:
    """Clear-sky budget of shell ``j`` at elevation ``elev_deg``; dB quantities and rate [bit/s]."""
    p_dbw = 10 * math.log10(cfg.shell_power_w[j])
    bw_hz = cfg.shell_bandwidth_mhz[j] * 1e6
    eirp = p_dbw + cfg.shell_sat_gain_dbi[j]  # dBW per beam
    n0_dbw = cfg.shell_noise_psd_dbm_hz[j] - 30.0
    t_sys_db = n0_dbw - K_BOLTZMANN_DB
    d = slant_range_m(cfg.shell_altitude_km[j] * 1e3, elev_deg)
    fspl = 20 * math.log10(4 * math.pi * cfg.shell_freq_ghz[j] * 1e9 * d / C_LIGHT)
    gas = cfg.shell_gas_zenith_db[j] / math.sin(math.radians(elev_deg))
    losses = cfg.shell_pointing_loss_db[j] + cfg.shell_misc_loss_db[j]
    snr_db = eirp - fspl - gas - losses + cfg.shell_user_gain_dbi[j] - n0_dbw - 10 * math.log10(bw_hz)
    return dict(band=cfg.shell_band[j], altitude_km=cfg.shell_altitude_km[j], elev_deg=elev_deg,
                distance_km=d / 1e3, eirp_dbw=eirp, eirp_density_dbw_mhz=eirp - 10 * math.log10(cfg.shell_bandwidth_mhz[j]),
                g_over_t_db_k=cfg.shell_user_gain_dbi[j] - t_sys_db, t_sys_k=10 ** (t_sys_db / 10),
                fspl_db=fspl, gas_db=gas, fixed_losses_db=losses, snr_db=snr_db,
                rate_bps=bw_hz * math.log2(1 + 10 ** (snr_db / 10)),
                in_range=elev_deg >= cfg.shell_min_elev_deg[j])


def budget_table(cfg: NtnConfig, title: str = "") -> str:
    """Markdown table: one block per shell, rows at 30 deg, 90 deg and the minimum elevation."""
    head = ("| shell | elev [deg] | d [km] | EIRP density [dBW/MHz] | EIRP/beam [dBW] | G/T [dB/K] | "
            "FSPL [dB] | gas [dB] | pointing+misc [dB] | SNR [dB] | rate/beam [Mbit/s] |")
    lines = [f"### {title}" if title else "", head, "|" + "---|" * 11]
    for j in range(cfg.n_shells):
        for e in sorted({30.0, 90.0, float(cfg.shell_min_elev_deg[j])}):
            b = shell_budget(cfg, j, e)
            note = "" if b["in_range"] else " (below min elev)"
            lines.append(f"| {b['band']} {b['altitude_km']:.0f} km | {e:.0f}{note} | {b['distance_km']:.1f} | "
                         f"{b['eirp_density_dbw_mhz']:.2f} | {b['eirp_dbw']:.2f} | {b['g_over_t_db_k']:.2f} | "
                         f"{b['fspl_db']:.2f} | {b['gas_db']:.2f} | {b['fixed_losses_db']:.2f} | {b['snr_db']:.2f} | "
                         f"{b['rate_bps'] / 1e6:.1f} |")
    return "\n".join(x for x in lines if x)


def scenario_config(name: str) -> NtnConfig:
    """NtnConfig defaults with the values of scenario ``name`` (solvers.ntn.scenarios) applied."""
    if name not in SCENARIOS:
        raise SystemExit(f"error: --scenario: expected one of {list(SCENARIOS)}, got {name!r}")
    return dataclasses.replace(NtnConfig(), **dict(SCENARIOS[name].values))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m solvers.ntn.link_budget", description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="all", help=f"one of {list(SCENARIOS)} or 'all'")
    a = p.parse_args(argv)
    names = list(SCENARIOS) if a.scenario == "all" else [a.scenario]
    for n in names:
        print(budget_table(scenario_config(n), f"scenario {n}"))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
