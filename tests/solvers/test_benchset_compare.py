"""Standard instance sets (``satisac benchset``), ``satisac compare`` and the worked example
of BENCHMARKING.md (issue 24), on the ``small`` sets."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from solvers import benchset, compare
from solvers.npzio import save_npz_atomic

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ntn_set(tmp_path_factory):
    d = tmp_path_factory.mktemp("sets") / "ntn-small"
    benchset.make_set("ntn", "small", d, seed=0)
    return d


@pytest.fixture(scope="module")
def istn_set(tmp_path_factory):
    """Built with XLA optimisation level 0 (SATISAC_QUICK_COMPILE=1, recorded in the
    manifest and used again by --check): ~5x faster to compile, same bits within a build."""
    d = tmp_path_factory.mktemp("sets") / "istn-small"
    old = os.environ.get("SATISAC_QUICK_COMPILE")
    os.environ["SATISAC_QUICK_COMPILE"] = "1"
    try:
        benchset.make_set("istn", "small", d, seed=0)
    finally:
        if old is None:
            del os.environ["SATISAC_QUICK_COMPILE"]
        else:
            os.environ["SATISAC_QUICK_COMPILE"] = old
    return d


# ---------------------------------------------------------------- deterministic files

def test_npz_bytes_depend_only_on_the_arrays(tmp_path):
    a = dict(x=np.arange(6, dtype=np.int32).reshape(2, 3), y=np.linspace(0, 1, 5) + 1j)
    data = benchset.write_npz_bytes(a)
    assert data == benchset.write_npz_bytes({k: v.copy() for k, v in a.items()})
    p = tmp_path / "a.npz"
    p.write_bytes(data)
    with np.load(p) as z:
        for k in a:
            np.testing.assert_array_equal(z[k], a[k])
            assert z[k].dtype == a[k].dtype
    with zipfile.ZipFile(p) as zf:
        assert {i.date_time for i in zf.infolist()} == {benchset.ZIP_DATE}
    assert benchset.write_npz_bytes(dict(a, x=a["x"] + 1)) != data


# ---------------------------------------------------------------- benchset

def test_ntn_small_set_manifest_and_check(cli, ntn_set, tmp_path):
    m = json.loads((ntn_set / "manifest.json").read_text())
    assert m["set"] == "satisac-ntn-small" and m["version"] == benchset.SET_VERSION and m["seed"] == 0
    assert m["scenario"]["name"] == "paper" and m["config"]["type"] == "NtnConfig"
    assert m["config"]["values"]["lat_min_deg"] == 48.0 and m["versions"]["satisac"]
    (f,) = m["files"]
    assert f["count"] == 4 and f["dims"]["C"] == 24
    assert benchset.file_sha256(ntn_set / f["name"]) == f["sha256"]
    code, out, err = cli("benchset", "--check", ntn_set)
    assert code == 0, err
    assert "regenerated: identical bytes" in out and "all hashes match" in out
    # a copy with one byte changed fails the check, naming the file
    bad = tmp_path / "bad"
    shutil.copytree(ntn_set, bad)
    raw = bytearray((bad / f["name"]).read_bytes())
    raw[-100] ^= 1
    (bad / f["name"]).write_bytes(bytes(raw))
    code, out, _ = cli("benchset", "--check", bad, "--files-only")
    assert code == 1 and f"{f['name']}" in out and "disk DIFFERS" in out and "MISMATCH" in out
    # a directory that already holds a set is not overwritten; a bad scenario is one line
    code, _, err = cli("benchset", "ntn", "--size", "small", "-o", ntn_set)
    assert code == 2 and "already holds a set" in err
    code, _, err = cli("benchset", "ntn", "--size", "small", "--scenario", "nope", "-o", tmp_path / "x")
    assert code == 2 and "--scenario" in err and not (tmp_path / "x").exists()


def test_istn_small_set_regenerates_identical_bytes(istn_set):
    m = benchset.read_manifest(istn_set)
    assert m["paper"] == "istn" and m["config"]["values"]["n_tx"] == 8 and m["sizes"]["count"] == 8
    assert m["files"][0]["dims"] == dict(M=1, K=3, Nt=8, T=2, R=2, Nr=4, L=6)
    assert m["generator"]["quick_compile"] is True
    rows = benchset.check_set(istn_set)
    assert all(r["disk_ok"] and r["regen_ok"] for r in rows)


@pytest.mark.slow
def test_istn_chunked_files_equal_one_file(istn_set):
    """How ``large`` sets are written: two files of 4 drops equal the 8-drop file."""
    m = benchset.read_manifest(istn_set)
    cfg, _ = benchset.build_config("istn", "small")
    chunks = list(benchset.generate_files("istn", cfg, 8, 4, 0, quick_compile=m["generator"]["quick_compile"]))
    assert [(lo, n) for lo, n, _ in chunks] == [(0, 4), (4, 4)]
    with np.load(istn_set / m["files"][0]["name"]) as z:
        for k in ("h_tut", "G_cl", "g_sut"):
            np.testing.assert_array_equal(np.concatenate([a[k] for _, _, a in chunks]), z[k])


# ---------------------------------------------------------------- statistics

def test_median_ci_order_statistics():
    x = np.arange(1.0, 11.0)  # n = 10: the 95 % interval is [x_(2), x_(9)] (coverage 97.9 %)
    assert compare.median_ci(x) == (5.5, 2.0, 9.0)
    assert np.isnan(compare.median_ci(x[:5])[1])  # n = 5: no 95 % order-statistic interval


def test_performance_ratios_and_profile():
    f = np.array([[2.0, 1.0, 3.0], [1.0, 1.0, 6.0]])  # [solvers, instances]
    ok = np.array([[True, True, True], [True, True, False]])
    r = compare.perf_ratios(f, ok, larger_is_better=True)
    np.testing.assert_allclose(r, [[1.0, 1.0, 1.0], [2.0, 1.0, np.inf]])
    np.testing.assert_allclose(compare.profile_curve(r, np.array([1.0, 2.0])), [[1.0, 1.0], [1 / 3, 2 / 3]])
    t = compare.perf_ratios(np.array([[1.0, 4.0], [2.0, 2.0]]), np.ones((2, 2), bool), larger_is_better=False)
    np.testing.assert_allclose(t, [[1.0, 2.0], [2.0, 1.0]])


def test_solve_time_field():
    assert compare.solve_times({}, 4) is None
    np.testing.assert_allclose(compare.solve_times({"solve_time_s": np.float64(2.0)}, 4), [0.5] * 4)
    np.testing.assert_allclose(compare.solve_times({"solve_time_s": np.arange(4.0)}, 4), np.arange(4.0))
    with pytest.raises(ValueError, match="solve_time_s"):
        compare.solve_times({"solve_time_s": np.ones(3)}, 4)


# ---------------------------------------------------------------- compare, NTN

def _ntn_example_code() -> str:
    text = (REPO / "BENCHMARKING.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "BENCHMARKING.md has no python example"
    return blocks[0]


def test_worked_example_runs_and_compares(cli, ntn_set, tmp_path):
    """The python example of BENCHMARKING.md, run as written on the small NTN set, then
    ``satisac compare`` against satisac's JMRA and a solution that breaks (26e) in frame 1."""
    (tmp_path / "bench").mkdir()
    os.symlink(ntn_set, tmp_path / "bench" / "ntn-small")
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        exec(compile(_ntn_example_code(), "BENCHMARKING.md", "exec"), {"__name__": "example"})
    finally:
        os.chdir(cwd)
    inst_p = ntn_set / "ntn-small-000.npz"
    greedy_p = tmp_path / "bench" / "greedy-ntn-small-000.npz"
    assert greedy_p.exists()
    code, _, err = cli("ntn", "evaluate", inst_p, greedy_p)
    assert code == 0, err
    jmra_p = tmp_path / "jmra.npz"
    code, _, err = cli("ntn", "solve", inst_p, "-o", jmra_p, "--set", "max_outer=8")
    assert code == 0, err
    g = dict(np.load(greedy_p))
    x = g["x"].copy()
    c = int(np.nonzero(x[1].sum(axis=1))[0][0])
    s2 = int(np.nonzero((np.load(inst_p)["rate"][1, c] > 0) & (x[1, c] == 0))[0][0])
    x[1, c, s2] = x[1, c].max()
    bad_p = save_npz_atomic(tmp_path / "bad.npz", {"x": x})
    out_dir = tmp_path / "cmp"
    code, out, err = cli("compare", inst_p, jmra_p, greedy_p, bad_p, "--names", "jmra,greedy,broken", "-o", out_dir)
    assert code == 0, err
    rows = {r["solver"]: r for r in csv.DictReader((out_dir / "compare.csv").open())}
    assert [int(rows[n]["feasible"]) for n in ("jmra", "greedy", "broken")] == [4, 4, 3]
    per = list(csv.DictReader((out_dir / "per_instance.csv").open()))
    obj = {(r["solver"], int(r["instance"])): float(r["objective"]) for r in per}
    jm = np.array([obj["jmra", p] for p in range(4)])
    gr = np.array([obj["greedy", p] for p in range(4)])
    np.testing.assert_allclose(jm, np.load(jmra_p)["objective"], rtol=1e-12)
    d = gr - jm
    assert float(rows["greedy"]["diff_mean"]) == pytest.approx(d.mean(), rel=1e-9)
    tie = np.abs(d) <= 1e-4 * np.maximum(np.abs(gr), np.abs(jm)) + 1e-12
    assert int(rows["greedy"]["wins"]) == int(((d > 0) & ~tie).sum())
    assert int(rows["greedy"]["losses"]) == int(((d < 0) & ~tie).sum())
    # the broken solution loses frame 1 (infeasible vs feasible) whatever its objective there
    assert int(rows["broken"]["losses"]) >= 1 and int(rows["broken"]["paired_n"]) == 3
    assert float(rows["broken"]["feasible_rate"]) == 0.75
    assert float(rows["greedy"]["time_per_instance_s"]) >= 0 and float(rows["jmra"]["time_total_s"]) > 0
    md = (out_dir / "compare.md").read_text()
    assert "| greedy | 4/4" in md and "| broken | 3/4" in md and "profile.png" in md
    assert (out_dir / "profile.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- compare, ISTN

def _mrt(inst: dict, scale: float = 1.0, assoc: bool = True) -> dict:
    """Toy ISTN solver: matched-filter beams with the TBS power split evenly over K+T
    columns (the sensing beams reuse the first TUT's direction), P_LEO split over beams."""
    h = inst["h_tut"]  # [B, M, K, Nt]
    B, M, K, Nt = h.shape
    T = inst["G_tar"].shape[2]
    d = np.conj(h) / np.linalg.norm(h, axis=-1, keepdims=True)  # [B, M, K, Nt]
    cols = np.concatenate([d, np.repeat(d[:, :, :1], T, axis=2)], axis=2)  # [B, M, K+T, Nt]
    F = np.sqrt(scale * inst["p_bs"][:, :, None, None] / (K + T)) * np.swapaxes(cols, 2, 3)
    sol = dict(F=F.astype(np.complex128), p_sat=np.repeat(inst["p_leo"][:, None] / M, M, axis=1))
    if assoc:
        sol["assoc"] = np.zeros((B, M, T), np.int64)
    return sol


def test_compare_istn_uses_the_istn_evaluator(cli, istn_set, tmp_path):
    from solvers.istn.cmd_evaluate import evaluate_solution

    inst_p = benchset.set_files(istn_set)[0]
    inst = dict(np.load(inst_p))
    full, half = _mrt(inst), _mrt(inst, 0.5)
    fp = save_npz_atomic(tmp_path / "mrt.npz", full)
    hp = save_npz_atomic(tmp_path / "half.npz", half)
    code, out, err = cli("compare", inst_p, fp, hp, "-o", tmp_path / "cmp")
    assert code == 0, err
    assert "ISTN" in out and "sum rate (25a)" in out
    rows = list(csv.DictReader((tmp_path / "cmp" / "compare.csv").open()))
    assert [r["solver"] for r in rows] == ["mrt", "half"]
    ref = [evaluate_solution(inst, s) for s in (full, half)]
    for r, e in zip(rows, ref):
        assert int(r["feasible"]) == int(e["feasible"].sum())
        assert r["time_total_s"] == "nan"  # no solve_time_s in these files
    d = ref[1]["sum_rate"] - ref[0]["sum_rate"]
    both = ref[0]["feasible"] & ref[1]["feasible"]
    if both.any():
        assert float(rows[1]["diff_mean"]) == pytest.approx(d[both].mean(), rel=1e-9)
    # a solution without 'assoc' for an instance without one: one line naming the field
    np_ = save_npz_atomic(tmp_path / "noassoc.npz", _mrt(inst, assoc=False))
    code, _, err = cli("compare", inst_p, fp, np_, "-o", tmp_path / "cmp2")
    assert code == 2 and "'assoc'" in err and "noassoc.npz" in err and not (tmp_path / "cmp2").exists()
    code, _, err = cli("compare", inst_p, fp, hp, "--names", "a", "-o", tmp_path / "cmp3")
    assert code == 2 and "--names" in err
