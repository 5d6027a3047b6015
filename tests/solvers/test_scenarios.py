"""Named scenarios (``--scenario``) of both papers and the ``istn-sensitivity`` study (issue 15 items 3-5)."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from solvers import tidy
from solvers.configio import ConfigError, load_config, load_configs
from solvers.istn import scenarios as istn_scenarios
from solvers.istn.config import IstnConfig
from solvers.istn.pipeline import SolverConfig
from solvers.ntn import scenarios as ntn_scenarios
from solvers.ntn.config import NtnConfig
from solvers.runner.store import load_results, to_numpy
from solvers.scenarios import ConfigSettings, Scenario, use_settings

SMALL = ["n_tut=2", "n_tx=6", "n_targets=2", "n_radar=2", "n_rx=2", "clutter_per_target=1"]


@pytest.mark.parametrize("mod,cls", [(istn_scenarios, IstnConfig), (ntn_scenarios, NtnConfig)])
def test_every_scenario_validates(mod, cls):
    """Every scenario of both papers has only keys of its config, with valid values and a provenance."""
    assert {"spec", "paper"} <= set(mod.SCENARIOS) and mod.DEFAULT_SCENARIO in mod.SCENARIOS
    assert mod.SCENARIOS["spec"].values == {}  # spec = the dataclass defaults
    for name, sc in mod.SCENARIOS.items():
        assert isinstance(sc, Scenario) and sc.name == name
        cfg = load_config(cls, None, (), scenario=name)  # unknown keys / bad values raise ConfigError
        for k, v in sc.values.items():
            assert getattr(cfg, k) == (tuple(v) if isinstance(v, list) else v)
            assert sc.provenance.get(k), f"{name}.{k} has no provenance"


def test_istn_paper_scenario_differs_from_spec():
    assert load_config(IstnConfig, scenario="paper") != load_config(IstnConfig, scenario="spec")
    assert load_config(IstnConfig, scenario="spec") == IstnConfig()


def test_order_scenario_then_file_then_set(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("g_tut_dbi = 3.0\nr_min_sut = 5.0\n")
    cfg = load_config(IstnConfig, f, ["r_min_sut=6"], scenario="paper")
    paper = istn_scenarios.SCENARIOS["paper"].values
    assert cfg.g_tut_dbi == 3.0 and cfg.r_min_sut == 6.0
    for k, v in paper.items():
        if k not in ("g_tut_dbi", "r_min_sut"):
            assert getattr(cfg, k) == v
    # several classes from one --set list; solver configs ignore the scenario
    icfg, scfg = load_configs((IstnConfig, SolverConfig), None, ["max_iter=7", "n_tut=3"], "paper",
                              fixed={"progress": False})
    assert (scfg.max_iter, scfg.progress, icfg.n_tut) == (7, False, 3)
    with pytest.raises(ConfigError, match="unknown key"):
        load_configs((IstnConfig, SolverConfig), None, ["nope=1"], "paper")


def test_bad_scenario_name_one_line_nothing_written(cli, tmp_path):
    out = tmp_path / "x.npz"
    code, stdout, err = cli("istn", "generate", "--drops", 2, "--seed", 0, "--scenario", "bogus", "-o", out)
    assert code == 2
    assert err.strip().splitlines() == ["satisac: error: --scenario: expected one of ['spec', 'paper'], got 'bogus'"]
    assert not out.exists()
    rdir = tmp_path / "rep"
    code, _, err = cli("reproduce", "istn-sensitivity", "--quick", "--scenario", "bogus", "-o", rdir)
    assert code == 2 and "--scenario: expected one of" in err and not rdir.exists()
    code, _, err = cli("reproduce", "istn-fig4", "--quick", "--set", "bogus_key=1", "-o", rdir)
    assert code == 2 and "bogus_key" in err and not rdir.exists()


def test_generate_spec_is_byte_identical_to_the_defaults(cli, tmp_path, monkeypatch):
    """``--scenario spec`` = the code path without scenarios (dataclass defaults)."""
    from solvers.istn.generate import generate_instance
    from solvers.istn.instance import save_instance
    monkeypatch.setenv("SATISAC_QUICK_COMPILE", "1")
    sets = [x for kv in SMALL for x in ("--set", kv)]
    a = tmp_path / "a.npz"
    assert cli("istn", "generate", "--drops", 4, "--seed", 3, "--scenario", "spec", *sets, "-o", a)[0] == 0
    b = tmp_path / "b.npz"
    cfg = load_config(IstnConfig, None, SMALL)  # no scenario at all
    save_instance(b, generate_instance(cfg, 4, 3, precision="float32", progress=False))
    assert a.read_bytes() == b.read_bytes()
    c = tmp_path / "c.npz"
    assert cli("istn", "generate", "--drops", 4, "--seed", 3, *sets, "-o", c)[0] == 0  # default: paper
    if istn_scenarios.SCENARIOS["paper"].values:
        assert c.read_bytes() != a.read_bytes()


def _synthetic_stores(rng):
    """Runner-like columns of a rate store and a failure store for two values of two parameters."""
    rates, fails = {}, {}
    for key, vals in (("g_tut_dbi", (0.0, 20.0)), ("delta_sat", (0.1, 1.0))):
        c = {k: [] for k in ("drop", "method", key, "sum_rate", "tut_rate", "sut_rate", "feasible")}
        f = {k: [] for k in ("drop", "method", key, "r_sens_m", "fail")}
        for v in vals:
            for d in range(6):
                for m, scale in (("proposed", 0.9), ("interference-free", 1.0)):
                    tut = scale * (30 + rng.normal())
                    c["drop"].append(d), c["method"].append(m), c[key].append(v)
                    c["tut_rate"].append(tut), c["sut_rate"].append(7 + v / 10), c["sum_rate"].append(tut + 7)
                    c["feasible"].append(d % 3 != 0)
                for r in (25.0, 50.0, 100.0, 200.0):
                    for m in ("fail-satellite-free", "fail-proposed", "fail-random"):
                        f["drop"].append(d), f["method"].append(m), f[key].append(v), f["r_sens_m"].append(r)
                        f["fail"].append(bool(rng.random() < r / 200))
        rates[key] = {k: np.asarray(x) for k, x in c.items()}
        fails[key] = {k: np.asarray(x) for k, x in f.items()}
    return rates, fails


def test_sensitivity_csv_schema_and_png(tmp_path):
    """Tidy CSV (solvers.tidy: one row per parameter, value, metric and method) and a PNG, from store-like columns."""
    from solvers.istn import sensitivity as sens
    params = (sens.OpenParam("g_tut_dbi", (0.0, 20.0), (0.0, 20.0), sensing=False),
              sens.OpenParam("delta_sat", (0.1, 1.0), (0.1, 1.0)))
    rates, fails = _synthetic_stores(np.random.default_rng(0))
    del fails["g_tut_dbi"]
    rows = sens.metric_rows(rates, fails, params)
    tidy.write(tmp_path / "s.csv", rows)
    sens.plot(rows, tmp_path / "s.png", "spec")
    with open(tmp_path / "s.csv", newline="") as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == ["figure", "experiment", "x_name", "x", "method", "metric", "unit", "n", "mean", "ci_low",
                            "ci_high"]
    assert all(r["figure"] == "istn-sensitivity" and r["x_name"] == r["experiment"] for r in got)
    assert {r["unit"] for r in got if r["metric"] == "sut_rate"} == {"bit/s/Hz"}
    keys = {(r["experiment"], float(r["x"]), r["metric"]) for r in got}
    rate_metrics = ("sut_rate", "sum_rate_ratio", "feasible_share", "terrestrial_loss")
    assert keys == ({(k, v, m) for k, vs in (("g_tut_dbi", (0.0, 20.0)), ("delta_sat", (0.1, 1.0)))
                     for v in vs for m in rate_metrics}
                    | {("delta_sat", v, m) for v in (0.1, 1.0) for m in ("fail_gap", "radius_reduction")})
    for r in got:
        assert int(r["n"]) == 6
        if r["metric"] == "sut_rate":
            assert float(r["mean"]) == pytest.approx(7 + float(r["x"]) / 10)
        if r["metric"] == "feasible_share":
            assert float(r["mean"]) == pytest.approx(4 / 6)
        if r["metric"] == "sum_rate_ratio":
            assert float(r["ci_low"]) < float(r["mean"]) < float(r["ci_high"]) < 1.0
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_shared_base_point_rows_give_the_same_metrics():
    """--quick solves the base point once and joins its rows to every parameter's store
    (``_with_base``): the metrics equal those of one store holding every value, including a
    base store on a wider radius grid than the parameter's."""
    from solvers.istn import sensitivity as sens
    params = (sens.OpenParam("delta_sat", (0.1, 1.0), (0.1, 1.0)),)
    rates, fails = _synthetic_stores(np.random.default_rng(1))
    want = sens.metric_rows(rates, fails, params)

    def split(cols, b, drop_radius=None):
        at = cols["delta_sat"] == b
        rest = {k: v[~at] for k, v in cols.items()}
        base = {k: v[at] for k, v in cols.items() if k != "delta_sat"}
        if drop_radius is not None:  # the parameter's own grid lacks one radius of the base store's
            rest = {k: v[rest["r_sens_m"] != drop_radius] for k, v in rest.items()}
        return rest, base

    r_rest, r_base = split(rates["delta_sat"], 1.0)
    f_rest, f_base = split(fails["delta_sat"], 1.0)
    merged_r = sens._with_base(r_rest, r_base, "delta_sat", 1.0, [0.1, 1.0])
    merged_f = sens._with_base(f_rest, f_base, "delta_sat", 1.0, [0.1, 1.0])
    got = sens.metric_rows({"delta_sat": merged_r}, {"delta_sat": merged_f}, params)
    assert got == want
    # a narrower grid: the base rows outside it are left out (keep mask)
    f_rest, f_base = split(fails["delta_sat"], 1.0, drop_radius=25.0)
    keep = f_base["r_sens_m"] != 25.0
    narrow = sens._with_base(f_rest, f_base, "delta_sat", 1.0, [0.1, 1.0], keep)
    assert set(narrow["r_sens_m"].tolist()) == {50.0, 100.0, 200.0}
    assert [v for v in dict.fromkeys(narrow["delta_sat"].tolist())] == [0.1, 1.0]


