"""What the dual transmit steps of (43) share, spec istn.md §3.3/§3.6: the closed-form
Lagrangian minimiser, the feasibility safeguard, the stopping test and the loop driver.

The multipliers are updated by a method object with ``init``/``step``/``done``/``result``:
the projected Newton method of ``transmit_newton`` (pipeline default), projected
Barzilai-Borwein ascent in ``transmit_dual`` (``strategy="dual"``, the cross-check), or the
projected gradient of ``transmit_pgd``.

Problem (receivers and weights fixed, q = sqrt(p_sat), prox centre (F-, q-)):

    min_{F, q}  sum_k mu~_k eps~_k + mu-bar eps-bar + rho ||F - F-||^2 + rho (q - q-)^2
    s.t.        eps-bar <= e_S,  eps_i <= e_R (i = 1..T),  ||F||_F^2 <= P_BS,  0 <= q <= sqrt(P_LEO)

(P3 mode: q fixed, no q-bound, no q-prox.)  For fixed multipliers the minimiser is closed
form (spec §3.3): columns f_j(nu) = (A_j + nu I)^{-1} b_j with 1 + T distinct matrices
(one shared by the TUT columns, one per sensing beam), the power multiplier nu from a
safeguarded Newton iteration on the secular equation 1/||F(nu)|| = 1/sqrt(P_BS)
(Moré–Sorensen form), warm-started from the previous dual iterate, using Cholesky factors
only (spec §3.6: batched complex ``eigh`` is slow/unreliable under jit on CPU; measured here
at 40x the cost of a Cholesky on a loaded 2-core machine),
and q by a clipped scalar formula.

Safeguard (spec §3.6): the step keeps the best *feasible* point seen (QoS violation
<= ``feas_tol``, power and q-box exact).  Every dual iterate's primal point is pulled back
onto the feasible set along the segment from the best feasible point (all constraints
are convex quadratics along a segment, so the largest feasible fraction is closed form)
and accepted if it is not worse.  With a feasible prox centre (every WMMSE iteration after
Phase I) the output is therefore feasible and never worse than the centre, which keeps the
WMMSE sum rate monotone.  ``converged`` means duality gap <= ``gap_tol`` relative.
Iterations (:func:`run_transmit`): fixed-length ``masked_scan`` (per-instance mask), so ``vmap`` is exact.
``iter_cap`` (traced) stops earlier: an inexact but safeguarded step for warm-started calls.

Default ``n_newton`` = ``N_NEWTON`` (see ``QosWmmseConfig.n_newton`` for the pipeline measurement).
Measured cost (paper size Nt=30 K=5 T=4 R=4 Nr=4 L=12, float64, 20 cells vmapped, 2-core
CPU shared with other jobs, load ~3): one step from y0 = 1 with n_iter=150, n_newton=8
(``while``; median 119 dual iterations, the batch runs 150): 65 ms/cell; with iter_cap=20:
8.8 ms/cell (but 1.2 % median objective gap from a cold start, hence only for warm starts);
cvxpy/Clarabel on the same instances: 86 ms/instance.  Per Newton step the 1+T batched
30x30 complex Cholesky factorisations cost ~22 us each and the triangular solves ~3.6 us
per right-hand-side column (the sensing blocks solve Kp = max(K, 1) columns of which one is
used).  An unpadded layout (one triangular solve for the K TUT columns, a second batched
one for the T single sensing columns) is ~15 % faster per Newton step but deadlocks the XLA
CPU runtime inside ``vmap``+``while`` (JAX 0.10.2: all threads idle in futex waits, 20 cells,
reproduced twice in isolation with two differently shaped ``triangular_solve`` calls in one
loop body), so the padded layout is kept.
Batched complex ``eigh`` measured 2.1 ms per 30x30 matrix (real 60x60 embedding: 0.36 ms),
i.e. ~100x / ~16x a Cholesky, so eigen-based (A_c + nu I)^-1 was not adopted.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.lax.linalg import triangular_solve

from jaxcore.istn.problem import CellProblem
from jaxcore.istn.wmmse import MseCoeffs, Weights, mses, weighted_mse
from jaxcore.loops import masked_scan

N_NEWTON = 3  # default Newton steps on the power multiplier per dual iteration (warm-started)


class TransmitResult(NamedTuple):
    F: jax.Array  # [Nt, K+T] c   best feasible beamformers (or least-infeasible if none)
    q: jax.Array  # [] r          satellite amplitude sqrt(p_sat)
    lam: jax.Array  # [1+T] r     normalised multipliers y (SUT, targets), warm start for next call
    nu: jax.Array  # [] r         power multiplier at the last dual iterate
    converged: jax.Array  # bool  duality gap <= gap_tol
    feasible: jax.Array  # bool   returned point meets every constraint (QoS to feas_tol)
    iterations: jax.Array  # int32 dual iterations used
    objective: jax.Array  # []    objective of (43) with prox at (F, q)
    dual_bound: jax.Array  # []   best dual lower bound found


class _Blocks(NamedTuple):
    """Fixed (multiplier-independent) pieces of the Lagrangian (spec §3.3)."""

    HT: jax.Array  # [Nt, Nt]  sum_k mu_k a_k^H a_k
    Sm: jax.Array  # [Nt, Nt]  a_S^H a_S
    P: jax.Array  # [T, Nt, Nt] x_S,i^H x_S,i + sum_l c_il^H c_il  (all columns)
    D: jax.Array  # [T, Nt, Nt] sum_t x_it^H x_it - x_S,i^H x_S,i (own sensing column)
    b_tut: jax.Array  # [Nt, K]  mu_k a_k^H
    x_own: jax.Array  # [T, Nt]  x_ii^H
    aq0: jax.Array  # []  sum_k mu_k c_k (q^2 coefficient from TUTs)


def _outer(x):
    """sum over leading rows of x^H x: [..., m, n] -> [..., n, n]."""
    return jnp.einsum("...mn,...mo->...no", jnp.conj(x), x)


def _blocks(co: MseCoeffs, wts: Weights) -> _Blocks:
    T = co.x_sum.shape[0]
    Px = _outer(co.x_sum[:, None, :])  # [T, Nt, Nt]
    return _Blocks(
        HT=_outer(jnp.sqrt(wts.mu_tut)[:, None].astype(co.a_tut.dtype) * co.a_tut),
        Sm=_outer(co.a_sut[None, :]),
        P=Px + _outer(co.c_cl),
        D=_outer(co.x_tar) - Px,
        b_tut=(wts.mu_tut[:, None] * jnp.conj(co.a_tut)).T,
        x_own=jnp.conj(co.x_tar[jnp.arange(T), jnp.arange(T)]),
        aq0=jnp.dot(wts.mu_tut, co.c_tut))


def bounds(prob: CellProblem, T: int):
    return jnp.concatenate([prob.e_sut[None], jnp.full((T,), prob.e_rad)])


def assemble(bl: _Blocks, wts: Weights, lam, F_prev, rho):
    """Column matrices and right-hand sides of the Lagrangian (spec §3.3) for effective
    MSE multipliers ``lam`` = (lambda_S, lambda_1..T).

    Returns ``A`` [1+T, Nt, Nt] (block 0: TUT columns, block 1+i: sensing column K+i) and
    ``B`` [1+T, Nt, max(K,1)] (sensing blocks use column 0, the rest is zero); the
    Lagrangian is sum_j f_j^H A_j f_j - 2 Re(b_j^H f_j) + const.
    """
    Nt, K = bl.b_tut.shape
    T = bl.P.shape[0]
    cdt = F_prev.dtype
    lam_s, lam_r = lam[0], lam[1:]
    eye = jnp.eye(Nt, dtype=cdt)
    # [Nt, Nt]
    A_c = (bl.HT + (wts.mu_sut + lam_s) * bl.Sm + jnp.einsum("i,inm->nm", lam_r, bl.P).astype(cdt)
           + rho * eye)
    # [1+T, Nt, Nt]
    A = jnp.concatenate([A_c[None], A_c[None] + lam_r[:, None, None] * bl.D], axis=0)
    A = 0.5 * (A + jnp.conj(jnp.swapaxes(A, -1, -2)))
    Kp = max(K, 1)
    B0 = jnp.zeros((Nt, Kp), cdt).at[:, :K].set(bl.b_tut + rho * F_prev[:, :K])
    Bs = lam_r[:, None] * bl.x_own + rho * F_prev[:, K:].T  # [T, Nt]
    Bs = jnp.zeros((T, Nt, Kp), cdt).at[:, :, 0].set(Bs)
    return A, jnp.concatenate([B0[None], Bs], axis=0)


def q_quadratic(bl: _Blocks, co: MseCoeffs, wts: Weights, lam, q_prev, rho):
    """(a_q, b_q) of the Lagrangian's satellite-amplitude term a_q q^2 - 2 b_q q (§3.3)."""
    aq = (bl.aq0 + (wts.mu_sut + lam[0]) * jnp.abs(co.b_sut) ** 2
          + jnp.dot(lam[1:], co.c_rad) + rho)
    bq = (wts.mu_sut + lam[0]) * jnp.real(co.b_sut) + rho * q_prev
    return aq, bq


