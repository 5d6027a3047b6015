"""ISTN baselines: ZF building blocks against the metrics, ZF-EPS against a brute-force grid,
interference-free >= proposed / greedy, reported feasibility re-checked by evaluate_solution."""
from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.istn import zf
from jaxcore.istn.metrics import all_metrics, scnr_mmse
from jaxcore.istn.problem import random_cell_problem

pytestmark = pytest.mark.slow  # every baseline's pipeline compiled


zf_beams = jax.jit(zf.zf_beams, static_argnames=("null_sut",))
sensing_cov = jax.jit(zf.sensing_cov)
scnr_from_cov = jax.jit(zf.scnr_from_cov, static_argnames=("K",))
min_sensing_power = jax.jit(zf.min_sensing_power, static_argnames=("n_iter",))
scnr_mmse_j = jax.jit(scnr_mmse)
all_metrics_j = jax.jit(all_metrics)
waterfill = jax.jit(zf.waterfill)
# the tiny scenario shared with tests/solvers/istn/test_figures.py (same shapes -> jit compiles reused)
TINY = dict(n_tx=12, n_tut=3, n_targets=2, n_radar=2, n_rx=4, clutter_per_target=2)


@pytest.fixture(scope="module")
def cells():
    keys = jax.random.split(jax.random.PRNGKey(7), 6)
    return [random_cell_problem(k, K=3, Nt=10, T=2, R=2, Nr=3, L=4) for k in keys]


def test_zf_beams_null_and_gains(cells):
    for prob in cells:
        F, c = zf_beams(prob)
        K = prob.h_tut.shape[0]
        hF = np.asarray(prob.h_tut @ F)  # [K, K+T]
        off = hF.copy()
        off[np.arange(K), np.arange(K)] = 0  # every TUT sees only its own beam
        assert np.abs(off).max() < 1e-6 * np.abs(np.diag(hF)).max()
        np.testing.assert_allclose(np.abs(np.diag(hF[:, :K])) ** 2, np.asarray(c[:K]), rtol=1e-6)
        np.testing.assert_allclose(np.linalg.norm(np.asarray(F), axis=0), 1.0, rtol=1e-9)
        # each sensing beam is orthogonal to the other targets' transmit directions
        T = prob.G_tar.shape[0]
        rows = np.stack([np.asarray(zf.target_tx_direction(prob.G_tar[i, prob.assoc[i]])) for i in range(T)])
        g = np.abs(rows @ np.asarray(F[:, K:]))
        assert np.abs(g - np.diag(np.diag(g))).max() < 1e-6 * g.max()


def test_sensing_cov_matches_metrics(cells):
    rng = np.random.default_rng(0)
    for prob in cells:
        F_dir, _ = zf_beams(prob)
        C, a_hat, gg = sensing_cov(prob, F_dir)
        K = prob.h_tut.shape[0]
        for _ in range(3):
            pw = jnp.asarray(rng.uniform(0.0, 1.0, F_dir.shape[1]))
            p = float(rng.uniform(0, 200))
            F = F_dir * jnp.sqrt(pw)[None, :]
            np.testing.assert_allclose(scnr_from_cov(C, a_hat, gg, pw, p, prob.noise_rad, K=K),
                                       scnr_mmse_j(prob, F, p), rtol=1e-8)


def test_min_sensing_power_is_feasible_and_minimal(cells):
    n_ok = 0
    for prob in cells:
        F_dir, _ = zf_beams(prob)
        C, a_hat, gg = sensing_cov(prob, F_dir)
        K = prob.h_tut.shape[0]
        p_tut = jnp.full((K,), 0.3)
        gam = 1.0 / prob.e_rad - 1.0
        s, sc = min_sensing_power(C, a_hat, gg, p_tut, 100.0, prob.noise_rad, gam, 1e6, n_iter=300)
        if s.sum() > 1e5:
            continue  # clutter-limited: infeasible at any power
        n_ok += 1
        np.testing.assert_allclose(sc, gam, rtol=1e-6)  # every constraint active at the least powers
        for i in range(s.shape[0]):  # lowering any single power breaks that target
            s2 = s.at[i].multiply(0.99)
            sc2 = scnr_from_cov(C, a_hat, gg, jnp.concatenate([p_tut, s2]), 100.0, prob.noise_rad, K=K)
            assert sc2[i] < gam
    assert n_ok >= 3


