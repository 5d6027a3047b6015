"""Batched NTN scenarios: independent frame-loop simulations side by side, scenarios/s against batch size.

    python -m benchmarks.ntn_scenarios --batches 1,2,4,8 --frames 3 --seed 0 --set cell_deg=1.0 -o DIR

The scenarios are the episodes ``e = 0 .. max(batches) - 1`` of the NTN scenario
(``--scenario``, ``--set``), each a world seeded by ``(seed, e)``
(:func:`solvers.ntn.simulate.episode_seed`, as in ``satisac ntn simulate --episodes``), run
for ``--frames`` frames with ``--method`` (default JMRA and DMRAB).  Per batch size B:
:func:`solvers.ntn.simulate.run_episodes` on the first B scenarios -- frame k of all of them
in one batched solve per method, what ``satisac --scenario-batch B`` does -- once untimed
(compiling the batch's programs), then timed (best of ``--repeats``); and the same B
scenarios one after the other (``run_episode``, each after an untimed run of its own).  The time is the whole loop: world
evolution, allocation, KPIs.  Writes ``ntn_scenarios.csv`` (one row per batch size) and
``ntn_scenarios.md``; prints the table.  Beside the timings, how far the batched rows are
from the one-after-the-other rows: identical (floats to 1e-9), else the largest relative gap
of the objective (25) and of the throughput per user.  JMRA's path (outer iterations, the
rounding) can move with the last bits of a batched kernel, so on large frames a batch agrees
with one scenario at a time to the solver's tolerance, not bit for bit.  Timings are
reported, never asserted.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

COLS = ("batch", "scenarios", "frames", "batched_s", "scenarios_per_s", "frames_per_s", "sequential_s",
        "sequential_scenarios_per_s", "speedup", "identical_rows", "max_objective_gap", "max_throughput_gap")


def _gaps(a: list[dict], b: list[dict]) -> tuple[bool, float, float]:
    """Rows of one episode alone (a) vs batched (b): all equal (floats to 1e-9 relative), and
    the largest relative gap of the objective (25) and of the mean throughput per user."""
    same, g_obj, g_thr = len(a) == len(b), 0.0, 0.0
    for ra, rb in zip(a, b):
        for k, v in ra.items():
            w = rb[k]
            if isinstance(v, float):
                same &= bool(v == w or (np.isnan(v) and np.isnan(w)) or abs(v - w) <= 1e-9 * abs(v))
            else:
                same &= v == w
        for key in ("objective", "throughput_kbps"):
            va, vb = ra[key], rb[key]
            gap = 0.0 if va == vb or (np.isnan(va) and np.isnan(vb)) else abs(vb - va) / max(abs(va), 1e-300)
            if key == "objective":
                g_obj = max(g_obj, gap)
            else:
                g_thr = max(g_thr, gap)
    return same, g_obj, g_thr


def _timed(repeats: int, fn, *args):
    """Best of ``repeats`` timed calls (after the caller's untimed one) and the last output."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t)
    return best, out


def measure(cfg, batches, n_frames: int, seed: int, methods, quiet: bool = False, repeats: int = 1) -> list[dict]:
    """One row per batch size (module docstring)."""
    from solvers.ntn.allocate import JmraConfig
    from solvers.ntn.simulate import episode_seed, run_episode, run_episodes

    jcfg = JmraConfig()
    scen = [(cfg, episode_seed(seed, e)) for e in range(max(batches))]
    seq_s, seq_rows = [], []
    for c, s in scen:  # one after the other, each warm
        run_episode(c, jcfg, s, n_frames, methods)
        dt, rows = _timed(repeats, run_episode, c, jcfg, s, n_frames, methods)
        seq_s.append(dt)
        seq_rows.append(rows)
    out = []
    for B in batches:
        run_episodes(scen[:B], jcfg, n_frames, methods)  # compile this batch's programs
        dt, rows = _timed(repeats, run_episodes, scen[:B], jcfg, n_frames, methods)
        seq = float(np.sum(seq_s[:B]))
        gaps = [_gaps(a, b) for a, b in zip(seq_rows[:B], rows)]
        r = dict(batch=B, scenarios=B, frames=n_frames, batched_s=dt, scenarios_per_s=B / dt,
                 frames_per_s=B * n_frames / dt, sequential_s=seq, sequential_scenarios_per_s=B / seq,
                 speedup=seq / dt, identical_rows=all(g[0] for g in gaps),
                 max_objective_gap=max(g[1] for g in gaps), max_throughput_gap=max(g[2] for g in gaps))
        out.append(r)
        if not quiet:
            print(f"batch {B}: {dt:.2f} s ({B / dt:.3g} scenarios/s), one after the other {seq:.2f} s, "
                  f"x{seq / dt:.2f}, identical rows: {r['identical_rows']} (objective gap "
                  f"{r['max_objective_gap']:.1e}, throughput gap {r['max_throughput_gap']:.1e})", flush=True)
    return out


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [f"Batched NTN scenarios, {meta['date']}, {meta['machine']}, JAX {meta['jax']}, load {meta['load']}; "
             f"best of {meta['repeats']} runs",
             "", f"Scenarios: {meta['scenarios']}.", "",
             "| batch | batched s | scenarios/s | frames/s | one after the other s | scenarios/s | batched speed-up | "
             "rows identical | max objective gap | max throughput gap |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['batch']} | {r['batched_s']:.2f} | {r['scenarios_per_s']:.3g} | {r['frames_per_s']:.3g} | "
                     f"{r['sequential_s']:.2f} | {r['sequential_scenarios_per_s']:.3g} | {r['speedup']:.2f}x | "
                     f"{'yes' if r['identical_rows'] else 'no'} | {r['max_objective_gap']:.1e} | "
                     f"{r['max_throughput_gap']:.1e} |")
    return "\n".join(lines) + "\n"


def run(args) -> list[dict]:
    batches = sorted({int(b) for b in args.batches.split(",") if b.strip()}) if args.batches.strip() else []
    if not batches or batches[0] < 1:
        raise ValueError(f"--batches: expected positive integers separated by commas, got {args.batches!r}")
    if args.frames < 1:
        raise ValueError(f"--frames: expected a positive integer, got {args.frames}")
    import jax

    from solvers.configio import ConfigError, load_configs
    from solvers.ntn.config import NtnConfig
    try:
        (cfg,) = load_configs((NtnConfig,), None, list(args.set), args.scenario)
    except ConfigError as e:
        raise ValueError(str(e)) from None
    methods = tuple(args.method or ("jmra", "dmrab"))
    if args.repeats < 1:
        raise ValueError(f"--repeats: expected a positive integer, got {args.repeats}")
    rows = measure(cfg, batches, args.frames, args.seed, methods, args.quiet, args.repeats)
    d = jax.devices()[0]
    meta = dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), jax=jax.__version__,
                machine=f"{getattr(d, 'device_kind', d.platform)}, {platform.machine()}, {os.cpu_count()} cores",
                load="{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), repeats=args.repeats,
                scenarios=(f"episodes 0..{max(batches) - 1} of seed {args.seed}, '{args.scenario}' scenario"
                           f"{' with ' + ', '.join(args.set) if args.set else ''}, {args.frames} frames, "
                           f"methods {', '.join(methods)}"))
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "ntn_scenarios.csv", "w") as f:
        f.write(",".join(COLS) + "\n")
        for r in rows:
            f.write(",".join(f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]) for c in COLS) + "\n")
    md = markdown(rows, meta)
    (out / "ntn_scenarios.md").write_text(md)
    print(md)
    return rows


def main(argv=None) -> int:
    from solvers.methods import NTN_ALLOCATE
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batches", default="1,2,4,8", help="batch sizes, comma-separated")
    p.add_argument("--frames", type=int, default=3, help="frames per scenario")
    p.add_argument("--seed", type=int, default=0, help="run seed of the episodes' worlds")
    p.add_argument("--scenario", default="paper", help="NTN scenario")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="NtnConfig override")
    p.add_argument("--method", action="append", choices=NTN_ALLOCATE, default=None)
    p.add_argument("--repeats", type=int, default=2, help="timed runs per measurement (the best is kept)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("-o", "--output", required=True)
    from benchmarks.report import run_main
    return run_main(p, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
