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

from typing import NamedTuple

import jax
import jax.numpy as jnp
from optax.projections import projection_box, projection_l2_ball, projection_non_negative

from jaxcore.istn.problem import CellProblem
from jaxcore.istn.transmit_dual import (TransmitResult, _blocks, _bounds, _max_feasible_fraction,
                                        _qos, _step_pieces, assemble, q_update)
from jaxcore.istn.wmmse import MseCoeffs, Weights
from jaxcore.loops import masked_scan


class _State(NamedTuple):
    Fx: jax.Array  # current primal iterate
    qx: jax.Array
    y: jax.Array
    F: jax.Array  # best feasible
    q: jax.Array
    obj: jax.Array
    viol: jax.Array
    delta: jax.Array  # squared relative move of (F, q, y) in the last iteration
    vx: jax.Array  # violation of the current iterate


def transmit_pgd(prob: CellProblem, co: MseCoeffs, wts: Weights, F_prev, q_prev, *, rho=1e-4,
                 y0=None, fix_q: bool = False, n_iter: int = 1000, dual_step: float = 1.0,
                 feas_tol: float | None = None, tol: float = 1e-12,
                 loop_mode: str = "scan") -> TransmitResult:
    """Transmit step (43) for ONE cell by primal-dual projected gradient (module docstring).

    Same arguments and result as ``transmit_dual.transmit_dual`` (``nu`` is returned as 0,
    ``dual_bound`` as -inf); ``dual_step`` is beta.
    """
    rdt = prob.p_bs.dtype
    if feas_tol is None:
        feas_tol = 1e-6 if rdt == jnp.float64 else 1e-4
    T = co.x_sum.shape[0]
    K = co.a_tut.shape[0]
    e = _bounds(prob, T)
    q_prev = jnp.asarray(q_prev, rdt)
    qmax = jnp.sqrt(prob.p_leo)
    bl = _blocks(co, wts)
    y0 = jnp.ones((1 + T,), rdt) if y0 is None else jnp.asarray(y0, rdt)
    radius = jnp.sqrt(prob.p_bs)

    objective, violation, F_c, q_c = _step_pieces(prob, co, wts, F_prev, q_prev, rho, fix_q, e)
    v_c = violation(F_c, q_c)
    s0 = _State(Fx=F_c, qx=q_c, y=y0, F=F_c, q=q_c, obj=objective(F_c, q_c), viol=v_c,
                delta=jnp.asarray(jnp.inf, rdt), vx=v_c)

    def feasible(s):
        return s.viol <= feas_tol

    def done(s):
        return feasible(s) & (s.vx <= feas_tol) & (s.delta <= tol)

    def step(s: _State) -> _State:
        lam = s.y / e
        A, B = assemble(bl, wts, lam, F_prev, rho)
        # gradient (up to the factor 2 folded into alpha): A_j f_j - b_j
        G0 = A[0] @ s.Fx[:, :K] - B[0][:, :K]  # [Nt, K]
        Gs = jnp.einsum("inm,mi->ni", A[1:], s.Fx[:, K:]) - B[1:, :, 0].T  # [Nt, T]
        G = jnp.concatenate([G0, Gs], axis=1)
        lip = jnp.max(jnp.sqrt(jnp.sum(jnp.abs(A) ** 2, axis=(1, 2))))
        Fn = s.Fx - G / lip
        re, im = projection_l2_ball((jnp.real(Fn), jnp.imag(Fn)), radius)
        Fn = (re + 1j * im).astype(s.Fx.dtype)
        if fix_q:
            qn = s.qx
        else:
            qn = projection_box(q_update(prob, bl, co, wts, lam, q_prev, rho), 0.0, qmax)
        g = _qos(prob, co, Fn, qn) / e - 1.0
        y = projection_non_negative(s.y + dual_step * jnp.where(jnp.isfinite(g), g, 0.0))
        # safeguard: pull the iterate back toward the best feasible point
        anchor_ok = feasible(s)
        Fm, qm = 0.5 * (s.F + Fn), 0.5 * (s.q + qn)
        th = _max_feasible_fraction(_qos(prob, co, s.F, s.q), _qos(prob, co, Fm, qm),
                                    _qos(prob, co, Fn, qn), e)
        th = jnp.where(anchor_ok, th, 1.0)
        Fc, qc = s.F + th * (Fn - s.F), s.q + th * (qn - s.q)
        oc, vc = objective(Fc, qc), violation(Fc, qc)
        ok_c = (vc <= feas_tol) & jnp.isfinite(oc)
        take = jnp.where(anchor_ok, ok_c & (oc <= s.obj), ok_c | (vc < s.viol))
        obj = jnp.where(take, oc, s.obj)
        move = ((jnp.sum(jnp.abs(Fn - s.Fx) ** 2) + (qn - s.qx) ** 2) / prob.p_bs
                + jnp.sum((y - s.y) ** 2) / jnp.maximum(jnp.sum(y ** 2), 1.0))
        return _State(Fx=Fn, qx=qn, y=y, F=jnp.where(take, Fc, s.F), q=jnp.where(take, qc, s.q),
                      obj=obj, viol=jnp.where(take, vc, s.viol),
                      delta=move, vx=jnp.max(g))

    res = masked_scan(step, done, s0, n_iter, mode=loop_mode)
    s = res.state
    return TransmitResult(F=s.F, q=s.q, lam=s.y, nu=jnp.zeros((), rdt), converged=res.converged,
                          feasible=feasible(s), iterations=res.iterations, objective=s.obj,
                          dual_bound=jnp.asarray(-jnp.inf, rdt))
