"""Independent check as a user runs it: ``satisac P solve`` against ``satisac P solve --reference``.

    python -m benchmarks.cli_check --paper istn --seed 31337 --items 33 --ref-items 3 -o DIR
    python -m benchmarks.cli_check --paper ntn --seed 43 --items 4 --ref-items 2 -o DIR

Whole commands, each a fresh process (start-up, imports, tracing and file I/O included):

1. ``satisac P generate`` writes instance files of 1, ``--ref-items`` and ``--items`` drops
   (ISTN) or frames (NTN) from ``--seed`` (with ``--generate-args``; defaults: one-cell ISTN
   drops, the NTN paper's 150-cell frames ``--set cell_deg=1.0``).
2. Per precision (``--precisions``): one untimed ``satisac --precision p P solve`` of the
   1-item file (fills the persistent compilation cache), then ``--repeats`` rounds of the 1-
   and the N-item solve, timed.
3. The reference (``--reference``) on the 1- and the R-item file, ``--ref-repeats`` rounds
   (minutes each).

The cost per added item is ``(min t(N) - min t(1)) / (N - 1)`` for ours and
``(min t(R) - min t(1)) / (R - 1)`` for the reference (the fastest of the repeats: other work
on the machine only adds time to a run), so start-up and compilation cancel; the ratio
of the two is the speed-up a user sees.  Quality on the R common items: ISTN sum rate,
NTN objective (25), each ours (from the N-item solve) against the reference, relative.
Writes ``cli_check.csv`` (one row per timed command) and ``cli_check.md``; prints the table.
The instance and solution files live in a temporary folder (``--keep-files``: ``OUTPUT/files``).
Timings are reported, never asserted.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks.report import run_main

#: per paper: generate's size flag, the solution field compared, default generate arguments
PAPERS = {
    "istn": dict(size_flag="--drops", metric="sum_rate", gen_args="--cells 1", item="drop"),
    "ntn": dict(size_flag="--frames", metric="objective", gen_args="--set cell_deg=1.0", item="frame"),
}


def satisac_command() -> list[str]:
    """The ``satisac`` console script next to this interpreter, else ``python -m solvers.cli``."""
    exe = Path(sys.executable).with_name("satisac")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "solvers.cli"]


def run_timed(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd`` to completion -> (wall s, CPU s of the child); a failing command is a
    ``ValueError`` naming it with the last line of its stderr (one ``error:`` line, nothing written)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ValueError(f"{' '.join(cmd)} exited {p.returncode}: {last}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def per_added(t_small: list[float], t_big: list[float], n_small: int, n_big: int) -> float:
    """Seconds per added item from the fastest run of each command size (start-up cancels;
    the minimum, because other work on the machine only ever adds time to a run)."""
    if n_big <= n_small:
        raise ValueError(f"sizes: expected n_big > n_small, got {n_big} and {n_small}")
    return (min(t_big) - min(t_small)) / (n_big - n_small)


def quality_gap(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Relative gap per common item, (ours - ref) / |ref| (positive: ours higher); NaN where
    either is NaN (an infeasible item)."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    n = len(ref)
    return (ours[:n] - ref) / np.where(ref != 0, np.abs(ref), 1.0)


def is_prefix(small: Path, big: Path) -> bool:
    """Whether every array of instance file ``small`` equals the leading rows of ``big``'s
    (or the whole array, for fields without an item axis).

    NTN files pad the satellite (last) axis to the most satellites in view in any of their
    frames (``sat_id = -1`` columns of rate 0, ``solvers/ntn/instance.py``), so a longer file
    may hold the same frames with more padding columns: a field whose last axis is the
    satellite axis of both files then matches on the small file's columns, and the big
    file's extra columns of those frames must all be padding."""
    a, b = np.load(small), np.load(big)
    s_a = a["sat_id"].shape[-1] if "sat_id" in a.files else None
    s_b = b["sat_id"].shape[-1] if "sat_id" in b.files else None
    for k in a.files:
        x, y = a[k], b[k] if k in b.files else None
        if y is None:
            return False
        if x.shape == y.shape and np.array_equal(x, y):
            continue
        if not (x.ndim and y.ndim == x.ndim and y.shape[1:-1] == x.shape[1:-1] and len(y) >= len(x)):
            return False
        y = y[:len(x)]
        if y.shape[-1] != x.shape[-1]:
            if not (s_a is not None and s_b is not None and x.shape[-1] == s_a < y.shape[-1] == s_b
                    and np.all(b["sat_id"][:len(x), s_a:] == -1)):
                return False
            y = y[..., :s_a]
        if not np.array_equal(x, y):
            return False
    return True


