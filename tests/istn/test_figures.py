"""``satisac reproduce istn-fig*``: a tiny quick run end to end (CSV columns, finite values,
PNG, resumable re-run) and the curve reductions on synthetic rows."""
from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from solvers.istn import figures


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
    rows = list(csv.DictReader(open(tmp_path / "istn-fig5.csv")))
    assert len(rows) == len(figures.RATE_METHODS)
    need = {"experiment", "x_name", "x", "method", "n", "sum_rate", "sum_rate_lo", "sum_rate_hi", "tut_rate",
            "sut_rate", "min_scnr_db", "mean_scnr_db", "mean_scnr_db_lo", "mean_scnr_db_hi", "feasible",
            "feasible_lo", "feasible_hi", "p_sat_total"}
    assert need <= set(rows[0])
    assert {r["method"] for r in rows} == set(figures.RATE_METHODS)
    # default: means over the drops where Proposed is feasible, the same drops for every method
    proposed = next(r for r in rows if r["method"] == "proposed")
    k = round(float(proposed["feasible"]) * 8)
    assert {(r["n"], r["n_all"], r["means"]) for r in rows} == {(str(k), "8", "proposed-feasible")}
    assert k >= 1  # the tiny drops are mostly feasible: the default is not vacuous here
    # the all-drops variant, one flag away (resumes the same runs: no new solves)
    code, out, err = cli("reproduce", "istn-fig5", "--quick", "--drops", "8", "--means", "all", "-o", tmp_path)
    assert code == 0, err
    rows = list(csv.DictReader(open(tmp_path / "istn-fig5.csv")))
    for r in rows:
        assert r["n"] == "8" and r["means"] == "all" and float(r["x"]) == 30.0
        for k in ("sum_rate", "sum_rate_lo", "sum_rate_hi", "tut_rate", "sut_rate", "mean_scnr_db", "feasible"):
            assert np.isfinite(float(r[k])), (r["method"], k)
        assert float(r["sum_rate_lo"]) <= float(r["sum_rate"]) <= float(r["sum_rate_hi"])
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
