"""3GPP TR 38.901 UMa TBS -> UT channel, ISTN paper eqs. (4)-(7) (spec istn.md §2, §1.6-5).

Tables (v15-v18, spec §2.1-2.4; *not* the v19.2 set):

* LOS probability (Table 7.4.2-1): 1 for d_2D <= 18 m, else
  [18/d + e^{-d/63}(1 - 18/d)] [1 + C'(h_UT) 5/4 (d/100)^3 e^{-d/150}].
* Path loss (Table 7.4.1-1, d in m, f in GHz): PL1 = 28 + 22 lg d_3D + 20 lg f;
  PL2 = 28 + 40 lg d_3D + 20 lg f - 9 lg(d'_BP^2 + (h_BS - h_UT)^2) beyond d'_BP =
  4 (h_BS - 1)(h_UT - 1) f / c (h_E = 1 m since h_UT < 13 m); NLOS
  PL' = 13.54 + 39.08 lg d_3D + 20 lg f - 0.6 (h_UT - 1.5), PL_NLOS = max(PL_LOS, PL').
  The paper uses h_BS = 10 m with UMa (spec §1.6-9): d'_BP = 900 m at 15 GHz.
* Shadow fading 4 dB (LOS) / 6 dB (NLOS); K-factor N(9, 3.5) dB; clusters 12 / 20 with
  20 rays; lgDS, lgASD, r_tau, c_ASD, C_phi from Table 7.5-6 (see ``LSP`` below).

Mapping onto (4)-(7), default ``tbs_channel_mode = "3gpp"`` (spec §2.5): a Bernoulli LOS
state s ~ Pr_LOS(d_2D);

    LOS:  h = sqrt(beta_L) [sqrt(K/(K+1)) e^{j Phi0} a(u_LOS)^H + sqrt(1/(K+1)) h_diff^LOS]
    NLOS: h = sqrt(beta_N) h_diff^NLOS,
    h_diff = sum_{n,m} sqrt(P_n / 20) e^{j Phi_nm} a(u_nm)^H,  sum_n P_n = 1,

beta = 10^{-(PL + SF)/10}, unit-modulus a, so E||h||^2 = N_TX beta.  ``"paper_literal"``
mode is eq. (4) as printed: h = Pr_LOS sqrt(beta_L) e^{j Phi0} a(u_LOS)^H + sqrt(beta_N) h_diff^NLOS.

Recorded simplifications [assumption]: azimuth-only ULA; every ray uses the LOS
elevation (u = cos(el_LOS) cos(phi), array along x), i.e. no zenith spread; LSPs drawn
independently (no cross-correlation, no spatial consistency); clusters more than 25 dB
below the strongest (powers after the LOS K-factor scaling) are removed and the remaining
powers renormalised to sum 1.

Large-scale vs small-scale (used for channel aging): large scale = LOS state, path loss,
shadow fading, DS, ASD, K-factor; small scale = cluster delays/powers/angles, ray phases
and the LOS phase.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxcore.istn.ula import ula_ray_sum, ula_response

F64 = jnp.float64
C_LIGHT = 299792458.0
#: Table 7.5-3 ray offsets (20 rays).
RAY_OFFSETS = (0.0447, -0.0447, 0.1413, -0.1413, 0.2492, -0.2492, 0.3715, -0.3715, 0.5129, -0.5129,
               0.6797, -0.6797, 0.8844, -0.8844, 1.1481, -1.1481, 1.5195, -1.5195, 2.1551, -2.1551)
N_RAYS = 20


class Lsp(NamedTuple):
    """Table 7.5-6 UMa parameters for one propagation condition (f-dependent terms as (a, b): a + b lg f)."""
    lgds: tuple
    lgds_std: float
    lgasd: tuple
    lgasd_std: float
    r_tau: float
    n_clusters: int
    c_asd_deg: float
    c_phi: float            # C_phi^NLOS for this N
    zeta_db: float = 3.0    # per-cluster shadowing


LSP_LOS = Lsp(lgds=(-6.955, -0.0963), lgds_std=0.66, lgasd=(1.06, 0.1114), lgasd_std=0.28,
              r_tau=2.5, n_clusters=12, c_asd_deg=5.0, c_phi=1.146)
LSP_NLOS = Lsp(lgds=(-6.28, -0.204), lgds_std=0.39, lgasd=(1.5, -0.1144), lgasd_std=0.28,
               r_tau=2.3, n_clusters=20, c_asd_deg=2.0, c_phi=1.289)
SF_STD_LOS_DB, SF_STD_NLOS_DB = 4.0, 6.0
K_MEAN_DB, K_STD_DB = 9.0, 3.5


def los_probability(d2d, h_ut: float = 1.5):
    """UMa outdoor LOS probability, 38.901 Table 7.4.2-1 (d2d in m)."""
    c_prime = 0.0 if h_ut <= 13.0 else ((h_ut - 13.0) / 10.0) ** 1.5
    d = jnp.maximum(d2d, 1e-9)
    pr = (18.0 / d + jnp.exp(-d / 63.0) * (1.0 - 18.0 / d)) * (1.0 + c_prime * 1.25 * (d / 100.0) ** 3 * jnp.exp(-d / 150.0))
    return jnp.where(d2d <= 18.0, 1.0, pr)


def breakpoint_distance(fc_hz: float, h_bs: float, h_ut: float) -> float:
    """d'_BP = 4 h'_BS h'_UT f_c / c with h_E = 1 m (metres)."""
    return 4.0 * (h_bs - 1.0) * (h_ut - 1.0) * fc_hz / C_LIGHT


