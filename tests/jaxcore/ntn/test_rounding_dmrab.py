"""Algorithm 2 feasibility, DMRAB (Algorithm 3) optimum/infeasibility, JMRA >= DMRAB (NTN paper)."""
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.ntn.jmra import KBIT
from ntn_random import random_instances
from reference.ntn_dmrab import solve_satellite
from solvers.ntn.allocate import JmraConfig, solve_allocation
from jaxcore.ntn.dmrab import dmrab, dmrab_match
from jaxcore.ntn.rounding import scale_columns_to_budget

CFG = JmraConfig()  # defaults: inexact inner solves (max_inner=200) cost up to 9 % objective


@pytest.fixture(scope="module")
def solved():
    inst = random_instances(4, C=30, S=12, seed=3, t_ho=0.05, n_beams=2)
    return inst, {m: solve_allocation(inst, m, CFG) for m in ("jmra", "jmra-nohop", "dmrab")}


def _check_feasible(inst, x):
    n_com = inst["n_com"][:, None, None]
    assert x.dtype.kind == "i"
    assert ((x >= 0) & (x <= n_com)).all()  # (26a)
    assert (x.sum(1) <= inst["n_beams"] * inst["n_com"][:, None]).all()  # (26c)
    assert ((x > 0).sum(2) <= 1).all()  # (26e)
    assert (x[inst["rate"] == 0] == 0).all()
    t_ho = inst["t_ho"][:, None, None] * (1 - inst["prev_served"])
    served = x > 0
    assert (x[served] * inst["t_ofdma"][:, None, None].repeat(x.shape[1], 1).repeat(x.shape[2], 2)[served]
            > t_ho[served]).all()  # handover floor


def test_integer_and_feasible(solved):
    inst, sol = solved
    for m, s in sol.items():
        _check_feasible(inst, s["x"])
        assert np.isfinite(s["objective"]).all() and (s["status"] != 2).all(), m


def test_jmra_objective_at_least_dmrab(solved):
    inst, sol = solved
    assert (sol["jmra"]["objective"] >= sol["dmrab"]["objective"]).all()


def test_scale_columns_exact_budget():
    rng = np.random.default_rng(0)
    e = jnp.asarray(rng.integers(0, 50, (20, 6)), jnp.int32)
    avail = jnp.asarray([0, 10, 100, 1000, 333, 57], jnp.int32)
    out = np.asarray(scale_columns_to_budget(e, avail))
    tot = np.asarray(e).sum(0)
    assert (out <= np.asarray(e)).all() and (out >= 0).all()
    np.testing.assert_array_equal(out.sum(0), np.minimum(tot, np.asarray(avail)))


def test_dmrab_waterfill_matches_cvxpy():
    inst = random_instances(1, C=30, S=6, seed=11, t_ho=0.02, n_beams=2)
    f = [jnp.asarray(inst[k][0]) for k in ("rate", "n_active", "prev_served", "t_ho", "n_com", "n_beams",
                                              "t_ofdma", "t_frame", "eps")]
    metric = jnp.asarray(inst["snr_clear"][0])
    import jax
    res = jax.jit(dmrab)(*f, metric)
    assert bool(res.feasible)
    na = inst["n_active"][0]
    member = np.asarray(dmrab_match(metric, jnp.asarray((inst["rate"][0] > 0) & (na[:, None] > 0))))
    a = na / na[na > 0].mean()
    n_com, t_o, t_f = float(inst["n_com"][0]), 0.01, 10.0
    t_ho = 0.02 * (1 - inst["prev_served"][0])
    for s in range(6):
        cs = np.nonzero(member[:, s])[0]
        if cs.size == 0:
            continue
        k = inst["rate"][0][cs, s] / KBIT * n_com * t_o / (t_f * na[cs])
        y_ref, _ = solve_satellite(a[cs], k, t_ho[cs, s] / (n_com * t_o), 2.0, 1.0 / KBIT)
        np.testing.assert_allclose(np.asarray(res.y)[cs, s], y_ref, atol=2e-5)


@pytest.mark.parametrize("n_beams,n_com", [(1, 3), (1, 4), (1, 5), (2, 1), (2, 2)])
def test_dmrab_infeasible_exactly_when_floors_exceed_budget(n_beams, n_com):
    # two satellites; cells 0-3 see both, but sat 0 has the higher SNR, so all match to it
    C, S = 4, 2
    rate = np.full((1, C, S), 100e6)
    snr = np.tile(np.array([[30.0, 10.0]]), (1, C, 1))
    t_ho = 0.025  # ceil(T_HO / T_O) = 3 frames per new cell
    inst = dict(rate=rate, snr_clear=snr, n_active=np.full((1, C), 100.0), prev_served=np.zeros((1, C, S), bool),
                t_ho=np.array([t_ho]), n_com=np.array([n_com * 3]), n_beams=np.full((1, S), n_beams),
                t_ofdma=np.array([0.01]), t_frame=np.array([10.0]), eps=np.ones(1))
    floors = C * 3
    sol = solve_allocation(inst, "dmrab")
    infeasible = floors > n_beams * n_com * 3
    assert infeasible == ((n_beams, n_com) in ((1, 3), (2, 1)))  # both outcomes are exercised
    assert (sol["status"][0] == 2) == infeasible
    if infeasible:
        assert np.isnan(sol["objective"][0]) and (sol["x"] == 0).all()
    else:
        assert np.isfinite(sol["objective"][0]) and (sol["x"][0, :, 0] >= 3).all()
