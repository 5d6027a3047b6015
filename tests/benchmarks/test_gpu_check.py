"""``python -m benchmarks.gpu_check``: the ``--tiny`` run end to end (the command a GPU
machine runs, at toy sizes on CPU), its CSV/markdown rows, and a failing part reported while
the others still run."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import gpu_check

REPO = Path(__file__).resolve().parents[2]


def _rows(path: Path) -> dict[tuple[str, str], dict]:
    with open(path, newline="") as f:
        return {(r["part"], r["metric"]): r for r in csv.DictReader(f)}


@pytest.mark.slow
def test_tiny_run_writes_every_part(tmp_path):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}  # the session's compilation cache (tests/conftest.py)
    r = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", "-o", str(tmp_path), "--tiny",
                        "--budget-scale", "100"], cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stderr[-3000:]
    for part in gpu_check.PARTS:  # a progress line per part on stderr
        assert f"gpu_check [{part}]" in r.stderr
    rows = _rows(tmp_path / "gpu_check.csv")
    assert not [k for k in rows if k[1] == "error"]
    v = lambda part, metric: float(rows[(part, metric)]["value"])  # noqa: E731
    # ISTN end to end: all 6 drops in 2 chunks, one status per cell, plausible rates
    assert v("istn_e2e", "drops_done") == 6
    counts = [int(c) for c in rows[("istn_e2e", "status_counts")]["value"].split()]
    assert len(counts) == 5 and sum(counts) == 6
    assert v("istn_e2e", "mean_sum_rate") > 0
    assert v("istn_e2e", "generate_total") + v("istn_e2e", "solve_total") <= v("istn_e2e", "wall_total") + 1e-6
    assert v("istn_e2e", "steady_drops_per_s") > 0
    # roofline: measured peaks, the Newton steps used within the scan length, essential <= executed
    # (no bound on time / floor: on a shared CPU the measured peaks themselves are low)
    assert v("wmmse_roofline", "peak_matmul_f32") > 0 and v("wmmse_roofline", "peak_copy") > 0
    assert 1 <= v("wmmse_roofline", "newton_steps_used") <= 50
    assert 0 < v("wmmse_roofline", "flops_essential") <= v("wmmse_roofline", "flops_executed")
    assert v("wmmse_roofline", "time_over_floor") > 0
    # JMRA at every tiny batch, and the cvxpy ratios with their quality gaps
    for b in gpu_check.TINY["jmra_batches"]:
        assert v("jmra_batch", f"frames_per_s_batch_{b}") > 0
    for m in ("istn_ratio", "jmra_ratio", "istn_cvxpy_per_drop", "jmra_cvxpy_per_frame"):
        assert v("cvxpy_ratio", m) > 0
    assert v("cvxpy_ratio", "jmra_objective_gap") <= 1.0  # % (validation tolerance 1e-2)
    # batched NTN scenarios at every tiny batch, with rows equal to one scenario at a time (tiny frames)
    for b in gpu_check.TINY["scen_batches"]:
        assert v("ntn_scenarios", f"scenarios_per_s_batch_{b}") > 0
        assert "rows identical: True" in rows[("ntn_scenarios", f"scenarios_per_s_batch_{b}")]["note"]
    md = (tmp_path / "gpu_check.md").read_text()
    assert rows[("meta", "device")]["value"].startswith("cpu")
    assert f"- jax: {rows[('meta', 'jax')]['value']}" in md
    for part in gpu_check.PARTS:
        assert f"## {part}" in md
    assert "| drops_done | 6 | drops |" in md


def test_failing_part_is_reported_and_the_others_still_run(tmp_path, monkeypatch):
    def boom(rep, s, seed):
        raise RuntimeError("no kernel image for this device")

    def fine(rep, s, seed):
        rep.add("jmra_batch", "frames_per_s_batch_1", 12.5, "frames/s", "budget " + str(s["jmra_budget_s"]))

    monkeypatch.setitem(gpu_check.PART_FNS, "istn_e2e", boom)
    monkeypatch.setitem(gpu_check.PART_FNS, "jmra_batch", fine)
    code = gpu_check.main(["-o", str(tmp_path), "--tiny", "--parts", "istn_e2e,jmra_batch", "--budget-scale", "2"])
    assert code == 1
    rows = _rows(tmp_path / "gpu_check.csv")
    assert "RuntimeError: no kernel image for this device" in rows[("istn_e2e", "error")]["note"]
    assert rows[("jmra_batch", "frames_per_s_batch_1")]["value"] == "12.5"
    assert rows[("jmra_batch", "frames_per_s_batch_1")]["note"] == f"budget {2 * gpu_check.TINY['jmra_budget_s']}"
    md = (tmp_path / "gpu_check.md").read_text()
    assert "## istn_e2e\n\n**FAILED**" in md and "| frames_per_s_batch_1 | 12.5 | frames/s |" in md


@pytest.mark.parametrize("argv", [["--parts", "istn_e2e,nope"], ["--budget-scale", "0"]])
def test_bad_arguments_rejected(argv, tmp_path):
    with pytest.raises(SystemExit) as e:
        gpu_check.main(["-o", str(tmp_path / "out")] + argv)
    assert e.value.code == 2
    assert not (tmp_path / "out").exists()