def check(args, run=run_timed, say=print) -> dict:
    """Run the check (module docstring); ``run(cmd) -> (wall, cpu)`` is injectable for tests.
    Returns ``{"rows": [...], "summary": [...]}`` and writes the CSV and markdown."""
    out = Path(args.output)
    if getattr(args, "keep_files", False):
        (out / "files").mkdir(parents=True, exist_ok=True)
        return _check(args, out, out / "files", run, say)
    with tempfile.TemporaryDirectory(prefix="cli_check_") as tmp:
        return _check(args, out, Path(tmp), run, say)


def _check(args, out: Path, work: Path, run, say) -> dict:
    """:func:`check` with the instance and solution files in ``work``."""
    paper = PAPERS[args.paper]
    sat = satisac_command()
    sizes = sorted({1, args.ref_items, args.items} - {0})
    gen_args = shlex.split(paper["gen_args"] if args.generate_args is None else args.generate_args)
    files = {}
    for n in sizes:
        files[n] = work / f"{args.paper}_{n}.npz"
        run(sat + [args.paper, "generate", paper["size_flag"], str(n), "--seed", str(args.seed)]
            + gen_args + ["-o", str(files[n])])
    solve_args = shlex.split(args.solve_args or "")
    rows, summary = [], []

    def solve(n, precision, tag, reference=False):
        sol = work / f"sol_{tag.replace(' ', '_')}_{n}.npz"
        cmd = sat + (["--precision", precision] if precision else []) + [args.paper, "solve", str(files[n])] \
            + (["--reference"] if reference else []) + solve_args + ["-o", str(sol)]
        wall, cpu = run(cmd)
        rows.append(dict(solver=tag, items=n, seconds=round(wall, 3), cpu_seconds=round(cpu, 3),
                         command=" ".join(cmd[len(sat):]).replace(str(work), "WORK")))
        say(f"  {tag} {n} {paper['item']}(s): {wall:.2f} s")
        return wall, sol

    ref = None
    if args.ref_items > 1:
        t1, tr = [], []
        for _ in range(args.ref_repeats):
            t1.append(solve(1, None, "reference", reference=True)[0])
            wall, sol = solve(args.ref_items, None, "reference", reference=True)
            tr.append(wall)
        ref = dict(per_item=per_added(t1, tr, 1, args.ref_items), metric=np.load(sol)[paper["metric"]],
                   common=is_prefix(files[args.ref_items], files[args.items]))
    for p in args.precisions.split(","):
        run(sat + ["--precision", p, args.paper, "solve", str(files[1])] + solve_args + ["-o", str(work / "warm.npz")])
        t_one, t_big = [], []
        for _ in range(args.repeats):
            t_one.append(solve(1, p, f"ours {p}")[0])
            wall, sol = solve(args.items, p, f"ours {p}")
            t_big.append(wall)
        s = dict(solver=f"ours {p}", items=args.items, one_item_s=min(t_one), n_items_s=min(t_big),
                 per_added_s=per_added(t_one, t_big, 1, args.items))
        got = np.load(sol)
        if "status" in got.files:
            st, cnt = np.unique(np.asarray(got["status"]).ravel(), return_counts=True)
            s["statuses"] = " ".join(f"{int(a)}:{int(b)}" for a, b in zip(st, cnt))
        s["mean_metric"] = float(np.nanmean(got[paper["metric"]]))
        if ref is not None and ref["common"]:
            gap = quality_gap(got[paper["metric"]], ref["metric"])
            s.update(gap_mean=float(np.nanmean(gap)), gap_worst=float(np.nanmin(gap)))
        if ref is not None:
            s.update(ref_per_added_s=ref["per_item"], ratio=ref["per_item"] / s["per_added_s"])
        summary.append(s)
    _write(args, out, rows, summary)
    return dict(rows=rows, summary=summary)


