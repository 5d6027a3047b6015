"""``satisac reproduce istn-fig*``: a tiny quick run end to end (CSV columns, finite values,
PNG, resumable re-run) and the curve reductions on synthetic rows."""
from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from solvers import tidy
from solvers.istn import figures

pytestmark = pytest.mark.slow  # a whole `satisac reproduce` run


def test_quick_figure_end_to_end(cli, tmp_path, monkeypatch):
    # tiny setting: one P_BS point per R_min curve, 8 drops (the CLI's --drops), the small
    # scenario of test_baselines.py (same shapes: its jit compiles are reused in one session)
    spec = figures.SPECS["istn-fig5"]
    tiny = dict(n_tx=12, n_tut=3, n_targets=2, n_radar=2, n_rx=4, clutter_per_target=2)
    exps = tuple(dataclasses.replace(e, quick_values=(30.0,), overrides={**e.overrides, **tiny})
                 for e in spec.experiments[:1])  # the R_min = 3 curve only
    monkeypatch.setitem(figures.SPECS, "istn-fig5", dataclasses.replace(spec, experiments=exps))
    code, out, err = cli("reproduce", "istn-fig5", "--quick", "--drops", "8", "-o", tmp_path)
    assert code == 0, err
    assert "wrote" in out and "mean_scnr_db" in out
    rows = tidy.read(tmp_path / "istn-fig5.csv")
    with open(tmp_path / "istn-fig5.csv") as fh:
        assert next(csv.reader(fh)) == list(tidy.COLUMNS) + ["means", "n_all"]
    metrics = ("sum_rate", "tut_rate", "sut_rate", "min_scnr_db", "mean_scnr_db", "p_sat_total", "feasible")
    assert len(rows) == len(figures.RATE_METHODS) * len(metrics)
    assert {(r["method"], r["metric"]) for r in rows} == {(m, k) for m in figures.RATE_METHODS for k in metrics}
    assert {(r["figure"], r["experiment"], r["x_name"], r["x"]) for r in rows} == {("istn-fig5", "rmin3", "p_bs_dbm", 30)}
    # default: means over the drops where Proposed is feasible, the same drops for every method;
    # the feasible share over all 8 drops
    share = next(r["mean"] for r in rows if r["method"] == "proposed" and r["metric"] == "feasible")
    k = round(share * 8)
    assert {(r["n"], r["n_all"], r["means"]) for r in rows if r["metric"] != "feasible"} == {(k, 8, "proposed-feasible")}
    assert {(r["n"], r["means"], r["unit"]) for r in rows if r["metric"] == "feasible"} == {(8, "all", "1")}
    assert k >= 1  # the tiny drops are mostly feasible: the default is not vacuous here
    # the all-drops variant, one flag away (resumes the same runs: no new solves)
    code, out, err = cli("reproduce", "istn-fig5", "--quick", "--drops", "8", "--means", "all", "-o", tmp_path)
    assert code == 0, err
    rows = tidy.read(tmp_path / "istn-fig5.csv")
    for r in rows:
        assert r["n"] == 8 and r["means"] == "all" and r["x"] == 30
        if r["metric"] in ("sum_rate", "tut_rate", "sut_rate", "mean_scnr_db", "feasible"):
            assert np.isfinite(r["mean"]), (r["method"], r["metric"])
        if r["metric"] in ("sum_rate", "feasible"):
            assert r["ci_low"] <= r["mean"] <= r["ci_high"]
    png = tmp_path / "istn-fig5.png"
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    # the same command again resumes: no work, identical CSV
    before = (tmp_path / "istn-fig5.csv").read_text()
    code, _, err = cli("reproduce", "istn-fig5", "--quick", "--drops", "8", "--means", "all", "-o", tmp_path)
    assert code == 0 and (tmp_path / "istn-fig5.csv").read_text() == before


def test_bad_drops_rejected(cli, tmp_path):
    code, _, err = cli("reproduce", "istn-fig4", "--drops", "1", "-o", tmp_path)
    assert code == 2 and "--drops" in err
    assert not list(tmp_path.iterdir())