def test_waterfill_kkt():
    floor = jnp.array([0.1, 0.5, 2.0, 0.05])
    p = np.asarray(waterfill(floor, 1.0))
    assert abs(p.sum() - 1.0) < 1e-9 and (p >= 0).all()
    lvl = (p + np.asarray(floor))[p > 0]
    np.testing.assert_allclose(lvl, lvl[0], rtol=1e-8)  # common water level on active streams
    assert (np.asarray(floor)[p == 0] >= lvl[0] - 1e-9).all()


# ----------------------------------------------------------------------------- real instances
@pytest.fixture(scope="module")
def small_instance():
    from solvers.istn.config import IstnConfig
    from solvers.istn.generate import generate_instance
    return generate_instance(IstnConfig(**TINY), 8, 11, precision="float64", progress=False)


ZF_PROGRAMS_ADDED: list[int] = []  # ``solutions``: programs greedy and uniform compiled after interference-free


@pytest.fixture(scope="module")
def solutions(small_instance):
    from solvers.istn import baselines
    from solvers.istn.baselines import solve_baseline
    from solvers.istn.pipeline import SolverConfig, solve_istn
    out = {"interference-free": solve_baseline("interference-free", small_instance)}
    programs = baselines._solve_zf._cache_size()
    out.update({m: solve_baseline(m, small_instance) for m in ("greedy", "uniform")})
    ZF_PROGRAMS_ADDED.append(baselines._solve_zf._cache_size() - programs)
    out["zf-eps"] = solve_baseline("zf-eps", small_instance)
    out["proposed"] = solve_istn(small_instance, SolverConfig(progress=False), "proposed", 0)
    return out


def test_interference_free_bounds(solutions):
    # the three ZF baselines are data to one compiled program (solvers/istn/baselines.py)
    assert ZF_PROGRAMS_ADDED == [0]
    ifr = solutions["interference-free"]
    # greedy designs exactly the interference-free beams, then suffers the interference: per drop <=
    np.testing.assert_allclose(solutions["greedy"]["F"], ifr["F"], rtol=1e-9, atol=1e-12)
    assert np.all(solutions["greedy"]["sum_rate"] <= ifr["sum_rate"] + 1e-9)
    assert np.all(solutions["uniform"]["sum_rate"] <= ifr["sum_rate"] + 1e-9)
    # the upper bound on average
    for m in ("proposed", "zf-eps"):
        assert solutions[m]["sum_rate"].mean() <= ifr["sum_rate"].mean()


def test_reported_feasible_really_feasible(small_instance, solutions):
    from solvers.istn.cmd_evaluate import evaluate_solution
    n_feasible = 0
    for m, sol in solutions.items():
        if m == "interference-free":
            continue  # describes the idealised system, not this instance
        ev = evaluate_solution(small_instance, sol)
        ok = (np.asarray(sol["status"]) == 0).all(axis=1)
        n_feasible += int(ok.sum())
        assert np.all(ev["feasible"][ok]), m
        assert ev["mismatch_sum_rate"] < 1e-6, m
    assert n_feasible >= 4


