"""The P1 -> P2 -> P3 pipeline: JAX vs the cvxpy per-drop loop, the MU-MISO limit, batch
invariance, infeasible drops, p_sat_fixed and the merge status code."""
import numpy as np
import pytest

from reference import mu_miso_wmmse
from solvers.istn.pipeline import SolverConfig, solve_istn, solve_istn_reference

pytestmark = pytest.mark.slow  # P1 -> P2 -> P3 against the cvxpy loop

CFG = SolverConfig(max_iter=30, progress=False, slots=3)  # 3 cells in flight (continuous batching)


def synth_instance(B, M=1, K=3, Nt=8, T=2, R=2, Nr=4, L=2, seed=0, r_min=3.0, scnr_min=0.1):
    """Noise-normalised synthetic instance (Rayleigh TUT/SUT, LOS sensing), interfaces.md §1."""
    rng = np.random.default_rng(seed)
    cn = lambda *s: (rng.standard_normal(s) + 1j * rng.standard_normal(s)) / np.sqrt(2)  # noqa: E731
    ula = lambda u, n: np.exp(1j * np.pi * np.asarray(u)[..., None] * np.arange(n))  # noqa: E731
    p_bs, p_leo = 3.16, 200.0
    amp = np.sqrt(20.0 / (p_bs * Nt * Nr)) * rng.uniform(0.7, 1.4, (B, M, T, R))
    ut = rng.uniform(-0.9, 0.9, (B, M, T))
    ur = rng.uniform(-0.9, 0.9, (B, M, T, R))
    G_tar = (amp * np.exp(2j * np.pi * rng.uniform(size=amp.shape)))[..., None, None] \
        * ula(ur, Nr)[..., None] * np.conj(ula(ut, Nt))[:, :, :, None, None, :]
    own = np.arange(L) % max(T, 1)
    uct = np.clip(ut[..., own] + rng.uniform(-0.1, 0.1, (B, M, L)), -1, 1) if T else rng.uniform(-1, 1, (B, M, L))
    ucr = rng.uniform(-0.9, 0.9, (B, M, L, R))
    camp = 0.5 * np.sqrt(20.0 / (p_bs * Nt * Nr)) * np.exp(2j * np.pi * rng.uniform(size=(B, M, L, R)))
    G_cl = camp[..., None, None] * ula(ucr, Nr)[..., None] * np.conj(ula(uct, Nt))[:, :, :, None, None, :]
    return dict(
        h_tut=cn(B, M, K, Nt) * np.sqrt(10 ** rng.uniform(1, 3, (B, M, K, 1)) / p_bs),
        h_sut=cn(B, M, Nt) * np.sqrt(100 / p_bs), g_tut=np.full((B, M, K), 4.0 / p_leo),
        g_sut=np.full((B, M), 1e4 / p_leo), g_rad=np.sqrt(4.0 / p_leo) * ula(rng.uniform(-1, 1, (B, M, R)), Nr),
        G_tar=G_tar, G_cl=G_cl, assoc=np.broadcast_to(np.arange(T) % R, (B, M, T)).astype(np.int32).copy(),
        p_bs=np.full((B, M), p_bs), p_leo=np.full(B, p_leo), noise_tut=np.ones(B), noise_sut=np.ones(B),
        noise_rad=np.ones(B), r_min_sut=np.full(B, r_min), scnr_min=np.full(B, scnr_min))


@pytest.fixture(scope="module")
def small():
    a = synth_instance(3, M=2, seed=1)
    return a, solve_istn(a, CFG)


def test_matches_cvxpy_reference_loop(small):
    # the cvxpy loop runs P1 from the single start P_LEO/4 of spec §3.4 (p_sat_starts=[0.25]),
    # then the same power search on P1's beams
    a, _ = small
    two = {k: v[:2] for k, v in a.items()}
    one_start = SolverConfig(max_iter=30, progress=False, slots=3, p_sat_starts=(0.25,))
    sol = solve_istn(two, one_start)
    ref = solve_istn_reference(two, one_start)
    ok = (sol["status"][:2] <= 1) & (ref["status"] <= 1)
    assert ok.all()
    np.testing.assert_allclose(sol["sum_rate"][:2], ref["sum_rate"], rtol=0.01)
    np.testing.assert_allclose(sol["p_bar"][:2], ref["p_bar"], rtol=0.05, atol=1e-3 * 200)


