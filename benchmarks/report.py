"""Benchmark report: one CSV of every measurement, PNG plots and a Markdown table.

Every benchmark appends flat ``dict`` rows (``COLUMNS`` below; missing keys stay empty).
``section`` says what a row is:

* ``throughput``  one batched solve at one batch size (items = drops or frames);
* ``scaling``     per-item cost at one value of a size parameter (Nt, K, T, cells, C, S);
* ``reference``   ours vs the cvxpy reference on the same instances, same run;
* ``precision``   float32 vs float64 on the same instances;
* ``roofline``    flops/bytes per iteration against the measured peaks;
* ``peak``        the measured device ceilings.

Cost growth is summarised by a log-log least-squares fit ``per_item_s ~ c * value^p``
(:func:`fit_exponent`); the exponent ``p`` is reported per benchmark and parameter.
"""
from __future__ import annotations

import csv
import sys
import math
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

COLUMNS = [
    "section", "bench", "variant", "dtype", "batch", "param", "value", "sizes",
    "compile_s", "median_s", "min_s", "max_s", "repeats", "per_item_s", "items_per_s", "cpu_per_item_s",
    "peak_bytes", "bytes_per_item", "iterations",
    "quality_metric", "quality", "ref_quality", "quality_gap", "quality_ok",
    "ref_per_item_s", "ref_cpu_per_item_s", "speedup_vs_ref", "cpu_speedup_vs_ref",
    "flops", "bytes", "gflops_s", "frac_peak_flops", "gbytes_s", "frac_peak_bw",
    "floor_s", "time_over_floor", "bound", "note",
]


def run_main(parser, run, argv=None) -> int:
    """Parse ``argv`` and call ``run(args)``; a ``ValueError`` is one ``error: ...`` line, exit 2."""
    try:
        run(parser.parse_args(argv))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def write_csv(rows: Sequence[dict], path: Path) -> Path:
    """All rows, columns in ``COLUMNS`` order (extra keys appended), blanks for missing."""
    extra = sorted({k for r in rows for k in r} - set(COLUMNS))
    cols = COLUMNS + extra
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, restval="")
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt_csv(v) for k, v in r.items()})
    return path


def _fmt_csv(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (np.floating, np.integer)):
        return f"{float(v):.6g}"
    return v


def fit_exponent(x: Iterable[float], y: Iterable[float]) -> tuple[float, float]:
    """Least squares on log y = log c + p log x; returns (p, c).  NaN if < 2 points."""
    x = np.asarray(list(x), float)
    y = np.asarray(list(y), float)
    ok = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2 or np.unique(x[ok]).size < 2:
        return math.nan, math.nan
    p, logc = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(p), float(np.exp(logc))


def exponents(rows: Sequence[dict]) -> list[dict]:
    """One fitted exponent per (bench, dtype, param) over the ``scaling`` rows."""
    groups = defaultdict(list)
    for r in rows:
        if r.get("section") == "scaling" and r.get("per_item_s"):
            groups[(r["bench"], r.get("dtype", ""), r["param"])].append(r)
    out = []
    for (bench, dtype, param), rs in sorted(groups.items()):
        p, c = fit_exponent([r["value"] for r in rs], [r["per_item_s"] for r in rs])
        out.append({"bench": bench, "dtype": dtype, "param": param, "exponent": p,
                    "values": ",".join(str(r["value"]) for r in rs), "points": len(rs)})
    return out


# ----------------------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------------------
def plot_throughput(rows: Sequence[dict], path: Path) -> Path | None:
    """items/s vs batch size, log-log, one line per (bench, variant, dtype)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = defaultdict(list)
    for r in rows:
        if r.get("section") == "throughput" and r.get("items_per_s"):
            lines[(r["bench"], r.get("variant", ""), r.get("dtype", ""))].append((r["batch"], r["items_per_s"]))
    if not lines:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (bench, variant, dtype), pts in sorted(lines.items()):
        pts.sort()
        lab = f"{bench}{'/' + variant if variant else ''} {dtype}"
        ax.loglog([p[0] for p in pts], [p[1] for p in pts], "o-", label=lab)
    ax.set_xlabel("batch size (drops or frames per call)")
    ax.set_ylabel("throughput (items / s)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("Throughput vs batch size")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_scaling(rows: Sequence[dict], path: Path) -> Path | None:
    """Per-item time vs each size parameter, log-log, with the fitted exponent."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    groups = defaultdict(list)
    for r in rows:
        if r.get("section") == "scaling" and r.get("per_item_s"):
            groups[(r["bench"], r.get("dtype", ""), r["param"])].append((r["value"], r["per_item_s"]))
    if not groups:
        return None
    params = sorted({k[2] for k in groups})
    ncol = min(3, len(params))
    nrow = math.ceil(len(params) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow), squeeze=False)
    for ax, param in zip(axes.flat, params):
        for (bench, dtype, p), pts in sorted(groups.items()):
            if p != param:
                continue
            pts.sort()
            x, y = [q[0] for q in pts], [q[1] for q in pts]
            e, _ = fit_exponent(x, y)
            ax.loglog(x, y, "o-", label=f"{bench} {dtype} (p={e:.2f})")
            # the measured sizes as plain x tick labels (log minor labels collide in < 1 decade)
            ax.xaxis.set_major_locator(FixedLocator(x))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(param)
        ax.set_ylabel("seconds per item")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(params):]:
        ax.axis("off")
    fig.suptitle("Cost growth (log-log fit: time ~ size^p)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------
def _g(v, fmt="{:.3g}"):
    if v is None or v == "":
        return ""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return str(v)
        return fmt.format(v)
    return str(v)


def _table(headers: Sequence[str], body: Sequence[Sequence]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_g(c) for c in row) + " |" for row in body]
    return "\n".join(out)


