"""JMRA (NTN paper Algorithms 1 + 2) against the cvxpy-driven loop, float64 vs float32, in one run.

    python -m benchmarks.ntn_vs_cvxpy --frames 8 --seed 21 --world-frames 4 --world-seed 23 -o DIR

Two instance sets, both drawn fresh from ``--seed`` / ``--world-seed``:

* **synthetic** ``--frames`` frames of ``--cells`` x ``--sats`` (default 100 x 12,
  :func:`benchmarks.ntn_bench.random_frames`): ours (``solve_allocation(.., "jmra")``) one frame
  per call, after one compiling call, in float64 (the default) and float32; ours on all frames
  as one batched call; the cvxpy-driven loop (``solve_allocation_reference``: Algorithm 1 with a
  Clarabel subproblem per outer iteration, the same rounding) on the first ``--ref-frames``,
  after an untimed call (both sides exclude their one-time costs: our compilation, the loop's
  imports, solver set-up and JAX helpers; measured, these made the loop's first 100 x 12 frame
  4.3 s against 0.1 s for the next ones);
* **world** ``--world-frames`` consecutive default frames of the scenario (600 cells, pilot
  sensing, ``solvers.ntn.world``) solved the same way, with the loop on the first
  ``--world-ref-frames`` (0 by default: minutes per frame).

Per set: wall time per frame (mean, median, max), outer iterations, the ratio of the loop's
mean to ours on the same frames, the objective (25) gap of ours against the loop per frame
(integer allocations; positive = ours higher), and float32 against float64.  Writes
``ntn_vs_cvxpy.csv`` (one row per frame and solver) and ``ntn_vs_cvxpy.md``; prints the table.
Timings are reported, never asserted.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time

import numpy as np

SOLVERS = ("ours float64", "ours float32", "cvxpy loop")


def _one(arrays: dict, i: int) -> dict:
    return {k: np.asarray(v)[i:i + 1] for k, v in arrays.items()}


def _timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def measure(arrays: dict, n_ref: int, label: str, quiet: bool, ref_warmup: bool = True) -> list[dict]:
    """Rows (one per frame and solver) for one instance set; see the module docstring.

    ``ref_warmup``: solve frame 0 with the loop once, untimed, before timing it (the first call
    compiles the loop's JAX helpers for the shape, like our compiling call); off where one
    loop solve takes minutes (the world frames; their compile is a small part of it).
    """
    from solvers.ntn.allocate import JmraConfig, solve_allocation, solve_allocation_reference

    cfg = JmraConfig()
    F = len(arrays["t_ho"])
    rows = []
    for name, dtype in (("ours float64", np.float64), ("ours float32", np.float32)):
        solve_allocation(_one(arrays, 0), "jmra", cfg, dtype=dtype)  # compile (the frames share shapes)
        for i in range(F):
            dt, sol = _timed(solve_allocation, _one(arrays, i), "jmra", cfg, dtype=dtype)
            rows.append(dict(set=label, frame=i, solver=name, seconds=dt, objective=float(sol["objective"][0]),
                             iterations=int(sol["iterations"][0]), status=int(sol["status"][0])))
            if not quiet:
                print(f"  {label} frame {i} {name}: {dt:.3f} s, {int(sol['iterations'][0])} its", file=sys.stderr)
    solve_allocation(arrays, "jmra", cfg)  # compile the batch-F program
    dt, sol = _timed(solve_allocation, arrays, "jmra", cfg)
    rows += [dict(set=label, frame=i, solver=f"ours float64 batch {F}", seconds=dt / F,
                  objective=float(sol["objective"][i]), iterations=int(sol["iterations"][i]),
                  status=int(sol["status"][i])) for i in range(F)]
    if n_ref and ref_warmup:
        solve_allocation_reference(_one(arrays, 0), "jmra", cfg)
    for i in range(min(n_ref, F)):
        dt, ref = _timed(solve_allocation_reference, _one(arrays, i), "jmra", cfg)
        rows.append(dict(set=label, frame=i, solver="cvxpy loop", seconds=dt, objective=float(ref["objective"][0]),
                         iterations=int(ref["iterations"][0]), status=int(ref["status"][0])))
        if not quiet:
            print(f"  {label} frame {i} cvxpy loop: {dt:.1f} s", file=sys.stderr)
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    """Per (set, solver): time statistics, ratio and objective gaps on the common frames."""
    out = []
    for label in dict.fromkeys(r["set"] for r in rows):
        rs = [r for r in rows if r["set"] == label]
        by = {s: {r["frame"]: r for r in rs if r["solver"] == s} for s in dict.fromkeys(r["solver"] for r in rs)}
        ref, f64 = by.get("cvxpy loop", {}), by["ours float64"]
        for s, fr in by.items():
            t = np.array([r["seconds"] for r in fr.values()])
            common = sorted(set(fr) & set(ref)) if s != "cvxpy loop" else []
            gap = [(fr[i]["objective"] - ref[i]["objective"]) / abs(ref[i]["objective"]) for i in common]
            g64 = [(fr[i]["objective"] - f64[i]["objective"]) / abs(f64[i]["objective"]) for i in fr]
            t_ours = np.mean([fr[i]["seconds"] for i in common]) if common else np.nan
            t_ref = np.mean([ref[i]["seconds"] for i in common]) if common else np.nan
            out.append(dict(set=label, solver=s, frames=len(t), mean_s=float(t.mean()), median_s=float(np.median(t)),
                            max_s=float(t.max()), iterations=float(np.mean([r["iterations"] for r in fr.values()])),
                            ref_frames=len(common), ratio=float(t_ref / t_ours) if common else np.nan,
                            gap_vs_ref_mean=float(np.mean(gap)) if gap else np.nan,
                            gap_vs_ref_worst=float(max(gap, key=abs)) if gap else np.nan,
                            gap_vs_f64_worst=float(max(g64, key=abs)) if s != "cvxpy loop" else np.nan))
    return out


def _pct(v) -> str:
    return "-" if not np.isfinite(v) else f"{100 * v:+.4f} %"


def markdown(summary: list[dict], meta: dict) -> str:
    lines = [f"JMRA vs the cvxpy-driven loop, {meta['date']}, {meta['machine']}, JAX {meta['jax']}, "
             f"load average at start {meta['load']}", "",
             f"synthetic: {meta['synthetic']}; world: {meta['world']}", "",
             "| set | solver | frames | mean s/frame | median | max | outer its | ratio to the loop "
             "(common frames) | objective vs loop: mean / worst | vs float64 one-by-one: worst |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        ratio = "-" if not np.isfinite(s["ratio"]) else f"**{s['ratio']:.1f}x** ({s['ref_frames']})"
        lines.append(f"| {s['set']} | {s['solver']} | {s['frames']} | {s['mean_s']:.3f} | {s['median_s']:.3f} | "
                     f"{s['max_s']:.3f} | {s['iterations']:.1f} | {ratio} | {_pct(s['gap_vs_ref_mean'])} / "
                     f"{_pct(s['gap_vs_ref_worst'])} | {_pct(s['gap_vs_f64_worst'])} |")
    return "\n".join(lines) + "\n"


def run(args) -> list[dict]:
    for k in ("frames", "cells", "sats"):
        if getattr(args, k) < 1:
            raise ValueError(f"--{k}: expected a positive integer, got {getattr(args, k)}")
    for k in ("ref_frames", "world_frames", "world_ref_frames"):
        if getattr(args, k) < 0:
            raise ValueError(f"--{k.replace('_', '-')}: expected an integer >= 0, got {getattr(args, k)}")
    import jax

    from benchmarks.ntn_bench import random_frames
    meta = dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), jax=jax.__version__,
                machine=f"{jax.devices()[0].device_kind}, {platform.machine()}, {os.cpu_count()} cores",
                load="{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
                synthetic=f"{args.frames} frames of {args.cells} cells x {args.sats} satellites, seed {args.seed}",
                world="-")
    if args.ref_frames or args.world_ref_frames:  # one-time costs of the loop (imports, solver set-up)
        from solvers.ntn.allocate import solve_allocation_reference
        solve_allocation_reference(random_frames(1, 6, 2, seed=0), "jmra")
    rows = measure(random_frames(args.frames, args.cells, args.sats, seed=args.seed), args.ref_frames,
                   f"synthetic {args.cells}x{args.sats}", args.quiet)
    if args.world_frames:
        from solvers.configio import load_configs
        from solvers.ntn.config import NtnConfig
        from solvers.ntn.world import allocation_instance, world_frames
        (cfg,) = load_configs((NtnConfig,), None, [], args.scenario)
        inst = allocation_instance(world_frames(cfg, args.world_seed, args.world_frames), cfg)
        C, S = np.shape(inst["rate"])[1:]
        meta["world"] = (f"{args.world_frames} consecutive frames of the '{args.scenario}' scenario, world seed "
                         f"{args.world_seed}: {C} cells, {S} satellites in view")
        rows += measure(inst, args.world_ref_frames, f"world {C} cells", args.quiet, ref_warmup=False)
    summary = summarise(rows)
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "ntn_vs_cvxpy.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    md = markdown(summary, meta)
    with open(os.path.join(args.output, "ntn_vs_cvxpy.md"), "w") as f:
        f.write(md)
    print(md)
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=8, help="synthetic frames")
    p.add_argument("--cells", type=int, default=100)
    p.add_argument("--sats", type=int, default=12)
    p.add_argument("--seed", type=int, default=21, help="seed of the synthetic frames")
    p.add_argument("--ref-frames", type=int, default=8, help="synthetic frames the cvxpy loop solves (the first)")
    p.add_argument("--world-frames", type=int, default=4, help="default-scenario frames (0: skip)")
    p.add_argument("--world-seed", type=int, default=23)
    p.add_argument("--world-ref-frames", type=int, default=0, help="world frames the cvxpy loop solves")
    p.add_argument("--scenario", default="paper", help="NTN scenario of the world frames")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("-o", "--output", required=True)
    from benchmarks.report import run_main
    return run_main(p, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