def pathloss_los(d2d, d3d, fc_hz: float, h_bs: float, h_ut: float):
    """UMa LOS path loss in dB (PL1 / PL2 around the breakpoint), Table 7.4.1-1."""
    lf = 20.0 * jnp.log10(fc_hz / 1e9)
    dbp = breakpoint_distance(fc_hz, h_bs, h_ut)
    pl1 = 28.0 + 22.0 * jnp.log10(d3d) + lf
    pl2 = 28.0 + 40.0 * jnp.log10(d3d) + lf - 9.0 * jnp.log10(dbp ** 2 + (h_bs - h_ut) ** 2)
    return jnp.where(d2d <= dbp, pl1, pl2)


def pathloss_nlos(d2d, d3d, fc_hz: float, h_bs: float, h_ut: float):
    """UMa NLOS path loss in dB, max(PL_LOS, PL'), Table 7.4.1-1."""
    pl_p = 13.54 + 39.08 * jnp.log10(d3d) + 20.0 * jnp.log10(fc_hz / 1e9) - 0.6 * (h_ut - 1.5)
    return jnp.maximum(pathloss_los(d2d, d3d, fc_hz, h_bs, h_ut), pl_p)


def large_scale(key, d2d, d3d, p) -> dict:
    """Large-scale state of one TBS -> UT link (all float64 scalars).

    Returns: ``los`` (bool), ``pr_los``, ``beta_los``, ``beta_nlos`` (linear gains incl. SF),
    ``k_r`` (linear K-factor), ``ds_los``/``ds_nlos`` (s), ``asd_los``/``asd_nlos`` (deg).
    """
    # one uniform and one block of 7 standard normals per link (few PRNG calls: fast compile)
    k_u, k_n = jax.random.split(key)
    z = jax.random.normal(k_n, (7,), F64)
    pr = los_probability(d2d, p.h_ut_m)
    los = jax.random.uniform(k_u, (), F64) < pr
    pl_l = pathloss_los(d2d, d3d, p.fc_hz, p.h_bs_m, p.h_ut_m)
    pl_n = pathloss_nlos(d2d, d3d, p.fc_hz, p.h_bs_m, p.h_ut_m)
    sf_l, sf_n = SF_STD_LOS_DB * z[0], SF_STD_NLOS_DB * z[1]
    lgf = jnp.log10(p.fc_hz / 1e9)
    out = dict(los=los, pr_los=pr, beta_los=10.0 ** (-(pl_l + sf_l) / 10.0), beta_nlos=10.0 ** (-(pl_n + sf_n) / 10.0),
               k_r=10.0 ** ((K_MEAN_DB + K_STD_DB * z[2]) / 10.0))
    for name, lsp, zd, za in (("los", LSP_LOS, z[3], z[4]), ("nlos", LSP_NLOS, z[5], z[6])):
        out[f"ds_{name}"] = 10.0 ** (lsp.lgds[0] + lsp.lgds[1] * lgf + lsp.lgds_std * zd)
        asd = 10.0 ** (lsp.lgasd[0] + lsp.lgasd[1] * lgf + lsp.lgasd_std * za)
        out[f"asd_{name}"] = jnp.minimum(asd, 104.0)
    return out


def diffuse_rays(key, lsp: Lsp, ds, asd_deg, phi_los_deg, k_r=None):
    """Cluster/ray powers and azimuths, 38.901 §7.5 steps 5-7 (spec §2.4).

    Args:
      key: PRNG key; lsp: static table row; ds: delay spread (s); asd_deg: azimuth spread;
      phi_los_deg: LOS azimuth of departure; k_r: linear K-factor (LOS) or None (NLOS).
    Returns:
      ([N * 20] ray powers summing to 1 (float64), [N * 20] ray azimuths in degrees).
    """
    n = lsp.n_clusters
    k_u, k_z = jax.random.split(key)
    # [N, 2] uniforms (delay, sign), [N, 2] normals (cluster shadowing Z_n, azimuth jitter Y_n)
    u = jax.random.uniform(k_u, (n, 2), F64, 1e-300, 1.0)
    z = jax.random.normal(k_z, (n, 2), F64)
    tau = -lsp.r_tau * ds * jnp.log(u[:, 0])
    tau = jnp.sort(tau - jnp.min(tau))
    pw = jnp.exp(-tau * (lsp.r_tau - 1.0) / (lsp.r_tau * ds)) * 10.0 ** (-lsp.zeta_db * z[:, 0] / 10.0)
    pw = pw / jnp.sum(pw)
    if k_r is None:
        p_ang, c_phi = pw, lsp.c_phi
    else:
        k_db = 10.0 * jnp.log10(k_r)
        p_ang = pw / (k_r + 1.0) + jnp.zeros(n, F64).at[0].set(k_r / (k_r + 1.0))
        c_phi = lsp.c_phi * (1.1035 - 0.028 * k_db - 0.002 * k_db ** 2 + 0.0001 * k_db ** 3)
    keep = p_ang >= jnp.max(p_ang) * 10.0 ** (-2.5)
    pw = jnp.where(keep, pw, 0.0)
    pw = pw / jnp.sum(pw)
    # [N] cluster azimuths, eq. (7.5-9)-(7.5-12)
    phi_p = cluster_azimuth_offset(p_ang / jnp.max(p_ang), asd_deg, c_phi)
    x = jnp.where(u[:, 1] < 0.5, 1.0, -1.0)
    y = (asd_deg / 7.0) * z[:, 1]
    phi = x * phi_p + y + phi_los_deg
    if k_r is not None:
        phi = phi - (x[0] * phi_p[0] + y[0])
    # [N, 20] rays
    ray_phi = phi[:, None] + lsp.c_asd_deg * jnp.asarray(RAY_OFFSETS, F64)[None, :]
    ray_pw = jnp.repeat(pw[:, None] / N_RAYS, N_RAYS, axis=1)
    return ray_pw.reshape(-1), ray_phi.reshape(-1)


