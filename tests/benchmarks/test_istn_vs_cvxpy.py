"""``python -m benchmarks.istn_vs_cvxpy``: argument checks and the report it writes (the run
itself solves paper-size drops with cvxpy and is a benchmark, not a test)."""
from __future__ import annotations

import pytest

from benchmarks.istn_vs_cvxpy import _markdown, main


@pytest.mark.parametrize("argv", [["--drops", "0"], ["--ref-drops", "0"], ["--cells", "-1"]])
def test_bad_counts_rejected_before_any_work(argv, tmp_path):
    with pytest.raises(ValueError, match="--drops, --ref-drops and --cells: expected positive"):
        main(argv + ["-o", str(tmp_path)])
    assert not any(tmp_path.iterdir())


def test_report_states_ratio_end_to_end_and_per_drop_rows():
    s = dict(drops=10000, cells=4, seed=0, precision="float32", device="H100", cores=16, jax="0.10.2",
             slots=4096, ours_per_drop_s=0.002, ours_cpu_per_drop_s=0.004, ref_per_drop_s=20.0,
             speedup=10000.0, ours_drops_per_s=500.0, ours_mean_sum_rate=30.5, common_mean_rel_gap=-0.012,
             common_worst_rel_gap=-0.05, ours_status_counts=[9, 1, 0, 0, 0], ref_drops=1,
             warmup_s=40.0, gen_s=3.3, ours_s=20.0)
    rows = [dict(drop=0, ref_s=20.0, ref_sum_rate=31.0, ours_sum_rate=30.5, rel_gap=-0.5 / 31.0,
                 ref_status="0 0 0 0", ours_status="0 0 0 0")]
    md = _markdown(s, rows)
    assert "**10000x**" in md
    assert "3.3 s + 20.0 s = 23.3 s" in md  # generation + warm solve of the 10,000 drops
    assert "| 0 | 20.0 | 31.000 | 30.500 | -1.61 % | 0 0 0 0 | 0 0 0 0 |" in md
