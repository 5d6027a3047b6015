"""One-shot accelerator check (issue 18 item 4): every headline number in one process.

    python -m benchmarks.gpu_check -o gpu_out           # ~8 minutes on one H100/H200
    python -m benchmarks.gpu_check -o tiny_out --tiny   # toy sizes, CPU, well under a minute

Parts, each with its own time budget (``FULL``/``TINY`` below), a progress line on stderr
per step, and its own error handling (a part that raises is written into the report with
its error; the others still run; the exit code is then 1):

``istn_e2e``
    ``e2e_drops`` four-cell ISTN drops (``IstnConfig()`` paper defaults), end to end in
    chunks: ``solvers.istn.generate.generate_instance`` then ``solvers.istn.pipeline.solve_istn``
    (P1 -> P2 -> P3, continuous batching, float32).  The first chunk includes compilation;
    the steady rate is from the later chunks.  Stops after the chunk that crosses the budget.
``wmmse_roofline``
    ONE outer QoS-WMMSE iteration (``benchmarks.istn_bench.wmmse_iteration``: receivers
    (35)-(37), weights (40)-(41), transmit step (43) by projected Newton) vmapped over
    ``wmmse_cells`` synthetic paper-size cells, float32, against the device ceilings measured
    in the same run (``benchmarks.roofline``: matmul FLOP/s, copy bytes/s).
``jmra_batch``
    NTN JMRA (Algorithm 1 relaxation + Algorithm 2 rounding, ``solve_allocation(.., "jmra")``,
    float64 as the CLI runs it) on ``benchmarks.ntn_bench.random_frames`` (C x S), frames/s at
    each batch size (compile timed separately).
``ntn_scenarios``
    Batched NTN scenarios (``benchmarks.ntn_scenarios.measure``): independent frame-loop
    simulations (episodes of the ``paper`` scenario at ``scen_cell_deg``) side by side, one
    batched solve per frame and method, scenarios/s at each batch size against the same
    scenarios one after the other, with the largest objective gap between the two.
``cvxpy_ratio``
    The cvxpy reference on a few instances against ours on the same instances: ISTN one-cell
    drops (``solve_istn_reference``: the paper's CVX loop) and JMRA frames
    (``solvers.ntn.allocate.solve_allocation_reference``), with the quality gap (sum rate (25a),
    objective (25)).  The reference runs on the host CPU.

Writes ``DIR/gpu_check.csv`` (columns part, metric, value, unit, note; one row per number)
and ``DIR/gpu_check.md`` (device name, JAX version, date, every number with its unit).
"""
from __future__ import annotations

import argparse
import csv
import datetime
import platform
import sys
import time
import traceback
from pathlib import Path

from solvers import runtime

PARTS = ("istn_e2e", "jmra_batch", "wmmse_roofline", "cvxpy_ratio", "ntn_scenarios")  # most wanted first

FULL = dict(
    e2e_drops=10_000, e2e_cells=4, e2e_chunk=2_500, e2e_budget_s=180.0,
    wmmse_cells=4_096, wmmse_budget_s=45.0,
    jmra_C=100, jmra_S=12, jmra_batches=(1, 4, 16, 64, 256, 1_024), jmra_budget_s=90.0,
    ref_istn_drops=1, ref_jmra_frames=4, ref_budget_s=90.0,
    scen_batches=(1, 8, 32), scen_frames=2, scen_cell_deg=1.0,
)
TINY = dict(
    e2e_drops=6, e2e_cells=1, e2e_chunk=3, e2e_budget_s=60.0,
    wmmse_cells=8, wmmse_budget_s=20.0,  # 8 cells: bench --quick's largest WMMSE batch (its program)
    jmra_C=8, jmra_S=4, jmra_batches=(1, 4), jmra_budget_s=30.0,
    ref_istn_drops=3, ref_jmra_frames=1, ref_budget_s=30.0,  # 3 drops: the programs of istn_e2e's chunks
    scen_batches=(1, 2), scen_frames=1, scen_cell_deg=2.5,
)


class Report:
    """Rows of (part, metric, value, unit, note) and the progress lines."""

    def __init__(self, tiny: bool):
        self.rows: list[dict] = []
        self.errors: dict[str, str] = {}
        self.tiny = tiny
        self.t0 = time.perf_counter()

    def add(self, part: str, metric: str, value, unit: str, note: str = "") -> None:
        self.rows.append(dict(part=part, metric=metric, value=value, unit=unit, note=note))

    def say(self, part: str, msg: str) -> None:
        print(f"gpu_check [{part}] {time.perf_counter() - self.t0:6.1f} s: {msg}", file=sys.stderr, flush=True)


