"""Per-cell QoS-WMMSE (P1 then P3, spec §3.4): monotone sum rate, QoS met on status-0 cells,
infeasible cells flagged (status 2) with finite numbers, NaN input flagged (status 3) without
leaking, batched == alone."""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.istn import metrics as M
from jaxcore.istn.problem import random_cell_problem
from jaxcore.istn.qos_wmmse import QosWmmseConfig, solve_cell

pytestmark = pytest.mark.slow  # QoS-WMMSE solves to convergence, exact vs inexact paths

K, NT, T, R, NR, L = 4, 16, 2, 2, 4, 4  # small cells: the loop logic, not the size, is tested
CFG = QosWmmseConfig(max_iter=20, inner_iter=150)
R_MIN, SCNR_MIN = 3.0, 0.1
N_OK = 4  # cells 0..3 feasible; 4: R_min too high; 5: targets out of reach; 6: NaN channel


def _cells():
    keys = jax.random.split(jax.random.PRNGKey(5), 7)
    mk = jax.jit(lambda k, r, e: random_cell_problem(k, K, NT, T, R, NR, L, r_min_sut=r, echo_snr_db=e))
    cells = [mk(keys[d], R_MIN, 13.0) for d in range(N_OK)]
    cells.append(mk(keys[4], 30.0, 13.0))  # SUT SNR 40 dB: 30 bit/s/Hz is out of reach
    cells.append(mk(keys[5], R_MIN, -60.0))  # echo 60 dB below noise: SCNR -10 dB impossible
    nan = mk(keys[6], R_MIN, 13.0)
    cells.append(nan._replace(h_tut=nan.h_tut.at[0, 0].set(jnp.nan)))
    return jax.tree_util.tree_map(lambda *x: jnp.stack(x), *cells)


@jax.jit
@jax.vmap
def _p1_p3(prob):
    s1 = solve_cell(prob, CFG)
    s3 = solve_cell(prob, CFG, F0=s1.F, q0=0.8 * s1.q, mode="p3")  # P2 cut the power
    return s1, s3


@pytest.fixture(scope="module")
def solved():
    prob = _cells()
    return prob, _p1_p3(prob)


@jax.jit
@jax.vmap
def _scnr_sut_rate(prob, F, p):
    return M.scnr_mmse(prob, F, p), M.rates(prob, F, p)[1]


def _qos(prob, sol):
    scnr, r_s = _scnr_sut_rate(prob, sol.F, sol.p_sat)
    return np.asarray(scnr), np.asarray(r_s)


@pytest.mark.parametrize("stage", ["p1", "p3"])
def test_feasible_cells_converge_monotonically_with_qos(solved, stage):
    prob, (s1, s3) = solved
    s = s1 if stage == "p1" else s3
    status = np.asarray(s.status)
    assert np.all(status[:N_OK] == 0), status
    hist = np.asarray(s.rate_history)[:N_OK]
    assert np.all(np.diff(hist, axis=1) >= -1e-9 * hist[:, :1]), "sum rate decreased"
    assert np.all(hist[:, -1] > hist[:, 0])  # the WMMSE iterations improved on the start
    np.testing.assert_allclose(hist[:, -1], np.asarray(s.sum_rate)[:N_OK], rtol=1e-12)
    scnr, r_s = _qos(prob, s)
    ok = status == 0
    assert np.all(scnr[ok] >= SCNR_MIN * (1 - 1e-5))
    assert np.all(r_s[ok] >= R_MIN - 1e-5)
    assert np.all(np.sum(np.abs(np.asarray(s.F[:N_OK])) ** 2, axis=(1, 2))
                  <= np.asarray(prob.p_bs[:N_OK]) * (1 + 1e-9))
    if stage == "p1":
        assert np.all((np.asarray(s.p_sat[:N_OK]) >= 0) & (np.asarray(s.p_sat[:N_OK]) <= 200.0 + 1e-9))
        # at the P1 optimum the sensing constraints bind (spec §3.3): SCNR ~= SCNR_min
        assert np.min(np.abs(10 * np.log10(scnr[:N_OK] / SCNR_MIN))) < 0.01
    else:
        np.testing.assert_allclose(s.q[:N_OK], 0.8 * np.asarray(s1.q[:N_OK]), rtol=1e-12)


def test_infeasible_and_nan_cells_are_flagged_and_finite(solved):
    prob, (s1, s3) = solved
    for s in (s1, s3):
        status = np.asarray(s.status)
        assert status[4] == 2 and status[5] == 2, status
        assert status[6] == 3, status
        for leaf in jax.tree_util.tree_leaves(s):
            assert np.all(np.isfinite(np.asarray(leaf)))
    scnr, r_s = _qos(prob, s1)
    assert r_s[4] < 30.0 and np.min(scnr[5]) < SCNR_MIN  # really infeasible