@pytest.mark.slow
def test_sensitivity_end_to_end_tiny(tmp_path, monkeypatch):
    """Through the runner at tiny sizes: a sensing-only sweep (2 values, 2 radii, 2 drops), CSV + PNG,
    the scenario in every manifest, and the spec base value (delta 'auto' = 2/N_RX = 1.0) swept."""
    from solvers.istn import sensitivity as sens
    monkeypatch.setenv("SATISAC_QUICK_COMPILE", "1")  # generator at XLA opt level 0 (see generate_instance)
    sparam = sens.OpenParam("delta_sat", (0.1,), (0.1,), rates=False, radii=(50.0, 100.0))
    # rows of an earlier run in the directory: another parameter's stay, this one's are replaced
    earlier = [tidy.row(sens.NAME, k, k, 0.5, "proposed", "fail_gap", "1", 2, 0.25, 0.0, 0.5)
               for k in ("g_rad_dbi", "delta_sat")]
    tidy.write(tmp_path / "istn-sensitivity.csv", earlier)
    with use_settings(ConfigSettings("spec", None, tuple(SMALL))):
        text = sens.run_sensitivity(tmp_path, quick=True, seed=0, drops=2, params=(sparam,), progress=False)
    assert "fail_gap" in text
    rows = tidy.read(tmp_path / "istn-sensitivity.csv")
    assert [(r["experiment"], r["mean"]) for r in rows[:1]] == [("g_rad_dbi", 0.25)]  # kept, PARAMS order
    rows = [r for r in rows if r["experiment"] == "delta_sat"]
    assert {(float(r["x"]), r["metric"]) for r in rows} == {
        (v, m) for v in (0.1, 1.0) for m in ("fail_gap", "radius_reduction")}
    assert (tmp_path / "istn-sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    runs = tmp_path / "istn-sensitivity_runs"
    manifests = {p.parent.name: json.loads(p.read_text()) for p in runs.glob("*/run.json")}
    assert sorted(manifests) == ["base_fail_spec_d2_s0_quick", "delta_sat_fail_spec_d2_s0_quick_alt"]
    assert all(m["extra"]["scenario"] == "spec" for m in manifests.values())
    # --quick: the base point (delta 'auto') is solved once, in its own store, not in the parameter's
    assert "delta_sat" not in manifests["base_fail_spec_d2_s0_quick"]["sweep"]
    assert manifests["delta_sat_fail_spec_d2_s0_quick_alt"]["sweep"]["delta_sat"] == [0.1]
    base = to_numpy(load_results(runs / "base_fail_spec_d2_s0_quick"))
    assert len(base["drop"]) == 2 * 2 * 3  # drops x radii x methods


def test_subset_run_keeps_the_other_parameters_rows():
    """``merged_rows``: a ``--params`` run replaces its parameters' rows in the directory's CSV,
    keeps every other parameter's rows, and orders parameters as PARAMS (unknown ones last)."""
    from solvers.istn import sensitivity as sens

    def rows(key, mean):
        return [tidy.row(sens.NAME, key, key, v, "proposed", "sut_rate", "bit/s/Hz", 32, mean, 0, 1) for v in (1, 2)]

    kept = rows("clutter_radius_m", 1.0) + rows("g_tut_dbi", 1.0) + rows("custom", 1.0)
    got = sens.merged_rows(kept, rows("sut_placement", 2.0) + rows("g_tut_dbi", 3.0))
    assert [r["experiment"] for r in got] == ["g_tut_dbi"] * 2 + ["clutter_radius_m"] * 2 + ["sut_placement"] * 2 \
        + ["custom"] * 2
    assert [r["mean"] for r in got if r["experiment"] == "g_tut_dbi"] == [3.0, 3.0]
    assert [r["x"] for r in got if r["experiment"] == "clutter_radius_m"] == [1, 2]


def test_radius_reduction_from_known_curves():
    """1 - r/r0 at P_fail 0.3 with linear interpolation, on hand-made failure indicators."""
    from solvers.istn.sensitivity import radius_reduction
    radii = [10.0, 20.0, 40.0]
    # satellite-free: P_fail 0, 0, 0.5 -> crosses 0.3 at 32 m; proposed: 0, 0.5, 1 -> 16 m
    pf = {"fail-satellite-free": [0, 0, 0.5], "fail-proposed": [0, 0.5, 1.0]}
    cols = {k: [] for k in ("delta_sat", "r_sens_m", "drop", "method", "fail")}
    for m, ps in pf.items():
        for r, p in zip(radii, ps):
            for d in range(10):
                cols["delta_sat"].append(0.1)
                cols["r_sens_m"].append(r)
                cols["drop"].append(d)
                cols["method"].append(m)
                cols["fail"].append(d < 10 * p)
    cols = {k: np.asarray(v) for k, v in cols.items()}
    est, lo, hi, n = radius_reduction(cols, "delta_sat", 0.1, "fail-proposed")
    assert n == 10 and est == pytest.approx(1 - 16.0 / 32.0)
    assert lo <= est <= hi


@pytest.mark.parametrize("flag,keys", [(["--params", "g_tut_dbi,delta_sat"], ["g_tut_dbi", "delta_sat"]),
                                       (["--calibration"], None)])
def test_sensitivity_module_main_passes_its_selection(tmp_path, monkeypatch, flag, keys):
    """``python -m solvers.istn.sensitivity --params ...`` runs the file as ``__main__``; the
    selection must reach the figure runner of the imported module (it once ran every parameter)."""
    import runpy
    import sys

    from solvers.istn import sensitivity as sens
    seen = []

    def fake(out_dir, quick=False, seed=0, drops=None, params=None, progress=True):
        seen.append(params)
        return "table"

    monkeypatch.setattr(sens, "run_sensitivity", fake)
    monkeypatch.setattr(sys, "argv", ["sensitivity", *flag, "--quick", "-o", str(tmp_path / "o")])
    with pytest.raises(SystemExit) as e:
        runpy.run_module("solvers.istn.sensitivity", run_name="__main__", alter_sys=True)
    assert e.value.code == 0
    want = sens.CALIBRATION if keys is None else tuple(p for k in keys for p in sens.PARAMS if p.key == k)
    sig = lambda ps: [(p.key, p.values, p.tied, p.rates, p.sensing) for p in ps]  # noqa: E731 (classes differ: __main__ copy)
    assert len(seen) == 1 and sig(seen[0]) == sig(want)


def test_quick_sweep_always_has_two_points():
    """--quick sweeps one alternative value plus the base point, also where the parameter's quick
    value is the scenario's own (``elevation_draw`` = 0-60 in ``paper``)."""
    from solvers.configio import load_configs
    from solvers.istn import sensitivity as sens
    from solvers.istn.config import IstnConfig
    for scenario in ("paper", "spec"):
        (base,) = load_configs((IstnConfig,), None, (), scenario)
        for p in sens.PARAMS:
            vals = sens._values(p, base, quick=True)
            assert len(vals) == 2 and len(set(map(str, vals))) == 2, (scenario, p.key, vals)
