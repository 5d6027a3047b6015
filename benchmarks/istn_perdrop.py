"""Per-drop cost of the ISTN pipeline against batch size, seed and precision (issue 18 item 1).

    python -m benchmarks.istn_perdrop --batches 1,9,33,100,1000 --seeds 11 \
        --precisions float32,float64 -o results/istn-perdrop

For every (seed, precision) one set of ``max(--batches)`` paper-default drops
(``IstnConfig()``, ``--cells`` cells each) is generated; each batch size b solves the first b
of them with ``solve_istn`` (P1 -> P2 -> P3, continuous batching), after an untimed warm-up
solve that compiles the programs of that batch (one per slot count), so the timed solve
measures solving.  Per row: wall and process-CPU time per drop, and what the time was spent
on, read from the same solve:

* ``occupancy``: the fraction of slot-calls of the continuous-batching loop
  (``solvers.istn.streaming``: every call advances all slots ``sync_rounds`` rounds) whose
  lane held a running cell.  A lane counts as idle in a call when its cell had already
  stopped before the call and had not been refilled (queue empty, batch not yet shrunk);
  a lane whose cell stops during the call counts as busy, so this is an upper bound.
* ``phase1_mean``/``phase1_max``: Phase-I (feasibility) iterations per cell in P1;
* ``p1_iter_mean``/``p3_iter_mean``: Phase-II WMMSE iterations per cell in P1 and P3;
* ``status``: counts of the per-cell statuses (0 ok, 1 cap, 2 Phase I failed, 3 numerical,
  4 merge) and the mean sum rate (25a).

With ``--ref-drops N`` the cvxpy loop (``solve_istn_reference``, the paper's way: one CVX
transmit step per WMMSE iteration, one drop at a time), after the batches, solves the first N
drops of each (seed, precision) set, until ``--ref-budget-s`` is spent (at least one drop); every row then
reports the loop's mean seconds per drop, ``ratio`` = that / ours per drop, and ``gap_vs_ref``
= relative difference of the summed sum rate (25a), ours minus the loop, on the drops both
solved (the first min(b, N)).

With ``--each N`` the first N drops of each seed are also solved one drop per solve in every
precision, the precisions side by side on the same drop (``istn_perdrop_each.csv``: seed,
drop, precision, ms, status, Phase-II iterations of the cell, sum rate), which shows which
drops a precision pays for (a float32 Phase I that runs to its cap where float64 solves the
drop, say) rather than a mean.

The counters wrap ``solvers.istn.streaming``'s module functions for the duration of one solve
(:class:`StreamMeter`); results are unchanged.  Writes ``istn_perdrop.csv`` and
``istn_perdrop.md`` into ``-o``.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from contextlib import contextmanager

import numpy as np

COLUMNS = ("seed", "precision", "batch", "cells", "slots", "ms_per_drop", "cpu_ms_per_drop", "warmup_s",
           "occupancy", "slot_calls", "phase1_mean", "phase1_max", "p1_iter_mean", "p3_iter_mean",
           "status", "mean_sum_rate", "ref_drops", "ref_s_per_drop", "ratio", "gap_vs_ref")


class StreamMeter:
    """Counts slot-calls, idle lanes and the per-cell solutions of the streaming solver."""

    def __init__(self):
        self.slot_calls = 0
        self.idle = 0
        self.solutions: dict[str, list] = {"p1": [], "p3": []}
        self._prev = None

    @contextmanager
    def attached(self):
        from solvers.istn import streaming

        orig = streaming._advance, streaming._fresh, streaming.solve_cells_streaming

        def advance(*args, **kw):
            st, stop = orig[0](*args, **kw)
            now = np.asarray(stop).astype(bool)  # [S] lanes stopped after this call
            if self._prev is not None and self._prev.shape == now.shape:
                self.idle += int(np.sum(self._prev & now))  # stopped before and not refilled
            self.slot_calls += now.shape[0]
            self._prev = now.copy()
            return st, stop

        def fresh(inp, st, mask, *args, **kw):
            if self._prev is not None:
                self._prev &= ~np.asarray(mask).astype(bool)  # refilled lanes run again
            return orig[1](inp, st, mask, *args, **kw)

        def stream(prob, *args, mode="p1", **kw):
            self._prev = None
            sol = orig[2](prob, *args, mode=mode, **kw)
            self.solutions.setdefault(mode, []).append(sol)
            return sol

        streaming._advance, streaming._fresh, streaming.solve_cells_streaming = advance, fresh, stream
        try:
            yield self
        finally:
            streaming._advance, streaming._fresh, streaming.solve_cells_streaming = orig

    def occupancy(self) -> float:
        return 1.0 - self.idle / self.slot_calls if self.slot_calls else float("nan")

    def stat(self, mode: str, field: str, fn) -> float:
        v = [np.asarray(getattr(s, field), float) for s in self.solutions.get(mode, [])]
        return float(fn(np.concatenate(v))) if v else float("nan")


def measure(inst: dict, cfg, seed: int) -> tuple[dict, StreamMeter]:
    """One timed ``solve_istn`` with a :class:`StreamMeter` attached."""
    from solvers.istn.pipeline import solve_istn

    meter = StreamMeter()
    with meter.attached():
        c0, t0 = time.process_time(), time.perf_counter()
        sol = solve_istn(inst, cfg, "proposed", seed)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return dict(sol=sol, wall=wall, cpu=cpu), meter


def reference(inst: dict, n: int, budget_s: float, seed: int) -> tuple[np.ndarray, float]:
    """The cvxpy loop on the first ``n`` drops, one at a time, until ``budget_s`` is spent
    (:func:`benchmarks.istn_vs_cvxpy.reference_drops`).

    Returns (sum rates of the drops it solved [n_done], mean wall seconds per drop)."""
    from benchmarks.istn_vs_cvxpy import reference_drops

    rates, spent = [], 0.0
    for b, dt, ref in reference_drops(inst, n, budget_s, seed):
        spent += dt
        rates.append(float(np.asarray(ref["sum_rate"], float)[0]))
        print(f"istn_perdrop: cvxpy loop drop {b}: {spent / len(rates):.1f} s/drop so far, sum rate {rates[-1]:.3f}",
              file=sys.stderr, flush=True)
    return np.asarray(rates), spent / max(len(rates), 1)


def row(seed: int, precision: str, batch: int, cells: int, slots, res: dict, meter: StreamMeter,
        warm_s: float) -> dict:
    sol = res["sol"]
    st = np.asarray(sol["status"]).ravel().astype(int)
    return dict(seed=seed, precision=precision, batch=batch, cells=cells, slots=slots,
                ms_per_drop=1e3 * res["wall"] / batch, cpu_ms_per_drop=1e3 * res["cpu"] / batch, warmup_s=warm_s,
                occupancy=meter.occupancy(), slot_calls=meter.slot_calls,
                phase1_mean=meter.stat("p1", "phase1_iterations", np.mean),
                phase1_max=meter.stat("p1", "phase1_iterations", np.max),
                p1_iter_mean=meter.stat("p1", "iterations", np.mean),
                p3_iter_mean=meter.stat("p3", "iterations", np.mean),
                status=" ".join(map(str, np.bincount(st, minlength=5).tolist())),
                mean_sum_rate=float(np.mean(np.asarray(sol["sum_rate"], float))),
                ref_drops=0, ref_s_per_drop=float("nan"), ratio=float("nan"), gap_vs_ref=float("nan"))


def ref_columns(r: dict, sum_rate: np.ndarray, ref: tuple[np.ndarray, float]) -> dict:
    """The loop's columns of row ``r`` whose solve gave ``sum_rate`` [b]; ``ref`` from :func:`reference`."""
    rates, per_drop_s = ref
    n = min(int(r["batch"]), len(rates))
    if not n:
        return {}
    return dict(ref_drops=n, ref_s_per_drop=per_drop_s, ratio=1e3 * per_drop_s / r["ms_per_drop"],
                gap_vs_ref=float((sum_rate[:n].sum() - rates[:n].sum()) / max(abs(rates[:n].sum()), 1e-12)))


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [f"ISTN per-drop cost vs batch size: {meta['cells']} cell(s) per drop, paper defaults, "
             f"{meta['device']} ({meta['cpus']} CPUs), JAX {meta['jax']}, {meta['date']}", "",
             "| seed | precision | drops | ms/drop | CPU ms/drop | warm-up s | slot occupancy | Phase-I its "
             "mean / max | Phase-II its P1 / P3 | status 0/1/2/3/4 | mean sum rate | cvxpy loop s/drop (drops) "
             "| ratio | sum rate vs loop |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if int(r.get("ref_drops", 0) or 0):
            ref = (f"{float(r['ref_s_per_drop']):.1f} ({r['ref_drops']}) | **{float(r['ratio']):,.0f}x** | "
                   f"{100 * float(r['gap_vs_ref']):+.2f} %")
        else:
            ref = "- | - | -"
        lines.append(f"| {r['seed']} | {r['precision']} | {r['batch']} | {r['ms_per_drop']:,.0f} | "
                     f"{r['cpu_ms_per_drop']:,.0f} | {r['warmup_s']:.1f} | {100 * r['occupancy']:.0f} % | "
                     f"{r['phase1_mean']:.1f} / {r['phase1_max']:.0f} | {r['p1_iter_mean']:.1f} / "
                     f"{r['p3_iter_mean']:.1f} | {r['status']} | {r['mean_sum_rate']:.3f} | {ref} |")
    return "\n".join(lines) + "\n"


def _ints(text: str, lo: int = 1) -> tuple[int, ...]:
    try:
        v = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        v = ()
    if not v or min(v) < lo:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= {lo}, got {text!r}")
    return v


def _precisions(text: str) -> tuple[str, ...]:
    v = tuple(x.strip() for x in text.split(",") if x.strip())
    if not v or any(p not in ("float32", "float64") for p in v):
        raise argparse.ArgumentTypeError(f"expected float32 and/or float64 (comma-separated), got {text!r}")
    return v


def run(args) -> list[dict]:
    import jax

    from jaxcore.precision import set_precision
    from solvers.istn.config import IstnConfig
    from solvers.istn.generate import generate_instance
    from solvers.istn.pipeline import SolverConfig, solve_istn
    from solvers.istn.streaming import default_slots

    from solvers import runtime
    runtime.configure_compilation_cache()
    set_precision("float64")  # x64 on; each instance keeps the precision it is generated in
    cfg = SolverConfig(progress=False, slots=args.slots)
    scen = IstnConfig(**dict(args.scenario)) if args.scenario else IstnConfig()
    slots = args.slots or default_slots()
    meta = dict(cells=args.cells, device=jax.devices()[0].device_kind, cpus=len(os.sched_getaffinity(0)),
                jax=jax.__version__, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                machine=platform.machine())
    if args.each:
        each_drop(scen, cfg, args)
    rows = []
    for seed in args.seeds:
        for prec in args.precisions:
            full = generate_instance(scen, max(args.batches), seed, args.cells, precision=prec, progress=False)
            done = []  # (row, sum rates [b]) of this set
            for b in args.batches:
                inst = {k: v[:b] for k, v in full.items()}
                # warm-up: min(b, slots) drops start from the same slot count as b drops and
                # shrink through the same counts, so they compile every program the timed run uses
                t0 = time.perf_counter()
                solve_istn({k: v[:min(b, slots)] for k, v in inst.items()}, cfg, "proposed", seed)
                warm = time.perf_counter() - t0
                res, meter = measure(inst, cfg, seed)
                rows.append(row(seed, prec, b, args.cells, slots, res, meter, warm))
                done.append((rows[-1], np.asarray(res["sol"]["sum_rate"], float)))
                r = rows[-1]
                print(f"istn_perdrop: seed {seed} {prec} batch {b}: {r['ms_per_drop']:.0f} ms/drop, occupancy "
                      f"{100 * r['occupancy']:.0f} %, Phase I {r['phase1_mean']:.1f}, status {r['status']}",
                      file=sys.stderr, flush=True)
                md = write(rows, meta, args.output)  # after every row: a run cut short keeps its rows
            if args.ref_drops:  # after the batches, so that a slow loop cannot cost them
                ref = reference(full, min(args.ref_drops, max(args.batches)), args.ref_budget_s, seed)
                for r, sr in done:
                    r.update(ref_columns(r, sr, ref))
                md = write(rows, meta, args.output)
    print(md)
    return rows


EACH_COLUMNS = ("seed", "drop", "precision", "ms", "status", "iterations", "sum_rate")


def each_drop(scen, cfg, args) -> list[dict]:
    """``--each N``: drops 0..N-1 of each seed, one per solve, every precision on the same drop
    (after one untimed solve per precision that compiles the one-drop programs); writes
    ``istn_perdrop_each.csv`` after every drop."""
    from solvers.istn.generate import generate_instance
    from solvers.istn.pipeline import solve_istn

    os.makedirs(args.output, exist_ok=True)
    path = os.path.join(args.output, "istn_perdrop_each.csv")
    rows = []
    for seed in args.seeds:
        sets = {p: generate_instance(scen, args.each, seed, args.cells, precision=p, progress=False)
                for p in args.precisions}
        one = {p: [{k: v[d:d + 1] for k, v in full.items()} for d in range(args.each)] for p, full in sets.items()}
        for p in args.precisions:
            solve_istn(one[p][0], cfg, "proposed", seed)  # compile
        for d in range(args.each):
            for p in args.precisions:
                t0 = time.perf_counter()
                sol = solve_istn(one[p][d], cfg, "proposed", seed)
                ms = 1e3 * (time.perf_counter() - t0)
                rows.append(dict(seed=seed, drop=d, precision=p, ms=round(ms, 1),
                                 status=" ".join(str(int(x)) for x in np.asarray(sol["status"]).ravel()),
                                 iterations=" ".join(str(int(x)) for x in np.asarray(sol["iterations"]).ravel()),
                                 sum_rate=float(np.asarray(sol["sum_rate"])[0])))
            print("istn_perdrop --each: " + " | ".join(f"seed {r['seed']} drop {r['drop']} {r['precision']} "
                                                         f"{r['ms']:.0f} ms SR {r['sum_rate']:.3f} status {r['status']}"
                                                         for r in rows[-len(args.precisions):]), file=sys.stderr, flush=True)
            _write_rows(path, EACH_COLUMNS, rows)
    return rows


def _write_rows(path: str, columns, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(columns))
        w.writeheader()
        w.writerows(rows)


def write(rows: list[dict], meta: dict, out: str) -> str:
    """(Re)write ``istn_perdrop.csv`` and ``istn_perdrop.md`` in ``out``; returns the markdown."""
    os.makedirs(out, exist_ok=True)
    _write_rows(os.path.join(out, "istn_perdrop.csv"), COLUMNS, rows)
    md = markdown(rows, meta)
    with open(os.path.join(out, "istn_perdrop.md"), "w") as f:
        f.write(md)
    return md


def _scenario(text: str) -> tuple:
    out = []
    for item in text.split(","):
        k, _, v = item.partition("=")
        if not _ or not k.strip():
            raise argparse.ArgumentTypeError(f"expected KEY=INT[,KEY=INT...], got {text!r}")
        out.append((k.strip(), int(v)))
    return tuple(out)


def main(argv=None) -> int:
    from solvers import runtime
    runtime.configure_threads()
    p = argparse.ArgumentParser(prog="python -m benchmarks.istn_perdrop", description=__doc__.split("\n\n")[0])
    p.add_argument("--batches", type=_ints, default=(1, 9, 33, 100, 1000), help="drops per solve (comma-separated)")
    p.add_argument("--seeds", type=lambda t: _ints(t, 0), default=(11,), help="generator seeds (comma-separated)")
    p.add_argument("--precisions", type=_precisions, default=("float32",), help="float32 and/or float64")
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--slots", type=int, default=0, help="SolverConfig.slots (0 = auto)")
    p.add_argument("--ref-drops", type=int, default=0,
                   help="drops of each set the cvxpy loop solves first, for the ratio columns (default 0: none)")
    p.add_argument("--ref-budget-s", type=float, default=600.0,
                   help="stop the cvxpy loop after this many seconds, at least one drop (default 600)")
    p.add_argument("--scenario", type=_scenario, default=(), help="IstnConfig overrides, e.g. n_tx=8,n_tut=2 (tests)")
    p.add_argument("--each", type=int, default=0,
                   help="also solve the first N drops of each seed one per solve in every precision "
                        "(istn_perdrop_each.csv; default 0: not)")
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args(argv)
    if args.cells < 1 or args.slots < 0:
        p.error(f"--cells: expected a positive integer and --slots >= 0, got {args.cells} and {args.slots}")
    if args.each < 0:
        p.error(f"--each: expected an integer >= 0, got {args.each}")
    if args.ref_drops < 0 or not args.ref_budget_s > 0:
        p.error(f"--ref-drops: expected >= 0 and --ref-budget-s > 0, got {args.ref_drops} and {args.ref_budget_s}")
    run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