def q_clip(prob: CellProblem, aq, bq):
    """Minimiser b_q / a_q of a_q q^2 - 2 b_q q clipped to [0, sqrt(P_LEO)] (§3.3)."""
    return jnp.clip(bq / jnp.maximum(aq, jnp.finfo(prob.p_bs.dtype).tiny), 0.0, jnp.sqrt(prob.p_leo))


def q_update(prob: CellProblem, bl: _Blocks, co: MseCoeffs, wts: Weights, lam, q_prev, rho):
    """Closed-form satellite amplitude of the Lagrangian, clipped to [0, sqrt(P_LEO)] (§3.3)."""
    return q_clip(prob, *q_quadratic(bl, co, wts, lam, q_prev, rho))


def shift_floor(A):
    """Smallest power multiplier nu the Cholesky factorisation of A + nu I may use (spec §3.6).

    0 in float64.  In float32, eps * max_j tr(A_j): forming A and factoring it perturb its
    eigenvalues by ~eps ||A||, and noise-normalised blocks reach ||A|| ~ 4e6 (a WMMSE weight
    1 + SINR ~ 3e4 on a strong BS -> SUT link) while the prox adds only rho = 1e-4, so at nu = 0
    the float32 factorisation fails (measured: assembled A_j had eigenvalues down to -0.05)
    and NaN stalled the whole transmit step (the multipliers froze; Phase II returned the
    prox centre, Phase I ran out its iterations).  F(nu) at nu >= floor is still the exact
    Lagrangian minimiser for that nu (a valid dual point), so the dual bound stays valid.
    Measured (pipeline, paper size, 1 cell per drop, float32, 2-core CPU): seed 0, 32 drops:
    708 -> 220 ms/drop, QoS-infeasible drops 3 -> 0, mean sum rate 24.36 -> 26.51 (float64:
    246 ms, 26.92, none infeasible; float64 with rho 1e-4 -> 1.0001e-4 gives 26.65: single
    drops flip between WMMSE fixed points); seed 2, 16 drops: 494 -> 214 ms, 1 -> 0, 28.17 ->
    29.79 (float64 29.82).
    """
    if A.real.dtype == jnp.float64:
        return 0.0
    tr = jnp.real(jnp.trace(A, axis1=-2, axis2=-1))
    return jnp.finfo(A.real.dtype).eps * jnp.max(tr)