def _write(args, out: Path, rows: list[dict], summary: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "cli_check.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["solver", "items", "seconds", "cpu_seconds", "command"])
        w.writeheader()
        w.writerows(rows)
    item = PAPERS[args.paper]["item"]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# `satisac {args.paper} solve` against `--reference`, whole commands", "",
             f"{when}; {platform.machine()} CPU, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"load average at the end {os.getloadavg()[0]:.2f}.", "",
             f"`python -m benchmarks.cli_check {' '.join(shlex.quote(a) for a in sys.argv[1:])}`"
             if sys.argv[0].endswith("cli_check.py") else "", "",
             f"Per added {item}: (min t({args.items}) - min t(1)) / {args.items - 1} for ours "
             f"({args.repeats} rounds), the same with t({args.ref_items}) for the reference ({args.ref_repeats} "
             f"round(s)); compilation cache warm for ours.", "",
             f"| solver | t(1) s | t({args.items}) s | s per added {item} | reference s per added {item} | ratio "
             f"| {PAPERS[args.paper]['metric']} vs reference, first {args.ref_items} (mean / worst) "
             f"| mean over {args.items} | statuses |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        r = "- | - | -"
        if "ratio" in s:
            r = f"{s['ref_per_added_s']:.2f} | **{s['ratio']:.1f}x** | "
            r += (f"{100 * s['gap_mean']:+.3f} % / {100 * s['gap_worst']:+.3f} %" if "gap_mean" in s
                  else "- (the reference's items are not the first of ours)")
        lines.append(f"| {s['solver']} | {s['one_item_s']:.2f} | {s['n_items_s']:.2f} | {s['per_added_s']:.3f} | {r} "
                     f"| {s['mean_metric']:.4f} | {s.get('statuses', '-')} |")
    (out / "cli_check.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[-len(summary) - 2:]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paper", choices=sorted(PAPERS), default="istn")
    ap.add_argument("--seed", type=int, required=True,
                    help="seed of the generated instances (pick one you did not tune on)")
    ap.add_argument("--items", type=int, default=33, help="drops/frames of the large solve (default 33)")
    ap.add_argument("--ref-items", type=int, default=3, help="drops/frames the reference solves (>= 2; 0 = none)")
    ap.add_argument("--repeats", type=int, default=3, help="timed rounds of our 1- and N-item solves")
    ap.add_argument("--ref-repeats", type=int, default=1,
                    help="timed rounds of the reference's 1- and R-item solves")
    ap.add_argument("--precisions", default="float32,float64", help="comma-separated --precision values of ours")
    ap.add_argument("--generate-args", default=None, help="extra arguments of 'generate' (default per paper: "
                    + "; ".join(f"{k}: {v['gen_args']!r}" for k, v in PAPERS.items()) + ")")
    ap.add_argument("--solve-args", default=None, help="extra arguments of every 'solve' (e.g. '--set slots=16')")
    ap.add_argument("--keep-files", action="store_true",
                    help="keep the instance and solution files in OUTPUT/files (default: a temporary folder)")
    ap.add_argument("-o", "--output", required=True)

    def go(a):
        if a.items < 2:
            raise ValueError(f"--items: expected >= 2, got {a.items}")
        if a.ref_items == 1 or a.ref_items < 0 or a.ref_items > a.items:
            raise ValueError(f"--ref-items: expected 0 or 2..--items ({a.items}), got {a.ref_items}")
        for k in ("repeats", "ref_repeats"):
            if getattr(a, k) < 1:
                raise ValueError(f"--{k.replace('_', '-')}: expected >= 1, got {getattr(a, k)}")
        bad = [p for p in a.precisions.split(",") if p not in ("float32", "float64")]
        if bad:
            raise ValueError(f"--precisions: expected float32 and/or float64, got {bad[0]!r}")
        check(a)

    return run_main(ap, go, argv)


if __name__ == "__main__":
    sys.exit(main())