def test_solution_feasible_and_consistent(small):
    a, sol = small
    ok = sol["status"] == 0
    assert ok.any()
    assert np.all(sol["rate_sut"][ok] >= np.repeat(a["r_min_sut"][:, None], 2, 1)[ok] - 1e-4)
    assert np.all(sol["scnr"][ok] >= a["scnr_min"][0] * (1 - 1e-4))
    assert np.all(np.sum(np.abs(sol["F"]) ** 2, axis=(-1, -2)) <= a["p_bs"] * (1 + 1e-6))
    assert np.all(sol["p_sat"] <= sol["p_bar"] + 1e-12)
    assert np.all(sol["p_sat"].sum(axis=1) <= a["p_leo"] * (1 + 1e-9))
    np.testing.assert_allclose(sol["sum_rate"], sol["rate_tut"].sum(axis=(1, 2)) + sol["rate_sut"].sum(axis=1))
    assert np.all(sol["iterations"] >= 1)


def _take(a, idx):
    return {k: v[idx] for k, v in a.items()}


def test_batch_equals_one_by_one(small):
    # every drop solved without the others (twice, 2 drops: >= 3 cells keep the 3-slot
    # programs) and in a permuted batch gives exactly its result in the original batch; the
    # whole-batch programs (power search, merge, metrics) run on padded batches
    # (pipeline.bucket): 2 and 3 drops share them, nothing compiles again
    from solvers.istn import pipeline
    a, sol = small
    progs = (pipeline._power_search, pipeline._merge, pipeline._metrics)
    n0 = [f._cache_size() for f in progs]
    for b in range(3):
        one = solve_istn(_take(a, [b, b]), CFG)
        np.testing.assert_allclose(one["sum_rate"], sol["sum_rate"][b], rtol=1e-10)
        np.testing.assert_allclose(one["F"][0], sol["F"][b], atol=1e-10)
        np.testing.assert_array_equal(one["status"][0], sol["status"][b])
    perm = solve_istn(_take(a, [2, 0, 1]), CFG)
    np.testing.assert_allclose(perm["sum_rate"], sol["sum_rate"][[2, 0, 1]], rtol=1e-10)
    assert [f._cache_size() for f in progs] == n0


def test_bucket_sizes():
    from solvers.istn.pipeline import bucket
    assert [bucket(n) for n in (1, 3, 8, 9, 1000, 1024, 1025, 5000)] == [8, 8, 8, 16, 1024, 1024, 2048, 5120]


def test_infeasible_drops_flagged_without_nan_leak(small):
    a, sol = small
    b = dict(a)
    b["r_min_sut"] = np.array([3.0, 40.0, 3.0])  # drop 1: R_min unreachable
    out = solve_istn(b, CFG)
    assert (out["status"][1] == 2).all()
    for k in ("F", "p_sat", "p_bar", "rate_tut", "rate_sut", "scnr", "sum_rate"):
        assert np.all(np.isfinite(out[k]))
    np.testing.assert_allclose(out["sum_rate"][[0, 2]], sol["sum_rate"][[0, 2]], rtol=1e-10)
    np.testing.assert_array_equal(out["status"][[0, 2]], sol["status"][[0, 2]])