def lagrangian_minimizer(prob: CellProblem, co: MseCoeffs, wts: Weights, y, F_prev, q_prev,
                         rho, nu0, *, fix_q=False, n_newton: int = N_NEWTON, blocks=None):
    """Closed-form minimiser of the Lagrangian of (43) for QoS multipliers ``y`` [1+T]
    (normalised: lambda = y / e), spec §3.3.

    Returns ``(F_raw, q, nu)``: F_raw = F(nu) before any rescaling (the exact Lagrangian
    minimiser for the returned nu >= ``shift_floor(A)``, 0 in float64; ||F_raw||^2 ~= P_BS
    when the power bound binds).
    """
    bl = _blocks(co, wts) if blocks is None else blocks
    K = bl.b_tut.shape[1]
    cdt = F_prev.dtype
    Nt = bl.HT.shape[0]
    eye = jnp.eye(Nt, dtype=cdt)
    lam = y / bounds(prob, bl.P.shape[0])
    A, B = assemble(bl, wts, lam, F_prev, rho)
    P = prob.p_bs
    tiny = jnp.finfo(P.dtype).tiny

    def solve(nu):
        Lc = jnp.linalg.cholesky(A + nu * eye)
        W = triangular_solve(Lc, B, left_side=True, lower=True)
        Z = triangular_solve(Lc, W, left_side=True, lower=True, transpose_a=True, conjugate_a=True)
        return Lc, Z

    def abs2sum(x):
        return jnp.sum(jnp.real(x) ** 2 + jnp.imag(x) ** 2)

    nu_hi = jnp.sqrt(abs2sum(B) / P)  # ||f_j(nu)|| <= ||b_j||/nu since A_j >= 0

    def newton(carry, _):
        # safeguarded Newton on 1/||F(nu)|| = 1/sqrt(P) (Moré–Sorensen); bracket [lo, hi];
        # d||F||^2/dnu = -2 sum_j ||L_j^{-1} f_j||^2
        nu, lo, hi = carry
        Lc, Z = solve(nu)
        n2 = abs2sum(Z)
        d3 = abs2sum(triangular_solve(Lc, Z, left_side=True, lower=True))
        # a failed factorisation (non-finite) means A + nu I is numerically indefinite: nu too small
        over = (n2 > P) | jnp.logical_not(jnp.isfinite(n2))
        lo = jnp.where(over, nu, lo)
        hi = jnp.where(over, hi, nu)
        nu_n = nu + (n2 / jnp.maximum(d3, tiny)) * (jnp.sqrt(n2) - jnp.sqrt(P)) / jnp.sqrt(P)
        bad = (nu_n <= lo) | (nu_n >= hi) | jnp.logical_not(jnp.isfinite(nu_n))
        # below the bracket with lo at the floor: try nu = floor (the power bound may be slack)
        nu_n = jnp.where(bad, jnp.where((lo == nu_lo) & (nu_n <= lo), nu_lo, 0.5 * (lo + hi)), nu_n)
        nu_n = jnp.where((nu == nu_lo) & jnp.logical_not(over), nu_lo, nu_n)
        return (nu_n, lo, hi), None

    nu_lo = shift_floor(A)
    nu_hi = jnp.maximum(nu_hi, nu_lo)
    nu0 = jnp.clip(jnp.asarray(nu0, P.dtype), nu_lo, nu_hi)
    (nu, _, _), _ = jax.lax.scan(newton, (nu0, jnp.asarray(nu_lo, P.dtype), nu_hi), None, length=n_newton)
    _, Z = solve(nu)
    F = jnp.concatenate([Z[0][:, :K], Z[1:, :, 0].T], axis=1)
    q = jnp.where(fix_q, jnp.asarray(q_prev, P.dtype), q_update(prob, bl, co, wts, lam, q_prev, rho))
    return F, q, nu