def test_radius_at_and_normalised_reduction():
    rows = [{"experiment": "e", "method": "m", "x": x, "fail": p}
            for x, p in [(10, 0.0), (50, 0.1), (100, 0.5), (200, 0.9)]]
    assert figures.radius_at(rows, "e", "m", 0.3) == pytest.approx(75.0)
    assert np.isnan(figures.radius_at(rows, "e", "m", 0.95))
    # ratio of means against interference-free, paired by drop
    exp = figures.Experiment("x", "x", {}, "n_cells", (1,), (1,), ("proposed", "interference-free"))
    spec = dataclasses.replace(figures.SPECS["istn-fig10"], experiments=(exp,))
    cols = {"n_cells": np.array([1, 1, 1, 1]), "drop": np.array([0, 0, 1, 1]),
            "method": np.array(["proposed", "interference-free"] * 2, dtype=object),
            "sum_rate": np.array([9.0, 10.0, 18.0, 20.0])}
    out = {r["method"]: r for r in figures._normalised_rows({"x": cols}, spec)}
    assert out["proposed"]["normalised_sum_rate"] == pytest.approx(27.0 / 30.0)
    assert out["interference-free"]["normalised_sum_rate"] == pytest.approx(1.0)
    assert out["proposed"]["normalised_sum_rate_lo"] == pytest.approx(0.9)  # exact proportionality: zero spread
    assert out["proposed"]["n"] == out["proposed"]["n_all"] == 2  # the caption's "of N run" (not QUICK at paper n)


def test_means_cover_the_drops_where_proposed_is_feasible():
    """Default means: every method on the drops (per x) where Proposed met its QoS; the
    feasible share over all drops; ``all`` averages every drop."""
    from solvers.scenarios import ConfigSettings, use_settings
    exp = figures.Experiment("e", "e", {}, "p_bs_dbm", (30.0,), (30.0,), ("proposed", "zf-eps"))
    spec = dataclasses.replace(figures.SPECS["istn-fig4"], experiments=(exp,))
    #            drop:  0 (P feasible)   1 (P infeasible)  2 (P feasible)
    cols = {"p_bs_dbm": np.full(6, 30.0), "drop": np.array([0, 0, 1, 1, 2, 2]),
            "method": np.array(["proposed", "zf-eps"] * 3, dtype=object),
            "feasible": np.array([1, 0, 0, 1, 1, 0]),
            **{v: np.array([10.0, 4.0, 1.0, 30.0, 20.0, 8.0]) for v in
               ("sum_rate", "tut_rate", "sut_rate", "min_scnr_db", "mean_scnr_db", "p_sat_total")}}
    rows = {r["method"]: r for r in figures._rate_rows({"e": cols}, spec)}
    assert rows["proposed"]["sum_rate"] == pytest.approx(15.0) and rows["proposed"]["n"] == 2
    assert rows["zf-eps"]["sum_rate"] == pytest.approx(6.0) and rows["zf-eps"]["n"] == 2  # drops 0 and 2
    assert rows["zf-eps"]["feasible"] == pytest.approx(1 / 3) and rows["zf-eps"]["n_all"] == 3
    with use_settings(ConfigSettings(means="all")):
        rows = {r["method"]: r for r in figures._rate_rows({"e": cols}, spec)}
    assert rows["zf-eps"]["sum_rate"] == pytest.approx(14.0) and rows["zf-eps"]["n"] == 3
    # no Proposed-feasible drop at a point: n = 0 and NaN means, the share still reported
    cols0 = dict(cols, feasible=np.zeros(6, int))
    rows = {r["method"]: r for r in figures._rate_rows({"e": cols0}, spec)}
    assert rows["proposed"]["n"] == 0 and np.isnan(rows["proposed"]["sum_rate"])
    assert rows["proposed"]["feasible"] == 0.0 and rows["proposed"]["n_all"] == 3


def _store_cols(exp, rng, drops=3):
    """Per-drop rows like a runner store of ``exp`` (every method at every quick x)."""
    c = {k: [] for k in (exp.sweep_key, "drop", "method", "feasible", "fail", "sum_rate", "tut_rate", "sut_rate",
                         "min_scnr_db", "mean_scnr_db", "p_sat_total")}
    for x in exp.quick_values:
        for d in range(drops):
            for m in exp.methods:
                for k, v in ((exp.sweep_key, x), ("drop", d), ("method", m), ("feasible", d != 1),
                             ("fail", bool(rng.random() < 0.5)), ("sum_rate", rng.uniform(5, 20)),
                             ("tut_rate", rng.uniform(1, 10)), ("sut_rate", rng.uniform(3, 9)),
                             ("min_scnr_db", rng.uniform(-12, -8)), ("mean_scnr_db", rng.uniform(-10, 0)),
                             ("p_sat_total", rng.uniform(10, 200))):
                    c[k].append(v)
    return {k: np.asarray(v, dtype=object if k == "method" else None) for k, v in c.items()}


