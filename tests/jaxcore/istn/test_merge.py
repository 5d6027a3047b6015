"""P2 merge (44): capped water-filling closed form vs cvxpy, feasibility, and the R_min flag."""
import jax.numpy as jnp
import numpy as np

from jaxcore.istn.merge import merge_p2, merge_p2_batched, merge_powers, sut_rate
from reference.istn_merge import solve_merge_cvxpy


def _drops(n, M, seed):
    rng = np.random.default_rng(seed)
    g = 10 ** rng.uniform(-1, 2, (n, M))  # SNR per watt
    inter = 10 ** rng.uniform(0, 1.5, (n, M))
    p_bar = rng.uniform(0, 200, (n, M))
    p_leo = rng.uniform(50, 700, n)
    return g, inter, p_bar, p_leo


def test_closed_form_equals_cvxpy():
    g, inter, p_bar, p_leo = _drops(24, 5, 0)
    g[0, 2] = 0.0  # a useless beam
    p, _ = merge_p2_batched(jnp.asarray(g), jnp.asarray(inter), jnp.asarray(p_bar), jnp.asarray(p_leo),
                            jnp.full(24, 3.0), 100, 1e-5)
    p = np.asarray(p)
    n_binding = 0
    for b in range(24):
        p_ref, obj_ref, status = solve_merge_cvxpy(g[b], inter[b], p_bar[b], p_leo[b])
        assert status == "optimal"
        obj = np.sum(np.log2(1 + g[b] * p[b] / inter[b]))
        assert abs(obj - obj_ref) <= 1e-6 * max(1.0, abs(obj_ref))
        assert obj >= obj_ref - 1e-9  # the closed form is the exact optimum
        # the objective is flat at the optimum, so the interior-point p is only ~1e-5 exact
        # (a beam with g = 0 is arbitrary in the optimum; the closed form gives it 0 if binding)
        use = g[b] > 0
        np.testing.assert_allclose(p[b][use], p_ref[use], atol=1e-5 * p_leo[b], rtol=0)
        # KKT: beams strictly inside (0, p_bar) share one water level I/g + p
        inside = (p[b] > 1e-9) & (p[b] < p_bar[b] - 1e-9) & (g[b] > 0)
        if inside.sum() >= 2:
            lvl = inter[b][inside] / g[b][inside] + p[b][inside]
            assert np.ptp(lvl) <= 1e-9 * lvl.max()
        assert p[b].sum() <= p_leo[b] * (1 + 1e-12)
        assert (p[b] >= 0).all() and (p[b] <= p_bar[b]).all()
        n_binding += p_bar[b].sum() > p_leo[b]
    assert 5 <= n_binding <= 23  # both regimes are exercised


def test_caps_slack_returns_p_bar_and_binding_fills_budget():
    p_bar = jnp.array([10.0, 20.0, 30.0])
    p = merge_powers(jnp.ones(3), jnp.ones(3), p_bar, jnp.asarray(100.0))
    np.testing.assert_array_equal(np.asarray(p), np.asarray(p_bar))
    # binding: equal channels -> equal water level; caps respected, budget used
    p = np.asarray(merge_powers(jnp.ones(3), jnp.ones(3), p_bar, jnp.asarray(45.0)))
    np.testing.assert_allclose(p, [10.0, 17.5, 17.5], atol=1e-9)


def test_flag_beams_pushed_below_rmin():
    # two beams each needing 7 W (1 + 1*7/1 = 8 -> 3 bit/s/Hz); budget 10 W cannot serve both
    g = jnp.ones(2)
    inter = jnp.ones(2)
    p_bar = jnp.array([7.0, 7.0])
    p, below = merge_p2(g, inter, p_bar, jnp.asarray(10.0), jnp.asarray(3.0))
    assert np.isclose(float(p.sum()), 10.0)
    assert np.asarray(below).all()
    r = np.asarray(sut_rate(g, inter, p))
    assert (r < 3.0).all()
    # budget large enough: no flag
    _, below = merge_p2(g, inter, p_bar, jnp.asarray(14.0), jnp.asarray(3.0))
    assert not np.asarray(below).any()


def test_float32_matches_float64():
    g, inter, p_bar, p_leo = _drops(16, 4, 3)
    args64 = [jnp.asarray(x) for x in (g, inter, p_bar, p_leo)]
    args32 = [x.astype(jnp.float32) for x in args64]
    p64, _ = merge_p2_batched(*args64, jnp.full(16, 3.0), 100, 1e-5)
    p32, _ = merge_p2_batched(*args32, jnp.full(16, 3.0, jnp.float32), 100, 1e-5)
    assert p32.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(p32), np.asarray(p64), atol=1e-4 * 400)
