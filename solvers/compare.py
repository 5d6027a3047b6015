"""Fair comparison of solution files on one instance file: ``satisac compare`` (issue 24).

Every solution is evaluated independently from the instance and its own arrays, with the
same evaluators as ``satisac istn evaluate`` / ``satisac ntn evaluate``
(:func:`solvers.istn.cmd_evaluate.evaluate_solution`,
:func:`solvers.ntn.cmd_evaluate.evaluate_allocation`); nothing a solver reports about
itself is trusted except ``solve_time_s``.  The objective is the paper's:

* ISTN (Jee & Andrews): sum rate (25a) in bit/s/Hz, recomputed from ``F`` and ``p_sat``;
  an instance (drop) is feasible when every P1-P3 constraint of ``istn evaluate`` holds;
* NTN (Leyva-Mayorga et al.): objective (25) recomputed at ``x``; a frame is feasible when
  (26a), (26c), (26e), the unusable-pair zeros and the handover floor hold and the solver
  did not declare it infeasible (``status`` 2).

Both are maximised.  Per solver the report gives the feasibility rate (Wilson 95 % CI),
the objective's mean (Student-t 95 % CI) and median (distribution-free order-statistic
95 % CI) over its feasible instances, and against the first solution the paired
difference on the instances both solve feasibly (mean with t CI, median, Wilcoxon
signed-rank p), and win/tie/loss counts over all instances (a tie: |difference| <=
``tie_rtol`` x max |objective|; feasible beats infeasible; both infeasible is a tie).
Solve time comes from the optional solution field ``solve_time_s``: a scalar (the wall time
of the whole batch, spread evenly over its instances) or one time per instance (B,).

The Dolan-Moré performance profile (Dolan & Moré, Math. Program. 91, 2002) plots, for each
solver s, rho_s(tau) = share of instances p with ratio r_{p,s} <= tau, where for quality
r_{p,s} = max_s' f_{p,s'} / f_{p,s} (maximisation, f > 0) and for time
r_{p,s} = t_{p,s} / min_s' t_{p,s'}; an infeasible instance has r = inf.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from scipy import stats as _st

from solvers.configio import ConfigError
from solvers.istn.cmd_evaluate import evaluate_solution
from solvers.istn.instance import validate_instance as validate_istn_instance
from solvers.npzio import InstanceError, atomic_writer, check_output_dir, load_npz
from solvers.ntn.cmd_evaluate import evaluate_allocation
from solvers.ntn.instance import validate_instance as validate_ntn_instance
from solvers.runner.stats import mean_ci, proportion_ci

OBJECTIVE = {"istn": "sum rate (25a), bit/s/Hz", "ntn": "objective (25), natural log, bit/s"}
UNIT = {"istn": "drops", "ntn": "frames"}


def detect_paper(inst: Mapping[str, np.ndarray], source: str = "instance") -> str:
    """``istn`` or ``ntn`` from the instance's fields (interfaces.md §1 / §3)."""
    if "h_tut" in inst:
        return "istn"
    if "rate" in inst and "n_active" in inst:
        return "ntn"
    raise InstanceError(f"{source}: neither an ISTN instance (field 'h_tut', interfaces.md §1) nor an NTN "
                        f"allocation instance (fields 'rate', 'n_active', §3); found fields {sorted(inst)[:8]}")


def load_instance_any(path: str | os.PathLike) -> tuple[str, dict[str, np.ndarray]]:
    """Load and validate an instance of either paper; returns ``(paper, arrays)``."""
    arrays, _ = load_npz(path, (), source=str(path))
    paper = detect_paper(arrays, str(path))
    if paper == "istn":
        validate_istn_instance(arrays, str(path))
    else:
        validate_ntn_instance(arrays, str(path))
    return paper, arrays


def solve_times(sol: Mapping[str, np.ndarray], B: int, source: str = "solution") -> np.ndarray | None:
    """Per-instance solve time [B] in s from ``solve_time_s`` (scalar -> spread evenly), or None."""
    if "solve_time_s" not in sol:
        return None
    t = np.asarray(sol["solve_time_s"])
    if t.dtype.kind not in "fiu" or t.shape not in ((), (1,), (B,)):
        raise InstanceError(f"{source}: field 'solve_time_s': expected a real scalar or shape (B,) = ({B},), "
                            f"found {t.dtype} of shape {t.shape}")
    t = t.astype(np.float64)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise InstanceError(f"{source}: field 'solve_time_s': expected finite non-negative seconds, found {t.min()}")
    return t if t.shape == (B,) else np.full(B, float(t.reshape(-1)[0]) / B)


