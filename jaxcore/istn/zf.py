"""Zero-forcing building blocks of the ISTN baselines (paper Sec. IV-B, spec istn.md §1.5).

All functions act on ONE cell (a :class:`~jaxcore.istn.problem.CellProblem`, preferably
noise-normalised) and are ``vmap``-ed outside over drops and cells.

* :func:`zf_beams` -- unit-norm ZF directions over the K TUT channels and the T target
  transmit directions (K+T <= Nt streams), optionally also nulling the SUT channel h^(S)
  (``null_sut``, K+1+T <= Nt), and the effective gains c_j = |row_j f_j|^2.
* :func:`waterfill` -- p_k = (eta - n_k/c_k)^+ with sum p = budget (reuses the capped
  water-filling of :mod:`jaxcore.istn.merge`, one implementation).
* :func:`sensing_cov` -- the radar virtual covariance R_v,i of metrics.py for
  F = F_dir diag(sqrt(pw)) written as a *linear* function of the stream powers pw:
  R_v,i = sum_j pw_j C_{i,j} + p_sat g g^H + sigma_R^2 I.  Exhaustive grids and power
  fixed points then cost Nr x Nr work per evaluation; a test checks it against
  :func:`jaxcore.istn.metrics.scnr_mmse`, which the solvers use for every reported number.
* :func:`min_sensing_power` -- the least sensing powers s meeting SCNR_i >= SCNR_min at the
  MMSE radar receiver, by the fixed point s_i <- s_i * SCNR_min / SCNR_i(s).  With the MMSE
  receiver I_i(s) = SCNR_min * s_i / SCNR_i(s) is a standard interference function (Yates
  1995: positive, monotone, scalable), so the iteration started at 0 increases monotonically
  to the minimal feasible powers when they exist and diverges otherwise.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_solve

from jaxcore.istn.merge import merge_powers
from jaxcore.istn.problem import CellProblem, target_view


def _abs2(x):
    return jnp.real(x) ** 2 + jnp.imag(x) ** 2


def target_tx_direction(G, n_iter: int = 12):
    """Dominant right singular vector (as a unit row, [Nt]) of a sensing channel G [Nr, Nt].

    For the rank-one LOS channel of eq. (8), G = alpha a_r a_t^H, this is a_t^H/|a_t| up to a
    phase: the direction the TBS must null (or hit) for that target.  Power iteration from
    the strongest row, so no batched eigendecomposition is needed.
    """
    row = G[jnp.argmax(jnp.sum(_abs2(G), axis=1))]
    v = jnp.conj(row)

    def body(_, v):
        v = jnp.conj(G.T) @ (G @ v)
        return v / jnp.maximum(jnp.linalg.norm(v), jnp.finfo(v.real.dtype).tiny)

    v = jax.lax.fori_loop(0, n_iter, body, v / jnp.maximum(jnp.linalg.norm(v), jnp.finfo(v.real.dtype).tiny))
    return jnp.conj(v)  # row: G v is maximal for the column v, so the row is v^H


def zf_beams(prob: CellProblem, ridge: float = 1e-9, null_sut: bool = False):
    """Unit-norm zero-forcing beam directions of one cell.

    H = [h_1; ...; h_K; t_1; ...; t_T] stacks the TUT channels and the unit target rows
    t_i (dominant right singular vector of G^tar_{i, A(i)}); F_dir = H^H (H H^H)^{-1} with
    normalised columns, so h_k f_j = 0 (j != k) and target t's direction is nulled by every
    beam except its own.  With ``null_sut`` the SUT channel h^(S) (rescaled to the rms row norm;
    the ZF directions do not depend on row scales) is stacked as one more row that no
    stream serves, so h^(S) f_j = 0 for every beam j: the TBS -> SUT interference of
    eq. (24) vanishes and the SUT rate is limited by the satellite power alone.  Needs
    K + 1 + T <= Nt (paper size: 10 <= 30).

    Returns:
      F_dir [Nt, K+T] complex (unit-norm columns), c [K+T] real: |row_j f_j|^2 =
      1/[(H H^H)^{-1}]_jj (the TUT entries are the ZF effective channel gains).
    """
    T = prob.G_tar.shape[0]
    K = prob.h_tut.shape[0]
    G_own = prob.G_tar[jnp.arange(T), prob.assoc]  # [T, Nr, Nt]
    t_rows = jax.vmap(target_tx_direction)(G_own)  # [T, Nt]
    rows = [prob.h_tut]
    if null_sut:
        # h^(S) scaled to the rms norm of the other rows, so the relative ridge treats it alike
        others = jnp.concatenate([prob.h_tut, t_rows], axis=0)
        rms = jnp.sqrt(jnp.mean(jnp.sum(_abs2(others), axis=1)))
        hs = prob.h_sut * (rms / jnp.maximum(jnp.linalg.norm(prob.h_sut), jnp.finfo(rms.dtype).tiny))
        rows.append(hs[None, :])  # [1, Nt]
    H = jnp.concatenate(rows + [t_rows], axis=0)  # [K(+1)+T, Nt]
    gram = H @ jnp.conj(H.T)  # [K(+1)+T, K(+1)+T]
    scale = jnp.real(jnp.trace(gram)) / H.shape[0]
    gram = gram + ridge * scale * jnp.eye(H.shape[0], dtype=H.dtype)
    L = jnp.linalg.cholesky(0.5 * (gram + jnp.conj(gram.T)))
    X = cho_solve((L, True), jnp.eye(H.shape[0], dtype=H.dtype))  # (H H^H + ridge)^{-1}
    F = jnp.conj(H.T) @ X  # [Nt, K(+1)+T]
    if null_sut:  # drop the SUT's column (no stream serves it) and its row
        keep = jnp.concatenate([jnp.arange(K), K + 1 + jnp.arange(T)])
        F, H = F[:, keep], H[keep]
    F = F / jnp.linalg.norm(F, axis=0)[None, :]  # unit-norm columns
    # |row_j f_j|^2 = 1/[(H H^H)^{-1}]_jj (up to the tiny ridge)
    c = _abs2(jnp.einsum("jn,nj->j", H, F))
    return F, c


def mrt_sensing_beams(prob: CellProblem):
    """Unit-norm conjugate (matched) beams toward each target, [Nt, T] (no nulling).

    Column i is t_i^H / |t_i| with t_i the target row of :func:`zf_beams`; used as a second
    sensing-only candidate (it maximises the own echo, leaving the other targets' echoes to
    the MMSE receiver).
    """
    T = prob.G_tar.shape[0]
    G_own = prob.G_tar[jnp.arange(T), prob.assoc]  # [T, Nr, Nt]
    t_rows = jax.vmap(target_tx_direction)(G_own)  # [T, Nt]
    return jnp.conj(t_rows.T) / jnp.linalg.norm(t_rows, axis=1)[None, :]


def waterfill(floor, budget):
    """Water-filling p_k = (eta - floor_k)^+ with sum_k p_k = budget (budget >= 0).

    ``floor_k`` = noise-plus-interference / gain of stream k.  Uses the capped water-filling
    of jaxcore.istn.merge with caps = budget (never binding).  Returns p [n] real.
    """
    caps = jnp.full_like(floor, 1.0) * jnp.maximum(budget, 0.0)
    return merge_powers(jnp.ones_like(floor), floor, caps, jnp.maximum(budget, 0.0))


def sensing_cov(prob: CellProblem, F_dir):
    """Radar virtual covariance as a linear function of the stream powers.

    Returns ``(C [T, K+T, Nr, Nr], a_hat [T, Nr], gg [T, Nr, Nr])`` such that for
    F = F_dir diag(sqrt(pw)) and satellite power p the R_v,i of
    metrics.radar_virtual_covariance is  sum_j pw_j C[i, j] + p gg[i] + sigma_R^2 I  and the
    useful echo is a0_i = sqrt(pw_{K+i}) a_hat_i (spec istn.md §1.6-3).
    """
    tv = target_view(prob)
    K = prob.h_tut.shape[0]
    T = tv.G_t.shape[0]
    fs = F_dir[:, K:]  # [Nt, T]
    # own beam through every target at receiver A(i): [T(i), T(t), Nr]
    Gf = jnp.einsum("itrn,ni->itr", tv.G_t, fs)
    a_hat = Gf[jnp.arange(T), jnp.arange(T)]
    own = jnp.einsum("itr,its->irs", Gf, jnp.conj(Gf))  # a0 a0^H + other targets (unit power)
    # clutter of every beam: [T(i), L, Nr, K+T] -> [T(i), K+T, Nr, Nr]
    cF = jnp.einsum("ilrn,nj->ilrj", tv.G_c, F_dir)
    C = jnp.einsum("ilrj,ilsj->ijrs", cF, jnp.conj(cF))
    # other beams through G_Sigma (all j != K+i)
    sF = jnp.einsum("irn,nj->ijr", tv.G_sum, F_dir)  # [T(i), K+T, Nr]
    sig = jnp.einsum("ijr,ijs->ijrs", sF, jnp.conj(sF))
    is_own = (jnp.arange(K + T)[None, :] == (K + jnp.arange(T))[:, None])  # [T, K+T]
    C = C + jnp.where(is_own[..., None, None], own[:, None], sig)
    gg = jnp.einsum("ir,is->irs", tv.g_r, jnp.conj(tv.g_r))
    return C, a_hat, gg


def scnr_from_cov(C, a_hat, gg, pw, p_sat, noise_rad, K: int):
    """MMSE SCNR of every target for stream powers pw [K+T] (uses :func:`sensing_cov`). [T]."""
    T, _, Nr, _ = C.shape
    R = jnp.einsum("j,ijrs->irs", pw.astype(C.dtype), C) + p_sat * gg + noise_rad * jnp.eye(Nr, dtype=C.dtype)
    s = pw[K:]
    Q = R - s[:, None, None] * jnp.einsum("ir,is->irs", a_hat, jnp.conj(a_hat))
    Q = 0.5 * (Q + jnp.conj(jnp.swapaxes(Q, -1, -2)))
    L = jnp.linalg.cholesky(Q)
    z = jax.vmap(lambda Li, ai: cho_solve((Li, True), ai))(L, a_hat)
    return s * jnp.real(jnp.einsum("ir,ir->i", jnp.conj(a_hat), z))


def min_sensing_power(C, a_hat, gg, p_tut, p_sat, noise_rad, scnr_min, cap, n_iter: int = 60):
    """Least sensing powers s [T] with SCNR_i(p_tut, s, p_sat) >= scnr_min (Yates fixed point).

    Starts from s = 0 (the noise-only powers after one step) and runs ``n_iter`` steps of
    s <- min(s * scnr_min / SCNR(s), cap).  Returns ``(s [T], scnr [T])``; the caller
    declares the cell infeasible when sum(s) exceeds its budget or scnr < scnr_min.
    """
    K = p_tut.shape[0]
    noise_only = scnr_min * noise_rad / jnp.maximum(jnp.real(jnp.einsum("ir,ir->i", jnp.conj(a_hat), a_hat)),
                                                    jnp.finfo(p_tut.dtype).tiny)
    s0 = jnp.minimum(noise_only, cap)

    def body(_, s):
        sc = scnr_from_cov(C, a_hat, gg, jnp.concatenate([p_tut, s]), p_sat, noise_rad, K)
        return jnp.minimum(s * scnr_min / jnp.maximum(sc, jnp.finfo(s.dtype).tiny), cap)

    s = jax.lax.fori_loop(0, n_iter, body, s0)
    return s, scnr_from_cov(C, a_hat, gg, jnp.concatenate([p_tut, s]), p_sat, noise_rad, K)