def test_p_sat_fixed_and_merge_status_4(small):
    a, _ = small
    b = dict(a)
    b["p_sat_fixed"] = np.array([[50.0, 20.0], [10.0, 100.0], [0.0, 200.0]])
    sol = solve_istn(b, CFG)
    np.testing.assert_allclose(sol["p_sat"], b["p_sat_fixed"])
    np.testing.assert_allclose(sol["p_bar"], b["p_sat_fixed"])
    assert np.all(sol["status"] <= 2)
    # the merge must push both beams below R_min: SNR 100 at P_LEO = 200 W gives
    # 6.66 bit/s/Hz, so P1 needs p >= 126 W per beam for R_min = 6; the merge leaves each
    # ~100 W -> log2(51) = 5.67 < 6
    c = dict(a)
    c["r_min_sut"] = np.full(3, 6.0)
    c["g_sut"] = np.full((3, 2), 100.0 / 200.0)
    c["g_tut"] = np.full((3, 2, 3), 1e-6)
    c["h_sut"] = a["h_sut"] * 0.01
    sol = solve_istn(c, CFG)
    assert np.all(sol["p_sat"].sum(axis=1) <= 200.0 * (1 + 1e-9))
    assert (sol["status"] == 4).all()
    assert np.all(sol["p_bar"] >= 126.0) and np.all(sol["rate_sut"] < 6.0)


def test_no_satellite_no_sensing_is_classic_wmmse():
    """T = 0, g = 0, h_S = 0, R_min = 0: P1 is the classic MU-MISO WMMSE (Shi et al. 2011)."""
    from jaxcore.istn.problem import make_cell_problem
    from jaxcore.istn.qos_wmmse import QosWmmseConfig, solve_cells

    B, K, Nt, P = 6, 4, 4, 100.0
    rng = np.random.default_rng(7)
    H = (rng.standard_normal((B, K, Nt)) + 1j * rng.standard_normal((B, K, Nt))) / np.sqrt(2)
    prob = make_cell_problem(H, np.zeros((B, Nt)), np.zeros((B, K)), np.zeros(B), np.zeros((B, 1, 2)),
                             np.zeros((B, 0, 1, 2, Nt)), np.zeros((B, 0, 1, 2, Nt)), np.zeros((B, 0), int),
                             np.full(B, P), np.full(B, 1e-9), np.zeros(B), np.zeros(B), np.ones(B), np.ones(B),
                             np.ones(B), dtype=np.float64)
    res = solve_cells(prob, QosWmmseConfig(max_iter=200, rel_tol=1e-7), None, None, "p1")
    ref = []
    for b in range(B):
        V0 = H[b].conj().T / np.linalg.norm(H[b], axis=1) * np.sqrt(P / K)  # spec §3.4 init
        ref.append(mu_miso_wmmse.wmmse(H[b], P, 1.0, V0=V0, max_iter=200, tol=1e-7)[1])
    assert (np.asarray(res.status) <= 1).all()
    np.testing.assert_allclose(np.asarray(res.sum_rate), ref, rtol=0.01)


def test_solver_config_reaches_the_core_loop():
    """Every QosWmmseConfig field that SolverConfig (the CLI's --set) also names is passed
    through unchanged, the renamed ones included: a non-default value of each arrives."""
    import dataclasses

    from jaxcore.istn.qos_wmmse import QosWmmseConfig
    from solvers.istn.pipeline import SolverConfig, _core_cfg

    core_names = {f.name for f in dataclasses.fields(QosWmmseConfig)}
    shared = [f for f in dataclasses.fields(SolverConfig) if f.name in core_names]
    assert {"strategy", "phase1_certify", "inner_iter", "confirm_exact"} <= {f.name for f in shared}
    # every core field is reachable from --set (directly or through the two renamed keys)
    assert core_names == {f.name for f in shared} | {"rel_tol", "phase1_iter"}
    changed = {}
    for f in shared:
        v = getattr(SolverConfig(), f.name)
        if isinstance(v, bool):
            changed[f.name] = not v
        elif f.name == "strategy":
            changed[f.name] = "dual"
        elif f.name == "loop_mode":
            changed[f.name] = "scan"
        elif isinstance(v, (int, float)):
            changed[f.name] = type(v)(v * 2 + 1)
    core = _core_cfg(SolverConfig(**changed, tol=3e-4, max_phase1=9))
    for name, v in changed.items():
        assert getattr(core, name) == v, name
    assert (core.rel_tol, core.phase1_iter) == (3e-4, 9)
