"""ISTN instance/solution files (interfaces.md §1-2), noise normalisation and
``evaluate_solution`` against an independent numpy implementation of eqs. (16)-(24).

(Named test_istn_* because tests/solvers/ntn/ already holds test_instance_io.py: pytest's
default import mode needs unique basenames.)
"""
from __future__ import annotations

import numpy as np
import pytest

from solvers.istn.cmd_evaluate import evaluate_solution
from solvers.istn.instance import (EVALUATE_SOLUTION_FIELDS, INSTANCE_FIELDS, SOLUTION_FIELDS, load_instance,
                                   load_solution, save_instance, save_solution, to_normalised, validate_instance,
                                   validate_solution)
from solvers.npzio import InstanceError

# the dimensions of test_istn_generate_cli's scenario, so both share evaluate's compile
B, M, K, NT, T, R, NR, L = 3, 2, 10, 8, 2, 2, 2, 2


def _c(rng, *shape, scale=1.0):
    return scale * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


def make_instance(seed=0, noise=(2e-12, 3e-12, 5e-12)):
    """A random instance in watts-like units (noise ~ 1e-12, channels scaled accordingly)."""
    rng = np.random.default_rng(seed)
    a = dict(
        h_tut=_c(rng, B, M, K, NT, scale=3e-6), h_sut=_c(rng, B, M, NT, scale=1e-6),
        g_tut=rng.uniform(1e-15, 1e-13, (B, M, K)), g_sut=rng.uniform(1e-11, 1e-10, (B, M)),
        g_rad=_c(rng, B, M, R, NR, scale=1e-7), G_tar=_c(rng, B, M, T, R, NR, NT, scale=2e-7),
        G_cl=_c(rng, B, M, L, R, NR, NT, scale=1e-7), p_bs=np.full((B, M), 3.16), p_leo=np.full(B, 200.0),
        noise_tut=np.full(B, noise[0]), noise_sut=np.full(B, noise[1]), noise_rad=np.full(B, noise[2]),
        r_min_sut=np.full(B, 3.0), scnr_min=np.full(B, 0.1),
        assoc=rng.integers(0, R, (B, M, T)), theta_tar_rx=rng.uniform(-1, 1, (B, M, T, R)),
        tut_los=rng.integers(0, 2, (B, M, K)).astype(bool), delta_sat=np.full(B, 0.5))
    return a


def make_solution(inst, seed=1, p_sat=50.0):
    rng = np.random.default_rng(seed)
    F = _c(rng, B, M, NT, K + T)
    F *= np.sqrt(0.9 * inst["p_bs"][..., None, None] / np.sum(np.abs(F) ** 2, axis=(2, 3), keepdims=True))
    return dict(F=F, p_sat=np.full((B, M), p_sat))


def full_solution(inst, sol):
    res = evaluate_solution(inst, sol)
    return dict(sol, p_bar=sol["p_sat"].copy(), assoc=inst["assoc"], rate_tut=res["rate_tut"],
                rate_sut=res["rate_sut"], scnr=res["scnr"], sum_rate=res["sum_rate"],
                status=np.zeros((B, M), np.int8), iterations=np.ones((B, M), np.int32))


def test_field_tables_match_interfaces_md(shared_dir):
    """Every field name of interfaces.md §1/§2 tables is in the specs, and vice versa."""
    import re
    text = (shared_dir / "spec" / "interfaces.md").read_text()
    sec1 = text[text.index("## 1. ISTN instance"):text.index("## 2. ISTN solution")]
    sec2 = text[text.index("## 2. ISTN solution"):text.index("## 3.")]
    # first table cell of each row: "| `a`, `b` | ..." -> {a, b}
    names = lambda s: {n for cell in re.findall(r"^\| (`[^|]*?) \|", s, re.M) for n in re.findall(r"`(\w+)`", cell)}  # noqa: E731
    assert names(sec1) == {f.name for f in INSTANCE_FIELDS}
    assert names(sec2) == {f.name for f in SOLUTION_FIELDS}


