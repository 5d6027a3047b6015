"""The NTN figures' CSVs in the common tidy schema (solvers.tidy), on stand-in solver and
simulation results (no world, no allocation solve), and the claims ledger reading them back."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from solvers import plotting, tidy
from solvers.claims import registry
from solvers.claims.sources import NotMeasured, Sources
from solvers.ntn import allocate
from solvers.ntn import figures as F

COMMON = ["figure", "experiment", "x_name", "x", "method", "metric", "unit", "n", "mean", "ci_low", "ci_high"]
ITERS = {1.5: [9, 8, 10, 12], 2.0: [7, 6, 8, 9], 5.0: [5, 5, 6, 4]}  # Fig. 6: iterations per frame
VIOL = {2.0: 3.0, 5.0: 1.0}  # Fig. 7: cells violating (30) at I_max = 1, divided by I_max


def _header(path):
    with open(path, newline="") as fh:
        return next(csv.reader(fh))


SAVED: list = []  # (file name, with a PDF) of every figure the stand-in save_figure received


@pytest.fixture
def fakes(monkeypatch):
    """Stand-ins for the expensive parts: the world/instance, the allocation solve, the saving of PNGs."""
    SAVED.clear()
    save = lambda fig, path, **k: SAVED.append((Path(path).name, bool(k.get("pdf"))))  # noqa: E731
    monkeypatch.setattr(F, "save_figure", save)
    monkeypatch.setattr(plotting, "save_figure", save)
    rng = np.random.default_rng(3)
    m = np.array([True] * 40 + [False] * 4)
    atten = np.where(np.arange(44) % 3 == 0, 1.5, 1.0)
    fr = {"sensed": m, "snr": rng.uniform(1, 10, 44), "snr_clear": rng.uniform(2, 12, 44), "atten": atten}
    monkeypatch.setattr(F, "_instances", lambda quick, seed, drops: ({"rate": np.ones((4, 2, 2))}, fr))

    def solve(inst, method, jc):
        its = np.array(ITERS.get(jc.rho, [3] * 4))
        its = np.minimum(its, jc.max_outer)
        return {"iterations": its, "status": np.where(its < jc.max_outer, 0, 1),
                "multi_served_before_rounding": np.array([1.0, 2.0, 3.0, 2.0]) * VIOL.get(jc.rho, 0) / jc.max_outer}
    monkeypatch.setattr(allocate, "solve_allocation", solve)
    return fr


def test_fig6_to_fig9_csv_schema_and_claims_read_back(tmp_path, fakes):
    F.fig6(tmp_path, quick=True, seed=0, drops=None)
    F.fig7(tmp_path, quick=True, seed=0, drops=None)
    F.fig8(tmp_path, quick=True, seed=0, drops=None)
    F.fig9(tmp_path, quick=True, seed=0, drops=50)
    assert _header(tmp_path / "ntn-fig6.csv") == COMMON + ["frame"]
    assert _header(tmp_path / "ntn-fig7.csv") == COMMON + ["rho"]
    assert _header(tmp_path / "ntn-fig8.csv") == COMMON
    assert _header(tmp_path / "ntn-fig9.csv") == COMMON
    assert SAVED == [(f"ntn-fig{n}.png", True) for n in (6, 7, 8, 9)]  # one style for both papers: PNG + PDF
    r6 = tidy.read(tmp_path / "ntn-fig6.csv")
    assert len(r6) == 3 * 4 * 2 and {r["x_name"] for r in r6} == {"rho"}
    assert [r["mean"] for r in r6 if r["metric"] == "iterations" and r["x"] == 2.0] == ITERS[2.0]
    r7 = tidy.read(tmp_path / "ntn-fig7.csv")
    v = next(r for r in r7 if r["metric"] == "violating_cells" and r["rho"] == 2.0 and r["x"] == 1)
    assert v["n"] == 4 and v["mean"] == pytest.approx(6.0) and v["ci_low"] < 6.0 < v["ci_high"]
    t = next(r for r in r7 if r["metric"] == "time_per_frame_s")
    assert t["unit"] == "s" and np.isnan(t["ci_low"]) and t["n"] == 4
    r8 = tidy.read(tmp_path / "ntn-fig8.csv")
    rain = fakes["atten"][fakes["sensed"]] > 1
    assert {r["metric"]: r["n"] for r in r8} == {"nmse_snr_rain": rain.sum(), "nmse_snr_norain": (~rain).sum(),
                                                 "nmse_att_rain": rain.sum(), "nmse_att_norain": (~rain).sum()}
    r9 = tidy.read(tmp_path / "ntn-fig9.csv")
    crb = [r for r in r9 if r["metric"] == "crb_normalised"]
    assert all(r["n"] == 1 and r["method"] == "crb" and np.isnan(r["ci_low"]) for r in crb)
    assert all(r["n"] == 50 and r["ci_low"] < r["mean"] < r["ci_high"] for r in r9 if r["metric"] == "nmse_mle")

    # the claims ledger (satisac claims --no-run) reads the same numbers back from the files
    src = Sources(tmp_path, quick=True, world_seeds=1, run=False)
    parts, _ = registry.n6(src)
    got = {p.label: p.estimate for p in parts}
    assert got["share of runs converged within the cap"] == 1.0
    assert got["median iterations rho 2 - rho 1.5"] == pytest.approx(np.median(ITERS[2.0]) - np.median(ITERS[1.5]))
    assert got["median iterations rho 5 - rho 2"] == pytest.approx(np.median(ITERS[5.0]) - np.median(ITERS[2.0]))
    parts, _ = registry.n7(src)
    got = {p.label: p.estimate for p in parts}
    caps = sorted({r["x"] for r in r7})
    want = np.mean([2.0 * (VIOL[5.0] - VIOL[2.0]) / c for c in caps])  # mean of [1, 2, 3, 2] = 2
    assert got["violating cells: rho 5 - rho 2 (mean over I_max)"] == pytest.approx(want)
    parts, _ = registry.n9(src)
    got = {p.label: p.estimate for p in parts}
    snr_rain = {r["x"]: r["mean"] for r in r8 if r["metric"] == "nmse_snr_rain"}
    assert got["NMSE(gamma) rain at largest / smallest L"] == pytest.approx(
        snr_rain[max(snr_rain)] / snr_rain[min(snr_rain)], rel=1e-5)
    parts, _ = registry.n10(src)
    got = {p.label: p.estimate for p in parts}
    by = {(r["x"], r["metric"]): r["mean"] for r in r9}
    lo, hi = min(x for x, _ in by), max(x for x, _ in by)
    ratio = {s: by[(s, "nmse_mle")] / by[(s, "crb_normalised")] for s in (lo, hi)}
    assert got["NMSE/CRB at lowest SNR - at highest SNR"] == pytest.approx(ratio[lo] - ratio[hi], rel=1e-4)


def test_fig7_resumes_from_its_point_store_with_the_command_solver(tmp_path, fakes, monkeypatch):
    """Fig. 7 is resumable: an interrupted run keeps its finished (rho, I_max) points and a re-run
    solves only the others; the solver is the --set one; a store of other settings is refused."""
    from solvers.configio import ConfigError
    from solvers.scenarios import ConfigSettings, use_settings
    fake, calls, stop = allocate.solve_allocation, [], [7]

    def counting(inst, method, jc):
        calls.append((jc.rho, jc.max_outer, jc.newton_refine))
        if len(calls) == stop[0]:  # the warm-up of the 4th point: an interrupt
            raise KeyboardInterrupt
        return fake(inst, method, jc)
    monkeypatch.setattr(allocate, "solve_allocation", counting)
    with use_settings(ConfigSettings(overrides=("newton_refine=0",))):
        with pytest.raises(KeyboardInterrupt):
            F.fig7(tmp_path / "a", quick=True, seed=0, drops=None)
        assert not (tmp_path / "a" / "ntn-fig7.csv").exists()
        assert len(list((tmp_path / "a").glob("ntn-fig7_runs/points/point-*/chunk-*.parquet"))) == 3
        calls.clear()
        stop[0] = 0
        F.fig7(tmp_path / "a", quick=True, seed=0, drops=None)
        assert [c[:2] for c in calls[::2]] == [(2.0, 40), (5.0, 1), (5.0, 3), (5.0, 10), (5.0, 40)]
        assert {c[2] for c in calls} == {0}  # --set newton_refine=0 reached every solve
        F.fig7(tmp_path / "b", quick=True, seed=0, drops=None)  # one uninterrupted run
    a, b = tidy.read(tmp_path / "a" / "ntn-fig7.csv"), tidy.read(tmp_path / "b" / "ntn-fig7.csv")
    key = lambda rows: [(r["rho"], r["x"], r["metric"], r["mean"], r["n"]) for r in rows  # noqa: E731
                        if r["metric"] != "time_per_frame_s"]
    assert key(a) == key(b) and len(a) == 2 * 4 * 3
    with pytest.raises(ConfigError, match="newton_refine"):  # default settings, the same folder
        F.fig7(tmp_path / "a", quick=True, seed=0, drops=None)


def test_old_layout_csv_is_not_read_as_data(tmp_path):
    """A figure CSV of the former per-figure columns is refused with a message, not misread."""
    (tmp_path / "ntn-fig6.csv").write_text("rho,iterations,converged\n1.5,9,True\n")
    assert not tidy.is_tidy(tmp_path / "ntn-fig6.csv")
    with pytest.raises(ValueError, match="tidy schema"):
        tidy.read(tmp_path / "ntn-fig6.csv")
    with pytest.raises(NotMeasured, match="satisac reproduce"):
        Sources(tmp_path, quick=True, world_seeds=1, run=False).ntn_csv("ntn-fig6")


def _episodes(key, xs, methods=("dmrab", "jmra"), frames=3):
    c = {k: [] for k in ("method", "throughput_kbps", "jain", "n_sens", key)}
    for m in methods:
        for x in xs:
            for f in range(frames):
                c["method"].append(m), c[key].append(x), c["n_sens"].append(2 + f % 2)
                c["throughput_kbps"].append(10.0 * (1 + (m == "jmra")) + f), c["jain"].append(0.5 + 0.1 * f)
    return {k: np.asarray(v, dtype=object if k == "method" else float) for k, v in c.items()}


def test_fig10_fig11_csv_schema_and_run_folders(tmp_path, fakes, monkeypatch):
    seen = []

    def simulate(run_dir, cfg, sweep, methods, n, seed, jcfg=None):
        seen.append(run_dir.relative_to(tmp_path).as_posix())
        return _episodes(*next(iter(sweep.items()))) if sweep else _episodes("pilot_len", [0])
    monkeypatch.setattr(F, "_simulate", simulate)
    monkeypatch.setattr(F, "_in_range_stats", lambda cfg, seed, n: {
        "sats_in_range_Ka": 4.0, "cells_unserved_frac": 0.0, "best_snr_clear_db": 12.0,
        "_n": {"sats_in_range_Ka": (30, "1"), "cells_unserved_frac": (30, "1"), "best_snr_clear_db": (30, "dB")}})
    F.fig10(tmp_path, quick=True, seed=0, drops=3)
    F.fig11(tmp_path, quick=True, seed=0, drops=3)
    assert seen == ["ntn-fig10_runs/pilots", "ntn-fig10_runs/none", "ntn-fig10_runs/perfect", "ntn-fig11_runs/perfect"]
    assert _header(tmp_path / "ntn-fig10.csv") == COMMON
    assert _header(tmp_path / "ntn-fig11.csv") == COMMON
    assert sorted(SAVED) == [("ntn-fig10.png", True), ("ntn-fig11-range.png", True), ("ntn-fig11.png", True)]
    r10 = tidy.read(tmp_path / "ntn-fig10.csv")
    assert {r["experiment"] for r in r10} == {"pilots", "none", "perfect"}
    jm = [r for r in r10 if r["experiment"] == "pilots" and r["method"] == "jmra" and r["metric"] == "throughput_kbps"]
    assert len(jm) == 5 and all(r["mean"] == pytest.approx(21.0) and r["n"] == 3 and np.isnan(r["ci_low"]) for r in jm)
    assert all(np.isnan(r["x"]) for r in r10 if r["experiment"] != "pilots")  # reference levels: no L
    assert {r["mean"] for r in r10 if r["metric"] == "n_sens"} == {3}
    r11 = tidy.read(tmp_path / "ntn-fig11.csv")
    world = [r for r in r11 if r["method"] == ""]
    assert len(world) == 3 * 3 and {r["n"] for r in world} == {30}
    assert {r["unit"] for r in world if r["metric"] == "best_snr_clear_db"} == {"dB"}
    assert {r["unit"] for r in r11 if r["metric"] == "throughput_kbps"} == {"kbit/s per active user"}


def test_old_run_folder_names_are_still_used(tmp_path, monkeypatch, capsys):
    """New stores go to <out>/<target>_runs/<experiment>; a store under the former NTN name resumes."""
    assert F.run_dir(tmp_path, "ntn-table3") == tmp_path / "ntn-table3_runs" / "perfect"
    assert F.run_dir(tmp_path, "ntn-fig10", "none") == tmp_path / "ntn-fig10_runs" / "none"
    (tmp_path / "ntn-fig10_run_nosensing").mkdir()
    assert F.run_dir(tmp_path, "ntn-fig10", "none") == tmp_path / "ntn-fig10_run_nosensing"
    assert "ntn-fig10_run_nosensing" in capsys.readouterr().err  # said once, on one line
    assert F.run_dir(tmp_path, "ntn-fig10", "pilots") == tmp_path / "ntn-fig10_runs" / "pilots"
    (tmp_path / "ntn-fig10_runs" / "none").mkdir(parents=True)  # both: the new one wins
    assert F.run_dir(tmp_path, "ntn-fig10", "none") == tmp_path / "ntn-fig10_runs" / "none"


def test_realtime_csv_budget_and_n8_verdict(tmp_path, fakes, monkeypatch):
    """ntn-realtime (claim N8): compile call excluded, budget = T_f - T_sens - T_HO of (11)-(16),
    and the ledger's share of frames over budget moves with one stored time."""
    from jaxcore.ntn.timing import ra_budget
    from solvers.claims.verdict import CONSISTENT, DIFFERS, combine
    from solvers.ntn.world import frame_timing

    monkeypatch.setattr(F, "_realtime_instance", lambda cfg, seed, n: {
        "rate": np.ones((n, 150, 3)), "t_frame": np.full(n, cfg.t_frame_s)})
    per_tf = {10.0: [5.0, 0.2, 0.3, 0.25, 0.4], 30.0: [9.0, 0.5, 0.5, 0.6, 0.5]}  # first: the compiling call
    calls = []

    def solve_seconds(one, jcfg):
        tf = float(one["t_frame"][0])
        assert one["rate"].shape == (1, 150, 3)  # one frame per call
        calls.append(tf)
        return per_tf[tf][calls.count(tf) - 1], 7
    monkeypatch.setattr(F, "_solve_seconds", solve_seconds)
    F.realtime(tmp_path, quick=True, seed=0, drops=None)
    assert calls == [10.0] * 5 + [30.0] * 5
    assert _header(tmp_path / "ntn-realtime.csv") == COMMON + ["frame", "budget_s"]
    assert ("ntn-realtime.png", True) in SAVED
    rows = tidy.read(tmp_path / "ntn-realtime.csv")
    for tf, ts in per_tf.items():
        got = [r for r in rows if r["x"] == tf and r["metric"] == "solve_s"]
        assert [r["mean"] for r in got] == pytest.approx(ts[1:])  # the compiling call is not a sample
        tm = frame_timing(F._cfg(True, t_frame_s=tf), 150)
        assert tm["t_sens"] > 0 and tm["t_ho"] > 0  # pilots and a handover cost something
        assert all(r["budget_s"] == pytest.approx(ra_budget(tf, tm["t_sens"], tm["t_ho"]), rel=1e-5) for r in got)

    src = Sources(tmp_path, quick=True, world_seeds=1, run=False)
    parts, _ = registry.n8(src)
    assert [p.estimate for p in parts] == [0.0, 0.0] and [p.n for p in parts] == [4, 4]
    assert combine(p.verdict for p in parts) == CONSISTENT  # none over budget, but 4 frames cannot show < 1 %
    slow = next(r for r in rows if r["x"] == 10.0 and r["metric"] == "solve_s")
    slow["mean"] = 2 * slow["budget_s"]
    tidy.write(tmp_path / "ntn-realtime.csv", rows)
    parts, _ = registry.n8(Sources(tmp_path, quick=True, world_seeds=1, run=False))
    assert parts[0].estimate == pytest.approx(0.25) and parts[0].verdict == DIFFERS
