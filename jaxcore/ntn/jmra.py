"""JMRA relaxation on accelerators: surrogate (29), SCA weights (28), augmented-Lagrangian
penalty (33) and Algorithm 1 of the NTN paper (``../shared/spec/ntn.md`` §2 V-C, §3).

Units (spec §3 preliminaries).  We optimise the normalised share ``y = x / N_com`` in
[0, 1], throughput in kbit/s, and the objective weights ``a_c = N^a_c / mean(N^a)`` over
populated cells, i.e. (31) divided by a positive constant; ``lambda``, ``mu`` and the
tolerances are in these units (the spec's "objective units" are ambiguous, so this is our
choice, recorded here).  With ``y`` the SCA weight (28) is ``w = 1/(y~ + delta)`` and the
relaxed step is ``u(x) ~ w y``; the surrogate per-user throughput (29) is linear,
``R~_{c,s} = g_{c,s} y_{c,s}`` with

    g_{c,s} = r_{c,s} (N_com T_O - w_{c,s} T^HO_{c,s}) / (T_f N^a_c)      [kbit/s per unit y].

Only usable pairs (``r > 0``, populated cell) carry weight.  A pair with ``g <= 0`` (its
surrogate handover cost exceeds the frame) is fixed at 0: any ``y > 0`` there lowers the log
term and raises the penalty and the budget use, so this is exact (spec (29)).

Subproblem (31)-(33) as a minimisation over the polyhedron (32a), (32c)::

    F(y) = -sum_c a_c log(eps + sum_s g_cs y_cs) + sum_c psi_c(sum_s w_cs y_cs - 1)

The slack of (30) is eliminated in closed form: ``min_{xi >= 0} lambda h + mu/2 h^2`` with
``h = q + xi`` gives ``psi(q) = lambda m + mu/2 m^2``, ``m = max(q, -lambda/mu)``, which is
convex and C^1 with ``psi'(q) = max(lambda + mu q, 0)`` (the classical augmented Lagrangian
of the inequality ``sum_s w y <= 1``).  Because the optimal slack leaves ``h = -lambda/mu``
on cells with room to spare, "violating (30)" is measured as ``max(q, 0) > tol`` — the
residual with the best feasible slack ``xi = max(0, -q)`` (spec's ``|h_c|`` read this way).

Solver choice (measured).  Default ``inner="newton"``: a log-barrier Newton
method on (31)-(33) with the slack kept explicit
(:func:`jaxcore.ntn.subproblem_newton.solve_subproblem_barrier`; its docstring explains the
two-level Woodbury solve, O(C S^2 + S^3) per step, no sparse factorisation).  The problem is
badly conditioned for first-order methods (curvature a g^2/t^2 up to ~1e12 near t = eps,
penalty mu w w^T with w up to 1/delta), and the previous default, FISTA with backtracking
and function-value restart on the exact box-with-budget projection
(:func:`jaxcore.ntn.projections.projection_box_budget`), stalled with a movement-based stop
firing early.  Measured on the 150-cell continental frame 1 (x64): one subproblem at a
random (w, lambda, mu) -- FISTA 184 % below the Clarabel optimum, Newton within 4e-8;
Algorithm 1 end to end (60 outer iterations, Algorithm 2 rounding) -- FISTA 10 % below the
cvxpy-driven loop on (25), Newton 0.005 % above it; on the 600-cell frame Jain's index
0.005 (FISTA) -> 0.55 (Newton).  FISTA stays available (``inner="fista"``;
tests/jaxcore/ntn/test_jmra.py checks that it stays feasible and above the optimum).  The Newton
solve is warm-started across outer iterations at ``tau_final / warm_tau_div`` with the
previous solution mixed ``warm_mix`` toward the centre point.  ``warm_tau_div = 1e8`` and
``tau_growth = 50`` were chosen with the primal-dual scaling on world seed 5 and
``random_frames(8, 100, 12, seed=5)`` (356 Newton steps per synthetic frame then; the primal
barrier at (1e6, 20) took 1.2-1.7x as many).  A barrier stage ends at a full Newton step in
the quadratic phase (``centre_dec = 1000``) or at a stall (``stall_step = 0.01``), chosen on
the same tuning frames, and each Newton solve is refined once (``refine``, float64) where some
budget weight is at least ``refine_weight`` = 1e8, which also keeps the stalls genuine
(:mod:`jaxcore.ntn.subproblem_newton`): 292 -> 192 Newton steps per
synthetic frame, 17.4 -> 11.1 ms per frame, 0.68 -> 0.57 s per 600-cell frame, objective (25)
within 0.0003 % of the former rule.  ``tau_growth = 200`` saved nothing under the former rules
(1,797 against 1,761 steps on ``random_frames(8, 100, 12, seed=59)``) and its relaxed
allocation depended on the batch composition (0.05 on a share of 703 between batches of 3
and 4): the optimal face of (31) is not a point and the larger jumps leave the final iterate
less centred on it.  float32 runs the primal scaling with the former stage rules,
``tau_growth_f32 = 50`` and no refinement.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxcore.loops import masked_scan
from jaxcore.ntn.projections import projection_box_budget
from jaxcore.ntn.subproblem_newton import solve_subproblem_barrier

KBIT = 1e3  # internal throughput unit: kbit/s


class JmraData(NamedTuple):
    """One allocation instance in normalised units (all arrays of one dtype).

    Attributes:
      rk: [C, S] achievable rate in kbit/s, 0 on unusable pairs (r = 0 or N^a = 0).
      na: [C] active users N^a_c.
      a: [C] objective weights N^a_c / mean(N^a over populated cells).
      usable: [C, S] bool, r > 0 and N^a > 0.
      t_ho: [C, S] pair handover time T^HO_{c,s} (23) used by the optimiser, s.
      n_com, t_o, t_f, eps_k: scalars (eps in kbit/s).
      nb: [S] beams per satellite N_b (the budget of (32c) in units of y).
    """

    rk: jax.Array
    na: jax.Array
    a: jax.Array
    usable: jax.Array
    t_ho: jax.Array
    n_com: jax.Array
    nb: jax.Array
    t_o: jax.Array
    t_f: jax.Array
    eps_k: jax.Array


class JmraSettings(NamedTuple):
    """Numerical settings (hashable: a static argument of ``jax.jit``)."""

    rho: float = 2.0
    tol: float = 1e-3
    delta: float = 1e-3
    lam0: float = 1e-2
    mu0: float = 1.0
    max_outer: int = 60
    max_inner: int = 200
    inner_tol: float = 1e-8
    n_bisect: int = 40
    loop: str = "while"
    inner: str = "newton"  # "newton" (barrier Newton, subproblem_newton) or "fista"
    warm_tau_div: float = 1e8  # newton: next subproblem starts at tau_final / warm_tau_div
    tau_growth: float = 50.0  # newton: barrier weight growth once centred (float64, primal-dual scaling)
    tau_growth_f32: float = 50.0  # newton in float32 (always the primal scaling): 200 lost 17.5 % of (25)
    warm_mix: float = 1e-2  # newton: warm start mixed this much toward the centre point
    tol_change: float = 1e-2  # line 4: epsilon_tol on the per-cell change of x / N_com
    scaling: str = "primal-dual"  # newton: Newton-matrix curvature of the bounds (subproblem_newton)
    refine: int = 1  # newton, float64: iterative-refinement rounds per Newton solve (float32: 0; it diverged)
    refine_weight: float = 1e8  # newton: refine only where some budget weight is at least this (0: always)
    centre_dec: float = 1000.0  # newton, float64: a full step with decrement^2 <= this ends the barrier stage
    stall_step: float = 0.01  # newton, float64: a step this short ends the stage (the solve at tau_max)
    step_hook: object = None  # newton: host function per Newton step (diagnostics; solve_subproblem_barrier)


#: interfaces.md §3 fields in the positional order of :func:`prepare` (and ``jaxcore.ntn.dmrab.dmrab``)
INSTANCE_KEYS = ("rate", "n_active", "prev_served", "t_ho", "n_com", "n_beams", "t_ofdma", "t_frame", "eps")


def prepare(rate, n_active, prev_served, t_ho, n_com, n_beams, t_ofdma, t_frame, eps,
            charge_handover: bool = True) -> JmraData:
    """Build :class:`JmraData` for one instance from interfaces.md §3 fields (bit/s, s).

    ``charge_handover=False`` gives "JMRA w/o HOP" (T_HO = 0 inside the optimiser only).
    """
    rate = jnp.asarray(rate)
    dt = rate.dtype
    na = jnp.asarray(n_active, dt)
    usable = (rate > 0) & (na[:, None] > 0)  # # [C, S]
    pop = na > 0
    mean_na = jnp.sum(na) / jnp.maximum(jnp.sum(pop), 1)
    a = na / jnp.where(mean_na > 0, mean_na, 1.0)
    t_ho_cs = jnp.asarray(t_ho, dt) * (1.0 - jnp.asarray(prev_served, dt))  # (23)
    if not charge_handover:
        t_ho_cs = jnp.zeros_like(t_ho_cs)
    return JmraData(
        rk=jnp.where(usable, rate / KBIT, 0.0), na=na, a=a, usable=usable, t_ho=t_ho_cs,
        n_com=jnp.asarray(n_com, dt), nb=jnp.asarray(n_beams, dt), t_o=jnp.asarray(t_ofdma, dt),
        t_f=jnp.asarray(t_frame, dt), eps_k=jnp.asarray(eps, dt) / KBIT)


def surrogate_coeffs(d: JmraData, w: jax.Array) -> jax.Array:
    """g_{c,s} of the affine surrogate (29) per unit share y, kbit/s; [C, S]."""
    na = jnp.where(d.na > 0, d.na, 1.0)
    g = d.rk * (d.n_com * d.t_o - w * d.t_ho) / (d.t_f * na[:, None])
    return jnp.where(d.usable, g, 0.0)


def penalty(q: jax.Array, lam: jax.Array, mu: jax.Array) -> jax.Array:
    """Augmented-Lagrangian penalty (33) with the slack xi of (30) eliminated; [C]."""
    m = jnp.maximum(q, -lam / mu)
    return lam * m + 0.5 * mu * m * m


def subproblem_objective(y, g, w, a, lam, mu, eps_k):
    """F(y) = -(31): negative surrogate utility plus penalty (scalar, normalised units)."""
    t = eps_k + jnp.sum(g * y, axis=1)  # # [C] surrogate per-user throughput + eps
    q = jnp.sum(w * y, axis=1) - 1.0  # # [C]
    return -jnp.sum(a * jnp.log(t)) + jnp.sum(penalty(q, lam, mu))


class FistaState(NamedTuple):
    y: jax.Array
    z: jax.Array
    t: jax.Array
    L: jax.Array
    fy: jax.Array
    move: jax.Array


def solve_subproblem(d: JmraData, w, lam, mu, y_init, L_init, s: JmraSettings):
    """Solve (31)-(33) for fixed (w, lambda, mu): barrier Newton (default) or FISTA.

    ``s.inner == "newton"``: :func:`jaxcore.ntn.subproblem_newton.solve_subproblem_barrier`
    to an absolute duality gap ``inner_tol * C`` (``L`` is passed through unchanged).
    ``s.inner == "fista"``: :func:`solve_subproblem_fista`.
    """
    if s.inner == "newton":
        g = surrogate_coeffs(d, w)
        live = g > 0
        eps_d = float(jnp.finfo(g.dtype).eps)
        gap = max(s.inner_tol, 100 * eps_d) * d.rk.shape[0]
        f64 = g.dtype == jnp.float64  # float32 keeps the former path rules (subproblem_newton)
        growth = s.tau_growth if f64 else s.tau_growth_f32
        y, tau, it = solve_subproblem_barrier(g, w, d.a, lam, mu, d.eps_k, d.nb, live, y_init,
                                              s.max_inner, gap, tau_init=L_init / s.warm_tau_div, tau_growth=growth,
                                              warm_mix=s.warm_mix, loop=s.loop, scaling=s.scaling,
                                              refine=s.refine if f64 else 0, step_hook=s.step_hook,
                                              centre_dec=s.centre_dec if f64 else 0.5,
                                              stall_step=s.stall_step if f64 else 0.0, refine_weight=s.refine_weight)
        return y, tau, it
    return solve_subproblem_fista(d, w, lam, mu, y_init, L_init, s)


def solve_subproblem_fista(d: JmraData, w, lam, mu, y_init, L_init, s: JmraSettings):
    """Solve (31)-(33) for fixed (w, lambda, mu) by FISTA with backtracking and restart.

    Args:
      d: instance data; w: [C, S] SCA weights (28); lam, mu: [C] multipliers/penalties.
      y_init: [C, S] warm start (projected first); L_init: scalar initial Lipschitz guess.

    Returns:
      ``(y, L, iterations)``: y [C, S] feasible for (32a), (32c); final L; inner steps used.
    """
    g = surrogate_coeffs(d, w)
    upper = jnp.where(g > 0, 1.0, 0.0).astype(g.dtype)  # # [C, S] (32a) on live pairs
    proj = lambda v: projection_box_budget(v, upper, d.nb, s.n_bisect)
    F = lambda y: subproblem_objective(y, g, w, d.a, lam, mu, d.eps_k)
    vg = jax.value_and_grad(F)
    y0 = projection_box_budget(y_init, upper, d.nb, s.n_bisect)
    one = jnp.ones((), g.dtype)
    st = FistaState(y0, y0, one, jnp.asarray(L_init, g.dtype), F(y0), jnp.asarray(jnp.inf, g.dtype))

    def step(st: FistaState) -> FistaState:
        fz, gz = vg(st.z)
        y_new = proj(st.z - gz / st.L)
        dlt = y_new - st.z
        f_new = F(y_new)
        slack = 1e-12 * jnp.maximum(jnp.abs(fz), 1.0)
        accept = f_new <= fz + jnp.sum(gz * dlt) + 0.5 * st.L * jnp.sum(dlt * dlt) + slack
        accept = accept & jnp.isfinite(f_new) & jnp.isfinite(fz)
        better = f_new <= st.fy
        t_new = 0.5 * (1.0 + jnp.sqrt(1.0 + 4.0 * st.t * st.t))
        # extrapolated point kept in the box so the log stays in its domain (t >= eps)
        z_mom = jnp.clip(y_new + ((st.t - 1.0) / t_new) * (y_new - st.y), 0.0, upper)
        move = jnp.max(jnp.abs(y_new - st.y))
        # accepted and better: momentum step; accepted but worse: restart from y (t = 1)
        y = jnp.where(accept & better, y_new, st.y)
        z = jnp.where(accept, jnp.where(better, z_mom, st.y), st.z)
        t = jnp.where(accept, jnp.where(better, t_new, one), st.t)
        L = jnp.where(accept, st.L * 0.9, st.L * 2.0)
        fy = jnp.where(accept & better, f_new, st.fy)
        mv = jnp.where(accept & better, move, jnp.where(accept, jnp.asarray(jnp.inf, g.dtype), st.move))
        return FistaState(y, z, t, L, fy, mv)

    tol = max(s.inner_tol, 50 * float(jnp.finfo(g.dtype).eps))  # reachable in float32 too
    done = lambda st: st.move <= tol
    res = masked_scan(step, done, st, s.max_inner, mode=s.loop)
    return res.state.y, res.state.L, res.iterations


class JmraState(NamedTuple):
    y: jax.Array  # [C, S] x^(i) / N_com
    w: jax.Array  # [C, S] SCA weights (28)
    lam: jax.Array  # [C]
    mu: jax.Array  # [C]
    L: jax.Array
    n_viol: jax.Array  # cells violating (30) after the last solve
    conv: jax.Array  # bool, line 4 of Algorithm 1 held
    inner: jax.Array  # total inner iterations


class JmraResult(NamedTuple):
    y: jax.Array  # [C, S] relaxed share x*/N_com
    iterations: jax.Array  # outer iterations of Algorithm 1
    converged: jax.Array  # bool
    n_viol: jax.Array  # cells violating (30) when the iterations stopped
    inner_iterations: jax.Array


def equal_share(d: JmraData) -> jax.Array:
    """Equal-share initial point y~(0) = min(1, S N_b / C) (spec §3 Algorithm 1, line 1)."""
    sats = jnp.any(d.usable, axis=0)  # # [S]
    cells = jnp.any(d.usable, axis=1)  # # [C]
    tot = jnp.sum(jnp.where(sats, d.nb, 0.0))
    return jnp.minimum(1.0, tot / jnp.maximum(jnp.sum(cells), 1))


def allocation_change(y_new, y_old):
    """Per-cell change of the allocation between two outer iterations; [C].

    ``max_s |x^(i)_{c,s} - x^(i-1)_{c,s}| / N_com`` (share of the communication frames that
    moved), the "change in resource allocation between two iterations" of line 4 of
    Algorithm 1 (paper §VII-A), for every cell.
    """
    return jnp.max(jnp.abs(y_new - y_old), axis=-1)


def line4_converged(q, y_new, y_old, s: JmraSettings):
    """Line 4 of Algorithm 1: no cell violates (30) by more than ``tol`` AND the allocation of
    every cell changed by at most ``tol_change`` (:func:`allocation_change`).

    Two tolerances, one per test: the paper uses one epsilon_tol (value lost).  The change
    test needs ``tol_change`` above the step the SCA reweighting (28) itself keeps taking: with
    w = 1/(y~ + delta) a served pair can grow by about ``delta + tol`` per iteration and a
    cell whose penalty is not binding shrinks by up to ``lam0/mu0`` relative (lambda and mu
    grow by the same factor, so their ratio stays lam0/mu0); measured on default 600-cell
    frames: 3.6e-3 to 5.9e-3 per iteration for rho in {1.5, 2, 5} long after the matching
    settled, so a change tolerance of 1e-3 never fires (status 1 at the cap).
    """
    return (jnp.max(jnp.maximum(q, 0.0)) <= s.tol) & (jnp.max(allocation_change(y_new, y_old)) <= s.tol_change)


def jmra_relaxed(d: JmraData, s: JmraSettings, rho=None, max_outer=None) -> JmraResult:
    """Algorithm 1 (SCA + method of multipliers) for ONE instance; vmap over frames.

    Lines: 1 init (equal share, lambda0, mu0); 3 solve (31)-(33) warm-started; 4 converged
    when max_c max(q_c, 0) <= tol and max |y^(i) - y^(i-1)| <= tol_change
    (:func:`line4_converged`); 5 w <- 1/(y + delta) and
    lambda, mu <- rho * (lambda, mu) on cells violating (30); 6 stop at ``max_outer``.

    ``rho`` and ``max_outer`` (scalars, may be traced) replace ``s.rho`` / ``s.max_outer``
    when given, so that a sweep over them (Figs. 6, 7) runs one compiled program; a traced
    ``max_outer`` needs ``s.loop == "while"`` (a scan's length is static).
    """
    rho = s.rho if rho is None else rho
    max_outer = s.max_outer if max_outer is None else max_outer
    dt = d.rk.dtype
    C, S = d.rk.shape
    y0 = jnp.where(d.usable, equal_share(d), 0.0).astype(dt)
    st = JmraState(y=y0, w=jnp.where(d.usable, 1.0 / (y0 + s.delta), 0.0).astype(dt),
                   lam=jnp.full((C,), s.lam0, dt), mu=jnp.full((C,), s.mu0, dt),
                   L=jnp.asarray(1.0, dt), n_viol=jnp.asarray(0, jnp.int32),
                   conv=jnp.asarray(False), inner=jnp.asarray(0, jnp.int32))

    def step(st: JmraState) -> JmraState:
        y, L, it = solve_subproblem(d, st.w, st.lam, st.mu, st.y, st.L, s)
        q = jnp.sum(st.w * y, axis=1) - 1.0  # # [C]
        viol = q > s.tol
        conv = line4_converged(q, y, st.y, s)
        grow = jnp.where(viol, jnp.asarray(rho, dt), 1.0)
        w = jnp.where(d.usable, 1.0 / (y + s.delta), 0.0)
        return JmraState(y, w, st.lam * grow, st.mu * grow, L, jnp.sum(viol).astype(jnp.int32),
                         conv, st.inner + it)

    res = masked_scan(step, lambda st: st.conv, st, max_outer, mode=s.loop)
    f = res.state
    return JmraResult(f.y, res.iterations, f.conv, f.n_viol, f.inner)
