"""A/B of two ISTN solver configurations on the same drops, in one run (issue 3).

    python -m benchmarks.istn_ab --drops 200:600 --set-b phase1_certify=true

Generates ``IstnConfig()`` drops 0..hi-1 (``--seed``, ``--cells`` per drop), warms both
configurations up on the first 32 drops (compilation excluded from the timings), then solves
drops lo..hi-1 with configuration A (``SolverConfig`` defaults plus ``--set-a``) and B
(defaults plus ``--set-b``).  Prints and writes (``-o``) wall ms per drop, CPU ms per drop,
mean sum rate (25a) and the status counts (interfaces.md §2: 0 ok, 1 iteration cap,
2 Phase I failed, ...) per configuration, plus the per-drop sum-rate differences.
Used for the Phase-I certificate comparison in BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def _range(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--drops: expected LO:HI (integers), got {text!r}") from None
    if not 0 <= lo < hi:
        raise argparse.ArgumentTypeError(f"--drops: expected 0 <= LO < HI, got {text!r}")
    return lo, hi


def run(args) -> dict:
    from jaxcore.precision import set_precision
    set_precision(args.precision)
    from solvers.configio import load_config
    from solvers.istn.config import IstnConfig
    from solvers.istn.generate import generate_instance
    from solvers.istn.pipeline import SolverConfig, solve_istn

    lo, hi = args.drops
    cfgs = {name: load_config(SolverConfig, None, list(sets) + ["progress=false"])
            for name, sets in (("A", args.set_a), ("B", args.set_b))}
    inst = generate_instance(IstnConfig(), hi, args.seed, args.cells, precision=args.precision, progress=False)
    part = lambda a, b: {k: v[a:b] for k, v in inst.items()}  # noqa: E731
    out = {"drops": [lo, hi], "seed": args.seed, "cells": args.cells, "precision": args.precision}
    rates = {}
    for name, cfg in cfgs.items():
        solve_istn(part(0, min(hi, 32)), cfg, "proposed", args.seed)  # compile
        c0, t0 = time.process_time(), time.perf_counter()
        sol = solve_istn(part(lo, hi), cfg, "proposed", args.seed)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        rates[name] = np.asarray(sol["sum_rate"], float)
        st = np.asarray(sol["status"]).ravel()
        out[name] = {"set": list(getattr(args, f"set_{name.lower()}")), "ms_per_drop": 1e3 * wall / (hi - lo),
                     "cpu_ms_per_drop": 1e3 * cpu / (hi - lo), "mean_sum_rate": float(rates[name].mean()),
                     "status_counts": np.bincount(st, minlength=5).tolist()}
    d = (rates["B"] - rates["A"]) / np.maximum(np.abs(rates["A"]), 1e-12)
    out["rel_diff_B_vs_A"] = {"mean": float(d.mean()), "min": float(d.min()), "max": float(d.max()),
                              "drops_differing_1pct": int(np.sum(np.abs(d) > 0.01))}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.istn_ab", description=__doc__.splitlines()[0])
    p.add_argument("--drops", type=_range, default=(0, 200), help="LO:HI drop range (default 0:200)")
    p.add_argument("--set-a", action="append", default=[], metavar="KEY=VALUE", help="SolverConfig value of A")
    p.add_argument("--set-b", action="append", default=[], metavar="KEY=VALUE", help="SolverConfig value of B")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--precision", choices=("float32", "float64"), default="float64")
    p.add_argument("-o", "--output", help="write the result as JSON here")
    args = p.parse_args(argv)
    res = run(args)
    text = json.dumps(res, indent=1)
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
