"""JMRA subproblem (31)-(33) and Algorithm 1 (jaxcore.ntn.jmra) against the cvxpy reference."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.ntn import jmra as J
from reference.ntn_subproblem import SubproblemRef
from solvers.ntn.allocate import INSTANCE_KEYS
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
    s = J.JmraSettings(max_inner=4000, inner_tol=1e-11, loop="scan")
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


@pytest.mark.parametrize("loop", ["while", "scan"])
def test_algorithm1_batched_equals_one_by_one(loop):
    inst = random_instances(3, C=15, S=6, seed=7)
    # tol = 0: no early stop, both runs do exactly max_outer SCA steps.  Batched reductions
    # re-associate floating-point sums, and FISTA's accept/stop tests can flip on last-bit
    # ties, so the trajectories agree to the scale of Algorithm 1's tolerance, not bitwise.
    s = J.JmraSettings(tol=0.0, max_outer=8, max_inner=1500, inner_tol=1e-11, loop=loop)
    run = jax.jit(lambda *f: J.jmra_relaxed(J.prepare(*f), s))
    fields = [jnp.asarray(inst[k]) for k in INSTANCE_KEYS]
    rb = jax.jit(jax.vmap(lambda *f: J.jmra_relaxed(J.prepare(*f), s)))(*fields)
    for b in range(3):
        r1 = run(*[f[b] for f in fields])
        np.testing.assert_allclose(np.asarray(rb.y[b]), np.asarray(r1.y), atol=3e-3)
        assert int(rb.iterations[b]) == int(r1.iterations) == 8
    # float32 run keeps its dtype and lands near the float64 relaxed point
    r32 = jax.jit(jax.vmap(lambda *f: J.jmra_relaxed(J.prepare(*f), s)))(
        *[f.astype(jnp.float32) if f.dtype == jnp.float64 else f for f in fields])
    assert r32.y.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(r32.y)))