def _sync(x):
    import jax
    return jax.block_until_ready(x)


# ----------------------------------------------------------------------------------------
# parts
# ----------------------------------------------------------------------------------------
def part_istn_e2e(rep: Report, s: dict, seed: int) -> None:
    """Generation + solve of ``e2e_drops`` drops in chunks of ``e2e_chunk``."""
    import numpy as np

    from benchmarks.istn_bench import QUICK_SCENARIO
    from solvers.istn.config import IstnConfig
    from solvers.istn.generate import generate_instance
    from solvers.istn.pipeline import SolverConfig, solve_istn

    part = "istn_e2e"
    cfg = IstnConfig(**QUICK_SCENARIO) if rep.tiny else IstnConfig()  # --tiny: bench --quick's cell
    solver = SolverConfig(progress=False)
    N, C, M = s["e2e_drops"], s["e2e_chunk"], s["e2e_cells"]
    t_start = time.perf_counter()
    done, gen_s, solve_s, chunk_s = 0, 0.0, 0.0, []
    rates, status = [], []
    while done < N and (time.perf_counter() - t_start) < s["e2e_budget_s"]:
        n = min(C, N - done)
        t0 = time.perf_counter()
        inst = generate_instance(cfg, n, seed, M, precision="float32", start=done, progress=False)
        t1 = time.perf_counter()
        sol = solve_istn(inst, solver, "proposed", seed)
        t2 = time.perf_counter()
        gen_s, solve_s = gen_s + (t1 - t0), solve_s + (t2 - t1)
        chunk_s.append(t2 - t0)
        rates.append(np.asarray(sol["sum_rate"], float))
        status.append(np.asarray(sol["status"]).ravel())
        done += n
        rep.say(part, f"chunk {len(chunk_s)}: {done}/{N} drops x {M} cells, generate {t1 - t0:.1f} s + "
                      f"solve {t2 - t1:.1f} s")
    total = time.perf_counter() - t_start
    sr, st = np.concatenate(rates), np.concatenate(status)
    rep.add(part, "drops_done", done, "drops", f"of {N} requested, {M} cells each, chunks of {C}; "
            f"budget {s['e2e_budget_s']:.0f} s")
    rep.add(part, "wall_total", total, "s", "generation + solve, first chunk's compilation included")
    rep.add(part, "generate_total", gen_s, "s")
    rep.add(part, "solve_total", solve_s, "s")
    rep.add(part, "first_chunk", chunk_s[0], "s", "includes compilation")
    if len(chunk_s) > 1:
        steady = sum(chunk_s[1:]) / (done - min(C, N))
        rep.add(part, "steady_per_drop", steady * 1e3, "ms/drop", "chunks after the first (compiled)")
        rep.add(part, "steady_drops_per_s", 1.0 / steady, "drops/s")
        rep.add(part, "projected_total", chunk_s[0] + steady * (N - min(C, N)), "s",
                f"first chunk + steady rate for the rest of the {N} drops")
    rep.add(part, "mean_sum_rate", float(sr.mean()), "bit/s/Hz", "(25a), per drop")
    rep.add(part, "status_counts", " ".join(map(str, np.bincount(st, minlength=5).tolist())), "cells",
            "0 ok / 1 cap / 2 Phase I failed / 3 numerical / 4 merge")


