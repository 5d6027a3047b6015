"""Transmit step (43) of one ISTN cell by a projected Newton method on its dual.

Same problem, Lagrangian and safeguard as ``transmit_dual`` (``transmit_lagrangian``, spec istn.md §3.3/§3.6); only
the multiplier update differs.  The dual function

    d(y, nu) = min_{F, q} L(F, q; y, nu),   y [1+T] normalised QoS multipliers, nu >= 0 power

has just 2 + T variables, and with rho > 0 it is twice differentiable with a Hessian that
costs one extra triangular solve per block, so a projected (Levenberg–Marquardt damped)
Newton ascent replaces the Barzilai–Borwein gradient ascent of ``transmit_dual``:
quadratic convergence instead of ~100 gradient steps from a cold start, and the power
multiplier is one of the Newton variables, so each iteration factors A_j + nu I once (the
BB method runs a Newton iteration on nu with ``n_newton`` + 1 factorisations per step).

Derivation (the block form of spec §3.3).  For one block j the Lagrangian is
f^H A_j(theta) f - 2 Re(b_j(theta)^H f) + c(theta), with A_j and b_j affine in every dual
variable theta; the minimiser is f_j = A_j^{-1} b_j and, by the envelope theorem and one
differentiation of A_j f_j = b_j,

    d d / d theta            = g_theta (constraint value at the minimiser; Danskin),
    d^2 d / d theta d theta' = -2 Re sum_j r_{j,theta}^H A_j^{-1} r_{j,theta'},
    r_{j,theta} = d b_j/d theta - (d A_j/d theta) f_j.

With lambda = y / e (``assemble``): d A/d y_S = S_m / e_S on every block, d A/d y_i =
P_i / e_R on every block plus D_i / e_R on sensing block i whose right-hand side gains
x_ii^H / e_R; d A/d nu = I.  The satellite amplitude is a scalar block
(a_q q^2 - 2 b_q q, ``q_update``) that adds -2 r_q r_q^T / a_q while q is inside its box.
With A_j = L_j L_j^H, W_j = L_j^{-1} R_j gives the Hessian as -2 Re sum_j W_j^H W_j.

Iteration (all branch-free, one evaluation of d per iteration so ``vmap`` stays exact):
propose theta + Delta with (-H_FF + mu diag(-H_FF) + tiny I) Delta_F = grad_F on the free
variables (a variable at its bound whose gradient pushes outward is held, Bertsekas'
projected Newton), project onto y in [0, y_max], nu >= floor; evaluate; accept if the dual
value does not drop (then mu /= 10), else keep the point and mu *= 10.  The gradient is
taken on the constraints tightened by ``margin`` times the feasibility tolerance (as
``transmit_dual`` does with half of it), so the primal iterates approach the optimum from
inside.  Every evaluated
minimiser goes through ``safeguarded_candidate`` (power projection, pull-back to the best
feasible point, accepted only if not worse), so with a feasible prox centre the step's output
is feasible and never worse than the centre.  ``init`` sets the first nu by ``n_newton``
Moré–Sorensen steps (``lagrangian_minimizer``) at the start multipliers.
"""
from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.lax.linalg import triangular_solve

from jaxcore.istn.problem import CellProblem
from jaxcore.loops import when
from jaxcore.istn.transmit_lagrangian import (N_NEWTON, SafeguardedDualStep, StepContext, TransmitResult,
                                              assemble, feasible_centre, lagrangian_minimizer, primal_upper_bound,
                                              prox_objective, q_clip, q_quadratic, qos_excess, qos_mses,
                                              run_transmit, safeguarded_candidate, scale_to_power, shift_floor)


class _Eval(NamedTuple):
    """The dual function and its derivatives at one (y, nu)."""

    dval: jax.Array  # []        d(y, nu) on the tightened constraints (the ascent objective)
    grad: jax.Array  # [2+T]     its gradient (y then nu)
    hess: jax.Array  # [2+T, 2+T] its Hessian (negative semidefinite)
    lower: jax.Array  # []       d(y, nu) on the true constraints (a valid lower bound)
    F: jax.Array  # [Nt, K+T]    Lagrangian minimiser
    q: jax.Array  # []
    floor: jax.Array  # []       smallest admissible nu at this y (``shift_floor``)


