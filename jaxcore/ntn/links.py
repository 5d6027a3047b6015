"""Ground-satellite link geometry and budget, NTN spec ``ntn.md`` §2 eqs. (2)-(5).

Pure JAX, float64 for geometry (keeps the dtype it is given).  Units: metres, seconds,
radians, hertz, watts; SNR and gains linear unless a name ends in ``_db``.
"""
from __future__ import annotations

import jax.numpy as jnp

from jaxcore.ntn.orbits import C_LIGHT, R_E


def slant_range(sat, ground):
    """Distance [m] between ECEF points ``sat`` [..., 3] and ``ground`` [..., 3] (broadcast)."""
    return jnp.linalg.norm(sat - ground, axis=-1)


def elevation(sat, ground):
    """Elevation angle [rad] of ``sat`` seen from ``ground`` on the spherical Earth.

    sin(elev) = (sat - ground) . n_ground / |sat - ground|, n_ground = ground/|ground|.
    """
    d = sat - ground
    n = ground / jnp.linalg.norm(ground, axis=-1, keepdims=True)
    s = jnp.sum(d * n, axis=-1) / jnp.linalg.norm(d, axis=-1)
    return jnp.arcsin(jnp.clip(s, -1.0, 1.0))


def max_slant_range(altitude, min_elev):
    """Maximum slant range d_max [m] for minimum elevation ``min_elev`` [rad], eq. (2).

    d_max = sqrt(R_E^2 sin^2 a + 2 R_E h + h^2) - R_E sin a.
    """
    s = jnp.sin(min_elev)
    return jnp.sqrt((R_E * s) ** 2 + 2.0 * R_E * altitude + altitude ** 2) - R_E * s


def worst_case_distance(sat_times, points):
    """Largest distance over times and cell points, as used in (3) and (5).

    Args:
      sat_times: [T, S, 3] satellite ECEF positions at T instants of the frame
        (start, middle, end).
      points: [C, P, 3] ECEF points of each cell (4 corners + centre).
    Returns:
      [C, S] max over the T instants and P points of the distance [m].
    """
    # [T, C, P, S] squared distances via |a|^2 + |b|^2 - 2 a.b (no [T,C,P,S,3] temporary)
    s2 = jnp.sum(sat_times ** 2, axis=-1)  # [T, S]
    p2 = jnp.sum(points ** 2, axis=-1)  # [C, P]
    dot = jnp.einsum("cpk,tsk->tcps", points, sat_times)  # [T, C, P, S]
    d2 = s2[:, None, None, :] + p2[None, :, :, None] - 2.0 * dot
    return jnp.sqrt(jnp.maximum(jnp.max(d2, axis=(0, 2)), 0.0))  # [C, S]


def in_range_whole_frame(d_worst, d_max):
    """Pair usable for the whole frame: max_t d_{c,s}(t) <= d_max,s (condition of eq. (5))."""
    return d_worst <= d_max


def fspl(distance, freq_hz):
    """Free-space path loss (linear), eq. (3): (4 pi f d / c)^2."""
    return (4.0 * jnp.pi * freq_hz * distance / C_LIGHT) ** 2


def snr(p_tx_w, g_sat, g_user, pointing_loss, path_loss, atten, noise_psd_w_hz, bandwidth_hz):
    """SNR gamma_{c,s} (linear), eq. (4): P G_s G_cs / (eta_pt PL A N_0 B).  A = 1 gives gamma^cs."""
    return p_tx_w * g_sat * g_user / (pointing_loss * path_loss * atten * noise_psd_w_hz * bandwidth_hz)


def gas_loss(zenith_db, elev):
    """Atmospheric (gas) absorption (linear, >= 1) at elevation ``elev`` [rad]: the zenith loss
    scaled by the slant path 1/sin(elev) (TR 38.811 §6.6.4, ITU-R P.676 flat-layer form)."""
    return 10.0 ** (zenith_db / jnp.sin(elev) / 10.0)


def rate(bandwidth_hz, snr_lin, in_range):
    """Achievable rate r_{c,s} [bit/s], eq. (5): B log2(1 + gamma) if in range for the frame, else 0."""
    return jnp.where(in_range, bandwidth_hz * jnp.log2(1.0 + snr_lin), 0.0)


def db_to_lin(x_db):
    return 10.0 ** (jnp.asarray(x_db) / 10.0)


def lin_to_db(x):
    return 10.0 * jnp.log10(x)