def scale_to_power(F, p_bs):
    """Radial projection onto ||F||_F^2 <= P_BS (optax-style projection_l2_ball)."""
    n2 = jnp.sum(jnp.real(F) ** 2 + jnp.imag(F) ** 2)
    return F * jnp.minimum(1.0, jnp.sqrt(p_bs / jnp.maximum(n2, jnp.finfo(p_bs.dtype).tiny)))


def qos_mses(co, F, q):
    _, e_s, e_r = mses(co, F, q)
    return jnp.concatenate([e_s[None], e_r])


def max_feasible_fraction(c, m, o, e):
    """Largest theta in [0,1] with phi(theta) <= e for the convex quadratic phi through
    phi(0)=c, phi(1/2)=m, phi(1)=o (elementwise, then min)."""
    d1, dh = o - c, m - c
    a = jnp.maximum(2.0 * d1 - 4.0 * dh, 0.0)
    b = d1 - a
    d = jnp.maximum(e - c, 0.0)
    disc = jnp.sqrt(jnp.maximum(b * b + 4.0 * a * d, 0.0))
    tiny = jnp.finfo(c.dtype).tiny
    th_pos = 2.0 * d / jnp.maximum(b + disc, tiny)  # b > 0: stable root
    th_neg = jnp.where(a > tiny, (-b + disc) / jnp.maximum(2.0 * a, tiny), 1.0)  # b <= 0
    th = jnp.where(o <= e, 1.0, jnp.where(b > 0, th_pos, th_neg))
    return jnp.clip(jnp.min(th), 0.0, 1.0)