def _hessian(ctx: StepContext, Z, L, q, aq_free):
    """-2 Re sum_j r_j^H A_j^{-1} r_j over the blocks, plus the q block (module docstring).

    Z [1+T, Nt, Kp]: minimiser columns per block (sensing blocks use column 0, others 0);
    L [1+T, Nt, Nt]: Cholesky factors of A_j + nu I.  Returns [2+T, 2+T].
    """
    bl, co, e = ctx.bl, ctx.co, ctx.e
    T = bl.P.shape[0]
    J, Nt, Kp = Z.shape
    cdt = Z.dtype
    aZ = jnp.einsum("n,jnk->jk", co.a_sut, Z)  # [J, Kp]   a_S Z
    r_s = -jnp.conj(co.a_sut)[None, :, None] * aZ[:, None, :] / e[0]  # [J, Nt, Kp]
    r_r = -jnp.einsum("lnm,jmk->jlnk", bl.P, Z) / e[None, 1:, None, None]  # [J, T, Nt, Kp]
    own = jnp.einsum("lnm,lm->ln", bl.D, Z[1:, :, 0]) - bl.x_own  # [T, Nt]  D_i f_i - x_ii^H
    extra = jnp.zeros((J, T, Nt, Kp), cdt).at[1 + jnp.arange(T), jnp.arange(T), :, 0].set(-own / e[1:, None])
    R = jnp.concatenate([r_s[:, None], r_r + extra, -Z[:, None]], axis=1)  # [J, 2+T, Nt, Kp]
    R = jnp.moveaxis(R, 1, 2).reshape(J, Nt, (2 + T) * Kp)
    # one batched solve for all blocks, although a sensing block needs only its column 0: as two
    # independent batched solves (54 instead of 150 right-hand sides) XLA:CPU ran them concurrently and
    # jaxlib's LAPACK kernels, each waiting for its share of the same 2-thread pool, deadlocked
    # (jax::ParallelBatchMap in gdb, 2026-12-07; the same hazard as in transmit_lagrangian's docstring)
    Wm = triangular_solve(L, R, left_side=True, lower=True).reshape(J, Nt, 2 + T, Kp)
    H = -2.0 * jnp.real(jnp.einsum("jnak,jnbk->ab", jnp.conj(Wm), Wm))
    rq = jnp.concatenate([((jnp.real(co.b_sut) - jnp.abs(co.b_sut) ** 2 * q) / e[0])[None],
                          -co.c_rad * q / e[1:], jnp.zeros((1,), q.dtype)])
    return jnp.where(ctx.fix_q, H, H - aq_free * 2.0 * jnp.outer(rq, rq))  # P1: the q block


def evaluate(prob: CellProblem, ctx: StepContext, y, nu, rho: float, margin) -> _Eval:
    """Dual value, gradient and Hessian at (y, nu), nu raised to the factorisation floor;
    ``margin``: the constraints eps/e - 1 <= 0 are tightened to <= -margin."""
    bl, co, wts = ctx.bl, ctx.co, ctx.wts
    rdt = prob.p_bs.dtype
    K = bl.b_tut.shape[1]
    Nt = bl.HT.shape[0]
    lam = y / ctx.e
    A, B = assemble(bl, wts, lam, ctx.F_prev, rho)
    floor = jnp.asarray(shift_floor(A), rdt)
    nu = jnp.maximum(nu, floor)
    L = jnp.linalg.cholesky(A + nu * jnp.eye(Nt, dtype=A.dtype))
    W = triangular_solve(L, B, left_side=True, lower=True)
    Z = triangular_solve(L, W, left_side=True, lower=True, transpose_a=True, conjugate_a=True)
    F = jnp.concatenate([Z[0][:, :K], Z[1:, :, 0].T], axis=1)
    aq, bq = q_quadratic(bl, co, wts, lam, ctx.q_prev, rho)
    q_free = q_clip(prob, aq, bq)
    inside = (q_free > 0.0) & (q_free < jnp.sqrt(prob.p_leo))
    q = jnp.where(ctx.fix_q, ctx.q_prev, q_free)
    aq_free = jnp.where(inside & jnp.logical_not(ctx.fix_q), 1.0 / jnp.maximum(aq, jnp.finfo(rdt).tiny), 0.0)
    g = qos_mses(co, F, q) / ctx.e - 1.0
    n2 = jnp.sum(jnp.real(F) ** 2 + jnp.imag(F) ** 2)
    lower = prox_objective(ctx, F, q, rho) + jnp.dot(y, g) + nu * (n2 - prob.p_bs)
    gt = g + margin  # tightened constraints (module docstring)
    dval = lower + margin * jnp.sum(y)
    grad = jnp.concatenate([gt, (n2 - prob.p_bs)[None]])
    H = _hessian(ctx, Z, L, q, aq_free)
    ok = jnp.isfinite(dval) & jnp.all(jnp.isfinite(grad)) & jnp.all(jnp.isfinite(H))
    ninf = jnp.asarray(-jnp.inf, rdt)
    return _Eval(dval=jnp.where(ok, dval, ninf), grad=jnp.where(ok, grad, 0.0), hess=jnp.where(ok, H, 0.0),
                 lower=jnp.where(ok, lower, ninf), F=F, q=q, floor=floor)