def test_phase1_stall_ends_only_attempts_that_stopped_progressing(solved):
    """``phase1_stall`` (on in CFG) ends the Phase I of the infeasible cells before the
    caps; without it both attempts run phase1_iter rounds each.  The feasible cells, whose
    Phase I succeeds, get bit for bit the same solution either way."""
    prob, (s1, _) = solved
    assert CFG.phase1_stall > 0
    off = dataclasses.replace(CFG, phase1_stall=0)
    s0 = jax.jit(jax.vmap(lambda p: solve_cell(p, off)))(prob)
    its_on, its_off = np.asarray(s1.phase1_iterations), np.asarray(s0.phase1_iterations)
    assert its_off[4] == its_off[5] == 2 * CFG.phase1_iter, its_off
    assert np.all(its_on[4:6] < its_off[4:6]) and np.all(its_on[4:6] >= 2 * CFG.phase1_stall), its_on
    assert np.asarray(s0.status)[4] == np.asarray(s0.status)[5] == 2
    assert np.all(its_on[:N_OK] == its_off[:N_OK]) and np.all(its_on[:N_OK] < CFG.phase1_stall), its_on
    for a, b in zip(jax.tree_util.tree_leaves(s1), jax.tree_util.tree_leaves(s0)):
        np.testing.assert_array_equal(np.asarray(a)[:N_OK], np.asarray(b)[:N_OK])


def test_batched_equals_alone(solved):
    """Each feasible cell solved in a batch of copies of itself gives the batched result
    (same compiled program; nothing of the infeasible/NaN cells leaks into the others)."""
    prob, (s1, s3) = solved
    for d in (0, 2):
        alone = _p1_p3(jax.tree_util.tree_map(lambda x: jnp.stack([x[d]] * 7), prob))
        for a, b in zip(alone, (s1, s3)):
            np.testing.assert_allclose(a.F[0], b.F[d], rtol=0, atol=1e-12)
            assert float(a.sum_rate[0]) == pytest.approx(float(b.sum_rate[d]), rel=1e-12)
            assert int(a.iterations[0]) == int(b.iterations[d])
            assert int(a.status[0]) == int(b.status[d])


def test_config_validation(solved):
    with pytest.raises(ValueError, match="strategy"):
        QosWmmseConfig(strategy="cvx")
    with pytest.raises(ValueError, match="rho"):
        QosWmmseConfig(rho=0.0)
    with pytest.raises(ValueError, match="phase1_stall"):
        QosWmmseConfig(phase1_stall=-1)
    with pytest.raises(ValueError, match="q0"):
        solve_cell(jax.tree_util.tree_map(lambda x: x[0], solved[0]), CFG, mode="p3")


def test_inexact_warm_steps_match_exact_steps(solved):
    """Capping the warm-started transmit steps (``inner_iter_warm``, the default) keeps the P1
    sum rate within 1 % of always-exact steps (inner_iter_warm=0) on the feasible cells."""
    prob, (s1, _) = solved
    assert CFG.inner_iter_warm < CFG.inner_iter  # the default caps the later steps
    sub = jax.tree_util.tree_map(lambda x: x[:N_OK], prob)
    exact = jax.jit(jax.vmap(lambda p: solve_cell(p, dataclasses.replace(CFG, inner_iter_warm=0))))(sub)
    assert np.all(np.asarray(exact.status) == 0)
    np.testing.assert_allclose(np.asarray(s1.sum_rate[:N_OK]), np.asarray(exact.sum_rate), rtol=1e-2)


def test_confirm_exact_continues_the_same_path():
    """``confirm_exact`` only acts where the loop without it would stop (a sub-tolerance
    change after an inexact warm step), and Phase II is monotone from there: per cell, the
    sum rate with it is >= the one without (up to 1e-6 relative: the monotone quantity is
    the WMMSE objective, the sum rate follows it up to sub-tolerance wiggles), after at least
    as many iterations, and identical when no stop was premature.  Paper-size cells: on the
    small cells above the warm steps close their duality gap and the option never acts.
    Strategy ``dual`` (BB ascent) with its measured settings: its capped warm steps often stop
    with an open gap (the Newton strategy's mostly close it)."""
    keys = jax.random.split(jax.random.PRNGKey(2), 3)
    cells = jax.jit(jax.vmap(lambda k: random_cell_problem(k, 5, 30, 4, 4, 4, 12)))(keys)
    cfg = QosWmmseConfig(strategy="dual", inner_iter=150, inner_iter_warm=20)
    assert cfg.confirm_exact  # the default
    run = lambda c: jax.jit(jax.vmap(lambda p: solve_cell(p, c)))(cells)  # noqa: E731  same program shape
    on, off = run(cfg), run(dataclasses.replace(cfg, confirm_exact=False))
    on_rate, off_rate = np.asarray(on.sum_rate), np.asarray(off.sum_rate)
    on_it, off_it = np.asarray(on.iterations), np.asarray(off.iterations)
    assert np.all(np.asarray(on.status) <= 1) and np.all(np.asarray(off.status) <= 1)
    assert np.all(on_it >= off_it)
    assert np.all(on_rate >= off_rate * (1 - 1e-6))
    same = on_it == off_it
    np.testing.assert_allclose(on_rate[same], off_rate[same], rtol=1e-12)
    assert np.any(on_it > off_it), (on_it, off_it)  # it acted on this data