class StepContext(NamedTuple):
    """What one transmit step (43) holds fixed while its multipliers move (both strategies)."""

    co: MseCoeffs  # receiver-projected MSE coefficients
    wts: Weights  # (scaled) WMMSE weights
    bl: _Blocks  # multiplier-independent Lagrangian blocks
    F_prev: jax.Array  # [Nt, K+T] c prox centre
    q_prev: jax.Array  # [] r       prox centre (the fixed q in P3 mode)
    e: jax.Array  # [1+T] r         MSE bounds (e_S, e_R, ..., e_R)
    fix_q: jax.Array  # [] bool     q held at q_prev (P3, eq. (45)) instead of free in [0, sqrt(P_LEO)]
    #                               (P1, eq. (26)): data, not a compile-time switch, so one
    #                               compiled program serves both problems


def step_context(prob: CellProblem, co: MseCoeffs, wts: Weights, F_prev, q_prev, fix_q=False) -> StepContext:
    """The fixed data of one transmit step; ``fix_q`` a bool or a traced [] bool."""
    rdt = prob.p_bs.dtype
    return StepContext(co=co, wts=wts, bl=_blocks(co, wts), F_prev=F_prev, q_prev=jnp.asarray(q_prev, rdt),
                       e=bounds(prob, co.x_sum.shape[0]), fix_q=jnp.asarray(fix_q, bool))


def prox_objective(ctx: StepContext, F, q, rho):
    """Objective of (43): weighted MSE + prox around (F-, q-) (no q-prox in P3 mode)."""
    o = weighted_mse(ctx.co, ctx.wts, F, q) + rho * jnp.sum(jnp.abs(F - ctx.F_prev) ** 2)
    return jnp.where(ctx.fix_q, o, o + rho * (q - ctx.q_prev) ** 2)


def primal_upper_bound(prob: CellProblem, ctx: StepContext, rho):
    """An upper bound U on the objective of (43) over {||F||^2 <= P_BS, 0 <= q <= sqrt(P_LEO)}.

    The objective is the Lagrangian at zero multipliers: obj(0, q0) + sum_j f_j^H A_j f_j
    - 2 Re b_j^H f_j + (a_q q^2 - 2 b_q q - the same at q0) (``assemble``/``q_quadratic`` at
    lambda = 0), so with tr(A_j) >= lambda_max(A_j) (A_j is PSD) and Cauchy-Schwarz,
    U = obj(0, q0) + max_j tr(A_j) P_BS + 2 ||B||_F sqrt(P_BS) + max over the q-box.  If (43)
    is feasible its optimum is <= U, so a dual value above U certifies that the QoS
    constraints cannot be met at these receivers (weak duality; ``NewtonMethod(certify=True)``
    stops there).
    """
    rdt = prob.p_bs.dtype
    lam0 = jnp.zeros_like(ctx.e)
    A, B = assemble(ctx.bl, ctx.wts, lam0, ctx.F_prev, rho)
    q0 = jnp.where(ctx.fix_q, ctx.q_prev, jnp.zeros((), rdt))
    u = prox_objective(ctx, jnp.zeros_like(ctx.F_prev), q0, rho)
    lmax = jnp.max(jnp.real(jnp.trace(A, axis1=-2, axis2=-1)))
    bnorm = jnp.sqrt(jnp.sum(jnp.real(B) ** 2 + jnp.imag(B) ** 2))
    u = u + lmax * prob.p_bs + 2.0 * bnorm * jnp.sqrt(prob.p_bs)
    aq, bq = q_quadratic(ctx.bl, ctx.co, ctx.wts, lam0, ctx.q_prev, rho)
    return jnp.where(ctx.fix_q, u, u + jnp.maximum(aq * prob.p_leo - 2.0 * bq * jnp.sqrt(prob.p_leo), 0.0))


def qos_excess(ctx: StepContext, F, q):
    """Normalised QoS violation max_c (eps_c / e_c - 1) (<= 0 when feasible)."""
    return jnp.max(qos_mses(ctx.co, F, q) / ctx.e - 1.0, initial=-1.0)


