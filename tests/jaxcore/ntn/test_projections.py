"""Box-with-budget projection (jaxcore.ntn.projections) against cvxpy and its KKT conditions."""
import cvxpy as cp
import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.ntn.projections import projection_box_budget


def _cvx_project(v, u, b):
    y = cp.Variable(v.size)
    cp.Problem(cp.Minimize(cp.sum_squares(y - v)), [y >= 0, y <= u, cp.sum(y) <= b]).solve(solver="CLARABEL")
    return y.value


def test_matches_cvxpy_and_is_feasible():
    rng = np.random.default_rng(0)
    C, S = 25, 8
    v = rng.normal(0.3, 1.0, (C, S))
    u = rng.uniform(0.0, 1.0, (C, S)) * (rng.random((C, S)) < 0.8)
    b = rng.uniform(0.0, 4.0, S)
    b[0] = 100.0  # budget inactive: plain box clip
    y = np.asarray(projection_box_budget(jnp.asarray(v), jnp.asarray(u), jnp.asarray(b)))
    assert (y >= 0).all() and (y <= u + 1e-12).all()
    assert (y.sum(0) <= b + 1e-10).all()
    np.testing.assert_allclose(y[:, 0], np.clip(v[:, 0], 0, u[:, 0]), atol=1e-14)
    for s in range(S):
        np.testing.assert_allclose(y[:, s], _cvx_project(v[:, s], u[:, s], b[s]), atol=1e-5)


def test_kkt_single_multiplier_and_float32():
    rng = np.random.default_rng(1)
    v = rng.normal(1.0, 1.0, (40, 3))
    u = np.ones_like(v)
    b = np.array([2.0, 5.0, 0.5])
    y = np.asarray(jax.jit(projection_box_budget)(jnp.asarray(v), jnp.asarray(u), jnp.asarray(b)))
    np.testing.assert_allclose(y.sum(0), b, rtol=1e-12)  # budgets active here
    free = (y > 1e-9) & (y < 1 - 1e-9)
    tau = v - y  # equals the common multiplier on free entries
    for s in range(3):
        t = tau[free[:, s], s]
        assert t.size and np.ptp(t) < 1e-10 and t.min() > 0
    y32 = jax.jit(projection_box_budget, static_argnames="n_bisect")(jnp.asarray(v, jnp.float32), jnp.asarray(u, jnp.float32),
                                jnp.asarray(b, jnp.float32), n_bisect=30)
    assert y32.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(y32), y, atol=1e-5)


def test_vmap_equals_loop():
    rng = np.random.default_rng(2)
    v = jnp.asarray(rng.normal(0.5, 1.0, (4, 10, 5)))
    u = jnp.ones_like(v)
    b = jnp.asarray(rng.uniform(0.5, 3.0, (4, 5)))
    proj = jax.jit(projection_box_budget)
    yb = jax.jit(jax.vmap(projection_box_budget))(v, u, b)
    for i in range(4):
        np.testing.assert_allclose(np.asarray(yb[i]), np.asarray(proj(v[i], u[i], b[i])), atol=1e-14)
