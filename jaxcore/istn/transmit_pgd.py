"""Transmit step (43) of one ISTN cell by batched primal-dual projected gradient (the design
card's method; spec istn.md §3.6 measured it far slower than the dual method of
``transmit_dual`` — it is kept as a selectable strategy and a cross-check).

Lagrangian with normalised QoS constraints g_c = eps_c/e_c - 1 <= 0 and multipliers y >= 0:

    L(F, q, y) = sum_k mu~_k eps~_k + mu-bar eps-bar + rho ||F - F-||^2 + rho (q - q-)^2
                 + sum_c y_c g_c(F, q)

One iteration (Arrow-Hurwicz):
    F <- Pi_ball( F - alpha grad_F L ),   ball ||F||_F <= sqrt(P_BS)   (optax projection_l2_ball)
    q <- Pi_box( q - grad_q L / (2 a_q) ), box [0, sqrt(P_LEO)]     (optax projection_box;
         the step 1/(2 a_q) makes it the exact q-minimiser, as q enters L as a_q q^2 - 2 b_q q)
    y <- Pi_+( y + beta g(F, q) )                                   (optax projection_non_negative)
The F-gradient is the closed form of spec §3.3, grad_{f_j} = 2 (A_j(y) f_j - b_j(y)), and
alpha = 1 / max_j ||A_j||_F (a bound on the Lipschitz constant).

The same safeguard as the dual method keeps the best feasible point (pulled back toward it
along a segment), so the output is feasible and not worse than a feasible prox centre.
``converged``: the current iterate is feasible and (F, q, y) moved less than ``tol``
(squared, relative) in the last iteration; ``dual_bound`` is not available (-inf).
"""
from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
from optax.projections import projection_box, projection_l2_ball, projection_non_negative

from jaxcore.istn.problem import CellProblem
from jaxcore.istn.transmit_lagrangian import (StepContext, TransmitResult, assemble, default_feas_tol,
                                              feasible_centre, prox_objective, q_update, qos_excess, qos_mses,
                                              run_transmit, safeguarded_candidate)
from jaxcore.istn.wmmse import MseCoeffs, Weights


class PgdState(NamedTuple):
    Fx: jax.Array  # current primal iterate
    qx: jax.Array
    y: jax.Array
    F: jax.Array  # best feasible
    q: jax.Array
    obj: jax.Array
    viol: jax.Array
    delta: jax.Array  # squared relative move of (F, q, y) in the last iteration
    vx: jax.Array  # violation of the current iterate
    k: jax.Array  # iterations done


@dataclasses.dataclass(frozen=True)
class PgdMethod:
    """Primal-dual projected gradient in ``init``/``step``/``done``/``result`` form (the same
    interface as ``transmit_dual.DualMethod``).  Static settings; hashable."""

    rho: float = 1e-4
    dual_step: float = 1.0  # beta
    feas_tol: float | None = None  # None: default_feas_tol(dtype)
    tol: float = 1e-12  # squared relative move that ends the step

    def _tol(self, dtype):
        return default_feas_tol(dtype) if self.feas_tol is None else self.feas_tol

    def init(self, prob: CellProblem, ctx: StepContext, y0) -> PgdState:
        rdt = prob.p_bs.dtype
        F_c, q_c = feasible_centre(prob, ctx)
        v_c = qos_excess(ctx, F_c, q_c)
        return PgdState(Fx=F_c, qx=q_c, y=jnp.asarray(y0, rdt), F=F_c, q=q_c,
                        obj=prox_objective(ctx, F_c, q_c, self.rho), viol=v_c,
                        delta=jnp.asarray(jnp.inf, rdt), vx=v_c, k=jnp.zeros((), jnp.int32))

    def converged(self, s: PgdState):
        tol = self._tol(s.obj.dtype)
        return (s.viol <= tol) & (s.vx <= tol) & (s.delta <= self.tol)

    def done(self, s: PgdState, cap):
        return self.converged(s) | (s.k >= cap)

    def step(self, prob: CellProblem, ctx: StepContext, s: PgdState) -> PgdState:
        K = ctx.co.a_tut.shape[0]
        lam = s.y / ctx.e
        A, B = assemble(ctx.bl, ctx.wts, lam, ctx.F_prev, self.rho)
        # gradient (up to the factor 2 folded into alpha): A_j f_j - b_j
        G0 = A[0] @ s.Fx[:, :K] - B[0][:, :K]  # [Nt, K]
        Gs = jnp.einsum("inm,mi->ni", A[1:], s.Fx[:, K:]) - B[1:, :, 0].T  # [Nt, T]
        G = jnp.concatenate([G0, Gs], axis=1)
        lip = jnp.max(jnp.sqrt(jnp.sum(jnp.abs(A) ** 2, axis=(1, 2))))
        Fn = s.Fx - G / lip
        re, im = projection_l2_ball((jnp.real(Fn), jnp.imag(Fn)), jnp.sqrt(prob.p_bs))
        Fn = (re + 1j * im).astype(s.Fx.dtype)
        qn = jnp.where(ctx.fix_q, s.qx, projection_box(q_update(prob, ctx.bl, ctx.co, ctx.wts, lam, ctx.q_prev,
                                                                 self.rho), 0.0, jnp.sqrt(prob.p_leo)))
        g = qos_mses(ctx.co, Fn, qn) / ctx.e - 1.0
        y = projection_non_negative(s.y + self.dual_step * jnp.where(jnp.isfinite(g), g, 0.0))
        take, Fc, qc, oc, vc = safeguarded_candidate(prob, ctx, s.F, s.q, s.obj, s.viol, Fn, qn, self.rho,
                                                     self._tol(prob.p_bs.dtype))
        move = ((jnp.sum(jnp.abs(Fn - s.Fx) ** 2) + (qn - s.qx) ** 2) / prob.p_bs
                + jnp.sum((y - s.y) ** 2) / jnp.maximum(jnp.sum(y ** 2), 1.0))
        return PgdState(Fx=Fn, qx=qn, y=y, F=jnp.where(take, Fc, s.F), q=jnp.where(take, qc, s.q),
                        obj=jnp.where(take, oc, s.obj), viol=jnp.where(take, vc, s.viol),
                        delta=move, vx=jnp.max(g), k=s.k + 1)

    def result(self, s: PgdState) -> TransmitResult:
        rdt = s.obj.dtype
        return TransmitResult(F=s.F, q=s.q, lam=s.y, nu=jnp.zeros((), rdt), converged=self.converged(s),
                              feasible=s.viol <= self._tol(rdt), iterations=s.k, objective=s.obj,
                              dual_bound=jnp.asarray(-jnp.inf, rdt))


def transmit_pgd(prob: CellProblem, co: MseCoeffs, wts: Weights, F_prev, q_prev, *, rho=1e-4,
                 y0=None, fix_q=False, n_iter: int = 1000, dual_step: float = 1.0,
                 feas_tol: float | None = None, tol: float = 1e-12,
                 loop_mode: str = "scan", iter_cap=None) -> TransmitResult:
    """Transmit step (43) for ONE cell by primal-dual projected gradient (module docstring).

    Same arguments and result as ``transmit_dual.transmit_dual`` (``nu`` is returned as 0,
    ``dual_bound`` as -inf); ``dual_step`` is beta.
    """
    method = PgdMethod(rho=float(rho), dual_step=dual_step, feas_tol=feas_tol, tol=tol)
    return run_transmit(method, prob, co, wts, F_prev, q_prev, y0, n_iter, loop_mode, iter_cap, fix_q)