def test_instance_roundtrip(tmp_path):
    a = make_instance()
    path = save_instance(tmp_path / "inst.npz", a)
    b, dims = load_instance(path)
    assert dims == dict(B=B, M=M, K=K, Nt=NT, R=R, Nr=NR, T=T, L=L)
    for k, v in a.items():
        assert b[k].dtype == v.dtype
        np.testing.assert_array_equal(b[k], v)


@pytest.mark.parametrize("mutate, match", [
    (lambda a: a.pop("G_cl"), "missing required field 'G_cl'"),
    (lambda a: a.update(h_sut=np.ones((B, M, NT + 1), complex)), "field 'h_sut': expected shape"),
    (lambda a: a.update(g_tut=np.ones((B, M))), "field 'g_tut': expected shape"),
    (lambda a: a["G_tar"].__setitem__((0, 0, 0, 0, 0, 0), np.nan), "field 'G_tar': expected finite"),
    (lambda a: a["p_bs"].__setitem__((1, 0), -1.0), "field 'p_bs': expected non-negative"),
    (lambda a: a["noise_rad"].__setitem__(0, 0.0), "field 'noise_rad': expected positive"),
    (lambda a: a["g_sut"].__setitem__((0, 1), np.inf), "field 'g_sut': expected finite"),
    (lambda a: a["assoc"].__setitem__((0, 0, 0), R), r"field 'assoc': expected indices in \[0, 1\]"),
    (lambda a: a.update(h_tut=np.ones((B, M, K, NT))), "field 'h_tut': expected a complex array"),
    (lambda a: a.update(p_leo=np.ones(B + 1)), "field 'p_leo': expected shape"),
])
def test_malformed_instance_is_rejected_and_nothing_written(tmp_path, mutate, match):
    a = make_instance()
    mutate(a)
    with pytest.raises(InstanceError, match=match):
        validate_instance(a)
    out = tmp_path / "bad.npz"
    with pytest.raises(InstanceError, match=match):
        save_instance(out, a)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_solution_validation(tmp_path):
    inst = make_instance()
    dims = validate_instance(inst)
    sol = full_solution(inst, make_solution(inst))
    path = save_solution(tmp_path / "sol.npz", sol, dims)
    back, sdims = load_solution(path, dims)
    assert sdims["KT"] == K + T
    bad = dict(sol, F=sol["F"][..., :K])
    with pytest.raises(InstanceError, match=r"field 'F': expected shape .*KT"):
        validate_solution(bad, dims)
    with pytest.raises(InstanceError, match="missing required field 'status'"):
        validate_solution({k: v for k, v in sol.items() if k != "status"}, dims)
    with pytest.raises(InstanceError, match="field 'p_sat': expected non-negative"):
        save_solution(tmp_path / "bad.npz", dict(sol, p_sat=-sol["p_sat"]), dims)
    assert not (tmp_path / "bad.npz").exists()
    # evaluate accepts a minimal solution (F, p_sat) made elsewhere
    validate_solution(make_solution(inst), dims, specs=EVALUATE_SOLUTION_FIELDS)


def _numpy_metrics(inst, sol):
    """Independent numpy eqs. (16), (17), (23), (24) and the MMSE SCNR a0^H Q^-1 a0 of (18)-(22)."""
    F, p = sol["F"], sol["p_sat"]
    rt = np.zeros((B, M, K))
    rs = np.zeros((B, M))
    sc = np.zeros((B, M, T))
    for b in range(B):
        for m in range(M):
            f = F[b, m]
            hf = np.abs(inst["h_tut"][b, m] @ f) ** 2                               # [K, K+T]
            for k in range(K):
                sinr = hf[k, k] / (hf[k].sum() - hf[k, k] + inst["g_tut"][b, m, k] * p[b, m] + inst["noise_tut"][b])
                rt[b, m, k] = np.log2(1 + sinr)
            s = inst["g_sut"][b, m] * p[b, m] / (np.sum(np.abs(inst["h_sut"][b, m] @ f) ** 2) + inst["noise_sut"][b])
            rs[b, m] = np.log2(1 + s)
            for i in range(T):
                n = inst["assoc"][b, m, i]
                Gt = inst["G_tar"][b, m, :, n]                                        # [T, Nr, Nt]
                Gs = Gt.sum(0)
                fi = f[:, K + i]
                a0 = Gt[i] @ fi
                Q = inst["noise_rad"][b] * np.eye(NR, dtype=complex)
                Q += p[b, m] * np.outer(inst["g_rad"][b, m, n], inst["g_rad"][b, m, n].conj())
                for t in range(T):
                    if t != i:
                        v = Gt[t] @ fi
                        Q += np.outer(v, v.conj())                                     # (19)
                for l_ in range(L):
                    C = inst["G_cl"][b, m, l_, n] @ f
                    Q += C @ C.conj().T                                                # (20)
                for j in range(K + T):
                    if j != K + i:
                        v = Gs @ f[:, j]
                        Q += np.outer(v, v.conj())                                     # (21)
                sc[b, m, i] = np.real(a0.conj() @ np.linalg.solve(Q, a0))
    return rt, rs, sc