def markdown(rows: Sequence[dict], meta: dict, notes: Sequence[str] = (), quick: bool = False) -> str:
    """The Markdown report (also the body of BENCHMARKS.md's measured section)."""
    md = [f"# satisac benchmark ({'quick' if quick else 'full'})", ""]
    md.append(_table(["key", "value"], [[k, v] for k, v in meta.items()]))
    sec = defaultdict(list)
    for r in rows:
        sec[r.get("section")].append(r)

    if sec["peak"]:
        md += ["", "## Measured device ceilings", ""]
        md.append(_table(["what", "value", "note"],
                         [[r["variant"], r["value"], r.get("note", "")] for r in sec["peak"]]))
    if sec["throughput"]:
        md += ["", "## Throughput vs batch size", ""]
        md.append(_table(
            ["bench", "variant", "dtype", "batch", "items/s", "ms/item", "CPU ms/item", "compile s", "peak MB",
             "kB/item", "iters"],
            [[r["bench"], r.get("variant", ""), r.get("dtype", ""), r["batch"], r.get("items_per_s"),
              1e3 * r["per_item_s"] if r.get("per_item_s") else "",
              1e3 * r["cpu_per_item_s"] if r.get("cpu_per_item_s") else "", r.get("compile_s"),
              r["peak_bytes"] / 2 ** 20 if r.get("peak_bytes") else "",
              r["bytes_per_item"] / 1e3 if r.get("bytes_per_item") else "", r.get("iterations", "")]
             for r in sec["throughput"]]))
    if sec["reference"]:
        md += ["", "## Against the cvxpy reference (same instances, same run)", ""]
        md.append(_table(
            ["bench", "dtype", "instances", "ours ms/item (batched)", "cvxpy ms/item", "speed-up (wall)",
             "speed-up (CPU s)", "quality", "ours", "cvxpy", "gap", "within tol", "note"],
            [[r["bench"], r.get("dtype", ""), r["batch"], 1e3 * r["per_item_s"], 1e3 * r["ref_per_item_s"],
              r.get("speedup_vs_ref"), r.get("cpu_speedup_vs_ref", ""), r.get("quality_metric", ""),
              r.get("quality"), r.get("ref_quality"),
              r.get("quality_gap"), r.get("quality_ok", ""), r.get("note", "")] for r in sec["reference"]]))
    if sec["precision"]:
        md += ["", "## float32 vs float64 (same instances)", ""]
        md.append(_table(
            ["bench", "batch", "f32 ms/item", "f64 ms/item", "f64/f32 time", "quality", "f32", "f64", "gap"],
            [[r["bench"], r["batch"], 1e3 * r["per_item_s"], 1e3 * r["ref_per_item_s"], r.get("speedup_vs_ref"),
              r.get("quality_metric", ""), r.get("quality"), r.get("ref_quality"), r.get("quality_gap")]
             for r in sec["precision"]]))
    ex = exponents(rows)
    if ex:
        md += ["", "## Cost growth (fitted exponent p of time per item ~ size^p)", ""]
        md.append(_table(["bench", "dtype", "param", "p", "values"],
                         [[e["bench"], e["dtype"], e["param"], e["exponent"], e["values"]] for e in ex]))
    if sec["roofline"]:
        md += ["", "## Roofline: one iteration against the measured peaks", ""]
        md.append(_table(
            ["bench", "sizes", "MFLOP/iter", "kB/iter", "flop/byte", "µs/iter (meas.)", "GFLOP/s",
             "% peak flops", "% peak BW", "floor µs", "time/floor", "bound"],
            [[r["bench"], r.get("sizes", ""), r["flops"] / 1e6, r["bytes"] / 1e3, r["flops"] / r["bytes"],
              1e6 * r["per_item_s"], r.get("gflops_s"), 100 * r["frac_peak_flops"], 100 * r["frac_peak_bw"],
              1e6 * r["floor_s"], r.get("time_over_floor"), r.get("bound", "")] for r in sec["roofline"]]))
    if notes:
        md += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(md) + "\n"


def write_all(rows: Sequence[dict], meta: dict, out_dir: Path, notes: Sequence[str] = (),
              quick: bool = False) -> dict[str, Path]:
    """Write ``bench.csv``, ``exponents.csv``, ``throughput.png``, ``scaling.png``, ``bench.md``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"csv": write_csv(rows, out_dir / "bench.csv")}
    ex = exponents(rows)
    with open(out_dir / "exponents.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["bench", "dtype", "param", "exponent", "values", "points"])
        w.writeheader()
        for e in ex:
            w.writerow({k: _fmt_csv(v) for k, v in e.items()})
    files["exponents"] = out_dir / "exponents.csv"
    for name, fn in (("throughput", plot_throughput), ("scaling", plot_scaling)):
        p = fn(rows, out_dir / f"{name}.png")
        if p is not None:
            files[name] = p
    md = out_dir / "bench.md"
    md.write_text(markdown(rows, meta, notes, quick))
    files["markdown"] = md
    return files
