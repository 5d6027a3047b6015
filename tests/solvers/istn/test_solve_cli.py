"""``satisac istn solve``: valid solution files (proposed, --reference, a baseline), errors."""
import numpy as np
import pytest

from solvers.istn.instance import load_solution, save_instance, validate_instance


import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_pipeline import synth_instance  # noqa: E402

# same shapes and solver settings as test_pipeline.py, so one compilation serves both files
SET = ("--set", "max_iter=30", "--set", "progress=false", "--set", "slots=3")


@pytest.fixture(scope="module")
def inst_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("inst")
    a = synth_instance(3, M=2, seed=1)
    del a["assoc"]  # Algorithm 1 runs from the channels
    p = d / "inst.npz"
    save_instance(p, a)
    tiny = synth_instance(1, M=1, K=2, Nt=4, T=1, R=2, Nr=2, L=1, seed=2)
    pt = d / "tiny.npz"
    save_instance(pt, tiny)
    return p, a, pt, tiny


def test_solve_writes_valid_solution(cli, tmp_path, inst_path):
    p, a, pt, tiny = inst_path
    out = tmp_path / "sol.npz"
    code, stdout, stderr = cli("--precision", "float64", "istn", "solve", p, "-o", out, *SET)
    assert code == 0, stderr
    assert str(out) in stdout
    sol, _ = load_solution(out, validate_instance(a))  # SOLUTION_FIELDS + instance axes
    assert sol["status"].dtype == np.int8
    assert np.all(sol["p_sat"].sum(axis=1) <= a["p_leo"] * (1 + 1e-9))
    assert np.all(sol["p_sat"] <= sol["p_bar"] + 1e-12)


def test_reference_cli(cli, tmp_path, inst_path):
    # (the JAX-vs-cvxpy agreement itself is tested in test_pipeline.py)
    p, a, pt, tiny = inst_path
    out_r = tmp_path / "ref.npz"
    code, stdout, stderr = cli("--precision", "float64", "istn", "solve", pt, "-o", out_r, "--reference", *SET)
    assert code == 0, stderr
    assert str(out_r) in stdout
    ref, _ = load_solution(out_r, validate_instance(tiny))
    assert (ref["status"] <= 1).all()
    assert np.all(ref["rate_sut"] >= tiny["r_min_sut"][:, None] - 1e-4)
    assert np.all(ref["scnr"] >= tiny["scnr_min"][:, None, None] * (1 - 1e-4))
    np.testing.assert_allclose(ref["p_sat"], ref["p_bar"])  # M = 1: the merge keeps p_bar


def test_solve_baseline_dispatch_and_errors(cli, tmp_path, inst_path, monkeypatch):
    import solvers.istn.baselines as bl
    from reference.istn_wmmse import solve_reference
    from solvers.solution import IstnSolution

    p, a, pt, tiny = inst_path
    calls = []

    def fake(method, arrays, cfg, seed, assoc_method=None, solver_cfg=None):
        calls.append((method, seed, assoc_method, type(cfg).__name__))
        if method == "zf-eps":
            assert cfg.zf_null_sut is False
        return IstnSolution.from_arrays(solve_reference(arrays, arrays["assoc"], progress=False, max_iter=2))

    monkeypatch.setattr(bl, "solve_baseline", fake)
    out = tmp_path / "b.npz"
    code, _, stderr = cli("istn", "solve", pt, "-o", out, "--method", "uniform", "--seed", "5")
    assert code == 0, stderr
    code, _, stderr = cli("istn", "solve", pt, "-o", out, "--method", "greedy", "--assoc", "random")
    assert code == 0, stderr
    # BaselineConfig keys share the --set namespace with SolverConfig
    code, _, stderr = cli("istn", "solve", pt, "-o", out, "--method", "zf-eps", "--set", "zf_null_sut=false")
    assert code == 0, stderr
    assert calls == [("uniform", 5, None, "BaselineConfig"), ("greedy", 0, "random", "BaselineConfig"),
                     ("zf-eps", 0, None, "BaselineConfig")]
    load_solution(out, validate_instance(tiny))
    bad = tmp_path / "x.npz"
    code, _, stderr = cli("istn", "solve", pt, "-o", bad, "--method", "greedy", "--reference")
    assert code == 2 and "--reference" in stderr and not bad.exists()
    code, _, stderr = cli("istn", "solve", pt, "-o", bad, "--set", "strategy=cvx")
    assert code == 2 and "strategy" in stderr and not bad.exists()
    broken = tmp_path / "broken.npz"
    np.savez(broken, **{k: v for k, v in tiny.items() if k != "g_sut"})
    code, _, stderr = cli("istn", "solve", broken, "-o", bad)
    assert code == 2 and "g_sut" in stderr and not bad.exists()
