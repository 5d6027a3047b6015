"""JMRA subproblem (31)-(33) and Algorithm 1 (jaxcore.ntn.jmra) against the cvxpy reference."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.ntn import jmra as J
from reference.ntn_subproblem import SubproblemRef
from jaxcore.ntn.jmra import INSTANCE_KEYS
from ntn_random import random_instances

B, C, S = 20, 30, 12


@pytest.fixture(scope="module")
def batch():
    inst = random_instances(B, C=C, S=S, seed=1)
    d = jax.vmap(J.prepare)(*[jnp.asarray(inst[k]) for k in INSTANCE_KEYS])
    rng = np.random.default_rng(0)
    yt = jnp.asarray(rng.uniform(0, 0.5, d.rk.shape)) * d.usable
    w = jnp.where(d.usable, 1 / (yt + 1e-3), 0.0)
    lam = jnp.asarray(rng.uniform(0.01, 1, (B, C)))
    mu = jnp.asarray(rng.uniform(0.5, 20, (B, C)))
    s = J.JmraSettings(max_inner=300, inner_tol=1e-8, loop="scan")
    f = jax.jit(jax.vmap(lambda d, w, l, m: J.solve_subproblem(d, w, l, m, jnp.zeros_like(w), 1.0, s)))
    y, _, _ = f(d, w, lam, mu)
    return d, w, lam, mu, y


def test_subproblem_matches_cvxpy_on_20_instances(batch):
    d, w, lam, mu, y = batch
    g = jax.vmap(J.surrogate_coeffs)(d, w)
    Fj = np.asarray(jax.vmap(J.subproblem_objective)(y, g, w, d.a, lam, mu, d.eps_k))
    y = np.asarray(y)
    for b in range(B):
        # constraints (32a), (32c) to 1e-6 and zero on unusable / negative-coefficient pairs
        assert (y[b] >= -1e-12).all() and (y[b] <= 1 + 1e-12).all()
        assert (y[b].sum(0) <= np.asarray(d.nb[b]) + 1e-6).all()
        assert (y[b][np.asarray(g[b]) <= 0] == 0).all()
        ref = SubproblemRef(np.asarray(d.usable[b]), np.asarray(d.a[b]), np.asarray(d.nb[b]), float(d.eps_k[b]))
        _, val = ref.solve(np.asarray(g[b]), np.asarray(w[b]), np.asarray(lam[b]), np.asarray(mu[b]))
        # JAX optimum of (31) (= -F) agrees with Clarabel's (explicit slack xi) to 1e-4 relative
        assert abs(-Fj[b] - val) <= 1e-4 * abs(val), (b, -Fj[b], val)


def test_penalty_is_slack_minimum():
    # psi(q) = min_{xi >= 0} lam h + mu/2 h^2 with h = q + xi, checked on a grid of xi
    q = jnp.linspace(-1.0, 1.0, 41)
    lam, mu = 0.3, 2.0
    xi = jnp.linspace(0, 3, 30001)
    h = q[:, None] + xi[None, :]
    brute = jnp.min(lam * h + 0.5 * mu * h * h, axis=1)
    np.testing.assert_allclose(np.asarray(J.penalty(q, lam, mu)), np.asarray(brute), atol=1e-7)


def test_subproblem_batched_equals_one_by_one(batch):
    # (31) is convex but its optimal set need not be a point (the objective sees y_c only
    # through g.y_c and w.y_c), so compare the optimum value
    d, w, lam, mu, y = batch
    s = J.JmraSettings(max_inner=300, inner_tol=1e-8, loop="while")
    one = jax.jit(lambda d, w, l, m: J.solve_subproblem(d, w, l, m, jnp.zeros_like(w), 1.0, s)[0])
    g = jax.vmap(J.surrogate_coeffs)(d, w)
    for b in (0, 7, 13):
        db = jax.tree_util.tree_map(lambda a: a[b], d)
        yb = one(db, w[b], lam[b], mu[b])
        F = lambda yy: float(J.subproblem_objective(yy, g[b], w[b], db.a, lam[b], mu[b], db.eps_k))  # noqa: E731
        # barrier stalls at ~1e-6 relative (float64 rounding at tau ~ 1e9) before the 1e-8 gap bound
        np.testing.assert_allclose(F(yb), F(y[b]), rtol=1e-5)


@pytest.mark.parametrize("loop", ["scan"])  # "while" (the default) runs in every other test
def test_algorithm1_batched_equals_one_by_one(loop):
    # Algorithm 1 is non-convex (SCA): batched reductions re-associate float sums and the
    # trajectory may settle on a neighbouring point, so compare what matters downstream:
    # objective (25) of the rounded allocation and the convergence status, per instance.
    from solvers.ntn.allocate import JmraConfig, solve_allocation
    inst = random_instances(3, C=12, S=5, seed=7)
    cfg = JmraConfig(max_outer=25, max_inner=200, loop=loop)
    sb = solve_allocation(inst, "jmra", cfg)
    for b in range(3):
        s1 = solve_allocation({k: v[b:b + 1] for k, v in inst.items()}, "jmra", cfg)
        np.testing.assert_allclose(sb["objective"][b], s1["objective"][0], rtol=2e-3)
        assert sb["status"][b] == s1["status"][0]
    # float32 run keeps finite values and lands near the float64 objective
    s32 = solve_allocation(inst, "jmra", cfg, dtype=np.float32)
    np.testing.assert_allclose(s32["objective"], sb["objective"], rtol=2e-2)


def test_precision_default_is_float64_even_in_a_float32_process():
    # JmraConfig.precision (default float64): a process running float32 (x64 off, the CLI
    # default) still solves JMRA in float64 -- identical to the x64 run -- while
    # precision="global" follows the process (float32), like an explicit dtype=float32.
    from dataclasses import replace
    from solvers.ntn.allocate import JmraConfig, solve_allocation
    inst = random_instances(2, C=12, S=5, seed=11)
    cfg = JmraConfig(max_outer=15)
    ref64 = solve_allocation(inst, "jmra", cfg, dtype=np.float64)  # x64 is on in the test session
    ref32 = solve_allocation(inst, "jmra", cfg, dtype=np.float32)
    with jax.enable_x64(False):
        assert not jax.config.read("jax_enable_x64")
        d64 = solve_allocation(inst, "jmra", cfg)
        g32 = solve_allocation(inst, "jmra", replace(cfg, precision="global"))
        assert not jax.config.read("jax_enable_x64")  # the float64 solve restored the setting
    np.testing.assert_array_equal(d64["x"], ref64["x"])
    np.testing.assert_allclose(d64["x_relaxed"], ref64["x_relaxed"], rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(g32["x"], ref32["x"])
    np.testing.assert_allclose(g32["x_relaxed"], ref32["x_relaxed"], rtol=1e-6, atol=1e-6)
    assert np.max(np.abs(ref32["x_relaxed"] - ref64["x_relaxed"])) > 1e-6  # the two paths differ


def test_precision_choice_is_validated():
    from solvers.configio import ConfigError
    from solvers.ntn.allocate import JmraConfig
    with pytest.raises(ConfigError, match="precision"):
        JmraConfig(precision="float16")


def test_fista_inner_solver_is_feasible_and_never_beats_the_optimum(batch):
    """``inner="fista"`` (the earlier inner solver, kept as an option): its y meets (32a),
    (32c), it improves on its start, and it never goes below the barrier-Newton optimum of
    (31) (it is documented to stall above it)."""
    d, w, lam, mu, y_newton = batch
    s = J.JmraSettings(max_inner=300, inner_tol=1e-8, loop="scan", inner="fista")
    f = jax.jit(jax.vmap(lambda d, w, l, m: J.solve_subproblem(d, w, l, m, jnp.zeros_like(w), 1.0, s)))
    y, _, steps = f(d, w, lam, mu)
    g = jax.vmap(J.surrogate_coeffs)(d, w)
    F = jax.vmap(J.subproblem_objective)
    f_fista = np.asarray(F(y, g, w, d.a, lam, mu, d.eps_k))
    f_newton = np.asarray(F(y_newton, g, w, d.a, lam, mu, d.eps_k))
    f_start = np.asarray(F(jnp.zeros_like(w), g, w, d.a, lam, mu, d.eps_k))
    yn = np.asarray(y)
    assert (yn >= -1e-12).all() and (yn <= 1 + 1e-12).all()
    assert (yn.sum(1) <= np.asarray(d.nb) + 1e-6).all()
    assert (f_fista >= f_newton - 1e-6 * np.abs(f_newton)).all()
    assert (f_fista <= f_start + 1e-12).all() and (f_fista < f_start).any()
    assert (np.asarray(steps) > 0).all()


def test_jmra_config_reaches_the_core_settings():
    """Every JmraSettings field that JmraConfig (the CLI's --set) names arrives unchanged,
    the renamed ``inner_solver`` included; the rest keep the core defaults."""
    import dataclasses

    from jaxcore.ntn.jmra import JmraSettings
    from solvers.ntn.allocate import CORE_RENAMES, JmraConfig

    keys = {f.name for f in dataclasses.fields(JmraConfig)}
    shared = {k for k in keys if CORE_RENAMES.get(k, k) in JmraSettings._fields}
    assert {"rho", "tol", "tol_change", "max_outer", "inner_solver", "loop"} <= shared
    changed = dict(rho=3.5, tol=2e-3, tol_change=0.05, delta=2e-3, lam0=0.5, mu0=2.0, max_outer=7, max_inner=9,
                   inner_tol=1e-6, n_bisect=11, loop="scan", inner_solver="fista", newton_scaling="primal-dual",
                   newton_tau_growth=30.0, newton_refine=2, newton_centre_dec=20.0, newton_stall_step=0.05,
                   newton_refine_weight=1e4)
    assert set(changed) == shared  # a new shared key must be added here
    s = JmraConfig(**changed).settings()
    for k, v in changed.items():
        assert getattr(s, CORE_RENAMES.get(k, k)) == v, k
    unset = set(JmraSettings._fields) - {CORE_RENAMES.get(k, k) for k in shared}
    assert all(getattr(s, k) == getattr(JmraSettings(), k) for k in unset)


def test_primal_scaling_selects_the_earlier_newton_path_settings():
    """``newton_scaling="primal"`` gives the barrier Hessian with the earlier path settings
    (warm start at tau_final/1e6, tau x 20); the default keeps the core defaults."""
    from solvers.ntn.allocate import JmraConfig
    s = JmraConfig(newton_scaling="primal").settings()
    assert (s.scaling, s.warm_tau_div, s.tau_growth) == ("primal", 1e6, 20.0)
    d = JmraConfig().settings()
    assert (d.scaling, d.warm_tau_div, d.tau_growth) == ("primal-dual", 1e8, 50.0)


def test_primal_dual_scaling_reaches_the_same_optimum_in_fewer_newton_steps(batch):
    """The two Newton-matrix scalings of jaxcore.ntn.subproblem_newton solve the same convex
    subproblem (31)-(33): equal optima (the primal-dual one is checked against Clarabel above),
    and the primal-dual one takes fewer Newton steps over the 20 instances (cold starts)."""
    d, w, lam, mu, y_pd = batch
    g = jax.vmap(J.surrogate_coeffs)(d, w)
    F = jax.vmap(J.subproblem_objective)
    steps = {}
    for scaling in ("primal", "primal-dual"):
        s = J.JmraSettings(max_inner=300, inner_tol=1e-8, loop="scan", scaling=scaling)
        f = jax.jit(jax.vmap(lambda d, w, l, m: J.solve_subproblem(d, w, l, m, jnp.zeros_like(w), 1.0, s)))
        y, _, it = f(d, w, lam, mu)
        steps[scaling] = int(np.sum(np.asarray(it)))
        if scaling == "primal":  # the primal barrier stalls at ~1e-6 relative (see above)
            f_p, f_pd = np.asarray(F(y, g, w, d.a, lam, mu, d.eps_k)), np.asarray(F(y_pd, g, w, d.a, lam, mu, d.eps_k))
            np.testing.assert_allclose(f_p, f_pd, rtol=1e-5)
    assert steps["primal-dual"] < steps["primal"], steps


def test_stage_rules_reach_the_same_optimum_in_fewer_newton_steps(batch):
    """The float64 stage rules of jaxcore.ntn.subproblem_newton (a full step in the quadratic
    phase or a stall ends a barrier stage) against the former rule (decrement^2 <= 0.5, only a
    zero step is a stall): the same optima of (31)-(33) on the 20 instances (the defaults are
    checked against Clarabel above) in fewer Newton steps; float32 keeps the former rule, so
    its answer does not depend on the two settings."""
    d, w, lam, mu, y_new = batch
    g = jax.vmap(J.surrogate_coeffs)(d, w)
    F = jax.vmap(J.subproblem_objective)
    former = dict(centre_dec=0.5, stall_step=0.0)

    def solve(dd, **kw):
        s = J.JmraSettings(max_inner=300, inner_tol=1e-8, loop="scan", **kw)
        f = jax.jit(jax.vmap(lambda d, w, l, m: J.solve_subproblem(d, w, l, m, jnp.zeros_like(w), 1.0, s)))
        return f(dd, w.astype(dd.rk.dtype), lam.astype(dd.rk.dtype), mu.astype(dd.rk.dtype))

    steps_new = int(np.sum(np.asarray(solve(d)[2])))
    y_old, _, it_old = solve(d, **former)
    f_new, f_old = np.asarray(F(y_new, g, w, d.a, lam, mu, d.eps_k)), np.asarray(F(y_old, g, w, d.a, lam, mu, d.eps_k))
    np.testing.assert_allclose(f_new, f_old, rtol=1e-6)
    assert steps_new < 0.85 * int(np.sum(np.asarray(it_old))), (steps_new, int(np.sum(np.asarray(it_old))))
    d32 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float32) if a.dtype == jnp.float64 else a, d)
    y32a, _, it32a = solve(d32)
    y32b, _, it32b = solve(d32, centre_dec=7.0, stall_step=0.3)
    np.testing.assert_array_equal(np.asarray(y32a), np.asarray(y32b))
    np.testing.assert_array_equal(np.asarray(it32a), np.asarray(it32b))