@pytest.mark.parametrize("null_sut", [True, False])
def test_zf_eps_is_the_best_grid_point(small_instance, null_sut):
    """ZF-EPS on a 3 x 3 grid equals a brute-force search with the metrics, drop by drop
    (the default SUT-nulling beams and the old TUT/target-only ones, ``zf_null_sut``)."""
    from solvers.istn.baselines import BaselineConfig, solve_baseline
    from solvers.istn.problems import cell_problems, prepare
    bc = BaselineConfig(eps_p_points=3, eps_rho_points=3, eps_p_min_frac=1e-2, eps_rho_min=1e-2,
                        zf_null_sut=null_sut)
    sol = solve_baseline("zf-eps", small_instance, bc)
    prob = cell_problems(*prepare(small_instance, "nearest"))
    p_leo = float(small_instance["p_leo"][0])
    gam, rmin = float(small_instance["scnr_min"][0]), float(small_instance["r_min_sut"][0])
    for b in range(4):
        pr = jax.tree_util.tree_map(lambda x: x[b, 0], prob)
        F_dir, c = zf_beams(pr, null_sut=null_sut)
        _, a_hat, _ = sensing_cov(pr, F_dir)
        echo = np.sum(np.abs(np.asarray(a_hat)) ** 2, axis=1)
        shape = (1 / echo) / (1 / echo).sum()
        K = pr.h_tut.shape[0]
        best = -np.inf
        for p, rho in itertools.product(p_leo * np.logspace(-2, 0, 3), np.logspace(-2, 0, 3)):
            s = rho * float(pr.p_bs) * shape
            pt = waterfill((1.0 + pr.g_tut * p) / c[:K], (1 - rho) * pr.p_bs)
            F = F_dir * jnp.sqrt(jnp.concatenate([pt, jnp.asarray(s)]))[None, :]
            r_t, r_s, tot, sc = all_metrics_j(pr, F, p)
            if np.all(np.asarray(sc) >= gam) and float(r_s) >= rmin:
                best = max(best, float(tot))
        if np.isfinite(best):
            assert sol["status"][b, 0] == 0
            np.testing.assert_allclose(sol["sum_rate"][b], best, rtol=1e-6)
        else:
            assert sol["status"][b, 0] == 2


def test_zf_null_sut_nulls_and_keeps_the_other_nulls(cells):
    """``null_sut``: h^(S) f_j ~ 0 for every beam, the TUT/target nulls of zf_beams still hold."""
    for prob in cells:
        F, c = zf_beams(prob, null_sut=True)
        K = prob.h_tut.shape[0]
        hs = np.abs(np.asarray(prob.h_sut @ F))
        hF = np.asarray(prob.h_tut @ F)
        assert hs.max() < 1e-7 * np.linalg.norm(np.asarray(prob.h_sut))
        off = hF.copy()
        off[np.arange(K), np.arange(K)] = 0
        assert np.abs(off).max() < 1e-6 * np.abs(np.diag(hF)).max()
        np.testing.assert_allclose(np.abs(np.diag(hF[:, :K])) ** 2, np.asarray(c[:K]), rtol=1e-6)
        # one more null costs effective gain: c_k(null SUT) <= c_k(TUTs and targets only)
        assert np.all(np.asarray(c) <= np.asarray(zf_beams(prob)[1]) * (1 + 1e-9))


def test_zf_eps_sut_rate_rises_with_satellite_power(small_instance):
    """ZF-EPS nulling the SUT (default): with p fixed by a one-point grid (p = P_LEO), the SUT
    rate is log2(1 + g^S p / sigma_S^2) -- no TBS interference -- and rises with P_LEO on
    every seeded drop; the old beams (``zf_null_sut=false``) leave TBS interference."""
    from solvers.istn.baselines import BaselineConfig, solve_baseline
    one = dict(eps_p_points=1, eps_p_min_frac=1.0, eps_rho_points=5)
    p_grid = (1.0, 5.0, 20.0, 100.0, 200.0)
    rs, rs_old = [], []
    for p in p_grid:
        inst = dict(small_instance, p_leo=np.full_like(small_instance["p_leo"], p))
        sol = solve_baseline("zf-eps", inst, BaselineConfig(**one))
        np.testing.assert_allclose(sol["p_sat"], p)
        snr = np.asarray(inst["g_sut"]) * p / np.asarray(inst["noise_sut"])[:, None]
        np.testing.assert_allclose(sol["rate_sut"], np.log2(1 + snr), rtol=1e-6)
        rs.append(sol["rate_sut"])
        rs_old.append(solve_baseline("zf-eps", inst, BaselineConfig(zf_null_sut=False, **one))["rate_sut"])
    rs, rs_old = np.array(rs), np.array(rs_old)  # [P, B, M]
    assert np.all(np.diff(rs, axis=0) > 0)
    assert np.all(rs_old <= rs * (1 + 1e-9))
    assert np.any(rs_old < rs * 0.99)  # some drop's SUT did see TBS interference before
