"""Transmit step (43) of one ISTN cell by the Lagrange dual method of spec istn.md §3.3,
with projected Barzilai-Borwein ascent on the QoS multipliers.

The problem, the closed-form minimiser for fixed multipliers and the safeguard that keeps
the best feasible point are in ``transmit_lagrangian``; this module holds the multiplier
update only.

The 1 + T QoS multipliers are found by projected Barzilai–Borwein ascent on the dual
(spec §3.6's pick among first-order methods; the pipeline default is the projected Newton
method of ``transmit_newton`` on the same minimiser, 3-9 iterations where BB takes 16-200,
and this module is the selectable cross-check, ``strategy="dual"``): constraints are
normalised, g = eps/e - 1, so the multiplier y_c on g_c acts as lambda_c = y_c / e_c on the MSE; the dual gradient is g at
the Lagrangian minimiser (Danskin); the BB step is clipped to [step_min, step_max] and
multipliers are capped at ``y_max``.
"""
from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxcore.istn.problem import CellProblem
from jaxcore.istn.transmit_lagrangian import (N_NEWTON, SafeguardedDualStep, StepContext, TransmitResult,
                                              feasible_centre, lagrangian_minimizer, prox_objective, qos_excess,
                                              qos_mses, run_transmit, safeguarded_candidate, scale_to_power)
from jaxcore.istn.wmmse import MseCoeffs, Weights


class DualState(NamedTuple):
    y: jax.Array  # [1+T] normalised QoS multipliers
    y_prev: jax.Array
    g_prev: jax.Array
    step: jax.Array  # BB step
    nu: jax.Array  # power multiplier (Newton warm start)
    F: jax.Array  # best (feasible) point
    q: jax.Array
    obj: jax.Array
    viol: jax.Array  # max normalised QoS violation of (F, q)
    lower: jax.Array  # best dual bound
    k: jax.Array  # dual iterations done


@dataclasses.dataclass(frozen=True)
class DualMethod(SafeguardedDualStep):
    """The dual transmit step in ``init``/``step``/``done``/``result`` form, so a caller can
    run its iterations in rounds (``qos_wmmse`` interleaves the transmit steps of many cells
    without nesting loops).  Static settings; hashable."""

    rho: float = 1e-4
    n_newton: int = N_NEWTON
    feas_tol: float | None = None  # None: default_feas_tol(dtype)
    gap_tol: float = 1e-6
    y_max: float = 1e8
    step0: float = 1.0
    step_min: float = 1e-6
    step_max: float = 1e8

    def init(self, prob: CellProblem, ctx: StepContext, y0) -> DualState:
        rdt = prob.p_bs.dtype
        F_c, q_c = feasible_centre(prob, ctx)
        y0 = jnp.asarray(y0, rdt)
        return DualState(y=y0, y_prev=y0, g_prev=jnp.zeros_like(y0), step=jnp.asarray(self.step0, rdt),
                         nu=jnp.zeros((), rdt), F=F_c, q=q_c,
                         obj=prox_objective(ctx, F_c, q_c, self.rho),
                         viol=qos_excess(ctx, F_c, q_c), lower=jnp.asarray(-jnp.inf, rdt),
                         k=jnp.zeros((), jnp.int32))

    def step(self, prob: CellProblem, ctx: StepContext, s: DualState) -> DualState:
        rdt = prob.p_bs.dtype
        tol = self._tol(rdt)
        F_raw, q, nu = lagrangian_minimizer(prob, ctx.co, ctx.wts, s.y, ctx.F_prev, ctx.q_prev, self.rho, s.nu,
                                            fix_q=ctx.fix_q, n_newton=self.n_newton, blocks=ctx.bl)
        g = qos_mses(ctx.co, F_raw, q) / ctx.e - 1.0
        n2 = jnp.sum(jnp.abs(F_raw) ** 2)
        dual = prox_objective(ctx, F_raw, q, self.rho) + jnp.dot(s.y, g) + nu * (n2 - prob.p_bs)
        dual = jnp.where(jnp.isfinite(dual), dual, -jnp.inf)
        # candidate: power-projected, then pulled back toward the best feasible point
        take, Fc, qc, oc, vc = safeguarded_candidate(prob, ctx, s.F, s.q, s.obj, s.viol,
                                                     scale_to_power(F_raw, prob.p_bs), q, self.rho, tol)
        # projected Barzilai-Borwein ascent on y
        dy, dg = s.y - s.y_prev, g - s.g_prev  # (the margin cancels in dg)
        curv = -jnp.dot(dy, dg)
        bb = jnp.dot(dy, dy) / jnp.maximum(curv, jnp.finfo(rdt).tiny)
        stp = jnp.where((s.k > 0) & (curv > 0), jnp.clip(bb, self.step_min, self.step_max), s.step)
        # ascend on the constraints tightened by half the tolerance so the primal iterates
        # approach the optimum from strictly inside (the dual bound above uses the true g)
        g_safe = jnp.where(jnp.isfinite(g), g + 0.5 * tol, 0.0)
        y_new = jnp.clip(s.y + stp * g_safe, 0.0, self.y_max)
        return DualState(y=y_new, y_prev=s.y, g_prev=g_safe, step=stp, nu=nu,
                         F=jnp.where(take, Fc, s.F), q=jnp.where(take, qc, s.q),
                         obj=jnp.where(take, oc, s.obj), viol=jnp.where(take, vc, s.viol),
                         lower=jnp.maximum(s.lower, dual), k=s.k + 1)


def transmit_dual(prob: CellProblem, co: MseCoeffs, wts: Weights, F_prev, q_prev, *, rho=1e-4,
                  y0=None, fix_q=False, n_iter: int = 100, n_newton: int = N_NEWTON,
                  feas_tol: float | None = None, gap_tol: float = 1e-6, y_max: float = 1e8,
                  step0: float = 1.0, step_min: float = 1e-6, step_max: float = 1e8,
                  loop_mode: str = "scan", iter_cap=None) -> TransmitResult:
    """Transmit step (43) for ONE cell by the dual method (see module docstring).

    Args:
      prob: the cell (noise-normalised units recommended; ``rho`` is in those units).
      co: receiver-projected coefficients (``wmmse.mse_coeffs``); wts: WMMSE weights.
      F_prev [Nt, K+T] c, q_prev [] r: prox centre (and fixed q when ``fix_q``, P3 mode;
        ``fix_q`` a bool or a traced [] bool, ``StepContext.fix_q``).
      y0 [1+T]: warm-start multipliers (normalised); default 1 (lambda = 1/e).
      n_iter: dual iterations (fixed-length scan, per-instance mask); n_newton: nu steps.
      feas_tol: allowed normalised QoS violation (eps/e - 1); default 1e-6 in float64,
        1e-4 in float32.  gap_tol: relative duality gap for ``converged``.
      iter_cap: optional traced int <= n_iter: stop after this many dual iterations (an
        inexact but safeguarded step, so the WMMSE loop stays monotone).
    """
    method = DualMethod(rho=float(rho), n_newton=n_newton, feas_tol=feas_tol, gap_tol=gap_tol,
                        y_max=y_max, step0=step0, step_min=step_min, step_max=step_max)
    return run_transmit(method, prob, co, wts, F_prev, q_prev, y0, n_iter, loop_mode, iter_cap, fix_q)
