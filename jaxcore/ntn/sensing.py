"""Pilot-based SNR and rain-attenuation estimation, NTN spec ``ntn.md`` §2 V-A, eqs. (17)-(22).

Observation model (17): y[n] = sqrt(gamma) x[n] + w[n], |x[n]| = 1, w ~ CN(0, 1), n = 1..L
(noise-normalised units).  The estimators work on explicit samples (``pilot_observations``
+ ``ml_snr``); ``sample_snr_estimate`` draws the same estimate from its exact sufficient
statistics in O(1) per pair (needed for L up to 2^20):
  m = (1/L) sum Re{y x*} ~ N(sqrt(gamma), 1/(2L)),
  N_hat = (1/L) sum |y|^2 - m^2 = chi2_{2L-1} / (2L) = Gamma((2L-1)/2, 1) / L, independent of m,
so E[gamma_ML] = (gamma + 1/(2L)) * 2L/(2L-3) = (2L gamma + 1)/(2L - 3) as in spec (18).

Keeps the dtype it is given (float32 is fine: everything is noise-normalised).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

SNR_FLOOR = 1e-6  # clip of gamma_hat before it is inverted (spec (18) note)


def pilot_observations(key, snr, pilot_len: int, dtype=jnp.complex128):
    """Draw y [..., L] of (17) for SNRs ``snr`` [...] with random QPSK pilots x [..., L]; returns (y, x)."""
    kx, kw = jax.random.split(key)
    shape = jnp.shape(snr) + (pilot_len,)
    ph = jax.random.randint(kx, shape, 0, 4).astype(jnp.real(jnp.zeros((), dtype)).dtype)
    x = jnp.exp(1j * (jnp.pi / 2 * ph + jnp.pi / 4)).astype(dtype)
    w = jax.random.normal(kw, shape, dtype)  # CN(0, 1): jax complex normal has E|w|^2 = 1
    y = jnp.sqrt(jnp.asarray(snr))[..., None].astype(dtype) * x + w
    return y, x


def ml_snr(y, x):
    """Data-aided ML SNR gamma_ML = S_hat / N_hat over the last axis, spec (18) (biased)."""
    s = jnp.mean(jnp.real(y * jnp.conj(x)), axis=-1) ** 2
    n = jnp.mean(jnp.abs(y) ** 2, axis=-1) - s
    return s / n


def unbias_snr(gamma_ml, pilot_len):
    """Bias-corrected estimate gamma_hat = (2L-3)/(2L) gamma_ML - 1/(2L), eq. (18)."""
    L = pilot_len
    return (2.0 * L - 3.0) / (2.0 * L) * gamma_ml - 1.0 / (2.0 * L)


def ml_snr_mean(snr, pilot_len):
    """E[gamma_ML] = (2 L gamma + 1) / (2L - 3) (spec (18))."""
    return (2.0 * pilot_len * snr + 1.0) / (2.0 * pilot_len - 3.0)


def sample_snr_estimate(key, snr, pilot_len, dtype=None):
    """Draw the unbiased estimate (18) from its exact sufficient statistics (shape of ``snr``).

    ``pilot_len`` may be an array broadcastable to ``snr`` (traced: one compile for all L).
    """
    snr = jnp.asarray(snr) if dtype is None else jnp.asarray(snr, dtype)
    return _sample_snr_estimate(key, snr, jnp.asarray(pilot_len, snr.dtype))


@jax.jit
def _sample_snr_estimate(key, snr, pilot_len):
    L = jnp.asarray(pilot_len, snr.dtype)
    shape = jnp.broadcast_shapes(snr.shape, L.shape)
    km, kn = jax.random.split(key)
    m = jnp.sqrt(snr) + jax.random.normal(km, shape, snr.dtype) / jnp.sqrt(2.0 * L)
    n_hat = jax.random.gamma(kn, (2.0 * L - 1.0) / 2.0 * jnp.ones(shape, snr.dtype), dtype=snr.dtype) / L
    return unbias_snr(m ** 2 / n_hat, L)


def crb_snr(snr, pilot_len):
    """CRB for the SNR, complex AWGN, data-aided: (2 gamma + gamma^2) / L, eq. (19)."""
    return (2.0 * snr + snr ** 2) / pilot_len


def exact_var_unbiased(snr, pilot_len):
    """Exact variance of (18) from the sufficient statistics (for tests and Fig. 9)."""
    L = jnp.asarray(pilot_len, jnp.result_type(float))
    s2 = 1.0 / (2.0 * L)
    a = (2.0 * L - 1.0) / 2.0
    e_m2 = snr + s2
    e_m4 = snr ** 2 + 6.0 * snr * s2 + 3.0 * s2 ** 2
    e_inv = L / (a - 1.0)
    e_inv2 = L ** 2 / ((a - 1.0) * (a - 2.0))
    var_ml = e_m4 * e_inv2 - (e_m2 * e_inv) ** 2
    return ((2.0 * L - 3.0) / (2.0 * L)) ** 2 * var_ml


def naive_attenuation(snr_clear, snr_hat):
    """A_hat = gamma^cs / gamma_hat, eq. (20) (biased, see (21))."""
    return snr_clear / jnp.maximum(snr_hat, SNR_FLOOR)


def naive_attenuation_bias(atten, snr, pilot_len):
    """Predicted E[A_hat] ~ A (1 + Var(gamma_hat)/gamma^2) with Var = CRB, eq. (21)."""
    return atten * (1.0 + crb_snr(snr, pilot_len) / snr ** 2)


def corrected_attenuation(snr_clear, snr_hat, pilot_len):
    """A_tilde = L gamma^cs / ((L + 1) gamma_hat + 2), eq. (22)."""
    L = pilot_len
    return L * snr_clear / ((L + 1.0) * jnp.maximum(snr_hat, SNR_FLOOR) + 2.0)


def allocator_snr(mode: str, key, snr_true, snr_clear, pilot_len, sensed, clip_attenuation: bool = True):
    """SNR the allocator sees for each pair (spec §3 step 3 and 5).

    Args:
      mode: ``"perfect"`` (gamma itself), ``"none"`` (clear-sky gamma^cs, no sensing) or
        ``"pilots"`` (gamma^cs / A_tilde with A_tilde from (22) on a drawn (18) estimate).
      snr_true, snr_clear: [...] linear SNRs.
      sensed: [...] bool, pairs measured with pilots (rain bands in range); the others
        have A = 1 and are known from the ephemeris, so they get gamma^cs.
      clip_attenuation: clip A_tilde to >= 1 (rain never amplifies; our choice).
    Returns:
      (snr_seen [...], atten_est [...]) -- atten_est is 1 where not sensed.
    """
    if mode == "perfect":
        return snr_true, snr_clear / snr_true
    if mode == "none":
        return snr_clear, jnp.ones_like(snr_clear)
    if mode != "pilots":
        raise ValueError(f"mode: expected 'perfect', 'pilots' or 'none', got {mode!r}")
    g_hat = sample_snr_estimate(key, snr_true, pilot_len)
    a_t = corrected_attenuation(snr_clear, g_hat, pilot_len)
    if clip_attenuation:
        a_t = jnp.maximum(a_t, 1.0)
    a_t = jnp.where(sensed, a_t, 1.0)
    return snr_clear / a_t, a_t
