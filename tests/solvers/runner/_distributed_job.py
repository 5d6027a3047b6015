"""A tiny 'figure' through the runner as one process of a --distributed run (or alone).

``python _distributed_job.py OUT [--distributed]``: the 2-point, 16-chunk synthetic sweep of
``_synthetic.py`` under ``OUT/runs`` plus a reduction to ``OUT/fig.csv`` (mean sum rate per
point and method), run through ``solvers.runner.jobs`` exactly as ``satisac reproduce`` does.
Prints one JSON line: this process's chunk counts and whether it wrote the figure.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from solvers.runner.jobs import job_from_args, run_job
from solvers.runner.montecarlo import run_sweep
from solvers.runner.store import load_results, to_numpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _synthetic  # noqa: E402


def figure(out_dir: Path) -> str:
    run_sweep(out_dir / "runs", _synthetic.ToyConfig(), _synthetic.work, n_drops=40, seed=7,
              sweep={"p_dbm": [0.0, 10.0]}, methods=_synthetic.METHODS, chunk_size=5, progress=False)
    c = to_numpy(load_results(out_dir / "runs"))
    lines = ["point,method,n,mean_sum_rate"]
    for p in (0, 1):
        for m in _synthetic.METHODS:
            sel = (c["point"] == p) & (c["method"] == m)
            lines.append(f"{p},{m},{int(sel.sum())},{np.mean(c['sum_rate'][sel]):.12g}")
    (out_dir / "fig.csv").write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def main(argv) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--distributed", action="store_true")
    ap.add_argument("--shard", default=None)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    job = job_from_args(args)
    if job is None:
        figure(out)
        print(json.dumps({"wrote": True}), flush=True)
        return
    table, scope = run_job(job, figure, out)
    print(json.dumps({"wrote": table is not None, "computed": scope.computed, "skipped": scope.skipped,
                      "busy": scope.busy}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
