"""ISTN baselines of paper Sec. IV-B, batched over drops and cells (spec istn.md §1.5).

Common structure ("unless otherwise specified" in the paper):

* satellite: interference-unaware water-filling across the M beams on g^SUT_m / sigma_S^2
  with total P_LEO (M = 1: p = P_LEO);
* TBS: zero-forcing over the K TUT channels and the T target directions
  (:func:`jaxcore.istn.zf.zf_beams`), the least sensing power meeting SCNR_min with the MMSE
  radar receiver (:func:`jaxcore.istn.zf.min_sensing_power`), the rest of P_BS to the TUTs
  by water-filling on the ZF gains;
* association: nearest neighbour (each target to the receiver with the largest path gain),
  unless the instance carries ``assoc``.

Methods (``satisac istn solve --method ...``):

``interference-free``  the same scheme with g^TUT = 0, h^(S) = 0, g^rad = 0 (upper bound).
    Its solution reports the rates/SCNR *of that idealised system*; re-evaluating it on the
    real instance shows the interference it ignored.
``greedy``   each network for itself: sensing power and TUT water-filling computed without
    satellite interference, evaluated with the true interference.
``uniform``  as greedy, but the TUTs share the remaining power equally.
``zf-eps``   ZF beams that also null the SUT (``zf_null_sut``, default; ``false`` gives the
    TUT/target-only ZF of the other baselines), exhaustive grid over the satellite power p (``eps_p_points``
    log-spaced in [``eps_p_min_frac`` P_LEO, P_LEO]) and the sensing fraction rho of P_BS
    (``eps_rho_points`` log-spaced in [``eps_rho_min``, 1]); the sensing power rho P_BS is
    split over the targets in inverse proportion to their echo gains |G_i f_i|^2 (an
    equal-received-echo split -- the paper does not say how); the TUTs water-fill
    (1 - rho) P_BS knowing the satellite interference.  The grid point with the largest
    ISTN sum rate meeting SCNR_min and R_min wins (if none does -- e.g. with
    ``zf_null_sut=false`` and the SUT inside the cell -- the best point meeting the SCNR
    constraints, else the R_min one, else any; reported with status 2).  With the SUT
    nulled its rate log2(1 + g^S p / sigma_S^2) is limited by the satellite power alone, as
    the paper's explanation of ZF-EPS at R_min = 7 (Sec. IV-C: the satellite raises p).  With M > 1 each cell searches its own
    p_m; if sum p_m > P_LEO the P2 merge (44) scales them (decision: the joint M-dimensional
    grid is intractable).
``coop-uniform``  the proposed QoS-WMMSE at every TBS with the satellite fixed at
    p_m = P_LEO / M (``solvers.istn.pipeline`` with ``p_sat_fixed``).

Every reported rate and SCNR is recomputed from (F, p_sat) by
:func:`jaxcore.istn.metrics.all_metrics` (one implementation).  ``status`` is 0 when the
evaluated solution meets SCNR_min and R_min (relative tolerance ``feas_rtol``), else 2.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.istn import zf
from jaxcore.istn.merge import merge_powers
from jaxcore.istn.metrics import all_metrics, rates
from jaxcore.istn.problem import CellProblem, batch_cells
from jaxcore.loops import select_tree
from jaxcore.status import Status
from solvers.configio import param, validate
from solvers.istn.pipeline import solve_istn  # the P1/P2/P3 pipeline (coop-uniform)
from solvers.istn.problems import cell_problems, prepare
from solvers.methods import ISTN_BASELINES as BASELINE_METHODS
from solvers.solution import IstnSolution



@dataclass(frozen=True)
class BaselineConfig:
    """Settings of the baselines (read from a solver config when it carries the same names)."""

    eps_p_points: int = param(41, "ZF-EPS satellite-power grid points (log-spaced)", source="assumption (spec §1.5)", lo=1, hi=1000)
    eps_p_min_frac: float = param(1e-4, "ZF-EPS lowest satellite power / P_LEO", source="assumption (spec §1.5)",
                                  lo=0, lo_open=True, hi=1)
    eps_rho_points: int = param(21, "ZF-EPS sensing-fraction grid points (log-spaced)", source="assumption (spec §1.5)",
                                lo=1, hi=1000)
    eps_rho_min: float = param(1e-3, "ZF-EPS smallest sensing fraction of P_BS", source="assumption", lo=0, lo_open=True, hi=1)
    fp_iters: int = param(60, "fixed-point iterations of the minimum sensing power", source="derived", lo=1, hi=10000)
    scnr_margin: float = param(1e-3, "relative power margin added to the minimum sensing power", source="derived", lo=0, hi=1)
    feas_rtol: float = param(1e-3, "relative tolerance of the reported feasibility (status 0)", source="derived", lo=0, hi=1)
    zf_null_sut: bool = param(True, "ZF-EPS: the ZF beams also null the SUT channel (K+1+T <= N_TX); false = "
                              "TUTs and targets only (the SUT then sees the full TBS interference)",
                              source="derived (paper Sec. IV-C, L496)")

    def __post_init__(self):
        validate(self)


# ----------------------------------------------------------------------------- set-up
def interference_free(prob: CellProblem) -> CellProblem:
    """The idealised system: no satellite -> terrestrial and no TBS -> SUT coupling."""
    return prob._replace(g_tut=jnp.zeros_like(prob.g_tut), h_sut=jnp.zeros_like(prob.h_sut),
                         g_rad=jnp.zeros_like(prob.g_rad))


def satellite_waterfill(g_sut, p_leo):
    """Interference-unaware satellite water-filling over beams for ONE drop (noise = 1 units).

    g_sut [M] (SNR per watt), p_leo [] -> p [M] with sum p = P_LEO.
    """
    caps = jnp.full_like(g_sut, 1.0) * p_leo
    return merge_powers(g_sut, jnp.ones_like(g_sut), caps, p_leo)


# ----------------------------------------------------------------------------- ZF + min sensing power
def _zf_min_sensing_cell(prob: CellProblem, p_sat, aware, uniform, bc: BaselineConfig):
    """One cell: ZF beams, least sensing power, the rest to the TUTs (spec §1.5).

    ``aware`` -- design with the satellite interference (at TUTs and radar) known;
    ``uniform`` -- equal TUT powers instead of water-filling (bools, or traced [] bools: one
    compiled program for every ZF baseline but ZF-EPS).
    Returns ``F [Nt, K+T]``.
    """
    design = select_tree(aware, prob, prob._replace(g_tut=jnp.zeros_like(prob.g_tut), g_rad=jnp.zeros_like(prob.g_rad)))
    K = prob.h_tut.shape[0]
    F_dir, c = zf.zf_beams(design)
    C, a_hat, gg = zf.sensing_cov(design, F_dir)
    floor = (design.noise_tut + design.g_tut * p_sat) / c[:K]
    P = prob.p_bs
    gam = 1.0 / prob.e_rad - 1.0  # SCNR_min (linear)

    def tut_alloc(budget):
        budget = jnp.maximum(budget, 0.0)
        return jnp.where(uniform, jnp.full((K,), budget / K), zf.waterfill(floor, budget))

    cap = 10.0 * P
    # (A) sensing power against the TUT clutter of a full-budget TUT allocation (conservative)
    s_a, _ = zf.min_sensing_power(C, a_hat, gg, tut_alloc(P), p_sat, design.noise_rad, gam, cap, bc.fp_iters)
    s_a = s_a * (1.0 + bc.scnr_margin)
    # (B) sensing power with the TUTs silent (used when (A) does not fit in P_BS)
    s_b, _ = zf.min_sensing_power(C, a_hat, gg, jnp.zeros((K,), P.dtype), p_sat, design.noise_rad, gam, cap,
                                  bc.fp_iters)
    s_b = s_b * (1.0 + bc.scnr_margin)
    fit_a = s_a.sum() <= P
    fit_b = s_b.sum() <= P
    s = jnp.where(fit_a, s_a, jnp.where(fit_b, s_b, s_b * P / jnp.maximum(s_b.sum(), jnp.finfo(P.dtype).tiny)))
    p_tut = tut_alloc(P - s.sum())
    pw = jnp.concatenate([p_tut, s])
    return F_dir * jnp.sqrt(pw).astype(F_dir.dtype)[None, :]


def _zf_eps_cell(prob: CellProblem, p_grid, rho_grid, null_sut: bool = True):
    """One cell of ZF-EPS: best (p, rho) on the grid.  Returns ``(F, p_sat, feasible)``."""
    K = prob.h_tut.shape[0]
    F_dir, c = zf.zf_beams(prob, null_sut=null_sut)
    C, a_hat, gg = zf.sensing_cov(prob, F_dir)
    gam = 1.0 / prob.e_rad - 1.0
    r_min = -jnp.log2(prob.e_sut)
    echo = jnp.real(jnp.einsum("ir,ir->i", jnp.conj(a_hat), a_hat))
    shape = 1.0 / jnp.maximum(echo, jnp.finfo(echo.dtype).tiny)
    shape = shape / shape.sum()

    def point(p, rho):
        s = rho * prob.p_bs * shape
        p_tut = zf.waterfill((prob.noise_tut + prob.g_tut * p) / c[:K], (1.0 - rho) * prob.p_bs)
        pw = jnp.concatenate([p_tut, s])
        F = F_dir * jnp.sqrt(pw).astype(F_dir.dtype)[None, :]
        r_t, r_s = rates(prob, F, p)
        sc = zf.scnr_from_cov(C, a_hat, gg, pw, p, prob.noise_rad, K)
        ok_s = jnp.all(sc >= gam)
        ok_r = r_s >= r_min
        return r_t.sum() + r_s, ok_s, ok_r, pw

    # [P, Rho] x3, [P, Rho, K+T]
    sr, ok_s, ok_r, pw = jax.vmap(lambda p: jax.vmap(lambda r: point(p, r))(rho_grid))(p_grid)
    sr, ok_s, ok_r = sr.reshape(-1), ok_s.reshape(-1), ok_r.reshape(-1)
    ok = ok_s & ok_r
    any_ok = jnp.any(ok)
    # best effort when nothing is feasible: keep the constraints that can be met (SCNR first)
    allowed = jnp.where(any_ok, ok, jnp.where(jnp.any(ok_s), ok_s, jnp.where(jnp.any(ok_r), ok_r, True)))
    best = jnp.argmax(jnp.where(allowed, sr, -jnp.inf))
    pw_best = pw.reshape(-1, pw.shape[-1])[best]
    p_best = jnp.repeat(p_grid, rho_grid.shape[0])[best]
    return F_dir * jnp.sqrt(pw_best).astype(F_dir.dtype)[None, :], p_best, any_ok


# ----------------------------------------------------------------------------- batched entry
def _evaluate(prob_flat: CellProblem, F, p_sat, rtol):
    r_t, r_s, _, sc = jax.vmap(all_metrics)(prob_flat, F, p_sat)
    gam = 1.0 / prob_flat.e_rad - 1.0
    r_min = -jnp.log2(prob_flat.e_sut)
    ok = jnp.all(sc >= gam[:, None] * (1.0 - rtol), axis=1) & (r_s >= r_min * (1.0 - rtol))
    return r_t, r_s, sc, ok


def _solve(prob: CellProblem, method: str, bc: BaselineConfig):
    """One jitted solve of a batch [B, M] of cells by ``method`` (not coop-uniform).  The ZF
    baselines but ZF-EPS are one compiled program (which one is data, ``_solve_zf``)."""
    if method == "zf-eps":
        return _solve_eps(prob, bc)
    return _solve_zf(prob, np.asarray(method == "interference-free"), np.asarray(method == "uniform"), bc)


@partial(jax.jit, static_argnames=("bc",))
def _solve_eps(prob: CellProblem, bc: BaselineConfig):
    return _baseline_cells(prob, True, False, False, bc)


@partial(jax.jit, static_argnames=("bc",))
def _solve_zf(prob: CellProblem, no_interference, uniform, bc: BaselineConfig):
    """Interference-free (``no_interference``: the coupling removed, then designed aware of
    what is left, nothing), greedy (interference-unaware ZF, water-filled TUT powers) and
    uniform (the same with equal TUT powers); [] bools, traced."""
    return _baseline_cells(prob, False, no_interference, uniform, bc)


def _baseline_cells(prob: CellProblem, eps: bool, no_interference, uniform, bc: BaselineConfig):
    """The traced body of both programs: ZF-EPS (``eps``, static) or the ZF baselines."""
    B, M = prob.p_bs.shape
    flat, _ = batch_cells(prob)
    flat = select_tree(no_interference, interference_free(flat), flat)
    if eps:
        p_leo = flat.p_leo  # per-cell cap P_LEO
        frac = jnp.logspace(jnp.log10(bc.eps_p_min_frac), 0.0, bc.eps_p_points, dtype=p_leo.dtype)
        rho = jnp.logspace(jnp.log10(bc.eps_rho_min), 0.0, bc.eps_rho_points, dtype=p_leo.dtype)
        F, p_cell, _ = jax.vmap(lambda pr, pl: _zf_eps_cell(pr, pl * frac, rho, bc.zf_null_sut))(flat, p_leo)
        # P2 merge (44) when the per-cell choices exceed the total budget (M > 1)
        hsF = jnp.einsum("cn,cnj->cj", flat.h_sut, F)
        interf = (jnp.abs(hsF) ** 2).sum(axis=1) + flat.noise_sut
        p_sat = jax.vmap(merge_powers)(flat.g_sut.reshape(B, M), interf.reshape(B, M), p_cell.reshape(B, M),
                                       prob.p_leo[:, 0]).reshape(-1)
    else:
        p_sat = jax.vmap(satellite_waterfill)(prob.g_sut, prob.p_leo[:, 0]).reshape(-1)  # [B*M]
        aware = no_interference  # (no interference left to be aware of)
        F = jax.vmap(lambda pr, p: _zf_min_sensing_cell(pr, p, aware, uniform, bc))(flat, p_sat)
    r_t, r_s, sc, ok = _evaluate(flat, F, p_sat, bc.feas_rtol)
    rs = lambda x: x.reshape((B, M) + x.shape[1:])  # noqa: E731
    return rs(F), rs(p_sat), rs(r_t), rs(r_s), rs(sc), rs(ok)


def solve_baseline(method: str, arrays: dict, cfg: BaselineConfig | None = None, seed: int = 0,
                   assoc_method: str | None = None, solver_cfg=None) -> IstnSolution:
    """Solve an instance with a baseline; returns an :class:`~solvers.solution.IstnSolution`
    (status CONVERGED where every constraint holds, INFEASIBLE otherwise).

    Args:
      method: one of :data:`BASELINE_METHODS`.
      arrays: interfaces.md §1 instance dict ([B, M, ...] numpy arrays).
      cfg: :class:`BaselineConfig` (default settings if None).
      seed: seed for random association (coop-uniform / assoc_method='random').
      assoc_method: association for the ZF baselines when the instance has no ``assoc``
        (default nearest neighbour, paper Sec. IV-B); coop-uniform defaults to 'proposed'.
      solver_cfg: ``solvers.istn.pipeline.SolverConfig`` of ``coop-uniform`` (the proposed
        pipeline with the satellite power fixed); default settings if None.
    """
    if method not in BASELINE_METHODS:
        raise ValueError(f"method: expected one of {BASELINE_METHODS}, got {method!r}")
    if method == "coop-uniform":
        return _coop_uniform(arrays, solver_cfg, seed, assoc_method or "proposed")
    bc = cfg if cfg is not None else BaselineConfig()
    if not isinstance(bc, BaselineConfig):
        raise TypeError(f"cfg: expected a BaselineConfig, got {type(bc).__name__}")
    a, assoc = prepare(arrays, assoc_method or "nearest", seed)
    prob = cell_problems(a, assoc)
    F, p_sat, r_t, r_s, sc, ok = _solve(prob, method, bc)
    F = np.asarray(F).astype(np.asarray(arrays["h_tut"]).dtype)
    r_t, r_s = np.maximum(np.asarray(r_t), 0.0), np.maximum(np.asarray(r_s), 0.0)
    return IstnSolution(
        F=F, p_sat=np.asarray(p_sat), p_bar=np.asarray(p_sat), assoc=assoc, rate_tut=r_t, rate_sut=r_s,
        scnr=np.maximum(np.asarray(sc), 0.0), sum_rate=r_t.sum(axis=(1, 2)) + r_s.sum(axis=1),
        status=np.where(np.asarray(ok), Status.CONVERGED, Status.INFEASIBLE).astype(np.int8),
        iterations=np.full(p_sat.shape, bc.fp_iters if method != "zf-eps" else 0, np.int32))


def _coop_uniform(arrays: dict, cfg, seed: int, assoc_method: str) -> IstnSolution:
    """Coop-uniform (paper Fig. 9): proposed QoS-WMMSE with p_m = P_LEO / M fixed."""
    B, M = np.asarray(arrays["p_bs"]).shape
    a = dict(arrays)
    a["p_sat_fixed"] = np.broadcast_to(np.asarray(arrays["p_leo"], np.float64)[:, None] / M, (B, M)).copy()
    return solve_istn(a, cfg, assoc_method, seed)
