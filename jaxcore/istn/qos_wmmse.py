"""QoS-constrained WMMSE for ONE ISTN cell: P1 (joint F and satellite power, eq. (26)) and
P3 (F only, satellite power fixed, eq. (45)), spec istn.md §3.4.

    init   F: MRT columns for the TUTs, principal right-singular vector of G^tar_{i,A(i)} for
           sensing beam i (power iteration, no svd/eigh under vmap), equal power, ||F||^2 =
           P_BS;  q = sqrt(P_LEO)/2 (P1) or the given fixed amplitude (P3).
    Phase I (feasibility): MMSE receivers; stop when the SUT and radar MMSEs meet their
           bounds, else one transmit step (43) with the TUT/SUT weights scaled by
           ``phase1_weight``, ended at its first QoS-feasible point.  Decision: spec §3.4's
           heuristic (ONE Lagrangian minimisation with fixed multipliers lambda = 1/e) alone
           let a sensing beam collapse (SCNR -210 dB) on a drop where the dual transmit step
           reaches feasibility in 3 iterations; it is kept as a fallback (``phase1_penalty``)
           taken when it lowers the violation.  ``phase1_weight`` = 1e-3 (spec).  Which
           weight reaches feasibility is drop-dependent (measured, paper size, float64, with
           the switch restore below: seed 0, 32 drops: 1e-3 fails on 0-1, 1.0 on 2; seed 1,
           16 drops: 1e-3 fails on 1, 1.0 on 0), so a failed Phase I is retried once from
           the start point with ``phase1_retry_weight`` (1.0) before status 2 is declared.
           An attempt fails at ``phase1_iter`` rounds, or earlier when its best QoS
           violation has not fallen by 1 % in ``phase1_stall`` rounds (not in the spec;
           measured: late successes keep improving, failing attempts flatten out).
    Switch (``switch_restore``): the Phase-I point overshoots (infeasible transmit steps run
           the multipliers to their cap, TUT beams go to ~1e-12, and a zero TUT beam is a
           WMMSE fixed point: zero MMSE receiver, zero drive).  At the switch the point moves
           back toward the start point as far as the QoS allows (``_restore``) and the
           multipliers are reset to 1 (warm-started from the cap, Phase II could not move).
    Phase II: receivers (35)-(37) -> weights (40)-(41) -> transmit step (43) (strategy
           ``newton`` = ``transmit_newton``, ``dual`` = ``transmit_dual``, ``pgd`` =
           ``transmit_pgd``), prox around the previous (F, q), multipliers (and, for newton,
           the power multiplier) warm-started; stop when the relative sum-rate change < rel_tol.

Inexact transmit steps (``inner_iter_warm``): the first Phase II transmit step runs up to
``inner_iter`` dual iterations; later ones, warm-started from the previous multipliers, at most
``inner_iter_warm`` (default 4 Newton iterations).  The dual step's safeguard returns the best feasible point
that is not worse than the prox centre, so the sum rate stays monotone.

Rounds, not nested loops: the solver of one cell is ``cell_init`` then ``cell_round``
until ``stop`` (``cell_solution`` reads the result).  A round runs up to
``round_length(cfg)`` (= the warm cap) transmit-step iterations and, if the step under way
finished, the WMMSE bookkeeping and the next step's receivers/weights; a cold step spans
several rounds.  Under ``vmap`` a batch therefore pays per round the longest round, not per
outer iteration the longest transmit step of any member, and a driver can retire finished
cells between rounds (``solvers/istn/streaming.py``).  Every loop is a ``masked_scan`` with
per-instance masks, so ``solve_cells`` (a ``vmap``) gives exactly the one-by-one results;
``loop_mode="while"`` exits when the slowest member stops, ``"scan"`` runs full length.
P1 or P3 is data, not a compile-time switch: the transmit step reads ``StepContext.fix_q``
(a traced bool) and ``cell_start`` takes the start choices traced, so ``solve_cells`` and the
streaming driver compile one program per problem shape for both problems, cold or warm.

Status codes (``jaxcore.status.Status``, interfaces.md §2): 0 converged and feasible, 1 iteration
cap reached (feasible), 2 QoS infeasible (Phase I could not meet the SUT-rate / SCNR floors; the
returned numbers are the Phase-I point, finite), 3 numerical failure (non-finite numbers
were replaced by zeros).  NaN never leaves this module.
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.istn import metrics
from jaxcore.istn.problem import CellProblem, target_view
from jaxcore.istn.transmit_dual import DualMethod
from jaxcore.istn.transmit_lagrangian import (N_NEWTON, StepContext, bounds, default_feas_tol, lagrangian_minimizer,
                                              max_feasible_fraction, qos_mses, scale_to_power, step_context)
from jaxcore.istn.transmit_newton import NewtonMethod
from jaxcore.istn.transmit_pgd import PgdMethod
from jaxcore.istn.wmmse import Weights, mmse_receivers, mmse_weights, mse_coeffs, qos_violation
from jaxcore.loops import masked_scan, select_tree, when
from jaxcore.status import Status, meets_constraints

@dataclasses.dataclass(frozen=True)
class QosWmmseConfig:
    """Static settings of the per-cell QoS-WMMSE (hashable: pass as a jit static argument).

    Defaults follow spec istn.md §1.4/§5 (<= 100 outer iterations, rel. tol 1e-4, prox
    1e-4 in noise-normalised units, Phase I <= 50 iterations), plus a stall test that ends a
    Phase-I attempt which stopped making progress (``phase1_stall``, not in the spec).
    """

    max_iter: int = 100  # Phase II WMMSE iterations (fixed-length scan)
    rel_tol: float = 1e-4  # relative sum-rate change that stops Phase II
    phase1_iter: int = 50  # Phase I iterations
    phase1_weight: float = 1e-3  # TUT/SUT weight scale in Phase I (spec §3.4; module docstring)
    phase1_retry_weight: float = 1.0  # if Phase I fails: one more Phase I from the start point
    #                                  with this weight (0: no retry; module docstring)
    phase1_stall: int = 8  # > 0: a Phase-I attempt also ends (fails) after this many rounds
    #                        without a 1 % drop of its best QoS violation (0: only phase1_iter;
    #                        measured: SolverConfig.phase1_stall)
    rho: float = 1e-4  # prox weight of the transmit step (noise-normalised units)
    strategy: str = "newton"  # transmit step (43): "newton" (spec §3.3 closed-form minimiser,
    #                           projected Newton on the 2+T dual variables), "dual" (same
    #                           minimiser, BB ascent: spec §3.6) or "pgd" (primal-dual gradient).
    #                           Measured (paper size, seed 0, 200 drops, float64, 2-core CPU,
    #                           pipeline P1+P2+P3): dual (inner_iter 150, warm 20) 904 ms/drop,
    #                           mean sum rate 29.54, 2 QoS-infeasible; newton (50, warm 4)
    #                           182 ms/drop, 29.97, none infeasible.  For "dual"/"pgd" use
    #                           inner_iter=150, inner_iter_warm=20 (their measured settings).
    inner_iter: int = 50  # transmit-step iterations (newton: Newton steps, 3-9 to a 1e-6 duality
    #                       gap from a cold start; dual: BB steps; pgd: gradient steps)
    n_newton: int = N_NEWTON  # Newton steps on the power multiplier per dual iteration, warm-started
    #                   from the previous dual iterate (an inexact nu only loosens the dual
    #                   bound; F(nu) stays the exact Lagrangian minimiser).  Measured (paper
    #                   size, seed 0, 32 drops, float64, 2-core CPU): 8 -> 842 ms/drop, mean
    #                   sum rate 26.81; 4 -> 453 ms, 26.82; 3 -> 254 ms, 26.92; 2 -> 170 ms,
    #                   26.58 (Phase II stops earlier, up to -10 % on single drops).
    gap_tol: float = 1e-5  # relative duality gap that ends a dual transmit step
    power_iter: int = 20  # power iterations for the sensing-beam initialisation
    phase1_penalty: bool = True  # spec §3.4 fixed-multiplier fallback when (43) is infeasible
    inner_iter_warm: int = 4  # iterations of each Phase II transmit step after the first
    #                           (multipliers warm-started; inexact step, safeguarded, so the
    #                           loop stays monotone); 0 = always inner_iter.  It is also the
    #                           round length (``round_length``): a batch pays per round its
    #                           longest round.  newton, warm-started from the previous step's
    #                           (y, nu), takes ~1.6 iterations per warm step; measured (paper
    #                           size, seed 0, 200 drops, float64, 2-core CPU): warm 10 -> 216
    #                           ms/drop, warm 4 -> 182 ms/drop, mean sum rate 29.97 both.
    #                           dual (BB), warm 20 vs 0: P1 734 -> 78 ms/drop on 16 drops, sum
    #                           rate -0.05 % mean / -0.42 % worst.
    loop_mode: str = "while"  # "while": a batch stops when its slowest member stops
    #                           (same per-instance results); "scan": always full length
    confirm_exact: bool = True  # a relative sum-rate change < rel_tol after an inexact warm
    #                           step (cap hit, duality gap open) triggers one full-length
    #                           step instead of stopping; stop only if the change stays small
    #                           Measured (paper size, seed 0, float64, 2-core CPU): 8 drops,
    #                           mean sum rate 28.77 without it, 29.20 with it, 29.21 with
    #                           exact steps throughout (inner_iter_warm=0, 6.5x the time);
    #                           32 drops: 26.92 -> 27.86 (+3.5 %), 254 -> ~1,200 ms/drop.
    phase1_certify: bool = False  # strategy newton: end an infeasible Phase-I transmit step
    #                           early on a dual certificate (``NewtonMethod.certify``):
    #                           measured 290 -> 130 ms/drop, Phase-I failures 8 -> 14 of
    #                           400 drops (2026-11-22, BENCHMARKS.md), hence off
    switch_restore: bool = True  # at the Phase I -> II switch: line search back toward the
    #                           start point and reset the QoS multipliers (module docstring)

    def __post_init__(self):
        for name in ("max_iter", "phase1_iter", "inner_iter", "n_newton", "power_iter"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        if not self.phase1_retry_weight >= 0:
            raise ValueError(f"phase1_retry_weight: expected >= 0 (0 = no retry), got {self.phase1_retry_weight!r}")
        if not isinstance(self.phase1_stall, int) or self.phase1_stall < 0:
            raise ValueError(f"phase1_stall: expected an integer >= 0 (0 = off), got {self.phase1_stall!r}")
        if not isinstance(self.inner_iter_warm, int) or self.inner_iter_warm < 0:
            raise ValueError(f"inner_iter_warm: expected an integer >= 0, got {self.inner_iter_warm!r}")
        for name in ("rel_tol", "phase1_weight", "gap_tol"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: expected > 0, got {getattr(self, name)!r}")
        if not self.rho > 0:
            raise ValueError(f"rho: expected > 0 (the prox term removes the degeneracy of "
                             f"spec §3.3), got {self.rho!r}")
        if self.loop_mode not in ("while", "scan"):
            raise ValueError(f"loop_mode: expected 'while' or 'scan', got {self.loop_mode!r}")
        if self.strategy not in ("newton", "dual", "pgd"):
            raise ValueError(f"strategy: expected 'newton', 'dual' or 'pgd', got {self.strategy!r}")


class CellSolution(NamedTuple):
    F: jax.Array  # [Nt, K+T] c  beamformers
    q: jax.Array  # [] r         satellite amplitude sqrt(p_sat)
    p_sat: jax.Array  # [] r     q^2
    status: jax.Array  # [] int8 0 ok, 1 iteration cap, 2 QoS infeasible, 3 numerical failure
    iterations: jax.Array  # [] int32 Phase II iterations
    phase1_iterations: jax.Array  # [] int32
    sum_rate: jax.Array  # [] r  cell sum rate (26) at (F, p_sat)
    rate_history: jax.Array  # [max_iter+1] r sum rate before/after each Phase II iteration
    #                          (entries past ``iterations`` repeat the final value)
    lam: jax.Array  # [1+T] r   last normalised QoS multipliers (SUT, targets)


def principal_right_vector(G, n_iter: int):
    """Principal right-singular vector of G [Nr, Nt] by power iteration on G^H G.  [Nt]."""
    v = jnp.conj(G).sum(axis=0)  # G^H 1: deterministic start (exact for rank-1 G)
    v = v + jnp.finfo(v.real.dtype).eps * jnp.ones_like(v)

    def body(v, _):
        v = jnp.conj(G).T @ (G @ v)
        return v / jnp.maximum(jnp.linalg.norm(v), jnp.finfo(v.real.dtype).tiny), None

    v, _ = jax.lax.scan(body, v / jnp.maximum(jnp.linalg.norm(v), jnp.finfo(v.real.dtype).tiny),
                        None, length=n_iter)
    return v


def initial_beams(prob: CellProblem, n_power_iter: int = 20):
    """Spec §3.4 start: MRT for TUTs, principal right-singular vectors of G^tar_{i,A(i)} for
    sensing beams, unit columns scaled to equal power with ||F||_F^2 = P_BS.  [Nt, K+T]."""
    tv = target_view(prob)
    T = tv.G_t.shape[0]
    K = prob.h_tut.shape[0]
    mrt = jnp.conj(prob.h_tut).T  # [Nt, K]
    G_own = tv.G_t[jnp.arange(T), jnp.arange(T)]  # [T, Nr, Nt]
    sens = jax.vmap(lambda G: principal_right_vector(G, n_power_iter))(G_own).T  # [Nt, T]
    F = jnp.concatenate([mrt, sens.astype(mrt.dtype)], axis=1)
    nrm = jnp.linalg.norm(F, axis=0)
    F = F / jnp.maximum(nrm, jnp.finfo(nrm.dtype).tiny)
    return F * jnp.sqrt(prob.p_bs / (K + T)).astype(F.dtype)


def _finite(*xs):
    ok = jnp.asarray(True)
    for x in xs:
        ok = ok & jnp.all(jnp.isfinite(x))
    return ok


#: relative drop of the best Phase-I QoS violation that counts as progress (``phase1_stall``)
_STALL_RTOL = 0.01


def _feas_tol(prob):
    return default_feas_tol(prob.p_bs.dtype)


class _Outer(NamedTuple):
    """The WMMSE loop's own state (one cell)."""

    F: jax.Array  # [Nt, K+T] c current beamformers
    q: jax.Array  # [] r        current satellite amplitude
    y: jax.Array  # [1+T] r     warm-start multipliers
    nu: jax.Array  # [] r       warm-start power multiplier (strategy "newton")
    rate: jax.Array  # [] r     sum rate at (F, q)
    hist: jax.Array  # [max_iter+1] r
    k: jax.Array  # Phase II iterations
    k1: jax.Array  # Phase I iterations
    phase2: jax.Array  # QoS feasible reached (Phase II running)
    conv: jax.Array
    stop: jax.Array
    F_s: jax.Array  # start point (anchor of the Phase I -> II restore)
    q_s: jax.Array
    attempt: jax.Array  # [] int32 Phase I attempt (1: the retry with phase1_retry_weight)
    k_start: jax.Array  # [] int32 value of k1 when the current Phase-I attempt began
    v_best: jax.Array  # [] r      smallest QoS violation of the attempt so far (``phase1_stall``)
    k_best: jax.Array  # [] int32  k1 when v_best last fell by _STALL_RTOL
    v_s: jax.Array  # [] r         QoS violation at the start point
    exact: jax.Array  # [] bool  the next transmit step runs the full inner_iter (``confirm_exact``)


