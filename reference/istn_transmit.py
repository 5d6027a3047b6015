"""cvxpy reference of the ISTN transmit step, ISTN paper eq. (43) (one cell).

For fixed receivers (w~_k, w-bar, w_i) and WMMSE weights (mu~_k, mu-bar) the transmit
step minimises the weighted sum-MSE of the TUTs (32) and the SUT (33)

    sum_k mu~_k eps~_k + mu-bar eps-bar + rho (||F - F_prev||_F^2 + (q - q_prev)^2)

subject to  eps-bar <= e_S = 2^-R_min,  eps_i <= e_R = 1/(1 + SCNR_min)  (34),
||F||_F^2 <= P_BS  and  0 <= q <= sqrt(P_LEO), where q = sqrt(p_sat) (spec istn.md §3.3:
the per-beam bound of P1 is omitted in (43) but needed; the prox term removes the
degeneracy of §3.3).  With ``fixed_q`` (P3 refinement, eq. (45)) q is a constant and
neither the q-bound nor the q-prox enters.

The radar MSE (34) is written exactly as spec §3.3 derives it (virtual covariance,
§1.6-3): for target i with receiver n = A(i), x_t = w_i G^tar_{t,n}, x_S = sum_t x_t,
c_l = w_i G^cl_{l,n},

    eps_i = |1 - x_i f_{K+i}|^2 + sum_{t!=i} |x_t f_{K+i}|^2             (19, incoherent)
            + sum_l sum_j |c_l f_j|^2                                   (20)
            + sum_{j != K+i} |x_S f_j|^2                                 (21)
            + q^2 |w_i g^rad_n|^2 + sigma_R^2 ||w_i||^2                  (22)

Receivers are scalars applied as  w * y  (so the MMSE TUT receiver is (h_k f_k)^*/R_k,
the conjugate of (35), spec §1.6-2); the radar receiver is a row vector applied as w @ y.

Validation only (Clarabel first, SCS fallback); never imported by ``jaxcore``/``solvers``
except behind ``--reference``.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import cvxpy as cp
import numpy as np


# ----------------------------------------------------------------------------- inputs
class CellArrays(NamedTuple):
    """One cell in numpy, noise powers explicit (1.0 for a noise-normalised cell)."""

    h_tut: np.ndarray  # [K, Nt] complex
    h_sut: np.ndarray  # [Nt] complex
    g_tut: np.ndarray  # [K] float, satellite -> TUT power gain
    g_sut: float  # satellite -> SUT power gain
    g_rad: np.ndarray  # [R, Nr] complex
    G_tar: np.ndarray  # [T, R, Nr, Nt] complex
    G_cl: np.ndarray  # [L, R, Nr, Nt] complex
    assoc: np.ndarray  # [T] int
    p_bs: float
    p_leo: float
    e_sut: float  # 2^-R_min
    e_rad: float  # 1/(1+SCNR_min)
    noise_tut: float
    noise_sut: float
    noise_rad: float


def _get(obj: Any, *names, default=None):
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    if default is not None:
        return default
    raise AttributeError(f"cell problem has none of the fields {names}")


def cell_arrays(prob: Any) -> CellArrays:
    """Read a CellProblem-like object (``jaxcore.istn.problem.CellProblem``, a dict with
    the interfaces.md §1 names for one drop and one cell, or a :class:`CellArrays`)."""
    if isinstance(prob, CellArrays):
        return prob
    a = lambda *n, **kw: np.asarray(_get(prob, *n, **kw))  # noqa: E731
    r_min = _get(prob, "r_min_sut", "r_min", default=np.nan)
    e_sut = _get(prob, "e_sut", "e_s", default=2.0 ** (-float(r_min)) if np.isfinite(r_min) else None)
    scnr_min = _get(prob, "scnr_min", default=np.nan)
    e_rad = _get(prob, "e_rad", "e_r", default=1.0 / (1.0 + float(scnr_min)) if np.isfinite(scnr_min) else None)
    G_tar = a("G_tar")
    T, R = G_tar.shape[:2]
    assoc = np.asarray(_get(prob, "assoc", default=np.zeros(T, int))).astype(int)
    return CellArrays(
        h_tut=a("h_tut").astype(complex), h_sut=a("h_sut").astype(complex),
        g_tut=a("g_tut").astype(float), g_sut=float(a("g_sut")),
        g_rad=a("g_rad").astype(complex), G_tar=G_tar.astype(complex),
        G_cl=a("G_cl").astype(complex), assoc=assoc,
        p_bs=float(a("p_bs")), p_leo=float(a("p_leo")),
        e_sut=float(e_sut), e_rad=float(e_rad),
        noise_tut=float(a("noise_tut", default=1.0)), noise_sut=float(a("noise_sut", default=1.0)),
        noise_rad=float(a("noise_rad", default=1.0)))


def _rx(rx: Any):
    if isinstance(rx, (tuple, list)) and not hasattr(rx, "_fields"):
        w_tut, w_sut, w_rad = rx
    else:
        w_tut, w_sut, w_rad = _get(rx, "w_tut"), _get(rx, "w_sut"), _get(rx, "w_rad")
    return (np.asarray(w_tut, complex).reshape(-1), complex(np.asarray(w_sut).reshape(())),
            np.asarray(w_rad, complex).reshape(-1, np.asarray(w_rad).shape[-1]) if np.size(w_rad)
            else np.zeros((0, 1), complex))


def _weights(weights: Any):
    if isinstance(weights, (tuple, list)) and not hasattr(weights, "_fields"):
        mu_tut, mu_sut = weights
    else:
        mu_tut, mu_sut = _get(weights, "mu_tut"), _get(weights, "mu_sut")
    return np.asarray(mu_tut, float).reshape(-1), float(np.asarray(mu_sut).reshape(()))


# ----------------------------------------------------------------------- the MSE terms
class MseCoeffs(NamedTuple):
    """Receiver-projected channels: every MSE is a quadratic in (F, q) with these rows."""

    a_tut: np.ndarray  # [K, Nt]   w~_k h_k
    c_tut: np.ndarray  # [K]       |w~_k|^2 g_k      (coefficient of q^2)
    n_tut: np.ndarray  # [K]       sigma_T^2 |w~_k|^2
    a_sut: np.ndarray  # [Nt]      w-bar h_S
    b_sut: complex  #              w-bar sqrt(g_S)   (eps-bar has |1 - b q|^2)
    n_sut: float  #                sigma_S^2 |w-bar|^2
    x_tar: np.ndarray  # [T, T, Nt] x_{i,t} = w_i G_{t,A(i)}
    x_sum: np.ndarray  # [T, Nt]   sum_t x_{i,t}
    c_cl: np.ndarray  # [T, L, Nt] w_i G^cl_{l,A(i)}
    c_rad: np.ndarray  # [T]       |w_i g^rad_{A(i)}|^2
    n_rad: np.ndarray  # [T]       sigma_R^2 ||w_i||^2


def mse_coeffs(cell: CellArrays, rx: Any) -> MseCoeffs:
    w_tut, w_sut, w_rad = _rx(rx)
    T = cell.G_tar.shape[0]
    Gsel = cell.G_tar[:, cell.assoc]  # [T(t), T(i), Nr, Nt]: G_{t, A(i)}
    x_tar = np.einsum("ir,tirn->itn", w_rad[:T], Gsel) if T else np.zeros((0, 0, cell.h_tut.shape[1]), complex)
    Csel = cell.G_cl[:, cell.assoc]  # [L, T, Nr, Nt]
    c_cl = np.einsum("ir,lirn->iln", w_rad[:T], Csel) if T else np.zeros((0, cell.G_cl.shape[0], cell.h_tut.shape[1]), complex)
    grad = cell.g_rad[cell.assoc]  # [T, Nr]
    return MseCoeffs(
        a_tut=w_tut[:, None] * cell.h_tut,
        c_tut=np.abs(w_tut) ** 2 * cell.g_tut,
        n_tut=cell.noise_tut * np.abs(w_tut) ** 2,
        a_sut=w_sut * cell.h_sut,
        b_sut=w_sut * np.sqrt(cell.g_sut),
        n_sut=cell.noise_sut * abs(w_sut) ** 2,
        x_tar=x_tar, x_sum=x_tar.sum(axis=1) if T else np.zeros((0, cell.h_tut.shape[1]), complex),
        c_cl=c_cl,
        c_rad=np.abs(np.einsum("ir,ir->i", w_rad[:T], grad)) ** 2 if T else np.zeros(0),
        n_rad=cell.noise_rad * np.sum(np.abs(w_rad[:T]) ** 2, axis=-1) if T else np.zeros(0))


def mses(co: MseCoeffs, F: np.ndarray, q: float):
    """(eps_tut [K], eps_sut, eps_rad [T]) of eqs. (32)-(34) at (F, q) for fixed receivers."""
    K = co.a_tut.shape[0]
    T = co.x_sum.shape[0]
    HF = co.a_tut @ F  # [K, K+T]
    eps_tut = (np.abs(1 - np.diag(HF[:, :K])) ** 2 + np.sum(np.abs(HF) ** 2, axis=1)
               - np.abs(np.diag(HF[:, :K])) ** 2 + co.c_tut * q ** 2 + co.n_tut)
    eps_sut = abs(1 - co.b_sut * q) ** 2 + np.sum(np.abs(co.a_sut @ F) ** 2) + co.n_sut
    eps_rad = np.zeros(T)
    for i in range(T):
        f = F[:, K + i]
        own = co.x_tar[i] @ f  # [T]
        others = np.delete(np.arange(F.shape[1]), K + i)
        eps_rad[i] = (abs(1 - own[i]) ** 2 + np.sum(np.abs(np.delete(own, i)) ** 2)
                      + np.sum(np.abs(co.c_cl[i] @ F) ** 2)
                      + np.sum(np.abs(co.x_sum[i] @ F[:, others]) ** 2)
                      + co.c_rad[i] * q ** 2 + co.n_rad[i])
    return eps_tut, float(eps_sut), eps_rad


def transmit_objective(co: MseCoeffs, mu_tut, mu_sut, F, q, F_prev, q_prev, rho, fixed_q=None) -> float:
    """Objective of (43) with the prox term (q-prox dropped when q is fixed)."""
    e_t, e_s, _ = mses(co, F, q)
    obj = float(np.dot(mu_tut, e_t) + mu_sut * e_s + rho * np.sum(np.abs(F - F_prev) ** 2))
    if fixed_q is None:
        obj += rho * (q - q_prev) ** 2
    return obj


# ----------------------------------------------------------------------------- cvxpy
_CACHE: dict = {}


def _build(Nt: int, K: int, T: int, L: int, fixed_q: bool, penalty: bool = False):
    """Parametrised (DPP) problem for one shape; parameters carry sqrt-weights so every
    objective term is a sum of squares of parameter-affine expressions.  The prox term is
    expanded, rho||F||^2 - 2 Re<rho F_prev, F> (+ const), to stay DPP.

    ``penalty=True`` is the Phase-I variant (spec §3.4): no SUT/radar MSE constraints; the
    radar MSEs enter the objective with weights lambda_i folded into their parameters (the
    SUT multiplier is folded into the SUT weight by the caller)."""
    J = K + T
    P: dict[str, cp.Parameter] = {}

    def par(name, shape=(), complex_=False, nonneg=False):
        P[name] = cp.Parameter(shape, name=name, complex=complex_, nonneg=nonneg)
        return P[name]

    F = cp.Variable((Nt, J), complex=True, name="F")
    rFp = par("rho_F_prev", (Nt, J), complex_=True)  # rho * F_prev
    rp = par("rho", nonneg=True)
    pbs = par("p_bs", nonneg=True)
    # With q fixed (P3) every q-term is a constant: it is folded into the right-hand
    # sides (constraints) and dropped from the objective (re-added in numpy).
    q = None if fixed_q else cp.Variable(name="q")
    # TUT: sum_k mu_k eps_k = ||S - A F||^2 + q^2 sum_k mu_k c_k + const
    A = par("A_tut", (K, Nt), complex_=True)  # sqrt(mu_k) w_k h_k
    S = par("S_tut", (K, J), nonneg=True)  # [diag(sqrt mu) | 0]
    aSw = par("a_sut_w", (Nt,), complex_=True)  # sqrt(mu_S) w_S h_S
    aS = par("a_sut", (Nt,), complex_=True)  # w_S h_S
    rhs_s = par("rhs_sut")  # e_S - noise term (- satellite term if q fixed)
    rhs_r = par("rhs_rad", (T,)) if T else None
    obj = cp.sum_squares(S - A @ F) + cp.sum_squares(aSw @ F) + rp * cp.sum_squares(F) - 2 * cp.real(cp.sum(cp.multiply(cp.conj(rFp), F)))
    sut_parts = [aS @ F]
    if not fixed_q:
        cq_t = par("cq_tut", nonneg=True)  # sum_k mu_k |w_k|^2 g_k
        sm = par("sqrt_mu_sut", nonneg=True)
        bSw_re, bSw_im = par("b_sut_w_re"), par("b_sut_w_im")  # sqrt(mu_S) w_S sqrt(g_S)
        bS_re, bS_im = par("b_sut_re"), par("b_sut_im")
        rqp = par("rho_q_prev")  # rho * q_prev
        obj = (obj + cq_t * cp.square(q) + cp.square(sm - bSw_re * q) + cp.square(bSw_im * q)
               + rp * cp.square(q) - 2 * rqp * q)
        sut_parts += [cp.reshape(1 - bS_re * q, (1,), order="F"), cp.reshape(bS_im * q, (1,), order="F")]
    cons = [cp.sum_squares(F) <= pbs]
    if not penalty:
        cons.append(cp.sum_squares(cp.hstack(sut_parts)) <= rhs_s)
    if not fixed_q:
        qmax = par("q_max", nonneg=True)
        cons += [q >= 0, q <= qmax]
    for i in range(T):
        X = par(f"x_tar_{i}", (T, Nt), complex_=True)  # rows x_{i,t}
        xs = par(f"x_sum_{i}", (Nt,), complex_=True)
        f = F[:, K + i]
        e_i = par(f"e_vec_{i}", (T,), nonneg=True)  # unit vector (sqrt(lambda_i) e_i in Phase I)
        others = [j for j in range(J) if j != K + i]
        parts = [e_i - X @ f]
        if others:
            parts.append(cp.vec(xs @ F[:, others], order="F") if len(others) > 1 else cp.reshape(xs @ F[:, others], (1,), order="F"))
        if L:
            C = par(f"c_cl_{i}", (L, Nt), complex_=True)
            parts.append(cp.vec(C @ F, order="F"))
        if not fixed_q:
            cr = par(f"sqrt_c_rad_{i}", nonneg=True)
            parts.append(cp.reshape(cr * q, (1,), order="F"))
        if penalty:
            obj = obj + cp.sum_squares(cp.hstack(parts))
        else:
            cons.append(cp.sum_squares(cp.hstack(parts)) <= rhs_r[i])
    prob = cp.Problem(cp.Minimize(obj), cons)
    return prob, P, F, q


def solve_transmit_cvxpy(prob: Any, rx: Any, weights: Any, F_prev: np.ndarray, q_prev: float,
                         rho: float, fixed_q: float | None = None, solver: str | None = None,
                         lam_rad: np.ndarray | None = None):
    """Transmit step (43) of one cell with cvxpy (Clarabel, SCS fallback).

    Args:
      prob: one cell (CellProblem-like, see :func:`cell_arrays`); noise-normalised or not.
      rx: receivers ``(w_tut [K], w_sut [], w_rad [T, Nr])`` (tuple or object with those
        fields); scalars applied as ``w * y``, radar rows as ``w @ y``.
      weights: ``(mu_tut [K], mu_sut [])``.
      F_prev: [Nt, K+T] complex previous beamformers (prox centre).
      q_prev: previous satellite amplitude sqrt(p_sat) (prox centre; ignored if fixed_q).
      rho: prox weight (>= 0).
      fixed_q: if given, q is fixed to this amplitude (P3, eq. (45)).
      lam_rad: [T] multipliers: Phase-I penalty form (spec §3.4) - the SUT and radar MSE
        constraints are dropped and sum_i lam_rad[i] eps_i is added to the objective (pass
        the SUT multiplier inside ``weights``).  The returned objective then includes it.

    Returns:
      ``(F [Nt, K+T] complex128, q float, objective float, status str)``; the objective is
      the full (43) objective with constants and prox, evaluated in numpy at the solution.
      On failure F_prev/q_prev are returned with status "infeasible"/"solver_error".
    """
    cell = cell_arrays(prob)
    mu_tut, mu_sut = _weights(weights)
    co = mse_coeffs(cell, rx)
    K, Nt = cell.h_tut.shape
    T, L = cell.G_tar.shape[0], cell.G_cl.shape[0]
    F_prev = np.asarray(F_prev, complex).reshape(Nt, K + T)
    penalty = lam_rad is not None
    sl = np.sqrt(np.maximum(np.asarray(lam_rad, float), 0.0)) if penalty else np.ones(T)
    key = (Nt, K, T, L, fixed_q is not None, penalty)
    if key not in _CACHE:
        _CACHE[key] = _build(*key)
    cvx, P, Fv, qv = _CACHE[key]
    sm = np.sqrt(max(mu_sut, 0.0))
    smu = np.sqrt(np.maximum(mu_tut, 0.0))
    qf = None if fixed_q is None else float(fixed_q)
    vals = {
        "rho_F_prev": max(float(rho), 0.0) * F_prev, "rho": max(float(rho), 0.0), "p_bs": cell.p_bs,
        "A_tut": smu[:, None] * co.a_tut,
        "S_tut": np.hstack([np.diag(smu), np.zeros((K, T))]),
        "a_sut_w": sm * co.a_sut, "a_sut": co.a_sut,
    }
    if qf is None:
        vals.update({"cq_tut": float(np.dot(mu_tut, co.c_tut)), "sqrt_mu_sut": sm,
                     "b_sut_w_re": sm * co.b_sut.real, "b_sut_w_im": sm * co.b_sut.imag,
                     "b_sut_re": co.b_sut.real, "b_sut_im": co.b_sut.imag,
                     "rhs_sut": cell.e_sut - co.n_sut,
                     "rho_q_prev": max(float(rho), 0.0) * float(q_prev), "q_max": np.sqrt(cell.p_leo)})
        if T:
            vals["rhs_rad"] = cell.e_rad - co.n_rad
    else:
        vals["rhs_sut"] = cell.e_sut - co.n_sut - abs(1 - co.b_sut * qf) ** 2
        if T:
            vals["rhs_rad"] = cell.e_rad - co.n_rad - co.c_rad * qf ** 2
    for i in range(T):
        vals[f"x_tar_{i}"] = sl[i] * co.x_tar[i]
        vals[f"x_sum_{i}"] = sl[i] * co.x_sum[i]
        vals[f"e_vec_{i}"] = sl[i] * np.eye(T)[i]
        if L:
            vals[f"c_cl_{i}"] = sl[i] * co.c_cl[i]
        if qf is None:
            vals[f"sqrt_c_rad_{i}"] = sl[i] * np.sqrt(co.c_rad[i])
    for k, v in vals.items():
        if k in P:
            P[k].value = v
    status = "solver_error"
    for s in ([solver] if solver else ["CLARABEL", "SCS"]):
        try:
            kw = dict(eps=1e-9, max_iters=100000) if s == "SCS" else {}
            cvx.solve(solver=s, **kw)
            status = cvx.status
            if status in ("optimal", "optimal_inaccurate") and Fv.value is not None:
                break
        except cp.SolverError:
            status = "solver_error"
    if status not in ("optimal", "optimal_inaccurate") or Fv.value is None:
        q0 = float(q_prev if fixed_q is None else fixed_q)
        return F_prev.copy(), q0, np.nan, status
    F = np.asarray(Fv.value, complex)
    q = float(fixed_q) if fixed_q is not None else float(np.clip(qv.value, 0.0, np.sqrt(cell.p_leo)))
    obj = transmit_objective(co, mu_tut, mu_sut, F, q, F_prev, q_prev, rho, fixed_q)
    if penalty:
        obj += float(np.dot(np.asarray(lam_rad, float), mses(co, F, q)[2]))
    return F, q, obj, status