@pytest.mark.parametrize("name", sorted(figures.SPECS))
def test_every_istn_figure_csv_is_tidy(name, tmp_path, monkeypatch):
    """run_figure on store-like columns (no solving, no plot): the CSV header is the common
    schema (+ the rate figures' ``means, n_all``) and every number reads back as written."""
    spec = figures.SPECS[name]
    rng = np.random.default_rng(0)
    stores = {e.key: _store_cols(e, rng) for e in spec.experiments}
    monkeypatch.setattr(figures, "run_experiment", lambda e, *a, **k: stores[e.key])
    monkeypatch.setitem(figures.SPECS, name, dataclasses.replace(spec, plot=lambda *a, **k: None))
    figures.run_figure(name, tmp_path, quick=True, drops=3)
    with open(tmp_path / f"{name}.csv") as fh:
        header = next(csv.reader(fh))
    extra = {figures._rate_rows: ["means", "n_all"], figures._normalised_rows: ["means", "n_all"],
             figures._fail_rows: []}[spec.reduce]
    assert header == ["figure", "experiment", "x_name", "x", "method", "metric", "unit", "n", "mean", "ci_low",
                      "ci_high"] + extra
    got = tidy.read(tmp_path / f"{name}.csv")
    mem = spec.reduce(stores, spec)
    assert len(got) == len(figures.tidy_rows(mem, name)) > 0
    assert {r["figure"] for r in got} == {name} and all(r["unit"] for r in got)
    # every (experiment, x, method) of the in-memory rows is there, value for value (%.6g)
    for m in mem:
        for metric in figures.UNITS:
            if metric not in m:
                continue
            (r,) = [r for r in got if (r["experiment"], r["x"], r["method"], r["metric"])
                    == (m["experiment"], m["x"], m["method"], metric)]
            assert r["x_name"] == m["x_name"]
            assert r["mean"] == pytest.approx(m[metric], rel=1e-5, nan_ok=True)
            assert r["n"] == (m["n_all"] if metric == "feasible" else m["n"])
            lo = m.get(f"{metric}_lo")
            assert (np.isnan(r["ci_low"]) if lo is None else r["ci_low"] == pytest.approx(lo, rel=1e-5, nan_ok=True))
    if name == "istn-fig8":  # the radius at P_fail 0.3 from the file equals the one from the rows
        for e in spec.experiments:
            for meth in e.methods:
                a, b = figures.radius_at(mem, e.key, meth), figures.radius_at(got, e.key, meth)
                assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-5)


def test_baseline_keys_reach_the_baselines_of_a_figure(tmp_path, monkeypatch):
    """``satisac reproduce istn-* --set zf_null_sut=false``: the figure's runs get that
    BaselineConfig (the store records it), and solve_method hands it to the baselines."""
    import numpy as np

    from solvers.istn import experiments, figures
    from solvers.istn.baselines import BaselineConfig
    from solvers.scenarios import ConfigSettings, use_settings

    seen = {}

    def fake_work(methods, solver_cfg=None, precision="float32", baseline_cfg=None):
        seen["cfg"] = baseline_cfg
        raise KeyboardInterrupt  # stop before any solve

    monkeypatch.setattr(experiments, "istn_work", fake_work)
    exp = next(e for e in figures.SPECS["istn-fig4"].experiments if "zf-eps" in e.methods)
    with use_settings(ConfigSettings(overrides=("zf_null_sut=false", "eps_p_points=3"))):
        with pytest.raises(KeyboardInterrupt):
            figures.run_experiment(exp, tmp_path, "istn-fig4", True, 0, 2, progress=False)
    assert seen["cfg"] == BaselineConfig(zf_null_sut=False, eps_p_points=3)

    calls = []
    monkeypatch.setattr("solvers.istn.baselines.solve_baseline",
                        lambda m, inst, cfg, seed, solver_cfg=None: calls.append((m, cfg, solver_cfg)))
    bc = BaselineConfig(zf_null_sut=False)
    experiments.solve_method("zf-eps", {}, np.arange(1), 0, None, bc)
    experiments.solve_method("coop-uniform", {}, np.arange(1), 0, None, bc)
    assert [c[1] for c in calls] == [bc, bc] and calls[1][2] is not None  # coop-uniform: the pipeline's config
