"""WMMSE building blocks for one ISTN cell: receivers (35)-(37), weights (40)-(41), the
receiver-projected MSE coefficients the transmit step (43) works on, and the WMMSE objective.

Receivers are applied as in ``jaxcore.istn.metrics``: TUT/SUT scalars ``w * y`` (so the
MMSE TUT equaliser is the conjugate form of (35), spec istn.md §1.6-2) and radar rows
``w_i @ y`` with the virtual covariance of §1.6-3 in (37).  The radar weights (42) are never
used (spec §1.6-4): sensing enters (43) only through constraints.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxcore.istn import metrics
from jaxcore.istn.problem import CellProblem, target_view


class Receivers(NamedTuple):
    """Receive filters of one cell."""

    w_tut: jax.Array  # [K] c     TUT equalisers (35)
    w_sut: jax.Array  # [] c      SUT equaliser (36)
    w_rad: jax.Array  # [T, Nr] c radar filter rows (37)


class Weights(NamedTuple):
    """WMMSE weights of one cell (40)-(41)."""

    mu_tut: jax.Array  # [K] r
    mu_sut: jax.Array  # [] r


def mmse_receivers(prob: CellProblem, F, p_sat) -> Receivers:
    """Receiver update, ISTN paper eqs. (35)-(37) (conjugate fix §1.6-2, R_v of §1.6-3)."""
    return Receivers(metrics.tut_mmse_receiver(prob, F, p_sat),
                     metrics.sut_mmse_receiver(prob, F, p_sat),
                     metrics.mmse_radar_filter(prob, F, p_sat))


def mmse_weights(prob: CellProblem, F, p_sat) -> Weights:
    """Weight update, ISTN paper eqs. (40)-(41) at the MMSE receivers: mu = 1/MMSE = 1 + SINR.

    Written as 1 + SINR (not 1/(1 - w h f)) to avoid the cancellation at high SINR.
    """
    return Weights(1.0 + metrics.tut_sinr(prob, F, p_sat), 1.0 + metrics.sut_sinr(prob, F, p_sat))


class MseCoeffs(NamedTuple):
    """Receiver-projected channels: with receivers fixed every MSE (32)-(34) is a convex
    quadratic in (F, q), q = sqrt(p_sat) (spec §3.3 notation)."""

    a_tut: jax.Array  # [K, Nt] c    w~_k h_k
    c_tut: jax.Array  # [K] r        |w~_k|^2 g^TUT_k           (coefficient of q^2)
    n_tut: jax.Array  # [K] r        sigma_T^2 |w~_k|^2
    a_sut: jax.Array  # [Nt] c       w-bar h^(S)
    b_sut: jax.Array  # [] c         w-bar sqrt(g^SUT)          (eps-bar has |1 - b q|^2)
    n_sut: jax.Array  # [] r         sigma_S^2 |w-bar|^2
    x_tar: jax.Array  # [T, T, Nt] c x_{i,t} = w_i G^tar_{t, A(i)}
    x_sum: jax.Array  # [T, Nt] c    sum_t x_{i,t}
    c_cl: jax.Array  # [T, L, Nt] c  w_i G^cl_{l, A(i)}
    c_rad: jax.Array  # [T] r        |w_i g^rad_{A(i)}|^2
    n_rad: jax.Array  # [T] r        sigma_R^2 ||w_i||^2


def mse_coeffs(prob: CellProblem, rx: Receivers) -> MseCoeffs:
    """Project the channels on the fixed receivers (one cell)."""
    tv = target_view(prob)
    abs2 = lambda z: jnp.real(z) ** 2 + jnp.imag(z) ** 2  # noqa: E731
    x_tar = jnp.einsum("ir,itrn->itn", rx.w_rad, tv.G_t)
    return MseCoeffs(
        a_tut=rx.w_tut[:, None] * prob.h_tut,
        c_tut=abs2(rx.w_tut) * prob.g_tut,
        n_tut=prob.noise_tut * abs2(rx.w_tut),
        a_sut=rx.w_sut * prob.h_sut,
        b_sut=rx.w_sut * jnp.sqrt(prob.g_sut).astype(rx.w_sut.dtype),
        n_sut=prob.noise_sut * abs2(rx.w_sut),
        x_tar=x_tar,
        x_sum=x_tar.sum(axis=1),
        c_cl=jnp.einsum("ir,ilrn->iln", rx.w_rad, tv.G_c),
        c_rad=abs2(jnp.einsum("ir,ir->i", rx.w_rad, tv.g_r)),
        n_rad=prob.noise_rad * abs2(rx.w_rad).sum(axis=-1))


def mses(co: MseCoeffs, F, q):
    """MSEs (32), (33), (34) at (F, q) for the receivers in ``co``.

    Returns ``(eps_tut [K], eps_sut [], eps_rad [T])``; identical to
    ``metrics.tut_mse/sut_mse/radar_mse`` with p_sat = q^2.
    """
    abs2 = lambda z: jnp.real(z) ** 2 + jnp.imag(z) ** 2  # noqa: E731
    K = co.a_tut.shape[0]
    T = co.x_sum.shape[0]
    aF = co.a_tut @ F  # [K, K+T]
    own = aF[jnp.arange(K), jnp.arange(K)]
    eps_tut = abs2(1.0 - own) + abs2(aF).sum(axis=1) - abs2(own) + co.c_tut * q ** 2 + co.n_tut
    eps_sut = abs2(1.0 - co.b_sut * q) + abs2(co.a_sut @ F).sum() + co.n_sut
    fs = F[:, K:]  # [Nt, T]
    xf = abs2(jnp.einsum("itn,ni->it", co.x_tar, fs))  # [T(i), T(t)]
    xf_own = jnp.einsum("in,ni->i", co.x_tar[jnp.arange(T), jnp.arange(T)], fs)
    sF = abs2(co.x_sum @ F)  # [T, K+T]
    eps_rad = (abs2(1.0 - xf_own) + xf.sum(axis=1) - abs2(xf_own)
               + abs2(jnp.einsum("iln,nj->ilj", co.c_cl, F)).sum(axis=(1, 2))
               + sF.sum(axis=1) - sF[jnp.arange(T), K + jnp.arange(T)]
               + co.c_rad * q ** 2 + co.n_rad)
    return eps_tut, eps_sut, eps_rad


def weighted_mse(co: MseCoeffs, wts: Weights, F, q):
    """Objective of (43) without prox: sum_k mu~_k eps~_k + mu-bar eps-bar."""
    e_t, e_s, _ = mses(co, F, q)
    return jnp.dot(wts.mu_tut, e_t) + wts.mu_sut * e_s


def wmmse_objective(prob: CellProblem, F, p_sat, rx: Receivers, wts: Weights):
    """WMMSE cost sum_k (mu_k eps_k - ln mu_k) + (mu-bar eps-bar - ln mu-bar) (Shi et al. 2011).

    At the MMSE receivers and weights it equals (K+1) - ln(2) * (cell sum rate), so
    minimising it is maximising the sum rate (26).
    """
    co = mse_coeffs(prob, rx)
    e_t, e_s, _ = mses(co, F, jnp.sqrt(p_sat))
    return (jnp.dot(wts.mu_tut, e_t) - jnp.log(wts.mu_tut).sum()
            + wts.mu_sut * e_s - jnp.log(wts.mu_sut))


def qos_violation(prob: CellProblem, co: MseCoeffs, F, q):
    """Normalised QoS residuals g = eps/e - 1 (SUT first, then targets): [1+T] real.

    <= 0 means the MSE bounds of (43) hold at the receivers in ``co``.
    """
    _, e_s, e_r = mses(co, F, q)
    return jnp.concatenate([(e_s / prob.e_sut - 1.0)[None], e_r / prob.e_rad - 1.0])