def part_wmmse_roofline(rep: Report, s: dict, seed: int) -> None:
    """One WMMSE iteration per cell at batch ``wmmse_cells`` against the measured roofline."""
    import jax.numpy as jnp
    import numpy as np

    from benchmarks import istn_bench, roofline
    from benchmarks.timing import time_fn

    part = "wmmse_roofline"
    sizes = dict(istn_bench.QUICK_CELL) if rep.tiny else dict(istn_bench.PAPER)
    rep.say(part, "measuring device peaks")
    peaks = roofline.measure_peaks(quick=rep.tiny, seed=seed)
    rep.add(part, "peak_matmul_f32", peaks.matmul_flops_f32 / 1e9, "GFLOP/s", f"{peaks.matmul_n}^3 float32 GEMM")
    rep.add(part, "peak_matmul_c64", peaks.matmul_flops_c64 / 1e9, "GFLOP/s", "complex64 GEMM, real flops")
    rep.add(part, "peak_copy", peaks.copy_bytes_s / 1e9, "GB/s", f"x + 1 on {peaks.copy_mb:.0f} MiB, read + write")
    B = s["wmmse_cells"]
    fns = istn_bench._iter_fns()
    cells = istn_bench.random_cells(B, seed, jnp.float32, **sizes)
    rep.say(part, f"{B} cells: warm state ({istn_bench.WARM_ITERS} iterations)")
    F, q, y = istn_bench.warm_state(cells, fns)
    full = fns[2]
    t = time_fn(full, cells, F, q, y, repeats=5, budget_s=s["wmmse_budget_s"] / 3)
    out = full(cells, F, q, y)[0]
    used = float(np.mean(np.asarray(out.iterations)))
    z = sizes
    flops = roofline.wmmse_iteration_flops(z["Nt"], z["K"], z["T"], z["R"], z["Nr"], z["L"],
                                           n_dual=istn_bench.TX_ITERS, strategy="newton")
    ess = roofline.wmmse_iteration_flops(z["Nt"], z["K"], z["T"], z["R"], z["Nr"], z["L"], n_dual=max(used, 1.0),
                                         strategy="newton", essential=True)
    nbytes = roofline.wmmse_iteration_bytes(z["Nt"], z["K"], z["T"], z["R"], z["Nr"], z["L"], 4)
    ach = roofline.achieved(flops, nbytes, t.per_item(B), peaks, complex_work=True, floor_flops=ess)
    size_note = ",".join(f"{k}={v}" for k, v in z.items())
    rep.add(part, "cells", B, "cells", f"{size_note}, float32, vmapped")
    rep.add(part, "compile", t.compile_s, "s")
    rep.add(part, "time_per_cell", t.per_item(B) * 1e6, "us/cell", f"median of {t.repeats}")
    rep.add(part, "cells_per_s", t.throughput(B), "cells/s")
    rep.add(part, "newton_steps_used", used, f"of {istn_bench.TX_ITERS}", "transmit-step iterations, mean")
    rep.add(part, "flops_executed", flops / 1e6, "MFLOP/cell")
    rep.add(part, "flops_essential", ess / 1e6, "MFLOP/cell")
    rep.add(part, "achieved", ach["gflops_s"], "GFLOP/s")
    rep.add(part, "fraction_of_peak", 100 * ach["frac_peak_flops"], "% of complex64 peak")
    rep.add(part, "time_over_floor", ach["time_over_floor"], "x", f"{ach['bound']}-bound floor")


def part_jmra_batch(rep: Report, s: dict, seed: int) -> None:
    """JMRA relaxation + rounding, frames/s at each batch size."""
    from benchmarks.ntn_bench import random_frames
    from solvers.ntn.allocate import solve_allocation

    part = "jmra_batch"
    C, S = s["jmra_C"], s["jmra_S"]
    t_start = time.perf_counter()
    for B in s["jmra_batches"]:
        if time.perf_counter() - t_start > s["jmra_budget_s"]:
            rep.say(part, f"budget spent; batch {B} and larger skipped")
            rep.add(part, f"skipped_batch_{B}", B, "frames", "time budget spent")
            break
        frames = random_frames(B, C, S, seed=seed)
        t0 = time.perf_counter()
        _sync(solve_allocation(frames, "jmra"))
        t1 = time.perf_counter()
        sol = _sync(solve_allocation(frames, "jmra"))
        t2 = time.perf_counter()
        rep.add(part, f"frames_per_s_batch_{B}", B / (t2 - t1), "frames/s",
                f"C={C}, S={S}, float64; first call (compile + run) {t1 - t0:.2f} s; "
                f"outer iterations mean {float(sol['iterations'].mean()):.1f}")
        rep.say(part, f"batch {B}: {B / (t2 - t1):.2f} frames/s (first call {t1 - t0:.1f} s)")


def part_ntn_scenarios(rep: Report, s: dict, seed: int) -> None:
    """Batched NTN scenarios: scenarios/s at each batch size, batched vs one after the other."""
    from benchmarks.ntn_scenarios import measure
    from solvers.configio import load_configs
    from solvers.ntn.config import NtnConfig

    part = "ntn_scenarios"
    (cfg,) = load_configs((NtnConfig,), None, [f"cell_deg={s['scen_cell_deg']}"], "paper")
    for r in measure(cfg, s["scen_batches"], s["scen_frames"], seed, ("jmra", "dmrab"), quiet=True):
        B = r["batch"]
        rep.add(part, f"scenarios_per_s_batch_{B}", r["scenarios_per_s"], "scenarios/s",
                f"paper scenario, cell_deg {s['scen_cell_deg']}, {s['scen_frames']} frames, JMRA + DMRAB; one after "
                f"the other {r['sequential_scenarios_per_s']:.3g}/s (x{r['speedup']:.2f}); rows identical: "
                f"{r['identical_rows']}, max objective gap {r['max_objective_gap']:.1e}")
        rep.say(part, f"batch {B}: {r['scenarios_per_s']:.3g} scenarios/s (x{r['speedup']:.2f} vs one after the other)")


