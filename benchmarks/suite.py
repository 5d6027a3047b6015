"""``satisac bench [--quick] -o out_dir``: run every benchmark and write the report.

Order: measure the device ceilings (``benchmarks.roofline``), then the ISTN benchmarks
(channel generation, transmit step, P1->P2->P3 pipeline, cvxpy reference, float32/float64,
cost growth with Nt, K, T, cells, WMMSE roofline; ``benchmarks.istn_bench``), then the NTN
ones (JMRA; ``benchmarks.ntn_bench``).  Each part appends rows to one list; the report
(``benchmarks.report``) writes ``bench.csv``, ``exponents.csv``, ``throughput.png``,
``scaling.png`` and ``bench.md`` into the output directory.

A part whose solver module is not importable is skipped with a note naming the missing
module (exit code 0); a part that raises is recorded with its error and makes the exit
code 1, so CI notices a broken solver while the other numbers are still written.

x64 is switched on here so float64 can be compared in the same run; float32 runs cast their
inputs explicitly (the library keeps the dtype it is given, and the CSV records the output
dtype of the precision comparison so an accidental upcast would show).
"""
from __future__ import annotations

import datetime
import os
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Context:
    """What every benchmark part receives."""

    quick: bool
    seed: int
    out_dir: Path
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    peaks: object = None
    budget_s: float = 2.0  # per timed configuration, after compile + warm-up
    progress: object = None

    def note(self, msg: str) -> None:
        """Record a note for the report and print it to stderr at once, so a long run in a
        batch job (no terminal, no progress bar) shows where it is."""
        self.notes.append(msg)
        print(f"satisac bench: {msg}", file=sys.stderr, flush=True)

    def tick(self) -> None:
        if self.progress is not None:
            self.progress.update(1)


def _meta(quick: bool, parts=None) -> dict:
    import jax
    import jaxlib
    d = jax.devices()[0]
    return {
        "mode": "quick (CI smoke sizes)" if quick else "full",
        "date (UTC)": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "device": f"{d.platform} ({getattr(d, 'device_kind', '')}) x{len(jax.devices())}",
        "host": f"{platform.machine()}, {os.cpu_count()} logical CPUs, {platform.python_implementation()} {platform.python_version()}",
        "jax / jaxlib": f"{jax.__version__} / {jaxlib.__version__}",
        "command": "satisac bench" + (" --quick" if quick else "") + (f" --parts {','.join(parts)}" if parts else "") + " -o OUT",
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
    }


def _peak_rows(ctx: Context) -> None:
    from benchmarks.roofline import measure_peaks
    p = measure_peaks(quick=ctx.quick, seed=ctx.seed)
    ctx.peaks = p
    ctx.rows += [
        dict(section="peak", bench="device", variant="matmul float32 GFLOP/s", value=p.matmul_flops_f32 / 1e9,
             note=f"{p.matmul_n}^3 jitted a @ b, 2 n^3 flops, median"),
        dict(section="peak", bench="device", variant="matmul complex64 GFLOP/s (real)", value=p.matmul_flops_c64 / 1e9,
             note=f"{p.matmul_n // 2}^3 complex a @ b, 8 n^3 real flops, median"),
        dict(section="peak", bench="device", variant="copy GB/s (read+write)", value=p.copy_bytes_s / 1e9,
             note=f"x + 1 on {p.copy_mb:.0f} MiB float32, 2 x size bytes, median"),
    ]


PARTS = (
    ("device peaks", "benchmarks.roofline", _peak_rows),
    ("istn", "benchmarks.istn_bench", None),
    ("ntn", "benchmarks.ntn_bench", None),
)


def run_parts(ctx: Context, only: tuple[str, ...] | None = None) -> int:
    """Run the parts in order; returns the number of parts that raised."""
    import importlib
    failed = 0
    for name, module, fn in PARTS:
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        print(f"satisac bench: part '{name}' started", file=sys.stderr, flush=True)
        try:
            if fn is None:
                fn_ = importlib.import_module(module).bench
            else:
                fn_ = fn
            fn_(ctx)
            ctx.note(f"part '{name}' took {time.perf_counter() - t0:.1f} s (including compiles)")
        except ImportError as e:
            ctx.note(f"part '{name}' skipped: {e}")
        except Exception as e:  # record and continue: the other parts' numbers stay useful
            failed += 1
            tb = traceback.format_exc(limit=4).strip().splitlines()
            ctx.note(f"part '{name}' FAILED: {type(e).__name__}: {e} ({' | '.join(tb[-3:])})")
            print(f"satisac bench: part '{name}' failed:\n{traceback.format_exc()}", file=sys.stderr)
    return failed


def run(args) -> int:
    import jax
    jax.config.update("jax_enable_x64", True)  # float64 comparisons in the same run
    from tqdm import tqdm

    from benchmarks import report

    quick = bool(getattr(args, "quick", False))
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(quick=quick, seed=int(getattr(args, "seed", 0)), out_dir=out_dir,
                  budget_s=1.0 if quick else 5.0)
    meta = _meta(quick, getattr(args, "parts", None))
    t0 = time.perf_counter()
    with tqdm(desc="bench", unit="cfg", disable=not sys.stderr.isatty()) as bar:
        ctx.progress = bar
        parts = getattr(args, "parts", None)
        failed = run_parts(ctx, ("device peaks",) + tuple(parts) if parts else None)
    meta["wall time (s)"] = f"{time.perf_counter() - t0:.1f}"
    files = report.write_all(ctx.rows, meta, out_dir, ctx.notes, quick=quick)
    for kind, path in files.items():
        print(f"wrote {kind}: {path}")
    return 1 if failed else 0
