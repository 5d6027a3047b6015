"""``python -m benchmarks.istn_perdrop``: the per-drop table against batch size, its counters
(slot occupancy, Phase-I and Phase-II iterations) and that measuring does not change results."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from benchmarks import istn_perdrop
from benchmarks.istn_bench import QUICK_SCENARIO

TINY = ",".join(f"{k}={v}" for k, v in QUICK_SCENARIO.items())  # bench --quick's cell: its programs


@pytest.mark.parametrize("argv", [["--batches", "0,3"], ["--batches", "x"], ["--seeds", "-1"],
                                  ["--precisions", "float16"], ["--cells", "0"], ["--scenario", "n_tx"],
                                  ["--ref-drops", "-1"], ["--ref-budget-s", "0"], ["--each", "-1"]])
def test_bad_arguments_rejected_before_any_work(argv, tmp_path):
    with pytest.raises(SystemExit) as e:
        istn_perdrop.main(argv + ["-o", str(tmp_path / "out")])
    assert e.value.code == 2
    assert not (tmp_path / "out").exists()


def test_markdown_row():
    r = dict(seed=11, precision="float32", batch=33, ms_per_drop=1234.4, cpu_ms_per_drop=2100.0, warmup_s=40.0,
             occupancy=0.8125, phase1_mean=3.25, phase1_max=50, p1_iter_mean=20.5, p3_iter_mean=7.0,
             status="30 2 1 0 0", mean_sum_rate=29.871)
    md = istn_perdrop.markdown([r], dict(cells=1, device="cpu", cpus=2, jax="0.10.2", date="2026-12-04"))
    assert "| 11 | float32 | 33 | 1,234 | 2,100 | 40.0 | 81 % | 3.2 / 50 | 20.5 / 7.0 | 30 2 1 0 0 | 29.871 | - | - | - |" in md
    r.update(ref_drops=3, ref_s_per_drop=14.0, ratio=11.34, gap_vs_ref=-0.0054)
    assert "| 29.871 | 14.0 (3) | **11x** | -0.54 % |" in istn_perdrop.markdown([r], dict(
        cells=1, device="cpu", cpus=2, jax="0.10.2", date="2026-12-04"))


@pytest.mark.slow
def test_table_counts_and_meter_leaves_results_unchanged(tmp_path):
    from solvers.istn.config import IstnConfig
    from solvers.istn.generate import generate_instance
    from solvers.istn.pipeline import SolverConfig, solve_istn

    # 2 drops through 2 slots: one slot count, so every solve below reuses the same programs
    # the default slot count (1 on a CPU): the float64 programs of the --each test below
    assert istn_perdrop.main(["--batches", "2", "--seeds", "5", "--precisions", "float64",
                              "--ref-drops", "1", "--scenario", TINY, "-o", str(tmp_path)]) == 0
    with open(tmp_path / "istn_perdrop.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and int(rows[0]["batch"]) == 2
    r = rows[0]
    assert sum(int(c) for c in r["status"].split()) == 2  # one status per cell (1 cell per drop)
    assert 0.0 < float(r["occupancy"]) <= 1.0 and int(r["slot_calls"]) >= 2
    assert 0 <= float(r["phase1_mean"]) <= float(r["phase1_max"]) <= 2 * SolverConfig().max_phase1  # attempt + retry
    assert 1 <= float(r["p1_iter_mean"]) <= 100 and 1 <= float(r["p3_iter_mean"]) <= 100
    assert "| 5 | float64 | 2 |" in (tmp_path / "istn_perdrop.md").read_text()
    # the cvxpy loop solved drop 0: the ratio is its time over ours, and both reach the same sum rate
    assert int(r["ref_drops"]) == 1 and float(r["ref_s_per_drop"]) > 0
    assert float(r["ratio"]) == pytest.approx(1e3 * float(r["ref_s_per_drop"]) / float(r["ms_per_drop"]), rel=1e-9)
    assert abs(float(r["gap_vs_ref"])) < 0.02
    # the meter only observes: the same sum rates with and without it, and the table reports them
    inst = generate_instance(IstnConfig(**dict(istn_perdrop._scenario(TINY))), 2, 5, 1, precision="float64",
                             progress=False)
    cfg = SolverConfig(progress=False)
    res, meter = istn_perdrop.measure(inst, cfg, 5)
    plain = solve_istn(inst, cfg, "proposed", 5)
    np.testing.assert_array_equal(res["sol"]["sum_rate"], plain["sum_rate"])
    assert len(meter.solutions["p1"]) == len(meter.solutions["p3"]) == 1
    assert meter.slot_calls == int(r["slot_calls"]) and meter.idle <= meter.slot_calls
    assert float(r["mean_sum_rate"]) == pytest.approx(float(np.mean(plain["sum_rate"])), rel=1e-12)


@pytest.mark.slow
def test_each_drop_rows_match_one_drop_solves(tmp_path):
    from solvers.istn.config import IstnConfig
    from solvers.istn.generate import generate_instance
    from solvers.istn.pipeline import SolverConfig, solve_istn

    assert istn_perdrop.main(["--batches", "1", "--each", "2", "--seeds", "5", "--precisions", "float32,float64",
                              "--scenario", TINY, "-o", str(tmp_path)]) == 0
    with open(tmp_path / "istn_perdrop_each.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # every drop in every precision, the precisions side by side
    assert [(int(r["drop"]), r["precision"]) for r in rows] == [(0, "float32"), (0, "float64"), (1, "float32"),
                                                                (1, "float64")]
    assert all(float(r["ms"]) > 0 and r["status"] in {"0", "1", "2", "3", "4"} for r in rows)
    # the float64 row of drop 1 is that drop solved alone
    inst = generate_instance(IstnConfig(**dict(istn_perdrop._scenario(TINY))), 2, 5, 1, precision="float64",
                             progress=False)
    alone = solve_istn({k: v[1:2] for k, v in inst.items()}, SolverConfig(progress=False), "proposed", 5)
    assert float(rows[3]["sum_rate"]) == pytest.approx(float(alone["sum_rate"][0]), rel=1e-12)
    assert float(rows[2]["sum_rate"]) == pytest.approx(float(rows[3]["sum_rate"]), rel=0.05)
