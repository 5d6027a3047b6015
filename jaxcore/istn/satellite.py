"""Satellite-to-ground gains, ISTN paper eqs. (1)-(3) (spec istn.md §1.4, §1.6-1). float64.

    g^X = C * G_s * G^X / d^2 * B^X * xi,   B^X = 10^{-0.3 (phi / phi_3dB)^2}     (1), (2)

* ``C = (lambda / 4 pi)^2`` (Friis, default) or the paper's literal ``(c / 2 pi f_c)^2``
  (``sat_path_gain = "paper_literal"``, 6.02 dB higher) -- spec §1.6-1.
* ``phi`` is the angle at the satellite between the beam centre (SUT m) and node X, so
  B = 1/2 exactly at phi = phi_3dB (phi_3dB acts as a half-angle).
* ``xi`` log-normal, 10 log10 xi ~ N(0, sigma_xi^2), independent per satellite-node link.
* SUT receive antenna: rectangular pattern, G_main if the off-boresight angle <= phi_th
  else G_side; the boresight points at its satellite, so the satellite link gets G_main.
* TUT and radar elements: ``g_tut_rx`` / ``g_rad_rx`` (0 dBi) [assumption].
* eq. (3): g^rad_n = sqrt(g^rad_n) a_r(u_sat,n), u_sat,n the direction cosine of the
  satellite along receiver n's array axis (no common phase: it cancels in every metric).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxcore.istn.ula import direction_cosine

F64 = jnp.float64


def angle_between(a, b):
    """Angle (rad) between vectors ``a`` [..., 3] and ``b`` [..., 3]; accurate for tiny angles."""
    cross = jnp.linalg.norm(jnp.cross(a, b), axis=-1)
    return jnp.arctan2(cross, jnp.sum(a * b, axis=-1))


def beam_pattern(phi, phi_3db):
    """Satellite beam gain B = 10^{-0.3 (phi / phi_3dB)^2}, eq. (2) (linear)."""
    return 10.0 ** (-0.3 * (phi / phi_3db) ** 2)


def path_gain_constant(p) -> float:
    """(lambda/4pi)^2 for ``"friis"``, (lambda/2pi)^2 for ``"paper_literal"`` eq. (1)."""
    div = 4.0 if p.sat_path_gain == "friis" else 2.0
    return (p.wavelength_m / (div * jnp.pi)) ** 2


def sut_antenna_gain(sut, sat, src, p):
    """Rectangular SUT pattern toward ``src`` [..., 3]: G_main if off-boresight <= phi_th."""
    phi = angle_between(sat - sut, src - sut)
    return jnp.where(phi <= p.sut_phi_th_rad, p.g_sut_main, p.g_sut_side)


def satellite_gains(key, geo: dict, p) -> dict:
    """Power gains of eq. (1) for the SUT, the TUTs and the radar receivers of one cell.

    Args:
      key: PRNG key (shadowing).
      geo: output of :func:`jaxcore.istn.geometry.draw_geometry`.
      p: ChannelParams.
    Returns:
      dict: ``g_sut`` [], ``g_tut`` [K], ``g_rad_pow`` [R] (per element), ``u_sat_rx`` [R]
      (float64, linear power gains).
    """
    sat, sut = geo["sat"], geo["sut"]
    # nodes: SUT, K TUTs, R radar receivers  # [1 + K + R, 3]
    nodes = jnp.concatenate([sut[None], geo["tut"], geo["rx"]], 0)
    to_node = nodes - sat
    d2 = jnp.sum(to_node ** 2, -1)
    phi = angle_between(sut - sat, to_node)
    b = beam_pattern(phi, p.phi_3db_rad)
    xi = 10.0 ** (p.sat_shadow_std_db * jax.random.normal(key, d2.shape, F64) / 10.0)
    g_rx = jnp.concatenate([jnp.array([p.g_sut_main], F64), jnp.full((p.n_tut,), p.g_tut_rx, F64),
                            jnp.full((p.n_radar,), p.g_rad_rx, F64)])
    # [1 + K + R]
    g = path_gain_constant(p) * p.g_sat * g_rx / d2 * b * xi
    u_sat = direction_cosine(sat - geo["rx"], geo["rx_axis"])
    return dict(g_sut=g[0], g_tut=g[1:1 + p.n_tut], g_rad_pow=g[1 + p.n_tut:], u_sat_rx=u_sat)
