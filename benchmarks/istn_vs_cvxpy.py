"""ISTN pipeline throughput at scale against the cvxpy per-drop loop, in one run (issue 3).

    python -m benchmarks.istn_vs_cvxpy --drops 1000 --ref-drops 4 -o results/istn-vs-cvxpy

Generates ``--drops`` paper-default drops (``IstnConfig()``, ``--cells`` cells each; timed,
compile included, for the end-to-end total), solves them all with ``solve_istn`` (P1 -> P2 -> P3, continuous batching; the slot-count program
is compiled on a warm-up call first and that time is reported separately), then solves the
first ``--ref-drops`` of the SAME drops with the cvxpy loop (``solve_istn_reference``: the
paper's way, one CVX transmit step per WMMSE iteration per drop), one drop at a time, until
``--ref-budget-s`` is spent (at least one drop).  Writes ``istn_vs_cvxpy.csv`` (one row per
drop the reference solved, plus a summary row) and ``istn_vs_cvxpy.md``; prints the table.

The ratio is wall time per drop (cvxpy mean over the drops it solved / ours over all
drops); quality is the sum rate (25a) on the common drops: mean relative gap and per drop.
A drop whose Phase I fails in the cvxpy loop costs it minutes, so the reference mean depends
on which drops are sampled; the per-drop rows show it.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time

import numpy as np


def _slice(arrays: dict, lo: int, hi: int) -> dict:
    return {k: v[lo:hi] for k, v in arrays.items()}


def reference_drops(inst: dict, n: int, budget_s: float, seed: int):
    """The cvxpy loop (``solve_istn_reference``) on the first ``n`` drops of ``inst``, one at a
    time, until ``budget_s`` seconds are spent (at least one drop).

    Yields (drop index, wall seconds, its solution dict)."""
    from solvers.istn.pipeline import SolverConfig, solve_istn_reference

    spent = 0.0
    for b in range(n):
        if b and spent > budget_s:
            break
        t0 = time.perf_counter()
        ref = solve_istn_reference(_slice(inst, b, b + 1), SolverConfig(progress=False), "proposed", seed)
        dt = time.perf_counter() - t0
        spent += dt
        yield b, dt, ref


def run(args) -> dict:
    if args.drops < 1 or args.ref_drops < 1 or args.cells < 1:
        raise ValueError("--drops, --ref-drops and --cells: expected positive integers, got "
                         f"{args.drops}, {args.ref_drops}, {args.cells}")
    import jax

    from jaxcore.precision import set_precision
    set_precision(args.precision)
    from solvers.istn.config import IstnConfig
    from solvers.istn.generate import generate_instance
    from solvers.istn.pipeline import SolverConfig, solve_istn

    n_ref = min(args.ref_drops, args.drops)
    cfg = SolverConfig(progress=not args.quiet, slots=args.slots)
    t0 = time.perf_counter()  # channel generation, compile included (end to end = this + solve)
    inst = generate_instance(IstnConfig(), args.drops, args.seed, args.cells, precision=args.precision,
                             progress=not args.quiet)
    gen_s = time.perf_counter() - t0
    # warm-up on the first 2 x slots drops (at least min(drops, slots) cells start from the timed
    # run's slot count and shrink through its counts): compiles the programs the timed run uses
    # (one per slot count), so the timed call below measures solving, not compiling
    from solvers.istn.streaming import default_slots
    t0 = time.perf_counter()
    solve_istn(_slice(inst, 0, min(args.drops, 2 * (args.slots or default_slots()))), cfg, "proposed", args.seed)
    warm_s = time.perf_counter() - t0
    c0, t0 = time.process_time(), time.perf_counter()
    sol = solve_istn(inst, cfg, "proposed", args.seed)
    ours_s, ours_c = time.perf_counter() - t0, time.process_time() - c0
    sr = np.asarray(sol["sum_rate"], float)  # [B] (interfaces.md §2)
    st = np.asarray(sol["status"]).reshape(args.drops, -1)

    rows, t_ref = [], 0.0
    for b, dt, ref in reference_drops(inst, n_ref, args.ref_budget_s, args.seed):
        t_ref += dt
        r_sr = float(np.asarray(ref["sum_rate"], float)[0])
        rows.append(dict(drop=b, ref_s=dt, ref_sum_rate=r_sr, ours_sum_rate=float(sr[b]),
                         rel_gap=(float(sr[b]) - r_sr) / max(abs(r_sr), 1e-12),
                         ref_status=" ".join(map(str, np.asarray(ref["status"]).ravel().tolist())),
                         ours_status=" ".join(map(str, st[b].tolist()))))
        if not args.quiet:
            print(f"  cvxpy drop {b}: {dt:.1f} s, sum rate {r_sr:.3f} (ours {sr[b]:.3f})", file=sys.stderr)
    n_done = len(rows)
    ref_per = t_ref / n_done
    ours_per = ours_s / args.drops
    common_ref = np.array([r["ref_sum_rate"] for r in rows])
    common_ours = sr[:n_done]
    summary = dict(
        device=jax.devices()[0].device_kind, platform=platform.processor() or platform.machine(),
        cores=os.cpu_count(), jax=jax.__version__, precision=args.precision, seed=args.seed, cells=args.cells,
        drops=args.drops, slots=args.slots or "auto", gen_s=gen_s, warmup_s=warm_s, ours_s=ours_s, ours_per_drop_s=ours_per,
        ours_cpu_per_drop_s=ours_c / args.drops, ours_drops_per_s=args.drops / ours_s,
        ours_mean_sum_rate=float(sr.mean()), ours_status_counts=np.bincount(st.ravel(), minlength=5).tolist(),
        ref_drops=n_done, ref_per_drop_s=ref_per, speedup=ref_per / ours_per,
        common_mean_rel_gap=float((common_ours.sum() - common_ref.sum()) / max(abs(common_ref.sum()), 1e-12)),
        common_worst_rel_gap=float(min(r["rel_gap"] for r in rows)))
    os.makedirs(args.output, exist_ok=True)
    csv_path = os.path.join(args.output, "istn_vs_cvxpy.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    md = _markdown(summary, rows)
    md_path = os.path.join(args.output, "istn_vs_cvxpy.md")
    with open(md_path, "w") as f:
        f.write(md)
    print(md)
    print(f"wrote {csv_path}\nwrote {md_path}")
    return summary


def _markdown(s: dict, rows: list) -> str:
    lines = [
        f"ISTN pipeline vs the cvxpy loop: {s['drops']} drops x {s['cells']} cell(s), paper defaults, "
        f"seed {s['seed']}, {s['precision']}, {s['device']} ({s['cores']} cores), JAX {s['jax']}",
        "",
        "| | ours (solve_istn) | cvxpy loop | ratio |",
        "|---|---|---|---|",
        f"| drops solved | {s['drops']} (slots {s['slots']}) | {s['ref_drops']} (first drops) | |",
        f"| wall time per drop | {s['ours_per_drop_s'] * 1e3:.1f} ms (CPU {s['ours_cpu_per_drop_s'] * 1e3:.1f} ms) "
        f"| {s['ref_per_drop_s']:.1f} s | **{s['speedup']:.0f}x** |",
        f"| drops per second | {s['ours_drops_per_s']:.2f} | {1 / s['ref_per_drop_s']:.3f} | |",
        f"| mean sum rate (all / common drops) | {s['ours_mean_sum_rate']:.3f} | | "
        f"common: {100 * s['common_mean_rel_gap']:+.2f} % (worst drop {100 * s['common_worst_rel_gap']:+.2f} %) |",
        f"| status counts (0 ok, 1 cap, 2 infeasible, 3 numerical, 4 merge) | {s['ours_status_counts']} | | |",
        f"| warm-up (compile) | {s['warmup_s']:.1f} s | | |",
        f"| end to end: generate {s['drops']} drops (incl. its compile) + solve them (warm) "
        f"| {s['gen_s']:.1f} s + {s['ours_s']:.1f} s = {s['gen_s'] + s['ours_s']:.1f} s | | |",
        "",
        "| drop | cvxpy s | cvxpy sum rate | ours sum rate | gap | cvxpy status | ours status |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['drop']} | {r['ref_s']:.1f} | {r['ref_sum_rate']:.3f} | {r['ours_sum_rate']:.3f} | "
              f"{100 * r['rel_gap']:+.2f} % | {r['ref_status']} | {r['ours_status']} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--drops", type=int, default=1000)
    p.add_argument("--ref-drops", type=int, default=4, help="drops the cvxpy loop solves (the first ones)")
    p.add_argument("--ref-budget-s", type=float, default=600.0, help="stop the cvxpy loop after this many seconds")
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--slots", type=int, default=0, help="SolverConfig.slots (0 = auto)")
    p.add_argument("--precision", choices=("float32", "float64"), default="float64")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("-o", "--output", required=True)
    run(p.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