def cluster_azimuth_offset(ratio, asd_deg, c_phi):
    """phi'_n of 38.901 eq. (7.5-9): 2 (ASA/1.4) sqrt(-ln(P_n / max P)) / C_phi, in degrees.

    ``ratio`` = P_n / max P is clipped to (0, 1] first: XLA:GPU may compute x / max(x) as
    x * (1 / max(x)), which gives 1 + eps at the strongest cluster and, unclipped, the square
    root of a negative number (a NaN channel, seen on an H200 and never on a CPU).
    """
    ratio = jnp.clip(ratio, 1e-300, 1.0)
    return 2.0 * (asd_deg / 1.4) * jnp.sqrt(jnp.maximum(-jnp.log(ratio), 0.0)) / c_phi


def small_scale(key, lsp_state: dict, az_los, cos_el, p) -> dict:
    """Unit-power small-scale components of one link, each a row [Nt] (dtype per p.precision).

    Returns ``los_path`` = e^{j Phi0} a(u_LOS)^H, ``diff_los`` and ``diff_nlos`` (diffuse
    sums with 12 / 20 clusters), each with E||.||^2 = N_TX.
    """
    cdt = jnp.complex64 if p.precision == "float32" else jnp.complex128
    k0, kl, kn = jax.random.split(key, 3)
    az_deg = jnp.degrees(az_los)

    def diffuse(k, lsp, ds, asd, k_r):
        k_rays, k_ph = jax.random.split(k)
        ray_pw, ray_phi = diffuse_rays(k_rays, lsp, ds, asd, az_deg, k_r)
        ph = jax.random.uniform(k_ph, ray_pw.shape, F64, 0.0, 2 * jnp.pi)
        # [rays] complex amplitudes and direction cosines (array along x)
        amp = (jnp.sqrt(ray_pw) * jnp.exp(1j * ph)).astype(cdt)
        u = cos_el * jnp.cos(jnp.radians(ray_phi))
        return ula_ray_sum(amp, u, p.n_tx)

    ph0 = jax.random.uniform(k0, (), F64, 0.0, 2 * jnp.pi)
    los_path = jnp.exp(1j * ph0).astype(cdt) * jnp.conj(ula_response(cos_el * jnp.cos(az_los), p.n_tx, cdt))
    return dict(los_path=los_path,
                diff_los=diffuse(kl, LSP_LOS, lsp_state["ds_los"], lsp_state["asd_los"], lsp_state["k_r"]),
                diff_nlos=diffuse(kn, LSP_NLOS, lsp_state["ds_nlos"], lsp_state["asd_nlos"], None))


def combine(ls: dict, ss: dict, mode: str, gain=1.0):
    """Channel row h [Nt] from large-scale ``ls`` and small-scale ``ss`` (linear in ``ss``).

    ``gain`` multiplies the power (G^SUT for eq. (7)).
    """
    cdt = ss["los_path"].dtype
    rdt = jnp.finfo(cdt).dtype
    k = ls["k_r"]
    # real coefficients, computed in float64 and cast to the synthesis precision
    a_l = jnp.sqrt(gain * ls["beta_los"])
    a_n = jnp.sqrt(gain * ls["beta_nlos"])
    if mode == "3gpp":
        c_path = jnp.where(ls["los"], a_l * jnp.sqrt(k / (k + 1)), 0.0).astype(rdt)
        c_dl = jnp.where(ls["los"], a_l * jnp.sqrt(1 / (k + 1)), 0.0).astype(rdt)
        c_dn = jnp.where(ls["los"], 0.0, a_n).astype(rdt)
    else:
        c_path = (ls["pr_los"] * a_l).astype(rdt)
        c_dl = jnp.zeros((), rdt)
        c_dn = a_n.astype(rdt)
    return c_path * ss["los_path"] + c_dl * ss["diff_los"] + c_dn * ss["diff_nlos"]
