"""``satisac istn generate`` / ``evaluate`` end to end (interfaces.md §1, §5).

The small scenario below equals ``SMALL`` of test_channels.py so that, in one pytest
session, the CLI reuses the jit compile of that module (same static params, same chunk).
(Named test_istn_* because tests/solvers/ntn/ already holds test_generate_cli.py.)
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from solvers.istn.instance import INSTANCE_FIELDS, load_instance

SMALL = ["n_tut=10", "n_tx=8", "n_targets=2", "n_radar=2", "n_rx=2", "clutter_per_target=1", "aging_corr=0.9"]
SETS = [x for kv in SMALL for x in ("--set", kv)]
DROPS = 128   # = the 2-cell chunk of the generator (one compiled shape)


@pytest.fixture(scope="module", autouse=True)
def quick_compile():
    """Build the generator with XLA optimisation level 0 (see generate_instance): the same
    program as test_channels' float32 check, so the compile is shared."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SATISAC_QUICK_COMPILE", "1")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two files from the same seed and one from another seed (float32, the CLI default)."""
    from solvers.cli import main
    d = tmp_path_factory.mktemp("gen")
    paths = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        paths[name] = d / f"{name}.npz"
        assert main(["istn", "generate", "--drops", str(DROPS), "--seed", str(seed), "--cells", "2",
                     *SETS, "-o", str(paths[name])]) == 0
    return paths


def test_generate_writes_every_interface_field(files):
    arrays, dims = load_instance(files["a"])
    assert dims == dict(B=DROPS, M=2, K=10, Nt=8, R=2, Nr=2, T=2, L=2)
    required = {f.name for f in INSTANCE_FIELDS if f.required}
    meta = {"tut_d2d", "tut_los", "sat_elevation", "theta_tar_rx", "theta_sat_rx", "alpha_tar", "delta_sat",
            "delta_tar", "h_tut_pre", "h_sut_pre"}
    assert required | meta <= set(arrays)
    assert "assoc" not in arrays and "p_sat_fixed" not in arrays
    assert arrays["h_tut"].dtype == np.complex64 and arrays["g_tut"].dtype == np.float64
    np.testing.assert_allclose(arrays["noise_tut"], 10 ** ((-174 + 80 + 8 - 30) / 10))     # -86 dBm in W
    np.testing.assert_allclose(arrays["p_bs"], 10 ** ((35 - 30) / 10))
    np.testing.assert_allclose(arrays["p_leo"], 200.0)
    np.testing.assert_allclose(arrays["scnr_min"], 0.1)
    np.testing.assert_allclose(arrays["delta_tar"], 1.0)                                    # 2 / N_RX


def test_same_seed_gives_identical_files(files):
    a, _ = load_instance(files["a"])
    b, _ = load_instance(files["b"])
    c, _ = load_instance(files["c"])
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert files["a"].read_bytes() == files["b"].read_bytes()
    assert not np.array_equal(a["h_tut"], c["h_tut"])


def test_generate_with_config_file(cli, tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text("\n".join(SMALL[:-1]) + "\nn_cells = 2\naging_corr = 0.9\np_bs_dbm = 30\nscnr_min_db = -20\n")
    out = tmp_path / "x.npz"
    code, stdout, err = cli("istn", "generate", "--drops", DROPS, "--seed", 5, "--config", cfg, "-o", out)
    assert code == 0, err
    assert str(out) in stdout
    a, dims = load_instance(out)
    assert dims["M"] == 2
    np.testing.assert_allclose(a["p_bs"], 1.0)
    np.testing.assert_allclose(a["scnr_min"], 0.01)


@pytest.mark.parametrize("extra, field", [
    (["--set", "n_tx=0"], "n_tx"),
    (["--set", "elevation_draw=45"], "elevation_draw"),
    (["--set", "sat_path_gain=free"], "sat_path_gain"),
    (["--set", "aging_corr=-0.1"], "aging_corr"),
    (["--set", "delta_sat=-1"], "delta_sat"),
    (["--set", "n_tutt=3"], "n_tutt"),
    (["--set", "noise_figure_db=nan"], "noise_figure_db"),
    (["--config", "/nonexistent/x.toml"], "--config"),
    (["--drops", "0"], "--drops"),
])
def test_invalid_config_names_the_field_and_writes_nothing(cli, tmp_path, extra, field):
    out = tmp_path / "never.npz"
    args = ["istn", "generate", "--seed", "1", "-o", out] + (extra if "--drops" in extra else ["--drops", "2", *extra])
    code, _, err = cli(*args)
    assert code == 2
    assert field in err and err.count("\n") == 1, err
    assert not out.exists() and not list(tmp_path.iterdir())


def _solution(inst, path, seed=0):
    rng = np.random.default_rng(seed)
    B, M, K, Nt = inst["h_tut"].shape
    T = inst["G_tar"].shape[2]
    F = rng.standard_normal((B, M, Nt, K + T)) + 1j * rng.standard_normal((B, M, Nt, K + T))
    F *= np.sqrt(inst["p_bs"][..., None, None] / np.sum(np.abs(F) ** 2, axis=(2, 3), keepdims=True))
    np.savez(path, F=F.astype(np.complex64), p_sat=np.full((B, M), 150.0),
             assoc=np.zeros((B, M, T), np.int64))
    return path


def test_evaluate_prints_table_and_json(cli, files, tmp_path):
    inst, _ = load_instance(files["a"])
    sol = _solution(inst, tmp_path / "sol.npz")
    code, out, err = cli("istn", "evaluate", files["a"], sol)
    assert code == 0, err
    assert "sum rate" in out and "feasible drops" in out and "sum p_sat > P_LEO 128 drops" in out
    code, out, err = cli("istn", "evaluate", files["a"], sol, "--json")
    s = json.loads(out)
    assert s["drops"] == DROPS and s["cells"] == 2
    assert s["violations"]["sat_total_drops"] == DROPS                    # 2 x 150 W > 200 W
    assert s["violations"]["max_sat_total_excess_rel"] == pytest.approx(0.5)
    assert s["violations"]["tbs_power_cells"] == 0
    assert len(s["per_drop"]["sum_rate"]) == DROPS and s["mean_sum_rate"] > 0


@pytest.mark.parametrize("mutate, field", [
    (lambda a: a.pop("g_sut"), "'g_sut'"),
    (lambda a: a.update(h_sut=a["h_sut"][..., :-1]), "'h_sut'"),
    (lambda a: a["G_cl"].__setitem__((0, 0, 0, 0, 0, 0), np.nan), "'G_cl'"),
    (lambda a: a["p_leo"].__setitem__(0, -200.0), "'p_leo'"),
])
def test_evaluate_rejects_malformed_instance(cli, files, tmp_path, mutate, field):
    inst, _ = load_instance(files["a"])
    sol = _solution(inst, tmp_path / "sol.npz")
    mutate(inst)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **inst)
    code, out, err = cli("istn", "evaluate", bad, sol)
    assert code == 2 and field in err and err.startswith("satisac: error:"), err
    assert out == ""
