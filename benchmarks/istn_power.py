"""Satellite power of the proposed ISTN pipeline vs the per-drop best fixed power (issue 15).

    python -m benchmarks.istn_power --drops 16 --seed 1 [--cells M] -o DIR

Draws ``--drops`` fresh drops (``IstnConfig`` of ``--scenario``/``--set``, P_BS =
``--p-bs-dbm``; default 40 dBm, R_min = 3, N_RX = 4 as in the issue's measurements) and solves
them three ways on the same drops, in one process, float64:

* ``new``: ``SolverConfig`` defaults (P1 from ``p_sat_starts``, the power search of
  ``p_sat_search`` points with P1's beams fixed, then P2, P3);
* ``old``: the spec §3.4 pipeline, ``p_sat_starts=[0.25]`` and ``p_sat_search=0`` (one P1
  start at P_LEO/4, P1's own power kept);
* ``grid``: P3 refinement with the satellite power fixed (instance field ``p_sat_fixed``) at
  every power of ``--grid`` (per cell, W; default 0.5 2 5 10 20 50 100 200; powers with
  M p > P_LEO are skipped), all grid points as one batch; per drop the best QoS-feasible
  point (every cell status 0/1).

Reported: mean sum rate of each method over the drops where some grid point is feasible
(an infeasible proposed drop counts 0 there), ``ratio = mean(new) / mean(best grid)`` (the
acceptance bar is 0.99), QoS-feasible drop counts, and the wall / CPU seconds per drop of
``new`` and ``old`` (compilation excluded: ``old`` runs once first to compile the shared
programs, then ``new`` and ``old`` are timed).  Writes ``DIR/istn_power.csv`` (one row per
drop) and ``DIR/istn_power.md`` (summary).  Timings depend on the machine's load; the ratio
and the per-drop rates do not.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

GRID_W = (0.5, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0)


def _feasible(sol: dict) -> np.ndarray:
    """[B] bool: every cell of the drop meets the QoS (status 0 or 1)."""
    return (np.asarray(sol["status"]) <= 1).all(axis=1)


def grid_best(inst: dict, cfg, grid, seed: int = 0):
    """P3 at every fixed power of ``grid`` (W per cell) in ONE batch of len(grid) x B drops.

    Returns ``(rates [G, B] with -inf where infeasible, grid used [G])``; powers with
    M p > P_LEO (the satellite budget) are left out.
    """
    from solvers.istn.pipeline import solve_istn

    B, M = np.asarray(inst["p_bs"]).shape
    p_leo = float(np.min(inst["p_leo"]))
    grid = np.asarray([p for p in grid if M * p <= p_leo * (1 + 1e-12)], np.float64)
    big = {k: np.concatenate([np.asarray(v)] * len(grid)) for k, v in inst.items()}
    big["p_sat_fixed"] = np.repeat(grid, B)[:, None] * np.ones((1, M))
    sol = solve_istn(big, cfg, "proposed", seed)
    rate = np.asarray(sol["sum_rate"], np.float64).reshape(len(grid), B)
    return np.where(_feasible(sol).reshape(len(grid), B), rate, -np.inf), grid


def run(args) -> dict:
    from jaxcore.precision import set_precision
    set_precision("float64")
    from solvers.configio import load_config
    from solvers.istn.config import IstnConfig
    from solvers.istn.generate import generate_instance
    from solvers.istn.pipeline import SolverConfig, solve_istn

    scen = load_config(IstnConfig, None, [f"p_bs_dbm={args.p_bs_dbm}", f"n_cells={args.cells}"] + list(args.set),
                       scenario=args.scenario)
    inst = generate_instance(scen, args.drops, args.seed, precision="float64", progress=False)
    new = load_config(SolverConfig, None, list(args.solver_set) + ["progress=false"])
    old = load_config(SolverConfig, None, list(args.solver_set) + ["progress=false", "p_sat_starts=[0.25]",
                                                                   "p_sat_search=0"])
    B = args.drops
    res, times = {}, {}
    variants = [("new", new), ("old", old)] + [
        (f"starts={v}", load_config(SolverConfig, None, list(args.solver_set) + ["progress=false",
                                                                                 f"p_sat_starts=[{v}]"]))
        for v in args.also]
    solve_istn(inst, old, "proposed", args.seed)  # compile (P1/P3 programs are shared by old and new)
    for name, cfg in variants:
        c0, t0 = time.process_time(), time.perf_counter()
        res[name] = solve_istn(inst, cfg, "proposed", args.seed)
        times[name] = ((time.perf_counter() - t0) / B, (time.process_time() - c0) / B)
    grid_rates, grid = grid_best(inst, old, args.grid, args.seed)
    best = grid_rates.max(axis=0)  # [B]
    has = np.isfinite(best)
    rows = []
    for b in range(B):
        r = dict(drop=b, best_grid=best[b], best_grid_p_w=float(grid[np.argmax(grid_rates[:, b])]) if has[b] else "")
        for name in res:
            s = res[name]
            r[f"{name}_sum_rate"] = float(s["sum_rate"][b])
            r[f"{name}_feasible"] = bool(_feasible(s)[b])
            r[f"{name}_p_sat_w"] = float(np.sum(s["p_sat"][b]))
            r[f"{name}_status"] = int(np.max(s["status"][b]))
        for g, p in enumerate(grid):
            r[f"grid_{p:g}W"] = grid_rates[g, b]
        rows.append(r)
    eff = {n: np.where(_feasible(res[n]), np.asarray(res[n]["sum_rate"], np.float64), 0.0) for n in res}
    summ = dict(drops=B, seed=args.seed, cells=args.cells, p_bs_dbm=args.p_bs_dbm, scenario=args.scenario,
                grid_w=grid.tolist(), drops_grid_feasible=int(has.sum()),
                mean_best_grid=float(best[has].mean()) if has.any() else float("nan"))
    for n in res:
        summ[f"mean_{n}"] = float(eff[n][has].mean()) if has.any() else float("nan")
        summ[f"ratio_{n}"] = summ[f"mean_{n}"] / summ["mean_best_grid"] if has.any() else float("nan")
        summ[f"feasible_{n}"] = int(_feasible(res[n]).sum())
        summ[f"worst_drop_ratio_{n}"] = float(np.min(eff[n][has] / best[has])) if has.any() else float("nan")
        summ[f"wall_s_per_drop_{n}"], summ[f"cpu_s_per_drop_{n}"] = times[n]
    summ["p_sat_starts"] = list(new.p_sat_starts)
    summ["p_sat_search"] = new.p_sat_search
    summ["also"] = [n for n in res if n.startswith("starts=")]
    summ["cost_new_over_old_wall"] = times["new"][0] / times["old"][0]
    summ["cost_new_over_old_cpu"] = times["new"][1] / times["old"][1]
    return dict(summary=summ, rows=rows)


def _markdown(s: dict) -> str:
    lines = [
        "# Proposed satellite power vs the per-drop best fixed power",
        "",
        f"{s['drops']} drops, seed {s['seed']}, M = {s['cells']}, P_BS = {s['p_bs_dbm']} dBm, "
        f"scenario {s['scenario'] or '(defaults)'}, float64; grid {s['grid_w']} W per cell (P3 with "
        f"`p_sat_fixed`); {s['drops_grid_feasible']} drops have a QoS-feasible grid point.",
        "",
        "| method | mean sum rate | / best grid | worst drop / best | QoS-feasible drops | wall s/drop | CPU s/drop |",
        "|---|---|---|---|---|---|---|",
        f"| best fixed power (grid) | {s['mean_best_grid']:.3f} | 1 | 1 | {s['drops_grid_feasible']} | | |",
    ]
    for n, label in (("new", f"proposed, p_sat_starts={s['p_sat_starts']}, p_sat_search={s['p_sat_search']}"),
                     ("old", "spec §3.4: p_sat_starts=[0.25], p_sat_search=0")):
        lines.append(f"| {label} | {s[f'mean_{n}']:.3f} | {s[f'ratio_{n}']:.4f} | {s[f'worst_drop_ratio_{n}']:.3f} "
                     f"| {s[f'feasible_{n}']} | {s[f'wall_s_per_drop_{n}']:.3f} | {s[f'cpu_s_per_drop_{n}']:.3f} |")
    for n in s.get("also", []):
        lines.append(f"| proposed, p_sat_starts=[{n[7:]}] | {s[f'mean_{n}']:.3f} | {s[f'ratio_{n}']:.4f} "
                     f"| {s[f'worst_drop_ratio_{n}']:.3f} | {s[f'feasible_{n}']} | {s[f'wall_s_per_drop_{n}']:.3f} "
                     f"| {s[f'cpu_s_per_drop_{n}']:.3f} |")
    lines += ["", f"Cost new / old: {s['cost_new_over_old_wall']:.2f}x wall, {s['cost_new_over_old_cpu']:.2f}x CPU "
              "(same process, same drops, compilation excluded).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.istn_power", description=__doc__.splitlines()[0])
    p.add_argument("--drops", type=int, default=16)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--p-bs-dbm", type=float, default=40.0)
    p.add_argument("--scenario", default=None, help="IstnConfig scenario name (default: the dataclass defaults)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="IstnConfig value")
    p.add_argument("--solver-set", action="append", default=[], metavar="KEY=VALUE",
                   help="SolverConfig value for both methods")
    p.add_argument("--also", nargs="*", default=[], metavar="F1,F2",
                   help="more p_sat_starts variants to compare (comma-separated fractions of P_LEO)")
    p.add_argument("--grid", type=float, nargs="+", default=list(GRID_W), help="fixed powers per cell, W")
    p.add_argument("-o", "--output", required=True, help="output directory")
    args = p.parse_args(argv)
    if args.drops < 1 or args.cells < 1:
        print("istn_power: error: --drops and --cells: expected integers >= 1", file=sys.stderr)
        return 2
    out = run(args)
    d = Path(args.output)
    d.mkdir(parents=True, exist_ok=True)
    cols = list(out["rows"][0])
    with open(d / "istn_power.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in out["rows"]:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    md = _markdown(out["summary"])
    (d / "istn_power.md").write_text(md)
    print(md)
    print(f"wrote {d / 'istn_power.csv'} and {d / 'istn_power.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