class NewtonState(NamedTuple):
    y: jax.Array  # [1+T] accepted QoS multipliers
    nu: jax.Array  # []   accepted power multiplier
    ev: _Eval  # the dual at (y, nu)
    mu: jax.Array  # []   Levenberg–Marquardt damping
    F: jax.Array  # best (feasible) point (safeguard)
    q: jax.Array
    obj: jax.Array
    viol: jax.Array
    lower: jax.Array  # best dual bound
    k: jax.Array  # Newton iterations done
    upper: jax.Array  # []  ``primal_upper_bound``: lower > upper certifies infeasibility
    stall: jax.Array  # [] int32  iterations since the best point last changed


@dataclasses.dataclass(frozen=True)
class NewtonMethod(SafeguardedDualStep):
    """The projected Newton dual transmit step in ``init``/``step``/``done``/``result`` form
    (drop-in for ``transmit_dual.DualMethod``).  Static settings; hashable."""

    rho: float = 1e-4
    n_newton: int = N_NEWTON  # Moré–Sorensen steps for the first nu (``init``)
    feas_tol: float | None = None  # None: default_feas_tol(dtype)
    gap_tol: float = 1e-6
    y_max: float = 1e8
    mu0: float = 1e-6  # initial damping (relative to diag(-H))
    certify: bool = False  # stop once infeasibility is certified (``certified_infeasible``)
    stall_max: int = 3  # ... and the best point has not changed for this many iterations
    margin: float = 0.05  # constraint tightening, in units of the feasibility tolerance: the
    #                       Newton limit has eps/e - 1 = -margin*tol exactly, so a small margin
    #                       keeps it feasible while the dual bound of the true problem stays
    #                       within margin*tol*sum(y) of it (0.5, BB's margin, left a relative
    #                       gap ~1e-6 at multipliers ~10: measured, paper size)

    def _absorb(self, prob, ctx, s_F, s_q, s_obj, s_viol, ev: _Eval):
        """Safeguard: the evaluated minimiser, power-projected and pulled back."""
        take, Fc, qc, oc, vc = safeguarded_candidate(prob, ctx, s_F, s_q, s_obj, s_viol,
                                                     scale_to_power(ev.F, prob.p_bs), ev.q, self.rho,
                                                     self._tol(prob.p_bs.dtype))
        return (jnp.where(take, Fc, s_F), jnp.where(take, qc, s_q), jnp.where(take, oc, s_obj),
                jnp.where(take, vc, s_viol))

    def init(self, prob: CellProblem, ctx: StepContext, y0, nu0=None, loop_mode: str = "while") -> NewtonState:
        """Start at the multipliers ``y0`` [1+T] and the power multiplier ``nu0`` (a previous
        step's; if None or <= 0, ``n_newton`` Moré–Sorensen steps from 0 at ``y0``)."""
        rdt = prob.p_bs.dtype
        F_c, q_c = feasible_centre(prob, ctx)
        y0 = jnp.clip(jnp.asarray(y0, rdt), 0.0, self.y_max)
        nu0 = jnp.zeros((), rdt) if nu0 is None else jnp.asarray(nu0, rdt)

        def more_sorensen(prob, ctx, y0):
            return lagrangian_minimizer(prob, ctx.co, ctx.wts, y0, ctx.F_prev, ctx.q_prev, self.rho,
                                        jnp.zeros((), rdt), fix_q=ctx.fix_q, n_newton=self.n_newton,
                                        blocks=ctx.bl)[2]

        nu0 = when(jnp.logical_not(nu0 > 0.0), more_sorensen, nu0, prob, ctx, y0, mode=loop_mode)
        ev = evaluate(prob, ctx, y0, nu0, self.rho, self.margin * self._tol(rdt))
        F, q, obj, viol = self._absorb(prob, ctx, F_c, q_c, prox_objective(ctx, F_c, q_c, self.rho),
                                       qos_excess(ctx, F_c, q_c), ev)
        return NewtonState(y=y0, nu=jnp.maximum(nu0, ev.floor), ev=ev, mu=jnp.asarray(self.mu0, rdt), F=F, q=q,
                           obj=obj, viol=viol, lower=ev.lower, k=jnp.zeros((), jnp.int32),
                           upper=(primal_upper_bound(prob, ctx, self.rho) if self.certify
                                  else jnp.asarray(jnp.inf, rdt)), stall=jnp.zeros((), jnp.int32))

    def certified_infeasible(self, s: NewtonState):
        """The dual bound exceeds every feasible objective (``primal_upper_bound``): no point
        meets the QoS constraints at these receivers (weak duality).  With ``certify`` the
        step then stops once its least-infeasible point stalls for ``stall_max`` iterations
        (Phase I; in Phase II the prox centre is feasible and this never holds).  Off by
        default: measured (paper size, seed 0, drops 200-599, float64, 2-core CPU) the
        pipeline ran 290 -> 130 ms/drop but ended 8 -> 14 drops with a failed Phase I (mean
        sum rate 31.72 -> 31.71): the rest of the ascent toward y_max still helps Phase I.
        ``upper`` is +inf (never certified) unless ``certify``."""
        return s.lower > s.upper + 1e-6 * jnp.abs(s.upper)

    def done(self, s: NewtonState, cap):
        return super().done(s, cap) | (self.certified_infeasible(s) & (s.stall >= self.stall_max))

    def step(self, prob: CellProblem, ctx: StepContext, s: NewtonState) -> NewtonState:
        rdt = prob.p_bs.dtype
        tol = self._tol(rdt)
        theta = jnp.concatenate([s.y, s.nu[None]])
        n = theta.shape[0]
        lo = jnp.concatenate([jnp.zeros_like(s.y), s.ev.floor[None]])
        hi = jnp.concatenate([jnp.full_like(s.y, self.y_max), jnp.full((1,), jnp.inf, rdt)])
        G, M = s.ev.grad, -s.ev.hess
        held = ((theta <= lo) & (G <= 0.0)) | ((theta >= hi) & (G >= 0.0))
        free = jnp.logical_not(held)
        dg = jnp.diagonal(M)
        scale = jnp.maximum(jnp.max(jnp.where(free, dg, 0.0)), jnp.finfo(rdt).tiny)
        Mf = jnp.where(free[:, None] & free[None, :], M, 0.0)
        Mf = Mf + jnp.diag(jnp.where(free, s.mu * dg + jnp.finfo(rdt).eps * scale, 1.0))
        delta = jnp.where(free, jnp.linalg.solve(Mf, jnp.where(free, G, 0.0)), 0.0)
        delta = jnp.where(jnp.all(jnp.isfinite(delta)), delta, 0.0)
        trial = jnp.clip(theta + delta, lo, hi)
        ev = evaluate(prob, ctx, trial[:n - 1], trial[n - 1], self.rho, self.margin * tol)
        accept = ev.dval >= s.ev.dval - 1e-12 * jnp.abs(s.ev.dval)
        F, q, obj, viol = self._absorb(prob, ctx, s.F, s.q, s.obj, s.viol, ev)
        moved = (viol != s.viol) | (obj != s.obj)
        pick = lambda a, b: jnp.where(accept, a, b)  # noqa: E731
        return NewtonState(y=pick(trial[:n - 1], s.y), nu=pick(jnp.maximum(trial[n - 1], ev.floor), s.nu),
                           ev=jax.tree_util.tree_map(pick, ev, s.ev),
                           mu=jnp.clip(jnp.where(accept, s.mu * 0.1, s.mu * 10.0), 1e-12, 1e12),
                           F=F, q=q, obj=obj, viol=viol, lower=jnp.maximum(s.lower, ev.lower), k=s.k + 1,
                           upper=s.upper, stall=jnp.where(moved, 0, s.stall + 1).astype(jnp.int32))


def transmit_newton(prob: CellProblem, co, wts, F_prev, q_prev, *, rho=1e-4, y0=None, fix_q=False,
                    n_iter: int = 50, n_newton: int = N_NEWTON, feas_tol: float | None = None,
                    gap_tol: float = 1e-6, y_max: float = 1e8, loop_mode: str = "scan",
                    iter_cap=None, certify: bool = False) -> TransmitResult:
    """Transmit step (43) for ONE cell by the projected Newton dual method (module docstring);
    arguments as ``transmit_dual.transmit_dual`` (``n_iter``: Newton iterations; ``certify``:
    ``NewtonMethod.certify``)."""
    method = NewtonMethod(rho=float(rho), n_newton=n_newton, feas_tol=feas_tol, gap_tol=gap_tol,
                          y_max=y_max, certify=certify)
    return run_transmit(method, prob, co, wts, F_prev, q_prev, y0, n_iter, loop_mode, iter_cap, fix_q)