def test_evaluate_matches_numpy_formulas_and_flags_violations():
    inst = make_instance()
    sol = make_solution(inst)
    res = evaluate_solution(inst, dict(sol, assoc=inst["assoc"]))
    rt, rs, sc = _numpy_metrics(inst, sol)
    np.testing.assert_allclose(res["rate_tut"], rt, rtol=1e-9)
    np.testing.assert_allclose(res["rate_sut"], rs, rtol=1e-9)
    np.testing.assert_allclose(res["scnr"], sc, rtol=1e-8)
    np.testing.assert_allclose(res["sum_rate"], rt.sum((1, 2)) + rs.sum(1), rtol=1e-9)
    assert np.all(res["v_tbs_power"] == 0) and np.all(res["v_sat_total"] == 0)
    np.testing.assert_allclose(res["v_sut_rate"], np.maximum(0, 3.0 - rs))
    # violations: double TBS power, sum satellite power 2 x 150 > 200, p_sat above p_bar
    bad = dict(sol, F=sol["F"] * np.sqrt(2 / 0.9), p_sat=np.full((B, M), 150.0), p_bar=np.full((B, M), 100.0))
    v = evaluate_solution(inst, bad)
    np.testing.assert_allclose(v["v_tbs_power"], 1.0, rtol=1e-9)
    np.testing.assert_allclose(v["v_sat_total"], 0.5, rtol=1e-12)
    np.testing.assert_allclose(v["v_sat_beam"], 0.5, rtol=1e-12)
    assert not v["feasible"].any()
    # reported numbers that equal the recomputation give ~0 mismatch
    full = full_solution(inst, sol)
    r2 = evaluate_solution(inst, full)
    assert r2["mismatch_rate_tut"] < 1e-12 and r2["mismatch_scnr"] < 1e-9


def test_evaluate_requires_an_association():
    inst = make_instance()
    inst.pop("assoc")
    with pytest.raises(InstanceError, match="'assoc'"):
        evaluate_solution(inst, make_solution(inst))


def test_to_normalised_keeps_every_metric_and_sets_noise_to_one():
    inst = make_instance()
    sol = dict(make_solution(inst), assoc=inst["assoc"])
    norm = to_normalised(inst)
    assert inst["noise_tut"][0] == 2e-12                      # input untouched
    for k in ("noise_tut", "noise_sut", "noise_rad"):
        np.testing.assert_array_equal(norm[k], 1.0)
    for k in ("p_bs", "p_leo", "r_min_sut", "scnr_min", "assoc", "theta_tar_rx"):
        np.testing.assert_array_equal(norm[k], inst[k])
    np.testing.assert_allclose(norm["g_tut"], inst["g_tut"] / 2e-12)
    np.testing.assert_allclose(norm["G_cl"], inst["G_cl"] / np.sqrt(5e-12))
    assert norm["h_tut"].dtype == inst["h_tut"].dtype
    a, b = evaluate_solution(inst, sol), evaluate_solution(norm, sol)
    for k in ("rate_tut", "rate_sut", "scnr"):
        np.testing.assert_allclose(a[k], b[k], rtol=1e-9)