def feasible_centre(prob: CellProblem, ctx: StepContext):
    """The prox centre made power/box-feasible: both strategies' first candidate."""
    F_c = scale_to_power(ctx.F_prev, prob.p_bs)
    q_c = jnp.where(ctx.fix_q, ctx.q_prev, jnp.clip(ctx.q_prev, 0.0, jnp.sqrt(prob.p_leo)))
    return F_c, q_c


def default_feas_tol(dtype) -> float:
    """Allowed normalised QoS violation: 1e-6 in float64, 1e-4 in float32."""
    return 1e-6 if dtype == jnp.float64 else 1e-4


def safeguarded_candidate(prob, ctx: StepContext, F_best, q_best, obj_best, viol_best, F_new, q_new,
                          rho, feas_tol):
    """Safeguard shared by both strategies (spec §3.6): pull (F_new, q_new) back toward the
    best feasible point along the segment (largest feasible fraction, closed form for convex
    quadratic constraints) and report whether it replaces the best point.

    Returns ``(take, F_c, q_c, obj_c, viol_c)``.
    """
    anchor_ok = viol_best <= feas_tol
    Fm, qm = 0.5 * (F_best + F_new), 0.5 * (q_best + q_new)
    th = max_feasible_fraction(qos_mses(ctx.co, F_best, q_best), qos_mses(ctx.co, Fm, qm),
                                qos_mses(ctx.co, F_new, q_new), ctx.e)
    th = jnp.where(anchor_ok, th, 1.0)
    Fc = F_best + th * (F_new - F_best)
    qc = q_best + th * (q_new - q_best)
    oc, vc = prox_objective(ctx, Fc, qc, rho), qos_excess(ctx, Fc, qc)
    ok_c = (vc <= feas_tol) & jnp.isfinite(oc)
    take = jnp.where(anchor_ok, ok_c & (oc <= obj_best), ok_c | (vc < viol_best))
    return take, Fc, qc, oc, vc


class SafeguardedDualStep:
    """What both dual transmit steps share (``DualMethod`` here, ``NewtonMethod`` in
    ``transmit_newton``): the stopping test and the result of a state with fields
    y, nu, F, q, obj, viol, lower, k.  Needs ``feas_tol`` and ``gap_tol`` attributes."""

    def _tol(self, dtype):
        return default_feas_tol(dtype) if self.feas_tol is None else self.feas_tol

    def gap_ok(self, s):
        """Feasible best point and relative duality gap <= ``gap_tol``."""
        gap = s.obj - s.lower
        return (s.viol <= self._tol(s.obj.dtype)) & (gap <= self.gap_tol * jnp.maximum(jnp.abs(s.obj), 1.0))

    def done(self, s, cap):
        return self.gap_ok(s) | (s.k >= cap)

    def result(self, s) -> TransmitResult:
        return TransmitResult(F=s.F, q=s.q, lam=s.y, nu=s.nu, converged=self.gap_ok(s),
                              feasible=s.viol <= self._tol(s.obj.dtype), iterations=s.k, objective=s.obj,
                              dual_bound=s.lower)


def run_transmit(method, prob: CellProblem, co: MseCoeffs, wts: Weights, F_prev, q_prev, y0=None,
                 n_iter: int = 100, loop_mode: str = "scan", iter_cap=None, fix_q=False) -> TransmitResult:
    """One whole transmit step (43) with a ``DualMethod``/``PgdMethod``/``NewtonMethod``:
    ``init``, then up to ``n_iter`` (or the traced ``iter_cap``) iterations in a
    ``masked_scan``; ``fix_q`` (bool or traced [] bool): q held at ``q_prev`` (P3)."""
    ctx = step_context(prob, co, wts, F_prev, q_prev, fix_q)
    T = co.x_sum.shape[0]
    y0 = jnp.ones((1 + T,), prob.p_bs.dtype) if y0 is None else y0
    cap = n_iter if iter_cap is None else jnp.minimum(iter_cap, n_iter)
    res = masked_scan(lambda s: method.step(prob, ctx, s), lambda s: method.done(s, cap),
                      method.init(prob, ctx, y0), n_iter, mode=loop_mode)
    return method.result(res.state)
