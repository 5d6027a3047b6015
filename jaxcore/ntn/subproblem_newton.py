"""Barrier (interior-point) Newton solver for the JMRA subproblem (31)-(33), NTN paper §V-C.

Why not a first-order method.  In the normalised units of :mod:`jaxcore.ntn.jmra`
(share ``y``, kbit/s, ``eps`` = 1e-3 kbit/s) the curvature of ``-a_c log(eps + g_c.y_c)``
spans ``a g^2/t^2`` from ~1 (served cell) to ~1e12 (``t ~ eps``), and the penalty adds
``mu_c w w^T`` with ``w`` up to ``1/delta = 1e3`` and ``mu`` growing by ``rho`` per outer
iteration.  Projected FISTA (the previous default, kept as ``inner="fista"``) then needs
far more iterations than affordable, and its movement-based stop fires while the iterate
is still far from optimal: measured on the 150-cell continental frame, Algorithm 1 landed
10 % below the cvxpy-driven loop on objective (25), and on the 600-cell frame it left most
cells unserved (Jain 0.005).  A Newton method is insensitive to that scaling.

Structure that makes Newton cheap.  Keep the slack ``xi`` of (30) explicit (the penalty
``lam h + mu/2 h^2`` with ``h = w.y + xi - 1`` is then smooth, exactly the cvxpy model) and
use the log barrier of (32a), (32c), (32e).  The Newton matrix is

    H = blockdiag_c( D_c + U_c U_c^T ) + sum_s beta_s e_s e_s^T

with ``D_c`` diagonal (box and xi barriers), ``U_c`` two columns per cell
(``sqrt(tau a_c)/t_c [g_c; 0]`` from the log and ``sqrt(tau mu_c) [w_c; 1]`` from the penalty)
and one rank-one term per satellite budget (``e_s`` = live pairs of column ``s``).  Woodbury
twice (:func:`kkt_solver`): per cell a 2x2 system, then one dense S x S system
``I + B^1/2 (sum_c [H_c^-1]_yy) B^1/2``, assembled with one matrix product, O(C S^2 + S^3)
per Newton step and no sparse factorisation, batched by ``vmap``.  On a CPU a float64 division
costs more than the rest of an elementwise pass over the pairs, so each reciprocal
(``1/y``, ``1/(1-y)``, ``1/D``) is formed once per step and multiplied, and the two bounds of
``y`` (and of its multipliers) share one fraction-to-the-boundary reduction: 59 -> 44.5 us per
Newton step at C = 100, S = 12 under ``vmap`` (2-core x86_64 CPU, 2026-12-06).  Reciprocals
carried from one step to the next cost more than they save under ``vmap`` (a batched
``while`` selects every carried array each iteration; measured 68 us).

Layout.  Inside the solver the pair arrays are [S, C] (cells on the minor axis), transposed
once on entry to and exit from :func:`solve_subproblem_barrier`; the rest of the package and
:func:`kkt_solver` keep [C, S].  XLA:CPU vectorises along the minor axis, and with the S = 12
satellites there a pass over the pairs cost about three times a pass over the same 1,200 numbers
with the C = 100 cells there (jitted loops on a 2-core x86_64 CPU, 2026-12-07: a multiply-add
0.45 against 0.14 us, with a division and a select 1.6 against 0.45 us, per-cell sums 0.75 against
0.24 us).  The S x S product of :func:`kkt_factor` contracts the minor axis of one [S, 2C]
matrix with itself, which needs no layout copy (a [2, S, C] contraction made XLA copy both
operands).  Together: 60 -> 42 us per Newton step at C = 100, S = 12 (kernel time over Newton
steps, 8 frames, same CPU and day), 250 -> 164 us at C = 400.

Iterative refinement (``refine=1``, float64).  Near an active satellite budget the slack
falls to 1e-7..1e-9 and its weight ``beta`` to 1e13..1e18; the Woodbury solve then forms
``sum_c [H_c^-1]_yy`` and ``x0 - H0^-1 E nu`` by cancellation and loses the budget rows (how
much of each budget the step uses), the very rows that set the step to the budget boundary.
Measured on 8 fresh synthetic 100 x 12 frames without refinement: 895 of 2,223 Newton steps
(40 %) were shorter than 0.05, 889 of them stopped by a budget, and at the first step of 15 of
32 such runs checked a dense pivoted solve of the same system allowed at least twice our
step (``benchmarks/jmra_newton_steps.py``, results/jmra_newton_steps/).
One round of refinement on the augmented system ``H0 d + E nu = r``, ``E^T d = nu / beta``
(residuals in which no ``beta`` multiplies a rounding error) brings the budget rows of the
step within 5e-6..4e-2 of the budget slack against an exact rational solve, from 1.6-14
slacks off (tests/jaxcore/ntn/test_kkt_refinement.py); other entries of the step may lose
up to two digits, which the line search absorbs, and a second round diverged on some
systems.  Under the stage rules below (a stall ends the stage) refinement also keeps the
stalls genuine: without it, Algorithm 1 took up to 5 more outer iterations than the
cvxpy-driven loop (``reference.ntn_jmra``) on 2 of 30 small random instances (C = 10, S = 4,
seeds 0-29), with it the same number on all 30.  float32 keeps ``refine=0``: there
refinement lowered objective (25) further.  A round runs only where some budget weight
``sb^2`` is at least ``refine_weight`` (:func:`kkt_solve`; JMRA's default 1e8): the cancellation
costs the budget rows about log10 of that weight in digits, and refining only from 1e8 or 1e10
on gave the same outer iterations, Newton steps within 0.1 % and objective (25) within 3e-6
relative of refining every solve (8 synthetic 100 x 12 frames, seed 5), while from 1e14 on,
and without refinement, Algorithm 1 took more outer iterations.  Half the Newton steps there
have every weight below 1e8 (the early barrier stages); a round costs about a quarter of a
step, so a frame took 27-30 % less time (2-core x86_64 CPU, 2026-12-07, with the stage rule
below).

Primal-dual scaling (default ``scaling="primal-dual"``).  The barrier's own curvature
(``1/y^2 + 1/(1-y)^2``, ``1/xi^2``, ``1/slack^2``) is right only on the central path; after
each rise of ``tau`` it under-weights the bounds that the new path pulls toward, and the
primal method needed 10-18 damped steps per ``tau`` stage.  We carry multipliers ``z`` of the
bounds (scaled by ``tau``: ``z y = 1`` on the path), use ``z/y + z_u/(1-y)``, ``z_x/xi`` and
``z_b/slack`` in ``D_c`` and ``beta`` (the primal-dual Newton system of an interior-point
method, same structure), update ``z`` by the matching Newton step (0.99 to its boundary,
then clipped within a factor 1e10 of ``1/y``, IPOPT's safeguard) and keep ``z`` unchanged in
absolute terms when ``tau`` rises.  Measured on four default 600-cell frames (world seed 5):
4-5 steps per stage instead of 10-12.  ``scaling="primal"`` keeps the pure barrier Hessian;
float32 always uses it (measured: primal-dual in float32 ended 34 % below float64 on
objective (25) on a 600-cell frame (world seed 23, frame 3) and 100 % below on one of eight
synthetic 100 x 12 frames (seed 21); primal 0.2-0.7 % below on all of them).

Path following.  One damped Newton step per iteration on ``tau * F(y, xi) - barrier``;
step length = 0.99 x distance to the boundary, then backtracking (at most 30 trials).
float64: until the slope along the direction at the trial point is at most ``SLOPE_KAPPA``
(0.1) x the Newton decrement^2, a rejected trial moving to the secant zero of the slope
(clipped to [0.1, 0.9] x the rejected step; 20 % faster than halving on 100 x 12 frames) -- by convexity
``phi(al) <= phi(0) + al phi'(al)``, and on the quadratic model any such step decreases
``phi``; the slope costs one pass over the pairs and no logarithms (a barrier value per trial
cost ~40 % of a step).  float32 and ``scaling="primal"``: halving until Armijo holds or the slope is <= 0 (the
slope alone is too noisy in float32: measured, it let Algorithm 1 collapse on a random
instance).  ``tau`` is multiplied by ``tau_growth`` at the end of a stage, from ``tau0 = 1``
until the barrier duality-gap bound ``m / tau`` is at most ``gap`` (absolute, objective
units: ``inner_tol * C`` with ``m`` the number of barrier terms), and the iteration stops
there (the stop test is on the certified gap, not on iterate motion).  ``inner_tol`` is
raised to ~100 machine epsilons in float32.

When a stage ends (``centre_dec``, ``stall_step``).  A stage ends when the Newton decrement^2
of the last step is <= 0.5 (near the central path), when that step was a full one
(``al = 1``) with decrement^2 <= ``centre_dec`` (Newton is in its quadratic phase: the next
decrement is orders smaller, and the next stage's first step starts from there), or when the
step was no longer than ``stall_step`` (stalled: at a budget whose weight is 1e13 and above
the Newton system has lost the digits that would move the iterate; at ``tau_max`` this ends
the solve).  The last two stages (``tau * tau_growth >= tau_max``: the stage at ``tau_max`` and
the one before it) do not take the ``centre_dec`` shortcut: they are centred to 0.5 so that the
final iterate sits near the central path, i.e. near the analytic centre of the optimal face of
(31) (not a point: the objective sees ``y_c`` only through ``g.y_c`` and ``w.y_c``), not at a
point of that face that depends on the path.  Line 4 of Algorithm 1 compares consecutive
relaxed allocations, so a wandering point costs outer iterations: without the exception 9.75
outer iterations per default 600-cell frame (world seed 5, 4 frames), with it 8.75 (8.0 under
the former rule).  Centring a third stage as well (``tau * tau_growth^2 >= tau_max``) cost 11 %
more Newton steps (192 against 172 per synthetic frame, seed 5; 297 against 280 per default
600-cell frame, world seed 5) for the same outer iterations, objective (25) within 4e-6
relative.  The last digits of the relaxed allocation still follow the rounding of the program:
a one-process and a two-process run of the same frames
(tests/solvers/runner/test_distributed.py, XLA optimisation level 1) differ by 7e-6 of N_com in
it (by 0 under the former rule), with the same integer allocation.  With the former rule alone
(0.5, and only a zero step a stall) on 4 frames of ``random_frames(.., 100, 12, seed=5)``, 21 %
of all Newton steps came after a step shorter than 0.01 in the same stage -- stalls that went
on until a step of exactly zero -- and every stage spent one or two full steps only to certify
the decrement its last full step had already reached.  With ``centre_dec = 1000`` and
``stall_step = 0.01`` (float64, one refinement round): 292 -> 192 Newton steps and 17.4 -> 11.1
ms per synthetic frame (8 frames, seed 5), 0.68 -> 0.57 s per default 600-cell frame (world
seed 5), objective (25) within 0.0003 % of the former rule on both, every subproblem of
``tests/jaxcore/ntn/test_jmra.py`` within 1e-7 of Clarabel's optimum.  The function's defaults
(0.5, 0) keep the former rule; float32 keeps it (the new rules lost up to 1.2 % of objective
(25) there).
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg

from jaxcore.loops import cond_any, masked_scan


class BarrierState(NamedTuple):
    y: jax.Array  # [S, C] strictly inside (0, 1) on live pairs, 0 elsewhere
    xi: jax.Array  # [C] slack of (30), > 0
    tau: jax.Array  # barrier weight
    dec: jax.Array  # Newton decrement^2 of the last step
    zl: jax.Array  # [S, C] scaled multiplier of y >= 0 (tau x the multiplier; 1/y on the central path)
    zu: jax.Array  # [S, C] scaled multiplier of y <= 1
    zx: jax.Array  # [C] scaled multiplier of xi >= 0
    zb: jax.Array  # [S] scaled multiplier of the budgets (32c)


def _phi(y, xi, tau, g, w, a, lam, mu, eps_k, live, nb, sat_on):
    """tau * F(y, xi) - log barrier of (32a), (32c), (32e); +inf outside the domain."""
    t = eps_k + jnp.sum(g * y, axis=0)  # # [C]
    h = jnp.sum(w * y, axis=0) + xi - 1.0  # # [C]
    f = -jnp.sum(a * jnp.log(t)) + jnp.sum(lam * h + 0.5 * mu * h * h)
    ys = jnp.where(live, y, 0.5)
    slack = nb - jnp.sum(jnp.where(live, y, 0.0), axis=1)  # # [S]
    inside = jnp.all(ys > 0) & jnp.all(ys < 1) & jnp.all(xi > 0) & jnp.all(jnp.where(sat_on, slack > 0, True))
    bar = jnp.sum(jnp.where(live, jnp.log(ys) + jnp.log1p(-ys), 0.0)) + jnp.sum(jnp.log(xi)) \
        + jnp.sum(jnp.where(sat_on, jnp.log(jnp.where(sat_on, slack, 1.0)), 0.0))
    return jnp.where(inside, tau * f - bar, jnp.inf)


SLOPE_KAPPA = 0.1  # line search: accept a step whose slope along the direction is <= kappa x decrement^2
KAPPA_Z = 1e10  # multiplier safeguard: z within [c/kappa, kappa c] of its central value c (IPOPT's kappa_Sigma)


def _min_all(x):
    """``jnp.min(x)`` over every entry, as a halving tree of elementwise minima (the same
    value: a minimum does not round).  XLA:CPU emits a full min-reduction as one serial
    compare-and-select chain: 2.6-2.8 us over a [100, 12] float64 array against 0.5 us for
    this tree (2-core x86_64 CPU, 2026-12-06); two such reductions run per Newton step."""
    v = jnp.ravel(x)
    while v.shape[0] > 64:
        h = v.shape[0] // 2
        v = jnp.concatenate([jnp.minimum(v[:h], v[h:2 * h]), v[2 * h:]])
    return jnp.min(v)


def _ratio(v, dv):
    """Per entry, the step ``al`` at which ``v + al dv`` reaches 0 (inf where ``dv >= 0``)."""
    return jnp.where(dv < 0, -v / jnp.where(dv < 0, dv, -1.0), jnp.inf)


def _to_boundary(v, dv, where):
    """Largest step keeping ``v + al dv > 0`` over the entries in ``where`` (inf if none decrease)."""
    return _min_all(jnp.where(where, _ratio(v, dv), jnp.inf))


def _box_boundary(y, dy, where):
    """Largest step keeping ``0 < y + al dy < 1`` over the entries in ``where`` (inf if none
    move): both bounds from one division, by the room toward the bound that ``dy`` moves to."""
    room = jnp.where(dy < 0, y, 1.0 - y)
    ad = jnp.abs(dy)
    return _min_all(jnp.where(where & (ad > 0), room / jnp.where(ad > 0, ad, 1.0), jnp.inf))


def _pair_boundary(v1, d1, v2, d2, where):
    """``min(_to_boundary(v1, d1, where), _to_boundary(v2, d2, where))`` as one reduction."""
    return _min_all(jnp.where(where, jnp.minimum(_ratio(v1, d1), _ratio(v2, d2)), jnp.inf))


def _safeguard(z, c):
    """Clip the scaled multiplier ``z`` into ``[c / KAPPA_Z, KAPPA_Z c]`` (``c``: its central value)."""
    return jnp.clip(z, c / KAPPA_Z, KAPPA_Z * c)


def kkt_solver(dy, dx, u1y, u2y, u2x, sb, live):
    """:func:`kkt_factor` and :func:`kkt_solve` for pair arrays in the [C, S] layout of the rest
    of the package (``dy, u1y, u2y, live`` [C, S]); returns ``solve(ry, rx, refine=0) -> (dy, dxi)``
    taking and giving ``ry``/``dy`` [C, S]."""
    fac = kkt_factor(dy.T, dx, u1y.T, u2y.T, u2x, sb, live.T)

    def solve(ry, rx, refine: int = 0):
        vy, vx = kkt_solve(fac, ry.T, rx, refine)
        return vy.T, vx

    return solve


class KktFactor(NamedTuple):
    """The Newton matrix of (31)-(33) factored once by :func:`kkt_factor` ([S, C] layout)."""

    dy: jax.Array  # [S, C] the system (kkt_factor's arguments)
    dx: jax.Array  # [C]
    u1y: jax.Array  # [S, C]
    u2y: jax.Array  # [S, C]
    u2x: jax.Array  # [C]
    sb: jax.Array  # [S]
    live: jax.Array  # [S, C] bool
    idy: jax.Array  # [S, C] 1 / dy
    idx: jax.Array  # [C] 1 / dx
    p1y: jax.Array  # [S, C] P = D^-1 U, first column
    p2y: jax.Array  # [S, C] second column, y part
    p2x: jax.Array  # [C] second column, xi part
    k: jax.Array  # [4, C] K = I + U^T D^-1 U per cell: k11, k12, k22 and det K
    m_fac: tuple  # the S x S matrix M factored: (L,) Cholesky in float64, (lu, piv) in float32


def kkt_factor(dy, dx, u1y, u2y, u2x, sb, live) -> KktFactor:
    """Factor the Newton matrix of (31)-(33) once (pair arrays in the solver's [S, C] layout,
    module docstring "Layout").

    ``H = blockdiag_c(D_c + U_c U_c^T) + sum_s sb_s^2 e_s e_s^T`` with ``D_c = diag(dy_c, dx_c)``
    ([S, C] and [C]), ``U_c = [u1y_c, u2y_c; 0, u2x_c]`` (two columns per cell: the log term
    and the penalty) and ``e_s`` the live pairs of satellite ``s`` (budget (32c), ``sb`` [S]
    = sqrt of its weight).  Woodbury twice: per cell a 2 x 2 system
    (``H_c^-1 = D^-1 - P K^-1 P^T``, ``P = D^-1 U``, ``K = I + U^T D^-1 U``), then one dense
    S x S system ``M = I + B^1/2 (sum_c [H_c^-1]_yy) B^1/2``, factored once (Cholesky in
    float64, LU in float32).  O(C S^2 + S^3) to factor, O(C S + S^2) per solve
    (:func:`kkt_solve_aug`, :func:`kkt_refine`).
    """
    dt = dy.dtype
    S, C = dy.shape
    livef = live.astype(dt)
    idy, idx = 1.0 / dy, 1.0 / dx  # one division pass each (a float64 division costs more than the rest of a pass)
    p1y, p2y, p2x = u1y * idy, u2y * idy, u2x * idx
    k11 = 1.0 + jnp.sum(u1y * p1y, axis=0)  # # [C]
    k12 = jnp.sum(u1y * p2y, axis=0)
    k22 = 1.0 + jnp.sum(u2y * p2y, axis=0) + u2x * p2x
    det = k11 * k22 - k12 * k12
    # sum_c [H_c^-1]_yy = diag(sum_c live/dy) - sum_c Q_c K_c^-1 Q_c^T, Q_c = live x [p1y_c, p2y_c]
    if dt == jnp.float64:  # K_c^-1 = L_c L_c^T in closed form (2 x 2 Cholesky): one product P^T P
        a11 = jnp.sqrt(k22 / det)
        P = jnp.concatenate([(a11[None, :] * p1y - (k12 / (det * a11))[None, :] * p2y) * livef,
                             (p2y / jnp.sqrt(k22)[None, :]) * livef], axis=1)  # # [S, 2C]
        QKQ = jax.lax.dot_general(P, P, (((1,), (1,)), ((), ())))  # # [S, S]
    else:  # float32: the product form rounds worse (measured: Algorithm 1 collapsed on a frame)
        kinv = jnp.stack([jnp.stack([k22, -k12], -1), jnp.stack([-k12, k11], -1)], -2) / det[:, None, None]
        Q = jnp.stack([p1y * livef, p2y * livef], -1)  # # [S, C, 2]
        R = jnp.einsum("sci,cij->scj", Q, kinv)  # # [S, C, 2]
        QKQ = jnp.dot(R.reshape(S, 2 * C), Q.reshape(S, 2 * C).T)
    G = jnp.diag(jnp.sum(livef * idy, axis=1)) - QKQ
    M = jnp.eye(S, dtype=dt) + sb[:, None] * G * sb[None, :]  # # [S, S] symmetric, >= I
    if dt == jnp.float64:  # Cholesky: LAPACK calls only (LU's pivot-to-permutation is an S-step loop)
        m_fac = (jax.scipy.linalg.cho_factor(M, lower=True)[0],)
    else:  # float32: rounding can cost M its definiteness; LU does not need it
        m_fac = tuple(jax.scipy.linalg.lu_factor(M))
    return KktFactor(dy, dx, u1y, u2y, u2x, sb, live, idy, idx, p1y, p2y, p2x, jnp.stack([k11, k12, k22, det]), m_fac)


def _h0_inv(f: KktFactor, ry, rx):
    """H0^-1 [ry; rx] per cell (ry [S, C], rx [C]), H0 = blockdiag_c(D_c + U_c U_c^T)."""
    k11, k12, k22, det = f.k
    s1 = jnp.sum(f.p1y * ry, axis=0)
    s2 = jnp.sum(f.p2y * ry, axis=0) + f.p2x * rx
    c1 = (k22 * s1 - k12 * s2) / det
    c2 = (k11 * s2 - k12 * s1) / det
    return ry * f.idy - f.p1y * c1[None, :] - f.p2y * c2[None, :], rx * f.idx - f.p2x * c2


def kkt_solve_aug(f: KktFactor, ry, rx, q=None):
    """(d_y, d_xi, nu) solving ``H0 d + E nu = r``, ``E^T d - nu / sb^2 = q`` (q = 0 if None):
    the Newton system ``H d = r`` and the multipliers ``nu`` of its budget rows."""
    livef = f.live.astype(ry.dtype)
    x0y, x0x = _h0_inv(f, ry, rx)
    t = jnp.sum(livef * x0y, axis=1)  # # [S]
    v = f.sb * (t if q is None else t - q)
    if len(f.m_fac) == 1:
        z = jax.scipy.linalg.cho_solve((f.m_fac[0], True), v)  # # [S]
    else:
        z = jax.scipy.linalg.lu_solve(f.m_fac, v)
    cy, cx = _h0_inv(f, livef * (f.sb * z)[:, None], jnp.zeros_like(rx))
    return jnp.where(f.live, x0y - cy, 0.0), x0x - cx, f.sb * z


def kkt_refine(f: KktFactor, ry, rx, v):
    """One round of iterative refinement of ``v = (d_y, d_xi, nu)`` (:func:`kkt_solve_aug`) on the
    augmented system: residuals of ``H0 d + E nu = r`` and ``E^T d = nu / sb^2``, in which no
    budget weight multiplies a rounding error (unlike the residual of ``H d = r``)."""
    vy, vx, nu = v
    s1 = jnp.sum(f.u1y * vy, axis=0)  # # [C] U^T v, both columns
    s2 = jnp.sum(f.u2y * vy, axis=0) + f.u2x * vx
    ey = jnp.where(f.live, ry - f.dy * vy - f.u1y * s1[None, :] - f.u2y * s2[None, :] - nu[:, None], 0.0)
    ex = rx - f.dx * vx - f.u2x * s2
    sb2inv = jnp.where(f.sb > 0, 1.0 / jnp.where(f.sb > 0, f.sb * f.sb, 1.0), 0.0)  # # [S] 1 / budget weight
    cy, cx, cnu = kkt_solve_aug(f, ey, ex, nu * sb2inv - jnp.sum(f.live.astype(vy.dtype) * vy, axis=1))
    return vy + cy, vx + cx, nu + cnu


def kkt_solve(f: KktFactor, ry, rx, refine: int = 0, refine_weight=0.0):
    """``H^-1 [ry; rx]`` -> ``(d_y, d_xi)``, then ``refine`` rounds of :func:`kkt_refine`, each
    only where some budget weight ``sb^2`` is at least ``refine_weight`` (module docstring,
    "Iterative refinement"; 0: always).  A conditional round runs under
    ``vmap`` once if any instance of the batch needs it (:func:`jaxcore.loops.cond_any`) and
    each keeps its own result."""
    v = kkt_solve_aug(f, ry, rx)
    need = jnp.max(f.sb * f.sb) >= refine_weight
    for _ in range(refine):
        v = cond_any(need, kkt_refine, v, f, ry, rx, v)
    return v[0], v[1]


def solve_subproblem_barrier(g, w, a, lam, mu, eps_k, nb, live, y_init, max_iter: int,
                             gap_tol: float, tau_init=1.0, tau_growth: float = 20.0,
                             warm_mix: float = 1e-2, loop: str = "while", scaling: str = "primal-dual",
                             refine: int = 1, step_hook=None, centre_dec: float = 0.5, stall_step: float = 0.0,
                             refine_weight: float = 0.0):
    """Minimise F(y, xi) = -sum a log(eps + g.y) + sum(lam h + mu/2 h^2) over (32a), (32c), (32e).

    Args:
      g, w: [C, S] surrogate coefficients (29) and SCA weights (28); a, lam, mu: [C];
      eps_k: scalar; nb: [S] budgets (units of y); live: [C, S] bool pairs that may be > 0
      (upper bound 1), all others fixed at 0; y_init: [C, S] warm start (mixed with the
      analytic-centre-like point so the start is strictly interior).
      max_iter: Newton step cap; gap_tol: absolute duality-gap target (objective units).
      step_hook: ``None`` (default: nothing added to the program) or a host function called
        once per Newton step with a dict of arrays (``jax.debug.callback``): the barrier weight
        ``tau``, decrement ``dec``, fraction-to-the-boundary step ``amax``, accepted step ``al``,
        the boundary step of each bound (``box``, ``xi``, ``budget``), the budget ``slack``
        and the Newton system with its solution (``dy, dx, u1y, u2y, u2x, sb, live, gy, gx,
        ddy, ddx``: :func:`kkt_solver`'s arguments, right-hand side ``-(gy, gx)``), in step
        order.  Diagnostics only (``benchmarks/jmra_newton_steps.py``); call it on one
        unbatched instance (ordered callbacks do not batch).
      tau_init: starting barrier weight (1 = cold start from near the analytic centre; a
        larger value warm-starts the path at that tau with ``y_init`` mixed ``warm_mix`` toward
        the centre point).
      centre_dec: a full Newton step (``al = 1``) with decrement^2 <= ``centre_dec`` ends the
        barrier stage (besides decrement^2 <= 0.5); stall_step: a step of at most this length
        ends the stage, and the solve at ``tau_max`` (module docstring; 0.5 and 0 give the rule
        that only a zero step counts as a stall)
      refine_weight: the ``refine`` rounds run only where some budget weight is at least this
        (0: every Newton solve; :func:`kkt_solve`).

    Returns:
      ``(y [C, S], tau, iterations)``; ``y`` is strictly feasible for (32a), (32c) and 0 off
      ``live``; ``tau`` the final barrier weight.
    """
    dt = g.dtype
    if dt != jnp.float64:  # float32: primal-dual collapsed on 2 of 12 frames (-34 %, -100 % of (25))
        scaling = "primal"
    C, S = g.shape
    g, w, live, y_init = g.T, w.T, live.T, y_init.T  # the [S, C] layout (module docstring)
    livef = live.astype(dt)
    g = jnp.where(live, g, 0.0)
    w = jnp.where(live, w, 0.0)
    sat_on = jnp.any(live, axis=1)  # # [S]
    n_live = jnp.sum(livef, axis=1)
    phi = lambda y, xi, tau: _phi(y, xi, tau, g, w, a, lam, mu, eps_k, live, nb, sat_on)  # noqa: E731
    m = 2.0 * jnp.sum(livef) + C + jnp.sum(sat_on)  # barrier terms: gap bound m / tau
    tau_max = m / gap_tol
    # strictly interior start: the clipped/scaled warm start mixed with a centre point
    # (half/half from cold, 1 % when warm-started at a large tau)
    tau0 = jnp.clip(jnp.asarray(tau_init, dt), 1.0, tau_max)
    theta = jnp.where(tau0 > 1.0, warm_mix, 0.5)
    centre = jnp.minimum(0.5, 0.5 * nb / jnp.maximum(n_live, 1.0))  # # [S]
    yc = jnp.clip(y_init, 0.0, 1.0)
    scale = jnp.minimum(1.0, nb / jnp.maximum(jnp.sum(jnp.where(live, yc, 0.0), axis=1), 1e-30))
    y0 = jnp.where(live, (1.0 - theta) * yc * scale[:, None] + theta * centre[:, None], 0.0)
    # slack on the central path of the xi terms for this y: tau mu xi^2 + b xi - 1 = 0
    q0 = jnp.sum(w * y0, axis=0) - 1.0
    b = tau0 * (lam + mu * q0)
    disc = jnp.sqrt(b * b + 4.0 * tau0 * mu)
    xi0 = jnp.where(b > 0, 2.0 / (b + disc), (disc - b) / (2.0 * tau0 * mu))

    def step(st: BarrierState) -> BarrierState:
        y, xi, tau = st.y, st.xi, st.tau
        ys = jnp.where(live, y, 0.5)
        iy, iu = 1.0 / ys, 1.0 / (1.0 - ys)  # # [S, C] reused below: one division pass each
        t = eps_k + jnp.sum(g * y, axis=0)  # # [C]
        h = jnp.sum(w * y, axis=0) + xi - 1.0
        slack = jnp.where(sat_on, nb - jnp.sum(jnp.where(live, y, 0.0), axis=1), 1.0)  # # [S]
        pen = lam + mu * h  # # [C]
        # gradient of tau F - barrier
        gy = tau * (-(a / t)[None, :] * g + pen[None, :] * w) - iy + iu \
            + jnp.where(sat_on, 1.0 / slack, 0.0)[:, None]
        gy = jnp.where(live, gy, 0.0)
        gx = tau * pen - 1.0 / xi
        # Hessian pieces: barrier curvature, primal (1/y^2, ...) or primal-dual (z/y, ...)
        if scaling == "primal":
            dy = jnp.where(live, 1.0 / ys ** 2 + 1.0 / (1.0 - ys) ** 2, 1.0)  # # [S, C]
            dx = 1.0 / xi ** 2  # # [C]
            sb = jnp.where(sat_on, 1.0 / slack, 0.0)  # sqrt(beta), beta = 1/slack^2
        else:
            dy = jnp.where(live, st.zl * iy + st.zu * iu, 1.0)
            dx = st.zx / xi
            sb = jnp.where(sat_on, jnp.sqrt(st.zb / slack), 0.0)
        u1y = (jnp.sqrt(tau * a) / t)[None, :] * g  # # [S, C]  (xi part 0)
        smu = jnp.sqrt(tau * mu)
        u2y = smu[None, :] * w  # # [S, C]
        u2x = smu  # # [C]
        ddy, ddx = kkt_solve(kkt_factor(dy, dx, u1y, u2y, u2x, sb, live), -gy, -gx, refine, refine_weight)
        dec = -(jnp.sum(gy * ddy) + jnp.sum(gx * ddx))  # Newton decrement^2
        # fraction to the boundary
        dsum = jnp.sum(ddy, axis=1)  # # [S] = -(change of the budget slack)
        amax = jnp.minimum(1.0, 0.99 * jnp.minimum(_box_boundary(ys, ddy, live), jnp.minimum(
            _to_boundary(xi, ddx, True), _to_boundary(slack, -dsum, sat_on))))

        def dphi(al):
            """d/d(al) of phi along the Newton direction (no large-constant cancellation)."""
            yy, xx = y + al * ddy, xi + al * ddx
            yq = jnp.where(live, yy, 0.5)
            tt = eps_k + jnp.sum(g * yy, axis=0)
            pp = lam + mu * (jnp.sum(w * yy, axis=0) + xx - 1.0)
            sl = jnp.where(sat_on, nb - jnp.sum(jnp.where(live, yy, 0.0), axis=1), 1.0)
            gyy = tau * (-(a / tt)[None, :] * g + pp[None, :] * w) - 1.0 / yq + 1.0 / (1.0 - yq) \
                + jnp.where(sat_on, 1.0 / sl, 0.0)[:, None]
            return jnp.sum(jnp.where(live, gyy * ddy, 0.0)) + jnp.sum((tau * pp - 1.0 / xx) * ddx)

        if scaling != "primal":  # (float64 only, see above)
            # slope test: phi(al) <= phi(0) + al dphi(al) by convexity (module docstring); a
            # rejected trial moves to the secant zero of the slope between 0 (slope -dec) and al,
            # kept within [0.1, 0.9] al (one slope evaluation per trial)
            def ls_cond(c):
                al, k, sl = c
                return (k < 30) & (sl > SLOPE_KAPPA * dec)

            def ls_body(c):
                al, k, sl = c
                al_n = jnp.clip(al * dec / (dec + sl), 0.1 * al, 0.9 * al)
                return al_n, k + 1, dphi(al_n)

            al, k, _ = jax.lax.while_loop(ls_cond, ls_body, (amax, 0, dphi(amax)))
        else:
            f0 = phi(y, xi, tau)

            def accept(al):
                # float32 (and scaling "primal", as before 2026-12-05): Armijo, or the slope at al
                # still <= 0 (decrease by convexity; survives the rounding of the large barrier
                # sums, where the slope alone is too noisy); halving
                fa = phi(y + al * ddy, xi + al * ddx, tau)
                return (fa <= f0 - 0.25 * al * dec) | (jnp.isfinite(fa) & (dphi(al) <= 0.0))

            al, k = jax.lax.while_loop(lambda c: (c[1] < 30) & ~accept(c[0]), lambda c: (0.5 * c[0], c[1] + 1),
                                       (amax, 0))
        al = jnp.where((k < 30) & (dec > 0), al, 0.0)
        if step_hook is not None:
            jax.debug.callback(step_hook, dict(
                tau=tau, dec=dec, amax=amax, al=al, box=_box_boundary(ys, ddy, live),
                xi=_to_boundary(xi, ddx, True), budget=_to_boundary(slack, -dsum, sat_on), slack=slack,
                sat_on=sat_on, dy=dy.T, dx=dx, u1y=u1y.T, u2y=u2y.T, u2x=u2x, sb=sb, live=live.T, gy=gy.T,
                gx=gx, ddy=ddy.T, ddx=ddx), ordered=True)
        y_new = jnp.where(live, y + al * ddy, 0.0)
        xi_new = xi + al * ddx
        # end of the stage: near the central path, a full step in Newton's quadratic phase (not in
        # the last two stages), or stalled (module docstring); at tau_max a stall ends the solve
        stalled = al <= stall_step
        quadratic = (al >= 1.0) & (dec <= centre_dec) & (tau * tau_growth < tau_max)
        centred = (dec <= 0.5) | stalled | quadratic
        tau_new = jnp.where(centred & (tau < tau_max), jnp.minimum(tau * tau_growth, tau_max), tau)
        if scaling == "primal":  # the multipliers are not used
            zl_n, zu_n, zx_n, zb_n = st.zl, st.zu, st.zx, st.zb
        else:
            # multipliers: Newton step toward complementarity 1 (scaled units), 0.99 to their
            # boundary, kept within a factor kappa of the central value 1/slack; rescaled by
            # tau_new/tau (the unscaled multiplier is unchanged by a rise of tau)
            dzl = iy - st.zl * (1.0 + ddy * iy)
            dzu = iu - st.zu * (1.0 - ddy * iu)
            dzx = 1.0 / xi - st.zx - st.zx * ddx / xi
            dzb = 1.0 / slack - st.zb + st.zb * dsum / slack
            ad = jnp.minimum(_pair_boundary(st.zl, dzl, st.zu, dzu, live),
                             jnp.minimum(_to_boundary(st.zx, dzx, True), _to_boundary(st.zb, dzb, sat_on)))
            ad = jnp.minimum(1.0, 0.99 * ad)
            ys_n = jnp.where(live, y_new, 0.5)
            sl_n = jnp.where(sat_on, nb - jnp.sum(y_new, axis=1), 1.0)
            r = tau_new / tau
            zl_n = r * _safeguard(st.zl + ad * dzl, 1.0 / ys_n)
            zu_n = r * _safeguard(st.zu + ad * dzu, 1.0 / (1.0 - ys_n))
            zx_n = r * _safeguard(st.zx + ad * dzx, 1.0 / xi_new)
            zb_n = r * _safeguard(st.zb + ad * dzb, 1.0 / sl_n)
        # at tau_max: stop once centred to dec_final, or at a stall
        return BarrierState(y_new, xi_new, tau_new, jnp.where((tau >= tau_max) & stalled, 0.0, dec),
                            zl_n, zu_n, zx_n, zb_n)

    # final centring: tight in float64 (the optimal face of (31) need not be a point -- the
    # objective sees y_c only through g.y_c and w.y_c -- and the barrier picks its analytic
    # centre only if centred well); loose in float32 where dec is rounding-limited
    dec_final = 1e-9 if dt == jnp.float64 else 1e-2
    done = lambda st: (st.tau >= tau_max) & (st.dec <= dec_final)  # noqa: E731
    ys0 = jnp.where(live, y0, 0.5)
    sl0 = jnp.where(sat_on, nb - jnp.sum(y0, axis=1), 1.0)
    st0 = BarrierState(y0, xi0, tau0, jnp.asarray(jnp.inf, dt), 1.0 / ys0, 1.0 / (1.0 - ys0), 1.0 / xi0, 1.0 / sl0)
    res = masked_scan(step, done, st0, max_iter, mode=loop)
    return res.state.y.T, res.state.tau, res.iterations
