"""Target and clutter sensing channels, ISTN paper eqs. (8)-(10) (spec istn.md §1.4). float64 geometry.

    G^tar_{i,n} = alpha_{i,n} a_r(u^r_{i,n}) a_t(u^t_i)^H,            (8)
    alpha_{i,n} = sqrt(lambda^2 sigma / ((4 pi)^3 d_tx^2 d_rx^2)) e^{j Phi},  Phi ~ U[0, 2 pi)   (9)
    G^cl_{l,n}  = alpha^cl_{l,n} a_r(u^r,cl_{l,n}) a_t(u^t,cl_l)^H     (10)

Recorded decisions (spec §1.4): eq. (9) is the bistatic **power** gain with sigma the RCS
in m^2, so the amplitude inside G is its square root; unit-modulus responses (array gain
N_TX N_RX); the transmit response enters as a_t^H like eq. (5) (received sample G f);
independent phase per (scatterer, receiver) pair; distances are clipped below at
``sens_min_dist_m`` (1 m) [assumption] so that a target drawn on top of the TBS or a
receiver does not give an unbounded far-field gain.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.istn.ula import ula_response

F64 = jnp.float64
X_AXIS = np.array([1.0, 0.0, 0.0])  # TBS ULA along x


def bistatic_gain(d_tx, d_rx, rcs_m2, wavelength_m):
    """Eq. (9): lambda^2 sigma / ((4 pi)^3 d_tx^2 d_rx^2) (linear power gain)."""
    return wavelength_m ** 2 * rcs_m2 / ((4.0 * jnp.pi) ** 3 * d_tx ** 2 * d_rx ** 2)


def _safe_u(vec, axis):
    """Direction cosine that is 0 (broadside) for a zero vector instead of NaN."""
    return jnp.sum(vec * axis, axis=-1) / jnp.maximum(jnp.linalg.norm(vec, axis=-1), 1e-9)


def scatter_channels(key, pos, tbs, rx, rx_axis, rcs_m2, p):
    """Per-scatterer sensing channels of eq. (8)/(10) for scatterers at ``pos``.

    Args:
      key: PRNG key (phases); pos: [S, 3] scatterer positions; tbs: [3]; rx: [R, 3];
      rx_axis: [R, 3]; rcs_m2: RCS; p: ChannelParams.
    Returns:
      ``G`` [S, R, Nr, Nt] complex, ``gain`` [S, R] eq. (9) power gain (float64),
      ``u_rx`` [S, R] direction cosine at each receiver, ``u_tx`` [S] at the TBS.
    """
    cdt = jnp.complex64 if p.precision == "float32" else jnp.complex128
    d_tx = jnp.maximum(jnp.linalg.norm(pos - tbs, axis=-1), p.sens_min_dist_m)          # [S]
    diff = pos[:, None, :] - rx[None, :, :]                                                # [S, R, 3]
    d_rx = jnp.maximum(jnp.linalg.norm(diff, axis=-1), p.sens_min_dist_m)                 # [S, R]
    gain = bistatic_gain(d_tx[:, None], d_rx, rcs_m2, p.wavelength_m)                     # [S, R]
    u_tx = _safe_u(pos - tbs, X_AXIS)                                                      # [S]
    u_rx = _safe_u(diff, rx_axis[None, :, :])                                              # [S, R]
    phase = jax.random.uniform(key, gain.shape, F64, 0.0, 2 * jnp.pi)
    alpha = (jnp.sqrt(gain) * jnp.exp(1j * phase)).astype(cdt)                             # [S, R]
    a_r = ula_response(u_rx, p.n_rx, cdt)                                                  # [S, R, Nr]
    a_t = jnp.conj(ula_response(u_tx, p.n_tx, cdt))                                        # [S, Nt]
    # [S, R, Nr, Nt]
    g = alpha[:, :, None, None] * a_r[:, :, :, None] * a_t[:, None, None, :]
    return dict(G=g, gain=gain, u_rx=u_rx, u_tx=u_tx)