def part_cvxpy_ratio(rep: Report, s: dict, seed: int) -> None:
    """Ours vs the cvxpy reference on the same few instances (ISTN drops, JMRA frames)."""
    import numpy as np

    from benchmarks.istn_bench import QUICK_SCENARIO
    from benchmarks.ntn_bench import random_frames
    from solvers.istn.config import IstnConfig
    from solvers.istn.generate import generate_instance
    from solvers.istn.pipeline import SolverConfig, solve_istn, solve_istn_reference
    from solvers.ntn.allocate import JmraConfig, solve_allocation
    from solvers.ntn.allocate import solve_allocation_reference

    part = "cvxpy_ratio"
    t_start = time.perf_counter()
    cfg = IstnConfig(**QUICK_SCENARIO) if rep.tiny else IstnConfig()  # --tiny: bench --quick's cell
    n = s["ref_istn_drops"]
    # float32 as in istn_e2e (one-cell drops: the programs of a 1-slot batch are shared with it)
    inst = generate_instance(cfg, n, seed, 1, precision="float32", progress=False)
    solver = SolverConfig(progress=False)
    solve_istn(inst, solver, "proposed", seed)  # compile
    t0 = time.perf_counter()
    ours = solve_istn(inst, solver, "proposed", seed)
    t_ours = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    ref = solve_istn_reference(inst, solver, "proposed", seed)
    t_ref = (time.perf_counter() - t0) / n
    so, sr = np.asarray(ours["sum_rate"], float), np.asarray(ref["sum_rate"], float)
    rep.add(part, "istn_ours_per_drop", t_ours * 1e3, "ms/drop", f"{n} one-cell drop(s), seed {seed}, float32, "
            "batch = these drops (latency, not throughput)")
    rep.add(part, "istn_cvxpy_per_drop", t_ref, "s/drop", "solve_istn_reference (CVX loop), host CPU")
    rep.add(part, "istn_ratio", t_ref / t_ours, "x", "cvxpy time / ours, same drops")
    rep.add(part, "istn_sum_rate_gap", 100 * float((so.sum() - sr.sum()) / max(abs(sr.sum()), 1e-12)), "%",
            f"ours vs cvxpy, sum over the drops; statuses ours {np.asarray(ours['status']).ravel().tolist()} "
            f"cvxpy {np.asarray(ref['status']).ravel().tolist()}")
    rep.say(part, f"ISTN: ours {t_ours * 1e3:.0f} ms/drop, cvxpy {t_ref:.1f} s/drop")
    if time.perf_counter() - t_start > s["ref_budget_s"]:
        rep.add(part, "jmra_skipped", 0, "frames", "time budget spent on the ISTN reference")
        return
    C, S = (s["jmra_C"], s["jmra_S"])
    frames = random_frames(s["ref_jmra_frames"], C, S, seed=seed + 1)
    _sync(solve_allocation(frames, "jmra"))
    t0 = time.perf_counter()
    o = _sync(solve_allocation(frames, "jmra"))
    t_o = (time.perf_counter() - t0) / len(frames["t_ho"])
    t0 = time.perf_counter()
    r = solve_allocation_reference(frames, "jmra", JmraConfig())
    t_r = (time.perf_counter() - t0) / len(frames["t_ho"])
    oo, orf = np.asarray(o["objective"], float), np.asarray(r["objective"], float)
    rep.add(part, "jmra_ours_per_frame", t_o * 1e3, "ms/frame", f"{len(oo)} frame(s), C={C}, S={S}, float64")
    rep.add(part, "jmra_cvxpy_per_frame", t_r, "s/frame", "Algorithm 1 with a Clarabel P2 per outer iteration")
    rep.add(part, "jmra_ratio", t_r / t_o, "x", "cvxpy time / ours, same frames")
    rep.add(part, "jmra_objective_gap", 100 * float(np.max(np.abs(oo - orf) / np.maximum(np.abs(orf), 1e-12))),
            "%", "max over frames, objective (25) of the integer allocations")
    rep.say(part, f"JMRA: ours {t_o * 1e3:.0f} ms/frame, cvxpy {t_r:.2f} s/frame")


PART_FNS = {"istn_e2e": part_istn_e2e, "wmmse_roofline": part_wmmse_roofline, "jmra_batch": part_jmra_batch,
            "cvxpy_ratio": part_cvxpy_ratio, "ntn_scenarios": part_ntn_scenarios}


