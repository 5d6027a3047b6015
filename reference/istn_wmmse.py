"""The per-drop QoS-WMMSE loop done the paper's way (numpy receivers/weights + cvxpy (43)).

ISTN paper Sec. III-B/C/D: for every cell, P1 (26) by the 3-step WMMSE of (35)-(43) with the
transmit step solved by cvxpy (``reference.istn_transmit``), then the P2 merge (44) by cvxpy
(``reference.istn_merge``), then P3 (45) with q fixed to sqrt(p_bar).  This is the slow,
obviously-correct path that ``satisac istn solve --reference`` runs and the tests compare
the batched JAX solver with.  Everything here is numpy/cvxpy, one drop and one cell at a
time, independent of ``jaxcore`` (the receivers, weights and metrics are re-implemented).

Loop (spec istn.md §3.4), in noise-normalised units:

* init: F = MRT columns h_k^H for the TUTs and the principal right-singular vector of
  G_{i,A(i)} for each sensing beam, every column unit-norm and scaled to P_BS/(K+T);
  q = sqrt(P_LEO)/2 (P1) or the fixed q (P3);
* Phase I (feasibility; <= ``max_phase1`` rounds): MMSE receivers; stop if the SUT rate
  >= R_min and every SCNR >= SCNR_min; else the QoS transmit step (43) with the TUT/SUT
  weights times ``phase1_weight`` (as ``jaxcore.istn.qos_wmmse``), or, when (43) is
  infeasible at these receivers, the penalty step of spec §3.4 (lambda_S = 1/e_S,
  lambda_i = 1/e_R);
* Phase II (<= ``max_iter``): receivers (35)-(37) (R_v of §1.6-3), weights mu = 1 + SINR
  (40)-(41), cvxpy transmit step (43) with prox rho around the previous (F, q); stop when
  the relative sum-rate change is < ``tol``.

Status codes (interfaces.md §2): 0 converged and feasible, 1 iteration cap, 2 QoS
infeasible (Phase I failed; the Phase-I point is returned), 3 solver failure.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from tqdm import tqdm

from jaxcore.status import Status, meets_constraints
from reference.istn_merge import solve_merge_cvxpy
from reference.istn_transmit import CellArrays, cell_arrays, solve_transmit_cvxpy


# ------------------------------------------------------------------- numpy metrics (one cell)
def _sel(cell: CellArrays, i: int):
    n = int(cell.assoc[i])
    G_t = cell.G_tar[:, n]  # [T, Nr, Nt]
    return G_t, G_t.sum(axis=0), cell.G_cl[:, n], cell.g_rad[n]


def radar_covariance(cell: CellArrays, F, q, i):
    """Virtual covariance R_v,i (spec §1.6-3) and echo a0 = G_i f_{K+i}."""
    K = cell.h_tut.shape[0]
    G_t, G_s, C, g = _sel(cell, i)
    f = F[:, K + i]
    Gf = G_t @ f  # [T, Nr]
    Rv = Gf.T @ Gf.conj()
    CF = np.einsum("lrn,nj->lrj", C, F)
    Rv = Rv + np.einsum("lrj,lsj->rs", CF, CF.conj())
    SF = np.delete(G_s @ F, K + i, axis=1)  # [Nr, J-1]
    Rv = Rv + SF @ SF.conj().T + q ** 2 * np.outer(g, g.conj()) + cell.noise_rad * np.eye(len(g))
    return Rv, Gf[i]


def receivers(cell: CellArrays, F, q):
    """MMSE receivers (35)-(37): (w_tut [K], w_sut, w_rad [T, Nr])."""
    K = cell.h_tut.shape[0]
    T = cell.G_tar.shape[0]
    hF = cell.h_tut @ F
    own = np.diag(hF[:, :K])
    R = np.sum(np.abs(hF) ** 2, axis=1) + cell.g_tut * q ** 2 + cell.noise_tut
    w_tut = np.conj(own) / R
    RS = cell.g_sut * q ** 2 + np.sum(np.abs(cell.h_sut @ F) ** 2) + cell.noise_sut
    w_sut = np.sqrt(cell.g_sut) * q / RS
    Nr = cell.g_rad.shape[-1]
    w_rad = np.zeros((T, Nr), complex)
    for i in range(T):
        Rv, a0 = radar_covariance(cell, F, q, i)
        w_rad[i] = np.linalg.solve(Rv, a0).conj()
    return w_tut, complex(w_sut), w_rad


def sinrs(cell: CellArrays, F, q):
    """(TUT SINR (16) [K], SUT SINR (17), SCNR (18) at the R_v-MMSE filter [T])."""
    K = cell.h_tut.shape[0]
    T = cell.G_tar.shape[0]
    P = np.abs(cell.h_tut @ F) ** 2
    sig = np.diag(P[:, :K])
    s_t = sig / (P.sum(axis=1) - sig + cell.g_tut * q ** 2 + cell.noise_tut)
    s_s = cell.g_sut * q ** 2 / (np.sum(np.abs(cell.h_sut @ F) ** 2) + cell.noise_sut)
    scnr = np.zeros(T)
    for i in range(T):
        Rv, a0 = radar_covariance(cell, F, q, i)
        Q = Rv - np.outer(a0, a0.conj())
        scnr[i] = float(np.real(a0.conj() @ np.linalg.solve(Q, a0)))
    return s_t, float(s_s), scnr


def cell_rates(cell: CellArrays, F, q):
    """(rate_tut [K], rate_sut, sum_rate, scnr [T]) of one cell at (F, p = q^2)."""
    s_t, s_s, scnr = sinrs(cell, F, q)
    r_t, r_s = np.log2(1 + s_t), float(np.log2(1 + s_s))
    return r_t, r_s, float(r_t.sum() + r_s), scnr


def feasible(cell: CellArrays, F, q, rtol: float = 1e-6) -> bool:
    """QoS of (26) at the MMSE receivers: MSE bounds e_S, e_R with relative tolerance."""
    _, s_s, scnr = sinrs(cell, F, q)
    ok_s = 1.0 / (1.0 + s_s) <= cell.e_sut * (1 + rtol)
    ok_r = np.all(1.0 / (1.0 + scnr) <= cell.e_rad * (1 + rtol))
    return bool(ok_s and ok_r)


def init_point(cell: CellArrays, q0: float | None = None):
    """Spec §3.4 init: MRT TUT columns, principal right-singular vectors of G_{i,A(i)}, every
    column unit-norm with power P_BS/(K+T); q = sqrt(P_LEO)/2."""
    K, Nt = cell.h_tut.shape
    T = cell.G_tar.shape[0]
    cols = [cell.h_tut[k].conj() for k in range(K)]
    for i in range(T):
        _, _, Vh = np.linalg.svd(cell.G_tar[i, int(cell.assoc[i])])
        cols.append(Vh[0].conj())
    F = np.stack(cols, axis=1) if cols else np.zeros((Nt, 0), complex)
    F = F / np.maximum(np.linalg.norm(F, axis=0, keepdims=True), 1e-300)
    F = F * np.sqrt(cell.p_bs / max(K + T, 1))
    q = np.sqrt(cell.p_leo) / 2 if q0 is None else float(q0)
    return F, q


class CellResult(NamedTuple):
    F: np.ndarray  # [Nt, K+T]
    q: float
    sum_rate: float
    status: int
    iterations: int
    history: list  # sum rate after each Phase-II iteration (first entry: start)


def solve_cell_reference(prob: Any, F0=None, q0=None, fixed_q: float | None = None, rho: float = 1e-4,
                         max_iter: int = 100, tol: float = 1e-4, max_phase1: int = 50,
                         phase1_weight: float = 1e-3) -> CellResult:
    """P1 (``fixed_q=None``) or P3 (``fixed_q`` = sqrt(p_bar)) for one noise-normalised cell."""
    cell = cell_arrays(prob)
    T = cell.G_tar.shape[0]
    F_i, q_i = init_point(cell)
    F = F_i if F0 is None else np.asarray(F0, complex)
    q = float(fixed_q) if fixed_q is not None else (q_i if q0 is None else float(q0))
    # Phase I
    ok = feasible(cell, F, q)
    for _ in range(max_phase1):
        if ok:
            break
        rx = receivers(cell, F, q)
        s_t, s_s, _ = sinrs(cell, F, q)
        # the QoS transmit step (43) with TUT/SUT weights scaled down (as the JAX core's
        # Phase I); if (43) is infeasible at these receivers, the penalty step of spec §3.4
        # (lambda_S = 1/e_S, lambda_i = 1/e_R) moves towards feasibility instead
        w = (phase1_weight * (1 + s_t), phase1_weight * (1 + s_s))
        F_n, q_n, _, st = solve_transmit_cvxpy(cell, rx, w, F, q, rho, fixed_q=fixed_q)
        if st not in ("optimal", "optimal_inaccurate"):
            w = (w[0], w[1] + 1.0 / cell.e_sut)
            F_n, q_n, _, st = solve_transmit_cvxpy(cell, rx, w, F, q, rho, fixed_q=fixed_q,
                                                   lam_rad=np.full(T, 1.0 / cell.e_rad))
        if st not in ("optimal", "optimal_inaccurate"):
            return CellResult(F, q, cell_rates(cell, F, q)[2], Status.NUMERICAL_FAILURE, 0, [])
        F, q = F_n, q_n
        ok = feasible(cell, F, q)
    if not ok:
        return CellResult(F, q, cell_rates(cell, F, q)[2], Status.INFEASIBLE, 0, [])
    hist = [cell_rates(cell, F, q)[2]]
    status, it = Status.ITERATION_CAP, 0
    for it in range(1, max_iter + 1):
        rx = receivers(cell, F, q)
        s_t, s_s, _ = sinrs(cell, F, q)
        F_n, q_n, _, st = solve_transmit_cvxpy(cell, rx, (1 + s_t, 1 + s_s), F, q, rho, fixed_q=fixed_q)
        if st not in ("optimal", "optimal_inaccurate"):
            status = Status.NUMERICAL_FAILURE
            break
        F, q = F_n, q_n
        hist.append(cell_rates(cell, F, q)[2])
        if abs(hist[-1] - hist[-2]) <= tol * max(abs(hist[-2]), 1.0):
            status = Status.CONVERGED
            break
    return CellResult(F, q, hist[-1], status, it, hist)


# ------------------------------------------------------------------------ whole drop (P1-P3)
def _cell(arrays: dict, b: int, m: int, assoc_bm, pre: bool) -> CellArrays:
    g = lambda k: np.asarray(arrays[k])  # noqa: E731
    h_tut = g("h_tut_pre" if pre and "h_tut_pre" in arrays else "h_tut")[b, m]
    h_sut = g("h_sut_pre" if pre and "h_sut_pre" in arrays else "h_sut")[b, m]
    return CellArrays(
        h_tut=h_tut.astype(complex), h_sut=h_sut.astype(complex), g_tut=g("g_tut")[b, m].astype(float),
        g_sut=float(g("g_sut")[b, m]), g_rad=g("g_rad")[b, m].astype(complex),
        G_tar=g("G_tar")[b, m].astype(complex), G_cl=g("G_cl")[b, m].astype(complex),
        assoc=np.asarray(assoc_bm, int), p_bs=float(g("p_bs")[b, m]), p_leo=float(g("p_leo")[b]),
        e_sut=float(2.0 ** -g("r_min_sut")[b]), e_rad=float(1.0 / (1.0 + g("scnr_min")[b])),
        noise_tut=float(g("noise_tut")[b]), noise_sut=float(g("noise_sut")[b]), noise_rad=float(g("noise_rad")[b]))


def power_search_reference(cell: CellArrays, F, p1: float, n: int) -> float:
    """The satellite power of {p1} U P_LEO * logspace(-3, 0, n) with the largest sum rate (26)
    at the fixed beamformers F whose QoS holds (``feasible``); p1 where none beats it.
    Plain-numpy counterpart of ``solvers.istn.pipeline._power_search``."""
    cand = [p1] + list(cell.p_leo * np.logspace(-3.0, 0.0, n))
    best, best_rate = p1, -np.inf
    for p in cand:
        q = float(np.sqrt(p))
        rate = cell_rates(cell, F, q)[2]
        if np.isfinite(rate) and feasible(cell, F, q) and rate > best_rate:
            best, best_rate = p, rate
    return float(best)


def solve_drop_reference(arrays: dict, b: int, assoc: np.ndarray, p_sat_search: int = 0, **kw) -> dict:
    """Fig. 2/3 pipeline for drop ``b`` of a noise-normalised instance dict: P1 per cell on
    the pre CSI (then, if ``p_sat_search`` > 0, ``power_search_reference`` on its beams), P2
    merge (cvxpy), P3 per cell on the current CSI with q = sqrt(p_bar).
    ``p_sat_fixed`` skips P1/P2.  Returns the solution fields of interfaces.md §2 for this
    drop (no leading B axis)."""
    M = np.asarray(arrays["p_bs"]).shape[1]
    fixed = np.asarray(arrays["p_sat_fixed"])[b] if "p_sat_fixed" in arrays else None
    if fixed is None:
        p1 = [solve_cell_reference(_cell(arrays, b, m, assoc[m], True), **kw) for m in range(M)]
        p_bar = np.array([r.q ** 2 for r in p1])
        if p_sat_search:
            p_bar = np.array([power_search_reference(_cell(arrays, b, m, assoc[m], True), r.F, float(p_bar[m]),
                                                     p_sat_search) for m, r in enumerate(p1)])
        inter = np.array([np.sum(np.abs(_cell(arrays, b, m, assoc[m], True).h_sut @ r.F) ** 2)
                          + float(arrays["noise_sut"][b]) for m, r in enumerate(p1)])
        p_sat, _, _ = solve_merge_cvxpy(np.asarray(arrays["g_sut"])[b], inter, p_bar, float(arrays["p_leo"][b]))
        p_sat = np.minimum(np.maximum(p_sat, 0.0), p_bar)
        st1 = np.array([r.status for r in p1])
        it1 = np.array([r.iterations for r in p1])
    else:
        p_bar = p_sat = np.asarray(fixed, float)
        st1 = np.zeros(M, int)
        it1 = np.zeros(M, int)
    out = {k: [] for k in ("F", "rate_tut", "rate_sut", "scnr", "status", "iterations")}
    for m in range(M):
        cell = _cell(arrays, b, m, assoc[m], False)
        F0 = None if fixed is not None else p1[m].F  # P3 warm-starts from P1 (as the pipeline)
        r3 = solve_cell_reference(cell, F0=F0, fixed_q=float(np.sqrt(p_bar[m])), **kw)
        r_t, r_s, _, sc = cell_rates(cell, r3.F, float(np.sqrt(p_sat[m])))
        status = max(int(st1[m]), int(r3.status)) if st1[m] != Status.INFEASIBLE else Status.INFEASIBLE
        if meets_constraints(status) and p_sat[m] < p_bar[m] * (1 - 1e-9) and r_s < float(arrays["r_min_sut"][b]) * (1 - 1e-5):
            status = Status.MERGE_BELOW_RMIN
        out["F"].append(r3.F)
        out["rate_tut"].append(r_t)
        out["rate_sut"].append(r_s)
        out["scnr"].append(sc)
        out["status"].append(status)
        out["iterations"].append(int(it1[m]) + int(r3.iterations))
    sol = {k: np.asarray(v) for k, v in out.items()}
    sol.update(p_sat=p_sat, p_bar=p_bar, assoc=np.asarray(assoc, np.int32),
               sum_rate=float(sol["rate_tut"].sum() + sol["rate_sut"].sum()))
    return sol


def solve_reference(arrays: dict, assoc: np.ndarray, progress: bool = True, **kw) -> dict:
    """Every drop of a noise-normalised instance, one at a time (tqdm bar); solution fields
    of interfaces.md §2 with the leading B axis."""
    B = np.asarray(arrays["p_bs"]).shape[0]
    sols = [solve_drop_reference(arrays, b, assoc[b], **kw)
            for b in tqdm(range(B), desc="istn reference", unit="drop", disable=not progress)]
    out = {k: np.stack([s[k] for s in sols]) for k in sols[0]}
    out["status"] = out["status"].astype(np.int8)
    out["iterations"] = out["iterations"].astype(np.int32)
    return out
