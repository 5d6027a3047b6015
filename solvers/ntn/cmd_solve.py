"""``satisac ntn solve inst.npz -o sol.npz [--method jmra|jmra-nohop|dmrab] [--reference]``.

Loads and validates the instance (interfaces.md §3; nothing is written on failure), solves
all B frames as one batch with :func:`solvers.ntn.allocate.solve_allocation`, or with the
cvxpy reference (``--reference``: Algorithm 1 driven by cvxpy per frame, or DMRAB's
per-satellite problems (36)-(37) by cvxpy), and writes the solution (§4).
Solver settings are :class:`solvers.ntn.allocate.JmraConfig` fields (``--set rho=5``).
"""
from __future__ import annotations

import time

import numpy as np

from solvers.configio import load_config
from solvers.devices import apply_devices, is_writer, make_mesh, solve_distributed
from solvers.ntn.allocate import JmraConfig, solve_allocation, solve_allocation_reference
from solvers.ntn.instance import load_instance, save_solution
from solvers.npzio import check_output_path


def run(args) -> int:
    check_output_path(args.output, [args.instance, args.config])  # before any work; inputs are never overwritten
    cfg = load_config(JmraConfig, args.config, args.overrides, scenario=args.scenario)
    arrays, dims = load_instance(args.instance)
    t0 = time.perf_counter()
    if args.reference:
        sol = solve_allocation_reference(arrays, args.method, cfg)
    else:
        devices = apply_devices(args)
        mesh = make_mesh(devices) if len(devices) > 1 else None
        sol = solve_distributed(arrays, lambda a: solve_allocation(a, args.method, cfg, mesh=mesh), dims["B"])
    solve_s = time.perf_counter() - t0
    if not is_writer():  # a --distributed run: process 0 writes
        print(f"{args.method}: {dims['B']} frame(s) solved in {solve_s:.1f} s; process 0 writes {args.output}")
        return 0
    path = save_solution(args.output, {**sol.to_arrays(), "solve_time_s": np.float64(solve_s)}, arrays)
    n = sol.status_counts()
    print(f"{args.method}{' (cvxpy reference)' if args.reference else ''}: {dims['B']} frame(s), "
          f"{dims['C']} cells, {dims['S']} satellites; converged {n['CONVERGED']}, "
          f"cap reached {n['ITERATION_CAP']}, infeasible {n['INFEASIBLE']}; "
          f"mean objective (25) {np.nanmean(sol.objective) if (~sol.infeasible).any() else float('nan'):.6g}; "
          f"solved in {solve_s:.1f} s (compilation included)")
    print(f"wrote {path}")
    return 0
