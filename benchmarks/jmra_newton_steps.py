"""Where JMRA's Newton steps go: step lengths per barrier stage, and the accuracy of the Newton solve.

    python -m benchmarks.jmra_newton_steps --frames 8 --seed 59 --check 4 [--set newton_refine=0] -o DIR

Runs Algorithm 1 (``jaxcore.ntn.jmra.jmra_relaxed``, float64, the default solver settings or
``--set`` overrides of ``JmraConfig`` keys) on
``--frames`` synthetic frames (:func:`benchmarks.ntn_bench.random_frames`, ``--cells`` x
``--sats``) one at a time with a per-Newton-step hook
(``solve_subproblem_barrier(step_hook=...)``) and records, per step, the barrier weight, the
fraction-to-the-boundary step ``amax``, the accepted step ``al`` and which bound limits
``amax`` (the box of ``y``, the slack ``xi`` of (30), or a satellite budget (32c)).

A step is *jammed* when ``al < JAM`` (0.05): the iterate barely moves.  For the first step of
each jammed run (up to ``--check`` per frame) the Newton system that step solved is solved
again densely (float64, the symmetric augmented system ``[H0 E; E^T -B^-1]`` with the budget
weights ``B = sb^2`` in its (2, 2) block, LAPACK's pivoted LDL^T via ``scipy.linalg.solve``),
and the budget step of both directions is reported: whether the jam comes from the problem
(both directions hit a budget) or from the two-level Woodbury solve of
:func:`jaxcore.ntn.subproblem_newton.kkt_solver` losing accuracy.

Writes ``jmra_newton_steps.csv`` (one row per frame), ``jmra_newton_checks.csv`` (one row per
checked step) and ``jmra_newton_steps.md``; prints the tables.  Nothing is asserted.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import time
import warnings

import numpy as np

JAM = 0.05  # a Newton step shorter than this is "jammed"
BOUNDS = ("box", "xi", "budget")


class StepLog:
    """Host-side hook of ``solve_subproblem_barrier``: one record per Newton step.

    One instance serves every frame (a new hook object per frame would be a new static
    argument, hence a recompilation); :meth:`reset` starts a frame.  The Newton system of a
    step is kept only for the first step of each jammed run, at most ``keep`` per frame.
    """

    def __init__(self, keep: int):
        self.keep = keep
        self.reset()

    def reset(self):
        self.steps: list[dict] = []
        self.systems: list[tuple[int, dict]] = []

    def __call__(self, rec: dict):
        r = {k: np.asarray(v) for k, v in rec.items()}
        bounds = [float(r[b]) for b in BOUNDS]
        row = dict(tau=float(r["tau"]), dec=float(r["dec"]), amax=float(r["amax"]), al=float(r["al"]),
                   limit=BOUNDS[int(np.argmin(bounds))],
                   min_slack=float(np.min(np.where(r["sat_on"], r["slack"], np.inf))))
        jam = row["al"] < JAM
        first = jam and not (self.steps and self.steps[-1]["al"] < JAM)
        if first and len(self.systems) < self.keep:
            self.systems.append((len(self.steps), r))
        self.steps.append(row)


def newton_factors(r: dict):
    """``(pairs [L, 2], U [L + C, 2C], diag [L + C])``: the live (cell, satellite) pairs and
    ``H0 = U U^T + diag(diag)`` over the unknowns (live ``y``, then ``xi``), the block matrix that
    :func:`jaxcore.ntn.subproblem_newton.kkt_solver` factors by Woodbury (``r``: its arguments)."""
    live = r["live"]
    C = live.shape[0]
    pairs = np.argwhere(live)
    L = len(pairs)
    U = np.zeros((L + C, 2 * C))
    U[np.arange(L), 2 * pairs[:, 0]] = r["u1y"][live]
    U[np.arange(L), 2 * pairs[:, 0] + 1] = r["u2y"][live]
    U[L + np.arange(C), 2 * np.arange(C) + 1] = r["u2x"]
    return pairs, U, np.concatenate([r["dy"][live], r["dx"]])


def dense_direction(r: dict) -> np.ndarray:
    """The Newton direction of ``y`` [C, S] from a dense solve of the augmented system.

    ``H0 = blockdiag_c(D_c + U_c U_c^T)`` over the live pairs and the slacks ``xi`` (the
    matrix :func:`jaxcore.ntn.subproblem_newton.kkt_solver` factors by Woodbury), one extra
    row and column per active budget with ``-1/sb^2`` on the diagonal, right-hand side
    ``-(gy, gx)`` and 0.
    """
    import scipy.linalg

    live, dy = r["live"], r["dy"]
    C, S = dy.shape
    pairs, U, diag = newton_factors(r)
    L, n = len(pairs), len(diag)
    H0 = U @ U.T
    H0[np.arange(n), np.arange(n)] += diag
    on = r["sb"] > 0
    E = np.zeros((n, S))
    E[np.arange(L), pairs[:, 1]] = 1.0
    E = E[:, on]
    K = np.block([[H0, E], [E.T, -np.diag(1.0 / r["sb"][on] ** 2)]])
    rhs = np.concatenate([-r["gy"][live], -r["gx"], np.zeros(int(on.sum()))])
    with warnings.catch_warnings():  # ill-conditioned by design (the caveat in the markdown)
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        sol = scipy.linalg.solve(K, rhs, assume_a="sym")
    d = np.zeros_like(dy)
    d[live] = sol[:L]
    return d


def budget_step(d: np.ndarray, r: dict) -> float:
    """0.99 x the step at which the first budget slack of (32c) reaches 0 along ``d`` (capped at 1)."""
    use = np.sum(np.where(r["live"], d, 0.0), axis=0)  # # [S] growth of each satellite's use
    hit = r["sat_on"] & (use > 0)
    if not np.any(hit):
        return 1.0
    return float(min(1.0, 0.99 * np.min(r["slack"][hit] / use[hit])))


def run(args) -> tuple[list[dict], list[dict]]:
    """Measure, then write the CSVs and the markdown under ``args.output`` (see the module docstring)."""
    for key in ("frames", "cells", "sats"):  # (--precision: argparse choices)
        if getattr(args, key) < 1:
            raise ValueError(f"--{key}: expected a positive integer, got {getattr(args, key)}")
    if args.check < 0:
        raise ValueError(f"--check: expected an integer >= 0, got {args.check}")
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    from benchmarks.ntn_bench import random_frames
    from jaxcore.ntn import jmra as J
    from solvers.configio import load_config
    from solvers.ntn.allocate import JmraConfig, solver_arrays

    arrays = random_frames(args.frames, args.cells, args.sats, seed=args.seed)
    inst = solver_arrays(arrays, np.dtype(args.precision))
    log = StepLog(args.check)
    settings = load_config(JmraConfig, overrides=args.overrides).settings()._replace(step_hook=log)
    solve = jax.jit(lambda d: J.jmra_relaxed(d, settings))
    frames, checks = [], []
    for f in range(args.frames):
        d = J.prepare(*[inst[k][f] for k in J.INSTANCE_KEYS])
        log.reset()
        t0 = time.perf_counter()
        res = jax.block_until_ready(solve(d))
        wall = time.perf_counter() - t0
        steps = log.steps
        jammed = [s for s in steps if s["al"] < JAM]
        frames.append(dict(
            frame=f, outer=int(res.iterations), newton_steps=len(steps), solver_steps=int(res.inner_iterations),
            relaxed_share=float(jnp.sum(res.y)),
            jammed=len(jammed), jammed_share=len(jammed) / max(len(steps), 1),
            jammed_by_budget=sum(s["limit"] == "budget" for s in jammed),
            steps_tau_ge_1e6=sum(s["tau"] >= 1e6 for s in steps),
            jammed_tau_ge_1e6=sum(s["tau"] >= 1e6 for s in jammed),
            wall_s_with_hook=wall))
        for i, r in log.systems:
            ref = dense_direction(r)
            ours = r["ddy"]
            checks.append(dict(
                frame=f, step=i, tau=float(r["tau"]), max_budget_weight=float(np.max(r["sb"] ** 2)),
                min_slack=steps[i]["min_slack"], al=steps[i]["al"],
                budget_step_ours=budget_step(ours, r), budget_step_dense=budget_step(ref, r),
                direction_rel_diff=float(np.max(np.abs(ours - ref)) / max(np.max(np.abs(ref)), 1e-300))))
        if not args.quiet:
            fr = frames[-1]
            print(f"frame {f}: {fr['outer']} outer, {fr['newton_steps']} Newton steps, {fr['jammed']} jammed "
                  f"({fr['jammed_by_budget']} at a budget, {fr['jammed_tau_ge_1e6']} at tau >= 1e6)", flush=True)
    os.makedirs(args.output, exist_ok=True)
    _write(os.path.join(args.output, "jmra_newton_steps.csv"), frames)
    _write(os.path.join(args.output, "jmra_newton_checks.csv"), checks)
    md = markdown(frames, checks, args)
    with open(os.path.join(args.output, "jmra_newton_steps.md"), "w") as fh:
        fh.write(md)
    print(md)
    return frames, checks


def _write(path: str, rows: list[dict]) -> None:
    cols = list(rows[0]) if rows else ["frame"]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


def markdown(frames: list[dict], checks: list[dict], args) -> str:
    tot = sum(f["newton_steps"] for f in frames)
    jam = sum(f["jammed"] for f in frames)
    lines = [f"# JMRA Newton steps: {args.frames} synthetic {args.cells} x {args.sats} frames, seed {args.seed}", "",
             f"`python -m benchmarks.jmra_newton_steps --frames {args.frames} --seed {args.seed} --cells {args.cells} "
             f"--sats {args.sats} --check {args.check}"
             + ("" if args.precision == "float64" else f" --precision {args.precision}")
             + "".join(f" --set {kv}" for kv in args.overrides) + "`, "
             + f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"{platform.machine()} CPU x {os.cpu_count()}, {args.precision}, solver settings: defaults"
             + "".join(f", {kv}" for kv in args.overrides) + ".", "",
             f"Newton steps {tot}, jammed (step < {JAM}) {jam} ({100 * jam / max(tot, 1):.0f} %), of which at a "
             f"budget (32c) {sum(f['jammed_by_budget'] for f in frames)} and at tau >= 1e6 "
             f"{sum(f['jammed_tau_ge_1e6'] for f in frames)}.", "",
             "| frame | outer | Newton steps | jammed | share | at a budget | steps at tau >= 1e6 | sum of y |",
             "|---|---|---|---|---|---|---|---|"]
    for f in frames:
        lines.append(f"| {f['frame']} | {f['outer']} | {f['newton_steps']} | {f['jammed']} | {f['jammed_share']:.2f} | "
                     f"{f['jammed_by_budget']} | {f['steps_tau_ge_1e6']} | {f['relaxed_share']:.1f} |")
    if checks:
        lines += ["", "First step of each jammed run: the budget step of our direction (`kkt_solver`: two-level "
                  "Woodbury and the run's refinement) and of a dense pivoted float64 solve of the same Newton "
                  "system (itself inexact once the budget weight passes ~1e16: LAPACK then warns of reciprocal "
                  "condition numbers of 1e-21 and below).", "",
                  "| frame | step | tau | max budget weight | min slack | budget step ours | budget step dense | "
                  "direction rel. diff |", "|---|---|---|---|---|---|---|---|"]
        for c in checks:
            lines.append(f"| {c['frame']} | {c['step']} | {c['tau']:.1e} | {c['max_budget_weight']:.1e} | "
                         f"{c['min_slack']:.1e} | {c['budget_step_ours']:.3f} | {c['budget_step_dense']:.3f} | "
                         f"{c['direction_rel_diff']:.1e} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from solvers import runtime
    runtime.configure_threads()
    p = argparse.ArgumentParser(prog="python -m benchmarks.jmra_newton_steps", description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--seed", type=int, default=41)
    p.add_argument("--cells", type=int, default=100)
    p.add_argument("--sats", type=int, default=12)
    p.add_argument("--precision", choices=("float64", "float32"), default="float64",
                   help="dtype of the instance and the solver (the dense check runs float64 on its system)")
    p.add_argument("--check", type=int, default=8, help="jammed runs per frame whose Newton system is re-solved densely")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                   help="override one JMRA solver key (CONFIG.md, JmraConfig), e.g. newton_refine=0; may be repeated")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("-o", "--output", required=True)
    from benchmarks.report import run_main
    return run_main(p, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