# ----------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------
def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    return str(v)


def write_report(rep: Report, meta: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / "gpu_check.csv", out / "gpu_check.md"
    rows = [dict(part="meta", metric=k, value=v, unit="", note="") for k, v in meta.items()] + rep.rows
    rows += [dict(part=p, metric="error", value="", unit="", note=e) for p, e in rep.errors.items()]
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["part", "metric", "value", "unit", "note"])
        w.writeheader()
        w.writerows(rows)
    lines = ["# satisac GPU check", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()]
    for part in meta["parts"].split():
        lines += ["", f"## {part}", ""]
        if part in rep.errors:
            lines += ["**FAILED**:", "", "```", rep.errors[part].rstrip(), "```"]
        body = [r for r in rep.rows if r["part"] == part]
        if body:
            lines += ["| metric | value | unit | note |", "|---|---|---|---|"]
            lines += [f"| {r['metric']} | {_fmt(r['value'])} | {r['unit']} | {r['note']} |" for r in body]
    md_path.write_text("\n".join(lines) + "\n")
    return csv_path, md_path


def _meta(args, sizes: dict, wall_s: float) -> dict:
    import jax
    import jaxlib
    d = jax.devices()[0]
    return {"date (UTC)": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "device": f"{d.platform}: {getattr(d, 'device_kind', d.platform)} x{len(jax.devices())}",
            "host": f"{platform.machine()}, {runtime.available_cpus()} CPUs available",
            "jax": f"{jax.__version__} (jaxlib {jaxlib.__version__})", "python": platform.python_version(),
            "mode": "tiny (toy sizes)" if args.tiny else "full", "seed": args.seed,
            "parts": " ".join(args.parts), "wall_s": f"{wall_s:.1f}",
            "sizes": ", ".join(f"{k}={v}" for k, v in sizes.items())}


def run(args) -> int:
    rep = Report(args.tiny)
    sizes = dict(TINY if args.tiny else FULL)
    sizes.update({k: getattr(args, k) for k in ("e2e_drops", "e2e_chunk") if getattr(args, k, None) is not None})
    for k in [k for k in sizes if k.endswith("_budget_s")]:
        sizes[k] *= args.budget_scale
    runtime.configure_compilation_cache()
    from jaxcore.precision import set_precision
    set_precision("float64")  # x64 available: float32 parts cast explicitly, the references need float64
    for part in args.parts:
        rep.say(part, "start")
        t0 = time.perf_counter()
        try:
            PART_FNS[part](rep, sizes, args.seed)
        except Exception:  # noqa: BLE001 - the report names it and the other parts still run
            rep.errors[part] = traceback.format_exc(limit=6)
            rep.say(part, "FAILED: " + rep.errors[part].strip().splitlines()[-1])
        rep.add(part, "part_wall", time.perf_counter() - t0, "s")
        # rewritten after every part: a run cut off by an outer time limit keeps what it finished
        csv_path, md_path = write_report(rep, _meta(args, sizes, time.perf_counter() - rep.t0), Path(args.output))
    print(f"wrote {csv_path}\nwrote {md_path}")
    return 1 if rep.errors else 0


def _parts(text: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in text.split(",") if p.strip())
    bad = [p for p in parts if p not in PARTS]
    if bad or not parts:
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(PARTS)}, got {text!r}")
    return parts


def main(argv=None) -> int:
    runtime.configure_threads()  # before numpy/jax load
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__.split("\n\n")[0])
    p.add_argument("-o", "--output", required=True, help="directory for gpu_check.csv and gpu_check.md")
    p.add_argument("--tiny", action="store_true", help="toy sizes (CPU, well under a minute): the test-suite run")
    p.add_argument("--parts", type=_parts, default=PARTS, help=f"comma-separated subset of {','.join(PARTS)}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget-scale", type=float, default=1.0,
                   help="multiply every part's time budget (e.g. 2 on a slower accelerator)")
    p.add_argument("--e2e-drops", type=int, default=None, help="istn_e2e: drops in all (default: FULL/TINY)")
    p.add_argument("--e2e-chunk", type=int, default=None, help="istn_e2e: drops per chunk (default: FULL/TINY)")
    args = p.parse_args(argv)
    if not args.budget_scale > 0:
        p.error(f"--budget-scale: expected a positive number, got {args.budget_scale}")
    for name in ("e2e_drops", "e2e_chunk"):
        v = getattr(args, name)
        if v is not None and v < 1:
            p.error(f"--{name.replace('_', '-')}: expected a positive integer, got {v}")
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