def evaluate(paper: str, inst: Mapping[str, np.ndarray], sol: Mapping[str, np.ndarray],
             source: str = "solution") -> dict[str, np.ndarray]:
    """``objective`` [B] and ``feasible`` [B] of one solution, recomputed (see module doc)."""
    try:
        if paper == "istn":
            res = evaluate_solution(dict(inst), dict(sol))
            return dict(objective=np.asarray(res["sum_rate"], np.float64), feasible=np.asarray(res["feasible"], bool))
        res = evaluate_allocation(inst, sol)
        return dict(objective=np.asarray(res["objective"], np.float64), feasible=np.asarray(res["feasible"], bool))
    except InstanceError as e:
        msg = str(e)
        if msg.startswith("solution"):  # the evaluators name the file "solution"
            msg = str(source) + msg[len("solution"):]
        raise InstanceError(msg) from None


def median_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """(median, lo, hi): the distribution-free interval [x_(l), x_(n+1-l)] of order
    statistics with l the largest rank such that P(Bin(n, 1/2) < l) <= (1 - level)/2
    (coverage >= level); NaN bounds when n is too small (n < 6 at 95 %)."""
    x = np.sort(np.asarray(x, float)[np.isfinite(x)])
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    med = float(np.median(x))
    alpha = (1 - level) / 2
    l = int(_st.binom.ppf(alpha, n, 0.5))  # P(Bin <= l) >= alpha; step back until <= alpha  # noqa: E741
    while l > 0 and _st.binom.cdf(l - 1, n, 0.5) > alpha:
        l -= 1  # noqa: E741
    if l < 1:
        return med, math.nan, math.nan
    return med, float(x[l - 1]), float(x[n - l])


