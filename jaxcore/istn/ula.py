"""Half-wavelength ULA responses (ISTN paper eqs. (3), (5), (6), (8), (10); spec istn.md §1.4).

Convention (recorded decision, spec §1.4): every array is a half-wavelength ULA in the
horizontal plane and its response is **unit-modulus**,

    a(u) = [1, e^{j pi u}, ..., e^{j pi (N-1) u}]^T,   ||a(u)||^2 = N,

with ``u = sin(theta)`` the direction cosine of the source along the array axis
(``theta`` measured from broadside).  For a source at elevation ``el`` and azimuth ``psi``
from broadside, ``u = cos(el) sin(psi)``.  Unit-modulus vectors give the array gains
N_RX in (3) and N_TX N_RX in (8)/(10); in (5)-(6) the paper's ``sqrt(N_TX)`` times a
unit-norm ``a_t`` is the same thing, so the sqrt(N_TX) is dropped there.

Transmit steering enters channels as a row ``a_t(u)^H`` (a received sample is ``h @ f``),
so the matched beamformer ``f = a_t(u)`` collects gain N_TX.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def direction_cosine(vec, axis):
    """``u`` of the unit direction ``vec / |vec|`` along the unit array ``axis``.

    Args:
      vec: [..., 3] float64 vector from the array to the source (metres).
      axis: [..., 3] unit vector of the array line (broadcast against ``vec``).
    Returns:
      [...] u in [-1, 1].
    """
    # [...]
    return jnp.sum(vec * axis, axis=-1) / jnp.linalg.norm(vec, axis=-1)


def ula_response(u, n: int, dtype=jnp.complex128):
    """Unit-modulus ULA response a(u) (spec §1.4).

    Args:
      u: [...] direction cosines (real; any float dtype).
      n: number of elements.
      dtype: complex output dtype (the phase is formed in the matching real precision).
    Returns:
      [..., n] complex ``exp(j pi k u)``, k = 0..n-1; ``||a||^2 = n``.
    """
    real = jnp.finfo(dtype).dtype
    k = jnp.arange(n, dtype=real)
    # [..., n]
    phase = jnp.pi * jnp.asarray(u, real)[..., None] * k
    return jnp.exp(1j * phase).astype(dtype)


def ula_ray_sum(amp, u, n: int):
    """Sum of rays as a channel row: sum_r amp_r a(u_r)^H, i.e. element k is
    sum_r amp_r e^{-j pi k u_r} (the diffuse part of eqs. (5)-(6), spec §2.5).

    Computed by the recurrence v <- v * e^{-j pi u} over the n elements (one complex
    product per ray and element instead of a complex exponential): k rounding errors at
    element k, i.e. relative error ~ n * eps (2e-6 in complex64 for n = 30).

    Args:
      amp: [rays] complex ray amplitudes (dtype kept).
      u: [rays] real direction cosines.
      n: number of elements.
    Returns:
      [n] complex, dtype of ``amp``.
    """
    real = jnp.finfo(amp.dtype).dtype
    z = jnp.exp(-1j * jnp.pi * jnp.asarray(u, real)).astype(amp.dtype)

    def step(v, _):
        return v * z, jnp.sum(v)

    _, row = jax.lax.scan(step, amp, None, length=n)
    return row