class CellState(NamedTuple):
    """One cell's whole solver state between rounds (``cell_init`` / ``cell_round``)."""

    outer: _Outer
    ctx: StepContext  # the transmit step (43) under way: receivers/weights of ``outer``
    inner: object  # its DualState / PgdState
    cap: jax.Array  # [] int32 iteration cap of this transmit step


def _method(cfg: QosWmmseConfig):
    if cfg.strategy == "dual":
        return DualMethod(rho=cfg.rho, n_newton=cfg.n_newton, gap_tol=cfg.gap_tol)
    if cfg.strategy == "newton":
        return NewtonMethod(rho=cfg.rho, n_newton=cfg.n_newton, gap_tol=cfg.gap_tol, certify=cfg.phase1_certify)
    return PgdMethod(rho=cfg.rho)


def round_length(cfg: QosWmmseConfig) -> int:
    """Transmit-step iterations per round: the warm cap (a warm step fits in one round; a
    cold one spans several rounds while the other cells of the batch move on)."""
    warm = 0 < cfg.inner_iter_warm < cfg.inner_iter
    return cfg.inner_iter_warm if warm else cfg.inner_iter


def max_rounds(cfg: QosWmmseConfig) -> int:
    """Upper bound on the rounds of one cell (every outer step within its iteration cap)."""
    n1 = cfg.phase1_iter * (2 if cfg.phase1_retry_weight > 0 else 1)  # with the retry
    return (n1 + cfg.max_iter) * -(-cfg.inner_iter // round_length(cfg))


def _violation(prob, F, q):
    rx = mmse_receivers(prob, F, q * q)
    return jnp.max(qos_violation(prob, mse_coeffs(prob, rx), F, q), initial=-1.0)


def qos_met(prob: CellProblem, F, q):
    """[] bool: the QoS (25b)-(25c) of one cell hold at (F, q) with fresh MMSE receivers,
    within the solver's own feasibility tolerance (the test behind statuses 0/1)."""
    return (_violation(prob, F, q) <= _feas_tol(prob)) & _finite(F, q)


# theta grid of the Phase I -> II restore line search (the largest admissible wins)
_RESTORE_GRID = (1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0.0625, 0.03125)


def _restore(prob: CellProblem, F_s, q_s, F_I, q_I):
    """Phase I -> II switch (``QosWmmseConfig.switch_restore``): the point
    theta (F_s, q_s) + (1 - theta) (F_I, q_I) with the largest theta whose QoS holds at fresh
    MMSE receivers, from ``_RESTORE_GRID`` plus the closed-form largest theta at the
    Phase-I receivers (along a segment the MSEs are convex quadratics there, and fresh MMSE
    receivers only lower them).  theta = 0 (the feasible Phase-I point) is the fallback.
    """
    rdt = prob.p_bs.dtype
    co = mse_coeffs(prob, mmse_receivers(prob, F_I, q_I * q_I))
    e = bounds(prob, prob.G_tar.shape[0])
    th_cf = max_feasible_fraction(qos_mses(co, F_I, q_I), qos_mses(co, 0.5 * (F_I + F_s), 0.5 * (q_I + q_s)),
                                  qos_mses(co, F_s, q_s), e) * (1.0 - 1e-9)
    th = jnp.concatenate([jnp.asarray(_RESTORE_GRID, rdt), th_cf[None]])
    Fg = th[:, None, None] * F_s[None] + (1.0 - th[:, None, None]) * F_I[None]
    qg = th * q_s + (1.0 - th) * q_I
    ok = (jax.vmap(lambda F, q: _violation(prob, F, q))(Fg, qg) <= _feas_tol(prob)) & jax.vmap(_finite)(Fg, qg)
    i = jnp.argmax(jnp.where(ok, th, -1.0))
    return jnp.where(ok[i], Fg[i], F_I), jnp.where(ok[i], qg[i], q_I)


def _begin_step(prob: CellProblem, cfg: QosWmmseConfig, o: _Outer, fix_q):
    """Receivers (35)-(37) and weights (40)-(41) at (F, q), then a fresh transmit step."""
    rdt = prob.p_bs.dtype
    p = o.q * o.q
    rx = mmse_receivers(prob, o.F, p)
    wts = mmse_weights(prob, o.F, p)
    w1 = jnp.where(o.attempt > 0, cfg.phase1_retry_weight, cfg.phase1_weight)
    scale = jnp.where(o.phase2, 1.0, w1).astype(rdt)
    ctx = step_context(prob, mse_coeffs(prob, rx), Weights(scale * wts.mu_tut, scale * wts.mu_sut), o.F, o.q,
                       fix_q)
    warm = 0 < cfg.inner_iter_warm < cfg.inner_iter
    cap = jnp.where(o.phase2 & (o.k >= 1) & warm & jnp.logical_not(o.exact), cfg.inner_iter_warm,
                    cfg.inner_iter).astype(jnp.int32)
    method = _method(cfg)
    if isinstance(method, NewtonMethod):
        return ctx, method.init(prob, ctx, o.y, o.nu, cfg.loop_mode), cap
    return ctx, method.init(prob, ctx, o.y), cap


def _end_step(prob: CellProblem, cfg: QosWmmseConfig, st: CellState) -> _Outer:
    """Phase I / Phase II bookkeeping once the transmit step under way has finished."""
    s, ctx = st.outer, st.ctx
    rdt = prob.p_bs.dtype
    res = _method(cfg).result(st.inner)
    ok = _finite(res.F, res.q, res.lam) & (res.feasible | jnp.logical_not(s.phase2))
    Fn, qn = jnp.where(ok, res.F, s.F), jnp.where(ok, res.q, s.q)
    v_n = _violation(prob, Fn, qn)  # at fresh MMSE receivers
    if cfg.phase1_penalty:
        # Phase I fallback of spec §3.4: when (43) is infeasible at these receivers, the
        # Lagrangian minimiser at the fixed multipliers lambda_S = 1/e_S, lambda_i = 1/e_R
        # (y = 1), power-scaled, is kept if its violation at fresh MMSE receivers is
        # smaller (the cvxpy reference loop does the same; without it Phase I stalled on
        # paper-size drops the reference solves).  Evaluated only while some cell needs it.
        def penalty(prob, ctx, F, q, y, Fn, qn, v_n):
            Fp, qp, _ = lagrangian_minimizer(prob, ctx.co, ctx.wts, jnp.ones_like(y), F, q, cfg.rho,
                                             jnp.zeros((), rdt), fix_q=ctx.fix_q, n_newton=cfg.n_newton,
                                             blocks=ctx.bl)
            Fp = scale_to_power(Fp, prob.p_bs)
            qp = jnp.where(ctx.fix_q, qp, jnp.clip(qp, 0.0, jnp.sqrt(prob.p_leo)))
            v_p = _violation(prob, Fp, qp)
            use_p = _finite(Fp, qp, qp) & (v_p < v_n)
            return jnp.where(use_p, Fp, Fn), jnp.where(use_p, qp, qn), jnp.where(use_p, v_p, v_n)

        need = jnp.logical_not(s.phase2) & jnp.logical_not(res.feasible)
        Fn, qn, v_n = when(need, penalty, (Fn, qn, v_n), prob, ctx, s.F, s.q, s.y, Fn, qn, v_n,
                           mode=cfg.loop_mode)
    y = jnp.where(ok, jnp.minimum(res.lam, 1e6), s.y)
    # Phase I bookkeeping
    k1 = s.k1 + jnp.where(s.phase2, 0, 1).astype(jnp.int32)
    now_feasible = v_n <= _feas_tol(prob)
    enter2 = jnp.logical_not(s.phase2) & now_feasible
    if cfg.switch_restore:
        Fn, qn = when(enter2, _restore, (Fn, qn), prob, s.F_s, s.q_s, Fn, qn, mode=cfg.loop_mode)
        y = jnp.where(enter2, jnp.ones_like(y), y)
    rate = metrics.sum_rate(prob, Fn, qn * qn)
    rate = jnp.where(jnp.isfinite(rate), rate, s.rate)
    better = v_n < s.v_best - _STALL_RTOL * jnp.abs(s.v_best)
    v_best, k_best = jnp.where(better, v_n, s.v_best), jnp.where(better, k1, s.k_best)
    stalled = (cfg.phase1_stall > 0) & (k1 - k_best >= cfg.phase1_stall)
    fail = jnp.logical_not(s.phase2 | now_feasible) & ((k1 - s.k_start >= cfg.phase1_iter) | stalled)
    # second Phase I from the start point with the other weight (phase1_retry_weight)
    retry = fail & (s.attempt == 0) & (cfg.phase1_retry_weight > 0)
    infeasible = fail & jnp.logical_not(retry)
    Fn, qn = jnp.where(retry, s.F_s, Fn), jnp.where(retry, s.q_s, qn)
    y = jnp.where(retry, jnp.ones_like(y), y)
    k_start = jnp.where(retry, k1, s.k_start)
    v_best, k_best = jnp.where(retry, s.v_s, v_best), jnp.where(retry, k1, k_best)
    # Phase II bookkeeping
    small = s.phase2 & (jnp.abs(rate - s.rate) <= cfg.rel_tol * jnp.maximum(jnp.abs(s.rate), 1.0))
    # a small change after an inexact (warm, capped, gap not closed) step is not convergence:
    # confirm it with one full-length step (``confirm_exact``)
    inexact = (st.cap < cfg.inner_iter) & jnp.logical_not(res.converged)
    recheck = small & inexact & cfg.confirm_exact
    conv = small & jnp.logical_not(recheck)
    k = s.k + jnp.where(s.phase2, 1, 0).astype(jnp.int32)
    hist = jnp.where(s.phase2, s.hist.at[k].set(rate),
                     jnp.where(enter2, jnp.full_like(s.hist, rate), s.hist))
    cap = s.phase2 & (k >= cfg.max_iter)
    nu = jnp.where(ok & jnp.isfinite(res.nu), res.nu, s.nu)
    return _Outer(F=Fn, q=qn, y=y, nu=nu, rate=rate, hist=hist, k=k, k1=k1, phase2=s.phase2 | enter2, conv=conv,
                  stop=conv | cap | infeasible, F_s=s.F_s, q_s=s.q_s, attempt=s.attempt + retry.astype(jnp.int32),
                  k_start=k_start, v_best=v_best, k_best=k_best, v_s=s.v_s,
                  exact=recheck)


def cell_init(prob: CellProblem, cfg: QosWmmseConfig = QosWmmseConfig(), F0=None, q0=None,
              mode: str = "p1") -> CellState:
    """Start state of ONE cell: spec §3.4 initial point (or ``F0``/``q0``), power-feasible,
    and its first transmit step set up.  See :func:`solve_cell` for the arguments."""
    if mode not in ("p1", "p3"):
        raise ValueError(f"mode: expected 'p1' or 'p3', got {mode!r}")
    if mode == "p3" and q0 is None:
        raise ValueError("mode='p3' needs q0 (the fixed satellite amplitude sqrt(p-bar))")
    return cell_start(prob, cfg, F0, q0, mode == "p3")


class CellStart(NamedTuple):
    """How cells start, as [] bools: traced inside a program, so that one compiled program
    serves P1 and P3, cold or warm (:func:`cell_start`; ``solve_cells``, the streaming driver)."""

    fix_q: jax.Array  # P3: q held at q0 (else P1: q optimised)
    use_F0: jax.Array  # start from the given F0 (else the spec §3.4 initial beams)
    use_q0: jax.Array  # start from the given q0 (else sqrt(P_LEO)/2)

    @classmethod
    def of(cls, mode: str, F0, q0) -> "CellStart":
        """The start of a ``mode`` solve with these optional starts (host bools)."""
        return cls(np.asarray(mode == "p3"), np.asarray(F0 is not None), np.asarray(q0 is not None))


def start_inputs(prob: CellProblem, F0, q0, mode: str, xp=jnp):
    """``(F0 [N, Nt, K+T], q0 [N], CellStart)`` for a batch of ``prob`` [N, ...]: the given
    starts, or zeros that the returned :class:`CellStart` says to ignore, so that every call
    has the same argument structure (``xp=np`` keeps them on the host).  Checks ``mode``."""
    if mode not in ("p1", "p3"):
        raise ValueError(f"mode: expected 'p1' or 'p3', got {mode!r}")
    if mode == "p3" and q0 is None:
        raise ValueError("mode='p3' needs q0 (the fixed satellite amplitudes sqrt(p-bar)), shape [N]")
    N, rdt, cdt = prob.p_bs.shape[0], prob.p_bs.dtype, prob.h_tut.dtype
    F = xp.zeros((N, prob.n_tx, prob.n_tut + prob.n_tar), cdt) if F0 is None else xp.asarray(F0, cdt)
    q = xp.zeros((N,), rdt) if q0 is None else xp.asarray(q0, rdt)
    return F, q, CellStart.of(mode, F0, q0)


def cell_start(prob: CellProblem, cfg: QosWmmseConfig, F0, q0, fix_q, use_F0=None, use_q0=None) -> CellState:
    """:func:`cell_init` with the problem as data: ``fix_q`` (bool or traced [] bool) holds q
    at ``q0`` (P3) instead of optimising it (P1), and, when given, the traced [] bools
    ``use_F0``/``use_q0`` choose between ``F0``/``q0`` and the spec §3.4 start point, so that one
    compiled program starts P1 and P3 cells, with or without warm starts
    (``solvers/istn/streaming.py``).  ``F0``/``q0`` None: the spec §3.4 start point."""
    rdt = prob.p_bs.dtype
    T = prob.G_tar.shape[0]
    F = initial_beams(prob, cfg.power_iter) if F0 is None else jnp.asarray(F0, prob.h_tut.dtype)
    q = (0.5 * jnp.sqrt(prob.p_leo) if q0 is None else jnp.asarray(q0, rdt)).astype(rdt)
    if use_F0 is not None:
        F = jnp.where(use_F0, F, initial_beams(prob, cfg.power_iter))
    if use_q0 is not None:
        q = jnp.where(use_q0, q, (0.5 * jnp.sqrt(prob.p_leo)).astype(rdt))
    F = scale_to_power(F, prob.p_bs)
    q = jnp.where(fix_q, q, jnp.clip(q, 0.0, jnp.sqrt(prob.p_leo)))
    rate0 = metrics.sum_rate(prob, F, q * q)
    v0 = _violation(prob, F, q)
    o = _Outer(F=F, q=q, y=jnp.ones((1 + T,), rdt), nu=jnp.zeros((), rdt), rate=rate0,
               hist=jnp.full((cfg.max_iter + 1,), rate0, rdt), k=jnp.zeros((), jnp.int32),
               k1=jnp.zeros((), jnp.int32), phase2=v0 <= _feas_tol(prob),
               conv=jnp.asarray(False), stop=jnp.asarray(False), F_s=F, q_s=q,
               attempt=jnp.zeros((), jnp.int32), exact=jnp.asarray(False), k_start=jnp.zeros((), jnp.int32),
               v_best=v0, k_best=jnp.zeros((), jnp.int32), v_s=v0)
    ctx, inner, cap = _begin_step(prob, cfg, o, fix_q)
    return CellState(outer=o, ctx=ctx, inner=inner, cap=cap)


def cell_round(prob: CellProblem, st: CellState, cfg: QosWmmseConfig = QosWmmseConfig()) -> CellState:
    """One round of ONE cell: up to ``round_length(cfg)`` transmit-step iterations; if the
    step finished, the WMMSE bookkeeping and the next step's receivers/weights.  P1 or P3 is
    the state's (``st.ctx.fix_q``, set by :func:`cell_init`).

    Rounds flatten the nested loops (WMMSE outer, transmit-step inner): under ``vmap`` a
    batch pays per round the longest *round* (<= the warm cap), not per outer iteration the
    longest transmit step of any member (a cold 150-iteration step of one cell no longer
    stalls the warm 20-iteration steps of the others).  The per-cell sequence of iterates is
    exactly that of the nested form.
    """
    method = _method(cfg)
    stopped = st.outer.stop
    tol = _feas_tol(prob)

    def step_done(s):
        # Phase I only looks for a QoS-feasible point: its step ends at the first one (its
        # violation at the next MMSE receivers is no larger, so Phase II starts next)
        return method.done(s, st.cap) | (jnp.logical_not(st.outer.phase2) & (s.viol <= tol))

    r = masked_scan(lambda s: method.step(prob, st.ctx, s), lambda s: stopped | step_done(s),
                    st.inner, round_length(cfg), mode=cfg.loop_mode)
    st = st._replace(inner=r.state)
    finished = step_done(st.inner) & jnp.logical_not(stopped)
    o = _end_step(prob, cfg, st)
    ctx, inner, cap = _begin_step(prob, cfg, o, st.ctx.fix_q)
    nxt = CellState(outer=o, ctx=ctx, inner=inner, cap=cap)
    return select_tree(finished, nxt, st)


def cell_solution(prob: CellProblem, st: CellState, cfg: QosWmmseConfig = QosWmmseConfig()) -> CellSolution:
    """The :class:`CellSolution` of ONE cell's state (final once ``st.outer.stop``)."""
    s = st.outer
    feasible = s.phase2
    idx = jnp.arange(cfg.max_iter + 1)
    hist = jnp.where(idx <= s.k, s.hist, s.rate)
    finite = _finite(s.F, s.q, s.rate)
    status = jnp.where(~finite, int(Status.NUMERICAL_FAILURE),
                       jnp.where(~feasible, int(Status.INFEASIBLE),
                                 jnp.where(s.conv, int(Status.CONVERGED), int(Status.ITERATION_CAP)))).astype(jnp.int8)
    Fo = jnp.where(jnp.isfinite(s.F), s.F, 0.0)
    qo = jnp.where(jnp.isfinite(s.q), s.q, 0.0)
    rate = jnp.where(finite, s.rate, 0.0)
    hist = jnp.where(jnp.isfinite(hist), hist, 0.0)
    return CellSolution(F=Fo, q=qo, p_sat=qo * qo, status=status, iterations=s.k,
                        phase1_iterations=s.k1, sum_rate=rate, rate_history=hist,
                        lam=jnp.where(jnp.isfinite(s.y), s.y, 0.0))


def solve_cell(prob: CellProblem, cfg: QosWmmseConfig = QosWmmseConfig(), F0=None, q0=None,
               mode: str = "p1") -> CellSolution:
    """QoS-WMMSE for ONE cell (spec §3.4).  ``mode="p1"``: q free in [0, sqrt(P_LEO)]
    (eq. (26)); ``mode="p3"``: q fixed to ``q0`` (amplitude sqrt(p-bar), eq. (45)).

    Args:
      prob: the cell, noise-normalised units recommended (``solvers.istn.problems``).
      cfg: static settings.  F0 [Nt, K+T]: start beams (default ``initial_beams``).
      q0: start (P1, default sqrt(P_LEO)/2) or fixed (P3, required) satellite amplitude.
    """
    return _run_cell(prob, cell_init(prob, cfg, F0, q0, mode), cfg)


def _run_cell(prob: CellProblem, st: CellState, cfg: QosWmmseConfig) -> CellSolution:
    """Rounds from ``st`` until the cell stops (at most ``max_rounds(cfg)``), then its solution."""
    r = masked_scan(lambda s: cell_round(prob, s, cfg), lambda s: s.outer.stop, st, max_rounds(cfg),
                    mode=cfg.loop_mode)
    return cell_solution(prob, r.state, cfg)


def solve_cells(prob: CellProblem, cfg: QosWmmseConfig = QosWmmseConfig(), F0=None, q0=None,
                mode: str = "p1") -> CellSolution:
    """``solve_cell`` vmapped over a flat leading batch axis of cells (jitted).

    ``prob`` fields carry a leading axis [N]; ``F0`` [N, Nt, K+T] and ``q0`` [N] optional
    (``q0`` required for ``mode="p3"``).  Use ``problem.batch_cells`` to flatten [B, M].
    The mode and which starts are given are traced (:func:`cell_start`): one compiled
    program per problem shape and ``cfg`` serves P1 and P3, cold or warm.
    """
    return _solve_cells(prob, *start_inputs(prob, F0, q0, mode), cfg)


@partial(jax.jit, static_argnames=("cfg",))
def _solve_cells(prob: CellProblem, F0, q0, how: CellStart, cfg: QosWmmseConfig) -> CellSolution:
    return jax.vmap(lambda p, f, q: _run_cell(p, cell_start(p, cfg, f, q, *how), cfg))(prob, F0, q0)


@partial(jax.jit, static_argnames=("cfg",))
def sensing_feasible(prob: CellProblem, p_sat, cfg: QosWmmseConfig = QosWmmseConfig(max_iter=1)):
    """Sensing-failure test of spec §1.5: can every target reach SCNR_min with the satellite
    power fixed to ``p_sat``?  Runs Phase I (P3 mode, q = sqrt(p_sat)) with the SUT-rate
    constraint removed (e_sut -> 1e30); pass the cells with TUT beams switched off (K = 0)
    to give all of P_BS to sensing.  ``prob`` [C, ...], ``p_sat`` [C] -> bool [C].
    A True is certified by a concrete F; a False means Phase I did not find one within
    ``cfg.phase1_iter`` iterations (a heuristic, like the paper's Phase I).
    """
    prob = prob._replace(e_sut=jnp.full_like(prob.e_sut, 1e30))
    sol = solve_cells(prob, cfg, None, jnp.sqrt(jnp.asarray(p_sat, prob.p_bs.dtype)), "p3")
    return meets_constraints(sol.status)