def perf_ratios(values: np.ndarray, ok: np.ndarray, larger_is_better: bool) -> np.ndarray:
    """Dolan-Moré ratios r_{p,s} >= 1 for values [S, P]; not ``ok`` -> inf."""
    v = np.where(ok, values, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        if larger_is_better:
            best = np.nanmax(np.where(ok, v, -np.inf), axis=0)  # [P]
            r = np.where(v > 0, best[None, :] / v, np.where(v == best[None, :], 1.0, np.inf))
        else:
            best = np.nanmin(np.where(ok, v, np.inf), axis=0)
            r = np.where(best[None, :] > 0, v / best[None, :], np.where(v == best[None, :], 1.0, np.inf))
    r = np.where(ok & np.isfinite(r), np.maximum(r, 1.0), np.inf)
    return r


def profile_curve(r: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """rho_s(tau) = share of instances with r_{p,s} <= tau; [S, len(taus)]."""
    return (r[:, :, None] <= taus[None, None, :]).mean(axis=1)


def compare(paper: str, inst: Mapping[str, np.ndarray], sols: Sequence[Mapping[str, np.ndarray]],
            names: Sequence[str], tie_rtol: float = 1e-4, sources: Sequence[str] | None = None) -> dict:
    """Evaluate every solution and compute the statistics of the module doc.

    Returns dict with ``rows`` (one summary dict per solver), ``objective`` [S, B],
    ``feasible`` [S, B], ``time`` [S, B] (NaN where a solver carries no ``solve_time_s``).
    """
    sources = list(sources or names)
    B = int(np.shape(inst["h_tut"] if paper == "istn" else inst["rate"])[0])
    evals = [evaluate(paper, inst, s, src) for s, src in zip(sols, sources)]
    obj = np.stack([e["objective"] for e in evals])  # [S, B]
    feas = np.stack([e["feasible"] for e in evals])  # [S, B]
    times = [solve_times(s, B, src) for s, src in zip(sols, sources)]
    tm = np.stack([t if t is not None else np.full(B, np.nan) for t in times])  # [S, B]
    rows = []
    for i, name in enumerate(names):
        k = int(feas[i].sum())
        p, plo, phi = proportion_ci(k, B)
        m, mlo, mhi, _ = mean_ci(obj[i][feas[i]])
        med, medlo, medhi = median_ci(obj[i][feas[i]])
        row = dict(solver=name, file=sources[i], instances=B, feasible=k, feasible_rate=p, feasible_lo=plo,
                   feasible_hi=phi, objective_mean=m, objective_lo=mlo, objective_hi=mhi, objective_median=med,
                   median_lo=medlo, median_hi=medhi)
        both = feas[i] & feas[0]
        d = obj[i][both] - obj[0][both]
        dm, dlo, dhi, nd = mean_ci(d)
        row.update(paired_n=nd, diff_mean=dm, diff_lo=dlo, diff_hi=dhi,
                   diff_median=float(np.median(d)) if nd else math.nan,
                   rel_diff_mean=float(np.mean(d / np.maximum(np.abs(obj[0][both]), 1e-300))) if nd else math.nan)
        try:
            row["wilcoxon_p"] = float(_st.wilcoxon(d).pvalue) if i > 0 and nd > 0 and np.any(d != 0) else math.nan
        except ValueError:
            row["wilcoxon_p"] = math.nan
        scale = np.maximum(np.abs(obj[i]), np.abs(obj[0]))
        diff = obj[i] - obj[0]
        tie_val = np.abs(diff) <= tie_rtol * scale + 1e-12
        win = np.where(feas[i] & feas[0], ~tie_val & (diff > 0), feas[i] & ~feas[0])
        loss = np.where(feas[i] & feas[0], ~tie_val & (diff < 0), ~feas[i] & feas[0])
        row.update(wins=int(win.sum()), ties=int(B - win.sum() - loss.sum()), losses=int(loss.sum()))
        t = tm[i]
        row.update(time_total_s=float(np.sum(t)) if np.isfinite(t).all() else math.nan,
                   time_per_instance_s=float(np.mean(t)) if np.isfinite(t).all() else math.nan)
        rows.append(row)
    return dict(paper=paper, instances=B, rows=rows, objective=obj, feasible=feas, time=tm, names=list(names),
                tie_rtol=tie_rtol)


def plot_profiles(path: str | os.PathLike, res: dict) -> None:
    """PNG with the quality (and, when solve times exist, time) performance profiles."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, obj, feas, tm = res["names"], res["objective"], res["feasible"], res["time"]
    has_t = np.isfinite(tm).all(axis=1)
    n_pan = 2 if has_t.sum() >= 1 else 1
    fig, axes = plt.subplots(1, n_pan, figsize=(6.2 * n_pan, 4.4), squeeze=False)
    r = perf_ratios(obj, feas, larger_is_better=True)
    fin = r[np.isfinite(r)]
    top = float(fin.max()) if fin.size else 1.0
    span = max(top - 1.0, 1e-6)
    taus = np.concatenate([[1.0], np.linspace(1.0, 1.0 + 1.15 * span, 400)])
    ax = axes[0, 0]
    styles = ["-", "--", "-.", ":"]
    for i, n in enumerate(names):
        ax.step(taus, profile_curve(r[i:i + 1], taus)[0], where="post", ls=styles[i % 4],
                lw=max(3.2 - 0.7 * i, 1.2), label=f"{n} ({int(feas[i].sum())}/{feas.shape[1]} feasible)")
    ax.set_xlabel(r"$\tau$  (best objective / solver's objective)")
    ax.set_ylabel(r"$\rho_s(\tau)$: share of " + UNIT[res["paper"]])
    ax.set_title(f"quality profile: {OBJECTIVE[res['paper']]}", fontsize=10)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(1.0, 1.0 + 1.15 * span)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if n_pan == 2:
        ax = axes[0, 1]
        idx = np.nonzero(has_t)[0]
        rt = perf_ratios(tm[idx], feas[idx], larger_is_better=False)
        fin = rt[np.isfinite(rt)]
        hi = max(float(fin.max()) if fin.size else 2.0, 1.5) * 1.3
        taus_t = np.geomspace(1.0, hi, 400)
        for j, i in enumerate(idx):
            ax.step(taus_t, profile_curve(rt[j:j + 1], taus_t)[0], where="post", ls=styles[i % 4],
                    lw=max(3.2 - 0.7 * i, 1.2), label=f"{names[i]} ({np.mean(tm[i]):.3g} s/instance)")
        missing = [names[i] for i in range(len(names)) if not has_t[i]]
        ax.set_xscale("log")
        ax.set_xlabel(r"$\tau$  (solve time / fastest solve time)")
        ax.set_ylabel(r"$\rho_s(\tau)$")
        ax.set_title("time profile (solve_time_s as each solver wrote it)"
                     + (f"\nno solve_time_s: {', '.join(missing)}" if missing else ""), fontsize=10)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Dolan-Moré performance profiles, {feas.shape[1]} {UNIT[res['paper']]}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


CSV_FIELDS = ("solver", "file", "instances", "feasible", "feasible_rate", "feasible_lo", "feasible_hi",
              "objective_mean", "objective_lo", "objective_hi", "objective_median", "median_lo", "median_hi",
              "paired_n", "diff_mean", "diff_lo", "diff_hi", "diff_median", "rel_diff_mean", "wilcoxon_p",
              "wins", "ties", "losses", "time_total_s", "time_per_instance_s")


def _csv_text(rows: Sequence[Mapping], fields: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(fields), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: r[k] for k in fields})
    return buf.getvalue()


def _g(v: float, fmt: str = ".6g") -> str:
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def markdown(res: dict, instance: str) -> str:
    """The report as markdown (one table, then how to read it)."""
    rows, first = res["rows"], res["rows"][0]["solver"]
    lines = [f"# satisac compare: {res['instances']} {UNIT[res['paper']]} of `{instance}`", "",
             f"Paper: {res['paper'].upper()}; objective: {OBJECTIVE[res['paper']]}, recomputed from each solution "
             f"file (maximised). Made {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC.", "",
             f"| solver | feasible (95 % CI) | objective mean [95 % CI] | median [95 % CI] | "
             f"paired diff vs {first}: mean [95 % CI] (n) | W/T/L vs {first} | Wilcoxon p | s per instance |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['solver']} | {r['feasible']}/{r['instances']} = {_g(r['feasible_rate'], '.0%')} "
            f"[{_g(r['feasible_lo'], '.0%')}, {_g(r['feasible_hi'], '.0%')}] "
            f"| {_g(r['objective_mean'])} [{_g(r['objective_lo'])}, {_g(r['objective_hi'])}] "
            f"| {_g(r['objective_median'])} [{_g(r['median_lo'])}, {_g(r['median_hi'])}] "
            + ("| (baseline) | — | — " if r is rows[0] else
               f"| {_g(r['diff_mean'], '+.4g')} [{_g(r['diff_lo'], '+.4g')}, {_g(r['diff_hi'], '+.4g')}] "
               f"({r['paired_n']}) | {r['wins']}/{r['ties']}/{r['losses']} | {_g(r['wilcoxon_p'], '.3g')} ")
            + f"| {_g(r['time_per_instance_s'], '.4g')} |")
    lines += ["",
              "Means and medians are over each solver's feasible instances; the paired difference over the "
              f"instances both it and {first} solve feasibly. Win/tie/loss counts every instance: a tie is "
              f"|difference| <= {res['tie_rtol']:g} x max |objective|; a feasible solution beats an infeasible "
              "one. CIs: Student t (mean), Wilson (rate), order statistics (median; n/a below 6 instances). "
              "Time: the optional field `solve_time_s` (a batch total is spread evenly over its instances; "
              "compilation included for satisac's solvers).", "",
              "![performance profiles](profile.png)", ""]
    return "\n".join(lines)


def write_report(out_dir: str | os.PathLike, res: dict, instance: str) -> list[Path]:
    """``compare.csv``, ``compare.md``, ``per_instance.csv`` and ``profile.png`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with atomic_writer(out / "compare.csv") as tmp:
        Path(tmp).write_text(_csv_text(res["rows"], CSV_FIELDS))
    paths.append(out / "compare.csv")
    per = [dict(instance=p, solver=n, objective=float(res["objective"][i, p]), feasible=bool(res["feasible"][i, p]),
                solve_time_s=float(res["time"][i, p]))
           for i, n in enumerate(res["names"]) for p in range(res["instances"])]
    with atomic_writer(out / "per_instance.csv") as tmp:
        Path(tmp).write_text(_csv_text(per, ("instance", "solver", "objective", "feasible", "solve_time_s")))
    paths.append(out / "per_instance.csv")
    with atomic_writer(out / "profile.png") as tmp:
        plot_profiles(tmp, res)
    paths.append(out / "profile.png")
    with atomic_writer(out / "compare.md") as tmp:
        Path(tmp).write_text(markdown(res, instance))
    paths.append(out / "compare.md")
    return paths


def run(args) -> int:
    """``satisac compare INSTANCE SOL1 SOL2 ... [--names a,b,...] -o DIR``."""
    if args.names:
        names = [n.strip() for n in args.names.split(",")]
        if len(names) != len(args.solutions) or not all(names) or len(set(names)) != len(names):
            raise ConfigError(f"--names: expected {len(args.solutions)} distinct non-empty names (one per solution), "
                              f"got {args.names!r}")
    else:
        names = [Path(s).stem for s in args.solutions]
        if len(set(names)) != len(names):
            names = [f"{i}:{n}" for i, n in enumerate(names)]
    if not args.tie_rtol >= 0:
        raise ConfigError(f"--tie-rtol: expected a value >= 0, got {args.tie_rtol}")
    check_output_dir(args.output)
    paper, inst = load_instance_any(args.instance)
    sols = [load_npz(s, (), source=str(s))[0] for s in args.solutions]
    res = compare(paper, inst, sols, names, tie_rtol=args.tie_rtol, sources=[str(s) for s in args.solutions])
    paths = write_report(args.output, res, str(args.instance))
    print(markdown(res, str(args.instance)).split("\n\nMeans")[0])
    print(f"wrote {', '.join(str(p) for p in paths)}")
    return 0
