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
from solvers.ntn.allocate import (INSTANCE_KEYS, JmraConfig, objective, per_user_throughput,
                                  solve_allocation)
from solvers.ntn.instance import load_instance, save_solution
from solvers.npzio import check_output_path


def solve_reference(arrays: dict, method: str, cfg: JmraConfig) -> dict[str, np.ndarray]:
    """cvxpy reference for every frame (a Python loop: the reference is slow by design)."""
    import jax.numpy as jnp
    from tqdm import tqdm

    from jaxcore.ntn import jmra as J
    from solvers.ntn.dmrab import dmrab
    from solvers.ntn.rounding import round_allocation
    B, C, S = np.shape(arrays["rate"])
    x = np.zeros((B, C, S), np.int64)
    x_rel = np.zeros((B, C, S))
    status = np.zeros(B, np.int8)
    iters = np.zeros(B, np.int64)
    multi = np.zeros(B, np.int64)
    s = cfg.settings()
    for b in tqdm(range(B), desc=f"reference {method}", disable=B < 2):
        f = [jnp.asarray(np.asarray(arrays[k][b]).astype(np.int32 if k in ("n_com", "n_beams") else
                                                          (bool if k == "prev_served" else np.float64)))
             for k in INSTANCE_KEYS]
        n_com = float(arrays["n_com"][b])
        if method == "dmrab":
            from reference.ntn_dmrab import solve_satellite
            from solvers.ntn.allocate import _metric
            metric = jnp.asarray(np.asarray(_metric({k: v[b:b + 1] for k, v in arrays.items()}, cfg)[0], np.float64))
            res = dmrab(*f, metric)
            y = np.zeros((C, S))
            if bool(res.feasible):
                member = np.asarray(res.y) > 0
                from solvers.ntn.dmrab import dmrab_match
                na = np.asarray(arrays["n_active"][b], float)
                usable = (np.asarray(arrays["rate"][b]) > 0) & (na[:, None] > 0)
                member = np.asarray(dmrab_match(metric, jnp.asarray(usable)))
                t_ho = float(arrays["t_ho"][b]) * (1 - np.asarray(arrays["prev_served"][b], float))
                t_o, t_f = float(arrays["t_ofdma"][b]), float(arrays["t_frame"][b])
                a = na / (na.sum() / max((na > 0).sum(), 1))
                for sat in range(S):
                    cs = np.nonzero(member[:, sat])[0]
                    if cs.size == 0:
                        continue
                    k = arrays["rate"][b][cs, sat] / J.KBIT * n_com * t_o / (t_f * na[cs])
                    out = solve_satellite(a[cs], k, t_ho[cs, sat] / (n_com * t_o), float(arrays["n_beams"][b][sat]),
                                          float(arrays["eps"][b]) / J.KBIT)
                    y[cs, sat] = out[0]
                res = dmrab(*f, metric, y_given=jnp.asarray(y))
            x[b] = np.asarray(res.x)
            x_rel[b] = np.asarray(res.y) * n_com
            status[b] = 0 if bool(res.feasible) else 2
        else:
            from reference.ntn_jmra import jmra_reference
            d = J.prepare(*f, charge_handover=(method == "jmra"))
            y, it, conv, nv = jmra_reference(d, s)
            t_ho_true = f[3] * (1.0 - f[2].astype(jnp.float64))
            x[b] = np.asarray(round_allocation(jnp.asarray(y), f[0], f[2], t_ho_true, f[4], f[5], f[6], d.usable))
            x_rel[b] = y * n_com
            status[b], iters[b], multi[b] = (0 if conv else 1), it, nv
    thr = per_user_throughput(arrays, x)
    obj = np.where(status == 2, np.nan, objective(arrays, thr))
    return dict(x=x, x_relaxed=x_rel, objective=obj, throughput_per_user=np.maximum(thr, 0.0),
                multi_served_before_rounding=multi, iterations=iters, status=status)


def run(args) -> int:
    check_output_path(args.output, [args.instance, args.config])  # before any work; inputs are never overwritten
    cfg = load_config(JmraConfig, args.config, args.overrides, scenario=args.scenario)
    arrays, dims = load_instance(args.instance)
    t0 = time.perf_counter()
    if args.reference:
        sol = solve_reference(arrays, args.method, cfg)
    else:
        from solvers.devices import apply_devices, make_mesh, solve_distributed
        devices = apply_devices(args)
        mesh = make_mesh(devices) if len(devices) > 1 else None
        sol = solve_distributed(arrays, lambda a: solve_allocation(a, args.method, cfg, mesh=mesh), dims["B"])
    solve_s = time.perf_counter() - t0
    from solvers.devices import is_writer
    if not is_writer():  # a --distributed run: process 0 writes
        print(f"{args.method}: {dims['B']} frame(s) solved in {solve_s:.1f} s; process 0 writes {args.output}")
        return 0
    sol = {**sol, "solve_time_s": np.float64(solve_s)}  # optional field: batch wall time, s
    path = save_solution(args.output, sol, arrays)
    st = sol["status"]
    print(f"{args.method}{' (cvxpy reference)' if args.reference else ''}: {dims['B']} frame(s), "
          f"{dims['C']} cells, {dims['S']} satellites; converged {int((st == 0).sum())}, "
          f"cap reached {int((st == 1).sum())}, infeasible {int((st == 2).sum())}; "
          f"mean objective (25) {np.nanmean(sol['objective']) if (st != 2).any() else float('nan'):.6g}; "
          f"solved in {solve_s:.1f} s (compilation included)")
    print(f"wrote {path}")
    return 0
