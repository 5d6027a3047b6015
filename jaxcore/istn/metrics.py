"""ISTN performance metrics for ONE cell: SINR (16)-(17), SCNR (18)-(22), rates (23)-(24),
MSEs (32)-(34), the radar virtual covariance and MMSE filter.

All functions are pure, single-cell, and work in any consistent noise unit (the noise
powers are read from the ``CellProblem``).  ``vmap`` them outside over drops and cells.

Conventions (spec istn.md §1.6):
  * channels are rows, a received sample is ``h @ f``; F is [Nt, K+T], column K+i is target
    i's sensing beam;
  * receive filters are rows too: ``w_tut`` [K] and ``w_sut`` [] are scalars applied as
    ``w * (h f)``, ``w_rad`` [T, Nr] is applied as ``w_i @ y``;
  * §1.6-2: the TUT MMSE equaliser is ``(h_k f_k)^* / R_k`` (eq. (35) needs the conjugate);
  * §1.6-3: the radar MMSE filter uses the *virtual* covariance R_v (other-target and
    clutter echoes incoherent, as in the SCNR (18)-(22)), not the coherent (39); then
    radar MSE = 1/(1+SCNR) exactly;
  * the G of (13)/(21) is G_Sigma = sum_t G^tar_t (targets only; clutter is (20)).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_solve

from jaxcore.istn.problem import CellProblem, TargetView, target_view


def _abs2(x):
    return jnp.real(x) ** 2 + jnp.imag(x) ** 2


# ----------------------------------------------------------------------------- communication
def tut_signal_interference(prob: CellProblem, F, p_sat):
    """Useful power |h_k f_k|^2 and interference-plus-noise of TUT k, eq. (16).  [K], [K]."""
    K = prob.h_tut.shape[0]
    # [K, K+T]
    hF = prob.h_tut @ F
    P = _abs2(hF)
    sig = P[jnp.arange(K), jnp.arange(K)]
    inn = P.sum(axis=1) - sig + prob.g_tut * p_sat + prob.noise_tut
    return sig, inn


def tut_sinr(prob: CellProblem, F, p_sat):
    """SINR of every TUT, ISTN paper eq. (16).  Returns [K] real."""
    sig, inn = tut_signal_interference(prob, F, p_sat)
    return sig / inn


def sut_sinr(prob: CellProblem, F, p_sat):
    """SINR of the SUT, ISTN paper eq. (17).  Returns [] real."""
    # [K+T]
    hsF = prob.h_sut @ F
    return prob.g_sut * p_sat / (_abs2(hsF).sum() + prob.noise_sut)


def rates(prob: CellProblem, F, p_sat):
    """TUT rates (23) [K] and SUT rate (24) [] in bit/s/Hz."""
    return jnp.log2(1.0 + tut_sinr(prob, F, p_sat)), jnp.log2(1.0 + sut_sinr(prob, F, p_sat))


def sum_rate(prob: CellProblem, F, p_sat):
    """Cell sum rate sum_k R_k^(T) + R^(S), ISTN paper (26) objective.  [] real."""
    r_t, r_s = rates(prob, F, p_sat)
    return r_t.sum() + r_s


def tut_mse(prob: CellProblem, F, p_sat, w_tut):
    """MSE of TUT k with scalar equaliser w_tut[k], ISTN paper eq. (32).  Returns [K]."""
    K = prob.h_tut.shape[0]
    hF = prob.h_tut @ F  # [K, K+T]
    own = hF[jnp.arange(K), jnp.arange(K)]
    tot = _abs2(hF).sum(axis=1)
    w2 = _abs2(w_tut)
    return (_abs2(1.0 - w_tut * own) + w2 * (tot - _abs2(own))
            + w2 * (prob.g_tut * p_sat + prob.noise_tut))


def sut_mse(prob: CellProblem, F, p_sat, w_sut):
    """MSE of the SUT with scalar equaliser w_sut, ISTN paper eq. (33).  Returns []."""
    hsF = prob.h_sut @ F
    w2 = _abs2(w_sut)
    return (_abs2(1.0 - w_sut * jnp.sqrt(prob.g_sut * p_sat))
            + w2 * _abs2(hsF).sum() + w2 * prob.noise_sut)


def tut_mmse_receiver(prob: CellProblem, F, p_sat):
    """MMSE equaliser of every TUT, ISTN paper eq. (35) with the conjugate of spec §1.6-2.

    w_k = (h_k f_k)^* / R_k with R_k (38).  Returns [K] complex.
    """
    K = prob.h_tut.shape[0]
    hF = prob.h_tut @ F
    own = hF[jnp.arange(K), jnp.arange(K)]
    R = _abs2(hF).sum(axis=1) + prob.g_tut * p_sat + prob.noise_tut
    return jnp.conj(own) / R


def sut_mmse_receiver(prob: CellProblem, F, p_sat):
    """MMSE equaliser of the SUT, ISTN paper eq. (36).  Returns [] (complex dtype, real value)."""
    hsF = prob.h_sut @ F
    R = prob.g_sut * p_sat + _abs2(hsF).sum() + prob.noise_sut
    return (jnp.sqrt(prob.g_sut * p_sat) / R).astype(F.dtype)


# ----------------------------------------------------------------------------- sensing
def radar_terms(prob: CellProblem, F, p_sat, w_rad, tv: TargetView | None = None):
    """Useful echo power and the four interference terms of (18)-(22) per target.

    Returns ``(signal [T], I1 [T], I2 [T], I3 [T], I4 [T], noise [T])`` for filters
    ``w_rad`` [T, Nr] (row i is w_i of target i at receiver A(i)).
    """
    tv = target_view(prob) if tv is None else tv
    K = prob.h_tut.shape[0]
    T = tv.G_t.shape[0]
    fs = F[:, K:]  # [Nt, T]  sensing beams
    # x_{i,t} = w_i G_{t,A(i)}: [T(i), T(t), Nt]
    x = jnp.einsum("ir,itrn->itn", w_rad, tv.G_t)
    # w_i G_{t,A(i)} f_{K+i}: [T(i), T(t)]
    xf = jnp.einsum("itn,ni->it", x, fs)
    P = _abs2(xf)
    sig = P[jnp.arange(T), jnp.arange(T)]
    I1 = P.sum(axis=1) - sig  # (19)
    # clutter rows c_{i,l} F: [T(i), L, K+T]
    cF = jnp.einsum("ir,ilrn,nj->ilj", w_rad, tv.G_c, F)
    I2 = _abs2(cF).sum(axis=(1, 2))  # (20)
    # w_i G_Sigma F: [T(i), K+T]
    sF = _abs2(jnp.einsum("ir,irn,nj->ij", w_rad, tv.G_sum, F))
    I3 = sF.sum(axis=1) - sF[jnp.arange(T), K + jnp.arange(T)]  # (21)
    I4 = _abs2(jnp.einsum("ir,ir->i", w_rad, tv.g_r)) * p_sat  # (22)
    noise = _abs2(w_rad).sum(axis=1) * prob.noise_rad
    return sig, I1, I2, I3, I4, noise


def scnr(prob: CellProblem, F, p_sat, w_rad, tv: TargetView | None = None):
    """SCNR of every target for given receive filters, ISTN paper eq. (18)-(22).  [T] real."""
    sig, I1, I2, I3, I4, noise = radar_terms(prob, F, p_sat, w_rad, tv)
    return sig / (I1 + I2 + I3 + I4 + noise)


def radar_mse(prob: CellProblem, F, p_sat, w_rad, tv: TargetView | None = None):
    """Radar MSE of every target, ISTN paper eq. (34).  [T] real.

    The coherent echo of target i is split into the useful |1 - w_i G_i f_{K+i}|^2 and the
    other-target part I1, as in (34); with the MMSE filter of R_v this equals 1/(1+SCNR).
    """
    tv = target_view(prob) if tv is None else tv
    K = prob.h_tut.shape[0]
    T = tv.G_t.shape[0]
    # w_i G_{i,A(i)} f_{K+i}: [T]
    own = jnp.einsum("ir,irn,ni->i", w_rad, tv.G_t[jnp.arange(T), jnp.arange(T)], F[:, K:])
    sig, I1, I2, I3, I4, noise = radar_terms(prob, F, p_sat, w_rad, tv)
    return _abs2(1.0 - own) + I1 + I2 + I3 + I4 + noise


def radar_virtual_covariance(prob: CellProblem, F, p_sat, tv: TargetView | None = None):
    """Virtual covariance R_v,i of spec istn.md §1.6-3 and the echo a0_i = G_i f_{K+i}.

    R_v,i = a0 a0^H + sum_{t!=i} G_t f f^H G_t^H + sum_l G^cl_l F F^H G^cl_l^H
            + sum_{j!=K+i} G_Sigma f_j f_j^H G_Sigma^H + p g g^H + sigma_R^2 I,
    with f = f_{K+i} and all channels at receiver A(i).  This replaces the coherent (39)
    so that the MMSE identity MSE = 1/(1+SCNR) holds.

    Returns ``(R_v [T, Nr, Nr], a0 [T, Nr])``.
    """
    tv = target_view(prob) if tv is None else tv
    K = prob.h_tut.shape[0]
    T, _, Nr, _ = tv.G_t.shape
    fs = F[:, K:]  # [Nt, T]
    # G_{t,A(i)} f_{K+i}: [T(i), T(t), Nr]  (all targets, own included: a0 is t = i)
    Gf = jnp.einsum("itrn,ni->itr", tv.G_t, fs)
    a0 = Gf[jnp.arange(T), jnp.arange(T)]
    R = jnp.einsum("itr,its->irs", Gf, jnp.conj(Gf))  # a0 a0^H + other targets
    # clutter: [T(i), L, Nr, K+T]
    cF = jnp.einsum("ilrn,nj->ilrj", tv.G_c, F)
    R = R + jnp.einsum("ilrj,ilsj->irs", cF, jnp.conj(cF))
    # other beams through G_Sigma: [T(i), Nr, K+T], column K+i removed by a mask
    sF = jnp.einsum("irn,nj->irj", tv.G_sum, F)
    mask = jnp.ones((T, F.shape[1]), F.real.dtype).at[jnp.arange(T), K + jnp.arange(T)].set(0.0)
    R = R + jnp.einsum("irj,isj->irs", sF * mask[:, None, :], jnp.conj(sF))
    R = R + p_sat * jnp.einsum("ir,is->irs", tv.g_r, jnp.conj(tv.g_r))
    R = R + prob.noise_rad * jnp.eye(Nr, dtype=F.dtype)
    return R, a0


def _hermitise(R):
    return 0.5 * (R + jnp.conj(jnp.swapaxes(R, -1, -2)))


def mmse_radar_filter(prob: CellProblem, F, p_sat, tv: TargetView | None = None):
    """MMSE radar filter w_i = a0_i^H R_v,i^{-1}, ISTN paper eq. (37) with R_v (§1.6-3).

    Returns [T, Nr] complex rows (apply as ``w_i @ y``).  Solved by Cholesky (R_v >= noise I).
    """
    R, a0 = radar_virtual_covariance(prob, F, p_sat, tv)
    L = jnp.linalg.cholesky(_hermitise(R))
    # R_v^{-1} a0 (R_v Hermitian) -> w = (R_v^{-1} a0)^H
    z = jax.vmap(lambda Li, ai: cho_solve((Li, True), ai))(L, a0)
    return jnp.conj(z)


def scnr_mmse(prob: CellProblem, F, p_sat, tv: TargetView | None = None):
    """SCNR (18) at the SCNR-maximising (MMSE, R_v) filter: a0^H Q^{-1} a0.  [T] real.

    Q = R_v - a0 a0^H is the interference-plus-noise covariance of (18)-(22); this is the
    SCNR a solution file reports (interfaces.md §2).
    """
    R, a0 = radar_virtual_covariance(prob, F, p_sat, tv)
    Q = _hermitise(R - jnp.einsum("ir,is->irs", a0, jnp.conj(a0)))
    L = jnp.linalg.cholesky(Q)
    z = jax.vmap(lambda Li, ai: cho_solve((Li, True), ai))(L, a0)
    return jnp.real(jnp.einsum("ir,ir->i", jnp.conj(a0), z))


def all_metrics(prob: CellProblem, F, p_sat):
    """Rates (23)-(24), sum rate and MMSE SCNR in one call: ``(rate_tut [K], rate_sut [],
    sum_rate [], scnr [T])``."""
    r_t, r_s = rates(prob, F, p_sat)
    return r_t, r_s, r_t.sum() + r_s, scnr_mmse(prob, F, p_sat)
